//! Tables with user-defined timestamps that RocksDB 10.4.2 wrote (core's `tests/data/udt`), read through
//! `SstReader` (get at a read timestamp, scans with timestamps, timestamped range tombstones) and the `sstkit`
//! CLI (`ts=N` in text, `timestamp` in JSON, `get --read-ts`, the stripped-timestamps note in `props`).

use std::ops::Bound;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::core::ValueType;
use sstkit::reader::{ReadOptions, SstReader};

const UDT: &[u8] = include_bytes!("../../core/tests/data/udt/udt.sst");

async fn open(file: &'static [u8], tail: u64) -> SstReader {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("t/udt.sst");
    store.put(&path, PutPayload::from(Bytes::from_static(file))).await.unwrap();
    SstReader::open(store, path, ReadOptions::default().file_size(file.len() as u64).tail_size(tail)).await.unwrap()
}

#[tokio::test]
async fn get_at_a_read_timestamp_and_scans_carry_timestamps() {
    // A small tail: the data blocks are fetched by range.
    let r = open(UDT, 1024).await;
    let get = |k: &'static [u8], ts| {
        let r = &r;
        async move { r.get_at(k, ts).await.unwrap().map(|e| (e.timestamp, e.kind, e.value.to_vec())) }
    };
    assert_eq!(get(b"k05", u64::MAX).await, Some((Some(30), ValueType::Value, b"k05@30".to_vec())));
    assert_eq!(get(b"k05", 29).await, Some((Some(20), ValueType::Value, b"k05@20".to_vec())));
    assert_eq!(get(b"k05", 10).await, Some((Some(10), ValueType::Value, b"k05@10".to_vec())));
    assert_eq!(get(b"k05", 9).await, None);
    assert_eq!(get(b"k07", 27).await, Some((Some(25), ValueType::DeletionWithTimestamp, vec![])));
    // The range tombstone [k20, k23) at ts 15 deletes the ts-10 versions for readers at 15 or later.
    assert_eq!(get(b"k21", 14).await, Some((Some(10), ValueType::Value, b"k21@10".to_vec())));
    assert_eq!(get(b"k21", 15).await, Some((Some(15), ValueType::RangeDeletion, vec![])));
    assert_eq!(get(b"k21", 20).await, Some((Some(20), ValueType::Value, b"k21@20".to_vec())));
    assert_eq!(r.get(b"k21").await.unwrap().unwrap().timestamp, Some(30));
    assert_eq!(get(b"k99", u64::MAX).await, None);

    let rows: Vec<_> = r
        .scan((Bound::Included(b"k28".to_vec()), Bound::Unbounded))
        .map_ok(|e| (e.user_key.to_vec(), e.timestamp))
        .try_collect()
        .await
        .unwrap();
    let want: Vec<_> = [(b"k28", 30), (b"k28", 20), (b"k28", 10), (b"k29", 30), (b"k29", 20), (b"k29", 10)]
        .iter()
        .map(|(k, t)| (k.to_vec(), Some(*t)))
        .collect();
    assert_eq!(rows, want);
    let tombs = r.range_tombstones_at(u64::MAX).unwrap();
    assert_eq!(tombs.len(), 1);
    assert_eq!((&tombs[0].start[..], &tombs[0].end[..], tombs[0].timestamp), (&b"k20"[..], &b"k23"[..], Some(15)));
    assert!(r.range_tombstones_at(14).unwrap().is_empty());
}

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../core/tests/data/udt").join(name)
}

fn run(args: &[&str], code: i32) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: stdout {stdout} stderr {stderr}");
    (stdout.into_owned(), stderr.into_owned())
}

#[test]
fn the_cli_shows_timestamps_and_reads_at_one() {
    let f = fixture("udt.sst");
    let f = f.to_str().unwrap();
    let (scan, _) = run(&["scan", f, "--from", "k07", "--to", "k08"], 0);
    assert_eq!(
        scan,
        "k07 ts=30 => k07@30\nk07 ts=25 =>  [delete_with_timestamp seq 91]\nk07 ts=20 => k07@20\n\
         k07 ts=10 => k07@10\nk20 ts=15 => k23 [range_delete seq 92]\n"
    );
    let (json, _) = run(&["scan", f, "--json", "--limit", "1"], 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!((v["key"].as_str(), v["timestamp"].as_u64()), (Some("k00"), Some(30)));

    assert_eq!(run(&["get", f, "k05"], 0).0, "k05@30\n");
    let (out, err) = run(&["get", f, "k05", "--read-ts", "25"], 0);
    assert_eq!(out, "k05@20\n");
    assert!(err.contains("ts=20"), "{err}");
    run(&["get", f, "k05", "--read-ts", "9"], 1);
    let (_, err) = run(&["get", f, "k21", "--read-ts", "15"], 1);
    assert!(err.contains("deleted (range_delete"), "{err}");
    let (json, _) = run(&["get", f, "k21", "--read-ts", "12", "--json"], 0);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!((v["value"].as_str(), v["timestamp"].as_u64()), (Some("k21@10"), Some(10)));

    let (dump, _) = run(&["dump", f, "--entries"], 0);
    assert!(dump.contains("    k13 ts=20 => k13@20\n"), "{dump}");
    let (props, _) = run(&["props", f], 0);
    assert!(props.contains("rocksdb.comparator: leveldb.BytewiseComparator.u64ts"), "{props}");
    assert!(props.contains("user-defined timestamps: in every user key"), "{props}");
    run(&["verify", f], 0);

    let s = fixture("udt_stripped.sst");
    let s = s.to_str().unwrap();
    let (props, _) = run(&["props", s], 0);
    assert!(props.contains("user-defined timestamps: stripped"), "{props}");
    // A number, as RocksDB stores it (a varint), not the raw byte.
    assert!(props.contains("rocksdb.user.defined.timestamps.persisted: 0\n"), "{props}");
    assert_eq!(run(&["scan", s, "--limit", "2"], 0).0, "s00 => v0\ns01 => v1\n");

    // A read timestamp on a table without timestamps would mean nothing: a usage error, not a silent newest.
    let plain = fixture("../rocksdb10/fv6_crc32c.sst");
    let plain = plain.to_str().unwrap();
    let key = run(&["scan", plain, "--limit", "1", "--json"], 0).0;
    let key: serde_json::Value = serde_json::from_str(key.lines().next().unwrap()).unwrap();
    let key = key["key"].as_str().unwrap().to_string();
    let (_, err) = run(&["get", plain, &key, "--read-ts", "5"], 2);
    assert!(err.contains("--read-ts") && err.contains("no user-defined timestamps"), "{err}");
}

/// `verify` on a valid table ordered by a comparator sstkit does not read: UNSUPPORTED (exit 4), not CORRUPT.
#[test]
fn verify_reports_another_comparator_as_unsupported() {
    let mut file = std::fs::read(fixture("udt_stripped.sst")).unwrap();
    let (sum, h) = {
        let t = sstkit::core::table::Table::open(&file).unwrap();
        let metaindex = t.layout().meta().metaindex(t.layout().region()).unwrap();
        (t.footer().block_checksum(), metaindex.find(sstkit::core::metaindex::PROPERTIES).unwrap().unwrap())
    };
    // The same table claiming RocksDB's reverse comparator (same length), its properties block re-sealed.
    let at = file.windows(32).position(|w| w == b"leveldb.BytewiseComparator.u64ts").unwrap();
    file[at..at + 32].copy_from_slice(b"rocksdb.ReverseBytewiseComparato");
    let (start, end) = (h.offset as usize, (h.offset + h.size) as usize);
    let stored = sum.stored(&file[start..end], file[end], h.offset);
    file[end + 1..end + 5].copy_from_slice(&stored.to_le_bytes());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reverse.sst");
    std::fs::write(&path, &file).unwrap();
    let (_, err) = run(&["verify", path.to_str().unwrap()], 4);
    assert!(err.contains("UNSUPPORTED") && err.contains("rocksdb.ReverseBytewiseComparato"), "{err}");
}
