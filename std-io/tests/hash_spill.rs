//! Filter hashes spilled to a temporary file (`WriterOptions::hash_spill_threshold`): the table is byte-identical
//! to one written with the hashes kept in memory (so RocksDB reads it as it reads those, which the interop tests
//! cover), every key passes the filter, the spill file is never visible in its directory, and a spill that
//! cannot be written fails the writer and leaves no object or file.

mod support;

use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use sstkit::core::table::{IndexType, Table};
use sstkit::file_writer::FileWriter;
use sstkit::writer::{SstWriter, WriteOp, WriterOptions};
use support::model::{check_table, interop_check, ldb_model, mixed_ops};
use support::{list_paths, read_object, FaultyStore};

/// Fixed creation time and context checksum base: byte-identical output across writes.
fn opts() -> WriterOptions {
    WriterOptions::default().file_creation_time(Some(1_700_000_000)).base_context_checksum(Some(0x5eed))
}

fn dir_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).unwrap().next().is_none()
}

async fn write_object(o: WriterOptions, ops: &[WriteOp], spill_dir: Option<&std::path::Path>) -> Vec<u8> {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let mut w = SstWriter::new(mem.clone(), Path::from("t.sst"), o).unwrap();
    for (i, op) in ops.iter().enumerate() {
        w.write(op.as_slices()).await.unwrap();
        if let (Some(d), true) = (spill_dir, i % 1000 == 999) {
            assert!(dir_is_empty(d), "the spill file is unlinked from the start");
        }
    }
    w.close().await.unwrap();
    read_object(&*mem, &Path::from("t.sst")).await
}

fn point_keys(ops: &[WriteOp]) -> impl Iterator<Item = &[u8]> {
    ops.iter().filter_map(|op| match op {
        WriteOp::Put(k, _) | WriteOp::Delete(k) | WriteOp::Merge(k, _) => Some(k.as_slice()),
        WriteOp::DeleteRange(..) => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spilled_hashes_give_the_same_bytes_as_kept_ones() {
    let spill_dir = tempfile::tempdir().unwrap();
    let ops = mixed_ops(5000, 40, 11, true);
    let kept = write_object(opts().part_size(16 * 1024).hash_spill_threshold(None), &ops, None).await;
    for threshold in [8, 800, 8 * 1024] {
        let o = opts().part_size(16 * 1024).hash_spill_threshold(Some(threshold));
        let spilled = write_object(o.hash_spill_dir(Some(spill_dir.path().into())), &ops, Some(spill_dir.path())).await;
        assert!(spilled == kept, "threshold {threshold}: the bytes differ");
    }
    assert!(dir_is_empty(spill_dir.path()), "nothing is left in the spill directory");
    // The default threshold (4 MiB) is far above this table's 40 KB of hashes: the same bytes too.
    assert!(write_object(opts().part_size(16 * 1024), &ops, None).await == kept);
    check_table(&kept, &ops);
    let t = Table::open(&kept).unwrap();
    assert!(t.filter().is_some());
    for k in point_keys(&ops) {
        assert!(t.may_contain(k), "filter false negative for {k:?}");
    }
}

#[test]
fn file_writer_spills_too() {
    let dir = tempfile::tempdir().unwrap();
    let spill_dir = tempfile::tempdir().unwrap();
    let ops = mixed_ops(3000, 30, 12, false);
    let write = |name: &str, o: WriterOptions| {
        let path = dir.path().join(name);
        let mut w = FileWriter::create(&path, o).unwrap();
        for op in &ops {
            w.write(op.as_slices()).unwrap();
        }
        w.close().unwrap();
        std::fs::read(path).unwrap()
    };
    let kept = write("kept.sst", opts().hash_spill_threshold(None));
    let spilled =
        write("spilled.sst", opts().hash_spill_threshold(Some(64)).hash_spill_dir(Some(spill_dir.path().into())));
    assert!(spilled == kept);
    assert!(dir_is_empty(spill_dir.path()));
    // sst_dump verifies it and ldb ingests it (as it must: these are the kept-hashes table's bytes).
    interop_check(&dir.path().join("spilled.sst"), &ldb_model(&ops));
    check_table(&spilled, &ops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spill_that_cannot_be_written_fails_the_writer_and_leaves_nothing() {
    let missing = tempfile::tempdir().unwrap().path().join("gone");
    let ops = mixed_ops(3000, 100, 13, false);
    let o = opts().part_size(16 * 1024).hash_spill_threshold(Some(8 * 1000)).hash_spill_dir(Some(missing.clone()));

    // SstWriter: the multipart upload started before the first spill; it is aborted.
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let store = FaultyStore::new(mem.clone());
    let mut w = SstWriter::new(store.arc(), Path::from("x/t.sst"), o.clone()).unwrap();
    let mut err = None;
    for op in &ops {
        if let Err(e) = w.write(op.as_slices()).await {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the spill fails");
    let msg = err.to_string();
    assert!(matches!(err, sstkit::Error::Io { .. }), "{err:?}");
    assert!(msg.contains("x/t.sst") && msg.contains("spilling filter hashes") && msg.contains("gone"), "{msg}");
    assert_eq!(store.aborts(), 1, "the multipart upload is aborted");
    assert!(w.put(b"zzzz", b"v").await.unwrap_err().to_string().contains("failed earlier"));
    assert!(w.close().await.is_err());
    assert!(list_paths(&*mem, None).await.is_empty());

    // FileWriter: no file at the path, no temporary file beside it.
    let dir = tempfile::tempdir().unwrap();
    let mut w = FileWriter::create(dir.path().join("t.sst"), o).unwrap();
    let err = ops.iter().find_map(|op| w.write(op.as_slices()).err()).expect("the spill fails");
    assert!(err.to_string().contains("spilling filter hashes"), "{err}");
    assert!(w.close().is_err());
    assert!(dir_is_empty(dir.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_spills_without_kept_hashes() {
    // A spill directory that does not exist: any spill would fail, so these writes show nothing spills.
    let missing = tempfile::tempdir().unwrap().path().join("gone");
    let ops = mixed_ops(2000, 20, 14, true);
    let o = opts().hash_spill_threshold(Some(8)).hash_spill_dir(Some(missing));
    for o in [
        o.clone().expected_keys(2000),
        o.clone().bloom_bits_per_key(0),
        o.clone().index_type(IndexType::Partitioned).partition_filters(true).metadata_block_size(512),
    ] {
        let bytes = write_object(o.clone(), &ops, None).await;
        assert!(bytes == write_object(o.hash_spill_threshold(None), &ops, None).await);
        check_table(&bytes, &ops);
    }
}
