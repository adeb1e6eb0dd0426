//! [`SstWriter`]: an async writer that streams a table through an `object_store` upload with bounded memory.
//!
//! The writer feeds entries to the core [`TableBuilder`] and copies every finished block into a part buffer.
//! While the table is smaller than [`WriterOptions::part_size`] nothing is sent; [`SstWriter::close`] then
//! uploads it with one `PUT`. Once a part is full the writer starts a multipart upload and sends parts as they
//! fill, keeping at most [`WriterOptions::parts_in_flight`] uploads running (it waits for the oldest before
//! starting another). Memory is therefore about `part_size × (parts_in_flight + 1)` plus the builder's
//! workspace (two block buffers, the index entries, and 8 bytes per key for the Bloom filter).
//!
//! Nothing half-made: a store error aborts the multipart upload, so no object appears at the path; so does
//! [`SstWriter::abort`], and dropping a writer that was not closed (the abort is spawned on the current tokio
//! runtime). A key out of order is an error naming both keys, and the writer stays usable.
//!
//! The same encoder drives the synchronous writers of [`crate::file_writer`]; they all return an
//! [`SstMetadata`].

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload, PutResult};
use sstkit_core::footer::Footer;
use sstkit_core::metaindex::Metaindex;
use sstkit_core::properties::Properties;
use sstkit_core::table::meta::read_properties_block;
use sstkit_core::table::{read_block, Options, TableBuilder, TableStats};
use sstkit_core::{ChecksumType, CompressionType, KeyExcerpt, Part};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::{Context, Error, Result};

/// How many bytes of the table's end the encoder keeps to read the properties back. The blocks it reads (the
/// properties, the metaindex and the footer) are the last three and a few KiB; blocks larger than this are
/// never copied.
const TAIL_KEEP: usize = 64 * 1024;

/// One write, for the "build in one call" functions and the [`crate::rolling::RollingWriter`].
///
/// `B` is any byte container: `Vec<u8>`, `&[u8]`, `bytes::Bytes`, ...
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum WriteOp<B = Vec<u8>> {
    /// A value for a key.
    Put(B, B),
    /// A point deletion.
    Delete(B),
    /// A merge operand.
    Merge(B, B),
    /// Deletes the keys in `[start, end)`.
    DeleteRange(B, B),
}

impl<B: AsRef<[u8]>> WriteOp<B> {
    /// The key the op sorts by: the user key, or the start of a range deletion.
    pub fn key(&self) -> &[u8] {
        match self {
            WriteOp::Put(k, _) | WriteOp::Delete(k) | WriteOp::Merge(k, _) | WriteOp::DeleteRange(k, _) => k.as_ref(),
        }
    }

    /// The op over borrowed slices.
    pub fn as_slices(&self) -> WriteOp<&[u8]> {
        match self {
            WriteOp::Put(k, v) => WriteOp::Put(k.as_ref(), v.as_ref()),
            WriteOp::Delete(k) => WriteOp::Delete(k.as_ref()),
            WriteOp::Merge(k, v) => WriteOp::Merge(k.as_ref(), v.as_ref()),
            WriteOp::DeleteRange(s, e) => WriteOp::DeleteRange(s.as_ref(), e.as_ref()),
        }
    }

    /// `"put"`, `"delete"`, `"merge"` or `"delete_range"`.
    pub fn name(&self) -> &'static str {
        match self {
            WriteOp::Put(..) => "put",
            WriteOp::Delete(..) => "delete",
            WriteOp::Merge(..) => "merge",
            WriteOp::DeleteRange(..) => "delete_range",
        }
    }
}

/// How a table is written: the codec's settings and the upload's.
///
/// The defaults write what RocksDB's `SstFileWriter` writes (format_version 5, CRC32C, 4 KiB blocks, a 10
/// bits/key Bloom filter, external-file properties with seqno 0), uncompressed, and upload in 8 MiB parts
/// with 2 in flight.
///
/// ```
/// use sstkit::writer::WriterOptions;
/// use sstkit::core::CompressionType;
/// let opts = WriterOptions::default()
///     .compression(CompressionType::Lz4)
///     .filter_bits_per_key(None)
///     .part_size(16 << 20);
/// assert_eq!(opts.core_options()?.bloom_millibits_per_key, 0);
/// # Ok::<(), sstkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WriterOptions {
    /// Target size of a data block before compression (bytes).
    pub block_size: usize,
    /// A restart point every this many data-block entries.
    pub restart_interval: usize,
    /// A restart point every this many index entries (RocksDB's `index_block_restart_interval`, default 1);
    /// see [`sstkit_core::table::Options::index_restart_interval`].
    pub index_restart_interval: usize,
    /// [`CompressionType::None`] or [`CompressionType::Lz4`]; a block is stored compressed only when that pays.
    pub compression: CompressionType,
    /// Bloom filter bits per key, `None` for no filter.
    pub filter_bits_per_key: Option<u32>,
    /// Expected number of distinct keys, if known: the filter is then built as keys arrive (about 1.25 bytes
    /// per key at 10 bits/key) instead of from 8-byte hashes held until close. Over-estimates cost filter
    /// space, under-estimates a higher false-positive rate; correctness is unaffected.
    pub expected_keys: Option<u64>,
    /// Block checksum type.
    pub checksum: ChecksumType,
    /// Footer format_version, 2 to 7 (6 needs RocksDB ≥ 8.6 to read, 7 RocksDB ≥ 10.4).
    pub format_version: u32,
    /// Base context checksum for format_version ≥ 6 (non-zero); `None` draws a random one per file at
    /// [`core_options`](Self::core_options) time, as RocksDB does. Set it for byte-identical output.
    pub base_context_checksum: Option<u32>,
    /// Size of each multipart part but the last (bytes). S3 (and moto) reject parts under 5 MiB except the
    /// last; a table smaller than one part goes up as a single `PUT`.
    pub part_size: usize,
    /// How many parts may upload at once; the writer waits for the oldest before sending another.
    pub parts_in_flight: usize,
    /// Sequence number of every entry. Must be 0 for external files (RocksDB assigns one on ingestion): set
    /// [`external_file`](Self::external_file) to false to write another.
    pub seqno: u64,
    /// Write `rocksdb.external_sst_file.version` = 2 and `global_seqno` = 0 so RocksDB can ingest the file.
    pub external_file: bool,
    /// `rocksdb.file.creation.time` (seconds since the epoch); `None` takes the clock at [`core_options`]
    /// time. Set it for byte-identical output across runs.
    ///
    /// [`core_options`]: Self::core_options
    pub file_creation_time: Option<u64>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions {
            block_size: 4096,
            restart_interval: 16,
            index_restart_interval: 1,
            compression: CompressionType::None,
            filter_bits_per_key: Some(10),
            expected_keys: None,
            checksum: ChecksumType::Crc32c,
            format_version: 5,
            base_context_checksum: None,
            part_size: 8 << 20,
            parts_in_flight: 2,
            seqno: 0,
            external_file: true,
            file_creation_time: None,
        }
    }
}

impl WriterOptions {
    /// Sets the data block size.
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
    /// Sets the Bloom filter bits per key (`None`: no filter).
    pub fn filter_bits_per_key(mut self, v: Option<u32>) -> Self {
        self.filter_bits_per_key = v;
        self
    }
    /// Sets the expected number of distinct keys (see [`WriterOptions::expected_keys`]).
    pub fn expected_keys(mut self, v: Option<u64>) -> Self {
        self.expected_keys = v;
        self
    }
    /// Sets the checksum type.
    pub fn checksum(mut self, v: ChecksumType) -> Self {
        self.checksum = v;
        self
    }
    /// Sets the format_version (2..=7).
    pub fn format_version(mut self, v: u32) -> Self {
        self.format_version = v;
        self
    }
    /// Sets the base context checksum of format_version ≥ 6 files (`None`: random per file).
    pub fn base_context_checksum(mut self, v: Option<u32>) -> Self {
        self.base_context_checksum = v;
        self
    }
    /// Sets the multipart part size.
    pub fn part_size(mut self, v: usize) -> Self {
        self.part_size = v;
        self
    }
    /// Sets how many parts may upload at once.
    pub fn parts_in_flight(mut self, v: usize) -> Self {
        self.parts_in_flight = v;
        self
    }
    /// Sets the seqno of every entry (non-zero needs `external_file(false)`).
    pub fn seqno(mut self, v: u64) -> Self {
        self.seqno = v;
        self
    }
    /// Sets whether the external-file properties are written.
    pub fn external_file(mut self, v: bool) -> Self {
        self.external_file = v;
        self
    }
    /// Sets `rocksdb.file.creation.time`.
    pub fn file_creation_time(mut self, v: Option<u64>) -> Self {
        self.file_creation_time = v;
        self
    }

    /// The codec's options for these settings, checked.
    pub fn core_options(&self) -> Result<Options> {
        let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let bits = self.filter_bits_per_key.unwrap_or(0);
        let mut o = Options::default()
            .block_size(self.block_size)
            .restart_interval(self.restart_interval)
            .index_restart_interval(self.index_restart_interval)
            .compression(self.compression)
            .checksum(self.checksum)
            .format_version(self.format_version)
            .bloom_bits_per_key(bits)
            .seqno(self.seqno)
            .external_file(self.external_file);
        if self.format_version >= 6 {
            o = o.base_context_checksum(self.base_context_checksum.unwrap_or_else(random_base));
        }
        o.file_creation_time = self.file_creation_time.unwrap_or_else(now);
        o.expected_keys = self.expected_keys;
        if self.filter_bits_per_key == Some(0) {
            return Err(Error::Invalid("filter_bits_per_key must be None or 1..=100".into()));
        }
        o.validate().context(|| "writer options".to_string())?;
        Ok(o)
    }

    fn validate_upload(&self) -> Result<()> {
        if self.part_size == 0 {
            return Err(Error::Invalid("part_size must be at least 1 byte".into()));
        }
        if self.parts_in_flight == 0 {
            return Err(Error::Invalid("parts_in_flight must be at least 1".into()));
        }
        Ok(())
    }
}

/// What a finished table holds and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SstMetadata {
    /// Where the table was written: the object path, the file path, or the label given to an
    /// [`IoWriter`](crate::file_writer::IoWriter).
    pub location: String,
    /// File size in bytes.
    pub file_size: u64,
    /// The store's entity tag of the object, if it returned one.
    pub e_tag: Option<String>,
    /// Values written (`put`).
    pub num_puts: u64,
    /// Point deletions written.
    pub num_deletes: u64,
    /// Merge operands written.
    pub num_merges: u64,
    /// Range deletions written.
    pub num_range_deletions: u64,
    /// The first user key of the point entries, if any.
    pub first_user_key: Option<Vec<u8>>,
    /// The last user key of the point entries, if any.
    pub last_user_key: Option<Vec<u8>>,
    /// The smallest range-deletion start and the largest (exclusive) range-deletion end, if any.
    pub range_deletion_bounds: Option<(Vec<u8>, Vec<u8>)>,
    /// Smallest and largest sequence number of the entries (`None` for an empty table).
    pub seqno_range: Option<(u64, u64)>,
    /// Data blocks.
    pub num_data_blocks: u64,
    /// Bytes of the data blocks, trailers included.
    pub data_size: u64,
    /// Bytes of the index block, trailer included.
    pub index_size: u64,
    /// Bytes of the filter block contents.
    pub filter_size: u64,
    /// Sum of the internal key lengths.
    pub raw_key_size: u64,
    /// Sum of the value lengths.
    pub raw_value_size: u64,
    /// Footer format_version.
    pub format_version: u32,
    /// Block checksum type.
    pub checksum: ChecksumType,
    /// The compression the table was written with (blocks that did not shrink are stored uncompressed).
    pub compression: CompressionType,
    /// Every property of the properties block, read back from the written bytes, by name.
    pub properties: BTreeMap<String, Vec<u8>>,
}

impl SstMetadata {
    /// Point entries plus range deletions (`rocksdb.num.entries`).
    pub fn num_entries(&self) -> u64 {
        self.num_puts + self.num_deletes + self.num_merges + self.num_range_deletions
    }

    /// The smallest user key the table says anything about (point key or range-deletion start).
    pub fn smallest_key(&self) -> Option<&[u8]> {
        let point = self.first_user_key.as_deref();
        let range = self.range_deletion_bounds.as_ref().map(|(s, _)| s.as_slice());
        match (point, range) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The largest user key the table says anything about, and whether it is an exclusive bound (a
    /// range-deletion end beyond every point key) rather than a key in the table.
    pub fn largest_key(&self) -> Option<(&[u8], bool)> {
        let point = self.last_user_key.as_deref();
        let range = self.range_deletion_bounds.as_ref().map(|(_, e)| e.as_slice());
        match (point, range) {
            (Some(p), Some(e)) if e > p => Some((e, true)),
            (Some(p), _) => Some((p, false)),
            (None, Some(e)) => Some((e, true)),
            (None, None) => None,
        }
    }

    /// A property's raw value.
    pub fn property(&self, name: &str) -> Option<&[u8]> {
        self.properties.get(name).map(Vec::as_slice)
    }
}

/// The codec side shared by every writer: the builder, the table's tail (kept to read the properties back),
/// and the range-deletion bounds.
pub(crate) struct Encoder {
    builder: TableBuilder<Vec<u8>>,
    opts: Options,
    written: u64,
    tail: VecDeque<(u64, Vec<u8>)>,
    tail_len: usize,
    range_bounds: Option<(Vec<u8>, Vec<u8>)>,
}

impl fmt::Debug for Encoder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Encoder").field("stats", self.builder.stats()).field("written", &self.written).finish()
    }
}

impl Encoder {
    pub(crate) fn new(opts: &WriterOptions) -> Result<Self> {
        let core = opts.core_options()?;
        let builder = TableBuilder::new(Vec::new(), core.clone()).context(|| "table builder".to_string())?;
        Ok(Encoder { builder, opts: core, written: 0, tail: VecDeque::new(), tail_len: 0, range_bounds: None })
    }

    /// Gives one op to the builder. On error the builder is unchanged.
    pub(crate) fn apply(&mut self, op: WriteOp<&[u8]>) -> std::result::Result<(), sstkit_core::Error> {
        let b = &mut self.builder;
        match op {
            WriteOp::Put(k, v) => b.put(k, v),
            WriteOp::Delete(k) => b.delete(k),
            WriteOp::Merge(k, v) => b.merge(k, v),
            WriteOp::DeleteRange(s, e) => {
                b.delete_range(s, e)?;
                match &mut self.range_bounds {
                    None => self.range_bounds = Some((s.to_vec(), e.to_vec())),
                    Some((_, end)) => {
                        if e > end.as_slice() {
                            *end = e.to_vec();
                        }
                    }
                }
                Ok(())
            }
        }
    }

    /// Ends the table; then drain [`next_output`](Self::next_output).
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.builder.stats().num_entries() == 0 {
            return Err(Error::Invalid(
                "the table has no entries (RocksDB refuses to ingest an empty file)".to_string(),
            ));
        }
        self.builder.finish().context(|| "finish".to_string())
    }

    /// The next finished bytes to write, in file order.
    pub(crate) fn next_output(&mut self) -> Result<Option<&[u8]>> {
        let finishing = self.builder.is_finishing();
        let chunk = self.builder.next_output().context(|| "next_output".to_string())?;
        let Some(chunk) = chunk else { return Ok(None) };
        let offset = self.written;
        self.written += chunk.len() as u64;
        if finishing {
            if chunk.len() > TAIL_KEEP {
                // A big block (the filter, the index, the last data block) is never one of the blocks read
                // back, which all come after it: drop what came before and do not copy it.
                self.tail.clear();
                self.tail_len = 0;
            } else {
                self.tail.push_back((offset, chunk.to_vec()));
                self.tail_len += chunk.len();
                while self.tail.len() > 3 && self.tail_len > TAIL_KEEP {
                    if let Some((_, c)) = self.tail.pop_front() {
                        self.tail_len -= c.len();
                    }
                }
            }
        }
        Ok(Some(chunk))
    }

    pub(crate) fn stats(&self) -> &TableStats {
        self.builder.stats()
    }

    pub(crate) fn estimated_size(&self) -> u64 {
        self.builder.estimated_size()
    }

    pub(crate) fn last_user_key(&self) -> Option<&[u8]> {
        self.builder.last_user_key()
    }

    /// Bytes handed out so far.
    pub(crate) fn written(&self) -> u64 {
        self.written
    }

    /// The metadata of the finished table (every byte handed out), with the properties read back from the
    /// kept tail.
    pub(crate) fn metadata(&self, location: String) -> Result<SstMetadata> {
        if !self.builder.is_done() {
            return Err(Error::Invalid("metadata asked before the table was finished".into()));
        }
        let s = *self.builder.stats();
        let properties = self.read_properties().context(|| format!("{location}: reading back the properties"))?;
        Ok(SstMetadata {
            location,
            file_size: self.written,
            e_tag: None,
            num_puts: s.num_puts,
            num_deletes: s.num_deletions,
            num_merges: s.num_merges,
            num_range_deletions: s.num_range_deletions,
            first_user_key: self.builder.first_user_key().map(<[u8]>::to_vec),
            last_user_key: self.builder.last_user_key().map(<[u8]>::to_vec),
            range_deletion_bounds: self.range_bounds.clone(),
            seqno_range: (s.min_seqno <= s.max_seqno).then_some((s.min_seqno, s.max_seqno)),
            num_data_blocks: s.num_data_blocks,
            data_size: s.data_size,
            index_size: s.index_size,
            filter_size: s.filter_size,
            raw_key_size: s.raw_key_size,
            raw_value_size: s.raw_value_size,
            format_version: self.opts.format_version,
            checksum: self.opts.checksum,
            compression: self.opts.compression,
            properties,
        })
    }

    fn read_properties(&self) -> std::result::Result<BTreeMap<String, Vec<u8>>, sstkit_core::Error> {
        let base = self.tail.front().map_or(self.written, |(o, _)| *o);
        let tail: Vec<u8> = self.tail.iter().flat_map(|(_, c)| c.iter().copied()).collect();
        let footer = Footer::decode(&tail, self.written)?;
        let meta = read_block(&tail, base, footer.metaindex, footer.block_checksum(), true, Part::Metaindex)?;
        let metaindex = Metaindex::parse(meta.body)?;
        let Some(h) = metaindex.properties()? else { return Ok(BTreeMap::new()) };
        let raw = read_properties_block(&tail, base, h, footer.block_checksum(), true)?;
        let props = Properties::parse(raw)?;
        let mut map = BTreeMap::new();
        props.for_each(|name, value| {
            map.insert(String::from_utf8_lossy(name).into_owned(), value.to_vec());
        })?;
        Ok(map)
    }
}

/// A random non-zero base context checksum (RocksDB also draws one per file): std's randomly keyed hasher
/// over the clock and a process-wide counter.
fn random_base() -> u32 {
    use std::hash::BuildHasher;
    static CALLS: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = CALLS.fetch_add(1, Ordering::Relaxed);
        let h = std::hash::RandomState::new().hash_one((std::time::SystemTime::now(), n));
        let v = (h ^ (h >> 32)) as u32;
        if v != 0 {
            return v;
        }
    }
}

/// Counters shared between a writer and its [`ProgressHandle`]s.
#[derive(Debug, Default)]
struct Counters {
    entries: AtomicU64,
    bytes_written: AtomicU64,
    parts_uploaded: AtomicU64,
    bytes_uploaded: AtomicU64,
}

/// A writer's progress at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriterProgress {
    /// Ops accepted (puts, deletes, merges, range deletions).
    pub entries: u64,
    /// Table bytes produced so far (buffered or uploaded).
    pub bytes_written: u64,
    /// Multipart parts whose upload finished (the single `PUT` of a small table counts as one).
    pub parts_uploaded: u64,
    /// Bytes in those parts.
    pub bytes_uploaded: u64,
}

/// Reads a writer's progress from anywhere (another task, a metrics thread) while it runs.
#[derive(Debug, Clone)]
pub struct ProgressHandle(Arc<Counters>);

impl ProgressHandle {
    /// The progress now.
    pub fn get(&self) -> WriterProgress {
        let c = &self.0;
        WriterProgress {
            entries: c.entries.load(Ordering::Relaxed),
            bytes_written: c.bytes_written.load(Ordering::Relaxed),
            parts_uploaded: c.parts_uploaded.load(Ordering::Relaxed),
            bytes_uploaded: c.bytes_uploaded.load(Ordering::Relaxed),
        }
    }
}

/// A part upload: a spawned task when a tokio runtime is around, else the future itself.
enum InFlight {
    Task(JoinHandle<object_store::Result<()>>),
    Inline(futures::future::BoxFuture<'static, object_store::Result<()>>),
}

impl InFlight {
    async fn wait(self) -> Result<()> {
        match self {
            InFlight::Task(h) => match h.await {
                Ok(r) => r.context(|| "upload part".to_string()),
                Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
                Err(e) => Err(Error::Invalid(format!("part upload task cancelled: {e}"))),
            },
            InFlight::Inline(f) => f.await.context(|| "upload part".to_string()),
        }
    }

    /// Waits for a cancelled or failed upload to end, ignoring how it ended.
    async fn settle(self) {
        match self {
            InFlight::Task(h) => {
                let _ = h.await;
            }
            InFlight::Inline(f) => drop(f),
        }
    }

    fn cancel(&self) {
        if let InFlight::Task(h) = self {
            h.abort();
        }
    }
}

enum UploadState {
    /// Nothing sent: the table is still in the part buffer.
    NotStarted,
    /// A multipart upload is open.
    Multipart { upload: Box<dyn MultipartUpload>, in_flight: VecDeque<InFlight>, parts: u64 },
    /// The object exists (closed) or the upload was aborted: nothing left to clean up.
    Finished,
}

/// The store side of an [`SstWriter`]: part buffer, upload, counters.
struct Uploader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    part: BytesMut,
    part_size: usize,
    parts_in_flight: usize,
    state: UploadState,
    counters: Arc<Counters>,
}

impl Uploader {
    /// Appends table bytes, sending every part that fills.
    async fn write(&mut self, mut bytes: &[u8]) -> Result<()> {
        self.counters.bytes_written.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        while !bytes.is_empty() {
            let n = (self.part_size - self.part.len()).min(bytes.len());
            self.part.extend_from_slice(&bytes[..n]);
            bytes = &bytes[n..];
            if self.part.len() == self.part_size {
                // The table is big: give the next buffer its full size at once.
                let full = std::mem::replace(&mut self.part, BytesMut::with_capacity(self.part_size));
                self.send_part(full.freeze()).await?;
            }
        }
        Ok(())
    }

    async fn send_part(&mut self, data: Bytes) -> Result<()> {
        if matches!(self.state, UploadState::NotStarted) {
            let span = tracing::info_span!("sst_writer.upload_start", path = %self.path);
            let upload = self
                .store
                .put_multipart(&self.path)
                .instrument(span)
                .await
                .context(|| format!("{}: starting the multipart upload", self.path))?;
            self.state = UploadState::Multipart { upload, in_flight: VecDeque::new(), parts: 0 };
        }
        let UploadState::Multipart { upload, in_flight, parts } = &mut self.state else {
            return Err(Error::Invalid(format!("{}: the upload is already finished", self.path)));
        };
        while in_flight.len() >= self.parts_in_flight {
            if let Some(oldest) = in_flight.pop_front() {
                oldest.wait().await.map_err(|e| with_path(e, &self.path))?;
            }
        }
        *parts += 1;
        let len = data.len() as u64;
        let span = tracing::debug_span!("sst_writer.upload_part", path = %self.path, part = *parts, bytes = len);
        let fut = upload.put_part(PutPayload::from(data));
        let counters = self.counters.clone();
        let task = async move {
            fut.await?;
            counters.parts_uploaded.fetch_add(1, Ordering::Relaxed);
            counters.bytes_uploaded.fetch_add(len, Ordering::Relaxed);
            Ok(())
        }
        .instrument(span);
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => in_flight.push_back(InFlight::Task(rt.spawn(task))),
            // No runtime to run it in the background: upload now (no overlap, same result).
            Err(_) => InFlight::Inline(Box::pin(task)).wait().await.map_err(|e| with_path(e, &self.path))?,
        }
        Ok(())
    }

    /// Sends what is left and makes the object exist: one `PUT` for a small table, else the last part and
    /// the completion.
    async fn finish(&mut self) -> Result<PutResult> {
        let span = tracing::info_span!("sst_writer.upload_finish", path = %self.path);
        async {
            let rest = std::mem::take(&mut self.part).freeze();
            if matches!(self.state, UploadState::NotStarted) {
                let len = rest.len() as u64;
                let r = self
                    .store
                    .put(&self.path, PutPayload::from(rest))
                    .await
                    .context(|| format!("{}: put", self.path))?;
                self.counters.parts_uploaded.fetch_add(1, Ordering::Relaxed);
                self.counters.bytes_uploaded.fetch_add(len, Ordering::Relaxed);
                self.state = UploadState::Finished;
                return Ok(r);
            }
            if !rest.is_empty() {
                self.send_part(rest).await?;
            }
            let UploadState::Multipart { upload, in_flight, .. } = &mut self.state else {
                return Err(Error::Invalid(format!("{}: the upload is already finished", self.path)));
            };
            while let Some(p) = in_flight.pop_front() {
                p.wait().await.map_err(|e| with_path(e, &self.path))?;
            }
            let r = upload.complete().await.context(|| format!("{}: completing the multipart upload", self.path))?;
            self.state = UploadState::Finished;
            Ok(r)
        }
        .instrument(span)
        .await
    }

    /// Stops the parts in flight and aborts the multipart upload, if one is open.
    async fn abort(&mut self) -> Result<()> {
        self.part = BytesMut::new();
        let state = std::mem::replace(&mut self.state, UploadState::Finished);
        let UploadState::Multipart { mut upload, in_flight, .. } = state else { return Ok(()) };
        let span = tracing::info_span!("sst_writer.abort", path = %self.path);
        async {
            for p in &in_flight {
                p.cancel();
            }
            for p in in_flight {
                p.settle().await;
            }
            upload.abort().await.context(|| format!("{}: aborting the multipart upload", self.path))
        }
        .instrument(span)
        .await
    }

    /// [`abort`](Self::abort) from a destructor: spawned on the current runtime, if there is one.
    fn abort_in_background(&mut self) {
        let state = std::mem::replace(&mut self.state, UploadState::Finished);
        let UploadState::Multipart { mut upload, in_flight, .. } = state else { return };
        for p in &in_flight {
            p.cancel();
        }
        let path = self.path.clone();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                let span = tracing::info_span!("sst_writer.abort", path = %path, reason = "dropped");
                rt.spawn(
                    async move {
                        for p in in_flight {
                            p.settle().await;
                        }
                        if let Err(e) = upload.abort().await {
                            tracing::warn!(path = %path, error = %e, "aborting the upload of a dropped writer failed");
                        }
                    }
                    .instrument(span),
                );
            }
            Err(_) => tracing::warn!(
                path = %path,
                "SstWriter dropped outside a tokio runtime: its multipart upload could not be aborted"
            ),
        }
    }
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Store { context, source } => Error::Store { context: format!("{path}: {context}"), source },
        other => other,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum WriterState {
    Open,
    /// A store (or codec) failure aborted the upload; the message says which.
    Failed(String),
}

/// Writes one SST file to an object store, streaming it through a multipart upload.
///
/// Add entries in order (user keys strictly increasing across `put`, `delete` and `merge`; range deletions
/// with strictly increasing starts, interleaved in any way), then [`close`](Self::close). Many writers can
/// run at once on one runtime.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sstkit::Result<()> {
/// use std::sync::Arc;
/// use object_store::{memory::InMemory, path::Path, ObjectStore};
/// use sstkit::writer::{SstWriter, WriterOptions};
///
/// let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
/// let mut w = SstWriter::new(store, Path::from("ingest/000001.sst"), WriterOptions::default())?;
/// w.put(b"apple", b"red").await?;
/// w.delete(b"banana").await?;
/// w.delete_range(b"c", b"d").await?;
/// let err = w.put(b"aardvark", b"?").await.unwrap_err();   // out of order: names both keys
/// assert!(err.to_string().contains("aardvark") && err.to_string().contains("banana"));
/// w.merge(b"cherry", b"+1").await?;                        // still usable
/// let meta = w.close().await?;
/// assert_eq!((meta.num_puts, meta.num_deletes, meta.num_merges, meta.num_range_deletions), (1, 1, 1, 1));
/// assert_eq!(meta.first_user_key.as_deref(), Some(&b"apple"[..]));
/// assert!(meta.property("rocksdb.external_sst_file.version").is_some());
/// # Ok(())
/// # }
/// ```
pub struct SstWriter {
    enc: Encoder,
    up: Uploader,
    state: WriterState,
}

impl fmt::Debug for SstWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SstWriter")
            .field("path", &self.up.path)
            .field("state", &self.state)
            .field("progress", &self.progress())
            .finish()
    }
}

impl SstWriter {
    /// A writer for the object at `path`. Nothing is sent until a part fills or [`close`](Self::close).
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, opts: WriterOptions) -> Result<SstWriter> {
        let span = tracing::info_span!("sst_writer.open", path = %path, part_size = opts.part_size);
        let _e = span.enter();
        opts.validate_upload()?;
        let enc = Encoder::new(&opts).map_err(|e| match e {
            Error::Codec { context, source } => Error::Codec { context: format!("{path}: {context}"), source },
            other => other,
        })?;
        let up = Uploader {
            store,
            path,
            part: BytesMut::with_capacity(opts.part_size.min(64 * 1024)),
            part_size: opts.part_size,
            parts_in_flight: opts.parts_in_flight,
            state: UploadState::NotStarted,
            counters: Arc::default(),
        };
        Ok(SstWriter { enc, up, state: WriterState::Open })
    }

    /// Adds a value.
    pub async fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(WriteOp::Put(key, value)).await
    }

    /// Adds a point deletion.
    pub async fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.write(WriteOp::Delete(key)).await
    }

    /// Adds a merge operand.
    pub async fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<()> {
        self.write(WriteOp::Merge(key, operand)).await
    }

    /// Deletes the user keys in `[start, end)`.
    pub async fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.write(WriteOp::DeleteRange(start, end)).await
    }

    /// Adds one op. A rejected op (out of order, bad range) is an error and changes nothing; a store error
    /// aborts the upload and every later call fails.
    pub async fn write<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        self.check_open()?;
        let op = op.as_slices();
        self.enc.apply(op).context(|| format!("{}: {}", self.up.path, op.name()))?;
        self.up.counters.entries.fetch_add(1, Ordering::Relaxed);
        let r = self.drain().await;
        self.fail_on_error(r).await
    }

    async fn drain(&mut self) -> Result<()> {
        while let Some(chunk) = self.enc.next_output()? {
            self.up.write(chunk).await?;
        }
        Ok(())
    }

    async fn fail_on_error<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.state = WriterState::Failed(e.to_string());
            if let Err(abort) = self.up.abort().await {
                tracing::warn!(path = %self.up.path, error = %abort, "aborting the multipart upload failed");
            }
        }
        r
    }

    fn check_open(&self) -> Result<()> {
        match &self.state {
            WriterState::Open => Ok(()),
            WriterState::Failed(why) => {
                Err(Error::Invalid(format!("{}: the writer failed earlier and was aborted: {why}", self.up.path)))
            }
        }
    }

    /// Finishes the table, uploads what is left and completes the upload. On error the upload is aborted and
    /// no object exists at the path. An empty table (no entries) is an error, as in RocksDB.
    pub async fn close(mut self) -> Result<SstMetadata> {
        let span = tracing::info_span!("sst_writer.close", path = %self.up.path);
        async {
            self.check_open()?;
            let r = self.close_inner().await;
            self.fail_on_error(r).await
        }
        .instrument(span)
        .await
    }

    async fn close_inner(&mut self) -> Result<SstMetadata> {
        self.enc.finish().map_err(|e| match e {
            Error::Invalid(m) => Error::Invalid(format!("{}: {m}", self.up.path)),
            other => other,
        })?;
        self.drain().await?;
        // Read the metadata back before the object exists, so a failure here still leaves nothing behind.
        let mut meta = self.enc.metadata(self.up.path.to_string())?;
        let put = self.up.finish().await?;
        meta.e_tag = put.e_tag;
        tracing::info!(path = %self.up.path, bytes = meta.file_size, entries = meta.num_entries(), "sst written");
        Ok(meta)
    }

    /// Gives up on the table: stops the parts in flight and aborts the multipart upload (nothing exists at the
    /// path afterwards). Returns the store's error if the abort itself failed.
    pub async fn abort(mut self) -> Result<()> {
        self.state = WriterState::Failed("aborted".into());
        self.up.abort().await
    }

    /// The object path.
    pub fn path(&self) -> &Path {
        &self.up.path
    }

    /// The progress so far.
    pub fn progress(&self) -> WriterProgress {
        self.progress_handle().get()
    }

    /// A handle to read the progress from elsewhere while the writer runs.
    pub fn progress_handle(&self) -> ProgressHandle {
        ProgressHandle(self.up.counters.clone())
    }

    /// The file size if the table were finished now (roughly): for cutting files at a target size.
    pub fn estimated_size(&self) -> u64 {
        self.enc.estimated_size()
    }

    /// Counts and sizes so far.
    pub fn stats(&self) -> &TableStats {
        self.enc.stats()
    }

    /// The last user key of the point entries added, if any.
    pub fn last_user_key(&self) -> Option<&[u8]> {
        self.enc.last_user_key()
    }

    /// Table bytes produced so far.
    pub fn bytes_written(&self) -> u64 {
        self.enc.written()
    }
}

impl Drop for SstWriter {
    fn drop(&mut self) {
        if matches!(self.up.state, UploadState::Multipart { .. }) {
            self.up.abort_in_background();
        }
    }
}

/// Builds one table at `path` from a sorted stream of ops, in one call. Any error (an op out of order
/// included) aborts the upload: nothing exists at `path` unless this returns `Ok`.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sstkit::Result<()> {
/// use std::sync::Arc;
/// use object_store::{memory::InMemory, path::Path, ObjectStore};
/// use sstkit::writer::{build_object, WriteOp, WriterOptions};
///
/// let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
/// let ops = (0..100u32).map(|i| WriteOp::Put(format!("key{i:04}").into_bytes(), b"v".to_vec()));
/// let meta = build_object(store, Path::from("t.sst"), WriterOptions::default(), futures::stream::iter(ops)).await?;
/// assert_eq!(meta.num_puts, 100);
/// # Ok(())
/// # }
/// ```
pub async fn build_object<S, B>(
    store: Arc<dyn ObjectStore>,
    path: Path,
    opts: WriterOptions,
    stream: S,
) -> Result<SstMetadata>
where
    S: Stream<Item = WriteOp<B>>,
    B: AsRef<[u8]>,
{
    let mut w = SstWriter::new(store, path, opts)?;
    let mut stream = std::pin::pin!(stream);
    while let Some(op) = stream.next().await {
        if let Err(e) = w.write(op).await {
            if let Err(abort) = w.abort().await {
                tracing::warn!(error = %abort, "aborting after a failed build");
            }
            return Err(e);
        }
    }
    w.close().await
}

/// An [`Error`] for an op whose key is not after the previous one (for writers that check order themselves).
pub(crate) fn out_of_order(context: String, previous: &[u8], key: &[u8]) -> Error {
    Error::Codec {
        context,
        source: sstkit_core::Error::OutOfOrder { previous: KeyExcerpt::new(previous), key: KeyExcerpt::new(key) },
    }
}
