//! Zlib blocks: RocksDB writes raw deflate (window bits −14, no zlib header or Adler-32), inflated here with
//! `miniz_oxide`'s allocation-free core.
//!
//! Its `DecompressorOxide` state (about 10 KiB) lives on the stack for the call: boxing it would need an
//! allocator, and the zlib feature must work without one.

use miniz_oxide::inflate::core::inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
use miniz_oxide::inflate::core::{decompress, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use crate::error::{Error, Part, Result};

/// Deflate's largest match distance; the ring buffer for counting must hold that much history.
const WINDOW: usize = miniz_oxide::inflate::core::TINFL_LZ_DICT_SIZE;

/// Inflates raw deflate `payload` into `out`: `Some(length)` when the stream ended, `None` if `out` filled up
/// first. Bytes after the end of the stream are ignored, as zlib's `inflate` does.
pub(super) fn inflate(payload: &[u8], out: &mut [u8]) -> Result<Option<usize>> {
    let mut state = DecompressorOxide::new();
    // No TINFL_FLAG_PARSE_ZLIB_HEADER: raw deflate. No HAS_MORE_INPUT: the payload is all there is.
    let (status, _, produced) = decompress(&mut state, payload, out, 0, TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF);
    match status {
        TINFLStatus::Done => Ok(Some(produced)),
        TINFLStatus::HasMoreOutput => Ok(None),
        status => Err(failure(status)),
    }
}

/// Length `payload` inflates to, counted through a 32 KiB ring buffer on the stack; errors past `limit`.
///
/// Only for the legacy format without a stored length, on the error path; kept out of line so its buffer
/// does not weigh on the stack of ordinary decoding.
#[inline(never)]
pub(super) fn inflated_len(payload: &[u8], limit: usize) -> Result<usize> {
    let mut state = DecompressorOxide::new();
    let mut ring = [0u8; WINDOW];
    let (mut total, mut at, mut read) = (0usize, 0usize, 0usize);
    loop {
        // Flags 0: a wrapping output buffer (power-of-two sized, 32 KiB of history), raw deflate.
        let (status, used, produced) = decompress(&mut state, &payload[read..], &mut ring, at, 0);
        read += used;
        total = total.saturating_add(produced);
        at = (at + produced) & (WINDOW - 1);
        if total > limit {
            return Err(Error::Unsupported {
                part: Part::Compression,
                what: "uncompressed block length above the limit",
                value: total as u64,
            });
        }
        match status {
            TINFLStatus::Done => return Ok(total),
            TINFLStatus::HasMoreOutput if used > 0 || produced > 0 => {}
            TINFLStatus::HasMoreOutput => {
                return Err(Error::corrupt(Part::Compression, read as u64, "deflate stream makes no progress"))
            }
            status => return Err(failure(status)),
        }
    }
}

/// The error for a failed inflate.
fn failure(status: TINFLStatus) -> Error {
    let reason = match status {
        TINFLStatus::NeedsMoreInput | TINFLStatus::FailedCannotMakeProgress => "truncated deflate stream",
        _ => "invalid deflate stream",
    };
    Error::corrupt(Part::Compression, 0, reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stored (uncompressed) deflate block: final bit, type 0, then LEN, NLEN, data.
    fn stored(data: &[u8]) -> ([u8; 64], usize) {
        let mut b = [0u8; 64];
        let len = data.len() as u16;
        b[0] = 1;
        b[1..3].copy_from_slice(&len.to_le_bytes());
        b[3..5].copy_from_slice(&(!len).to_le_bytes());
        b[5..5 + data.len()].copy_from_slice(data);
        (b, 5 + data.len())
    }

    #[test]
    fn stored_block() {
        let (b, n) = stored(b"hello");
        let mut out = [0u8; 5];
        assert_eq!(inflate(&b[..n], &mut out), Ok(Some(5)));
        assert_eq!(&out, b"hello");
        assert_eq!(inflate(&b[..n], &mut out[..4]), Ok(None));
        assert_eq!(inflated_len(&b[..n], 100), Ok(5));
        assert!(inflated_len(&b[..n], 4).is_err());
        assert!(inflate(&b[..n - 1], &mut out).is_err());
        assert!(inflate(&[0xff; 8], &mut out).is_err());
    }
}
