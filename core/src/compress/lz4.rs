//! LZ4 block format: decoding through `lz4_flex`, encoding by a small greedy encoder of our own.
//!
//! `lz4_flex::block::compress_into` refuses any output buffer shorter than its worst case (about 110% of the
//! input plus 20 bytes), so it cannot compress into the `raw.len()`-sized buffer our callers give, nor stop early
//! once the 12.5% saving is out of reach. The encoder below writes into a bounded buffer and gives up as soon as
//! it is full. Like `lz4_flex` (which zeroes an 8–16 KiB table on the stack per call) it keeps its hash table on
//! the stack: 16 KiB reserved, of which only the part sized to the input is cleared per call.

use crate::error::{Error, Part, Result};

/// Decodes an LZ4 block into `out`, whose length is the claimed uncompressed length; `dict` (maybe empty) is
/// the history matches may reach back into.
pub(super) fn decompress(payload: &[u8], dict: &[u8], out: &mut [u8]) -> Result<usize> {
    let r = if dict.is_empty() {
        lz4_flex::block::decompress_into(payload, out)
    } else {
        lz4_flex::block::decompress_into_with_dict(payload, out, dict)
    };
    r.map_err(|e| match e {
        lz4_flex::block::DecompressError::OutputTooSmall { .. } => {
            Error::corrupt(Part::Compression, 0, "LZ4 data longer than the claimed length")
        }
        _ => Error::corrupt(Part::Compression, 0, "invalid LZ4 block"),
    })
}

/// Shortest match the format allows.
const MIN_MATCH: usize = 4;
/// The format requires the last 5 bytes to be literals...
const LAST_LITERALS: usize = 5;
/// ...and the last match to start at least 12 bytes before the end.
const MF_LIMIT: usize = 12;
/// Offsets are 16 bits.
const MAX_DISTANCE: usize = u16::MAX as usize;
/// Largest hash table: 4096 `u32` positions (16 KiB), as the reference encoder uses.
const MAX_HASH_LOG: u32 = 12;
/// Smallest hash table we bother with.
const MIN_HASH_LOG: u32 = 6;
/// After 2^6 misses in a row the search stride grows by one (the reference encoder's skip trigger), so
/// incompressible input is scanned quickly.
const SKIP_TRIGGER: u32 = 6;
/// Knuth's multiplicative hash constant, as the reference encoder uses.
const HASH_MUL: u32 = 2_654_435_761;

/// Compresses `src` as one LZ4 block into `dst`; `None` if it does not fit (or `src` exceeds 4 GiB).
pub(super) fn compress(src: &[u8], dst: &mut [u8]) -> Option<usize> {
    let n = src.len();
    // Positions live in u32 table slots.
    u32::try_from(n).ok()?;
    let mut w = Sink { buf: dst, pos: 0 };
    let mut anchor = 0;
    if n > MF_LIMIT {
        // Scale the table to the input: clearing 16 KiB for a 4 KiB block would cost more than the search. Inputs
        // up to 8 KiB (4 KiB blocks) get an 8 KiB array, so only that much is zeroed.
        let hash_log = (usize::BITS - n.leading_zeros()).saturating_sub(2).clamp(MIN_HASH_LOG, MAX_HASH_LOG);
        anchor = if hash_log <= SMALL_HASH_LOG {
            let mut storage = [0u32; 1 << SMALL_HASH_LOG];
            find_matches(src, &mut storage[..1 << hash_log], hash_log, &mut w)?
        } else {
            let mut storage = [0u32; 1 << MAX_HASH_LOG];
            find_matches(src, &mut storage[..1 << hash_log], hash_log, &mut w)?
        };
    }
    w.literals_token(n - anchor, 0)?;
    w.bytes(&src[anchor..])?;
    Some(w.pos)
}

/// Table size (log2 entries) of the smaller stack array.
const SMALL_HASH_LOG: u32 = 11;

/// The match search over `src` (longer than `MF_LIMIT`) with a zeroed `table` of `1 << hash_log` slots: writes
/// every sequence but the last literals to `w` and returns where those literals start.
fn find_matches(src: &[u8], table: &mut [u32], hash_log: u32, w: &mut Sink<'_>) -> Option<usize> {
    let n = src.len();
    let mut anchor = 0;
    let shift = 32 - hash_log;
    let last_match_start = n - MF_LIMIT;
    let match_end_limit = n - LAST_LITERALS;
    let mut pos = 0;
    let mut misses = 1u32 << SKIP_TRIGGER;
    while pos <= last_match_start {
        let seq = read_u32(src, pos);
        let slot = (seq.wrapping_mul(HASH_MUL) >> shift) as usize;
        let cand = table[slot] as usize;
        table[slot] = pos as u32;
        // The table starts zeroed, so `cand` may be a stale or empty slot: verify the bytes.
        if cand >= pos || pos - cand > MAX_DISTANCE || read_u32(src, cand) != seq {
            pos += (misses >> SKIP_TRIGGER) as usize;
            misses += 1;
            continue;
        }
        let (mut start, mut from) = (pos, cand);
        while start > anchor && from > 0 && src[start - 1] == src[from - 1] {
            start -= 1;
            from -= 1;
        }
        let mut end = pos + MIN_MATCH;
        let back = pos - cand;
        // Extend 8 bytes at a time while a whole word fits before the limit, then byte by byte.
        let mut mismatch = false;
        while end + 8 <= match_end_limit {
            let x = read_u64(src, end) ^ read_u64(src, end - back);
            if x != 0 {
                end += (x.trailing_zeros() / 8) as usize;
                mismatch = true;
                break;
            }
            end += 8;
        }
        while !mismatch && end < match_end_limit && src[end] == src[end - back] {
            end += 1;
        }
        w.sequence(&src[anchor..start], back as u16, end - start)?;
        // Remember a position near the match end: repeats tend to follow repeats.
        let p = end - 2;
        table[(read_u32(src, p).wrapping_mul(HASH_MUL) >> shift) as usize] = p as u32;
        pos = end;
        anchor = end;
        misses = 1 << SKIP_TRIGGER;
    }
    Some(anchor)
}

/// Eight bytes at `at`, little-endian (the caller keeps `at + 8 <= src.len()`).
#[inline]
fn read_u64(src: &[u8], at: usize) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&src[at..at + 8]);
    u64::from_le_bytes(b)
}

/// Four bytes at `at` (the caller keeps `at + 4 <= src.len()`).
#[inline]
fn read_u32(src: &[u8], at: usize) -> u32 {
    let b = &src[at..at + 4];
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

/// A bounded output cursor: every write returns `None` once the buffer is full.
struct Sink<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl Sink<'_> {
    #[inline]
    fn byte(&mut self, b: u8) -> Option<()> {
        *self.buf.get_mut(self.pos)? = b;
        self.pos += 1;
        Some(())
    }

    #[inline]
    fn bytes(&mut self, b: &[u8]) -> Option<()> {
        let end = self.pos.checked_add(b.len())?;
        self.buf.get_mut(self.pos..end)?.copy_from_slice(b);
        self.pos = end;
        Some(())
    }

    /// A length beyond the token's 15: runs of 255 then the rest.
    fn extra_len(&mut self, mut v: usize) -> Option<()> {
        while v >= 255 {
            self.byte(255)?;
            v -= 255;
        }
        self.byte(v as u8)
    }

    /// The token (literal length high nibble, match code low nibble) and the literal length's extra bytes.
    fn literals_token(&mut self, lit_len: usize, match_code: usize) -> Option<()> {
        let token = ((lit_len.min(15) as u8) << 4) | match_code.min(15) as u8;
        self.byte(token)?;
        if lit_len >= 15 {
            self.extra_len(lit_len - 15)?;
        }
        Some(())
    }

    /// One sequence: literals, then a match of `match_len` bytes `offset` back.
    fn sequence(&mut self, literals: &[u8], offset: u16, match_len: usize) -> Option<()> {
        let code = match_len - MIN_MATCH;
        self.literals_token(literals.len(), code)?;
        self.bytes(literals)?;
        self.bytes(&offset.to_le_bytes())?;
        if code >= 15 {
            self.extra_len(code - 15)?;
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(src: &[u8]) -> usize {
        let mut dst = [0u8; 4096];
        let n = compress(src, &mut dst).expect("fits");
        let mut back = [0u8; 4096];
        let m = decompress(&dst[..n], &[], &mut back[..src.len()]).expect("valid LZ4");
        assert_eq!(&back[..m], src);
        n
    }

    #[test]
    fn short_and_edge_inputs() {
        assert_eq!(roundtrip(b""), 1);
        roundtrip(b"a");
        roundtrip(b"abcdefghijkl");
        roundtrip(b"abcdefghijklm");
        roundtrip(&[7u8; 13]);
        roundtrip(&[7u8; 14]);
        assert!(roundtrip(&[0u8; 3000]) < 40);
        let mut mixed = [0u8; 2000];
        for (i, b) in mixed.iter_mut().enumerate() {
            *b = (i % 7) as u8 ^ (i / 300) as u8;
        }
        roundtrip(&mixed);
    }

    #[test]
    fn stops_when_full() {
        let src = [5u8; 1000];
        let mut dst = [0u8; 3];
        assert_eq!(compress(&src, &mut dst), None);
        assert_eq!(compress(b"hello", &mut []), None);
    }
}
