//! `SstReader::open_file` (one open file, positioned reads) against the object-store path over the same file
//! (`LocalFileSystem`) and a BTreeMap model; files that are missing, truncated or shrink under the reader; and
//! `ReadOptions::verify_checksums` (a damaged block is reported on its first read under every setting that
//! checks; `Once` does not check a verified block again, `Always` does).

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::ops::Bound;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::ObjectStore;
use proptest::prelude::*;
use sstkit::core::key::ValueType;
use sstkit::core::table::Options;
use sstkit::core::CompressionType;
use sstkit::reader::{ReadOptions, SstReader, Verify};
use sstkit::Error;

type Model = BTreeMap<Vec<u8>, Vec<u8>>;

fn model(n: u32) -> Model {
    (0..n)
        .map(|i| {
            (format!("key{:08}", i * 2).into_bytes(), format!("value-{i}-{}", "v".repeat(i as usize % 40)).into_bytes())
        })
        .collect()
}

fn write(dir: &std::path::Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The same file through `LocalFileSystem` (the object-store path).
async fn open_store(dir: &std::path::Path, name: &str, opts: ReadOptions) -> SstReader {
    let store: Arc<dyn ObjectStore> = Arc::new(object_store::local::LocalFileSystem::new_with_prefix(dir).unwrap());
    SstReader::open(store, Path::from(name), opts).await.unwrap()
}

type Answer = Result<Option<(Vec<u8>, u64, ValueType, Vec<u8>)>, String>;

async fn get(r: &SstReader, k: &[u8]) -> Answer {
    r.get(k)
        .await
        .map(|e| e.map(|e| (e.user_key.to_vec(), e.seqno, e.kind, e.value.to_vec())))
        .map_err(|e| e.codec().map_or_else(|| e.to_string(), |c| c.to_string()))
}

async fn scan(r: &SstReader, range: (Bound<Vec<u8>>, Bound<Vec<u8>>)) -> Vec<(Vec<u8>, Vec<u8>)> {
    r.scan(range).map_ok(|e| (e.user_key.to_vec(), e.value.to_vec())).try_collect().await.unwrap()
}

fn bound(k: Option<Vec<u8>>, inclusive: bool) -> Bound<Vec<u8>> {
    match k {
        None => Bound::Unbounded,
        Some(k) if inclusive => Bound::Included(k),
        Some(k) => Bound::Excluded(k),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// Gets of present and absent keys and scans of random ranges answer as the model says, the same through
    /// `open_file` as through the object store, with the same read counts.
    #[test]
    fn open_file_answers_like_the_store_and_the_model(
        entries in prop::collection::btree_map(prop::collection::vec(any::<u8>(), 0..12), prop::collection::vec(any::<u8>(), 0..300), 0..400),
        probes in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..12), 0..40),
        block_size in prop_oneof![Just(64usize), Just(512), Just(4096)],
        lz4 in any::<bool>(),
        inline in prop_oneof![Just(0u64), Just(u64::MAX), Just(1024)],
        tail in prop_oneof![Just(64u64), Just(64 << 10)],
        lo in prop::option::of(prop::collection::vec(any::<u8>(), 0..4)),
        hi in prop::option::of(prop::collection::vec(any::<u8>(), 0..4)),
        inclusive in any::<bool>(),
    ) {
        let compression = if lz4 { CompressionType::Lz4 } else { CompressionType::None };
        let bytes = support::build_table(&entries, Options::default().block_size(block_size).compression(compression));
        let dir = tempfile::tempdir().unwrap();
        let path = write(dir.path(), "t.sst", &bytes);
        support::runtime().block_on(async {
            let mut opts = ReadOptions::default().tail_size(tail);
            opts.local_inline_read = inline;
            let f = SstReader::open_file(&path, opts.clone()).await.unwrap();
            let s = open_store(dir.path(), "t.sst", opts).await;
            prop_assert_eq!(f.file_size(), bytes.len() as u64);
            for k in entries.keys().chain(probes.iter()) {
                let (a, b) = (get(&f, k).await, get(&s, k).await);
                prop_assert_eq!(&a, &b);
                let want = entries.get(k).map(|v| (k.clone(), 0, ValueType::Value, v.clone()));
                prop_assert_eq!(a, Ok(want));
            }
            let range = (bound(lo, inclusive), bound(hi, !inclusive));
            let want: Vec<_> = if matches!((&range.0, &range.1), (Bound::Included(a) | Bound::Excluded(a), Bound::Included(b) | Bound::Excluded(b)) if a > b) {
                Vec::new()
            } else {
                entries.range::<Vec<u8>, _>(range.clone()).map(|(k, v)| (k.clone(), v.clone())).collect()
            };
            let got = scan(&f, range.clone()).await;
            prop_assert_eq!(&got, &scan(&s, range).await);
            prop_assert_eq!(got, want);
            prop_assert_eq!(f.stats(), s.stats(), "same reads, same counts");
            Ok(())
        })?;
    }
}

/// Partitioned-index tables written by RocksDB (core's fixtures), with the partitions inside and outside the
/// metadata read at open: `open_file` answers as the object store does, under every checksum setting.
#[tokio::test]
async fn partitioned_tables_read_alike() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["fv5.sst", "fv4_pfilter.sst", "fv6_pfilter.sst", "fv6_lz4.sst"] {
        let bytes = std::fs::read(format!("../core/tests/data/partitioned/{name}")).unwrap();
        let path = write(dir.path(), name, &bytes);
        for (tail, verify) in
            [(256, Verify::Once), (256, Verify::Always), (1 << 20, Verify::Once), (256, Verify::Never)]
        {
            let mut opts = ReadOptions::default().tail_size(tail);
            opts.verify_checksums = verify;
            let f = SstReader::open_file(&path, opts.clone()).await.unwrap();
            let s = open_store(dir.path(), name, opts).await;
            let all = scan(&s, (Bound::Unbounded, Bound::Unbounded)).await;
            assert!(!all.is_empty(), "{name}");
            assert_eq!(scan(&f, (Bound::Unbounded, Bound::Unbounded)).await, all, "{name}");
            // Twice: the second round reads blocks verified already (and cached).
            for _ in 0..2 {
                for (k, _) in all.iter().step_by(13) {
                    let mut absent = k.clone();
                    absent.push(0);
                    assert_eq!(get(&f, k).await, get(&s, k).await, "{name} {tail} {verify:?}");
                    assert_eq!(get(&f, &absent).await, get(&s, &absent).await, "{name} {tail} {verify:?}");
                }
            }
            assert_eq!(f.stats(), s.stats(), "{name} {tail} {verify:?}");
        }
    }
}

#[tokio::test]
async fn a_missing_file_or_a_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.sst");
    let e = SstReader::open_file(&missing, ReadOptions::default()).await.unwrap_err();
    match &e {
        Error::Io { source, .. } => assert_eq!(source.kind(), std::io::ErrorKind::NotFound, "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("nope.sst"), "{e}");
    let e = SstReader::open_file(dir.path(), ReadOptions::default()).await.unwrap_err();
    assert!(e.to_string().contains("is a directory"), "{e}");
}

#[tokio::test]
async fn truncated_files_fail_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = support::build_table(&model(2_000), Options::default());
    for cut in [0usize, 10, 52, bytes.len() / 2, bytes.len() - 1] {
        let path = write(dir.path(), "cut.sst", &bytes[..cut]);
        let e = SstReader::open_file(&path, ReadOptions::default()).await.unwrap_err();
        assert!(e.codec().is_some(), "cut at {cut}: {e}");
        assert!(e.to_string().contains("cut.sst"), "cut at {cut}: {e}");
        // A size that claims more than the file holds: the read comes up short.
        let path = write(dir.path(), "short.sst", &bytes[..cut]);
        let e = SstReader::open_file(&path, ReadOptions::default().file_size(bytes.len() as u64)).await.unwrap_err();
        assert!(e.to_string().contains("ends before"), "cut at {cut}: {e}");
    }
}

/// A file cut short while a reader has it open: the reads that reach past the new end are corruption errors
/// (no panic), reads before it still work, and nothing wrong is cached.
#[tokio::test]
async fn a_file_that_shrinks_under_the_reader_gives_errors() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(5_000);
    let bytes = support::build_table(&m, Options::default().block_size(1024));
    let path = write(dir.path(), "t.sst", &bytes);
    for inline in [0, u64::MAX] {
        let mut opts = ReadOptions::default();
        opts.local_inline_read = inline;
        let r = SstReader::open_file(&path, opts).await.unwrap();
        std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(bytes.len() as u64 / 2).unwrap();
        let (first, last) = (m.keys().next().unwrap(), m.keys().next_back().unwrap());
        assert_eq!(r.get(first).await.unwrap().unwrap().value, m[first]);
        for _ in 0..2 {
            let e = r.get(last).await.unwrap_err();
            assert!(e.to_string().contains("ends before"), "{e}");
            assert!(matches!(e.codec(), Some(sstkit::core::Error::Corruption { .. })), "{e:?}");
        }
        let scan: Result<Vec<_>, _> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await;
        assert!(scan.unwrap_err().to_string().contains("ends before"));
        std::fs::write(&path, &bytes).unwrap();
    }
}

/// Without a tokio runtime (another executor), reads that would go to the blocking pool run inline.
#[test]
fn works_without_a_tokio_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(3_000);
    let path = write(dir.path(), "t.sst", &support::build_table(&m, Options::default()));
    let mut opts = ReadOptions::default();
    opts.local_inline_read = 0;
    futures::executor::block_on(async {
        let r = SstReader::open_file(&path, opts).await.unwrap();
        for (k, v) in m.iter().step_by(97) {
            assert_eq!(&r.get(k).await.unwrap().unwrap().value[..], &v[..]);
        }
        assert_eq!(scan(&r, (Bound::Unbounded, Bound::Unbounded)).await.len(), m.len());
    });
}

/// The offset of the first data block's trailer (its checksum follows the compression-type byte).
fn first_block_trailer(bytes: &[u8]) -> usize {
    let mut index_buf = sstkit_tests::ours::index_buf_for(bytes);
    let t = sstkit::core::table::Table::open_with(bytes, sstkit::core::table::ReadOptions::default(), &mut index_buf)
        .unwrap();
    let mut first = None;
    t.layout()
        .for_each_block((Bound::Unbounded, Bound::Unbounded), |e| {
            first.get_or_insert(e.handle);
            Ok(false)
        })
        .unwrap();
    let h = first.unwrap();
    (h.offset + h.size) as usize
}

#[tokio::test]
async fn a_damaged_block_is_reported_on_its_first_read_under_once_and_always() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(3_000);
    let mut bytes = support::build_table(&m, Options::default());
    let at = first_block_trailer(&bytes) + 2;
    bytes[at] ^= 0x10; // the first data block's checksum
    let path = write(dir.path(), "bad.sst", &bytes);
    let first = m.keys().next().unwrap();
    for verify in [Verify::Once, Verify::Always] {
        let mut opts = ReadOptions::default();
        opts.verify_checksums = verify;
        for r in
            [SstReader::open_file(&path, opts.clone()).await.unwrap(), open_store(dir.path(), "bad.sst", opts).await]
        {
            // Every read reports it: a damaged block is never remembered as verified, nor cached.
            for _ in 0..2 {
                let e = r.get(first).await.unwrap_err();
                assert!(matches!(e.codec(), Some(sstkit::core::Error::ChecksumMismatch { .. })), "{verify:?}: {e}");
                assert!(e.to_string().contains("bad.sst") && e.to_string().contains("offset 0"), "{e}");
                let scan: Result<Vec<_>, _> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await;
                assert!(scan.is_err(), "{verify:?}");
            }
        }
    }
    let mut opts = ReadOptions::default();
    opts.verify_checksums = Verify::Never;
    let r = SstReader::open_file(&path, opts).await.unwrap();
    assert_eq!(r.get(first).await.unwrap().unwrap().value, m[first]);
}

/// `Once` checks a block the first time the opened table reads it and not on later reads (scans bypass the
/// cache, so they read it again): a checksum damaged after the first read goes unnoticed by that reader, while
/// `Always` reports it, and a newly opened reader checks again.
#[cfg(unix)]
#[tokio::test]
async fn once_checks_a_block_once_per_opened_table_always_on_every_read() {
    let dir = tempfile::tempdir().unwrap();
    let m = model(3_000);
    let bytes = support::build_table(&m, Options::default());
    let at = first_block_trailer(&bytes) + 2;
    let path = write(dir.path(), "t.sst", &bytes);
    let all = (Bound::Unbounded, Bound::Unbounded);
    let reader = |verify| {
        let mut opts = ReadOptions::default();
        opts.verify_checksums = verify;
        SstReader::open_file(&path, opts)
    };
    let (once, always) = (reader(Verify::Once).await.unwrap(), reader(Verify::Always).await.unwrap());
    assert_eq!(scan(&once, all.clone()).await.len(), m.len());
    assert_eq!(scan(&always, all.clone()).await.len(), m.len());
    // Damage the first block's checksum in place (the readers keep the same file open).
    let mut f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, &[bytes[at] ^ 0x10], at as u64).unwrap();
    f.flush().unwrap();
    assert_eq!(scan(&once, all.clone()).await.len(), m.len(), "verified once already");
    let e = always.scan(all.clone()).try_collect::<Vec<_>>().await.unwrap_err();
    assert!(matches!(e.codec(), Some(sstkit::core::Error::ChecksumMismatch { .. })), "{e}");
    let fresh = reader(Verify::Once).await.unwrap();
    assert!(fresh.scan(all).try_collect::<Vec<_>>().await.is_err(), "a new reader checks again");
}
