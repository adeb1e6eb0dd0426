//! The bulk path of `write_all` and `build_rolling`: `(key, value)` pairs are copied out of Python objects into
//! batches with the GIL held, and a second thread writes each full batch without the GIL while the next one is
//! gathered.

use std::sync::mpsc::{channel, sync_channel};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyTuple};

use crate::buf::extract;
use crate::error::to_py;

/// Puts copied end to end: the keys and values of up to [`BATCH_OPS`] pairs.
#[derive(Default)]
pub(crate) struct Batch {
    data: Vec<u8>,
    /// (key end, value end) offsets in `data`; each key starts where the previous value ended.
    ends: Vec<(usize, usize)>,
}

/// A batch is handed over once it holds this many bytes or pairs.
const BATCH_BYTES: usize = 1 << 20;
const BATCH_OPS: usize = 8192;

impl Batch {
    /// Appends the bytes of `obj` (a key when `key`, else a value) and, after a value, closes the pair.
    fn push_part(&mut self, obj: &Bound<'_, PyAny>, enc: Option<&str>, key: bool) -> PyResult<()> {
        // `bytes` (the common case) is read in place; anything else goes through `extract`.
        // An exact type check is a pointer comparison (a subclass check calls into Python under abi3).
        match obj.downcast_exact::<PyBytes>() {
            Ok(b) => self.data.extend_from_slice(b.as_bytes()),
            Err(_) => self.data.extend_from_slice(extract(obj, enc, if key { "key" } else { "value" })?.as_slice()),
        }
        let end = self.data.len();
        if key {
            self.ends.push((end, end));
        } else if let Some(last) = self.ends.last_mut() {
            last.1 = end;
        }
        Ok(())
    }

    fn full(&self) -> bool {
        self.data.len() >= BATCH_BYTES || self.ends.len() >= BATCH_OPS
    }

    fn clear(&mut self) {
        self.data.clear();
        self.ends.clear();
    }

    /// The pairs, in order.
    pub(crate) fn puts(&self) -> impl Iterator<Item = (&[u8], &[u8])> {
        let mut start = 0;
        self.ends.iter().map(move |&(ke, ve)| {
            let kv = (&self.data[start..ke], &self.data[ke..ve]);
            start = ve;
            kv
        })
    }
}

/// Reads the `(key, value)` pairs of `items` into batches, handing each full one (and the last) to `hand`,
/// which gives back an empty batch to fill next. Returns how many pairs were read.
fn feed(items: &Bound<'_, PyAny>, enc: Option<&str>, mut hand: impl FnMut(Batch) -> PyResult<Batch>) -> PyResult<u64> {
    let mut batch = Batch::default();
    let mut n = 0u64;
    for item in items.try_iter()? {
        let item = item?;
        let pair = match item.downcast_exact::<PyTuple>().or_else(|_| item.downcast::<PyTuple>()) {
            Ok(t) if t.len() == 2 => t,
            _ => {
                let ty = item.get_type().name().map(|n| n.to_string()).unwrap_or_default();
                return Err(PyTypeError::new_err(format!("expected (key, value) tuples; item {n} is a {ty}")));
            }
        };
        let start = (batch.data.len(), batch.ends.len());
        let mut push = || -> PyResult<()> {
            batch.push_part(&*pair.get_borrowed_item(0)?, enc, true)?;
            batch.push_part(&*pair.get_borrowed_item(1)?, enc, false)
        };
        let r = push();
        if let Err(e) = r {
            // Drop the half-added pair: the pairs before it are still written.
            batch.data.truncate(start.0);
            batch.ends.truncate(start.1);
            if !batch.ends.is_empty() {
                hand(batch)?;
            }
            return Err(e);
        }
        n += 1;
        if batch.full() {
            batch = hand(batch)?;
        }
    }
    if !batch.ends.is_empty() {
        hand(batch)?;
    }
    Ok(n)
}

/// [`feed`] with `write` on a second thread (without the GIL): the Python thread gathers the next batch while the
/// last one is written. The first error (of `items`, a key or `write`) is returned once the thread is done.
pub(crate) fn pipelined<F>(py: Python<'_>, items: &Bound<'_, PyAny>, enc: Option<&str>, write: F) -> PyResult<u64>
where
    F: FnMut(&Batch) -> sstkit::Result<()> + Send,
{
    // One batch queued while one is written and one filled: memory stays at about three batches.
    let (full_tx, full_rx) = sync_channel::<Batch>(1);
    let (empty_tx, empty_rx) = channel::<Batch>();
    std::thread::scope(|s| {
        let worker = s.spawn(move || -> sstkit::Result<()> {
            let mut write = write;
            for mut b in full_rx {
                write(&b)?;
                b.clear();
                // The feeder may be gone already; the batch is then dropped.
                let _ = empty_tx.send(b);
            }
            Ok(())
        });
        let fed = feed(items, enc, |b| {
            // Blocks only while the writer is a batch behind; the GIL is released meanwhile.
            match py.allow_threads(|| full_tx.send(b)) {
                Ok(()) => Ok(empty_rx.try_recv().unwrap_or_default()),
                // The writer stopped on an error: it is reported below.
                Err(_) => Err(PyTypeError::new_err("writer stopped")),
            }
        });
        drop(full_tx);
        let written = py.allow_threads(|| worker.join());
        match written {
            Ok(Ok(())) => fed,
            Ok(Err(e)) => Err(to_py(e)),
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
