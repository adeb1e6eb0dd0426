//! `sstkit.SstReader`: a table on a local disk or an object store, read lazily (metadata at open, data blocks
//! on demand) by the std-io crate's reader; iterators that hand out entries in batches.

use std::collections::VecDeque;
use std::ops::Bound as Edge;
use std::pin::Pin;
use std::sync::mpsc::{sync_channel, Receiver};
use std::sync::Mutex;

use futures::{Stream, StreamExt};
use object_store::ObjectStoreExt;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString, PyTuple};
use sstkit::core::handle::BlockHandle;
use sstkit::core::key::{split_internal_key, split_timestamp, ValueType};
use sstkit::core::table::BlockExtent;
use sstkit::core::value::Payload;
use sstkit::core::Part;
use sstkit::reader::{DataBlock, OwnedEntry, ReadOptions, SstReader};
use sstkit::verified::Verify;
use sstkit::Error;

use crate::buf::{check_encoding, extract};
use crate::error::IntoPy;
use crate::runtime::runtime;
use crate::target::{location, Location};

/// The name of an entry kind, as the iterators with `kinds=True` and `get_entry` give it.
pub(crate) fn kind_name(k: ValueType) -> &'static str {
    match k {
        ValueType::Value => "put",
        ValueType::Deletion => "delete",
        ValueType::SingleDeletion => "single_delete",
        ValueType::Merge => "merge",
        ValueType::RangeDeletion => "delete_range",
        ValueType::BlobIndex => "blob_index",
        ValueType::DeletionWithTimestamp => "delete_with_timestamp",
        ValueType::WideColumnEntity => "entity",
        ValueType::ValuePreferredSeqno => "value_preferred_seqno",
    }
}

/// Opens the table at `loc`, with errors that say what is wrong: no such file, an empty file.
/// A local file is kept open and read with positioned reads (`SstReader::open_file`); a URL is read with ranged
/// GETs.
fn open(loc: &Location, opts: ReadOptions) -> sstkit::Result<SstReader> {
    let empty = || Error::Codec {
        context: loc.display(),
        source: sstkit::core::Error::corrupt(Part::Footer, 0, "the file is empty (0 bytes)"),
    };
    let rt = runtime().map_err(|e| Error::Invalid(e.to_string()))?;
    match loc {
        Location::Local(p) => {
            if std::fs::metadata(p).is_ok_and(|m| m.len() == 0) {
                return Err(empty());
            }
            rt.block_on(SstReader::open_file(p, opts))
        }
        Location::Url(u) => {
            let (store, path) = sstkit::location::resolve(u)?;
            rt.block_on(async {
                // No HEAD on the way in (the open's suffix GET learns the size); only a failed open asks whether
                // the object is empty, to say so.
                match SstReader::open(store.clone(), path.clone(), opts).await {
                    Err(e) if e.codec().is_some() && store.head(&path).await.is_ok_and(|m| m.size == 0) => Err(empty()),
                    r => r,
                }
            })
        }
    }
}

/// `verify_checksums`: 'once' (each block the first time it is read; the default), 'always' or 'never'; True
/// means 'once' and False 'never'.
fn verify_mode(v: &Bound<'_, PyAny>) -> PyResult<Verify> {
    if let Ok(b) = v.downcast::<pyo3::types::PyBool>() {
        return Ok(if b.is_true() { Verify::Once } else { Verify::Never });
    }
    let bad =
        || pyo3::exceptions::PyValueError::new_err("verify_checksums must be 'once', 'always', 'never' or a bool");
    let s: String = v.extract().map_err(|_| bad())?;
    match s.to_ascii_lowercase().as_str() {
        "once" => Ok(Verify::Once),
        "always" => Ok(Verify::Always),
        "never" => Ok(Verify::Never),
        _ => Err(bad()),
    }
}

/// Reads one SST file. Iterating gives `(key, value)` pairs of the table's values in key order (point
/// deletions and merge operands are left out; `items(kinds=True)` gives every entry with its kind).
#[pyclass(module = "sstkit", name = "SstReader", frozen)]
pub struct PyReader {
    r: SstReader,
    location: String,
    encoding: Option<String>,
}

type Range = (Edge<Vec<u8>>, Edge<Vec<u8>>);

impl PyReader {
    fn key(&self, obj: &Bound<'_, PyAny>, what: &str) -> PyResult<Vec<u8>> {
        Ok(extract(obj, self.encoding.as_deref(), what)?.as_slice().to_vec())
    }

    fn bound(&self, obj: Option<&Bound<'_, PyAny>>, what: &str, inclusive: bool) -> PyResult<Edge<Vec<u8>>> {
        Ok(match obj {
            Some(o) if !o.is_none() => {
                let k = self.key(o, what)?;
                if inclusive {
                    Edge::Included(k)
                } else {
                    Edge::Excluded(k)
                }
            }
            _ => Edge::Unbounded,
        })
    }

    fn iter(&self, py: Python<'_>, range: Range, reverse: bool, kinds: bool) -> PyResult<EntryIter> {
        let src = if reverse {
            let r = self.r.clone();
            let blocks = py.allow_threads(|| -> sstkit::Result<Vec<(BlockHandle, Vec<u8>)>> {
                let user_keys = r.layout().index_info.user_keys;
                let timestamps = r.layout().comparator.keys_have_timestamps();
                let idx = runtime().map_err(|e| Error::Invalid(e.to_string()))?.block_on(r.index_entries())?;
                idx.into_iter()
                    .map(|e| {
                        // The separator's user key, as the entries' keys are: without the internal-key trailer and,
                        // in a table with user-defined timestamps, without the timestamp (core splits both).
                        let k = if user_keys {
                            &e.key[..]
                        } else {
                            split_internal_key(&e.key)
                                .map_err(|source| Error::Codec { context: r.location().to_string(), source })?
                                .0
                        };
                        let k = if timestamps { split_timestamp(k).map_or(k, |(u, _)| u) } else { k };
                        Ok((e.handle, k.to_vec()))
                    })
                    .collect()
            });
            Source::Rev { r: self.r.clone(), blocks: blocks.py_err()?, range }
        } else if matches!(range, (Edge::Unbounded, Edge::Unbounded)) {
            Source::Whole { r: self.r.clone(), rx: whole_table(&self.r)? }
        } else {
            Source::Fwd(Box::pin(self.r.scan(range)))
        };
        let state = IterState { src, buf: VecDeque::new(), ready: VecDeque::new(), done: false };
        Ok(EntryIter { state: Mutex::new(state), kinds })
    }
}

#[pymethods]
impl PyReader {
    /// Opens the table at `path_or_url` (a path, `file://`, `s3://`, `gs://`, `az://`, ... URL): its footer,
    /// index, filter and properties are read now, data blocks when needed. `encoding` lets keys given as `str`
    /// be encoded; `verify_checksums` is 'once' (each block's checksum the first time it is read, the default),
    /// 'always' (every read) or 'never' (False).
    #[new]
    #[pyo3(signature = (path_or_url, *, encoding=None, verify_checksums=None))]
    fn new(
        py: Python<'_>,
        path_or_url: &Bound<'_, PyAny>,
        encoding: Option<String>,
        verify_checksums: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Self> {
        let loc = location(path_or_url)?;
        check_encoding(py, encoding.as_deref())?;
        if let Location::Local(p) = &loc {
            if p.is_dir() {
                return Err(crate::error::InvalidArgumentError::new_err(format!(
                    "{}: is a directory, not an SST file",
                    p.display()
                )));
            }
        }
        let mut opts = ReadOptions::default();
        opts.verify_checksums = verify_checksums.map_or(Ok(Verify::Once), verify_mode)?;
        let r = py.allow_threads(|| open(&loc, opts)).py_err()?;
        Ok(PyReader { r, location: loc.display(), encoding })
    }

    /// The value of `key`, or `default` when the table has no entry for it or deletes it (a point or range
    /// deletion). A merge operand or another kind of entry gives its stored bytes (see `get_entry`).
    #[pyo3(signature = (key, default=None))]
    fn get(&self, py: Python<'_>, key: &Bound<'_, PyAny>, default: Option<PyObject>) -> PyResult<PyObject> {
        let k = self.key(key, "key")?;
        let r = &self.r;
        let e = py.allow_threads(|| runtime_block_on(r.get(&k))).py_err()?;
        Ok(match e {
            Some(e) if !e.is_deleted() => PyBytes::new(py, &e.value).into_any().unbind(),
            _ => default.unwrap_or_else(|| py.None()),
        })
    }

    /// `(kind, value)` of the newest entry for `key` ('put', 'delete', 'merge', 'delete_range', ...), or None.
    fn get_entry<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        let k = self.key(key, "key")?;
        let r = &self.r;
        let e = py.allow_threads(|| runtime_block_on(r.get(&k))).py_err()?;
        e.map(|e| {
            PyTuple::new(py, [kind_name(e.kind).into_pyobject(py)?.into_any(), PyBytes::new(py, &e.value).into_any()])
        })
        .transpose()
    }

    fn __contains__(&self, py: Python<'_>, key: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(!self.get(py, key, None)?.is_none(py))
    }

    fn __iter__(&self, py: Python<'_>) -> PyResult<EntryIter> {
        self.iter(py, (Edge::Unbounded, Edge::Unbounded), false, false)
    }

    fn __reversed__(&self, py: Python<'_>) -> PyResult<EntryIter> {
        self.iter(py, (Edge::Unbounded, Edge::Unbounded), true, false)
    }

    /// Iterates the entries with keys in `[start, end)` (None: unbounded), in key order or, with
    /// `reverse=True`, backwards. Yields `(key, value)` of the values, or with `kinds=True`
    /// `(key, kind, value)` of every point entry.
    #[pyo3(signature = (start=None, end=None, *, reverse=false, kinds=false))]
    fn items(
        &self,
        py: Python<'_>,
        start: Option<&Bound<'_, PyAny>>,
        end: Option<&Bound<'_, PyAny>>,
        reverse: bool,
        kinds: bool,
    ) -> PyResult<EntryIter> {
        let range = (self.bound(start, "start", true)?, self.bound(end, "end", false)?);
        self.iter(py, range, reverse, kinds)
    }

    /// The `(key, value)` pairs with keys in `[start, end)`, in key order: `items(start, end)`.
    fn scan(&self, py: Python<'_>, start: &Bound<'_, PyAny>, end: &Bound<'_, PyAny>) -> PyResult<EntryIter> {
        self.items(py, Some(start), Some(end), false, false)
    }

    /// An iterator from the first key ≥ `key` onwards, or with `reverse=True` from the last key ≤ `key`
    /// backwards.
    #[pyo3(signature = (key, *, reverse=false, kinds=false))]
    fn seek(&self, py: Python<'_>, key: &Bound<'_, PyAny>, reverse: bool, kinds: bool) -> PyResult<EntryIter> {
        let k = self.key(key, "key")?;
        let range = if reverse { (Edge::Unbounded, Edge::Included(k)) } else { (Edge::Included(k), Edge::Unbounded) };
        self.iter(py, range, reverse, kinds)
    }

    /// The range deletions: `(start, end)` pairs (end exclusive).
    fn range_tombstones<'py>(&self, py: Python<'py>) -> PyResult<Vec<(Bound<'py, PyBytes>, Bound<'py, PyBytes>)>> {
        let t = self.r.range_tombstones().py_err()?;
        Ok(t.iter().map(|(s, e, _)| (PyBytes::new(py, s), PyBytes::new(py, e))).collect())
    }

    /// The table properties: numbers as int, text as str, anything else as bytes.
    #[getter]
    fn properties<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, raw, num) in self.r.properties_list().py_err()? {
            match (num, std::str::from_utf8(&raw)) {
                (Some(n), _) => d.set_item(name, n)?,
                (None, Ok(s)) if !s.contains('\0') => d.set_item(name, PyString::new(py, s))?,
                _ => d.set_item(name, PyBytes::new(py, &raw))?,
            }
        }
        Ok(d)
    }

    /// Reads and checks the whole table: every block's checksum, every entry's encoding and value. Returns
    /// `{"blocks": n, "entries": n}`; raises `CorruptionError` (or `UnsupportedError`) naming the place.
    fn verify<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let r = &self.r;
        let (blocks, entries) = py
            .allow_threads(|| {
                let mut blocks = 0u64;
                let mut entries = 0u64;
                let mut bad = None;
                runtime_block_on(r.for_each_data_block(|b| {
                    blocks += 1;
                    r.block_entries(&b, |e| {
                        entries += 1;
                        if bad.is_none() && e.kind != ValueType::RangeDeletion {
                            if let Err(source) = Payload::decode(e.kind, e.value) {
                                let key = String::from_utf8_lossy(e.user_key).into_owned();
                                bad = Some(Error::Codec {
                                    context: format!("{}: the value of {key:?}", r.location()),
                                    source,
                                });
                            }
                        }
                    })
                }))?;
                // The filter partitions of a partitioned filter: no data-block read passes through them.
                blocks += runtime_block_on(r.verify_filter_partitions())?;
                match bad {
                    Some(e) => Err(e),
                    None => Ok((blocks, entries)),
                }
            })
            .py_err()?;
        let d = PyDict::new(py);
        d.set_item("blocks", blocks)?;
        d.set_item("entries", entries)?;
        Ok(d)
    }

    /// The number of point entries (every kind; range deletions are not counted).
    fn __len__(&self) -> PyResult<usize> {
        let p = self.r.properties().py_err()?;
        let n = p.num_entries.unwrap_or(0).saturating_sub(p.num_range_deletions.unwrap_or(0));
        Ok(n as usize)
    }

    /// The file size in bytes.
    #[getter]
    fn file_size(&self) -> u64 {
        self.r.file_size()
    }

    /// Where the table is.
    #[getter]
    fn location(&self) -> String {
        self.location.clone()
    }

    fn __enter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    #[pyo3(signature = (*_args))]
    fn __exit__(&self, _args: &Bound<'_, PyTuple>) -> bool {
        false
    }

    fn __repr__(&self) -> String {
        format!("<sstkit.SstReader {:?} ({} bytes)>", self.location, self.r.file_size())
    }
}

fn runtime_block_on<T>(f: impl std::future::Future<Output = sstkit::Result<T>>) -> sstkit::Result<T> {
    runtime().map_err(|e| Error::Invalid(e.to_string()))?.block_on(f)
}

/// The data blocks of the whole table, in order, read by a thread of their own (runs of adjacent blocks in one
/// GET each, read ahead) until the receiver is dropped.
fn whole_table(r: &SstReader) -> PyResult<Receiver<sstkit::Result<Vec<DataBlock>>>> {
    let rt = runtime()?;
    // Blocks go over in groups: one hand-over (and thread wake-up) per group, not per block.
    const GROUP: usize = 32;
    let (tx, rx) = sync_channel(4);
    let r = r.clone();
    std::thread::Builder::new()
        .name("sstkit-scan".into())
        .spawn(move || {
            let stopped = || Error::Invalid("the iterator was dropped".into());
            let mut group = Vec::with_capacity(GROUP);
            let res = rt.block_on(r.for_each_data_block(|b| {
                group.push(b);
                if group.len() == GROUP {
                    tx.send(Ok(std::mem::replace(&mut group, Vec::with_capacity(GROUP)))).map_err(|_| stopped())?;
                }
                Ok(())
            }));
            // Nobody to tell if the iterator is gone.
            let _ = match res {
                Ok(()) if group.is_empty() => Ok(()),
                Ok(()) => tx.send(Ok(group)),
                Err(e) => tx.send(Err(e)),
            };
        })
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the scan thread: {e}")))?;
    Ok(rx)
}

/// Where an iterator's entries come from.
enum Source {
    /// Every block of the table, from [`whole_table`]; entries are decoded straight into Python objects.
    Whole { r: SstReader, rx: Receiver<sstkit::Result<Vec<DataBlock>>> },
    /// The reader's forward scan (runs of blocks fetched with one ranged GET each, read ahead).
    Fwd(Pin<Box<dyn Stream<Item = sstkit::Result<OwnedEntry>> + Send>>),
    /// The data blocks still to read, last first, with the user-key part of their index separators.
    Rev { r: SstReader, blocks: Vec<(BlockHandle, Vec<u8>)>, range: Range },
}

struct IterState {
    src: Source,
    /// Entries fetched without the GIL, to be made Python objects.
    buf: VecDeque<OwnedEntry>,
    /// Python objects made from a whole block ([`Source::Whole`]).
    ready: VecDeque<Py<PyTuple>>,
    done: bool,
}

/// Entries fetched per refill (with the GIL released).
const REFILL: usize = 2048;

fn below_end(k: &[u8], end: &Edge<Vec<u8>>) -> bool {
    match end {
        Edge::Included(e) => k <= e.as_slice(),
        Edge::Excluded(e) => k < e.as_slice(),
        Edge::Unbounded => true,
    }
}

fn above_start(k: &[u8], start: &Edge<Vec<u8>>) -> bool {
    match start {
        Edge::Included(s) => k >= s.as_slice(),
        Edge::Excluded(s) => k > s.as_slice(),
        Edge::Unbounded => true,
    }
}

impl IterState {
    /// [`Source::Whole`]: waits (without the GIL) for the next block and turns its entries into tuples.
    fn next_block(&mut self, py: Python<'_>, kinds: bool) -> PyResult<()> {
        let Source::Whole { r, rx } = &mut self.src else { return Ok(()) };
        while self.ready.is_empty() {
            let rx: &mut Receiver<_> = rx;
            let blocks = match py.allow_threads(move || rx.recv()) {
                Ok(b) => b.py_err()?,
                Err(_) => {
                    self.done = true;
                    return Ok(());
                }
            };
            let ready = &mut self.ready;
            let mut bad = None;
            for block in &blocks {
                r.block_entries(block, |e| {
                    if bad.is_some() || !(kinds || e.kind == ValueType::Value) {
                        return;
                    }
                    let k = PyBytes::new(py, e.user_key).into_any();
                    let v = PyBytes::new(py, e.value).into_any();
                    let t = if kinds {
                        PyTuple::new(py, [k, PyString::new(py, kind_name(e.kind)).into_any(), v])
                    } else {
                        PyTuple::new(py, [k, v])
                    };
                    match t {
                        Ok(t) => ready.push_back(t.unbind()),
                        Err(e) => bad = Some(e),
                    }
                })
                .py_err()?;
            }
            if let Some(e) = bad {
                return Err(e);
            }
        }
        Ok(())
    }

    /// Adds up to [`REFILL`] entries (only values unless `kinds`) to the buffer; sets `done` at the end.
    fn refill(&mut self, kinds: bool) -> sstkit::Result<()> {
        let keep = |e: &OwnedEntry| kinds || e.kind == ValueType::Value;
        match &mut self.src {
            // Decoded with the GIL held, in `next_block`.
            Source::Whole { .. } => Ok(()),
            Source::Fwd(s) => runtime_block_on(async {
                while self.buf.len() < REFILL {
                    match s.next().await {
                        Some(e) => {
                            let e = e?;
                            if keep(&e) {
                                self.buf.push_back(e);
                            }
                        }
                        None => {
                            self.done = true;
                            break;
                        }
                    }
                }
                Ok(())
            }),
            Source::Rev { r, blocks, range } => {
                while self.buf.is_empty() {
                    let Some((handle, sep)) = blocks.pop() else {
                        self.done = true;
                        break;
                    };
                    // Every key of this block is ≤ its separator: below the range, so are all earlier blocks.
                    if !above_start(&sep, &range.0) && !matches!(range.0, Edge::Unbounded) {
                        self.done = true;
                        break;
                    }
                    // Every key of this block is > the previous block's separator: past the range's end?
                    if let Some((_, prev)) = blocks.last() {
                        if !below_end(prev, &range.1) && !matches!(range.1, Edge::Unbounded) {
                            continue;
                        }
                    }
                    let bytes = runtime_block_on(r.block(handle))?;
                    let extent = BlockExtent::new(handle, r.file_size(), Part::DataBlock)
                        .map_err(|source| Error::Codec { context: r.location().to_string(), source })?;
                    let block = DataBlock { extent, compression: sstkit::core::CompressionType::None, bytes };
                    let mut got = Vec::new();
                    r.block_entries(&block, |e| {
                        if above_start(e.user_key, &range.0) && below_end(e.user_key, &range.1) {
                            let value = block.bytes.slice_ref(e.value);
                            got.push(OwnedEntry {
                                user_key: bytes::Bytes::copy_from_slice(e.user_key),
                                timestamp: e.timestamp,
                                seqno: e.seqno,
                                kind: e.kind,
                                value,
                            });
                        }
                    })?;
                    self.buf.extend(got.into_iter().rev().filter(keep));
                }
                Ok(())
            }
        }
    }
}

/// An iterator over a table's entries (see `SstReader.items`).
#[pyclass(module = "sstkit", name = "EntryIterator")]
pub struct EntryIter {
    state: Mutex<IterState>,
    kinds: bool,
}

#[pymethods]
impl EntryIter {
    fn __iter__(slf: Bound<'_, Self>) -> Bound<'_, Self> {
        slf
    }

    fn __next__<'py>(&mut self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyTuple>>> {
        // `&mut self`: PyO3's borrow flag guards the state, so no lock is taken per entry.
        let st = self.state.get_mut().unwrap_or_else(|p| p.into_inner());
        if let Source::Whole { .. } = st.src {
            if st.ready.is_empty() && !st.done {
                st.next_block(py, self.kinds)?;
            }
            return Ok(st.ready.pop_front().map(|t| t.into_bound(py)));
        }
        if st.buf.is_empty() && !st.done {
            let kinds = self.kinds;
            py.allow_threads(|| st.refill(kinds)).py_err()?;
        }
        let Some(e) = st.buf.pop_front() else { return Ok(None) };
        let k = PyBytes::new(py, &e.user_key).into_any();
        let v = PyBytes::new(py, &e.value).into_any();
        let t = if self.kinds {
            PyTuple::new(py, [k, PyString::new(py, kind_name(e.kind)).into_any(), v])?
        } else {
            PyTuple::new(py, [k, v])?
        };
        Ok(Some(t))
    }
}
