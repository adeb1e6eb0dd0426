//! The `sstkit` binary end to end: every input format, errors, verify, JSON, object-store URLs, real RocksDB;
//! merge, reads at a snapshot and the external sort.

mod support;

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

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_str().unwrap().to_string()
}

/// The same data in every input format: puts (one with an empty value, one binary), a delete, a merge and a
/// range deletion.
const WANT_SCAN: &str =
    "a => 1\nb => \\x00\\xff\nc => \nd =>  [delete seq 0]\ne => m [merge seq 0]\nx => z [range_delete seq 0]\n";

#[test]
fn build_then_scan_for_every_input_format() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let inputs = [
        (
            "in.txt",
            "0x61 ==> 0x31\n0x62 ==> 0x00ff\n0x63 ==>\n0x64 =/=>\n",
            vec!["--key-format", "hex", "--value-format", "hex"],
        ),
        (
            "in.tsv",
            "a\tMQ==\nb\tAP8=\nc\t\nd\t\tdelete\ne\tbQ==\tmerge\nx\tz\tdelete_range\n",
            vec!["--value-format", "base64"],
        ),
        ("in.csv", "a,31\nb,00ff\nc,\"\"\nd,,delete\ne,6d,merge\nx,z,delete_range\n", vec!["--value-format", "hex"]),
        (
            "in.jsonl",
            "{\"key\":\"a\",\"value\":\"MQ==\"}\n{\"key\":\"b\",\"value\":\"AP8=\"}\n{\"key\":\"c\",\"value\":\"\"}\n\
             {\"key\":\"d\",\"op\":\"delete\"}\n{\"key\":\"e\",\"value\":\"bQ==\",\"op\":\"merge\"}\n\
             {\"key\":\"x\",\"end\":\"z\",\"op\":\"delete_range\"}\n",
            vec!["--value-format", "base64"],
        ),
    ];
    for (name, text, extra) in inputs {
        let input = write(d, name, text);
        let out = d.join(format!("{name}.sst"));
        let out = out.to_str().unwrap();
        let mut args = vec!["build", &input, out, "--quiet"];
        args.extend(extra.iter().copied());
        ok(&args);
        let got = ok(&["scan", out]);
        if name == "in.txt" {
            // The ldb format has no merges or range deletions.
            assert_eq!(got, "a => 1\nb => \\x00\\xff\nc => \nd =>  [delete seq 0]\n", "{name}");
        } else {
            assert_eq!(got, WANT_SCAN, "{name}");
        }
        assert_eq!(ok(&["get", out, "a"]), "1\n");
        assert_eq!(ok(&["get", out, "62", "--key-format", "hex", "--hex"]), "00ff\n");
    }
}

#[test]
fn unsorted_input_names_the_line_and_leaves_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.tsv", "a\t1\nc\t2\nb\t3\n");
    let out = dir.path().join("o.sst");
    let r = sstkit(&["build", &input, out.to_str().unwrap()]);
    assert_eq!(r.status.code(), Some(2));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("line 3") && err.contains("key b") && err.contains("key c"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear line: {err}");
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no output or temporary file left");
    ok(&["build", "--sort", &input, out.to_str().unwrap()]);
    assert_eq!(ok(&["scan", out.to_str().unwrap()]), "a => 1\nb => 3\nc => 2\n");
    let bad = write(dir.path(), "bad.txt", "0xZZ ==> 1\n");
    let r = sstkit(&["build", &bad, out.to_str().unwrap(), "--key-format", "hex", "--force"]);
    assert!(String::from_utf8_lossy(&r.stderr).contains("line 1"));
    assert!(!r.status.success());
}

#[test]
fn verify_reports_a_flipped_byte_with_its_offset() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..5000).map(|i| format!("key{i:06}\tvalue{i}\n")).collect();
    let input = write(dir.path(), "in.tsv", &lines);
    let out = dir.path().join("t.sst");
    let out_s = out.to_str().unwrap();
    ok(&["build", &input, out_s]);
    assert!(ok(&["verify", out_s]).contains("ok"));
    let mut bytes = std::fs::read(&out).unwrap();
    bytes[5000] ^= 0x10; // inside the second data block (blocks are ~4 KiB)
    std::fs::write(&out, &bytes).unwrap();
    let r = sstkit(&["verify", out_s]);
    assert_eq!(r.status.code(), Some(1));
    let err = String::from_utf8_lossy(&r.stderr);
    assert!(err.contains("CORRUPT") && err.contains("offset 4") && err.contains("data block"), "{err}");
    let r = sstkit(&["verify", out_s, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let off = v["offset"].as_u64().unwrap();
    assert!((4000..5000).contains(&off), "block offset {off}");
}

#[test]
fn json_output_parses() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.tsv", "k1\tv1\nk2\tv2\n");
    let out = dir.path().join("j.sst");
    let out_s = out.to_str().unwrap();
    let built: serde_json::Value = serde_json::from_str(ok(&["build", &input, out_s, "--json"]).trim()).unwrap();
    assert_eq!(built["entries"], 2);
    for line in ok(&["scan", out_s, "--json"]).lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        assert!(v["key"].as_str().unwrap().starts_with('k'));
    }
    let props: serde_json::Value = serde_json::from_str(ok(&["props", out_s, "--json"]).trim()).unwrap();
    assert_eq!(props["rocksdb.num.entries"], 2);
    let stats: serde_json::Value = serde_json::from_str(ok(&["stats", out_s, "--json"]).trim()).unwrap();
    assert_eq!(stats["entries"]["put"], 2);
    let dump: serde_json::Value = serde_json::from_str(ok(&["dump", out_s, "--json"]).lines().next().unwrap()).unwrap();
    assert_eq!(dump["footer"]["format_version"], 5);
    let get: serde_json::Value = serde_json::from_str(ok(&["get", out_s, "k2", "--json"]).trim()).unwrap();
    assert_eq!(get["value"], "v2");
}

#[test]
fn rolling_build_makes_non_overlapping_files() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..50_000).map(|i| format!("key{i:08} ==> value-{i}\n")).collect();
    let input = write(dir.path(), "in.txt", &lines);
    let prefix = dir.path().join("out");
    ok(&["build", &input, prefix.to_str().unwrap(), "--target-size", "256K", "--level", "6"]);
    let mut files: Vec<_> = std::fs::read_dir(prefix.join("6")).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    assert!(files.len() >= 3, "{files:?}");
    let mut total = 0;
    let mut last_key = String::new();
    for f in &files {
        let scan = ok(&["scan", f.to_str().unwrap()]);
        let first = scan.lines().next().unwrap().split(" => ").next().unwrap().to_string();
        assert!(first > last_key, "files overlap");
        last_key = scan.lines().last().unwrap().split(" => ").next().unwrap().to_string();
        total += scan.lines().count();
    }
    assert_eq!(total, 50_000);
}

#[test]
fn build_and_scan_through_an_s3_url() {
    let Some((server, _store)) = support::moto_store() else { return };
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.tsv", &(0..2000).map(|i| format!("k{i:05}\tv{i}\n")).collect::<String>());
    let url = format!("s3://{}/cli/t.sst", support::MOTO_BUCKET);
    let env = server.cli_env();
    let run = |args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
        c.args(args);
        for (k, v) in &env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let b = run(&["build", &input, &url]);
    assert!(b.status.success(), "{}", String::from_utf8_lossy(&b.stderr));
    let s = run(&["scan", &url, "--limit", "3"]);
    assert!(s.status.success(), "{}", String::from_utf8_lossy(&s.stderr));
    assert_eq!(String::from_utf8_lossy(&s.stdout), "k00000 => v0\nk00001 => v1\nk00002 => v2\n");
    let v = run(&["verify", &url]);
    assert!(v.status.success());
    // A failed build leaves no object.
    let bad = write(dir.path(), "bad.tsv", "b\t1\na\t2\n");
    let url2 = format!("s3://{}/cli/bad.sst", support::MOTO_BUCKET);
    assert!(!run(&["build", &bad, &url2]).status.success());
    assert!(!run(&["scan", &url2]).status.success(), "no object at the failed build's URL");
}

#[test]
fn files_the_cli_writes_pass_rocksdb_tools() {
    let (Some(_), Some(_)) = (sstkit_tests::require_tool("sst_dump"), sstkit_tests::require_tool("ldb")) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..20_000).map(|i| format!("key{i:06}\tvalue{i}\n")).collect();
    let input = write(dir.path(), "in.tsv", &lines);
    let variants = [
        vec![],
        vec!["--compression", "lz4", "--checksum", "xxh3", "--format-version", "3"],
        vec!["--index-restart-interval", "16", "--block-size", "512"],
    ];
    for (i, extra) in variants.iter().enumerate() {
        let out = dir.path().join(format!("t{i}.sst"));
        let mut args = vec!["build", input.as_str(), out.to_str().unwrap()];
        args.extend(extra.iter().copied());
        ok(&args);
        sstkit_tests::sst_dump_verify(&out).unwrap();
        let db = dir.path().join(format!("db{i}"));
        sstkit_tests::ldb_ingest(&db, &out).unwrap();
        let rows = sstkit_tests::ldb_scan_hex(&db).unwrap();
        assert_eq!(rows.len(), 20_000);
        assert_eq!(rows[7].0, b"key000007");
        assert_eq!(rows[7].1, b"value7");
        // Point lookups go through the index (restart-compressed in the last variant).
        let keys: Vec<Vec<u8>> = (0..20_000).step_by(997).map(|k| format!("key{k:06}").into_bytes()).collect();
        let got = sstkit_tests::ldb_multi_get_hex(&db, &keys).unwrap();
        for (k, g) in (0..20_000).step_by(997).zip(&got) {
            assert_eq!(g.as_deref(), Some(format!("value{k}").as_bytes()), "variant {i} key {k}");
        }
    }
}

// ------------------------------------------------------------------------------------------------------------
// Strict input, safe outputs, clean interrupts, exit codes (issue 10)
// ------------------------------------------------------------------------------------------------------------

fn err_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs sstkit and checks its exit status; returns stderr.
fn fails(args: &[&str], code: i32) -> String {
    let out = sstkit(args);
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: {}", err_of(&out));
    err_of(&out)
}

/// The names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn a_line_that_does_not_parse_is_an_error_not_a_delete() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines: String = (0..1000)
        .map(|i| if i == 700 { format!("key{i:06} => value-{i}\n") } else { format!("key{i:06} ==> v{i}\n") })
        .collect();
    let input = write(d, "typo.txt", &lines);
    let out = d.join("typo.sst");
    let err = fails(&["build", &input, out.to_str().unwrap()], 2);
    assert!(err.contains("line 701") && err.contains("\"key000700 => value-700\""), "{err}");
    assert!(err.contains("a deletion is `KEY =/=>`"), "{err}");
    assert_eq!(names(d), ["typo.txt"], "no output, no temporary file");

    // TSV named .txt, ldb lines named .csv: the other format is named.
    let tsv = write(d, "data.txt", "a\t1\nb\t2\n");
    let err = fails(&["build", &tsv, out.to_str().unwrap()], 2);
    assert!(err.contains("line 1") && err.contains("looks like tsv input, not ldb: use --input-format tsv"), "{err}");
    let ldb = write(d, "data.csv", "a ==> 1\nb ==> 2\n");
    let err = fails(&["build", &ldb, out.to_str().unwrap()], 2);
    assert!(err.contains("looks like ldb input, not csv"), "{err}");
    // A key alone is no deletion in TSV or CSV.
    let lone = write(d, "lone.tsv", "a\t1\nb\n");
    let err = fails(&["build", &lone, out.to_str().unwrap()], 2);
    assert!(err.contains("line 2: only one field"), "{err}");
    assert!(!out.exists());

    // --skip-bad-lines counts them, like ldb, and the summary counts every kind.
    let mixed = write(d, "mixed.tsv", "a\t1\nbad line\nc\t\tdelete\nd\tm\tmerge\ne\tf\tdelete_range\nnope\n");
    let r = sstkit(&["build", &mixed, out.to_str().unwrap(), "--skip-bad-lines"]);
    assert!(r.status.success(), "{}", err_of(&r));
    let err = err_of(&r);
    assert!(err.contains("2 bad lines skipped") && err.contains("line 2:") && err.contains("line 6:"), "{err}");
    let summary = String::from_utf8_lossy(&r.stdout);
    assert!(summary.contains("4 entries (1 puts, 1 deletes, 1 merges, 1 range deletions)"), "{summary}");
    let scan = ok(&["scan", out.to_str().unwrap()]);
    assert!(!scan.contains("bad") && !scan.contains("nope"), "{scan}");
}

#[test]
fn csv_quoting_errors_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines: String = (0..2000)
        .map(|i| if i == 999 { format!("key{i:06},\"unterminated value\n") } else { format!("key{i:06},v{i}\n") })
        .collect();
    let input = write(d, "q.csv", &lines);
    let out = d.join("q.sst");
    let err = fails(&["build", &input, out.to_str().unwrap()], 2);
    assert!(err.contains("line 1000: unterminated quote"), "{err}");
    assert!(!out.exists());
    // Proper quoting still works.
    let good = write(d, "g.csv", "\"a,1\",\"say \"\"hi\"\"\"\n");
    ok(&["build", &good, out.to_str().unwrap()]);
    assert_eq!(ok(&["get", out.to_str().unwrap(), "a,1"]), "say \"hi\"\n");
}

#[test]
fn an_endless_line_fails_fast_with_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("zero.sst");
    let started = std::time::Instant::now();
    let err = fails(&["build", "/dev/zero", out.to_str().unwrap()], 2);
    assert!(err.contains("line 1: longer than"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60), "took {:?}", started.elapsed());
    let err =
        fails(&["build", "/dev/zero", out.to_str().unwrap(), "--max-key-size", "1K", "--max-value-size", "1K"], 2);
    assert!(err.contains("longer than 6144 bytes"), "{err}");
    assert!(names(dir.path()).is_empty(), "nothing left: {:?}", names(dir.path()));
    // A key over the limit names its line.
    let input = write(dir.path(), "k.txt", &format!("a ==> 1\n{} ==> 2\n", "k".repeat(2000)));
    let err = fails(&["build", &input, out.to_str().unwrap(), "--max-key-size", "1K"], 2);
    assert!(err.contains("line 2: the key is 2000 bytes, over --max-key-size 1024"), "{err}");
}

#[test]
fn outputs_are_never_replaced_silently() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = write(d, "in.tsv", "a\t1\nb\t2\n");
    let out = d.join("o.sst");
    let out_s = out.to_str().unwrap();
    ok(&["build", &input, out_s]);
    let before = std::fs::read(&out).unwrap();
    let other = write(d, "other.tsv", "x\t9\n");
    let err = fails(&["build", &other, out_s], 2);
    assert!(err.contains("exists; use --force"), "{err}");
    assert_eq!(std::fs::read(&out).unwrap(), before);
    ok(&["build", &other, out_s, "--force"]);
    assert_eq!(ok(&["scan", out_s]), "x => 9\n");

    // The input itself, a directory, devices: refused even with --force.
    let err = fails(&["build", &input, &input, "--force"], 2);
    assert!(err.contains("is the input file"), "{err}");
    assert_eq!(std::fs::read_to_string(&input).unwrap(), "a\t1\nb\t2\n");
    let err = fails(&["build", &input, d.to_str().unwrap(), "--force"], 2);
    assert!(err.contains("is a directory"), "{err}");
    let err = fails(&["build", &input, "/dev/full", "--force"], 2);
    assert!(err.contains("not a regular file"), "{err}");
    assert!(std::fs::metadata("/dev/full").unwrap().file_type().is_char_device_like());
    let err = fails(&["build", &input, "/dev/null", "--force"], 2);
    assert!(err.contains("not a regular file"), "{err}");
    let err = fails(&["build", &input, "/dev/stdout"], 2);
    assert!(err.contains("symbolic link"), "{err}");

    // A symbolic link: refused, then with --force the table goes to its target and the link stays.
    let target = d.join("target.sst");
    std::fs::write(&target, b"old").unwrap();
    let link = d.join("link.sst");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let err = fails(&["build", &input, link.to_str().unwrap()], 2);
    assert!(err.contains("is a symbolic link") && err.contains("--force"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"old");
    ok(&["build", &input, link.to_str().unwrap(), "--force"]);
    assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
    assert_eq!(ok(&["scan", target.to_str().unwrap()]), "a => 1\nb => 2\n");

    // A name of 254 bytes works (the temporary name must fit the 255-byte limit too).
    let long = d.join(format!("{}.sst", "n".repeat(250)));
    ok(&["build", &input, long.to_str().unwrap()]);
    assert_eq!(ok(&["scan", long.to_str().unwrap()]), "a => 1\nb => 2\n");
    assert!(!names(d).iter().any(|n| n.ends_with(".tmp")), "{:?}", names(d));
}

/// `is_char_device` without importing the unix trait at every call.
trait CharDevice {
    fn is_char_device_like(&self) -> bool;
}

impl CharDevice for std::fs::FileType {
    fn is_char_device_like(&self) -> bool {
        std::os::unix::fs::FileTypeExt::is_char_device(self)
    }
}

#[test]
fn rolling_builds_do_not_mix_runs() {
    let dir = tempfile::tempdir().unwrap();
    let lines: String = (0..40_000).map(|i| format!("key{i:08} ==> value-{i}\n")).collect();
    let input = write(dir.path(), "in.txt", &lines);
    let prefix = dir.path().join("r");
    let p = prefix.to_str().unwrap();
    ok(&["build", &input, p, "--target-size", "64K"]);
    let first = names(&prefix.join("0"));
    assert!(first.len() > 4, "{first:?}");
    let err = fails(&["build", &input, p, "--target-size", "128K"], 2);
    assert!(err.contains("is not empty") && err.contains("--force"), "{err}");
    assert_eq!(names(&prefix.join("0")), first, "nothing touched");
    // A staging file a killed upload left is part of the old set.
    std::fs::write(prefix.join("0").join("000099.sst#1"), b"partial").unwrap();
    let out = ok(&["build", &input, p, "--target-size", "128K", "--force"]);
    let second = names(&prefix.join("0"));
    assert!(second.len() < first.len(), "old set removed first: {second:?}");
    assert!(out.contains(&format!("{} files under", second.len())), "{out}");
    assert!(out.contains("40000 entries (40000 puts, 0 deletes, 0 merges, 0 range deletions)"), "{out}");
    // A file that is not part of an output set is never removed.
    std::fs::write(prefix.join("notes.txt"), b"mine").unwrap();
    let err = fails(&["build", &input, p, "--target-size", "128K", "--force"], 2);
    assert!(err.contains("notes.txt") && err.contains("not part of an sstkit output set"), "{err}");
    assert_eq!(names(&prefix.join("0")), second);
}

#[test]
fn numeric_options_have_bounds() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "in.tsv", "a\t1\n");
    let out = dir.path().join("o.sst");
    let o = out.to_str().unwrap();
    let err = fails(&["build", &input, o, "--restart-interval", "40000000000"], 2);
    assert!(err.contains("not in 1..=65536") && !err.contains("at least 1"), "{err}");
    let err = fails(&["build", &input, o, "--target-size", "1K"], 2);
    assert!(err.contains("too small: at least 64K"), "{err}");
    let err = fails(&["build", &input, o, "--block-size", "0"], 2);
    assert!(err.contains("not in 256..="), "{err}");
    let err = fails(&["build", &input, o, "--bloom-bits", "1000"], 2);
    assert!(err.contains("not in 0..=100"), "{err}");
    let err = fails(&["build", &input, o, "--format-version", "9"], 2);
    assert!(err.contains("--format-version") && err.contains("not in 2..=7"), "{err}");
    let err = fails(&["build", &input, o, "--format-version", "1"], 2);
    assert!(err.contains("not in 2..=7"), "{err}");
    assert!(names(dir.path()) == ["in.tsv"]);
}

/// Starts a build reading standard input, feeds it until `ready` says the build is under way, sends `signal`
/// and returns the exit status and stderr. Standard input stays open: the build is mid-way, not at its end.
fn interrupt_build(args: &[&str], envs: &[(&str, String)], signal: &str, ready: &dyn Fn() -> bool) -> (i32, String) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(args).stdin(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    for (k, v) in envs {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let mut i = 0u64;
    while !ready() {
        assert!(std::time::Instant::now() < deadline, "the build never got under way");
        let chunk: String = (i..i + 5000).map(|j| format!("key{j:012}\t{j:0>100}\n")).collect();
        stdin.write_all(chunk.as_bytes()).unwrap();
        i += 5000;
    }
    let kill = Command::new("kill").args([&format!("-{signal}"), &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let out = child.wait_with_output().unwrap();
    drop(stdin);
    (out.status.code().unwrap_or(-1), err_of(&out))
}

fn has_files(dir: &Path) -> bool {
    fn walk(d: &Path) -> bool {
        std::fs::read_dir(d).map(|r| r.flatten().any(|e| e.path().is_file() || walk(&e.path()))).unwrap_or(false)
    }
    walk(dir)
}

#[test]
fn sigint_and_sigterm_leave_no_debris() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_path_buf();
        let out = d.join("t.sst");
        let (status, err) =
            interrupt_build(&["build", "-", out.to_str().unwrap(), "--input-format", "tsv"], &[], signal, &|| {
                // The temporary file holds several MB: the build is well under way.
                std::fs::read_dir(&d)
                    .unwrap()
                    .flatten()
                    .any(|e| e.metadata().map(|m| m.len() > 4 << 20).unwrap_or(false))
            });
        assert_eq!(status, code, "{err}");
        assert!(err.contains(&format!("interrupted by SIG{signal}")), "{err}");
        assert!(names(&d).is_empty(), "debris: {:?}", names(&d));

        // A rolling build: finished files and the directory it made are removed too.
        let roll = d.join("roll");
        let r = roll.to_str().unwrap();
        let (status, err) =
            interrupt_build(&["build", "-", r, "--input-format", "tsv", "--target-size", "64K"], &[], signal, &|| {
                std::fs::read_dir(roll.join("0")).map(|r| r.count() > 5).unwrap_or(false)
            });
        assert_eq!(status, code, "{err}");
        assert!(!has_files(&d), "debris: {:?}", names(&d));
        assert!(!roll.exists(), "the directory the build made is removed");
    }
}

// ---- merge, --as-of, build --sort --memory ----

/// Builds `name.sst` from TSV text (extra build flags after).
fn build_tsv(dir: &Path, name: &str, tsv: &str, extra: &[&str]) -> String {
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
    let a = build_tsv(d, "a", "a\t1\nb\t1\nc\t1\nd\t1\ne\t1\n", &[]);
    let b = build_tsv(d, "b", "b\t2\nc\t\tdelete\nd\te\tdelete_range\n", &[]);
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
    let big = build_tsv(d, "big", &many, &[]);
    let roll = d.join("roll");
    let report = ok(&["merge", &big, &a, roll.to_str().unwrap(), "--target-size", "64K", "--level", "3"]);
    assert!(report.contains("files under"), "{report}");
    assert!(std::fs::read_dir(roll.join("3")).unwrap().count() > 3);
}

#[test]
fn as_of_reads_and_merges() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let old = build_tsv(d, "old", "a\told\nb\told\n", &["--seqno", "5"]);
    let new = build_tsv(d, "new", "a\tnew\nb\t\tdelete\n", &["--seqno", "9"]);
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
    let a = build_tsv(d, "a", "k\tbase\n", &[]);
    let b = build_tsv(d, "b", "k\t+1\tmerge\n", &[]);
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

/// `build --sort` into one file sizes its filter at the end, by the distinct keys the merge kept (keys given
/// twice count once; the hashes spill to --tmp-dir meanwhile, nothing is left there): the filter is correct,
/// `verify` passes, and RocksDB (when its tools are installed) finds every key, with the last value, through it.
#[test]
fn build_sort_sizes_the_filter_by_its_distinct_keys_and_duplicates_keep_it_correct() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 20 000 keys in a scrambled order, each given twice: 40 000 records, 20 000 distinct keys.
    let lines: String = (0..2u32)
        .flat_map(|round| (0..20_000u32).map(move |i| (round, i * 7919 % 20_000)))
        .map(|(round, k)| format!("key{k:06}\t{round}-{k}\n"))
        .collect();
    let input = write(d, "in.tsv", &lines);
    let prop = |sst: &str, name: &str| -> u64 {
        let props = ok(&["props", sst]);
        let line = props.lines().find(|l| l.starts_with(&format!("{name}: "))).unwrap_or_else(|| panic!("{props}"));
        line[name.len() + 2..].trim().parse().unwrap()
    };
    for extra in [&[][..], &["--index-type", "partitioned", "--partition-filters"][..]] {
        let out = d.join(format!("t{}.sst", extra.len()));
        let o = out.to_str().unwrap();
        let mut args = vec!["build", input.as_str(), o, "--sort", "--memory", "1M", "--tmp-dir", d.to_str().unwrap()];
        args.extend(extra);
        let report = ok(&args);
        assert!(report.contains("20000 entries"), "{report}");
        assert!(ok(&["verify", o]).contains("ok"));
        assert_eq!(prop(o, "rocksdb.num.filter_entries"), 20_000);
        let filter = prop(o, "rocksdb.filter.size");
        if extra.is_empty() {
            // One full filter sized for the 20 000 keys at 10 bits/key: 391 cache lines of 64 bytes, and 5 bytes
            // of metadata (for the 40 000 records: 50 053).
            assert_eq!(filter, 391 * 64 + 5);
        } else {
            // Partitions built from the keys that came (the count is not used).
            assert!(filter < 40_000, "{filter}");
        }
        assert_eq!(ok(&["get", o, "key000007"]), "1-7\n");
        if let (Some(_), Some(_)) = (sstkit_tests::require_tool("sst_dump"), sstkit_tests::require_tool("ldb")) {
            sstkit_tests::sst_dump_verify(&out).unwrap();
            let db = d.join(format!("db{}", extra.len()));
            sstkit_tests::ldb_ingest(&db, &out).unwrap();
            let keys: Vec<Vec<u8>> = (0..20_000).map(|k| format!("key{k:06}").into_bytes()).collect();
            let got = sstkit_tests::ldb_multi_get_hex(&db, &keys).unwrap();
            for (k, g) in got.iter().enumerate() {
                assert_eq!(g.as_deref(), Some(format!("1-{k}").as_bytes()), "key {k}");
            }
        }
    }
}

/// `build --sort --target-size`: each rolled file's filter is sized for about its own keys (the sort's key count
/// per file: the target size over the bytes per record, capped by the records left), not kept as 8-byte hashes
/// and not sized for the whole input; every key is found through it. A budget too small for the merge's
/// writer and batches is said up front.
#[test]
fn build_sort_into_rolled_files_sizes_each_filter_by_its_own_keys() {
    use sstkit_core::filter::fast_bloom::FastLocalBloom;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let n = 30_000u32;
    let lines: String = (0..n).map(|i| i * 7919 % n).map(|k| format!("key{k:06}\t{k:090}\n")).collect();
    let input = write(d, "in.tsv", &lines);
    let out = d.join("out");
    let o = out.to_str().unwrap();
    let args = ["build", input.as_str(), o, "--sort", "--memory", "1M", "--tmp-dir", d.to_str().unwrap()];
    let run = sstkit(&[&args[..], &["--target-size", "256K"]].concat());
    assert!(run.status.success(), "{}", err_of(&run));
    assert!(err_of(&run).contains("warning: --memory 1 MiB does not hold the merge"), "{}", err_of(&run));
    let prop = |sst: &str, name: &str| -> u64 {
        let props = ok(&["props", sst]);
        let line = props.lines().find(|l| l.starts_with(&format!("{name}: "))).unwrap_or_else(|| panic!("{props}"));
        line[name.len() + 2..].trim().parse().unwrap()
    };
    let bloom = FastLocalBloom::with_millibits(10_000).unwrap();
    let files = names(&out.join("0"));
    assert!(files.len() >= 5, "{files:?}");
    let mut total = 0;
    for f in &files {
        let path = out.join("0").join(f);
        let p = path.to_str().unwrap();
        let entries = prop(p, "rocksdb.num.entries");
        let filter = prop(p, "rocksdb.filter.size");
        assert!(filter >= bloom.bits_len(entries as usize) as u64 + 5, "{f}: {filter} for {entries} keys");
        assert!(filter <= bloom.bits_len((entries * 8 / 5) as usize + 64) as u64 + 5, "{f}: {filter} for {entries}");
        total += entries;
    }
    assert_eq!(total, u64::from(n));
    for k in [0, 7, 12_345, n - 1] {
        let key = format!("key{k:06}");
        let found: Vec<String> = files
            .iter()
            .map(|f| sstkit(&["get", out.join("0").join(f).to_str().unwrap(), &key]))
            .filter(|r| r.status.success() && !r.stdout.is_empty())
            .map(|r| String::from_utf8(r.stdout).unwrap())
            .collect();
        assert_eq!(found, vec![format!("{k:090}\n")], "{key}");
    }
}

/// `build --sort` interrupted while it spills runs: exit 130/143, no output, and its temporary directory
/// gone from --tmp-dir.
#[test]
fn an_interrupted_sort_removes_its_runs() {
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let dir = tempfile::tempdir().unwrap();
        let tmp = dir.path().join("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let out = dir.path().join("t.sst");
        let args = ["build", "-", out.to_str().unwrap(), "--input-format", "tsv", "--sort", "--memory", "1M"];
        let args: Vec<&str> = args.into_iter().chain(["--tmp-dir", tmp.to_str().unwrap()]).collect();
        let (status, err) = interrupt_build(&args, &[], signal, &|| {
            // Two runs spilled: the sort is well under way.
            std::fs::read_dir(&tmp)
                .unwrap()
                .flatten()
                .any(|d| std::fs::read_dir(d.path()).map(|r| r.count() >= 2).unwrap_or(false))
        });
        assert_eq!(status, code, "{err}");
        assert!(err.contains(&format!("interrupted by SIG{signal}")), "{err}");
        assert!(names(&tmp).is_empty(), "temporary files left: {:?}", names(&tmp));
        assert_eq!(names(dir.path()), ["tmp"]);
    }
}

/// A multipart-upload listing from moto: the number of `<Upload>` entries.
fn open_uploads(port: u16, bucket: &str) -> usize {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /{bucket}?uploads HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").unwrap();
    let mut buf = String::new();
    s.read_to_string(&mut buf).unwrap();
    assert!(buf.starts_with("HTTP/1.1 200"), "{buf:.300}");
    buf.matches("<UploadId>").count()
}

#[test]
fn sigint_during_an_s3_build_aborts_the_multipart_upload() {
    let Some((server, store)) = support::moto_store() else { return };
    let env = server.cli_env();
    let url = format!("s3://{}/sig/t.sst", support::MOTO_BUCKET);
    let port = server.port;
    assert_eq!(open_uploads(port, support::MOTO_BUCKET), 0);
    let (status, err) = interrupt_build(&["build", "-", &url, "--input-format", "tsv"], &env, "INT", &|| {
        open_uploads(port, support::MOTO_BUCKET) > 0
    });
    assert_eq!(status, 130, "{err}");
    assert_eq!(open_uploads(port, support::MOTO_BUCKET), 0, "the multipart upload is aborted");
    let rt = support::runtime();
    let listed = rt.block_on(support::list_paths(&*store, None));
    assert!(listed.is_empty(), "no object: {listed:?}");
    // s3://bucket and s3://bucket/dir/ name no object: refused before any work.
    for bad in [format!("s3://{}", support::MOTO_BUCKET), format!("s3://{}/dir/", support::MOTO_BUCKET)] {
        let dir = tempfile::tempdir().unwrap();
        let input = write(dir.path(), "in.tsv", "a\t1\n");
        let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
        c.args(["build", &input, &bad]);
        for (k, v) in &env {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{}", err_of(&out));
        assert!(err_of(&out).contains("object"), "{}", err_of(&out));
    }
    assert!(rt.block_on(support::list_paths(&*store, None)).is_empty());
}

/// sstkit with the AWS variables of the test's environment removed and `envs` set.
fn sstkit_env(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") {
            c.env_remove(k);
        }
    }
    for (k, v) in envs {
        c.env(k, v);
    }
    c.output().unwrap()
}

#[test]
fn errors_say_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.sst");
    let err = fails(&["scan", missing.to_str().unwrap()], 5);
    assert!(err.contains("missing.sst: no such file") && !err.contains("HEAD"), "{err}");
    let err = fails(&["build", missing.to_str().unwrap(), dir.path().join("o.sst").to_str().unwrap()], 5);
    assert!(err.contains("no such file"), "{err}");
    let empty = dir.path().join("empty.sst");
    std::fs::write(&empty, b"").unwrap();
    for cmd in ["scan", "props", "dump", "stats"] {
        let err = fails(&[cmd, empty.to_str().unwrap()], 3);
        assert!(err.contains("empty (0 bytes), too short to be an SST file"), "{cmd}: {err}");
    }
    // Credentials and plain HTTP: the variable to set is named, and nothing is asked of the metadata service
    // (no 169.254.169.254 timeout: the answer is immediate).
    let started = std::time::Instant::now();
    let out = sstkit_env(&["scan", "s3://bucket/t.sst"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = err_of(&out);
    assert!(err.contains("AWS_ACCESS_KEY_ID") && err.contains("--instance-credentials"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let out = sstkit_env(
        &["scan", "s3://bucket/t.sst"],
        &[("AWS_ENDPOINT", "http://127.0.0.1:9"), ("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(err_of(&out).contains("AWS_ALLOW_HTTP=true"), "{}", err_of(&out));
    let out = sstkit_env(&["scan", "s3://bucket/t.sst"], &[("AWS_ACCESS_KEY_ID", "k")]);
    assert!(err_of(&out).contains("AWS_SECRET_ACCESS_KEY is not"), "{}", err_of(&out));
    let out = sstkit_env(&["scan", "s3://bucket"], &[("AWS_ACCESS_KEY_ID", "k"), ("AWS_SECRET_ACCESS_KEY", "s")]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err_of(&out).contains("no object key"), "{}", err_of(&out));
}

#[test]
fn exit_codes_and_kinds_are_the_same_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = write(d, "in.tsv", "a\t1\nb\t\tdelete\nc\tm\tmerge\nd\tz\tdelete_range\n");
    let t = d.join("t.sst");
    let t_s = t.to_str().unwrap();
    ok(&["build", &input, t_s]);
    assert_eq!(ok(&["get", t_s, "a"]), "1\n");
    let err = fails(&["get", t_s, "b"], 1);
    assert!(err.contains("deleted (delete"), "{err}");
    let out = sstkit(&["get", t_s, "c"]);
    assert_eq!(out.status.code(), Some(1), "a merge operand is not a value");
    assert!(out.stdout.is_empty());
    assert!(err_of(&out).contains("merge operand"), "{}", err_of(&out));
    let err = fails(&["get", t_s, "e"], 1);
    assert!(err.contains("deleted (range_delete"), "{err}");
    fails(&["get", t_s, "zz"], 1);
    let j = |args: &[&str], code: i32| -> serde_json::Value {
        let out = sstkit(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", err_of(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let v = j(&["get", t_s, "c", "--json"], 1);
    assert_eq!((v["found"].as_bool(), v["kind"].as_str(), v["value"].as_str()), (Some(true), Some("merge"), Some("m")));
    assert_eq!(v["encoding"], "utf8");
    let v = j(&["get", t_s, "zz", "--json"], 1);
    assert_eq!((v["found"].as_bool(), v["kind"].is_null(), v["key"].as_str()), (Some(false), true, Some("zz")));
    let v = j(&["get", t_s, "a", "--json", "--hex"], 0);
    assert_eq!((v["key"].as_str(), v["value"].as_str(), v["encoding"].as_str()), (Some("61"), Some("31"), Some("hex")));
    // Scan uses the same names: key, value, kind, encoding.
    let first: serde_json::Value = serde_json::from_str(ok(&["scan", t_s, "--json"]).lines().next().unwrap()).unwrap();
    assert_eq!(
        (first["key"].as_str(), first["kind"].as_str(), first["encoding"].as_str()),
        (Some("a"), Some("put"), Some("utf8"))
    );
    let built: serde_json::Value =
        serde_json::from_str(ok(&["build", &input, d.join("t2.sst").to_str().unwrap(), "--json"]).trim()).unwrap();
    assert_eq!((built["first_key"].as_str(), built["encoding"].as_str()), (Some("a"), Some("utf8")));

    // Corrupt bytes: 3 from get and scan, 1 (the negative answer) from verify.
    let big: String = (0..5000).map(|i| format!("key{i:06}\tvalue{i}\n")).collect();
    let big_in = write(d, "big.tsv", &big);
    let c = d.join("c.sst");
    let c_s = c.to_str().unwrap();
    ok(&["build", &big_in, c_s]);
    let mut bytes = std::fs::read(&c).unwrap();
    bytes[100] ^= 0x10;
    std::fs::write(&c, &bytes).unwrap();
    let err = fails(&["get", c_s, "key000001"], 3);
    assert!(err.contains("checksum") || err.contains("corrupt"), "{err}");
    fails(&["scan", c_s], 3);
    fails(&["verify", c_s], 1);

    // A valid table using an unsupported feature (a block compressed with a codec this build lacks): 4
    // everywhere, verify included, with UNSUPPORTED: <what>.
    let u = d.join("u.sst");
    let u_s = u.to_str().unwrap();
    ok(&["build", &big_in, u_s, "--checksum", "none"]);
    let dump: serde_json::Value = serde_json::from_str(ok(&["dump", u_s, "--json"]).lines().next().unwrap()).unwrap();
    let first_block = &dump["index"][0];
    let trailer = (first_block["offset"].as_u64().unwrap() + first_block["size"].as_u64().unwrap()) as usize;
    let mut bytes = std::fs::read(&u).unwrap();
    assert_eq!(bytes[trailer], 0, "an uncompressed block");
    bytes[trailer] = 0x06; // XPRESS (never supported; BZip2 now is)
    std::fs::write(&u, &bytes).unwrap();
    let err = fails(&["verify", u_s], 4);
    assert!(err.contains("UNSUPPORTED:"), "{err}");
    fails(&["get", u_s, "key000001"], 4);
    fails(&["scan", u_s], 4);
    fails(&["stats", u_s], 4);
    // Usage errors are 2.
    fails(&["get", t_s], 2);
    fails(&["nonsense"], 2);
    // Log lines reach stderr (a subscriber is installed; RUST_LOG filters, warnings by default).
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    let logged =
        c.args(["build", &input, d.join("log.sst").to_str().unwrap()]).env("RUST_LOG", "info").output().unwrap();
    assert!(logged.status.success());
    assert!(err_of(&logged).contains("sst written"), "{}", err_of(&logged));
    // The table is in --help.
    let help = ok(&["--help"]);
    assert!(help.contains("Exit status") && help.contains("130") && help.contains("UNSUPPORTED"), "{help}");
}

/// On glibc the tool runs with `MALLOC_ARENA_MAX=2` and `MALLOC_MMAP_THRESHOLD_=1048576` (it executes itself
/// again with them, in the same process, unless the first is set): its environment says so while it waits for
/// input, and a value given is kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_tool_limits_glibc_malloc_arenas() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    for (given, want) in [(None, "MALLOC_ARENA_MAX=2"), (Some("4"), "MALLOC_ARENA_MAX=4")] {
        let out = dir.path().join(format!("{want}.sst"));
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sstkit"));
        cmd.args(["build", "-q", "-", out.to_str().unwrap()]).stdin(Stdio::piped()).stdout(Stdio::null());
        cmd.env_remove("MALLOC_ARENA_MAX").env_remove("MALLOC_MMAP_THRESHOLD_");
        if let Some(v) = given {
            cmd.env("MALLOC_ARENA_MAX", v);
        }
        let mut child = cmd.spawn().unwrap();
        let environ = format!("/proc/{}/environ", child.id());
        // Once it has executed itself again, it reads standard input: its environment holds the limit.
        let mut seen = String::new();
        for _ in 0..200 {
            seen = String::from_utf8_lossy(&std::fs::read(&environ).unwrap_or_default()).into_owned();
            if seen.split('\0').any(|v| v == want) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.stdin.take().unwrap().write_all(b"a ==> 1\n").unwrap();
        assert!(child.wait().unwrap().success());
        assert!(seen.split('\0').any(|v| v == want), "{want} not in {seen:?}");
        let threshold = seen.split('\0').any(|v| v == "MALLOC_MMAP_THRESHOLD_=1048576");
        assert_eq!(threshold, given.is_none(), "{seen:?}");
        assert!(out.exists());
    }
}
