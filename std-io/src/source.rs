//! Where a reader's bytes come from: ranged GETs on an object store, or positioned reads on a local file that
//! stays open. [`SstReader`](crate::reader::SstReader) reads through this one type, so both behave alike.

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use sstkit_core::{Error as CoreError, Part};
use tracing::Instrument;

use crate::error::{Context, Error, Result};
use crate::reader::ReadCounters;

/// A table's bytes.
pub(crate) enum ByteSource {
    /// An object in a store: one ranged GET per read.
    Store {
        /// The store.
        store: Arc<dyn ObjectStore>,
        /// The object.
        path: Path,
    },
    /// A local file opened once: one positioned read per read (no seek, so tasks share it without a lock).
    File {
        /// The open file.
        file: Arc<std::fs::File>,
        /// Reads up to this many bytes run on the calling task; larger ones on tokio's blocking pool.
        inline_max: u64,
    },
}

impl ByteSource {
    /// Opens the local file at `path` for positioned reads: an error if it is missing or a directory.
    pub(crate) fn open_file(path: &std::path::Path, location: &str, inline_max: u64) -> Result<ByteSource> {
        let file = std::fs::File::open(path).context(|| format!("{location}: open"))?;
        if file.metadata().context(|| format!("{location}: stat"))?.is_dir() {
            return Err(Error::Invalid(format!("{location}: is a directory, not an SST file")));
        }
        Ok(ByteSource::File { file: Arc::new(file), inline_max })
    }

    /// The table's size and its last `len` bytes (all of it when it is shorter). With the size unknown, an
    /// object in a store is read with one suffix GET (`Range: bytes=-len`), whose answer carries the size; a
    /// store that refuses it (Azure does, so may an HTTP server) gets a HEAD, then a ranged GET. With the size
    /// known, one ranged GET. A local file's size is its length (the open handle's metadata, not counted: it
    /// stands for the size a suffix GET's answer carries), then one positioned read.
    pub(crate) async fn read_tail(
        &self,
        location: &str,
        len: u64,
        size: Option<u64>,
        counters: &ReadCounters,
    ) -> Result<(u64, Bytes)> {
        let size = match (self, size) {
            (_, Some(size)) => size,
            (ByteSource::Store { store, path }, None) => {
                match self.read_suffix(store, path, location, len, counters).await {
                    Ok(r) => return r,
                    Err(e) => {
                        tracing::debug!(error = %e, "{location}: suffix GET refused; HEAD, then a ranged GET");
                        counters.heads.fetch_add(1, Ordering::Relaxed);
                        store.head(path).await.context(|| format!("{location}: HEAD"))?.size
                    }
                }
            }
            (ByteSource::File { file, .. }, None) => file.metadata().context(|| format!("{location}: stat"))?.len(),
        };
        let start = size.saturating_sub(len);
        if start == size {
            // An empty file: nothing to fetch (the footer check reports it).
            return Ok((size, Bytes::new()));
        }
        Ok((size, self.read(location, start..size, counters).await?))
    }

    /// One suffix GET of the last `len` bytes: `Ok(Ok(..))` the size and the bytes, `Ok(Err(..))` an error to
    /// report as is (a missing object, a body cut short or an answer for other bytes), `Err(..)` the store
    /// refused the request (then the caller falls back to a HEAD).
    async fn read_suffix(
        &self,
        store: &Arc<dyn ObjectStore>,
        path: &Path,
        location: &str,
        len: u64,
        counters: &ReadCounters,
    ) -> std::result::Result<Result<(u64, Bytes)>, object_store::Error> {
        let span = tracing::trace_span!("read_suffix", len);
        counters.gets.fetch_add(1, Ordering::Relaxed);
        let what = || format!("{location}: read the last {len} bytes");
        let opts = GetOptions { range: Some(GetRange::Suffix(len)), ..GetOptions::default() };
        let got = match store.get_opts(path, opts).instrument(span).await {
            Ok(got) => got,
            Err(e @ object_store::Error::NotFound { .. }) => return Ok(Err(e).context(what)),
            Err(e) => return Err(e),
        };
        let (size, range) = (got.meta.size, got.range.clone());
        if range.end != size || range.start != size.saturating_sub(len) {
            return Ok(Err(Error::Invalid(format!(
                "{}: the store answered with bytes {}..{} of a {size}-byte object",
                what(),
                range.start,
                range.end
            ))));
        }
        let bytes = match got.bytes().await {
            Ok(b) => b,
            Err(e) => return Ok(Err(e).context(what)),
        };
        counters.bytes_fetched.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if bytes.len() as u64 != range.end - range.start {
            return Ok(Err(short(what(), &range)));
        }
        Ok(Ok((size, bytes)))
    }

    /// The bytes in `range`, in one counted GET or positioned read; fewer bytes than asked (a file that shrank,
    /// a store that cut the answer short) is an error.
    pub(crate) async fn read(&self, location: &str, range: Range<u64>, counters: &ReadCounters) -> Result<Bytes> {
        let span = tracing::trace_span!("read_range", start = range.start, end = range.end);
        counters.gets.fetch_add(1, Ordering::Relaxed);
        let what = || format!("{location}: read bytes {}..{}", range.start, range.end);
        let want =
            range.end.checked_sub(range.start).ok_or_else(|| Error::Invalid(format!("{}: empty range", what())))?;
        let bytes = match self {
            ByteSource::Store { store, path } => {
                store.get_range(path, range.clone()).instrument(span).await.context(what)?
            }
            ByteSource::File { file, inline_max } => {
                let read = async {
                    if want <= *inline_max {
                        return read_at(file, range.clone());
                    }
                    match tokio::runtime::Handle::try_current() {
                        Ok(rt) => {
                            let (file, r) = (file.clone(), range.clone());
                            rt.spawn_blocking(move || read_at(&file, r))
                                .await
                                .unwrap_or_else(|e| Err(std::io::Error::other(format!("the read task failed: {e}"))))
                        }
                        // No tokio runtime to hand it to (another executor): read here.
                        Err(_) => read_at(file, range.clone()),
                    }
                };
                match read.instrument(span).await {
                    Ok(b) => b,
                    Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Err(short(what(), &range)),
                    Err(e) => return Err(Error::Io { context: what(), source: e }),
                }
            }
        };
        counters.bytes_fetched.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if bytes.len() as u64 != want {
            return Err(short(what(), &range));
        }
        Ok(bytes)
    }
}

/// The error for a read that got fewer bytes than it asked for.
fn short(context: String, range: &Range<u64>) -> Error {
    Error::Codec {
        context,
        source: CoreError::corrupt(
            Part::Table,
            range.start,
            "the file ends before the bytes asked for (it is shorter than its size when opened)",
        ),
    }
}

/// Reads `range` of `file` at its offset (no seek: the file is shared).
fn read_at(file: &std::fs::File, range: Range<u64>) -> std::io::Result<Bytes> {
    let len = usize::try_from(range.end - range.start)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidInput, "range larger than memory"))?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| std::io::Error::new(std::io::ErrorKind::OutOfMemory, "read buffer"))?;
    buf.resize(len, 0);
    read_exact_at(file, &mut buf, range.start)?;
    Ok(Bytes::from(buf))
}

#[cfg(unix)]
fn read_exact_at(file: &std::fs::File, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::read_exact_at(file, buf, offset)
}

#[cfg(windows)]
fn read_exact_at(file: &std::fs::File, mut buf: &mut [u8], mut offset: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt;
    while !buf.is_empty() {
        match file.seek_read(buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => {
                buf = &mut buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
