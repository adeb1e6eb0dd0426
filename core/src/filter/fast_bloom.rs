//! FastLocalBloom: RocksDB's full filter for format_version 5 (`bloomfilter:<bits>:false`).
//!
//! Layout: `len` bytes of bit data (a whole number of 64-byte cache lines) followed by the 5-byte
//! [`FullFilterMetadata`] (`FF 00 <num_probes> 00 00`). A key's 64-bit hash `h = xxph3_64(user_key)` is split into
//! `h1` (low 32 bits), which picks the cache line by `(h1 * lines) >> 32`, and `h2` (high 32 bits), whose top 9
//! bits address one bit of the 512-bit line per probe, `h2 *= 0x9e3779b9` between probes.
//!
//! Building needs no allocator: the caller keeps the hashes (8 bytes per key) and hands them to
//! [`FastLocalBloom::build_into`] once all keys are known, with a buffer of [`FastLocalBloom::filter_len`] bytes.

use zerocopy::IntoBytes;

use super::metadata::{FullFilterMetadata, FULL_FILTER_METADATA_LEN};
use super::xxph3::xxph3_64;
use crate::error::{Error, Result};

/// Size of a cache line (a Bloom "block"): every probe of a key stays in one line.
pub const CACHE_LINE_LEN: usize = 64;

/// The largest bit array RocksDB builds (its lengths are 32-bit): `0xffff_ffc0` bytes.
pub const MAX_BITS_LEN: usize = 0xffff_ffc0;

/// Multiplier that remixes `h2` between probes (32-bit golden ratio).
const PROBE_MULTIPLIER: u32 = 0x9e37_79b9;

/// The hash a FastLocalBloom filter stores for a key: RocksDB's `GetSliceHash64(user_key)`.
#[inline]
pub fn key_hash(user_key: &[u8]) -> u64 {
    xxph3_64(user_key)
}

/// RocksDB's `FastLocalBloomImpl::ChooseNumProbes`: the probe count for `millibits_per_key`.
///
/// Tuned by RocksDB for its cache-local layout; e.g. 10 000 (10 bits/key) gives 6 probes, and it tops out at 24.
pub const fn choose_num_probes(millibits_per_key: u32) -> u8 {
    match millibits_per_key {
        0..=2080 => 1,
        2081..=3580 => 2,
        3581..=5100 => 3,
        5101..=6640 => 4,
        6641..=8300 => 5,
        8301..=10070 => 6,
        10071..=11720 => 7,
        11721..=14001 => 8,
        14002..=16050 => 9,
        16051..=18300 => 10,
        18301..=22001 => 11,
        22002..=25501 => 12,
        50001.. => 24,
        // Roughly optimal for the rest: 28000 -> 12, 28001 -> 13, 50000 -> 23.
        m => ((m - 1) / 2000 - 1) as u8,
    }
}

/// Counts `hashes` the way RocksDB's builder keeps them: a hash equal to the one before it is dropped.
pub fn distinct_hash_count<I: IntoIterator<Item = u64>>(hashes: I) -> usize {
    let mut prev = None;
    let mut n = 0;
    for h in hashes {
        if prev != Some(h) {
            n += 1;
            prev = Some(h);
        }
    }
    n
}

/// Parameters of a FastLocalBloom filter: bits per key and the probe count RocksDB derives from them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FastLocalBloom {
    millibits_per_key: u32,
    num_probes: u8,
}

impl Default for FastLocalBloom {
    /// 10 bits per key, 6 probes (about 1% false positives), RocksDB's usual setting.
    fn default() -> Self {
        FastLocalBloom { millibits_per_key: 10_000, num_probes: choose_num_probes(10_000) }
    }
}

impl FastLocalBloom {
    /// Parameters for `bits_per_key`, sanitized and rounded as RocksDB's `BloomLikeFilterPolicy` does.
    ///
    /// Values in `[0.5, 1)` become 1, values ≥ 100 (and NaN) become 100, and the result is rounded to
    /// `millibits = (int)(bits_per_key * 1000 + 0.500001)`. Below 0.5 RocksDB builds no filter at all, so this
    /// returns [`Error::InvalidArgument`].
    pub fn new(bits_per_key: f64) -> Result<Self> {
        if bits_per_key < 0.5 {
            return Err(Error::InvalidArgument { reason: "bits_per_key below 0.5 means no filter" });
        }
        // NaN passes the check above and, as in RocksDB, ends up at the 100 cap.
        let b = if bits_per_key.is_nan() { 100.0 } else { bits_per_key.clamp(1.0, 100.0) };
        // The nudge makes three-decimal inputs (7.5, 9.999) round as written on every platform.
        Self::with_millibits((b * 1000.0 + 0.500001) as u32)
    }

    /// Parameters for `millibits_per_key` (bits per key × 1000), 1 000..=100 000.
    pub fn with_millibits(millibits_per_key: u32) -> Result<Self> {
        if !(1000..=100_000).contains(&millibits_per_key) {
            return Err(Error::InvalidArgument { reason: "millibits_per_key must be in 1000..=100000" });
        }
        Ok(FastLocalBloom { millibits_per_key, num_probes: choose_num_probes(millibits_per_key) })
    }

    /// Bits per key × 1000.
    pub fn millibits_per_key(&self) -> u32 {
        self.millibits_per_key
    }

    /// Probes per key (RocksDB 7.8 picks them from the configured bits per key, not the rounded-up size).
    pub fn num_probes(&self) -> u8 {
        self.num_probes
    }

    /// Length of the bit data for `num_keys` distinct hashes: whole 64-byte lines, at least
    /// `num_keys * bits_per_key` bits, capped at [`MAX_BITS_LEN`]. Zero keys give zero bytes.
    pub fn bits_len(&self, num_keys: usize) -> usize {
        // RocksDB: ceil(keys * millibits / 8000) bytes rounded up to 64, i.e. ceil(keys * millibits / 512000) lines.
        let bits = u128::from(self.millibits_per_key) * num_keys as u128;
        let lines = bits.div_ceil(512_000);
        let len = lines.saturating_mul(CACHE_LINE_LEN as u128).min(MAX_BITS_LEN as u128);
        len as usize
    }

    /// Length of the whole filter (bit data + 5 metadata bytes) for `num_keys` distinct hashes.
    ///
    /// For 0 keys this is 5 (metadata only), which is what RocksDB's bits builder would produce; RocksDB's table
    /// builder however writes no filter block at all when no key was added, and a table writer should do the
    /// same (RocksDB 7.8 reads a ≤5-byte filter as "matches nothing", this crate's reader as "may match anything").
    pub fn filter_len(&self, num_keys: usize) -> usize {
        self.bits_len(num_keys) + FULL_FILTER_METADATA_LEN
    }

    /// [`filter_len`](Self::filter_len) for these hashes, after dropping consecutive duplicates.
    pub fn filter_len_for<I: IntoIterator<Item = u64>>(&self, hashes: I) -> usize {
        self.filter_len(distinct_hash_count(hashes))
    }

    /// Writes the filter for `hashes` (each [`key_hash`] of a user key, in the order the keys were added) at the
    /// start of `out` and returns its length.
    ///
    /// Like RocksDB, a hash equal to the previous one is not counted, so the length is
    /// [`filter_len_for`](Self::filter_len_for)`(hashes)`; a shorter `out` gives [`Error::BufferTooSmall`].
    /// The iterator is walked twice (count, then set bits). The output is byte-identical to RocksDB 7.8's
    /// FastLocalBloomBitsBuilder with `optimize_filters_for_memory=false` (the default).
    pub fn build_into<I>(&self, hashes: I, out: &mut [u8]) -> Result<usize>
    where
        I: IntoIterator<Item = u64>,
        I::IntoIter: Clone,
    {
        let hashes = hashes.into_iter();
        let bits_len = self.bits_len(distinct_hash_count(hashes.clone()));
        let total = bits_len + FULL_FILTER_METADATA_LEN;
        let Some(dst) = out.get_mut(..total) else {
            return Err(Error::BufferTooSmall { needed: total });
        };
        let (bits, meta) = dst.split_at_mut(bits_len);
        bits.fill(0);
        if bits_len > 0 {
            // Duplicates set the same bits again, so only the count above needed them dropped.
            for h in hashes {
                add_hash(bits, self.num_probes, h);
            }
        }
        meta.copy_from_slice(FullFilterMetadata::fast_local_bloom(self.num_probes).as_bytes());
        Ok(total)
    }
}

/// Byte offset of the cache line for `h1` in `bits_len` bytes of bit data (`FastRange32(h1, lines) * 64`).
#[inline(always)]
fn line_offset(h1: u32, bits_len: usize) -> usize {
    // Lengths are at most MAX_BITS_LEN, so the line count fits 32 bits as in RocksDB.
    let lines = (bits_len / CACHE_LINE_LEN) as u64;
    (((u64::from(h1) * lines) >> 32) as usize) * CACHE_LINE_LEN
}

/// Sets the bits of hash `h` in `bits` (a whole number of cache lines).
#[inline]
pub fn add_hash(bits: &mut [u8], num_probes: u8, h: u64) {
    let line = line_offset(h as u32, bits.len());
    // One bounds check for the whole cache line; the probes then index a fixed 64-byte array.
    let Some(line) =
        bits.get_mut(line..line + CACHE_LINE_LEN).and_then(|l| <&mut [u8; CACHE_LINE_LEN]>::try_from(l).ok())
    else {
        return;
    };
    let mut h2 = (h >> 32) as u32;
    for _ in 0..num_probes {
        // The top 9 bits address one of the 512 bits of the line.
        let bit = (h2 >> 23) as usize;
        line[bit >> 3] |= 1 << (bit & 7);
        h2 = h2.wrapping_mul(PROBE_MULTIPLIER);
    }
}

/// True if every probe bit of hash `h` is set in `bits` (at least one cache line).
#[inline]
pub(crate) fn may_match_hash(bits: &[u8], num_probes: u8, h: u64) -> bool {
    let line = line_offset(h as u32, bits.len());
    // Out of range cannot happen (line + 64 <= bits.len()); answer "may match" rather than panic.
    let Some(line) = bits.get(line..line + CACHE_LINE_LEN).and_then(|l| <&[u8; CACHE_LINE_LEN]>::try_from(l).ok())
    else {
        return true;
    };
    let mut h2 = (h >> 32) as u32;
    for _ in 0..num_probes {
        let bit = (h2 >> 23) as usize;
        if line[bit >> 3] & (1 << (bit & 7)) == 0 {
            return false;
        }
        h2 = h2.wrapping_mul(PROBE_MULTIPLIER);
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

    fn key(i: u64) -> [u8; 12] {
        let mut k = *b"key-00000000";
        k[4..].copy_from_slice(&i.to_le_bytes());
        k
    }

    #[test]
    fn num_probes_table() {
        let cases = [
            (1000, 1),
            (2080, 1),
            (2081, 2),
            (5100, 3),
            (7500, 5),
            (10_000, 6),
            (10_070, 6),
            (10_071, 7),
            (14_001, 8),
            (16_000, 9),
            (20_000, 11),
            (25_501, 12),
            (28_000, 12),
            (28_001, 13),
            (30_000, 13),
            (50_000, 23),
            (50_001, 24),
            (100_000, 24),
        ];
        for (m, want) in cases {
            assert_eq!(choose_num_probes(m), want, "{m}");
        }
    }

    #[test]
    fn bits_per_key_rounding() {
        assert_eq!(FastLocalBloom::new(10.0).unwrap(), FastLocalBloom::default());
        assert_eq!(FastLocalBloom::new(7.5).unwrap().millibits_per_key(), 7500);
        assert_eq!(FastLocalBloom::new(9.9995).unwrap().millibits_per_key(), 10_000);
        assert_eq!(FastLocalBloom::new(0.7).unwrap().millibits_per_key(), 1000);
        assert_eq!(FastLocalBloom::new(1e9).unwrap().millibits_per_key(), 100_000);
        assert_eq!(FastLocalBloom::new(f64::NAN).unwrap().millibits_per_key(), 100_000);
        assert!(FastLocalBloom::new(0.4).is_err());
        assert!(FastLocalBloom::with_millibits(999).is_err());
    }

    #[test]
    fn sizing() {
        let f = FastLocalBloom::default();
        assert_eq!(f.filter_len(0), 5);
        assert_eq!(f.filter_len(1), 69);
        // 51 keys * 10 bits = 510 bits: one line; 52 keys: two.
        assert_eq!(f.filter_len(51), 69);
        assert_eq!(f.filter_len(52), 133);
        assert_eq!(f.filter_len(448), 9 * 64 + 5);
        assert_eq!(f.bits_len(usize::MAX), MAX_BITS_LEN);
    }

    #[test]
    fn zero_keys_write_metadata_only() {
        let mut out = [0xAAu8; 8];
        assert_eq!(FastLocalBloom::default().build_into(core::iter::empty(), &mut out).unwrap(), 5);
        assert_eq!(&out[..5], &[0xFF, 0, 6, 0, 0]);
    }

    #[test]
    fn buffer_too_small() {
        let hashes = [1u64, 2, 3];
        let mut out = [0u8; 68];
        assert_eq!(
            FastLocalBloom::default().build_into(hashes.iter().copied(), &mut out),
            Err(Error::BufferTooSmall { needed: 69 })
        );
    }

    #[test]
    fn consecutive_duplicates_are_not_counted() {
        let f = FastLocalBloom::default();
        // 60 hashes but only 30 distinct runs: one line instead of two.
        let hashes: Vec<u64> = (0..60u64).map(|i| key_hash(&key(i / 2))).collect();
        assert_eq!(distinct_hash_count(hashes.iter().copied()), 30);
        assert_eq!(f.filter_len_for(hashes.iter().copied()), 69);
        let mut out = [0u8; 69];
        assert_eq!(f.build_into(hashes.iter().copied(), &mut out), Ok(69));
    }

    #[test]
    fn roundtrip_and_false_positive_rate() {
        for bpk in [10.0, 7.5, 16.0, 1.0, 30.0] {
            let f = FastLocalBloom::new(bpk).unwrap();
            let n = 10_000u64;
            let hashes: Vec<u64> = (0..n).map(|i| key_hash(&key(i))).collect();
            let mut out = vec![0xEEu8; f.filter_len(n as usize) + 3];
            let len = f.build_into(hashes.iter().copied(), &mut out).unwrap();
            assert_eq!(len, f.filter_len(n as usize));
            let filter = FullFilter::parse(&out[..len]).unwrap();
            assert_eq!(filter.kind(), FullFilterKind::FastLocalBloom { num_probes: f.num_probes() });
            for i in 0..n {
                assert!(filter.may_match(&key(i)), "inserted key {i} must match");
            }
            let fp = (n..n + 10_000).filter(|&i| filter.may_match(&key(i))).count();
            if bpk == 10.0 {
                // RocksDB's estimate for 10 bits/key, 6 probes: ~0.96%.
                assert!(fp < 200, "false positive rate {fp}/10000 at 10 bits/key");
            }
            if bpk == 1.0 {
                assert!(fp > 3000, "1 bit/key cannot be that good: {fp}");
            }
        }
    }
}
