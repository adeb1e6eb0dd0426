//! The `sstkit` binary shows every entry type with its label and decoded value: wide-column entities from a
//! table RocksDB 10.4.2 wrote (core's `tests/data/entries`), and single deletions, deletions with timestamp,
//! values with a preferred seqno and blob references from a table built here with core's builder.

use std::path::{Path, PathBuf};
use std::process::Command;

use sstkit::core::table::{Options, TableBuilder};
use sstkit::core::{InternalKey, ValueType};

/// Runs `args`, asserts the exit code, returns (stdout, stderr).
fn run(args: &[&str], code: i32) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: stdout {stdout} stderr {stderr}");
    (stdout.into_owned(), stderr.into_owned())
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn entities() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/entries/entities.sst")
}

#[test]
fn entities_written_by_rocksdb_show_their_columns() {
    let f = entities();
    let f = f.to_str().unwrap();
    let (all, _) = run(&["scan", f], 0);
    assert_eq!(
        all,
        "e1 => {=default-value, attr=x, colour=blue} [wide_column_entity seq 1]\n\
         e2 => {a=1, b=} [wide_column_entity seq 2]\n\
         e3 => {} [wide_column_entity seq 3]\n\
         plain => v\n\
         zgone =>  [delete seq 6]\n"
    );
    let (lines, _) = run(&["scan", f, "--json"], 0);
    let first = json(lines.lines().next().unwrap());
    assert_eq!(first["kind"], "wide_column_entity");
    assert_eq!(
        first["columns"],
        serde_json::json!([{"name": "", "value": "default-value"}, {"name": "attr", "value": "x"},
                           {"name": "colour", "value": "blue"}])
    );
    let (dump, _) = run(&["dump", f, "--entries"], 0);
    assert!(dump.contains("    e2 => {a=1, b=} [wide_column_entity seq 2]\n"), "{dump}");

    // get: the default column is the value (what RocksDB's Get returns), the columns go to stderr.
    let (out, err) = run(&["get", f, "e1"], 0);
    assert_eq!(out, "default-value\n");
    assert!(err.contains("wide-column entity") && err.contains("{=default-value, attr=x, colour=blue}"), "{err}");
    let (out, err) = run(&["get", f, "e2"], 0);
    assert_eq!(out, "\n");
    assert!(err.contains("no default column") && err.contains("{a=1, b=}"), "{err}");
    let v = json(&run(&["get", f, "e1", "--json"], 0).0);
    assert_eq!((v["found"].as_bool(), v["value"].as_str()), (Some(true), Some("default-value")));
    assert_eq!(v["columns"][2], serde_json::json!({"name": "colour", "value": "blue"}));
}

/// A table with one entry of every other kind, built with core's builder.
fn kinds_table(dir: &Path) -> PathBuf {
    let mut ws = vec![0u8; 64 * 1024];
    // Not an external file: the entries keep their own seqnos.
    let mut b = TableBuilder::new(&mut ws[..], Options::default().external_file(false)).unwrap();
    let mut timed = b"tv".to_vec();
    timed.extend_from_slice(&7u64.to_le_bytes());
    let blob = b"\x01\x05\x80\x01\x09\x00"; // blob file 5, offset 128, size 9, no compression
    let rows: [(&[u8], ValueType, &[u8]); 5] = [
        (b"a_blob", ValueType::BlobIndex, blob),
        (b"b_sd", ValueType::SingleDeletion, b""),
        (b"c_dts", ValueType::DeletionWithTimestamp, b""),
        (b"d_timed", ValueType::ValuePreferredSeqno, &timed),
        (b"e_bad_timed", ValueType::ValuePreferredSeqno, b"short"),
    ];
    for (i, (k, t, v)) in rows.iter().enumerate() {
        b.add(InternalKey::new(k, 10 + i as u64, *t), v).unwrap();
    }
    b.finish().unwrap();
    let mut out = Vec::new();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    let p = dir.join("kinds.sst");
    std::fs::write(&p, out).unwrap();
    p
}

#[test]
fn every_kind_is_labelled_and_get_answers_by_kind() {
    let dir = tempfile::tempdir().unwrap();
    let f = kinds_table(dir.path());
    let f = f.to_str().unwrap();
    let (lines, _) = run(&["scan", f, "--to", "e"], 0);
    assert_eq!(
        lines,
        "a_blob => (blob file 5 @128+9) [blob_index seq 10]\n\
         b_sd =>  [single_delete seq 11]\n\
         c_dts =>  [delete_with_timestamp seq 12]\n\
         d_timed => tv [value_preferred_seqno seq 13 preferred_seqno 7]\n"
    );
    let (lines, _) = run(&["scan", f, "--to", "e", "--json"], 0);
    let v: Vec<_> = lines.lines().map(json).collect();
    assert_eq!(v[0]["kind"], "blob_index");
    assert_eq!(v[0]["blob"]["file_number"], 5);
    assert_eq!((v[0]["blob"]["offset"].as_u64(), v[0]["blob"]["size"].as_u64()), (Some(128), Some(9)));
    assert!(v[0].get("value").is_none(), "a blob reference is not shown as a value: {}", v[0]);
    assert_eq!((v[1]["kind"].as_str(), v[2]["kind"].as_str()), (Some("single_delete"), Some("delete_with_timestamp")));
    assert_eq!((v[3]["value"].as_str(), v[3]["preferred_seqno"].as_u64()), (Some("tv"), Some(7)));

    let (out, err) = run(&["get", f, "a_blob"], 1);
    assert_eq!(out, "");
    assert!(err.contains("lives in a blob file") && err.contains("blob file 5"), "{err}");
    assert!(run(&["get", f, "b_sd"], 1).1.contains("deleted (single_delete at seq 11)"));
    assert!(run(&["get", f, "c_dts"], 1).1.contains("deleted (delete_with_timestamp at seq 12)"));
    assert_eq!(run(&["get", f, "d_timed"], 0).0, "tv\n");
    let v = json(&run(&["get", f, "d_timed", "--json"], 0).0);
    assert_eq!((v["value"].as_str(), v["preferred_seqno"].as_u64()), (Some("tv"), Some(7)));

    // A value with a preferred seqno shorter than its 8-byte suffix is corrupt (exit 3), in every command.
    let (_, err) = run(&["get", f, "e_bad_timed"], 3);
    assert!(err.contains("preferred seqno shorter than 8 bytes") && err.contains("e_bad_timed"), "{err}");
    run(&["scan", f], 3);
    run(&["dump", f, "--entries"], 3);
    // verify decodes every value too: the malformed one is the negative answer, named.
    let (_, err) = run(&["verify", f], 1);
    assert!(err.contains("CORRUPT") && err.contains("e_bad_timed"), "{err}");
    run(&["verify", entities().to_str().unwrap()], 0);
}

fn written_by_rocksdb(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/entries").join(name)
}

/// Merge operands, single deletions, a range deletion and blob references that RocksDB 10.4.2 wrote through
/// DB writes and a flush (core's `tests/data/entries/gen_kinds.py`).
#[test]
fn kinds_written_by_rocksdb_show_their_labels_seqnos_and_values() {
    let f = written_by_rocksdb("kinds.sst");
    let f = f.to_str().unwrap();
    assert_eq!(
        run(&["scan", f], 0).0,
        "a_put => v1\n\
         c_merge => m1 [merge seq 3]\n\
         e_merge => m2 [merge seq 8]\n\
         f_sd =>  [single_delete seq 9]\n\
         d_range1 => d_range3 [range_delete seq 6]\n"
    );
    let (_, err) = run(&["get", f, "c_merge"], 1);
    assert!(err.contains("a merge operand at seq 3") && err.ends_with(": m1\n"), "{err}");
    let (_, err) = run(&["get", f, "f_sd"], 1);
    assert_eq!(err, "f_sd: deleted (single_delete at seq 9)\n");
    let (_, err) = run(&["get", f, "d_range2"], 1);
    assert_eq!(err, "d_range2: deleted (range_delete at seq 6)\n");
    let v = json(run(&["get", f, "e_merge", "--json"], 1).0.trim());
    assert_eq!((v["kind"].as_str(), v["seqno"].as_u64(), v["value"].as_str()), (Some("merge"), Some(8), Some("m2")));
    run(&["verify", f], 0);

    let b = written_by_rocksdb("blob.sst");
    let b = b.to_str().unwrap();
    assert_eq!(
        run(&["scan", b], 0).0,
        "big1 => (blob file 10 @66+40) [blob_index seq 1]\n\
         big2 => (blob file 10 @142+40) [blob_index seq 2]\n\
         small => tiny\n"
    );
    let v = json(run(&["get", b, "big2", "--json"], 1).0.trim());
    assert_eq!(
        v["blob"],
        serde_json::json!({"compression": 0, "expiration": null, "file_number": 10, "offset": 142, "size": 40})
    );
    assert_eq!(run(&["get", b, "small"], 0).0, "tiny\n");
    run(&["verify", b], 0);
}
