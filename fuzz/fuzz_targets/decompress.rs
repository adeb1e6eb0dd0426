//! Every codec on hostile bodies: `decompressed_len` under a cap, then `decompress_into` a buffer of exactly the
//! claimed size (and one byte less); Snappy checked against the `snap` crate; LZ4 compress → decompress round trip.
//!
//! Input: codec byte, settings byte (format_version, cap), body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::compress::{compress_into, decompress_into, decompress_to_vec, decompressed_len};
use sstkit_core::{CompressionType, Error};

const KINDS: [CompressionType; 9] = [
    CompressionType::None,
    CompressionType::Snappy,
    CompressionType::Zlib,
    CompressionType::Bzip2,
    CompressionType::Lz4,
    CompressionType::Lz4hc,
    CompressionType::Xpress,
    CompressionType::Zstd,
    CompressionType::ZstdNotFinal,
];
const CAPS: [usize; 4] = [0, 64, 4096, 1 << 20];

fuzz_target!(|data: &[u8]| {
    let [k, s, body @ ..] = data else { return };
    let kind = KINDS[usize::from(*k) % KINDS.len()];
    let fv = u32::from(s % 6);
    let cap = CAPS[usize::from(s >> 6)];

    match decompressed_len(kind, fv, body, cap) {
        Ok(Some(n)) => {
            assert!(n <= cap || kind == CompressionType::None, "claim {n} above the cap {cap} accepted");
            let mut out = vec![0u8; n];
            let r = decompress_into(kind, fv, body, &mut out);
            if let Ok(m) = r {
                assert_eq!(m, n, "decompressed length differs from the claim");
            }
            if n > 0 {
                let short = decompress_into(kind, fv, body, &mut out[..n - 1]);
                assert!(short.is_err(), "a buffer shorter than the claim must be refused");
            }
            if kind == CompressionType::Snappy {
                // Differential: the reference decoder must agree on success and bytes.
                let reference = snap::raw::Decoder::new().decompress_vec(body);
                match (&r, &reference) {
                    (Ok(_), Ok(v)) => assert_eq!(&out, v, "snappy output differs from snap"),
                    (Ok(_), Err(e)) => panic!("we accepted a snappy block snap rejects: {e}"),
                    (Err(e), Ok(_)) => panic!("we rejected a snappy block snap accepts: {e:?}"),
                    (Err(_), Err(_)) => {}
                }
            }
        }
        Ok(None) => {
            // Legacy Zlib: no stored length; a capped buffer.
            let mut out = vec![0u8; cap];
            match decompress_into(kind, fv, body, &mut out) {
                Ok(m) => assert!(m <= cap),
                Err(Error::BufferTooSmall { needed }) => assert!(needed > cap),
                Err(_) => {}
            }
        }
        Err(_) => {}
    }
    if let Ok(v) = decompress_to_vec(kind, fv, body, cap) {
        assert!(v.len() <= cap || kind == CompressionType::None);
    }

    // LZ4 round trip of the body itself through our own encoder.
    for lkind in [CompressionType::Lz4, CompressionType::Lz4hc] {
        let mut packed = vec![0u8; body.len()];
        if let Some(n) = compress_into(lkind, fv, body, &mut packed).expect("lz4 is built in") {
            assert!(n < body.len());
            let mut back = vec![0u8; body.len()];
            let m = decompress_into(lkind, fv, &packed[..n], &mut back).expect("our LZ4 output decodes");
            assert_eq!(&back[..m], body, "LZ4 round trip");
        }
    }
});
