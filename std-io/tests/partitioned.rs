//! Partitioned-index tables written by RocksDB 10.4.2 (core's `tests/data/partitioned` fixtures) read through
//! `SstReader` over an object store: open fetches no partition, a lookup fetches (and caches) the one partition
//! it needs, and get, scans and the block walk match what RocksDB wrote.
// for_each_data_block takes a closure returning sstkit::Result, whose error is large by design.
#![allow(clippy::result_large_err)]

use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::core::ValueType;
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::verified::Verify;

const FIXTURES: [(&str, &[u8]); 5] = [
    ("fv5", include_bytes!("../../core/tests/data/partitioned/fv5.sst")),
    ("fv5_nofilter", include_bytes!("../../core/tests/data/partitioned/fv5_nofilter.sst")),
    ("fv4_pfilter", include_bytes!("../../core/tests/data/partitioned/fv4_pfilter.sst")),
    ("fv6_pfilter", include_bytes!("../../core/tests/data/partitioned/fv6_pfilter.sst")),
    ("fv6_lz4", include_bytes!("../../core/tests/data/partitioned/fv6_lz4.sst")),
];
const N: usize = 1200;

/// What `gen.py` writes: `(user key, value or None for a deletion)`.
fn expected() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    (0..N)
        .map(|i| {
            let k = format!("k{i:05}").into_bytes();
            (k, (i % 10 != 3).then(|| format!("v{i}-").repeat(i % 7 + 1).into_bytes()))
        })
        .collect()
}

async fn open(file: &'static [u8]) -> SstReader {
    open_with_tail(file, 256).await
}

async fn open_with_tail(file: &'static [u8], tail: u64) -> SstReader {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("t/partitioned.sst");
    store.put(&path, PutPayload::from(Bytes::from_static(file))).await.unwrap();
    let opts = ReadOptions::default().file_size(file.len() as u64).tail_size(tail);
    SstReader::open(store, path, opts).await.unwrap()
}

fn owned(e: &sstkit::reader::OwnedEntry) -> (Vec<u8>, Option<Vec<u8>>) {
    let v = match e.kind {
        ValueType::Value => Some(e.value.to_vec()),
        ValueType::Deletion => None,
        k => panic!("unexpected {k:?}"),
    };
    (e.user_key.to_vec(), v)
}

#[tokio::test]
async fn reads_partitioned_tables_exactly() {
    let want = expected();
    for (name, file) in FIXTURES {
        // A tail that holds the whole file: partitions come from it, no GET.
        let r = open_with_tail(file, 1 << 20).await;
        assert_eq!(r.stats().gets, 1, "{name}");
        r.get(b"k00000").await.unwrap().unwrap();
        assert_eq!(r.stats().gets, 2, "{name}: only the data block");

        // A small tail, so the partitions are not in it.
        let r = open(file).await;
        assert!(r.layout().index_info.partitioned, "{name}");
        let opened = r.stats().gets;
        assert!(opened <= 3, "{name}: open took {opened} GETs");
        // A filter is written before the index partitions, so the metadata fetched at open holds them; without
        // one they are the first metadata blocks, and a lookup fetches its partition. The partitions of a
        // partitioned filter come before its top-level block, so a lookup fetches its filter partition.
        let lazy = name.ends_with("nofilter");
        let p = u64::from(lazy);
        let mut ib = vec![0u8; 1 << 16];
        let t = sstkit::core::table::Table::open_with(file, Default::default(), &mut ib).unwrap();
        let l = t.layout();
        let base = r.layout().base;
        let fpart = |k: &[u8]| l.filter_partition_for(k).filter(|x| x.start() < base);
        let f0 = u64::from(fpart(b"k00000").is_some());
        assert_eq!(f0 == 1, name.contains("pfilter") || name.contains("lz4"), "{name}");
        // Cold: one GET for each partition not in the metadata, one for the data block; then the same block:
        // none; another block of the same index partition: one (plus its filter partition if it is another).
        r.get(b"k00000").await.unwrap().unwrap();
        assert_eq!(r.stats().gets, opened + p + f0 + 1, "{name}");
        r.get(b"k00001").await.unwrap().unwrap();
        assert_eq!(r.stats().gets, opened + p + f0 + 1, "{name}");
        let block0 = l.point_block(b"k00000").unwrap();
        let next = want.iter().map(|(k, _)| k).find(|k| l.point_block(k).unwrap() != block0).unwrap();
        assert_eq!(l.partition_for(next).unwrap(), l.partition_for(b"k00000").unwrap(), "{name}");
        let f1 = u64::from(fpart(next).is_some() && fpart(next) != fpart(b"k00000"));
        r.get(next).await.unwrap().unwrap();
        assert_eq!(r.stats().gets, opened + p + f0 + f1 + 2, "{name}");
        let idx = r.index_entries().await.unwrap();
        assert_ne!(idx[0].handle, idx[1].handle);

        for (k, v) in &want {
            let e = r.get(k).await.unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            assert_eq!(owned(&e), (k.clone(), v.clone()), "{name}");
        }
        for absent in [&b"a"[..], b"k00000\0", b"k00599x", b"k01199\0", b"z"] {
            assert!(r.get(absent).await.unwrap().is_none(), "{name}: {absent:?}");
        }

        let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        assert_eq!(all.iter().map(owned).collect::<Vec<_>>(), want, "{name}: full scan");
        for (s, e) in [(0usize, 5usize), (123, 987), (599, 601), (1100, N)] {
            let lo = Bound::Included(want[s].0.clone());
            let hi = match want.get(e) {
                Some(x) => Bound::Excluded(x.0.clone()),
                None => Bound::Unbounded,
            };
            let got: Vec<_> = r.scan((lo, hi)).try_collect().await.unwrap();
            assert_eq!(got.iter().map(owned).collect::<Vec<_>>(), want[s..e], "{name}: {s}..{e}");
        }

        // The index entries are the data blocks (through the partitions), one per block the walk visits.
        let mut blocks = Vec::new();
        r.for_each_data_block(|b| {
            blocks.push(b.extent.handle);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(idx.iter().map(|e| e.handle).collect::<Vec<_>>(), blocks, "{name}");
        assert_eq!(Some(blocks.len() as u64), r.properties().unwrap().num_data_blocks, "{name}");

        // A partitioned filter is used: absent keys cost the filter partitions (fetched once each) and the rare
        // false positive, not a data block each.
        if name.contains("pfilter") || name.contains("lz4") {
            let r = open(file).await;
            let before = r.stats().gets;
            for i in 0..N {
                assert!(r.get(format!("k{i:05}x").as_bytes()).await.unwrap().is_none(), "{name}");
            }
            let cost = r.stats().gets - before;
            assert!(cost < blocks.len() as u64 / 2, "{name}: {cost} GETs for {N} absent keys");
        }

        // Every partition was fetched once: a fresh reader's full scan costs one GET per partition plus the
        // runs of data blocks, and a second scan fetches no partition again.
        let r = open(file).await;
        let before = r.stats().gets;
        let _: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        let first = r.stats().gets - before;
        let _: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        let second = r.stats().gets - before - first;
        assert!(second <= first, "{name}: {first} then {second}");
        let parts = t.layout().index_partition_count().unwrap();
        assert_eq!(first - second, if lazy { parts } else { 0 }, "{name}: one GET per partition not held");
    }
}

/// A fuzz find (reader target): a filter partition whose trailer names compression type 183. A partition that
/// cannot be used answers "may match" in core's `Table` and in `SstReader` alike (one rule:
/// `TableLayout::filter_partition_body`), so both go on to the data and give the same answers.
/// And a second one: a damaged filter-partition index (a key length running past its block) is "may match" too
/// (`TableLayout::filter_partition_for`).
#[tokio::test]
async fn a_broken_filter_partition_answers_alike_in_both_readers() {
    for file in [
        &include_bytes!("data/broken_filter_partition.sst")[..],
        &include_bytes!("data/broken_filter_partition_index.sst")[..],
    ] {
        broken_filter_answers_alike(file).await;
    }
}

/// Both readers with and without checksum verification (the fuzz target's two settings): when both open, they
/// must give the same answers.
async fn broken_filter_answers_alike(file: &'static [u8]) {
    for verify in [true, false] {
        let mut core_opts = sstkit::core::table::ReadOptions::default();
        core_opts.verify_checksums = verify;
        let mut index_buf = Vec::new();
        let Ok(table) = sstkit::core::table::Table::open_with(file, core_opts, &mut index_buf) else { continue };
        broken_filter_answers_alike_with(&table, file, verify).await;
    }
}

async fn broken_filter_answers_alike_with(table: &sstkit::core::table::Table<'_>, file: &'static [u8], verify: bool) {
    let mut keys: Vec<Vec<u8>> = vec![Vec::new(), b"key".to_vec(), b"zzz".to_vec()];
    keys.extend((0..60).map(|i| format!("k{i:03}").into_bytes()));
    // Verifying once and on every read must answer alike: a damaged block is never remembered as verified.
    let policies: &[Verify] = if verify { &[Verify::Once, Verify::Always] } else { &[Verify::Never] };
    for (tail, &policy) in [100, 64 << 10].into_iter().flat_map(|t| policies.iter().map(move |p| (t, p))) {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("t/broken.sst");
        store.put(&path, PutPayload::from(Bytes::from_static(file))).await.unwrap();
        let mut opts = ReadOptions::default().file_size(file.len() as u64).tail_size(tail);
        opts.verify_checksums = policy;
        let Ok(r) = SstReader::open(store, path, opts).await else { panic!("SstReader refused what Table opened") };
        for key in &keys {
            let mut buf = Vec::new();
            let want = table.get(key, &mut buf).map(|e| e.map(|e| (e.seqno, e.kind, e.value.to_vec())));
            let got = r.get(key).await.map(|e| e.map(|e| (e.seqno, e.kind, e.value.to_vec())));
            match (&want, &got) {
                (Ok(w), Ok(g)) => assert_eq!(w, g, "tail {tail}, {policy:?}, key {key:?}"),
                (Err(_), Err(_)) => {}
                _ => panic!("tail {tail}, {policy:?}, key {key:?}: Table {want:?}, SstReader {got:?}"),
            }
        }
    }
}
