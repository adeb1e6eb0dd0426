//! `BlockHandle`: where a block lives in the file.

use crate::error::{Error, Part, Result};
use crate::varint;

/// Longest encoding of a handle (two varint64).
pub const MAX_HANDLE_LEN: usize = 20;

/// Offset and size of a block; the size excludes the 5-byte trailer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]
pub struct BlockHandle {
    /// Offset of the block's first byte in the file.
    pub offset: u64,
    /// Size of the block body, without its trailer.
    pub size: u64,
}

impl BlockHandle {
    /// A handle.
    pub const fn new(offset: u64, size: u64) -> Self {
        BlockHandle { offset, size }
    }
    /// The (0, 0) handle, meaning "no block".
    pub const NULL: BlockHandle = BlockHandle { offset: 0, size: 0 };

    /// True for the null handle.
    pub fn is_null(&self) -> bool {
        self.offset == 0 && self.size == 0
    }

    /// Offset just past the block's trailer, or `None` on overflow.
    pub fn end_with_trailer(&self) -> Option<u64> {
        self.offset.checked_add(self.size)?.checked_add(crate::trailer::BLOCK_TRAILER_LEN as u64)
    }

    /// Bytes the encoding takes.
    pub fn encoded_len(&self) -> usize {
        varint::varint_len(self.offset) + varint::varint_len(self.size)
    }

    /// Writes the handle at the start of `out`; returns bytes used.
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize> {
        let need = self.encoded_len();
        if out.len() < need {
            return Err(Error::BufferTooSmall { needed: need });
        }
        let a = varint::encode_varint64(self.offset, out)?;
        let b = varint::encode_varint64(self.size, &mut out[a..])?;
        Ok(a + b)
    }

    /// Encodes into a fixed array; returns it and the length used.
    pub fn encode(&self) -> ([u8; MAX_HANDLE_LEN], usize) {
        let mut buf = [0u8; MAX_HANDLE_LEN];
        // Cannot fail: 20 bytes hold any handle.
        let n = self.encode_into(&mut buf).unwrap_or(0);
        (buf, n)
    }

    /// Reads a handle from the start of `input`: `(handle, bytes used)`.
    #[inline]
    pub fn decode(input: &[u8]) -> Result<(BlockHandle, usize)> {
        let (offset, a) = varint::decode_varint64(input).map_err(|e| e.at(Part::Handle, 0))?;
        let rest = input.get(a..).unwrap_or_default();
        let (size, b) = varint::decode_varint64(rest).map_err(|e| e.at(Part::Handle, a as u64))?;
        Ok((BlockHandle { offset, size }, a + b))
    }

    /// Reads a handle that must take exactly all of `input`.
    pub fn decode_exact(input: &[u8]) -> Result<BlockHandle> {
        let (h, n) = Self::decode(input)?;
        if n != input.len() {
            return Err(Error::corrupt(Part::Handle, n as u64, "trailing bytes after block handle"));
        }
        Ok(h)
    }

    /// Checks that the block and its trailer lie inside a file of `file_len` bytes.
    pub fn check_within(&self, file_len: u64, part: Part) -> Result<()> {
        match self.end_with_trailer() {
            Some(end) if end <= file_len => Ok(()),
            _ => Err(Error::corrupt(part, self.offset, "block handle points past the end of the file")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        for h in [BlockHandle::new(0, 0), BlockHandle::new(1234, 4096), BlockHandle::new(u64::MAX, u64::MAX)] {
            let (buf, n) = h.encode();
            assert_eq!(BlockHandle::decode(&buf[..n]).unwrap(), (h, n));
            assert_eq!(BlockHandle::decode_exact(&buf[..n]).unwrap(), h);
        }
        assert_eq!(BlockHandle::new(u64::MAX, u64::MAX).encoded_len(), 20);
    }

    #[test]
    fn rejects_truncated_and_out_of_file() {
        assert!(BlockHandle::decode(&[0x80]).is_err());
        assert!(BlockHandle::decode(&[0x01]).is_err());
        assert!(BlockHandle::decode_exact(&[1, 2, 3]).is_err());
        assert!(BlockHandle::new(10, 10).check_within(24, Part::Index).is_err());
        assert!(BlockHandle::new(10, 10).check_within(25, Part::Index).is_ok());
        assert!(BlockHandle::new(u64::MAX, 10).check_within(u64::MAX, Part::Index).is_err());
    }
}
