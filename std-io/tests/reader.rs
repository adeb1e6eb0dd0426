//! SstReader over in-memory and local-file object stores: GET counts, cache, scans, corruption.

mod support;

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::cache::BlockCache;
use sstkit::core::key::ValueType;
use sstkit::core::table::Options;
use sstkit::core::CompressionType;
use sstkit::reader::{ReadOptions, SstReader, TailPrefetch};

fn model(n: u32) -> BTreeMap<Vec<u8>, Vec<u8>> {
    (0..n)
        .map(|i| {
            (
                format!("key{:08}", i * 2).into_bytes(),
                format!("value-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes(),
            )
        })
        .collect()
}

fn build(model: &BTreeMap<Vec<u8>, Vec<u8>>, opts: Options) -> Bytes {
    Bytes::from(support::build_table(model, opts))
}

async fn store_with(bytes: Bytes) -> (Arc<dyn ObjectStore>, Path) {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("tables/000001.sst");
    store.put(&path, PutPayload::from(bytes)).await.unwrap();
    (store, path)
}

#[tokio::test]
async fn open_is_one_get_cold_get_one_more_warm_get_none() {
    let m = model(5_000);
    let bytes = build(&m, Options::default());
    let size = bytes.len() as u64;
    let (store, path) = store_with(bytes).await;
    let r = SstReader::open(store.clone(), path.clone(), ReadOptions::default().file_size(size)).await.unwrap();
    assert_eq!(r.stats().gets, 1, "open fetches the tail once");
    assert_eq!(r.stats().heads, 0);
    let k = b"key00001000";
    let hit = r.get(k).await.unwrap().unwrap();
    assert_eq!(hit.value, m[&k[..]]);
    assert_eq!((r.stats().gets, r.stats().cache_misses), (2, 1), "cold get = one GET for the block");
    r.get(k).await.unwrap().unwrap();
    assert_eq!((r.stats().gets, r.stats().cache_hits), (2, 1), "warm get = no GET");
    // An absent key the filter rejects costs nothing.
    let before = r.stats().gets;
    let mut rejected = 0;
    for i in 0..200u32 {
        let k = format!("key{:08}", i * 2 + 1);
        assert!(r.get(k.as_bytes()).await.unwrap().is_none());
        if r.stats().gets == before {
            rejected += 1;
        }
    }
    assert!(rejected > 180, "filter rejected only {rejected} of 200 absent keys");
    // Without a known size: one suffix GET, no HEAD.
    let r2 = SstReader::open(store, path, ReadOptions::default()).await.unwrap();
    assert_eq!((r2.stats().heads, r2.stats().gets), (0, 1));
}

/// Default options with a fresh tail record (as the first table a process opens), the size unknown.
fn first_open() -> ReadOptions {
    let mut o = ReadOptions::default();
    o.tail_prefetch = Some(TailPrefetch::new());
    o
}

/// Opens a fresh reader (its own cache) through `counting` and gets `key`: the requests it took, (HEADs, GETs).
async fn cold_get(counting: &support::CountingStore, path: &Path, opts: ReadOptions, key: &[u8]) -> (u64, u64, Bytes) {
    counting.reset();
    let r = SstReader::open(counting.arc(), path.clone(), opts).await.unwrap();
    let v = r.get(key).await.unwrap().expect("present").value;
    let c = counting.counts();
    assert_eq!((r.stats().heads, r.stats().gets), (c.heads, c.gets), "the reader counts what the store saw");
    (c.heads, c.gets, v)
}

#[tokio::test]
async fn a_cold_get_of_a_small_table_is_two_requests_with_default_options() {
    let m = model(5_000);
    let bytes = build(&m, Options::default());
    let (inner, path) = store_with(bytes).await;
    let counting = support::CountingStore::new(inner);
    let k = b"key00002000";
    // A suffix GET of the tail (metadata well under 64 KiB), then the data block.
    let (heads, gets, v) = cold_get(&counting, &path, first_open(), k).await;
    assert_eq!((heads, gets, &v[..]), (0, 2, &m[&k[..]][..]));
    let (heads, gets, v) = cold_get(&counting, &path, ReadOptions::default(), k).await;
    assert_eq!((heads, gets, &v[..]), (0, 2, &m[&k[..]][..]));
}

#[tokio::test]
async fn a_cold_get_of_a_table_with_large_metadata_is_three_requests_first_then_two() {
    // 200 000 keys: a ~250 KB Bloom filter and a ~40 KB index, beyond the 64 KiB default tail.
    let m = model(200_000);
    let bytes = build(&m, Options::default());
    let size = bytes.len() as u64;
    let (inner, path) = store_with(bytes).await;
    let counting = support::CountingStore::new(inner);
    let prefetch = TailPrefetch::new();
    let mut opts = ReadOptions::default();
    opts.tail_prefetch = Some(prefetch.clone());
    let k = b"key00300000";
    // First open of its kind: the tail, then ONE GET of all the metadata the tail lacks (index and filter
    // together), then the block.
    let (heads, gets, v) = cold_get(&counting, &path, opts.clone(), k).await;
    assert_eq!((heads, gets, &v[..]), (0, 3, &m[&k[..]][..]));
    let learned = prefetch.suggested();
    assert!(learned > 64 << 10 && learned < size / 2, "learned {learned} of {size}");
    // Later opens size the tail from it: the tail and the block.
    for k in [&b"key00000000"[..], b"key00399998", b"key00123456"] {
        let (heads, gets, v) = cold_get(&counting, &path, opts.clone(), k).await;
        assert_eq!((heads, gets, &v[..]), (0, 2, &m[k][..]));
    }
    // What the last one fetched: the metadata (the learned tail) and one data block, not the table.
    let fetched = counting.counts().bytes_fetched;
    assert!(fetched > learned && fetched < learned + (16 << 10), "fetched {fetched}, learned {learned}");
    // The size known: a plain ranged GET of the same tail.
    let (heads, gets, _) = cold_get(&counting, &path, opts.clone().file_size(size), k).await;
    assert_eq!((heads, gets), (0, 2));
    // A fixed 64 KiB tail, as before: three.
    let (heads, gets, _) = cold_get(&counting, &path, ReadOptions::default().tail_size(64 << 10), k).await;
    assert_eq!((heads, gets), (0, 3));
    // Every key and a scan through a reader opened with the learned tail.
    let r = SstReader::open(counting.arc(), path, opts).await.unwrap();
    for (k, v) in m.iter().step_by(4999) {
        assert_eq!(r.get(k).await.unwrap().unwrap().value, v[..]);
    }
    assert!(r.get(b"key00000001").await.unwrap().is_none());
    let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
    assert_eq!(all.len(), m.len());
}

#[tokio::test]
async fn a_store_refusing_suffix_gets_costs_a_head_more() {
    let m = model(5_000);
    let bytes = build(&m, Options::default());
    let (inner, path) = store_with(bytes).await;
    let faulty = support::FaultyStore::new(inner).fail_suffix_get(support::Trigger::Always);
    let counting = support::CountingStore::new(faulty.arc());
    let k = b"key00002000";
    // The refused suffix GET, a HEAD, the tail, the block.
    let (heads, gets, v) = cold_get(&counting, &path, first_open(), k).await;
    assert_eq!((heads, gets, &v[..]), (1, 3, &m[&k[..]][..]));
    assert_eq!(faulty.injected(), 1);
    // A missing object is reported as such, without the fallback.
    let e = SstReader::open(counting.arc(), Path::from("tables/missing.sst"), first_open()).await.unwrap_err();
    assert!(matches!(&e, sstkit::Error::Store { source: object_store::Error::NotFound { .. }, .. }), "{e}");
}

#[tokio::test]
async fn truncated_or_damaged_objects_are_errors_through_the_suffix_get() {
    let m = model(200_000);
    let bytes = build(&m, Options::default());
    let len = bytes.len();
    let path = Path::from("tables/bad.sst");
    for (what, bad) in [
        ("empty", Bytes::new()),
        ("10 bytes", bytes.slice(..10)),
        ("footer cut", bytes.slice(..len - 1)),
        ("first half", bytes.slice(..len / 2)),
        ("last half", bytes.slice(len / 2..)),
        ("last 100 KiB", bytes.slice(len - (100 << 10)..)),
    ] {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        store.put(&path, PutPayload::from(bad)).await.unwrap();
        for opts in [first_open(), ReadOptions::default().tail_size(1 << 20)] {
            let e = SstReader::open(store.clone(), path.clone(), opts).await.unwrap_err();
            assert!(e.to_string().contains("tables/bad.sst"), "{what}: {e}");
            assert!(e.codec().is_some(), "{what}: a format error: {e}");
        }
    }
    // A flipped byte in the metadata the second GET fetches (the filter, the first metadata block).
    let mut flipped = bytes.to_vec();
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    store.put(&path, PutPayload::from(bytes.clone())).await.unwrap();
    let r = SstReader::open(store.clone(), path.clone(), first_open()).await.unwrap();
    let filter = r.meta_blocks().unwrap().into_iter().find(|(n, _)| n.contains("filter")).expect("a filter").1;
    flipped[filter.offset as usize + 100] ^= 0x40;
    store.put(&path, PutPayload::from(flipped)).await.unwrap();
    let e = SstReader::open(store, path, first_open()).await.unwrap_err();
    assert!(e.to_string().contains("tables/bad.sst"), "{e}");
    assert!(matches!(e.codec(), Some(sstkit::core::Error::ChecksumMismatch { .. })), "{e}");
}

#[tokio::test]
async fn every_key_and_scans_match_the_model() {
    for compression in [CompressionType::None, CompressionType::Lz4] {
        let m = model(20_000);
        let bytes = build(&m, Options::default().compression(compression).block_size(1024));
        let (store, path) = store_with(bytes).await;
        let mut opts = ReadOptions::default();
        opts.scan_chunk = 16 * 1024;
        let r = SstReader::open(store, path, opts).await.unwrap();
        for (k, v) in m.iter().step_by(7) {
            let hit = r.get(k).await.unwrap().unwrap();
            assert_eq!((hit.kind, &hit.value[..]), (ValueType::Value, &v[..]));
        }
        let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        assert_eq!(all.len(), m.len());
        assert!(all.iter().zip(m.iter()).all(|(e, (k, v))| e.user_key == k[..] && e.value == v[..]));
        let gets_before = r.stats().gets;
        let lo = b"key00010001".to_vec();
        let hi = b"key00020000".to_vec();
        for (s, e) in [
            (Bound::Included(lo.clone()), Bound::Excluded(hi.clone())),
            (Bound::Excluded(b"key00010002".to_vec()), Bound::Included(hi.clone())),
            (Bound::Unbounded, Bound::Excluded(b"key00000010".to_vec())),
            (Bound::Included(b"key00039990".to_vec()), Bound::Unbounded),
            (Bound::Included(b"zzz".to_vec()), Bound::Unbounded),
        ] {
            let got: Vec<Vec<u8>> =
                r.scan((s.clone(), e.clone())).map_ok(|e| e.user_key.to_vec()).try_collect().await.unwrap();
            let want: Vec<Vec<u8>> = m.range::<Vec<u8>, _>((s.clone(), e.clone())).map(|(k, _)| k.clone()).collect();
            assert_eq!(got, want, "{s:?}..{e:?}");
        }
        assert!(r.stats().gets > gets_before);
    }
}

#[tokio::test]
async fn big_metadata_takes_a_second_get() {
    let m = model(30_000);
    let bytes = build(&m, Options::default().block_size(256));
    let size = bytes.len() as u64;
    let (store, path) = store_with(bytes).await;
    let r = SstReader::open(store, path, ReadOptions::default().file_size(size).tail_size(1024)).await.unwrap();
    assert!((2..=3).contains(&r.stats().gets), "gets: {}", r.stats().gets);
    assert_eq!(r.get(b"key00000002").await.unwrap().unwrap().value, m[&b"key00000002"[..]]);
}

#[tokio::test]
async fn concurrent_misses_collapse_and_the_cache_is_shared() {
    let m = model(5_000);
    let bytes = build(&m, Options::default());
    let (store, path) = store_with(bytes).await;
    let cache = BlockCache::new(1 << 20);
    let r = SstReader::open(store.clone(), path.clone(), ReadOptions::default().cache(cache.clone())).await.unwrap();
    let opened = r.stats().gets;
    let tasks: Vec<_> = (0..16)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.get(b"key00004000").await.unwrap().unwrap().value })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), m[&b"key00004000"[..]]);
    }
    assert_eq!(r.stats().gets - opened, 1, "16 concurrent cold gets of one block = one GET");
    // A second reader of the same file shares the cached block.
    let r2 = SstReader::open(store, path, ReadOptions::default().cache(cache.clone())).await.unwrap();
    let opened2 = r2.stats().gets;
    r2.get(b"key00004000").await.unwrap().unwrap();
    assert_eq!(r2.stats().gets, opened2);
    assert!(cache.used_bytes() > 0 && cache.used_bytes() <= cache.capacity());
}

#[tokio::test]
async fn a_corrupt_block_is_an_error_naming_file_offset_and_block() {
    let m = model(5_000);
    let bytes = build(&m, Options::default());
    let mut raw = bytes.to_vec();
    raw[100] ^= 0x40; // inside the first data block
    let (store, path) = store_with(Bytes::from(raw)).await;
    let r = SstReader::open(store, path, ReadOptions::default()).await.unwrap();
    let err = r.get(b"key00000002").await.unwrap_err().to_string();
    assert!(err.contains("tables/000001.sst") && err.contains("offset 0") && err.contains("data block"), "{err}");
    assert!(err.contains("checksum mismatch"), "{err}");
    let scan: Result<Vec<_>, _> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await;
    assert!(scan.is_err());
}

#[tokio::test]
async fn truncated_or_garbage_files_fail_to_open() {
    let m = model(1_000);
    let bytes = build(&m, Options::default());
    for cut in [0usize, 10, 52, bytes.len() / 2, bytes.len() - 1] {
        let (store, path) = store_with(bytes.slice(..cut)).await;
        assert!(SstReader::open(store, path, ReadOptions::default()).await.is_err(), "cut at {cut}");
    }
    let (store, path) = store_with(Bytes::from(vec![0xabu8; 100_000])).await;
    assert!(SstReader::open(store, path, ReadOptions::default()).await.is_err());
}

#[tokio::test]
async fn local_file_system_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> =
        Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let m = model(3_000);
    let path = Path::from("a/b.sst");
    store.put(&path, PutPayload::from(build(&m, Options::default().compression(CompressionType::Lz4)))).await.unwrap();
    let r = SstReader::open(store, path, ReadOptions::default()).await.unwrap();
    let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
    assert_eq!(all.len(), m.len());
    assert_eq!(r.properties().unwrap().num_entries, Some(3_000));
}

#[tokio::test]
async fn a_counting_store_sees_one_get_to_open_one_more_cold_none_warm() {
    let m = model(8_000);
    let bytes = build(&m, Options::default());
    let size = bytes.len() as u64;
    let (inner, path) = store_with(bytes).await;
    let counting = support::CountingStore::new(inner);
    let r = SstReader::open(counting.arc(), path, ReadOptions::default().file_size(size)).await.unwrap();
    let c = counting.counts();
    assert_eq!((c.gets, c.heads), (1, 0), "open = one ranged GET of the tail");
    r.get(b"key00004000").await.unwrap().unwrap();
    assert_eq!(counting.counts().gets, 2, "cold get = open + one GET");
    r.get(b"key00004000").await.unwrap().unwrap();
    r.get(b"key00004002").await.unwrap().unwrap();
    assert_eq!(counting.counts().gets, 2, "warm gets (same block) = no GET");
    assert_eq!(counting.counts().bytes_fetched, r.stats().bytes_fetched);
}

#[tokio::test]
async fn failing_ranged_gets_are_errors_not_panics() {
    let m = model(3_000);
    let bytes = build(&m, Options::default());
    let (inner, path) = store_with(bytes).await;
    // The open's GET fails.
    let faulty = support::FaultyStore::new(inner.clone()).fail_get_range(support::Trigger::Always);
    let e = SstReader::open(faulty.arc(), path.clone(), ReadOptions::default()).await.unwrap_err();
    assert!(e.to_string().contains("tables/000001.sst"), "{e}");
    // The open works, the block GET fails; a later retry works.
    let faulty = support::FaultyStore::new(inner).fail_get_range(support::Trigger::Nth(2));
    let r = SstReader::open(faulty.arc(), path, ReadOptions::default()).await.unwrap();
    assert!(r.get(b"key00000100").await.is_err());
    assert_eq!(r.get(b"key00000100").await.unwrap().unwrap().value, m[&b"key00000100"[..]]);
    let scan: Result<Vec<_>, _> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await;
    assert_eq!(scan.unwrap().len(), m.len());
}

#[test]
fn reads_from_a_real_s3_server() {
    let Some((_server, store)) = support::moto_store() else { return };
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let m = model(20_000);
        let bytes = build(&m, Options::default().compression(CompressionType::Lz4));
        let path = Path::from("read/t.sst");
        store.put(&path, PutPayload::from(bytes)).await.unwrap();
        // A cold get on a real S3 server: a suffix GET (moto answers `bytes=-N` with 206 and the size), then
        // the block; no HEAD.
        let counting = support::CountingStore::new(store.clone());
        let k = m.keys().nth(12_345).unwrap();
        let (heads, gets, v) = cold_get(&counting, &path, first_open(), k).await;
        assert_eq!((heads, gets, &v[..]), (0, 2, &m[k][..]));
        // Refused suffix GETs: the HEAD fallback against the real server.
        let faulty = support::FaultyStore::new(store.clone()).fail_suffix_get(support::Trigger::Always);
        let (heads, gets, v) = cold_get(&support::CountingStore::new(faulty.arc()), &path, first_open(), k).await;
        assert_eq!((heads, gets, &v[..]), (1, 3, &m[k][..]), "one suffix GET refused");
        let r = SstReader::open(store.clone(), path, ReadOptions::default()).await.unwrap();
        assert_eq!((r.stats().heads, r.stats().gets), (0, 1));
        for (k, v) in m.iter().step_by(997) {
            assert_eq!(r.get(k).await.unwrap().unwrap().value, v[..]);
        }
        assert!(r.get(b"absent").await.unwrap().is_none());
        let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        assert_eq!(all.len(), m.len());
    });
}
