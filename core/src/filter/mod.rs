//! Filters: RocksDB full filters (FastLocalBloom, legacy Bloom, Ribbon) and LevelDB filter blocks.
//!
//! - Writing: [`FastLocalBloom`] sizes and builds a format_version 5 full filter from 64-bit key hashes
//!   ([`fast_bloom::key_hash`] = [`xxph3_64`] of the user key) into a caller buffer, byte-identical to RocksDB 7.8.
//!   [`LegacyBloom`] does the same for the format_version < 5 layout.
//! - Reading: [`FullFilter`] answers `may_match` for any RocksDB full filter block (`fullfilter.<policy>`),
//!   Ribbon ([`RibbonFilter`], read only) included;
//!   [`LevelDbFilterBlock`] for LevelDB's per-2-KiB filter block (`filter.leveldb.BuiltinBloomFilter2`).
//! - Hashes: [`xxph3_64`] (RocksDB's frozen XXH3 preview) and the 32-bit [`hash32`] family.
//!
//! The keys in every filter are user keys (no internal-key trailer).

pub mod fast_bloom;
mod full;
pub mod hash32;
pub mod legacy_bloom;
pub mod leveldb;
pub mod metadata;
pub mod ribbon;
pub mod xxph3;

pub use fast_bloom::FastLocalBloom;
pub use full::{AlwaysMatchReason, FullFilter, FullFilterKind, KeyHash};
pub use legacy_bloom::LegacyBloom;
pub use leveldb::LevelDbFilterBlock;
pub use metadata::{FullFilterMetadata, LegacyBloomMetadata, FULL_FILTER_METADATA_LEN};
pub use ribbon::RibbonFilter;
pub use xxph3::xxph3_64;

/// Metaindex name of the full filter RocksDB's built-in Bloom/Ribbon policies write.
pub const ROCKSDB_FULL_FILTER_NAME: &[u8] = b"fullfilter.rocksdb.BuiltinBloomFilter";
/// Metaindex name of LevelDB's filter block.
pub const LEVELDB_FILTER_NAME: &[u8] = b"filter.leveldb.BuiltinBloomFilter2";
