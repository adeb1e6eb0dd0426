//! [`RollingWriter`]: cuts one sorted stream of ops into non-overlapping SST files of about a target size, for
//! bulk loads into an object store.
//!
//! # Order
//! Point ops (`Put`, `Delete`, `Merge`) must have strictly increasing user keys among themselves. Range
//! deletions may come anywhere: before, between or after the point keys they cover, in any order among
//! themselves, as long as each has `start < end` (the single-file writers accept them interleaved with the
//! points too, with increasing starts).
//!
//! # Where files are cut
//! A new file starts when the current one's [`estimated_size`](crate::writer::SstWriter::estimated_size)
//! reached [`RollingOptions::target_file_size`] and the next point op arrives. Its key `c` is the cut key: file
//! `i` owns the user keys `[c_i, c_{i+1})` (`c_0` = −∞, the last file's end = +∞), every point key of file `i`
//! is in that interval.
//!
//! # Range deletions
//! Each file holds exactly the part of each range deletion that falls in its interval, so each file is
//! self-contained and no file's tombstones reach into another's keys (which matters because RocksDB gives each
//! ingested file its own global seqno). All ops carry the same seqno, so overlapping or touching range
//! deletions are merged into their union without changing what is deleted (a file may report fewer, longer
//! range deletions than the input had). The writer keeps the union of the range deletions not yet given to a
//! file (memory: one entry per disjoint interval); at a cut at `c` the parts below `c` go to the file being
//! finished and the rest waits for the next files.
//!
//! A range deletion listed after later point keys (the usual "all the puts, then a range deletion" input)
//! may reach below the current file, into files already finished. Those parts are kept aside and, once the
//! last file is written, each finished file they touch is rewritten once: read back and written again at the
//! same path with its entries and the union of its range deletions and the new parts (a `PUT` replaces the
//! object atomically). Files they do not touch are not read.
//!
//! # Manifest and resume
//! With [`RollingOptions::manifest`] the writer records its progress in `<prefix>/sstkit.manifest` (see
//! [`crate::manifest`]): after each finished file it puts the whole manifest (the finished files with their
//! key ranges, sizes, checksums and metadata, and the key the next file starts at). After a crash,
//! [`RollingWriter::resume`] reads it, checks it was written with the same options and input id, removes
//! what was unfinished (objects of the output set not in the manifest, staging objects) and returns a writer
//! that expects the whole input again: point ops below the next file's start are skipped (they are in
//! finished files); range deletions are taken again (the parts below go through the rewrite check above,
//! which rewrites a file only if its range deletions do not cover them already).
//!
//! # Failure
//! A rejected op (out of order, an empty range) is an error that changes nothing: the writer stays usable. A
//! store error aborts the file being written and deletes the files already finished and the manifest (best
//! effort), so a failed load leaves nothing behind; so does [`RollingWriter::abort`]. Dropping the writer aborts
//! the current file's upload but keeps finished files (and the manifest, so the build can be resumed).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use futures::{Stream, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit_core::{KeyExcerpt, ValueType};

use crate::error::{Context, Error, Result};
use crate::intervals::{add_interval, clip, take_below};
use crate::manifest::{in_output_set, Manifest, ManifestFile, Next, MANIFEST_NAME};
use crate::reader::{ReadOptions, SstReader};
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
    /// A file is cut once its estimated size reaches this many bytes (at the next point key).
    pub target_file_size: u64,
    /// Options of each file.
    pub writer: WriterOptions,
    /// Record progress in `<prefix>/sstkit.manifest` so a crashed build can be [resumed](RollingWriter::resume).
    pub manifest: bool,
    /// What identifies the input (a path, its size and modification time, say): stored in the manifest and
    /// compared on resume, so a different input is an error rather than a silent mix.
    pub input_id: Vec<u8>,
    /// How many point keys to expect: each file's writer then gets a key count
    /// ([`WriterOptions::sized_for_keys`]) and sets its filter's bits as keys arrive (about 1.25 bytes per key at
    /// 10 bits/key) instead of keeping 8 bytes of hash per key until the file is finished. A file's count is
    /// [`ExpectedKeys::per_file`] for the first file, the previous file's point keys plus an eighth for the next
    /// ones, capped by the keys not written yet. A wrong count only changes the filter's size and false-positive rate. Not part
    /// of what a resume compares.
    pub expected_keys: Option<ExpectedKeys>,
}

/// The point keys a rolling build expects (see [`RollingOptions::expected_keys`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExpectedKeys {
    /// Keys of one file (an estimate: the target size over the bytes per key, say).
    pub per_file: u64,
    /// Point keys of the whole input (an upper bound is fine).
    pub total: u64,
}

impl RollingOptions {
    /// Options for files under `prefix`, level 0, ids from 1 with 6 digits, 64 MiB target size, no manifest.
    pub fn new(prefix: impl Into<Path>) -> Self {
        RollingOptions {
            prefix: prefix.into(),
            level: 0,
            first_id: 1,
            id_width: 6,
            target_file_size: 64 << 20,
            writer: WriterOptions::default(),
            manifest: false,
            input_id: Vec::new(),
            expected_keys: None,
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
    /// Turns the progress manifest on or off.
    pub fn manifest(mut self, v: bool) -> Self {
        self.manifest = v;
        self
    }
    /// Sets the input id recorded in the manifest.
    pub fn input_id(mut self, v: impl Into<Vec<u8>>) -> Self {
        self.input_id = v.into();
        self
    }
    /// Sets the expected key counts.
    pub fn expected_keys(mut self, v: Option<ExpectedKeys>) -> Self {
        self.expected_keys = v;
        self
    }

    /// The path of file `id`.
    pub fn file_path(&self, id: u64) -> Path {
        let name = format!("{id:0width$}.sst", width = self.id_width);
        let base = self.prefix.clone();
        let level = self.level.to_string();
        base.parts().chain([level.as_str().into(), name.as_str().into()]).collect()
    }

    /// The path of the manifest.
    pub fn manifest_path(&self) -> Path {
        self.prefix.parts().chain([MANIFEST_NAME.into()]).collect()
    }

    /// What must match between a build and its resumption: everything that shapes the files (not the upload
    /// settings, nor a file creation time or context checksum drawn from the clock).
    fn fingerprint(&self) -> String {
        let mut t = self.writer.table.clone();
        t.file_creation_time = 0;
        t.base_context_checksum = 0;
        let text = format!(
            "level={} first_id={} id_width={} target_file_size={} table={t:?}",
            self.level, self.first_id, self.id_width, self.target_file_size
        );
        text.replace(['\n', '\r'], " ")
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
    /// The first key the current (or next) file owns; `None` for the first file (−∞).
    current_lo: Option<Vec<u8>>,
    next_id: u64,
    /// Key of the last point op accepted.
    last_point: Option<Vec<u8>>,
    /// Resumed: point ops below this key are in finished files.
    skip_below: Option<Vec<u8>>,
    /// Resumed after every point was written: every point op is skipped.
    points_done: bool,
    /// The union of the range deletions not yet given to a file: start → end, disjoint, not touching.
    ranges: BTreeMap<Vec<u8>, Vec<u8>>,
    /// Parts of range deletions that belong to finished files (added when the last file is written).
    late: BTreeMap<Vec<u8>, Vec<u8>>,
    /// The finished files.
    done: Vec<FileDescriptor>,
    /// For each finished file: what the writer needs to know about it besides its descriptor.
    bounds: Vec<Bounds>,
    failed: Option<String>,
    /// Point ops accepted (skipped ones too), and the point keys of the last file finished: for the key counts.
    points_seen: u64,
    last_file_points: u64,
}

/// What the writer keeps about a finished file.
#[derive(Debug, Clone)]
struct Bounds {
    /// The first key it owns (`None`: −∞).
    lo: Option<Vec<u8>>,
    /// Marked in the manifest: being rewritten with more range deletions.
    rewriting: bool,
    /// Resumed while marked: the object may be either version, so the metadata may not describe it; it is
    /// rewritten again (the same bytes if the earlier rewrite completed).
    stale: bool,
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
            current_lo: None,
            next_id,
            last_point: None,
            skip_below: None,
            points_done: false,
            ranges: BTreeMap::new(),
            late: BTreeMap::new(),
            done: Vec::new(),
            bounds: Vec::new(),
            failed: None,
            points_seen: 0,
            last_file_points: 0,
        })
    }

    /// Resumes a build that stopped (a crash, a kill) after writing some files with these options (the
    /// manifest must be on): reads the manifest, checks it matches `opts` (options and
    /// [`input_id`](RollingOptions::input_id)), checks every finished file is there as recorded, removes the
    /// objects of the output set the manifest does not list, and returns a writer to feed the **whole input**
    /// again (see the module docs). Without a manifest nothing was finished: the output set's objects are
    /// removed and the writer starts from scratch.
    ///
    /// Incomplete multipart uploads (S3) are invisible to listings; `sstkit clean` aborts them.
    pub async fn resume(store: Arc<dyn ObjectStore>, opts: RollingOptions) -> Result<Self> {
        if !opts.manifest {
            return Err(Error::Invalid("resume needs RollingOptions::manifest".into()));
        }
        let mut w = RollingWriter::new(store, opts)?;
        let mpath = w.opts.manifest_path();
        let manifest = match w.store.get(&mpath).await {
            Ok(r) => {
                let bytes = r.bytes().await.context(|| format!("{mpath}: reading"))?;
                Some(Manifest::decode(&bytes).map_err(|e| Error::Invalid(format!("{mpath}: {e}")))?)
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(e) => return Err(Error::Store { context: format!("{mpath}: reading"), source: e }),
        };
        if let Some(m) = &manifest {
            w.adopt(m).await?;
        }
        w.remove_unfinished().await?;
        Ok(w)
    }

    /// Takes over the finished files of a manifest after checking it matches.
    async fn adopt(&mut self, m: &Manifest) -> Result<()> {
        let mpath = self.opts.manifest_path();
        let want = self.opts.fingerprint();
        if m.options != want {
            return Err(Error::Invalid(format!(
                "{mpath}: the build was started with other options; resume with the same ones or start over with \
                 --force (manifest: {}; given: {want})",
                m.options
            )));
        }
        if m.input != self.opts.input_id {
            return Err(Error::Invalid(format!(
                "{mpath}: the build was started on another input ({}), not {}; resume with the same input or start \
                 over",
                String::from_utf8_lossy(&m.input),
                String::from_utf8_lossy(&self.opts.input_id)
            )));
        }
        let mut next_id = self.opts.first_id;
        for f in &m.files {
            let path = self.opts.file_path(f.id);
            if f.id != next_id || path.as_ref() != f.meta.location {
                return Err(Error::Invalid(format!(
                    "{mpath}: lists {} as file {} where file {next_id} ({path}) was expected",
                    f.meta.location, f.id
                )));
            }
            let head = match self.store.head(&path).await {
                Ok(h) => h,
                Err(object_store::Error::NotFound { .. }) => {
                    return Err(Error::Invalid(format!(
                        "{path}: listed as finished in {mpath} but missing; start over with --force"
                    )))
                }
                Err(e) => return Err(Error::Store { context: format!("{path}: HEAD"), source: e }),
            };
            let etag_differs = matches!((&head.e_tag, &f.meta.e_tag), (Some(a), Some(b)) if a != b);
            if !f.rewriting && (head.size != f.meta.stats.file_size || etag_differs) {
                return Err(Error::Invalid(format!(
                    "{path}: is not the file {mpath} lists ({} bytes, e-tag {:?}; the manifest says {} bytes, e-tag \
                     {:?}); start over with --force",
                    head.size, head.e_tag, f.meta.stats.file_size, f.meta.e_tag
                )));
            }
            let mut metadata = f.meta.clone();
            if !f.rewriting {
                // The manifest keeps the properties out (it is put once per file); the file has them.
                let ro = ReadOptions { file_size: Some(head.size), ..ReadOptions::default() };
                let reader = SstReader::open(self.store.clone(), path.clone(), ro).await?;
                metadata.properties = reader.properties_list()?.into_iter().map(|(k, v, _)| (k, v)).collect();
            }
            self.done.push(FileDescriptor { id: f.id, level: self.opts.level, path, metadata });
            self.bounds.push(Bounds { lo: f.lo.clone(), rewriting: f.rewriting, stale: f.rewriting });
            next_id += 1;
        }
        self.next_id = next_id;
        match &m.next {
            Next::Start if m.files.is_empty() => {}
            Next::From(k) if !m.files.is_empty() => {
                self.skip_below = Some(k.clone());
                self.current_lo = Some(k.clone());
            }
            Next::End => self.points_done = true,
            _ => return Err(Error::Invalid(format!("{mpath}: the next key does not fit the files listed"))),
        }
        Ok(())
    }

    /// Deletes the objects of the output set that are not finished files (unfinished uploads' staging objects,
    /// files finished after the last manifest put).
    async fn remove_unfinished(&self) -> Result<()> {
        let prefix = &self.opts.prefix;
        let listed: Vec<object_store::ObjectMeta> =
            self.store.list(Some(prefix)).try_collect().await.context(|| format!("{prefix}: listing"))?;
        for m in listed {
            let parts: Vec<String> = match m.location.prefix_match(prefix) {
                Some(p) => p.map(|p| p.as_ref().to_string()).collect(),
                None => continue,
            };
            let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
            let level = self.opts.level.to_string();
            let ours = in_output_set(&refs) && (refs.len() == 1 || refs[0] == level);
            let keep = m.location == self.opts.manifest_path() || self.done.iter().any(|d| d.path == m.location);
            if ours && !keep {
                tracing::info!(path = %m.location, "removing an unfinished object of the interrupted build");
                self.store.delete(&m.location).await.context(|| format!("{}: deleting", m.location))?;
            }
        }
        Ok(())
    }

    /// Sets [`RollingOptions::expected_keys`] for the files opened from now on (the counts may be known only
    /// after the writer was made: once an external sort has seen its input, say).
    pub fn expect_keys(&mut self, v: Option<ExpectedKeys>) {
        self.opts.expected_keys = v;
    }

    /// The files finished so far.
    pub fn files(&self) -> &[FileDescriptor] {
        &self.done
    }

    fn out_of_order(&self, op: &WriteOp<&[u8]>, previous: &[u8]) -> Error {
        Error::Codec {
            context: format!("{}: {}", self.opts.prefix, op.name()),
            source: sstkit_core::Error::OutOfOrder {
                previous: KeyExcerpt::new(previous),
                key: KeyExcerpt::new(op.key()),
            },
        }
    }

    /// Adds one op (see the module docs for the order).
    pub async fn write<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        if let Some(why) = &self.failed {
            return Err(Error::Invalid(format!("rolling writer failed earlier: {why}")));
        }
        let op = op.as_slices();
        if let WriteOp::DeleteRange(s, e) = op {
            if s >= e {
                return Err(Error::Invalid(format!("{}: delete_range needs start < end", self.opts.prefix)));
            }
            add_interval(&mut self.ranges, s, e);
            return Ok(());
        }
        let key = op.key();
        // Across files the builders cannot see the order: check it here for every point op.
        if let Some(last) = self.last_point.as_deref().filter(|last| key <= *last) {
            return Err(self.out_of_order(&op, last));
        }
        let skip = self.points_done || self.skip_below.as_deref().is_some_and(|b| key < b);
        if !skip {
            let r = self.write_point(op).await;
            if let Err(e) = &r {
                if !is_rejected_op(e) {
                    self.fail(e.to_string()).await;
                }
                return r;
            }
        }
        self.points_seen += 1;
        match &mut self.last_point {
            Some(k) => {
                k.clear();
                k.extend_from_slice(key);
            }
            None => self.last_point = Some(key.to_vec()),
        }
        Ok(())
    }

    async fn write_point(&mut self, op: WriteOp<&[u8]>) -> Result<()> {
        if self.current.as_ref().is_some_and(|cur| cur.estimated_size() >= self.opts.target_file_size) {
            self.cut(op.key()).await?;
        }
        self.open_current()?;
        let cur = self.current.as_mut().ok_or_else(|| Error::Invalid("no current file".into()))?;
        cur.write(op).await
    }

    fn open_current(&mut self) -> Result<()> {
        if self.current.is_none() {
            let path = self.opts.file_path(self.next_id);
            let mut opts = self.opts.writer.clone();
            if let Some(k) = self.opts.expected_keys {
                // The op being written is not counted yet: it is among those left.
                // After the first file, its successor's count: files of one target size hold alike.
                let last = self.last_file_points;
                let guess = if last > 0 { last.saturating_add(last / 8) } else { k.per_file };
                opts = opts.sized_for_keys(guess.min(k.total.saturating_sub(self.points_seen)).max(1));
            }
            self.current = Some(SstWriter::new(self.store.clone(), path, opts)?);
        }
        Ok(())
    }

    /// Gives the current file the range deletions below `hi` (all with `None`): the parts below its own start
    /// are set aside for the finished files.
    async fn give_ranges(&mut self, hi: Option<&[u8]>) -> Result<()> {
        let parts = take_below(&mut self.ranges, hi);
        let lo = self.current_lo.clone();
        let mut mine = Vec::new();
        for (s, e) in parts {
            match lo.as_deref() {
                Some(lo) if e.as_slice() <= lo => add_interval(&mut self.late, &s, &e),
                Some(lo) if s.as_slice() < lo => {
                    add_interval(&mut self.late, &s, lo);
                    mine.push((lo.to_vec(), e));
                }
                _ => mine.push((s, e)),
            }
        }
        if mine.is_empty() {
            return Ok(());
        }
        self.open_current()?;
        let cur = self.current.as_mut().ok_or_else(|| Error::Invalid("no current file".into()))?;
        for (s, e) in mine {
            cur.delete_range(&s, &e).await?;
        }
        Ok(())
    }

    /// Ends the current file before the op with key `c`.
    async fn cut(&mut self, c: &[u8]) -> Result<()> {
        self.give_ranges(Some(c)).await?;
        self.close_current(Next::From(c.to_vec())).await
    }

    async fn close_current(&mut self, next: Next) -> Result<()> {
        let Some(w) = self.current.take() else { return Ok(()) };
        let path = w.path().clone();
        let meta = w.close().await?;
        self.last_file_points = meta.stats.num_puts + meta.stats.num_deletions + meta.stats.num_merges;
        let lo = match &next {
            Next::From(c) => self.current_lo.replace(c.clone()),
            _ => self.current_lo.clone(),
        };
        self.done.push(FileDescriptor { id: self.next_id, level: self.opts.level, path, metadata: meta });
        self.bounds.push(Bounds { lo, rewriting: false, stale: false });
        self.next_id += 1;
        self.put_manifest(next, false).await
    }

    /// Puts the whole manifest (if on).
    async fn put_manifest(&self, next: Next, complete: bool) -> Result<()> {
        if !self.opts.manifest {
            return Ok(());
        }
        let m = Manifest {
            options: self.opts.fingerprint(),
            input: self.opts.input_id.clone(),
            next,
            complete,
            files: self
                .done
                .iter()
                .zip(&self.bounds)
                .map(|(d, b)| ManifestFile {
                    id: d.id,
                    lo: b.lo.clone(),
                    rewriting: b.rewriting,
                    meta: d.metadata.clone(),
                })
                .collect(),
        };
        let path = self.opts.manifest_path();
        self.store.put(&path, PutPayload::from(m.encode().into_bytes())).await.context(|| format!("{path}: put"))?;
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

    /// Finishes the last file, adds the range deletions that reached into finished files (rewriting those
    /// files) and returns every file, in key order.
    pub async fn finish(mut self) -> Result<Vec<FileDescriptor>> {
        if let Some(why) = &self.failed {
            return Err(Error::Invalid(format!("rolling writer failed earlier: {why}")));
        }
        match self.finish_inner().await {
            Ok(()) => Ok(std::mem::take(&mut self.done)),
            Err(e) => {
                self.fail(e.to_string()).await;
                Err(e)
            }
        }
    }

    async fn finish_inner(&mut self) -> Result<()> {
        if self.points_done {
            // Every point is in a finished file: every range deletion is for them.
            for (s, e) in std::mem::take(&mut self.ranges) {
                add_interval(&mut self.late, &s, &e);
            }
        } else {
            self.give_ranges(None).await?;
            self.close_current(Next::End).await?;
        }
        // The files the parts touch are marked in one manifest put; each is then checked (its range deletions
        // may cover the parts already, after a resume), rewritten if not, and unmarked.
        let mut touched = Vec::new();
        for i in 0..self.bounds.len() {
            let hi = self.bounds.get(i + 1).and_then(|b| b.lo.clone());
            let parts = clip(&self.late, self.bounds[i].lo.as_deref(), hi.as_deref());
            if !parts.is_empty() || self.bounds[i].rewriting {
                touched.push((i, parts));
            }
        }
        if touched.iter().any(|(i, _)| !self.bounds[*i].rewriting) {
            for (i, _) in &touched {
                self.bounds[*i].rewriting = true;
            }
            self.put_manifest(Next::End, false).await?;
        }
        for (i, parts) in touched {
            if self.add_to_finished(i, &parts).await? {
                self.put_manifest(Next::End, false).await?;
            }
        }
        self.put_manifest(Next::End, true).await
    }

    /// Rewrites finished file `i` (marked `rewriting`) with `parts` added to its range deletions, unless they
    /// are covered already; unmarks it. True if it was rewritten.
    async fn add_to_finished(&mut self, i: usize, parts: &[(Vec<u8>, Vec<u8>)]) -> Result<bool> {
        let path = self.done[i].path.clone();
        let reader = SstReader::open(self.store.clone(), path.clone(), ReadOptions::default()).await?;
        let mut all = BTreeMap::new();
        for (s, e, _) in reader.range_tombstones()? {
            add_interval(&mut all, &s, &e);
        }
        let before = all.clone();
        for (s, e) in parts {
            add_interval(&mut all, s, e);
        }
        if all == before && !self.bounds[i].stale {
            self.bounds[i].rewriting = false;
            return Ok(false);
        }
        let mut w = SstWriter::new(self.store.clone(), path.clone(), self.opts.writer.clone())?;
        let r = async {
            for (s, e) in &all {
                w.delete_range(s, e).await?;
            }
            let mut entries = std::pin::pin!(reader.scan((Bound::Unbounded, Bound::Unbounded)));
            while let Some(e) = entries.next().await {
                let e = e?;
                let op = match e.kind {
                    ValueType::Value => WriteOp::Put(&e.user_key[..], &e.value[..]),
                    ValueType::Deletion => WriteOp::Delete(&e.user_key[..]),
                    ValueType::Merge => WriteOp::Merge(&e.user_key[..], &e.value[..]),
                    other => {
                        return Err(Error::Invalid(format!(
                            "{path}: holds a {other:?} entry, which a rolling build does not write"
                        )))
                    }
                };
                w.write(op).await?;
            }
            Ok(())
        }
        .await;
        if let Err(e) = r {
            let _ = w.abort().await;
            return Err(e);
        }
        let meta = w.close().await?;
        self.done[i].metadata = meta;
        self.bounds[i] = Bounds { rewriting: false, stale: false, ..self.bounds[i].clone() };
        Ok(true)
    }

    /// Gives up: aborts the file being written and deletes the finished ones and the manifest.
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
        self.bounds.clear();
        let mut paths: Vec<Path> = std::mem::take(&mut self.done).into_iter().map(|d| d.path).collect();
        if self.opts.manifest {
            paths.push(self.opts.manifest_path());
        }
        for p in paths {
            match self.store.delete(&p).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => tracing::warn!(path = %p, error = %e, "deleting a finished file after a failure failed"),
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
