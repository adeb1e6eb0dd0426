//! The table builder: a sans-IO state machine that turns sorted entries into the bytes of an SST file.
//!
//! Feed it entries; it hands back finished bytes through [`TableBuilder::next_output`]; write them in order and
//! you have a table. It owns no file and allocates nothing: all memory is the [`Workspace`] it was given.
//!
//! Workspace layout (absolute offsets, `B` = block region size, `cap` = workspace size):
//! ```text
//! [0, B)        region 0 ─┐ the pending data block, and the finished (maybe compressed) block awaiting
//! [B, 2B)       region 1 ─┘ hand-out; the two swap roles
//! [2B, log_end) record log: first key, index entries (handle + separator), range tombstones
//! ...           free
//! [.., cap)     last key copy, then the filter hashes (8 bytes each) growing down from the end
//! ```
//! A caller may take the hashes out while building and hand them back at finish ([`TableBuilder::spill_hashes`]);
//! the filter's bits are then set in a region at the very end, as with [`Options::expected_keys`].
//!
//! At finish the filter, index, range-deletion, properties and metaindex blocks and the footer are built one
//! at a time in the free space after the log.
//!
//! A partitioned index (and filter) is built from the same log: while building, a partition mark follows the
//! last index record of each partition (with partitioned filters, the mark holds the partition's finished
//! filter, and the hashes kept for it are dropped). At finish the filter partitions, the filter-partition
//! index, the index partitions and the top-level index come out one block per step, in that order (RocksDB's).
//!
//! One file per concern: `add` (the entry path), `flush` (when a data block is cut, sealing blocks),
//! `space` (workspace regions and growth), `log` (the record log), `separator` (index separators),
//! `partition` (closing index/filter partitions while building), `filter`, `index`, `range_del`,
//! `properties` (the meta blocks), `finish` (the finishing state machine), `spill` (taking the kept filter
//! hashes out and back, for callers with a temporary file), `stats` (counts and handles it reports).

mod add;
mod filter;
mod finish;
mod flush;
mod index;
mod log;
mod partition;
mod properties;
mod range_del;
mod separator;
mod space;
mod spill;
mod stats;

pub use stats::{TableHandles, TableStats};

use crate::block::{BlockState, ValueFraming};
use crate::checksum::BlockChecksum;
use crate::error::{Error, Result};
use crate::filter::fast_bloom::FastLocalBloom;
use crate::filter::FULL_FILTER_METADATA_LEN;
use crate::footer::FIRST_CONTEXT_CHECKSUM_VERSION;
use crate::handle::BlockHandle;
use crate::key::{split_internal_key, INTERNAL_KEY_TRAILER_LEN};
use crate::table::options::Options;
use crate::table::workspace::Workspace;
use crate::trailer::BLOCK_TRAILER_LEN;

use log::{TAG_FIRST_KEY, TAG_LAST_KEY};

/// Bytes of one filter hash kept per key until the filter is built.
const HASH_LEN: usize = 8;
/// Room for the properties block beyond the names and values we know the size of.
const PROPERTIES_SLACK: usize = 2048;
/// Slack in a block region beyond block size × 1.5: restarts and the entry that overflows the block.
const BLOCK_REGION_SLACK: usize = 256;
/// Bytes [`TableBuilder::estimated_size`] counts for the properties, metaindex and footer.
const META_BLOCKS_ESTIMATE: u64 = 1024;
/// What [`TableBuilder::workspace_len_hint`] counts per entry beyond its key (header, trailer, a short value).
const ENTRY_ESTIMATE: usize = 32;
/// What [`TableBuilder::workspace_len_hint`] counts per index record beyond its key (handle, tag, lengths).
const INDEX_ENTRY_ESTIMATE: usize = 24;
/// What [`TableBuilder::workspace_len_hint`] adds for the metaindex, footer and rounding.
const HINT_SLACK: usize = 4096;
/// Smallest workspace beyond the two block regions.
const MIN_FREE: usize = 256;

/// A block region's size for a block size: a full block plus the entry that overflows it, restarts and the
/// last-key copy.
const fn block_region_len(block_size: usize) -> usize {
    block_size + block_size / 2 + BLOCK_REGION_SLACK
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Building,
    LastBlock,
    Filter,
    Index,
    RangeDel,
    Properties,
    Metaindex,
    Footer,
    Done,
}

#[derive(Debug, Clone, Copy)]
struct Output {
    start: usize,
    len: usize,
    handed_out: bool,
}

/// Builds one table; see the module docs for the memory layout.
///
/// ```
/// use sstkit_core::table::{Options, TableBuilder, Table};
/// let mut ws = [0u8; 32 * 1024];
/// let mut file = [0u8; 16 * 1024];
/// let mut len = 0;
/// let mut b = TableBuilder::new(&mut ws[..], Options::default())?;
/// for (k, v) in [(&b"apple"[..], &b"red"[..]), (b"banana", b"yellow")] {
///     b.put(k, v)?;
///     while let Some(chunk) = b.next_output()? {
///         file[len..len + chunk.len()].copy_from_slice(chunk);
///         len += chunk.len();
///     }
/// }
/// b.finish()?;
/// while let Some(chunk) = b.next_output()? {
///     file[len..len + chunk.len()].copy_from_slice(chunk);
///     len += chunk.len();
/// }
/// let table = Table::open(&file[..len])?;
/// assert_eq!(table.properties().num_entries, Some(2));
/// # Ok::<(), sstkit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TableBuilder<W: Workspace> {
    ws: W,
    opts: Options,
    bloom: Option<FastLocalBloom>,
    block_cap: usize,
    pending: usize,
    block: BlockState,
    output: Option<Output>,
    log_end: usize,
    last_key_len: usize,
    has_last_key: bool,
    hashes: usize,
    /// Bytes at the very end reserved for a filter built as keys arrive ([`Options::expected_keys`]): bit data,
    /// 5 metadata bytes, 5 trailer bytes. 0 when hashes are kept instead.
    filter_region: usize,
    /// Distinct kept hashes ever pushed (a hash equal to the one before is not counted, as in
    /// [`FastLocalBloom::build_into`]), spilled or not; sizes the filter when hashes were spilled.
    distinct_hashes: u64,
    /// The last hash pushed, for [`distinct_hashes`](Self::distinct_hashes).
    last_hash: u64,
    /// Hashes taken out by the caller and handed back.
    spill: spill::SpillCount,
    pending_index: Option<BlockHandle>,
    last_tombstone: Option<usize>,
    index_needs_internal_keys: bool,
    stats: TableStats,
    stage: Stage,
    filter_handle: Option<BlockHandle>,
    index_handle: BlockHandle,
    range_del_handle: Option<BlockHandle>,
    properties_handle: BlockHandle,
    metaindex_handle: BlockHandle,
    /// Checksum type and (format_version ≥ 6) base context checksum of every block.
    sum: BlockChecksum,
    /// Some data block went out compressed (for the `rocksdb.compression` property).
    compression_used: bool,
    /// The open index partition (partitioned index).
    part: partition::OpenPartition,
    /// While finishing a partitioned index or filter: where the next partition's records start, relative to
    /// the log's start.
    scan: usize,
    /// While finishing: the end of the records logged while building, relative to the log's start.
    parts_end: usize,
    /// The index partition handed out last, to be logged before the next step.
    written_partition: Option<BlockHandle>,
    /// Filter partitions handed out, and the offset of the first.
    filter_partitions: u64,
    first_filter_partition: u64,
}

impl<W: Workspace> TableBuilder<W> {
    /// A builder over `workspace` (a few block sizes plus room for index entries and 8 bytes per filter key;
    /// see [`workspace_len_hint`](Self::workspace_len_hint)).
    pub fn new(mut workspace: W, opts: Options) -> Result<Self> {
        opts.validate()?;
        let bloom = if opts.bloom_millibits_per_key == 0 {
            None
        } else {
            Some(FastLocalBloom::with_millibits(opts.bloom_millibits_per_key)?)
        };
        let block_cap = block_region_len(opts.block_size);
        let min = 2 * block_cap + MIN_FREE;
        if !workspace.try_grow(min) || workspace.bytes().len() < min {
            return Err(Error::BufferTooSmall { needed: min });
        }
        let block = BlockState::new(opts.restart_interval, ValueFraming::LengthPrefixed);
        let filter_bits = match (bloom, opts.expected_keys) {
            // Partitioned filters keep the hashes of one partition only; the filter is built per partition.
            _ if opts.partitioned_filter() => 0,
            (Some(b), Some(n)) => b.bits_len(usize::try_from(n).unwrap_or(usize::MAX).max(1)),
            _ => 0,
        };
        let filter_region =
            if filter_bits > 0 { filter_bits + FULL_FILTER_METADATA_LEN + BLOCK_TRAILER_LEN } else { 0 };
        let min = min + filter_region;
        if !workspace.try_grow(min) || workspace.bytes().len() < min {
            return Err(Error::BufferTooSmall { needed: min });
        }
        if filter_region > 0 {
            let cap = workspace.bytes().len();
            workspace.bytes_mut()[cap - filter_region..].fill(0);
        }
        Ok(TableBuilder {
            ws: workspace,
            bloom,
            block_cap,
            pending: 0,
            block,
            output: None,
            log_end: 2 * block_cap,
            last_key_len: 0,
            has_last_key: false,
            hashes: 0,
            filter_region,
            distinct_hashes: 0,
            last_hash: 0,
            spill: spill::SpillCount::default(),
            pending_index: None,
            last_tombstone: None,
            index_needs_internal_keys: opts.format_version < 3,
            stats: TableStats { min_seqno: u64::MAX, ..TableStats::default() },
            stage: Stage::Building,
            filter_handle: None,
            index_handle: BlockHandle::NULL,
            range_del_handle: None,
            properties_handle: BlockHandle::NULL,
            metaindex_handle: BlockHandle::NULL,
            sum: BlockChecksum::new(
                opts.checksum,
                if opts.format_version >= FIRST_CONTEXT_CHECKSUM_VERSION { opts.base_context_checksum } else { 0 },
            ),
            compression_used: false,
            part: partition::OpenPartition::default(),
            scan: 0,
            parts_end: 0,
            written_partition: None,
            filter_partitions: 0,
            first_filter_partition: 0,
            opts,
        })
    }

    /// A workspace size that holds a table of `num_keys` keys of about `avg_key_len` bytes with these options.
    pub fn workspace_len_hint(opts: &Options, num_keys: usize, avg_key_len: usize) -> usize {
        let block_cap = block_region_len(opts.block_size);
        let blocks = num_keys.saturating_mul(avg_key_len + ENTRY_ESTIMATE) / opts.block_size.max(1) + 1;
        let index = blocks.saturating_mul(avg_key_len + INTERNAL_KEY_TRAILER_LEN + INDEX_ENTRY_ESTIMATE);
        let filter_per_key = (opts.bloom_millibits_per_key as usize).div_ceil(8000) + 1;
        let filter = if opts.bloom_millibits_per_key == 0 {
            0
        } else if opts.partitioned_filter() {
            // Finished partitions, plus the hashes of one partition (about metadata_block_size of filter).
            let per_partition = opts.metadata_block_size.saturating_mul(8000) / opts.bloom_millibits_per_key as usize;
            num_keys.saturating_mul(filter_per_key) + num_keys.min(2 * per_partition + 1024).saturating_mul(HASH_LEN)
        } else {
            num_keys.saturating_mul(HASH_LEN + filter_per_key)
        };
        2 * block_cap + index.saturating_mul(2) + filter + 2 * avg_key_len + PROPERTIES_SLACK + HINT_SLACK
    }

    /// The options this builder writes with.
    pub fn options(&self) -> &Options {
        &self.opts
    }

    /// Counts and sizes so far.
    pub fn stats(&self) -> &TableStats {
        &self.stats
    }

    /// The file size the table would have if finished now (roughly), for deciding when to start a new file.
    pub fn estimated_size(&self) -> u64 {
        let index = (self.log_end - 2 * self.block_cap) as u64;
        let filter = ((self.hashes as u64 + self.spill.spilled) * u64::from(self.opts.bloom_millibits_per_key))
            .div_ceil(8000)
            + self.filter_region as u64;
        let pending = if self.block.is_empty() { 0 } else { self.block.size_estimate() as u64 };
        self.stats.file_size + pending + index + filter + META_BLOCKS_ESTIMATE
    }

    /// True once `finish`(Self::finish) was called.
    pub fn is_finishing(&self) -> bool {
        self.stage != Stage::Building
    }

    /// True when the table is complete and every byte was handed out.
    pub fn is_done(&self) -> bool {
        self.stage == Stage::Done && self.output.is_none_or(|o| o.handed_out)
    }

    /// The handles of the meta blocks, once the table is complete ([`is_done`](Self::is_done)).
    pub fn handles(&self) -> Option<TableHandles> {
        self.is_done().then_some(TableHandles {
            index: self.index_handle,
            filter: self.filter_handle,
            range_del: self.range_del_handle,
            properties: self.properties_handle,
            metaindex: self.metaindex_handle,
        })
    }

    /// The first user key added (point entries only), if any.
    pub fn first_user_key(&self) -> Option<&[u8]> {
        self.find_key_record(TAG_FIRST_KEY)
    }

    /// The last user key added (point entries only), if any.
    pub fn last_user_key(&self) -> Option<&[u8]> {
        if !self.has_last_key {
            return None;
        }
        if self.stage == Stage::Building {
            return split_internal_key(self.last_key()).ok().map(|(u, _)| u);
        }
        // After finish started the last key lives in a log record.
        self.find_key_record(TAG_LAST_KEY)
    }

    fn check_building(&self) -> Result<()> {
        if self.stage != Stage::Building {
            return Err(Error::InvalidArgument { reason: "table is already finishing" });
        }
        Ok(())
    }

    fn cap(&self) -> usize {
        self.ws.bytes().len()
    }

    /// Bytes at the end of the workspace below which the last-key copy sits: the filter region, then hashes.
    fn back_reserved(&self) -> usize {
        self.filter_region + self.hashes * HASH_LEN
    }

    fn back_len(&self) -> usize {
        self.back_reserved() + self.last_key_len
    }

    /// The last internal key added.
    fn last_key(&self) -> &[u8] {
        let end = self.cap() - self.back_reserved();
        &self.ws.bytes()[end - self.last_key_len..end]
    }

    fn output_pending(&self) -> bool {
        matches!(self.output, Some(o) if !o.handed_out)
    }
}
