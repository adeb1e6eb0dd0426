//! The 5-byte metadata trailer at the end of every RocksDB full filter.
//!
//! Its first byte, read as a signed char, selects the implementation:
//!
//! | first byte | meaning |
//! |---|---|
//! | `0xFF` (−1) | "new" Bloom: [`FullFilterMetadata`], sub-impl 0 = FastLocalBloom (format_version 5) |
//! | `0xFE` (−2) | Ribbon filter: `FE <seed> <num_blocks: u24 LE>`, read by [`super::ribbon`] |
//! | 1..=127 | legacy cache-local Bloom (format_version < 5): [`LegacyBloomMetadata`], the byte is num_probes |
//! | 0 | zero probes: always "may match" |
//! | other | reserved: always "may match" |

use zerocopy::byteorder::{LittleEndian, U16, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

/// Length of the metadata trailer of a full filter.
pub const FULL_FILTER_METADATA_LEN: usize = 5;

/// First metadata byte of the newer Bloom implementations (FastLocalBloom).
pub const NEW_BLOOM_MARKER: u8 = 0xFF;
/// First metadata byte of the Ribbon filter.
pub const RIBBON_MARKER: u8 = 0xFE;
/// Sub-implementation byte of FastLocalBloom.
pub const FAST_LOCAL_BLOOM_SUB_IMPL: u8 = 0;

/// Metadata of a "new" full filter (marker `0xFF` or `0xFE`), as it lies on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FullFilterMetadata {
    /// [`NEW_BLOOM_MARKER`] or [`RIBBON_MARKER`].
    pub marker: u8,
    /// Which implementation under the marker; [`FAST_LOCAL_BLOOM_SUB_IMPL`] for FastLocalBloom.
    pub sub_impl: u8,
    /// Bits 0–4: num_probes (0 and 31 reserved). Bits 5–7: log2(cache-line bytes) − 6 (only 0 = 64 bytes is used).
    pub block_and_probes: u8,
    /// Reserved (maybe for a hash seed); RocksDB ignores filters where it is not zero.
    pub reserved: U16<LittleEndian>,
}

impl FullFilterMetadata {
    /// The trailer RocksDB writes for a FastLocalBloom filter with `num_probes` probes and 64-byte lines.
    pub fn fast_local_bloom(num_probes: u8) -> Self {
        FullFilterMetadata {
            marker: NEW_BLOOM_MARKER,
            sub_impl: FAST_LOCAL_BLOOM_SUB_IMPL,
            block_and_probes: num_probes & 0x1F,
            reserved: U16::new(0),
        }
    }
    /// Number of probes per key (the low 5 bits).
    pub fn num_probes(&self) -> u8 {
        self.block_and_probes & 0x1F
    }
    /// log2 of the cache-line (block) size in bytes: 6 + the top 3 bits.
    pub fn log2_block_bytes(&self) -> u8 {
        6 + (self.block_and_probes >> 5)
    }
}

/// Metadata of a legacy full-filter Bloom (format_version < 5), as it lies on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct LegacyBloomMetadata {
    /// Number of probes per key, 1..=127.
    pub num_probes: u8,
    /// Number of cache lines in the bit array.
    pub num_lines: U32<LittleEndian>,
}

const _: () = assert!(core::mem::size_of::<FullFilterMetadata>() == FULL_FILTER_METADATA_LEN);
const _: () = assert!(core::mem::size_of::<LegacyBloomMetadata>() == FULL_FILTER_METADATA_LEN);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_local_bloom_bytes() {
        assert_eq!(FullFilterMetadata::fast_local_bloom(6).as_bytes(), &[0xFF, 0, 6, 0, 0]);
        let m = FullFilterMetadata::read_from_bytes(&[0xFF, 0, 0x26, 0, 0][..]).unwrap();
        assert_eq!((m.num_probes(), m.log2_block_bytes()), (6, 7));
    }

    #[test]
    fn legacy_bytes() {
        let m = LegacyBloomMetadata { num_probes: 6, num_lines: U32::new(9) };
        assert_eq!(m.as_bytes(), &[6, 9, 0, 0, 0]);
    }
}
