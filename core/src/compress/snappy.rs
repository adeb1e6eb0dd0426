//! A Snappy raw-block decoder (no allocator, no unsafe).
//!
//! Format: a varint32 uncompressed length, then elements. Each starts with a tag byte whose low two bits say
//! what follows: 0 a literal (length − 1 in the upper six bits, or in the next 1–4 bytes when those bits are
//! 60–63), 1 a copy of 4–11 bytes with an 11-bit offset, 2 a copy of 1–64 bytes with a 16-bit offset,
//! 3 the same with a 32-bit offset. Copies may overlap their output (offset < length repeats a pattern).

use crate::error::{Error, Part, Result};
use crate::varint;

/// Literal lengths of 60 and up in the tag mean "length − 1 is in the next (tag − 59) bytes".
const LITERAL_LEN_IN_BYTES: usize = 60;

/// Decodes a whole Snappy block (header included) into `out`, whose length is the header's claimed length.
/// Returns the length produced, which is only ever `out.len()`; anything else is an error.
pub(super) fn decompress(input: &[u8], out: &mut [u8]) -> Result<usize> {
    let (_, mut ip) = varint::decode_varint32(input).map_err(|e| e.at(Part::Compression, 0))?;
    let mut op: usize = 0;
    while let Some(&tag) = input.get(ip) {
        let tag_at = ip;
        ip += 1;
        let (len, offset) = match tag & 3 {
            0 => {
                let mut len = usize::from(tag >> 2);
                if len >= LITERAL_LEN_IN_BYTES {
                    let extra = len - LITERAL_LEN_IN_BYTES + 1;
                    let Some(b) = input.get(ip..ip + extra) else {
                        return Err(corrupt(tag_at, "truncated literal length"));
                    };
                    len = le_uint(b);
                    ip += extra;
                }
                // len - 1 was stored; on 32-bit targets that +1 can overflow.
                let Some(len) = len.checked_add(1) else {
                    return Err(corrupt(tag_at, "literal length overflows"));
                };
                let Some(src) = ip.checked_add(len).and_then(|end| input.get(ip..end)) else {
                    return Err(corrupt(tag_at, "literal runs past the end of the input"));
                };
                let Some(dst) = op.checked_add(len).and_then(|end| out.get_mut(op..end)) else {
                    return Err(corrupt(tag_at, "literal runs past the claimed length"));
                };
                dst.copy_from_slice(src);
                ip += len;
                op += len;
                continue;
            }
            1 => {
                let Some(&lo) = input.get(ip) else {
                    return Err(corrupt(tag_at, "truncated copy offset"));
                };
                ip += 1;
                let len = 4 + usize::from((tag >> 2) & 7);
                (len, (usize::from(tag >> 5) << 8) | usize::from(lo))
            }
            kind => {
                let width = if kind == 2 { 2 } else { 4 };
                let Some(b) = input.get(ip..ip + width) else {
                    return Err(corrupt(tag_at, "truncated copy offset"));
                };
                ip += width;
                (1 + usize::from(tag >> 2), le_uint(b))
            }
        };
        copy_back(out, op, offset, len).map_err(|reason| corrupt(tag_at, reason))?;
        op += len;
    }
    if op != out.len() {
        return Err(corrupt(input.len(), "data shorter than the claimed length"));
    }
    Ok(op)
}

/// Copies `len` bytes from `offset` back to `out[op..]`, byte by byte where source and destination overlap.
fn copy_back(out: &mut [u8], op: usize, offset: usize, len: usize) -> Result<(), &'static str> {
    if offset == 0 {
        return Err("copy with offset 0");
    }
    let Some(from) = op.checked_sub(offset) else {
        return Err("copy from before the start of the output");
    };
    let Some(end) = op.checked_add(len).filter(|&e| e <= out.len()) else {
        return Err("copy runs past the claimed length");
    };
    if offset >= len {
        out.copy_within(from..from + len, op);
    } else {
        // Overlap: each byte may be one this copy just wrote (a repeated pattern).
        for i in op..end {
            out[i] = out[i - offset];
        }
    }
    Ok(())
}

/// A little-endian integer of 1 to 4 bytes (Snappy's offsets and long literal lengths).
fn le_uint(b: &[u8]) -> usize {
    let mut a = [0u8; 4];
    a[..b.len()].copy_from_slice(b);
    u32::from_le_bytes(a) as usize
}

fn corrupt(at: usize, reason: &'static str) -> Error {
    Error::corrupt(Part::Compression, at as u64, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_made_blocks() {
        // "abcabcabca": literal "abc", then copy len 7 offset 3 (1-byte-offset form).
        let block = [10, 2 << 2, b'a', b'b', b'c', 1 | ((7 - 4) << 2), 3];
        let mut out = [0u8; 10];
        assert_eq!(decompress(&block, &mut out), Ok(10));
        assert_eq!(&out, b"abcabcabca");
        // Same with a 2-byte offset copy.
        let block = [10, 2 << 2, b'a', b'b', b'c', 2 | ((7 - 1) << 2), 3, 0];
        assert_eq!(decompress(&block, &mut out), Ok(10));
        assert_eq!(&out, b"abcabcabca");
        // Literal length in one extra byte (tag 60): 61 bytes.
        let mut block = [0u8; 3 + 61];
        block[0] = 61;
        block[1] = 60 << 2;
        block[2] = 60;
        let mut out = [0u8; 61];
        assert_eq!(decompress(&block, &mut out), Ok(61));
    }

    #[test]
    fn hostile_blocks() {
        let mut out = [0u8; 10];
        // Offset 0.
        assert!(decompress(&[4, 0, b'a', 1, 0], &mut out[..4]).is_err());
        // Offset beyond the output so far.
        assert!(decompress(&[5, 0, b'a', 1, 2], &mut out[..5]).is_err());
        // Copy past the claimed length.
        assert!(decompress(&[2, 0, b'a', 1 | (7 << 2), 1], &mut out[..2]).is_err());
        // Literal past the input.
        assert!(decompress(&[3, 2 << 2, b'a'], &mut out[..3]).is_err());
        // Short output.
        assert!(decompress(&[3, 0, b'a'], &mut out[..3]).is_err());
        // 4-byte literal length of u32::MAX.
        assert!(decompress(&[3, 63 << 2, 0xff, 0xff, 0xff, 0xff], &mut out[..3]).is_err());
        // Truncated offsets.
        assert!(decompress(&[3, 0, b'a', 3 << 2 | 3, 1, 0], &mut out[..3]).is_err());
        assert!(decompress(&[3, 0, b'a', 1], &mut out[..3]).is_err());
    }
}
