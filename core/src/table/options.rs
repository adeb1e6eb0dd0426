//! What a table is written with.

use crate::error::{Error, Result};
use crate::trailer::{ChecksumType, CompressionType};

/// RocksDB's default `metadata_block_size`: the target size of an index (and filter) partition.
pub const DEFAULT_METADATA_BLOCK_SIZE: usize = 4096;

/// The index a table is written with (RocksDB's `BlockBasedTableOptions::index_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IndexType {
    /// One index block with an entry per data block (`kBinarySearch`, index type 0).
    #[default]
    BinarySearch,
    /// A partitioned index (`kTwoLevelIndexSearch`, index type 2): index partitions of about
    /// [`Options::metadata_block_size`] bytes, each an ordinary index block, and a top-level index mapping each
    /// partition's last separator to its handle. A reader keeps only the top level in memory.
    Partitioned,
}

impl IndexType {
    /// The value of the `rocksdb.block.based.table.index.type` property.
    pub fn property_value(self) -> u32 {
        match self {
            IndexType::BinarySearch => 0,
            IndexType::Partitioned => 2,
        }
    }
}

/// Settings for writing a table. The defaults are RocksDB's `SstFileWriter` defaults, with CRC32C checksums,
/// no compression and a 10 bits/key Bloom filter.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Options {
    /// Target size of a data block before compression (bytes).
    pub block_size: usize,
    /// A restart point every this many data-block entries.
    pub restart_interval: usize,
    /// A restart point every this many index entries (RocksDB's `index_block_restart_interval`). RocksDB
    /// defaults to 1; larger values prefix-compress the index (and, from format_version 4, store each handle
    /// as a size delta), making it smaller and a lookup's binary search shorter, at the cost of a short linear
    /// walk after it.
    pub index_restart_interval: usize,
    /// [`CompressionType::None`] or [`CompressionType::Lz4`] (needs feature `lz4`).
    pub compression: CompressionType,
    /// Block checksum; RocksDB accepts all five.
    pub checksum: ChecksumType,
    /// Footer format_version, 2 to 7: ≥ 3 writes a user-key index (falling back to internal keys when one user
    /// key spans two blocks), ≥ 4 delta-encoded index values, ≥ 6 context checksums (every block checksum
    /// offset by [`base_context_checksum`](Self::base_context_checksum) and its position, the index handle in
    /// the metaindex, a checksummed footer; readable by RocksDB ≥ 8.6), 7 the `BuiltinV2;..;` form of the
    /// `rocksdb.compression` property (readable by RocksDB ≥ 10.4). The filter is FastLocalBloom at every
    /// version (RocksDB picks the filter reader from the filter's own metadata, not from the format_version).
    pub format_version: u32,
    /// The file's base context checksum for format_version ≥ 6 (ignored below 6): must then be non-zero.
    /// RocksDB draws it at random per file; core has no randomness, so the caller picks it (a random value per
    /// file keeps blocks copied between files from verifying in the wrong place).
    pub base_context_checksum: u32,
    /// Bloom filter bits per key × 1000 (10 000 = 10 bits); 0 writes no filter.
    pub bloom_millibits_per_key: u32,
    /// Expected number of distinct user keys, if known. With a filter, the builder then sizes the filter for
    /// this many keys up front and sets its bits as keys arrive, instead of keeping 8 bytes per key until
    /// `finish`: about 1.25 bytes per expected key at 10 bits/key. More keys than expected still work, with a
    /// higher false-positive rate.
    pub expected_keys: Option<u64>,
    /// Sequence number for the entries added with `put`, `delete`, `merge` and `delete_range`.
    pub seqno: u64,
    /// Write `rocksdb.external_sst_file.version` = 2 and `global_seqno` = 0, as `SstFileWriter` does, so RocksDB
    /// can ingest the file. Readers then use the global seqno for every key: turn this off for tables whose keys
    /// carry their own sequence numbers.
    pub external_file: bool,
    /// `rocksdb.creation.time` (seconds since the epoch; core has no clock).
    pub creation_time: u64,
    /// `rocksdb.file.creation.time` (seconds since the epoch).
    pub file_creation_time: u64,
    /// Column family id written in the properties.
    pub column_family_id: u32,
    /// Column family name written in the properties.
    pub column_family_name: &'static str,
    /// The index type: one index block, or a partitioned index.
    pub index_type: IndexType,
    /// Target size of an index partition (and, with [`partition_filters`](Self::partition_filters), of a filter
    /// partition), in bytes (RocksDB's `metadata_block_size`, default 4096). Used with
    /// [`IndexType::Partitioned`] only.
    pub metadata_block_size: usize,
    /// Partition the filter along with the index (RocksDB's `partition_filters`; needs
    /// [`IndexType::Partitioned`] and a filter): one full filter per index partition, built as soon as the
    /// partition is closed, so the builder keeps the 8-byte key hashes of one partition only (plus about
    /// 1.25 bytes per key at 10 bits/key for the finished partitions). [`expected_keys`](Self::expected_keys) is
    /// not used then.
    pub partition_filters: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            block_size: 4096,
            restart_interval: 16,
            index_restart_interval: 1,
            compression: CompressionType::None,
            checksum: ChecksumType::Crc32c,
            format_version: 5,
            base_context_checksum: 0,
            bloom_millibits_per_key: 10_000,
            expected_keys: None,
            seqno: 0,
            external_file: true,
            creation_time: 0,
            file_creation_time: 0,
            column_family_id: 0,
            column_family_name: "default",
            index_type: IndexType::BinarySearch,
            metadata_block_size: DEFAULT_METADATA_BLOCK_SIZE,
            partition_filters: false,
        }
    }
}

impl Options {
    /// Sets the block size.
    pub fn block_size(mut self, v: usize) -> Self {
        self.block_size = v;
        self
    }
    /// Sets the data-block restart interval.
    pub fn restart_interval(mut self, v: usize) -> Self {
        self.restart_interval = v;
        self
    }
    /// Sets the index-block restart interval.
    pub fn index_restart_interval(mut self, v: usize) -> Self {
        self.index_restart_interval = v;
        self
    }
    /// Sets the compression.
    pub fn compression(mut self, v: CompressionType) -> Self {
        self.compression = v;
        self
    }
    /// Sets the checksum type.
    pub fn checksum(mut self, v: ChecksumType) -> Self {
        self.checksum = v;
        self
    }
    /// Sets the format_version (2..=7; 6 and 7 need a [`base_context_checksum`](Self::base_context_checksum)).
    pub fn format_version(mut self, v: u32) -> Self {
        self.format_version = v;
        self
    }
    /// Sets the base context checksum (non-zero; used by format_version ≥ 6).
    pub fn base_context_checksum(mut self, v: u32) -> Self {
        self.base_context_checksum = v;
        self
    }
    /// Sets the Bloom filter bits per key (0 = no filter).
    pub fn bloom_bits_per_key(mut self, bits: u32) -> Self {
        self.bloom_millibits_per_key = bits.saturating_mul(1000);
        self
    }
    /// Sets the expected number of distinct user keys (see [`Options::expected_keys`]).
    pub fn expected_keys(mut self, n: u64) -> Self {
        self.expected_keys = Some(n);
        self
    }
    /// Sets the seqno of entries added without one.
    pub fn seqno(mut self, v: u64) -> Self {
        self.seqno = v;
        self
    }
    /// Sets whether external-file properties are written.
    pub fn external_file(mut self, v: bool) -> Self {
        self.external_file = v;
        self
    }

    /// Sets the index type.
    pub fn index_type(mut self, v: IndexType) -> Self {
        self.index_type = v;
        self
    }
    /// Sets the target size of index (and filter) partitions.
    pub fn metadata_block_size(mut self, v: usize) -> Self {
        self.metadata_block_size = v;
        self
    }
    /// Sets whether the filter is partitioned (needs [`IndexType::Partitioned`]).
    pub fn partition_filters(mut self, v: bool) -> Self {
        self.partition_filters = v;
        self
    }

    /// True when the filter is written as partitions: [`partition_filters`](Self::partition_filters) with a
    /// filter.
    pub(crate) fn partitioned_filter(&self) -> bool {
        self.partition_filters && self.bloom_millibits_per_key != 0
    }

    /// Checks the options for values the writer cannot honour.
    pub fn validate(&self) -> Result<()> {
        let bad = |reason| Err(Error::InvalidArgument { reason });
        if self.block_size == 0 || self.block_size > (1 << 30) {
            return bad("block_size must be in 1..=1 GiB");
        }
        if self.restart_interval == 0 || self.restart_interval > u32::MAX as usize {
            return bad("restart_interval must be at least 1");
        }
        if self.index_restart_interval == 0 || self.index_restart_interval > u32::MAX as usize {
            return bad("index_restart_interval must be at least 1");
        }
        if !(2..=7).contains(&self.format_version) {
            return bad("format_version must be 2..=7 for writing");
        }
        if self.format_version >= 6 && self.base_context_checksum == 0 {
            return bad("format_version >= 6 needs a non-zero base_context_checksum");
        }
        match self.compression {
            CompressionType::None => {}
            CompressionType::Lz4 if cfg!(feature = "lz4") => {}
            _ => return bad("compression must be None or Lz4 (feature lz4)"),
        }
        if self.bloom_millibits_per_key != 0 && !(1000..=100_000).contains(&self.bloom_millibits_per_key) {
            return bad("bloom bits per key must be 0 or 1..=100");
        }
        if self.metadata_block_size == 0 || self.metadata_block_size > (1 << 30) {
            return bad("metadata_block_size must be in 1..=1 GiB");
        }
        if self.partition_filters && self.index_type != IndexType::Partitioned {
            return bad("partition_filters needs the partitioned index (IndexType::Partitioned)");
        }
        if self.seqno > crate::key::MAX_SEQNO {
            return bad("seqno exceeds 56 bits");
        }
        if self.external_file && self.seqno != 0 {
            return bad("external files must use seqno 0 (RocksDB assigns the global seqno on ingestion)");
        }
        Ok(())
    }
}
