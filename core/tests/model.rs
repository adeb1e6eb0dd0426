//! Property tests: random sorted entries → build → open → compare with a `BTreeMap` model.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sstkit_core::block::EntryFormat;
use sstkit_core::footer::INDEX_HANDLE_NAME;
use sstkit_core::key::ValueType;
use sstkit_core::keybuf::KeyBuf;
use sstkit_core::metaindex::Metaindex;
use sstkit_core::properties::CompressionName;
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::TableWriter;
use sstkit_core::{BlockHandle, Part};
use sstkit_core::{ChecksumType, CompressionType, Error};
use sstkit_test_support::model::{self, Model, Op};

/// Builds the model's table through a fixed slice workspace (the no-allocator path).
fn build(opts: &Options, points: &BTreeMap<Vec<u8>, Op>, ranges: &[(Vec<u8>, Vec<u8>)]) -> (Model, Vec<u8>) {
    let m = Model { opts: opts.clone(), points: points.clone(), ranges: ranges.to_vec() };
    let file = model::build(&m, true).expect("the workspace hint holds the table");
    (m, file)
}

fn key_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        8 => proptest::collection::vec(any::<u8>(), 0..12),
        3 => proptest::collection::vec(b'a'..b'e', 0..40),
        1 => proptest::collection::vec(any::<u8>(), 100..400),
    ]
}

fn value_strategy() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        6 => proptest::collection::vec(any::<u8>(), 0..40),
        2 => Just(Vec::new()),
        2 => proptest::collection::vec(Just(b'x'), 0..300),
        1 => proptest::collection::vec(any::<u8>(), 300..2000),
    ]
}

fn op_strategy() -> impl Strategy<Value = Op> {
    prop_oneof![
        6 => value_strategy().prop_map(Op::Put),
        2 => Just(Op::Delete),
        2 => value_strategy().prop_map(Op::Merge),
    ]
}

fn options_strategy() -> impl Strategy<Value = Options> {
    (
        1usize..=32,
        prop_oneof![Just(64usize), Just(200), Just(1024), Just(4096), Just(65536), 64usize..8192],
        any::<bool>(),
        0u8..=4,
        any::<bool>(),
        2u32..=7,
        prop_oneof![Just(None), (1u64..2000).prop_map(Some)],
        prop_oneof![Just(1usize), 2usize..=20],
        1u32..,
    )
        .prop_map(|(ri, bs, lz4, ck, filter, fv, expected, iri, base)| {
            let o = Options::default();
            let o = match expected {
                Some(n) => o.expected_keys(n),
                None => o,
            };
            o.restart_interval(ri)
                .index_restart_interval(iri)
                .block_size(bs)
                .compression(if lz4 { CompressionType::Lz4 } else { CompressionType::None })
                .checksum(ChecksumType::from_u8(ck).unwrap())
                .bloom_bits_per_key(if filter { 10 } else { 0 })
                .format_version(fv)
                .base_context_checksum(base)
        })
}

fn ranges_strategy() -> impl Strategy<Value = Vec<(Vec<u8>, Vec<u8>)>> {
    proptest::collection::btree_map(key_strategy(), key_strategy(), 0..4).prop_map(|m| {
        m.into_iter()
            .filter_map(|(s, e)| {
                let mut end = s.clone();
                end.extend_from_slice(&e);
                end.push(1);
                (end > s).then_some((s, end))
            })
            .collect()
    })
}

/// The format_version specifics: footer, metaindex and the properties RocksDB 10 checks on ingestion.
fn check_format(opts: &Options, table: &Table<'_>) {
    let f = table.footer();
    assert_eq!(f.format_version, opts.format_version);
    let file = table.file();
    let meta = table.block(f.metaindex, Part::Metaindex).unwrap();
    let index_entry = Metaindex::parse(meta.body).unwrap().find(INDEX_HANDLE_NAME).unwrap();
    if opts.format_version >= 6 {
        assert_eq!(f.base_context_checksum, opts.base_context_checksum);
        assert_eq!(f.metaindex.end_with_trailer(), Some(file.len() as u64 - 53), "metaindex right before the footer");
        assert_eq!(index_entry, Some(f.index));
        assert_eq!(&file[file.len() - 52..file.len() - 48], &[0x3e, 0, 0x7a, 0]);
    } else {
        assert_eq!(f.base_context_checksum, 0);
        assert_eq!(index_entry, None);
    }
    let p = table.properties();
    assert_eq!(p.comparator, Some(&b"leveldb.BytewiseComparator"[..]));
    let compressed_blocks = {
        let mut n = 0;
        let mut it = table.index_block().iter(table.index_info().seek_order(), Vec::new());
        it.seek_to_first().unwrap();
        while it.valid() {
            let h = match table.index_info().format {
                EntryFormat::DeltaHandle { .. } => it.handle(),
                EntryFormat::LengthPrefixed => BlockHandle::decode(it.value()).unwrap().0,
            };
            n += usize::from(table.block(h, Part::DataBlock).unwrap().compression != CompressionType::None);
            it.next().unwrap();
        }
        n
    };
    let name = p.compression.unwrap();
    let parsed = CompressionName::parse(name).unwrap();
    match (opts.format_version, opts.compression) {
        (7, CompressionType::None) => assert_eq!(name, b";;"),
        (7, _) if compressed_blocks > 0 => assert_eq!(name, b"BuiltinV2;04;"),
        (7, _) => assert_eq!(name, b"BuiltinV2;;"),
        (_, CompressionType::None) => assert_eq!(name, b"NoCompression"),
        (_, _) => assert_eq!(name, b"LZ4"),
    }
    assert_eq!(
        parsed.uses(CompressionType::Lz4),
        compressed_blocks > 0 || (opts.format_version < 7 && opts.compression == CompressionType::Lz4)
    );
}

fn check(opts: Options, model: BTreeMap<Vec<u8>, Op>, ranges: Vec<(Vec<u8>, Vec<u8>)>, probes: Vec<Vec<u8>>) {
    let (m, file) = build(&opts, &model, &ranges);
    check_format(&opts, &Table::open(&file).unwrap());
    model::check_model(&file, &m, &probes);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn table_matches_model(
        opts in options_strategy(),
        model in proptest::collection::btree_map(key_strategy(), op_strategy(), 0..300),
        ranges in ranges_strategy(),
        probes in proptest::collection::vec(key_strategy(), 0..30),
    ) {
        check(opts, model, ranges, probes);
    }
}

#[test]
fn many_entries_small_blocks() {
    let mut model = BTreeMap::new();
    for i in 0..20_000u32 {
        model.insert(
            format!("key{:08}", i * 7).into_bytes(),
            if i % 5 == 0 { Op::Delete } else { Op::Put(i.to_le_bytes().to_vec()) },
        );
    }
    for fv in 2..=7 {
        let opts = Options::default()
            .block_size(256)
            .format_version(fv)
            .compression(CompressionType::Lz4)
            .base_context_checksum(0x5eed_0000 + fv);
        let probes = (0..200u32).map(|i| format!("key{:08}", i * 3 + 1).into_bytes()).collect();
        check(opts, model.clone(), vec![(b"key00000100".to_vec(), b"key00000200".to_vec())], probes);
    }
}

#[test]
fn out_of_order_names_both_keys_and_builder_stays_usable() {
    let mut ws = vec![0u8; 64 * 1024];
    let mut b = TableBuilder::new(&mut ws[..], Options::default()).unwrap();
    b.put(b"m", b"1").unwrap();
    let e = b.put(b"a", b"2").unwrap_err();
    assert!(
        matches!(&e, Error::OutOfOrder { previous, key } if previous.bytes() == b"m" && key.bytes() == b"a"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(text.contains("\"m\"") && text.contains("\"a\""), "{text}");
    assert!(matches!(b.put(b"m", b"again"), Err(Error::OutOfOrder { .. })), "repeated key");
    b.put(b"z", b"3").unwrap();
    b.finish().unwrap();
    let mut out = Vec::new();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    let t = Table::open(&out).unwrap();
    let mut buf = Vec::new();
    assert_eq!(t.get(b"z", &mut buf).unwrap().unwrap().value, b"3");
    assert_eq!(t.properties().num_entries, Some(2));
}

#[test]
fn small_workspace_reports_needed_and_loses_nothing() {
    let opts = Options::default().block_size(256);
    let mut ws = vec![0u8; 4096];
    let mut b = TableBuilder::new(&mut ws[..], opts).unwrap();
    let mut out = Vec::new();
    let mut added = 0u32;
    let err = loop {
        let k = format!("key{added:06}");
        match b.put(k.as_bytes(), b"value") {
            Ok(()) => added += 1,
            Err(e) => break e,
        }
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
    };
    assert!(matches!(err, Error::BufferTooSmall { needed } if needed > 4096), "{err:?}");
    assert!(added > 10);
    // The failed key was not added; a retry in a bigger workspace is the caller's move. What was added finishes
    // if there is room for the tail blocks; here we only check the failure left the builder consistent.
    assert_eq!(b.stats().num_puts, u64::from(added));
}

#[test]
fn output_must_be_taken_before_the_next_block() {
    let mut ws = vec![0u8; 64 * 1024];
    let mut b = TableBuilder::new(&mut ws[..], Options::default().block_size(64)).unwrap();
    let mut i = 0u32;
    let e = loop {
        match b.put(format!("k{i:05}").as_bytes(), b"vvvvvvvvvvvvvvvvvvvv") {
            Ok(()) => i += 1,
            Err(e) => break e,
        }
    };
    assert_eq!(e, Error::OutputPending);
    assert!(b.next_output().unwrap().is_some());
    b.put(format!("k{i:05}").as_bytes(), b"v").unwrap();
}

#[cfg(feature = "alloc")]
#[test]
fn vec_workspace_grows() {
    let mut b = TableBuilder::new(Vec::new(), Options::default()).unwrap();
    let mut out = Vec::new();
    for i in 0..50_000u32 {
        b.put(format!("key{i:08}").as_bytes(), &[7u8; 30]).unwrap();
        if i == 100 {
            b.put(b"key00000100\xff", &vec![9u8; 100_000]).unwrap();
        }
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
    }
    b.finish().unwrap();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    let t = Table::open(&out).unwrap();
    let mut buf = Vec::new();
    assert_eq!(t.get(b"key00000100\xff", &mut buf).unwrap().unwrap().value.len(), 100_000);
    assert_eq!(t.get(b"key00049999", &mut buf).unwrap().unwrap().value, &[7u8; 30]);
    let _ = KeyBuf::as_slice(&Vec::<u8>::new());
}

#[test]
fn versions_with_seqnos_span_blocks_and_fall_back_to_an_internal_key_index() {
    use sstkit_core::key::InternalKey;
    for fv in [3u32, 5] {
        let opts = Options::default().external_file(false).block_size(64).format_version(fv).restart_interval(2);
        let mut b = TableBuilder::new(Vec::new(), opts).unwrap();
        let mut out = Vec::new();
        let mut want = Vec::new();
        for i in 0..50u32 {
            let k = format!("key{i:03}").into_bytes();
            for seq in (10..20u64).rev() {
                let kind = if seq % 4 == 0 { ValueType::Deletion } else { ValueType::Value };
                let v = if kind == ValueType::Value { format!("v{i}.{seq}").into_bytes() } else { Vec::new() };
                b.add(InternalKey::new(&k, seq, kind), &v).unwrap();
                want.push((k.clone(), seq, kind, v));
                while let Some(c) = b.next_output().unwrap() {
                    out.extend_from_slice(c);
                }
            }
            // Same user key with a higher seqno after a lower one is out of order.
            assert!(matches!(b.add(InternalKey::new(&k, 99, ValueType::Value), b""), Err(Error::OutOfOrder { .. })));
        }
        b.finish().unwrap();
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
        let t = Table::open(&out).unwrap();
        assert_eq!(t.properties().index_key_is_user_key, Some(0), "a user key spans blocks");
        assert_eq!(t.global_seqno(), None);
        let mut c = t.iter();
        c.seek_to_first().unwrap();
        let mut got = Vec::new();
        while let Some(e) = c.entry().unwrap() {
            got.push((e.user_key.to_vec(), e.seqno, e.kind, e.value.to_vec()));
            c.next().unwrap();
        }
        assert_eq!(got, want);
        let mut buf = Vec::new();
        for i in 0..50u32 {
            let k = format!("key{i:03}").into_bytes();
            let hit = t.get(&k, &mut buf).unwrap().unwrap();
            assert_eq!((hit.seqno, hit.kind), (19, ValueType::Value), "newest version of {i}");
            c.seek(&k).unwrap();
            assert_eq!(c.entry().unwrap().unwrap().seqno, 19);
        }
    }
}

#[test]
fn range_tombstone_newer_than_a_point_entry_hides_it() {
    use sstkit_core::key::InternalKey;
    let opts = Options::default().external_file(false);
    let mut b = TableBuilder::new(Vec::new(), opts).unwrap();
    b.add(InternalKey::new(b"a", 5, ValueType::Value), b"old").unwrap();
    b.add(InternalKey::new(b"b", 9, ValueType::Value), b"new").unwrap();
    b.delete_range_at(b"a", b"c", 7).unwrap();
    b.finish().unwrap();
    let mut out = Vec::new();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    let t = Table::open(&out).unwrap();
    let mut buf = Vec::new();
    assert_eq!(t.get(b"a", &mut buf).unwrap().unwrap().kind, ValueType::RangeDeletion);
    assert_eq!(t.get(b"b", &mut buf).unwrap().unwrap().value, b"new");
    let tomb = t.get(b"bb", &mut buf).unwrap().unwrap();
    assert_eq!((tomb.kind, tomb.seqno), (ValueType::RangeDeletion, 7));
    assert_eq!(t.get(b"c", &mut buf).unwrap(), None);
}

#[test]
fn filter_built_as_keys_arrive_is_byte_identical_when_the_count_is_right() {
    let build_with = |opts: Options| {
        let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
        for i in 0..5000u32 {
            w.put(format!("k{:06}", i * 3).as_bytes(), b"v").unwrap();
        }
        w.finish().unwrap().1
    };
    let kept = build_with(Options::default());
    let presized = build_with(Options::default().expected_keys(5000));
    assert_eq!(kept, presized);
    // Fewer keys than expected: a bigger filter, still no false negatives.
    let big = build_with(Options::default().expected_keys(50_000));
    assert!(big.len() > kept.len());
    let t = Table::open(&big).unwrap();
    let mut buf = Vec::new();
    for i in 0..5000u32 {
        assert!(t.get(format!("k{:06}", i * 3).as_bytes(), &mut buf).unwrap().is_some());
    }
}
