//! Reading RocksDB's Ribbon filter (`Standard128Ribbon`, metadata marker `0xFE`), zero-copy.
//!
//! Layout: `len` bytes of solution (`len / 16` little-endian u128 "segments", low u64 first) followed by the
//! 5-byte metadata `FE <seed> <num_blocks: u24 LE>`. The solution is stored interleaved: block `b` (128 slots)
//! owns `upper_cols` columns (one segment each), or one fewer for blocks before `upper_start_block`.
//!
//! A query rehashes the key's [`xxph3_64`](super::xxph3_64) with the seed, picks a start slot and a 128-bit
//! coefficient row, and checks, for every column, that the parity of the solution bits selected by the row
//! (which may straddle two blocks) equals the matching bit of the key's 32-bit result row. RocksDB's
//! `InterleavedFilterQuery` in `util/ribbon_alg.h`, with the hashing of `util/ribbon_impl.h`.
//!
//! Every segment read is bounds-checked: a malformed filter gives some answer, never a panic. On the filters
//! RocksDB writes, every read is in range (see [`RibbonFilter::new`]).

/// Bits of a coefficient row, which is also the number of slots per block.
const COEFF_BITS: u32 = 128;
/// Bytes of one solution segment (one u128 column of one block).
const SEGMENT_LEN: usize = 16;
/// Result rows are u32: at most 32 columns are ever used.
const MAX_COLUMNS: u32 = 32;

/// `kToRawSeedFactor`: spreads the ordinal seed byte over 64 bits.
const TO_RAW_SEED_FACTOR: u64 = 0xc782_19a2_3eea_dd03;
/// `kSeedMixMask`, shifted right by 4 and xored back in.
const SEED_MIX_MASK: u64 = 0xf0f0_f0f0_f0f0_f0f0;
/// `StandardRehasherAdapter`'s multiplier applied to `hash ^ raw_seed`.
const REHASH_FACTOR: u64 = 0x6193_d459_236a_3a0d;
/// `kCoeffAndResultFactor`.
const COEFF_AND_RESULT_FACTOR: u64 = 0xc28f_8282_2b65_0bed;
/// `kCoeffXor64`: the low half of the coefficient row is `a ^` this.
const COEFF_XOR_64: u64 = 0xc367_844a_6e52_731d;

/// RocksDB's `SetOrdinalSeed`: the raw 32-bit seed of ordinal seed `seed` (0..=255).
pub fn raw_seed(seed: u8) -> u32 {
    let mut t = u64::from(seed).wrapping_mul(TO_RAW_SEED_FACTOR);
    t ^= (t & SEED_MIX_MASK) >> 4;
    t as u32
}

/// A Ribbon filter's solution and the layout derived from its metadata; borrows the filter bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RibbonFilter<'a> {
    /// The solution bytes (without the metadata); trailing bytes short of a segment are ignored.
    solution: &'a [u8],
    raw_seed: u32,
    num_starts: u32,
    upper_cols: u32,
    upper_start_block: u32,
}

impl<'a> RibbonFilter<'a> {
    /// The reader for `solution` (the bytes before the metadata), ordinal `seed` and `num_blocks` (the
    /// metadata's 24-bit field).
    ///
    /// Returns `None` when `num_blocks < 2`: RocksDB reads such a filter as "always may match" (it never
    /// writes one). Any other combination is accepted, as RocksDB does; segment reads beyond `solution` (only
    /// possible when the metadata and the length disagree) answer "may match".
    pub fn new(solution: &'a [u8], seed: u8, num_blocks: u32) -> Option<Self> {
        if !(2..1 << 24).contains(&num_blocks) {
            return None;
        }
        // 2 ≤ num_blocks < 2^24, so num_starts < 2^31.
        let num_starts = num_blocks * COEFF_BITS - (COEFF_BITS - 1);
        let num_segments = (solution.len() / SEGMENT_LEN) as u64;
        let blocks = u64::from(num_blocks);
        let mut upper_cols = num_segments.div_ceil(blocks);
        let mut upper_start_block = upper_cols * blocks - num_segments;
        if upper_cols > u64::from(MAX_COLUMNS) {
            upper_cols = u64::from(MAX_COLUMNS);
            upper_start_block = 0;
        }
        // upper_cols ≤ 32 and upper_start_block < num_blocks: both fit in u32.
        Some(RibbonFilter {
            solution,
            raw_seed: raw_seed(seed),
            num_starts,
            upper_cols: upper_cols as u32,
            upper_start_block: upper_start_block as u32,
        })
    }

    /// The solution segment `i`, or `None` past the end.
    fn segment(&self, i: u64) -> Option<u128> {
        let at = usize::try_from(i).ok()?.checked_mul(SEGMENT_LEN)?;
        let bytes = self.solution.get(at..at.checked_add(SEGMENT_LEN)?)?;
        let mut b = [0u8; SEGMENT_LEN];
        b.copy_from_slice(bytes);
        Some(u128::from_le_bytes(b))
    }

    /// False only if the key whose [`xxph3_64`](super::xxph3_64) is `hash` was certainly not added.
    pub fn may_match_hash(&self, hash: u64) -> bool {
        let h = (hash ^ u64::from(self.raw_seed)).wrapping_mul(REHASH_FACTOR);
        // FastRange64: start in 0..num_starts.
        let start = ((u128::from(h) * u128::from(self.num_starts)) >> 64) as u32;
        let a = h.wrapping_mul(COEFF_AND_RESULT_FACTOR);
        // kFirstCoeffAlwaysOne: the lowest coefficient is forced to 1.
        let coeff = ((u128::from(a) << 64) | u128::from(a ^ COEFF_XOR_64)) | 1;
        let expected = a.swap_bytes() as u32;

        let block = start / COEFF_BITS;
        let bit = start % COEFF_BITS;
        let below_upper = block < self.upper_start_block;
        let segment = u64::from(block) * u64::from(self.upper_cols) - u64::from(block.min(self.upper_start_block));
        let cols = self.upper_cols - u32::from(below_upper);
        let left = coeff << bit;
        // The part of the row that spills into the next block (none when the row starts a block).
        let right = if bit == 0 { 0 } else { coeff >> (COEFF_BITS - bit) };
        for i in 0..cols {
            let Some(here) = self.segment(segment + u64::from(i)) else { return true };
            let mut data = here & left;
            if right != 0 {
                let Some(next) = self.segment(segment + u64::from(cols) + u64::from(i)) else { return true };
                data |= next & right;
            }
            if data.count_ones() & 1 != (expected >> i) & 1 {
                return false;
            }
        }
        true
    }

    /// The key-hash-free form of [`may_match_hash`](Self::may_match_hash).
    pub fn may_match(&self, user_key: &[u8]) -> bool {
        self.may_match_hash(super::xxph3_64(user_key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_seeds() {
        assert_eq!(raw_seed(0), 0);
        // One-to-one over the ordinal seeds RocksDB uses.
        let mut seen = [0u32; 256];
        for (s, slot) in seen.iter_mut().enumerate() {
            *slot = raw_seed(s as u8);
        }
        seen.sort_unstable();
        assert!(seen.windows(2).all(|w| w[0] != w[1]));
    }

    #[test]
    fn too_few_blocks_is_none() {
        assert!(RibbonFilter::new(&[0; 64], 0, 0).is_none());
        assert!(RibbonFilter::new(&[0; 64], 0, 1).is_none());
        assert!(RibbonFilter::new(&[0; 64], 0, 1 << 24).is_none());
        assert!(RibbonFilter::new(&[0; 64], 0, 2).is_some());
    }

    #[test]
    fn layout_math() {
        // 10 segments over 3 blocks: 4 columns, the first 2 blocks one fewer (3 + 3 + 4 = 10).
        let f = RibbonFilter::new(&[0; 160], 0, 3).unwrap();
        assert_eq!((f.num_starts, f.upper_cols, f.upper_start_block), (3 * 128 - 127, 4, 2));
        // More than 32 columns' worth: capped at 32, all blocks alike.
        let big = [0u8; 16 * 70];
        let f = RibbonFilter::new(&big, 0, 2).unwrap();
        assert_eq!((f.upper_cols, f.upper_start_block), (32, 0));
        // No segments: no columns, nothing to check.
        let f = RibbonFilter::new(&[0; 15], 0, 5).unwrap();
        assert_eq!((f.upper_cols, f.upper_start_block), (0, 0));
        assert!(f.may_match(b"x"));
    }

    #[test]
    fn zero_solution_matches_keys_with_zero_result_rows_only() {
        // All-zero solution: every parity is 0, so a key passes iff its result row is 0 in the used columns.
        let sol = [0u8; 16 * 8];
        let f = RibbonFilter::new(&sol, 0, 2).unwrap();
        let rejected = (0u32..1000).filter(|i| !f.may_match(&i.to_le_bytes())).count();
        // 4 columns: a key passes with probability 1/16.
        assert!(rejected > 850, "{rejected}");
    }

    #[test]
    fn inconsistent_metadata_never_panics() {
        let sol = [0xA5u8; 16 * 3 + 7];
        for blocks in [2u32, 3, 4, 7, 100, 0xff_ffff] {
            for seed in [0u8, 1, 255] {
                let f = RibbonFilter::new(&sol, seed, blocks).unwrap();
                for k in 0u32..300 {
                    let _ = f.may_match(&k.to_le_bytes());
                }
            }
        }
    }
}
