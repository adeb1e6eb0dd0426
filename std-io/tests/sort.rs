//! `ExternalSort`: ops in random order with repeated keys, sorted through several runs, against a `BTreeMap`
//! model (the later op wins; range deletions joined); duplicates as errors; the temporary directory goes on
//! success, on error and when the sorter is dropped.

use std::collections::BTreeMap;

use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use proptest::prelude::*;
use sstkit::merge::Duplicates;
use sstkit::sort::{ExternalSort, SortOptions};
use sstkit::writer::WriteOp;

fn key(i: u32) -> Vec<u8> {
    format!("key{i:08}").into_bytes()
}

/// A range deletion's start and end.
type Range = (Vec<u8>, Vec<u8>);

/// What the sorted stream must be: the last point op per key, and the union of the range deletions (touching
/// ones joined), in key order.
fn model(ops: &[WriteOp]) -> (BTreeMap<Vec<u8>, WriteOp>, Vec<Range>) {
    let mut points = BTreeMap::new();
    let mut ranges: Vec<Range> = Vec::new();
    for op in ops {
        match op {
            WriteOp::DeleteRange(s, e) => ranges.push((s.clone(), e.clone())),
            _ => {
                points.insert(op.key().to_vec(), op.clone());
            }
        }
    }
    ranges.sort();
    let mut joined: Vec<Range> = Vec::new();
    for (s, e) in ranges {
        match joined.last_mut() {
            Some((_, end)) if s <= *end => *end = e.max(end.clone()),
            _ => joined.push((s, e)),
        }
    }
    (points, joined)
}

fn owned(op: &WriteOp<Bytes>) -> WriteOp {
    match op {
        WriteOp::Put(k, v) => WriteOp::Put(k.to_vec(), v.to_vec()),
        WriteOp::Delete(k) => WriteOp::Delete(k.to_vec()),
        WriteOp::Merge(k, v) => WriteOp::Merge(k.to_vec(), v.to_vec()),
        WriteOp::DeleteRange(s, e) => WriteOp::DeleteRange(s.to_vec(), e.to_vec()),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap()
}

async fn sort_all(ops: &[WriteOp], opts: SortOptions) -> (usize, sstkit::Result<Vec<WriteOp<Bytes>>>) {
    let mut s = ExternalSort::new(opts).unwrap();
    for op in ops {
        if let Err(e) = s.add(op.as_slices()) {
            return (s.runs(), Err(e));
        }
    }
    let runs = s.runs();
    match s.finish().await {
        Ok(stream) => (runs, stream.try_collect().await),
        Err(e) => (runs, Err(e)),
    }
}

fn op_strategy() -> impl Strategy<Value = WriteOp> {
    let k = 0u32..3000;
    // Values from a seed (drawing each byte through a strategy is slow in debug builds).
    let v = (200usize..400, any::<u64>()).prop_map(|(len, seed)| {
        (0..len as u64).map(|i| b'a' + (seed.wrapping_mul(i + 1).rotate_left(17) % 26) as u8).collect::<Vec<u8>>()
    });
    prop_oneof![
        8 => (k.clone(), v.clone()).prop_map(|(k, v)| WriteOp::Put(key(k), v)),
        2 => k.clone().prop_map(|k| WriteOp::Delete(key(k))),
        1 => (k.clone(), v).prop_map(|(k, v)| WriteOp::Merge(key(k), v)),
        1 => (k, 1u32..40).prop_map(|(k, n)| WriteOp::DeleteRange(key(k), key(k + n))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4, ..ProptestConfig::default() })]

    /// Several runs (1 MiB of buffer for a few MiB of ops), merged: the model's ops in key order.
    #[test]
    fn sorted_through_runs_as_the_model_says(ops in proptest::collection::vec(op_strategy(), 4000..5000)) {
        let tmp = tempfile::tempdir().unwrap();
        let (runs, got) = rt().block_on(sort_all(&ops, SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())));
        let got: Vec<WriteOp> = got.unwrap().iter().map(owned).collect();
        // Spilled before the end (the end spills once more).
        prop_assert!(runs >= 1, "runs: {}", runs);
        let (points, ranges) = model(&ops);
        let got_points: Vec<WriteOp> = got.iter().filter(|o| !matches!(o, WriteOp::DeleteRange(..))).cloned().collect();
        let want_points: Vec<WriteOp> = points.into_values().collect();
        let brief = |ops: &[WriteOp]| ops.iter().map(|o| format!("{} {}", o.name(), String::from_utf8_lossy(o.key()))).collect::<Vec<_>>();
        prop_assert_eq!(brief(&got_points), brief(&want_points));
        prop_assert!(got_points == want_points, "values differ");
        let got_ranges: Vec<(Vec<u8>, Vec<u8>)> = got
            .iter()
            .filter_map(|o| match o { WriteOp::DeleteRange(s, e) => Some((s.clone(), e.clone())), _ => None })
            .collect();
        prop_assert_eq!(got_ranges, ranges);
        let keys: Vec<&[u8]> = got.iter().map(|o| o.key()).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]));
        prop_assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "temporary files left");
    }
}

#[test]
fn duplicates_as_an_error_name_both_versions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut ops: Vec<WriteOp> = (0..20_000u32).rev().map(|i| WriteOp::Put(key(i), vec![b'v'; 64])).collect();
    // A repeat in another run than the first.
    ops.push(WriteOp::Delete(key(17)));
    let opts = SortOptions::default().memory(1 << 20).tmp_dir(tmp.path()).duplicates(Duplicates::Error);
    let (runs, got) = rt().block_on(sort_all(&ops, opts));
    assert!(runs >= 1);
    let e = got.unwrap_err().to_string();
    assert!(e.contains("duplicate key \"key00000017\": at line 19983 and line 20001"), "{e}");
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0, "temporary files left after an error");
    // A repeat inside one run is found too.
    let ops = vec![WriteOp::Put(key(1), b"a".to_vec()), WriteOp::Put(key(1), b"b".to_vec())];
    let opts = SortOptions::default().tmp_dir(tmp.path()).duplicates(Duplicates::Error);
    let e = rt().block_on(sort_all(&ops, opts)).1.unwrap_err().to_string();
    assert!(e.contains("at line 1 and line 2"), "{e}");
}

#[test]
fn a_dropped_sorter_removes_its_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = ExternalSort::new(SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())).unwrap();
    for i in 0..30_000u32 {
        s.add(WriteOp::Put(key(i), vec![b'v'; 64])).unwrap();
    }
    assert!(s.runs() >= 2);
    assert!(std::fs::read_dir(s.dir()).unwrap().count() >= 2);
    drop(s);
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    // A stream dropped half-way too.
    let rt = rt();
    let mut s = ExternalSort::new(SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())).unwrap();
    for i in 0..30_000u32 {
        s.add(WriteOp::Put(key(i), vec![b'v'; 64])).unwrap();
    }
    rt.block_on(async {
        let stream = s.finish().await.unwrap();
        let mut stream = std::pin::pin!(stream);
        assert!(stream.try_next().await.unwrap().is_some());
    });
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn bad_settings_and_versions_are_errors() {
    let tmp = tempfile::tempdir().unwrap();
    assert!(ExternalSort::new(SortOptions::default().memory(1000)).unwrap_err().to_string().contains("too small"));
    let missing = tmp.path().join("no/such/dir");
    let e = ExternalSort::new(SortOptions::default().tmp_dir(&missing)).unwrap_err();
    assert!(e.to_string().contains("--tmp-dir"), "{e}");
    let mut s = ExternalSort::new(SortOptions::default().tmp_dir(tmp.path())).unwrap();
    s.add_at(WriteOp::Put(&b"a"[..], &b""[..]), 5).unwrap();
    assert!(s.add_at(WriteOp::Put(&b"b"[..], &b""[..]), 5).is_err());
}

/// An op larger than the buffer is taken (the buffer grows for it alone).
#[test]
fn an_op_larger_than_the_buffer() {
    let tmp = tempfile::tempdir().unwrap();
    let ops = vec![
        WriteOp::Put(key(2), b"small".to_vec()),
        WriteOp::Put(key(1), vec![b'x'; 3 << 20]),
        WriteOp::Put(key(0), b"small".to_vec()),
    ];
    let (_, got) = rt().block_on(sort_all(&ops, SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())));
    let got: Vec<WriteOp> = got.unwrap().iter().map(owned).collect();
    let mut want = ops.clone();
    want.reverse();
    assert_eq!(got, want);
}

/// A range deletion whose start is not below its end is an error when it is added, as the writers make it,
/// not silently swallowed by an overlapping range deletion (or an error at spill time that names no record).
#[test]
fn an_inverted_or_empty_range_deletion_is_an_error_when_added() {
    let tmp = tempfile::tempdir().unwrap();
    let mut s = ExternalSort::new(SortOptions::default().tmp_dir(tmp.path())).unwrap();
    s.add(WriteOp::DeleteRange(&b"a"[..], &b"m"[..])).unwrap();
    let e = s.add(WriteOp::DeleteRange(&b"c"[..], &b"b"[..])).unwrap_err();
    assert!(e.to_string().contains("start < end"), "{e}");
    let e = s.add_at(WriteOp::DeleteRange(&b"k"[..], &b"k"[..]), 7).unwrap_err();
    assert!(e.to_string().contains("start < end") && e.to_string().contains('7'), "{e}");
    // The sorter is still usable, and the bad ops left nothing behind.
    s.add(WriteOp::Put(&b"z"[..], &b"1"[..])).unwrap();
    let got: Vec<WriteOp> = rt()
        .block_on(async { s.finish().await.unwrap().try_collect::<Vec<_>>().await.unwrap() })
        .iter()
        .map(owned)
        .collect();
    assert_eq!(
        got,
        vec![WriteOp::DeleteRange(b"a".to_vec(), b"m".to_vec()), WriteOp::Put(b"z".to_vec(), b"1".to_vec())]
    );
}

/// The writer of the sorted stream gets the point-op count as its key count: with keys given twice (and a
/// range deletion, not counted) the filter is sized for more keys than arrive, and is still a correct filter
/// holding every key. Options that write no filter, partition it or already carry a count are left alone.
/// The writer of one sorted file ([`ExternalSort::writer_options`]) gets no key count: its filter hashes spill
/// into the sort's `tmp_dir` while the merge runs (an unlinked file, open while it does), the filter is sized
/// at the end for the distinct keys that came (duplicates dropped by the merge), holds every key and is byte
/// for byte the table a writer keeping every hash in memory makes; nothing is left in the directory after.
#[cfg(target_os = "linux")]
#[test]
fn one_sorted_file_spills_its_filter_hashes_into_the_sort_tmp_dir() {
    use sstkit::file_writer::FileWriter;
    use sstkit::writer::WriterOptions;
    use sstkit_core::filter::fast_bloom::FastLocalBloom;
    use sstkit_core::table::{IndexType, Table};

    let tmp = tempfile::tempdir().unwrap();
    let mut s = ExternalSort::new(SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())).unwrap();
    // 10 000 keys, each put twice (the second wins), in a scrambled order over several runs.
    for round in 0..2u32 {
        for i in 0..10_000u32 {
            s.add(WriteOp::Put(key(i * 7919 % 10_000), format!("{round}-{:0100}", i).into_bytes())).unwrap();
        }
    }
    s.add(WriteOp::DeleteRange(b"zz".to_vec(), b"zzz".to_vec())).unwrap();
    assert!(s.runs() >= 2);
    assert_eq!(s.point_ops(), 20_000);
    let sort_dir = s.dir().to_path_buf();
    let base = WriterOptions::default().file_creation_time(Some(0)).hash_spill_threshold(Some(8 * 1000));
    let opts = s.writer_options(base.clone());
    assert_eq!(opts.table.expected_keys, None);
    assert_eq!(opts.hash_spill_dir.as_deref(), Some(tmp.path()));
    // A directory given is kept; nothing else changes.
    let mine = base.clone().hash_spill_dir(Some(sort_dir.clone()));
    assert_eq!(s.writer_options(mine.clone()), mine);
    for other in
        [base.clone().bloom_bits_per_key(0), base.clone().index_type(IndexType::Partitioned).partition_filters(true)]
    {
        assert_eq!(s.writer_options(other.clone()).hash_spill_dir.as_deref(), Some(tmp.path()));
    }
    let (spilling, kept) = (tmp.path().join("spilling.sst"), tmp.path().join("kept.sst"));
    let rt = rt();
    rt.block_on(async {
        let mut w = FileWriter::create(&spilling, opts).unwrap();
        let mut k = FileWriter::create(&kept, base.clone().hash_spill_threshold(None)).unwrap();
        // Boxed, so that dropping it drops the merge.
        let mut stream = Box::pin(s.finish().await.unwrap());
        let mut n = 0;
        while let Some(op) = stream.try_next().await.unwrap() {
            w.write(op.clone()).unwrap();
            k.write(op).unwrap();
            n += 1;
            if n == 5_000 {
                // Past the threshold: the spill file is open, unlinked, in tmp_dir (not in the runs' directory,
                // which goes with the stream).
                assert_eq!(open_deleted_files_in(tmp.path()), 1, "no spill file in {}", tmp.path().display());
                assert_eq!(open_deleted_files_in(&sort_dir), 0);
            }
        }
        assert!(n > 5_000);
        drop(stream);
        // The merge is over and its directory gone; the writer finishes from its still open spill file.
        assert!(!sort_dir.exists());
        w.close().unwrap();
        k.close().unwrap();
    });
    assert_eq!(open_deleted_files_in(tmp.path()), 0, "the spill file is closed");
    let bytes = std::fs::read(&spilling).unwrap();
    assert!(bytes == std::fs::read(&kept).unwrap(), "spilling changed the table");
    let t = Table::open(&bytes).unwrap();
    let p = t.properties();
    assert_eq!(p.num_entries, Some(10_000 + 1));
    assert_eq!(p.num_filter_entries, Some(10_000));
    // Sized for the 10 000 keys that came (the bits, 5 bytes of metadata).
    let bloom = FastLocalBloom::with_millibits(10_000).unwrap();
    assert_eq!(p.filter_size, Some(bloom.bits_len(10_000) as u64 + 5));
    for i in 0..10_000u32 {
        assert!(t.may_contain(&key(i)), "key {i} missed by the filter");
    }
    let fp = (10_000..110_000u32).filter(|&i| t.may_contain(&key(i))).count();
    assert!(fp < 2000, "{fp} false positives in 100000");
    let mut left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    left.sort();
    assert_eq!(left, ["kept.sst", "spilling.sst"], "only the outputs are left");
}

/// This process's open files that were unlinked from `dir` (Linux: `/proc/self/fd` links end in ` (deleted)`).
#[cfg(target_os = "linux")]
fn open_deleted_files_in(dir: &std::path::Path) -> usize {
    let prefix = format!("{}/", dir.display());
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .map(|l| l.to_string_lossy().into_owned())
        .filter(|l| l.starts_with(&prefix) && l.ends_with(" (deleted)"))
        .count()
}

/// Rolled files cut from a sorted stream get a key count each ([`ExternalSort::rolling_keys`]): each file's
/// filter is sized for about its own keys (never fewer, at most the estimate's margin more; after the first file,
/// the previous file's keys and an eighth), not for the whole
/// input, and holds every key; the last file's count is capped by the keys left.
#[test]
fn rolled_files_from_a_sort_get_filters_sized_for_their_own_keys() {
    use object_store::{memory::InMemory, ObjectStore, ObjectStoreExt};
    use sstkit::rolling::{RollingOptions, RollingWriter};
    use sstkit::writer::WriterOptions;
    use sstkit_core::filter::fast_bloom::FastLocalBloom;
    use sstkit_core::table::Table;

    let tmp = tempfile::tempdir().unwrap();
    let mut s = ExternalSort::new(SortOptions::default().memory(1 << 20).tmp_dir(tmp.path())).unwrap();
    let n = 30_000u32;
    for i in 0..n {
        s.add(WriteOp::Put(key(i * 7919 % n), format!("{i:0100}").into_bytes())).unwrap();
    }
    assert!(s.runs() >= 2);
    let target = 256 << 10;
    let keys = s.rolling_keys(target).unwrap();
    // 111 bytes per op: 256 KiB holds ~2 360 of them; a quarter more is asked for.
    assert_eq!(keys.total, u64::from(n));
    assert_eq!(keys.per_file, (target / 111) + (target / 111) / 4);
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let opts = RollingOptions::new("out")
        .target_file_size(target)
        .writer(WriterOptions::default().file_creation_time(Some(0)))
        .expected_keys(Some(keys));
    let files = rt().block_on(async {
        let mut w = RollingWriter::new(store.clone(), opts).unwrap();
        let stream = s.finish().await.unwrap();
        let mut stream = std::pin::pin!(stream);
        while let Some(op) = stream.try_next().await.unwrap() {
            w.write(op).await.unwrap();
        }
        w.finish().await.unwrap()
    });
    assert!(files.len() >= 5, "{} files", files.len());
    let bloom = FastLocalBloom::with_millibits(10_000).unwrap();
    let mut left = u64::from(n);
    let mut prev = 0;
    for f in &files {
        let bytes = rt().block_on(async { store.get(&f.path).await.unwrap().bytes().await.unwrap() });
        let t = Table::open(&bytes).unwrap();
        let p = t.properties();
        let entries = p.num_entries.unwrap();
        let filter = p.filter_size.unwrap();
        // Not fewer bits than its keys need (10 bits each), nor more than ~1.6 times as many; the whole
        // input's 30 000 keys would be 37 504 bytes.
        assert!(filter >= bloom.bits_len(entries as usize) as u64 + 5, "{filter} for {entries} keys");
        assert!(filter <= bloom.bits_len((entries * 8 / 5) as usize + 64) as u64 + 5, "{filter} for {entries} keys");
        // The files hold the keys in order: this one the `entries` after those before it.
        // The first file's count is the estimate; the next ones', the previous file's keys and an eighth.
        let want = if prev == 0 { keys.per_file } else { prev + prev / 8 }.min(left);
        assert_eq!(filter, bloom.bits_len(want as usize) as u64 + 5, "{f:?}");
        prev = entries;
        let first = u64::from(n) - left;
        for i in first..first + entries {
            assert!(t.may_contain(&key(i as u32)), "key {i} missed by the filter");
        }
        left -= entries;
    }
    assert_eq!(left, 0);
}

/// What the merge's run readers get: the budget less what the consumer reserved, two chunks per run, never
/// below two 64 KiB chunks per run; the writer's workspace estimate grows with the keys of the file.
#[test]
fn the_merge_readers_get_what_the_writer_leaves() {
    use sstkit::sort::MIN_CHUNK;
    use sstkit::writer::WriterOptions;

    let tmp = tempfile::tempdir().unwrap();
    let mut s = ExternalSort::new(SortOptions::default().memory(4 << 20).tmp_dir(tmp.path())).unwrap();
    for i in 0..100_000u32 {
        s.add(WriteOp::Put(key(i * 7919 % 100_000), format!("{i:0100}").into_bytes())).unwrap();
    }
    let runs = s.runs() as u64;
    assert!(runs >= 3, "{runs}");
    assert_eq!(s.merge_readers(), 2 * runs * ((4 << 20) / (2 * runs)));
    s.reserve(3 << 20);
    assert_eq!(s.merge_readers(), 2 * runs * ((1 << 20) / (2 * runs)).max(MIN_CHUNK));
    s.reserve(4 << 20);
    assert_eq!(s.merge_readers(), 2 * runs * MIN_CHUNK);
    // 100 000 keys: 125 000 bytes of filter bits, ~2 700 index records (~52 000 bytes), grown by half.
    let opts = s.writer_options(WriterOptions::default());
    let one = s.writer_workspace(&opts, None);
    // Below the default spill threshold every 8-byte hash stays while merging; the bits come at the end.
    assert!((1_200_000..1_400_000).contains(&one.merging), "{one:?}");
    assert!((250_000..330_000).contains(&one.finishing), "{one:?}");
    // With a lower threshold, only the records and the threshold's hashes while merging.
    let spilled = s.writer_workspace(&opts.clone().hash_spill_threshold(Some(64 << 10)), None);
    assert!((150_000..250_000).contains(&spilled.merging), "{spilled:?}");
    assert_eq!(spilled.finishing, one.finishing);
    // A key count keeps the bits through the merge, and next to the index block at the end.
    let sized = s.writer_workspace(&opts.clone().expected_keys(100_000), None);
    assert!(sized.merging >= one.finishing && sized.finishing > sized.merging, "{sized:?}");
    let rolled = s.writer_workspace(&WriterOptions::default(), Some(1 << 20));
    assert_eq!(rolled.merging, rolled.finishing);
    assert!(rolled.finishing < sized.finishing / 5, "{rolled:?} against {sized:?}");
    let unfiltered = s.writer_workspace(&opts.bloom_bits_per_key(0), None);
    assert!(unfiltered.merging < spilled.merging && unfiltered.finishing < one.finishing, "{unfiltered:?}");
}
