//! Raw bytes → `FullFilter::parse` and `LevelDbFilterBlock::parse`, queried with keys cut from the input; the same
//! bytes as a Ribbon solution with any seed and block count; plus filters built over those keys must match every
//! one of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::filter::leveldb::bloom_may_match;
use sstkit_core::filter::{
    fast_bloom, legacy_bloom, FastLocalBloom, FullFilter, FullFilterKind, KeyHash, LegacyBloom, LevelDbFilterBlock,
    RibbonFilter,
};

fuzz_target!(|data: &[u8]| {
    let mut keys: Vec<&[u8]> = vec![b"", b"a", b"key000001"];
    keys.extend(data.chunks(7).take(32));
    if let Ok(f) = FullFilter::parse(data) {
        let _ = f.kind();
        for k in &keys {
            assert_eq!(f.may_match(k), f.may_match_hash(&KeyHash::new(k)));
        }
    }
    // Ribbon directly: the first 4 bytes are the seed and a 24-bit block count, the rest is the solution (any
    // length, any relation to the block count); and FullFilter must answer the same on the same layout.
    if let [seed, b0, b1, b2, solution @ ..] = data {
        let num_blocks = u32::from_le_bytes([*b0, *b1, *b2, 0]);
        if let Some(r) = RibbonFilter::new(solution, *seed, num_blocks) {
            let mut whole = solution.to_vec();
            whole.extend_from_slice(&[0xFE, *seed, *b0, *b1, *b2]);
            let f = FullFilter::parse(&whole).unwrap();
            // Five bytes with no solution are "empty" to FullFilter (RocksDB: always false; here always true).
            if !solution.is_empty() {
                assert_eq!(f.kind(), FullFilterKind::Ribbon { seed: *seed, num_blocks });
            }
            for k in &keys {
                assert_eq!(r.may_match(k), f.may_match(k));
            }
        }
    }
    if let Ok(f) = LevelDbFilterBlock::parse(data) {
        let _ = f.base_lg();
        for i in 0..f.num_filters().min(64) {
            let _ = f.filter(i);
        }
        let _ = f.filter(usize::MAX);
        for k in &keys {
            for off in [0u64, 2047, 2048, 4096, 1 << 40, u64::MAX] {
                let _ = f.may_match(off, k);
            }
        }
    }
    for k in &keys {
        let _ = bloom_may_match(data, k);
    }

    // No false negatives for filters we build over the keys, whatever the bits per key.
    let bits = u32::from(data.first().copied().unwrap_or(10) % 100) + 1;
    let fast = FastLocalBloom::with_millibits(bits * 1000).unwrap();
    let hashes = keys.iter().map(|k| fast_bloom::key_hash(k));
    let mut out = vec![0u8; fast.filter_len_for(hashes.clone())];
    let n = fast.build_into(hashes, &mut out).unwrap();
    let f = FullFilter::parse(&out[..n]).unwrap();
    let legacy = LegacyBloom::with_whole_bits(bits).unwrap();
    let lhashes = keys.iter().map(|k| legacy_bloom::key_hash(k));
    let mut lout = vec![0u8; legacy.filter_len(keys.len())];
    let ln = legacy.build_into(lhashes, &mut lout).unwrap();
    let lf = FullFilter::parse(&lout[..ln]).unwrap();
    for k in &keys {
        assert!(f.may_match(k), "FastLocalBloom false negative");
        assert!(lf.may_match(k), "legacy Bloom false negative");
    }
});
