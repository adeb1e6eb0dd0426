//! A lazy table reader over any object store: ranged GETs, verified blocks, a shared block cache.

use std::ops::{Bound, Range};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::stream::{self, Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use sstkit_core::handle::BlockHandle;
use sstkit_core::key::ValueType;
use sstkit_core::keybuf::DefaultKeyBuf;
use sstkit_core::properties::Properties;
use sstkit_core::table::lookup::{block_lookup, for_each_in_block};
use sstkit_core::table::{meta_start, read_block, MetaLayout, MetaNeed, RangeTombstones};
use sstkit_core::trailer::BLOCK_TRAILER_LEN;
use sstkit_core::{Error as CoreError, Part};
use tracing::Instrument;

use crate::cache::BlockCache;
use crate::error::{Context, Error, Result};

/// How a table is read.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Bytes fetched from the end of the file at open (default 64 KiB); a second GET only if the metadata is
    /// larger.
    pub tail_size: u64,
    /// The file size, if known (saves a HEAD request).
    pub file_size: Option<u64>,
    /// Verify the checksum of every block read (default true).
    pub verify_checksums: bool,
    /// Largest decompressed block accepted (default 64 MiB).
    pub max_block_len: usize,
    /// The block cache (shared between readers when cloned); `None` makes a private 64 MiB cache.
    pub cache: Option<BlockCache>,
    /// Most bytes of contiguous data blocks one scan GET fetches (default 4 MiB).
    pub scan_chunk: u64,
    /// Scan GETs kept in flight ahead of the consumer (default 2).
    pub scan_read_ahead: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            tail_size: 64 * 1024,
            file_size: None,
            verify_checksums: true,
            max_block_len: sstkit_core::compress::DEFAULT_MAX_BLOCK_LEN,
            cache: None,
            scan_chunk: 4 << 20,
            scan_read_ahead: 2,
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
    /// Sets the tail size fetched at open.
    pub fn tail_size(mut self, size: u64) -> Self {
        self.tail_size = size;
        self
    }
    fn core(&self) -> sstkit_core::table::ReadOptions {
        let mut o = sstkit_core::table::ReadOptions::default();
        o.verify_checksums = self.verify_checksums;
        o.max_block_len = self.max_block_len;
        o
    }
}

/// Counters of what a reader did (shared by its clones).
#[derive(Debug, Default)]
pub struct ReadCounters {
    gets: AtomicU64,
    heads: AtomicU64,
    bytes_fetched: AtomicU64,
    cache_hits: AtomicU64,
    cache_misses: AtomicU64,
}

/// A snapshot of [`ReadCounters`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ReadStats {
    /// GET requests (ranged or whole).
    pub gets: u64,
    /// HEAD requests.
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

/// An entry read from a table, owning (cheaply shared) bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedEntry {
    /// The user key.
    pub user_key: Bytes,
    /// Its seqno (the table's global seqno for external files).
    pub seqno: u64,
    /// Its type.
    pub kind: ValueType,
    /// Its value.
    pub value: Bytes,
}

/// What [`SstReader::get`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Seqno of the newest entry (or of the covering range tombstone).
    pub seqno: u64,
    /// Value, Merge, Deletion, ... or RangeDeletion when a range tombstone covers the key.
    pub kind: ValueType,
    /// The value (empty for deletions).
    pub value: Bytes,
}

impl Found {
    /// True for point and range deletions.
    pub fn is_deleted(&self) -> bool {
        self.kind.is_deletion()
    }
}

struct Inner {
    store: Arc<dyn ObjectStore>,
    path: Path,
    location: Arc<str>,
    region: Bytes,
    index_buf: Vec<u8>,
    layout: MetaLayout,
    opts: ReadOptions,
    cache: BlockCache,
    counters: Arc<ReadCounters>,
}

/// A table on an object store, opened lazily: metadata at open, data blocks on demand. Cheap to clone.
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
    /// Opens the table at `path`: one ranged GET of the file's tail, which normally covers the footer,
    /// metaindex, properties, index and filter (a second GET only when they are larger than the tail).
    pub async fn open(store: Arc<dyn ObjectStore>, path: Path, opts: ReadOptions) -> Result<SstReader> {
        let span = tracing::info_span!("sst_open", path = %path);
        Self::open_inner(store, path, opts).instrument(span).await
    }

    async fn open_inner(store: Arc<dyn ObjectStore>, path: Path, opts: ReadOptions) -> Result<SstReader> {
        let counters = Arc::new(ReadCounters::default());
        let location: Arc<str> = Arc::from(path.as_ref());
        let size = match opts.file_size {
            Some(s) => s,
            None => {
                counters.heads.fetch_add(1, Ordering::Relaxed);
                store.head(&path).await.context(|| format!("{location}: HEAD"))?.size
            }
        };
        let core_opts = opts.core();
        let mut base = size.saturating_sub(opts.tail_size.max(64));
        let mut region = fetch(&*store, &path, &location, base..size, &counters).await?;
        loop {
            match meta_start(&region, base, size, &core_opts).context(|| format!("{location}: open"))? {
                MetaNeed::Covered => break,
                MetaNeed::From(start) if start < base => {
                    let head = fetch(&*store, &path, &location, start..base, &counters).await?;
                    let mut joined = BytesMut::with_capacity(head.len() + region.len());
                    joined.extend_from_slice(&head);
                    joined.extend_from_slice(&region);
                    region = joined.freeze();
                    base = start;
                }
                MetaNeed::From(_) => {
                    return Err(Error::Codec {
                        context: format!("{location}: open"),
                        source: CoreError::corrupt(Part::Table, base, "metadata does not fit in the file"),
                    })
                }
            }
        }
        let mut index_buf = Vec::new();
        let layout = loop {
            match MetaLayout::parse(&region, base, size, &core_opts, &mut index_buf) {
                Ok(l) => break l,
                Err(CoreError::BufferTooSmall { needed })
                    if needed > index_buf.len() && needed <= opts.max_block_len =>
                {
                    index_buf.resize(needed, 0);
                }
                Err(e) => return Err(Error::Codec { context: format!("{location}: open"), source: e }),
            }
        };
        let cache = opts.cache.clone().unwrap_or_else(|| BlockCache::new(64 << 20));
        tracing::debug!(size, meta_bytes = region.len(), "opened");
        Ok(SstReader {
            inner: Arc::new(Inner { store, path, location, region, index_buf, layout, opts, cache, counters }),
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

    /// The range tombstones.
    pub fn range_tombstones(&self) -> Result<Vec<(Bytes, Bytes, u64)>> {
        let i = &self.inner;
        let Some(block) = i.layout.range_del(&i.region).context(self.context("range deletions"))? else {
            return Ok(Vec::new());
        };
        RangeTombstones::new(block, i.layout.global_seqno)
            .map(|t| t.map(|t| (i.region.slice_ref(t.start), i.region.slice_ref(t.end), t.seqno)))
            .collect::<std::result::Result<_, _>>()
            .context(self.context("range deletions"))
    }

    fn covering_tombstone(&self, user_key: &[u8]) -> Result<Option<u64>> {
        let i = &self.inner;
        match i.layout.range_del(&i.region).context(self.context("range deletions"))? {
            Some(block) => RangeTombstones::new(block, i.layout.global_seqno)
                .covering(user_key)
                .context(self.context("range deletions")),
            None => Ok(None),
        }
    }

    /// The newest entry for `user_key`, honouring range tombstones: the filter first, then at most one GET
    /// for the data block (none when it is cached).
    pub async fn get(&self, user_key: &[u8]) -> Result<Option<Found>> {
        let span = tracing::debug_span!("sst_get", path = %self.inner.location);
        async {
            let tomb = self.covering_tombstone(user_key)?;
            let point = self.get_point(user_key).await?;
            Ok(match (point, tomb) {
                (Some(p), Some(t)) if t > p.seqno => {
                    Some(Found { seqno: t, kind: ValueType::RangeDeletion, value: Bytes::new() })
                }
                (None, Some(t)) => Some(Found { seqno: t, kind: ValueType::RangeDeletion, value: Bytes::new() }),
                (p, _) => p,
            })
        }
        .instrument(span)
        .await
    }

    async fn get_point(&self, user_key: &[u8]) -> Result<Option<Found>> {
        let i = &self.inner;
        if !i.layout.may_contain(&i.region, user_key, None) {
            return Ok(None);
        }
        let Some(handle) = i.layout.find_block(&i.region, &i.index_buf, user_key).context(self.context("index"))?
        else {
            return Ok(None);
        };
        if !i.layout.may_contain(&i.region, user_key, Some(handle.offset)) {
            return Ok(None);
        }
        let block = self.block(handle).await?;
        let mut key = DefaultKeyBuf::new();
        let hit = block_lookup(&block, user_key, &mut key, i.layout.global_seqno)
            .map_err(|e| e.at(Part::DataBlock, handle.offset))
            .context(self.context("get"))?;
        Ok(hit.map(|h| Found { seqno: h.seqno, kind: h.kind, value: block.slice_ref(h.value) }))
    }

    /// The uncompressed, verified data block at `handle`, from the cache or one ranged GET.
    pub async fn block(&self, handle: BlockHandle) -> Result<Bytes> {
        let i = &self.inner;
        let key = (i.location.clone(), handle.offset);
        if let Some(b) = i.cache.get(&key) {
            i.counters.cache_hits.fetch_add(1, Ordering::Relaxed);
            return Ok(b);
        }
        let fetch = async {
            i.counters.cache_misses.fetch_add(1, Ordering::Relaxed);
            let end = handle.end_with_trailer().ok_or_else(|| Error::Codec {
                context: format!("{}: block at {}", i.location, handle.offset),
                source: CoreError::corrupt(Part::DataBlock, handle.offset, "block handle overflows"),
            })?;
            let raw = fetch(&*i.store, &i.path, &i.location, handle.offset..end, &i.counters).await?;
            self.decode_block(&raw, handle.offset, handle)
        };
        i.cache.get_or_fetch(key, fetch, &i.counters.cache_hits).await
    }

    /// Verifies and uncompresses one block out of `raw` (bytes of the file starting at offset `base`).
    fn decode_block(&self, raw: &Bytes, base: u64, handle: BlockHandle) -> Result<Bytes> {
        let i = &self.inner;
        let ctx = || format!("{}: data block at offset {} ({} bytes)", i.location, handle.offset, handle.size);
        let contents = read_block(raw, base, handle, i.layout.checksum(), i.opts.verify_checksums, Part::DataBlock)
            .context(ctx)?;
        let fv = i.layout.footer.format_version;
        if contents.compression == sstkit_core::CompressionType::None {
            return Ok(raw.slice_ref(contents.body));
        }
        let mut out = Vec::new();
        let got = contents.decompress_to(fv, i.opts.max_block_len, &mut out).context(ctx)?;
        out.truncate(got);
        Ok(Bytes::from(out))
    }

    /// The handles of the data blocks that may hold keys in `[start, end)`, in order.
    fn block_handles(&self, start: Option<&[u8]>, end: Option<&[u8]>) -> Result<Vec<BlockHandle>> {
        let i = &self.inner;
        let index = i.layout.index(&i.region, &i.index_buf).context(self.context("index"))?;
        let mut key = DefaultKeyBuf::new();
        let mut out = Vec::new();
        let order = i.layout.index_order();
        let info = i.layout.index_info;
        // Each index key is ≥ its block's last key: stop after the first block whose index key reaches `end`.
        let mut cur = sstkit_core::block::BlockCursor::new();
        let r = (|| -> std::result::Result<(), CoreError> {
            match start {
                Some(s) => cur.seek(&index, &mut key, s, order)?,
                None => cur.seek_to_first(&index, &mut key)?,
            }
            while cur.valid() {
                out.push(info.handle(&cur, cur.value(&index))?);
                if let Some(e) = end {
                    if order.compare(sstkit_core::keybuf::KeyBuf::as_slice(&key), e) != std::cmp::Ordering::Less {
                        break;
                    }
                }
                cur.next(&index, &mut key)?;
            }
            Ok(())
        })();
        r.map_err(|e| e.at(Part::Index, i.layout.footer.index.offset)).context(self.context("index"))?;
        Ok(out)
    }

    /// Streams the point entries with user keys in `range`, in order. Runs of contiguous blocks are fetched
    /// with one ranged GET each (at most [`ReadOptions::scan_chunk`] bytes), [`ReadOptions::scan_read_ahead`]
    /// GETs ahead of the consumer. Scans do not fill the block cache.
    pub fn scan(
        &self,
        range: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    ) -> impl Stream<Item = Result<OwnedEntry>> + Send + 'static {
        let reader = self.clone();
        let (start, end) = range;
        let start_key = match &start {
            Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
            Bound::Unbounded => None,
        };
        let end_key = match &end {
            Bound::Included(k) | Bound::Excluded(k) => Some(k.clone()),
            Bound::Unbounded => None,
        };
        let handles = reader.block_handles(start_key.as_deref(), end_key.as_deref());
        let chunks: Vec<Result<Vec<BlockHandle>>> = match handles {
            Ok(h) => group_runs(&h, reader.inner.opts.scan_chunk).into_iter().map(Ok).collect(),
            Err(e) => vec![Err(e)],
        };
        let ahead = reader.inner.opts.scan_read_ahead.max(1);
        let r2 = reader.clone();
        stream::iter(chunks)
            .map(move |chunk| {
                let reader = r2.clone();
                async move { reader.fetch_run(chunk?).await }
            })
            .buffered(ahead)
            .map_ok(move |blocks| {
                let mut entries = Vec::new();
                let mut key = DefaultKeyBuf::new();
                let global = reader.inner.layout.global_seqno;
                let mut failed = None;
                for (block, handle) in blocks {
                    let r = for_each_in_block(&block, start_key.as_deref(), &mut key, global, |e| {
                        let after_start = match &start {
                            Bound::Excluded(s) => e.user_key != s.as_slice(),
                            _ => true,
                        };
                        let before_end = match &end {
                            Bound::Included(k) => e.user_key <= k.as_slice(),
                            Bound::Excluded(k) => e.user_key < k.as_slice(),
                            Bound::Unbounded => true,
                        };
                        if !before_end {
                            return Ok(false);
                        }
                        if after_start {
                            entries.push(Ok(OwnedEntry {
                                user_key: Bytes::copy_from_slice(e.user_key),
                                seqno: e.seqno,
                                kind: e.kind,
                                value: block.slice_ref(e.value),
                            }));
                        }
                        Ok(true)
                    });
                    match r {
                        Ok(true) => {}
                        Ok(false) => break,
                        Err(e) => {
                            failed = Some(Error::Codec {
                                context: format!("{}: data block at offset {}", reader.inner.location, handle.offset),
                                source: e.at(Part::DataBlock, handle.offset),
                            });
                            break;
                        }
                    }
                }
                if let Some(e) = failed {
                    entries.push(Err(e));
                }
                stream::iter(entries)
            })
            .try_flatten()
    }

    /// Fetches a run of contiguous blocks with one GET and decodes each.
    async fn fetch_run(&self, run: Vec<BlockHandle>) -> Result<Vec<(Bytes, BlockHandle)>> {
        let (Some(first), Some(last)) = (run.first(), run.last()) else { return Ok(Vec::new()) };
        let i = &self.inner;
        let end = last.offset + last.size + BLOCK_TRAILER_LEN as u64;
        let raw = fetch(&*i.store, &i.path, &i.location, first.offset..end, &i.counters).await?;
        run.iter().map(|h| Ok((self.decode_block(&raw, first.offset, *h)?, *h))).collect()
    }
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
    /// Where it is.
    pub handle: BlockHandle,
    /// Its compression type byte.
    pub compression: sstkit_core::CompressionType,
    /// The uncompressed block.
    pub bytes: Bytes,
}

impl SstReader {
    /// The index entries, in order.
    pub fn index_entries(&self) -> Result<Vec<IndexEntry>> {
        let i = &self.inner;
        let index = i.layout.index(&i.region, &i.index_buf).context(self.context("index"))?;
        let mut key = DefaultKeyBuf::new();
        let mut out = Vec::new();
        sstkit_core::table::lookup::for_each_index_entry(&index, i.layout.index_info, &mut key, |k, handle, first| {
            out.push(IndexEntry { key: k.to_vec(), handle, first_key: first.map(<[u8]>::to_vec) });
            Ok(())
        })
        .map_err(|e| e.at(Part::Index, i.layout.footer.index.offset))
        .context(self.context("index"))?;
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

    /// Reads every data block in file order (each verified when checksums are on), calling `f` with each;
    /// runs of adjacent blocks come in one GET each. Stops at the first error, which names the block.
    pub async fn for_each_data_block(&self, mut f: impl FnMut(DataBlock) -> Result<()>) -> Result<()> {
        let handles = self.block_handles(None, None)?;
        let runs = group_runs(&handles, self.inner.opts.scan_chunk);
        let ahead = self.inner.opts.scan_read_ahead.max(1);
        let mut fetched = stream::iter(runs)
            .map(|run| {
                let me = self.clone();
                async move {
                    let (Some(first), Some(last)) = (run.first(), run.last()) else { return Ok(Vec::new()) };
                    let i = &me.inner;
                    let end = last.offset + last.size + BLOCK_TRAILER_LEN as u64;
                    let raw = fetch(&*i.store, &i.path, &i.location, first.offset..end, &i.counters).await?;
                    run.iter()
                        .map(|h| {
                            let c = read_block(
                                &raw,
                                first.offset,
                                *h,
                                i.layout.checksum(),
                                i.opts.verify_checksums,
                                Part::DataBlock,
                            )
                            .context(|| {
                                format!("{}: data block at offset {} ({} bytes)", i.location, h.offset, h.size)
                            })?;
                            let compression = c.compression;
                            Ok(DataBlock { handle: *h, compression, bytes: me.decode_block(&raw, first.offset, *h)? })
                        })
                        .collect::<Result<Vec<_>>>()
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
        for_each_in_block(&block.bytes, None, &mut key, self.inner.layout.global_seqno, |e| {
            f(e);
            Ok(true)
        })
        .map_err(|e| e.at(Part::DataBlock, block.handle.offset))
        .context(|| format!("{}: data block at offset {}", self.inner.location, block.handle.offset))?;
        Ok(())
    }
}

/// Splits handles into runs of adjacent blocks of at most `max` bytes (a lone bigger block is its own run).
fn group_runs(handles: &[BlockHandle], max: u64) -> Vec<Vec<BlockHandle>> {
    let mut runs: Vec<Vec<BlockHandle>> = Vec::new();
    let mut run_start = 0u64;
    for h in handles {
        let end = h.offset + h.size + BLOCK_TRAILER_LEN as u64;
        let extend = runs.last().and_then(|r| r.last()).is_some_and(|prev| {
            prev.offset + prev.size + BLOCK_TRAILER_LEN as u64 == h.offset && end - run_start <= max
        });
        if extend {
            if let Some(r) = runs.last_mut() {
                r.push(*h);
            }
        } else {
            run_start = h.offset;
            runs.push(vec![*h]);
        }
    }
    runs
}

/// One ranged GET, counted.
async fn fetch(
    store: &dyn ObjectStore,
    path: &Path,
    location: &str,
    range: Range<u64>,
    counters: &ReadCounters,
) -> Result<Bytes> {
    let span = tracing::trace_span!("get_range", start = range.start, end = range.end);
    counters.gets.fetch_add(1, Ordering::Relaxed);
    let want = range.end - range.start;
    let bytes = store
        .get_range(path, range.clone())
        .instrument(span)
        .await
        .context(|| format!("{location}: GET bytes {}..{}", range.start, range.end))?;
    counters.bytes_fetched.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    if bytes.len() as u64 != want {
        return Err(Error::Codec {
            context: format!("{location}: GET bytes {}..{}", range.start, range.end),
            source: CoreError::corrupt(Part::Table, range.start, "store returned fewer bytes than asked"),
        });
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_group_adjacent_blocks_up_to_the_limit() {
        let h = |o, s| BlockHandle::new(o, s);
        let hs = [h(0, 95), h(100, 95), h(200, 95), h(400, 95), h(500, 995)];
        let runs = group_runs(&hs, 250);
        assert_eq!(runs, vec![vec![h(0, 95), h(100, 95)], vec![h(200, 95)], vec![h(400, 95)], vec![h(500, 995)]]);
    }
}
