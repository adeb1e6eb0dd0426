//! RocksDB's and LevelDB's files in sstkit's reader.
//!
//! Every file is written by the real tools (RocksDB 7.8.3 `ldb`, LevelDB 1.23
//! through plyvel) and must decode with sstkit to exactly what
//! `sst_dump --command=scan --output_hex` prints: user keys, seqnos, types
//! and values, in order. Backward iteration must agree with forward
//! iteration, `get` must find every key (honouring range tombstones), `seek`
//! must land on the right entry, range tombstones must match what
//! `ldb list_file_range_deletes` reports, and `verify_all` must pass.

use std::path::Path;

use sstkit_core::table::{ReadOptions, Table, TableFilter};
use sstkit_core::ValueType;
use sstkit_tests::ours::{current, get_with, seek, with_table};
use sstkit_tests::*;

/// Both RocksDB tools; panics when one is missing (`None`: skipped with `SSTKIT_SKIP_MISSING_TOOLS=1`).
fn rocksdb_tools() -> Option<()> {
    require_tool(SST_DUMP)?;
    require_tool(LDB)?;
    Some(())
}

const COMPRESSIONS: [&str; 5] = ["no", "snappy", "lz4", "zlib", "zstd"];

/// `(start, end, seqno)` of range tombstones, sorted.
type Tombstones = Vec<(Vec<u8>, Vec<u8>, u64)>;

fn newest_covering(tombstones: &Tombstones, key: &[u8]) -> Option<u64> {
    tombstones.iter().filter(|(s, e, _)| s.as_slice() <= key && key < e.as_slice()).map(|t| t.2).max()
}

/// What `Table::get` must return for `key`, given the table's point entries
/// (as sst_dump prints them) and its range tombstones: the newest point entry
/// unless a newer tombstone covers the key.
fn expected_get(scan: &[ToolEntry], tombstones: &Tombstones, key: &[u8]) -> Option<(u64, u8, Vec<u8>)> {
    let point = scan.iter().find(|e| e.user_key == key);
    match (point, newest_covering(tombstones, key)) {
        (Some(p), Some(t)) if t > p.seqno => Some((t, ValueType::RangeDeletion as u8, Vec::new())),
        (None, Some(t)) => Some((t, ValueType::RangeDeletion as u8, Vec::new())),
        (Some(p), _) => Some((p.seqno, p.kind, p.value.clone())),
        (None, None) => None,
    }
}

/// Checks sstkit's view of `path` against `scan` (sst_dump's output) and the
/// range tombstones `tombstones` (from ldb), reporting errors with `what`.
/// Returns what sstkit read.
fn check_file(path: &Path, what: &str, scan: &[ToolEntry], tombstones: &Tombstones) -> OurRead {
    let ours = read_table_file(path).unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(!scan.is_empty(), "{what}: sst_dump printed no entries");
    if ours.entries != *scan {
        let at = ours.entries.iter().zip(scan).position(|(a, b)| a != b).unwrap_or(scan.len().min(ours.entries.len()));
        panic!(
            "{what}: forward scan differs from sst_dump at #{at} (ours {} entries, sst_dump {}):\n ours {:?}\n tool {:?}",
            ours.entries.len(),
            scan.len(),
            ours.entries.get(at),
            scan.get(at)
        );
    }
    assert!(ours.backward == ours.entries, "{what}: backward iteration differs from forward");
    assert!(ours.blocks_verified >= 3, "{what}: verify_all checked only {} blocks", ours.blocks_verified);
    let mut got_tombs: Tombstones = ours.tombstones.iter().map(|t| (t.start.clone(), t.end.clone(), t.seqno)).collect();
    got_tombs.sort();
    assert_eq!(&got_tombs, tombstones, "{what}: range tombstones differ from ldb list_file_range_deletes");

    let bytes = std::fs::read(path).unwrap();
    with_table(&bytes, |t| {
        check_lookups(t, what, scan, tombstones);
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    ours
}

/// `get` and `seek` for every distinct user key of `scan`, for the key just
/// after it (`key + 0x00`, absent unless it is the next key) and past the end.
/// One cursor is re-seeked for all keys (and stepped back after each seek);
/// every 16th key is also sought with a new cursor.
fn check_lookups(t: &Table<'_>, what: &str, scan: &[ToolEntry], tombstones: &Tombstones) {
    // First (newest) and last (oldest) entry of each distinct user key, in order.
    let mut firsts: Vec<&ToolEntry> = Vec::new();
    let mut lasts: Vec<&ToolEntry> = Vec::new();
    for e in scan {
        if firsts.last().is_none_or(|l| l.user_key != e.user_key) {
            firsts.push(e);
            lasts.push(e);
        } else {
            *lasts.last_mut().unwrap() = e;
        }
    }
    let mut buf = Vec::new();
    let mut cur = t.iter();
    for (i, e) in firsts.iter().enumerate() {
        let key = &e.user_key;
        let want = expected_get(scan, tombstones, key);
        assert_eq!(get_with(t, key, &mut buf).unwrap(), want, "{what}: get {}", hex::encode(key));
        cur.seek(key).unwrap();
        assert_eq!(current(&cur).unwrap().as_ref(), Some(*e), "{what}: seek {}", hex::encode(key));
        if i % 16 == 0 {
            assert_eq!(seek(t, key).unwrap().as_ref(), Some(*e), "{what}: seek (new cursor) {}", hex::encode(key));
        }

        let mut after = key.clone();
        after.push(0);
        let next = firsts.get(i + 1).copied();
        cur.seek(&after).unwrap();
        assert_eq!(current(&cur).unwrap().as_ref(), next, "{what}: seek {}", hex::encode(&after));
        if next.is_some() {
            cur.prev().unwrap();
            assert_eq!(
                current(&cur).unwrap().as_ref(),
                Some(lasts[i]),
                "{what}: prev after seek {}",
                hex::encode(&after)
            );
        }
        if next.is_none_or(|n| n.user_key != after) {
            let want = expected_get(scan, tombstones, &after);
            assert_eq!(get_with(t, &after, &mut buf).unwrap(), want, "{what}: get absent {}", hex::encode(&after));
        }
    }
    let mut past = firsts.last().unwrap().user_key.clone();
    past.extend_from_slice(b"\xff\xff");
    cur.seek(&past).unwrap();
    assert_eq!(current(&cur).unwrap(), None, "{what}: seek past the end");
    assert_eq!(seek(t, &past).unwrap(), None, "{what}: seek past the end (new cursor)");
    cur.seek(b"").unwrap();
    assert_eq!(current(&cur).unwrap().as_ref(), firsts.first().copied(), "{what}: seek to the empty key");
}

/// The table's full filter answers "maybe" for every key of `scan` and "no"
/// for most absent keys (so it is really read, not ignored).
fn check_full_filter(path: &Path, what: &str, scan: &[ToolEntry]) {
    let bytes = std::fs::read(path).unwrap();
    with_table(&bytes, |t| {
        assert!(matches!(t.filter(), Some(TableFilter::Full(_))), "{what}: no full filter read");
        for e in scan {
            assert!(t.may_contain(&e.user_key), "{what}: filter misses {}", hex::encode(&e.user_key));
        }
        let absent: Vec<Vec<u8>> = (0..2000u32).map(|i| format!("absent-key-{i}").into_bytes()).collect();
        let hits = absent.iter().filter(|k| t.may_contain(k)).count();
        assert!(hits < 100, "{what}: {hits}/2000 absent keys pass the filter");
        Ok(())
    })
    .unwrap();
}

// ---------------------------------------------------------------------------
// Files written by SstFileWriter (`ldb write_extern_sst`).

fn extern_variant(checksum: u8, compression: &'static str, format_version: u32, features: bool) -> RocksVariant {
    RocksVariant {
        checksum,
        compression,
        format_version,
        bloom: features,
        index_type: if features { 3 } else { 0 },
        data_block_hash_index: features,
        block_size: 1024,
        restart_interval: 4,
    }
}

fn check_extern(dir: &Path, n: usize, variant: &RocksVariant, entries: &[KeyValue]) {
    let what = format!("extern #{n} ({variant})");
    let sst = dir.join(format!("extern{n}.sst"));
    write_extern_sst(variant, entries, &sst).unwrap_or_else(|e| panic!("{what}: {e}"));
    let footer = read_footer(&sst).unwrap();
    assert_eq!(footer.format_version, variant.footer_format_version(), "{what}");
    assert_eq!(footer.checksum, variant.checksum, "{what}");
    let scan = sst_dump_scan(&sst).unwrap_or_else(|e| panic!("{what}: {e}"));
    let want: Vec<ToolEntry> = entries.iter().map(|(k, v)| ToolEntry::put(k, 0, v)).collect();
    assert!(scan == want, "{what}: sst_dump does not show the written entries");
    let ours = check_file(&sst, &what, &scan, &Vec::new());
    assert_eq!(ours.global_seqno, Some(0), "{what}: external file's global seqno");
    // The variant is what sstkit sees, too.
    let bytes = std::fs::read(&sst).unwrap();
    with_table(&bytes, |t| {
        assert_eq!(t.index_info().first_key, variant.index_type == 3, "{what}: index type");
        assert_eq!(t.filter().is_some(), variant.bloom, "{what}: filter");
        let compression = t.properties().compression.map(|c| String::from_utf8_lossy(c).into_owned());
        assert_eq!(compression.as_deref(), Some(variant.compression_property()?), "{what}: compression name");
        Ok(())
    })
    .unwrap_or_else(|e| panic!("{what}: {e}"));
    if variant.bloom {
        check_full_filter(&sst, &what, &scan);
    }
}

/// All 300 variants of the harness: 5 checksums × 5 compressions × 6 format
/// versions × {plain, Bloom filter + index type 3 + data-block hash index},
/// one test per checksum type.
fn extern_all_for_checksum(checksum: u8) {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(400, 3);
    let mut n = 0;
    for compression in COMPRESSIONS {
        for fv in 0..=5 {
            for features in [false, true] {
                check_extern(dir.path(), n, &extern_variant(checksum, compression, fv, features), &entries);
                n += 1;
            }
        }
    }
}

#[test]
fn extern_sst_checksum_none_all_variants() {
    extern_all_for_checksum(0);
}

#[test]
fn extern_sst_crc32c_all_variants() {
    extern_all_for_checksum(1);
}

#[test]
fn extern_sst_xxhash_all_variants() {
    extern_all_for_checksum(2);
}

#[test]
fn extern_sst_xxhash64_all_variants() {
    extern_all_for_checksum(3);
}

#[test]
fn extern_sst_xxh3_all_variants() {
    extern_all_for_checksum(4);
}

/// The filter, index type 3 and hash index each alone, and other block sizes
/// and restart intervals.
#[test]
fn extern_sst_feature_variants() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(400, 11);
    let base = extern_variant(4, "snappy", 5, false);
    for (n, v) in [
        RocksVariant { bloom: true, ..base.clone() },
        RocksVariant { index_type: 3, ..base.clone() },
        RocksVariant { data_block_hash_index: true, ..base.clone() },
        RocksVariant { index_type: 3, format_version: 2, compression: "zstd", ..base.clone() },
        RocksVariant { block_size: 16384, restart_interval: 16, ..base.clone() },
        RocksVariant { block_size: 256, restart_interval: 1, bloom: true, ..base },
    ]
    .iter()
    .enumerate()
    {
        check_extern(dir.path(), n, v, &entries);
    }
}

/// Files RocksDB wrote with its defaults (XXH3, Snappy, fv5, compressed
/// index) and with one entry only.
#[test]
fn extern_sst_defaults_and_single_entry() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(3000, 12);
    check_extern(dir.path(), 0, &RocksVariant::default(), &entries);
    for (n, len) in KEY_LENGTHS.iter().enumerate() {
        let key = vec![0xa5u8; *len];
        let v = RocksVariant { bloom: true, ..RocksVariant::default() };
        check_extern(dir.path(), n + 1, &v, &[(key, b"only".to_vec())]);
    }
    check_extern(dir.path(), 100, &RocksVariant::default(), &[(Vec::new(), Vec::new())]);
}

/// BZip2 blocks (compression type 3), every format_version (fv < 2: no length
/// prefix), with and without the filter/index-type-3/hash-index features, and
/// the legacy ones opened with the default read options and a 1 MiB index buffer.
#[test]
fn extern_sst_bzip2() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(400, 14);
    let mut n = 0;
    for fv in 0..=5 {
        for features in [false, true] {
            let checksum = if fv == 0 { 1 } else { 4 };
            check_extern(dir.path(), n, &extern_variant(checksum, "bzip2", fv, features), &entries);
            n += 1;
        }
    }
    for fv in [0, 1] {
        let bytes = std::fs::read(dir.path().join(format!("extern{}.sst", 2 * fv))).unwrap();
        let mut index_buf = vec![0u8; 1 << 20];
        let t = Table::open_with(&bytes, ReadOptions::default(), &mut index_buf).unwrap();
        let (k, v) = &entries[9];
        let mut buf = Vec::new();
        assert_eq!(t.get(k, &mut buf).unwrap().unwrap().value, v.as_slice(), "fv{fv}");
    }
}

/// Zlib blocks of format_version < 2 do not record their uncompressed length.
/// Opening such a table with the default read options must not demand an
/// index buffer of `max_block_len` (64 MiB) for an index of a few hundred
/// bytes: 1 MiB is plenty here.
#[test]
fn legacy_zlib_index_opens_with_default_options() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(50, 13);
    for (fv, checksum) in [(0, 1), (1, 4)] {
        let variant = extern_variant(checksum, "zlib", fv, false);
        let sst = dir.path().join(format!("zlib{fv}.sst"));
        write_extern_sst(&variant, &entries, &sst).unwrap();
        let bytes = std::fs::read(&sst).unwrap();
        let mut index_buf = vec![0u8; 1 << 20];
        let opened = Table::open_with(&bytes, ReadOptions::default(), &mut index_buf);
        assert!(opened.is_ok(), "{variant}: {} byte file: {:?}", bytes.len(), opened.err());
        let t = opened.unwrap();
        let (k, v) = &entries[7];
        let mut buf = Vec::new();
        let found = t.get(k, &mut buf).unwrap().unwrap();
        assert_eq!(found.value, v.as_slice(), "{variant}");
        assert!(buf.len() <= 1 << 20, "{variant}: get used a {} byte buffer", buf.len());
    }
}

// ---------------------------------------------------------------------------
// Files written by flushes and compactions (real seqnos, tombstones).

/// Puts of 1200 sample entries, then deletes of every 7th key and of absent
/// keys, overwrites, a range deletion over a stretch of keys with some keys
/// re-put inside it, and a second range deletion over absent keys.
fn flush_ops(seed: u64) -> Vec<Op> {
    let entries = sample_entries(1200, seed);
    let mut ops: Vec<Op> = entries.iter().map(|(k, v)| Op::Put(k.clone(), v.clone())).collect();
    for (k, _) in entries.iter().step_by(7) {
        ops.push(Op::Delete(k.clone()));
    }
    ops.push(Op::Delete(b"absent/1".to_vec()));
    ops.push(Op::Delete(b"\xff\xff\xff\xff\xff\xffabsent".to_vec()));
    for (k, _) in entries.iter().skip(3).step_by(11) {
        ops.push(Op::Put(k.clone(), b"overwritten".to_vec()));
    }
    let (lo, hi) = (&entries[500].0, &entries[600].0);
    ops.push(Op::DeleteRange(lo.clone(), hi.clone()));
    for (k, _) in entries[520..580].iter().step_by(6) {
        ops.push(Op::Put(k.clone(), b"after the range deletion".to_vec()));
    }
    ops.push(Op::DeleteRange(b"absent/0".to_vec(), b"absent/9".to_vec()));
    ops.push(Op::Delete(entries[530].0.clone()));
    ops
}

fn tombstones_of(out: &DbSsts, file: &Path) -> Tombstones {
    let name = file.file_name().unwrap().to_string_lossy().into_owned();
    let mut t: Tombstones = out
        .range_deletes
        .iter()
        .filter(|r| r.file_name == name)
        .map(|r| (r.begin.clone(), r.end.clone(), r.seqno))
        .collect();
    t.sort();
    t
}

fn check_db_ssts(out: &DbSsts, what: &str, variant: &RocksVariant, flushed: bool) {
    assert!(!out.files.is_empty(), "{what}: no files");
    for file in &out.files {
        let what = format!("{what} {}", file.file_name().unwrap().to_string_lossy());
        check_variant(file, variant).unwrap_or_else(|e| panic!("{what}: {e}"));
        let scan = sst_dump_scan(file).unwrap_or_else(|e| panic!("{what}: {e}"));
        let tombstones = tombstones_of(out, file);
        if flushed {
            assert!(scan.iter().any(|e| e.kind == 0), "{what}: no point tombstones in a flush");
            assert!(scan.iter().all(|e| e.seqno > 0), "{what}: flushed seqnos must be real");
            assert_eq!(tombstones.len(), 2, "{what}: {tombstones:?}");
            assert!(tombstones.iter().all(|t| t.2 > 1000), "{what}: {tombstones:?}");
        } else {
            assert!(scan.iter().all(|e| e.seqno == 0 && e.kind == 1), "{what}: compaction output");
            assert!(tombstones.is_empty(), "{what}");
        }
        let ours = check_file(file, &what, &scan, &tombstones);
        assert_eq!(ours.global_seqno, None, "{what}: not an external file");
        if variant.bloom {
            check_full_filter(file, &what, &scan);
        }
    }
}

fn flush_variants() -> Vec<RocksVariant> {
    let base = RocksVariant { block_size: 1024, restart_interval: 4, ..RocksVariant::default() };
    let mut out = Vec::new();
    for checksum in 0..=4u8 {
        out.push(RocksVariant {
            checksum,
            compression: COMPRESSIONS[usize::from(checksum)],
            format_version: [0, 1, 2, 3, 4][usize::from(checksum)],
            ..base.clone()
        });
    }
    out.push(RocksVariant { bloom: true, index_type: 3, data_block_hash_index: true, ..base.clone() });
    out.push(RocksVariant {
        bloom: true,
        format_version: 3,
        compression: "zlib",
        checksum: 2,
        index_type: 3,
        ..base.clone()
    });
    out.push(RocksVariant {
        checksum: 1,
        format_version: 0,
        compression: "snappy",
        data_block_hash_index: true,
        ..base
    });
    out
}

#[test]
fn flushed_ssts_with_real_seqnos_and_tombstones() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ops = flush_ops(21);
    for (n, variant) in flush_variants().iter().enumerate() {
        let what = format!("flush #{n} ({variant})");
        let out =
            flush_ssts(variant, &ops, &dir.path().join(format!("flush{n}"))).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(out.files.len(), 1, "{what}: {:?}", out.files);
        check_db_ssts(&out, &what, variant, true);
    }
}

#[test]
fn compacted_ssts_without_tombstones() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ops = flush_ops(22);
    let base = RocksVariant { block_size: 2048, restart_interval: 8, ..RocksVariant::default() };
    let variants = [
        RocksVariant { checksum: 3, compression: "lz4", format_version: 1, ..base.clone() },
        RocksVariant { checksum: 1, compression: "zstd", bloom: true, index_type: 3, ..base.clone() },
        RocksVariant { checksum: 0, compression: "no", format_version: 2, data_block_hash_index: true, ..base },
    ];
    for (n, variant) in variants.iter().enumerate() {
        let what = format!("compaction #{n} ({variant})");
        let out = compacted_ssts(variant, &ops, &dir.path().join(format!("compact{n}")))
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        check_db_ssts(&out, &what, variant, false);
    }
}

// ---------------------------------------------------------------------------
// Ingested copies: RocksDB rewrites the global seqno in the properties block.

#[test]
fn ingested_copy_with_rewritten_global_seqno() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(500, 31);
    let db = dir.path().join("db");
    for (n, variant) in [
        RocksVariant { checksum: 1, compression: "no", ..RocksVariant::default() },
        RocksVariant::default(),
        RocksVariant { checksum: 2, compression: "zlib", format_version: 2, bloom: true, ..RocksVariant::default() },
    ]
    .iter()
    .enumerate()
    {
        let what = format!("ingestion #{n} ({variant})");
        // Overlapping files: each ingestion after the first gets a new global seqno.
        let values: Vec<KeyValue> =
            entries.iter().map(|(k, v)| (k.clone(), [v.as_slice(), format!("#{n}").as_bytes()].concat())).collect();
        let sst = dir.path().join(format!("in{n}.sst"));
        write_extern_sst(variant, &values, &sst).unwrap_or_else(|e| panic!("{what}: {e}"));
        let before = ldb_live_sst_files(&db).unwrap_or_default();
        ldb_ingest(&db, &sst).unwrap_or_else(|e| panic!("{what}: {e}"));
        let after = ldb_live_sst_files(&db).unwrap();
        let new: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
        assert_eq!(new.len(), 1, "{what}: {before:?} -> {after:?}");
        let copy = dir.path().join(format!("copy{n}.sst"));
        std::fs::copy(new[0], &copy).unwrap();

        let scan = sst_dump_scan(&copy).unwrap_or_else(|e| panic!("{what}: {e}"));
        let seqno = n as u64;
        assert!(scan.iter().all(|e| e.seqno == seqno), "{what}: sst_dump shows another global seqno");
        let ours = check_file(&copy, &what, &scan, &Vec::new());
        assert_eq!(ours.global_seqno, Some(seqno), "{what}");
        assert_eq!(ldb_scan_hex(&db).unwrap(), values, "{what}: newest values win");
    }
}

// ---------------------------------------------------------------------------
// LevelDB tables.

#[test]
fn leveldb_tables() {
    let Some(_) = require_tool(PLYVEL) else { return };
    let Some(_) = require_tool(SST_DUMP) else { return };
    let entries = sample_entries(2500, 41);
    for compression in [false, true] {
        let what = format!("leveldb table (snappy: {compression})");
        let dir = tempfile::tempdir().unwrap();
        let table = write_leveldb_table(&entries, dir.path(), compression).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(read_footer(&table).unwrap().legacy, "{what}");

        let ours = read_table_file(&table).unwrap_or_else(|e| panic!("{what}: {e}"));
        let pairs: Vec<KeyValue> = ours.entries.iter().map(|e| (e.user_key.clone(), e.value.clone())).collect();
        assert!(pairs == entries, "{what}: entries differ from those written");
        assert!(ours.entries.iter().all(|e| e.kind == 1 && e.seqno >= 1), "{what}");
        assert_eq!(ours.global_seqno, None, "{what}");

        // Exactly what sst_dump shows, seqnos included; then lookups.
        let scan = sst_dump_scan_leveldb(&table).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(check_file(&table, &what, &scan, &Vec::new()), ours, "{what}");

        // The LevelDB filter is read: it passes every key in its block and
        // rejects most absent keys.
        let bytes = std::fs::read(&table).unwrap();
        with_table(&bytes, |t| {
            let Some(TableFilter::LevelDb(f)) = t.filter() else { panic!("{what}: no LevelDB filter read") };
            let mut c = t.iter();
            c.seek_to_first().unwrap();
            let (mut hits, mut absent) = (0, 0);
            while let Some(e) = c.entry().unwrap() {
                let offset = c.block_handle().offset;
                assert!(f.may_match(offset, e.user_key), "{what}: filter misses {}", hex::encode(e.user_key));
                let mut other = e.user_key.to_vec();
                other.extend_from_slice(b"\x01absent");
                if !entries.iter().any(|(k, _)| *k == other) {
                    absent += 1;
                    hits += usize::from(f.may_match(offset, &other));
                }
                c.next().unwrap();
            }
            assert!(hits * 20 < absent, "{what}: {hits}/{absent} absent keys pass the filter");
            Ok(())
        })
        .unwrap();
    }
}
