//! RocksDB 11's padded data blocks and index layout (test-support's crafted `rocksdb11::padded_table`:
//! data blocks not contiguous, mid-interval index entries with `shared = 0` and a full handle, the index
//! block's uniform hint) read through `SstReader` over an object store and through the `sstkit` CLI.
// for_each_data_block takes a closure returning sstkit::Result, whose error is large by design.
#![allow(clippy::result_large_err)]

use std::ops::Bound;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit_test_support::rocksdb11::padded_table;

#[tokio::test]
async fn the_reader_gets_scans_and_walks_padded_blocks() {
    let p = padded_table(300);
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("t/rocksdb11.sst");
    store.put(&path, PutPayload::from(Bytes::from(p.file.clone()))).await.unwrap();
    // A small tail: data blocks come through ranged GETs, runs of them across the padding.
    let opts = ReadOptions::default().file_size(p.file.len() as u64).tail_size(512);
    let r = SstReader::open(store, path, opts).await.unwrap();
    let all: Vec<(Vec<u8>, Vec<u8>)> = r
        .scan((Bound::Unbounded, Bound::Unbounded))
        .map_ok(|e| (e.user_key.to_vec(), e.value.to_vec()))
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all, p.entries);
    let from: Vec<Vec<u8>> = r
        .scan((Bound::Included(b"k0100".to_vec()), Bound::Excluded(b"k0110".to_vec())))
        .map_ok(|e| e.user_key.to_vec())
        .try_collect()
        .await
        .unwrap();
    assert_eq!(from, p.entries[100..110].iter().map(|(k, _)| k.clone()).collect::<Vec<_>>());
    for (k, v) in p.entries.iter().step_by(7) {
        assert_eq!(r.get(k).await.unwrap().map(|e| e.value.to_vec()), Some(v.clone()));
    }
    let mut blocks = Vec::new();
    r.for_each_data_block(|b| {
        blocks.push(b.extent.handle);
        Ok(())
    })
    .await
    .unwrap();
    assert_eq!(blocks, p.blocks);
}

fn run(args: &[&str], code: i32) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(code), "sstkit {args:?}: stdout {stdout} stderr {stderr}");
    stdout.into_owned()
}

#[test]
fn the_cli_reads_padded_blocks() {
    let p = padded_table(300);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("rocksdb11.sst");
    std::fs::write(&f, &p.file).unwrap();
    let f = f.to_str().unwrap();
    let want: String = p
        .entries
        .iter()
        .map(|(k, v)| format!("{} => {}\n", String::from_utf8_lossy(k), String::from_utf8_lossy(v)))
        .collect();
    assert_eq!(run(&["scan", f], 0), want);
    let (k, v) = &p.entries[123];
    assert_eq!(run(&["get", f, std::str::from_utf8(k).unwrap()], 0), format!("{}\n", String::from_utf8_lossy(v)));
    let verify = run(&["verify", f], 0);
    assert!(verify.contains(&format!("{} entries checked", p.entries.len())), "{verify}");
    let dump = run(&["dump", f], 0);
    for h in &p.blocks {
        assert!(dump.contains(&format!("@{}+{}", h.offset, h.size)), "block {h:?} in the dump: {dump}");
    }
}
