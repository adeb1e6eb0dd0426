//! The 5-byte trailer after every block: compression type and checksum.

use zerocopy::byteorder::{LittleEndian, U32};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Error, Part, Result};

/// Size of the trailer after each block.
pub const BLOCK_TRAILER_LEN: usize = 5;

/// The trailer as it lies on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct BlockTrailer {
    /// [`CompressionType`] byte of the block body.
    pub compression: u8,
    /// Checksum over the block body (and, for most types, the compression byte).
    pub checksum: U32<LittleEndian>,
}

impl BlockTrailer {
    /// A trailer.
    pub fn new(compression: CompressionType, checksum: u32) -> Self {
        BlockTrailer { compression: compression as u8, checksum: U32::new(checksum) }
    }
    /// Views the 5 bytes as a trailer.
    pub fn from_bytes(bytes: &[u8; BLOCK_TRAILER_LEN]) -> &BlockTrailer {
        // A 5-byte array always has the size and alignment (1) of the struct.
        match BlockTrailer::ref_from_bytes(&bytes[..]) {
            Ok(t) => t,
            Err(_) => unreachable_trailer(),
        }
    }
}

#[cold]
fn unreachable_trailer() -> ! {
    // BlockTrailer is 5 unaligned bytes; a [u8; 5] always converts.
    panic!("BlockTrailer layout changed")
}

/// How a block's checksum is computed (the footer's first byte for format_version ≥ 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum ChecksumType {
    /// No checksum (stored as 0, never verified).
    None = 0,
    /// Masked CRC32C over the body and the type byte.
    #[default]
    Crc32c = 1,
    /// XXH32 (seed 0) over the body and the type byte.
    XxHash = 2,
    /// Low 32 bits of XXH64 (seed 0) over the body and the type byte.
    XxHash64 = 3,
    /// Low 32 bits of XXH3-64 over the body, XOR a multiple of the type byte.
    Xxh3 = 4,
}

impl ChecksumType {
    /// Parses the type byte.
    pub fn from_u8(v: u8) -> Result<Self> {
        Ok(match v {
            0 => ChecksumType::None,
            1 => ChecksumType::Crc32c,
            2 => ChecksumType::XxHash,
            3 => ChecksumType::XxHash64,
            4 => ChecksumType::Xxh3,
            _ => return Err(Error::Unsupported { part: Part::Footer, what: "checksum type", value: u64::from(v) }),
        })
    }
    /// The name RocksDB uses in options and tools.
    pub fn name(self) -> &'static str {
        match self {
            ChecksumType::None => "kNoChecksum",
            ChecksumType::Crc32c => "kCRC32c",
            ChecksumType::XxHash => "kxxHash",
            ChecksumType::XxHash64 => "kxxHash64",
            ChecksumType::Xxh3 => "kXXH3",
        }
    }
}

/// How a block body is compressed (the trailer's first byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum CompressionType {
    /// Stored as is.
    #[default]
    None = 0,
    /// Raw Snappy block.
    Snappy = 1,
    /// Raw deflate (with a varint size prefix for format_version ≥ 2).
    Zlib = 2,
    /// BZip2 (read is not supported).
    Bzip2 = 3,
    /// LZ4 block (with a varint size prefix for format_version ≥ 2).
    Lz4 = 4,
    /// LZ4HC: the same block format as LZ4.
    Lz4hc = 5,
    /// Windows Xpress (not supported).
    Xpress = 6,
    /// ZSTD frame with a varint size prefix.
    Zstd = 7,
    /// Pre-release ZSTD marker, same encoding as [`CompressionType::Zstd`].
    ZstdNotFinal = 0x40,
}

impl CompressionType {
    /// Parses the type byte.
    pub fn from_u8(v: u8) -> Result<Self> {
        Ok(match v {
            0 => CompressionType::None,
            1 => CompressionType::Snappy,
            2 => CompressionType::Zlib,
            3 => CompressionType::Bzip2,
            4 => CompressionType::Lz4,
            5 => CompressionType::Lz4hc,
            6 => CompressionType::Xpress,
            7 => CompressionType::Zstd,
            0x40 => CompressionType::ZstdNotFinal,
            _ => return Err(Error::Unsupported { part: Part::Trailer, what: "compression type", value: u64::from(v) }),
        })
    }
    /// The name RocksDB writes in the `rocksdb.compression` property.
    pub fn name(self) -> &'static str {
        match self {
            CompressionType::None => "NoCompression",
            CompressionType::Snappy => "Snappy",
            CompressionType::Zlib => "Zlib",
            CompressionType::Bzip2 => "BZip2",
            CompressionType::Lz4 => "LZ4",
            CompressionType::Lz4hc => "LZ4HC",
            CompressionType::Xpress => "Xpress",
            CompressionType::Zstd => "ZSTD",
            CompressionType::ZstdNotFinal => "ZSTDNotFinal",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailer_layout() {
        let t = BlockTrailer::new(CompressionType::Lz4, 0x0403_0201);
        assert_eq!(t.as_bytes(), &[4, 1, 2, 3, 4]);
        assert_eq!(BlockTrailer::from_bytes(&[4, 1, 2, 3, 4]), &t);
        assert_eq!(core::mem::size_of::<BlockTrailer>(), BLOCK_TRAILER_LEN);
    }

    #[test]
    fn type_bytes() {
        for v in 0..=255u8 {
            if let Ok(c) = ChecksumType::from_u8(v) {
                assert_eq!(c as u8, v);
            }
            if let Ok(c) = CompressionType::from_u8(v) {
                assert_eq!(c as u8, v);
            }
        }
        assert!(ChecksumType::from_u8(5).is_err());
        assert!(CompressionType::from_u8(8).is_err());
    }
}
