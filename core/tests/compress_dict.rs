//! Tables RocksDB 10.4.2 wrote with a compression dictionary (the `rocksdb.compression_dict` meta block) for
//! ZSTD (trained and raw-sample dictionaries) and LZ4, plus LZ4HC: committed by `data/dict/gen.py`, read exactly.
#![cfg(all(feature = "alloc", feature = "lz4", feature = "zstd"))]

use sstkit_core::compress::decompress_to_vec;
use sstkit_core::table::{ReadOptions, Table};
use sstkit_core::{CompressionType, Error, Part, ValueType};

/// (name, file, data-block codec, has a dictionary, dictionary is zstd-trained)
const FIXTURES: [(&str, &[u8], CompressionType, bool, bool); 4] = [
    ("zstd_trained", include_bytes!("data/dict/zstd_trained.sst"), CompressionType::Zstd, true, true),
    ("zstd_raw", include_bytes!("data/dict/zstd_raw.sst"), CompressionType::Zstd, true, false),
    ("lz4_dict", include_bytes!("data/dict/lz4_dict.sst"), CompressionType::Lz4, true, false),
    ("lz4hc", include_bytes!("data/dict/lz4hc.sst"), CompressionType::Lz4hc, false, false),
];

/// The entries `gen.py` writes.
fn expected() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..400)
        .map(|i| {
            let k = format!("key{i:05}").into_bytes();
            let v = format!("value-{i:05}-") + &"the quick brown fox jumps over the lazy dog ".repeat(1 + i % 3);
            (k, v.into_bytes())
        })
        .collect()
}

#[test]
fn reads_dictionary_compressed_tables_exactly() {
    for (name, file, codec, has_dict, trained) in FIXTURES {
        let mut index_buf = vec![0u8; 1 << 16];
        let t =
            Table::open_with(file, ReadOptions::default(), &mut index_buf).unwrap_or_else(|e| panic!("{name}: {e}"));
        let dict = t.layout().compression_dict();
        assert_eq!(!dict.is_empty(), has_dict, "{name}");
        assert_eq!(dict.starts_with(&[0x37, 0xA4, 0x30, 0xEC]), trained, "{name}");

        let want = expected();
        let mut got = Vec::new();
        let mut compressed = 0;
        let mut needs_dict = 0;
        let mut last = None;
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        while let Some(e) = it.entry().unwrap() {
            assert_eq!(e.kind, ValueType::Value, "{name}");
            got.push((e.user_key.to_vec(), e.value.to_vec()));
            let h = it.block_handle();
            if last != Some(h) {
                last = Some(h);
                let b = t.block(h, Part::DataBlock).unwrap();
                if b.compression != CompressionType::None {
                    assert_eq!(b.compression, codec, "{name}");
                    compressed += 1;
                    // Without the dictionary the block does not decode to the same bytes.
                    let fv = t.footer().format_version;
                    let with = {
                        let mut out = Vec::new();
                        let n = b.decompress_to_with_dict(fv, 1 << 20, dict, &mut out).unwrap();
                        out.truncate(n);
                        out
                    };
                    match decompress_to_vec(b.compression, fv, b.body, 1 << 20) {
                        Ok(plain) if plain == with => {}
                        Ok(_) | Err(Error::Corruption { .. } | Error::Unsupported { .. }) => needs_dict += 1,
                        Err(e) => panic!("{name}: {e}"),
                    }
                }
            }
            it.next().unwrap();
        }
        assert_eq!(got, want, "{name}");
        assert!(compressed > 10, "{name}: {compressed} compressed blocks");
        if has_dict {
            assert!(needs_dict > 0, "{name}: no block needed the dictionary");
        } else {
            assert_eq!(needs_dict, 0, "{name}");
        }

        let mut buf = Vec::new();
        for (k, v) in &want {
            let l = t.get(k, &mut buf).unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            assert_eq!((l.kind, l.value), (ValueType::Value, &v[..]), "{name}");
        }
        assert!(t.get(b"key00400", &mut buf).unwrap().is_none(), "{name}");
        assert!(t.verify_all().unwrap() > 10, "{name}");
    }
}

#[test]
fn hostile_dictionaries_give_errors() {
    use sstkit_core::compress::decompress_into_with_dict;
    for (name, file, _, has_dict, trained) in FIXTURES {
        if !has_dict {
            continue;
        }
        let mut index_buf = vec![0u8; 1 << 16];
        let t = Table::open_with(file, ReadOptions::default(), &mut index_buf).unwrap();
        let dict = t.layout().compression_dict();
        let fv = t.footer().format_version;
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        let b = t.block(it.block_handle(), Part::DataBlock).unwrap();
        let mut out = vec![0u8; 1 << 16];
        let mut flipped = dict.to_vec();
        for x in flipped.iter_mut().skip(8).step_by(3) {
            *x ^= 0x5a;
        }
        let wrong: [&[u8]; 4] = [&dict[..dict.len() / 2], &dict[..12.min(dict.len())], &flipped, &[0u8; 100]];
        for d in wrong {
            // Another dictionary must not panic; it may decode to other bytes or fail.
            let _ = decompress_into_with_dict(b.compression, fv, b.body, d, &mut out);
        }
        if trained {
            // A trained dictionary cut inside its tables is reported as corrupt.
            let e = decompress_into_with_dict(b.compression, fv, b.body, &dict[..12], &mut out).unwrap_err();
            assert!(matches!(e, Error::Corruption { .. }), "{name}: {e:?}");
        }
    }
}
