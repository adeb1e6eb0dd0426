//! Reads through a `ReadCache` against a `BTreeMap` model and plain reads: cache sizes from one entry and one
//! slot (constant eviction) to ample; damaged blocks; colliding entries and slots; one cache over two tables.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sstkit_core::table::{CacheEntry, IndexType, Options, ReadCache, ReadOptions, Table};
use sstkit_core::{CompressionType, ErrorKind};
use sstkit_test_support::model::{self, Model, Op};

fn build(opts: Options, model: &BTreeMap<Vec<u8>, Vec<u8>>) -> Vec<u8> {
    let points = model.iter().map(|(k, v)| (k.clone(), Op::Put(v.clone()))).collect();
    model::build(&Model { opts, points, ranges: Vec::new() }, false).expect("a growable workspace")
}

type Row = (Vec<u8>, Vec<u8>);

/// Every entry, forward or backward, through `cache`.
fn scan<'a: 'c, 'c>(t: &Table<'a>, cache: &mut ReadCache<'c>, backward: bool) -> Vec<Row> {
    let mut c = t.cursor_with(cache, Vec::new(), Vec::new(), Vec::new());
    let mut out = Vec::new();
    if backward {
        c.seek_to_last().unwrap();
    } else {
        c.seek_to_first().unwrap();
    }
    while let Some(e) = c.entry().unwrap() {
        out.push((e.user_key.to_vec(), e.value.to_vec()));
        if backward {
            c.prev().unwrap();
        } else {
            c.next().unwrap();
        }
    }
    if backward {
        out.reverse();
    }
    out
}

/// A cache over `dir` entries and `slots` slots of `block_len` bytes.
fn check(
    file: &[u8],
    model: &BTreeMap<Vec<u8>, Vec<u8>>,
    probes: &[Vec<u8>],
    dir: usize,
    slots: usize,
    block_len: usize,
) {
    let table = Table::open(file).unwrap();
    let want: Vec<Row> = model.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let mut entries = vec![CacheEntry::EMPTY; dir];
    let mut bytes = vec![0u8; slots * ReadCache::slot_size(block_len)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, block_len);
    // Twice: the second pass reads what the first one cached (or evicted).
    for _ in 0..2 {
        assert_eq!(scan(&table, &mut cache, false), want, "forward");
        assert_eq!(scan(&table, &mut cache, true), want, "backward");
        let mut buf = Vec::new();
        let mut plain_buf = Vec::new();
        for k in model.keys().chain(probes) {
            let got = table.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value.to_vec());
            assert_eq!(got.as_ref(), model.get(k), "get {k:?}");
            let plain = table.get(k, &mut plain_buf).unwrap().map(|e| e.value.to_vec());
            assert_eq!(got, plain, "get {k:?} against a plain read");
        }
        let mut c = table.cursor_with(&mut cache, Vec::new(), Vec::new(), Vec::new());
        for k in probes {
            c.seek(k).unwrap();
            let got = c.entry().unwrap().map(|e| (e.user_key.to_vec(), e.value.to_vec()));
            assert_eq!(got, model.range(k.clone()..).next().map(|(k, v)| (k.clone(), v.clone())), "seek {k:?}");
        }
    }
    // Every block checked at most once per pass through the cache; a large directory checks each once at all.
    let stats = cache.stats();
    let mut blocks = 0u64;
    table
        .layout()
        .for_each_block((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded), |_| {
            blocks += 1;
            Ok(true)
        })
        .unwrap();
    if dir as u64 >= 40 * blocks {
        assert!(stats.checks <= blocks, "{stats:?} for {blocks} blocks");
    }
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..10),
        2 => proptest::collection::vec(b'a'..b'd', 0..30),
    ]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..40),
        2 => proptest::collection::vec(Just(b'x'), 0..400),
        1 => proptest::collection::vec(any::<u8>(), 300..1500),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 150, ..ProptestConfig::default() })]

    #[test]
    fn cached_reads_match_model(
        model in proptest::collection::btree_map(key_strategy(), value_strategy(), 0..200),
        probes in proptest::collection::vec(key_strategy(), 0..20),
        lz4 in any::<bool>(),
        partitioned in any::<bool>(),
        block_size in prop_oneof![Just(64usize), Just(512), 64usize..4096],
        dir in prop_oneof![Just(0usize), Just(1), Just(2), 3usize..9, Just(4096)],
        slots in prop_oneof![Just(0usize), Just(1), 2usize..5, Just(400)],
        block_len in prop_oneof![Just(0usize), Just(16), 64usize..2048, Just(16 * 1024)],
    ) {
        let opts = Options::default()
            .block_size(block_size)
            .compression(if lz4 { CompressionType::Lz4 } else { CompressionType::None })
            .index_type(if partitioned { IndexType::Partitioned } else { IndexType::BinarySearch });
        let file = build(opts, &model);
        let mut probes = probes;
        probes.extend(model.keys().take(5).cloned());
        check(&file, &model, &probes, dir, slots, block_len);
    }
}

/// 2000 keys in small LZ4 blocks: dozens of blocks.
fn many() -> (BTreeMap<Vec<u8>, Vec<u8>>, Vec<u8>) {
    let model: BTreeMap<_, _> = (0..2000u32)
        .map(|i| (format!("key{i:06}").into_bytes(), format!("value {i} {}", "v".repeat(40)).into_bytes()))
        .collect();
    let file = build(Options::default().block_size(512).compression(CompressionType::Lz4), &model);
    (model, file)
}

#[test]
fn each_block_is_checked_and_decompressed_once_when_the_cache_holds_the_table() {
    let (model, file) = many();
    let table = Table::open(&file).unwrap();
    let mut entries = vec![CacheEntry::EMPTY; 4096];
    let mut bytes = vec![0u8; 1000 * ReadCache::slot_size(4096)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    let first = scan(&table, &mut cache, false);
    let after_one = cache.stats();
    assert!(after_one.checks > 20 && after_one.decompressions == after_one.checks, "{after_one:?}");
    assert_eq!(scan(&table, &mut cache, true), first);
    let mut buf = Vec::new();
    for (k, v) in &model {
        assert_eq!(table.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value), Some(&v[..]));
    }
    let s = cache.stats();
    assert_eq!((s.checks, s.decompressions), (after_one.checks, after_one.decompressions), "{s:?}");
    assert!(s.slot_hits >= model.len() as u64, "{s:?}");
}

#[test]
fn without_slots_blocks_are_checked_once_and_decompressed_per_read() {
    let (model, file) = many();
    let table = Table::open(&file).unwrap();
    let mut entries = vec![CacheEntry::EMPTY; 4096];
    let mut cache = ReadCache::new(&mut entries);
    let mut buf = Vec::new();
    let k = model.keys().nth(700).unwrap();
    for n in 1..=3 {
        assert_eq!(table.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value), model.get(k).map(|v| &v[..]));
        assert_eq!((cache.stats().checks, cache.stats().decompressions), (1, n));
    }
}

#[test]
fn a_slot_too_small_for_a_block_is_not_used_for_it() {
    let (model, file) = many();
    let table = Table::open(&file).unwrap();
    let mut entries = vec![CacheEntry::EMPTY; 4096];
    let mut bytes = vec![0u8; 8 * ReadCache::slot_size(100)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 100);
    let mut buf = Vec::new();
    for (k, v) in model.iter().step_by(97) {
        assert_eq!(table.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value), Some(&v[..]));
    }
    assert_eq!(cache.stats().slot_hits, 0);
}

#[test]
fn colliding_entries_and_slots_never_hand_out_another_blocks_bytes() {
    let (model, file) = many();
    let table = Table::open(&file).unwrap();
    // One entry and one slot: every block evicts the previous one, in both.
    let mut entries = [CacheEntry::EMPTY; 1];
    let mut bytes = vec![0u8; ReadCache::slot_size(4096)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    let keys: Vec<_> = model.keys().collect();
    let mut buf = Vec::new();
    for round in 0..3 {
        // Alternate between far-apart blocks, then the same block twice.
        for i in 0..200 {
            let k = keys[(i * 997 + round * 13) % keys.len()];
            for _ in 0..2 {
                assert_eq!(
                    table.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value),
                    model.get(k).map(|v| &v[..])
                );
            }
        }
    }
    let s = cache.stats();
    assert!(s.slot_hits > 0 && s.checks > 200, "{s:?}");
}

/// The byte offset of a data block holding `key` (its first byte).
fn block_of(table: &Table<'_>, key: &[u8]) -> u64 {
    table.layout().point_block(key).unwrap().unwrap().handle.offset
}

#[test]
fn a_damaged_block_is_reported_on_every_read_and_never_remembered() {
    let (model, mut file) = many();
    let k = model.keys().nth(1000).unwrap().clone();
    let other = model.keys().nth(10).unwrap().clone();
    let at = block_of(&Table::open(&file).unwrap(), &k) as usize;
    file[at + 3] ^= 0x40;
    let table = Table::open(&file).unwrap();
    let mut entries = vec![CacheEntry::EMPTY; 256];
    let mut bytes = vec![0u8; 16 * ReadCache::slot_size(4096)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    let mut buf = Vec::new();
    for n in 1..=3 {
        let e = table.get_with(&k, &mut cache, &mut buf).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corruption, "{e:?}");
        assert_eq!(cache.stats().checks, n);
        assert_eq!(cache.stats().decompressions, 0, "a damaged block is never decompressed");
    }
    // The other blocks read fine; a scan stops at the damaged one.
    assert_eq!(
        table.get_with(&other, &mut cache, &mut buf).unwrap().map(|e| e.value),
        model.get(&other).map(|v| &v[..])
    );
    let mut c = table.cursor_with(&mut cache, Vec::new(), Vec::new(), Vec::new());
    c.seek(&k).unwrap_err();
}

#[test]
fn verified_once_per_cache_a_new_cache_checks_again() {
    let (model, mut file) = many();
    let k = model.keys().nth(1000).unwrap().clone();
    let mut entries = vec![CacheEntry::EMPTY; 256];
    let mut bytes = vec![0u8; 16 * ReadCache::slot_size(4096)];
    {
        let table = Table::open(&file).unwrap();
        let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
        let mut buf = Vec::new();
        for _ in 0..2 {
            assert!(table.get_with(&k, &mut cache, &mut buf).unwrap().is_some());
        }
        assert_eq!(cache.stats().checks, 1);
    }
    // The cache borrowed the bytes, so they could only change once it was gone. A new cache over the same memory
    // starts empty: the damage is found.
    let at = block_of(&Table::open(&file).unwrap(), &k) as usize;
    file[at + 3] ^= 0x40;
    let table = Table::open(&file).unwrap();
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    let e = table.get_with(&k, &mut cache, &mut Vec::new()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Corruption, "{e:?}");
}

#[test]
fn a_cache_read_with_another_table_forgets_the_first() {
    let (model, file) = many();
    let model2: BTreeMap<_, _> = model.keys().map(|k| (k.clone(), b"other".to_vec())).collect();
    let file2 = build(Options::default().block_size(512).compression(CompressionType::Lz4), &model2);
    let (t1, t2) = (Table::open(&file).unwrap(), Table::open(&file2).unwrap());
    let mut entries = vec![CacheEntry::EMPTY; 4096];
    let mut bytes = vec![0u8; 1000 * ReadCache::slot_size(4096)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    let mut buf = Vec::new();
    for k in model.keys().step_by(50) {
        assert_eq!(t1.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value), model.get(k).map(|v| &v[..]));
        assert_eq!(t2.get_with(k, &mut cache, &mut buf).unwrap().map(|e| e.value), Some(&b"other"[..]));
        assert_eq!(cache.stats().checks, 1, "emptied when the table changed");
    }
}

#[test]
fn with_checksums_off_nothing_is_checked_or_remembered_as_verified() {
    let (model, file) = many();
    let mut o = ReadOptions::default();
    o.verify_checksums = false;
    let unchecked = Table::open_with(&file, o, &mut []).unwrap();
    let mut entries = vec![CacheEntry::EMPTY; 4096];
    let mut bytes = vec![0u8; 1000 * ReadCache::slot_size(4096)];
    let mut cache = ReadCache::with_slots(&mut entries, &mut bytes, 4096);
    assert_eq!(scan(&unchecked, &mut cache, false).len(), model.len());
    assert_eq!(cache.stats().checks, 0);
    let decompressed = cache.stats().decompressions;
    // The same bytes opened with checks on, through the same cache: blocks decompressed unchecked are checked
    // before their slot is used, and not decompressed again.
    let checked = Table::open(&file).unwrap();
    assert_eq!(scan(&checked, &mut cache, false).len(), model.len());
    let s = cache.stats();
    assert!(s.checks > 20 && s.decompressions == decompressed, "{s:?}");
}
