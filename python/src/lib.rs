//! `sstkit._sstkit`: the native part of the Python package `sstkit`, over the std-io crate. The Python
//! package (python/pysrc/sstkit) re-exports it and adds `build`.
#![forbid(unsafe_code)]
// std-io's errors carry a context string and the codec's or store's error; every call that returns one does I/O or
// crosses into Python, next to which moving a larger Result is noise (std-io allows it for the same reason).
#![allow(clippy::result_large_err)]

mod batch;
mod buf;
mod error;
mod meta;
mod options;
mod reader;
mod rolling;
mod runtime;
mod target;
mod writer;

use pyo3::prelude::*;

/// Write and read RocksDB-compatible SST files on local disks and object stores.
#[pymodule]
fn _sstkit(m: &Bound<'_, PyModule>) -> PyResult<()> {
    error::register(m)?;
    m.add_class::<writer::PyWriter>()?;
    m.add_class::<reader::PyReader>()?;
    m.add_class::<reader::EntryIter>()?;
    m.add_function(wrap_pyfunction!(rolling::build_rolling, m)?)?;
    m.add("WRITER_OPTIONS", options::WRITER_OPTIONS.to_vec())?;
    Ok(())
}
