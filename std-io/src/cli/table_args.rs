//! The table-option flags every command that writes tables shares (`build`, `merge`): one flattened clap
//! struct, [`TableArgs`], and the writer options they make.

use sstkit_core::table::IndexType;
use sstkit_core::{ChecksumType, CompressionType};

use crate::error::{Error, Result};
use crate::writer::WriterOptions;

/// Compression for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Compression {
    /// Store blocks as they are.
    None,
    /// LZ4 (a block stays uncompressed unless that saves 12.5%).
    Lz4,
}

/// Index type for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum IndexKind {
    /// One index block (RocksDB's kBinarySearch).
    BinarySearch,
    /// Index partitions of about --metadata-block-size bytes under a top-level index (kTwoLevelIndexSearch).
    Partitioned,
}

/// Block checksum for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Checksum {
    /// No checksum.
    None,
    /// CRC32C (masked), RocksDB's classic.
    Crc32c,
    /// xxHash32.
    Xxhash,
    /// xxHash64 (low 32 bits).
    Xxhash64,
    /// XXH3 (RocksDB 7.x's default).
    Xxh3,
}

/// How the tables a command writes are made (flattened into `build` and `merge`).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct TableArgs {
    /// Data block size in bytes (256 to 1073741824).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(256..=1 << 30))]
    pub(crate) block_size: u64,
    /// Restart interval of data blocks (1 to 65536).
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(crate) restart_interval: u64,
    /// Restart interval of the index block (1 to 65536; 1, RocksDB's default, stores every index key whole;
    /// larger values make the index smaller).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=65536))]
    pub(crate) index_restart_interval: u64,
    /// Block compression.
    #[arg(long, value_enum, default_value = "none")]
    pub(crate) compression: Compression,
    /// Bloom filter bits per key (0 = no filter, at most 100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(0..=100))]
    pub(crate) bloom_bits: u32,
    /// Block checksum.
    #[arg(long, value_enum, default_value = "crc32c")]
    pub(crate) checksum: Checksum,
    /// Footer format_version, 2–7 (5 is read by RocksDB 6.6 through 11.x; 6 by RocksDB ≥ 8.6; 7 by ≥ 10.4).
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(2..=7))]
    pub(crate) format_version: u32,
    /// Index type: one index block, or index partitions under a top-level index (a reader then keeps only
    /// the top level in memory).
    #[arg(long, value_enum, default_value = "binary-search")]
    pub(crate) index_type: IndexKind,
    /// Target size of an index (and filter) partition in bytes, with --index-type partitioned (64 to
    /// 1073741824; RocksDB's default 4096).
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u64).range(64..=1 << 30))]
    pub(crate) metadata_block_size: u64,
    /// Partition the Bloom filter along with the index (needs --index-type partitioned): the writer then
    /// keeps the key hashes of one partition only.
    #[arg(long)]
    pub(crate) partition_filters: bool,
    /// Sequence number of every entry (below 2^56); non-zero writes a non-external table (not ingestible by
    /// RocksDB).
    #[arg(long, default_value_t = 0)]
    pub(crate) seqno: u64,
    /// Cut the output into files of about this many bytes (K, M, G suffixes; 64K to 1024G), named
    /// OUTPUT/<level>/<id>.sst.
    #[arg(long, value_parser = parse_target_size)]
    pub(crate) target_size: Option<u64>,
    /// Level written into rolled file names (0 to 63).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=63))]
    pub(crate) level: u32,
}

/// A byte count with an optional K, M or G suffix.
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num.trim().parse().map_err(|_| format!("bad size {s:?} (a number with an optional K, M or G)"))?;
    n.checked_mul(mult).ok_or_else(|| format!("size {s:?} is too large"))
}

/// The smallest `--target-size`: below it a large input makes an absurd number of files.
pub(crate) const MIN_TARGET_SIZE: u64 = 64 << 10;
/// The largest `--target-size`.
const MAX_TARGET_SIZE: u64 = 1 << 40;
fn parse_target_size(s: &str) -> Result<u64, String> {
    match parse_size(s)? {
        n if n < MIN_TARGET_SIZE => Err(format!(
            "{n} bytes is too small: at least 64K ({MIN_TARGET_SIZE} bytes), or a large input makes a huge number of \
             files"
        )),
        n if n > MAX_TARGET_SIZE => Err(format!("{n} bytes is too large: at most 1024G")),
        n => Ok(n),
    }
}

impl TableArgs {
    /// The writer options these flags say, checked.
    pub(crate) fn writer_options(&self) -> Result<WriterOptions> {
        let mut o = WriterOptions::default()
            .block_size(self.block_size as usize)
            .restart_interval(self.restart_interval as usize)
            .index_restart_interval(self.index_restart_interval as usize)
            .compression(match self.compression {
                Compression::None => CompressionType::None,
                Compression::Lz4 => CompressionType::Lz4,
            })
            .bloom_bits_per_key(self.bloom_bits)
            .checksum(match self.checksum {
                Checksum::None => ChecksumType::None,
                Checksum::Crc32c => ChecksumType::Crc32c,
                Checksum::Xxhash => ChecksumType::XxHash,
                Checksum::Xxhash64 => ChecksumType::XxHash64,
                Checksum::Xxh3 => ChecksumType::Xxh3,
            })
            .format_version(self.format_version)
            .index_type(match self.index_type {
                IndexKind::BinarySearch => IndexType::BinarySearch,
                IndexKind::Partitioned => IndexType::Partitioned,
            })
            .metadata_block_size(self.metadata_block_size as usize)
            .partition_filters(self.partition_filters)
            .seqno(self.seqno);
        if self.partition_filters && self.index_type != IndexKind::Partitioned {
            return Err(Error::Invalid("--partition-filters needs --index-type partitioned".into()));
        }
        if self.seqno != 0 {
            o = o.external_file(false);
        }
        o.core_options()?;
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_size, parse_target_size};

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("10k"), Ok(10 << 10));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("x").is_err());
        assert!(parse_target_size("1K").unwrap_err().contains("at least 64K"));
        assert_eq!(parse_target_size("64K"), Ok(64 << 10));
        assert!(parse_target_size("2000G").unwrap_err().contains("at most"));
    }
}
