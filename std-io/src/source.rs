//! Where a reader's bytes come from: ranged GETs on an object store, or positioned reads on a local file that
//! stays open. [`SstReader`](crate::reader::SstReader) reads through this one type, so both behave alike.

use std::ops::Range;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use bytes::Bytes;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
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

    /// The size of the table: a HEAD request, or the open file's length (counted as one too).
    pub(crate) async fn size(&self, location: &str, counters: &ReadCounters) -> Result<u64> {
        counters.heads.fetch_add(1, Ordering::Relaxed);
        match self {
            ByteSource::Store { store, path } => {
                Ok(store.head(path).await.context(|| format!("{location}: HEAD"))?.size)
            }
            ByteSource::File { file, .. } => Ok(file.metadata().context(|| format!("{location}: stat"))?.len()),
        }
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
