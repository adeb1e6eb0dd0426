//! `sstkit.build_rolling`: a sorted iterable cut into non-overlapping files of about a target size, by the
//! std-io crate's `RollingWriter` (files `<prefix>/<level>/<id>.sst`; on an error none is left).

use std::sync::Arc;

use object_store::ObjectStore;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use sstkit::rolling::{RollingOptions, RollingWriter};
use sstkit::writer::WriteOp;
use sstkit::Error;

use crate::batch::pipelined;
use crate::error::IntoPy;
use crate::options::{int_in, writer_settings};
use crate::runtime::runtime;
use crate::target::{location, Location};

/// The store and prefix of a rolling build, and how to name a file in it for the caller.
fn open_prefix(loc: &Location) -> sstkit::Result<(Arc<dyn ObjectStore>, object_store::path::Path, String)> {
    match loc {
        Location::Local(dir) => {
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::Io { context: format!("{}: creating the directory", dir.display()), source: e })?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(dir)
                .map_err(|e| Error::Store { context: dir.display().to_string(), source: e })?;
            Ok((Arc::new(store), object_store::path::Path::from(""), dir.display().to_string()))
        }
        Location::Url(u) => {
            let (store, prefix) = sstkit::location::resolve(u)?;
            // The URL up to the bucket: object paths are relative to it.
            let url = url::Url::parse(u).map_err(|e| Error::Invalid(format!("{u}: {e}")))?;
            let base = format!("{}://{}", url.scheme(), url.host_str().unwrap_or(""));
            Ok((store, prefix, base))
        }
    }
}

/// Writes the `(key, value)` pairs of `items` (sorted by key) as files of about `target_size` bytes under
/// `prefix` (a directory or a URL prefix), named `<prefix>/<level>/<id>.sst` with ids from `first_id`. Returns
/// each file's metadata (with `id`, `level` and `path`), in key order. The files do not overlap; on an error
/// every file written is removed. Takes the writer options of `SstWriter`.
#[pyfunction]
#[pyo3(signature = (prefix, items, *, target_size, level=None, first_id=None, **options))]
pub fn build_rolling<'py>(
    py: Python<'py>,
    prefix: &Bound<'py, PyAny>,
    items: &Bound<'py, PyAny>,
    target_size: &Bound<'py, PyAny>,
    level: Option<&Bound<'py, PyAny>>,
    first_id: Option<&Bound<'py, PyAny>>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyList>> {
    let loc = location(prefix)?;
    let target_size = int_in(target_size, "target_size", 64 << 10, 1 << 40)?;
    let level = level.map_or(Ok(0), |v| int_in(v, "level", 0, 63))? as u32;
    let first_id = first_id.map_or(Ok(1), |v| int_in(v, "first_id", 0, u64::MAX / 2))?;
    let s = writer_settings(options)?;
    let rt = runtime()?;
    let (store, root, base) = py.allow_threads(|| open_prefix(&loc)).py_err()?;
    let opts = RollingOptions::new(root).level(level).first_id(first_id).target_file_size(target_size).writer(s.opts);
    let mut w = RollingWriter::new(store, opts).py_err()?;
    let fed = pipelined(py, items, s.encoding.as_deref(), |batch| {
        rt.block_on(async {
            for (k, v) in batch.puts() {
                w.write(WriteOp::Put(k, v)).await?;
            }
            Ok(())
        })
    });
    if let Err(e) = fed {
        // Leave nothing: the current file's upload is aborted, the finished files are deleted.
        let _ = py.allow_threads(|| rt.block_on(w.abort()));
        return Err(e);
    }
    let files = py.allow_threads(|| rt.block_on(w.finish())).py_err()?;
    let out = PyList::empty(py);
    for f in files {
        let d = crate::meta::to_dict(py, &f.metadata)?;
        let path = match &loc {
            Location::Local(dir) => dir.join(f.path.as_ref()).display().to_string(),
            Location::Url(_) => format!("{base}/{}", f.path),
        };
        d.set_item("id", f.id)?;
        d.set_item("level", f.level)?;
        d.set_item("path", &path)?;
        d.set_item("location", path)?;
        out.append(d)?;
    }
    Ok(out)
}
