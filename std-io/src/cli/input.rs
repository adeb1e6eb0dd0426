//! Input formats of `sstkit build`: ldb's `key ==> value` lines, TSV, CSV and JSON lines.
//!
//! Every format says the same things: a put (key and value), a deletion (a key alone), and in the formats with
//! room for it a merge or a range deletion.

use std::io::BufRead;

use serde_json::Value;

use super::{decode, Encoding};
use crate::writer::WriteOp;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// From the file extension: .tsv, .csv, .jsonl/.ndjson/.json, otherwise ldb lines.
    Auto,
    /// `KEY ==> VALUE` per line (what `ldb dump` prints and `ldb write_extern_sst` reads); a line holding only
    /// a key (no ` ==> `) deletes it.
    Ldb,
    /// `KEY<TAB>VALUE[<TAB>OP]`; a line with only a key deletes it. OP is put, delete, merge or delete_range
    /// (VALUE is then the end key, exclusive).
    Tsv,
    /// Like TSV with commas and CSV quoting.
    Csv,
    /// One JSON object per line: `{"key": K, "value": V}`; `"op"` may be put, delete, merge or delete_range
    /// (with `"end"`), and `"delete": true` deletes.
    Jsonl,
}

impl Format {
    /// The format for this input path.
    pub fn resolve(self, path: &str) -> Format {
        if self != Format::Auto {
            return self;
        }
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".tsv") || lower.ends_with(".tab") {
            Format::Tsv
        } else if lower.ends_with(".csv") {
            Format::Csv
        } else if lower.ends_with(".jsonl") || lower.ends_with(".ndjson") || lower.ends_with(".json") {
            Format::Jsonl
        } else {
            Format::Ldb
        }
    }
}

/// One parsed input record with its line number.
pub struct Record {
    pub line: u64,
    pub op: WriteOp<Vec<u8>>,
}

/// Reads records from `input`, calling `f` for each, with bytes read so far (for progress).
pub fn read_records(
    input: impl BufRead,
    format: Format,
    key_enc: Encoding,
    value_enc: Encoding,
    mut f: impl FnMut(Record, u64) -> Result<(), String>,
) -> Result<(), String> {
    let mut bytes = 0u64;
    match format {
        Format::Csv => {
            let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(input);
            for (i, rec) in rdr.byte_records().enumerate() {
                let line = i as u64 + 1;
                let rec = rec.map_err(|e| format!("line {line}: bad CSV: {e}"))?;
                bytes = rec.position().map_or(bytes, |p| p.byte());
                let fields: Vec<&[u8]> = rec.iter().collect();
                if fields.is_empty() || (fields.len() == 1 && fields[0].is_empty()) {
                    continue;
                }
                let op = fields_to_op(&fields, key_enc, value_enc).map_err(|e| format!("line {line}: {e}"))?;
                f(Record { line, op }, bytes)?;
            }
        }
        _ => {
            for (i, l) in input.split(b'\n').enumerate() {
                let line = i as u64 + 1;
                let mut l = l.map_err(|e| format!("line {line}: {e}"))?;
                bytes += l.len() as u64 + 1;
                if l.last() == Some(&b'\r') {
                    l.pop();
                }
                if l.is_empty() {
                    continue;
                }
                let op = match format {
                    Format::Tsv => {
                        let fields: Vec<&[u8]> = l.split(|&b| b == b'\t').collect();
                        fields_to_op(&fields, key_enc, value_enc)
                    }
                    Format::Jsonl => json_to_op(&l, key_enc, value_enc),
                    _ => ldb_to_op(&l, key_enc, value_enc),
                }
                .map_err(|e| format!("line {line}: {e}"))?;
                f(Record { line, op }, bytes)?;
            }
        }
    }
    Ok(())
}

fn text(field: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(field.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
}

fn dec(field: &[u8], enc: Encoding, what: &str) -> Result<Vec<u8>, String> {
    match enc {
        // Raw bytes are taken as they are, UTF-8 or not.
        Encoding::Utf8 => Ok(field.to_vec()),
        _ => decode(text(field, what)?.trim(), enc).map_err(|e| format!("{what}: {e}")),
    }
}

fn op_of(name: &str, key: Vec<u8>, value: Option<Vec<u8>>) -> Result<WriteOp<Vec<u8>>, String> {
    let need = |v: Option<Vec<u8>>| v.ok_or_else(|| format!("op {name} needs a value"));
    Ok(match name.trim().to_ascii_lowercase().as_str() {
        "put" | "p" | "" => WriteOp::Put(key, need(value)?),
        "delete" | "del" | "d" => WriteOp::Delete(key),
        "merge" | "m" => WriteOp::Merge(key, need(value)?),
        "delete_range" | "deleterange" | "range_delete" | "r" => WriteOp::DeleteRange(key, need(value)?),
        other => return Err(format!("unknown op {other:?} (put, delete, merge, delete_range)")),
    })
}

fn fields_to_op(fields: &[&[u8]], key_enc: Encoding, value_enc: Encoding) -> Result<WriteOp<Vec<u8>>, String> {
    let key = dec(fields[0], key_enc, "key")?;
    match fields.len() {
        1 => Ok(WriteOp::Delete(key)),
        2 => Ok(WriteOp::Put(key, dec(fields[1], value_enc, "value")?)),
        3 => {
            let name = text(fields[2], "op")?;
            let is_range = matches!(
                name.trim().to_ascii_lowercase().as_str(),
                "delete_range" | "deleterange" | "range_delete" | "r"
            );
            let value =
                if is_range { dec(fields[1], key_enc, "end key")? } else { dec(fields[1], value_enc, "value")? };
            op_of(&name, key, Some(value))
        }
        n => Err(format!("{n} fields; expected key, value and an optional op")),
    }
}

fn ldb_to_op(line: &[u8], key_enc: Encoding, value_enc: Encoding) -> Result<WriteOp<Vec<u8>>, String> {
    const ARROW: &[u8] = b" ==> ";
    match line.windows(ARROW.len()).position(|w| w == ARROW) {
        Some(at) => {
            Ok(WriteOp::Put(dec(&line[..at], key_enc, "key")?, dec(&line[at + ARROW.len()..], value_enc, "value")?))
        }
        None => {
            // `KEY ==>` with nothing after is a put of an empty value, as ldb reads it.
            if let Some(k) = line.strip_suffix(b" ==>") {
                return Ok(WriteOp::Put(dec(k, key_enc, "key")?, Vec::new()));
            }
            Ok(WriteOp::Delete(dec(line, key_enc, "key")?))
        }
    }
}

fn json_to_op(line: &[u8], key_enc: Encoding, value_enc: Encoding) -> Result<WriteOp<Vec<u8>>, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("bad JSON: {e}"))?;
    let obj = v.as_object().ok_or("expected a JSON object")?;
    let field = |name: &str, enc: Encoding| -> Result<Option<Vec<u8>>, String> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => decode(s, enc).map(Some).map_err(|e| format!("{name}: {e}")),
            Some(_) => Err(format!("{name} must be a string")),
        }
    };
    let key = field("key", key_enc)?.ok_or("missing \"key\"")?;
    if obj.get("delete").and_then(Value::as_bool) == Some(true) {
        return Ok(WriteOp::Delete(key));
    }
    let op = obj.get("op").and_then(Value::as_str).unwrap_or("put");
    let lower = op.to_ascii_lowercase();
    let value = if matches!(lower.as_str(), "delete_range" | "deleterange" | "range_delete") {
        field("end", key_enc)?.or(field("value", key_enc)?)
    } else {
        field("value", value_enc)?
    };
    if lower == "put" && value.is_none() {
        return Err("missing \"value\" (use \"op\": \"delete\" to delete)".into());
    }
    op_of(op, key, value)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: Format, k: Encoding, v: Encoding) -> Result<Vec<WriteOp<Vec<u8>>>, String> {
        let mut out = Vec::new();
        read_records(text.as_bytes(), format, k, v, |r, _| {
            out.push(r.op);
            Ok(())
        })?;
        Ok(out)
    }

    #[test]
    fn every_format_says_the_same() {
        use Encoding::*;
        let want = vec![
            WriteOp::Put(b"a".to_vec(), b"1".to_vec()),
            WriteOp::Delete(b"b".to_vec()),
            WriteOp::Put(b"c".to_vec(), b"".to_vec()),
        ];
        assert_eq!(parse("a ==> 1\nb\nc ==>\n", Format::Ldb, Utf8, Utf8).unwrap(), want);
        assert_eq!(parse("a\t1\nb\nc\t\n", Format::Tsv, Utf8, Utf8).unwrap(), want);
        assert_eq!(parse("a,1\r\nb\n\"c\",\"\"\n", Format::Csv, Utf8, Utf8).unwrap(), want);
        assert_eq!(
            parse(
                "{\"key\":\"a\",\"value\":\"1\"}\n{\"key\":\"b\",\"delete\":true}\n{\"key\":\"c\",\"value\":\"\"}\n",
                Format::Jsonl,
                Utf8,
                Utf8
            )
            .unwrap(),
            want
        );
        assert_eq!(parse("0x61 ==> MQ==\n0x62\n0x63 ==> \n", Format::Ldb, Hex, Base64).unwrap(), want);
        assert_eq!(
            parse("k\tm\tmerge\nr\tz\tdelete_range\n", Format::Tsv, Utf8, Utf8).unwrap(),
            vec![WriteOp::Merge(b"k".to_vec(), b"m".to_vec()), WriteOp::DeleteRange(b"r".to_vec(), b"z".to_vec())]
        );
        let e = parse("a\t1\nzz\t1\t2\t3\n", Format::Tsv, Utf8, Utf8).unwrap_err();
        assert!(e.starts_with("line 2:"), "{e}");
        assert!(parse("0xZZ ==> 1\n", Format::Ldb, Hex, Utf8).unwrap_err().contains("line 1"));
        assert_eq!(Format::Auto.resolve("x.TSV"), Format::Tsv);
        assert_eq!(Format::Auto.resolve("x.txt"), Format::Ldb);
    }
}
