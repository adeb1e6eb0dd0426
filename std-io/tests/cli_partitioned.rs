//! The `sstkit` binary on partitioned-index tables written by RocksDB 10.4.2 (core's
//! `tests/data/partitioned` fixtures): scan, get, verify, dump and stats answer what RocksDB wrote.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `args`, asserts the exit code, returns stdout.
fn run(args: &[&str], code: i32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: stdout {stdout} stderr {stderr}");
    stdout.into_owned()
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/partitioned").join(name)
}

#[test]
fn scan_get_verify_dump_stats() {
    for name in ["fv5.sst", "fv6_pfilter.sst", "fv6_lz4.sst"] {
        let f = fixture(name);
        let f = f.to_str().unwrap();
        let all = run(&["scan", f], 0);
        let lines: Vec<&str> = all.lines().collect();
        assert_eq!(lines.len(), 1200, "{name}");
        assert_eq!(lines[0], "k00000 => v0-", "{name}");
        assert_eq!(lines[3], "k00003 =>  [delete seq 0]", "{name}");
        assert_eq!(lines[1199], "k01199 => v1199-v1199-v1199-", "{name}");
        let part = run(&["scan", f, "--from", "k00598", "--to", "k00601"], 0);
        assert_eq!(
            part,
            "k00598 => v598-v598-v598-v598-\nk00599 => v599-v599-v599-v599-v599-\n\
             k00600 => v600-v600-v600-v600-v600-v600-\n",
            "{name}"
        );
        assert_eq!(run(&["get", f, "k00502"], 0), "v502-v502-v502-v502-v502-v502-\n", "{name}");
        run(&["get", f, "k00503"], 1);
        run(&["get", f, "k99"], 1);
        let v: serde_json::Value = serde_json::from_str(&run(&["verify", f, "--json"], 0)).unwrap();
        assert_eq!((v["ok"].as_bool(), v["entries"].as_u64()), (Some(true), Some(1200)), "{name}");
        let s: serde_json::Value = serde_json::from_str(&run(&["stats", f, "--json"], 0)).unwrap();
        assert_eq!(s["index_entries"], s["data_blocks"], "{name}: index entries are the data blocks");
        assert_eq!((s["entries"]["put"].as_u64(), s["entries"]["delete"].as_u64()), (Some(1080), Some(120)));
        run(&["dump", f], 0);
    }
}

#[test]
fn verify_finds_a_corrupt_partition() {
    let src = std::fs::read(fixture("fv5.sst")).unwrap();
    // Partitions sit right before the top-level index (the footer's index handle in fv5): 20 bytes before it
    // is inside the last partition's body (partitions here are ~140 bytes).
    let footer = sstkit::core::footer::Footer::decode(&src, src.len() as u64).unwrap();
    let mut bad = src.clone();
    bad[footer.index.offset as usize - 20] ^= 0x01;
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.sst");
    std::fs::write(&p, &bad).unwrap();
    let out = run(&["verify", p.to_str().unwrap(), "--json"], 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(v["ok"].as_bool(), Some(false), "{out}");
}

/// `sstkit build --index-type partitioned [--partition-filters] --metadata-block-size N`: the file has many
/// partitions (and a partitioned filter), and scan, get, verify, dump and props read it back; bad combinations
/// and out-of-range sizes are refused before anything is written.
#[test]
fn build_writes_partitioned_tables() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tsv");
    let text: String = (0..3000).map(|i| format!("key{i:06}\tvalue-{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let input = input.to_str().unwrap();
    for pf in [false, true] {
        let out = dir.path().join(format!("p{pf}.sst"));
        let out = out.to_str().unwrap();
        let mut args = vec!["build", input, out, "--index-type", "partitioned", "--metadata-block-size", "128"];
        args.extend(["--block-size", "256"]);
        if pf {
            args.push("--partition-filters");
        }
        run(&args, 0);
        let props: serde_json::Value = serde_json::from_str(&run(&["props", out, "--json"], 0)).unwrap();
        assert_eq!(props["rocksdb.block.based.table.index.type"], 2);
        assert!(props["rocksdb.index.partitions"].as_u64().unwrap() > 10, "{props}");
        let lines = run(&["scan", out], 0);
        assert_eq!(lines.lines().count(), 3000);
        assert_eq!(lines.lines().nth(1234), Some("key001234 => value-1234"));
        assert_eq!(run(&["get", out, "key002999"], 0), "value-2999\n");
        run(&["get", out, "key0029990"], 1);
        let v: serde_json::Value = serde_json::from_str(&run(&["verify", out, "--json"], 0)).unwrap();
        assert_eq!((v["ok"].as_bool(), v["entries"].as_u64()), (Some(true), Some(3000)));
        let dump = run(&["dump", out], 0);
        assert!(dump.contains(if pf { "partitionedfilter" } else { "fullfilter" }), "{dump}");
        let t = sstkit::core::table::Table::open(&std::fs::read(out).unwrap()).unwrap().properties().index_partitions;
        assert!(t.unwrap() > 10, "{t:?}");
    }
    let out = dir.path().join("bad.sst");
    let out = out.to_str().unwrap();
    run(&["build", input, out, "--partition-filters"], 2);
    run(&["build", input, out, "--index-type", "partitioned", "--metadata-block-size", "63"], 2);
    run(&["build", input, out, "--index-type", "hash"], 2);
    assert!(!std::path::Path::new(out).exists(), "nothing written on a refused command line");
}

/// `verify` checks the filter partitions of a partitioned filter too: a flipped byte in the first one (which
/// lies before the tail read at open) is corruption, not "ok".
#[test]
fn verify_finds_a_corrupt_filter_partition() {
    use sstkit::core::table::{BlockKind, Table};
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tsv");
    let text: String = (0..60_000).map(|i| format!("key{i:08}\tv{i}\n")).collect();
    std::fs::write(&input, text).unwrap();
    let good = dir.path().join("good.sst");
    let good = good.to_str().unwrap();
    run(&["build", input.to_str().unwrap(), good, "--index-type", "partitioned", "--partition-filters"], 0);
    let mut file = std::fs::read(good).unwrap();
    let mut parts = Vec::new();
    Table::open(&file)
        .unwrap()
        .layout()
        .for_each_table_block(|b| {
            if b.kind == BlockKind::FilterPartition {
                parts.push(b.handle);
            }
            Ok(())
        })
        .unwrap();
    assert!(parts.len() > 10, "{} filter partitions", parts.len());
    let first = parts.iter().min_by_key(|h| h.offset).unwrap();
    assert!(file.len() as u64 - first.offset > 64 << 10, "the first filter partition is outside the tail");
    file[(first.offset + first.size / 2) as usize] ^= 0x01;
    let bad = dir.path().join("bad.sst");
    std::fs::write(&bad, &file).unwrap();
    let out = run(&["verify", bad.to_str().unwrap(), "--json"], 1);
    let v: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!((v["ok"].as_bool(), v["offset"].as_u64()), (Some(false), Some(first.offset)), "{out}");
    let v: serde_json::Value = serde_json::from_str(&run(&["verify", good, "--json"], 0)).unwrap();
    assert_eq!(v["ok"].as_bool(), Some(true));
}
