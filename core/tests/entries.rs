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

mod prop {
    use proptest::prelude::*;
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
            let got: Vec<(Vec<u8>, (Vec<u8>, bool))> =
                e.columns().map(|c| (c.name.to_vec(), (c.value.to_vec(), c.in_blob))).collect();
            let want: Vec<(Vec<u8>, (Vec<u8>, bool))> = cols.clone().into_iter().collect();
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
