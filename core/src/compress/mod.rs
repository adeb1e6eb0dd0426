//! Block compression and decompression.
//!
//! RocksDB frames a compressed block body differently per codec and format_version (`docs/FORMAT.md`):
//!
//! | codec | format_version ≥ 2 | format_version < 2 |
//! |---|---|---|
//! | Snappy | raw Snappy block (its own varint32 length header) | same |
//! | Zlib | varint32 length, raw deflate | raw deflate, length unknown |
//! | LZ4, LZ4HC | varint32 length, LZ4 block | 8-byte little-endian length, LZ4 block |
//! | ZSTD | varint32 length, zstd frame | same |
//! | BZip2 | varint32 length, bzip2 stream | bzip2 stream, length unknown |
//!
//! Decoders write into a caller buffer: ask [`decompressed_len`] how big it must be, then call
//! [`decompress_into`] (or [`decompress_into_with_dict`] for the data blocks of a table with a
//! `rocksdb.compression_dict` block). Nothing here allocates a size read from the input. LZ4, Snappy and Zlib need no
//! allocator; ZSTD does (feature `zstd`), and BZip2 needs `std` (feature `bzip2`). Only LZ4 can be written ([`compress_into`]).

use crate::error::{Error, Part, Result};
use crate::trailer::CompressionType;
use crate::varint;

#[cfg(feature = "bzip2")]
mod bzip2;
#[cfg(feature = "lz4")]
mod lz4;
#[cfg(feature = "snappy")]
mod snappy;
#[cfg(feature = "zlib")]
mod zlib;
#[cfg(feature = "zstd")]
mod zstd;

/// Max size we ever decompress to by default (a bigger claimed size is an error, never an allocation).
pub const DEFAULT_MAX_BLOCK_LEN: usize = 64 << 20;

/// The first format_version whose Zlib/LZ4/BZip2 bodies start with a varint32 length.
const VARINT_PREFIX_FORMAT_VERSION: u32 = 2;
/// Length of the legacy (format_version < 2) LZ4 length prefix.
const LEGACY_LZ4_PREFIX_LEN: usize = 8;

/// A block body split into the length it claims and the codec's own data.
struct Framed<'a> {
    /// Uncompressed length the body claims, if its framing says.
    claimed: Option<usize>,
    /// The codec's data, after any length prefix RocksDB added.
    payload: &'a [u8],
    /// Where `payload` starts in the body (for error offsets).
    payload_at: usize,
}

/// True if this build can decompress blocks of type `kind` (its codec is supported and its feature is on).
pub const fn can_decompress(kind: CompressionType) -> bool {
    match kind {
        CompressionType::None => true,
        CompressionType::Snappy => cfg!(feature = "snappy"),
        CompressionType::Zlib => cfg!(feature = "zlib"),
        CompressionType::Lz4 | CompressionType::Lz4hc => cfg!(feature = "lz4"),
        CompressionType::Zstd | CompressionType::ZstdNotFinal => cfg!(feature = "zstd"),
        CompressionType::Bzip2 => cfg!(feature = "bzip2"),
        CompressionType::Xpress => false,
    }
}

/// The error for a codec this build cannot decode.
fn unsupported(kind: CompressionType) -> Error {
    let what = match kind {
        // Known codecs whose Cargo feature is off.
        CompressionType::Snappy
        | CompressionType::Zlib
        | CompressionType::Lz4
        | CompressionType::Lz4hc
        | CompressionType::Zstd
        | CompressionType::ZstdNotFinal
        | CompressionType::Bzip2 => "compression type (feature disabled)",
        _ => "compression type",
    };
    Error::Unsupported { part: Part::Compression, what, value: u64::from(kind as u8) }
}

/// Reads the varint32 length prefix at the start of `body`.
fn varint_prefix(body: &[u8]) -> Result<(usize, usize)> {
    let (len, n) = varint::decode_varint32(body).map_err(|e| e.at(Part::Compression, 0))?;
    Ok((len as usize, n))
}

/// Splits `body` into its claimed length and payload; errors for codecs this build cannot decode.
fn frame(kind: CompressionType, format_version: u32, body: &[u8]) -> Result<Framed<'_>> {
    if !can_decompress(kind) {
        return Err(unsupported(kind));
    }
    let prefixed = format_version >= VARINT_PREFIX_FORMAT_VERSION;
    let (claimed, payload_at) = match kind {
        CompressionType::None => (Some(body.len()), 0),
        // Snappy's header is part of its own format: read it, but leave it to the decoder.
        CompressionType::Snappy => (Some(varint_prefix(body)?.0), 0),
        CompressionType::Zlib | CompressionType::Bzip2 if !prefixed => (None, 0),
        CompressionType::Lz4 | CompressionType::Lz4hc if !prefixed => {
            // RocksDB copies a size_t in native (little) endian but reads back only its low 32 bits.
            let Some(len) = varint::read_fixed32(body, 0).filter(|_| body.len() >= LEGACY_LZ4_PREFIX_LEN) else {
                return Err(Error::corrupt(Part::Compression, 0, "truncated legacy LZ4 length prefix"));
            };
            (Some(len as usize), LEGACY_LZ4_PREFIX_LEN)
        }
        _ => {
            let (len, n) = varint_prefix(body)?;
            (Some(len), n)
        }
    };
    Ok(Framed { claimed, payload: &body[payload_at..], payload_at })
}

/// Uncompressed length a compressed block body claims.
///
/// The length comes from RocksDB's varint32 prefix, Snappy's own varint header, or for format_version < 2 LZ4
/// the 8-byte little-endian prefix. For format_version < 2 Zlib and BZip2 the length is not stored: `Ok(None)`.
/// For [`CompressionType::None`] it is `body.len()`.
///
/// Errors: [`Error::Unsupported`] if this build cannot decode `kind` (see [`can_decompress`]) or if the claimed
/// length exceeds `max_len` (its `value` is the claimed length; raise `max_len` to accept it); [`Error::Corruption`]
/// for a malformed prefix.
pub fn decompressed_len(
    kind: CompressionType,
    format_version: u32,
    body: &[u8],
    max_len: usize,
) -> Result<Option<usize>> {
    let framed = frame(kind, format_version, body)?;
    match framed.claimed {
        // Raw blocks are already in memory; the limit guards allocations only.
        Some(len) if len > max_len && kind != CompressionType::None => Err(Error::Unsupported {
            part: Part::Compression,
            what: "uncompressed block length above the limit",
            value: len as u64,
        }),
        other => Ok(other),
    }
}

/// Decompresses `body` into `out` and returns the length written.
///
/// [`CompressionType::None`] copies `body`. Errors: [`Error::BufferTooSmall`] (with the claimed length) if `out`
/// is shorter than the block, checked before any work; [`Error::Unsupported`] if this build cannot decode `kind`;
/// [`Error::Corruption`] on bad data, including output longer or shorter than the claimed length.
///
/// Format_version < 2 Zlib and BZip2 do not store their length: when `out` is too short, a second pass counts the
/// length (Zlib with a 32 KiB window on the stack, BZip2 a 64 KiB chunk at a time) for the `needed` of the error,
/// up to [`DEFAULT_MAX_BLOCK_LEN`].
pub fn decompress_into(kind: CompressionType, format_version: u32, body: &[u8], out: &mut [u8]) -> Result<usize> {
    decompress_into_with_dict(kind, format_version, body, &[], out)
}

/// [`decompress_into`] with a compression dictionary: the contents of the table's `rocksdb.compression_dict`
/// meta block, which RocksDB uses for the data blocks of ZSTD and LZ4/LZ4HC tables. An empty `dict` means none.
///
/// For ZSTD, a dictionary starting with the zstd dictionary magic (`37 A4 30 EC`) is a trained dictionary
/// (entropy tables, repeat offsets and content); any other is raw content the frame may refer back into. For
/// LZ4 the dictionary is history before the block. Other codecs ignore it (RocksDB uses none for them).
///
/// Errors: as [`decompress_into`]; a malformed trained ZSTD dictionary is [`Error::Corruption`].
pub fn decompress_into_with_dict(
    kind: CompressionType,
    format_version: u32,
    body: &[u8],
    dict: &[u8],
    out: &mut [u8],
) -> Result<usize> {
    let framed = frame(kind, format_version, body)?;
    let Some(claimed) = framed.claimed else {
        return decompress_unsized(kind, framed, out);
    };
    let Some(dst) = out.get_mut(..claimed) else {
        return Err(Error::BufferTooSmall { needed: claimed });
    };
    let produced =
        decode(kind, framed.payload, dict, dst).map_err(|e| e.at(Part::Compression, framed.payload_at as u64))?;
    if produced != claimed {
        return Err(Error::corrupt(Part::Compression, 0, "uncompressed length differs from the claimed length"));
    }
    Ok(produced)
}

/// Runs the codec on a payload whose claimed length is exactly `out.len()`; returns the length produced.
#[allow(unused_variables)]
fn decode(kind: CompressionType, payload: &[u8], dict: &[u8], out: &mut [u8]) -> Result<usize> {
    match kind {
        CompressionType::None => {
            out.copy_from_slice(payload);
            Ok(payload.len())
        }
        #[cfg(feature = "snappy")]
        CompressionType::Snappy => snappy::decompress(payload, out),
        #[cfg(feature = "zlib")]
        CompressionType::Zlib => match zlib::inflate(payload, out)? {
            Some(n) => Ok(n),
            None => Err(Error::corrupt(Part::Compression, 0, "deflate data longer than the claimed length")),
        },
        #[cfg(feature = "lz4")]
        CompressionType::Lz4 | CompressionType::Lz4hc => lz4::decompress(payload, dict, out),
        #[cfg(feature = "zstd")]
        CompressionType::Zstd | CompressionType::ZstdNotFinal => zstd::decompress(payload, dict, out),
        #[cfg(feature = "bzip2")]
        CompressionType::Bzip2 => match bzip2::decompress(payload, out)? {
            Some(n) => Ok(n),
            None => Err(Error::corrupt(Part::Compression, 0, "bzip2 data longer than the claimed length")),
        },
        // `frame` already rejected what this build cannot decode.
        _ => Err(unsupported(kind)),
    }
}

/// Decodes a body that does not store its uncompressed length (format_version < 2 Zlib and BZip2).
#[allow(unused_variables)]
fn decompress_unsized(kind: CompressionType, framed: Framed<'_>, out: &mut [u8]) -> Result<usize> {
    #[cfg(feature = "zlib")]
    if kind == CompressionType::Zlib {
        let at = framed.payload_at as u64;
        return match zlib::inflate(framed.payload, out).map_err(|e| e.at(Part::Compression, at))? {
            Some(n) => Ok(n),
            None => {
                let needed = zlib::inflated_len(framed.payload, DEFAULT_MAX_BLOCK_LEN)
                    .map_err(|e| e.at(Part::Compression, at))?;
                Err(Error::BufferTooSmall { needed })
            }
        };
    }
    #[cfg(feature = "bzip2")]
    if kind == CompressionType::Bzip2 {
        let at = framed.payload_at as u64;
        return match bzip2::decompress(framed.payload, out).map_err(|e| e.at(Part::Compression, at))? {
            Some(n) => Ok(n),
            None => {
                let needed = bzip2::decompressed_len(framed.payload, DEFAULT_MAX_BLOCK_LEN)
                    .map_err(|e| e.at(Part::Compression, at))?;
                Err(Error::BufferTooSmall { needed })
            }
        };
    }
    // Only legacy Zlib and BZip2 lack a length; `frame` gives every other codec one.
    Err(unsupported(kind))
}

/// Decompresses `body` into a new `Vec`, refusing (like [`decompressed_len`]) blocks longer than `max_len`.
#[cfg(feature = "alloc")]
pub fn decompress_to_vec(
    kind: CompressionType,
    format_version: u32,
    body: &[u8],
    max_len: usize,
) -> Result<alloc::vec::Vec<u8>> {
    let too_big = |len: usize| Error::Unsupported {
        part: Part::Compression,
        what: "uncompressed block length above the limit",
        value: len as u64,
    };
    // Legacy Zlib and BZip2 do not say; start from a guess and learn the exact length from BufferTooSmall.
    let mut len = match decompressed_len(kind, format_version, body, max_len)? {
        Some(len) => len,
        None => body.len().saturating_mul(4).min(max_len),
    };
    loop {
        let mut out = alloc::vec![0u8; len];
        match decompress_into(kind, format_version, body, &mut out) {
            Ok(n) => {
                out.truncate(n);
                return Ok(out);
            }
            Err(Error::BufferTooSmall { needed }) if needed > len => {
                if needed > max_len {
                    return Err(too_big(needed));
                }
                len = needed;
            }
            Err(e) => return Err(e),
        }
    }
}

/// Compresses a raw block for writing: a length prefix and an LZ4 block into `out`; returns the length written.
///
/// The prefix is a varint32 (format_version ≥ 2) or 8 little-endian bytes (older). LZ4HC is accepted and gets
/// the same fast LZ4 encoding, which is valid LZ4HC data. Returns `Ok(None)` — store the block uncompressed —
/// when compression would not save at least 12.5% (RocksDB's rule: keep it only if
/// `compressed < raw - raw / 8`, prefix included), when the result would not fit in `out`, or for
/// [`CompressionType::None`]. `out` only needs `raw.len()` bytes.
///
/// Errors: [`Error::Unsupported`] for any other codec, or LZ4 with feature `lz4` off.
#[allow(unused_variables)]
pub fn compress_into(kind: CompressionType, format_version: u32, raw: &[u8], out: &mut [u8]) -> Result<Option<usize>> {
    match kind {
        CompressionType::None => Ok(None),
        #[cfg(feature = "lz4")]
        CompressionType::Lz4 | CompressionType::Lz4hc => Ok(compress_lz4(format_version, raw, out)),
        _ => Err(Error::Unsupported {
            part: Part::Compression,
            what: "compression type for writing",
            value: u64::from(kind as u8),
        }),
    }
}

/// LZ4 with RocksDB's framing, within the 12.5% budget; `None` if it does not pay off or fit.
#[cfg(feature = "lz4")]
fn compress_lz4(format_version: u32, raw: &[u8], out: &mut [u8]) -> Option<usize> {
    // RocksDB keeps a block compressed only if compressed < raw - raw/8.
    let budget = (raw.len() - raw.len() / 8).checked_sub(1)?.min(out.len());
    let out = &mut out[..budget];
    let raw_len = u32::try_from(raw.len()).ok()?;
    let prefix = if format_version >= VARINT_PREFIX_FORMAT_VERSION {
        varint::encode_varint32(raw_len, out).ok()?
    } else {
        let p = out.get_mut(..LEGACY_LZ4_PREFIX_LEN)?;
        p.copy_from_slice(&u64::from(raw_len).to_le_bytes());
        LEGACY_LZ4_PREFIX_LEN
    };
    let n = lz4::compress(raw, &mut out[prefix..])?;
    Some(prefix + n)
}
