//! Internal keys: user key followed by an 8-byte trailer `(seqno << 8) | type`.

use core::cmp::Ordering;

use crate::error::{Error, Part, Result};
use crate::varint::read_fixed64;

/// Bytes of the trailer after the user key.
pub const INTERNAL_KEY_TRAILER_LEN: usize = 8;
/// Largest sequence number (56 bits).
pub const MAX_SEQNO: u64 = (1 << 56) - 1;

/// What an entry is. The byte values are RocksDB's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum ValueType {
    /// A tombstone for one key.
    Deletion = 0x0,
    /// A value.
    Value = 0x1,
    /// A merge operand.
    Merge = 0x2,
    /// A single-delete tombstone.
    SingleDeletion = 0x7,
    /// A range tombstone (only in the range-deletion block).
    RangeDeletion = 0xF,
    /// A reference into a blob file.
    BlobIndex = 0x11,
    /// A deletion carrying a timestamp.
    DeletionWithTimestamp = 0x14,
    /// A wide-column entity.
    WideColumnEntity = 0x16,
    /// A value with a preferred seqno (RocksDB ≥ 9.1 `TimedPut`): the stored value is the user value followed by
    /// a fixed64 preferred seqno.
    ValuePreferredSeqno = 0x18,
}

impl ValueType {
    /// The type's name as the CLI and the inspector show it (`put`, `delete`, `merge`, `single_delete`,
    /// `range_delete`, `blob_index`, `delete_with_timestamp`, `wide_column_entity`, `value_preferred_seqno`).
    pub fn name(self) -> &'static str {
        match self {
            ValueType::Value => "put",
            ValueType::Deletion => "delete",
            ValueType::Merge => "merge",
            ValueType::SingleDeletion => "single_delete",
            ValueType::RangeDeletion => "range_delete",
            ValueType::BlobIndex => "blob_index",
            ValueType::DeletionWithTimestamp => "delete_with_timestamp",
            ValueType::WideColumnEntity => "wide_column_entity",
            ValueType::ValuePreferredSeqno => "value_preferred_seqno",
        }
    }

    /// Parses a type byte.
    pub fn from_u8(v: u8) -> Option<Self> {
        Some(match v {
            0x0 => ValueType::Deletion,
            0x1 => ValueType::Value,
            0x2 => ValueType::Merge,
            0x7 => ValueType::SingleDeletion,
            0xF => ValueType::RangeDeletion,
            0x11 => ValueType::BlobIndex,
            0x14 => ValueType::DeletionWithTimestamp,
            0x16 => ValueType::WideColumnEntity,
            0x18 => ValueType::ValuePreferredSeqno,
            _ => return None,
        })
    }

    /// Parses the type byte of a table entry. Codes RocksDB uses only in its write-ahead log (0x03–0x06,
    /// 0x08–0x0E, 0x10, 0x12, 0x13, 0x15, 0x17, 0x19) are corruption in a table; codes above 0x19 are
    /// unknown to us, maybe a newer RocksDB's type: [`Error::Unsupported`]. Errors name `Part::Block` at 0;
    /// callers place them with [`Error::at`].
    pub fn parse(v: u8) -> Result<Self> {
        match Self::from_u8(v) {
            Some(t) => Ok(t),
            None if v <= 0x19 => Err(Error::corrupt(Part::Block, 0, "value type not valid in a table")),
            None => Err(Error::Unsupported { part: Part::Block, what: "value type", value: u64::from(v) }),
        }
    }
    /// True for the types that delete (point or range).
    pub fn is_deletion(self) -> bool {
        matches!(
            self,
            ValueType::Deletion
                | ValueType::SingleDeletion
                | ValueType::RangeDeletion
                | ValueType::DeletionWithTimestamp
        )
    }
}

/// Packs a seqno and type into the trailer value.
#[inline]
pub const fn pack_trailer(seqno: u64, kind: ValueType) -> u64 {
    (seqno << 8) | kind as u64
}

/// An internal key, borrowed and split into its parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct InternalKey<'a> {
    /// The user's key.
    pub user_key: &'a [u8],
    /// Sequence number (56 bits).
    pub seqno: u64,
    /// The entry type.
    pub kind: ValueType,
}

impl<'a> InternalKey<'a> {
    /// An internal key.
    pub const fn new(user_key: &'a [u8], seqno: u64, kind: ValueType) -> Self {
        InternalKey { user_key, seqno, kind }
    }

    /// Splits encoded bytes into user key, seqno and type.
    pub fn decode(encoded: &'a [u8]) -> Result<Self> {
        let (user_key, trailer) = split_internal_key(encoded)?;
        let kind = ValueType::parse(trailer as u8)?;
        Ok(InternalKey { user_key, seqno: trailer >> 8, kind })
    }

    /// The packed trailer.
    pub fn trailer(&self) -> u64 {
        pack_trailer(self.seqno, self.kind)
    }

    /// Encoded length.
    pub fn encoded_len(&self) -> usize {
        self.user_key.len() + INTERNAL_KEY_TRAILER_LEN
    }

    /// Writes the encoding into `out`; returns bytes used.
    #[inline]
    pub fn encode_into(&self, out: &mut [u8]) -> Result<usize> {
        let n = self.encoded_len();
        let Some(dst) = out.get_mut(..n) else {
            return Err(Error::BufferTooSmall { needed: n });
        };
        let (u, t) = dst.split_at_mut(self.user_key.len());
        u.copy_from_slice(self.user_key);
        t.copy_from_slice(&self.trailer().to_le_bytes());
        Ok(n)
    }
}

/// Splits an encoded internal key into user key and packed trailer, without judging the type byte.
#[inline]
pub fn split_internal_key(encoded: &[u8]) -> Result<(&[u8], u64)> {
    let Some(ulen) = encoded.len().checked_sub(INTERNAL_KEY_TRAILER_LEN) else {
        return Err(Error::corrupt(Part::Block, 0, "internal key shorter than 8 bytes"));
    };
    let trailer = read_fixed64(encoded, ulen).unwrap_or(0);
    Ok((&encoded[..ulen], trailer))
}

/// Bytes of the user-defined timestamp at the end of a user key (comparator `leveldb.BytewiseComparator.u64ts`).
pub const TIMESTAMP_LEN: usize = 8;

/// Splits a user key that carries a user-defined timestamp into the key and the timestamp (a little-endian u64
/// in its last 8 bytes); `None` if it is shorter than 8 bytes.
#[inline]
pub fn split_timestamp(user_key: &[u8]) -> Option<(&[u8], u64)> {
    let at = user_key.len().checked_sub(TIMESTAMP_LEN)?;
    Some((&user_key[..at], read_fixed64(user_key, at)?))
}

/// `a.cmp(b)` for byte strings, 8 bytes at a time: keys are short, and a call to `memcmp` costs more than the
/// comparison itself.
#[inline(always)]
pub(crate) fn compare_bytes(a: &[u8], b: &[u8]) -> Ordering {
    let n = a.len().min(b.len());
    let (a8, b8) = (&a[..n], &b[..n]);
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_be_bytes(word(&a8[i..]));
        let y = u64::from_be_bytes(word(&b8[i..]));
        if x != y {
            return x.cmp(&y);
        }
        i += 8;
    }
    while i < n {
        if a8[i] != b8[i] {
            return a8[i].cmp(&b8[i]);
        }
        i += 1;
    }
    a.len().cmp(&b.len())
}

/// The first 8 bytes of `s` (callers guarantee there are 8).
#[inline(always)]
fn word(s: &[u8]) -> [u8; 8] {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[..8]);
    w
}

/// Orders two encoded internal keys: user key ascending (bytewise), then trailer descending.
///
/// Keys too short to hold a trailer compare as plain bytes (they only come from corrupt input).
#[inline]
pub fn compare_internal(a: &[u8], b: &[u8]) -> Ordering {
    match (split_internal_key(a), split_internal_key(b)) {
        (Ok((ua, ta)), Ok((ub, tb))) => compare_bytes(ua, ub).then(tb.cmp(&ta)),
        _ => a.cmp(b),
    }
}

/// Shortest `s` with `start <= s < limit` (bytewise), written into `out` (≥ `start.len()` bytes); returns its
/// length. LevelDB's rule (increment the first differing byte when that stays below `limit`); RocksDB 7.8 can
/// shorten further, and any separator in range is valid. Returns `start` itself when no shorter one exists.
pub fn shortest_separator(start: &[u8], limit: &[u8], out: &mut [u8]) -> usize {
    let min = start.len().min(limit.len());
    let diff = start.iter().zip(limit.iter()).take_while(|(a, b)| a == b).count();
    out[..start.len()].copy_from_slice(start);
    if diff < min {
        let b = start[diff];
        if b < 0xff && b + 1 < limit[diff] {
            out[diff] = b + 1;
            return diff + 1;
        }
    }
    start.len()
}

/// Shortest `s >= start` (bytewise), written into `out`; returns its length (RocksDB's `FindShortSuccessor`).
pub fn short_successor(start: &[u8], out: &mut [u8]) -> usize {
    for (i, &b) in start.iter().enumerate() {
        if b != 0xff {
            out[..i].copy_from_slice(&start[..i]);
            out[i] = b + 1;
            return i + 1;
        }
    }
    out[..start.len()].copy_from_slice(start);
    start.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ik(u: &[u8], seq: u64, t: ValueType) -> ([u8; 64], usize) {
        let mut b = [0u8; 64];
        let n = InternalKey::new(u, seq, t).encode_into(&mut b).unwrap();
        (b, n)
    }

    #[test]
    fn encode_decode() {
        let (b, n) = ik(b"abc", 42, ValueType::Merge);
        assert_eq!(&b[..3], b"abc");
        assert_eq!(u64::from_le_bytes(b[3..11].try_into().unwrap()), (42 << 8) | 2);
        let k = InternalKey::decode(&b[..n]).unwrap();
        assert_eq!(k, InternalKey::new(b"abc", 42, ValueType::Merge));
        assert!(InternalKey::decode(b"short").is_err());
    }

    #[test]
    fn ordering() {
        let (a, an) = ik(b"a", 5, ValueType::Value);
        let (a2, a2n) = ik(b"a", 4, ValueType::Value);
        let (b, bn) = ik(b"b", 9, ValueType::Value);
        assert_eq!(compare_internal(&a[..an], &a2[..a2n]), Ordering::Less, "newer seqno first");
        assert_eq!(compare_internal(&a2[..a2n], &b[..bn]), Ordering::Less);
        let (p, pn) = ik(b"k", 0, ValueType::Value);
        let (d, dn) = ik(b"k", 0, ValueType::Deletion);
        assert_eq!(compare_internal(&p[..pn], &d[..dn]), Ordering::Less, "higher type first at equal seqno");
    }

    #[test]
    fn separators() {
        let mut out = [0u8; 16];
        let n = shortest_separator(b"abcdef", b"abzz", &mut out);
        assert_eq!(&out[..n], b"abd");
        let n = shortest_separator(b"abc", b"abd", &mut out);
        assert_eq!(&out[..n], b"abc");
        let n = shortest_separator(b"ab", b"abc", &mut out);
        assert_eq!(&out[..n], b"ab");
        let n = shortest_separator(b"a\xff\x01", b"b", &mut out);
        assert_eq!(&out[..n], b"a\xff\x01");
        let n = short_successor(b"\xff\xffa", &mut out);
        assert_eq!(&out[..n], b"\xff\xffb");
        let n = short_successor(b"\xff", &mut out);
        assert_eq!(&out[..n], b"\xff");
    }
}
