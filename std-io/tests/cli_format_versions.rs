//! Every read command of the `sstkit` binary on format_version 2–7 tables we write and on format_version 6
//! tables RocksDB 10.4.2 wrote (the committed fixtures of core/tests/data/rocksdb10), and exit code 4 with
//! `UNSUPPORTED:` for a valid table from a newer RocksDB (format_version 8).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn sstkit(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit")
}

/// Runs `args`, asserts the exit code, returns stdout and stderr.
fn run(args: &[&str], code: i32) -> (String, String) {
    let out = sstkit(args);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: stdout {stdout} stderr {stderr}");
    (stdout.into_owned(), stderr.into_owned())
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/rocksdb10").join(name)
}

/// The footer's format_version (the u32 before the 8-byte magic).
fn footer_version(file: &Path) -> u32 {
    let b = std::fs::read(file).unwrap();
    u32::from_le_bytes(b[b.len() - 12..b.len() - 8].try_into().unwrap())
}

#[test]
fn every_command_reads_format_versions_2_to_7() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.tsv");
    let mut text = String::new();
    for i in 0..2000 {
        match i % 10 {
            3 => text.push_str(&format!("k{i:05}\t\tdelete\n")),
            5 => text.push_str(&format!("k{i:05}\tm{i}\tmerge\n")),
            _ => text.push_str(&format!("k{i:05}\tvalue-{i}\n")),
        }
    }
    std::fs::write(&input, text).unwrap();
    let input = input.to_str().unwrap();
    for fv in 2..=7u32 {
        for compression in ["none", "lz4"] {
            let out = dir.path().join(format!("fv{fv}-{compression}.sst"));
            let o = out.to_str().unwrap();
            let fv_arg = fv.to_string();
            let what = format!("fv{fv} {compression}");
            run(
                &[
                    "build",
                    input,
                    o,
                    "--quiet",
                    "--format-version",
                    &fv_arg,
                    "--compression",
                    compression,
                    "--block-size",
                    "512",
                ],
                0,
            );
            assert_eq!(footer_version(&out), fv, "{what}");

            let (scan, _) = run(&["scan", o], 0);
            assert_eq!(scan.lines().count(), 2000, "{what}");
            assert!(scan.contains("k00000 => value-0\n"), "{what}: {scan}");
            let (first, _) = run(&["scan", o, "--from", "k01990", "--limit", "3"], 0);
            assert_eq!(first.lines().count(), 3, "{what}: {first}");
            assert!(first.starts_with("k01990 => value-1990"), "{what}: {first}");

            let (v, _) = run(&["get", o, "k01234"], 0);
            assert_eq!(v.trim_end(), "value-1234", "{what}");
            run(&["get", o, "k01233"], 1); // deleted
            run(&["get", o, "k01235"], 1); // a merge operand, not a value
            run(&["get", o, "nope"], 1);
            let (j, _) = run(&["--json", "get", o, "k01235"], 1);
            let j: serde_json::Value = serde_json::from_str(j.trim()).unwrap();
            assert_eq!(j["found"], true, "{what}: {j}");
            assert_eq!(j["kind"], "merge", "{what}: {j}");

            let (verify, _) = run(&["verify", o], 0);
            assert!(verify.contains("ok"), "{what}: {verify}");
            let (dump, _) = run(&["dump", o], 0);
            assert!(dump.contains(&format!("format_version {fv}")), "{what}: {dump}");
            let (props, _) = run(&["props", o], 0);
            assert!(props.contains("rocksdb.num.entries"), "{what}: {props}");
            let compression_prop = match (fv, compression) {
                (7, "none") => ";;",
                (7, _) => "BuiltinV2;04;",
                (_, "none") => "NoCompression",
                _ => "LZ4",
            };
            assert!(props.contains(compression_prop), "{what}: {props}");
            let (stats, _) = run(&["stats", o], 0);
            assert!(!stats.is_empty(), "{what}");
        }
    }
}

#[test]
fn every_command_reads_rocksdb_10_format_version_6_files() {
    for name in ["fv6_crc32c.sst", "fv6_none.sst", "fv6_xxhash.sst", "fv6_xxhash64.sst", "fv6_xxh3_lz4_bloom.sst"] {
        let f = fixture(name);
        let p = f.to_str().unwrap();
        assert_eq!(footer_version(&f), 6, "{name}");
        // 150 keys, every tenth (i % 10 == 3) a deletion: see the fixtures' make_fixtures.py.
        let (scan, _) = run(&["scan", p], 0);
        assert_eq!(scan.lines().count(), 150, "{name}");
        let (v, _) = run(&["get", p, "key0042"], 0);
        assert_eq!(v.trim_end(), "value42value42value42", "{name}");
        run(&["get", p, "key0043"], 1);
        run(&["get", p, "key9999"], 1);
        let (verify, _) = run(&["verify", p], 0);
        assert!(verify.contains("150 entries"), "{name}: {verify}");
        let (dump, _) = run(&["dump", p], 0);
        assert!(dump.contains("format_version 6"), "{name}: {dump}");
        run(&["props", p], 0);
        run(&["stats", p], 0);
    }
}

#[test]
fn a_newer_format_version_is_unsupported_on_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let mut bytes = std::fs::read(fixture("fv6_crc32c.sst")).unwrap();
    let at = bytes.len() - 12;
    bytes[at] = 8;
    let f = dir.path().join("fv8.sst");
    std::fs::write(&f, &bytes).unwrap();
    let p = f.to_str().unwrap();
    for args in [
        vec!["verify", p],
        vec!["scan", p],
        vec!["get", p, "key0001"],
        vec!["dump", p],
        vec!["props", p],
        vec!["stats", p],
    ] {
        let (_, err) = run(&args, 4);
        assert!(err.contains("UNSUPPORTED: ") && err.contains("format_version 8"), "{args:?}: {err}");
        assert!(!err.contains("CORRUPT"), "{args:?}: {err}");
    }
    let (json, _) = run(&["--json", "verify", p], 4);
    let j: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!(j["status"], "UNSUPPORTED", "{j}");
    assert_eq!(j["ok"], false, "{j}");
}
