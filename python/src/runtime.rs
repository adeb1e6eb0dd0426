//! The tokio runtime the object-store calls run on: one per process, made on first use. A process forked
//! after that (PySpark's worker daemon forks its workers) makes its own, since the parent's threads do not
//! exist in the child.

use std::sync::Mutex;

use pyo3::exceptions::PyRuntimeError;
use pyo3::PyResult;
use tokio::runtime::Runtime;

static RUNTIME: Mutex<Option<(u32, &'static Runtime)>> = Mutex::new(None);

/// The runtime of this process.
pub(crate) fn runtime() -> PyResult<&'static Runtime> {
    let pid = std::process::id();
    let mut slot = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = *slot {
        if owner == pid {
            return Ok(rt);
        }
        // Inherited through fork: its worker threads are gone; leave it be (dropping it would wait on them).
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("sstkit-io")
        .enable_all()
        .build()
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start the I/O runtime: {e}")))?;
    let rt: &'static Runtime = Box::leak(Box::new(rt));
    *slot = Some((pid, rt));
    Ok(rt)
}
