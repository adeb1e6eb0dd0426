//! Filters against ones real RocksDB 7.8.3 and LevelDB 1.23 wrote (fixtures from
//! `tests/data/filter/make_fixtures.py`; rerun it with `/usr/bin/python3` to regenerate).

use sstkit_core::filter::{
    fast_bloom, hash32, legacy_bloom, FastLocalBloom, FullFilter, FullFilterKind, KeyHash, LegacyBloom,
    LevelDbFilterBlock,
};

const KEYS: &[u8] = include_bytes!("data/filter/keys.bin");
const FV5_10000: &[u8] = include_bytes!("data/filter/rocksdb_fv5_10000.filter");
const FV5_7500: &[u8] = include_bytes!("data/filter/rocksdb_fv5_7500.filter");
const FV5_30000: &[u8] = include_bytes!("data/filter/rocksdb_fv5_30000.filter");
const FV4_10000: &[u8] = include_bytes!("data/filter/rocksdb_fv4_10000.filter");
const LEVELDB: &[u8] = include_bytes!("data/filter/leveldb.filter");
const LEVELDB_OFFSETS: &[u8] = include_bytes!("data/filter/leveldb_offsets.bin");

/// keys.bin: repeated [u32 LE length][bytes].
fn keys() -> Vec<&'static [u8]> {
    let mut out = Vec::new();
    let mut rest = KEYS;
    while !rest.is_empty() {
        let n = u32::from_le_bytes(rest[..4].try_into().unwrap()) as usize;
        out.push(&rest[4..4 + n]);
        rest = &rest[4 + n..];
    }
    out
}

/// Keys that are not in the fixture (the fixture has no 13-byte key starting with "absent-").
fn absent(i: u32) -> [u8; 13] {
    let mut k = *b"absent-\0\0\0\0\0\0";
    k[7..11].copy_from_slice(&i.to_le_bytes());
    k
}

#[test]
fn filter_fixture_covers_every_hash_path() {
    let keys = keys();
    assert!(keys.len() > 400);
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "keys.bin must be strictly ascending");
    // XXPH3 paths, the long path with and without a 1 KiB block and a length that is a multiple of 64.
    for (lo, hi) in
        [(0, 0), (1, 3), (4, 8), (9, 16), (17, 128), (129, 240), (241, 1023), (1024, 1024), (1025, usize::MAX)]
    {
        assert!(keys.iter().any(|k| (lo..=hi).contains(&k.len())), "no key of length {lo}..={hi}");
    }
    assert!(keys.iter().any(|k| k.len() > 1024 && k.len() % 64 == 0));
    // The 32-bit hashes of RocksDB and LevelDB differ on some keys (bytes >= 0x80 in the 1-3 byte tail).
    let differ = keys.iter().filter(|k| hash32::bloom_hash(k) != hash32::leveldb_bloom_hash(k)).count();
    assert!(differ > 20, "only {differ} keys tell the two 32-bit hashes apart");
}

fn check_fast_local_bloom(rocksdb: &[u8], millibits: u32, probes: u8) {
    let keys = keys();
    let f = FullFilter::parse(rocksdb).unwrap();
    assert_eq!(f.kind(), FullFilterKind::FastLocalBloom { num_probes: probes });
    for k in &keys {
        assert!(f.may_match(k), "RocksDB-built filter must match key of length {}", k.len());
        assert!(f.may_match_hash(&KeyHash::new(k)));
    }
    // Our builder, given the same keys in the same order, must write the very same bytes.
    let params = FastLocalBloom::with_millibits(millibits).unwrap();
    let hashes: Vec<u64> = keys.iter().map(|k| fast_bloom::key_hash(k)).collect();
    assert_eq!(params.filter_len_for(hashes.iter().copied()), rocksdb.len());
    let mut ours = vec![0u8; rocksdb.len()];
    let n = params.build_into(hashes.iter().copied(), &mut ours).unwrap();
    assert_eq!(n, rocksdb.len());
    assert!(ours == rocksdb, "filter bytes differ from RocksDB's at {millibits} millibits/key");
}

#[test]
fn filter_fast_local_bloom_10_bits_per_key_is_byte_identical() {
    check_fast_local_bloom(FV5_10000, 10_000, 6);
    // And it filters: RocksDB estimates ~1% false positives at 10 bits/key.
    let f = FullFilter::parse(FV5_10000).unwrap();
    let fp = (0..10_000).filter(|&i| f.may_match(&absent(i))).count();
    assert!(fp < 300, "{fp} false positives in 10000");
}

#[test]
fn filter_fast_local_bloom_7_5_bits_per_key_is_byte_identical() {
    assert_eq!(FastLocalBloom::new(7.5).unwrap().millibits_per_key(), 7500);
    check_fast_local_bloom(FV5_7500, 7500, 5);
}

#[test]
fn filter_fast_local_bloom_30_bits_per_key_is_byte_identical() {
    check_fast_local_bloom(FV5_30000, 30_000, 13);
}

#[test]
fn filter_legacy_bloom_format_version_4() {
    let keys = keys();
    let f = FullFilter::parse(FV4_10000).unwrap();
    let params = LegacyBloom::new(10.0).unwrap();
    assert_eq!(
        f.kind(),
        FullFilterKind::LegacyBloom { num_probes: 6, num_lines: params.num_lines(keys.len()), log2_line_bytes: 6 }
    );
    for k in &keys {
        assert!(f.may_match(k), "legacy filter must match key of length {}", k.len());
        assert!(f.may_match_hash(&KeyHash::new(k)));
    }
    let hashes: Vec<u32> = keys.iter().map(|k| legacy_bloom::key_hash(k)).collect();
    let mut ours = vec![0u8; params.filter_len(keys.len())];
    assert_eq!(params.build_into(hashes.iter().copied(), &mut ours).unwrap(), FV4_10000.len());
    assert!(ours == FV4_10000, "legacy filter bytes differ from RocksDB's");
    let fp = (0..10_000).filter(|&i| f.may_match(&absent(i))).count();
    assert!(fp < 300, "{fp} false positives in 10000");
}

#[test]
fn filter_leveldb_block() {
    let keys = keys();
    let offsets: Vec<u64> =
        LEVELDB_OFFSETS.chunks_exact(8).map(|c| u64::from_le_bytes(c.try_into().unwrap())).collect();
    assert_eq!(offsets.len(), keys.len());
    let f = LevelDbFilterBlock::parse(LEVELDB).unwrap();
    assert_eq!(f.base_lg(), 11);
    let max_offset = *offsets.iter().max().unwrap();
    // LevelDB starts the filters up to the *end* of the last data block, so there may be one more.
    let n = f.num_filters() as u64;
    assert!(n == (max_offset >> 11) + 1 || n == (max_offset >> 11) + 2, "{n} filters, last block at {max_offset}");
    for (k, &off) in keys.iter().zip(&offsets) {
        assert!(f.may_match(off, k), "LevelDB filter must match key of length {} in block {off}", k.len());
    }
    // Keys are ruled out of the other blocks' filters most of the time.
    let mut blocks: Vec<u64> = offsets.clone();
    blocks.dedup();
    assert!(blocks.len() > 5);
    let mut fp = 0;
    let mut tries = 0;
    for (k, &off) in keys.iter().zip(&offsets) {
        for &other in &blocks {
            if other >> 11 != off >> 11 {
                tries += 1;
                fp += usize::from(f.may_match(other, k));
            }
        }
    }
    assert!(fp * 100 < tries * 3, "{fp} false positives in {tries}");
}
