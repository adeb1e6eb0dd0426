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
//! At finish the filter, index, range-deletion, properties and metaindex blocks and the footer are built one
//! at a time in the free space after the log.

use crate::block::{BlockState, ValueFraming};
use crate::checksum::BlockChecksum;
use crate::error::{Error, KeyExcerpt, Result};
use crate::filter::fast_bloom::{add_hash, key_hash, FastLocalBloom};
use crate::filter::{FullFilterMetadata, FULL_FILTER_METADATA_LEN};
use crate::footer::{Footer, FIRST_CONTEXT_CHECKSUM_VERSION, INDEX_HANDLE_NAME};
use crate::handle::BlockHandle;
use crate::key::{pack_trailer, split_internal_key, InternalKey, ValueType, INTERNAL_KEY_TRAILER_LEN, MAX_SEQNO};
use crate::metaindex::{build_metaindex, FULL_FILTER_BLOOM, PROPERTIES, RANGE_DEL};
use crate::properties::{build_properties, names, PropValue};
use crate::table::options::Options;
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};
use crate::varint::{decode_varint64, encode_varint64, varint_len, zigzag_encode};

const TAG_INDEX: u8 = 1;
const TAG_TOMBSTONE: u8 = 2;
const TAG_FIRST_KEY: u8 = 3;
const TAG_LAST_KEY: u8 = 4;
const HASH_LEN: usize = 8;
/// RocksDB's `kValueTypeForSeek` (7.x): the type byte of shortened index separators.
const VALUE_TYPE_FOR_SEEK: ValueType = ValueType::WideColumnEntity;
/// Room for the properties block beyond the names and values we know the size of.
const PROPERTIES_SLACK: usize = 2048;

/// Counts and sizes of a table, as it is being built and once finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TableStats {
    /// Point entries of type Value.
    pub num_puts: u64,
    /// Point deletions (Deletion, SingleDeletion and DeletionWithTimestamp).
    pub num_deletions: u64,
    /// Merge operands.
    pub num_merges: u64,
    /// Range deletions.
    pub num_range_deletions: u64,
    /// Other point entries (blob indexes, wide columns, ...).
    pub num_other: u64,
    /// Sum of internal key lengths (range deletions included).
    pub raw_key_size: u64,
    /// Sum of value lengths (range deletion end keys included).
    pub raw_value_size: u64,
    /// Data blocks written.
    pub num_data_blocks: u64,
    /// Bytes of data blocks including trailers.
    pub data_size: u64,
    /// Bytes of the index block including its trailer.
    pub index_size: u64,
    /// Bytes of the filter block contents.
    pub filter_size: u64,
    /// Keys added to the filter.
    pub num_filter_entries: u64,
    /// Smallest sequence number seen (`u64::MAX` when empty).
    pub min_seqno: u64,
    /// Largest sequence number seen.
    pub max_seqno: u64,
    /// Bytes handed out so far; the file size once finished.
    pub file_size: u64,
}

impl TableStats {
    /// Point entries plus range deletions, as `rocksdb.num.entries` counts them.
    pub fn num_entries(&self) -> u64 {
        self.num_puts + self.num_deletions + self.num_merges + self.num_other + self.num_range_deletions
    }

    /// Smallest and largest sequence number of the entries, `None` while the table is empty.
    pub fn seqno_range(&self) -> Option<(u64, u64)> {
        (self.min_seqno <= self.max_seqno).then_some((self.min_seqno, self.max_seqno))
    }
}

/// Where a finished table's meta blocks are: what [`TableBuilder::handles`] reports once the footer was handed
/// out, so a caller can describe the file without reading it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableHandles {
    /// The index block.
    pub index: BlockHandle,
    /// The full filter block, if one was written.
    pub filter: Option<BlockHandle>,
    /// The range-deletion block, if one was written.
    pub range_del: Option<BlockHandle>,
    /// The properties block.
    pub properties: BlockHandle,
    /// The metaindex block.
    pub metaindex: BlockHandle,
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
        // Room for a full block plus the entry that overflows it, restarts and the last-key copy.
        let block_cap = opts.block_size + opts.block_size / 2 + 256;
        let min = 2 * block_cap + 256;
        if !workspace.try_grow(min) || workspace.bytes().len() < min {
            return Err(Error::BufferTooSmall { needed: min });
        }
        let block = BlockState::new(opts.restart_interval, ValueFraming::LengthPrefixed);
        let filter_bits = match (bloom, opts.expected_keys) {
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
            opts,
        })
    }

    /// A workspace size that holds a table of `num_keys` keys of about `avg_key_len` bytes with these options.
    pub fn workspace_len_hint(opts: &Options, num_keys: usize, avg_key_len: usize) -> usize {
        let block_cap = opts.block_size + opts.block_size / 2 + 256;
        let blocks = num_keys.saturating_mul(avg_key_len + 32) / opts.block_size.max(1) + 1;
        let index = blocks.saturating_mul(avg_key_len + 8 + 24);
        let filter = if opts.bloom_millibits_per_key == 0 {
            0
        } else {
            num_keys.saturating_mul(HASH_LEN + (opts.bloom_millibits_per_key as usize).div_ceil(8000) + 1)
        };
        2 * block_cap + index.saturating_mul(2) + filter + 2 * avg_key_len + PROPERTIES_SLACK + 4096
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
        let filter = (self.hashes as u64 * u64::from(self.opts.bloom_millibits_per_key)).div_ceil(8000)
            + self.filter_region as u64;
        let pending = if self.block.is_empty() { 0 } else { self.block.size_estimate() as u64 };
        self.stats.file_size + pending + index + filter + 1024
    }

    /// True once [`finish`](Self::finish) was called.
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

    /// Calls `f` with each property the properties block holds (name, encoded value), once the table is
    /// complete ([`is_done`](Self::is_done)); the same list the block was built from, in no particular order.
    pub fn for_each_property(&self, mut f: impl FnMut(&str, &[u8])) -> Result<()> {
        if !self.is_done() {
            return Err(Error::InvalidArgument { reason: "properties asked before the table was finished" });
        }
        for (name, value) in self.property_list()? {
            let mut tmp = [0u8; 10];
            f(name, value.encode(&mut tmp)?);
        }
        Ok(())
    }

    /// The smallest range-deletion start and the largest (exclusive) range-deletion end, if any.
    pub fn range_deletion_bounds(&self) -> Option<(&[u8], &[u8])> {
        let ws = self.ws.bytes();
        let mut bounds: Option<(&[u8], &[u8])> = None;
        let mut p = 2 * self.block_cap;
        while p < self.log_end {
            let (tag, _, next) = read_record(ws, p).ok()?;
            if tag == TAG_TOMBSTONE {
                let (_, start, end) = parse_tombstone(ws, p).ok()?;
                // Starts increase, so the first is the smallest; ends do not.
                bounds = Some(match bounds {
                    None => (start, end),
                    Some((s, e)) => (s, e.max(end)),
                });
            }
            p = next;
        }
        bounds
    }

    /// Adds a value. User keys must strictly increase across `put`, `delete` and `merge`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Value), value, true)
    }

    /// Adds a point deletion.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Deletion), &[], true)
    }

    /// Adds a merge operand.
    pub fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Merge), operand, true)
    }

    /// Adds an entry with its own seqno and type (for LSM engines). Internal keys must strictly increase:
    /// user key ascending, then seqno descending. Range deletions go through [`delete_range`](Self::delete_range).
    pub fn add(&mut self, key: InternalKey<'_>, value: &[u8]) -> Result<()> {
        if key.kind == ValueType::RangeDeletion {
            return Err(Error::InvalidArgument { reason: "range deletions go through delete_range" });
        }
        if key.seqno > MAX_SEQNO {
            return Err(Error::InvalidArgument { reason: "seqno exceeds 56 bits" });
        }
        if self.opts.external_file && key.seqno != 0 {
            return Err(Error::InvalidArgument { reason: "external files must use seqno 0" });
        }
        self.add_inner(key, value, false)
    }

    /// Deletes the user keys in `[start, end)`. Calls must come with strictly increasing `start`; they may be
    /// interleaved with point entries in any way.
    pub fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.delete_range_at(start, end, self.opts.seqno)
    }

    /// [`delete_range`](Self::delete_range) with its own seqno.
    pub fn delete_range_at(&mut self, start: &[u8], end: &[u8], seqno: u64) -> Result<()> {
        self.check_building()?;
        if start >= end {
            return Err(Error::InvalidArgument { reason: "range deletion needs start < end" });
        }
        if seqno > MAX_SEQNO || (self.opts.external_file && seqno != 0) {
            return Err(Error::InvalidArgument { reason: "bad seqno for a range deletion" });
        }
        if let Some(at) = self.last_tombstone {
            let prev = self.tombstone_at(at)?.1;
            if start <= prev {
                return Err(Error::OutOfOrder { previous: KeyExcerpt::new(prev), key: KeyExcerpt::new(start) });
            }
        }
        let rec = 1
            + varint_len(seqno)
            + varint_len(start.len() as u64)
            + start.len()
            + varint_len(end.len() as u64)
            + end.len();
        self.reserve(self.block_cap, rec)?;
        let at = self.log_end;
        let mut p = at;
        let ws = self.ws.bytes_mut();
        ws[p] = TAG_TOMBSTONE;
        p += 1;
        p += encode_varint64(seqno, &mut ws[p..])?;
        p += encode_varint64(start.len() as u64, &mut ws[p..])?;
        ws[p..p + start.len()].copy_from_slice(start);
        p += start.len();
        p += encode_varint64(end.len() as u64, &mut ws[p..])?;
        ws[p..p + end.len()].copy_from_slice(end);
        p += end.len();
        self.log_end = p;
        self.last_tombstone = Some(at);
        let s = &mut self.stats;
        s.num_range_deletions += 1;
        s.raw_key_size += (start.len() + INTERNAL_KEY_TRAILER_LEN) as u64;
        s.raw_value_size += end.len() as u64;
        s.min_seqno = s.min_seqno.min(seqno);
        s.max_seqno = s.max_seqno.max(seqno);
        Ok(())
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

    /// The first user key added (point entries only), if any.
    pub fn first_user_key(&self) -> Option<&[u8]> {
        self.find_key_record(TAG_FIRST_KEY)
    }

    fn find_key_record(&self, tag: u8) -> Option<&[u8]> {
        for r in self.records() {
            match r {
                Ok((t, body)) if t == tag => return split_internal_key(body).ok().map(|(u, _)| u),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
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

    fn tombstone_at(&self, at: usize) -> Result<(u64, &[u8], &[u8])> {
        parse_tombstone(self.ws.bytes(), at)
    }

    fn output_pending(&self) -> bool {
        matches!(self.output, Some(o) if !o.handed_out)
    }

    fn should_flush(&self, key_len: usize, value_len: usize) -> bool {
        if self.block.is_empty() {
            return false;
        }
        let size = self.block.size_estimate();
        let target = self.opts.block_size;
        if size >= target {
            return true;
        }
        // RocksDB's block_size_deviation = 10: cut early rather than overshoot by a lot.
        let limit = (target * 90).div_ceil(100);
        size > limit && self.block.size_after(key_len, value_len) > target
    }

    #[inline]
    fn add_inner(&mut self, key: InternalKey<'_>, value: &[u8], strict_user: bool) -> Result<()> {
        self.check_building()?;
        let klen = key.encoded_len();
        let trailer = key.trailer();
        let mut same_user = false;
        if self.has_last_key {
            let (prev_user, prev_trailer) = split_internal_key(self.last_key())?;
            let user_ord = crate::key::compare_bytes(prev_user, key.user_key);
            same_user = user_ord == core::cmp::Ordering::Equal;
            let ord = user_ord.then(trailer.cmp(&prev_trailer));
            if ord != core::cmp::Ordering::Less || (strict_user && same_user) {
                return Err(Error::OutOfOrder {
                    previous: KeyExcerpt::new(prev_user),
                    key: KeyExcerpt::new(key.user_key),
                });
            }
        }
        let mut flush = self.should_flush(klen, value.len());
        // An entry that cannot join the pending block even though it is under target size also cuts it.
        let fits_now = || -> usize {
            let last = self.block.last_key(self.region(self.pending));
            let mut tmp_needed = self.block.needed_for(last, key.user_key, value.len());
            tmp_needed += INTERNAL_KEY_TRAILER_LEN * 2 + BLOCK_TRAILER_LEN;
            tmp_needed
        };
        // `size_after` plus the last-key copy bounds what `fits_now` computes exactly: skip it when that fits.
        let bound = self.block.size_after(key.user_key.len(), value.len())
            + key.user_key.len()
            + INTERNAL_KEY_TRAILER_LEN * 2
            + BLOCK_TRAILER_LEN;
        if !flush && !self.block.is_empty() && bound > self.block_cap && fits_now() > self.block_cap {
            flush = true;
        }
        if flush && self.output_pending() {
            return Err(Error::OutputPending);
        }
        // Space: a block region big enough for this entry alone, and log/back room for the index record, the
        // first-key record, the new hash and the new last-key copy (the old copy stays intact until replaced).
        // (Skip the exact figure when a generous bound already fits the regions: reserve ignores sizes below
        // the current region size.)
        let ulen = key.user_key.len();
        let alone_bound = 3 * 5 + 2 * ulen + value.len() + 8 + INTERNAL_KEY_TRAILER_LEN * 2 + BLOCK_TRAILER_LEN;
        let alone = if alone_bound <= self.block_cap {
            0
        } else {
            BlockState::new(self.opts.restart_interval, ValueFraming::LengthPrefixed).needed_for(
                &[],
                key.user_key,
                value.len(),
            ) + INTERNAL_KEY_TRAILER_LEN * 2
                + BLOCK_TRAILER_LEN
        };
        let index_rec =
            if flush || self.pending_index.is_some() { 1 + 20 + 5 + self.last_key_len.max(klen) } else { 0 };
        let first_rec = if self.has_last_key { 0 } else { 1 + 5 + klen };
        let new_hash = if self.bloom.is_some() && !same_user { HASH_LEN } else { 0 };
        let new_hash_room = if self.filter_region > 0 { 0 } else { new_hash };
        let need_free = index_rec + first_rec + self.last_key_len + new_hash_room + klen;
        self.reserve(alone, need_free)?;

        if flush {
            self.flush_block()?;
        }
        if let Some(handle) = self.pending_index.take() {
            if same_user {
                // One user key spans two blocks: a user-key index could not tell them apart.
                self.index_needs_internal_keys = true;
            }
            self.append_index_record(handle, Some(key))?;
        }
        if !self.has_last_key {
            self.append_record_with_key(TAG_FIRST_KEY, key)?;
        }
        // Push the filter hash, then replace the last-key copy (it sits just below the hashes).
        let cap = self.cap();
        if new_hash != 0 {
            let h = key_hash(key.user_key);
            if self.filter_region > 0 {
                let bits_len = self.filter_region - FULL_FILTER_METADATA_LEN - BLOCK_TRAILER_LEN;
                let start = cap - self.filter_region;
                let probes = self.bloom.map_or(0, |b| b.num_probes());
                add_hash(&mut self.ws.bytes_mut()[start..start + bits_len], probes, h);
            } else {
                let at = cap - self.back_reserved() - HASH_LEN;
                self.ws.bytes_mut()[at..at + HASH_LEN].copy_from_slice(&h.to_le_bytes());
                self.hashes += 1;
            }
        }
        let end = cap - self.back_reserved();
        let start = end - klen;
        key.encode_into(&mut self.ws.bytes_mut()[start..end])?;
        self.last_key_len = klen;
        self.has_last_key = true;
        // Add to the pending block: the key is read from its copy in the log/back area.
        let (regions, rest) = self.ws.bytes_mut().split_at_mut(2 * self.block_cap);
        let region = &mut regions[self.pending * self.block_cap..(self.pending + 1) * self.block_cap];
        let key_copy = &rest[start - 2 * self.block_cap..end - 2 * self.block_cap];
        self.block.add(region, key_copy, value)?;

        let s = &mut self.stats;
        match key.kind {
            ValueType::Value => s.num_puts += 1,
            ValueType::Deletion | ValueType::SingleDeletion | ValueType::DeletionWithTimestamp => s.num_deletions += 1,
            ValueType::Merge => s.num_merges += 1,
            _ => s.num_other += 1,
        }
        s.raw_key_size += klen as u64;
        s.raw_value_size += value.len() as u64;
        s.min_seqno = s.min_seqno.min(key.seqno);
        s.max_seqno = s.max_seqno.max(key.seqno);
        if new_hash != 0 {
            s.num_filter_entries += 1;
        }
        Ok(())
    }

    fn region(&self, r: usize) -> &[u8] {
        &self.ws.bytes()[r * self.block_cap..(r + 1) * self.block_cap]
    }

    /// Makes sure the block regions are at least `block_cap` and `free` bytes are free after the log,
    /// moving things around (and growing the workspace if it can). Changes nothing on failure.
    #[inline]
    fn reserve(&mut self, block_cap: usize, free: usize) -> Result<()> {
        // Fast path, inlined: the regions are big enough and the free gap holds `free`.
        if block_cap <= self.block_cap && self.log_end + self.back_len() + free <= self.cap() {
            return Ok(());
        }
        self.reserve_slow(block_cap, free)
    }

    #[inline(never)]
    fn reserve_slow(&mut self, block_cap: usize, free: usize) -> Result<()> {
        let new_b = if block_cap > self.block_cap { block_cap.next_multiple_of(1024) } else { self.block_cap };
        let log_len = self.log_end - 2 * self.block_cap;
        let back = self.back_len();
        let total = 2 * new_b + log_len + back + free;
        let cap = self.cap();
        if new_b == self.block_cap && total <= cap {
            return Ok(());
        }
        // While finishing, each block is the last growth for a while: take no more than it needs.
        let grown = if self.stage == Stage::Building { self.ws.try_grow(total) } else { self.ws.try_grow_exact(total) };
        if total > cap && !grown {
            return Err(Error::BufferTooSmall { needed: total });
        }
        let new_cap = self.cap();
        if new_cap < total {
            return Err(Error::BufferTooSmall { needed: total });
        }
        let old_b = self.block_cap;
        let ws = self.ws.bytes_mut();
        // Move right-to-left so nothing is overwritten before it is moved.
        ws.copy_within(cap - back..cap, new_cap - back);
        ws.copy_within(2 * old_b..2 * old_b + log_len, 2 * new_b);
        if new_b != old_b {
            let out = self.output.filter(|o| !o.handed_out);
            // Region 1 moves to new_b.
            if self.pending == 1 {
                let (h, t) = (self.block.head_len(), self.block.tail_len());
                ws.copy_within(2 * old_b - t..2 * old_b, 2 * new_b - t);
                ws.copy_within(old_b..old_b + h, new_b);
            }
            if let Some(o) = out {
                if o.start >= old_b {
                    ws.copy_within(o.start..o.start + o.len, o.start - old_b + new_b);
                }
            }
            // Region 0 grows in place; its block tail moves to the new end.
            if self.pending == 0 {
                let t = self.block.tail_len();
                ws.copy_within(old_b - t..old_b, new_b - t);
            }
            if let Some(o) = self.output.as_mut() {
                if o.start >= old_b {
                    o.start = o.start - old_b + new_b;
                }
            }
        }
        self.log_end = 2 * new_b + log_len;
        if let Some(t) = self.last_tombstone.as_mut() {
            *t = *t - 2 * old_b + 2 * new_b;
        }
        self.block_cap = new_b;
        Ok(())
    }

    /// Finishes the pending data block into an output (compressed when that pays) and remembers its handle.
    fn flush_block(&mut self) -> Result<()> {
        let b = self.block_cap;
        let p = self.pending;
        let other = 1 - p;
        let (r0, r1) = self.ws.bytes_mut()[..2 * b].split_at_mut(b);
        let (pend, oth) = if p == 0 { (r0, r1) } else { (r1, r0) };
        let n = self.block.finish(pend);
        let mut kind = CompressionType::None;
        let mut out_region = p;
        let mut len = n;
        if self.opts.compression != CompressionType::None {
            let room = oth.len() - BLOCK_TRAILER_LEN;
            if let Some(m) = crate::compress::compress_into(
                self.opts.compression,
                self.opts.format_version,
                &pend[..n],
                &mut oth[..room],
            )? {
                kind = self.opts.compression;
                self.compression_used = true;
                out_region = other;
                len = m;
            }
        }
        let start = out_region * b;
        self.seal(start, len, kind)?;
        // The pending block continues in whichever region does not hold the output.
        self.pending = if out_region == p { other } else { p };
        let handle = BlockHandle::new(self.stats.file_size - (len + BLOCK_TRAILER_LEN) as u64, len as u64);
        self.stats.num_data_blocks += 1;
        self.stats.data_size += (len + BLOCK_TRAILER_LEN) as u64;
        self.pending_index = Some(handle);
        Ok(())
    }

    /// Appends the trailer to the block at `[start, start + len)` and queues it as output; returns its handle.
    fn seal(&mut self, start: usize, len: usize, kind: CompressionType) -> Result<BlockHandle> {
        let ws = self.ws.bytes_mut();
        // The format_version >= 6 modifier depends on where the block starts: the current end of the file.
        let sum = self.sum.stored(&ws[start..start + len], kind as u8, self.stats.file_size);
        let t = start + len;
        ws[t] = kind as u8;
        ws[t + 1..t + 5].copy_from_slice(&sum.to_le_bytes());
        let handle = BlockHandle::new(self.stats.file_size, len as u64);
        self.stats.file_size += (len + BLOCK_TRAILER_LEN) as u64;
        self.output = Some(Output { start, len: len + BLOCK_TRAILER_LEN, handed_out: false });
        Ok(handle)
    }

    /// Appends an index record for `handle`, with a separator between the last key and `next` (or the last key
    /// itself for the last block). Space was reserved by the caller.
    fn append_index_record(&mut self, handle: BlockHandle, next: Option<InternalKey<'_>>) -> Result<()> {
        let last_end = self.cap() - self.back_reserved();
        let last_start = last_end - self.last_key_len;
        let (head, tail) = self.ws.bytes_mut().split_at_mut(last_start);
        let last = &tail[..last_end - last_start];
        let (last_user, _) = split_internal_key(last)?;
        let mut p = self.log_end;
        head[p] = TAG_INDEX;
        p += 1;
        p += encode_varint64(handle.offset, &mut head[p..])?;
        p += encode_varint64(handle.size, &mut head[p..])?;
        // Shorten only when the user keys differ; a shorter user key gets the max seqno so it still sorts after
        // every version of the last key.
        let short_len = match next {
            Some(n) if n.user_key != last_user => separator_len(last_user, n.user_key),
            _ => last_user.len(),
        };
        if short_len < last_user.len() {
            let sep_len = short_len + INTERNAL_KEY_TRAILER_LEN;
            p += encode_varint64(sep_len as u64, &mut head[p..])?;
            let next_user = next.map(|n| n.user_key).unwrap_or(&[]);
            let n = crate::key::shortest_separator(last_user, next_user, &mut head[p..p + last_user.len()]);
            debug_assert_eq!(n, short_len);
            p += n;
            head[p..p + 8].copy_from_slice(&pack_trailer(MAX_SEQNO, VALUE_TYPE_FOR_SEEK).to_le_bytes());
            p += 8;
        } else {
            p += encode_varint64(last.len() as u64, &mut head[p..])?;
            head[p..p + last.len()].copy_from_slice(last);
            p += last.len();
        }
        self.log_end = p;
        Ok(())
    }

    fn append_record_with_key(&mut self, tag: u8, key: InternalKey<'_>) -> Result<()> {
        let ws = self.ws.bytes_mut();
        let mut p = self.log_end;
        ws[p] = tag;
        p += 1;
        p += encode_varint64(key.encoded_len() as u64, &mut ws[p..])?;
        p += key.encode_into(&mut ws[p..])?;
        self.log_end = p;
        Ok(())
    }

    /// Ends the table: no more entries. The remaining blocks and the footer come out of
    /// [`next_output`](Self::next_output), one at a time.
    pub fn finish(&mut self) -> Result<()> {
        self.check_building()?;
        self.stage = Stage::LastBlock;
        Ok(())
    }

    /// The next finished bytes to write, in file order; `None` when there is nothing to write now (while
    /// building) or ever again (after [`finish`](Self::finish), once the footer was handed out).
    ///
    /// A chunk counts as written once you call the builder again: write it before the next call.
    #[inline]
    pub fn next_output(&mut self) -> Result<Option<&[u8]>> {
        // The common case while adding entries: nothing finished since the last call.
        if self.output.is_none() && self.stage == Stage::Building {
            return Ok(None);
        }
        self.next_output_slow()
    }

    #[inline(never)]
    fn next_output_slow(&mut self) -> Result<Option<&[u8]>> {
        if let Some(o) = self.output {
            if !o.handed_out {
                self.output = Some(Output { handed_out: true, ..o });
                return Ok(Some(&self.ws.bytes()[o.start..o.start + o.len]));
            }
            self.output = None;
        }
        while self.output.is_none() && self.stage != Stage::Building && self.stage != Stage::Done {
            self.advance()?;
        }
        match self.output {
            Some(o) if !o.handed_out => {
                self.output = Some(Output { handed_out: true, ..o });
                Ok(Some(&self.ws.bytes()[o.start..o.start + o.len]))
            }
            _ => Ok(None),
        }
    }

    /// Runs one finishing stage; it may or may not queue an output.
    fn advance(&mut self) -> Result<()> {
        match self.stage {
            Stage::Building | Stage::Done => {}
            Stage::LastBlock => {
                // Index record for the last block (keyed by its last key), and the last key kept in the log.
                let rec = 1 + 20 + 5 + self.last_key_len;
                self.reserve(self.block_cap, 2 * rec)?;
                if !self.block.is_empty() {
                    self.flush_block()?;
                }
                if let Some(h) = self.pending_index.take() {
                    self.append_index_record(h, None)?;
                }
                if self.has_last_key {
                    let lk_end = self.cap() - self.back_reserved();
                    let lk_start = lk_end - self.last_key_len;
                    let ws = self.ws.bytes_mut();
                    let mut p = self.log_end;
                    ws[p] = TAG_LAST_KEY;
                    p += 1;
                    p += encode_varint64(self.last_key_len as u64, &mut ws[p..])?;
                    ws.copy_within(lk_start..lk_end, p);
                    p += self.last_key_len;
                    self.log_end = p;
                }
                self.last_key_len = 0;
                self.stage = Stage::Filter;
            }
            Stage::Filter => {
                self.stage = Stage::Index;
                if let (Some(bloom), true) = (self.bloom, self.filter_region > 0) {
                    if self.stats.num_filter_entries > 0 {
                        // Bits were set as keys came; add the metadata after them and hand the region out.
                        let start = self.cap() - self.filter_region;
                        let bits_len = self.filter_region - FULL_FILTER_METADATA_LEN - BLOCK_TRAILER_LEN;
                        let meta = FullFilterMetadata::fast_local_bloom(bloom.num_probes());
                        self.ws.bytes_mut()[start + bits_len..start + bits_len + FULL_FILTER_METADATA_LEN]
                            .copy_from_slice(zerocopy::IntoBytes::as_bytes(&meta));
                        let n = bits_len + FULL_FILTER_METADATA_LEN;
                        self.stats.filter_size = n as u64;
                        let h = self.seal(start, n, CompressionType::None)?;
                        self.filter_handle = Some(h);
                    }
                } else if let (Some(bloom), true) = (self.bloom, self.hashes > 0) {
                    let need = bloom.filter_len(self.hashes) + BLOCK_TRAILER_LEN;
                    self.reserve(self.block_cap, need)?;
                    let cap = self.cap();
                    let (head, hashes) = self.ws.bytes_mut().split_at_mut(cap - self.hashes * HASH_LEN);
                    let it = hashes.chunks_exact(HASH_LEN).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; 8])));
                    let n = bloom.build_into(it, &mut head[self.log_end..])?;
                    self.stats.filter_size = n as u64;
                    let h = self.seal(self.log_end, n, CompressionType::None)?;
                    self.filter_handle = Some(h);
                }
                self.hashes = 0;
            }
            Stage::Index => {
                let need = self.index_block_bound();
                self.reserve(self.block_cap, need)?;
                let n = self.build_index()?;
                let h = self.seal(self.log_end, n, CompressionType::None)?;
                self.stats.index_size = n as u64 + BLOCK_TRAILER_LEN as u64;
                self.index_handle = h;
                self.stage = Stage::RangeDel;
            }
            Stage::RangeDel => {
                self.stage = Stage::Properties;
                if self.stats.num_range_deletions > 0 {
                    let need = self.range_del_bound();
                    self.reserve(self.block_cap, need)?;
                    let n = self.build_range_del()?;
                    let h = self.seal(self.log_end, n, CompressionType::None)?;
                    self.range_del_handle = Some(h);
                }
            }
            Stage::Properties => {
                let need = PROPERTIES_SLACK + self.opts.column_family_name.len() + BLOCK_TRAILER_LEN;
                self.reserve(self.block_cap, need)?;
                let n = self.build_properties()?;
                self.properties_handle = self.seal(self.log_end, n, CompressionType::None)?;
                self.stage = Stage::Metaindex;
            }
            Stage::Metaindex => {
                self.reserve(self.block_cap, 512)?;
                let mut entries: [(&[u8], BlockHandle); 4] = [(PROPERTIES, self.properties_handle); 4];
                let mut k = 1;
                if self.opts.format_version >= FIRST_CONTEXT_CHECKSUM_VERSION {
                    entries[k] = (INDEX_HANDLE_NAME, self.index_handle);
                    k += 1;
                }
                if let Some(h) = self.filter_handle {
                    entries[k] = (FULL_FILTER_BLOOM, h);
                    k += 1;
                }
                if let Some(h) = self.range_del_handle {
                    entries[k] = (RANGE_DEL, h);
                    k += 1;
                }
                let at = self.log_end;
                let n = build_metaindex(&mut entries[..k], &mut self.ws.bytes_mut()[at..])?;
                self.metaindex_handle = self.seal(at, n, CompressionType::None)?;
                self.stage = Stage::Footer;
            }
            Stage::Footer => {
                self.reserve(self.block_cap, 64)?;
                let f = Footer {
                    checksum: self.opts.checksum,
                    metaindex: self.metaindex_handle,
                    index: self.index_handle,
                    format_version: self.opts.format_version,
                    base_context_checksum: self.sum.base,
                };
                let at = self.log_end;
                let n = f.encode_into(&mut self.ws.bytes_mut()[at..])?;
                self.stats.file_size += n as u64;
                self.output = Some(Output { start: at, len: n, handed_out: false });
                self.stage = Stage::Done;
            }
        }
        Ok(())
    }

    fn records(&self) -> Records<'_> {
        Records { ws: self.ws.bytes(), pos: 2 * self.block_cap, end: self.log_end }
    }

    fn user_key_index(&self) -> bool {
        !self.index_needs_internal_keys
    }

    fn index_framing(&self) -> ValueFraming {
        if self.opts.format_version >= 4 {
            ValueFraming::SelfDelimiting
        } else {
            ValueFraming::LengthPrefixed
        }
    }

    fn index_block_bound(&self) -> usize {
        let mut total = 8 + BLOCK_TRAILER_LEN;
        let mut longest = 0;
        for r in self.records() {
            if let Ok((TAG_INDEX, body)) = r {
                total += 15 + 20 + 4 + body.len();
                longest = longest.max(body.len());
            }
        }
        total + longest
    }

    fn build_index(&mut self) -> Result<usize> {
        let at = self.log_end;
        let user_keys = self.user_key_index();
        let framing = self.index_framing();
        let mut state = BlockState::new(self.opts.index_restart_interval, framing);
        let mut prev_size = 0u64;
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        let records = Records { ws: head, pos: 2 * self.block_cap, end: at };
        for r in records {
            let (tag, body) = r?;
            if tag != TAG_INDEX {
                continue;
            }
            let (offset, a) = decode_varint64(body)?;
            let (size, b) = decode_varint64(&body[a..])?;
            let (klen, c) = decode_varint64(&body[a + b..])?;
            let key = &body[a + b + c..a + b + c + klen as usize];
            let key = if user_keys { split_internal_key(key)?.0 } else { key };
            // RocksDB's delta-encoded index stores a bare size delta when the key shares a prefix with the one
            // before it (the offset follows from the previous block), and the whole handle otherwise.
            let delta = framing == ValueFraming::SelfDelimiting && state.shared_with(out, key) != 0;
            let mut vb = [0u8; 20];
            let vn = if delta {
                encode_varint64(zigzag_encode(size.wrapping_sub(prev_size) as i64), &mut vb)?
            } else {
                let (hb, hn) = BlockHandle::new(offset, size).encode();
                vb[..hn].copy_from_slice(&hb[..hn]);
                hn
            };
            state.add(out, key, &vb[..vn])?;
            prev_size = size;
        }
        Ok(state.finish(out))
    }

    fn range_del_bound(&self) -> usize {
        let mut total = 8 + BLOCK_TRAILER_LEN;
        let mut longest = 0;
        for r in self.records() {
            if let Ok((TAG_TOMBSTONE, body)) = r {
                total += 15 + 4 + body.len() + 8;
                longest = longest.max(body.len() + 8);
            }
        }
        total + longest
    }

    fn build_range_del(&mut self) -> Result<usize> {
        let at = self.log_end;
        let longest = self.longest_tombstone_key();
        let mut state = BlockState::new(1, ValueFraming::LengthPrefixed);
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        // The block key is an internal key (start ‖ trailer), built in scratch at the end of the free area; the
        // block gets the same buffer on every call (its restarts live at the buffer's end).
        let end = out.len() - BLOCK_TRAILER_LEN;
        let blk_len = end.checked_sub(longest).ok_or(Error::BufferTooSmall { needed: longest })?;
        let (blk, scratch) = out[..end].split_at_mut(blk_len);
        let mut p = 2 * self.block_cap;
        while p < at {
            let (tag, _, next) = read_record(head, p)?;
            if tag == TAG_TOMBSTONE {
                let (seqno, start, stop) = parse_tombstone(head, p)?;
                let n = InternalKey::new(start, seqno, ValueType::RangeDeletion).encode_into(scratch)?;
                state.add(blk, &scratch[..n], stop)?;
            }
            p = next;
        }
        Ok(state.finish(blk))
    }

    fn longest_tombstone_key(&self) -> usize {
        let mut longest = 0;
        let ws = self.ws.bytes();
        let mut p = 2 * self.block_cap;
        while p < self.log_end {
            let Ok((tag, _, next)) = read_record(ws, p) else { break };
            if tag == TAG_TOMBSTONE {
                if let Ok((_, s, _)) = parse_tombstone(ws, p) {
                    longest = longest.max(s.len() + INTERNAL_KEY_TRAILER_LEN);
                }
            }
            p = next;
        }
        longest
    }

    /// The properties this table is written with (read once the stats and the filter are final).
    fn property_list(&self) -> Result<heapless::Vec<(&'static str, PropValue<'static>), 40>> {
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
        let mut props: heapless::Vec<(&'static str, PropValue<'static>), 40> = heapless::Vec::new();
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
            (names::INDEX_TYPE, PropValue::Fixed32(0)),
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

/// Length of the shortest separator between two different user keys (see [`crate::key::shortest_separator`]).
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

fn separator_len(start: &[u8], limit: &[u8]) -> usize {
    let min = start.len().min(limit.len());
    let diff = crate::block::common_prefix(start, limit);
    if diff < min {
        let b = start[diff];
        if b < 0xff && b + 1 < limit[diff] {
            return diff + 1;
        }
    }
    start.len()
}

/// Reads the record at `at`: `(tag, body, next)`. Index records' bodies are `offset, size, key`, tombstones'
/// `seqno, start, end`; key records' bodies are the key itself.
fn read_record(ws: &[u8], at: usize) -> Result<(u8, &[u8], usize)> {
    let bad = || Error::corrupt(crate::error::Part::Table, at as u64, "builder record log damaged");
    let tag = *ws.get(at).ok_or_else(bad)?;
    let mut p = at + 1;
    match tag {
        TAG_INDEX => {
            let (_, a) = decode_varint64(&ws[p..])?;
            let (_, b) = decode_varint64(&ws[p + a..])?;
            let (k, c) = decode_varint64(&ws[p + a + b..])?;
            let end = p + a + b + c + k as usize;
            Ok((tag, ws.get(p..end).ok_or_else(bad)?, end))
        }
        TAG_TOMBSTONE => {
            let (_, a) = decode_varint64(&ws[p..])?;
            p += a;
            let (s, b) = decode_varint64(&ws[p..])?;
            p += b + s as usize;
            let (e, c) = decode_varint64(ws.get(p..).ok_or_else(bad)?)?;
            let end = p + c + e as usize;
            Ok((tag, ws.get(at + 1..end).ok_or_else(bad)?, end))
        }
        TAG_FIRST_KEY | TAG_LAST_KEY => {
            let (k, a) = decode_varint64(&ws[p..])?;
            p += a;
            let end = p + k as usize;
            Ok((tag, ws.get(p..end).ok_or_else(bad)?, end))
        }
        _ => Err(bad()),
    }
}

fn parse_tombstone(ws: &[u8], at: usize) -> Result<(u64, &[u8], &[u8])> {
    let (_, body, _) = read_record(ws, at)?;
    let (seqno, a) = decode_varint64(body)?;
    let (s, b) = decode_varint64(&body[a..])?;
    let start = &body[a + b..a + b + s as usize];
    let rest = &body[a + b + s as usize..];
    let (e, c) = decode_varint64(rest)?;
    Ok((seqno, start, &rest[c..c + e as usize]))
}

struct Records<'w> {
    ws: &'w [u8],
    pos: usize,
    end: usize,
}

impl<'w> Iterator for Records<'w> {
    type Item = Result<(u8, &'w [u8])>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        match read_record(self.ws, self.pos) {
            Ok((tag, body, next)) => {
                self.pos = next;
                Some(Ok((tag, body)))
            }
            Err(e) => {
                self.pos = self.end;
                Some(Err(e))
            }
        }
    }
}
