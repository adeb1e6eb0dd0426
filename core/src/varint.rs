//! Varints (LEB128-style, little-endian base 128), fixed-width integers and zigzag.

use crate::error::{Error, Part, Result};

/// Longest varint32 encoding.
pub const MAX_VARINT32_LEN: usize = 5;
/// Longest varint64 encoding.
pub const MAX_VARINT64_LEN: usize = 10;

/// Number of bytes `v` takes as a varint.
#[inline]
pub const fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least 1.
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes `v` as a varint at the start of `out` and returns the bytes used.
///
/// Errors with [`Error::BufferTooSmall`] (needing `varint_len(v)`) when `out` is shorter.
#[inline]
pub fn encode_varint64(v: u64, out: &mut [u8]) -> Result<usize> {
    // Fast path: one byte (lengths of short keys and values).
    if v < 0x80 {
        let Some(b) = out.first_mut() else {
            return Err(Error::BufferTooSmall { needed: 1 });
        };
        *b = v as u8;
        return Ok(1);
    }
    let n = varint_len(v);
    let Some(dst) = out.get_mut(..n) else {
        return Err(Error::BufferTooSmall { needed: n });
    };
    let mut v = v;
    for b in dst.iter_mut() {
        *b = (v as u8) | 0x80;
        v >>= 7;
    }
    dst[n - 1] &= 0x7f;
    Ok(n)
}

/// Writes a 32-bit varint; see [`encode_varint64`].
#[inline]
pub fn encode_varint32(v: u32, out: &mut [u8]) -> Result<usize> {
    encode_varint64(u64::from(v), out)
}

/// Reads a varint64 from the start of `input`: `(value, bytes used)`.
///
/// Rejects truncated input, encodings longer than 10 bytes and values over 64 bits.
#[inline]
pub fn decode_varint64(input: &[u8]) -> Result<(u64, usize)> {
    // Fast paths: one and two bytes (lengths, sizes of small blocks).
    match input {
        [b, ..] if *b < 0x80 => return Ok((u64::from(*b), 1)),
        [b0, b1, ..] if *b1 < 0x80 => return Ok((u64::from(b0 & 0x7f) | (u64::from(*b1) << 7), 2)),
        _ => {}
    }
    let mut v: u64 = 0;
    for (i, &b) in input.iter().take(MAX_VARINT64_LEN).enumerate() {
        let low = u64::from(b & 0x7f);
        if i == MAX_VARINT64_LEN - 1 && b > 1 {
            return Err(Error::corrupt(Part::Varint, i as u64, "varint64 overflows 64 bits"));
        }
        v |= low << (7 * i);
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    if input.len() >= MAX_VARINT64_LEN {
        Err(Error::corrupt(Part::Varint, 0, "varint64 longer than 10 bytes"))
    } else {
        Err(Error::corrupt(Part::Varint, input.len() as u64, "truncated varint"))
    }
}

/// Reads a varint32 from the start of `input`: `(value, bytes used)`.
#[inline]
pub fn decode_varint32(input: &[u8]) -> Result<(u32, usize)> {
    // Fast path: one byte.
    if let Some(&b) = input.first() {
        if b < 0x80 {
            return Ok((u32::from(b), 1));
        }
    }
    let mut v: u32 = 0;
    for (i, &b) in input.iter().take(MAX_VARINT32_LEN).enumerate() {
        let low = u32::from(b & 0x7f);
        if i == MAX_VARINT32_LEN - 1 && b > 0x0f {
            return Err(Error::corrupt(Part::Varint, i as u64, "varint32 overflows 32 bits"));
        }
        v |= low << (7 * i);
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    if input.len() >= MAX_VARINT32_LEN {
        Err(Error::corrupt(Part::Varint, 0, "varint32 longer than 5 bytes"))
    } else {
        Err(Error::corrupt(Part::Varint, input.len() as u64, "truncated varint"))
    }
}

/// Zigzag-maps a signed value so small magnitudes encode short.
#[inline]
pub const fn zigzag_encode(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Inverse of [`zigzag_encode`].
#[inline]
pub const fn zigzag_decode(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

/// Reads a little-endian u32 at `at`, or `None` if it does not fit.
#[inline]
pub fn read_fixed32(input: &[u8], at: usize) -> Option<u32> {
    let b = input.get(at..at.checked_add(4)?)?;
    Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
}

/// Reads a little-endian u64 at `at`, or `None` if it does not fit.
#[inline]
pub fn read_fixed64(input: &[u8], at: usize) -> Option<u64> {
    let b = input.get(at..at.checked_add(8)?)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Some(u64::from_le_bytes(a))
}

/// A cursor that reads varints and byte runs from a slice, with offsets for error messages.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    /// Starts at the beginning of `buf`.
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }
    /// Current offset.
    pub fn position(&self) -> usize {
        self.pos
    }
    /// Bytes not yet read.
    pub fn remaining(&self) -> &'a [u8] {
        &self.buf[self.pos..]
    }
    /// True when everything was read.
    pub fn is_empty(&self) -> bool {
        self.pos >= self.buf.len()
    }
    /// Reads a varint32.
    pub fn varint32(&mut self) -> Result<u32> {
        let (v, n) = decode_varint32(self.remaining()).map_err(|e| e.at(Part::Varint, self.pos as u64))?;
        self.pos += n;
        Ok(v)
    }
    /// Reads a varint64.
    pub fn varint64(&mut self) -> Result<u64> {
        let (v, n) = decode_varint64(self.remaining()).map_err(|e| e.at(Part::Varint, self.pos as u64))?;
        self.pos += n;
        Ok(v)
    }
    /// Takes the next `n` bytes.
    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        let end = self.pos.checked_add(n).filter(|&e| e <= self.buf.len());
        let Some(end) = end else {
            return Err(Error::corrupt(Part::Block, self.pos as u64, "length runs past the end"));
        };
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    /// Takes a varint32 length followed by that many bytes.
    pub fn length_prefixed(&mut self) -> Result<&'a [u8]> {
        let n = self.varint32()? as usize;
        self.bytes(n)
    }
}

/// Appends varints and bytes to a caller buffer, tracking the length; fails with `BufferTooSmall`.
#[derive(Debug)]
pub struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    /// Writes into `buf` from its start.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }
    /// Bytes written so far.
    pub fn len(&self) -> usize {
        self.pos
    }
    /// True if nothing was written.
    pub fn is_empty(&self) -> bool {
        self.pos == 0
    }
    /// Appends a varint.
    pub fn varint64(&mut self, v: u64) -> Result<()> {
        let n = encode_varint64(v, &mut self.buf[self.pos..])
            .map_err(|_| Error::BufferTooSmall { needed: self.pos + varint_len(v) })?;
        self.pos += n;
        Ok(())
    }
    /// Appends a varint32.
    pub fn varint32(&mut self, v: u32) -> Result<()> {
        self.varint64(u64::from(v))
    }
    /// Appends raw bytes.
    pub fn bytes(&mut self, b: &[u8]) -> Result<()> {
        let end = self.pos + b.len();
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            return Err(Error::BufferTooSmall { needed: end });
        };
        dst.copy_from_slice(b);
        self.pos = end;
        Ok(())
    }
    /// Appends a little-endian u32.
    pub fn fixed32(&mut self, v: u32) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    /// Appends a little-endian u64.
    pub fn fixed64(&mut self, v: u64) -> Result<()> {
        self.bytes(&v.to_le_bytes())
    }
    /// The written part of the buffer.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.pos]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_roundtrip_edges() {
        let mut buf = [0u8; 10];
        for v in [0u64, 1, 127, 128, 300, 16383, 16384, u32::MAX as u64, u64::MAX - 1, u64::MAX] {
            let n = encode_varint64(v, &mut buf).unwrap();
            assert_eq!(n, varint_len(v));
            assert_eq!(decode_varint64(&buf[..n]).unwrap(), (v, n));
            if v <= u32::MAX as u64 {
                assert_eq!(decode_varint32(&buf[..n]).unwrap(), (v as u32, n));
            }
        }
        assert_eq!(varint_len(u64::MAX), 10);
    }

    #[test]
    fn varint_rejects_bad_input() {
        assert!(decode_varint64(&[]).is_err());
        assert!(decode_varint64(&[0x80, 0x80]).is_err());
        assert!(decode_varint64(&[0xff; 11]).is_err());
        assert!(decode_varint64(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]).is_err());
        assert!(decode_varint32(&[0xff, 0xff, 0xff, 0xff, 0x10]).is_err());
        assert_eq!(decode_varint32(&[0xff, 0xff, 0xff, 0xff, 0x0f]).unwrap(), (u32::MAX, 5));
        assert!(decode_varint32(&[0x80; 6]).is_err());
    }

    #[test]
    fn varint_too_small_buffer() {
        let mut buf = [0u8; 1];
        assert_eq!(encode_varint64(300, &mut buf), Err(Error::BufferTooSmall { needed: 2 }));
    }

    #[test]
    fn zigzag() {
        for v in [0i64, -1, 1, -2, i64::MAX, i64::MIN, 12345, -12345] {
            assert_eq!(zigzag_decode(zigzag_encode(v)), v);
        }
        assert_eq!(zigzag_encode(-1), 1);
        assert_eq!(zigzag_encode(1), 2);
    }
}
