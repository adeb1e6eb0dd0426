//! A table RocksDB 10.4.2 wrote with wide-column entities (`data/entries/gen.py`): every entry's payload is
//! decoded exactly, through a scan and through point lookups.
#![cfg(feature = "alloc")]

use sstkit_core::table::Table;
use sstkit_core::value::Payload;
use sstkit_core::ValueType;

const FILE: &[u8] = include_bytes!("data/entries/entities.sst");

type Cols = Vec<(Vec<u8>, Vec<u8>)>;

/// What `gen.py` wrote, per key: its type and, for entities, the columns (sorted by name, as stored).
fn expected() -> Vec<(&'static [u8], ValueType, Cols)> {
    let c = |v: &[(&[u8], &[u8])]| v.iter().map(|(n, v)| (n.to_vec(), v.to_vec())).collect::<Cols>();
    vec![
        (b"e1", ValueType::WideColumnEntity, c(&[(b"", b"default-value"), (b"attr", b"x"), (b"colour", b"blue")])),
        (b"e2", ValueType::WideColumnEntity, c(&[(b"a", b"1"), (b"b", b"")])),
        (b"e3", ValueType::WideColumnEntity, c(&[])),
        (b"plain", ValueType::Value, c(&[(b"", b"v")])),
        (b"zgone", ValueType::Deletion, c(&[])),
    ]
}

fn columns(p: Payload<'_>) -> Cols {
    match p {
        Payload::Entity(e) => e.columns().map(|c| (c.name.to_vec(), c.value.to_vec())).collect(),
        Payload::Value(v) => vec![(Vec::new(), v.to_vec())],
        Payload::Deleted => Vec::new(),
        p => panic!("unexpected payload {p:?}"),
    }
}

#[test]
fn a_scan_decodes_every_entity_exactly() {
    let t = Table::open(FILE).unwrap();
    let mut it = t.iter();
    it.seek_to_first().unwrap();
    let mut got = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        // The put and the delete of "zgone" were both flushed; keep the newest, as a reader would.
        if got.last().is_some_and(|(k, _, _): &(Vec<u8>, _, _)| k == e.user_key) {
            it.next().unwrap();
            continue;
        }
        got.push((e.user_key.to_vec(), e.kind, columns(e.payload().unwrap())));
        it.next().unwrap();
    }
    let want: Vec<_> = expected().into_iter().map(|(k, t, c)| (k.to_vec(), t, c)).collect();
    assert_eq!(got, want);
}

#[test]
fn lookups_give_entities_and_their_default_column() {
    let t = Table::open(FILE).unwrap();
    for (k, kind, cols) in expected() {
        let mut buf = Vec::new();
        let e = t.get(k, &mut buf).unwrap().unwrap_or_else(|| panic!("{k:?} not found"));
        assert_eq!(e.kind, kind);
        let p = e.payload().unwrap();
        if let Payload::Entity(ent) = p {
            assert_eq!(ent.len(), cols.len());
            let default = cols.iter().find(|(n, _)| n.is_empty()).map(|(_, v)| v.as_slice());
            assert_eq!(ent.default_value(), default);
        }
        assert_eq!(columns(p), cols);
    }
}

/// Tables RocksDB 10.4.2 wrote through DB writes and a flush (`data/entries/gen_kinds.py`): merge operands,
/// single deletions, a range deletion and blob references, read exactly.
mod kinds {
    use sstkit_core::table::Table;
    use sstkit_core::value::{BlobRef, Payload};
    use sstkit_core::ValueType;

    const KINDS: &[u8] = include_bytes!("data/entries/kinds.sst");
    const BLOB: &[u8] = include_bytes!("data/entries/blob.sst");

    fn scan(file: &[u8]) -> Vec<(Vec<u8>, u64, ValueType, Vec<u8>)> {
        let t = Table::open(file).unwrap();
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        let mut out = Vec::new();
        while let Some(e) = it.entry().unwrap() {
            out.push((e.user_key.to_vec(), e.seqno, e.kind, e.value.to_vec()));
            it.next().unwrap();
        }
        out
    }

    #[test]
    fn merge_operands_single_deletions_and_a_range_deletion() {
        let want: Vec<(Vec<u8>, u64, ValueType, Vec<u8>)> = [
            (&b"a_put"[..], 1, ValueType::Value, &b"v1"[..]),
            (b"c_merge", 3, ValueType::Merge, b"m1"),
            (b"e_merge", 8, ValueType::Merge, b"m2"),
            (b"f_sd", 9, ValueType::SingleDeletion, b""),
        ]
        .iter()
        .map(|(k, s, t, v)| (k.to_vec(), *s, *t, v.to_vec()))
        .collect();
        assert_eq!(scan(KINDS), want);
        let t = Table::open(KINDS).unwrap();
        let tombs: Vec<_> = t.range_tombstones().map(|r| r.unwrap()).collect();
        assert_eq!(tombs.len(), 1);
        assert_eq!((tombs[0].start, tombs[0].end, tombs[0].seqno), (&b"d_range1"[..], &b"d_range3"[..], 6));
        let mut buf = Vec::new();
        let e = t.get(b"c_merge", &mut buf).unwrap().unwrap();
        assert_eq!(e.payload().unwrap(), Payload::Merge(b"m1"));
        let e = t.get(b"f_sd", &mut buf).unwrap().unwrap();
        assert_eq!((e.kind, e.seqno, e.payload().unwrap()), (ValueType::SingleDeletion, 9, Payload::Deleted));
        // The puts the range deletion covered were dropped by the flush; a lookup meets the tombstone.
        let e = t.get(b"d_range2", &mut buf).unwrap().unwrap();
        assert_eq!((e.kind, e.seqno), (ValueType::RangeDeletion, 6));
        // b_sd's put and its single deletion met in the flush and both went.
        assert_eq!(t.get(b"b_sd", &mut buf).unwrap(), None);
    }

    #[test]
    fn blob_references_and_an_inline_value() {
        let got = scan(BLOB);
        let kinds: Vec<_> = got.iter().map(|(k, s, t, _)| (k.clone(), *s, *t)).collect();
        assert_eq!(
            kinds,
            [
                (b"big1".to_vec(), 1, ValueType::BlobIndex),
                (b"big2".to_vec(), 2, ValueType::BlobIndex),
                (b"small".to_vec(), 3, ValueType::Value)
            ]
        );
        fn blob(v: &[u8]) -> BlobRef<'_> {
            match Payload::decode(ValueType::BlobIndex, v).unwrap() {
                Payload::Blob(b) => b,
                p => panic!("{p:?}"),
            }
        }
        assert_eq!(
            blob(&got[0].3),
            BlobRef::Blob { expiration: None, file_number: 10, offset: 66, size: 40, compression: 0 }
        );
        assert_eq!(
            blob(&got[1].3),
            BlobRef::Blob { expiration: None, file_number: 10, offset: 142, size: 40, compression: 0 }
        );
        assert_eq!(got[2].3, b"tiny");
    }
}

mod prop {
    use proptest::prelude::*;

    /// A format-2 column: name, (value, value lives in a blob file).
    type ColV2 = (Vec<u8>, (Vec<u8>, bool));
    use sstkit_core::value::Entity;

    fn varint(out: &mut Vec<u8>, mut v: u32) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    proptest! {
        /// Columns encoded in format 1 come back exactly; every truncation of them is an error, not a panic.
        #[test]
        fn entities_round_trip_and_truncations_fail(
            cols in proptest::collection::btree_map(proptest::collection::vec(any::<u8>(), 0..6),
                                                   proptest::collection::vec(any::<u8>(), 0..200), 0..8)
        ) {
            let mut bytes = vec![1u8];
            varint(&mut bytes, cols.len() as u32);
            for (n, v) in &cols {
                varint(&mut bytes, n.len() as u32);
                bytes.extend_from_slice(n);
                varint(&mut bytes, v.len() as u32);
            }
            for v in cols.values() {
                bytes.extend_from_slice(v);
            }
            let e = Entity::parse(&bytes).unwrap();
            let got: Vec<(Vec<u8>, Vec<u8>)> = e.columns().map(|c| (c.name.to_vec(), c.value.to_vec())).collect();
            let want: Vec<(Vec<u8>, Vec<u8>)> = cols.clone().into_iter().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(e.default_value(), cols.get(&Vec::new()).map(|v| v.as_slice()));
            for cut in 0..bytes.len() {
                prop_assert!(Entity::parse(&bytes[..cut]).is_err(), "cut at {}", cut);
            }
        }

        /// Columns encoded in format 2 (RocksDB 11: some values are blob indexes) come back exactly, blob
        /// columns labelled as such; every truncation of them is an error, not a panic.
        #[test]
        fn entities_v2_round_trip_and_truncations_fail(
            cols in proptest::collection::btree_map(proptest::collection::vec(any::<u8>(), 0..6),
                                                   (proptest::collection::vec(any::<u8>(), 0..200), any::<bool>()),
                                                   0..8)
        ) {
            let (mut name_sizes, mut value_sizes) = (Vec::new(), Vec::new());
            let mut bytes = vec![2u8];
            varint(&mut bytes, cols.len() as u32);
            for (n, (v, blob)) in &cols {
                bytes.push(u8::from(*blob));
                varint(&mut name_sizes, n.len() as u32);
                varint(&mut value_sizes, v.len() as u32);
            }
            varint(&mut bytes, name_sizes.len() as u32);
            varint(&mut bytes, cols.keys().map(Vec::len).sum::<usize>() as u32);
            bytes.extend_from_slice(&name_sizes);
            bytes.extend_from_slice(&value_sizes);
            for n in cols.keys() {
                bytes.extend_from_slice(n);
            }
            for (v, _) in cols.values() {
                bytes.extend_from_slice(v);
            }
            let e = Entity::parse(&bytes).unwrap();
            prop_assert_eq!(e.version(), 2);
            let got: Vec<ColV2> = e.columns().map(|c| (c.name.to_vec(), (c.value.to_vec(), c.in_blob))).collect();
            let want: Vec<ColV2> = cols.clone().into_iter().collect();
            prop_assert_eq!(got, want);
            prop_assert_eq!(e.default_value(), cols.get(&Vec::new()).map(|(v, _)| v.as_slice()));
            for cut in 0..bytes.len() {
                prop_assert!(Entity::parse(&bytes[..cut]).is_err(), "cut at {}", cut);
            }
        }

        /// Arbitrary bytes never panic; what parses yields exactly its count of ascending columns.
        #[test]
        fn arbitrary_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Some(b) = bytes.first_mut() { *b %= 3; }
            if let Ok(e) = Entity::parse(&bytes) {
                let cols: Vec<_> = e.columns().collect();
                prop_assert_eq!(cols.len(), e.len());
                prop_assert!(cols.windows(2).all(|w| w[0].name < w[1].name));
            }
        }
    }
}
