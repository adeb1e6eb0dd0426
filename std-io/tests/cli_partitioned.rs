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
