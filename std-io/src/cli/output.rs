//! Printing keys, values and entries for people (escaped text) and machines (JSON).

use serde_json::{json, Map, Value};
use sstkit_core::key::ValueType;
use sstkit_core::value::{BlobRef, Entity, Payload};

use super::Ui;
use crate::error::{Context, Result};

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

/// True when every byte string is UTF-8 and `--hex` is not given: then JSON shows them as they are.
fn all_utf8<'a>(mut parts: impl Iterator<Item = &'a [u8]>, ui: Ui) -> bool {
    !ui.hex && parts.all(|b| std::str::from_utf8(b).is_ok())
}

/// One byte string as a JSON string, as is (`utf8`) or in hex.
fn bytes_json(bytes: &[u8], utf8: bool) -> Value {
    json!(if utf8 { String::from_utf8_lossy(bytes).into_owned() } else { hex::encode(bytes) })
}

/// Puts byte strings into a JSON object under their names, with one `"encoding"` field for all of them: `"utf8"`
/// (the strings as they are) when every one is UTF-8 and `--hex` is not given, otherwise `"hex"`. The names are
/// the same in every command (`key`, `value`, `first_key`, ...); only `encoding` says how to read them.
pub(crate) fn put_bytes(obj: &mut Map<String, Value>, fields: &[(&str, &[u8])], ui: Ui) {
    let utf8 = all_utf8(fields.iter().map(|(_, b)| *b), ui);
    for (name, bytes) in fields {
        obj.insert((*name).to_string(), bytes_json(bytes, utf8));
    }
    obj.insert("encoding".into(), json!(if utf8 { "utf8" } else { "hex" }));
}

/// Decodes an entry's value by its type (through core), naming the key on error. A range tombstone's "value"
/// is its end key, shown as is.
pub(crate) fn payload<'v>(key: &[u8], kind: ValueType, value: &'v [u8], ui: Ui) -> Result<Payload<'v>> {
    if kind == ValueType::RangeDeletion {
        return Ok(Payload::Value(value));
    }
    Payload::decode(kind, value).context(|| format!("the value of {}", text(key, ui)))
}

/// Puts an entry's key and decoded value into a JSON object: `value` for values, merge operands, deletions and
/// the user value of a `value_preferred_seqno` (with `preferred_seqno`); `columns` (`[{name, value}]`) for an
/// entity; `blob` (`{file_number, offset, size, compression, expiration}`) for a blob reference. One `encoding`
/// covers every byte string.
pub(crate) fn put_entry(obj: &mut Map<String, Value>, key: &[u8], raw: &[u8], p: &Payload<'_>, ui: Ui) {
    match p {
        Payload::Value(v) | Payload::Merge(v) => put_bytes(obj, &[("key", key), ("value", v)], ui),
        Payload::Deleted => put_bytes(obj, &[("key", key), ("value", raw)], ui),
        Payload::ValuePreferredSeqno { value, preferred_seqno } => {
            put_bytes(obj, &[("key", key), ("value", value)], ui);
            obj.insert("preferred_seqno".into(), json!(preferred_seqno));
        }
        Payload::Entity(e) => {
            let utf8 = all_utf8(std::iter::once(key).chain(e.columns().flat_map(|c| [c.name, c.value])), ui);
            obj.insert("key".into(), bytes_json(key, utf8));
            let cols: Vec<Value> = e
                .columns()
                .map(|c| match c.blob() {
                    // The value lives in a blob file: where, instead of the blob index bytes.
                    Some(b) => json!({"name": bytes_json(c.name, utf8), "blob": blob_json(b)}),
                    None => json!({"name": bytes_json(c.name, utf8), "value": bytes_json(c.value, utf8)}),
                })
                .collect();
            obj.insert("columns".into(), Value::Array(cols));
            obj.insert("encoding".into(), json!(if utf8 { "utf8" } else { "hex" }));
        }
        Payload::Blob(BlobRef::InlinedTtl { expiration, value }) => {
            put_bytes(obj, &[("key", key), ("value", value)], ui);
            obj.insert("blob".into(), json!({"inlined": true, "expiration": expiration}));
        }
        Payload::Blob(b @ BlobRef::Blob { .. }) => {
            put_bytes(obj, &[("key", key)], ui);
            obj.insert("blob".into(), blob_json(Ok(*b)));
        }
    }
}

/// A blob reference in a file as JSON (`{file_number, offset, size, compression, expiration}`), or
/// `{"error": ...}` when an entity column's blob index does not decode.
fn blob_json(b: sstkit_core::Result<BlobRef<'_>>) -> Value {
    match b {
        Ok(BlobRef::Blob { expiration, file_number, offset, size, compression }) => json!({
            "file_number": file_number, "offset": offset, "size": size,
            "compression": compression, "expiration": expiration}),
        Ok(BlobRef::InlinedTtl { expiration, .. }) => json!({"inlined": true, "expiration": expiration}),
        Err(e) => json!({ "error": e.to_string() }),
    }
}

/// An entity's columns for a person: `{name=value, ...}` (the default column's name is empty).
pub(crate) fn columns_text(e: &Entity<'_>, ui: Ui) -> String {
    let cols: Vec<String> = e
        .columns()
        .map(|c| match c.blob() {
            Some(Ok(b)) => format!("{}=<in {}>", text(c.name, ui), blob_text(&b)),
            Some(Err(err)) => format!("{}=<bad blob index: {err}>", text(c.name, ui)),
            None => format!("{}={}", text(c.name, ui), text(c.value, ui)),
        })
        .collect();
    format!("{{{}}}", cols.join(", "))
}

/// A blob reference for a person.
pub(crate) fn blob_text(b: &BlobRef<'_>) -> String {
    match b {
        BlobRef::InlinedTtl { expiration, .. } => format!("inlined with expiration {expiration}"),
        BlobRef::Blob { expiration, file_number, offset, size, compression } => {
            let mut s = format!("blob file {file_number} @{offset}+{size}");
            if *compression != 0 {
                s.push_str(&format!(" compression {compression}"));
            }
            if let Some(x) = expiration {
                s.push_str(&format!(" expiration {x}"));
            }
            s
        }
    }
}

/// The name of an entry type as printed.
pub(crate) fn kind_name(kind: ValueType) -> &'static str {
    kind.name()
}

/// One entry, as a line of text or a JSON object, its value decoded by its type (see [`put_entry`]).
/// `ts`: the entry's user-defined timestamp (tables whose comparator carries them), shown as `ts=N` after the
/// key in text and as `timestamp` in JSON.
pub(crate) fn entry_line(
    key: &[u8],
    ts: Option<u64>,
    seqno: u64,
    kind: ValueType,
    value: &[u8],
    ui: Ui,
) -> Result<String> {
    let p = payload(key, kind, value, ui)?;
    if ui.json {
        let mut o = Map::new();
        put_entry(&mut o, key, value, &p, ui);
        put_timestamp(&mut o, ts);
        o.insert("seqno".into(), json!(seqno));
        o.insert("kind".into(), json!(kind_name(kind)));
        return Ok(Value::Object(o).to_string());
    }
    let (k, name) = (key_text(key, ts, ui), kind_name(kind));
    Ok(match p {
        Payload::Value(v) if kind == ValueType::Value => format!("{k} => {}", text(v, ui)),
        Payload::Value(v) | Payload::Merge(v) => format!("{k} => {} [{name} seq {seqno}]", text(v, ui)),
        Payload::Deleted => format!("{k} => {} [{name} seq {seqno}]", text(value, ui)),
        Payload::ValuePreferredSeqno { value, preferred_seqno } => {
            format!("{k} => {} [{name} seq {seqno} preferred_seqno {preferred_seqno}]", text(value, ui))
        }
        Payload::Entity(e) => format!("{k} => {} [{name} seq {seqno}]", columns_text(&e, ui)),
        Payload::Blob(b @ BlobRef::InlinedTtl { value, .. }) => {
            format!("{k} => {} [{name} seq {seqno} {}]", text(value, ui), blob_text(&b))
        }
        Payload::Blob(b) => format!("{k} => ({}) [{name} seq {seqno}]", blob_text(&b)),
    })
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

/// A key for a person, with its user-defined timestamp if it has one: `key ts=N`.
pub(crate) fn key_text(key: &[u8], ts: Option<u64>, ui: Ui) -> String {
    match ts {
        Some(t) => format!("{} ts={t}", text(key, ui)),
        None => text(key, ui),
    }
}

/// Adds `"timestamp": N` to a JSON entry that has a user-defined timestamp.
pub(crate) fn put_timestamp(obj: &mut Map<String, Value>, ts: Option<u64>) {
    if let Some(t) = ts {
        obj.insert("timestamp".into(), json!(t));
    }
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
