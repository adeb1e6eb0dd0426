//! A table's opened metadata as one view that answers every format question a reader has: which data blocks
//! may hold a key or a range (with checked extents), how to decode and verify a fetched block, and what a
//! point lookup returns given that block and the table's range tombstones.
//!
//! The in-memory [`Table`](crate::table::Table) and readers that fetch byte ranges (object stores) both go
//! through [`TableLayout`], so the rules live once. A ranged reader keeps a [`MetaLayout`] next to its own
//! buffers and builds a `TableLayout` over them when it needs one (cheap: no block is parsed again).

use core::ops::Bound;

use crate::block::{Block, BlockCursor, KeyOrder};
use crate::comparator::Comparator;
use crate::error::{Error, Part, Result};
use crate::filter::FullFilter;
use crate::footer::Footer;
use crate::handle::BlockHandle;
use crate::keybuf::{DefaultKeyBuf, KeyBuf};
use crate::table::blocks::{
    verified_block, BlockBytes, BlockContents, BlockExtent, DecodedBlock, ReadBuf, ReadOptions,
};
use crate::table::entry::{block_lookup, block_lookup_as_of, decode_entry, Entry, EntryForm, VersionLookup};
use crate::table::index::{for_each_index_entry, IndexInfo};
use crate::table::meta::{MetaLayout, TableFilter};
use crate::table::tombstones::{newest_of_covering, RangeTombstones};
use crate::trailer::CompressionType;

/// A table's opened metadata over the bytes that hold it: `region` (the file from [`MetaLayout::base`] to
/// its end) and the buffer a compressed index was decompressed into.
#[derive(Debug, Clone)]
pub struct TableLayout<'r> {
    meta: MetaLayout,
    region: &'r [u8],
    opts: ReadOptions,
    index: Block<'r>,
    filter: Option<TableFilter<'r>>,
    range_del: Option<Block<'r>>,
}

const EMPTY_BLOCK: Block<'static> = Block::empty();
/// Index keys up to this long are rebuilt on the stack during a point lookup.
const INDEX_KEY_ON_STACK: usize = 64;

impl<'r> TableLayout<'r> {
    /// The view over the `region` and `index_buf` that `meta` was parsed from
    /// ([`MetaLayout::parse`]); `opts` say whether blocks read later are verified and how big they may be.
    pub fn new(meta: &MetaLayout, region: &'r [u8], index_buf: &'r [u8], opts: ReadOptions) -> Result<Self> {
        let index = meta.index(region, index_buf)?;
        let filter = meta.filter(region);
        let range_del = meta.range_del(region)?;
        Ok(TableLayout { meta: *meta, region, opts, index, filter, range_del })
    }

    /// This view with block checksums checked (`true`) or not: what a reader that has verified a block
    /// already reads it again through. Cheap: nothing is parsed again.
    pub fn verifying(&self, verify: bool) -> Self {
        let mut t = self.clone();
        t.opts.verify_checksums = verify;
        t
    }

    /// The compression dictionary RocksDB primed its codec with for this table's data blocks (the
    /// `rocksdb.compression_dict` meta block), or empty when there is none.
    pub fn compression_dict(&self) -> &'r [u8] {
        self.meta.compression_dict(self.region).unwrap_or(&[])
    }

    /// The bytes this view was built over: the file from [`MetaLayout::base`] to its end.
    pub fn region(&self) -> &'r [u8] {
        self.region
    }
    /// The metadata offsets this view was built from.
    pub fn meta(&self) -> &MetaLayout {
        &self.meta
    }
    /// The footer.
    pub fn footer(&self) -> &Footer {
        &self.meta.footer
    }
    /// The file size.
    pub fn file_len(&self) -> u64 {
        self.meta.file_len
    }
    /// The read options.
    pub fn read_options(&self) -> &ReadOptions {
        &self.opts
    }
    /// How the index is encoded.
    pub fn index_info(&self) -> IndexInfo {
        self.meta.index_info
    }
    /// The seqno every key is read with, if the table is an external file.
    pub fn global_seqno(&self) -> Option<u64> {
        self.meta.global_seqno
    }
    /// The index block (the top-level index when the index is partitioned).
    pub fn index_block(&self) -> Block<'r> {
        self.index
    }

    /// Takes the index partition at `handle` (a value of the top-level index of a partitioned index) out of
    /// the region, verifies it when the read options say so and uncompresses it into `buf` if it is stored
    /// compressed. Partitions are in the region when it was opened with [`meta_start`](crate::table::meta_start)
    /// (or holds the whole file); else fetch them and use [`decode_partition`](Self::decode_partition).
    pub fn decode_index_partition<B: ReadBuf + ?Sized>(
        &self,
        handle: BlockHandle,
        buf: &mut B,
    ) -> Result<DecodedBlock<'r>> {
        if handle.offset < self.meta.base {
            return Err(Error::InvalidArgument { reason: "index partition lies before the region given" });
        }
        self.decode_partition(self.region, self.meta.base, handle, buf)
    }

    /// Takes the index partition at `handle` out of `fetched` (file bytes starting at offset `fetched_at`),
    /// verifies it when the read options say so and uncompresses it into `buf` if it is stored compressed.
    pub fn decode_partition<'f, B: ReadBuf + ?Sized>(
        &self,
        fetched: &'f [u8],
        fetched_at: u64,
        handle: BlockHandle,
        buf: &mut B,
    ) -> Result<DecodedBlock<'f>> {
        let contents = self.verified_block(fetched, fetched_at, handle, Part::Index)?;
        let bytes = if contents.compression == CompressionType::None {
            BlockBytes::Fetched(contents.body)
        } else {
            let fv = self.meta.footer.format_version;
            let n = contents
                .decompress_to(fv, self.opts.max_block_len, buf)
                .map_err(|e| e.at(Part::Index, handle.offset))?;
            BlockBytes::Buffer(n)
        };
        Ok(DecodedBlock { handle, compression: contents.compression, bytes })
    }

    /// The partition of a partitioned index that holds `user_key`'s index entry, or `None` when the full
    /// filter or the top-level index proves the table holds no entry for it. Fetch it, uncompress it with
    /// [`decode_partition`](Self::decode_partition), then ask
    /// [`point_block_in_partition`](Self::point_block_in_partition).
    pub fn partition_for(&self, user_key: &[u8]) -> Result<Option<BlockExtent>> {
        self.partition_for_at(user_key, u64::MAX)
    }

    /// [`partition_for`](Self::partition_for) for a read at `read_ts` (tables with user-defined timestamps:
    /// the partition holding the newest version whose timestamp is ≤ `read_ts`).
    pub fn partition_for_at(&self, user_key: &[u8], read_ts: u64) -> Result<Option<BlockExtent>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let order = self.meta.index_info.seek_order_at(read_ts);
        match self.seek_handle(&self.index, user_key, self.meta.footer.index.offset, order)? {
            Some(h) => self.extent(h, Part::Index).map(Some),
            None => Ok(None),
        }
    }

    /// The data block a point lookup of `user_key` must read, given the uncompressed index partition at
    /// `handle` that [`partition_for`](Self::partition_for) named.
    pub fn point_block_in_partition(
        &self,
        partition: &[u8],
        handle: BlockHandle,
        user_key: &[u8],
    ) -> Result<Option<BlockExtent>> {
        self.point_block_in_partition_at(partition, handle, user_key, u64::MAX)
    }

    /// [`point_block_in_partition`](Self::point_block_in_partition) for a read at `read_ts` (see
    /// [`partition_for_at`](Self::partition_for_at)).
    pub fn point_block_in_partition_at(
        &self,
        partition: &[u8],
        handle: BlockHandle,
        user_key: &[u8],
        read_ts: u64,
    ) -> Result<Option<BlockExtent>> {
        let block =
            Block::parse_with(partition, self.meta.index_info.format).map_err(|e| e.at(Part::Index, handle.offset))?;
        match self.seek_handle(&block, user_key, handle.offset, self.meta.index_info.seek_order_at(read_ts))? {
            Some(h) => self.extent(h, Part::DataBlock).map(Some),
            None => Ok(None),
        }
    }

    /// Calls `f` with the extent of each index partition that may hold entries for user keys in `range`, in
    /// order, until it returns false (a partitioned index only). Walk each one with
    /// [`for_each_block_in_partition`](Self::for_each_block_in_partition).
    pub fn for_each_partition(
        &self,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        mut f: impl FnMut(BlockExtent) -> Result<bool>,
    ) -> Result<()> {
        if !self.meta.index_info.partitioned {
            return Err(Error::InvalidArgument { reason: "the index is not partitioned" });
        }
        self.blocks_in(&self.index, self.meta.footer.index.offset, Part::Index, range, &mut f)?;
        Ok(())
    }

    /// Calls `f` with the extent of each data block named by the uncompressed index partition at `handle` that
    /// may hold user keys in `range`, until it returns false. Returns false when the walk of the range is
    /// over (`f` said so, or the range's end was passed), true when the next partition may hold more.
    pub fn for_each_block_in_partition(
        &self,
        partition: &[u8],
        handle: BlockHandle,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        mut f: impl FnMut(BlockExtent) -> Result<bool>,
    ) -> Result<bool> {
        let block =
            Block::parse_with(partition, self.meta.index_info.format).map_err(|e| e.at(Part::Index, handle.offset))?;
        self.blocks_in(&block, handle.offset, Part::DataBlock, range, &mut f)
    }

    /// The index block of a partition [`decode_index_partition`](Self::decode_index_partition) returned
    /// (`buf`: the bytes of the buffer it was given).
    pub fn partition_block<'b>(&self, decoded: &DecodedBlock<'b>, buf: &'b [u8]) -> Result<Block<'b>> {
        let at = decoded.handle.offset;
        let bytes = match decoded.bytes {
            BlockBytes::Fetched(b) => b,
            BlockBytes::Buffer(n) => {
                buf.get(..n).ok_or(Error::InvalidArgument { reason: "buffer does not hold the partition" })?
            }
        };
        Block::parse_with(bytes, self.meta.index_info.format).map_err(|e| e.at(Part::Index, at))
    }

    /// Runs `f` on the index partition at `handle`; a compressed partition is uncompressed into a temporary
    /// buffer (with `alloc`; without it, a compressed partition is `BufferTooSmall`).
    fn with_partition<T>(&self, handle: BlockHandle, f: impl FnOnce(&Block<'_>) -> Result<T>) -> Result<T> {
        #[cfg(feature = "alloc")]
        let mut buf = alloc::vec::Vec::new();
        #[cfg(not(feature = "alloc"))]
        let mut buf: [u8; 0] = [];
        let decoded = self.decode_index_partition(handle, &mut buf)?;
        let block = self.partition_block(&decoded, buf.bytes())?;
        f(&block)
    }

    /// Calls `f` with the handle of every index partition, in order (nothing when the index is not
    /// partitioned).
    pub fn for_each_index_partition(&self, mut f: impl FnMut(BlockHandle) -> Result<bool>) -> Result<()> {
        if !self.meta.index_info.partitioned {
            return Ok(());
        }
        let mut key = DefaultKeyBuf::new();
        let mut cur = BlockCursor::new();
        cur.seek_to_first(&self.index, &mut key).map_err(|e| self.index_err(e))?;
        while cur.valid() {
            let h = self.meta.index_info.handle(&cur, cur.value(&self.index)).map_err(|e| self.index_err(e))?;
            if !f(h)? {
                break;
            }
            cur.next(&self.index, &mut key).map_err(|e| self.index_err(e))?;
        }
        Ok(())
    }

    /// Calls `f` with the handle of every filter partition of a partitioned filter, in order, until it returns
    /// false (none for other filters). The partitions are named by the filter's top-level index, not read.
    pub fn for_each_filter_partition(&self, mut f: impl FnMut(BlockHandle) -> Result<bool>) -> Result<()> {
        let Some(TableFilter::Partitioned(top)) = &self.filter else { return Ok(()) };
        // Offsets in errors about the top-level index are the file's.
        let base = self.meta.metaindex(self.region)?.filter()?.map_or(0, |(_, h)| h.offset);
        let err = |e: Error| e.at(Part::Filter, base);
        let mut key = DefaultKeyBuf::new();
        let mut cur = BlockCursor::new();
        cur.seek_to_first(top, &mut key).map_err(err)?;
        while cur.valid() {
            let h = self.meta.index_info.handle(&cur, cur.value(top)).map_err(err)?;
            if !f(h)? {
                break;
            }
            cur.next(top, &mut key).map_err(err)?;
        }
        Ok(())
    }

    /// The number of index partitions, counted in the top-level index (0 when the index is not partitioned).
    pub fn index_partition_count(&self) -> Result<u64> {
        let mut n = 0;
        self.for_each_index_partition(|_| {
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    }

    /// Calls `f(index key, data-block handle, first key)` for every data-block entry of the index, in order
    /// (through the partitions when the index is partitioned; the first key is present for index type 3).
    pub fn for_each_index_entry(
        &self,
        mut f: impl FnMut(&[u8], BlockHandle, Option<&[u8]>) -> Result<()>,
    ) -> Result<()> {
        let info = self.meta.index_info;
        let mut key = DefaultKeyBuf::new();
        if !info.partitioned {
            return for_each_index_entry(&self.index, info, &mut key, f).map_err(|e| self.index_err(e));
        }
        self.for_each_index_partition(|h| {
            self.with_partition(h, |part| {
                for_each_index_entry(part, info, &mut key, &mut f).map_err(|e| e.at(Part::Index, h.offset))
            })?;
            Ok(true)
        })
    }

    /// [`for_each_index_entry`](Self::for_each_index_entry) over one uncompressed index partition (at
    /// `handle`) that the reader fetched.
    pub fn for_each_index_entry_in_partition(
        &self,
        partition: &[u8],
        handle: BlockHandle,
        f: impl FnMut(&[u8], BlockHandle, Option<&[u8]>) -> Result<()>,
    ) -> Result<()> {
        let info = self.meta.index_info;
        let block = Block::parse_with(partition, info.format).map_err(|e| e.at(Part::Index, handle.offset))?;
        let mut key = DefaultKeyBuf::new();
        for_each_index_entry(&block, info, &mut key, f).map_err(|e| e.at(Part::Index, handle.offset))
    }

    /// The handle of the first entry ≥ `user_key` in the index block `index` (`None`: past its end).
    fn seek_handle(&self, index: &Block<'_>, user_key: &[u8], at: u64, order: KeyOrder) -> Result<Option<BlockHandle>> {
        let mut cur = BlockCursor::new();
        // Index keys are rebuilt on the stack when they fit (no allocation per lookup), else in a bigger buffer.
        let mut small = heapless::Vec::<u8, INDEX_KEY_ON_STACK>::new();
        let found = match cur.seek(index, &mut small, user_key, order) {
            Err(Error::BufferTooSmall { .. }) => cur.seek(index, &mut DefaultKeyBuf::new(), user_key, order),
            r => r,
        };
        found.map_err(|e| e.at(Part::Index, at))?;
        if !cur.valid() {
            return Ok(None);
        }
        self.meta.index_info.handle(&cur, cur.value(index)).map(Some).map_err(|e| e.at(Part::Index, at))
    }
    /// The filter, if any this crate can read.
    pub fn filter(&self) -> Option<&TableFilter<'r>> {
        self.filter.as_ref()
    }
    /// True if the table has a range-deletion block.
    pub fn has_range_tombstones(&self) -> bool {
        self.range_del.is_some()
    }
    /// The range tombstones, in stored order.
    pub fn range_tombstones(&self) -> RangeTombstones<'r> {
        RangeTombstones::new(self.range_del.unwrap_or(EMPTY_BLOCK), self.meta.global_seqno)
            .with_timestamps(self.meta.comparator.keys_have_timestamps())
    }

    /// The extent of the block at `handle`, checked against the file size.
    pub fn extent(&self, handle: BlockHandle, part: Part) -> Result<BlockExtent> {
        BlockExtent::new(handle, self.meta.file_len, part)
    }

    /// False only if the full filter, or the partition of a partitioned filter that the region holds, proves
    /// `user_key` absent from the table. A filter partition outside the region counts as "may contain": a
    /// ranged reader fetches it ([`filter_partition_for`](Self::filter_partition_for)) to ask it.
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        match &self.filter {
            Some(TableFilter::Full(f)) => f.may_match(user_key),
            Some(TableFilter::Partitioned(_)) => match self.filter_partition_for(user_key) {
                Some(x) if x.handle.offset >= self.meta.base => {
                    let body = self.filter_partition_body(self.region, self.meta.base, x.handle);
                    self.filter_partition_may_match(body, user_key)
                }
                _ => true,
            },
            _ => true,
        }
    }

    /// The usable body of the filter partition at `handle` in `fetched` (file bytes starting at offset
    /// `fetched_at`), for [`filter_partition_may_match`](Self::filter_partition_may_match). Empty — "may match" —
    /// when the partition cannot be used: damaged (a broken filter never hides a key; reading the data reports
    /// real damage) or compressed (RocksDB never compresses filters). The one rule for in-memory and ranged
    /// readers.
    pub fn filter_partition_body<'f>(&self, fetched: &'f [u8], fetched_at: u64, handle: BlockHandle) -> &'f [u8] {
        match self.verified_block(fetched, fetched_at, handle, Part::Filter) {
            Ok(b) if b.compression == CompressionType::None => b.body,
            _ => &[],
        }
    }

    /// The partition of a partitioned filter that answers for `user_key`: `None` — "may match" — when the filter
    /// is not partitioned, `user_key` is past its last separator (the index proves it absent anyway), or the
    /// filter-partition index is damaged (a broken filter never hides a key; reading the data reports real
    /// damage). Fetch it, take its body with [`filter_partition_body`](Self::filter_partition_body) and ask
    /// [`filter_partition_may_match`](Self::filter_partition_may_match).
    pub fn filter_partition_for(&self, user_key: &[u8]) -> Option<BlockExtent> {
        let Some(TableFilter::Partitioned(top)) = &self.filter else { return None };
        let at = self.meta.footer.index.offset;
        let handle = self.seek_handle(top, user_key, at, self.meta.index_info.seek_order()).ok()??;
        self.extent(handle, Part::Filter).ok()
    }

    /// False only if the filter partition `body` (a verified, uncompressed full filter) proves `user_key`
    /// absent; a partition this crate cannot parse (or an empty `body`) answers true.
    pub fn filter_partition_may_match(&self, body: &[u8], user_key: &[u8]) -> bool {
        body.is_empty() || FullFilter::parse(body).map_or(true, |f| f.may_match(user_key))
    }

    fn index_err(&self, e: Error) -> Error {
        e.at(Part::Index, self.meta.footer.index.offset)
    }

    /// The data block a point lookup of `user_key` must read, or `None` when the filter (full, or LevelDB's
    /// per-block one) or the index proves the table holds no entry for it.
    pub fn point_block(&self, user_key: &[u8]) -> Result<Option<BlockExtent>> {
        self.point_block_at(user_key, u64::MAX)
    }

    /// [`point_block`](Self::point_block) for a read at `read_ts`: in a table with user-defined timestamps,
    /// the block holding the newest version of `user_key` whose timestamp is ≤ `read_ts`.
    pub fn point_block_at(&self, user_key: &[u8], read_ts: u64) -> Result<Option<BlockExtent>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let top = self.meta.footer.index.offset;
        let order = self.meta.index_info.seek_order_at(read_ts);
        let Some(mut handle) = self.seek_handle(&self.index, user_key, top, order)? else {
            return Ok(None);
        };
        if self.meta.index_info.partitioned {
            // The top-level key is the partition's last separator, so the partition has an entry ≥ `user_key`.
            match self.with_partition(handle, |part| self.seek_handle(part, user_key, handle.offset, order))? {
                Some(h) => handle = h,
                None => return Ok(None),
            }
        }
        if let Some(TableFilter::LevelDb(f)) = &self.filter {
            if !f.may_match(handle.offset, user_key) {
                return Ok(None);
            }
        }
        self.extent(handle, Part::DataBlock).map(Some)
    }

    /// Calls `f` with the extent of each data block that may hold user keys in `range`, in file order, until
    /// it returns false. Every extent is checked before `f` sees it.
    pub fn for_each_block(
        &self,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        mut f: impl FnMut(BlockExtent) -> Result<bool>,
    ) -> Result<()> {
        if !self.meta.index_info.partitioned {
            let at = self.meta.footer.index.offset;
            self.blocks_in(&self.index, at, Part::DataBlock, range, &mut f)?;
            return Ok(());
        }
        // The walk a ranged reader does (`for_each_partition` → `for_each_block_in_partition`), over partitions
        // taken from the region: the same partitions, the same stop rule.
        let mut start = range.0;
        self.for_each_partition(range, |x| {
            let ph = x.handle;
            let more = self.with_partition(ph, |part| {
                self.blocks_in(part, ph.offset, Part::DataBlock, (start, range.1), &mut f)
            })?;
            // Later partitions hold only keys past the start.
            start = Bound::Unbounded;
            Ok(more)
        })
    }

    /// The walk of [`for_each_block`](Self::for_each_block) over one index block (`at`: its offset, for
    /// errors; `part`: what its handles name). Returns false when the walk is over (`f` said so, or the
    /// range's end was passed).
    fn blocks_in(
        &self,
        index: &Block<'_>,
        at: u64,
        part: Part,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        f: &mut impl FnMut(BlockExtent) -> Result<bool>,
    ) -> Result<bool> {
        let order = self.meta.index_info.seek_order();
        let mut key = DefaultKeyBuf::new();
        let mut cur = BlockCursor::new();
        let err = |e: Error| e.at(Part::Index, at);
        match range.0 {
            Bound::Included(s) | Bound::Excluded(s) => cur.seek(index, &mut key, s, order),
            Bound::Unbounded => cur.seek_to_first(index, &mut key),
        }
        .map_err(err)?;
        while cur.valid() {
            let handle = self.meta.index_info.handle(&cur, cur.value(index)).map_err(err)?;
            if !f(self.extent(handle, part)?)? {
                return Ok(false);
            }
            // An index key is ≥ the user key of its block's last entry, and a user key's versions may go on in
            // the next block: stop once the index key passes an included end or reaches an excluded one.
            let past_end = match range.1 {
                // Read at the oldest timestamp: an index key of `e` itself (any version) is not past it.
                Bound::Included(e) => self.meta.index_info.seek_order_at(0).compare(key.as_slice(), e).is_gt(),
                Bound::Excluded(e) => order.compare(key.as_slice(), e).is_ge(),
                Bound::Unbounded => false,
            };
            if past_end {
                return Ok(false);
            }
            cur.next(index, &mut key).map_err(err)?;
        }
        Ok(true)
    }

    /// Takes the block at `handle` out of `fetched` (file bytes starting at offset `fetched_at`) and verifies
    /// it when the read options say so; not decompressed.
    pub fn verified_block<'f>(
        &self,
        fetched: &'f [u8],
        fetched_at: u64,
        handle: BlockHandle,
        part: Part,
    ) -> Result<BlockContents<'f>> {
        verified_block(fetched, fetched_at, handle, self.meta.footer.block_checksum(), self.opts.verify_checksums, part)
    }

    /// Takes the data block at `handle` out of `fetched` (file bytes starting at offset `fetched_at`),
    /// verifies it once (when the read options say so) and uncompresses it: a stored-uncompressed block stays
    /// in `fetched`, a compressed one goes to `buf`.
    pub fn decode_block<'f, B: ReadBuf + ?Sized>(
        &self,
        fetched: &'f [u8],
        fetched_at: u64,
        handle: BlockHandle,
        buf: &mut B,
    ) -> Result<DecodedBlock<'f>> {
        let contents = self.verified_block(fetched, fetched_at, handle, Part::DataBlock)?;
        let bytes = if contents.compression == CompressionType::None {
            BlockBytes::Fetched(contents.body)
        } else {
            let fv = self.meta.footer.format_version;
            let dict = self.compression_dict();
            BlockBytes::Buffer(contents.decompress_to_with_dict(fv, self.opts.max_block_len, dict, buf)?)
        };
        Ok(DecodedBlock { handle, compression: contents.compression, bytes })
    }

    /// The newest point entry for `user_key` in `block` (the uncompressed data block at `handle` that
    /// [`point_block`](Self::point_block) named); range tombstones not applied.
    pub fn point_in_block<'b>(
        &self,
        block: &'b [u8],
        handle: BlockHandle,
        user_key: &'b [u8],
        key: &mut impl KeyBuf,
    ) -> Result<Option<Entry<'b>>> {
        self.point_in_block_at(block, handle, user_key, key, u64::MAX)
    }

    /// The newest version of `user_key` in `block` (the uncompressed data block at `handle`) that a read at
    /// `snapshot` sees; range tombstones not applied. The blocks to ask, in order, are those
    /// [`for_each_block`](Self::for_each_block) lists for the range `[user_key, user_key]`, until one answers
    /// other than [`VersionLookup::ReadOn`].
    pub fn point_in_block_as_of(
        &self,
        block: &[u8],
        handle: BlockHandle,
        user_key: &[u8],
        snapshot: u64,
        key: &mut impl KeyBuf,
    ) -> Result<VersionLookup> {
        block_lookup_as_of(block, user_key, snapshot, key, self.entry_form())
            .map_err(|e| e.at(Part::DataBlock, handle.offset))
    }

    /// Applies the range tombstones a read at `snapshot` sees to a point lookup's result for `user_key`
    /// ([`newest_of_covering`]); `point` must itself be visible at `snapshot`.
    pub fn apply_tombstones_as_of<'v>(
        &self,
        user_key: &'v [u8],
        point: Option<Entry<'v>>,
        snapshot: u64,
    ) -> Result<Option<Entry<'v>>> {
        let tomb =
            if self.range_del.is_some() { self.range_tombstones().covering_as_of(user_key, snapshot)? } else { None };
        Ok(newest_of_covering(user_key, point, tomb))
    }

    /// [`point_in_block`](Self::point_in_block) for a read at `read_ts` (the block
    /// [`point_block_at`](Self::point_block_at) named): with user-defined timestamps, the newest version whose
    /// timestamp is ≤ `read_ts`.
    pub fn point_in_block_at<'b>(
        &self,
        block: &'b [u8],
        handle: BlockHandle,
        user_key: &'b [u8],
        key: &mut impl KeyBuf,
        read_ts: u64,
    ) -> Result<Option<Entry<'b>>> {
        block_lookup(block, user_key, key, self.entry_form().at(read_ts))
            .map_err(|e| e.at(Part::DataBlock, handle.offset))
    }

    /// How this table's stored keys become entries (global seqno, timestamps), read at the newest timestamp.
    pub fn entry_form(&self) -> EntryForm {
        EntryForm {
            global_seqno: self.meta.global_seqno,
            timestamps: self.meta.comparator.keys_have_timestamps(),
            read_ts: u64::MAX,
        }
    }

    /// The comparator the table's keys are ordered by.
    pub fn comparator(&self) -> Comparator {
        self.meta.comparator
    }

    /// Applies the table's range tombstones to a point lookup's result for `user_key`
    /// ([`newest_of_covering`]).
    pub fn apply_tombstones<'v>(&self, user_key: &'v [u8], point: Option<Entry<'v>>) -> Result<Option<Entry<'v>>> {
        self.apply_tombstones_at(user_key, point, u64::MAX)
    }

    /// [`apply_tombstones`](Self::apply_tombstones) for a read at `read_ts`: only tombstones whose timestamp is
    /// ≤ `read_ts` apply.
    pub fn apply_tombstones_at<'v>(
        &self,
        user_key: &'v [u8],
        point: Option<Entry<'v>>,
        read_ts: u64,
    ) -> Result<Option<Entry<'v>>> {
        let tomb =
            if self.range_del.is_some() { self.range_tombstones().covering_at(user_key, read_ts)? } else { None };
        Ok(newest_of_covering(user_key, point, tomb))
    }

    /// The point-lookup decision: the newest entry for `user_key`, honouring range tombstones, given the
    /// uncompressed data block [`point_block`](Self::point_block) named (`None` when it named none).
    pub fn get_in_block<'b>(
        &self,
        block: Option<(&'b [u8], BlockHandle)>,
        user_key: &'b [u8],
        key: &mut impl KeyBuf,
    ) -> Result<Option<Entry<'b>>> {
        self.get_in_block_at(block, user_key, key, u64::MAX)
    }

    /// [`get_in_block`](Self::get_in_block) for a read at `read_ts`, given the block
    /// [`point_block_at`](Self::point_block_at) named.
    pub fn get_in_block_at<'b>(
        &self,
        block: Option<(&'b [u8], BlockHandle)>,
        user_key: &'b [u8],
        key: &mut impl KeyBuf,
        read_ts: u64,
    ) -> Result<Option<Entry<'b>>> {
        let point = match block {
            Some((bytes, handle)) => self.point_in_block_at(bytes, handle, user_key, key, read_ts)?,
            None => None,
        };
        self.apply_tombstones_at(user_key, point, read_ts)
    }

    /// Calls `f` with the entries of one uncompressed data block whose user keys lie in `range`, in order,
    /// until it returns false. Returns false when the walk should end (`f` said so, or the block reached the
    /// range's end), true when the next block may hold more of the range.
    pub fn for_each_entry_in_block(
        &self,
        block: &[u8],
        handle: BlockHandle,
        range: (Bound<&[u8]>, Bound<&[u8]>),
        key: &mut impl KeyBuf,
        mut f: impl FnMut(Entry<'_>) -> Result<bool>,
    ) -> Result<bool> {
        let form = self.entry_form();
        let at = |e: Error| e.at(Part::DataBlock, handle.offset);
        let parsed = Block::parse(block).map_err(at)?;
        let mut cur = BlockCursor::new();
        match range.0 {
            Bound::Included(s) | Bound::Excluded(s) => cur.seek(&parsed, key, s, form.order()),
            Bound::Unbounded => cur.seek_to_first(&parsed, key),
        }
        .map_err(at)?;
        while cur.valid() {
            let e = decode_entry(key.as_slice(), cur.value(&parsed), form).map_err(at)?;
            let before_end = match range.1 {
                Bound::Included(k) => e.user_key <= k,
                Bound::Excluded(k) => e.user_key < k,
                Bound::Unbounded => true,
            };
            if !before_end {
                return Ok(false);
            }
            let after_start = !matches!(range.0, Bound::Excluded(s) if e.user_key == s);
            if after_start && !f(e)? {
                return Ok(false);
            }
            cur.next(&parsed, key).map_err(at)?;
        }
        Ok(true)
    }
}
