//! `sstkit::merge` output ingested by real RocksDB shows the same live view as the inputs:
//! - RocksDB 7.8.3 (`ldb ingest_extern_sst`, `scan`): our external files ingested one by one over a base,
//!   against their merge ingested once (carried deletions hide the base), and a RocksDB-flushed file with real
//!   seqnos stacked on our file;
//! - RocksDB 10.4.2 (rocksdict): the files of several flushes of a DB (real seqnos, point and range deletions)
//!   merged, with --bottommost and at a snapshot, ingested into a new DB.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use sstkit::merge::{merge, MergeOptions};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::rolling::{RollingOptions, RollingWriter};
use sstkit::writer::{WriteOp, WriterOptions};
use sstkit_tests::rocksdb10::{
    db_files_task, ingest_task, parse_db_files, parse_ingested, run_tasks, DbOp, TableConfig,
};
use sstkit_tests::{flush_ssts, ldb_ingest, ldb_scan_hex, require_tool, KeyValue, Op, RocksVariant, LDB, ROCKSDICT};

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

/// Writes an external file of `ops` (sorted) with our writer.
fn ours(path: &Path, ops: &[WriteOp]) -> PathBuf {
    let mut w = sstkit::file_writer::FileWriter::create(path, WriterOptions::default()).unwrap();
    for op in ops {
        w.write(op.as_slices()).unwrap();
    }
    w.close().unwrap();
    path.to_path_buf()
}

/// Applies `ops` in order to a map: what a DB shows after writing them.
fn apply(db: &mut BTreeMap<Vec<u8>, Vec<u8>>, ops: &[WriteOp]) {
    for op in ops {
        match op {
            WriteOp::Put(k, v) => {
                db.insert(k.clone(), v.clone());
            }
            WriteOp::Delete(k) => {
                db.remove(k);
            }
            WriteOp::DeleteRange(s, e) => db.retain(|k, _| !(s <= k && k < e)),
            WriteOp::Merge(..) => unreachable!(),
        }
    }
}

/// An external file's ops take effect together: its range deletions hide only what is older than it.
fn apply_file(db: &mut BTreeMap<Vec<u8>, Vec<u8>>, ops: &[WriteOp]) {
    let (ranges, points): (Vec<WriteOp>, Vec<WriteOp>) =
        ops.iter().cloned().partition(|o| matches!(o, WriteOp::DeleteRange(..)));
    apply(db, &ranges);
    apply(db, &points);
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
    let base_ops: Vec<WriteOp> = (0..300).map(|i| WriteOp::Put(key(i), b"base".to_vec())).collect();
    // a: puts over half the keys, deletes some, deletes a range.
    let mut a_ops = vec![WriteOp::DeleteRange(key(100), key(130))];
    for i in (0..300).step_by(2) {
        a_ops.push(if i % 10 == 0 { WriteOp::Delete(key(i)) } else { WriteOp::Put(key(i), b"a".to_vec()) });
    }
    a_ops.sort_by(|x, y| x.key().cmp(y.key()));
    // b: puts over every third key (newer than a), a range deletion over a's puts and deletes.
    let mut b_ops = vec![WriteOp::DeleteRange(key(200), key(250))];
    b_ops.extend((0..300).step_by(3).map(|i| WriteOp::Put(key(i), b"b".to_vec())));
    b_ops.sort_by(|x, y| x.key().cmp(y.key()));
    let base = ours(&d.join("base.sst"), &base_ops);
    let a = ours(&d.join("a.sst"), &a_ops);
    let b = ours(&d.join("b.sst"), &b_ops);
    let mut model = BTreeMap::new();
    apply_file(&mut model, &base_ops);
    apply_file(&mut model, &a_ops);
    apply_file(&mut model, &b_ops);
    let model: Vec<KeyValue> = model.into_iter().collect();

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
        Op::Put(key(5), b"r1".to_vec()),
        Op::DeleteRange(key(10), key(20)),
        Op::Put(key(12), b"r2".to_vec()),
        Op::Delete(key(30)),
        Op::Put(key(400), b"r3".to_vec()),
    ];
    let flushed = flush_ssts(&RocksVariant::default(), &ops, &d.join("rocks")).unwrap();
    assert_eq!(flushed.files.len(), 1);
    let merged = merge_files(&[base.clone(), flushed.files[0].clone()], MergeOptions::default(), d, "mixed");
    let mut want = BTreeMap::new();
    apply_file(&mut want, &base_ops);
    let as_ops: Vec<WriteOp> = ops
        .iter()
        .map(|o| match o {
            Op::Put(k, v) => WriteOp::Put(k.clone(), v.clone()),
            Op::Delete(k) => WriteOp::Delete(k.clone()),
            Op::DeleteRange(s, e) => WriteOp::DeleteRange(s.clone(), e.clone()),
        })
        .collect();
    apply(&mut want, &as_ops);
    assert_eq!(ldb_db(d, "db_mixed", &[&merged]), want.into_iter().collect::<Vec<_>>());
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
    let as_ops = |b: &[DbOp]| -> Vec<WriteOp> {
        b.iter()
            .map(|o| match o {
                DbOp::Put(k, v) => WriteOp::Put(k.clone(), v.clone()),
                DbOp::Delete(k) => WriteOp::Delete(k.clone()),
                DbOp::DeleteRange(s, e) => WriteOp::DeleteRange(s.clone(), e.clone()),
            })
            .collect()
    };
    // The live view after all batches, and after the first two (seqno 200 + 3 = 203).
    let base: Vec<KeyValue> = (0..300).map(|i| (key(i), b"base".to_vec())).collect();
    let view = |upto: usize, base: &[KeyValue]| {
        let mut db: BTreeMap<Vec<u8>, Vec<u8>> = base.iter().cloned().collect();
        for b in &batches[..upto] {
            apply(&mut db, &as_ops(b));
        }
        db.into_iter().collect::<Vec<_>>()
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
