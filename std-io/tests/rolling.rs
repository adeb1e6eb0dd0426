//! RollingWriter: files cut at user-key boundaries, named `<prefix>/<level>/<id>.sst`, non-overlapping,
//! range deletions clipped per file, together equal to the input; each file passes sst_dump and ldb ingest.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sstkit::rolling::{write_rolling, FileDescriptor, RollingOptions, RollingWriter};
use sstkit::writer::{WriteOp, WriterOptions};
use sstkit_tests::{OurTombstone, ToolEntry};
use support::build_file;
use support::model::{expected_points, expected_tombstones, key, Rng};
use support::{list_paths, read_object, FaultyStore};

fn wopts() -> WriterOptions {
    WriterOptions::default().file_creation_time(Some(1_700_000_000)).part_size(16 * 1024)
}

fn ropts(target: u64) -> RollingOptions {
    RollingOptions::new("bulk").level(6).first_id(41).id_width(6).target_file_size(target).writer(wopts())
}

fn with_suffix(k: &[u8], s: &[u8]) -> Vec<u8> {
    let mut v = k.to_vec();
    v.extend_from_slice(s);
    v
}

/// Sorted ops over keys `key(2i)`: puts and deletes, range deletions sharing their start with a point key
/// (before or after it), short range deletions between keys, and long ones spanning many later keys
/// (overlapping each other).
fn rolling_ops(n: u64, seed: u64) -> Vec<WriteOp> {
    let mut rng = Rng::new(seed);
    let mut ops = Vec::new();
    for i in 0..n {
        let k = key(2 * i);
        let len = 60 + rng.below(80) as usize;
        let v = rng.bytes(len);
        let point = if rng.below(10) == 0 { WriteOp::Delete(k.clone()) } else { WriteOp::Put(k.clone(), v) };
        match rng.below(100) {
            // A range deletion at the same user key as the point, before it.
            0..=9 => {
                ops.push(WriteOp::DeleteRange(k.clone(), with_suffix(&k, b"\0")));
                ops.push(point);
            }
            // ... or after it.
            10..=14 => {
                ops.push(point);
                ops.push(WriteOp::DeleteRange(k.clone(), key(2 * i + 1)));
            }
            // A long range deletion over the next few hundred keys.
            15..=16 => {
                ops.push(point);
                ops.push(WriteOp::DeleteRange(with_suffix(&k, b"-long"), key(2 * i + 2 * rng.below(400) + 1)));
            }
            // A short one between two keys.
            17..=21 => {
                ops.push(point);
                ops.push(WriteOp::DeleteRange(with_suffix(&k, b"-r"), key(2 * i + 1)));
            }
            _ => ops.push(point),
        }
    }
    ops
}

/// Merges intervals into a sorted list of disjoint, non-touching intervals.
fn union(mut v: Vec<(Vec<u8>, Vec<u8>)>) -> Vec<(Vec<u8>, Vec<u8>)> {
    v.sort();
    let mut out: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for (s, e) in v {
        match out.last_mut() {
            Some((_, le)) if s <= *le => {
                if e > *le {
                    *le = e;
                }
            }
            _ => out.push((s, e)),
        }
    }
    out
}

struct Read {
    desc: FileDescriptor,
    points: Vec<ToolEntry>,
    tombstones: Vec<OurTombstone>,
    bytes: Vec<u8>,
}

impl Read {
    /// The descriptor's smallest key.
    fn min_key(&self) -> Vec<u8> {
        self.desc.metadata.smallest_key().expect("a non-empty file").to_vec()
    }
}

async fn read_files(store: &dyn ObjectStore, files: &[FileDescriptor]) -> Vec<Read> {
    let mut out = Vec::new();
    for f in files {
        let bytes = read_object(store, &f.path).await;
        let r = sstkit_tests::read_table(&bytes).unwrap_or_else(|e| panic!("{}: {e}", f.path));
        assert!(r.backward == r.entries);
        out.push(Read { desc: f.clone(), points: r.entries, tombstones: r.tombstones, bytes });
    }
    out
}

/// Every property the module docs promise.
fn check_rolling(reads: &[Read], ops: &[WriteOp], o: &RollingOptions) {
    assert!(!reads.is_empty());
    // Names and ids.
    for (i, r) in reads.iter().enumerate() {
        let id = o.first_id + i as u64;
        assert_eq!(r.desc.id, id);
        assert_eq!(r.desc.level, o.level);
        assert_eq!(r.desc.path.as_ref(), format!("bulk/{}/{id:06}.sst", o.level));
        let s = &r.desc.metadata.stats;
        assert_eq!(s.file_size, r.bytes.len() as u64);
        assert_eq!(s.num_puts + s.num_deletions + s.num_merges, r.points.len() as u64);
        let point_deletes = r.points.iter().filter(|e| e.kind == 0).count() as u64;
        assert_eq!(s.num_deletions, point_deletes);
        assert_eq!(s.num_range_deletions, r.tombstones.len() as u64);
        assert_eq!(s.seqno_range(), Some((0, 0)));
    }
    // Each file owns [c_i, c_{i+1}): every key and range-deletion start inside it, every end ≤ c_{i+1}.
    for (i, r) in reads.iter().enumerate() {
        let lo = &r.min_key();
        let hi = reads.get(i + 1).map(Read::min_key);
        let hi = hi.as_ref();
        let smallest = r.points.iter().map(|e| &e.user_key).chain(r.tombstones.iter().map(|t| &t.start)).min().unwrap();
        assert_eq!(smallest, lo, "min_key of file {i}");
        for e in &r.points {
            assert!(&e.user_key >= lo && hi.is_none_or(|h| &e.user_key < h), "point outside file {i}");
        }
        for t in &r.tombstones {
            assert!(&t.start >= lo && t.start < t.end, "tombstone start outside file {i}");
            if let Some(h) = hi {
                assert!(&t.start < h && &t.end <= h, "tombstone of file {i} reaches into the next file");
            }
        }
        // The descriptor's max key.
        let last_point = r.points.last().map(|e| &e.user_key);
        let max_end = r.tombstones.iter().map(|t| &t.end).max();
        let (max, excl) = match (last_point, max_end) {
            (Some(p), Some(e)) if e > p => (e, true),
            (Some(p), _) => (p, false),
            (None, Some(e)) => (e, true),
            (None, None) => unreachable!(),
        };
        let (got, got_excl) = r.desc.metadata.largest_key().unwrap();
        assert_eq!((got, got_excl), (max.as_slice(), excl), "max_key of file {i}");
        // Non-overlapping descriptors.
        if let Some(h) = hi {
            if excl {
                assert!(max <= h);
            } else {
                assert!(max < h);
            }
        }
    }
    // Together equal to the input: the same point entries in order, the same deleted ranges.
    let all_points: Vec<ToolEntry> = reads.iter().flat_map(|r| r.points.clone()).collect();
    assert!(all_points == expected_points(ops), "points across files differ from the input");
    let got = union(reads.iter().flat_map(|r| r.tombstones.iter().map(|t| (t.start.clone(), t.end.clone()))).collect());
    let want = union(expected_tombstones(ops).into_iter().map(|t| (t.start, t.end)).collect());
    assert_eq!(got, want, "deleted ranges across files differ from the input");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_cut_at_user_key_boundaries_and_together_equal_the_input() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let ops = rolling_ops(6000, 1);
    let o = ropts(24 * 1024);
    let files = write_rolling(mem.clone(), o.clone(), futures::stream::iter(ops.clone())).await.unwrap();
    assert!(files.len() >= 10, "{} files", files.len());
    assert_eq!(list_paths(&*mem, Some(&Path::from("bulk"))).await.len(), files.len());
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);
    // Sizes near the target (the last file may be small).
    for r in &reads[..reads.len() - 1] {
        assert!(r.bytes.len() as u64 >= 20 * 1024 && (r.bytes.len() as u64) < 40 * 1024, "{}", r.bytes.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_deletion_and_the_point_at_its_start_stay_together() {
    // Every user key has a range deletion starting at it (before or after its point entry), so every cut must
    // fall before such a pair, never inside it.
    let mut ops = Vec::new();
    let mut rng = Rng::new(2);
    for i in 0..3000 {
        let k = key(2 * i);
        let tomb = WriteOp::DeleteRange(k.clone(), with_suffix(&k, b"\0"));
        let len = 50 + rng.below(100) as usize;
        let put = WriteOp::Put(k.clone(), rng.bytes(len));
        if i % 2 == 0 {
            ops.extend([tomb, put]);
        } else {
            ops.extend([put, tomb]);
        }
    }
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let o = ropts(8 * 1024);
    let mut w = RollingWriter::new(mem.clone(), o.clone()).unwrap();
    w.write_stream(futures::stream::iter(ops.clone())).await.unwrap();
    let files = w.finish().await.unwrap();
    assert!(files.len() >= 20, "{} files", files.len());
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);
    for r in &reads {
        let starts: Vec<&Vec<u8>> = r.tombstones.iter().map(|t| &t.start).collect();
        let keys: Vec<&Vec<u8>> = r.points.iter().map(|e| &e.user_key).collect();
        assert_eq!(starts, keys, "{}: each point key has its range deletion in the same file", r.desc.path);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_range_deletion_is_clipped_into_every_file_it_spans() {
    let mut ops = vec![WriteOp::DeleteRange(key(0), key(1_000_000))];
    ops.extend((1..4000).map(|i| WriteOp::Put(key(i), vec![b'v'; 90])));
    // Overlapping and equal-start range deletions merge (same seqno).
    ops.push(WriteOp::DeleteRange(key(5000), key(7000)));
    ops.push(WriteOp::DeleteRange(key(5000), key(6000)));
    ops.push(WriteOp::DeleteRange(key(5500), key(9000)));
    ops.push(WriteOp::Put(key(5600), b"x".to_vec()));
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let o = ropts(16 * 1024);
    let files = write_rolling(mem.clone(), o.clone(), futures::stream::iter(ops.clone())).await.unwrap();
    assert!(files.len() >= 10);
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);
    for (i, r) in reads.iter().enumerate() {
        assert_eq!(r.tombstones.len(), 1, "file {i}: one clipped piece of the long deletion");
        let t = &r.tombstones[0];
        assert_eq!(t.start, r.min_key());
        match reads.get(i + 1) {
            Some(n) => assert_eq!(t.end, n.min_key(), "file {i} ends where the next begins"),
            None => assert_eq!(t.end, key(1_000_000)),
        }
        assert!(r.desc.metadata.largest_key().unwrap().1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_op_is_refused_and_the_writer_continues() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let o = ropts(8 * 1024);
    let mut w = RollingWriter::new(mem.clone(), o.clone()).unwrap();
    let mut ops = Vec::new();
    for i in 0..1000 {
        let op = WriteOp::Put(key(10 + i), vec![b'v'; 50]);
        w.write(op.as_slices()).await.unwrap();
        ops.push(op);
    }
    assert!(w.files().len() >= 3, "files cut while writing");
    let err = w.write(WriteOp::Put(&key(5)[..], &b"late"[..])).await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("key0000000005") && text.contains("key0000001009"), "{text}");
    let dup = w.write(WriteOp::Delete(&key(1009)[..])).await.unwrap_err();
    assert!(matches!(dup.codec(), Some(sstkit::core::Error::OutOfOrder { .. })), "{dup}");
    assert!(w.write(WriteOp::DeleteRange(&b"zz"[..], &b"za"[..])).await.is_err(), "empty range refused");
    for op in [WriteOp::DeleteRange(key(1009), key(1500)), WriteOp::Put(key(2000), b"w".to_vec())] {
        w.write(op.as_slices()).await.unwrap();
        ops.push(op);
    }
    let files = w.finish().await.unwrap();
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_removes_every_file_of_the_load() {
    for fail_put in [false, true] {
        let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let faulty = FaultyStore::new(mem.clone());
        let faulty = if fail_put {
            // Small files go up as single PUTs: the third file fails.
            faulty.fail_put_nth(3)
        } else {
            faulty.fail_part(7)
        };
        let writer = if fail_put { wopts().part_size(1 << 20) } else { wopts().part_size(4096) };
        let o = ropts(16 * 1024).writer(writer);
        let ops = rolling_ops(3000, 3);
        let err = write_rolling(faulty.arc(), o, futures::stream::iter(ops)).await.unwrap_err();
        assert!(err.to_string().contains("injected fault"), "{err}");
        assert!(list_paths(&*mem, None).await.is_empty(), "finished files were deleted (fail_put: {fail_put})");
    }
    // An explicit abort too.
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let mut w = RollingWriter::new(mem.clone(), ropts(8 * 1024)).unwrap();
    w.write_stream(futures::stream::iter(rolling_ops(1000, 4))).await.unwrap();
    assert!(!w.files().is_empty());
    w.abort().await.unwrap();
    assert!(list_paths(&*mem, None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rolling_files_pass_sst_dump_and_ingest_over_older_data() {
    if sstkit_tests::require_tool(sstkit_tests::LDB).is_none()
        || sstkit_tests::require_tool(sstkit_tests::SST_DUMP).is_none()
    {
        return;
    }
    let n = 3000u64;
    let ops = rolling_ops(n, 5);
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let o = ropts(32 * 1024);
    let files = write_rolling(mem.clone(), o.clone(), futures::stream::iter(ops.clone())).await.unwrap();
    assert!(files.len() >= 5);
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);

    // Older data under every key (odd and even, and the "-r"/"-long" range starts), ingested first.
    let dir = tempfile::tempdir().unwrap();
    let mut base: BTreeMap<Vec<u8>, Vec<u8>> = (0..2 * n + 800).map(|i| (key(i), b"old".to_vec())).collect();
    for op in &ops {
        if let WriteOp::DeleteRange(s, _) = op {
            base.insert(s.clone(), b"old-start".to_vec());
        }
    }
    let base_file = dir.path().join("base.sst");
    build_file(&base_file, wopts(), base.iter().map(|(k, v)| WriteOp::Put(k.as_slice(), v.as_slice()))).unwrap();
    let db = dir.path().join("db");
    sstkit_tests::ldb_ingest(&db, &base_file).unwrap();

    // Then the rolling files, last first: with per-file clipping the order does not matter.
    for r in reads.iter().rev() {
        let file = dir.path().join(format!("{}.sst", r.desc.id));
        std::fs::write(&file, &r.bytes).unwrap();
        sstkit_tests::sst_dump_verify(&file).unwrap_or_else(|e| panic!("{}: {e}", r.desc.path));
        sstkit_tests::ldb_ingest(&db, &file).unwrap_or_else(|e| panic!("{}: {e}", r.desc.path));
    }

    // The model: the load's point entries win; other old keys survive unless a range deletion covers them.
    let ranges = union(expected_tombstones(&ops).into_iter().map(|t| (t.start, t.end)).collect());
    let covered = |k: &[u8]| ranges.iter().any(|(s, e)| s.as_slice() <= k && k < e.as_slice());
    let mut model: BTreeMap<Vec<u8>, Option<Vec<u8>>> =
        base.into_iter().filter(|(k, _)| !covered(k)).map(|(k, v)| (k, Some(v))).collect();
    for op in &ops {
        match op {
            WriteOp::Put(k, v) => {
                model.insert(k.clone(), Some(v.clone()));
            }
            WriteOp::Delete(k) => {
                model.insert(k.clone(), None);
            }
            _ => {}
        }
    }
    let want: Vec<(Vec<u8>, Vec<u8>)> = model.into_iter().filter_map(|(k, v)| v.map(|v| (k, v))).collect();
    let got = sstkit_tests::ldb_scan_hex(&db).unwrap();
    assert_eq!(got.len(), want.len());
    assert!(got == want, "ldb scan after ingesting every rolling file differs from the model");
}

/// Points `key(0..n)` (every tenth a delete), then range deletions listed after later points: one from before
/// the first key, long ones over many finished files, overlapping ones, one past the last key.
fn late_range_ops(n: u64, seed: u64) -> Vec<WriteOp> {
    let mut rng = Rng::new(seed);
    let mut ops: Vec<WriteOp> = (0..n)
        .map(|i| {
            if i % 10 == 3 {
                WriteOp::Delete(key(i))
            } else {
                let len = 60 + rng.below(60) as usize;
                WriteOp::Put(key(i), rng.bytes(len))
            }
        })
        .collect();
    ops.extend([
        WriteOp::DeleteRange(b"a".to_vec(), key(5)),
        WriteOp::DeleteRange(key(100), key(n / 2)),
        WriteOp::DeleteRange(with_suffix(&key(n / 2 - 10), b"x"), key(n / 2 + 40)),
        WriteOp::DeleteRange(key(n - 50), key(n + 1000)),
    ]);
    ops
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn range_deletions_after_later_points_are_clipped_into_the_finished_files() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let ops = late_range_ops(3000, 11);
    let o = ropts(16 * 1024);
    let files = write_rolling(mem.clone(), o.clone(), futures::stream::iter(ops.clone())).await.unwrap();
    assert!(files.len() >= 10, "{} files", files.len());
    let reads = read_files(&*mem, &files).await;
    check_rolling(&reads, &ops, &o);
    // The first file got the part before the first key; the long deletion reached every file it spans.
    assert_eq!(reads[0].tombstones[0].start, b"a".to_vec());
    let spanned = reads.iter().filter(|r| r.tombstones.iter().any(|t| t.end > key(200) && t.start < key(1400))).count();
    assert!(spanned >= 4, "{spanned} files carry a piece of the long deletion");
}

fn resumable(target: u64) -> RollingOptions {
    ropts(target).manifest(true).input_id("late_range_ops(4000, 12)")
}

async fn all_bytes(store: &dyn ObjectStore, files: &[FileDescriptor]) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for f in files {
        out.push((f.path.to_string(), read_object(store, &f.path).await));
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_build_writes_the_same_files_as_a_clean_run() {
    let ops = late_range_ops(4000, 12);
    let o = resumable(16 * 1024);
    let clean: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let mut w = RollingWriter::new(clean.clone(), o.clone()).unwrap();
    w.write_stream(futures::stream::iter(ops.clone())).await.unwrap();
    let want_files = w.finish().await.unwrap();
    let want = all_bytes(&*clean, &want_files).await;

    // Stop at several points: before any file, in the middle, after every point (only range deletions left).
    for stop in [10, ops.len() / 2, ops.len() - 2] {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let mut w = RollingWriter::new(store.clone(), o.clone()).unwrap();
        w.write_stream(futures::stream::iter(ops[..stop].to_vec())).await.unwrap();
        let finished = w.files().len();
        drop(w); // a crash: the current file never completes
                 // Leftovers of the crash: files finished after the last manifest put.
        for id in [finished as u64, finished as u64 + 7] {
            store.put(&o.file_path(o.first_id + id), b"unlisted".to_vec().into()).await.unwrap();
        }

        let mut w = RollingWriter::resume(store.clone(), o.clone()).await.unwrap();
        assert_eq!(w.files().len(), finished, "stop {stop}: the manifest lists the finished files");
        w.write_stream(futures::stream::iter(ops.clone())).await.unwrap();
        let files = w.finish().await.unwrap();
        assert_eq!(all_bytes(&*store, &files).await, want, "stop {stop}: resumed files differ from a clean run");
        let mut left: Vec<String> = list_paths(&*store, None).await.iter().map(|p| p.to_string()).collect();
        left.sort();
        let mut expect: Vec<String> = want.iter().map(|(p, _)| p.clone()).collect();
        expect.push("bulk/sstkit.manifest".into());
        expect.sort();
        assert_eq!(left, expect, "stop {stop}: nothing but the files and the manifest");
    }

    // Killed while adding late range deletions: files marked `rewriting` may hold either version (here one
    // holds the version before the rewrite, with a size the manifest does not list); they are written again.
    let m = o.manifest_path();
    let mut man = sstkit::manifest::Manifest::decode(&read_object(&*clean, &m).await).unwrap();
    man.complete = false;
    for f in &mut man.files {
        f.rewriting = true;
    }
    clean.put(&m, man.encode().into_bytes().into()).await.unwrap();
    let first = want_files[0].path.clone();
    let before = {
        let scratch: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let mut w2 = RollingWriter::new(scratch.clone(), o.clone()).unwrap();
        w2.write_stream(futures::stream::iter(
            ops.iter().filter(|op| !matches!(op, WriteOp::DeleteRange(..))).cloned(),
        ))
        .await
        .unwrap();
        let f = w2.finish().await.unwrap();
        read_object(&*scratch, &f[0].path).await
    };
    assert_ne!(before, want[0].1, "the first file has late range deletions");
    clean.put(&first, before.into()).await.unwrap();
    let mut w = RollingWriter::resume(clean.clone(), o.clone()).await.unwrap();
    w.write_stream(futures::stream::iter(ops.clone())).await.unwrap();
    let files = w.finish().await.unwrap();
    assert_eq!(all_bytes(&*clean, &files).await, want, "files rewritten again after a kill mid-rewrite");

    // A manifest written with other options or another input is an error, not a silent mix.
    let e = RollingWriter::resume(clean.clone(), resumable(32 * 1024)).await.unwrap_err();
    assert!(e.to_string().contains("other options"), "{e}");
    let e = RollingWriter::resume(clean.clone(), resumable(16 * 1024).input_id("another")).await.unwrap_err();
    assert!(e.to_string().contains("another input"), "{e}");
    // A damaged manifest too.
    let mut text = read_object(&*clean, &m).await;
    let at = text.len() / 2;
    text[at] ^= 1;
    clean.put(&m, text.into()).await.unwrap();
    let e = RollingWriter::resume(clean.clone(), o.clone()).await.unwrap_err();
    assert!(e.to_string().contains("manifest"), "{e}");
}

#[test]
fn rocksdb_10_ingests_a_rolling_set_with_late_range_deletions_like_the_single_file() {
    let Some(python) = sstkit_tests::require_tool(sstkit_tests::ROCKSDICT) else { return };
    use sstkit_tests::rocksdb10::{ingest_task, parse_ingested, run_tasks};
    let rt = support::runtime();
    let n = 3000u64;
    let ops = late_range_ops(n, 13);
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let files = rt.block_on(write_rolling(mem.clone(), ropts(16 * 1024), futures::stream::iter(ops.clone()))).unwrap();
    assert!(files.len() >= 8);
    let dir = tempfile::tempdir().unwrap();
    let mut paths = Vec::new();
    for f in &files {
        let p = dir.path().join(format!("r{}.sst", f.id));
        std::fs::write(&p, rt.block_on(read_object(&*mem, &f.path))).unwrap();
        paths.push(p);
    }
    // The same ops as one file (the single-file writer takes range deletions after later points as they come).
    let single = dir.path().join("single.sst");
    build_file(&single, wopts(), ops.iter().map(|op| op.as_slices())).unwrap();
    // Older data under every key and beyond, so the range deletions have something to hide.
    let base: Vec<(Vec<u8>, Vec<u8>)> = [b"a".to_vec(), b"a1".to_vec()]
        .into_iter()
        .chain((0..n + 1200).map(key))
        .map(|k| (k, b"old".to_vec()))
        .collect();
    let probe: Vec<Vec<u8>> = base.iter().map(|(k, _)| k.clone()).collect();
    let tasks = [
        ingest_task(&dir.path().join("db-rolling"), &base, &paths, 10, &probe),
        ingest_task(&dir.path().join("db-single"), &base, std::slice::from_ref(&single), 10, &probe),
    ];
    let results = run_tasks(&python, &tasks).unwrap();
    let rolling = parse_ingested(&results[0]).unwrap_or_else(|e| panic!("RocksDB 10.4.2 refused the set: {e}"));
    let one = parse_ingested(&results[1]).unwrap_or_else(|e| panic!("RocksDB 10.4.2 refused the file: {e}"));
    assert!(rolling.items == one.items, "the set's view differs from the single file's");
    assert_eq!(rolling.gets, one.gets);
    // And the view is the deletions' work: old keys in the deleted ranges are gone, the load's puts are there.
    let db: BTreeMap<Vec<u8>, Vec<u8>> = one.items.into_iter().collect();
    assert!(!db.contains_key(&key(n + 500)) && !db.contains_key(b"a1".as_slice()));
    assert_eq!(db.get(&key(n + 1100)).map(Vec::as_slice), Some(&b"old"[..]));
    assert!(db.get(&key(150)).is_some_and(|v| v.as_slice() != b"old"), "the load's own put survives its deletion");
}
