//! [`SstWriter`]: an async writer that streams a table through an `object_store` upload with bounded memory.
//!
//! The writer drives core's [`TableWriter`] into a part buffer (the same driver as the synchronous writers of
//! [`crate::file_writer`]).
//! While the table is smaller than [`WriterOptions::part_size`] nothing is sent; [`SstWriter::close`] then
//! uploads it with one `PUT`. Once a part is full the writer starts a multipart upload and sends parts as they
//! fill, keeping at most [`WriterOptions::parts_in_flight`] uploads running (it waits for the oldest before
//! starting another). Memory is therefore about `part_size × (parts_in_flight + 1)` plus the builder's
//! workspace (two block buffers, the index entries, and the Bloom filter: its bits, plus 8 bytes per key up to
//! [`WriterOptions::hash_spill_threshold`], beyond which they spill to a temporary file until close).
//!
//! Nothing half-made: a store error aborts the multipart upload, so no object appears at the path; so does
//! [`SstWriter::abort`], and dropping a writer that was not closed (the abort is spawned on the current tokio
//! runtime). A key out of order is an error naming both keys, and the writer stays usable.
//!
//! Every writer returns an [`SstMetadata`]: the builder's own account of the table (counts, meta-block
//! handles, properties), nothing parsed back from the written bytes.

use std::collections::{BTreeMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{MultipartUpload, ObjectStore, ObjectStoreExt, PutPayload, PutResult};
use sstkit_core::checksum::Crc32cDigest;
use sstkit_core::table::{IndexType, Options, TableBuilder, TableHandles, TableStats};
use sstkit_core::{ChecksumType, CompressionType, Sink, TableWriter, WriteError};
use tokio::task::JoinHandle;
use tracing::Instrument;

use crate::error::{Context, Error, Result};
use crate::hash_spill::HashSpill;

/// [`WriterOptions::hash_spill_threshold`]'s default: 4 MiB of hashes (512 Ki keys) stay in memory.
pub const DEFAULT_HASH_SPILL_THRESHOLD: usize = 4 << 20;

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

/// How a table is written: the codec's [`Options`] plus what the upload and the file need.
///
/// The defaults write what RocksDB's `SstFileWriter` writes (format_version 5, CRC32C, 4 KiB blocks, a 10
/// bits/key Bloom filter, external-file properties with seqno 0), uncompressed, and upload in 8 MiB parts
/// with 2 in flight. The setters of the codec's settings set [`table`](Self::table).
///
/// ```
/// use sstkit::writer::WriterOptions;
/// use sstkit::core::CompressionType;
/// let opts = WriterOptions::default()
///     .compression(CompressionType::Lz4)
///     .bloom_bits_per_key(0)
///     .part_size(16 << 20);
/// assert_eq!(opts.table.bloom_millibits_per_key, 0);
/// assert_eq!(opts.core_options()?.compression, CompressionType::Lz4);
/// # Ok::<(), sstkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct WriterOptions {
    /// The codec's settings: blocks, compression, checksum, filter, format_version, seqno, ... Its
    /// `file_creation_time` and `base_context_checksum` are replaced by the fields of the same names here.
    pub table: Options,
    /// Size of each multipart part but the last (bytes). S3 (and moto) reject parts under 5 MiB except the
    /// last; a table smaller than one part goes up as a single `PUT`.
    pub part_size: usize,
    /// How many parts may upload at once; the writer waits for the oldest before sending another.
    pub parts_in_flight: usize,
    /// `rocksdb.file.creation.time` (seconds since the epoch); `None` takes the clock at [`core_options`]
    /// time (core has no clock). Set it for byte-identical output across runs.
    ///
    /// [`core_options`]: Self::core_options
    pub file_creation_time: Option<u64>,
    /// The base context checksum of format_version ≥ 6 files (must be non-zero); `None` draws a fresh random
    /// one per file at [`core_options`](Self::core_options) time, as RocksDB does. Pin it for byte-identical
    /// output.
    pub base_context_checksum: Option<u32>,
    /// Filter hashes kept in memory before they spill to a temporary file (bytes). A full Bloom filter is sized
    /// by the key count, so unless [`Options::expected_keys`] gives it the builder keeps 8 bytes per key until
    /// the table ends (80 MB for 10 M keys); past this many they move to an unlinked temporary file and are
    /// read back at close, a MiB at a time. The table is byte-identical either way. `None` keeps them all in
    /// memory. Nothing spills with `expected_keys`, without a filter or with partitioned filters, nor for a
    /// table with fewer keys than this / 8. Default 4 MiB (512 Ki keys).
    pub hash_spill_threshold: Option<usize>,
    /// The directory of the spill file (`None`: the system's, [`std::env::temp_dir`]). On a tmpfs the spilled
    /// hashes stay in memory (outside the process's RSS): point it at a disk to really move them out.
    pub hash_spill_dir: Option<PathBuf>,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions::new(Options::default())
    }
}

/// Setters that set the codec option of the same name.
macro_rules! table_setters {
    ($($name:ident: $t:ty),* $(,)?) => {$(
        #[doc = concat!("Sets [`Options::", stringify!($name), "`].")]
        pub fn $name(mut self, v: $t) -> Self {
            self.table = self.table.$name(v);
            self
        }
    )*};
}

impl WriterOptions {
    /// These codec options with the default upload settings and the clock's file creation time.
    pub fn new(table: Options) -> Self {
        WriterOptions {
            table,
            part_size: 8 << 20,
            parts_in_flight: 2,
            file_creation_time: None,
            base_context_checksum: None,
            hash_spill_threshold: Some(DEFAULT_HASH_SPILL_THRESHOLD),
            hash_spill_dir: None,
        }
    }

    table_setters! {
        block_size: usize,
        restart_interval: usize,
        index_restart_interval: usize,
        compression: CompressionType,
        checksum: ChecksumType,
        format_version: u32,
        bloom_bits_per_key: u32,
        expected_keys: u64,
        seqno: u64,
        external_file: bool,
        index_type: IndexType,
        metadata_block_size: usize,
        partition_filters: bool,
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
    /// Sets the base context checksum of format_version ≥ 6 files (`None`: random per file).
    pub fn base_context_checksum(mut self, v: Option<u32>) -> Self {
        self.base_context_checksum = v;
        self
    }
    /// Sets `rocksdb.file.creation.time` (`None`: the clock).
    pub fn file_creation_time(mut self, v: Option<u64>) -> Self {
        self.file_creation_time = v;
        self
    }
    /// Sets the filter hash bytes kept in memory before they spill (`None`: never spill).
    pub fn hash_spill_threshold(mut self, v: Option<usize>) -> Self {
        self.hash_spill_threshold = v;
        self
    }
    /// Sets the directory of the filter hash spill file (`None`: the system's temporary directory).
    pub fn hash_spill_dir(mut self, v: Option<PathBuf>) -> Self {
        self.hash_spill_dir = v;
        self
    }

    /// Sets [`expected_keys`](Options::expected_keys) to `n` where a key count is of use: a full filter (bits
    /// per key above 0, not partitioned) and no count set yet; `n == 0` changes nothing.
    pub fn sized_for_keys(self, n: u64) -> Self {
        let t = &self.table;
        if n == 0 || t.expected_keys.is_some() || t.bloom_millibits_per_key == 0 || t.partition_filters {
            return self;
        }
        self.expected_keys(n)
    }

    /// The codec's options with the file creation time filled in, checked.
    pub fn core_options(&self) -> Result<Options> {
        let now = || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut o = self.table.clone();
        if o.format_version >= 6 {
            // As RocksDB: a fresh random base per file unless the caller pinned one.
            o.base_context_checksum = self.base_context_checksum.unwrap_or_else(random_base);
        }
        o.file_creation_time = self.file_creation_time.unwrap_or_else(now);
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

/// What a finished table holds and where it went: the builder's own account, nothing read back.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SstMetadata {
    /// Where the table was written: the object path, the file path, or the label given to an
    /// [`IoWriter`](crate::file_writer::IoWriter).
    pub location: String,
    /// The store's entity tag of the object, if it returned one.
    pub e_tag: Option<String>,
    /// CRC32C (plain, unmasked) of the whole file, when the writer saw every byte
    /// ([`SstWriter`](crate::writer::SstWriter) computes it as it uploads).
    pub crc32c: Option<u32>,
    /// Counts and sizes; `stats.file_size` is the file size.
    pub stats: TableStats,
    /// Where the index, filter, range-deletion, properties and metaindex blocks are.
    pub handles: TableHandles,
    /// The first user key of the point entries, if any.
    pub first_user_key: Option<Vec<u8>>,
    /// The last user key of the point entries, if any.
    pub last_user_key: Option<Vec<u8>>,
    /// The smallest range-deletion start and the largest (exclusive) range-deletion end, if any.
    pub range_deletion_bounds: Option<(Vec<u8>, Vec<u8>)>,
    /// Footer format_version.
    pub format_version: u32,
    /// Block checksum type.
    pub checksum: ChecksumType,
    /// The compression the table was written with (blocks that did not shrink are stored uncompressed).
    pub compression: CompressionType,
    /// Every property of the properties block (name → value as stored).
    pub properties: BTreeMap<String, Vec<u8>>,
}

impl SstMetadata {
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

/// A sink error as this crate's [`Error`].
pub(crate) trait SinkFailure {
    fn into_error(self, context: String) -> Error;
}

impl SinkFailure for std::io::Error {
    fn into_error(self, context: String) -> Error {
        Error::Io { context, source: self }
    }
}

impl SinkFailure for Infallible {
    fn into_error(self, _: String) -> Error {
        match self {}
    }
}

/// The one writer behind [`SstWriter`], [`FileWriter`](crate::file_writer::FileWriter) and
/// [`IoWriter`](crate::file_writer::IoWriter): core's [`TableWriter`] (which adds, drains and stops after a
/// sink failure) plus what std adds: the op dispatch, a location in every message, the reason of the first
/// failure, the empty-table rule, and the [`SstMetadata`].
pub(crate) struct Driver<S: Sink> {
    w: TableWriter<Vec<u8>, S>,
    location: String,
    failed: Option<String>,
    entries: u64,
    spill: Option<HashSpill>,
}

impl<S: Sink> fmt::Debug for Driver<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("location", &self.location)
            .field("stats", self.w.stats())
            .field("failed", &self.failed)
            .finish()
    }
}

impl<S: Sink> Driver<S>
where
    S::Error: SinkFailure,
{
    pub(crate) fn new(opts: &WriterOptions, sink: S, location: String) -> Result<Self> {
        let core = opts.core_options().map_err(|e| located(e, &location))?;
        let builder = TableBuilder::new(Vec::new(), core).context(|| format!("{location}: table builder"))?;
        let spill = opts.hash_spill_threshold.map(|t| HashSpill::new(t, opts.hash_spill_dir.clone()));
        Ok(Driver { w: TableWriter::new(builder, sink), location, failed: None, entries: 0, spill })
    }

    /// Adds one op. A rejected op (out of order, bad range) is an error and changes nothing; a sink error
    /// makes every later call fail.
    pub(crate) fn write(&mut self, op: WriteOp<&[u8]>) -> Result<()> {
        self.check_open()?;
        let r = match op {
            WriteOp::Put(k, v) => self.w.put(k, v),
            WriteOp::Delete(k) => self.w.delete(k),
            WriteOp::Merge(k, v) => self.w.merge(k, v),
            WriteOp::DeleteRange(s, e) => self.w.delete_range(s, e),
        };
        let r = self.lift(r, op.name());
        if r.is_ok() {
            self.entries += 1;
            self.spill_if_due()?;
        }
        r
    }

    /// Adds one op at its own `seqno` (a non-external table: see
    /// [`FileWriter::write_at`](crate::file_writer::FileWriter::write_at)).
    pub(crate) fn write_at(&mut self, op: WriteOp<&[u8]>, seqno: u64) -> Result<()> {
        self.check_open()?;
        let key = |k, kind| sstkit_core::InternalKey::new(k, seqno, kind);
        let r = match op {
            WriteOp::Put(k, v) => self.w.add(key(k, sstkit_core::ValueType::Value), v),
            WriteOp::Delete(k) => self.w.add(key(k, sstkit_core::ValueType::Deletion), &[]),
            WriteOp::Merge(k, v) => self.w.add(key(k, sstkit_core::ValueType::Merge), v),
            WriteOp::DeleteRange(s, e) => self.w.delete_range_at(s, e, seqno),
        };
        let r = self.lift(r, op.name());
        if r.is_ok() {
            self.entries += 1;
            self.spill_if_due()?;
        }
        r
    }

    /// Moves the kept filter hashes to the spill file once they reach its threshold. A failure fails the
    /// writer.
    fn spill_if_due(&mut self) -> Result<()> {
        let Some(spill) = self.spill.as_mut() else { return Ok(()) };
        let r = spill.spill_if_due(&mut self.w, &self.location);
        if let Err(e) = &r {
            self.failed = Some(e.to_string());
        }
        r
    }

    /// Ends the table and writes at most one more chunk; `false` once every byte is in the sink.
    pub(crate) fn finish_step(&mut self) -> Result<bool> {
        self.check_open()?;
        if !self.w.builder().is_finishing() {
            if self.w.stats().num_entries() == 0 {
                return Err(Error::Invalid(format!(
                    "{}: the table has no entries (RocksDB refuses to ingest an empty file)",
                    self.location
                )));
            }
            // Spilled filter hashes come back first (the first one ends the table); a failure fails the writer.
            if let Some(mut spill) = self.spill.take() {
                let location = self.location.clone();
                let r = spill.read_back(&location, |hashes| {
                    let r = self.w.restore_hashes(hashes);
                    self.lift(r, "restoring filter hashes")
                });
                if let Err(e) = &r {
                    self.failed.get_or_insert_with(|| e.to_string());
                }
                r?;
            }
        }
        let r = self.w.finish_step();
        self.lift(r, "finish")
    }

    /// The metadata of the finished table (after [`finish_step`](Self::finish_step) returned `false`).
    pub(crate) fn metadata(&self) -> Result<SstMetadata> {
        let b = self.w.builder();
        let not_done = || Error::Invalid(format!("{}: metadata asked before the table was finished", self.location));
        let handles = b.handles().ok_or_else(not_done)?;
        let mut properties = BTreeMap::new();
        b.for_each_property(|name, value| {
            properties.insert(name.to_string(), value.to_vec());
        })
        .context(|| format!("{}: properties", self.location))?;
        let o = b.options();
        Ok(SstMetadata {
            location: self.location.clone(),
            e_tag: None,
            crc32c: None,
            stats: *b.stats(),
            handles,
            first_user_key: b.first_user_key().map(<[u8]>::to_vec),
            last_user_key: b.last_user_key().map(<[u8]>::to_vec),
            range_deletion_bounds: b.range_deletion_bounds().map(|(s, e)| (s.to_vec(), e.to_vec())),
            format_version: o.format_version,
            checksum: o.checksum,
            compression: o.compression,
            properties,
        })
    }

    /// Writes the rest of the table, flushes the sink and gives back the metadata and the sink.
    pub(crate) fn finish(mut self) -> Result<(SstMetadata, S)> {
        while self.finish_step()? {}
        let meta = self.metadata()?;
        let location = self.location;
        let (_, sink) = self.w.finish().map_err(|e| match e {
            WriteError::Codec(e) => Error::Codec { context: format!("{location}: finish"), source: e },
            WriteError::Sink(e) => e.into_error(format!("{location}: flush")),
        })?;
        Ok((meta, sink))
    }

    /// Fails the writer for good (an upload failed, say): later calls say why.
    pub(crate) fn fail(&mut self, why: String) {
        self.failed.get_or_insert(why);
    }

    pub(crate) fn check_open(&self) -> Result<()> {
        match &self.failed {
            None => Ok(()),
            Some(why) => Err(Error::Invalid(format!("{}: the writer failed earlier: {why}", self.location))),
        }
    }

    /// A codec error keeps the writer usable; a sink error fails it.
    fn lift<T>(&mut self, r: std::result::Result<T, WriteError<S::Error>>, what: &str) -> Result<T> {
        r.map_err(|e| match e {
            WriteError::Codec(source) => Error::Codec { context: format!("{}: {what}", self.location), source },
            WriteError::Sink(e) => {
                let e = e.into_error(format!("{}: write", self.location));
                self.failed = Some(e.to_string());
                e
            }
        })
    }

    pub(crate) fn sink_mut(&mut self) -> &mut S {
        self.w.sink_mut()
    }

    pub(crate) fn set_location(&mut self, location: String) {
        self.location = location;
    }

    pub(crate) fn stats(&self) -> &TableStats {
        self.w.stats()
    }

    pub(crate) fn estimated_size(&self) -> u64 {
        self.w.estimated_size()
    }

    pub(crate) fn last_user_key(&self) -> Option<&[u8]> {
        self.w.builder().last_user_key()
    }

    /// Ops accepted so far.
    pub(crate) fn entries(&self) -> u64 {
        self.entries
    }

    /// Table bytes written into the sink so far.
    pub(crate) fn bytes_written(&self) -> u64 {
        self.w.stats().file_size
    }
}

/// The async writer's sink: the part being filled (full parts are cut off and uploaded between calls).
#[derive(Debug, Default)]
pub(crate) struct PartBuffer(BytesMut, Crc32cDigest);

impl Sink for PartBuffer {
    type Error = Infallible;
    fn write_all(&mut self, bytes: &[u8]) -> std::result::Result<(), Infallible> {
        self.0.extend_from_slice(bytes);
        self.1.update(bytes);
        Ok(())
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

/// The store side of an [`SstWriter`]: the upload and the counters.
struct Uploader {
    store: Arc<dyn ObjectStore>,
    path: Path,
    part_size: usize,
    parts_in_flight: usize,
    state: UploadState,
    counters: Arc<Counters>,
}

impl Uploader {
    /// Sends every full part at the front of `buf`.
    async fn send_full(&mut self, buf: &mut BytesMut) -> Result<()> {
        while buf.len() >= self.part_size {
            let part = buf.split_to(self.part_size).freeze();
            self.send_part(part).await?;
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
    async fn finish(&mut self, rest: Bytes) -> Result<PutResult> {
        let span = tracing::info_span!("sst_writer.upload_finish", path = %self.path);
        async {
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
                            tracing::warn!(
                                path = %path,
                                error = %e,
                                "aborting the upload of a dropped writer failed: an incomplete multipart upload may be \
                                 left at the path"
                            );
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

/// Puts `location` in front of a codec error's context.
pub(crate) fn located(e: Error, location: &str) -> Error {
    match e {
        Error::Codec { context, source } => Error::Codec { context: format!("{location}: {context}"), source },
        other => other,
    }
}

fn with_path(e: Error, path: &Path) -> Error {
    match e {
        Error::Store { context, source } => Error::Store { context: format!("{path}: {context}"), source },
        other => other,
    }
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
/// let s = meta.stats;
/// assert_eq!((s.num_puts, s.num_deletions, s.num_merges, s.num_range_deletions), (1, 1, 1, 1));
/// assert_eq!(meta.first_user_key.as_deref(), Some(&b"apple"[..]));
/// assert!(meta.property("rocksdb.external_sst_file.version").is_some());
/// # Ok(())
/// # }
/// ```
pub struct SstWriter {
    drv: Driver<PartBuffer>,
    up: Uploader,
}

impl fmt::Debug for SstWriter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SstWriter").field("driver", &self.drv).field("progress", &self.progress()).finish()
    }
}

impl SstWriter {
    /// A writer for the object at `path`. Nothing is sent until a part fills or [`close`](Self::close).
    pub fn new(store: Arc<dyn ObjectStore>, path: Path, opts: WriterOptions) -> Result<SstWriter> {
        let span = tracing::info_span!("sst_writer.open", path = %path, part_size = opts.part_size);
        let _e = span.enter();
        opts.validate_upload()?;
        let buf = PartBuffer(BytesMut::with_capacity(opts.part_size.min(64 * 1024)), Crc32cDigest::new());
        let drv = Driver::new(&opts, buf, path.to_string())?;
        let up = Uploader {
            store,
            path,
            part_size: opts.part_size,
            parts_in_flight: opts.parts_in_flight,
            state: UploadState::NotStarted,
            counters: Arc::default(),
        };
        Ok(SstWriter { drv, up })
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
        if let Err(e) = self.drv.write(op.as_slices()) {
            // A rejected op leaves the writer usable; a failed filter hash spill fails it: abort the upload.
            return if self.drv.check_open().is_ok() { Err(e) } else { self.fail_on_error(Err(e)).await };
        }
        let r = self.upload_full_parts().await;
        self.fail_on_error(r).await
    }

    /// Uploads the full parts the last call produced and updates the progress.
    async fn upload_full_parts(&mut self) -> Result<()> {
        let c = &self.up.counters;
        c.entries.store(self.drv.entries(), Ordering::Relaxed);
        c.bytes_written.store(self.drv.bytes_written(), Ordering::Relaxed);
        self.up.send_full(&mut self.drv.sink_mut().0).await
    }

    async fn fail_on_error<T>(&mut self, r: Result<T>) -> Result<T> {
        if let Err(e) = &r {
            self.drv.fail(e.to_string());
            if let Err(abort) = self.up.abort().await {
                tracing::warn!(
                    path = %self.up.path,
                    error = %abort,
                    "aborting the multipart upload failed: an incomplete multipart upload may be left at the path"
                );
            }
        }
        r
    }

    /// Finishes the table, uploads what is left and completes the upload. On error the upload is aborted and
    /// no object exists at the path. An empty table (no entries) is an error, as in RocksDB.
    pub async fn close(mut self) -> Result<SstMetadata> {
        let span = tracing::info_span!("sst_writer.close", path = %self.up.path);
        async {
            self.drv.check_open()?;
            let r = self.close_inner().await;
            self.fail_on_error(r).await
        }
        .instrument(span)
        .await
    }

    async fn close_inner(&mut self) -> Result<SstMetadata> {
        // One chunk at a time, so a big filter or index goes up in parts as it comes out.
        while self.drv.finish_step()? {
            self.upload_full_parts().await?;
        }
        let mut meta = self.drv.metadata()?;
        meta.crc32c = Some(self.drv.sink_mut().1.value());
        let rest = std::mem::take(&mut self.drv.sink_mut().0).freeze();
        let put = self.up.finish(rest).await?;
        meta.e_tag = put.e_tag;
        tracing::info!(path = %self.up.path, bytes = meta.stats.file_size, entries = meta.stats.num_entries(), "sst written");
        Ok(meta)
    }

    /// Gives up on the table: stops the parts in flight and aborts the multipart upload (nothing exists at the
    /// path afterwards). Returns the store's error if the abort itself failed.
    pub async fn abort(mut self) -> Result<()> {
        self.drv.fail("aborted".into());
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
        self.drv.estimated_size()
    }

    /// Counts and sizes so far.
    pub fn stats(&self) -> &TableStats {
        self.drv.stats()
    }

    /// The last user key of the point entries added, if any.
    pub fn last_user_key(&self) -> Option<&[u8]> {
        self.drv.last_user_key()
    }

    /// Table bytes produced so far.
    pub fn bytes_written(&self) -> u64 {
        self.drv.bytes_written()
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
/// assert_eq!(meta.stats.num_puts, 100);
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
    let mut w = SstWriter::new(store, path.clone(), opts)?;
    let mut stream = std::pin::pin!(stream);
    while let Some(op) = stream.next().await {
        if let Err(e) = w.write(op).await {
            if let Err(abort) = w.abort().await {
                tracing::warn!(
                    path = %path,
                    error = %abort,
                    "aborting after a failed build failed: an incomplete multipart upload may be left at the path"
                );
            }
            return Err(e);
        }
    }
    w.close().await
}
