//! The `sstkit` binary end to end: every input format, errors, verify, JSON, object-store URLs, real RocksDB.

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
        ("in.tsv", "a\tMQ==\nb\tAP8=\nc\t\nd\t\tdelete\ne\tbQ==\tmerge\nx\tz\tdelete_range\n", vec!["--value-format", "base64"]),
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
    let env = [
        ("AWS_ENDPOINT", server.endpoint()),
        ("AWS_ALLOW_HTTP", "true".to_string()),
        ("AWS_ACCESS_KEY_ID", "testing".to_string()),
        ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
        ("AWS_REGION", "us-east-1".to_string()),
        ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".to_string()),
    ];
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
