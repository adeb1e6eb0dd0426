//! A lazy table reader over any object store or a local file: ranged reads, blocks verified once, a shared
//! block cache.

use std::ops::Bound;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::ObjectStore;
use sstkit_core::handle::BlockHandle;
use sstkit_core::key::ValueType;
use sstkit_core::keybuf::DefaultKeyBuf;
use sstkit_core::properties::Properties;
use sstkit_core::table::{
    meta_start_without_partitions, BlockBytes, BlockExtent, MetaLayout, MetaNeed, TableLayout, VersionLookup,
};
use sstkit_core::{Error as CoreError, Part};
use tracing::Instrument;

use crate::cache::BlockCache;
use crate::error::{Context, Error, Result};
use crate::read_ahead::ReadAhead;
use crate::source::ByteSource;
pub use crate::tail::TailPrefetch;
use crate::verified::VerifiedBlocks;

/// One run of a scan: the entries of a run of blocks fetched with one GET, decoded a block at a time.
type ScanRun = Box<dyn Iterator<Item = Result<OwnedEntry>> + Send>;
pub use crate::verified::Verify;

/// How a table is read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Bytes fetched from the end of the file at open, at least (default 64 KiB): the open's first GET takes
    /// the larger of this and what [`tail_prefetch`](Self::tail_prefetch) suggests; a second GET, of all the
    /// metadata the first did not cover, only when the metadata is larger.
    pub tail_size: u64,
    /// Sizes the open's first GET from the metadata sizes of recently opened tables (see [`TailPrefetch`]):
    /// by default the process-wide [`TailPrefetch::global`]; `None` fetches exactly
    /// [`tail_size`](Self::tail_size) (what [`ReadOptions::tail_size`] sets).
    pub tail_prefetch: Option<TailPrefetch>,
    /// The file size, if known: the open's first GET is then a plain ranged GET of the tail. Unknown, it is a
    /// suffix GET (`bytes=-N`), whose answer carries the size; a store refusing those costs a HEAD first.
    pub file_size: Option<u64>,
    /// When block checksums are checked (default [`Verify::Once`]: the first time this opened table reads
    /// each block). The footer and the metadata read at open are checked at open unless this is
    /// [`Verify::Never`].
    pub verify_checksums: Verify,
    /// Largest decompressed block accepted (default 64 MiB).
    pub max_block_len: usize,
    /// The block cache (shared between readers when cloned); `None` makes a private 64 MiB cache.
    pub cache: Option<BlockCache>,
    /// Most bytes of contiguous data blocks one scan GET fetches (default 4 MiB).
    pub scan_chunk: u64,
    /// Scan GETs kept in flight ahead of the consumer (default 2); as many fetched runs may wait (their blocks
    /// are decoded one at a time as the consumer reaches them) while the consumer works through the current one
    /// (so a scan holds up to `2 × scan_read_ahead + 1` runs of [`scan_chunk`](Self::scan_chunk) bytes).
    pub scan_read_ahead: usize,
    /// For a local file ([`SstReader::open_file`]): reads of up to this many bytes run on the calling task,
    /// larger ones (scans) on tokio's blocking pool so a slow disk does not stall the runtime's workers
    /// (default 256 KiB; see BENCHMARKS.md for the measurement).
    pub local_inline_read: u64,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tail_size: 64 * 1024,
            tail_prefetch: Some(TailPrefetch::global()),
            file_size: None,
            verify_checksums: Verify::Once,
            max_block_len: sstkit_core::compress::DEFAULT_MAX_BLOCK_LEN,
            cache: None,
            scan_chunk: 4 << 20,
            scan_read_ahead: 2,
            local_inline_read: 256 << 10,
        }
    }
}

impl ReadOptions {
    /// Sets the shared block cache.
    pub fn cache(mut self, cache: BlockCache) -> Self {
        self.cache = Some(cache);
        self
    }
    /// Sets the known file size.
    pub fn file_size(mut self, size: u64) -> Self {
        self.file_size = Some(size);
        self
    }
    /// Sets the tail size fetched at open, exactly: no [`TailPrefetch`] suggestion enlarges it.
    pub fn tail_size(mut self, size: u64) -> Self {
        self.tail_size = size;
        self.tail_prefetch = None;
        self
    }
    /// The first GET of an open: [`tail_size`](Self::tail_size) or the [`tail_prefetch`](Self::tail_prefetch)
    /// suggestion, the larger (at least 64 bytes: a footer).
    fn tail_len(&self) -> u64 {
        let suggested = self.tail_prefetch.as_ref().map_or(0, TailPrefetch::suggested);
        self.tail_size.max(suggested).max(64)
    }
    fn core(&self) -> sstkit_core::table::ReadOptions {
        let mut o = sstkit_core::table::ReadOptions::default();
        o.verify_checksums = self.verify_checksums.checks();
        o.max_block_len = self.max_block_len;
        o
    }
}

/// Counters of what a reader did (shared by its clones).
#[derive(Debug, Default)]
pub struct ReadCounters {
    pub(crate) gets: AtomicU64,
    pub(crate) heads: AtomicU64,
    pub(crate) bytes_fetched: AtomicU64,
    pub(crate) cache_hits: AtomicU64,
    pub(crate) cache_misses: AtomicU64,
}

/// A snapshot of [`ReadCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// GET requests (ranged or whole), or positioned reads of a local file.
    pub gets: u64,
    /// HEAD requests: only when the size is unknown and the store refuses suffix GETs.
    pub heads: u64,
    /// Bytes received.
    pub bytes_fetched: u64,
    /// Block reads served by the cache.
    pub cache_hits: u64,
    /// Block reads that had to fetch.
    pub cache_misses: u64,
}

impl ReadCounters {
    /// The counts now.
    pub fn snapshot(&self) -> ReadStats {
        ReadStats {
            gets: self.gets.load(Ordering::Relaxed),
            heads: self.heads.load(Ordering::Relaxed),
            bytes_fetched: self.bytes_fetched.load(Ordering::Relaxed),
            cache_hits: self.cache_hits.load(Ordering::Relaxed),
            cache_misses: self.cache_misses.load(Ordering::Relaxed),
        }
    }
}

/// An entry read from a table, owning (cheaply shared) bytes: the owned counterpart of core's
/// [`Entry`](sstkit_core::table::Entry), what both [`SstReader::get`] and [`SstReader::scan`] return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedEntry {
    /// The user key (without its timestamp, in a table with user-defined timestamps).
    pub user_key: Bytes,
    /// Its user-defined timestamp, in a table whose comparator carries them (`None` elsewhere).
    pub timestamp: Option<u64>,
    /// Its seqno (the table's global seqno for external files; the tombstone's for range deletions).
    pub seqno: u64,
    /// Its type: Value, Merge, Deletion, ... or RangeDeletion when `get` finds a range tombstone covering the key.
    pub kind: ValueType,
    /// Its value (empty for deletions).
    pub value: Bytes,
}

/// A range tombstone read from a table, owning its keys: the owned counterpart of core's
/// [`RangeTombstone`](sstkit_core::table::RangeTombstone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedTombstone {
    /// First deleted user key (without its timestamp).
    pub start: Bytes,
    /// First user key not deleted (without its timestamp).
    pub end: Bytes,
    /// Its seqno.
    pub seqno: u64,
    /// Its user-defined timestamp, in a table whose comparator carries them.
    pub timestamp: Option<u64>,
}

impl OwnedEntry {
    /// Owns `e`; its value is a slice of `block` (the uncompressed data block it was read from) when it lies
    /// there, else a copy.
    fn new(e: sstkit_core::table::Entry<'_>, block: Option<&Bytes>) -> Self {
        let value = match block {
            _ if e.value.is_empty() => Bytes::new(),
            Some(b) => b.slice_ref(e.value),
            None => Bytes::copy_from_slice(e.value),
        };
        let user_key = Bytes::copy_from_slice(e.user_key);
        OwnedEntry { user_key, timestamp: e.timestamp, seqno: e.seqno, kind: e.kind, value }
    }

    /// True for point and range deletions.
    pub fn is_deleted(&self) -> bool {
        self.kind.is_deletion()
    }
}

struct Inner {
    source: ByteSource,
    location: Arc<str>,
    region: Bytes,
    index_buf: Vec<u8>,
    layout: MetaLayout,
    opts: ReadOptions,
    cache: BlockCache,
    verified: VerifiedBlocks,
    counters: Arc<ReadCounters>,
}

/// A table on an object store or in a local file, opened lazily: metadata at open, data blocks on demand.
/// Cheap to clone; clones share the open file, the cache and the counters.
#[derive(Clone)]
pub struct SstReader {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for SstReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SstReader")
            .field("location", &self.inner.location)
            .field("file_size", &self.inner.layout.file_len)
            .finish()
    }
}

impl SstReader {
    /// Opens the table at `path`: one GET of the file's tail (a suffix GET when [`ReadOptions::file_size`] is
    /// unknown, so no HEAD), then, only if the tail does not hold all of the footer, metaindex, properties,
    /// index, filter and range deletions, one ranged GET of the rest of them (they lie together after the data
    /// blocks).
    ///
    /// With default options the tail is the larger of 64 KiB and what [`TailPrefetch::global`] learned from
    /// the tables this process opened before. So a cold [`get`](Self::get) of a present key (open + get) costs
    /// **2 requests** (the tail, the data block) when the metadata fits in 64 KiB (tables up to a few MiB with
    /// default writer options) or in the learned size (tables like those opened recently); **3** when it does
    /// not: the first table of its kind a process opens, a table much larger than the recent ones, metadata
    /// over [`tail::MAX_SUGGESTED`](crate::tail::MAX_SUGGESTED), or a store refusing suffix GETs (a HEAD
    /// more). A partitioned index or filter adds a GET per partition a get needs that the tail does not hold.
    pub async fn open(store: Arc<dyn ObjectStore>, path: Path, opts: ReadOptions) -> Result<SstReader> {
        let span = tracing::info_span!("sst_open", path = %path);
        let location: Arc<str> = Arc::from(path.as_ref());
        Self::open_source(ByteSource::Store { store, path }, location, opts).instrument(span).await
    }

    /// Opens the local file at `path` and keeps it open: reads are positioned reads on that one file handle
    /// (no per-read open, no seek, no lock), otherwise as [`open`](Self::open): the same caching, checks,
    /// counters ([`ReadStats::gets`] counts reads; the file's length stands for a suffix GET's size, so no
    /// HEAD) and errors. A missing file is an [`Error::Io`] (`NotFound`); a file that shrinks under the reader
    /// gives a corruption error on the read that finds it short.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use futures::TryStreamExt;
    /// use sstkit::core::table::{Options, TableBuilder};
    /// use sstkit::reader::{ReadOptions, SstReader, Verify};
    ///
    /// # let dir = tempfile::tempdir()?;
    /// # let path = dir.path().join("000001.sst");
    /// # let mut b = TableBuilder::new(Vec::new(), Options::default())?;
    /// # let mut bytes = Vec::new();
    /// # b.put(b"apple", b"red")?;
    /// # b.finish()?;
    /// # while let Some(c) = b.next_output()? { bytes.extend_from_slice(c); }
    /// # std::fs::write(&path, &bytes)?;
    /// # tokio::runtime::Runtime::new()?.block_on(async {
    /// let mut opts = ReadOptions::default();
    /// opts.verify_checksums = Verify::Once; // the default
    /// let reader = SstReader::open_file(&path, opts).await?;
    /// let e = reader.get(b"apple").await?.expect("present");
    /// assert_eq!(&e.value[..], b"red");
    /// let all: Vec<_> = reader.scan((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)).try_collect().await?;
    /// assert_eq!(all.len(), 1);
    /// # Ok::<(), sstkit::Error>(())
    /// # })?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn open_file(path: impl AsRef<std::path::Path>, opts: ReadOptions) -> Result<SstReader> {
        let path = path.as_ref();
        let location: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        let span = tracing::info_span!("sst_open", path = %location);
        let source = ByteSource::open_file(path, &location, opts.local_inline_read)?;
        Self::open_source(source, location, opts).instrument(span).await
    }

    async fn open_source(source: ByteSource, location: Arc<str>, opts: ReadOptions) -> Result<SstReader> {
        let counters = Arc::new(ReadCounters::default());
        let core_opts = opts.core();
        let (size, mut region) = source.read_tail(&location, opts.tail_len(), opts.file_size, &counters).await?;
        let mut base = size.saturating_sub(region.len() as u64);
        // Once the tail holds the metaindex, core names every metadata block the open needs (index, filter,
        // properties, range deletions, the top levels of partitioned ones): one more GET fetches all it lacks.
        // A partitioned index's partitions are not fetched here: lookups fetch (and cache) the ones they need.
        while let MetaNeed::From(start) =
            meta_start_without_partitions(&region, base, size, &core_opts).context(|| format!("{location}: open"))?
        {
            if start >= base {
                return Err(Error::Codec {
                    context: format!("{location}: open"),
                    source: CoreError::corrupt(Part::Table, base, "metadata does not fit in the file"),
                });
            }
            let head = source.read(&location, start..base, &counters).await?;
            let mut joined = BytesMut::with_capacity(head.len() + region.len());
            joined.extend_from_slice(&head);
            joined.extend_from_slice(&region);
            region = joined.freeze();
            base = start;
        }
        let mut index_buf = Vec::new();
        let layout = MetaLayout::parse_growing(&region, base, size, &core_opts, &mut index_buf)
            .map_err(|e| Error::Codec { context: format!("{location}: open"), source: e })?;
        let cache = opts.cache.clone().unwrap_or_else(|| BlockCache::new(64 << 20));
        let verified = VerifiedBlocks::new(opts.verify_checksums);
        if let Some(t) = &opts.tail_prefetch {
            let meta_offset = layout.meta_offset(&region).context(|| format!("{location}: open"))?;
            t.record(size.saturating_sub(meta_offset));
        }
        tracing::debug!(size, meta_bytes = region.len(), "opened");
        Ok(SstReader {
            inner: Arc::new(Inner { source, location, region, index_buf, layout, opts, cache, verified, counters }),
        })
    }

    /// The file's location.
    pub fn location(&self) -> &str {
        &self.inner.location
    }

    /// The file size.
    pub fn file_size(&self) -> u64 {
        self.inner.layout.file_len
    }

    /// The parsed metadata layout (footer, index settings, global seqno).
    pub fn layout(&self) -> &MetaLayout {
        &self.inner.layout
    }

    /// The properties.
    pub fn properties(&self) -> Result<Properties<'_>> {
        self.inner.layout.properties(&self.inner.region).context(|| format!("{}: properties", self.inner.location))
    }

    /// What this reader did so far.
    pub fn stats(&self) -> ReadStats {
        self.inner.counters.snapshot()
    }

    /// The block cache it uses.
    pub fn cache(&self) -> &BlockCache {
        &self.inner.cache
    }

    fn context(&self, what: &str) -> impl FnOnce() -> String + '_ {
        let what = what.to_string();
        move || format!("{}: {what}", self.inner.location)
    }

    /// The format view over the metadata fetched at open (cheap: nothing is parsed again).
    fn table(&self) -> Result<TableLayout<'_>> {
        let i = &self.inner;
        TableLayout::new(&i.layout, &i.region, &i.index_buf, i.opts.core()).context(self.context("open"))
    }

    /// The range tombstones.
    pub fn range_tombstones(&self) -> Result<Vec<(Bytes, Bytes, u64)>> {
        Ok(self.range_tombstones_at(u64::MAX)?.into_iter().map(|t| (t.start, t.end, t.seqno)).collect())
    }

    /// The range tombstones a reader at `read_ts` sees, with their user-defined timestamps (keys without
    /// them). In a table without timestamps: all of them, timestamp `None`.
    pub fn range_tombstones_at(&self, read_ts: u64) -> Result<Vec<OwnedTombstone>> {
        let region = &self.inner.region;
        let mut out = Vec::new();
        for t in self.table()?.range_tombstones() {
            let t = t.context(self.context("range deletions"))?;
            if t.visible_at(read_ts) {
                let (start, end) = (region.slice_ref(t.start), region.slice_ref(t.end));
                out.push(OwnedTombstone { start, end, seqno: t.seqno, timestamp: t.timestamp });
            }
        }
        Ok(out)
    }

    /// The newest entry for `user_key`, honouring range tombstones: the filter first, then at most one GET
    /// for the data block (none when it is cached).
    ///
    /// No lock is held across an await: the block cache and the verified-block set are locked only to look up
    /// or insert, the counters are atomics and a local file is read with positioned reads.
    pub async fn get(&self, user_key: &[u8]) -> Result<Option<OwnedEntry>> {
        self.get_at(user_key, u64::MAX).await
    }

    /// [`get`](Self::get) at read timestamp `read_ts`: in a table with user-defined timestamps, the newest
    /// version of `user_key` (given without its timestamp) whose timestamp is ≤ `read_ts`, with only the range
    /// tombstones whose timestamp is ≤ `read_ts`; in other tables the same as `get`.
    pub async fn get_at(&self, user_key: &[u8], read_ts: u64) -> Result<Option<OwnedEntry>> {
        let span = tracing::debug_span!("sst_get", path = %self.inner.location);
        async {
            let table = self.table()?;
            let filter_part = table.filter_partition_for(user_key);
            // Index and filter lookups go through `lookup`; fetched blocks are decoded through `table`.
            let trusted = self.lookup_view(&table, filter_part);
            let lookup = trusted.as_ref().unwrap_or(&table);
            let data = if !self.filter_partition_may_match(&table, filter_part, user_key).await? {
                None
            } else if table.index_info().partitioned {
                match lookup.partition_for_at(user_key, read_ts).context(self.context("get"))? {
                    Some(p) => {
                        let part = self.fetch_partition(&table, p).await?;
                        lookup
                            .point_block_in_partition_at(&part, p.handle, user_key, read_ts)
                            .context(self.context("get"))?
                    }
                    None => None,
                }
            } else {
                lookup.point_block_at(user_key, read_ts).context(self.context("get"))?
            };
            let block = match data {
                Some(extent) => Some((self.fetch_block(&table, extent).await?, extent.handle)),
                None => None,
            };
            let mut key = DefaultKeyBuf::new();
            let hit = table
                .get_in_block_at(block.as_ref().map(|(b, h)| (&b[..], *h)), user_key, &mut key, read_ts)
                .context(self.context("get"))?;
            Ok(hit.map(|h| OwnedEntry::new(h, block.as_ref().map(|(b, _)| b))))
        }
        .instrument(span)
        .await
    }

    /// The newest entry for `user_key` that a read at sequence number `snapshot` sees (versions and range
    /// tombstones with seqno ≤ `snapshot`, as core's [`Table::get_as_of`](sstkit_core::table::Table::get_as_of)):
    /// the filter first, then the data blocks that may hold the key's versions, in order, until one holds a
    /// visible version or a larger key (usually one block).
    pub async fn get_as_of(&self, user_key: &[u8], snapshot: u64) -> Result<Option<OwnedEntry>> {
        let mut point = None;
        let filter_part = self.table()?.filter_partition_for(user_key);
        if self.filter_partition_may_match(&self.table()?, filter_part, user_key).await?
            && self.table()?.may_contain(user_key)
        {
            let range = (Bound::Included(user_key), Bound::Included(user_key));
            for extent in self.block_extents(range).await? {
                let table = self.table()?;
                let block = self.fetch_block(&table, extent).await?;
                let mut key = DefaultKeyBuf::new();
                match table
                    .point_in_block_as_of(&block, extent.handle, user_key, snapshot, &mut key)
                    .context(self.context("get"))?
                {
                    VersionLookup::Found { seqno, timestamp, kind, value } => {
                        let value = if value.is_empty() { Bytes::new() } else { block.slice(value) };
                        point = Some((seqno, timestamp, kind, value));
                        break;
                    }
                    VersionLookup::Absent => break,
                    VersionLookup::ReadOn => {}
                }
            }
        }
        let table = self.table()?;
        let entry = point.as_ref().map(|(seqno, timestamp, kind, value)| sstkit_core::table::Entry {
            user_key,
            timestamp: *timestamp,
            seqno: *seqno,
            kind: *kind,
            value,
        });
        let hit = table.apply_tombstones_as_of(user_key, entry, snapshot).context(self.context("get"))?;
        Ok(hit.map(|h| OwnedEntry {
            user_key: Bytes::copy_from_slice(user_key),
            timestamp: h.timestamp,
            seqno: h.seqno,
            kind: h.kind,
            value: match &point {
                Some((_, _, _, v)) if h.kind != ValueType::RangeDeletion => v.clone(),
                _ => Bytes::new(),
            },
        }))
    }

    /// A view that skips the checksum of the block at `handle`, when this table verified it already
    /// ([`Verify::Once`]); `None` when it must be checked (then [`VerifiedBlocks::passed`] once it passes).
    fn trusted_view<'r>(&self, table: &TableLayout<'r>, handle: BlockHandle) -> Option<TableLayout<'r>> {
        (table.read_options().verify_checksums && self.inner.verified.trusted(handle)).then(|| table.verifying(false))
    }

    /// Decodes the block at `handle` with `decode` through `table`, or a view that skips its checksum when this
    /// table verified it already; remembers it as verified when the check ran and passed.
    fn checked<'r, T>(
        &self,
        table: &TableLayout<'r>,
        handle: BlockHandle,
        decode: impl FnOnce(&TableLayout<'r>) -> Result<T>,
    ) -> Result<T> {
        if let Some(t) = self.trusted_view(table, handle) {
            return decode(&t);
        }
        let out = decode(table)?;
        self.inner.verified.passed(handle);
        Ok(out)
    }

    /// The view a point lookup asks the index and filter through. Core's filter check reads the filter
    /// partition `filter_part` out of the metadata region on every lookup and verifies it when checksums are
    /// on; under [`Verify::Once`] it is checked here the first time and the lookup then uses a view that does
    /// not check it again. `None`: use the table itself.
    fn lookup_view<'r>(&self, table: &TableLayout<'r>, filter_part: Option<BlockExtent>) -> Option<TableLayout<'r>> {
        let i = &self.inner;
        let x = filter_part.filter(|x| x.start() >= i.layout.base)?;
        if let Some(t) = self.trusted_view(table, x.handle) {
            return Some(t);
        }
        if i.opts.verify_checksums != Verify::Once {
            return None;
        }
        // A damaged partition is not remembered: core's rule (may match) applies on every lookup.
        table.verified_block(&i.region, i.layout.base, x.handle, Part::Filter).ok()?;
        i.verified.passed(x.handle);
        Some(table.verifying(false))
    }

    /// The uncompressed, verified data block at `handle`, from the cache or one ranged GET.
    pub async fn block(&self, handle: BlockHandle) -> Result<Bytes> {
        let table = self.table()?;
        let extent = table.extent(handle, Part::DataBlock).context(self.block_context(handle))?;
        self.fetch_block(&table, extent).await
    }

    async fn fetch_block(&self, table: &TableLayout<'_>, extent: BlockExtent) -> Result<Bytes> {
        let i = &self.inner;
        let key = (i.location.clone(), extent.handle);
        if let Some(b) = i.cache.get(&key) {
            i.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(b);
        }
        let fetch = async {
            i.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
            let raw = i.source.read(&i.location, extent.range(), &i.counters).await?;
            Ok(self.decode_block(table, &raw, extent.start(), extent.handle)?.1)
        };
        i.cache.get_or_fetch(key, fetch, &i.counters.cache_hits).await
    }

    /// False only if the table's partitioned filter proves `user_key` absent; its partition `filter_part` is
    /// fetched (one GET, cached) when the metadata fetched at open does not hold it. True for tables without one.
    async fn filter_partition_may_match(
        &self,
        table: &TableLayout<'_>,
        filter_part: Option<BlockExtent>,
        user_key: &[u8],
    ) -> Result<bool> {
        let i = &self.inner;
        let Some(x) = filter_part else { return Ok(true) };
        if x.start() >= i.layout.base {
            // In the region: `TableLayout::may_contain` (in point_block/partition_for) already asks it.
            return Ok(true);
        }
        let key = (i.location.clone(), x.handle);
        let body = match i.cache.get(&key) {
            Some(b) => {
                i.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
                b
            }
            None => {
                let fetch = async {
                    i.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
                    let raw = i.source.read(&i.location, x.range(), &i.counters).await?;
                    let body = match self.trusted_view(table, x.handle) {
                        Some(t) => t.filter_partition_body(&raw, x.start(), x.handle),
                        None => {
                            // Empty when damaged (may match), which is not remembered as verified.
                            let body = table.filter_partition_body(&raw, x.start(), x.handle);
                            if !body.is_empty() {
                                i.verified.passed(x.handle);
                            }
                            body
                        }
                    };
                    Ok(raw.slice_ref(body))
                };
                i.cache.get_or_fetch(key, fetch, &i.counters.cache_hits).await?
            }
        };
        Ok(table.filter_partition_may_match(&body, user_key))
    }

    /// The uncompressed, verified index partition at `extent`, from the metadata fetched at open, the cache or
    /// one ranged GET.
    async fn fetch_partition(&self, table: &TableLayout<'_>, extent: BlockExtent) -> Result<Bytes> {
        let i = &self.inner;
        if extent.start() >= i.layout.base {
            // The tail fetched at open already holds it.
            return self.decode_partition(table, &i.region, i.layout.base, extent.handle);
        }
        let key = (i.location.clone(), extent.handle);
        if let Some(b) = i.cache.get(&key) {
            i.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(b);
        }
        let fetch = async {
            i.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
            let raw = i.source.read(&i.location, extent.range(), &i.counters).await?;
            self.decode_partition(table, &raw, extent.start(), extent.handle)
        };
        i.cache.get_or_fetch(key, fetch, &i.counters.cache_hits).await
    }

    /// Verifies (once) and uncompresses the index partition at `handle` out of `raw` (file bytes from offset
    /// `base`).
    fn decode_partition(&self, table: &TableLayout<'_>, raw: &Bytes, base: u64, handle: BlockHandle) -> Result<Bytes> {
        let i = &self.inner;
        let context = || format!("{}: index partition at offset {} ({} bytes)", i.location, handle.offset, handle.size);
        let mut out = Vec::new();
        let d = self.checked(table, handle, |t| t.decode_partition(raw, base, handle, &mut out).context(context))?;
        Ok(match d.bytes {
            BlockBytes::Fetched(body) => raw.slice_ref(body),
            BlockBytes::Buffer(n) => {
                out.truncate(n);
                Bytes::from(out)
            }
        })
    }

    /// The uncompressed index partitions that may hold entries for keys in `range`, with their handles
    /// (none when the index is not partitioned).
    async fn partitions(&self, range: (Bound<&[u8]>, Bound<&[u8]>)) -> Result<Vec<(BlockHandle, Bytes)>> {
        let table = self.table()?;
        if !table.index_info().partitioned {
            return Ok(Vec::new());
        }
        let mut extents = Vec::new();
        table
            .for_each_partition(range, |e| {
                extents.push(e);
                Ok(true)
            })
            .context(self.context("index"))?;
        let mut out = Vec::with_capacity(extents.len());
        for e in extents {
            out.push((e.handle, self.fetch_partition(&table, e).await?));
        }
        Ok(out)
    }

    fn block_context(&self, handle: BlockHandle) -> impl FnOnce() -> String + '_ {
        move || format!("{}: data block at offset {} ({} bytes)", self.inner.location, handle.offset, handle.size)
    }

    /// Verifies (once) and uncompresses the block at `handle` out of `raw` (file bytes from offset `base`).
    fn decode_block(
        &self,
        table: &TableLayout<'_>,
        raw: &Bytes,
        base: u64,
        handle: BlockHandle,
    ) -> Result<(sstkit_core::CompressionType, Bytes)> {
        let mut out = Vec::new();
        let d = self.checked(table, handle, |t| {
            t.decode_block(raw, base, handle, &mut out).context(self.block_context(handle))
        })?;
        let bytes = match d.bytes {
            BlockBytes::Fetched(body) => raw.slice_ref(body),
            BlockBytes::Buffer(n) => {
                out.truncate(n);
                Bytes::from(out)
            }
        };
        Ok((d.compression, bytes))
    }

    /// The extents of the data blocks that may hold keys in `range`, in order (a partitioned index's
    /// partitions are fetched, one GET each when not cached).
    async fn block_extents(&self, range: (Bound<&[u8]>, Bound<&[u8]>)) -> Result<Vec<BlockExtent>> {
        let mut out = Vec::new();
        let mut push = |e| {
            out.push(e);
            Ok(true)
        };
        if !self.layout().index_info.partitioned {
            self.table()?.for_each_block(range, push).context(self.context("index"))?;
            return Ok(out);
        }
        let parts = self.partitions(range).await?;
        let table = self.table()?;
        for (handle, bytes) in parts {
            if !table.for_each_block_in_partition(&bytes, handle, range, &mut push).context(self.context("index"))? {
                break;
            }
        }
        Ok(out)
    }

    /// Streams the point entries with user keys in `range`, in order. Runs of contiguous blocks are fetched
    /// with one ranged GET each (at most [`ReadOptions::scan_chunk`] bytes), [`ReadOptions::scan_read_ahead`]
    /// GETs ahead of the consumer, polled on every entry the consumer takes, so their bodies keep arriving
    /// while it works (on the consumer's task: no task is spawned). Scans do not fill the block cache.
    pub fn scan(
        &self,
        range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    ) -> impl Stream<Item = Result<OwnedEntry>> + Send + 'static {
        let reader = self.clone();
        let r1 = reader.clone();
        let range1 = range.clone();
        // The block list comes first (a partitioned index may need GETs for it), then the runs of blocks.
        let chunks = async move {
            let chunks: Vec<Result<Vec<BlockExtent>>> = match r1.block_extents(bounds(&range1)).await {
                Ok(e) => group_runs(&e, r1.inner.opts.scan_chunk).into_iter().map(Ok).collect(),
                Err(e) => vec![Err(e)],
            };
            stream::iter(chunks)
        };
        let ahead = reader.inner.opts.scan_read_ahead.max(1);
        let r2 = reader.clone();
        let runs = stream::once(chunks)
            .flatten()
            .map(move |chunk| {
                let reader = r2.clone();
                async move { reader.fetch_run(chunk?).await }
            })
            .buffered(ahead)
            .map(move |blocks| -> ScanRun {
                let blocks = match blocks {
                    Ok(b) => b,
                    Err(e) => return Box::new(std::iter::once(Err(e))),
                };
                // One block's entries at a time: a run's worth of owned entries (a key copy and ~100 bytes each,
                // as much again as the run's bytes) would otherwise be held per scan.
                let (reader, range) = (reader.clone(), range.clone());
                let mut blocks = blocks.into_iter();
                let mut stopped = false;
                let mut key = DefaultKeyBuf::new();
                Box::new(
                    std::iter::from_fn(move || {
                        if stopped {
                            return None;
                        }
                        let (handle, _, block) = blocks.next()?;
                        let mut entries = Vec::new();
                        let r = reader.table().and_then(|table| {
                            table
                                .for_each_entry_in_block(&block, handle, bounds(&range), &mut key, |e| {
                                    entries.push(Ok(OwnedEntry::new(e, Some(&block))));
                                    Ok(true)
                                })
                                .context(reader.block_context(handle))
                        });
                        match r {
                            Ok(true) => {}
                            Ok(false) => stopped = true,
                            Err(e) => {
                                entries.push(Err(e));
                                stopped = true;
                            }
                        }
                        Some(entries)
                    })
                    .flatten(),
                )
            });
        // The GETs in flight are polled on every entry the consumer takes (see `read_ahead`).
        ReadAhead::new(Box::pin(runs), ahead)
    }

    /// [`scan`](Self::scan) as a read at sequence number `snapshot` sees it: the versions with seqno ≤
    /// `snapshot` (every version of a key is streamed, newest first, as by `scan`; the range tombstones a
    /// read at `snapshot` sees are those of [`range_tombstones`](Self::range_tombstones) with seqno ≤ `snapshot`).
    pub fn scan_as_of(
        &self,
        range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
        snapshot: u64,
    ) -> impl Stream<Item = Result<OwnedEntry>> + Send + 'static {
        self.scan(range).try_filter(move |e| futures::future::ready(e.seqno <= snapshot))
    }

    /// Fetches a run of contiguous blocks with one GET and decodes each (verified once).
    async fn fetch_run(
        &self,
        run: Vec<BlockExtent>,
    ) -> Result<Vec<(BlockHandle, sstkit_core::CompressionType, Bytes)>> {
        let (Some(first), Some(last)) = (run.first(), run.last()) else { return Ok(Vec::new()) };
        let i = &self.inner;
        let raw = i.source.read(&i.location, first.start()..last.end, &i.counters).await?;
        let table = self.table()?;
        run.iter()
            .map(|e| {
                let (compression, bytes) = self.decode_block(&table, &raw, first.start(), e.handle)?;
                Ok((e.handle, compression, bytes))
            })
            .collect()
    }
}

/// Borrows a range of owned keys.
fn bounds(range: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> (Bound<&[u8]>, Bound<&[u8]>) {
    (range.0.as_ref().map(Vec::as_slice), range.1.as_ref().map(Vec::as_slice))
}

/// A property: name, raw value, and the number it holds if it is a numeric property.
pub type PropertyEntry = (String, Vec<u8>, Option<u64>);

/// One entry of the index block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    /// The separator key as stored (a user key or an internal key, see [`MetaLayout::index_info`]).
    pub key: Vec<u8>,
    /// The data block.
    pub handle: BlockHandle,
    /// The block's first internal key (index type 3 only).
    pub first_key: Option<Vec<u8>>,
}

/// A data block as read from the file.
#[derive(Debug, Clone)]
pub struct DataBlock {
    /// Where it is (the extent includes the trailer).
    pub extent: BlockExtent,
    /// Its compression type byte.
    pub compression: sstkit_core::CompressionType,
    /// The uncompressed block.
    pub bytes: Bytes,
}

impl SstReader {
    /// The index entries that name data blocks, in order (a partitioned index's partitions are walked; the
    /// top-level entries are not listed).
    pub async fn index_entries(&self) -> Result<Vec<IndexEntry>> {
        let mut out = Vec::new();
        let mut push = |k: &[u8], handle, first: Option<&[u8]>| {
            out.push(IndexEntry { key: k.to_vec(), handle, first_key: first.map(<[u8]>::to_vec) });
            Ok(())
        };
        if !self.layout().index_info.partitioned {
            self.table()?.for_each_index_entry(push).context(self.context("index"))?;
            return Ok(out);
        }
        let parts = self.partitions((Bound::Unbounded, Bound::Unbounded)).await?;
        let table = self.table()?;
        for (handle, bytes) in parts {
            table.for_each_index_entry_in_partition(&bytes, handle, &mut push).context(self.context("index"))?;
        }
        Ok(out)
    }

    /// The metaindex entries: meta block names and handles.
    pub fn meta_blocks(&self) -> Result<Vec<(String, BlockHandle)>> {
        let i = &self.inner;
        let m = i.layout.metaindex(&i.region).context(self.context("metaindex"))?;
        let mut out = Vec::new();
        m.for_each(|name, h| {
            out.push((String::from_utf8_lossy(name).into_owned(), h));
            Ok(())
        })
        .context(self.context("metaindex"))?;
        Ok(out)
    }

    /// Every property as `(name, raw value, number if the property is numeric)`.
    pub fn properties_list(&self) -> Result<Vec<PropertyEntry>> {
        let props = self.properties()?;
        let mut out = Vec::new();
        let mut bad = None;
        props
            .for_each(|name, raw| {
                let n = match sstkit_core::properties::prop_number(name, raw) {
                    Ok(n) => n,
                    Err(e) => {
                        bad.get_or_insert(e);
                        None
                    }
                };
                out.push((String::from_utf8_lossy(name).into_owned(), raw.to_vec(), n));
            })
            .context(self.context("properties"))?;
        if let Some(e) = bad {
            return Err(e).context(self.context("properties"));
        }
        Ok(out)
    }

    /// Verifies the checksum of every filter partition of a partitioned filter (no other filter has any), runs
    /// of adjacent partitions in one GET each: what [`for_each_data_block`](Self::for_each_data_block) does not
    /// read. Returns how many were checked; the first that fails is the error. Nothing is checked under
    /// [`Verify::Never`].
    pub async fn verify_filter_partitions(&self) -> Result<u64> {
        let i = &self.inner;
        let mut parts = Vec::new();
        {
            let table = self.table()?;
            table
                .for_each_filter_partition(|h| {
                    parts.push(table.extent(h, Part::Filter)?);
                    Ok(true)
                })
                .context(self.context("filter partitions"))?;
        }
        for run in group_runs(&parts, i.opts.scan_chunk) {
            let (Some(first), Some(last)) = (run.first(), run.last()) else { continue };
            let raw = i.source.read(&i.location, first.start()..last.end, &i.counters).await?;
            let table = self.table()?;
            for x in &run {
                table
                    .verified_block(&raw, first.start(), x.handle, Part::Filter)
                    .context(self.context("filter partition"))?;
            }
        }
        Ok(parts.len() as u64)
    }

    /// Reads every data block in file order (each verified once when checksums are on), calling `f` with
    /// each; runs of adjacent blocks come in one GET each. Stops at the first error, which names the block.
    pub async fn for_each_data_block(&self, mut f: impl FnMut(DataBlock) -> Result<()>) -> Result<()> {
        let extents = self.block_extents((Bound::Unbounded, Bound::Unbounded)).await?;
        let runs = group_runs(&extents, self.inner.opts.scan_chunk);
        let ahead = self.inner.opts.scan_read_ahead.max(1);
        let mut fetched = stream::iter(runs)
            .map(|run| {
                let me = self.clone();
                async move {
                    let blocks = me.fetch_run(run.clone()).await?;
                    Ok::<_, Error>(run.into_iter().zip(blocks).map(|(extent, (_, compression, bytes))| DataBlock {
                        extent,
                        compression,
                        bytes,
                    }))
                }
            })
            .buffered(ahead);
        while let Some(run) = fetched.next().await {
            for b in run? {
                f(b)?;
            }
        }
        Ok(())
    }

    /// Calls `f` with every entry of an uncompressed data block (from [`for_each_data_block`](Self::for_each_data_block)).
    pub fn block_entries(&self, block: &DataBlock, mut f: impl FnMut(sstkit_core::table::Entry<'_>)) -> Result<()> {
        let mut key = DefaultKeyBuf::new();
        let handle = block.extent.handle;
        self.table()?
            .for_each_entry_in_block(&block.bytes, handle, (Bound::Unbounded, Bound::Unbounded), &mut key, |e| {
                f(e);
                Ok(true)
            })
            .context(self.block_context(handle))?;
        Ok(())
    }
}

/// Splits extents into runs of adjacent blocks of at most `max` bytes (a lone bigger block is its own run).
fn group_runs(extents: &[BlockExtent], max: u64) -> Vec<Vec<BlockExtent>> {
    let mut runs: Vec<Vec<BlockExtent>> = Vec::new();
    let mut run_start = 0u64;
    for e in extents {
        // Adjacent means the previous block ends where this one starts, so the run starts at or before it.
        let extend = runs
            .last()
            .and_then(|r| r.last())
            .is_some_and(|prev| prev.end == e.start() && e.end.saturating_sub(run_start) <= max);
        match runs.last_mut() {
            Some(r) if extend => r.push(*e),
            _ => {
                run_start = e.start();
                runs.push(vec![*e]);
            }
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_adjacent_blocks_up_to_the_limit() {
        let h = |o, s| BlockExtent::new(BlockHandle::new(o, s), 10_000, Part::DataBlock).unwrap();
        let hs = [h(0, 95), h(100, 95), h(200, 95), h(400, 95), h(500, 995)];
        let runs = group_runs(&hs, 250);
        assert_eq!(runs, vec![vec![h(0, 95), h(100, 95)], vec![h(200, 95)], vec![h(400, 95)], vec![h(500, 995)]]);
    }
}
