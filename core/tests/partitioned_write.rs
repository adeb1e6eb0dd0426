//! Partitioned indexes and filters written by the builder (index type 2, `partition_filters`): property tests
//! against a `BTreeMap` model with many small partitions, the layout and properties RocksDB reads, a user key
//! whose versions span partitions, and a filter that rejects absent keys.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sstkit_core::key::{InternalKey, ValueType};
use sstkit_core::metaindex::{FilterKind, Metaindex, PARTITIONED_FILTER_BLOOM};
use sstkit_core::table::{IndexType, Options, Table, TableBuilder, TableFilter};
use sstkit_core::{ChecksumType, CompressionType, Error, Part, TableWriter};
use sstkit_test_support::model::{self, Model, Op};

fn partitioned(mbs: usize, pf: bool) -> Options {
    Options::default().index_type(IndexType::Partitioned).metadata_block_size(mbs).partition_filters(pf)
}

fn partitions(t: &Table<'_>) -> u64 {
    t.layout().index_partition_count().unwrap()
}

fn build(opts: &Options, points: &BTreeMap<Vec<u8>, Op>) -> Vec<u8> {
    let m = Model { opts: opts.clone(), points: points.clone(), ranges: Vec::new() };
    model::build(&m, false).unwrap()
}

fn options_strategy() -> impl Strategy<Value = Options> {
    (
        prop_oneof![Just(1usize), Just(64), Just(256), Just(1024), 1usize..4096],
        prop_oneof![Just(1usize), Just(16), 2usize..=20],
        prop_oneof![Just(40usize), Just(128), Just(4096), 1usize..600],
        any::<bool>(),
        any::<bool>(),
        2u32..=7,
        any::<bool>(),
        1u32..,
    )
        .prop_map(|(bs, iri, mbs, pf, filter, fv, lz4, base)| {
            partitioned(mbs, pf && filter)
                .block_size(bs)
                .index_restart_interval(iri)
                .bloom_bits_per_key(if filter { 10 } else { 0 })
                .format_version(fv)
                .base_context_checksum(base)
                .compression(if lz4 && cfg!(feature = "lz4") { CompressionType::Lz4 } else { CompressionType::None })
        })
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..12),
        3 => proptest::collection::vec(b'a'..b'e', 0..40),
        1 => proptest::collection::vec(any::<u8>(), 100..300),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..60).prop_map(Op::Put),
        2 => Just(Op::Delete),
        1 => proptest::collection::vec(any::<u8>(), 0..20).prop_map(Op::Merge),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Both scan directions, gets of present and absent keys, seeks and ranges equal the model; the fixed
    /// (no-allocator) workspace sized by the hint holds the table.
    #[test]
    fn partitioned_table_matches_model(
        opts in options_strategy(),
        ranges in proptest::collection::vec((key_strategy(), key_strategy()), 0..3),
        points in proptest::collection::btree_map(key_strategy(), op_strategy(), 0..400),
        probes in proptest::collection::vec(key_strategy(), 0..30),
    ) {
        let mut rs: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        let mut starts: Vec<_> = ranges.into_iter().map(|(s, mut e)| { e.splice(0..0, s.iter().copied()); e.push(1); (s, e) }).collect();
        starts.sort();
        for (s, e) in starts {
            if rs.last().is_none_or(|l| l.0 < s) {
                rs.push((s, e));
            }
        }
        let m = Model { opts: opts.clone(), points, ranges: rs };
        let file = model::build(&m, true).expect("the workspace hint holds the table");
        let t = Table::open(&file).unwrap();
        let has_blocks = t.properties().num_data_blocks.unwrap_or(0) > 0;
        prop_assert!(t.index_info().partitioned);
        prop_assert_eq!(t.properties().index_type, Some(2));
        prop_assert_eq!(partitions(&t), if has_blocks { t.properties().index_partitions.unwrap() } else { 0 });
        model::check_model(&file, &m, &probes);
        // The same table through a growing workspace is byte for byte the same.
        let grown = model::build(&m, false).unwrap();
        prop_assert_eq!(grown, file);
    }
}

/// `n` keys `key{i:08}` with values, every tenth a deletion.
fn points(n: u32) -> BTreeMap<Vec<u8>, Op> {
    (0..n)
        .map(|i| {
            let op = if i % 10 == 3 { Op::Delete } else { Op::Put(format!("value-{i}").repeat(3).into_bytes()) };
            (format!("key{i:08}").into_bytes(), op)
        })
        .collect()
}

#[test]
fn many_partitions_read_back_with_properties_as_rocksdb_writes_them() {
    let pts = points(4_000);
    for fv in [2, 3, 4, 5, 6, 7] {
        for pf in [false, true] {
            for iri in [1, 16] {
                let opts = partitioned(512, pf)
                    .block_size(256)
                    .format_version(fv)
                    .base_context_checksum(7)
                    .index_restart_interval(iri);
                let file = build(&opts, &pts);
                let t = Table::open(&file).unwrap();
                let p = t.properties();
                let np = partitions(&t);
                assert!(np > 20, "fv{fv} pf{pf}: {np} partitions");
                assert_eq!(p.index_partitions, Some(np));
                assert_eq!(p.index_type, Some(2));
                assert_eq!(p.index_value_is_delta_encoded, Some(u64::from(fv >= 4)));
                assert_eq!(p.index_key_is_user_key, Some(u64::from(fv >= 3)));
                // rocksdb.index.size: every partition's and the top level's contents, plus one trailer.
                let mut parts = 0;
                t.layout()
                    .for_each_index_partition(|h| {
                        parts += h.size;
                        assert!(h.offset < t.footer().index.offset, "partitions before the top level");
                        Ok(true)
                    })
                    .unwrap();
                let top = t.footer().index;
                assert_eq!(p.top_level_index_size, Some(top.size));
                assert_eq!(p.index_size, Some(parts + top.size + 5));
                // Partitions about metadata_block_size: none over it by more than one entry.
                t.layout()
                    .for_each_index_partition(|h| {
                        assert!(h.size <= 512 + 64, "partition of {} bytes", h.size);
                        Ok(true)
                    })
                    .unwrap();
                let meta = Metaindex::parse(t.block(t.footer().metaindex, Part::Metaindex).unwrap().body).unwrap();
                let (kind, fh) = meta.filter().unwrap().unwrap();
                if pf {
                    assert_eq!(kind, FilterKind::Partitioned);
                    assert_eq!(meta.find(PARTITIONED_FILTER_BLOOM).unwrap(), Some(fh));
                    assert!(matches!(t.filter(), Some(TableFilter::Partitioned(_))));
                    // Filter partitions, the filter-partition index, index partitions, the top level: in that order.
                    assert!(fh.offset < top.offset);
                    let mut first_part = u64::MAX;
                    t.layout()
                        .for_each_index_partition(|h| {
                            first_part = first_part.min(h.offset);
                            Ok(true)
                        })
                        .unwrap();
                    assert_eq!(fh.offset + fh.size + 5, first_part, "filter index right before the index partitions");
                } else {
                    assert_eq!(kind, FilterKind::Full);
                }
                if iri == 16 || fv == 5 {
                    model::check_model(&file, &Model { opts, points: pts.clone(), ranges: Vec::new() }, &[]);
                }
            }
        }
    }
}

#[test]
fn the_partitioned_filter_rejects_most_absent_keys() {
    let pts = points(30_000);
    let file = build(&partitioned(1024, true), &pts);
    let t = Table::open(&file).unwrap();
    assert!(matches!(t.filter(), Some(TableFilter::Partitioned(_))));
    let p = t.properties();
    assert_eq!(p.num_filter_entries, Some(30_000));
    let mut buf = Vec::new();
    let mut passed = 0;
    for i in 0..30_000u32 {
        assert!(t.may_contain(format!("key{i:08}").as_bytes()));
        // Absent keys that fall inside the table's key range (between present ones).
        let absent = format!("key{i:08}x");
        if t.may_contain(absent.as_bytes()) {
            passed += 1;
        }
        assert_eq!(t.get(absent.as_bytes(), &mut buf).unwrap(), None);
    }
    assert!(passed < 30_000 / 50, "{passed} of 30000 absent keys passed the filter (about 1% expected)");
    // The filter is about as big as a full filter for the same keys (10 bits per key), in many partitions.
    let full = Table::open(&build(&Options::default(), &pts)).unwrap().properties().filter_size.unwrap();
    let parted = p.filter_size.unwrap();
    assert!(parted >= full && parted < full + full / 4, "full {full}, partitioned {parted}");
}

/// Versions of one user key that span partitions (internal-key index): every version is found, the user key
/// passes the filter of whichever partition a lookup lands on, and each partition's filter knows it.
#[test]
fn a_user_key_spanning_partitions() {
    for pf in [false, true] {
        let opts = partitioned(100, pf).external_file(false).block_size(64).checksum(ChecksumType::XxHash64);
        let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
        for i in 0..50u32 {
            w.add(InternalKey::new(format!("a{i:03}").as_bytes(), 1000, ValueType::Value), &[b'v'; 30]).unwrap();
        }
        for s in (1..400u64).rev() {
            w.add(InternalKey::new(b"m", s, ValueType::Value), &s.to_le_bytes()).unwrap();
        }
        w.add(InternalKey::new(b"z", 5, ValueType::Value), b"last").unwrap();
        let (_, file) = w.finish().unwrap();
        let t = Table::open(&file).unwrap();
        assert!(!t.index_info().user_keys, "internal-key index");
        assert!(partitions(&t) > 5);
        let mut buf = Vec::new();
        assert_eq!(t.get(b"m", &mut buf).unwrap().unwrap().seqno, 399);
        assert!(t.may_contain(b"m") && t.may_contain(b"z") && t.may_contain(b"a000"));
        // Every filter partition whose range holds a version of "m" knows "m".
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        let mut versions = 0;
        while let Some(e) = it.entry().unwrap() {
            versions += u32::from(e.user_key == b"m");
            it.next().unwrap();
        }
        assert_eq!(versions, 399);
        if pf {
            let Some(TableFilter::Partitioned(top)) = t.filter() else { panic!("partitioned filter") };
            let mut cur = top.iter(t.index_info().seek_order(), Vec::new());
            cur.seek_to_first().unwrap();
            let mut checked = 0;
            while cur.valid() {
                let (uk, _) = sstkit_core::key::split_internal_key(cur.key()).unwrap();
                if uk == b"m" {
                    let h = cur.handle();
                    let body = t.layout().filter_partition_body(t.file(), 0, h);
                    assert!(t.layout().filter_partition_may_match(body, b"m"));
                    checked += 1;
                }
                cur.next().unwrap();
            }
            assert!(checked >= 2, "{checked} partitions end inside the versions of m");
        }
    }
}

#[test]
fn partition_filters_needs_the_partitioned_index() {
    let bad = Options::default().partition_filters(true);
    assert!(matches!(TableBuilder::new(Vec::new(), bad), Err(Error::InvalidArgument { .. })));
    let zero = partitioned(0, false);
    assert!(matches!(TableBuilder::new(Vec::new(), zero), Err(Error::InvalidArgument { .. })));
    // Without a filter, partition_filters has nothing to partition: a plain partitioned index.
    let file = build(&partitioned(256, true).bloom_bits_per_key(0), &points(2000));
    let t = Table::open(&file).unwrap();
    assert!(t.filter().is_none() && t.index_info().partitioned);
}

#[test]
fn an_empty_partitioned_table() {
    for pf in [false, true] {
        let mut w = TableWriter::new(TableBuilder::new(Vec::new(), partitioned(256, pf)).unwrap(), Vec::new());
        w.delete_range(b"a", b"b").unwrap();
        let (_, file) = w.finish().unwrap();
        let t = Table::open(&file).unwrap();
        assert_eq!(partitions(&t), 0);
        assert!(t.filter().is_none());
        let mut buf = Vec::new();
        assert_eq!(t.get(b"a", &mut buf).unwrap().unwrap().kind, ValueType::RangeDeletion);
    }
}
