//! sstkit's files in RocksDB 7.8.3.
//!
//! For every format_version 2–5 × CRC32C/XXH3 × no compression/LZ4 × Bloom
//! filter on/off (32 combinations) sstkit writes a file of about 100 000
//! entries (puts, deletes, merges and range deletions) and a file of one
//! entry. Each must:
//! * pass `sst_dump --command=verify --verify_checksum`;
//! * list exactly our point entries in `sst_dump --command=scan --output_hex`;
//! * be ingested by `ldb ingest_extern_sst` into a new DB, whose `ldb scan`
//!   then returns exactly the live keys and whose `list_file_range_deletes`
//!   returns our range deletions;
//! * with a filter: be ingested into a DB whose options name the Bloom policy
//!   (so RocksDB consults our filter) and have EVERY live key found by
//!   `ldb query` (`DB::Get`), and deleted keys not found. Without a filter,
//!   every 5th key (every key of small files) is looked up the same way in the
//!   plain DB (an index check).
//!
//! Observed RocksDB behaviour encoded here:
//! * a merge operand without a base value, read by ldb (no merge operator
//!   configured), shows the operand itself in `scan`, `get` and `query`;
//! * a range deletion and a put of a key it covers, in the SAME external file,
//!   get the same global seqno, and RocksDB keeps the put (a tombstone only
//!   covers keys with a smaller seqno); keys from older files in the range are
//!   deleted (see `range_deletion_and_put_in_the_same_file`).

use std::path::Path;

use sstkit_core::table::{IndexType, Options};
use sstkit_core::{ChecksumType, CompressionType, ValueType};
use sstkit_tests::ours::{get, with_table};
use sstkit_tests::*;

/// Both RocksDB tools; panics when one is missing (`None`: skipped with `SSTKIT_SKIP_MISSING_TOOLS=1`).
fn rocksdb_tools() -> Option<()> {
    require_tool(SST_DUMP)?;
    require_tool(LDB)?;
    Some(())
}

const BLOOM_DB: [(&str, &str); 1] = [("filter_policy", "bloomfilter:10:false")];

/// Point entries in the large files.
const BIG: usize = 100_000;

#[derive(Clone, Copy, Debug)]
struct Combo {
    format_version: u32,
    checksum: ChecksumType,
    lz4: bool,
    bloom: bool,
}

impl Combo {
    fn options(&self) -> Options {
        Options::default()
            .format_version(self.format_version)
            .checksum(self.checksum)
            .compression(if self.lz4 { CompressionType::Lz4 } else { CompressionType::None })
            .bloom_bits_per_key(if self.bloom { 10 } else { 0 })
    }

    fn name(&self) -> String {
        format!(
            "fv{}-{:?}-{}-{}",
            self.format_version,
            self.checksum,
            if self.lz4 { "lz4" } else { "none" },
            if self.bloom { "bloom" } else { "nofilter" }
        )
    }
}

/// About [`BIG`] point entries: 400 sample entries (every key length of the
/// filter hash, binary keys, values up to 4 KiB) plus short `row/` entries.
/// Every 23rd key is deleted, every 31st is a merge operand; every 1000th gap
/// between two keys gets a range deletion that covers no key of the file
/// (`key + 0x00` to the next key), and one more range deletion lies past the
/// last key.
fn big_items(seed: u64) -> Vec<Item> {
    let mut all: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = sample_entries(400, seed).into_iter().collect();
    let mut i = 0u64;
    while all.len() < BIG {
        let key = format!("row/{:09}", i * 7 + seed % 7).into_bytes();
        let value = format!("v{i}.").repeat(1 + (i % 5) as usize).into_bytes();
        all.insert(key, value);
        i += 1;
    }
    let keys: Vec<Vec<u8>> = all.keys().cloned().collect();
    let mut items = Vec::with_capacity(BIG + BIG / 1000 + 1);
    for (j, (k, v)) in all.into_iter().enumerate() {
        let after = [k.as_slice(), &[0]].concat();
        items.push(match j % 31 {
            7 => Item::Merge(k, v),
            _ if j % 23 == 5 => Item::Delete(k),
            _ => Item::Put(k, v),
        });
        if j % 1000 == 999 {
            if let Some(next) = keys.get(j + 1) {
                if after < *next {
                    items.push(Item::DeleteRange(after, next.clone()));
                }
            }
        }
    }
    let last = keys.last().unwrap();
    items.push(Item::DeleteRange([last.as_slice(), &[0]].concat(), [last.as_slice(), &[1]].concat()));
    items
}

/// What `ldb scan` shows after ingesting `items` into an empty DB: puts and
/// merge operands (shown as values), not deleted keys. The range deletions of
/// these files cover no key of the file.
fn live(items: &[Item]) -> Vec<KeyValue> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Put(k, v) | Item::Merge(k, v) => Some((k.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

/// Keys of `items` that must not be found: deleted keys (up to `n`).
fn deleted_keys(items: &[Item], n: usize) -> Vec<Vec<u8>> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::Delete(k) => Some(k.clone()),
            _ => None,
        })
        .take(n)
        .collect()
}

/// Range deletions as ldb reports them after ingestion into an empty DB
/// (global seqno 0), sorted.
fn want_range_deletes(items: &[Item], seqno: u64) -> Vec<(Vec<u8>, Vec<u8>, u64)> {
    let mut v: Vec<_> = range_deletions(items).into_iter().map(|(s, e)| (s, e, seqno)).collect();
    v.sort();
    v
}

fn ldb_range_deletes_sorted(db: &Path) -> Vec<(Vec<u8>, Vec<u8>, u64)> {
    let mut v: Vec<_> = ldb_range_deletes(db).unwrap().into_iter().map(|r| (r.begin, r.end, r.seqno)).collect();
    v.sort();
    v
}

/// All the checks of the module docs for one file built from `items`.
fn check_file(dir: &Path, name: &str, opts: Options, items: &[Item]) {
    let bloom = opts.bloom_millibits_per_key != 0;
    let sst = dir.join(format!("{name}.sst"));
    let stats = write_table(&sst, opts, items).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(stats.num_entries() as usize, items.len(), "{name}");

    // sst_dump: checksums and the point entries.
    sst_dump_verify(&sst).unwrap_or_else(|e| panic!("{name}: {e}"));
    let scan = sst_dump_scan(&sst).unwrap_or_else(|e| panic!("{name}: {e}"));
    let want = point_entries(items, 0);
    if scan != want {
        let at = scan.iter().zip(&want).position(|(a, b)| a != b).unwrap_or(scan.len().min(want.len()));
        panic!(
            "{name}: sst_dump scan differs at #{at} ({} entries, want {}):\n tool {:?}\n want {:?}",
            scan.len(),
            want.len(),
            scan.get(at),
            want.get(at)
        );
    }
    let props = sst_dump_properties(&sst).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(props["# entries"], items.len().to_string(), "{name}");
    assert_eq!(props["# range deletions"], range_deletions(items).len().to_string(), "{name}");
    // A file without point keys has no filter (as with RocksDB's own writer).
    let has_filter = bloom && !point_entries(items, 0).is_empty();
    assert_eq!(props["filter policy name"], if has_filter { "bloomfilter" } else { "N/A" }, "{name}");

    // Ingestion into a new DB with default options.
    let live = live(items);
    let plain = dir.join(format!("{name}-db"));
    ldb_ingest(&plain, &sst).unwrap_or_else(|e| panic!("{name}: {e}"));
    let scanned = ldb_scan_hex(&plain).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(scanned == live, "{name}: ldb scan shows {} rows, want {}", scanned.len(), live.len());
    assert_eq!(ldb_range_deletes_sorted(&plain), want_range_deletes(items, 0), "{name}");

    // Point lookups of every live key (through our filter in a Bloom DB),
    // then deleted keys, which must be missing.
    let db = if bloom {
        let db = dir.join(format!("{name}-bloomdb"));
        create_db_with_options(&db, &BLOOM_DB).unwrap();
        ldb_ingest(&db, &sst).unwrap_or_else(|e| panic!("{name}: {e}"));
        db
    } else {
        plain
    };
    // Without a filter the lookups only exercise the index: every 5th key of
    // the large files is enough there.
    let step = if bloom || live.len() < 1000 { 1 } else { 5 };
    let mut keys: Vec<Vec<u8>> = live.iter().step_by(step).map(|(k, _)| k.clone()).collect();
    let mut want: Vec<Option<Vec<u8>>> = live.iter().step_by(step).map(|(_, v)| Some(v.clone())).collect();
    for k in deleted_keys(items, 3) {
        keys.push(k);
        want.push(None);
    }
    let got = ldb_multi_get_hex(&db, &keys).unwrap_or_else(|e| panic!("{name}: {e}"));
    if got != want {
        let misses: Vec<String> = got
            .iter()
            .zip(&want)
            .zip(&keys)
            .filter(|((g, w), _)| g != w)
            .take(5)
            .map(|(_, k)| hex::encode(k))
            .collect();
        let n = got.iter().zip(&want).filter(|(g, w)| g != w).count();
        panic!("{name}: {n} of {} lookups wrong, e.g. keys {misses:?}", keys.len());
    }
}

fn combos(format_version: u32, checksum: ChecksumType) {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let items = big_items(u64::from(format_version) * 10 + checksum as u64);
    assert!(items.len() > BIG, "{}", items.len());
    let started = std::time::Instant::now();
    for (n, (lz4, bloom)) in [(false, false), (false, true), (true, false), (true, true)].into_iter().enumerate() {
        let combo = Combo { format_version, checksum, lz4, bloom };
        let name = combo.name();
        check_file(dir.path(), &format!("{name}-big"), combo.options(), &items);
        // One entry, its key length cycling through the filter hash's paths.
        let len = KEY_LENGTHS[(format_version as usize * 8 + checksum as usize * 4 + n) % KEY_LENGTHS.len()];
        let key: Vec<u8> = (0..len).map(|i| (i * 31 + n) as u8).collect();
        check_file(dir.path(), &format!("{name}-one"), combo.options(), &[Item::Put(key, b"the only value".to_vec())]);
    }
    eprintln!("fv{format_version} {checksum:?}: 4 combinations in {:?}", started.elapsed());
}

/// Partitioned indexes and filters (format_version 4 and 5, each with partition_filters off and on, index
/// restart intervals 1 and 16 between them; every 16th item of the large file, small blocks and partitions so there are many): every check of
/// [`check_file`], and `sst_dump` reports the partitions.
#[test]
fn partitioned_index_and_filters() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<Item> = big_items(45).into_iter().step_by(16).collect();
    let combos = [(4, false, 16), (4, true, 1), (5, false, 1), (5, true, 16)];
    for (format_version, partition_filters, index_restart) in combos {
        let name = format!("partitioned-fv{format_version}-pf{partition_filters}-ir{index_restart}");
        let opts = Options::default()
            .format_version(format_version)
            .checksum(ChecksumType::Xxh3)
            .block_size(1024)
            .index_type(IndexType::Partitioned)
            .metadata_block_size(256)
            .partition_filters(partition_filters)
            .index_restart_interval(index_restart);
        check_file(dir.path(), &name, opts, &items);
        let props = sst_dump_properties(&dir.path().join(format!("{name}.sst"))).unwrap();
        let partitions: u64 = props["# index partitions"].parse().unwrap();
        assert!(partitions > 20, "{name}: {partitions} partitions");
    }
}

#[test]
fn fv2_crc32c() {
    combos(2, ChecksumType::Crc32c);
}

#[test]
fn fv2_xxh3() {
    combos(2, ChecksumType::Xxh3);
}

#[test]
fn fv3_crc32c() {
    combos(3, ChecksumType::Crc32c);
}

#[test]
fn fv3_xxh3() {
    combos(3, ChecksumType::Xxh3);
}

#[test]
fn fv4_crc32c() {
    combos(4, ChecksumType::Crc32c);
}

#[test]
fn fv4_xxh3() {
    combos(4, ChecksumType::Xxh3);
}

#[test]
fn fv5_crc32c() {
    combos(5, ChecksumType::Crc32c);
}

#[test]
fn fv5_xxh3() {
    combos(5, ChecksumType::Xxh3);
}

/// Files of a single delete, a single merge operand or a single range
/// deletion are valid external files too.
#[test]
fn single_entry_of_each_kind() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for fv in 2..=5u32 {
        let opts = Options::default().format_version(fv).checksum(ChecksumType::Xxh3);
        for (kind, item) in [
            ("delete", Item::Delete(b"gone".to_vec())),
            ("merge", Item::Merge(b"merged".to_vec(), b"operand".to_vec())),
            ("range", Item::DeleteRange(b"a".to_vec(), b"b".to_vec())),
        ] {
            check_file(dir.path(), &format!("fv{fv}-{kind}"), opts.clone(), &[item]);
        }
    }
}

/// RocksDB consults our filter: a DB with the Bloom policy finds nothing in a
/// copy of our file whose filter bits were zeroed (no checksums, so the file
/// stays valid), while the intact file answers every key. Without this the
/// lookups above would pass whatever our filter held.
#[test]
fn rocksdb_consults_our_filter() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(300, 7);
    let items: Vec<Item> = entries.iter().map(|(k, v)| Item::Put(k.clone(), v.clone())).collect();
    let keys: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
    for fv in 2..=5u32 {
        let opts = Options::default().format_version(fv).checksum(ChecksumType::None);
        let (bytes, _) = build_table(opts, &items).unwrap();
        let good = dir.path().join(format!("fv{fv}-good.sst"));
        std::fs::write(&good, &bytes).unwrap();

        let (offset, size) = filter_block(&good);
        assert_eq!(bytes[offset + size - 5], 0xff, "fv{fv}: FastLocalBloom metadata marker");
        let mut zeroed = bytes.clone();
        zeroed[offset..offset + size - 5].fill(0);
        let bad = dir.path().join(format!("fv{fv}-zeroed.sst"));
        std::fs::write(&bad, &zeroed).unwrap();
        sst_dump_verify(&bad).unwrap();

        let db = dir.path().join(format!("fv{fv}-zeroed-db"));
        create_db_with_options(&db, &BLOOM_DB).unwrap();
        ldb_ingest(&db, &bad).unwrap();
        assert_eq!(ldb_scan_hex(&db).unwrap(), entries, "fv{fv}");
        let probe = &keys[..20];
        assert_eq!(ldb_multi_get_hex(&db, probe).unwrap(), vec![None; probe.len()], "fv{fv}: filter not consulted");

        let db = dir.path().join(format!("fv{fv}-good-db"));
        create_db_with_options(&db, &BLOOM_DB).unwrap();
        ldb_ingest(&db, &good).unwrap();
        let want: Vec<Option<Vec<u8>>> = entries.iter().map(|(_, v)| Some(v.clone())).collect();
        assert_eq!(ldb_multi_get_hex(&db, &keys).unwrap(), want, "fv{fv}");
    }
}

/// `(offset, size)` of the filter block, from sst_dump's raw dump
/// (`Filter block handle: HEX`).
fn filter_block(sst: &Path) -> (usize, usize) {
    let raw = sst_dump_raw(sst).unwrap();
    let hex_handle = raw
        .lines()
        .find_map(|l| l.trim().strip_prefix("Filter block handle:"))
        .unwrap_or_else(|| panic!("no filter block handle in raw dump:\n{raw}"));
    let bytes = hex::decode(hex_handle.trim()).unwrap();
    let (offset, n) = varint(&bytes);
    let (size, _) = varint(&bytes[n..]);
    (offset as usize, size as usize)
}

fn varint(bytes: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    panic!("bad varint {bytes:02x?}");
}

fn k(s: &str) -> Vec<u8> {
    s.as_bytes().to_vec()
}

/// A range deletion covering a put of the same external file: RocksDB gives
/// both the file's global seqno, and a tombstone covers only smaller seqnos,
/// so the put survives, in an empty DB (global seqno 0) as well as on top of
/// older data (global seqno > 0), where the older keys in the range are
/// deleted. sstkit's reader agrees on RocksDB's ingested copy.
#[test]
fn range_deletion_and_put_in_the_same_file() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let old: Vec<Item> = (0..20).map(|i| Item::Put(k(&format!("k{i:02}")), k(&format!("old{i}")))).collect();
    let new = vec![
        Item::DeleteRange(k("k03"), k("k10")),
        Item::Put(k("k05"), k("new5")),
        Item::Put(k("k07"), k("new7")),
        Item::Delete(k("k12")),
        Item::DeleteRange(k("k16"), k("k18")),
        Item::Put(k("k25"), k("new25")),
    ];
    for (n, fv) in (2..=5u32).enumerate() {
        let opts = Options::default()
            .format_version(fv)
            .checksum([ChecksumType::Crc32c, ChecksumType::Xxh3][n % 2])
            .compression([CompressionType::None, CompressionType::Lz4][n / 2])
            .bloom_bits_per_key([0, 10][n % 2]);
        let what = format!("fv{fv}");
        let old_sst = dir.path().join(format!("old{fv}.sst"));
        let new_sst = dir.path().join(format!("new{fv}.sst"));
        write_table(&old_sst, opts.clone(), &old).unwrap();
        write_table(&new_sst, opts, &new).unwrap();
        sst_dump_verify(&new_sst).unwrap();

        // Alone in an empty DB: the puts in the range survive.
        let alone = dir.path().join(format!("alone{fv}"));
        ldb_ingest(&alone, &new_sst).unwrap_or_else(|e| panic!("{what}: {e}"));
        let want = vec![(k("k05"), k("new5")), (k("k07"), k("new7")), (k("k25"), k("new25"))];
        assert_eq!(ldb_scan_hex(&alone).unwrap(), want, "{what}");
        assert_eq!(ldb_get_hex(&alone, b"k05").unwrap(), Some(k("new5")), "{what}");

        // On top of older data.
        let db = dir.path().join(format!("db{fv}"));
        create_db_with_options(&db, &[("disable_auto_compactions", "true"), BLOOM_DB[0]]).unwrap();
        ldb_ingest(&db, &old_sst).unwrap_or_else(|e| panic!("{what}: {e}"));
        let before = ldb_live_sst_files(&db).unwrap();
        ldb_ingest(&db, &new_sst).unwrap_or_else(|e| panic!("{what}: {e}"));
        let mut want: Vec<KeyValue> = Vec::new();
        for i in 0..20 {
            match i {
                5 => want.push((k("k05"), k("new5"))),
                7 => want.push((k("k07"), k("new7"))),
                3..=9 | 12 | 16 | 17 => {}
                _ => want.push((k(&format!("k{i:02}")), k(&format!("old{i}")))),
            }
        }
        want.push((k("k25"), k("new25")));
        assert_eq!(ldb_scan_hex(&db).unwrap(), want, "{what}");
        let lookups: Vec<Vec<u8>> = want.iter().map(|(k, _)| k.clone()).collect();
        let values: Vec<Option<Vec<u8>>> = want.iter().map(|(_, v)| Some(v.clone())).collect();
        assert_eq!(ldb_multi_get_hex(&db, &lookups).unwrap(), values, "{what}");
        assert_eq!(ldb_get_hex(&db, b"k04").unwrap(), None, "{what}");

        // RocksDB's ingested copy: global seqno 1 for every entry and
        // tombstone; sstkit's get agrees that the put survives.
        let after = ldb_live_sst_files(&db).unwrap();
        let copies: Vec<_> = after.iter().filter(|f| !before.contains(f)).collect();
        assert_eq!(copies.len(), 1, "{what}: {before:?} -> {after:?}");
        let mut tombs = ldb_range_deletes_sorted(&db);
        tombs.retain(|t| t.2 > 0);
        assert_eq!(tombs, want_range_deletes(&new, 1), "{what}");
        assert_eq!(sst_dump_scan(copies[0]).unwrap(), point_entries(&new, 1), "{what}");
        let ours = read_table_file(copies[0]).unwrap();
        assert_eq!(ours.global_seqno, Some(1), "{what}");
        assert_eq!(ours.entries, point_entries(&new, 1), "{what}");
        let bytes = std::fs::read(copies[0]).unwrap();
        with_table(&bytes, |t| {
            assert_eq!(get(t, b"k05")?, Some((1, ValueType::Value as u8, k("new5"))), "{what}");
            assert_eq!(get(t, b"k04")?, Some((1, ValueType::RangeDeletion as u8, Vec::new())), "{what}");
            assert_eq!(get(t, b"k12")?, Some((1, ValueType::Deletion as u8, Vec::new())), "{what}");
            assert_eq!(get(t, b"k11")?, None, "{what}");
            Ok(())
        })
        .unwrap();
    }
}

/// Index blocks with restart points every 3 and 16 entries: prefix-compressed index keys and, from
/// format_version 4, size-delta handles for entries that share a prefix. RocksDB must verify, scan and look up
/// through them.
#[test]
fn index_restart_intervals() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let items = big_items(77);
    for (fv, interval, bloom) in [(5, 16, true), (4, 3, false), (3, 16, false)] {
        let opts = Options::default()
            .format_version(fv)
            .index_restart_interval(interval)
            .bloom_bits_per_key(if bloom { 10 } else { 0 })
            .block_size(1024);
        check_file(dir.path(), &format!("fv{fv}-index-ri{interval}"), opts, &items);
    }
}
