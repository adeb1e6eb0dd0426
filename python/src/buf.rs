//! Keys and values from Python: any object with the buffer protocol (bytes, bytearray, memoryview, ...);
//! `str` only when an encoding was given.

use pyo3::exceptions::{PyLookupError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyInt, PyMemoryView, PyString};

/// Bytes borrowed from a `bytes` object, or copied out of another buffer.
pub(crate) enum Buf<'py> {
    /// A `bytes` object (immutable: its bytes are read in place).
    Bytes(Bound<'py, PyBytes>),
    /// A copy of a mutable or non-`bytes` buffer.
    Owned(Vec<u8>),
}

impl Buf<'_> {
    /// The bytes.
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Buf::Bytes(b) => b.as_bytes(),
            Buf::Owned(v) => v,
        }
    }
}

/// Checks that `encoding` names a codec Python knows, so a bad one fails at the call that names it.
pub(crate) fn check_encoding(py: Python<'_>, encoding: Option<&str>) -> PyResult<()> {
    if let Some(enc) = encoding {
        let codecs = py.import("codecs")?;
        if let Err(e) = codecs.call_method1("lookup", (enc,)) {
            if e.is_instance_of::<PyLookupError>(py) {
                return Err(PyLookupError::new_err(format!("unknown encoding {enc:?}")));
            }
            return Err(e);
        }
    }
    Ok(())
}

/// The bytes of `obj` (`what` names it in errors: "key", "value", ...).
pub(crate) fn extract<'py>(obj: &Bound<'py, PyAny>, encoding: Option<&str>, what: &str) -> PyResult<Buf<'py>> {
    if let Ok(b) = obj.downcast::<PyBytes>() {
        return Ok(Buf::Bytes(b.clone()));
    }
    if let Ok(b) = obj.downcast::<PyByteArray>() {
        return Ok(Buf::Owned(b.to_vec()));
    }
    if let Ok(s) = obj.downcast::<PyString>() {
        let Some(enc) = encoding else {
            return Err(PyTypeError::new_err(format!(
                "{what} is a str: pass encoding='utf-8' (or another codec) to write text, or give bytes"
            )));
        };
        let encoded = s.call_method1("encode", (enc,))?;
        return Ok(Buf::Bytes(encoded.downcast_into::<PyBytes>()?));
    }
    if obj.is_instance_of::<PyInt>() {
        // bytes(5) would be five zero bytes: refuse rather than guess.
        return Err(not_bytes(obj, what));
    }
    let view = match obj.downcast::<PyMemoryView>() {
        Ok(v) => v.clone().into_any(),
        Err(_) => match obj.py().get_type::<PyMemoryView>().call1((obj,)) {
            Ok(v) => v,
            Err(e) if e.is_instance_of::<PyTypeError>(obj.py()) => return Err(not_bytes(obj, what)),
            Err(e) => return Err(e),
        },
    };
    let bytes = view.call_method0("tobytes")?;
    Ok(Buf::Bytes(bytes.downcast_into::<PyBytes>()?))
}

fn not_bytes(obj: &Bound<'_, PyAny>, what: &str) -> PyErr {
    let ty = obj.get_type().name().map(|n| n.to_string()).unwrap_or_else(|_| "?".into());
    PyTypeError::new_err(format!("{what} must be bytes-like (bytes, bytearray, memoryview), not {ty}"))
}
