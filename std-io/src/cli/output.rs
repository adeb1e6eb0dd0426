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

/// Puts byte strings into a JSON object under their names, with one `"encoding"` field for all of them: `"utf8"`
/// (the strings as they are) when every one is UTF-8 and `--hex` is not given, otherwise `"hex"`. The names are
/// the same in every command (`key`, `value`, `first_key`, ...); only `encoding` says how to read them.
pub(crate) fn put_bytes(obj: &mut Map<String, Value>, fields: &[(&str, &[u8])], ui: Ui) {
    let utf8 = !ui.hex && fields.iter().all(|(_, b)| std::str::from_utf8(b).is_ok());
    for (name, bytes) in fields {
        let v = if utf8 { String::from_utf8_lossy(bytes).into_owned() } else { hex::encode(bytes) };
        obj.insert((*name).to_string(), json!(v));
    }
    obj.insert("encoding".into(), json!(if utf8 { "utf8" } else { "hex" }));
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
        put_bytes(&mut o, &[("key", key), ("value", value)], ui);
        o.insert("seqno".into(), json!(seqno));
        o.insert("kind".into(), json!(kind_name(kind)));
        Value::Object(o).to_string()
    } else if kind == ValueType::Value {
        format!("{} => {}", text(key, ui), text(value, ui))
    } else {
        format!("{} => {} [{} seq {}]", text(key, ui), text(value, ui), kind_name(kind), seqno)
    }
}

/// A progress bar on stderr when the UI allows it, hidden otherwise. `len` is `None` when the size is unknown
/// (standard input, a pipe): then only the bytes done and the rate are shown.
pub(crate) fn progress(ui: Ui, len: Option<u64>, what: &str) -> indicatif::ProgressBar {
    if !ui.progress {
        return indicatif::ProgressBar::hidden();
    }
    let (bar, template) = match len {
        Some(len) => {
            (indicatif::ProgressBar::new(len), "{msg} [{bar:30}] {bytes}/{total_bytes} ({bytes_per_sec}, {eta})")
        }
        None => (indicatif::ProgressBar::no_length(), "{msg} {spinner} {bytes} ({bytes_per_sec})"),
    };
    let style = indicatif::ProgressStyle::with_template(template)
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
    bar.set_style(style);
    bar.set_message(what.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_progress_bar_without_a_size_has_no_total() {
        let ui = Ui { json: false, hex: false, progress: true, instance_credentials: false };
        assert_eq!(progress(ui, None, "building").length(), None);
        assert_eq!(progress(ui, Some(10), "building").length(), Some(10));
    }
}
