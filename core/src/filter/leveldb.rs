//! LevelDB's filter block (`filter.leveldb.BuiltinBloomFilter2` in the metaindex).
//!
//! Layout: the filters back to back; then one fixed32 offset per filter; then the fixed32 offset of that array;
//! then one byte `base_lg` (11). Filter `i` covers the data blocks whose file offset `o` has `o >> base_lg == i`.
//! Each filter is a plain Bloom filter: `bits` bytes, then one byte `k` (the probe count). A key's hash is
//! LevelDB's 32-bit [`leveldb_bloom_hash`]; probe `j` tests bit `h % (bits * 8)`, then `h += rotate_right(h, 17)`.
//!
//! RocksDB ignores this block (its own, obsolete `filter.rocksdb.BuiltinBloomFilter` block has the same layout but
//! hashes with RocksDB's signed-tail [`hash32`](super::hash32::hash32)).

use super::hash32::leveldb_bloom_hash;
use crate::error::{Error, Part, Result};

/// Length of the block's tail: fixed32 array offset + the base_lg byte.
const TAIL_LEN: usize = 5;

/// A parsed LevelDB filter block, borrowing the block contents (without the block trailer).
///
/// [`parse`](Self::parse) rejects layouts LevelDB cannot have written; per-filter offsets are checked at query
/// time and, as in LevelDB, a broken one makes [`may_match`](Self::may_match) answer "may match".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LevelDbFilterBlock<'a> {
    contents: &'a [u8],
    /// Where the offset array starts (= the end of the filter data).
    array_start: usize,
    num_filters: usize,
    base_lg: u8,
}

impl<'a> LevelDbFilterBlock<'a> {
    /// Parses the contents of a filter block.
    ///
    /// Errors ([`Error::Corruption`]) when the block is shorter than its 5-byte tail, the offset array starts past
    /// the tail or is not a whole number of fixed32s, or `base_lg` is 64 or more.
    pub fn parse(contents: &'a [u8]) -> Result<Self> {
        let corrupt = |offset: usize, reason| Err(Error::corrupt(Part::Filter, offset as u64, reason));
        let Some((head, tail)) = contents.split_last_chunk::<TAIL_LEN>() else {
            return corrupt(0, "LevelDB filter block shorter than 5 bytes");
        };
        let tail_at = head.len();
        let array_start = u32::from_le_bytes([tail[0], tail[1], tail[2], tail[3]]) as usize;
        let base_lg = tail[4];
        if array_start > tail_at {
            return corrupt(tail_at, "LevelDB filter offset array starts past its end");
        }
        if (tail_at - array_start) % 4 != 0 {
            return corrupt(array_start, "LevelDB filter offset array is not whole fixed32s");
        }
        if base_lg >= 64 {
            return corrupt(tail_at + 4, "LevelDB filter base_lg of 64 or more");
        }
        Ok(LevelDbFilterBlock { contents, array_start, num_filters: (tail_at - array_start) / 4, base_lg })
    }

    /// log2 of the data-offset range each filter covers (11, i.e. 2 KiB, in every LevelDB).
    pub fn base_lg(&self) -> u8 {
        self.base_lg
    }

    /// Number of filters.
    pub fn num_filters(&self) -> usize {
        self.num_filters
    }

    /// Fixed32 at `at`, if it lies in the block.
    fn u32_at(&self, at: usize) -> Option<usize> {
        let b = self.contents.get(at..)?.first_chunk::<4>()?;
        Some(u32::from_le_bytes(*b) as usize)
    }

    /// The bytes of filter `index` (bit array + probe-count byte), or `None` if there is no such filter or its
    /// offsets are out of order or out of range.
    pub fn filter(&self, index: usize) -> Option<&'a [u8]> {
        if index >= self.num_filters {
            return None;
        }
        let at = self.array_start + 4 * index;
        // For the last filter the "next offset" is the array-start word itself, as in LevelDB.
        let (start, limit) = (self.u32_at(at)?, self.u32_at(at + 4)?);
        if start <= limit && limit <= self.array_start {
            self.contents.get(start..limit)
        } else {
            None
        }
    }

    /// False only if `user_key` is certainly not in the data block that starts at file offset `block_offset`.
    pub fn may_match(&self, block_offset: u64, user_key: &[u8]) -> bool {
        let index = block_offset >> self.base_lg;
        let Ok(index) = usize::try_from(index) else {
            return true;
        };
        if index >= self.num_filters {
            return true;
        }
        let at = self.array_start + 4 * index;
        match (self.u32_at(at), self.u32_at(at + 4)) {
            (Some(start), Some(limit)) if start <= limit && limit <= self.array_start => {
                match self.contents.get(start..limit) {
                    Some(filter) => bloom_may_match(filter, user_key),
                    None => true,
                }
            }
            // LevelDB: an empty filter (even with bad offsets) matches nothing; other errors match everything.
            (Some(start), Some(limit)) if start == limit => false,
            _ => true,
        }
    }
}

/// LevelDB's `BloomFilterPolicy::KeyMayMatch` on one filter (bit array followed by the probe count `k`).
///
/// A filter shorter than 2 bytes matches nothing (LevelDB writes at least 8 bytes + `k` for a non-empty block);
/// `k > 30` is reserved by LevelDB and matches everything.
pub fn bloom_may_match(filter: &[u8], user_key: &[u8]) -> bool {
    let Some((&k, bits)) = filter.split_last() else {
        return false;
    };
    if bits.is_empty() {
        return false;
    }
    if k > 30 {
        return true;
    }
    let nbits = bits.len() as u64 * 8;
    let mut h = leveldb_bloom_hash(user_key);
    let delta = h.rotate_right(17);
    for _ in 0..k {
        let bit = (u64::from(h) % nbits) as usize;
        match bits.get(bit / 8) {
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
    use std::vec::Vec;

    use super::*;

    /// LevelDB's `CreateFilter` (test-only: this crate reads LevelDB tables, it does not write them).
    fn create_filter(keys: &[&[u8]], bits_per_key: usize, out: &mut Vec<u8>) {
        let k = ((bits_per_key as f64 * 0.69) as u8).clamp(1, 30);
        let bits = (keys.len() * bits_per_key).max(64);
        let bytes = bits.div_ceil(8);
        let start = out.len();
        out.resize(start + bytes, 0);
        out.push(k);
        let array = &mut out[start..start + bytes];
        for key in keys {
            let mut h = leveldb_bloom_hash(key);
            let delta = h.rotate_right(17);
            for _ in 0..k {
                let bit = (h as usize) % (bytes * 8);
                array[bit / 8] |= 1 << (bit % 8);
                h = h.wrapping_add(delta);
            }
        }
    }

    /// A block with filters for blocks at offsets 0 and 5000 (filter indexes 0 and 2; index 1 empty).
    fn block() -> Vec<u8> {
        let mut out = Vec::new();
        let mut offsets = Vec::new();
        offsets.push(out.len() as u32);
        create_filter(&[b"apple", b"banana"], 10, &mut out);
        offsets.push(out.len() as u32);
        offsets.push(out.len() as u32);
        create_filter(&[b"durian", b"\xff\xfe\xfd"], 10, &mut out);
        let array_start = out.len() as u32;
        for o in offsets {
            out.extend_from_slice(&o.to_le_bytes());
        }
        out.extend_from_slice(&array_start.to_le_bytes());
        out.push(11);
        out
    }

    #[test]
    fn lookups() {
        let b = block();
        let f = LevelDbFilterBlock::parse(&b).unwrap();
        assert_eq!((f.num_filters(), f.base_lg()), (3, 11));
        assert!(f.may_match(0, b"apple") && f.may_match(100, b"banana"));
        assert!(f.may_match(5000, b"durian") && f.may_match(5000, b"\xff\xfe\xfd"));
        // ("cherry" would be a false positive here: its 6 probes all hit bit 26, which "banana" set.)
        assert!(!f.may_match(0, b"durian"));
        assert!(!f.may_match(5000, b"apple"));
        // Filter 1 is empty: nothing in a block at 2048..4095.
        assert!(!f.may_match(3000, b"apple"));
        assert_eq!(f.filter(1), Some(&[][..]));
        // Past the last filter: may match.
        assert!(f.may_match(6144, b"zzz"));
        assert!(f.may_match(u64::MAX, b"zzz"));
    }

    #[test]
    fn parse_errors() {
        for bad in [&b""[..], b"\x00\x00\x00\x00", b"\x01\x00\x00\x00\x0b", b"\x00\x00\x00\x00\x00\x00\x00\x0b"] {
            assert!(matches!(LevelDbFilterBlock::parse(bad), Err(Error::Corruption { part: Part::Filter, .. })));
        }
        assert!(LevelDbFilterBlock::parse(b"\x00\x00\x00\x00\x40").is_err());
        // No filters at all: every lookup may match.
        let f = LevelDbFilterBlock::parse(b"\x00\x00\x00\x00\x0b").unwrap();
        assert!(f.may_match(0, b"x"));
    }

    #[test]
    fn bad_offsets_never_panic() {
        let good = block();
        let n = good.len();
        let array_start = n - 5 - 12;
        for word in 0..3 {
            for v in [0u32, 1, 7, array_start as u32, array_start as u32 + 1, u32::MAX] {
                let mut b = good.clone();
                b[array_start + 4 * word..array_start + 4 * word + 4].copy_from_slice(&v.to_le_bytes());
                let f = LevelDbFilterBlock::parse(&b).unwrap();
                for off in [0u64, 2048, 4096, 5000, 1 << 40] {
                    let _ = f.may_match(off, b"apple");
                    let _ = f.filter(word);
                }
            }
        }
    }

    #[test]
    fn single_filter_edge_cases() {
        assert!(!bloom_may_match(b"", b"k"));
        assert!(!bloom_may_match(b"\x06", b"k"));
        assert!(bloom_may_match(b"\x00\x1f", b"k"));
        // k = 0 probes: matches.
        assert!(bloom_may_match(b"\x00\x00", b"k"));
    }
}
