//! Reading a RocksDB full filter block (`fullfilter.<policy>` in the metaindex), whatever built it.

use zerocopy::FromBytes;

use super::metadata::{
    FullFilterMetadata, LegacyBloomMetadata, FAST_LOCAL_BLOOM_SUB_IMPL, NEW_BLOOM_MARKER, RIBBON_MARKER,
};
use super::ribbon::RibbonFilter;
use super::{fast_bloom, hash32, legacy_bloom, xxph3};
use crate::error::{Error, Part, Result};

/// Why a [`FullFilter`] answers "may match" for every key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AlwaysMatchReason {
    /// At most the 5 metadata bytes: no bit data. (RocksDB 7.8 reads such a filter as "matches nothing"; RocksDB
    /// itself writes no filter block for a table without keys. Answering "may match" is the safe choice.)
    Empty,
    /// A Ribbon filter (marker `0xFE`) with fewer than 2 blocks, which RocksDB reads as "always may match"
    /// (it never writes one).
    Ribbon,
    /// A marker, sub-implementation, line size, probe count or reserved field RocksDB 7.8 does not know or
    /// reserves; RocksDB treats these as "always may match" too.
    Unknown,
}

/// What a full filter turned out to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FullFilterKind {
    /// FastLocalBloom (format_version 5), 64-byte lines, keys hashed with XXPH3.
    FastLocalBloom {
        /// Probes per key, 1..=30.
        num_probes: u8,
    },
    /// Legacy cache-local Bloom (format_version < 5), keys hashed with the 32-bit [`hash32::bloom_hash`].
    LegacyBloom {
        /// Probes per key, 1..=127.
        num_probes: u8,
        /// Number of cache lines.
        num_lines: u32,
        /// log2 of the cache-line size in bytes (6 on the x86 machines that write nearly all of them).
        log2_line_bytes: u8,
    },
    /// Ribbon filter (`Standard128Ribbon`, marker `0xFE`), keys hashed with XXPH3 like FastLocalBloom.
    Ribbon {
        /// Ordinal seed (the metadata's second byte) under which the filter was solved.
        seed: u8,
        /// Number of 128-slot blocks (the metadata's 24-bit field), at least 2.
        num_blocks: u32,
    },
    /// A filter that cannot rule any key out.
    AlwaysMatch(AlwaysMatchReason),
}

/// A key's hashes for every full-filter kind, to hash once and probe many filters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash {
    /// [`xxph3::xxph3_64`] of the user key (FastLocalBloom and Ribbon).
    pub xxph3: u64,
    /// [`hash32::bloom_hash`] of the user key (legacy Bloom).
    pub legacy: u32,
}

impl KeyHash {
    /// Both hashes of `user_key`.
    pub fn new(user_key: &[u8]) -> Self {
        KeyHash { xxph3: xxph3::xxph3_64(user_key), legacy: hash32::bloom_hash(user_key) }
    }
}

/// A parsed full filter block: the block contents (without the block trailer), borrowed.
///
/// Parsing mirrors RocksDB's `GetBuiltinFilterBitsReader`. Filters RocksDB would not decode (Ribbon with fewer than
/// 2 blocks, reserved markers or fields, ≤ 5 bytes) parse to [`FullFilterKind::AlwaysMatch`], so lookups never fail
/// because of them. [`parse`](Self::parse) returns [`Error::Corruption`] only for layouts no RocksDB version writes
/// and where the metadata contradicts the length:
/// - a FastLocalBloom whose bit data is not a whole number of 64-byte lines (RocksDB would read past the bit data
///   when it is shorter than one line);
/// - a legacy Bloom whose bit data is not `num_lines` lines of a power-of-two size (RocksDB: "always match");
/// - contents of 4 GiB or more (RocksDB filter lengths are 32-bit).
///
/// A caller that prefers RocksDB's leniency can treat such an error as "no filter".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FullFilter<'a> {
    bits: &'a [u8],
    kind: FullFilterKind,
}

impl<'a> FullFilter<'a> {
    /// Parses the contents of a full filter block.
    pub fn parse(contents: &'a [u8]) -> Result<Self> {
        let corrupt = |offset: usize, reason| Err(Error::corrupt(Part::Filter, offset as u64, reason));
        if u32::try_from(contents.len()).is_err() {
            return corrupt(0, "full filter of 4 GiB or more");
        }
        let always = |reason| Ok(FullFilter { bits: &[], kind: FullFilterKind::AlwaysMatch(reason) });
        let Ok((bits, meta)) = FullFilterMetadata::ref_from_suffix(contents) else {
            return always(AlwaysMatchReason::Empty);
        };
        if bits.is_empty() {
            return always(AlwaysMatchReason::Empty);
        }
        let meta_at = bits.len();
        match meta.marker {
            NEW_BLOOM_MARKER => {
                let num_probes = meta.num_probes();
                if !(1..=30).contains(&num_probes)
                    || meta.reserved.get() != 0
                    || meta.sub_impl != FAST_LOCAL_BLOOM_SUB_IMPL
                    || meta.log2_block_bytes() != 6
                {
                    return always(AlwaysMatchReason::Unknown);
                }
                if bits.len() % fast_bloom::CACHE_LINE_LEN != 0 {
                    return corrupt(meta_at, "FastLocalBloom bit data is not whole 64-byte lines");
                }
                Ok(FullFilter { bits, kind: FullFilterKind::FastLocalBloom { num_probes } })
            }
            RIBBON_MARKER => {
                // FE, seed, num_blocks as 24-bit little endian in the three bytes after it.
                let num_blocks = u32::from(meta.block_and_probes) | u32::from(meta.reserved.get()) << 8;
                // Like RocksDB, any length is accepted: the query checks every segment read.
                match RibbonFilter::new(bits, meta.sub_impl, num_blocks) {
                    Some(_) => {
                        Ok(FullFilter { bits, kind: FullFilterKind::Ribbon { seed: meta.sub_impl, num_blocks } })
                    }
                    None => always(AlwaysMatchReason::Ribbon),
                }
            }
            1..=127 => {
                let Ok((_, legacy)) = LegacyBloomMetadata::ref_from_suffix(contents) else {
                    return always(AlwaysMatchReason::Empty);
                };
                let num_lines = legacy.num_lines.get();
                let len = bits.len() as u64;
                // The line size is whatever power of two makes num_lines lines fill the bit data.
                let log2 = (0..=32u8).find(|&k| u64::from(num_lines) << k >= len);
                match log2 {
                    Some(k) if num_lines != 0 && u64::from(num_lines) << k == len => Ok(FullFilter {
                        bits,
                        kind: FullFilterKind::LegacyBloom {
                            num_probes: legacy.num_probes,
                            num_lines,
                            log2_line_bytes: k,
                        },
                    }),
                    _ => corrupt(meta_at, "legacy Bloom bit data is not num_lines lines of a power-of-two size"),
                }
            }
            // 0 = zero probes; 0x80..=0xFD reserved for future implementations.
            _ => always(AlwaysMatchReason::Unknown),
        }
    }

    /// What kind of filter this is.
    pub fn kind(&self) -> FullFilterKind {
        self.kind
    }

    /// False only if `user_key` was certainly not added to the filter.
    pub fn may_match(&self, user_key: &[u8]) -> bool {
        match self.kind {
            FullFilterKind::FastLocalBloom { num_probes } => {
                fast_bloom::may_match_hash(self.bits, num_probes, xxph3::xxph3_64(user_key))
            }
            FullFilterKind::Ribbon { .. } => self.ribbon_may_match(xxph3::xxph3_64(user_key)),
            FullFilterKind::LegacyBloom { num_probes, num_lines, log2_line_bytes } => legacy_bloom::may_match_hash(
                self.bits,
                num_lines,
                log2_line_bytes,
                num_probes,
                hash32::bloom_hash(user_key),
            ),
            FullFilterKind::AlwaysMatch(_) => true,
        }
    }

    /// [`may_match`](Self::may_match) with the key's hashes computed beforehand.
    pub fn may_match_hash(&self, hash: &KeyHash) -> bool {
        match self.kind {
            FullFilterKind::FastLocalBloom { num_probes } => {
                fast_bloom::may_match_hash(self.bits, num_probes, hash.xxph3)
            }
            FullFilterKind::Ribbon { .. } => self.ribbon_may_match(hash.xxph3),
            FullFilterKind::LegacyBloom { num_probes, num_lines, log2_line_bytes } => {
                legacy_bloom::may_match_hash(self.bits, num_lines, log2_line_bytes, num_probes, hash.legacy)
            }
            FullFilterKind::AlwaysMatch(_) => true,
        }
    }
}

impl FullFilter<'_> {
    /// Queries a [`FullFilterKind::Ribbon`] filter (rebuilding the small reader from the kind's fields is cheaper
    /// than storing it in every `FullFilter`).
    fn ribbon_may_match(&self, hash: u64) -> bool {
        match self.kind {
            FullFilterKind::Ribbon { seed, num_blocks } => {
                RibbonFilter::new(self.bits, seed, num_blocks).is_none_or(|r| r.may_match_hash(hash))
            }
            _ => true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::FastLocalBloom;

    fn fast_filter(out: &mut [u8; 133]) -> &[u8] {
        let hashes = (0u32..60).map(|i| xxph3::xxph3_64(&i.to_le_bytes()));
        let n = FastLocalBloom::default().build_into(hashes, out).unwrap();
        &out[..n]
    }

    #[test]
    fn always_match_cases() {
        let cases: &[(&[u8], AlwaysMatchReason)] = &[
            (b"", AlwaysMatchReason::Empty),
            (b"\xff\x00\x06", AlwaysMatchReason::Empty),
            (b"\xff\x00\x06\x00\x00", AlwaysMatchReason::Empty),
            (&[0u8; 64 + 5], AlwaysMatchReason::Unknown),
            // RocksDB's FinishAlwaysTrue (written when it detects a corrupted hash list): 6 zero bytes.
            (&[0u8; 6], AlwaysMatchReason::Unknown),
            // Ribbon with 0 and 1 blocks.
            (b"\x01\x02\x03\xfe\x00\x00\x00\x00", AlwaysMatchReason::Ribbon),
            (b"\x01\x02\x03\xfe\x07\x01\x00\x00", AlwaysMatchReason::Ribbon),
            (&[0x80; 64 + 5], AlwaysMatchReason::Unknown),
        ];
        for &(bytes, reason) in cases {
            let f = FullFilter::parse(bytes).unwrap();
            assert_eq!(f.kind(), FullFilterKind::AlwaysMatch(reason), "{bytes:02x?}");
            assert!(f.may_match(b"anything"));
            assert!(f.may_match_hash(&KeyHash::new(b"anything")));
        }
    }

    #[test]
    fn reserved_metadata_fields_mean_always_match() {
        let mut buf = [0u8; 133];
        let good = fast_filter(&mut buf);
        let n = good.len();
        // probes 0 and 31, 128-byte lines, sub-impl 1, reserved bytes set.
        for (at, v) in [(n - 3, 0u8), (n - 3, 31), (n - 3, 0x26), (n - 4, 1), (n - 2, 1), (n - 1, 1)] {
            let mut b = [0u8; 133];
            b[..n].copy_from_slice(good);
            b[at] = v;
            assert_eq!(
                FullFilter::parse(&b[..n]).unwrap().kind(),
                FullFilterKind::AlwaysMatch(AlwaysMatchReason::Unknown),
                "byte {at} = {v}"
            );
        }
    }

    #[test]
    fn impossible_layouts_are_errors() {
        let mut buf = [0u8; 133];
        let good = fast_filter(&mut buf);
        // FastLocalBloom with 127 and 63 bytes of bit data; 64 bytes is fine.
        assert!(FullFilter::parse(&good[1..]).is_err());
        assert!(FullFilter::parse(&good[65..]).is_err());
        assert!(FullFilter::parse(&good[64..]).is_ok());
        // Legacy: 64 bytes of bits claiming 3 lines, 0 lines, 0x7fff_ffff lines.
        for lines in [3u32, 0, 0x7fff_ffff] {
            let mut l = [0u8; 69];
            l[64] = 6;
            l[65..].copy_from_slice(&lines.to_le_bytes());
            assert!(matches!(FullFilter::parse(&l), Err(Error::Corruption { part: Part::Filter, .. })), "{lines}");
        }
    }

    #[test]
    fn legacy_foreign_line_sizes() {
        // 2 lines of 128 bytes (a filter built on a 128-byte-cache-line machine); all bits set matches everything.
        let mut l = [0xFFu8; 261];
        l[256] = 6;
        l[257..].copy_from_slice(&2u32.to_le_bytes());
        let f = FullFilter::parse(&l).unwrap();
        assert_eq!(f.kind(), FullFilterKind::LegacyBloom { num_probes: 6, num_lines: 2, log2_line_bytes: 7 });
        assert!(f.may_match(b"x"));
        // One line of 2^31 bytes is a valid claim; probing a short slice must not panic.
        let g = FullFilter {
            bits: &l[..256],
            kind: FullFilterKind::LegacyBloom { num_probes: 127, num_lines: 1, log2_line_bytes: 31 },
        };
        let _ = g.may_match(b"x");
    }

    #[test]
    fn garbage_never_panics() {
        // Every short input and every value of the metadata's first and third bytes.
        let mut buf = [0u8; 200];
        for (i, b) in buf.iter_mut().enumerate() {
            *b = (i as u8).wrapping_mul(151).wrapping_add(7);
        }
        for len in 0..buf.len() {
            for marker in [0u8, 1, 6, 0x7f, 0x80, 0xfe, 0xff] {
                for third in [0u8, 1, 6, 30, 31, 0x26, 0xff] {
                    let mut b = buf;
                    if len >= 5 {
                        b[len - 5] = marker;
                        b[len - 3] = third;
                    }
                    if let Ok(f) = FullFilter::parse(&b[..len]) {
                        let _ = f.may_match(b"k");
                        let _ = f.may_match(b"");
                    }
                }
            }
        }
    }
}
