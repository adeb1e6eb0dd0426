//! A written table's [`SstMetadata`] as a Python dict (plain values, so it pickles: Spark returns it to the
//! driver).

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict};
use sstkit::writer::SstMetadata;

/// Lower-case name of a checksum or compression type, as the options spell it.
fn name(debug: impl std::fmt::Debug) -> String {
    format!("{debug:?}").to_ascii_lowercase()
}

/// The metadata dict: where, how big, which keys, how many of each entry kind, blocks and properties.
pub(crate) fn to_dict<'py>(py: Python<'py>, m: &SstMetadata) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let s = &m.stats;
    let bytes = |b: Option<&[u8]>| b.map(|b| PyBytes::new(py, b));
    d.set_item("location", &m.location)?;
    d.set_item("size", s.file_size)?;
    d.set_item("entries", s.num_entries())?;
    d.set_item("num_puts", s.num_puts)?;
    d.set_item("num_deletions", s.num_deletions)?;
    d.set_item("num_merges", s.num_merges)?;
    d.set_item("num_range_deletions", s.num_range_deletions)?;
    d.set_item("data_blocks", s.num_data_blocks)?;
    d.set_item("data_size", s.data_size)?;
    d.set_item("index_size", s.index_size)?;
    d.set_item("filter_size", s.filter_size)?;
    d.set_item("raw_key_size", s.raw_key_size)?;
    d.set_item("raw_value_size", s.raw_value_size)?;
    d.set_item("first_key", bytes(m.first_user_key.as_deref()))?;
    d.set_item("last_key", bytes(m.last_user_key.as_deref()))?;
    d.set_item("smallest_key", bytes(m.smallest_key()))?;
    let largest = m.largest_key();
    d.set_item("largest_key", bytes(largest.map(|(k, _)| k)))?;
    d.set_item("largest_key_exclusive", largest.is_some_and(|(_, x)| x))?;
    d.set_item("format_version", m.format_version)?;
    d.set_item("checksum", name(m.checksum))?;
    d.set_item("compression", name(m.compression))?;
    d.set_item("e_tag", &m.e_tag)?;
    let props = PyDict::new(py);
    for (k, v) in &m.properties {
        props.set_item(k, PyBytes::new(py, v))?;
    }
    d.set_item("properties", props)?;
    Ok(d)
}
