//! Keyword options of the writers, checked with errors that name the option: the codec's settings, the
//! upload's, and the text encoding of `str` keys and values.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyInt, PyString};
use sstkit::core::{ChecksumType, CompressionType};
use sstkit::writer::WriterOptions;

/// The keyword options every writer takes.
pub(crate) const WRITER_OPTIONS: &[&str] = &[
    "block_size",
    "compression",
    "bloom_bits",
    "checksum",
    "format_version",
    "expected_keys",
    "restart_interval",
    "index_restart_interval",
    "seqno",
    "part_size",
    "parts_in_flight",
    "file_creation_time",
    "encoding",
];

/// A writer's settings.
pub(crate) struct WriteSettings {
    pub(crate) opts: WriterOptions,
    pub(crate) encoding: Option<String>,
}

/// An integer option in `lo..=hi` (bools are refused: `True` is not a size).
pub(crate) fn int_in(v: &Bound<'_, PyAny>, name: &str, lo: u64, hi: u64) -> PyResult<u64> {
    if v.is_instance_of::<PyBool>() || !v.is_instance_of::<PyInt>() {
        let ty = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
        return Err(PyTypeError::new_err(format!("{name} must be an int, not {ty}")));
    }
    match v.extract::<i128>() {
        Ok(n) if n >= i128::from(lo) && n <= i128::from(hi) => Ok(n as u64),
        _ => Err(PyValueError::new_err(format!("{name} must be between {lo} and {hi}, got {v}"))),
    }
}

fn text(v: &Bound<'_, PyAny>, name: &str) -> PyResult<String> {
    match v.downcast::<PyString>() {
        Ok(s) => Ok(s.to_cow()?.to_ascii_lowercase()),
        Err(_) => {
            let ty = v.get_type().name().map(|n| n.to_string()).unwrap_or_default();
            Err(PyTypeError::new_err(format!("{name} must be a str, not {ty}")))
        }
    }
}

/// Parses the writer options in `kwargs` (none may be unknown).
pub(crate) fn writer_settings(kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<WriteSettings> {
    let mut o = WriterOptions::default();
    let mut encoding = None;
    let Some(kwargs) = kwargs else { return Ok(WriteSettings { opts: o, encoding }) };
    for (k, v) in kwargs.iter() {
        let key: String = k.extract()?;
        if v.is_none() && key != "compression" && key != "checksum" {
            // None means "the default" for every option.
            continue;
        }
        o = match key.as_str() {
            "block_size" => o.block_size(int_in(&v, &key, 256, 1 << 30)? as usize),
            "restart_interval" => o.restart_interval(int_in(&v, &key, 1, 65536)? as usize),
            "index_restart_interval" => o.index_restart_interval(int_in(&v, &key, 1, 65536)? as usize),
            "bloom_bits" => o.bloom_bits_per_key(int_in(&v, &key, 0, 100)? as u32),
            "format_version" => o.format_version(int_in(&v, &key, 2, 7)? as u32),
            "expected_keys" => o.expected_keys(int_in(&v, &key, 0, u64::MAX)?),
            "seqno" => {
                let s = int_in(&v, &key, 0, (1 << 56) - 1)?;
                // A non-zero seqno makes a regular (non-external) table, which RocksDB does not ingest.
                o.seqno(s).external_file(s == 0)
            }
            "compression" => o.compression(match v.is_none() {
                true => CompressionType::None,
                false => match text(&v, &key)?.as_str() {
                    "none" => CompressionType::None,
                    "lz4" => CompressionType::Lz4,
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "compression {other:?} is not one sstkit writes: use 'none' or 'lz4'"
                        )))
                    }
                },
            }),
            "checksum" => o.checksum(match v.is_none() {
                true => ChecksumType::None,
                false => match text(&v, &key)?.as_str() {
                    "none" => ChecksumType::None,
                    "crc32c" => ChecksumType::Crc32c,
                    "xxhash" => ChecksumType::XxHash,
                    "xxhash64" => ChecksumType::XxHash64,
                    "xxh3" => ChecksumType::Xxh3,
                    other => {
                        return Err(PyValueError::new_err(format!(
                            "checksum {other:?} is unknown: use 'crc32c', 'xxh3', 'xxhash', 'xxhash64' or 'none'"
                        )))
                    }
                },
            }),
            "part_size" => o.part_size(int_in(&v, &key, 5 << 20, 5 << 30)? as usize),
            "parts_in_flight" => o.parts_in_flight(int_in(&v, &key, 1, 64)? as usize),
            "file_creation_time" => {
                o.file_creation_time = Some(int_in(&v, &key, 0, u64::MAX)?);
                o
            }
            "encoding" => {
                let enc: String = match v.downcast::<PyString>() {
                    Ok(s) => s.to_cow()?.to_string(),
                    Err(_) => return Err(PyTypeError::new_err("encoding must be a str such as 'utf-8'")),
                };
                crate::buf::check_encoding(kwargs.py(), Some(&enc))?;
                encoding = Some(enc);
                o
            }
            other => {
                return Err(PyTypeError::new_err(format!(
                    "unknown option {other:?}; the options are: {}",
                    WRITER_OPTIONS.join(", ")
                )))
            }
        };
    }
    o.core_options().map_err(crate::error::to_py)?;
    Ok(WriteSettings { opts: o, encoding })
}
