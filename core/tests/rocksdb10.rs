//! Tables written by RocksDB 10.4.2 (format_version 6, context checksums), committed as fixtures by
//! `data/rocksdb10/make_fixtures.py`: read exactly, looked up, verified, and opened through the ranged path.
#![cfg(feature = "alloc")]

use sstkit_core::checksum::{split_block, verify_block};
use sstkit_core::footer::{Footer, INDEX_HANDLE_NAME};
use sstkit_core::metaindex::Metaindex;
use sstkit_core::table::{meta_start, verified_block, MetaLayout, MetaNeed, ReadOptions, Table};
use sstkit_core::{ChecksumType, Error, Part, ValueType};

const FIXTURES: [(&str, &[u8], ChecksumType); 5] = [
    ("fv6_crc32c", include_bytes!("data/rocksdb10/fv6_crc32c.sst"), ChecksumType::Crc32c),
    ("fv6_none", include_bytes!("data/rocksdb10/fv6_none.sst"), ChecksumType::None),
    ("fv6_xxhash", include_bytes!("data/rocksdb10/fv6_xxhash.sst"), ChecksumType::XxHash),
    ("fv6_xxhash64", include_bytes!("data/rocksdb10/fv6_xxhash64.sst"), ChecksumType::XxHash64),
    ("fv6_xxh3_lz4_bloom", include_bytes!("data/rocksdb10/fv6_xxh3_lz4_bloom.sst"), ChecksumType::Xxh3),
];

/// The entries `make_fixtures.py` writes.
fn expected() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    (0..150)
        .map(|i| {
            let k = format!("key{i:04}").into_bytes();
            (k, (i % 10 != 3).then(|| format!("value{i}").repeat(3).into_bytes()))
        })
        .collect()
}

#[test]
fn reads_rocksdb_10_fv6_tables_exactly() {
    for (name, file, sum) in FIXTURES {
        let mut index_buf = vec![0u8; 1 << 16];
        let t =
            Table::open_with(file, ReadOptions::default(), &mut index_buf).unwrap_or_else(|e| panic!("{name}: {e}"));
        let f = *t.footer();
        assert_eq!(f.format_version, 6, "{name}");
        assert_eq!(f.checksum, sum, "{name}");
        assert_ne!(f.base_context_checksum, 0, "{name}");
        // The metaindex ends right before the footer; the index handle came from it.
        assert_eq!(f.metaindex.offset + f.metaindex.size + 5, file.len() as u64 - 53, "{name}");
        assert!(!f.index.is_null(), "{name}");
        assert_eq!(t.properties().comparator, Some(&b"leveldb.BytewiseComparator"[..]), "{name}");
        assert_eq!(t.properties().num_entries, Some(150), "{name}");

        let want = expected();
        let mut got = Vec::new();
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        while let Some(e) = it.entry().unwrap() {
            let v = match e.kind {
                ValueType::Value => Some(e.value.to_vec()),
                ValueType::Deletion => None,
                k => panic!("{name}: unexpected {k:?}"),
            };
            got.push((e.user_key.to_vec(), v));
            it.next().unwrap();
        }
        assert_eq!(got, want, "{name}");

        let mut buf = Vec::new();
        for (k, v) in &want {
            let l = t.get(k, &mut buf).unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            match v {
                Some(v) => assert_eq!((l.kind, l.value), (ValueType::Value, &v[..]), "{name}"),
                None => assert_eq!(l.kind, ValueType::Deletion, "{name}"),
            }
        }
        assert!(t.get(b"key0150", &mut buf).unwrap().is_none(), "{name}");
        assert!(t.get(b"a", &mut buf).unwrap().is_none(), "{name}");
        let blocks = t.verify_all().unwrap();
        assert!(blocks > 10, "{name}: {blocks} blocks");
    }
}

#[test]
fn every_block_checksum_includes_the_context_modifier() {
    for (name, file, _) in FIXTURES {
        let f = Footer::decode(file, file.len() as u64).unwrap();
        let sum = f.block_checksum();
        let meta = verified_block(file, 0, f.metaindex, sum, true, Part::Metaindex).unwrap();
        let mi = Metaindex::parse(meta.body).unwrap();
        let index = mi.find(INDEX_HANDLE_NAME).unwrap().expect("rocksdb.index");
        let end = index.end_with_trailer().unwrap() as usize;
        let block = &file[index.offset as usize..end];
        verify_block(sum, block, Part::Index, index.offset).unwrap();
        // Without the base (as an fv5 reader would check it), or at another offset, it does not verify.
        if f.checksum != ChecksumType::None {
            assert!(verify_block(f.checksum, block, Part::Index, index.offset).is_err(), "{name}");
        }
        assert!(verify_block(sum, block, Part::Index, index.offset + 1).is_err(), "{name}");
        let (body, trailer) = split_block(block, Part::Index, index.offset).unwrap();
        if f.checksum == ChecksumType::None {
            // kNoChecksum stores the bare modifier.
            assert_eq!(trailer.checksum.get(), sum.modifier(index.offset), "{name}");
        } else {
            assert_eq!(trailer.checksum.get(), sum.stored(body, trailer.compression, index.offset), "{name}");
        }
    }
}

#[test]
fn ranged_open_needs_only_the_tail() {
    for (name, file, _) in FIXTURES {
        let len = file.len() as u64;
        let opts = ReadOptions::default();
        let mut base = len - 53;
        loop {
            match meta_start(&file[base as usize..], base, len, &opts).unwrap() {
                MetaNeed::Covered => break,
                MetaNeed::From(x) => {
                    assert!(x < base, "{name}");
                    base = x;
                }
            }
        }
        let mut index_buf = vec![0u8; 1 << 16];
        let l = MetaLayout::parse(&file[base as usize..], base, len, &opts, &mut index_buf).unwrap();
        // The tail starts at or before the index, which the footer does not name in fv6.
        assert!(base <= l.footer.index.offset, "{name}");
        assert_eq!(l.checksum().base, l.footer.base_context_checksum);
        let h = l.find_block(&file[base as usize..], &index_buf, b"key0042").unwrap().unwrap();
        assert!(h.offset < base, "{name}: a data block");
        verified_block(file, 0, h, l.checksum(), true, Part::DataBlock).unwrap();
    }
}

#[test]
fn a_flipped_byte_anywhere_is_caught() {
    let (_, file, _) = FIXTURES[0];
    let mut index_buf = vec![0u8; 1 << 16];
    for at in (0..file.len()).step_by(37) {
        let mut bad = file.to_vec();
        bad[at] ^= 0x20;
        let r = Table::open_with(&bad, ReadOptions::default(), &mut index_buf).and_then(|t| t.verify_all());
        match r {
            Err(e) => assert!(e.is_corruption() || matches!(e, Error::Unsupported { .. }), "{at}: {e:?}"),
            Ok(_) => panic!("byte {at} flipped but the table verifies"),
        }
    }
}
