//! The footer: the fixed-size tail that says where the metaindex and index blocks are.
//!
//! Three layouts: the 48-byte legacy footer (LevelDB, format_version 0), the 53-byte footer with two handles
//! (format_version 1–5, [`FooterV1`]) and the 53-byte footer of format_version 6 and 7 ([`FooterV6`]), which
//! carries its own checksum and a base context checksum instead of handles: the metaindex ends right before
//! it, and the index handle is an entry of the metaindex ([`INDEX_HANDLE_NAME`]).

use zerocopy::byteorder::{LittleEndian, U32, U64};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout, Unaligned};

use crate::checksum::{block_checksum, checksum_modifier, BlockChecksum};
use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::metaindex::Metaindex;
use crate::trailer::{ChecksumType, BLOCK_TRAILER_LEN};

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
pub const MAX_FORMAT_VERSION: u32 = 7;
/// First format_version with context checksums, the [`FooterV6`] layout and the index handle in the metaindex.
pub const FIRST_CONTEXT_CHECKSUM_VERSION: u32 = 6;
/// The bytes after the checksum type in a format_version ≥ 6 footer.
pub const EXTENDED_MAGIC: [u8; 4] = [0x3e, 0x00, 0x7a, 0x00];
/// Metaindex key of the index handle in format_version ≥ 6 tables.
pub const INDEX_HANDLE_NAME: &[u8] = b"rocksdb.index";

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

/// The 53-byte footer as it lies on disk (format_version 6 and 7).
#[derive(Debug, Clone, Copy, FromBytes, IntoBytes, KnownLayout, Immutable, Unaligned)]
#[repr(C)]
pub struct FooterV6 {
    /// [`ChecksumType`] byte.
    pub checksum: u8,
    /// [`EXTENDED_MAGIC`].
    pub extended_magic: [u8; 4],
    /// Checksum of these 53 bytes with this field zeroed, plus the context modifier at the footer's offset.
    pub footer_checksum: U32<LittleEndian>,
    /// The file's base context checksum (non-zero).
    pub base_context_checksum: U32<LittleEndian>,
    /// Size of the metaindex block (trailer excluded), which ends right before the footer.
    pub metaindex_size: U32<LittleEndian>,
    /// Reserved; readers ignore it.
    pub reserved_ignored: [u8; 16],
    /// Reserved for future features; must be zero.
    pub reserved_zero: [u8; 8],
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
    /// Where the metaindex block is (for format_version ≥ 6 computed: it ends right before the footer).
    pub metaindex: BlockHandle,
    /// Where the index block is.
    ///
    /// For format_version ≥ 6 the footer does not hold it: [`Footer::decode`] leaves [`BlockHandle::NULL`] here
    /// and [`Footer::resolve_index`] fills it in from the metaindex. `MetaLayout::parse` and `Table::open` do
    /// that, so their footers always hold the real handle.
    pub index: BlockHandle,
    /// format_version (0 for legacy footers).
    pub format_version: u32,
    /// Base context checksum (format_version ≥ 6; 0 before).
    pub base_context_checksum: u32,
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

    /// The block checksum scheme (type and base context checksum) every block of the table is verified with.
    pub fn block_checksum(&self) -> BlockChecksum {
        BlockChecksum::new(self.checksum, self.base_context_checksum)
    }

    /// True if the index handle is an entry of the metaindex (format_version ≥ 6), not a footer field.
    pub fn index_in_metaindex(&self) -> bool {
        self.format_version >= FIRST_CONTEXT_CHECKSUM_VERSION
    }

    /// For format_version ≥ 6, sets [`index`](Self::index) from the metaindex's [`INDEX_HANDLE_NAME`] entry
    /// (bounds-checked against `file_len`); does nothing for older versions.
    pub fn resolve_index(&mut self, metaindex: &Metaindex<'_>, file_len: u64) -> Result<()> {
        if !self.index_in_metaindex() {
            return Ok(());
        }
        let h = metaindex.find(INDEX_HANDLE_NAME)?.ok_or(Error::corrupt(
            Part::Metaindex,
            self.metaindex.offset,
            "format_version >= 6 metaindex has no rocksdb.index entry",
        ))?;
        h.check_within(file_len.saturating_sub(self.encoded_len() as u64), Part::Index)?;
        self.index = h;
        Ok(())
    }

    /// Decodes the footer from the last bytes of a file (`tail` must end where the file ends; 53 bytes or more
    /// are enough for any footer, 48 for a legacy one). `file_len` bounds-checks the handles.
    ///
    /// For format_version ≥ 6 this also verifies the footer's own checksum; the index handle is then still
    /// [`BlockHandle::NULL`] (see [`Footer::index`]).
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
                Footer { checksum: ChecksumType::Crc32c, metaindex, index, format_version: 0, base_context_checksum: 0 }
            }
            BLOCK_BASED_MAGIC => {
                let start = tail.len().checked_sub(FOOTER_LEN).ok_or(Error::corrupt(
                    Part::Footer,
                    base,
                    "file too short for a footer",
                ))?;
                let bytes = &tail[start..];
                let f =
                    FooterV1::ref_from_bytes(bytes).map_err(|_| Error::corrupt(Part::Footer, base, "footer layout"))?;
                let fv = f.format_version.get();
                if fv == 0 || fv > MAX_FORMAT_VERSION {
                    return Err(Error::Unsupported {
                        part: Part::Footer,
                        what: "format_version",
                        value: u64::from(fv),
                    });
                }
                let checksum = ChecksumType::from_u8(f.checksum)?;
                if fv >= FIRST_CONTEXT_CHECKSUM_VERSION {
                    decode_v6(bytes, checksum, base + start as u64)?
                } else {
                    let (metaindex, index) = decode_handles(&f.handles, base + start as u64 + 1)?;
                    Footer { checksum, metaindex, index, format_version: fv, base_context_checksum: 0 }
                }
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
        if !footer.index_in_metaindex() {
            footer.index.check_within(body_end, Part::Index)?;
        }
        Ok(footer)
    }

    /// Writes the footer into `out`; returns bytes used (53, or 48 for format_version 0).
    ///
    /// format_version 0 can only carry CRC32C (like RocksDB, ask for format_version 1 for other checksums).
    /// For format_version ≥ 6 the metaindex must end right before the footer (the footer's offset, which its
    /// checksum depends on, is taken from there) and [`base_context_checksum`](Self::base_context_checksum)
    /// must be non-zero; [`index`](Self::index) is not written (it goes into the metaindex).
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize> {
        let len = self.encoded_len();
        if self.format_version >= FIRST_CONTEXT_CHECKSUM_VERSION {
            return self.encode_v6(out);
        }
        let mut handles = [0u8; HANDLES_LEN];
        let a = self.metaindex.encode_into(&mut handles)?;
        self.index.encode_into(&mut handles[a..])?;
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

    fn encode_v6(&self, out: &mut [u8]) -> Result<usize> {
        if self.format_version > MAX_FORMAT_VERSION {
            return Err(Error::InvalidArgument { reason: "format_version above 7" });
        }
        if self.base_context_checksum == 0 {
            return Err(Error::InvalidArgument {
                reason: "format_version >= 6 needs a non-zero base context checksum",
            });
        }
        let metaindex_size = u32::try_from(self.metaindex.size)
            .map_err(|_| Error::InvalidArgument { reason: "metaindex block larger than 4 GiB" })?;
        let footer_offset =
            self.metaindex.end_with_trailer().ok_or(Error::InvalidArgument { reason: "metaindex handle overflows" })?;
        let Some(dst) = out.get_mut(..FOOTER_LEN) else {
            return Err(Error::BufferTooSmall { needed: FOOTER_LEN });
        };
        let mut f = FooterV6 {
            checksum: self.checksum as u8,
            extended_magic: EXTENDED_MAGIC,
            footer_checksum: U32::new(0),
            base_context_checksum: U32::new(self.base_context_checksum),
            metaindex_size: U32::new(metaindex_size),
            reserved_ignored: [0; 16],
            reserved_zero: [0; 8],
            format_version: U32::new(self.format_version),
            magic: U64::new(BLOCK_BASED_MAGIC),
        };
        f.footer_checksum =
            U32::new(footer_checksum(self.checksum, self.base_context_checksum, f.as_bytes(), footer_offset));
        dst.copy_from_slice(f.as_bytes());
        Ok(FOOTER_LEN)
    }
}

/// The checksum a format_version ≥ 6 footer stores: the checksum type applied to the 53 bytes with the
/// checksum field (bytes 5..9) read as zero, plus the context modifier at the footer's offset. With
/// kNoChecksum it is the bare modifier.
pub fn footer_checksum(kind: ChecksumType, base: u32, footer: &[u8], footer_offset: u64) -> u32 {
    let mut b = [0u8; FOOTER_LEN];
    let n = footer.len().min(FOOTER_LEN);
    b[..n].copy_from_slice(&footer[..n]);
    b[5..9].fill(0);
    // The footer is hashed like a 52-byte block whose "type byte" is its last byte (the magic's top byte).
    block_checksum(kind, &b[..FOOTER_LEN - 1], b[FOOTER_LEN - 1]).wrapping_add(checksum_modifier(base, footer_offset))
}

/// Decodes a format_version ≥ 6 footer (`bytes` is the whole footer, at file offset `footer_offset`).
fn decode_v6(bytes: &[u8], checksum: ChecksumType, footer_offset: u64) -> Result<Footer> {
    let f =
        FooterV6::ref_from_bytes(bytes).map_err(|_| Error::corrupt(Part::Footer, footer_offset, "footer layout"))?;
    if f.extended_magic != EXTENDED_MAGIC {
        return Err(Error::corrupt(Part::Footer, footer_offset + 1, "bad extended magic number"));
    }
    let base = f.base_context_checksum.get();
    let stored = f.footer_checksum.get();
    let computed = footer_checksum(checksum, base, bytes, footer_offset);
    if stored != computed {
        return Err(Error::ChecksumMismatch { part: Part::Footer, offset: footer_offset, stored, computed });
    }
    if base == 0 {
        return Err(Error::corrupt(Part::Footer, footer_offset + 9, "invalid base context checksum 0"));
    }
    if f.reserved_zero != [0; 8] {
        return Err(Error::Unsupported {
            part: Part::Footer,
            what: "future feature (non-zero reserved footer bytes)",
            value: u64::from_le_bytes(f.reserved_zero),
        });
    }
    let size = u64::from(f.metaindex_size.get());
    let offset = footer_offset
        .checked_sub(BLOCK_TRAILER_LEN as u64)
        .and_then(|x| x.checked_sub(size))
        .ok_or(Error::corrupt(Part::Footer, footer_offset + 13, "metaindex size larger than the file"))?;
    Ok(Footer {
        checksum,
        metaindex: BlockHandle::new(offset, size),
        index: BlockHandle::NULL,
        format_version: f.format_version.get(),
        base_context_checksum: base,
    })
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
            // fv >= 6 is covered by the tests below (no handles in the footer).
            let f = Footer {
                checksum: ChecksumType::Crc32c,
                metaindex: BlockHandle::new(1000, 50),
                index: BlockHandle::new(900, 95),
                format_version: fv,
                base_context_checksum: 0,
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
            base_context_checksum: 0,
        };
        let mut buf = [0u8; 53];
        f.encode_into(&mut buf).unwrap();
        assert!(Footer::decode(&buf, 53).is_err(), "handles point into the footer");
        let mut file = [0u8; 100];
        file[47..].copy_from_slice(&buf);
        assert!(Footer::decode(&file, 100).is_ok());
        let mut bad = file;
        bad[47 + 41] = 8;
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

    const ALL_SUMS: [ChecksumType; 5] =
        [ChecksumType::None, ChecksumType::Crc32c, ChecksumType::XxHash, ChecksumType::XxHash64, ChecksumType::Xxh3];

    /// A 300-byte "file" whose metaindex (40 bytes + trailer) ends right before a format_version `fv` footer.
    fn v6_file(kind: ChecksumType, fv: u32, base: u32) -> ([u8; 300], Footer) {
        let footer_offset = 300 - FOOTER_LEN as u64;
        let f = Footer {
            checksum: kind,
            metaindex: BlockHandle::new(footer_offset - 5 - 40, 40),
            index: BlockHandle::NULL,
            format_version: fv,
            base_context_checksum: base,
        };
        let mut file = [0u8; 300];
        assert_eq!(f.encode_into(&mut file[footer_offset as usize..]).unwrap(), FOOTER_LEN);
        (file, f)
    }

    /// Rewrites the footer checksum of `file` after a test changed other footer bytes.
    fn reseal(file: &mut [u8; 300], kind: ChecksumType, base: u32) {
        let at = 300 - FOOTER_LEN;
        let c = footer_checksum(kind, base, &file[at..], at as u64);
        file[at + 5..at + 9].copy_from_slice(&c.to_le_bytes());
    }

    #[test]
    fn v6_layout_size() {
        assert_eq!(core::mem::size_of::<FooterV6>(), FOOTER_LEN);
    }

    #[test]
    fn v6_v7_roundtrip_every_checksum_type() {
        for fv in [6, 7] {
            for kind in ALL_SUMS {
                let (file, f) = v6_file(kind, fv, 0x1234_5678);
                let got = Footer::decode(&file, 300).unwrap();
                assert_eq!(got, f, "fv {fv} {kind:?}");
                assert_eq!(got.metaindex, BlockHandle::new(202, 40));
                assert!(got.index_in_metaindex());
                assert_eq!(got.block_checksum(), BlockChecksum::new(kind, 0x1234_5678));
                // Only the last 53 bytes are needed.
                assert_eq!(Footer::decode(&file[247..], 300).unwrap(), f);
                let b = &file[247..];
                assert_eq!(b[0], kind as u8);
                assert_eq!(&b[1..5], &EXTENDED_MAGIC);
                assert_eq!(&b[9..13], &0x1234_5678u32.to_le_bytes());
                assert_eq!(&b[13..17], &40u32.to_le_bytes());
                assert_eq!(&b[17..41], &[0u8; 24]);
                assert_eq!(&b[41..45], &fv.to_le_bytes());
                assert_eq!(&b[45..], &BLOCK_BASED_MAGIC.to_le_bytes());
            }
        }
    }

    #[test]
    fn v6_footer_checksum_values() {
        let (file, _) = v6_file(ChecksumType::None, 6, 0xdead_beef);
        let stored = u32::from_le_bytes(file[252..256].try_into().unwrap());
        // kNoChecksum: the bare modifier base ^ (lo32(247) + hi32(247)).
        assert_eq!(stored, 0xdead_beef ^ 247);
        assert_eq!(stored, checksum_modifier(0xdead_beef, 247));
        // CRC32C: mask(crc32c(53 bytes, checksum field zeroed)) + modifier.
        let (file, _) = v6_file(ChecksumType::Crc32c, 6, 7);
        let mut zeroed = [0u8; FOOTER_LEN];
        zeroed.copy_from_slice(&file[247..]);
        zeroed[5..9].fill(0);
        let want = crate::checksum::mask_crc(crate::checksum::crc32c(&zeroed)).wrapping_add(7 ^ 247);
        assert_eq!(u32::from_le_bytes(file[252..256].try_into().unwrap()), want);
        // XXH3: low32(XXH3(52 bytes)) ^ (0x88 * 0x6b9083d9) + modifier.
        let (file, _) = v6_file(ChecksumType::Xxh3, 7, 9);
        let mut zeroed = [0u8; FOOTER_LEN];
        zeroed.copy_from_slice(&file[247..]);
        zeroed[5..9].fill(0);
        let want = ((xxhash_rust::xxh3::xxh3_64(&zeroed[..52]) as u32) ^ 0x88u32.wrapping_mul(0x6b90_83d9))
            .wrapping_add(9 ^ 247);
        assert_eq!(u32::from_le_bytes(file[252..256].try_into().unwrap()), want);
    }

    #[test]
    fn v6_bad_footers_give_the_right_error_kind() {
        use crate::error::ErrorKind;
        for kind in ALL_SUMS {
            let (file, _) = v6_file(kind, 6, 0x0102_0304);
            // Footer checksum.
            let mut bad = file;
            bad[253] ^= 0x10;
            assert!(matches!(Footer::decode(&bad, 300), Err(Error::ChecksumMismatch { part: Part::Footer, .. })));
            // A covered byte changes the checksum (kNoChecksum covers nothing but the offset).
            let mut bad = file;
            bad[247 + 20] ^= 1;
            if kind == ChecksumType::None {
                assert!(Footer::decode(&bad, 300).is_ok(), "ignored reserved bytes");
            } else {
                assert_eq!(Footer::decode(&bad, 300).unwrap_err().kind(), ErrorKind::Corruption);
            }
            // The same footer at another offset has another modifier.
            let mut longer = [0u8; 301];
            longer[1..].copy_from_slice(&file);
            assert_eq!(Footer::decode(&longer, 301).unwrap_err().kind(), ErrorKind::Corruption);
            // Extended magic (even with a matching checksum).
            let mut bad = file;
            bad[248] = 0x3f;
            reseal(&mut bad, kind, 0x0102_0304);
            let e = Footer::decode(&bad, 300).unwrap_err();
            assert!(matches!(e, Error::Corruption { reason: "bad extended magic number", .. }), "{e:?}");
            // Base 0 with a matching checksum.
            let mut bad = file;
            bad[256..260].fill(0);
            reseal(&mut bad, kind, 0);
            let e = Footer::decode(&bad, 300).unwrap_err();
            assert!(matches!(e, Error::Corruption { reason: "invalid base context checksum 0", .. }), "{e:?}");
            // The must-be-zero reserved bytes: a future feature.
            let mut bad = file;
            bad[247 + 33] = 1;
            reseal(&mut bad, kind, 0x0102_0304);
            let e = Footer::decode(&bad, 300).unwrap_err();
            assert!(e.is_unsupported(), "{e:?}");
            // The ignored reserved bytes.
            let mut ok = file;
            ok[247 + 17..247 + 33].fill(0xaa);
            reseal(&mut ok, kind, 0x0102_0304);
            assert!(Footer::decode(&ok, 300).is_ok());
            // A metaindex larger than the file.
            let mut bad = file;
            bad[260..264].copy_from_slice(&1000u32.to_le_bytes());
            reseal(&mut bad, kind, 0x0102_0304);
            assert_eq!(Footer::decode(&bad, 300).unwrap_err().kind(), ErrorKind::Corruption);
            // format_version 8 is a valid magic with an unknown version.
            let mut bad = file;
            bad[247 + 41] = 8;
            assert!(Footer::decode(&bad, 300).unwrap_err().is_unsupported());
        }
    }

    #[test]
    fn v6_encode_checks() {
        let (_, f) = v6_file(ChecksumType::Crc32c, 6, 1);
        let mut out = [0u8; 53];
        let zero = Footer { base_context_checksum: 0, ..f };
        assert!(matches!(zero.encode_into(&mut out), Err(Error::InvalidArgument { .. })));
        let big = Footer { metaindex: BlockHandle::new(0, 1 << 32), ..f };
        assert!(matches!(big.encode_into(&mut out), Err(Error::InvalidArgument { .. })));
        assert!(matches!(f.encode_into(&mut out[..52]), Err(Error::BufferTooSmall { needed: 53 })));
    }
}
