//! What an entry's stored value means, by its type: a plain value, a value with a preferred seqno (0x18), a
//! wide-column entity (0x16), a reference into a blob file (0x11), ... Decoded zero-copy, without allocating;
//! every length is checked.

use crate::error::{Error, Part, Result};
use crate::key::ValueType;
use crate::varint::{decode_varint32, decode_varint64, read_fixed64};

/// The meaning of one entry's stored value, by the entry's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payload<'v> {
    /// A plain value (0x01).
    Value(&'v [u8]),
    /// A merge operand (0x02); its meaning depends on the merge operator.
    Merge(&'v [u8]),
    /// A value written with a preferred seqno (0x18, `TimedPut`).
    ValuePreferredSeqno {
        /// The user's value, without the 8-byte suffix.
        value: &'v [u8],
        /// The seqno the writer preferred.
        preferred_seqno: u64,
    },
    /// A wide-column entity (0x16).
    Entity(Entity<'v>),
    /// A reference into a blob file (0x11): the value is not in this table.
    Blob(BlobRef<'v>),
    /// A deletion of any kind (point, single, with timestamp, range); the stored value carries no user data.
    Deleted,
}

impl<'v> Payload<'v> {
    /// Decodes the stored `value` of an entry of type `kind`.
    pub fn decode(kind: ValueType, value: &'v [u8]) -> Result<Self> {
        Ok(match kind {
            ValueType::Value => Payload::Value(value),
            ValueType::Merge => Payload::Merge(value),
            ValueType::ValuePreferredSeqno => {
                let (value, preferred_seqno) = split_preferred_seqno(value)?;
                Payload::ValuePreferredSeqno { value, preferred_seqno }
            }
            ValueType::WideColumnEntity => Payload::Entity(Entity::parse(value)?),
            ValueType::BlobIndex => Payload::Blob(BlobRef::parse(value)?),
            ValueType::Deletion
            | ValueType::SingleDeletion
            | ValueType::DeletionWithTimestamp
            | ValueType::RangeDeletion => Payload::Deleted,
        })
    }
}

fn corrupt(offset: usize, reason: &'static str) -> Error {
    Error::corrupt(Part::DataBlock, offset as u64, reason)
}

/// Splits the stored value of a ValuePreferredSeqno entry (0x18) into the user value and the preferred seqno
/// (a fixed64 at the end).
pub fn split_preferred_seqno(stored: &[u8]) -> Result<(&[u8], u64)> {
    let Some(at) = stored.len().checked_sub(8) else {
        return Err(corrupt(0, "value with preferred seqno shorter than 8 bytes"));
    };
    let seqno = read_fixed64(stored, at).ok_or_else(|| corrupt(at, "value with preferred seqno truncated"))?;
    Ok((&stored[..at], seqno))
}

/// A wide-column entity (format version 1), checked when parsed: its columns come out of [`Entity::columns`].
///
/// Layout: varint32 version (1), varint32 number of columns, then per column its name (varint32 length and
/// bytes) and its value size (varint32); then the values, one after another, in column order. Names are in
/// strictly ascending byte order; the default column is the one named `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity<'v> {
    /// The name/size index (after version and count).
    index: &'v [u8],
    /// The values, back to back.
    values: &'v [u8],
    count: u32,
}

/// The entity format versions RocksDB writes: 1 (plain columns); 2 adds columns whose values live in blob
/// files, which this build does not decode.
pub const ENTITY_FORMAT_VERSION: u32 = 1;

/// One column of an [`Entity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'v> {
    /// Its name (`""` for the default column).
    pub name: &'v [u8],
    /// Its value.
    pub value: &'v [u8],
}

fn varint32_at(buf: &[u8], at: usize) -> Result<(u32, usize)> {
    let rest = buf.get(at..).ok_or_else(|| corrupt(at, "entity truncated"))?;
    let (v, n) = decode_varint32(rest).map_err(|_| corrupt(at, "bad varint in entity"))?;
    Ok((v, at + n))
}

impl<'v> Entity<'v> {
    /// Parses and checks an entity: version, column count, every name and size, the order of the names, and
    /// that the values fill the rest exactly. Format version 2 is [`Error::Unsupported`].
    pub fn parse(stored: &'v [u8]) -> Result<Self> {
        let (version, mut at) = varint32_at(stored, 0)?;
        match version {
            0 => return Err(corrupt(0, "entity format version 0")),
            1 => {}
            v => {
                return Err(Error::Unsupported {
                    part: Part::DataBlock,
                    what: "wide-column entity format",
                    value: v.into(),
                })
            }
        }
        let (count, after) = varint32_at(stored, at)?;
        at = after;
        let index_start = at;
        let mut total: usize = 0;
        let mut prev: Option<&[u8]> = None;
        for _ in 0..count {
            let (name, size, next) = index_row(stored, at)?;
            if prev.is_some_and(|p| p >= name) {
                return Err(corrupt(at, "entity column names out of order"));
            }
            prev = Some(name);
            total = total.checked_add(size).ok_or_else(|| corrupt(at, "entity value sizes overflow"))?;
            at = next;
        }
        let values = &stored[at..];
        if values.len() < total {
            return Err(corrupt(at, "entity values shorter than their sizes"));
        }
        if values.len() > total {
            return Err(corrupt(at + total, "bytes after the last entity column value"));
        }
        Ok(Entity { index: &stored[index_start..at], values, count })
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if the entity has no columns.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The columns in stored (ascending name) order.
    pub fn columns(&self) -> Columns<'v> {
        Columns { index: self.index, values: self.values, left: self.count }
    }

    /// The default column's value (the column named `""`), if the entity has one: what RocksDB's `Get`
    /// returns for an entity.
    pub fn default_value(&self) -> Option<&'v [u8]> {
        // Names are sorted, so "" can only be first.
        self.columns().next().filter(|c| c.name.is_empty()).map(|c| c.value)
    }
}

/// Reads one index row at `at`: (name, value size, offset after).
fn index_row(buf: &[u8], at: usize) -> Result<(&[u8], usize, usize)> {
    let (nlen, at) = varint32_at(buf, at)?;
    let end = at.checked_add(nlen as usize).ok_or_else(|| corrupt(at, "entity column name too long"))?;
    let name = buf.get(at..end).ok_or_else(|| corrupt(at, "entity column name truncated"))?;
    let (size, after) = varint32_at(buf, end)?;
    Ok((name, size as usize, after))
}

/// The columns of an [`Entity`], in order. The entity was checked when parsed, so this yields plain columns.
#[derive(Debug, Clone)]
pub struct Columns<'v> {
    index: &'v [u8],
    values: &'v [u8],
    left: u32,
}

impl<'v> Iterator for Columns<'v> {
    type Item = Column<'v>;

    fn next(&mut self) -> Option<Column<'v>> {
        if self.left == 0 {
            return None;
        }
        // Checked by Entity::parse; a failure here would end the iteration, never panic.
        let (name, size, next) = index_row(self.index, 0).ok()?;
        let value = self.values.get(..size)?;
        self.index = self.index.get(next..)?;
        self.values = self.values.get(size..)?;
        self.left -= 1;
        Some(Column { name, value })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.left as usize))
    }
}

/// A blob index (0x11): where the value lives in a blob file, or (for the old TTL form) an inlined value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlobRef<'v> {
    /// The value, stored inline with an expiration time (type 0, from the old BlobDB).
    InlinedTtl {
        /// Expiration (seconds since the epoch).
        expiration: u64,
        /// The value.
        value: &'v [u8],
    },
    /// The value is in a blob file (type 1, or type 2 with an expiration).
    Blob {
        /// Expiration (seconds since the epoch) for type 2, `None` for type 1.
        expiration: Option<u64>,
        /// The blob file's number.
        file_number: u64,
        /// Offset of the blob in the file.
        offset: u64,
        /// Size of the (possibly compressed) blob.
        size: u64,
        /// Its compression type byte.
        compression: u8,
    },
}

impl<'v> BlobRef<'v> {
    /// Parses a blob index: a type byte (0 inlined with TTL, 1 blob, 2 blob with TTL), then varint64 fields
    /// (expiration for the TTL forms; file number, offset and size for the blob forms) and, for the blob forms,
    /// a compression byte. An unknown type byte is [`Error::Unsupported`].
    pub fn parse(stored: &'v [u8]) -> Result<Self> {
        let Some((&ty, _)) = stored.split_first() else {
            return Err(corrupt(0, "empty blob index"));
        };
        let mut at = 1;
        let next = |at: &mut usize| -> Result<u64> {
            let rest = stored.get(*at..).unwrap_or(&[]);
            let (v, n) = decode_varint64(rest).map_err(|_| corrupt(*at, "bad varint in blob index"))?;
            *at += n;
            Ok(v)
        };
        match ty {
            0 => {
                let expiration = next(&mut at)?;
                Ok(BlobRef::InlinedTtl { expiration, value: &stored[at..] })
            }
            1 | 2 => {
                let expiration = if ty == 2 { Some(next(&mut at)?) } else { None };
                let file_number = next(&mut at)?;
                let offset = next(&mut at)?;
                let size = next(&mut at)?;
                let compression = *stored.get(at).ok_or_else(|| corrupt(at, "blob index truncated"))?;
                if at + 1 != stored.len() {
                    return Err(corrupt(at + 1, "bytes after a blob index"));
                }
                Ok(BlobRef::Blob { expiration, file_number, offset, size, compression })
            }
            t => Err(Error::Unsupported { part: Part::DataBlock, what: "blob index type", value: t.into() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    #[test]
    fn preferred_seqno_is_split_off_the_end() {
        let mut v = b"hello".to_vec();
        v.extend_from_slice(&42u64.to_le_bytes());
        assert_eq!(split_preferred_seqno(&v).unwrap(), (&b"hello"[..], 42));
        assert_eq!(split_preferred_seqno(&7u64.to_le_bytes()).unwrap(), (&b""[..], 7));
        let e = split_preferred_seqno(b"1234567").unwrap_err();
        assert!(e.is_corruption(), "{e}");
        assert_eq!(
            Payload::decode(ValueType::ValuePreferredSeqno, &v).unwrap(),
            Payload::ValuePreferredSeqno { value: b"hello", preferred_seqno: 42 }
        );
    }

    const E1: &[u8] = b"\x01\x03\x00\x0d\x04attr\x01\x06colour\x04default-valuexblue";

    #[test]
    fn an_entity_yields_its_columns_in_order() {
        let e = Entity::parse(E1).unwrap();
        assert_eq!(e.len(), 3);
        let cols: Vec<_> = e.columns().map(|c| (c.name, c.value)).collect();
        assert_eq!(cols, [(&b""[..], &b"default-value"[..]), (b"attr", b"x"), (b"colour", b"blue")]);
        assert_eq!(e.default_value(), Some(&b"default-value"[..]));
        let empty = Entity::parse(b"\x01\x00").unwrap();
        assert!(empty.is_empty());
        assert_eq!(empty.columns().count(), 0);
        assert_eq!(empty.default_value(), None);
        let no_default = Entity::parse(b"\x01\x01\x01a\x01z").unwrap();
        assert_eq!(no_default.default_value(), None);
        assert_eq!(no_default.columns().next(), Some(Column { name: b"a", value: b"z" }));
    }

    #[test]
    fn malformed_entities_are_corrupt_and_format_2_unsupported() {
        for (bytes, why) in [
            (&b""[..], "empty"),
            (b"\x00\x00", "version 0"),
            (b"\x01", "no count"),
            (b"\x01\x01", "count 1 but no row"),
            (b"\x01\x01\x05ab\x01x", "name past the end"),
            (b"\x01\x01\x01a\x05xy", "value past the end"),
            (b"\x01\x01\x01a\x01xy", "trailing bytes"),
            (b"\x01\x02\x01b\x01\x01a\x01xy", "names out of order"),
            (b"\x01\x02\x01a\x01\x01a\x01xy", "duplicate names"),
            (b"\x01\xff\xff\xff\xff\x0f", "huge count, no rows"),
            (b"\x01\x01\x01a\xff\xff\xff\xff\x0f", "huge size"),
            (b"\x01\x01\xff\xff\xff\xff\xff", "bad varint"),
        ] {
            let e = Entity::parse(bytes).unwrap_err();
            assert!(e.is_corruption(), "{why}: {e}");
        }
        let e = Entity::parse(b"\x02\x01\x01a\x01x").unwrap_err();
        assert!(e.is_unsupported());
        assert_eq!(e.to_string(), "unsupported wide-column entity format 2 in data block");
    }

    #[test]
    fn blob_indexes_decode_their_three_forms() {
        assert_eq!(
            BlobRef::parse(b"\x01\x07\x80\x01\x05\x00").unwrap(),
            BlobRef::Blob { expiration: None, file_number: 7, offset: 128, size: 5, compression: 0 }
        );
        assert_eq!(
            BlobRef::parse(b"\x02\x09\x07\x00\x05\x01").unwrap(),
            BlobRef::Blob { expiration: Some(9), file_number: 7, offset: 0, size: 5, compression: 1 }
        );
        assert_eq!(BlobRef::parse(b"\x00\x09abc").unwrap(), BlobRef::InlinedTtl { expiration: 9, value: b"abc" });
        for bad in [&b""[..], b"\x01\x07\x00\x05", b"\x01\x07\x00\x05\x00\x00", b"\x01\x80", b"\x00"] {
            assert!(BlobRef::parse(bad).unwrap_err().is_corruption(), "{bad:?}");
        }
        assert!(BlobRef::parse(b"\x03").unwrap_err().is_unsupported());
    }

    #[test]
    fn deletions_carry_no_payload() {
        for k in [ValueType::Deletion, ValueType::SingleDeletion, ValueType::DeletionWithTimestamp] {
            assert_eq!(Payload::decode(k, b"").unwrap(), Payload::Deleted);
        }
        assert_eq!(Payload::decode(ValueType::Merge, b"m").unwrap(), Payload::Merge(b"m"));
        assert!(Payload::decode(ValueType::WideColumnEntity, b"").is_err());
    }
}
