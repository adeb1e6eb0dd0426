//! Block codecs against reference encoders (snap, miniz_oxide, ruzstd, lz4_flex, bzip2) and against blocks RocksDB
//! 7.8.3 wrote (`tests/data/compress/`, made by `make_fixtures.py`), plus hostile input that must not panic.
//! Tests live in `mod compress` so `cargo test compress` selects them.

mod compress {
    #![allow(dead_code, unused_imports)]

    use proptest::prelude::*;
    use sstkit_core::compress::{
        can_decompress, compress_into, decompress_into, decompressed_len, DEFAULT_MAX_BLOCK_LEN,
    };
    use sstkit_core::{CompressionType as C, Error, Part};

    const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/compress/");

    fn fixture(name: &str) -> Vec<u8> {
        std::fs::read(format!("{DATA}{name}.bin")).unwrap()
    }

    /// Decodes like a table reader would: ask the length, size the buffer, decode.
    fn decode(kind: C, fv: u32, body: &[u8]) -> Result<Vec<u8>, Error> {
        let len = decompressed_len(kind, fv, body, DEFAULT_MAX_BLOCK_LEN)?.unwrap_or(body.len());
        let mut out = vec![0u8; len];
        let n = match decompress_into(kind, fv, body, &mut out) {
            // Legacy Zlib and BZip2 do not store their length; the error tells it.
            Err(Error::BufferTooSmall { needed }) if needed > len => {
                out.resize(needed, 0);
                decompress_into(kind, fv, body, &mut out)?
            }
            r => r?,
        };
        out.truncate(n);
        Ok(out)
    }

    /// Decodes without trusting anything; only a panic fails.
    fn poke(kind: C, fv: u32, body: &[u8]) {
        if let Ok(Some(len)) = decompressed_len(kind, fv, body, 1 << 20) {
            let mut out = vec![0u8; len];
            let _ = decompress_into(kind, fv, body, &mut out);
        }
        let mut small = [0u8; 64];
        let _ = decompress_into(kind, fv, body, &mut small);
    }

    fn is_corrupt(r: Result<usize, Error>) -> bool {
        matches!(r, Err(Error::Corruption { part: Part::Compression, .. }))
    }

    /// Prepends RocksDB's varint32 length.
    fn prefixed(len: usize, payload: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        let mut n = len as u32;
        while n >= 0x80 {
            v.push(n as u8 | 0x80);
            n >>= 7;
        }
        v.push(n as u8);
        v.extend_from_slice(payload);
        v
    }

    /// Repetitive data: runs and repeats drawn from a small alphabet.
    fn repetitive() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec((0u8..4, 1usize..40), 0..300).prop_map(|runs| {
            let mut v = Vec::new();
            for (i, (sym, len)) in runs.into_iter().enumerate() {
                if i % 3 == 0 && v.len() > 8 {
                    let start = (len * 7) % (v.len() - 4);
                    let end = (start + len).min(v.len());
                    v.extend_from_within(start..end);
                } else {
                    v.extend(std::iter::repeat_n(b'a' + sym, len));
                }
            }
            v
        })
    }

    fn any_data() -> impl Strategy<Value = Vec<u8>> {
        prop_oneof![prop::collection::vec(any::<u8>(), 0..3000), repetitive()]
    }

    // ---- Real RocksDB blocks ----

    /// (fixture, type byte, format_version); all hold the first data block of the same table.
    const FIXTURES: &[(&str, C, u32)] = &[
        ("snappy_fv5", C::Snappy, 5),
        ("zlib_fv5", C::Zlib, 5),
        ("lz4_fv5", C::Lz4, 5),
        ("lz4hc_fv5", C::Lz4hc, 5),
        ("zstd_fv5", C::Zstd, 5),
        ("zlib_fv1", C::Zlib, 1),
        ("lz4_fv1", C::Lz4, 1),
        ("bzip2_fv5", C::Bzip2, 5),
        ("bzip2_fv1", C::Bzip2, 1),
    ];

    /// A block's restart array is in range: last u32 = num_restarts, offsets ascending from 0 before it.
    fn assert_sane_block(block: &[u8]) {
        let word = |at: usize| u32::from_le_bytes(block[at..at + 4].try_into().unwrap()) as usize;
        let num = word(block.len() - 4);
        assert!(num >= 1 && 4 * (num + 1) <= block.len(), "num_restarts {num}");
        let restarts_at = block.len() - 4 * (num + 1);
        let offsets: Vec<usize> = (0..num).map(|i| word(restarts_at + 4 * i)).collect();
        assert_eq!(offsets[0], 0);
        assert!(offsets.windows(2).all(|w| w[0] < w[1]) && offsets[num - 1] < restarts_at);
    }

    #[test]
    fn rocksdb_blocks_decode_to_the_raw_block() {
        let raw = fixture("none");
        assert_sane_block(&raw);
        assert_eq!(decode(C::None, 5, &raw).unwrap(), raw);
        for &(name, kind, fv) in FIXTURES {
            let body = fixture(name);
            if !can_decompress(kind) {
                assert!(matches!(decode(kind, fv, &body), Err(Error::Unsupported { .. })), "{name}");
                continue;
            }
            let claimed = if matches!(name, "zlib_fv1" | "bzip2_fv1") { None } else { Some(raw.len()) };
            assert_eq!(decompressed_len(kind, fv, &body, DEFAULT_MAX_BLOCK_LEN).unwrap(), claimed, "{name}");
            let got = decode(kind, fv, &body).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(got, raw, "{name}");
            assert_sane_block(&got);
            // One byte short: told the exact size, before anything is written.
            let mut out = vec![0u8; raw.len() - 1];
            assert_eq!(decompress_into(kind, fv, &body, &mut out), Err(Error::BufferTooSmall { needed: raw.len() }));
            if claimed.is_some() {
                let r = decompressed_len(kind, fv, &body, raw.len() - 1);
                assert!(matches!(r, Err(Error::Unsupported { value, .. }) if value == raw.len() as u64), "{name}");
            }
        }
    }

    #[test]
    fn rocksdb_blocks_truncated_or_flipped_never_panic() {
        for &(name, kind, fv) in FIXTURES {
            let body = fixture(name);
            for cut in 0..body.len() {
                poke(kind, fv, &body[..cut]);
                // A cut body never decodes to the full block.
                let mut out = vec![0u8; 4096];
                if let Ok(n) = decompress_into(kind, fv, &body[..cut], &mut out) {
                    assert!(name.starts_with("zlib") && n < 1996 || cut == body.len(), "{name} cut {cut}");
                }
            }
            let mut bad = body.clone();
            for i in 0..bad.len() {
                for bit in [0x01, 0x10, 0x80] {
                    bad[i] ^= bit;
                    poke(kind, fv, &bad);
                    bad[i] ^= bit;
                }
            }
        }
    }

    #[test]
    fn unsupported_and_trivial_types() {
        let kinds: &[C] = if cfg!(feature = "bzip2") { &[C::Xpress] } else { &[C::Bzip2, C::Xpress] };
        for &kind in kinds {
            let body = prefixed(3, b"abc");
            assert!(matches!(decompressed_len(kind, 5, &body, 100), Err(Error::Unsupported { .. })));
            assert!(matches!(decompress_into(kind, 5, &body, &mut [0u8; 8]), Err(Error::Unsupported { .. })));
            assert!(!can_decompress(kind));
        }
        // Raw blocks: the body is the block; the limit guards allocations only.
        assert_eq!(decompressed_len(C::None, 5, b"abcd", 2), Ok(Some(4)));
        let mut out = [0u8; 4];
        assert_eq!(decompress_into(C::None, 5, b"abcd", &mut out), Ok(4));
        assert_eq!(decompress_into(C::None, 5, b"abcd", &mut out[..3]), Err(Error::BufferTooSmall { needed: 4 }));
        assert_eq!(compress_into(C::None, 5, b"aaaaaaaaaaaaaaaaaaaaaaaaaaa", &mut [0u8; 32]), Ok(None));
        assert!(matches!(compress_into(C::Snappy, 5, b"aaaa", &mut [0u8; 32]), Err(Error::Unsupported { .. })));
        assert!(matches!(compress_into(C::Zstd, 5, b"aaaa", &mut [0u8; 32]), Err(Error::Unsupported { .. })));
        // A bad varint prefix is corruption, not a panic.
        for kind in [C::Snappy, C::Zlib, C::Lz4, C::Zstd, C::Bzip2] {
            for body in [&[0x80u8, 0x80][..], &[], &[0xff; 6]] {
                let r = decompressed_len(kind, 5, body, 100);
                if can_decompress(kind) {
                    assert!(matches!(r, Err(Error::Corruption { part: Part::Compression, .. })), "{kind:?} {r:?}");
                } else {
                    assert!(matches!(r, Err(Error::Unsupported { .. })), "{kind:?} {r:?}");
                }
            }
        }
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn decompress_to_vec_matches() {
        use sstkit_core::compress::decompress_to_vec;
        let raw = fixture("none");
        for &(name, kind, fv) in FIXTURES {
            if can_decompress(kind) {
                assert_eq!(decompress_to_vec(kind, fv, &fixture(name), DEFAULT_MAX_BLOCK_LEN).unwrap(), raw, "{name}");
                let r = decompress_to_vec(kind, fv, &fixture(name), 1000);
                assert!(matches!(r, Err(Error::Unsupported { .. })), "{name}: {r:?}");
            }
        }
    }

    // ---- LZ4 ----

    #[cfg(feature = "lz4")]
    fn lz4_roundtrip(raw: &[u8], fv: u32) -> Option<usize> {
        let mut out = vec![0u8; raw.len()];
        let n = compress_into(C::Lz4, fv, raw, &mut out).unwrap()?;
        // RocksDB's rule, prefix included.
        assert!(n < raw.len() - raw.len() / 8, "{n} for {}", raw.len());
        let body = &out[..n];
        assert_eq!(decompressed_len(C::Lz4, fv, body, DEFAULT_MAX_BLOCK_LEN).unwrap(), Some(raw.len()));
        assert_eq!(decode(C::Lz4, fv, body).unwrap(), raw);
        assert_eq!(decode(C::Lz4hc, fv, body).unwrap(), raw);
        // The reference decoder agrees on the bare LZ4 block.
        let prefix = if fv >= 2 { prefixed(raw.len(), b"").len() } else { 8 };
        let mut back = vec![0u8; raw.len()];
        assert_eq!(lz4_flex::block::decompress_into(&body[prefix..], &mut back).ok(), Some(raw.len()));
        assert_eq!(back, raw);
        Some(n)
    }

    #[cfg(feature = "lz4")]
    #[test]
    fn lz4_compresses_what_pays_off() {
        let text: Vec<u8> = (0..4096u32).flat_map(|i| format!("key{:06}value{}", i, i % 13).into_bytes()).collect();
        for fv in [5, 2, 1] {
            let n = lz4_roundtrip(&text, fv).expect("text compresses");
            assert!(n < text.len() / 2);
            assert!(lz4_roundtrip(&vec![0u8; 100_000], fv).unwrap() < 600);
        }
        // Incompressible: stored raw.
        let mut x = 0x1234_5678u32;
        let noise: Vec<u8> = (0..5000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                x as u8
            })
            .collect();
        assert_eq!(compress_into(C::Lz4, 5, &noise, &mut vec![0u8; noise.len()]), Ok(None));
        // Too short or empty: never worth it.
        assert_eq!(compress_into(C::Lz4, 5, b"", &mut [0u8; 0]), Ok(None));
        assert_eq!(compress_into(C::Lz4, 5, b"aaaaaaa", &mut [0u8; 7]), Ok(None));
        // An output buffer too small for the result: stored raw rather than an error.
        assert_eq!(compress_into(C::Lz4, 5, &text, &mut [0u8; 16]), Ok(None));
    }

    #[cfg(feature = "lz4")]
    #[test]
    fn lz4_large_inputs_and_far_repeats() {
        // Repeats at distances around the 64 KiB offset limit, and a block past 64 KiB.
        let mut x = 7u32;
        let chunk: Vec<u8> = (0..70_000)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 24) as u8
            })
            .collect();
        let mut far = chunk.clone();
        far.extend_from_slice(&chunk);
        // Distance 70 000 cannot be reached: incompressible for LZ4.
        assert_eq!(compress_into(C::Lz4, 5, &far, &mut vec![0u8; far.len()]), Ok(None));
        let mut near = chunk[..60_000].to_vec();
        near.extend_from_within(..60_000);
        near.extend_from_within(..60_000);
        assert!(lz4_roundtrip(&near, 5).unwrap() < 70_000);
    }

    #[cfg(feature = "lz4")]
    #[test]
    fn lz4_decodes_reference_encoder_output() {
        let text: Vec<u8> = (0..3000u32).flat_map(|i| format!("{i}:{}", i % 17).into_bytes()).collect();
        let mut buf = vec![0u8; lz4_flex::block::get_maximum_output_size(text.len())];
        let n = lz4_flex::block::compress_into(&text, &mut buf).unwrap();
        assert_eq!(decode(C::Lz4, 5, &prefixed(text.len(), &buf[..n])).unwrap(), text);
        // Claimed length off by one either way.
        let mut out = vec![0u8; text.len() + 10];
        assert!(is_corrupt(decompress_into(C::Lz4, 5, &prefixed(text.len() - 1, &buf[..n]), &mut out)));
        assert!(is_corrupt(decompress_into(C::Lz4, 5, &prefixed(text.len() + 1, &buf[..n]), &mut out)));
        // Legacy prefix shorter than 8 bytes.
        assert!(is_corrupt(decompress_into(C::Lz4, 1, &[1, 0, 0], &mut out)));
    }

    #[cfg(feature = "lz4")]
    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn lz4_roundtrips(raw in any_data(), fv in prop_oneof![Just(1u32), Just(5u32)]) {
            lz4_roundtrip(&raw, fv);
        }

        #[test]
        fn lz4_hostile_never_panics(body in prop::collection::vec(any::<u8>(), 0..200)) {
            poke(C::Lz4, 5, &body);
            poke(C::Lz4, 1, &body);
        }
    }

    // ---- Snappy ----

    #[cfg(feature = "snappy")]
    fn snap(raw: &[u8]) -> Vec<u8> {
        snap::raw::Encoder::new().compress_vec(raw).unwrap()
    }

    #[cfg(feature = "snappy")]
    #[test]
    fn snappy_large_and_edge_inputs() {
        for raw in [
            Vec::new(),
            vec![1u8],
            vec![9u8; 200_000],
            (0..300_000u32).map(|i| (i.wrapping_mul(i) >> 7) as u8).collect(),
        ] {
            assert_eq!(decode(C::Snappy, 5, &snap(&raw)).unwrap(), raw);
        }
        // A 4-byte-offset copy (snap never emits one): "abcd" then copy 4 from offset 4.
        let block = [8, 3 << 2, b'a', b'b', b'c', b'd', 3 | (3 << 2), 4, 0, 0, 0];
        assert_eq!(decode(C::Snappy, 5, &block).unwrap(), b"abcdabcd");
        // Overlapping copy: one byte repeated.
        let block = [6, 0, b'z', 2 | (4 << 2), 1, 0];
        assert_eq!(decode(C::Snappy, 5, &block).unwrap(), b"zzzzzz");
    }

    #[cfg(feature = "snappy")]
    #[test]
    fn snappy_truncated_is_an_error() {
        let raw: Vec<u8> = (0..5000u32).flat_map(|i| format!("k{} ", i % 97).into_bytes()).collect();
        let body = snap(&raw);
        for cut in 0..body.len() {
            let mut out = vec![0u8; raw.len()];
            assert!(decompress_into(C::Snappy, 0, &body[..cut], &mut out).is_err(), "cut {cut}");
        }
    }

    #[cfg(feature = "snappy")]
    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn snappy_matches_snap(raw in any_data()) {
            let body = snap(&raw);
            prop_assert_eq!(decode(C::Snappy, 5, &body).unwrap(), raw.clone());
            prop_assert_eq!(decode(C::Snappy, 0, &body).unwrap(), raw);
        }

        #[test]
        fn snappy_hostile_never_panics(body in prop::collection::vec(any::<u8>(), 0..200)) {
            poke(C::Snappy, 5, &body);
        }

        #[test]
        fn snappy_mutated_never_panics(raw in repetitive(), at in any::<prop::sample::Index>(), x in 1u8..) {
            let mut body = snap(&raw);
            if !body.is_empty() {
                let i = at.index(body.len());
                body[i] ^= x;
                poke(C::Snappy, 5, &body);
            }
        }
    }

    // ---- Zlib ----

    #[cfg(feature = "zlib")]
    fn deflate(raw: &[u8], level: u8) -> Vec<u8> {
        miniz_oxide::deflate::compress_to_vec(raw, level)
    }

    #[cfg(feature = "zlib")]
    #[test]
    fn zlib_legacy_length_is_counted() {
        let raw: Vec<u8> = (0..100_000u32).flat_map(|i| format!("{} ", i % 1000).into_bytes()).collect();
        let body = deflate(&raw, 6);
        assert_eq!(decompressed_len(C::Zlib, 1, &body, 10), Ok(None));
        let mut out = vec![0u8; 1000];
        assert_eq!(decompress_into(C::Zlib, 1, &body, &mut out), Err(Error::BufferTooSmall { needed: raw.len() }));
        let mut out = vec![0u8; raw.len() + 5];
        assert_eq!(decompress_into(C::Zlib, 1, &body, &mut out), Ok(raw.len()));
        assert_eq!(&out[..raw.len()], &raw[..]);
        // With the fv2 prefix, a wrong claim is corruption.
        let mut out = vec![0u8; raw.len() + 5];
        assert!(is_corrupt(decompress_into(C::Zlib, 2, &prefixed(raw.len() - 1, &body), &mut out)));
        assert!(is_corrupt(decompress_into(C::Zlib, 2, &prefixed(raw.len() + 1, &body), &mut out)));
        // A zlib-wrapped (header + Adler-32) stream is not what RocksDB writes.
        let wrapped = miniz_oxide::deflate::compress_to_vec_zlib(&raw, 6);
        assert!(decompress_into(C::Zlib, 2, &prefixed(raw.len(), &wrapped), &mut out).is_err());
    }

    #[cfg(feature = "zlib")]
    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn zlib_matches_deflate(raw in any_data(), level in 0u8..=9) {
            let body = deflate(&raw, level);
            prop_assert_eq!(decode(C::Zlib, 5, &prefixed(raw.len(), &body)).unwrap(), raw.clone());
            prop_assert_eq!(decode(C::Zlib, 1, &body).unwrap(), raw);
        }

        #[test]
        fn zlib_hostile_never_panics(body in prop::collection::vec(any::<u8>(), 0..200)) {
            poke(C::Zlib, 5, &body);
            poke(C::Zlib, 1, &body);
        }
    }

    // ---- ZSTD ----

    #[cfg(feature = "zstd")]
    fn zstd(raw: &[u8]) -> Vec<u8> {
        prefixed(raw.len(), &ruzstd::encoding::compress_to_vec(raw, ruzstd::encoding::CompressionLevel::Fastest))
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_sizes_and_lies() {
        let raw: Vec<u8> = (0..400_000u32).flat_map(|i| format!("{} ", i % 5000).into_bytes()).collect();
        let body = zstd(&raw);
        assert_eq!(decode(C::Zstd, 5, &body).unwrap(), raw);
        assert_eq!(decode(C::ZstdNotFinal, 1, &body).unwrap(), raw);
        let frame = &body[prefixed(raw.len(), b"").len()..];
        let mut out = vec![0u8; raw.len() + 10];
        // Claims smaller than the frame's output: corruption, without writing past the claim.
        assert!(is_corrupt(decompress_into(C::Zstd, 5, &prefixed(1000, frame), &mut out)));
        assert!(is_corrupt(decompress_into(C::Zstd, 5, &prefixed(raw.len() + 1, frame), &mut out)));
        // Trailing bytes after the frame.
        let mut trailing = body.clone();
        trailing.push(0);
        assert!(is_corrupt(decompress_into(C::Zstd, 5, &trailing, &mut out)));
        assert_eq!(decode(C::Zstd, 5, &zstd(b"")).unwrap(), b"");
    }

    #[cfg(feature = "zstd")]
    #[test]
    fn zstd_huge_window_is_refused() {
        // Frame header: magic, descriptor 0 (window descriptor follows), window log 10+20 = 1 GiB.
        let frame = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 20 << 3, 0x01, 0x00, 0x00];
        let r = decompress_into(C::Zstd, 5, &prefixed(10, &frame), &mut [0u8; 10]);
        assert!(matches!(r, Err(Error::Unsupported { .. })), "{r:?}");
    }

    #[cfg(feature = "zstd")]
    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn zstd_matches_ruzstd(raw in any_data()) {
            prop_assert_eq!(decode(C::Zstd, 5, &zstd(&raw)).unwrap(), raw);
        }

        #[test]
        fn zstd_mutated_never_panics(raw in repetitive(), at in any::<prop::sample::Index>(), x in 1u8..) {
            let mut body = zstd(&raw);
            let i = at.index(body.len());
            body[i] ^= x;
            poke(C::Zstd, 5, &body);
        }
    }

    // ---- BZip2 ----

    #[cfg(feature = "bzip2")]
    fn bz2(raw: &[u8], level: u32) -> Vec<u8> {
        use bzip2::{Action, Compress, Compression, Status};
        let mut c = Compress::new(Compression::new(level), 30);
        let mut out = Vec::with_capacity(raw.len() + raw.len() / 50 + 700);
        assert_eq!(c.compress_vec(raw, &mut out, Action::Finish).unwrap(), Status::StreamEnd);
        out
    }

    #[cfg(feature = "bzip2")]
    #[test]
    fn bzip2_sizes_and_lies() {
        // Over 900 kB: several bzip2 blocks in one stream.
        let raw: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{} ", i % 7000).into_bytes()).collect();
        assert!(raw.len() > 1_000_000);
        let stream = bz2(&raw, 9);
        let body = prefixed(raw.len(), &stream);
        assert_eq!(decode(C::Bzip2, 5, &body).unwrap(), raw);
        // Legacy (fv < 2): no prefix, the length is learned from BufferTooSmall.
        assert_eq!(decompressed_len(C::Bzip2, 1, &stream, 10), Ok(None));
        let mut out = vec![0u8; 1000];
        assert_eq!(decompress_into(C::Bzip2, 1, &stream, &mut out), Err(Error::BufferTooSmall { needed: raw.len() }));
        assert_eq!(decode(C::Bzip2, 0, &stream).unwrap(), raw);
        // Claims that disagree with the stream: corruption, never a write past the claim.
        let mut out = vec![0u8; raw.len() + 10];
        assert!(is_corrupt(decompress_into(C::Bzip2, 5, &prefixed(1000, &stream), &mut out)));
        assert!(is_corrupt(decompress_into(C::Bzip2, 5, &prefixed(raw.len() + 1, &stream), &mut out)));
        // A claim above the cap is refused before any work.
        assert!(matches!(decompressed_len(C::Bzip2, 5, &body, raw.len() - 1), Err(Error::Unsupported { .. })));
        assert_eq!(decode(C::Bzip2, 5, &prefixed(0, &bz2(b"", 1))).unwrap(), b"");
    }

    #[cfg(feature = "bzip2")]
    proptest! {
        #![proptest_config(ProptestConfig { failure_persistence: None, cases: 64, ..ProptestConfig::default() })]
        #[test]
        fn bzip2_matches_reference(raw in any_data(), level in 1u32..=9) {
            let stream = bz2(&raw, level);
            prop_assert_eq!(decode(C::Bzip2, 5, &prefixed(raw.len(), &stream)).unwrap(), raw.clone());
            prop_assert_eq!(decode(C::Bzip2, 1, &stream).unwrap(), raw);
        }

        #[test]
        fn bzip2_mutated_never_panics(raw in repetitive(), at in any::<prop::sample::Index>(), x in 1u8..) {
            let mut body = prefixed(raw.len(), &bz2(&raw, 1));
            let i = at.index(body.len());
            body[i] ^= x;
            poke(C::Bzip2, 5, &body);
            poke(C::Bzip2, 1, &body);
        }
    }
}
