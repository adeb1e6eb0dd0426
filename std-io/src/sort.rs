//! [`ExternalSort`]: sorts a stream of ops larger than memory. Ops are buffered up to a memory budget, each
//! full buffer is sorted and spilled as a temporary SST (a *run*), and [`ExternalSort::finish`] k-way merges
//! the runs ([`crate::merge`]) into one sorted stream of ops for a writer.
//!
//! # Order and duplicates
//! Every op gets a version number: its position in the input (1, 2, ... for [`add`](ExternalSort::add); the
//! input line for the CLI). A run stores each point op at its version as its seqno, so the runs are ordinary
//! non-external tables holding every version, and the merge's "newest seqno wins" is "the later record wins".
//! With [`Duplicates::Error`] a user key given twice is an error naming both versions. Range deletions are
//! written at seqno 0, below every point op, so (as when all ops of one table share a seqno) they never delete
//! a point op of the same input; overlapping ones are joined.
//!
//! # Memory
//! The buffer is [`SortOptions::memory`] bytes, allocated once: ¾ for the ops' bytes, ¼ for a
//! 24-byte record per op; it is freed before the merge. While merging, `memory` is shared: what the consumer
//! of the merged stream holds (a writer's workspace, estimated by
//! [`writer_workspace`](ExternalSort::writer_workspace); batches in flight) is charged first with
//! [`reserve`](ExternalSort::reserve), and the run readers get the rest
//! ([`merge_readers`](ExternalSort::merge_readers)): one scan per run, reading chunks of a share each
//! (64 KiB to 4 MiB) with one chunk ahead, decoding one block at a time. Peak memory is therefore `memory` plus
//! what nothing here counts (the program, its runtime and allocator; measured in BENCHMARKS.md), unless what
//! was reserved leaves less than two 64 KiB chunks per run: then the readers take those and the merge holds
//! more than `memory`. A writer's workspace grows with its file (~25 bytes per data block of index records, and
//! the filter: see [`writer_workspace`](ExternalSort::writer_workspace)). Writing one file with
//! [`writer_options`](ExternalSort::writer_options), its filter hashes spill into the sort's `tmp_dir` while
//! merging and the filter's bits (about 1.25 bytes per key at 10 bits/key) are only allocated when the file is
//! finished, after the merge: the readers are freed by then, so the file's end (bits, records and index block)
//! needs to fit in `memory` on its own. Rolled files get key counts
//! ([`rolling_keys`](ExternalSort::rolling_keys)): their bits are set as keys arrive and they are finished
//! while the merge runs; cutting the output into files of a target size bounds both. An op larger than the
//! buffer grows it for that op alone.
//!
//! # Temporary files
//! Runs go in a fresh directory `sstkit-sort-<pid>-<n>` under [`SortOptions::tmp_dir`], removed when the
//! sorter, or the stream [`finish`](ExternalSort::finish) returns, is dropped: on success, on an error and on
//! a cancelled build alike (a process killed outright leaves it; its name says which process made it).

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::cache::BlockCache;
use crate::error::{Error, Result};
use crate::file_writer::FileWriter;
use crate::merge::{merged, Duplicates, MergeOptions};
use crate::reader::{ReadOptions, SstReader};
use crate::rolling::ExpectedKeys;
use crate::writer::{WriteOp, WriterOptions};

/// The smallest memory budget accepted.
pub const MIN_MEMORY: usize = 1 << 20;

/// The smallest read of a run while merging (each run has one being read and one ahead).
pub const MIN_CHUNK: u64 = 64 << 10;

/// The largest read of a run while merging.
const MAX_CHUNK: u64 = 4 << 20;

/// Bytes of an index record besides its separator key (a block handle, lengths): an estimate for
/// [`ExternalSort::writer_workspace`] (21.6 bytes per block in all for 16-byte keys, BENCHMARKS.md).
const INDEX_RECORD_OVERHEAD: u64 = 8;

/// What a writer of the merged stream holds ([`ExternalSort::writer_workspace`]): while the merge runs, next to
/// the run readers, and while its file is finished. One sorted file is finished after the merge, its readers
/// freed; rolled files are finished while it runs (both figures are then the same).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterWorkspace {
    /// Bytes held while merging: what to [`reserve`](ExternalSort::reserve).
    pub merging: u64,
    /// Bytes held at the file's end: the filter's bits, the index records and the index block built from them.
    pub finishing: u64,
}

/// Settings of an [`ExternalSort`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SortOptions {
    /// Bytes of ops buffered before a run is spilled (at least [`MIN_MEMORY`]; default 256 MiB).
    pub memory: usize,
    /// Where the directory of runs is made (default: the system's temporary directory).
    pub tmp_dir: PathBuf,
    /// What a user key given more than once is: the later op wins, or an error.
    pub duplicates: Duplicates,
}

impl Default for SortOptions {
    fn default() -> Self {
        SortOptions { memory: 256 << 20, tmp_dir: std::env::temp_dir(), duplicates: Duplicates::Newest }
    }
}

impl SortOptions {
    /// Sets [`memory`](Self::memory).
    pub fn memory(mut self, v: usize) -> Self {
        self.memory = v;
        self
    }
    /// Sets [`tmp_dir`](Self::tmp_dir).
    pub fn tmp_dir(mut self, v: impl Into<PathBuf>) -> Self {
        self.tmp_dir = v.into();
        self
    }
    /// Sets [`duplicates`](Self::duplicates).
    pub fn duplicates(mut self, v: Duplicates) -> Self {
        self.duplicates = v;
        self
    }
}

/// The buffered ops: their bytes, and one record per op.
#[derive(Debug, Clone, Copy)]
struct Rec {
    /// Where the key starts in the arena; the value (a range deletion's end) follows it.
    at: u64,
    klen: u32,
    vlen: u32,
    /// The op's version, with its kind in the low 2 bits.
    version_kind: u64,
}

const PUT: u64 = 0;
const DELETE: u64 = 1;
const MERGE: u64 = 2;
const RANGE: u64 = 3;

/// A directory removed (with what it holds) when dropped.
#[derive(Debug)]
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_dir_all(&self.0) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!(dir = %self.0.display(), error = %e, "removing the sort's temporary directory failed");
            }
        }
    }
}

/// Sorts ops larger than memory (see the module docs).
///
/// ```
/// # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
/// # async fn main() -> sstkit::Result<()> {
/// use futures::TryStreamExt;
/// use sstkit::sort::{ExternalSort, SortOptions};
/// use sstkit::writer::WriteOp;
///
/// let tmp = tempfile::tempdir().unwrap();
/// let mut s = ExternalSort::new(SortOptions::default().memory(1 << 20).tmp_dir(tmp.path()))?;
/// for i in (0..50_000u32).rev() {
///     s.add(WriteOp::Put(format!("key{i:06}").as_bytes(), &b"value"[..]))?;
/// }
/// s.add(WriteOp::Put(&b"key000007"[..], &b"newer"[..]))?;
/// assert!(s.runs() > 0);
/// let ops: Vec<_> = s.finish().await?.try_collect().await?;
/// assert_eq!(ops.len(), 50_000);
/// assert_eq!(ops[7], WriteOp::Put("key000007".into(), "newer".into()));
/// assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct ExternalSort {
    opts: SortOptions,
    dir: TempDir,
    arena: Vec<u8>,
    recs: Vec<Rec>,
    runs: Vec<PathBuf>,
    last_version: u64,
    points: u64,
    /// The point ops' key and value bytes, and key bytes alone.
    point_bytes: u64,
    point_key_bytes: u64,
    /// Bytes of `memory` the merged stream's consumer holds while merging.
    reserved: u64,
}

/// A record's bytes in the buffer.
const REC_LEN: usize = std::mem::size_of::<Rec>();

impl ExternalSort {
    /// A sorter whose runs go in a new directory under `opts.tmp_dir`.
    pub fn new(opts: SortOptions) -> Result<Self> {
        if opts.memory < MIN_MEMORY {
            return Err(Error::Invalid(format!(
                "sort memory {} bytes is too small: at least {MIN_MEMORY} bytes (1M)",
                opts.memory
            )));
        }
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let path = opts.tmp_dir.join(format!("sstkit-sort-{}-{n}", std::process::id()));
        std::fs::create_dir(&path).map_err(|e| Error::Io {
            context: format!("{}: creating the sort's temporary directory (see --tmp-dir)", path.display()),
            source: e,
        })?;
        let dir = TempDir(path);
        let arena = Vec::with_capacity(opts.memory / 4 * 3);
        let recs = Vec::with_capacity(opts.memory / 4 / REC_LEN);
        Ok(ExternalSort {
            opts,
            dir,
            arena,
            recs,
            runs: Vec::new(),
            last_version: 0,
            points: 0,
            point_bytes: 0,
            point_key_bytes: 0,
            reserved: 0,
        })
    }

    /// The options it was made with.
    pub fn options(&self) -> &SortOptions {
        &self.opts
    }

    /// The directory the runs go in.
    pub fn dir(&self) -> &Path {
        &self.dir.0
    }

    /// Runs spilled so far.
    pub fn runs(&self) -> usize {
        self.runs.len()
    }

    /// Point ops (puts, deletions, merges) added so far: an upper bound of the distinct user keys of the
    /// merged stream (a key given twice counts twice).
    pub fn point_ops(&self) -> u64 {
        self.points
    }

    /// `opts` for the writer of the merged stream, its filter hashes spilling into the sort's
    /// [`tmp_dir`](SortOptions::tmp_dir) ([`WriterOptions::hash_spill_dir`], unless set): a full filter's 8
    /// bytes of hash per key then leave memory as keys arrive (past [`WriterOptions::hash_spill_threshold`])
    /// and the filter's bits (about 1.25 bytes per key at 10 bits/key) are only allocated when the file is
    /// finished, after the merge, its run readers freed. No key count is set: a count would keep the bits
    /// through the merge, next to the readers. The spill file is unlinked as soon as it is made (nothing is
    /// left after a crash), so it goes in `tmp_dir` itself rather than the runs' directory, which is removed
    /// with the merged stream, maybe before a writer that lags behind makes its first spill.
    pub fn writer_options(&self, opts: WriterOptions) -> WriterOptions {
        let dir = opts.hash_spill_dir.clone().unwrap_or_else(|| self.opts.tmp_dir.clone());
        opts.hash_spill_dir(Some(dir))
    }

    /// The key counts for a [`RollingWriter`](crate::rolling::RollingWriter) of the merged stream cutting files
    /// at `target_file_size` bytes ([`RollingOptions::expected_keys`](crate::rolling::RollingOptions::expected_keys)):
    /// per file, the target size over the average point op's key and value bytes, plus a quarter (a file also
    /// holds keys' shared prefixes and compresses: a count too low raises the false-positive rate, one too high
    /// only costs filter bytes); in all, [`point_ops`](Self::point_ops). `None` before any point op.
    pub fn rolling_keys(&self, target_file_size: u64) -> Option<ExpectedKeys> {
        if self.points == 0 {
            return None;
        }
        let avg = (self.point_bytes / self.points).max(1);
        let per_file = (target_file_size / avg).saturating_add(target_file_size / avg / 4).max(1);
        Some(ExpectedKeys { per_file: per_file.min(self.points), total: self.points })
    }

    /// The bytes a writer with `opts` holds, for the merged stream written into one file, or per file with
    /// `target_file_size`: an estimate from the point ops' count and bytes. Its workspace keeps one index record
    /// per data block; the filter's bits for a writer given a key count (as [`rolling_keys`](Self::rolling_keys)
    /// gives) or with partitioned filters; otherwise, while merging, the filter hashes not spilled yet (up to
    /// [`WriterOptions::hash_spill_threshold`]), and when the file is finished the bits. The index block is
    /// built from the records at the end. The workspace grows by half at a time. See [`WriterWorkspace`].
    pub fn writer_workspace(&self, opts: &WriterOptions, target_file_size: Option<u64>) -> WriterWorkspace {
        let t = &opts.table;
        let (keys, bytes) = match target_file_size.and_then(|n| self.rolling_keys(n)) {
            Some(k) => (k.per_file, k.per_file.saturating_mul(self.point_bytes / self.points.max(1))),
            None => (self.points, self.point_bytes),
        };
        let filter = keys.saturating_mul(u64::from(t.bloom_millibits_per_key)) / 8000;
        let block = (t.block_size as u64).max(1);
        let key = self.point_key_bytes / self.points.max(1);
        let index = (bytes / block + 1).saturating_mul(key + INDEX_RECORD_OVERHEAD);
        // Two block regions; grown by half at a time (measured: 328 MiB for 106 MB of filter and 56 MB of index
        // with the bits set as keys arrived).
        let grown = |n: u64| n.saturating_add(4 * block).saturating_mul(3) / 2;
        // Bits set as keys arrive (a count, or partitioned): the filter, the records and the index block at once.
        let resident = grown(filter + 2 * index);
        let sized_at_finish = filter > 0 && t.expected_keys.is_none() && !t.partition_filters;
        match target_file_size {
            // Files are finished while the merge runs.
            Some(_) => WriterWorkspace { merging: resident, finishing: resident },
            None if sized_at_finish => {
                // Checked after every write: at most the threshold (and one hash) stays.
                let all = keys.saturating_mul(8);
                let hashes = opts.hash_spill_threshold.map_or(all, |t| (t as u64 + 8).min(all));
                // The filter is freed before the index block is built.
                WriterWorkspace { merging: grown(index + hashes), finishing: grown((filter + index).max(2 * index)) }
            }
            None => WriterWorkspace { merging: grown(filter + index), finishing: resident },
        }
    }

    /// Tells the sorter that the merged stream's consumer (a writer's workspace, batches in flight) holds
    /// `bytes` of [`SortOptions::memory`] while merging: the run readers get what remains (see the module docs).
    pub fn reserve(&mut self, bytes: u64) {
        self.reserved = bytes;
    }

    /// The bytes the run readers get while merging: [`SortOptions::memory`] less what was
    /// [`reserve`](Self::reserve)d, but at least [`MIN_CHUNK`] × 2 per run. More than `memory − reserved`
    /// when what was reserved leaves too little: the merge then holds more than `memory`.
    pub fn merge_readers(&self) -> u64 {
        let runs = self.runs.len().max(1) as u64;
        let chunk = ((self.opts.memory as u64).saturating_sub(self.reserved) / (2 * runs)).clamp(MIN_CHUNK, MAX_CHUNK);
        2 * runs * chunk
    }

    /// Adds an op, later than every op before it.
    pub fn add<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        self.add_at(op, self.last_version + 1)
    }

    /// Adds an op with its version (an input line, say): versions must increase, from 1, below 2^54.
    pub fn add_at<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>, version: u64) -> Result<()> {
        if version <= self.last_version || version >= 1 << 54 {
            return Err(Error::Invalid(format!(
                "sort: version {version} is not after {} (or too large)",
                self.last_version
            )));
        }
        let (key, value, kind) = match op.as_slices() {
            WriteOp::Put(k, v) => (k, v, PUT),
            WriteOp::Delete(k) => (k, &[][..], DELETE),
            WriteOp::Merge(k, v) => (k, v, MERGE),
            WriteOp::DeleteRange(s, e) => (s, e, RANGE),
        };
        if kind == RANGE && key >= value {
            // As the writers say; joined with an overlapping range deletion it would vanish without a word.
            return Err(Error::Invalid(format!("sort: delete_range at version {version} needs start < end")));
        }
        let (klen, vlen) = match (u32::try_from(key.len()), u32::try_from(value.len())) {
            (Ok(k), Ok(v)) => (k, v),
            _ => return Err(Error::Invalid("sort: a key or value of 4 GiB or more".into())),
        };
        let need = key.len() + value.len();
        if self.arena.len() + need > self.arena.capacity() || self.recs.len() == self.recs.capacity() {
            self.spill()?;
        }
        self.arena.extend_from_slice(key);
        self.arena.extend_from_slice(value);
        self.recs.push(Rec { at: (self.arena.len() - need) as u64, klen, vlen, version_kind: version << 2 | kind });
        self.last_version = version;
        if kind != RANGE {
            self.points += 1;
            self.point_bytes += need as u64;
            self.point_key_bytes += key.len() as u64;
        }
        if self.arena.len() > self.opts.memory / 4 * 3 {
            // One op bigger than the buffer made it grow: write it now and give the memory back.
            self.spill()?;
            self.arena.shrink_to(self.opts.memory / 4 * 3);
        }
        Ok(())
    }

    fn key(&self, r: &Rec) -> &[u8] {
        let at = r.at as usize;
        &self.arena[at..at + r.klen as usize]
    }

    fn value(&self, r: &Rec) -> &[u8] {
        let at = r.at as usize + r.klen as usize;
        &self.arena[at..at + r.vlen as usize]
    }

    /// Sorts the buffer and writes it as a run.
    fn spill(&mut self) -> Result<()> {
        if self.recs.is_empty() {
            return Ok(());
        }
        let mut recs = std::mem::take(&mut self.recs);
        // Points by key, newest first; range deletions by start (their order among points does not matter).
        recs.sort_unstable_by(|a, b| {
            let range = |r: &Rec| r.version_kind & 3 == RANGE;
            range(a).cmp(&range(b)).then_with(|| self.key(a).cmp(self.key(b))).then(b.version_kind.cmp(&a.version_kind))
        });
        let path = self.dir.0.join(format!("run-{:06}.sst", self.runs.len() + 1));
        let opts = WriterOptions::default()
            .external_file(false)
            .bloom_bits_per_key(0)
            .block_size(64 << 10)
            .file_creation_time(Some(0));
        let mut w = FileWriter::create(&path, opts)?;
        let mut range: Option<(&[u8], &[u8])> = None;
        for r in &recs {
            let (k, v, version, kind) = (self.key(r), self.value(r), r.version_kind >> 2, r.version_kind & 3);
            let op = match kind {
                PUT => WriteOp::Put(k, v),
                DELETE => WriteOp::Delete(k),
                MERGE => WriteOp::Merge(k, v),
                _ => {
                    // Join overlapping or touching range deletions: starts must strictly increase in a table.
                    match &mut range {
                        Some((_, end)) if k <= *end => *end = v.max(*end),
                        _ => {
                            if let Some((s, e)) = range.replace((k, v)) {
                                w.write_at(WriteOp::DeleteRange(s, e), 0)?;
                            }
                        }
                    }
                    continue;
                }
            };
            w.write_at(op, version)?;
        }
        if let Some((s, e)) = range {
            w.write_at(WriteOp::DeleteRange(s, e), 0)?;
        }
        w.close()?;
        self.runs.push(path);
        recs.clear();
        self.recs = recs;
        self.arena.clear();
        Ok(())
    }

    /// Spills what is buffered, frees the buffer and returns the merged, sorted ops. The temporary directory
    /// goes when the stream is dropped.
    pub async fn finish(mut self) -> Result<impl Stream<Item = Result<WriteOp<Bytes>>> + Send> {
        self.spill()?;
        let (arena, recs) = (std::mem::take(&mut self.arena), std::mem::take(&mut self.recs));
        drop((arena, recs));
        let chunk = self.merge_readers() / (2 * self.runs.len().max(1) as u64);
        let cache = BlockCache::new(1 << 20);
        let mut readers = Vec::with_capacity(self.runs.len());
        for p in &self.runs {
            let mut ro = ReadOptions::default().cache(cache.clone());
            ro.scan_chunk = chunk;
            ro.scan_read_ahead = 1;
            // Positioned reads on the run, kept open.
            readers.push(SstReader::open_file(p, ro).await?);
        }
        let mut mopts = MergeOptions::default().duplicates(self.opts.duplicates);
        mopts.records = true;
        let dir = self.dir;
        // The stream owns the directory: it goes when the stream does.
        Ok(merged(readers, mopts).map(move |op| {
            let _keep = &dir;
            op
        }))
    }
}
