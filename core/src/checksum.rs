//! Block checksums: the five types RocksDB knows.

use crate::error::{Error, Part, Result};
use crate::trailer::{BlockTrailer, ChecksumType, BLOCK_TRAILER_LEN};

const CRC32C: crc::Crc<u32, crc::Table<16>> = crc::Crc::<u32, crc::Table<16>>::new(&crc::CRC_32_ISCSI);
const MASK_DELTA: u32 = 0xa282_ead8;
/// Multiplier RocksDB mixes the type byte in with for XXH3 checksums.
const XXH3_TYPE_MULTIPLIER: u32 = 0x6b90_83d9;

/// Reflected CRC32C polynomial, for the one-byte step after a block.
const CRC32C_POLY_REFLECTED: u32 = 0x82f6_3b78;

/// Plain (unmasked) CRC32C of `data`.
///
/// With the `hw-crc` feature this uses the CPU's CRC instructions when it has them (chosen at run time), else
/// the portable table ([`crc32c_portable`]); both give the same value.
#[inline]
pub fn crc32c(data: &[u8]) -> u32 {
    #[cfg(feature = "hw-crc")]
    {
        crc_fast::checksum(crc_fast::CrcAlgorithm::Crc32Iscsi, data) as u32
    }
    #[cfg(not(feature = "hw-crc"))]
    {
        crc32c_portable(data)
    }
}

/// CRC32C of `data` with the portable slice-by-16 table (no CPU features, no std).
pub fn crc32c_portable(data: &[u8]) -> u32 {
    CRC32C.checksum(data)
}

/// CRC32C of `a` followed by `b`.
pub fn crc32c_concat(a: &[u8], b: &[u8]) -> u32 {
    let mut d = CRC32C.digest();
    d.update(a);
    d.update(b);
    d.finalize()
}

/// A CRC32C computed over data that arrives in pieces: [`value`](Self::value) equals [`crc32c`] of the
/// concatenation of every [`update`](Self::update) so far (the portable table; for whole-file checksums).
#[derive(Clone)]
pub struct Crc32cDigest(crc::Digest<'static, u32, crc::Table<16>>);

impl core::fmt::Debug for Crc32cDigest {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Crc32cDigest").field(&self.value()).finish()
    }
}

impl Default for Crc32cDigest {
    fn default() -> Self {
        Crc32cDigest(CRC32C.digest())
    }
}

impl Crc32cDigest {
    /// A digest of nothing yet.
    pub fn new() -> Self {
        Self::default()
    }
    /// Adds `data`.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }
    /// The CRC32C of everything added so far.
    pub fn value(&self) -> u32 {
        self.0.clone().finalize()
    }
}

/// CRC32C of `data` followed by the single byte `last`: a block body and its compression type byte.
///
/// The block goes through [`crc32c`] (the fast path); the trailing byte is folded in bit by bit, which is
/// cheaper than a second call.
#[inline]
fn crc32c_then_byte(data: &[u8], last: u8) -> u32 {
    // The register before the final inversion is the complement of the finished CRC.
    let mut reg = !crc32c(data) ^ u32::from(last);
    for _ in 0..8 {
        reg = (reg >> 1) ^ (CRC32C_POLY_REFLECTED & (reg & 1).wrapping_neg());
    }
    !reg
}

/// Masks a CRC so a CRC of data holding CRCs stays well distributed (LevelDB's trick).
pub const fn mask_crc(c: u32) -> u32 {
    c.rotate_right(15).wrapping_add(MASK_DELTA)
}

/// Inverse of [`mask_crc`].
pub const fn unmask_crc(m: u32) -> u32 {
    m.wrapping_sub(MASK_DELTA).rotate_left(15)
}

/// The checksum stored in a block trailer for `block` compressed with type byte `compression`.
pub fn block_checksum(kind: ChecksumType, block: &[u8], compression: u8) -> u32 {
    let ty = [compression];
    match kind {
        ChecksumType::None => 0,
        ChecksumType::Crc32c => mask_crc(crc32c_then_byte(block, compression)),
        ChecksumType::XxHash => {
            let mut h = xxhash_rust::xxh32::Xxh32::new(0);
            h.update(block);
            h.update(&ty);
            h.digest()
        }
        ChecksumType::XxHash64 => {
            let mut h = xxhash_rust::xxh64::Xxh64::new(0);
            h.update(block);
            h.update(&ty);
            h.digest() as u32
        }
        ChecksumType::Xxh3 => {
            let h = xxhash_rust::xxh3::xxh3_64(block) as u32;
            h ^ u32::from(compression).wrapping_mul(XXH3_TYPE_MULTIPLIER)
        }
    }
}

/// [`block_checksum`] of `block` with `len` bytes at `at` read as zeros (for RocksDB's rewritten global seqno).
pub fn block_checksum_with_zeroed(kind: ChecksumType, block: &[u8], at: usize, len: usize, compression: u8) -> u32 {
    let at = at.min(block.len());
    let end = at.saturating_add(len).min(block.len());
    let (a, rest) = block.split_at(at);
    let (mid, b) = rest.split_at(end - at);
    let ty = [compression];
    // Feed a, then mid.len() zeros (in 64-byte pieces), then b, to a streaming hasher.
    fn feed(a: &[u8], zeros: usize, b: &[u8], mut update: impl FnMut(&[u8])) {
        const Z: [u8; 64] = [0u8; 64];
        update(a);
        let mut left = zeros;
        while left > 0 {
            let n = left.min(Z.len());
            update(&Z[..n]);
            left -= n;
        }
        update(b);
    }
    let zeros = mid.len();
    match kind {
        ChecksumType::None => 0,
        ChecksumType::Crc32c => {
            let mut d = CRC32C.digest();
            feed(a, zeros, b, |x| d.update(x));
            d.update(&ty);
            mask_crc(d.finalize())
        }
        ChecksumType::XxHash => {
            let mut h = xxhash_rust::xxh32::Xxh32::new(0);
            feed(a, zeros, b, |x| h.update(x));
            h.update(&ty);
            h.digest()
        }
        ChecksumType::XxHash64 => {
            let mut h = xxhash_rust::xxh64::Xxh64::new(0);
            feed(a, zeros, b, |x| h.update(x));
            h.update(&ty);
            h.digest() as u32
        }
        ChecksumType::Xxh3 => {
            let mut h = xxhash_rust::xxh3::Xxh3Default::new();
            feed(a, zeros, b, |x| h.update(x));
            (h.digest() as u32) ^ u32::from(compression).wrapping_mul(XXH3_TYPE_MULTIPLIER)
        }
    }
}

/// A table's block checksum scheme: the [`ChecksumType`] and, for format_version ≥ 6, the file's base context
/// checksum (0 for format_version ≤ 5, which makes every [`modifier`](Self::modifier) 0).
///
/// A [`ChecksumType`] converts into one with base 0, so code written for format_version ≤ 5 keeps working.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct BlockChecksum {
    /// The checksum function.
    pub kind: ChecksumType,
    /// The base context checksum (non-zero in format_version ≥ 6 files, 0 before).
    pub base: u32,
}

impl From<ChecksumType> for BlockChecksum {
    fn from(kind: ChecksumType) -> Self {
        BlockChecksum { kind, base: 0 }
    }
}

impl BlockChecksum {
    /// A scheme with a base context checksum (format_version ≥ 6).
    pub const fn new(kind: ChecksumType, base: u32) -> Self {
        BlockChecksum { kind, base }
    }

    /// What is added (mod 2^32) to the checksum of the block starting at file offset `offset`.
    #[inline]
    pub const fn modifier(&self, offset: u64) -> u32 {
        checksum_modifier(self.base, offset)
    }

    /// The value stored in the trailer of `block` (type byte `compression`) when it starts at `offset`.
    #[inline]
    pub fn stored(&self, block: &[u8], compression: u8, offset: u64) -> u32 {
        block_checksum(self.kind, block, compression).wrapping_add(self.modifier(offset))
    }

    /// Whether a reader checks anything: always, except for kNoChecksum without a base (format_version ≤ 5
    /// stores 0 and nobody checks it; format_version ≥ 6 stores the bare modifier and readers compare it).
    #[inline]
    pub const fn checks(&self) -> bool {
        !matches!(self.kind, ChecksumType::None) || self.base != 0
    }

    /// The name of the checksum type (see [`ChecksumType::name`]).
    pub fn name(&self) -> &'static str {
        self.kind.name()
    }
}

/// RocksDB's `ChecksumModifierForContext`: `base ^ (lo32(offset) + hi32(offset))` (wrapping), 0 when `base` is 0.
#[inline]
pub const fn checksum_modifier(base: u32, offset: u64) -> u32 {
    if base == 0 {
        return 0;
    }
    base ^ (offset as u32).wrapping_add((offset >> 32) as u32)
}

/// Verifies `block_with_trailer` (body followed by its 5-byte trailer) and returns the body and trailer.
///
/// `offset` is the block's offset in the file (its handle's offset): the format_version ≥ 6 checksum modifier
/// depends on it, and errors report it. Pass a bare [`ChecksumType`] for format_version ≤ 5.
pub fn verify_block(
    sum: impl Into<BlockChecksum>,
    block_with_trailer: &[u8],
    part: Part,
    offset: u64,
) -> Result<(&[u8], BlockTrailer)> {
    let sum = sum.into();
    let (body, trailer) = split_block(block_with_trailer, part, offset)?;
    if sum.checks() {
        let stored = trailer.checksum.get();
        let computed = sum.stored(body, trailer.compression, offset);
        if stored != computed {
            return Err(Error::ChecksumMismatch { part, offset, stored, computed });
        }
    }
    Ok((body, trailer))
}

/// Splits a block from its trailer without checking anything.
pub fn split_block(block_with_trailer: &[u8], part: Part, offset: u64) -> Result<(&[u8], BlockTrailer)> {
    let Some(body_len) = block_with_trailer.len().checked_sub(BLOCK_TRAILER_LEN) else {
        return Err(Error::corrupt(part, offset, "block shorter than its trailer"));
    };
    let (body, t) = block_with_trailer.split_at(body_len);
    let mut tb = [0u8; BLOCK_TRAILER_LEN];
    tb.copy_from_slice(t);
    Ok((body, *BlockTrailer::from_bytes(&tb)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32c_digest_equals_the_whole() {
        let data: [u8; 100] = core::array::from_fn(|i| (i * 7) as u8);
        let mut d = Crc32cDigest::new();
        d.update(&data[..3]);
        d.update(&data[3..60]);
        assert_eq!(d.value(), crc32c(&data[..60]));
        d.update(&data[60..]);
        assert_eq!(d.value(), crc32c(&data));
        assert_eq!(Crc32cDigest::new().value(), crc32c(&[]));
    }

    #[test]
    fn crc32c_known_values() {
        // RFC 3720 test vector: 32 zero bytes.
        assert_eq!(crc32c(&[0u8; 32]), 0x8a91_36aa);
        assert_eq!(crc32c(b"123456789"), 0xe306_9283);
        assert_eq!(crc32c_concat(b"1234", b"56789"), 0xe306_9283);
    }

    #[test]
    fn fast_path_matches_portable_table() {
        // Lengths around every SIMD chunk size and alignment the hardware paths switch on.
        let data: std::vec::Vec<u8> = (0..5000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
        for len in (0..300).chain([511, 512, 513, 1023, 1024, 4095, 4096, 4097, 5000]) {
            for start in [0, 1, 3, 7] {
                let Some(d) = data.get(start..start + len) else { continue };
                assert_eq!(crc32c(d), crc32c_portable(d), "len {len} start {start}");
                for ty in [0u8, 1, 4, 0x7f, 0xff] {
                    assert_eq!(crc32c_then_byte(d, ty), crc32c_concat(d, &[ty]), "len {len} type {ty}");
                }
            }
        }
    }

    #[test]
    fn mask_roundtrip() {
        for c in [0u32, 1, 0xdead_beef, u32::MAX] {
            assert_eq!(unmask_crc(mask_crc(c)), c);
            assert_ne!(mask_crc(c), c);
        }
    }

    #[test]
    fn empty_block_crc_matches_rocksdb() {
        // An empty block (8 bytes: no restarts besides offset 0, count 1) with CRC32C as RocksDB writes it
        // is checked end to end by the interop tests; here: every type detects a flipped byte.
        let block = [0u8, 0, 0, 0, 1, 0, 0, 0];
        for kind in [ChecksumType::Crc32c, ChecksumType::XxHash, ChecksumType::XxHash64, ChecksumType::Xxh3] {
            let c = block_checksum(kind, &block, 0);
            let mut buf = [0u8; 13];
            buf[..8].copy_from_slice(&block);
            buf[8] = 0;
            buf[9..].copy_from_slice(&c.to_le_bytes());
            assert!(verify_block(kind, &buf, Part::Block, 0).is_ok());
            buf[3] ^= 1;
            assert!(matches!(verify_block(kind, &buf, Part::Block, 7), Err(Error::ChecksumMismatch { offset: 7, .. })));
        }
    }
}

#[cfg(test)]
mod zeroed_tests {
    use super::*;

    #[test]
    fn zeroed_matches_a_zeroed_copy_for_any_range() {
        let block: std::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for kind in [ChecksumType::Crc32c, ChecksumType::XxHash, ChecksumType::XxHash64, ChecksumType::Xxh3] {
            for (at, len) in [(0, 8), (10, 8), (5, 200), (290, 8), (0, 300), (299, 50)] {
                let mut copy = block.clone();
                let end = (at + len).min(copy.len());
                copy[at..end].fill(0);
                assert_eq!(block_checksum_with_zeroed(kind, &block, at, len, 4), block_checksum(kind, &copy, 4));
            }
        }
    }
}
