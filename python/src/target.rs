//! Where a table goes or comes from: a local path (str or os.PathLike), a `file://` URL, or an object-store
//! URL. URLs are resolved by the std-io crate's `location` module, as the CLI does.

use std::path::PathBuf;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;
use sstkit::location::is_url;

/// A table's location.
pub(crate) enum Location {
    /// A file on this machine.
    Local(PathBuf),
    /// An object-store URL (`s3://`, `gs://`, `az://`, `memory://`, ...).
    Url(String),
}

impl Location {
    /// How the location reads in messages and metadata.
    pub(crate) fn display(&self) -> String {
        match self {
            Location::Local(p) => p.display().to_string(),
            Location::Url(u) => u.clone(),
        }
    }
}

/// Parses a `path_or_url` argument.
pub(crate) fn location(obj: &Bound<'_, PyAny>) -> PyResult<Location> {
    let text: String = match obj.downcast::<PyString>() {
        Ok(s) => s.to_cow()?.to_string(),
        Err(_) => {
            // os.PathLike (pathlib.Path, ...): os.fspath gives its str (bytes paths are refused below).
            let p = obj.py().import("os")?.call_method1("fspath", (obj,))?;
            p.extract::<String>().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("path_or_url must be a str, an os.PathLike or a URL")
            })?
        }
    };
    if text.is_empty() {
        return Err(PyValueError::new_err("path_or_url is empty"));
    }
    if !is_url(&text) {
        return Ok(Location::Local(PathBuf::from(text)));
    }
    if text.starts_with("file://") {
        let url = url::Url::parse(&text).map_err(|e| PyValueError::new_err(format!("{text}: not a valid URL: {e}")))?;
        let path = url
            .to_file_path()
            .map_err(|_| PyValueError::new_err(format!("{text}: not a local file path (file:///absolute/path)")))?;
        return Ok(Location::Local(path));
    }
    Ok(Location::Url(text))
}
