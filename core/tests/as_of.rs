//! Reads at a snapshot: `Table::get_as_of` and cursor entries filtered by `Entry::visible_at` against a
//! `BTreeMap` model of interleaved versions and range deletions with their own seqnos.
#![cfg(feature = "alloc")]

use std::collections::BTreeMap;

use proptest::prelude::*;
use sstkit_core::key::{InternalKey, ValueType};
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::TableWriter;

/// One key's versions: seqno → (kind, value).
type KeyVersions = BTreeMap<u64, (ValueType, Vec<u8>)>;

/// A table's contents: per user key its versions, and range deletions.
#[derive(Debug, Clone)]
struct Versions {
    points: BTreeMap<Vec<u8>, KeyVersions>,
    ranges: Vec<(Vec<u8>, Vec<u8>, u64)>,
}

impl Versions {
    /// What a read at `snapshot` sees for `key`: the newest visible version, unless a visible range deletion
    /// with a strictly larger seqno covers it (then a `RangeDeletion` at the tombstone's seqno).
    fn get(&self, key: &[u8], snapshot: u64) -> Option<(u64, ValueType, Vec<u8>)> {
        let point =
            self.points.get(key).and_then(|v| v.range(..=snapshot).next_back()).map(|(s, (k, v))| (*s, *k, v.clone()));
        let tomb = self
            .ranges
            .iter()
            .filter(|(s, e, q)| s.as_slice() <= key && key < e.as_slice() && *q <= snapshot)
            .map(|r| r.2)
            .max();
        match (point, tomb) {
            (Some(p), Some(t)) if t > p.0 => Some((t, ValueType::RangeDeletion, Vec::new())),
            (None, Some(t)) => Some((t, ValueType::RangeDeletion, Vec::new())),
            (p, _) => p,
        }
    }

    fn build(&self, block_size: usize) -> Vec<u8> {
        let opts = Options::default().external_file(false).block_size(block_size);
        let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
        for (k, versions) in &self.points {
            for (seqno, (kind, v)) in versions.iter().rev() {
                w.add(InternalKey::new(k, *seqno, *kind), v).unwrap();
            }
        }
        let mut ranges = self.ranges.clone();
        ranges.sort();
        for (s, e, q) in ranges {
            w.delete_range_at(&s, &e, q).unwrap();
        }
        w.finish().unwrap().1
    }
}

fn key(i: u8) -> Vec<u8> {
    format!("k{i:02}").into_bytes()
}

/// Versions with distinct seqnos drawn from 1..200 over 12 keys, and range deletions with distinct starts.
fn versions_strategy() -> impl Strategy<Value = Versions> {
    let kind = prop_oneof![4 => Just(ValueType::Value), 2 => Just(ValueType::Deletion), 1 => Just(ValueType::Merge)];
    let point = (0u8..12, kind, proptest::collection::vec(b'a'..=b'z', 0..30));
    let range = (0u8..12, 1u8..6);
    (
        proptest::collection::vec(point, 1..60),
        proptest::collection::vec(range, 0..4),
        proptest::sample::subsequence((1u64..200).collect::<Vec<_>>(), 64),
    )
        .prop_map(|(points, ranges, seqnos)| {
            let mut seqnos = seqnos;
            // Interleave: shuffle deterministically by a multiplicative step so ranges and points mix.
            seqnos.sort_by_key(|s| (s * 37) % 199);
            let mut next = seqnos.into_iter();
            let mut v = Versions { points: BTreeMap::new(), ranges: Vec::new() };
            for (k, kind, value) in points {
                let s = next.next().unwrap_or(500);
                let value = if kind == ValueType::Deletion { Vec::new() } else { value };
                v.points.entry(key(k)).or_default().insert(s, (kind, value));
            }
            let mut starts = std::collections::BTreeSet::new();
            for (start, len) in ranges {
                if starts.insert(start) {
                    let s = next.next().unwrap_or(600 + start as u64);
                    v.ranges.push((key(start), key(start + len), s));
                }
            }
            v
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn get_as_of_matches_the_model(v in versions_strategy(), block_size in prop_oneof![Just(64usize), Just(4096)]) {
        let file = v.build(block_size);
        let table = Table::open(&file).unwrap();
        let mut buf = Vec::new();
        let snapshots = [0u64, 1, 17, 50, 99, 100, 150, 199, 650, u64::MAX];
        for i in 0..14u8 {
            let k = key(i);
            for &snap in &snapshots {
                let got = table.get_as_of(&k, snap, &mut buf).unwrap().map(|e| (e.seqno, e.kind, e.value.to_vec()));
                prop_assert_eq!(&got, &v.get(&k, snap), "key {:?} at {}", String::from_utf8_lossy(&k), snap);
            }
            // Without a snapshot: the same as at the largest one.
            let newest = table.get(&k, &mut buf).unwrap().map(|e| (e.seqno, e.kind, e.value.to_vec()));
            prop_assert_eq!(newest, v.get(&k, u64::MAX));
        }
        // A scan at a snapshot: every visible version, in order.
        for &snap in &snapshots {
            let mut it = table.iter();
            it.seek_to_first().unwrap();
            let mut seen = Vec::new();
            while let Some(e) = it.entry().unwrap() {
                if e.visible_at(snap) {
                    seen.push((e.user_key.to_vec(), e.seqno));
                }
                it.next().unwrap();
            }
            let want: Vec<_> = v
                .points
                .iter()
                .flat_map(|(k, vs)| vs.range(..=snap).rev().map(move |(s, _)| (k.clone(), *s)))
                .collect();
            prop_assert_eq!(seen, want);
        }
    }
}

/// An external file reads every entry at its global seqno: all visible at or above it, none below.
#[test]
fn an_external_file_is_all_or_nothing() {
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), Options::default()).unwrap(), Vec::new());
    w.put(b"a", b"1").unwrap();
    w.delete_range(b"b", b"c").unwrap();
    let file = w.finish().unwrap().1;
    let table = Table::open(&file).unwrap();
    let mut buf = Vec::new();
    assert_eq!(table.get_as_of(b"a", 0, &mut buf).unwrap().map(|e| e.value.to_vec()), Some(b"1".to_vec()));
    assert_eq!(table.get_as_of(b"b", 0, &mut buf).unwrap().map(|e| e.kind), Some(ValueType::RangeDeletion));
    assert_eq!(table.get_as_of(b"z", 0, &mut buf).unwrap(), None);
}
