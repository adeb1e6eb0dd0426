//! A type byte, then raw bytes as an entry's stored value → `Payload::decode` (wide-column entities of format 1
//! and 2, values with a preferred seqno, blob references, ...). Nothing may panic; what decodes must account for
//! its bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::value::{BlobRef, Entity, Payload};
use sstkit_core::ValueType;

/// Appends `v` as a varint32.
fn varint(out: &mut Vec<u8>, mut v: u32) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn check_entity(e: &Entity<'_>, bytes: &[u8]) {
    let cols: Vec<_> = e.columns().collect();
    assert_eq!(cols.len(), e.len(), "every column comes out");
    assert!(cols.windows(2).all(|w| w[0].name < w[1].name), "names strictly ascend");
    assert_eq!(e.default_value(), cols.first().filter(|c| c.name.is_empty()).map(|c| c.value));
    if e.version() == 1 {
        assert!(cols.iter().all(|c| !c.in_blob), "format 1 has no blob columns");
    }
    for c in &cols {
        // A blob column's index decodes or fails cleanly.
        if let Some(Err(err)) = c.blob() {
            assert!(err.is_corruption() || err.is_unsupported(), "{err:?}");
        }
    }
    // A parsed entity accounts for every byte: re-encoded from its columns in its version, it is the input.
    let mut again = vec![e.version() as u8];
    varint(&mut again, cols.len() as u32);
    if e.version() == 1 {
        for c in &cols {
            varint(&mut again, c.name.len() as u32);
            again.extend_from_slice(c.name);
            varint(&mut again, c.value.len() as u32);
        }
    } else {
        let (mut name_sizes, mut value_sizes) = (Vec::new(), Vec::new());
        for c in &cols {
            again.push(u8::from(c.in_blob));
            varint(&mut name_sizes, c.name.len() as u32);
            varint(&mut value_sizes, c.value.len() as u32);
        }
        varint(&mut again, name_sizes.len() as u32);
        varint(&mut again, cols.iter().map(|c| c.name.len()).sum::<usize>() as u32);
        again.extend_from_slice(&name_sizes);
        again.extend_from_slice(&value_sizes);
        for c in &cols {
            again.extend_from_slice(c.name);
        }
    }
    for c in &cols {
        again.extend_from_slice(c.value);
    }
    // The input may spell a varint with redundant continuation bytes; then only the lengths can match.
    if again.len() == bytes.len() {
        assert_eq!(again, bytes, "entity re-encodes to its bytes");
    }
    assert!(again.len() <= bytes.len());
}

fuzz_target!(|data: &[u8]| {
    let Some((&t, value)) = data.split_first() else { return };
    let kinds = [
        ValueType::WideColumnEntity,
        ValueType::ValuePreferredSeqno,
        ValueType::BlobIndex,
        ValueType::Value,
        ValueType::Merge,
        ValueType::Deletion,
        ValueType::SingleDeletion,
        ValueType::DeletionWithTimestamp,
    ];
    let kind = kinds[t as usize % kinds.len()];
    match Payload::decode(kind, value) {
        Ok(Payload::Entity(e)) => check_entity(&e, value),
        Ok(Payload::ValuePreferredSeqno { value: v, preferred_seqno }) => {
            assert_eq!(v.len() + 8, value.len());
            assert_eq!(&value[v.len()..], &preferred_seqno.to_le_bytes());
        }
        Ok(Payload::Blob(BlobRef::InlinedTtl { value: v, .. })) => assert!(v.len() < value.len()),
        Ok(Payload::Blob(BlobRef::Blob { .. })) => assert!(value.len() >= 5),
        Ok(Payload::Value(v) | Payload::Merge(v)) => assert_eq!(v, value),
        Ok(Payload::Deleted) => assert!(kind.is_deletion()),
        Err(e) => assert!(e.is_corruption() || e.is_unsupported(), "{e:?}"),
    }
    // The same bytes as an entity whatever the type byte said.
    if let Ok(e) = Entity::parse(value) {
        check_entity(&e, value);
    }
});
