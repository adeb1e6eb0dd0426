//! The properties block: table statistics and settings, as sorted `name → value` entries.

use crate::block::{Block, BlockBuilder, KeyOrder};
use crate::error::{Error, Part, Result};
use crate::keybuf::DefaultKeyBuf;
use crate::trailer::CompressionType;
use crate::varint::{decode_varint64, encode_varint64, read_fixed32, read_fixed64};

/// Property names, as RocksDB spells them.
pub mod names {
    #![allow(missing_docs)]
    pub const DATA_SIZE: &str = "rocksdb.data.size";
    pub const INDEX_SIZE: &str = "rocksdb.index.size";
    pub const FILTER_SIZE: &str = "rocksdb.filter.size";
    pub const RAW_KEY_SIZE: &str = "rocksdb.raw.key.size";
    pub const RAW_VALUE_SIZE: &str = "rocksdb.raw.value.size";
    pub const NUM_DATA_BLOCKS: &str = "rocksdb.num.data.blocks";
    pub const NUM_ENTRIES: &str = "rocksdb.num.entries";
    pub const NUM_FILTER_ENTRIES: &str = "rocksdb.num.filter_entries";
    pub const DELETED_KEYS: &str = "rocksdb.deleted.keys";
    pub const MERGE_OPERANDS: &str = "rocksdb.merge.operands";
    pub const NUM_RANGE_DELETIONS: &str = "rocksdb.num.range-deletions";
    pub const FORMAT_VERSION: &str = "rocksdb.format.version";
    pub const FIXED_KEY_LEN: &str = "rocksdb.fixed.key.length";
    pub const COLUMN_FAMILY_ID: &str = "rocksdb.column.family.id";
    pub const COLUMN_FAMILY_NAME: &str = "rocksdb.column.family.name";
    pub const COMPARATOR: &str = "rocksdb.comparator";
    pub const COMPRESSION: &str = "rocksdb.compression";
    pub const COMPRESSION_OPTIONS: &str = "rocksdb.compression_options";
    pub const FILTER_POLICY: &str = "rocksdb.filter.policy";
    pub const MERGE_OPERATOR: &str = "rocksdb.merge.operator";
    pub const PREFIX_EXTRACTOR: &str = "rocksdb.prefix.extractor.name";
    pub const PROPERTY_COLLECTORS: &str = "rocksdb.property.collectors";
    pub const CREATION_TIME: &str = "rocksdb.creation.time";
    pub const OLDEST_KEY_TIME: &str = "rocksdb.oldest.key.time";
    pub const FILE_CREATION_TIME: &str = "rocksdb.file.creation.time";
    pub const DB_ID: &str = "rocksdb.creating.db.identity";
    pub const DB_SESSION_ID: &str = "rocksdb.creating.session.identity";
    pub const DB_HOST_ID: &str = "rocksdb.creating.host.identity";
    pub const INDEX_KEY_IS_USER_KEY: &str = "rocksdb.index.key.is.user.key";
    pub const INDEX_VALUE_IS_DELTA_ENCODED: &str = "rocksdb.index.value.is.delta.encoded";
    pub const INDEX_TYPE: &str = "rocksdb.block.based.table.index.type";
    pub const INDEX_PARTITIONS: &str = "rocksdb.index.partitions";
    pub const TOP_LEVEL_INDEX_SIZE: &str = "rocksdb.top-level.index.size";
    pub const WHOLE_KEY_FILTERING: &str = "rocksdb.block.based.table.whole.key.filtering";
    pub const PREFIX_FILTERING: &str = "rocksdb.block.based.table.prefix.filtering";
    pub const EXTERNAL_SST_VERSION: &str = "rocksdb.external_sst_file.version";
    pub const GLOBAL_SEQNO: &str = "rocksdb.external_sst_file.global_seqno";
    pub const USER_DEFINED_TIMESTAMPS_PERSISTED: &str = "rocksdb.user.defined.timestamps.persisted";
}

/// A parsed properties block. Numbers absent from the block read as `None`; strings are borrowed.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Properties<'a> {
    /// Bytes of all data blocks including trailers.
    pub data_size: Option<u64>,
    /// Bytes of the index block including its trailer.
    pub index_size: Option<u64>,
    /// Bytes of the filter block.
    pub filter_size: Option<u64>,
    /// Sum of internal key lengths.
    pub raw_key_size: Option<u64>,
    /// Sum of value lengths.
    pub raw_value_size: Option<u64>,
    /// Number of data blocks.
    pub num_data_blocks: Option<u64>,
    /// Number of entries (point entries and range deletions).
    pub num_entries: Option<u64>,
    /// Number of keys added to the filter.
    pub num_filter_entries: Option<u64>,
    /// Number of deletions (point and range).
    pub num_deletions: Option<u64>,
    /// Number of merge operands.
    pub num_merge_operands: Option<u64>,
    /// Number of range deletions.
    pub num_range_deletions: Option<u64>,
    /// `rocksdb.format.version` (always 0 for block-based tables; not the footer's).
    pub format_version: Option<u64>,
    /// Fixed key length (0 = variable).
    pub fixed_key_len: Option<u64>,
    /// Column family id.
    pub column_family_id: Option<u64>,
    /// Creation time (seconds since the epoch).
    pub creation_time: Option<u64>,
    /// Oldest key time.
    pub oldest_key_time: Option<u64>,
    /// File creation time.
    pub file_creation_time: Option<u64>,
    /// Index keys are user keys (1) or internal keys (0).
    pub index_key_is_user_key: Option<u64>,
    /// Index values are delta-encoded (1).
    pub index_value_is_delta_encoded: Option<u64>,
    /// Index type (0 binary search, 2 partitioned, 3 binary search with first key).
    pub index_type: Option<u32>,
    /// Partitions of a partitioned index.
    pub index_partitions: Option<u64>,
    /// Bytes of the top-level index's contents (partitioned index).
    pub top_level_index_size: Option<u64>,
    /// `rocksdb.external_sst_file.version`.
    pub external_sst_version: Option<u32>,
    /// `rocksdb.external_sst_file.global_seqno`.
    pub global_seqno_property: Option<u64>,
    /// Offset of the global seqno value inside the block (RocksDB rewrites those 8 bytes on ingestion).
    pub global_seqno_value_offset: Option<usize>,
    /// Comparator name.
    pub comparator: Option<&'a [u8]>,
    /// `rocksdb.user.defined.timestamps.persisted` (RocksDB ≥ 8.4, written only when 0: the user keys of a
    /// table whose comparator carries timestamps were written without them).
    pub user_defined_timestamps_persisted: Option<u64>,
    /// Compression name.
    pub compression: Option<&'a [u8]>,
    /// Filter policy name.
    pub filter_policy: Option<&'a [u8]>,
    /// Column family name.
    pub column_family_name: Option<&'a [u8]>,
    /// Merge operator name.
    pub merge_operator: Option<&'a [u8]>,
    block: Option<Block<'a>>,
}

fn varint_value(v: &[u8], at: usize) -> Result<u64> {
    let (n, used) = decode_varint64(v).map_err(|e| e.at(Part::Properties, at as u64))?;
    if used != v.len() {
        return Err(Error::corrupt(Part::Properties, at as u64, "trailing bytes after a numeric property"));
    }
    Ok(n)
}

impl<'a> Properties<'a> {
    /// Parses the block body. Names must be strictly ascending, as RocksDB requires.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        let block = Block::parse(body).map_err(|e| e.at(Part::Properties, 0))?;
        let mut p = Properties { block: Some(block), ..Properties::default() };
        let mut it = block.iter(KeyOrder::Bytewise, DefaultKeyBuf::new());
        it.seek_to_first().map_err(|e| e.at(Part::Properties, 0))?;
        let mut prev = DefaultKeyBuf::new();
        let mut first = true;
        while it.valid() {
            let name = it.key();
            let v = it.value();
            let at = v.as_ptr() as usize - body.as_ptr() as usize;
            if !first && name <= prev.as_slice() {
                return Err(Error::corrupt(Part::Properties, at as u64, "properties unsorted"));
            }
            first = false;
            p.take(name, v, at)?;
            crate::keybuf::KeyBuf::set(&mut prev, name).map_err(|e| e.at(Part::Properties, at as u64))?;
            it.next().map_err(|e| e.at(Part::Properties, 0))?;
        }
        Ok(p)
    }

    fn take(&mut self, name: &[u8], v: &'a [u8], at: usize) -> Result<()> {
        use names::*;
        let num = |v| varint_value(v, at).map(Some);
        match core::str::from_utf8(name).unwrap_or("") {
            DATA_SIZE => self.data_size = num(v)?,
            INDEX_SIZE => self.index_size = num(v)?,
            FILTER_SIZE => self.filter_size = num(v)?,
            RAW_KEY_SIZE => self.raw_key_size = num(v)?,
            RAW_VALUE_SIZE => self.raw_value_size = num(v)?,
            NUM_DATA_BLOCKS => self.num_data_blocks = num(v)?,
            NUM_ENTRIES => self.num_entries = num(v)?,
            NUM_FILTER_ENTRIES => self.num_filter_entries = num(v)?,
            DELETED_KEYS => self.num_deletions = num(v)?,
            MERGE_OPERANDS => self.num_merge_operands = num(v)?,
            NUM_RANGE_DELETIONS => self.num_range_deletions = num(v)?,
            FORMAT_VERSION => self.format_version = num(v)?,
            FIXED_KEY_LEN => self.fixed_key_len = num(v)?,
            COLUMN_FAMILY_ID => self.column_family_id = num(v)?,
            CREATION_TIME => self.creation_time = num(v)?,
            OLDEST_KEY_TIME => self.oldest_key_time = num(v)?,
            FILE_CREATION_TIME => self.file_creation_time = num(v)?,
            INDEX_KEY_IS_USER_KEY => self.index_key_is_user_key = num(v)?,
            INDEX_VALUE_IS_DELTA_ENCODED => self.index_value_is_delta_encoded = num(v)?,
            INDEX_PARTITIONS => self.index_partitions = num(v)?,
            TOP_LEVEL_INDEX_SIZE => self.top_level_index_size = num(v)?,
            INDEX_TYPE => {
                self.index_type = Some(read_fixed32(v, 0).filter(|_| v.len() == 4).ok_or(Error::corrupt(
                    Part::Properties,
                    at as u64,
                    "index type is not 4 bytes",
                ))?)
            }
            EXTERNAL_SST_VERSION => {
                self.external_sst_version = Some(read_fixed32(v, 0).filter(|_| v.len() == 4).ok_or(Error::corrupt(
                    Part::Properties,
                    at as u64,
                    "external file version is not 4 bytes",
                ))?)
            }
            GLOBAL_SEQNO => {
                self.global_seqno_property =
                    Some(read_fixed64(v, 0).filter(|_| v.len() == 8).ok_or(Error::corrupt(
                        Part::Properties,
                        at as u64,
                        "global seqno is not 8 bytes",
                    ))?);
                self.global_seqno_value_offset = Some(at);
            }
            COMPARATOR => self.comparator = Some(v),
            USER_DEFINED_TIMESTAMPS_PERSISTED => self.user_defined_timestamps_persisted = num(v)?,
            COMPRESSION => self.compression = Some(v),
            FILTER_POLICY => self.filter_policy = Some(v),
            COLUMN_FAMILY_NAME => self.column_family_name = Some(v),
            MERGE_OPERATOR => self.merge_operator = Some(v),
            _ => {}
        }
        Ok(())
    }

    /// Calls `f(name, raw value)` for every property, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], &'a [u8])) -> Result<()> {
        let Some(block) = self.block else { return Ok(()) };
        let mut it = block.iter(KeyOrder::Bytewise, DefaultKeyBuf::new());
        it.seek_to_first()?;
        while it.valid() {
            f(it.key(), it.value());
            it.next()?;
        }
        Ok(())
    }

    /// The raw value of a property by name.
    pub fn get(&self, name: &str) -> Result<Option<&'a [u8]>> {
        let mut found = None;
        self.for_each(|n, v| {
            if n == name.as_bytes() {
                found = Some(v);
            }
        })?;
        Ok(found)
    }

    /// The sequence number every key of the table must be read with, if the table carries one, as RocksDB
    /// 7.8's table reader decides: external files of version ≥ 2 with a `global_seqno` property use it; a
    /// version-1 file or a non-external file carrying the property is corrupt; otherwise keys keep their own.
    pub fn global_seqno(&self) -> Result<Option<u64>> {
        let corrupt = |reason| Err(Error::corrupt(Part::Properties, 0, reason));
        match (self.external_sst_version, self.global_seqno_property) {
            (None, None) | (Some(_), None) => Ok(None),
            (None, Some(_)) => corrupt("global seqno property in a table that is not an external file"),
            (Some(v), Some(_)) if v < 2 => corrupt("external file version 1 does not support a global seqno"),
            (Some(_), Some(s)) => Ok(Some(s)),
        }
    }

    /// Index keys are user keys (property `index.key.is.user.key` = 1).
    pub fn index_has_user_keys(&self) -> bool {
        self.index_key_is_user_key.unwrap_or(0) != 0
    }

    /// Index values are delta-encoded (property `index.value.is.delta.encoded` = 1).
    pub fn index_is_delta_encoded(&self) -> bool {
        self.index_value_is_delta_encoded.unwrap_or(0) != 0
    }
}

/// The `rocksdb.compression` property, in either of RocksDB's syntaxes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompressionName<'a> {
    /// Empty: a very old file (no statement).
    Empty,
    /// Before format_version 7: one built-in codec's name (`NoCompression`, `LZ4`, `ZSTD`, ...).
    Legacy(CompressionType),
    /// format_version ≥ 7: `<manager>;<types>;[more fields]`.
    Manager {
        /// Compression manager compatibility name (`BuiltinV2`; empty when compression is disabled).
        manager: &'a [u8],
        /// The compression type bytes used, as two hex digits each (types other than 0, sorted).
        types_hex: &'a [u8],
    },
}

impl<'a> CompressionName<'a> {
    /// Parses the property value. A legacy name must be one of RocksDB's built-in names exactly (RocksDB 10
    /// refuses other names too); the format_version 7 form needs its two `;` separators and hex type bytes.
    pub fn parse(v: &'a [u8]) -> Result<Self> {
        if v.is_empty() {
            return Ok(CompressionName::Empty);
        }
        let bad = |reason| Error::corrupt(Part::Properties, 0, reason);
        if let Some(i) = v.iter().position(|&b| b == b';') {
            let (manager, rest) = (&v[..i], &v[i + 1..]);
            let j =
                rest.iter().position(|&b| b == b';').ok_or(bad("missing separator in compression_name property"))?;
            let types_hex = &rest[..j];
            if types_hex.len() % 2 != 0 || !types_hex.iter().all(u8::is_ascii_hexdigit) {
                return Err(bad("compression_name types are not hex bytes"));
            }
            return Ok(CompressionName::Manager { manager, types_hex });
        }
        let t = match v {
            b"NoCompression" => CompressionType::None,
            b"Snappy" => CompressionType::Snappy,
            b"Zlib" => CompressionType::Zlib,
            b"BZip2" => CompressionType::Bzip2,
            b"LZ4" => CompressionType::Lz4,
            b"LZ4HC" => CompressionType::Lz4hc,
            b"Xpress" => CompressionType::Xpress,
            b"ZSTD" => CompressionType::Zstd,
            b"ZSTDNotFinal" => CompressionType::ZstdNotFinal,
            _ => return Err(bad("unrecognized compression_name")),
        };
        Ok(CompressionName::Legacy(t))
    }

    /// The type bytes the property lists (format_version ≥ 7), in order; nothing for the other forms.
    pub fn types(&self) -> impl Iterator<Item = u8> + 'a {
        let hex: &'a [u8] = match *self {
            CompressionName::Manager { types_hex, .. } => types_hex,
            _ => &[],
        };
        let digit = |c: u8| (c as char).to_digit(16).unwrap_or(0) as u8;
        hex.chunks_exact(2).map(move |p| (digit(p[0]) << 4) | digit(p[1]))
    }

    /// True if blocks may be compressed with `t`: the legacy name names it, or the format_version 7 list
    /// has it.
    pub fn uses(&self, t: CompressionType) -> bool {
        match self {
            CompressionName::Empty => false,
            CompressionName::Legacy(l) => *l == t && t != CompressionType::None,
            CompressionName::Manager { .. } => self.types().any(|b| b == t as u8),
        }
    }
}

/// How a property's value is encoded, by name (unknown names are raw bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropKind {
    /// varint64 number.
    Varint,
    /// Little-endian u32.
    Fixed32,
    /// Little-endian u64.
    Fixed64,
    /// Raw bytes (usually text).
    Bytes,
}

/// The encoding RocksDB uses for the property `name`.
pub fn prop_kind(name: &[u8]) -> PropKind {
    use names::*;
    match core::str::from_utf8(name).unwrap_or("") {
        DATA_SIZE
        | INDEX_SIZE
        | FILTER_SIZE
        | RAW_KEY_SIZE
        | RAW_VALUE_SIZE
        | NUM_DATA_BLOCKS
        | NUM_ENTRIES
        | NUM_FILTER_ENTRIES
        | DELETED_KEYS
        | MERGE_OPERANDS
        | NUM_RANGE_DELETIONS
        | FORMAT_VERSION
        | FIXED_KEY_LEN
        | COLUMN_FAMILY_ID
        | CREATION_TIME
        | OLDEST_KEY_TIME
        | FILE_CREATION_TIME
        | INDEX_KEY_IS_USER_KEY
        | INDEX_VALUE_IS_DELTA_ENCODED
        | USER_DEFINED_TIMESTAMPS_PERSISTED => PropKind::Varint,
        INDEX_PARTITIONS
        | TOP_LEVEL_INDEX_SIZE
        | "rocksdb.original.file.number"
        | "rocksdb.sample_for_compression.slow.data.size"
        | "rocksdb.sample_for_compression.fast.data.size"
        | "rocksdb.num.merge_operands"
        | "rocksdb.tail.start.offset"
        | "rocksdb.key.largest.seqno"
        | "rocksdb.key.smallest.seqno" => PropKind::Varint,
        INDEX_TYPE | EXTERNAL_SST_VERSION => PropKind::Fixed32,
        GLOBAL_SEQNO => PropKind::Fixed64,
        _ => PropKind::Bytes,
    }
}

/// A property's value decoded by its name: `Ok(Some(n))` for numeric properties, `Ok(None)` for bytes.
pub fn prop_number(name: &[u8], raw: &[u8]) -> Result<Option<u64>> {
    Ok(match prop_kind(name) {
        PropKind::Varint => Some(varint_value(raw, 0)?),
        PropKind::Fixed32 => Some(u64::from(read_fixed32(raw, 0).filter(|_| raw.len() == 4).ok_or(Error::corrupt(
            Part::Properties,
            0,
            "not 4 bytes",
        ))?)),
        PropKind::Fixed64 => Some(read_fixed64(raw, 0).filter(|_| raw.len() == 8).ok_or(Error::corrupt(
            Part::Properties,
            0,
            "not 8 bytes",
        ))?),
        PropKind::Bytes => None,
    })
}

/// A property value to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropValue<'v> {
    /// A varint64 number.
    Num(u64),
    /// A little-endian u32.
    Fixed32(u32),
    /// A little-endian u64.
    Fixed64(u64),
    /// Raw bytes.
    Bytes(&'v [u8]),
}

impl<'v> PropValue<'v> {
    /// The value as the properties block stores it; numbers are encoded into `tmp`.
    pub fn encode<'a>(&'a self, tmp: &'a mut [u8; 10]) -> Result<&'a [u8]> {
        Ok(match *self {
            PropValue::Num(n) => {
                let k = encode_varint64(n, tmp)?;
                &tmp[..k]
            }
            PropValue::Fixed32(n) => {
                tmp[..4].copy_from_slice(&n.to_le_bytes());
                &tmp[..4]
            }
            PropValue::Fixed64(n) => {
                tmp[..8].copy_from_slice(&n.to_le_bytes());
                &tmp[..8]
            }
            PropValue::Bytes(s) => s,
        })
    }
}

/// Writes a properties block from `(name, value)` pairs (sorted here; names must be distinct) into `out`.
pub fn build_properties(props: &mut [(&str, PropValue<'_>)], out: &mut [u8]) -> Result<usize> {
    props.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for w in props.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::InvalidArgument { reason: "duplicate property name" });
        }
    }
    // One restart point: names share long prefixes.
    let mut b = BlockBuilder::new(out, usize::MAX);
    for (name, v) in props.iter() {
        let mut tmp = [0u8; 10];
        let bytes = v.encode(&mut tmp)?;
        b.add(name.as_bytes(), bytes)?;
    }
    Ok(b.finish().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_parse() {
        let mut props = [
            (names::NUM_ENTRIES, PropValue::Num(300)),
            (names::COMPARATOR, PropValue::Bytes(b"leveldb.BytewiseComparator")),
            (names::GLOBAL_SEQNO, PropValue::Fixed64(0)),
            (names::EXTERNAL_SST_VERSION, PropValue::Fixed32(2)),
            (names::INDEX_TYPE, PropValue::Fixed32(0)),
            (names::INDEX_KEY_IS_USER_KEY, PropValue::Num(1)),
        ];
        let mut out = [0u8; 512];
        let n = build_properties(&mut props, &mut out).unwrap();
        let p = Properties::parse(&out[..n]).unwrap();
        assert_eq!(p.num_entries, Some(300));
        assert_eq!(p.comparator, Some(&b"leveldb.BytewiseComparator"[..]));
        assert_eq!(p.global_seqno().unwrap(), Some(0));
        assert!(p.index_has_user_keys());
        assert!(!p.index_is_delta_encoded());
        assert_eq!(p.get(names::NUM_ENTRIES).unwrap(), Some(&[0xac, 0x02][..]));
        let off = p.global_seqno_value_offset.unwrap();
        assert_eq!(&out[off..off + 8], &[0; 8]);
    }

    #[test]
    fn the_numbers_parse_reads_are_numbers_to_prop_number() {
        // `props` and the inspector show a property through `prop_number`: a number `Properties::parse` reads as
        // a varint must not come out as raw bytes there.
        for name in [names::INDEX_PARTITIONS, names::TOP_LEVEL_INDEX_SIZE, names::USER_DEFINED_TIMESTAMPS_PERSISTED] {
            assert_eq!(prop_kind(name.as_bytes()), PropKind::Varint, "{name}");
            assert_eq!(prop_number(name.as_bytes(), &[0]).unwrap(), Some(0), "{name}");
        }
    }

    #[test]
    fn unsorted_is_rejected() {
        let mut out = [0u8; 128];
        let mut b = BlockBuilder::new(&mut out, usize::MAX);
        b.add(b"rocksdb.b", &[1]).unwrap();
        b.add(b"rocksdb.a", &[1]).unwrap();
        let n = b.finish().len();
        assert!(Properties::parse(&out[..n]).is_err());
    }

    #[test]
    fn compression_name_both_syntaxes() {
        use crate::trailer::CompressionType as C;
        assert_eq!(CompressionName::parse(b"").unwrap(), CompressionName::Empty);
        assert_eq!(CompressionName::parse(b"LZ4").unwrap(), CompressionName::Legacy(C::Lz4));
        assert_eq!(CompressionName::parse(b"NoCompression").unwrap(), CompressionName::Legacy(C::None));
        assert!(CompressionName::parse(b"lz4").is_err(), "names are exact");
        assert!(CompressionName::parse(b"LZ4 ").is_err());
        let z = CompressionName::parse(b"BuiltinV2;07;").unwrap();
        assert_eq!(z, CompressionName::Manager { manager: b"BuiltinV2", types_hex: b"07" });
        assert!(z.uses(C::Zstd) && !z.uses(C::Lz4));
        let off = CompressionName::parse(b";;").unwrap();
        assert_eq!(off, CompressionName::Manager { manager: b"", types_hex: b"" });
        assert_eq!(off.types().count(), 0);
        let two = CompressionName::parse(b"BuiltinV2;0104;future;fields").unwrap();
        assert_eq!(two.types().collect::<std::vec::Vec<_>>(), [1, 4]);
        assert_eq!(CompressionName::parse(b"X;8A;").unwrap().types().next(), Some(0x8a));
        assert!(CompressionName::parse(b"BuiltinV2;07").is_err(), "missing separator");
        assert!(CompressionName::parse(b"BuiltinV2;7;").is_err(), "odd hex");
        assert!(CompressionName::parse(b"BuiltinV2;0g;").is_err(), "not hex");
    }
}
