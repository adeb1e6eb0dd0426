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

/// A wide-column entity, checked when parsed: its columns come out of [`Entity::columns`].
///
/// Format version 1: varint32 version, varint32 number of columns N, then per column its name (varint32
/// length and bytes) and its value size (varint32); then the values, one after another, in column order.
///
/// Format version 2 (RocksDB 11, columns whose value lives in a blob file): varint32 version, varint32 N, N
/// column type bytes (0 inline, 1 blob index), varint32 byte length of the name sizes, varint32 byte length of
/// the names, N varint32 name sizes, N varint32 value sizes, the names back to back, the values back to back.
/// The value of a blob column is a serialized blob index ([`BlobRef`]).
///
/// In both, names are in strictly ascending byte order and the default column is the one named `""`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entity<'v> {
    count: u32,
    layout: Layout<'v>,
}

/// Where an entity's sections are (each checked by [`Entity::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout<'v> {
    /// Version 1: the name/size rows, the values.
    V1 { index: &'v [u8], values: &'v [u8] },
    /// Version 2: type bytes, name sizes, value sizes, names, values.
    V2 { types: &'v [u8], name_sizes: &'v [u8], value_sizes: &'v [u8], names: &'v [u8], values: &'v [u8] },
}

/// The newest entity format version this crate reads (see [`Entity`]).
pub const ENTITY_FORMAT_VERSION: u32 = 2;

/// Column type byte of format version 2: the value is inline.
const COLUMN_INLINE: u8 = 0;
/// Column type byte of format version 2: the value is a blob index.
const COLUMN_BLOB: u8 = 1;

/// One column of an [`Entity`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column<'v> {
    /// Its name (`""` for the default column).
    pub name: &'v [u8],
    /// Its value; for a column whose value lives in a blob file (`in_blob`), the serialized blob index.
    pub value: &'v [u8],
    /// The value lives in a blob file: `value` is a blob index (decode it with [`Column::blob`]).
    pub in_blob: bool,
}

impl<'v> Column<'v> {
    /// An inline column.
    pub const fn inline(name: &'v [u8], value: &'v [u8]) -> Self {
        Column { name, value, in_blob: false }
    }

    /// Where the value lives, for a column whose value is in a blob file (`None` for an inline column).
    pub fn blob(&self) -> Option<Result<BlobRef<'v>>> {
        self.in_blob.then(|| BlobRef::parse(self.value))
    }
}

fn varint32_at(buf: &[u8], at: usize) -> Result<(u32, usize)> {
    let rest = buf.get(at..).ok_or_else(|| corrupt(at, "entity truncated"))?;
    let (v, n) = decode_varint32(rest).map_err(|_| corrupt(at, "bad varint in entity"))?;
    Ok((v, at + n))
}

/// `len` bytes of `buf` from `at`, or corruption naming `what`.
fn section<'v>(buf: &'v [u8], at: usize, len: usize, what: &'static str) -> Result<&'v [u8]> {
    at.checked_add(len).and_then(|end| buf.get(at..end)).ok_or_else(|| corrupt(at, what))
}

impl<'v> Entity<'v> {
    /// Parses and checks an entity: version, column count, every name and size (and, in version 2, every
    /// column type and section length), the order of the names, and that the values fill the rest exactly.
    /// A version above [`ENTITY_FORMAT_VERSION`] is [`Error::Unsupported`].
    pub fn parse(stored: &'v [u8]) -> Result<Self> {
        let (version, at) = varint32_at(stored, 0)?;
        let (count, at) = match version {
            0 => return Err(corrupt(0, "entity format version 0")),
            1 | 2 => varint32_at(stored, at)?,
            v => {
                return Err(Error::Unsupported {
                    part: Part::DataBlock,
                    what: "wide-column entity format",
                    value: v.into(),
                })
            }
        };
        let e = if version == 1 { Self::parse_v1(stored, at, count)? } else { Self::parse_v2(stored, at, count)? };
        // Walk the columns once for the name order (the lengths were checked above).
        let mut prev: Option<&[u8]> = None;
        for c in e.columns() {
            if prev.is_some_and(|p| p >= c.name) {
                return Err(corrupt(0, "entity column names out of order"));
            }
            prev = Some(c.name);
        }
        Ok(e)
    }

    fn parse_v1(stored: &'v [u8], mut at: usize, count: u32) -> Result<Self> {
        let index_start = at;
        let mut total: usize = 0;
        for _ in 0..count {
            let (_, size, next) = index_row(stored, at)?;
            total = total.checked_add(size).ok_or_else(|| corrupt(at, "entity value sizes overflow"))?;
            at = next;
        }
        let values = values_section(stored, at, total)?;
        Ok(Entity { count, layout: Layout::V1 { index: &stored[index_start..at], values } })
    }

    fn parse_v2(stored: &'v [u8], at: usize, count: u32) -> Result<Self> {
        let types = section(stored, at, count as usize, "entity column types truncated")?;
        if let Some(i) = types.iter().position(|&t| t != COLUMN_INLINE && t != COLUMN_BLOB) {
            return Err(Error::Unsupported {
                part: Part::DataBlock,
                what: "wide-column entity column type",
                value: types[i].into(),
            });
        }
        let (name_sizes_len, at) = varint32_at(stored, at + types.len())?;
        let (names_len, at) = varint32_at(stored, at)?;
        let name_sizes = section(stored, at, name_sizes_len as usize, "entity name sizes truncated")?;
        let at = at + name_sizes.len();
        let names_total = sum_varints(name_sizes, count, at)?;
        if names_total != names_len as usize {
            return Err(corrupt(at, "entity name sizes do not add up to the names section"));
        }
        // The value sizes run until count varints were read; their byte length is not stored.
        let mut end = at;
        for _ in 0..count {
            end = varint32_at(stored, end)?.1;
        }
        let value_sizes = &stored[at..end];
        let values_total = sum_varints(value_sizes, count, at)?;
        let names = section(stored, end, names_total, "entity names truncated")?;
        let values = values_section(stored, end + names.len(), values_total)?;
        Ok(Entity { count, layout: Layout::V2 { types, name_sizes, value_sizes, names, values } })
    }

    /// Number of columns.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True if the entity has no columns.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The format version (1 or 2).
    pub fn version(&self) -> u32 {
        match self.layout {
            Layout::V1 { .. } => 1,
            Layout::V2 { .. } => 2,
        }
    }

    /// The columns in stored (ascending name) order.
    pub fn columns(&self) -> Columns<'v> {
        Columns { layout: self.layout, left: self.count }
    }

    /// The default column (the column named `""`), if the entity has one.
    pub fn default_column(&self) -> Option<Column<'v>> {
        // Names are sorted, so "" can only be first.
        self.columns().next().filter(|c| c.name.is_empty())
    }

    /// The default column's value, if the entity has one: what RocksDB's `Get` returns for an entity (for a
    /// default column in a blob file, its blob index: see [`default_column`](Self::default_column)).
    pub fn default_value(&self) -> Option<&'v [u8]> {
        self.default_column().map(|c| c.value)
    }
}

/// The `total` bytes of values at `at`, which must be the rest of `stored`.
fn values_section(stored: &[u8], at: usize, total: usize) -> Result<&[u8]> {
    let values = stored.get(at..).unwrap_or(&[]);
    if values.len() < total {
        return Err(corrupt(at, "entity values shorter than their sizes"));
    }
    if values.len() > total {
        return Err(corrupt(at + total, "bytes after the last entity column value"));
    }
    Ok(values)
}

/// The sum of `count` varint32s that fill `buf` exactly (`at`: where `buf` starts, for errors).
fn sum_varints(buf: &[u8], count: u32, at: usize) -> Result<usize> {
    let (mut pos, mut total) = (0usize, 0usize);
    for _ in 0..count {
        let (v, next) = varint32_at(buf, pos).map_err(|_| corrupt(at + pos, "entity size section truncated"))?;
        total = total.checked_add(v as usize).ok_or_else(|| corrupt(at + pos, "entity sizes overflow"))?;
        pos = next;
    }
    if pos != buf.len() {
        return Err(corrupt(at + pos, "entity size section longer than its sizes"));
    }
    Ok(total)
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
    layout: Layout<'v>,
    left: u32,
}

/// Splits the first varint32 off `buf`.
fn take_varint(buf: &mut &[u8]) -> Option<usize> {
    let (v, n) = decode_varint32(buf).ok()?;
    *buf = buf.get(n..)?;
    Some(v as usize)
}

/// Splits the first `n` bytes off `buf`.
fn take<'v>(buf: &mut &'v [u8], n: usize) -> Option<&'v [u8]> {
    let (head, rest) = (buf.get(..n)?, buf.get(n..)?);
    *buf = rest;
    Some(head)
}

impl<'v> Iterator for Columns<'v> {
    type Item = Column<'v>;

    fn next(&mut self) -> Option<Column<'v>> {
        if self.left == 0 {
            return None;
        }
        // Checked by Entity::parse; a failure here would end the iteration, never panic.
        let col = match &mut self.layout {
            Layout::V1 { index, values } => {
                let (name, size, next) = index_row(index, 0).ok()?;
                *index = index.get(next..)?;
                Column::inline(name, take(values, size)?)
            }
            Layout::V2 { types, name_sizes, value_sizes, names, values } => {
                let in_blob = take(types, 1)? == [COLUMN_BLOB];
                let name = take(names, take_varint(name_sizes)?)?;
                Column { name, value: take(values, take_varint(value_sizes)?)?, in_blob }
            }
        };
        self.left -= 1;
        Some(col)
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
        assert_eq!(no_default.columns().next(), Some(Column::inline(b"a", b"z")));
    }

    #[test]
    fn malformed_entities_are_corrupt_and_format_3_unsupported() {
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
        let e = Entity::parse(b"\x03\x01\x01a\x01x").unwrap_err();
        assert!(e.is_unsupported());
        assert_eq!(e.to_string(), "unsupported wide-column entity format 3 in data block");
    }

    /// Format 2: `""` inline, `big` in a blob file (file 7 @128+5), `z` inline.
    const E2: &[u8] = b"\x02\x03\x00\x01\x00\x03\x04\x00\x03\x01\x03\x06\x01bigzdef\x01\x07\x80\x01\x05\x00!";

    #[test]
    fn an_entity_v2_labels_its_blob_columns() {
        let e = Entity::parse(E2).unwrap();
        assert_eq!((e.version(), e.len()), (2, 3));
        let cols: Vec<_> = e.columns().collect();
        assert_eq!(cols[0], Column::inline(b"", b"def"));
        assert_eq!(cols[1].name, b"big");
        assert!(cols[1].in_blob);
        assert_eq!(
            cols[1].blob().unwrap().unwrap(),
            BlobRef::Blob { expiration: None, file_number: 7, offset: 128, size: 5, compression: 0 }
        );
        assert_eq!(cols[2], Column::inline(b"z", b"!"));
        assert!(cols[2].blob().is_none());
        assert_eq!(e.default_value(), Some(&b"def"[..]));
        for cut in 0..E2.len() {
            assert!(Entity::parse(&E2[..cut]).unwrap_err().is_corruption(), "cut at {cut}");
        }
        let mut bad = E2.to_vec();
        bad[3] = 9; // a column type RocksDB reserves
        assert!(Entity::parse(&bad).unwrap_err().is_unsupported());
        let mut bad = E2.to_vec();
        bad[6] = 5; // names section length disagrees with the name sizes
        assert!(Entity::parse(&bad).unwrap_err().is_corruption());
        let mut bad = E2.to_vec();
        bad[16] = b'a'; // names "", "big", "a"
        assert!(Entity::parse(&bad).unwrap_err().is_corruption());
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
