//! The footer: the fixed-size tail that says where the metaindex and index blocks are.

use zerocopy::byteorder::{LittleEndian, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::trailer::ChecksumType;

/// Magic of format_version ≥ 1 footers (RocksDB block-based table).
pub const BLOCK_BASED_MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
/// Magic of legacy footers (LevelDB tables, RocksDB format_version 0).
pub const LEGACY_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
/// Size of a format_version ≥ 1 footer.
pub const FOOTER_LEN: usize = 53;
/// Size of a legacy footer.
pub const LEGACY_FOOTER_LEN: usize = 48;
/// Room for the two handles plus zero padding.
const HANDLES_LEN: usize = 40;
/// Highest format_version this crate reads.
pub const MAX_FORMAT_VERSION: u32 = 5;

/// The 53-byte footer as it lies on disk (format_version 1–5).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FooterV1 {
    /// [`ChecksumType`] byte.
    pub checksum: u8,
    /// Metaindex handle, index handle, zero padding.
    pub handles: [u8; HANDLES_LEN],
    /// The format_version.
    pub format_version: U32<LittleEndian>,
    /// [`BLOCK_BASED_MAGIC`].
    pub magic: U64<LittleEndian>,
}

/// The 48-byte legacy footer as it lies on disk (LevelDB, RocksDB format_version 0).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct LegacyFooter {
    /// Metaindex handle, index handle, zero padding.
    pub handles: [u8; HANDLES_LEN],
    /// [`LEGACY_MAGIC`].
    pub magic: U64<LittleEndian>,
}

/// A decoded footer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Footer {
    /// Checksum type of every block (CRC32C for legacy footers).
    pub checksum: ChecksumType,
    /// Where the metaindex block is.
    pub metaindex: BlockHandle,
    /// Where the index block is.
    pub index: BlockHandle,
    /// format_version (0 for legacy footers).
    pub format_version: u32,
}

impl Footer {
    /// Size of this footer on disk.
    pub fn encoded_len(&self) -> usize {
        if self.format_version == 0 {
            LEGACY_FOOTER_LEN
        } else {
            FOOTER_LEN
        }
    }

    /// Decodes the footer from the last bytes of a file (`tail` must end where the file ends; 53 bytes or more
    /// are enough for any footer, 48 for a legacy one). `file_len` bounds-checks the handles.
    pub fn decode(tail: &[u8], file_len: u64) -> Result<Footer> {
        let Some(magic_at) = tail.len().checked_sub(8) else {
            return Err(Error::corrupt(Part::Footer, file_len, "file too short for a footer"));
        };
        let magic = u64::from_le_bytes(tail[magic_at..].try_into().unwrap_or([0; 8]));
        let base = file_len.saturating_sub(tail.len() as u64);
        let footer = match magic {
            LEGACY_MAGIC => {
                let start = tail.len().checked_sub(LEGACY_FOOTER_LEN).ok_or(Error::corrupt(
                    Part::Footer,
                    base,
                    "file too short for a legacy footer",
                ))?;
                let f = LegacyFooter::ref_from_bytes(&tail[start..])
                    .map_err(|_| Error::corrupt(Part::Footer, base, "footer layout"))?;
                let (metaindex, index) = decode_handles(&f.handles, base + start as u64)?;
                Footer { checksum: ChecksumType::Crc32c, metaindex, index, format_version: 0 }
            }
            BLOCK_BASED_MAGIC => {
                let start = tail.len().checked_sub(FOOTER_LEN).ok_or(Error::corrupt(
                    Part::Footer,
                    base,
                    "file too short for a footer",
                ))?;
                let f = FooterV1::ref_from_bytes(&tail[start..])
                    .map_err(|_| Error::corrupt(Part::Footer, base, "footer layout"))?;
                let fv = f.format_version.get();
                if fv == 0 || fv > MAX_FORMAT_VERSION {
                    return Err(Error::Unsupported {
                        part: Part::Footer,
                        what: "format_version",
                        value: u64::from(fv),
                    });
                }
                let checksum = ChecksumType::from_u8(f.checksum)?;
                let (metaindex, index) = decode_handles(&f.handles, base + start as u64 + 1)?;
                Footer { checksum, metaindex, index, format_version: fv }
            }
            _ => {
                return Err(Error::corrupt(
                    Part::Footer,
                    file_len.saturating_sub(8),
                    "bad magic number: not an SST file",
                ))
            }
        };
        let body_end = file_len.saturating_sub(footer.encoded_len() as u64);
        footer.metaindex.check_within(body_end, Part::Metaindex)?;
        footer.index.check_within(body_end, Part::Index)?;
        Ok(footer)
    }

    /// Writes the footer into `out`; returns bytes used (53, or 48 for format_version 0).
    ///
    /// format_version 0 can only carry CRC32C (like RocksDB, ask for format_version 1 for other checksums).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize> {
        let mut handles = [0u8; HANDLES_LEN];
        let a = self.metaindex.encode_into(&mut handles)?;
        self.index.encode_into(&mut handles[a..])?;
        let len = self.encoded_len();
        let Some(dst) = out.get_mut(..len) else {
            return Err(Error::BufferTooSmall { needed: len });
        };
        if self.format_version == 0 {
            if self.checksum != ChecksumType::Crc32c {
                return Err(Error::InvalidArgument { reason: "format_version 0 supports only CRC32C" });
            }
            let f = LegacyFooter { handles, magic: U64::new(LEGACY_MAGIC) };
            dst.copy_from_slice(f.as_bytes());
        } else {
            let f = FooterV1 {
                checksum: self.checksum as u8,
                handles,
                format_version: U32::new(self.format_version),
                magic: U64::new(BLOCK_BASED_MAGIC),
            };
            dst.copy_from_slice(f.as_bytes());
        }
        Ok(len)
    }
}

fn decode_handles(bytes: &[u8; HANDLES_LEN], at: u64) -> Result<(BlockHandle, BlockHandle)> {
    let (metaindex, n) = BlockHandle::decode(bytes).map_err(|e| e.at(Part::Footer, at))?;
    let (index, _) = BlockHandle::decode(&bytes[n..]).map_err(|e| e.at(Part::Footer, at))?;
    Ok((metaindex, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_have_the_right_sizes() {
        assert_eq!(core::mem::size_of::<FooterV1>(), FOOTER_LEN);
        assert_eq!(core::mem::size_of::<LegacyFooter>(), LEGACY_FOOTER_LEN);
    }

    #[test]
    fn roundtrip_all_versions() {
        for fv in 0..=5 {
            let f = Footer {
                checksum: ChecksumType::Crc32c,
                metaindex: BlockHandle::new(1000, 50),
                index: BlockHandle::new(900, 95),
                format_version: fv,
            };
            let mut file = [0u8; 1200];
            let n = f.encode_into(&mut file[1100..]).unwrap();
            let end = 1100 + n;
            assert_eq!(Footer::decode(&file[..end], end as u64).unwrap(), f);
            assert_eq!(Footer::decode(&file[end - 53..end], end as u64).unwrap(), f);
            if fv > 0 {
                assert_eq!(&file[end - 8..end], &[0xf7, 0xcf, 0xf4, 0x85, 0xb7, 0x41, 0xe2, 0x88]);
            } else {
                assert_eq!(&file[end - 8..end], &[0x57, 0xfb, 0x80, 0x8b, 0x24, 0x75, 0x47, 0xdb]);
            }
        }
    }

    #[test]
    fn rejects_bad_footers() {
        let f = Footer {
            checksum: ChecksumType::Xxh3,
            metaindex: BlockHandle::new(10, 5),
            index: BlockHandle::new(0, 5),
            format_version: 5,
        };
        let mut buf = [0u8; 53];
        f.encode_into(&mut buf).unwrap();
        assert!(Footer::decode(&buf, 53).is_err(), "handles point into the footer");
        let mut file = [0u8; 100];
        file[47..].copy_from_slice(&buf);
        assert!(Footer::decode(&file, 100).is_ok());
        let mut bad = file;
        bad[47 + 41] = 6;
        assert!(matches!(Footer::decode(&bad, 100), Err(Error::Unsupported { .. })));
        let mut bad = file;
        bad[47] = 9;
        assert!(Footer::decode(&bad, 100).is_err());
        let mut bad = file;
        bad[99] ^= 1;
        assert!(Footer::decode(&bad, 100).is_err());
        assert!(Footer::decode(&file[..7], 7).is_err());
        assert!(Footer::decode(&file[60..], 40).is_err());
        let f0 = Footer { format_version: 0, ..f };
        assert!(f0.encode_into(&mut buf).is_err(), "fv0 cannot carry XXH3");
    }
}
