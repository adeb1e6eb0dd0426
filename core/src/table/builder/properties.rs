//! The properties block: what the table says about itself, from the final stats and options.

use super::{TableBuilder, PROPERTIES_SLACK};
use crate::error::{Error, Result};
use crate::properties::{build_properties, names, PropValue};
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};
use crate::varint::MAX_VARINT64_LEN;

/// Properties this builder writes, at most.
const MAX_PROPERTIES: usize = 40;

impl<W: Workspace> TableBuilder<W> {
    /// Calls `f` with each property the properties block holds (name, encoded value), once the table is
    /// complete ([`is_done`](Self::is_done)); the same list the block was built from, in no particular order.
    pub fn for_each_property(&self, mut f: impl FnMut(&str, &[u8])) -> Result<()> {
        if !self.is_done() {
            return Err(Error::InvalidArgument { reason: "properties asked before the table was finished" });
        }
        for (name, value) in self.property_list()? {
            let mut tmp = [0u8; MAX_VARINT64_LEN];
            f(name, value.encode(&mut tmp)?);
        }
        Ok(())
    }

    /// The properties stage: builds and seals the properties block.
    pub(super) fn write_properties(&mut self) -> Result<()> {
        let need = PROPERTIES_SLACK + self.opts.column_family_name.len() + BLOCK_TRAILER_LEN;
        self.reserve(self.block_cap, need)?;
        let n = self.build_properties()?;
        self.properties_handle = self.seal(self.log_end, n, CompressionType::None)?;
        Ok(())
    }

    /// The properties this table is written with (read once the stats and the filter are final).
    fn property_list(&self) -> Result<heapless::Vec<(&'static str, PropValue<'static>), MAX_PROPERTIES>> {
        let s = self.stats;
        let o = &self.opts;
        // RocksDB's naming: format_version ≥ 7 writes `<manager>;<hex types used>;` (no manager when compression
        // is off); older versions the codec's name (the configured one, which is also the only one we use).
        let compression: &[u8] = if o.format_version >= 7 {
            fv7_compression_name(o.compression, self.compression_used)
        } else if o.compression == CompressionType::None {
            b"NoCompression"
        } else {
            o.compression.name().as_bytes()
        };
        let user_keys = u64::from(self.user_key_index());
        let delta = u64::from(o.format_version >= 4);
        let mut props: heapless::Vec<(&'static str, PropValue<'static>), MAX_PROPERTIES> = heapless::Vec::new();
        let list = [
            (names::DATA_SIZE, PropValue::Num(s.data_size)),
            (names::INDEX_SIZE, PropValue::Num(s.index_size)),
            (names::FILTER_SIZE, PropValue::Num(s.filter_size)),
            (names::RAW_KEY_SIZE, PropValue::Num(s.raw_key_size)),
            (names::RAW_VALUE_SIZE, PropValue::Num(s.raw_value_size)),
            (names::NUM_DATA_BLOCKS, PropValue::Num(s.num_data_blocks)),
            (names::NUM_ENTRIES, PropValue::Num(s.num_entries())),
            (names::NUM_FILTER_ENTRIES, PropValue::Num(s.num_filter_entries)),
            (names::DELETED_KEYS, PropValue::Num(s.num_deletions + s.num_range_deletions)),
            (names::MERGE_OPERANDS, PropValue::Num(s.num_merges)),
            (names::NUM_RANGE_DELETIONS, PropValue::Num(s.num_range_deletions)),
            (names::FORMAT_VERSION, PropValue::Num(0)),
            (names::FIXED_KEY_LEN, PropValue::Num(0)),
            (names::COLUMN_FAMILY_ID, PropValue::Num(u64::from(o.column_family_id))),
            (names::COLUMN_FAMILY_NAME, PropValue::Bytes(o.column_family_name.as_bytes())),
            (names::COMPARATOR, PropValue::Bytes(b"leveldb.BytewiseComparator")),
            (names::COMPRESSION, PropValue::Bytes(compression)),
            (
                names::COMPRESSION_OPTIONS,
                PropValue::Bytes(
                    b"window_bits=-14; level=32767; strategy=0; max_dict_bytes=0; zstd_max_train_bytes=0; \
enabled=0; max_dict_buffer_bytes=0; use_zstd_dict_trainer=1; ",
                ),
            ),
            (names::MERGE_OPERATOR, PropValue::Bytes(b"nullptr")),
            (names::PREFIX_EXTRACTOR, PropValue::Bytes(b"nullptr")),
            (names::PROPERTY_COLLECTORS, PropValue::Bytes(b"[]")),
            (names::CREATION_TIME, PropValue::Num(o.creation_time)),
            (names::OLDEST_KEY_TIME, PropValue::Num(o.creation_time)),
            (names::FILE_CREATION_TIME, PropValue::Num(o.file_creation_time)),
            (names::DB_ID, PropValue::Bytes(b"SST Writer")),
            (names::DB_HOST_ID, PropValue::Bytes(b"sstkit")),
            (names::INDEX_KEY_IS_USER_KEY, PropValue::Num(user_keys)),
            (names::INDEX_VALUE_IS_DELTA_ENCODED, PropValue::Num(delta)),
            (names::INDEX_TYPE, PropValue::Fixed32(o.index_type.property_value())),
            (names::WHOLE_KEY_FILTERING, PropValue::Bytes(b"1")),
            (names::PREFIX_FILTERING, PropValue::Bytes(b"0")),
        ];
        let full = |_| Error::InvalidArgument { reason: "too many properties for the fixed list" };
        for p in list {
            props.push(p).map_err(full)?;
        }
        if self.bloom.is_some() && self.filter_handle.is_some() {
            props.push((names::FILTER_POLICY, PropValue::Bytes(b"bloomfilter"))).map_err(full)?;
        }
        if self.partitioned_index() {
            props.push((names::INDEX_PARTITIONS, PropValue::Num(s.index_partitions))).map_err(full)?;
            props.push((names::TOP_LEVEL_INDEX_SIZE, PropValue::Num(s.top_level_index_size))).map_err(full)?;
        }
        if o.external_file {
            props.push((names::EXTERNAL_SST_VERSION, PropValue::Fixed32(2))).map_err(full)?;
            props.push((names::GLOBAL_SEQNO, PropValue::Fixed64(0))).map_err(full)?;
        }
        Ok(props)
    }

    fn build_properties(&mut self) -> Result<usize> {
        let mut props = self.property_list()?;
        let at = self.log_end;
        let ws = self.ws.bytes_mut();
        let end = ws.len() - BLOCK_TRAILER_LEN;
        build_properties(&mut props, &mut ws[at..end])
    }
}

/// `rocksdb.compression` of format_version ≥ 7: `BuiltinV2;<the type used, two hex digits>;`, `BuiltinV2;;` when
/// the codec was configured but no block paid to compress, `;;` when compression is off.
fn fv7_compression_name(configured: CompressionType, used: bool) -> &'static [u8] {
    if configured == CompressionType::None {
        return b";;";
    }
    if !used {
        return b"BuiltinV2;;";
    }
    match configured {
        CompressionType::None => b";;",
        CompressionType::Snappy => b"BuiltinV2;01;",
        CompressionType::Zlib => b"BuiltinV2;02;",
        CompressionType::Bzip2 => b"BuiltinV2;03;",
        CompressionType::Lz4 => b"BuiltinV2;04;",
        CompressionType::Lz4hc => b"BuiltinV2;05;",
        CompressionType::Xpress => b"BuiltinV2;06;",
        CompressionType::Zstd | CompressionType::ZstdNotFinal => b"BuiltinV2;07;",
    }
}

#[cfg(test)]
mod tests {
    use super::fv7_compression_name;
    use crate::table::{Options, TableBuilder};
    use crate::trailer::CompressionType;

    #[test]
    fn fv7_names_say_which_codec_was_used() {
        assert_eq!(fv7_compression_name(CompressionType::None, true), b";;");
        assert_eq!(fv7_compression_name(CompressionType::Lz4, false), b"BuiltinV2;;");
        assert_eq!(fv7_compression_name(CompressionType::Lz4, true), b"BuiltinV2;04;");
        assert_eq!(fv7_compression_name(CompressionType::Zstd, true), b"BuiltinV2;07;");
    }

    #[test]
    fn properties_come_out_once_finished() {
        let mut b = TableBuilder::new(std::vec::Vec::new(), Options::default()).unwrap();
        b.put(b"k", b"v").unwrap();
        assert!(b.for_each_property(|_, _| {}).is_err(), "not before the table is finished");
        b.finish().unwrap();
        while b.next_output().unwrap().is_some() {}
        let mut entries = None;
        b.for_each_property(|name, v| {
            if name == crate::properties::names::NUM_ENTRIES {
                entries = Some(v.to_vec());
            }
        })
        .unwrap();
        assert_eq!(entries, Some(std::vec![1]));
    }
}
