//! sstkit and RocksDB 10.4.2 (PyPI `rocksdict` 0.3.29), both directions.
//!
//! * Their files: `SstFileWriter` at format_version 2–6 × the five checksum types × none/Snappy/LZ4/ZSTD ×
//!   Bloom filter on/off (200 files of binary keys, empty values, values larger than a block and deletions),
//!   DB-flushed files with real seqnos, overwrites, deletions and a range deletion, and a compacted
//!   bottommost file. sstkit must read exactly what RocksDB wrote: both scan directions, `get` of present and
//!   absent keys, `verify_all`, the properties and the footer.
//! * Our files: format_version 2–6 × checksums × none/LZ4 × filter on/off × index
//!   restart interval 1/16, with puts, deletes, merges and range deletions, ingested over older data into a
//!   DB with a Bloom filter and the `StringAppendOperator` merge operator: a full iteration must equal
//!   [`ingest_model`], every key must be found by `get`, and the filter statistics must show RocksDB consulted
//!   our filter (and had none to consult without one).
//! * format_version 7: RocksDB 10.4.2 refuses it (DB open and ingestion), so no fv7 oracle exists here.
//!
//! Each matrix runs in one Python process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sstkit_core::table::{IndexType, Options};
use sstkit_core::{ChecksumType, CompressionType, ValueType};
use sstkit_tests::ours::{get_with, with_table};
use sstkit_tests::rocksdb10::*;
use sstkit_tests::*;

/// `opts` with the base context checksum pinned (format_version ≥ 6), so runs are reproducible.
fn pin_context_checksum(opts: Options, base: u32) -> Options {
    opts.base_context_checksum(base)
}

const COMPRESSIONS: [&str; 5] = ["none", "snappy", "lz4", "zstd", "bz2"];

fn rocksdict() -> Option<PathBuf> {
    require_tool(ROCKSDICT)
}

fn checksum_type(n: u8) -> ChecksumType {
    [ChecksumType::None, ChecksumType::Crc32c, ChecksumType::XxHash, ChecksumType::XxHash64, ChecksumType::Xxh3]
        [n as usize]
}

/// The `rocksdb.compression` property RocksDB writes below format_version 7.
fn compression_property(name: &str) -> &'static str {
    match name {
        "none" => "NoCompression",
        "snappy" => "Snappy",
        "lz4" => "LZ4",
        "zstd" => "ZSTD",
        "bz2" => "BZip2",
        other => panic!("no property name for {other}"),
    }
}

/// sstkit's answer for `key`: `(seqno, kind, value)`.
type Got = Option<(u64, u8, Vec<u8>)>;

/// What `Table::get` must return: the point entry unless a newer tombstone covers the key.
fn expected_get(points: &[ToolEntry], tombstones: &[Tombstone], key: &[u8]) -> Got {
    let point = points.iter().find(|e| e.user_key == key);
    let tomb = tombstones.iter().filter(|(s, e, _)| s.as_slice() <= key && key < e.as_slice()).map(|t| t.2).max();
    match (point, tomb) {
        (Some(p), Some(t)) if t > p.seqno => Some((t, ValueType::RangeDeletion as u8, Vec::new())),
        (None, Some(t)) => Some((t, ValueType::RangeDeletion as u8, Vec::new())),
        (Some(p), _) => Some((p.seqno, p.kind, p.value.clone())),
        (None, None) => None,
    }
}

/// Reads `path` with sstkit and checks it holds exactly `points` and `tombstones`: forward and backward scans,
/// `verify_all`, `get` of every key and of absent neighbours, `rocksdb.num.entries`, the comparator and
/// (`table`) the footer, filter and compression property.
fn check_their_file(path: &Path, what: &str, points: &[ToolEntry], tombstones: &[Tombstone], table: &TableConfig) {
    let read = read_table_file(path).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!points.is_empty(), "{what}: nothing to compare");
    if read.entries != points {
        let at =
            read.entries.iter().zip(points).position(|(a, b)| a != b).unwrap_or(points.len().min(read.entries.len()));
        panic!(
            "{what}: scan differs at #{at} (sstkit {} entries, RocksDB wrote {}):\n sstkit {:?}\n rocksdb {:?}",
            read.entries.len(),
            points.len(),
            read.entries.get(at),
            points.get(at)
        );
    }
    assert_eq!(read.backward, read.entries, "{what}: backward scan");
    let ours: Vec<Tombstone> = read.tombstones.iter().map(|t| (t.start.clone(), t.end.clone(), t.seqno)).collect();
    assert_eq!(ours, tombstones, "{what}: range tombstones");
    assert!(read.blocks_verified >= 2, "{what}: verify_all checked {} blocks", read.blocks_verified);
    assert_eq!(read.num_entries, Some((points.len() + tombstones.len()) as u64), "{what}: rocksdb.num.entries");

    let bytes = std::fs::read(path).unwrap();
    with_table(&bytes, |t| {
        let footer = t.footer();
        assert_eq!(footer.format_version, table.format_version, "{what}: footer format_version");
        assert_eq!(footer.checksum, checksum_type(table.checksum), "{what}: footer checksum type");
        let props = t.properties();
        assert_eq!(props.comparator, Some(&b"leveldb.BytewiseComparator"[..]), "{what}: comparator");
        assert_eq!(
            props.compression.map(|c| String::from_utf8_lossy(c).into_owned()).as_deref(),
            Some(compression_property(table.compression)),
            "{what}: rocksdb.compression"
        );
        assert_eq!(t.filter().is_some(), table.bloom_bits > 0, "{what}: filter present");
        let mut buf = Vec::new();
        for e in points {
            let got = get_with(t, &e.user_key, &mut buf)?;
            assert_eq!(got, expected_get(points, tombstones, &e.user_key), "{what}: get {}", hex::encode(&e.user_key));
            if table.bloom_bits > 0 {
                assert!(t.may_contain(&e.user_key), "{what}: filter rejects {}", hex::encode(&e.user_key));
            }
            let absent = [e.user_key.as_slice(), b"\x00"].concat();
            if !points.iter().any(|p| p.user_key == absent) {
                let got = get_with(t, &absent, &mut buf)?;
                assert_eq!(
                    got,
                    expected_get(points, tombstones, &absent),
                    "{what}: get absent {}",
                    hex::encode(&absent)
                );
            }
        }
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{what}: {e}"));
}

/// `n` entries for `SstFileWriter`: [`sample_entries`] (binary keys, the empty key, empty values, values up to
/// 4 KB) with every 7th key deleted.
fn writer_entries(n: usize, seed: u64) -> Vec<SstEntry> {
    sample_entries(n, seed)
        .into_iter()
        .enumerate()
        .map(|(i, (k, v))| (k, if i % 7 == 3 { None } else { Some(v) }))
        .collect()
}

#[test]
fn sstkit_reads_sst_file_writer_matrix() {
    let Some(python) = rocksdict() else { return };
    let dir = tempfile::tempdir().unwrap();
    let mut cases = Vec::new();
    for format_version in 2..=6 {
        for checksum in 0..=4u8 {
            for compression in COMPRESSIONS {
                for bloom_bits in [0, 10] {
                    let table = TableConfig { format_version, checksum, compression, bloom_bits, block_size: 1024 };
                    let seed = cases.len() as u64 % 8;
                    let path = dir.path().join(format!("{}.sst", table.name()));
                    cases.push((table, path, writer_entries(150, seed)));
                }
            }
        }
    }
    let tasks: Vec<_> = cases.iter().map(|(t, p, e)| write_sst_task(p, t, e)).collect();
    let results = run_tasks(&python, &tasks).unwrap();
    let mut read = 0;
    for ((table, path, entries), result) in cases.iter().zip(&results) {
        let what = format!("SstFileWriter {}", table.name());
        expect_ok(result).unwrap_or_else(|e| panic!("{what}: RocksDB 10.4.2 refused to write: {e}"));
        check_their_file(path, &what, &sst_entries_as_tool(entries), &[], table);
        read += 1;
    }
    assert_eq!(results.len(), 250);
    assert_eq!(read, 250);
}

/// Two batches over sample keys: puts, overwrites, deletes and a range deletion whose older keys are dropped
/// by the flush, then a second batch overwriting, deleting and adding keys and deleting a range of the first.
fn db_batches(seed: u64) -> Vec<Vec<DbOp>> {
    let keys: Vec<Vec<u8>> = sample_entries(600, seed).into_iter().map(|(k, _)| k).collect();
    let value = |i: usize, round: u32| format!("v{round}-{i}-").repeat(1 + i % 30).into_bytes();
    let mut first = Vec::new();
    for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 5 != 4) {
        first.push(DbOp::Put(k.clone(), value(i, 1)));
    }
    for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 9 == 0) {
        first.push(DbOp::Put(k.clone(), value(i, 2)));
    }
    for k in keys.iter().skip(2).step_by(13) {
        first.push(DbOp::Delete(k.clone()));
    }
    // Covers puts and deletes written above: the flush drops them.
    let (lo, hi) = (300, 340);
    first.push(DbOp::DeleteRange(keys[lo].clone(), keys[hi].clone()));
    for (i, k) in keys.iter().enumerate().skip(lo).take(hi - lo).filter(|(i, _)| i % 4 == 0) {
        first.push(DbOp::Put(k.clone(), value(i, 3)));
    }
    let mut second = Vec::new();
    for (i, k) in keys.iter().enumerate().filter(|(i, _)| i % 5 == 4 || i % 11 == 1) {
        second.push(DbOp::Put(k.clone(), value(i, 4)));
    }
    for k in keys.iter().skip(6).step_by(17) {
        second.push(DbOp::Delete(k.clone()));
    }
    second.push(DbOp::DeleteRange(keys[500].clone(), keys[520].clone()));
    vec![first, second]
}

/// A file's point entries and range tombstones.
type FileModel = (Vec<ToolEntry>, Vec<Tombstone>);

#[test]
fn sstkit_reads_db_flushed_and_compacted_files() {
    let Some(python) = rocksdict() else { return };
    let dir = tempfile::tempdir().unwrap();
    let tables = [
        TableConfig::default(),
        TableConfig { format_version: 6, checksum: 4, compression: "lz4", bloom_bits: 10, block_size: 2048 },
        TableConfig { format_version: 5, checksum: 1, compression: "snappy", bloom_bits: 10, block_size: 4096 },
        TableConfig { format_version: 4, checksum: 3, compression: "zstd", bloom_bits: 0, block_size: 1024 },
        TableConfig { format_version: 2, checksum: 0, compression: "none", bloom_bits: 10, block_size: 4096 },
    ];
    let batches: Vec<_> = (0..tables.len() as u64).map(db_batches).collect();
    let tasks: Vec<_> = tables
        .iter()
        .zip(&batches)
        .enumerate()
        .map(|(i, (t, b))| db_files_task(&dir.path().join(format!("db{i}")), t, b, i % 2 == 0))
        .collect();
    let results = run_tasks(&python, &tasks).unwrap();
    let mut checked = 0;
    for (i, ((table, batches), result)) in tables.iter().zip(&batches).zip(&results).enumerate() {
        let compact = i % 2 == 0;
        let what = format!("DB {}", table.name());
        let files = parse_db_files(result).unwrap_or_else(|e| panic!("{what}: {e}"));
        let model = DbModel::of(batches);
        assert_eq!(files.last_seqno, model.last_seqno, "{what}: seqnos");
        let (paths, want): (Vec<(PathBuf, u64)>, Vec<FileModel>) = if compact {
            assert_eq!(files.compacted.len(), 1, "{what}: one compacted file: {:?}", files.compacted);
            assert_eq!(files.compacted[0].1, 6, "{what}: the compaction output is in the bottommost level");
            (files.compacted.clone(), vec![(model.compacted.clone(), Vec::new())])
        } else {
            assert!(files.flushed.iter().all(|f| f.1 == 0), "{what}: flushed files in L0: {:?}", files.flushed);
            (files.flushed.clone(), model.flushed.clone())
        };
        assert_eq!(paths.len(), want.len(), "{what}: files {paths:?}");
        for ((path, _), (points, tombs)) in paths.iter().zip(&want) {
            let what = format!("{what} {}", path.display());
            check_their_file(path, &what, points, tombs, table);
            let read = read_table_file(path).unwrap();
            assert_eq!(read.global_seqno, None, "{what}: a DB's own file has no global seqno");
            checked += 1;
        }
    }
    // Three DBs compacted into one file each, two kept their two flushed files; DBs 0 and 1 are fv6.
    assert_eq!(checked, 7);
}

/// A write of the model checks: a file of sample keys with puts, deletes and merges, and range deletions over
/// the gaps where only `base` keys live.
struct OurCase {
    what: String,
    bloom: bool,
}

/// Items of our file and the older data under them. Every other sample key is written by us; the others go to
/// the base. Every 3rd of ours is also in the base (so puts overwrite, deletes hide and merges append), and
/// every 40th gap between two of our keys is range-deleted (hiding the base keys inside).
fn ours_and_base(seed: u64) -> (Vec<Item>, Vec<KeyValue>) {
    let sample = sample_entries(500, seed);
    let mut items = Vec::new();
    let mut base = Vec::new();
    let mine: Vec<&KeyValue> = sample.iter().step_by(2).collect();
    for (i, (k, v)) in sample.iter().enumerate() {
        if i % 2 == 1 {
            base.push((k.clone(), format!("base-{i}").into_bytes()));
            continue;
        }
        let j = i / 2;
        if j % 3 == 0 {
            base.push((k.clone(), format!("old-{i}").into_bytes()));
        }
        items.push(match j % 10 {
            4 => Item::Delete(k.clone()),
            7 | 8 => Item::Merge(k.clone(), format!("op-{i}").into_bytes()),
            _ => Item::Put(k.clone(), v.clone()),
        });
        if j % 40 == 20 {
            if let Some((next, _)) = mine.get(j + 1) {
                items.push(Item::DeleteRange([k.as_slice(), b"\x00"].concat(), next.clone()));
            }
        }
    }
    (items, base)
}

/// The keys a case looks up: every base key, every key of ours, and a key just after each of ours.
fn probes(base: &[KeyValue], items: &[Item]) -> Vec<Vec<u8>> {
    let mut probe: Vec<Vec<u8>> = base.iter().map(|(k, _)| k.clone()).collect();
    for item in items {
        if let Item::Put(k, _) | Item::Delete(k) | Item::Merge(k, _) = item {
            probe.push(k.clone());
            probe.push([k.as_slice(), b"\x00\x01"].concat());
        }
    }
    probe
}

#[test]
fn rocksdb_10_ingests_sstkit_files() {
    let Some(python) = rocksdict() else { return };
    let dir = tempfile::tempdir().unwrap();
    let versions: Vec<u32> = (2..=6).collect();
    let mut cases = Vec::new();
    let mut tasks = Vec::new();
    let mut models = Vec::new();
    for &format_version in &versions {
        for checksum in 0..=4u8 {
            for lz4 in [false, true] {
                for bloom in [false, true] {
                    for index_restart in [1, 16] {
                        let seed = cases.len() as u64 % 6;
                        let (items, base) = ours_and_base(seed);
                        let opts = Options::default()
                            .format_version(format_version)
                            .checksum(checksum_type(checksum))
                            .compression(if lz4 { CompressionType::Lz4 } else { CompressionType::None })
                            .bloom_bits_per_key(if bloom { 10 } else { 0 })
                            .index_restart_interval(index_restart)
                            .block_size(1024);
                        let opts = pin_context_checksum(opts, 0x5eed_0000 + cases.len() as u32);
                        let what = format!(
                            "ours fv{format_version} ck{checksum} {} {} index-restart {index_restart}",
                            if lz4 { "lz4" } else { "none" },
                            if bloom { "bloom" } else { "nofilter" }
                        );
                        let path = dir.path().join(format!("ours{}.sst", cases.len()));
                        write_table(&path, opts, &items).unwrap_or_else(|e| panic!("{what}: {e}"));
                        let model = ingest_model(&base, &items);
                        let probe = probes(&base, &items);
                        tasks.push(ingest_task(
                            &dir.path().join(format!("db{}", cases.len())),
                            &base,
                            std::slice::from_ref(&path),
                            10,
                            &probe,
                        ));
                        models.push((model, probe));
                        cases.push(OurCase { what, bloom });
                    }
                }
            }
        }
    }
    let started = std::time::Instant::now();
    let results = run_tasks(&python, &tasks).unwrap();
    eprintln!("{} ingestions into RocksDB 10.4.2 in {:?}", tasks.len(), started.elapsed());
    check_ingested(&cases, &models, &results);
    assert_eq!(results.len(), versions.len() * 40);
}

/// What a case's DB must hold after ingestion, and the keys it looks up.
type CaseModel = (BTreeMap<Vec<u8>, Vec<u8>>, Vec<Vec<u8>>);

/// Each case's ingestion answers as its model says: RocksDB's full iteration equals the model, every probed key
/// answers as the model does, and the Bloom statistics show RocksDB consulted our filter (none without one).
fn check_ingested(cases: &[OurCase], models: &[CaseModel], results: &[serde_json::Value]) {
    for ((case, (model, probe)), result) in cases.iter().zip(models).zip(results) {
        let what = &case.what;
        let got = parse_ingested(result).unwrap_or_else(|e| panic!("{what}: RocksDB 10.4.2 refused the file: {e}"));
        let want: Vec<KeyValue> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        if got.items != want {
            let at = got.items.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(want.len().min(got.items.len()));
            panic!(
                "{what}: RocksDB's iteration differs at #{at} ({} items, model {}):\n rocksdb {:?}\n model {:?}",
                got.items.len(),
                want.len(),
                got.items.get(at),
                want.get(at)
            );
        }
        for (k, v) in probe.iter().zip(&got.gets) {
            assert_eq!(v.as_ref(), model.get(k), "{what}: get {}", hex::encode(k));
        }
        if case.bloom {
            assert!(got.bloom_useful > 0, "{what}: RocksDB never skipped our file by its filter");
            assert!(got.bloom_positive > 0, "{what}: our filter never said yes");
        } else {
            assert_eq!((got.bloom_useful, got.bloom_positive), (0, 0), "{what}: filter statistics without a filter");
        }
    }
}

/// A partitioned index (and partitioned filters) written by sstkit: format_version 4–6 × partition_filters on/off
/// × index restart interval 1/16, with many partitions (small blocks and a small metadata_block_size), ingested
/// and checked like [`rocksdb_10_ingests_sstkit_files`].
#[test]
fn rocksdb_10_ingests_partitioned_sstkit_files() {
    let Some(python) = rocksdict() else { return };
    let dir = tempfile::tempdir().unwrap();
    let (mut cases, mut tasks, mut models) = (Vec::new(), Vec::new(), Vec::new());
    for format_version in [4, 5, 6] {
        for partition_filters in [false, true] {
            for index_restart in [1, 16] {
                let n = cases.len();
                let (items, base) = ours_and_base(n as u64 % 6);
                let opts = Options::default()
                    .format_version(format_version)
                    .index_type(IndexType::Partitioned)
                    .metadata_block_size(128)
                    .partition_filters(partition_filters)
                    .index_restart_interval(index_restart)
                    .block_size(256);
                let opts = pin_context_checksum(opts, 0x9a70_0000 + n as u32);
                let what = format!(
                    "partitioned fv{format_version} {} index-restart {index_restart}",
                    if partition_filters { "partitioned filter" } else { "full filter" }
                );
                let path = dir.path().join(format!("part{n}.sst"));
                write_table(&path, opts, &items).unwrap_or_else(|e| panic!("{what}: {e}"));
                let partitions = with_table(&std::fs::read(&path).unwrap(), |t| Ok(t.properties().index_partitions))
                    .unwrap()
                    .unwrap_or(0);
                assert!(partitions >= 8, "{what}: only {partitions} partitions");
                let probe = probes(&base, &items);
                tasks.push(ingest_task(
                    &dir.path().join(format!("db{n}")),
                    &base,
                    std::slice::from_ref(&path),
                    10,
                    &probe,
                ));
                models.push((ingest_model(&base, &items), probe));
                cases.push(OurCase { what, bloom: true });
            }
        }
    }
    let results = run_tasks(&python, &tasks).unwrap();
    check_ingested(&cases, &models, &results);
    assert_eq!(results.len(), 12);
}

/// The data a merge check needs exists: merges over a base value and without one, deletes over a base value,
/// range deletions hiding base keys.
#[test]
fn ingest_model_covers_every_case() {
    let (items, base) = ours_and_base(1);
    let base_map: BTreeMap<_, _> = base.iter().cloned().collect();
    let model = ingest_model(&base, &items);
    let merged_on_base = items.iter().filter(|i| matches!(i, Item::Merge(k, _) if base_map.contains_key(k))).count();
    let merged_alone = items.iter().filter(|i| matches!(i, Item::Merge(k, _) if !base_map.contains_key(k))).count();
    let deletes_on_base = items.iter().filter(|i| matches!(i, Item::Delete(k) if base_map.contains_key(k))).count();
    let hidden = base_map.keys().filter(|k| !model.contains_key(*k)).count();
    assert!(
        merged_on_base > 0 && merged_alone > 0 && deletes_on_base > 0,
        "{merged_on_base} {merged_alone} {deletes_on_base}"
    );
    assert!(hidden > deletes_on_base, "range deletions hide base keys: {hidden} hidden");
    let merge_key = items.iter().find_map(|i| match i {
        Item::Merge(k, v) if base_map.contains_key(k) => Some((k.clone(), v.clone())),
        _ => None,
    });
    let (k, op) = merge_key.unwrap();
    assert_eq!(model[&k], [base_map[&k].as_slice(), b",", &op].concat());
}

#[test]
fn rocksdb_10_4_2_refuses_format_version_7() {
    let Some(python) = rocksdict() else { return };
    let dir = tempfile::tempdir().unwrap();
    let fv7 = TableConfig { format_version: 7, ..TableConfig::default() };
    let theirs = dir.path().join("theirs-fv7.sst");
    let entries: Vec<SstEntry> = vec![(b"a".to_vec(), Some(b"1".to_vec())), (b"b".to_vec(), Some(b"2".to_vec()))];
    let mut tasks = vec![
        open_db_task(&dir.path().join("open7"), &fv7),
        open_db_task(&dir.path().join("open6"), &TableConfig::default()),
        write_sst_task(&theirs, &fv7, &entries),
        ingest_task(&dir.path().join("ingest7"), &[], std::slice::from_ref(&theirs), 10, &[]),
    ];
    let ours = dir.path().join("ours-fv7.sst");
    let opts = pin_context_checksum(Options::default().format_version(7), 0x0707_0707);
    write_table(&ours, opts, &[Item::Put(b"a".to_vec(), b"1".to_vec())]).unwrap();
    tasks.push(ingest_task(&dir.path().join("ingest-ours7"), &[], std::slice::from_ref(&ours), 10, &[]));
    let results = run_tasks(&python, &tasks).unwrap();
    let err = expect_ok(&results[0]).expect_err("RocksDB 10.4.2 opened a DB with format_version 7");
    assert!(err.contains("Unsupported BlockBasedTable format_version"), "{err}");
    expect_ok(&results[1]).expect("format_version 6 is RocksDB 10.4.2's default");
    // Its SstFileWriter does not check the version: it writes a footer saying 7 that its own reader refuses.
    expect_ok(&results[2]).expect("SstFileWriter with format_version 7");
    let bytes = std::fs::read(&theirs).unwrap();
    let footer_version = u32::from_le_bytes(bytes[bytes.len() - 12..bytes.len() - 8].try_into().unwrap());
    assert_eq!(footer_version, 7);
    let err = parse_ingested(&results[3]).expect_err("RocksDB 10.4.2 ingested a format_version 7 file");
    assert!(err.contains("Corrupt or unsupported format_version: 7"), "{err}");
    let err = parse_ingested(&results[4]).expect_err("RocksDB 10.4.2 ingested our format_version 7 file");
    assert!(err.contains("Corrupt or unsupported format_version: 7"), "{err}");
}
