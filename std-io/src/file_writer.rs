//! Synchronous writers: [`FileWriter`] to a local file and [`IoWriter`] over any [`std::io::Write`], for
//! servers without tokio and for the CLI. Both drive core's `TableWriter` over a [`StdIo`] sink, the same
//! driver as the async [`SstWriter`](crate::writer::SstWriter), and return the same [`SstMetadata`].
//!
//! [`FileWriter`] never leaves a partial file at its path: it writes a temporary file in the target
//! directory, fsyncs it, renames it into place on [`close`](FileWriter::close) and fsyncs the directory. On an
//! error, on [`abort`](FileWriter::abort) and when dropped unclosed it removes the temporary file. (A crash
//! can leave a `.<name>.*.tmp` file behind (`.sstkit-<hash>.*.tmp` for names near the 255-byte limit), never a
//! partial file at the path.)

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sstkit_core::StdIo;

use crate::error::{Context, Error, Result};
use crate::writer::{located, Driver, SstMetadata, WriteOp, WriterOptions};

/// Buffer between the builder's block-sized chunks and the file.
const FILE_BUFFER: usize = 256 * 1024;

/// Written bytes between two `fadvise(DONTNEED)` calls (RocksDB's SstFileWriter uses 1 MB).
const ADVISE_EVERY: u64 = 1 << 20;

/// The temporary file, telling the kernel after every [`ADVISE_EVERY`] bytes that the written range is not
/// needed in the page cache. On Linux that starts its writeback at once, so the fsync at close finds little
/// left to write (RocksDB's SstFileWriter does the same), and a table being written does not crowd out the
/// page cache. Elsewhere a plain file.
#[derive(Debug)]
struct AdvisedFile {
    file: File,
    written: u64,
    advised: u64,
}

impl AdvisedFile {
    fn new(file: File) -> Self {
        AdvisedFile { file, written: 0, advised: 0 }
    }

    #[cfg(any(target_os = "linux", target_os = "android"))]
    fn advise(&mut self) {
        use std::num::NonZeroU64;
        let len = NonZeroU64::new(self.written - self.advised);
        // Only advice: a failure changes nothing about the bytes written.
        let _ = rustix::fs::fadvise(&self.file, self.advised, len, rustix::fs::Advice::DontNeed);
        self.advised = self.written;
    }

    #[cfg(not(any(target_os = "linux", target_os = "android")))]
    fn advise(&mut self) {
        self.advised = self.written;
    }
}

impl Write for AdvisedFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.file.write(buf)?;
        self.written += n as u64;
        if self.written - self.advised >= ADVISE_EVERY {
            self.advise();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

/// Writes one SST file on a local disk, atomically.
///
/// ```
/// use sstkit::file_writer::FileWriter;
/// use sstkit::writer::WriterOptions;
/// let dir = tempfile::tempdir()?;
/// let path = dir.path().join("000001.sst");
/// let mut w = FileWriter::create(&path, WriterOptions::default())?;
/// w.put(b"apple", b"red")?;
/// w.delete_range(b"b", b"c")?;
/// let meta = w.close()?;
/// assert_eq!(meta.stats.file_size, std::fs::metadata(&path)?.len());
/// assert_eq!(meta.location, path.display().to_string());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileWriter {
    /// `None` once closed or given up (the file is closed before its removal).
    drv: Option<Driver<StdIo<BufWriter<AdvisedFile>>>>,
    tmp: PathBuf,
    path: PathBuf,
}

impl FileWriter {
    /// Starts writing the table that will appear at `path` (replacing any file there) on
    /// [`close`](Self::close). The directory must exist.
    pub fn create(path: impl AsRef<Path>, opts: WriterOptions) -> Result<FileWriter> {
        let path = path.as_ref().to_path_buf();
        let span = tracing::info_span!("file_writer.open", path = %path.display());
        let _e = span.enter();
        // Check the options before a temporary file exists.
        opts.core_options().map_err(|e| located(e, &path.display().to_string()))?;
        let tmp = temp_path(&path)?;
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .context(|| format!("{}: creating the temporary file", tmp.display()))?;
        let mut w = FileWriter { drv: None, tmp, path };
        let sink = StdIo(BufWriter::with_capacity(FILE_BUFFER, AdvisedFile::new(file)));
        w.drv = Some(Driver::new(&opts, sink, w.path.display().to_string())?);
        Ok(w)
    }

    /// Adds a value.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(WriteOp::Put(key, value))
    }

    /// Adds a point deletion.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.write(WriteOp::Delete(key))
    }

    /// Adds a merge operand.
    pub fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<()> {
        self.write(WriteOp::Merge(key, operand))
    }

    /// Deletes the user keys in `[start, end)`.
    pub fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.write(WriteOp::DeleteRange(start, end))
    }

    /// Adds one op. A rejected op (out of order, bad range) is an error and changes nothing; an I/O error
    /// makes every later call fail.
    pub fn write<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        self.drv_mut()?.write(op.as_slices())
    }

    /// Adds one op at its own `seqno`: several versions of a user key may follow each other, newest (largest
    /// seqno) first, and range deletions must come with strictly increasing starts. The table must not be an
    /// external file (`WriterOptions::external_file(false)`), whose entries all have seqno 0.
    pub fn write_at<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>, seqno: u64) -> Result<()> {
        self.drv_mut()?.write_at(op.as_slices(), seqno)
    }

    fn drv_mut(&mut self) -> Result<&mut Driver<StdIo<BufWriter<AdvisedFile>>>> {
        let path = &self.path;
        self.drv.as_mut().ok_or_else(|| Error::Invalid(format!("{}: the writer is closed", path.display())))
    }

    /// Finishes the table, fsyncs it and renames it into place. On error nothing is left at the path (and
    /// the temporary file is removed). An empty table is an error, as in RocksDB.
    pub fn close(mut self) -> Result<SstMetadata> {
        let span = tracing::info_span!("file_writer.close", path = %self.path.display());
        let _e = span.enter();
        let r = self.close_inner();
        if r.is_err() {
            self.remove_temp();
        }
        r
    }

    fn close_inner(&mut self) -> Result<SstMetadata> {
        let drv = self.drv.take().ok_or_else(|| Error::Invalid("file already closed".into()))?;
        drv.check_open()?;
        let (meta, StdIo(file)) = drv.finish()?;
        let file =
            file.into_inner().map_err(|e| e.into_error()).context(|| format!("{}: flush", self.tmp.display()))?.file;
        file.sync_all().context(|| format!("{}: fsync", self.tmp.display()))?;
        drop(file);
        std::fs::rename(&self.tmp, &self.path)
            .context(|| format!("renaming {} to {}", self.tmp.display(), self.path.display()))?;
        // The rename is durable once the directory is.
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            if let Ok(d) = File::open(dir) {
                let _ = d.sync_all();
            }
        }
        self.tmp = PathBuf::new();
        tracing::info!(path = %self.path.display(), bytes = meta.stats.file_size, "sst written");
        Ok(meta)
    }

    /// Gives up: removes the temporary file.
    pub fn abort(mut self) {
        self.remove_temp();
    }

    fn remove_temp(&mut self) {
        self.drv = None;
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
            self.tmp = PathBuf::new();
        }
    }

    /// The path the table will appear at.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The file size if the table were finished now (roughly).
    pub fn estimated_size(&self) -> u64 {
        self.drv.as_ref().map_or(0, Driver::estimated_size)
    }

    /// Ops accepted so far.
    pub fn entries(&self) -> u64 {
        self.drv.as_ref().map_or(0, Driver::entries)
    }

    /// Table bytes produced so far.
    pub fn bytes_written(&self) -> u64 {
        self.drv.as_ref().map_or(0, Driver::bytes_written)
    }
}

impl Drop for FileWriter {
    fn drop(&mut self) {
        self.remove_temp();
    }
}

/// `.<name>.<pid>.<n>.tmp` next to `path`; when that would exceed the usual 255-byte limit of a file name,
/// `.sstkit-<hash of name>.<pid>.<n>.tmp` instead.
fn temp_path(path: &Path) -> Result<PathBuf> {
    use std::hash::{Hash, Hasher};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    const NAME_MAX: usize = 255;
    let name = path.file_name().ok_or_else(|| Error::Invalid(format!("{}: not a file path", path.display())))?;
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let suffix = format!(".{}.{n}.tmp", std::process::id());
    let long = format!(".{}{suffix}", name.to_string_lossy());
    if long.len() <= NAME_MAX {
        return Ok(path.with_file_name(long));
    }
    let mut h = std::collections::hash_map::DefaultHasher::new();
    name.hash(&mut h);
    Ok(path.with_file_name(format!(".sstkit-{:016x}{suffix}", h.finish())))
}

/// What a killed local build may leave in a directory, by file name: a [`FileWriter`] temporary file
/// (`.<name>.<pid>.<n>.tmp`, `.sstkit-<hash>.<pid>.<n>.tmp`), with the process id that made it, or the staging
/// file `<name>#<n>` of an `object_store` local-file upload (no process id).
pub fn leftover_name(name: &str) -> Option<Option<u32>> {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if let Some(body) = name.strip_prefix('.').and_then(|n| n.strip_suffix(".tmp")) {
        let mut parts = body.rsplitn(3, '.');
        let (n, pid, base) = (parts.next()?, parts.next()?, parts.next()?);
        if digits(n) && digits(pid) && !base.is_empty() {
            return pid.parse().ok().map(Some);
        }
        return None;
    }
    let (base, n) = name.rsplit_once('#')?;
    (digits(n) && !base.is_empty()).then_some(None)
}

/// Writes one SST file into any [`std::io::Write`] (wrap unbuffered sinks in a `BufWriter`: the table comes
/// out in block-sized chunks).
///
/// ```
/// use sstkit::file_writer::IoWriter;
/// use sstkit::writer::WriterOptions;
/// let mut w = IoWriter::new(Vec::new(), WriterOptions::default())?;
/// w.put(b"k", b"v")?;
/// let (bytes, meta) = w.finish()?;
/// assert_eq!(bytes.len() as u64, meta.stats.file_size);
/// let table = sstkit::core::table::Table::open(&bytes)?;
/// assert_eq!(table.properties().num_entries, Some(1));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct IoWriter<W: Write> {
    drv: Driver<StdIo<W>>,
}

impl<W: Write> IoWriter<W> {
    /// A writer into `out`.
    pub fn new(out: W, opts: WriterOptions) -> Result<Self> {
        Ok(IoWriter { drv: Driver::new(&opts, StdIo(out), String::new())? })
    }

    /// Names the output (for error messages and [`SstMetadata::location`]).
    pub fn with_location(mut self, location: impl Into<String>) -> Self {
        self.drv.set_location(location.into());
        self
    }

    /// Adds a value.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.write(WriteOp::Put(key, value))
    }

    /// Adds a point deletion.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.write(WriteOp::Delete(key))
    }

    /// Adds a merge operand.
    pub fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<()> {
        self.write(WriteOp::Merge(key, operand))
    }

    /// Deletes the user keys in `[start, end)`.
    pub fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.write(WriteOp::DeleteRange(start, end))
    }

    /// Adds one op; see [`FileWriter::write`].
    pub fn write<B: AsRef<[u8]>>(&mut self, op: WriteOp<B>) -> Result<()> {
        self.drv.write(op.as_slices())
    }

    /// Finishes the table and flushes the output; returns the output and the metadata.
    pub fn finish(self) -> Result<(W, SstMetadata)> {
        let (meta, StdIo(out)) = self.drv.finish()?;
        Ok((out, meta))
    }

    /// [`finish`](Self::finish), dropping the output.
    pub fn close(self) -> Result<SstMetadata> {
        self.finish().map(|(_, m)| m)
    }

    /// The file size if the table were finished now (roughly).
    pub fn estimated_size(&self) -> u64 {
        self.drv.estimated_size()
    }

    /// Table bytes produced so far.
    pub fn bytes_written(&self) -> u64 {
        self.drv.bytes_written()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn leftover_names() {
        let tmp = super::temp_path(std::path::Path::new("/d/000001.sst")).unwrap();
        let name = tmp.file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(super::leftover_name(&name), Some(Some(std::process::id())));
        assert_eq!(super::leftover_name(".sstkit-00ff.12.3.tmp"), Some(Some(12)));
        assert_eq!(super::leftover_name("000001.sst#7"), Some(None));
        for other in ["000001.sst", ".hidden", ".x.tmp", ".x.1.tmp", "a#", "#1", "a#b", ".a.b.1.tmp"] {
            assert_eq!(super::leftover_name(other), None, "{other}");
        }
    }

    #[test]
    fn temp_names_fit_the_file_name_limit() {
        let dir = std::path::Path::new("/some/dir");
        let short = super::temp_path(&dir.join("t.sst")).unwrap();
        assert!(short.file_name().unwrap().to_string_lossy().starts_with(".t.sst."));
        let name = format!("{}.sst", "x".repeat(250));
        let long = super::temp_path(&dir.join(&name)).unwrap();
        let n = long.file_name().unwrap().to_string_lossy().into_owned();
        assert!(n.len() <= 255 && n.starts_with(".sstkit-"), "{n}");
        assert_eq!(long.parent(), Some(dir));
    }
}
