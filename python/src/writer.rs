//! `sstkit.SstWriter`: one table, to a local file (atomically: a temporary file renamed on close) or to an
//! object store (a multipart upload completed on close). Closing makes it exist; an error or `abort()` leaves
//! nothing at the path.

use std::sync::{Mutex, MutexGuard, TryLockError};

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyType};
use sstkit::file_writer::FileWriter;
use sstkit::writer::{SstMetadata, SstWriter, WriteOp};

use crate::batch::{pipelined, Batch};
use crate::buf::{extract, Buf};
use crate::error::{IntoPy, InvalidArgumentError};
use crate::options::{writer_settings, WriteSettings};
use crate::runtime::runtime;
use crate::target::{location, Location};

/// Where the table is being written.
pub(crate) enum Target {
    File(Box<FileWriter>),
    Object(Box<SstWriter>),
}

impl Target {
    /// A writer for `loc`: a local file (its directory is created if missing) or an object.
    pub(crate) fn open(loc: &Location, s: &WriteSettings) -> sstkit::Result<Target> {
        match loc {
            Location::Local(p) => {
                if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|e| sstkit::Error::Io {
                        context: format!("{}: creating the directory", dir.display()),
                        source: e,
                    })?;
                }
                Ok(Target::File(Box::new(FileWriter::create(p, s.opts.clone())?)))
            }
            Location::Url(u) => {
                let (store, path) = sstkit::location::resolve(u)?;
                Ok(Target::Object(Box::new(SstWriter::new(store, path, s.opts.clone())?)))
            }
        }
    }

    fn write(&mut self, op: WriteOp<&[u8]>) -> sstkit::Result<()> {
        match self {
            Target::File(w) => w.write(op),
            Target::Object(w) => rt()?.block_on(w.write(op)),
        }
    }

    /// Writes a batch of puts; stops at the first error.
    fn write_batch(&mut self, b: &Batch) -> sstkit::Result<()> {
        match self {
            Target::File(w) => b.puts().try_for_each(|(k, v)| w.put(k, v)),
            Target::Object(w) => rt()?.block_on(async {
                for (k, v) in b.puts() {
                    w.put(k, v).await?;
                }
                Ok(())
            }),
        }
    }

    fn close(self) -> sstkit::Result<SstMetadata> {
        match self {
            Target::File(w) => w.close(),
            Target::Object(w) => rt()?.block_on(w.close()),
        }
    }

    fn abort(self) -> sstkit::Result<()> {
        match self {
            Target::File(w) => {
                w.abort();
                Ok(())
            }
            Target::Object(w) => rt()?.block_on(w.abort()),
        }
    }

    fn entries(&self) -> u64 {
        match self {
            Target::File(w) => w.entries(),
            Target::Object(w) => w.stats().num_entries(),
        }
    }

    fn estimated_size(&self) -> u64 {
        match self {
            Target::File(w) => w.estimated_size(),
            Target::Object(w) => w.estimated_size(),
        }
    }
}

/// The runtime as a std-io error (for use where the GIL is released).
fn rt() -> sstkit::Result<&'static tokio::runtime::Runtime> {
    runtime().map_err(|e| sstkit::Error::Invalid(e.to_string()))
}

struct State {
    target: Option<Target>,
    metadata: Option<Py<PyDict>>,
}

/// Writes one SST file. Keys must be added in strictly increasing bytewise order (range deletions by their
/// start); a key out of order raises `OutOfOrderError` naming both keys and the writer stays usable.
///
/// Use it as a context manager: leaving the block normally closes the table (it then exists at the path);
/// leaving it by an exception aborts it, leaving nothing at the path.
#[pyclass(module = "sstkit", name = "SstWriter")]
pub struct PyWriter {
    state: Mutex<State>,
    location: String,
    encoding: Option<String>,
}

impl PyWriter {
    fn lock(&self) -> PyResult<MutexGuard<'_, State>> {
        match self.state.try_lock() {
            Ok(g) => Ok(g),
            Err(TryLockError::Poisoned(p)) => Ok(p.into_inner()),
            Err(TryLockError::WouldBlock) => Err(InvalidArgumentError::new_err(format!(
                "{}: the writer is in use (by another thread, or by the iterable given to write_all)",
                self.location
            ))),
        }
    }

    fn closed_error(&self) -> PyErr {
        InvalidArgumentError::new_err(format!("{}: the writer is closed", self.location))
    }

    fn bytes<'py>(&self, obj: &Bound<'py, PyAny>, what: &str) -> PyResult<Buf<'py>> {
        extract(obj, self.encoding.as_deref(), what)
    }

    fn op(&self, py: Python<'_>, op: WriteOp<&[u8]>) -> PyResult<()> {
        let mut st = self.lock()?;
        let t = st.target.as_mut().ok_or_else(|| self.closed_error())?;
        match t {
            // A local write is a memcpy into the block: not worth releasing the GIL for.
            Target::File(_) => t.write(op).py_err(),
            Target::Object(_) => py.allow_threads(|| t.write(op)).py_err(),
        }
    }
}

#[pymethods]
impl PyWriter {
    /// Starts writing a table at `path_or_url` (a path, `file://`, `s3://`, `gs://`, `az://`, ... URL). Options:
    /// block_size, compression ('none', 'lz4'), bloom_bits, checksum, format_version, expected_keys,
    /// restart_interval, index_restart_interval, seqno, part_size, parts_in_flight, file_creation_time and
    /// encoding (to accept `str` keys and values).
    #[new]
    #[pyo3(signature = (path_or_url, **options))]
    fn new(py: Python<'_>, path_or_url: &Bound<'_, PyAny>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let loc = location(path_or_url)?;
        let s = writer_settings(options)?;
        let target = py.allow_threads(|| Target::open(&loc, &s)).py_err()?;
        Ok(PyWriter {
            state: Mutex::new(State { target: Some(target), metadata: None }),
            location: loc.display(),
            encoding: s.encoding,
        })
    }

    /// Adds a value for `key`.
    fn put(&self, py: Python<'_>, key: &Bound<'_, PyAny>, value: &Bound<'_, PyAny>) -> PyResult<()> {
        let (k, v) = (self.bytes(key, "key")?, self.bytes(value, "value")?);
        self.op(py, WriteOp::Put(k.as_slice(), v.as_slice()))
    }

    /// Adds a point deletion of `key`.
    fn delete(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<()> {
        let k = self.bytes(key, "key")?;
        self.op(py, WriteOp::Delete(k.as_slice()))
    }

    /// Adds a merge operand for `key`.
    fn merge(&self, py: Python<'_>, key: &Bound<'_, PyAny>, operand: &Bound<'_, PyAny>) -> PyResult<()> {
        let (k, v) = (self.bytes(key, "key")?, self.bytes(operand, "operand")?);
        self.op(py, WriteOp::Merge(k.as_slice(), v.as_slice()))
    }

    /// Deletes the keys in `[start, end)`.
    fn delete_range(&self, py: Python<'_>, start: &Bound<'_, PyAny>, end: &Bound<'_, PyAny>) -> PyResult<()> {
        let (s, e) = (self.bytes(start, "start")?, self.bytes(end, "end")?);
        self.op(py, WriteOp::DeleteRange(s.as_slice(), e.as_slice()))
    }

    /// Puts every `(key, value)` pair of `items` (sorted by key): batches of pairs are copied out with the GIL
    /// held and written by a second thread without it, while the next batch is gathered. Returns how many were
    /// written. Stops at the first error (the pairs before it stay written; the writer stays usable after a key
    /// out of order).
    fn write_all(&self, py: Python<'_>, items: &Bound<'_, PyAny>) -> PyResult<u64> {
        let mut st = self.lock()?;
        let t = st.target.as_mut().ok_or_else(|| self.closed_error())?;
        pipelined(py, items, self.encoding.as_deref(), |batch| t.write_batch(batch))
    }

    /// Finishes the table and makes it exist at the path; returns its metadata (a dict: location, size,
    /// entries, num_puts, ..., first_key, last_key, smallest_key, largest_key, data_blocks, properties, ...).
    /// On an error nothing is left at the path. An empty table is an error, as in RocksDB.
    fn close(&self, py: Python<'_>) -> PyResult<Py<PyDict>> {
        let mut st = self.lock()?;
        if let Some(m) = &st.metadata {
            return Ok(m.clone_ref(py));
        }
        let t = st.target.take().ok_or_else(|| self.closed_error())?;
        let meta = py.allow_threads(|| t.close()).py_err()?;
        let d: Py<PyDict> = crate::meta::to_dict(py, &meta)?.unbind();
        st.metadata = Some(d.clone_ref(py));
        Ok(d)
    }

    /// Gives up on the table: nothing is left at the path. Does nothing once closed or aborted.
    fn abort(&self, py: Python<'_>) -> PyResult<()> {
        let mut st = self.lock()?;
        match st.target.take() {
            Some(t) => py.allow_threads(|| t.abort()).py_err(),
            None => Ok(()),
        }
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    /// Closes the table, or aborts it if the block raised.
    #[pyo3(signature = (exc_type, _exc=None, _tb=None))]
    fn __exit__(
        &self,
        py: Python<'_>,
        exc_type: Option<&Bound<'_, PyType>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<bool> {
        if exc_type.is_some() {
            // The block's exception is the one to see; an abort that fails too is left out.
            let _ = self.abort(py);
        } else if self.lock()?.target.is_some() {
            self.close(py)?;
        }
        Ok(false)
    }

    /// The metadata once closed, else None.
    #[getter]
    fn metadata(&self, py: Python<'_>) -> PyResult<Option<Py<PyDict>>> {
        Ok(self.lock()?.metadata.as_ref().map(|m| m.clone_ref(py)))
    }

    /// Where the table goes.
    #[getter]
    fn location(&self) -> String {
        self.location.clone()
    }

    /// True once closed or aborted.
    #[getter]
    fn closed(&self) -> PyResult<bool> {
        Ok(self.lock()?.target.is_none())
    }

    /// Entries added so far.
    #[getter]
    fn entries(&self) -> PyResult<u64> {
        Ok(self.lock()?.target.as_ref().map_or(0, Target::entries))
    }

    /// The file size if the table were finished now (roughly).
    #[getter]
    fn estimated_size(&self) -> PyResult<u64> {
        Ok(self.lock()?.target.as_ref().map_or(0, Target::estimated_size))
    }

    fn __repr__(&self) -> String {
        format!("<sstkit.SstWriter {:?}>", self.location)
    }
}

impl Drop for PyWriter {
    fn drop(&mut self) {
        // Never closed: leave nothing behind.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = st.target.take() {
            let _ = t.abort();
        }
    }
}
