//! Reading one block out of fetched bytes: bounds checked, checksum verified, then uncompressed.
//!
//! The lowest floor of the table reader: nothing here knows about indexes or tables. [`verified_block`] slices
//! a block out of bytes the caller has (the whole file, or a ranged read), [`BlockContents`] uncompresses it
//! into a [`ReadBuf`], and [`BlockExtent`] checks a handle against the file size before anything is fetched.

use core::ops::Range;

use crate::checksum::{split_block, verify_block, BlockChecksum};
use crate::compress::{decompress_into, decompress_into_with_dict, decompressed_len, DEFAULT_MAX_BLOCK_LEN};
use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::trailer::CompressionType;

/// How a table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Verify the checksum of every block read (default true).
    pub verify_checksums: bool,
    /// Largest decompressed block accepted; a bigger claim is an error, never an allocation (default 64 MiB).
    pub max_block_len: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { verify_checksums: true, max_block_len: DEFAULT_MAX_BLOCK_LEN }
    }
}

/// A block as stored: its body (maybe compressed) and compression type, checksum verified.
#[derive(Debug, Clone, Copy)]
pub struct BlockContents<'a> {
    /// The stored body, without the trailer.
    pub body: &'a [u8],
    /// How the body is compressed.
    pub compression: CompressionType,
    /// Offset of the block in the file.
    pub offset: u64,
}

impl<'a> BlockContents<'a> {
    /// Bytes the uncompressed block needs (the body's own length when it is not compressed). For bodies whose
    /// framing does not say (legacy Zlib) this is a guess; [`decompress_to`](Self::decompress_to) then retries
    /// with the real size.
    pub fn uncompressed_len(&self, format_version: u32, max_len: usize) -> Result<usize> {
        Ok(self.size_hint(format_version, max_len)?.0)
    }

    /// `(size, exact)`: the uncompressed size and whether the framing states it.
    fn size_hint(&self, format_version: u32, max_len: usize) -> Result<(usize, bool)> {
        if self.compression == CompressionType::None {
            return Ok((self.body.len(), true));
        }
        match decompressed_len(self.compression, format_version, self.body, max_len)
            .map_err(|e| e.at(Part::Compression, self.offset))?
        {
            Some(n) => Ok((n, true)),
            None => Ok((self.body.len().saturating_mul(4).clamp(4096, max_len.max(1)), false)),
        }
    }

    /// Decompresses into `buf` (which grows if it can) and returns the uncompressed length: the block is
    /// `buf.bytes()[..len]`. When the framing does not state the size, tries a guess and retries once with
    /// the size the decoder reports (never above `max_len`).
    pub fn decompress_to<B: ReadBuf + ?Sized>(
        &self,
        format_version: u32,
        max_len: usize,
        buf: &mut B,
    ) -> Result<usize> {
        self.decompress_to_with_dict(format_version, max_len, &[], buf)
    }

    /// [`decompress_to`](Self::decompress_to) with the table's compression dictionary (empty for none), which
    /// RocksDB uses for data blocks only: see
    /// [`TableLayout::compression_dict`](crate::table::TableLayout::compression_dict).
    pub fn decompress_to_with_dict<B: ReadBuf + ?Sized>(
        &self,
        format_version: u32,
        max_len: usize,
        dict: &[u8],
        buf: &mut B,
    ) -> Result<usize> {
        let (mut room, exact) = self.size_hint(format_version, max_len)?;
        loop {
            let out = buf.buf(room)?;
            match decompress_into_with_dict(self.compression, format_version, self.body, dict, out) {
                Ok(n) => return Ok(n),
                Err(Error::BufferTooSmall { needed }) if !exact && needed > room && needed <= max_len => room = needed,
                Err(e) => return Err(e.at(Part::Compression, self.offset)),
            }
        }
    }

    /// The uncompressed block: the body itself, or the body decompressed into `buf`.
    pub fn uncompress<'b>(&self, format_version: u32, buf: &'b mut [u8]) -> Result<&'b [u8]>
    where
        'a: 'b,
    {
        if self.compression == CompressionType::None {
            return Ok(self.body);
        }
        let n = decompress_into(self.compression, format_version, self.body, buf)
            .map_err(|e| e.at(Part::Compression, self.offset))?;
        Ok(&buf[..n])
    }
}

/// Takes the block at `handle` out of `bytes` (which start at file offset `base`), checks its bounds and (if
/// `verify`) its checksum.
///
/// `checksum` is the table's scheme: [`Footer::block_checksum`](crate::footer::Footer::block_checksum) (or `MetaLayout::checksum`); a bare
/// [`ChecksumType`](crate::ChecksumType) is enough for format_version ≤ 5 only. The context modifier of format_version ≥ 6 is taken
/// at `handle.offset`.
pub fn verified_block<'a>(
    bytes: &'a [u8],
    base: u64,
    handle: BlockHandle,
    checksum: impl Into<BlockChecksum>,
    verify: bool,
    part: Part,
) -> Result<BlockContents<'a>> {
    let end = handle.end_with_trailer().ok_or(Error::corrupt(part, handle.offset, "block handle overflows"))?;
    let (start, stop) = match (handle.offset.checked_sub(base), end.checked_sub(base)) {
        (Some(s), Some(e)) if e <= bytes.len() as u64 => (s as usize, e as usize),
        _ => return Err(Error::corrupt(part, handle.offset, "block lies outside the bytes given")),
    };
    let block = &bytes[start..stop];
    let (body, trailer) = if verify {
        verify_block(checksum, block, part, handle.offset)?
    } else {
        split_block(block, part, handle.offset)?
    };
    let compression = CompressionType::from_u8(trailer.compression).map_err(|e| e.at(part, handle.offset))?;
    Ok(BlockContents { body, compression, offset: handle.offset })
}

/// Buffers a reader decompresses blocks and rebuilds keys in: a slice, an array, or (with `alloc`) a `Vec`
/// that grows.
pub trait ReadBuf {
    /// At least `len` writable bytes; `BufferTooSmall` if it cannot provide them.
    fn buf(&mut self, len: usize) -> Result<&mut [u8]>;
    /// What the last [`buf`](Self::buf) call handed out (and may since hold data).
    fn bytes(&self) -> &[u8];
}

impl ReadBuf for &mut [u8] {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        let n = self.len();
        self.get_mut(..len).ok_or(Error::BufferTooSmall { needed: len.max(n) })
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl<const N: usize> ReadBuf for [u8; N] {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        self.get_mut(..len).ok_or(Error::BufferTooSmall { needed: len })
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

#[cfg(feature = "alloc")]
impl ReadBuf for alloc::vec::Vec<u8> {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        if self.len() < len {
            self.try_reserve(len - self.len()).map_err(|_| Error::BufferTooSmall { needed: len })?;
            self.resize(len, 0);
        }
        Ok(&mut self[..len])
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A block's place in the file: its handle and where its trailer ends, checked against the file size.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BlockExtent {
    /// The handle as the index (or footer, or metaindex) states it.
    pub handle: BlockHandle,
    /// Offset just past the block's trailer (≤ the file size).
    pub end: u64,
}

impl BlockExtent {
    /// Checks that the block at `handle` and its trailer lie inside a file of `file_len` bytes.
    pub fn new(handle: BlockHandle, file_len: u64, part: Part) -> Result<Self> {
        let end = handle.end_with_trailer().ok_or(Error::corrupt(part, handle.offset, "block handle overflows"))?;
        if end > file_len {
            return Err(Error::corrupt(part, handle.offset, "block extends past the end of the file"));
        }
        Ok(BlockExtent { handle, end })
    }

    /// Offset of the block's first byte.
    pub fn start(&self) -> u64 {
        self.handle.offset
    }

    /// Bytes the block takes in the file, trailer included.
    pub fn stored_len(&self) -> u64 {
        self.end - self.handle.offset
    }

    /// The file bytes to fetch for this block, trailer included.
    pub fn range(&self) -> Range<u64> {
        self.handle.offset..self.end
    }
}

/// Where a decoded block's uncompressed bytes are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockBytes<'f> {
    /// The block was stored uncompressed: its body inside the fetched bytes.
    Fetched(&'f [u8]),
    /// The block was decompressed into the caller's buffer: its first `len` bytes.
    Buffer(usize),
}

/// A fetched block, verified once and uncompressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodedBlock<'f> {
    /// The block's handle.
    pub handle: BlockHandle,
    /// How it was stored.
    pub compression: CompressionType,
    /// Where the uncompressed bytes are.
    pub bytes: BlockBytes<'f>,
}
