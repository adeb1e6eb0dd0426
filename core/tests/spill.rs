//! Spilled filter hashes: a table whose builder handed its kept hashes out while building and got them back at
//! finish is byte-identical to one that kept them, whatever the spill points, chunking and order.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sstkit_core::key::{InternalKey, ValueType};
use sstkit_core::table::{IndexType, Options, Table, TableBuilder, TableWriter};
use sstkit_core::{Error, Part};
use sstkit_test_support::model::{self, Model, Op};

/// How a build spills: after any add that leaves at least `threshold` bytes of kept hashes, and back at finish
/// in chunks of `chunk` hashes, last chunk first.
#[derive(Debug, Clone, Copy)]
struct Spill {
    threshold: usize,
    chunk: usize,
}

/// A spill that appends to `v`.
fn into(v: &mut Vec<u8>) -> impl FnOnce(&[u8]) -> Result<(), std::convert::Infallible> + '_ {
    |h| {
        v.extend_from_slice(h);
        Ok(())
    }
}

fn drain(b: &mut TableBuilder<Vec<u8>>, out: &mut Vec<u8>) {
    while let Some(c) = b.next_output().expect("next_output") {
        out.extend_from_slice(c);
    }
}

/// Builds `entries` (internal keys in order) with spilling; returns the file and the hashes spilled.
fn build_spilling(opts: &Options, entries: &[(Vec<u8>, u64, ValueType, Vec<u8>)], s: Spill) -> (Vec<u8>, usize) {
    let mut b = TableBuilder::new(Vec::new(), opts.clone()).unwrap();
    let (mut out, mut spilled) = (Vec::new(), Vec::new());
    for (k, seqno, kind, v) in entries {
        b.add(InternalKey::new(k, *seqno, *kind), v).unwrap();
        drain(&mut b, &mut out);
        if b.kept_hash_bytes() >= s.threshold {
            let (before, kept) = (spilled.len(), b.kept_hash_bytes());
            let n = b.spill_hashes(into(&mut spilled)).unwrap();
            assert_eq!((n * 8, spilled.len() - before), (kept, kept));
            assert_eq!(b.kept_hash_bytes(), 0);
        }
    }
    b.finish().unwrap();
    assert_eq!(b.hashes_to_restore() * 8, spilled.len() as u64);
    for c in spilled.chunks(s.chunk.max(1) * 8).rev() {
        b.restore_hashes(c).unwrap();
    }
    assert_eq!(b.hashes_to_restore(), 0);
    drain(&mut b, &mut out);
    assert!(b.is_done());
    assert_eq!(b.stats().file_size, out.len() as u64);
    (out, spilled.len() / 8)
}

fn build_kept(opts: &Options, entries: &[(Vec<u8>, u64, ValueType, Vec<u8>)]) -> Vec<u8> {
    let mut b = TableBuilder::new(Vec::new(), opts.clone()).unwrap();
    let mut out = Vec::new();
    for (k, seqno, kind, v) in entries {
        b.add(InternalKey::new(k, *seqno, *kind), v).unwrap();
        drain(&mut b, &mut out);
    }
    b.finish().unwrap();
    drain(&mut b, &mut out);
    out
}

fn puts(n: usize) -> Vec<(Vec<u8>, u64, ValueType, Vec<u8>)> {
    (0..n).map(|i| (format!("key{i:07}").into_bytes(), 0, ValueType::Value, format!("v{i}").into_bytes())).collect()
}

#[test]
fn spilling_gives_the_same_bytes_across_filter_line_and_block_boundaries() {
    // 10 bits/key: a 64-byte line per 51.2 keys, so 51, 52, 102, 103 keys straddle line boundaries; small
    // blocks cut many index records; thresholds spill after every key, every few, or once.
    for n in [1, 2, 51, 52, 102, 103, 500, 2049] {
        for block_size in [64, 4096] {
            let opts = Options::default().block_size(block_size);
            let entries = puts(n);
            let want = build_kept(&opts, &entries);
            for threshold in [8, 24, 8 * 51, 8 * 52, 8 * 1000] {
                for chunk in [1, 3, 64, 100_000] {
                    let (got, spilled) = build_spilling(&opts, &entries, Spill { threshold, chunk });
                    assert_eq!(spilled, n / (threshold / 8) * (threshold / 8));
                    assert_eq!(got, want, "n {n}, block {block_size}, threshold {threshold}, chunk {chunk}");
                }
            }
            let t = Table::open(&want).unwrap();
            assert!(entries.iter().all(|(k, ..)| t.may_contain(k)), "no false negatives");
        }
    }
}

#[test]
fn versions_of_one_user_key_count_once_whether_spilled_or_kept() {
    // Several versions per user key (one hash each), with the spill falling between versions.
    let opts = Options::default().external_file(false).block_size(128);
    let mut entries = Vec::new();
    for i in 0..300u32 {
        for s in (1..=(i % 4 + 1) as u64).rev() {
            let kind = if s % 2 == 0 { ValueType::Deletion } else { ValueType::Value };
            entries.push((format!("k{i:05}").into_bytes(), s, kind, b"val".to_vec()));
        }
    }
    let want = build_kept(&opts, &entries);
    for threshold in [8, 16, 40, 800] {
        let (got, _) = build_spilling(&opts, &entries, Spill { threshold, chunk: 7 });
        assert_eq!(got, want, "threshold {threshold}");
    }
}

#[test]
fn other_filter_options_spill_what_they_keep() {
    let entries = puts(700);
    // Other bit counts and format versions (the filter is the same FastLocalBloom from format_version 5),
    // a partitioned index with a full filter, and a legacy-format table.
    for opts in [
        Options::default().bloom_bits_per_key(1),
        Options::default().bloom_bits_per_key(23).format_version(7).base_context_checksum(9),
        Options::default().format_version(5).block_size(256),
        Options::default().index_type(IndexType::Partitioned).metadata_block_size(128).block_size(128),
    ] {
        let want = build_kept(&opts, &entries);
        let (got, spilled) = build_spilling(&opts, &entries, Spill { threshold: 80, chunk: 5 });
        assert!(spilled >= 690);
        assert_eq!(got, want, "{opts:?}");
    }
    // Nothing to spill: no filter, a filter built as keys arrive, a partitioned filter (one partition kept).
    for opts in [
        Options::default().bloom_bits_per_key(0),
        Options::default().expected_keys(700),
        Options::default().index_type(IndexType::Partitioned).partition_filters(true).metadata_block_size(256),
    ] {
        let want = build_kept(&opts, &entries);
        let (got, spilled) = build_spilling(&opts, &entries, Spill { threshold: 0, chunk: 5 });
        assert_eq!((spilled, &got), (0, &want), "{opts:?}");
    }
}

#[test]
fn missing_extra_damaged_or_early_hashes_are_errors() {
    let spilled_builder = || {
        let mut b = TableBuilder::new(Vec::new(), Options::default()).unwrap();
        let mut spilled = Vec::new();
        for (k, ..) in puts(100) {
            b.put(&k, b"v").unwrap();
            while b.next_output().unwrap().is_some() {}
        }
        b.spill_hashes(into(&mut spilled)).unwrap();
        (b, spilled)
    };
    let (mut b, spilled) = spilled_builder();
    assert!(matches!(b.restore_hashes(&spilled), Err(Error::InvalidArgument { .. })), "restored before finish");
    // A failing spill changes nothing.
    let (mut b2, _) = spilled_builder();
    b2.put(b"zzz", b"v").unwrap();
    assert_eq!(b2.spill_hashes(|_| Err("disk full")), Err("disk full"));
    assert_eq!(b2.kept_hash_bytes(), 8);
    b.finish().unwrap();
    assert!(matches!(b.restore_hashes(&spilled[..12]), Err(Error::InvalidArgument { .. })), "not whole hashes");
    b.restore_hashes(&spilled[..8 * 99]).unwrap();
    assert!(matches!(b.restore_hashes(&spilled[..16]), Err(Error::InvalidArgument { .. })), "more than spilled");
    // One missing: the filter stage says so (after the last data block went out).
    let mut err = None;
    for _ in 0..3 {
        if let Err(e) = b.next_output() {
            err = Some(e);
            break;
        }
    }
    assert!(matches!(err, Some(Error::InvalidArgument { .. })), "{err:?}");
    // The last one damaged: caught by the sum.
    let mut bad = spilled[8 * 99..].to_vec();
    bad[3] ^= 1;
    b.restore_hashes(&bad).unwrap();
    assert!(matches!(b.next_output(), Err(Error::Corruption { part: Part::Filter, .. })));

    // Restored hashes after the filter went out are refused.
    let (mut b, spilled) = spilled_builder();
    b.finish().unwrap();
    b.restore_hashes(&spilled).unwrap();
    let mut out = Vec::new();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    assert!(matches!(b.restore_hashes(&[]), Err(Error::InvalidArgument { .. })));
    assert!(Table::open(&out).unwrap().may_contain(b"key0000042"));
}

#[test]
fn a_table_writer_restores_after_draining_and_ends_the_table() {
    let opts = Options::default().block_size(256);
    let entries = puts(1000);
    let want = build_kept(&opts, &entries);
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    let mut spilled = Vec::new();
    for (k, _, _, v) in &entries {
        w.put(k, v).unwrap();
        if w.builder().kept_hash_bytes() >= 800 {
            w.spill_hashes(into(&mut spilled)).unwrap();
        }
    }
    for c in spilled.chunks(808) {
        w.restore_hashes(c).unwrap();
    }
    assert!(w.builder().is_finishing());
    let (_, out) = w.finish().unwrap();
    assert_eq!(out, want);
}

#[test]
fn a_fixed_workspace_too_small_for_the_kept_hashes_builds_the_table_when_they_spill() {
    let n = 20_000;
    let entries = puts(n);
    let opts = Options::default();
    // Room for everything but the hashes: the filter's bits, the index, the blocks.
    let len = TableBuilder::<&mut [u8]>::workspace_len_hint(&opts.clone().bloom_bits_per_key(0), n, 10) + n * 2;
    let mut ws = vec![0u8; len];
    let mut b = TableBuilder::new(&mut ws[..], opts.clone()).unwrap();
    let mut failed = false;
    for (k, ..) in &entries {
        match b.put(k, b"v") {
            Ok(()) => while b.next_output().unwrap().is_some() {},
            Err(Error::BufferTooSmall { .. }) => {
                failed = true;
                break;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    assert!(failed, "kept hashes do not fit");

    let mut ws = vec![0u8; len];
    let mut b = TableBuilder::new(&mut ws[..], opts.clone()).unwrap();
    let (mut out, mut spilled) = (Vec::new(), Vec::new());
    for (k, ..) in &entries {
        b.put(k, b"v").unwrap();
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
        if b.kept_hash_bytes() >= 4096 {
            b.spill_hashes(into(&mut spilled)).unwrap();
        }
    }
    b.finish().unwrap();
    b.restore_hashes(&spilled).unwrap();
    while let Some(c) = b.next_output().unwrap() {
        out.extend_from_slice(c);
    }
    let kept: Vec<_> = entries.iter().map(|(k, ..)| (k.clone(), 0, ValueType::Value, b"v".to_vec())).collect();
    assert_eq!(out, build_kept(&opts, &kept));
}

fn model_strategy() -> impl Strategy<Value = BTreeMap<Vec<u8>, Op>> {
    let key = prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..10),
        1 => proptest::collection::vec(b'a'..b'd', 0..30),
    ];
    let op = prop_oneof![
        4 => proptest::collection::vec(any::<u8>(), 0..30).prop_map(Op::Put),
        1 => Just(Op::Delete),
        1 => proptest::collection::vec(any::<u8>(), 0..10).prop_map(Op::Merge),
    ];
    proptest::collection::btree_map(key, op, 1..600)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Random tables, options, spill points and chunking: the bytes equal the kept-hashes build, and the table
    /// reads back as its `BTreeMap` model (every key found, no filter false negative).
    #[test]
    fn spilled_tables_match_kept_ones_and_the_model(
        points in model_strategy(),
        block_size in prop_oneof![Just(64usize), Just(512), Just(4096)],
        bits in 1u32..=20,
        fv in 2u32..=7,
        partitioned_index in any::<bool>(),
        threshold in prop_oneof![Just(8usize), 8usize..400, Just(1 << 20)],
        chunk in 1usize..50,
    ) {
        let mut opts =
            Options::default().block_size(block_size).bloom_bits_per_key(bits).format_version(fv).base_context_checksum(7);
        if partitioned_index {
            opts = opts.index_type(IndexType::Partitioned).metadata_block_size(256);
        }
        let m = Model { opts: opts.clone(), points, ranges: Vec::new() };
        let want = model::build(&m, false).unwrap();
        let entries: Vec<_> =
            m.points.iter().map(|(k, op)| (k.clone(), 0, op.kind(), op.value().to_vec())).collect();
        let (got, _) = build_spilling(&opts, &entries, Spill { threshold, chunk });
        prop_assert_eq!(&got, &want);
        model::check_model(&got, &m, &[]);
    }
}
