//! The exceptions of the `sstkit` module and the mapping from the std-io crate's errors to them. Every
//! exception carries the Rust error's full text.

use pyo3::exceptions::{PyException, PyFileNotFoundError, PyOSError};
use pyo3::prelude::*;
use sstkit::core::ErrorKind;
use sstkit::Error;

pyo3::create_exception!(
    sstkit,
    SstkitError,
    PyException,
    "Base class of every error sstkit raises for a table, a store or a call in the wrong state."
);
pyo3::create_exception!(
    sstkit,
    OutOfOrderError,
    SstkitError,
    "A key was added out of order (or repeated); the message names both keys. The writer stays usable."
);
pyo3::create_exception!(
    sstkit,
    CorruptionError,
    SstkitError,
    "The file's bytes do not follow the format (or a block checksum does not match); the message names the offset."
);
pyo3::create_exception!(
    sstkit,
    UnsupportedError,
    SstkitError,
    "A valid table that uses a feature sstkit does not read (or write); the message names the feature."
);
pyo3::create_exception!(
    sstkit,
    InvalidArgumentError,
    SstkitError,
    "A call with bad arguments or in the wrong state (a closed writer, an empty table, an empty range, ...)."
);
pyo3::create_exception!(
    sstkit,
    StoreError,
    SstkitError,
    "The object store failed (a network, permission or configuration error); the message has the store's text."
);

/// The Python exception for an error of the std-io crate.
pub(crate) fn to_py(e: Error) -> PyErr {
    let text = e.to_string();
    match &e {
        Error::Codec { source, .. } => match source {
            sstkit::core::Error::OutOfOrder { .. } => OutOfOrderError::new_err(text),
            s => match s.kind() {
                ErrorKind::Corruption => CorruptionError::new_err(text),
                ErrorKind::Unsupported => UnsupportedError::new_err(text),
                _ => InvalidArgumentError::new_err(text),
            },
        },
        Error::Store { source: object_store::Error::NotFound { .. }, .. } => PyFileNotFoundError::new_err(text),
        Error::Store { .. } => StoreError::new_err(text),
        Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => PyFileNotFoundError::new_err(text),
        Error::Io { .. } => PyOSError::new_err(text),
        _ => InvalidArgumentError::new_err(text),
    }
}

/// `Result` of the std-io crate to `PyResult`.
pub(crate) trait IntoPy<T> {
    fn py_err(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for sstkit::Result<T> {
    fn py_err(self) -> PyResult<T> {
        self.map_err(to_py)
    }
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("SstkitError", py.get_type::<SstkitError>())?;
    m.add("OutOfOrderError", py.get_type::<OutOfOrderError>())?;
    m.add("CorruptionError", py.get_type::<CorruptionError>())?;
    m.add("UnsupportedError", py.get_type::<UnsupportedError>())?;
    m.add("InvalidArgumentError", py.get_type::<InvalidArgumentError>())?;
    m.add("StoreError", py.get_type::<StoreError>())?;
    Ok(())
}
