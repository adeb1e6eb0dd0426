//! The `sstkit` binary: `merge` (newest wins, range deletions, --bottommost, --target-size, --as-of, exit
//! codes), `get`/`scan --as-of`, and `build --sort --memory` with --duplicates.

use std::path::Path;
use std::process::{Command, Output};

fn sstkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit")
}

fn ok(args: &[&str]) -> String {
    let out = sstkit(args);
    assert!(out.status.success(), "sstkit {args:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fails(args: &[&str], code: i32) -> String {
    let out = sstkit(args);
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Builds `name.sst` from TSV text (extra build flags after).
fn build(dir: &Path, name: &str, tsv: &str, extra: &[&str]) -> String {
    let input = dir.join(format!("{name}.tsv"));
    std::fs::write(&input, tsv).unwrap();
    let out = dir.join(format!("{name}.sst")).to_str().unwrap().to_string();
    let mut args = vec!["build", "-q", input.to_str().unwrap(), &out];
    args.extend_from_slice(extra);
    ok(&args);
    out
}

#[test]
fn merge_stacks_inputs_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = build(d, "a", "a\t1\nb\t1\nc\t1\nd\t1\ne\t1\n", &[]);
    let b = build(d, "b", "b\t2\nc\t\tdelete\nd\te\tdelete_range\n", &[]);
    let out = d.join("out.sst");
    let o = out.to_str().unwrap();
    let report = ok(&["merge", &a, &b, o, "--compression", "lz4", "--block-size", "1024"]);
    assert!(report.contains("3 puts, 1 deletes, 0 merges, 1 range deletions"), "{report}");
    assert_eq!(ok(&["scan", o]), "a => 1\nb => 2\nc =>  [delete seq 0]\ne => 1\nd => e [range_delete seq 0]\n");
    // Later inputs win ties: the other order.
    let o2 = d.join("out2.sst");
    ok(&["merge", &b, &a, o2.to_str().unwrap()]);
    assert_eq!(
        ok(&["scan", o2.to_str().unwrap()]),
        "a => 1\nb => 1\nc => 1\nd => 1\ne => 1\nd => e [range_delete seq 0]\n"
    );
    // Bottommost: deletions applied and dropped.
    let o3 = d.join("out3.sst");
    ok(&["merge", "--bottommost", &a, &b, o3.to_str().unwrap()]);
    assert_eq!(ok(&["scan", o3.to_str().unwrap()]), "a => 1\nb => 2\ne => 1\n");
    // The output is refused when it exists, or is an input.
    let err = fails(&["merge", &a, &b, o], 2);
    assert!(err.contains("exists"), "{err}");
    let err = fails(&["merge", &a, &b, &b, "--force"], 2);
    assert!(err.contains("is the input file"), "{err}");
    // Rolled output: non-overlapping files under a directory.
    let many: String = (0..20_000).map(|i| format!("k{i:06}\t{}\n", "v".repeat(30))).collect();
    let big = build(d, "big", &many, &[]);
    let roll = d.join("roll");
    let report = ok(&["merge", &big, &a, roll.to_str().unwrap(), "--target-size", "64K", "--level", "3"]);
    assert!(report.contains("files under"), "{report}");
    assert!(std::fs::read_dir(roll.join("3")).unwrap().count() > 3);
}

#[test]
fn as_of_reads_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = build(d, "old", "a\told\nb\told\n", &["--seqno", "5"]);
    let new = build(d, "new", "a\tnew\nb\t\tdelete\n", &["--seqno", "9"]);
    let out = d.join("m.sst");
    let o = out.to_str().unwrap();
    // At 9 the newer file decides, at 6 only the older one is seen, at 4 nothing.
    ok(&["merge", &old, &new, o]);
    assert_eq!(ok(&["scan", o]), "a => new\nb =>  [delete seq 0]\n");
    ok(&["merge", &old, &new, o, "--as-of", "6", "--force"]);
    assert_eq!(ok(&["scan", o]), "a => old\nb => old\n");
    let err = fails(&["merge", &old, &new, o, "--as-of", "4", "--force"], 2);
    assert!(err.contains("no entries"), "{err}");
    // A merge written at --seqno: a non-external table with that seqno, read back at snapshots.
    let both = d.join("both.sst");
    ok(&["merge", &old, &new, both.to_str().unwrap(), "--seqno", "20"]);
    assert_eq!(ok(&["get", both.to_str().unwrap(), "a", "--as-of", "20"]), "new\n");
    fails(&["get", both.to_str().unwrap(), "a", "--as-of", "19"], 1);
    // get and scan at a snapshot.
    assert_eq!(ok(&["get", &new, "a", "--as-of", "9"]), "new\n");
    fails(&["get", &new, "a", "--as-of", "8"], 1);
    assert_eq!(ok(&["scan", &old, "--as-of", "5"]), "a => old\nb => old\n");
    assert_eq!(ok(&["scan", &old, "--as-of", "4"]), "");
}

#[test]
fn merge_operands_over_older_values_exit_4() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let a = build(d, "a", "k\tbase\n", &[]);
    let b = build(d, "b", "k\t+1\tmerge\n", &[]);
    let out = d.join("m.sst");
    let err = fails(&["merge", &a, &b, out.to_str().unwrap()], 4);
    assert!(err.contains("UNSUPPORTED") && err.contains("merge operator"), "{err}");
    assert!(!out.exists(), "no output after a failed merge");
}

#[test]
fn build_sort_with_a_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let tmp = d.join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    // 40k keys in a scrambled order, 3 MB: several runs with 1M of memory; key 7 given twice.
    let mut lines: Vec<String> =
        (0..40_000u64).map(|i| (i * 7919) % 40_000).map(|i| format!("k{i:06}\t{i:070}\n")).collect();
    lines.push("k000007\tlast\n".into());
    let input = d.join("in.tsv");
    std::fs::write(&input, lines.concat()).unwrap();
    let out = d.join("s.sst");
    let (i, o, t) = (input.to_str().unwrap(), out.to_str().unwrap(), tmp.to_str().unwrap());
    let report = ok(&["build", i, o, "--sort", "--memory", "1M", "--tmp-dir", t]);
    assert!(report.contains("40000 entries"), "{report}");
    assert_eq!(ok(&["get", o, "k000007"]), "last\n");
    assert_eq!(ok(&["scan", o, "--limit", "2"]), format!("k000000 => {:070}\nk000001 => {:070}\n", 0, 1));
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none(), "temporary files left");
    // --duplicates error names both lines; nothing is left.
    std::fs::remove_file(&out).unwrap();
    let err = fails(&["build", i, o, "--sort", "--memory", "1M", "--tmp-dir", t, "--duplicates", "error"], 2);
    assert!(err.contains("duplicate key \"k000007\"") && err.contains("line 40001"), "{err}");
    assert!(!out.exists());
    assert!(std::fs::read_dir(&tmp).unwrap().next().is_none(), "temporary files left after an error");
    // The sort flags need --sort; a too small budget is refused.
    fails(&["build", i, o, "--memory", "1M"], 2);
    let err = fails(&["build", i, o, "--sort", "--memory", "10K"], 2);
    assert!(err.contains("at least 1M"), "{err}");
}
