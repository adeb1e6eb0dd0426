//! Printing keys, values and entries for people (escaped text) and machines (JSON).

use serde_json::{json, Map, Value};
use sstkit_core::key::ValueType;

use super::Ui;

/// Bytes for a person: printable ASCII as is, other bytes `\xNN`; or hex with `--hex`.
pub(crate) fn text(bytes: &[u8], ui: Ui) -> String {
    if ui.hex {
        return hex::encode(bytes);
    }
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) && b != b'\\' {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

/// Puts `bytes` into a JSON object as `name` (UTF-8 text) or `name_hex` (with `--hex`, or when not UTF-8).
pub(crate) fn put_bytes(obj: &mut Map<String, Value>, name: &str, bytes: &[u8], ui: Ui) {
    match std::str::from_utf8(bytes) {
        Ok(s) if !ui.hex => {
            obj.insert(name.to_string(), json!(s));
        }
        _ => {
            obj.insert(format!("{name}_hex"), json!(hex::encode(bytes)));
        }
    }
}

/// The name of an entry type as printed.
pub(crate) fn kind_name(kind: ValueType) -> &'static str {
    match kind {
        ValueType::Value => "put",
        ValueType::Deletion => "delete",
        ValueType::Merge => "merge",
        ValueType::SingleDeletion => "single_delete",
        ValueType::RangeDeletion => "range_delete",
        ValueType::BlobIndex => "blob_index",
        ValueType::DeletionWithTimestamp => "delete_with_timestamp",
        ValueType::WideColumnEntity => "wide_column_entity",
        ValueType::ValuePreferredSeqno => "value_preferred_seqno",
    }
}

/// One entry, as a line of text or a JSON object.
pub(crate) fn entry_line(key: &[u8], seqno: u64, kind: ValueType, value: &[u8], ui: Ui) -> String {
    if ui.json {
        let mut o = Map::new();
        put_bytes(&mut o, "key", key, ui);
        o.insert("seqno".into(), json!(seqno));
        o.insert("type".into(), json!(kind_name(kind)));
        put_bytes(&mut o, "value", value, ui);
        Value::Object(o).to_string()
    } else if kind == ValueType::Value {
        format!("{} => {}", text(key, ui), text(value, ui))
    } else {
        format!("{} => {} [{} seq {}]", text(key, ui), text(value, ui), kind_name(kind), seqno)
    }
}

/// A progress bar on stderr when the UI allows it, hidden otherwise.
pub(crate) fn progress(ui: Ui, len: u64, what: &str) -> indicatif::ProgressBar {
    if !ui.progress {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new(len);
    let style =
        indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}
