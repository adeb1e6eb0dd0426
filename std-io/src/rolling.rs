//! [`RollingWriter`]: cuts one sorted stream of ops into non-overlapping SST files of about a target size, for
//! bulk loads into an object store.
//!
//! # Order
//! Each op sorts by its key: the user key, or the start of a range deletion. Keys must not decrease; point
//! ops (`Put`, `Delete`, `Merge`) must have strictly increasing user keys among themselves, but a range
//! deletion may share its start with a point key (either order) or with another range deletion.
//!
//! # Where files are cut
//! A new file starts when the current one's [`estimated_size`](crate::writer::SstWriter::estimated_size)
//! reached [`RollingOptions::target_file_size`] and the next op's key is strictly greater than the previous
//! op's. So everything about one user key (its point entry, and range deletions starting at it) stays in one
//! file: the cut key `c` is the first key of the new file and every key of the previous file is `< c`.
//!
//! # Range deletions across a cut
//! File `i` owns the user keys `[c_i, c_{i+1})` (`c_0` = −∞, the last file's end = +∞), and holds exactly the
//! part of each range deletion that falls in that interval, so each file is self-contained and no file's
//! tombstones reach into another's keys (which matters because RocksDB gives each ingested file its own
//! global seqno). To do that with one pass and O(1) memory:
//! - all ops carry the same seqno, so overlapping or touching range deletions can be merged into their union
//!   without changing what is deleted; the writer keeps one *open* interval `[s, e)` (the union of the range
//!   deletions seen since the last one it gave to a file) and hands an interval to the current file as soon as
//!   a new range deletion does not touch it;
//! - at a cut at `c`, the open interval `[s, e)` (where `s < c`) becomes `[s, min(e, c))` in the finished
//!   file, and `[c, e)` stays open for the next file (if `e > c`), where it is the first range deletion;
//! - at the end of the stream the open interval goes to the last file as is.
//!
//! The files therefore come out non-overlapping: every point key and range-deletion start of file `i` is in
//! `[c_i, c_{i+1})` and every range-deletion end is `≤ c_{i+1}` (exclusive). Merged range deletions mean a
//! file may report fewer (longer) range deletions than the input had.
//!
//! # Failure
//! A rejected op (out of order, an empty range) is an error that changes nothing: the writer stays usable. A
//! store error aborts the file being written and deletes the files already finished (best effort), so a
//! failed load leaves nothing behind; so does [`RollingWriter::abort`]. Dropping the writer aborts the
//! current file's upload but keeps finished files.

use std::sync::Arc;

use futures::{Stream, StreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use crate::error::{Error, Result};
use sstkit_core::KeyExcerpt;

use crate::writer::{SstMetadata, SstWriter, WriteOp, WriterOptions};

/// Settings of a [`RollingWriter`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct RollingOptions {
    /// Files are named `<prefix>/<level>/<id>.sst`.
    pub prefix: Path,
    /// The level written into file names and descriptors.
    pub level: u32,
    /// Id of the first file; later files count up from it.
    pub first_id: u64,
    /// Ids are zero-padded to this many digits.
    pub id_width: usize,
    /// A file is cut once its estimated size reaches this many bytes (at the next user-key boundary).
    pub target_file_size: u64,
    /// Options of each file.
    pub writer: WriterOptions,
}

impl RollingOptions {
    /// Options for files under `prefix`, level 0, ids from 1 with 6 digits, 64 MiB target size.
    pub fn new(prefix: impl Into<Path>) -> Self {
        RollingOptions {
            prefix: prefix.into(),
            level: 0,
            first_id: 1,
            id_width: 6,
            target_file_size: 64 << 20,
            writer: WriterOptions::default(),
        }
    }
    /// Sets the level.
    pub fn level(mut self, v: u32) -> Self {
        self.level = v;
        self
    }
    /// Sets the first id.
    pub fn first_id(mut self, v: u64) -> Self {
        self.first_id = v;
        self
    }
    /// Sets the id width.
    pub fn id_width(mut self, v: usize) -> Self {
        self.id_width = v;
        self
    }
    /// Sets the target file size.
    pub fn target_file_size(mut self, v: u64) -> Self {
        self.target_file_size = v;
        self
    }
    /// Sets the per-file writer options.
    pub fn writer(mut self, v: WriterOptions) -> Self {
        self.writer = v;
        self
    }

    /// The path of file `id`.
    pub fn file_path(&self, id: u64) -> Path {
        let name = format!("{id:0width$}.sst", width = self.id_width);
        let base = self.prefix.clone();
        let level = self.level.to_string();
        base.parts().chain([level.as_str().into(), name.as_str().into()]).collect()
    }
}

/// One file written by a [`RollingWriter`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct FileDescriptor {
    /// The file's id.
    pub id: u64,
    /// The level.
    pub level: u32,
    /// The object path.
    pub path: Path,
    /// Everything the writer reported: counts and sizes in `metadata.stats`, the key range through
    /// [`SstMetadata::smallest_key`] and [`SstMetadata::largest_key`].
    pub metadata: SstMetadata,
}

/// Writes a sorted stream of ops as a run of non-overlapping files (see the module docs).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> sstkit::Result<()> {
/// use std::sync::Arc;
/// use object_store::{memory::InMemory, ObjectStore};
/// use sstkit::rolling::{RollingOptions, RollingWriter};
/// use sstkit::writer::WriteOp;
///
/// let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
/// let opts = RollingOptions::new("load").level(6).first_id(7).target_file_size(16 * 1024);
/// let mut w = RollingWriter::new(store, opts)?;
/// w.write(WriteOp::DeleteRange(&b"a"[..], &b"z"[..])).await?;
/// for i in 0..2000u32 {
///     w.write(WriteOp::Put(format!("key{i:05}").as_bytes(), &[b'x'; 40][..])).await?;
/// }
/// let files = w.finish().await?;
/// assert!(files.len() > 3);
/// assert_eq!(files[0].path.as_ref(), "load/6/000007.sst");
/// for pair in files.windows(2) {
///     let (max, _) = pair[0].metadata.largest_key().unwrap();
///     assert!(max <= pair[1].metadata.smallest_key().unwrap());   // non-overlapping
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct RollingWriter {
    store: Arc<dyn ObjectStore>,
    opts: RollingOptions,
    current: Option<SstWriter>,
    next_id: u64,
    /// Key of the last op accepted.
    last_key: Option<Vec<u8>>,
    /// Whether that op was a range deletion.
    last_was_range: bool,
    /// The union of the range deletions not yet given to a file.
    open_range: Option<(Vec<u8>, Vec<u8>)>,
    done: Vec<FileDescriptor>,
    failed: Option<String>,
}

impl RollingWriter {
    /// A writer putting files into `store`.
    pub fn new(store: Arc<dyn ObjectStore>, opts: RollingOptions) -> Result<Self> {
        opts.writer.core_options()?;
        if opts.target_file_size == 0 {
            return Err(Error::Invalid("target_file_size must be at least 1".into()));
        }
        let next_id = opts.first_id;
        Ok(RollingWriter {
            store,
            opts,
            current: None,
            next_id,
            last_key: None,
            last_was_range: false,
            open_range: None,
            done: Vec::new(),
            failed: None,
        })
    }

    /// The files finished so far.
    pub fn files(&self) -> &[FileDescriptor] {
        &self.done
    }

    /// Adds one op (see the module docs for the order).
    pub async fn write<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        if let Some(why) = &self.failed {
            return Err(Error::Invalid(format!("rolling writer failed earlier: {why}")));
        }
        let op = op.as_slices();
        let key = op.key();
        let is_range = matches!(op, WriteOp::DeleteRange(..));
        // The builder checks point keys against point keys. Across kinds it allows anything, but a cut needs
        // every key of a file before the next file's first key, so a key must not go back past the last op's.
        // (Range deletions are merged here before the builder sees them, so they are checked here too.)
        if let Some(last) = self.last_key.as_deref().filter(|_| is_range || self.last_was_range) {
            if key < last {
                return Err(Error::Codec {
                    context: format!("{}: {}", self.opts.prefix, op.name()),
                    source: sstkit_core::Error::OutOfOrder {
                        previous: KeyExcerpt::new(last),
                        key: KeyExcerpt::new(key),
                    },
                });
            }
        }
        // A range deletion waits here before the builder sees it: reject an empty one now, not at a later op.
        if let WriteOp::DeleteRange(s, e) = op {
            if s >= e {
                return Err(Error::Invalid(format!("{}: delete_range needs start < end", self.opts.prefix)));
            }
        }
        let r = self.write_inner(op).await;
        if let Err(e) = &r {
            if !is_rejected_op(e) {
                self.fail(e.to_string()).await;
            }
        }
        r
    }

    async fn write_inner(&mut self, op: WriteOp<&[u8]>) -> Result<()> {
        let key = op.key();
        let new_user_key = self.last_key.as_deref().is_none_or(|last| key > last);
        if new_user_key {
            if let Some(cur) = &self.current {
                if cur.estimated_size() >= self.opts.target_file_size {
                    self.cut(key).await?;
                }
            }
        }
        if self.current.is_none() {
            let path = self.opts.file_path(self.next_id);
            self.current = Some(SstWriter::new(self.store.clone(), path, self.opts.writer.clone())?);
        }
        match op {
            WriteOp::DeleteRange(s, e) => match &mut self.open_range {
                Some((_, open_end)) if s <= open_end.as_slice() => {
                    if e > open_end.as_slice() {
                        *open_end = e.to_vec();
                    }
                }
                _ => {
                    if let Some((os, oe)) = self.open_range.take() {
                        self.emit_range(&os, &oe).await?;
                    }
                    self.open_range = Some((s.to_vec(), e.to_vec()));
                }
            },
            point => {
                let cur = self.current.as_mut().ok_or_else(|| Error::Invalid("no current file".into()))?;
                cur.write(point).await?;
            }
        }
        match &mut self.last_key {
            Some(k) if k.as_slice() == key => {}
            Some(k) => {
                k.clear();
                k.extend_from_slice(key);
            }
            None => self.last_key = Some(key.to_vec()),
        }
        self.last_was_range = matches!(op, WriteOp::DeleteRange(..));
        Ok(())
    }

    async fn emit_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        let cur = self.current.as_mut().ok_or_else(|| Error::Invalid("no current file".into()))?;
        cur.delete_range(start, end).await
    }

    /// Ends the current file before the op with key `c`.
    async fn cut(&mut self, c: &[u8]) -> Result<()> {
        if let Some((s, e)) = self.open_range.take() {
            if e.as_slice() > c {
                self.emit_range(&s, c).await?;
                self.open_range = Some((c.to_vec(), e));
            } else {
                self.emit_range(&s, &e).await?;
            }
        }
        self.close_current().await
    }

    async fn close_current(&mut self) -> Result<()> {
        let Some(w) = self.current.take() else { return Ok(()) };
        let path = w.path().clone();
        let meta = w.close().await?;
        self.done.push(FileDescriptor { id: self.next_id, level: self.opts.level, path, metadata: meta });
        self.next_id += 1;
        Ok(())
    }

    /// Adds every op of a stream.
    pub async fn write_stream<S, B>(&mut self, stream: S) -> Result<()>
    where
        S: Stream<Item = WriteOp<B>>,
        B: AsRef<[u8]>,
    {
        let mut stream = std::pin::pin!(stream);
        while let Some(op) = stream.next().await {
            self.write(op).await?;
        }
        Ok(())
    }

    /// Finishes the last file and returns every file, in key order.
    pub async fn finish(mut self) -> Result<Vec<FileDescriptor>> {
        if let Some(why) = &self.failed {
            return Err(Error::Invalid(format!("rolling writer failed earlier: {why}")));
        }
        let r = async {
            if let Some((s, e)) = self.open_range.take() {
                self.emit_range(&s, &e).await?;
            }
            self.close_current().await
        }
        .await;
        match r {
            Ok(()) => Ok(std::mem::take(&mut self.done)),
            Err(e) => {
                self.fail(e.to_string()).await;
                Err(e)
            }
        }
    }

    /// Gives up: aborts the file being written and deletes the finished ones.
    pub async fn abort(mut self) -> Result<()> {
        self.fail("aborted".into()).await;
        Ok(())
    }

    async fn fail(&mut self, why: String) {
        self.failed = Some(why);
        if let Some(w) = self.current.take() {
            if let Err(e) = w.abort().await {
                tracing::warn!(error = %e, "aborting the current file failed");
            }
        }
        for f in std::mem::take(&mut self.done) {
            if let Err(e) = self.store.delete(&f.path).await {
                tracing::warn!(path = %f.path, error = %e, "deleting a finished file after a failure failed");
            }
        }
    }
}

/// Writes a sorted stream as a run of files in one call; on error nothing is left behind.
pub async fn write_rolling<S, B>(
    store: Arc<dyn ObjectStore>,
    opts: RollingOptions,
    stream: S,
) -> Result<Vec<FileDescriptor>>
where
    S: Stream<Item = WriteOp<B>>,
    B: AsRef<[u8]>,
{
    let mut w = RollingWriter::new(store, opts)?;
    if let Err(e) = w.write_stream(stream).await {
        w.abort().await?;
        return Err(e);
    }
    w.finish().await
}

/// An error that rejected one op and changed nothing.
fn is_rejected_op(e: &Error) -> bool {
    matches!(e.codec(), Some(sstkit_core::Error::OutOfOrder { .. } | sstkit_core::Error::InvalidArgument { .. }))
}
