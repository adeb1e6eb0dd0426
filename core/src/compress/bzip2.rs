//! BZip2 blocks: one bzip2 stream (after RocksDB's varint32 length from format_version 2 on), decoded with the
//! `bzip2` crate on its pure-Rust `libbz2-rs-sys` backend (a port of libbzip2, no C), which needs `std`.
//!
//! The decoder's own memory is fixed by the format (at most about 3.6 MB for the 900 kB block size), not by
//! anything the stream claims; output goes only into the caller's buffer, so a stream that inflates past the
//! claimed length stops when the buffer is full.

use bzip2::{Decompress, Status};

use crate::error::{Error, Part, Result};

/// Output counted per step when the length is not stored (format_version < 2).
const COUNT_CHUNK: usize = 64 << 10;

/// Decodes the bzip2 stream `payload` into `out`: `Some(length)` when the stream ended, `None` if `out` filled up
/// first. Bytes after the end of the stream are ignored, as RocksDB's `BZip2_Uncompress` does.
pub(super) fn decompress(payload: &[u8], out: &mut [u8]) -> Result<Option<usize>> {
    let mut dec = Decompress::new(false);
    loop {
        let (read, written) = (dec.total_in() as usize, dec.total_out() as usize);
        // total_in/total_out never exceed the slices given, so both ranges are in bounds.
        let status = dec.decompress(&payload[read..], &mut out[written..]).map_err(failure)?;
        let written_now = dec.total_out() as usize;
        match status {
            Status::StreamEnd => return Ok(Some(written_now)),
            _ if written_now == out.len() => return Ok(None),
            _ if dec.total_in() as usize == payload.len() => return Err(corrupt("truncated bzip2 stream")),
            _ if dec.total_in() as usize == read && written_now == written => {
                return Err(corrupt("bzip2 stream makes no progress"))
            }
            _ => {}
        }
    }
}

/// Length `payload` decodes to, counted a chunk at a time; errors past `limit`.
///
/// Only for the legacy format without a stored length, on the error path.
pub(super) fn decompressed_len(payload: &[u8], limit: usize) -> Result<usize> {
    let mut dec = Decompress::new(false);
    let mut chunk = std::vec![0u8; COUNT_CHUNK];
    loop {
        let (read, before) = (dec.total_in() as usize, dec.total_out());
        let status = dec.decompress(&payload[read..], &mut chunk).map_err(failure)?;
        let total = dec.total_out();
        if total > limit as u64 {
            return Err(Error::Unsupported {
                part: Part::Compression,
                what: "uncompressed block length above the limit",
                value: total,
            });
        }
        match status {
            Status::StreamEnd => return Ok(total as usize),
            _ if total == before && dec.total_in() as usize == read => {
                return Err(corrupt("truncated bzip2 stream"));
            }
            _ => {}
        }
    }
}

/// The error for a failed decode.
fn failure(e: bzip2::Error) -> Error {
    corrupt(match e {
        bzip2::Error::DataMagic => "not a bzip2 stream (bad magic)",
        _ => "invalid bzip2 stream",
    })
}

fn corrupt(reason: &'static str) -> Error {
    Error::corrupt(Part::Compression, 0, reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bzip2::{Action, Compress, Compression};

    fn compress(data: &[u8]) -> std::vec::Vec<u8> {
        let mut c = Compress::new(Compression::best(), 30);
        let mut out = std::vec::Vec::with_capacity(data.len() + 1024);
        assert_eq!(c.compress_vec(data, &mut out, Action::Finish).unwrap(), Status::StreamEnd);
        out
    }

    #[test]
    fn roundtrip_and_bounds() {
        let data: std::vec::Vec<u8> = (0..100_000u32).map(|i| (i % 251) as u8 ^ (i / 1000) as u8).collect();
        let z = compress(&data);
        let mut out = std::vec![0u8; data.len()];
        assert_eq!(decompress(&z, &mut out), Ok(Some(data.len())));
        assert_eq!(out, data);
        // One byte short: stops at the buffer's end.
        assert_eq!(decompress(&z, &mut out[..data.len() - 1]), Ok(None));
        assert_eq!(decompressed_len(&z, 1 << 20), Ok(data.len()));
        assert!(matches!(decompressed_len(&z, 1000), Err(Error::Unsupported { .. })));
        // Trailing bytes after the stream are ignored.
        let mut padded = z.clone();
        padded.extend_from_slice(b"junk");
        assert_eq!(decompress(&padded, &mut out), Ok(Some(data.len())));
    }

    #[test]
    fn bad_streams_are_errors() {
        let z = compress(b"hello hello hello");
        let mut out = [0u8; 64];
        for cut in 0..z.len() {
            assert!(decompress(&z[..cut], &mut out).is_err(), "cut {cut}");
            assert!(decompressed_len(&z[..cut], 1000).is_err(), "cut {cut}");
        }
        assert!(decompress(b"BZh9garbage-garbage-garbage", &mut out).is_err());
        assert!(decompress(b"not bzip2", &mut out).is_err());
        // A flipped bit in the body fails the block CRC or the Huffman decode.
        let mut bad = z.clone();
        bad[z.len() / 2] ^= 0x10;
        assert!(decompress(&bad, &mut out).is_err());
    }
}
