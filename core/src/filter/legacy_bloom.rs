//! The legacy cache-local Bloom full filter RocksDB writes for format_version < 5.
//!
//! Layout: `num_lines` cache lines of bit data, then the 5-byte [`LegacyBloomMetadata`] (num_probes, then fixed32
//! num_lines). A key's hash is RocksDB's 32-bit [`bloom_hash`]; the line is `h % num_lines`, and each probe sets
//! bit `h % 512` of the line, then `h += rotate_right(h, 17)` (RocksDB's `LegacyLocalityBloomImpl<false>`).
//! RocksDB still reads these filters; it only writes them for format_version < 5. Prefer
//! [`FastLocalBloom`](super::FastLocalBloom) for new tables.

use zerocopy::byteorder::U32;
use zerocopy::IntoBytes;

use super::hash32::bloom_hash;
use super::metadata::{LegacyBloomMetadata, FULL_FILTER_METADATA_LEN};
use crate::error::{Error, Result};

/// Cache-line size RocksDB builds legacy filters with (x86); other line sizes are read, never written.
const LINE_BITS: u32 = 512;

/// The hash a legacy Bloom filter stores for a key: RocksDB's `BloomHash(user_key)`.
#[inline]
pub fn key_hash(user_key: &[u8]) -> u32 {
    bloom_hash(user_key)
}

/// Parameters of a legacy Bloom filter: whole bits per key and probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LegacyBloom {
    bits_per_key: u32,
    num_probes: u8,
}

impl LegacyBloom {
    /// Parameters for `bits_per_key`, rounded as RocksDB does for this format: sanitized like
    /// [`FastLocalBloom::new`](super::FastLocalBloom::new), then `(millibits + 500) / 1000` whole bits.
    pub fn new(bits_per_key: f64) -> Result<Self> {
        let millibits = super::FastLocalBloom::new(bits_per_key)?.millibits_per_key();
        Self::with_whole_bits((millibits + 500) / 1000)
    }

    /// Parameters for whole `bits_per_key` (1..=100); probes = ⌊bits × 0.69⌋ clamped to 1..=30.
    pub fn with_whole_bits(bits_per_key: u32) -> Result<Self> {
        if !(1..=100).contains(&bits_per_key) {
            return Err(Error::InvalidArgument { reason: "legacy bits_per_key must be in 1..=100" });
        }
        // RocksDB rounds down on purpose (0.69 ≈ ln 2) to save probes.
        let probes = (f64::from(bits_per_key) * 0.69) as u32;
        Ok(LegacyBloom { bits_per_key, num_probes: probes.clamp(1, 30) as u8 })
    }

    /// Whole bits per key.
    pub fn bits_per_key(&self) -> u32 {
        self.bits_per_key
    }

    /// Probes per key.
    pub fn num_probes(&self) -> u8 {
        self.num_probes
    }

    /// Number of 64-byte lines for `num_keys` distinct hashes: enough for `num_keys * bits_per_key` bits, made
    /// odd so more hash bits choose the line; 0 for no keys.
    pub fn num_lines(&self, num_keys: usize) -> u32 {
        if num_keys == 0 {
            return 0;
        }
        // RocksDB caps the bit count so everything stays within 32 bits.
        let bits = (num_keys as u64).saturating_mul(u64::from(self.bits_per_key)).min(0xffff_0000) as u32;
        let lines = bits.div_ceil(LINE_BITS);
        lines | 1
    }

    /// Length of the whole filter (bit data + 5 metadata bytes) for `num_keys` distinct hashes.
    pub fn filter_len(&self, num_keys: usize) -> usize {
        self.num_lines(num_keys) as usize * (LINE_BITS as usize / 8) + FULL_FILTER_METADATA_LEN
    }

    /// Writes the filter for `hashes` (each [`key_hash`] of a user key, in key order) at the start of `out` and
    /// returns its length; a hash equal to the previous one is not counted, as in RocksDB.
    /// A short `out` gives [`Error::BufferTooSmall`].
    pub fn build_into<I>(&self, hashes: I, out: &mut [u8]) -> Result<usize>
    where
        I: IntoIterator<Item = u32>,
        I::IntoIter: Clone,
    {
        let hashes = hashes.into_iter();
        let mut prev = None;
        let distinct = hashes.clone().filter(|&h| prev.replace(h) != Some(h)).count();
        let num_lines = self.num_lines(distinct);
        let total = self.filter_len(distinct);
        let Some(dst) = out.get_mut(..total) else {
            return Err(Error::BufferTooSmall { needed: total });
        };
        let (bits, meta) = dst.split_at_mut(total - FULL_FILTER_METADATA_LEN);
        bits.fill(0);
        if num_lines > 0 {
            for h in hashes {
                add_hash(bits, num_lines, self.num_probes, h);
            }
        }
        let m = LegacyBloomMetadata { num_probes: self.num_probes, num_lines: U32::new(num_lines) };
        meta.copy_from_slice(m.as_bytes());
        Ok(total)
    }
}

fn add_hash(bits: &mut [u8], num_lines: u32, num_probes: u8, mut h: u32) {
    let base = (h % num_lines) as usize * (LINE_BITS as usize / 8);
    let delta = h.rotate_right(17);
    for _ in 0..num_probes {
        let bit = (h % LINE_BITS) as usize;
        if let Some(b) = bits.get_mut(base + bit / 8) {
            *b |= 1 << (bit % 8);
        }
        h = h.wrapping_add(delta);
    }
}

/// True if every probe of hash `h` is set; `bits` holds `num_lines` lines of `1 << log2_line_bytes` bytes.
pub(crate) fn may_match_hash(bits: &[u8], num_lines: u32, log2_line_bytes: u8, num_probes: u8, mut h: u32) -> bool {
    if num_lines == 0 {
        return true;
    }
    // parse() guarantees num_lines << log2 == bits.len(); stay panic-free if called otherwise.
    let base = ((h % num_lines) as usize).checked_shl(u32::from(log2_line_bytes)).unwrap_or(usize::MAX);
    // Bit-within-line mask; lines of 2^29 bytes or more use the whole hash.
    let mask = 1u32.checked_shl(u32::from(log2_line_bytes) + 3).map_or(u32::MAX, |v| v - 1);
    let delta = h.rotate_right(17);
    for _ in 0..num_probes {
        let bit = (h & mask) as usize;
        match bits.get(base + bit / 8) {
            Some(b) if b & (1 << (bit % 8)) == 0 => return false,
            _ => {}
        }
        h = h.wrapping_add(delta);
    }
    true
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec;
    use std::vec::Vec;

    use super::*;
    use crate::filter::{FullFilter, FullFilterKind};

    #[test]
    fn parameters() {
        let b = LegacyBloom::new(10.0).unwrap();
        assert_eq!((b.bits_per_key(), b.num_probes()), (10, 6));
        assert_eq!(LegacyBloom::new(9.5).unwrap().bits_per_key(), 10);
        assert_eq!(LegacyBloom::new(9.499).unwrap().bits_per_key(), 9);
        assert_eq!(LegacyBloom::with_whole_bits(1).unwrap().num_probes(), 1);
        assert_eq!(LegacyBloom::with_whole_bits(100).unwrap().num_probes(), 30);
        // 448 keys * 10 bits = 4480 bits: 8.75 lines -> 9 (odd); 512 keys -> 10 -> 11.
        assert_eq!(b.filter_len(448), 9 * 64 + 5);
        assert_eq!(b.num_lines(512), 11);
        assert_eq!(b.filter_len(0), 5);
    }

    #[test]
    fn roundtrip_and_false_positive_rate() {
        let b = LegacyBloom::new(10.0).unwrap();
        let key = |i: u32| {
            let mut k = *b"legacy-\x80\x81\x82\x83\x84\x85";
            k[7..11].copy_from_slice(&i.to_be_bytes());
            k
        };
        let n = 10_000;
        let hashes: Vec<u32> = (0..n).map(|i| key_hash(&key(i))).collect();
        let mut out = vec![0u8; b.filter_len(n as usize)];
        let len = b.build_into(hashes.iter().copied(), &mut out).unwrap();
        let f = FullFilter::parse(&out[..len]).unwrap();
        assert_eq!(
            f.kind(),
            FullFilterKind::LegacyBloom { num_probes: 6, num_lines: b.num_lines(10_000), log2_line_bytes: 6 }
        );
        assert!((0..n).all(|i| f.may_match(&key(i))));
        let fp = (n..2 * n).filter(|&i| f.may_match(&key(i))).count();
        // RocksDB estimates ~1.2% for this (flawed) layout.
        assert!(fp < 200, "false positive rate {fp}/10000");
    }
}
