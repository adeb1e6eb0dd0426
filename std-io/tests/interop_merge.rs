//! `sstkit::merge` output ingested by real RocksDB shows the same live view as the inputs:
//! - RocksDB 7.8.3 (`ldb ingest_extern_sst`, `scan`): our external files ingested one by one over a base,
//!   against their merge ingested once (carried deletions hide the base), and a RocksDB-flushed file with real
//!   seqnos stacked on our file;
//! - RocksDB 10.4.2 (rocksdict): the files of several flushes of a DB (real seqnos, point and range deletions)
//!   merged, with --bottommost and at a snapshot, ingested into a new DB.

mod support;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use sstkit::merge::{merge, MergeOptions};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::rolling::{RollingOptions, RollingWriter};
use sstkit::writer::{WriteOp, WriterOptions};
use sstkit_tests::rocksdb10::{
    db_files_task, ingest_model, ingest_task, parse_db_files, parse_ingested, run_tasks, DbOp, TableConfig,
};
use sstkit_tests::{
    flush_ssts, ldb_ingest, ldb_scan_hex, require_tool, Item, KeyValue, Op, RocksVariant, LDB, ROCKSDICT,
};

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// Opens local files as readers (the merge streams them by ranged reads, as from any store).
async fn readers(files: &[PathBuf]) -> Vec<SstReader> {
    let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
    let mut out = Vec::new();
    for f in files {
        let p = object_store::path::Path::from_absolute_path(f.canonicalize().unwrap()).unwrap();
        out.push(SstReader::open(store.clone(), p, ReadOptions::default()).await.unwrap());
    }
    out
}

/// Merges `files` into one output file under `dir` (named `name`); returns its path.
fn merge_files(files: &[PathBuf], opts: MergeOptions, dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(name);
    std::fs::create_dir_all(&out).unwrap();
    let rt = support::runtime();
    let written = rt.block_on(async {
        let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(&out).unwrap());
        let ro = RollingOptions::new("").writer(WriterOptions::default().file_creation_time(Some(1)));
        merge(readers(files).await, opts, RollingWriter::new(store, ro).unwrap()).await.unwrap()
    });
    assert_eq!(written.len(), 1);
    out.join(written[0].path.as_ref())
}

/// Writes an external file of `items` (sorted) with our writer.
fn ours(path: &Path, items: &[Item]) -> PathBuf {
    let mut w = sstkit::file_writer::FileWriter::create(path, WriterOptions::default()).unwrap();
    for item in items {
        w.write(match item {
            Item::Put(k, v) => WriteOp::Put(k, v),
            Item::Delete(k) => WriteOp::Delete(k),
            Item::Merge(k, v) => WriteOp::Merge(k, v),
            Item::DeleteRange(s, e) => WriteOp::DeleteRange(s, e),
        })
        .unwrap();
    }
    w.close().unwrap();
    path.to_path_buf()
}

/// What a DB shows after ingesting each of `files` (their items) in turn over `base`.
fn stacked(base: &[KeyValue], files: &[&[Item]]) -> Vec<KeyValue> {
    files.iter().fold(base.to_vec(), |db, items| ingest_model(&db, items).into_iter().collect())
}

/// What a DB shows after writing `ops` one by one (each with its own seqno) over `base`.
fn written(base: &[KeyValue], ops: &[Item]) -> Vec<KeyValue> {
    ops.iter().fold(base.to_vec(), |db, op| ingest_model(&db, std::slice::from_ref(op)).into_iter().collect())
}

fn ldb_db(dir: &Path, name: &str, files: &[&Path]) -> Vec<KeyValue> {
    let db = dir.join(name);
    for f in files {
        ldb_ingest(&db, f).unwrap_or_else(|e| panic!("{name}: ingesting {}: {e}", f.display()));
    }
    ldb_scan_hex(&db).unwrap()
}

#[test]
fn rocksdb_7_ingests_the_merge_with_the_same_view() {
    if require_tool(LDB).is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let base_kv: Vec<KeyValue> = (0..300).map(|i| (key(i), b"base".to_vec())).collect();
    let base_items: Vec<Item> = base_kv.iter().map(|(k, v)| Item::Put(k.clone(), v.clone())).collect();
    // a: puts over half the keys, deletes some, deletes a range.
    let mut a_items = vec![Item::DeleteRange(key(100), key(130))];
    for i in (0..300).step_by(2) {
        a_items.push(if i % 10 == 0 { Item::Delete(key(i)) } else { Item::Put(key(i), b"a".to_vec()) });
    }
    // b: puts over every third key (newer than a), a range deletion over a's puts and deletes.
    let mut b_items = vec![Item::DeleteRange(key(200), key(250))];
    b_items.extend((0..300).step_by(3).map(|i| Item::Put(key(i), b"b".to_vec())));
    let base = ours(&d.join("base.sst"), &base_items);
    let a = ours(&d.join("a.sst"), &a_items);
    let b = ours(&d.join("b.sst"), &b_items);
    let model = stacked(&base_kv, &[&a_items, &b_items]);

    let layer = merge_files(&[a.clone(), b.clone()], MergeOptions::default(), d, "layer");
    let inputs = ldb_db(d, "db_inputs", &[&base, &a, &b]);
    assert_eq!(inputs, model, "the model is RocksDB's view of the inputs");
    assert_eq!(ldb_db(d, "db_layer", &[&base, &layer]), inputs, "merged layer over the base");
    // Bottommost, nothing below: the view of the inputs alone.
    let bottom = merge_files(&[a.clone(), b.clone()], MergeOptions::default().bottommost(true), d, "bottom");
    assert_eq!(ldb_db(d, "db_bottom", &[&bottom]), ldb_db(d, "db_ab", &[&a, &b]));

    // A file RocksDB 7.8.3 flushed (seqnos 1.., a deletion, a range deletion) over our external base file
    // (seqno 0, older): the merge, ingested, is the base with the ops applied.
    let ops = vec![
        Item::Put(key(5), b"r1".to_vec()),
        Item::DeleteRange(key(10), key(20)),
        Item::Put(key(12), b"r2".to_vec()),
        Item::Delete(key(30)),
        Item::Put(key(400), b"r3".to_vec()),
    ];
    let rocks_ops: Vec<Op> = ops
        .iter()
        .map(|o| match o {
            Item::Put(k, v) => Op::Put(k.clone(), v.clone()),
            Item::Delete(k) => Op::Delete(k.clone()),
            Item::DeleteRange(s, e) => Op::DeleteRange(s.clone(), e.clone()),
            Item::Merge(..) => unreachable!(),
        })
        .collect();
    let flushed = flush_ssts(&RocksVariant::default(), &rocks_ops, &d.join("rocks")).unwrap();
    assert_eq!(flushed.files.len(), 1);
    let merged = merge_files(&[base.clone(), flushed.files[0].clone()], MergeOptions::default(), d, "mixed");
    assert_eq!(ldb_db(d, "db_mixed", &[&merged]), written(&base_kv, &ops));
}

#[test]
fn rocksdb_10_files_merged_and_ingested() {
    let Some(python) = require_tool(ROCKSDICT) else { return };
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Three flushes: puts, then deletions and a range deletion, then puts over part of the range.
    let batches: Vec<Vec<DbOp>> = vec![
        (0..200).map(|i| DbOp::Put(key(i), format!("v1-{i}").into_bytes())).collect(),
        vec![DbOp::Delete(key(3)), DbOp::DeleteRange(key(50), key(120)), DbOp::Put(key(7), b"v2".to_vec())],
        (100..110).map(|i| DbOp::Put(key(i), b"v3".to_vec())).chain([DbOp::Delete(key(150))]).collect(),
    ];
    let results =
        run_tasks(&python, &[db_files_task(&d.join("db"), &TableConfig::default(), &batches, false)]).unwrap();
    let files = parse_db_files(&results[0]).unwrap();
    assert_eq!(files.flushed.len(), 3);
    let inputs: Vec<PathBuf> = files.flushed.iter().map(|f| f.0.clone()).collect();
    let as_items = |b: &[DbOp]| -> Vec<Item> {
        b.iter()
            .map(|o| match o {
                DbOp::Put(k, v) => Item::Put(k.clone(), v.clone()),
                DbOp::Delete(k) => Item::Delete(k.clone()),
                DbOp::DeleteRange(s, e) => Item::DeleteRange(s.clone(), e.clone()),
            })
            .collect()
    };
    // The live view after all batches, and after the first two (seqno 200 + 3 = 203).
    let base: Vec<KeyValue> = (0..300).map(|i| (key(i), b"base".to_vec())).collect();
    let view = |upto: usize, base: &[KeyValue]| {
        written(base, &batches[..upto].iter().flat_map(|b| as_items(b)).collect::<Vec<_>>())
    };
    let layer = merge_files(&inputs, MergeOptions::default(), d, "layer");
    let bottom = merge_files(&inputs, MergeOptions::default().bottommost(true), d, "bottom");
    let snap = merge_files(&inputs, MergeOptions::default().snapshot(Some(203)).bottommost(true), d, "snap");
    let tasks = vec![
        ingest_task(&d.join("i1"), &base, &[layer], 0, &[]),
        ingest_task(&d.join("i2"), &[], &[bottom], 0, &[]),
        ingest_task(&d.join("i3"), &[], &[snap], 0, &[]),
    ];
    let results = run_tasks(&python, &tasks).unwrap();
    let got: Vec<Vec<KeyValue>> = results.iter().map(|r| parse_ingested(r).unwrap().items).collect();
    assert_eq!(got[0], view(3, &base), "the layer over a base");
    assert_eq!(got[1], view(3, &[]), "bottommost");
    assert_eq!(got[2], view(2, &[]), "as of the second flush");
}
