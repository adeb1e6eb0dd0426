//! Input formats of `sstkit build`: ldb's `key ==> value` lines, TSV, CSV and JSON lines.
//!
//! Every format says the same things: a put (key and value), a deletion (a key alone), and in the formats with
//! room for it a merge or a range deletion.

use std::io::Read;

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

/// Input bytes per batch: the parser reads this much (then up to the end of the line), parses it and hands it
/// to the writer in one piece.
const CHUNK: usize = 256 * 1024;

/// Records per batch at most (CSV and JSON lines, whose bytes are copied).
const MAX_ENTRIES: usize = 8192;

/// Where a key or value is: in the batch's input bytes, or in its decoded bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    decoded: bool,
}

const EMPTY: Span = Span { start: 0, end: 0, decoded: true };

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Put,
    Delete,
    Merge,
    DeleteRange,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    line: u64,
    kind: Kind,
    key: Span,
    value: Span,
}

/// Parsed records: keys and values point into the input bytes they were read from when those are the bytes
/// (UTF-8 encoding), or into decoded bytes; nothing is allocated per record. Batches are reused.
#[derive(Debug, Default)]
pub struct Batch {
    raw: Vec<u8>,
    decoded: Vec<u8>,
    entries: Vec<Entry>,
}

impl Batch {
    /// Records in the batch.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the batch holds no records.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Empties the batch, keeping its memory.
    pub fn clear(&mut self) {
        self.raw.clear();
        self.decoded.clear();
        self.entries.clear();
    }

    fn bytes(&self, s: Span) -> &[u8] {
        if s.decoded {
            &self.decoded[s.start..s.end]
        } else {
            &self.raw[s.start..s.end]
        }
    }

    /// Record `i`: its line number and op.
    pub fn get(&self, i: usize) -> (u64, WriteOp<&[u8]>) {
        let e = &self.entries[i];
        let key = self.bytes(e.key);
        let op = match e.kind {
            Kind::Put => WriteOp::Put(key, self.bytes(e.value)),
            Kind::Delete => WriteOp::Delete(key),
            Kind::Merge => WriteOp::Merge(key, self.bytes(e.value)),
            Kind::DeleteRange => WriteOp::DeleteRange(key, self.bytes(e.value)),
        };
        (e.line, op)
    }

    /// The records in order.
    pub fn iter(&self) -> impl Iterator<Item = (u64, WriteOp<&[u8]>)> + '_ {
        (0..self.entries.len()).map(|i| self.get(i))
    }

    /// The key record `i` sorts by.
    pub fn key(&self, i: usize) -> &[u8] {
        self.bytes(self.entries[i].key)
    }

    /// Line number of record `i`.
    pub fn line(&self, i: usize) -> u64 {
        self.entries[i].line
    }

    /// Whether record `i` is a range deletion.
    pub fn is_range(&self, i: usize) -> bool {
        self.entries[i].kind == Kind::DeleteRange
    }

    /// Whether the batch should be handed on (for batches filled with [`push`](Self::push)).
    pub fn is_full(&self) -> bool {
        self.entries.len() >= MAX_ENTRIES || self.raw.len() + self.decoded.len() >= CHUNK
    }

    /// Appends a record, copying its bytes.
    pub fn push(&mut self, line: u64, op: WriteOp<&[u8]>) {
        let (kind, key, value) = match op {
            WriteOp::Put(k, v) => (Kind::Put, k, Some(v)),
            WriteOp::Delete(k) => (Kind::Delete, k, None),
            WriteOp::Merge(k, v) => (Kind::Merge, k, Some(v)),
            WriteOp::DeleteRange(k, v) => (Kind::DeleteRange, k, Some(v)),
        };
        let key = copy(&mut self.decoded, key);
        let value = value.map_or(EMPTY, |v| copy(&mut self.decoded, v));
        self.entries.push(Entry { line, kind, key, value });
    }
}

fn copy(decoded: &mut Vec<u8>, bytes: &[u8]) -> Span {
    let start = decoded.len();
    decoded.extend_from_slice(bytes);
    Span { start, end: decoded.len(), decoded: true }
}

/// Where `part` (a subslice of `raw`, or not) starts in `raw`.
fn offset_in(raw: &[u8], part: &[u8]) -> Option<usize> {
    let (base, at) = (raw.as_ptr() as usize, part.as_ptr() as usize);
    (at >= base && at + part.len() <= base + raw.len()).then(|| at - base)
}

enum Source<R: Read> {
    Lines(R),
    Csv(Box<csv::Reader<R>>, csv::ByteRecord),
}

/// Reads records from an input in batches.
pub struct Parser<R: Read> {
    src: Source<R>,
    format: Format,
    key_enc: Encoding,
    value_enc: Encoding,
    /// The start of a line that did not fit into the last batch.
    carry: Vec<u8>,
    line: u64,
    bytes: u64,
    eof: bool,
}

impl<R: Read> Parser<R> {
    /// A parser of `input`.
    pub fn new(input: R, format: Format, key_enc: Encoding, value_enc: Encoding) -> Self {
        let src = match format {
            Format::Csv => Source::Csv(
                Box::new(
                    csv::ReaderBuilder::new()
                        .has_headers(false)
                        .flexible(true)
                        .buffer_capacity(CHUNK)
                        .from_reader(input),
                ),
                csv::ByteRecord::new(),
            ),
            _ => Source::Lines(input),
        };
        Parser { src, format, key_enc, value_enc, carry: Vec::new(), line: 0, bytes: 0, eof: false }
    }

    /// Input bytes read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// Empties `batch` and fills it with the next records. Returns whether there may be more. On an error
    /// (naming the line) the batch holds the records of the lines before it.
    pub fn fill(&mut self, batch: &mut Batch) -> Result<bool, String> {
        batch.clear();
        if self.eof {
            return Ok(false);
        }
        match &mut self.src {
            Source::Csv(..) => self.fill_csv(batch),
            Source::Lines(_) => self.fill_lines(batch),
        }
    }

    fn fill_csv(&mut self, batch: &mut Batch) -> Result<bool, String> {
        let Source::Csv(rdr, rec) = &mut self.src else { unreachable!("CSV parser") };
        while !batch.is_full() {
            let line = self.line + 1;
            if !rdr.read_byte_record(rec).map_err(|e| format!("line {line}: bad CSV: {e}"))? {
                self.eof = true;
                return Ok(false);
            }
            self.line = line;
            self.bytes = rec.position().map_or(self.bytes, |p| p.byte());
            let (fields, n) = first_fields(rec.iter());
            if n == 0 || (n == 1 && fields[0].is_empty()) {
                continue;
            }
            let Batch { raw, decoded, entries } = &mut *batch;
            let (kind, key, value) =
                fields_to_entry(raw, decoded, &fields[..n.min(3)], n, self.key_enc, self.value_enc)
                    .map_err(|e| format!("line {line}: {e}"))?;
            entries.push(Entry { line, kind, key, value });
        }
        Ok(true)
    }

    fn fill_lines(&mut self, batch: &mut Batch) -> Result<bool, String> {
        let Source::Lines(input) = &mut self.src else { unreachable!("line parser") };
        let Batch { raw, decoded, entries } = &mut *batch;
        raw.extend_from_slice(&self.carry);
        self.carry.clear();
        // Read a chunk, then on to the end of a line.
        let mut searched = 0;
        let end = loop {
            let want = if raw.len() < CHUNK { CHUNK - raw.len() } else { CHUNK };
            let n = input
                .by_ref()
                .take(want as u64)
                .read_to_end(raw)
                .map_err(|e| format!("line {}: {e}", self.line + 1))?;
            if n < want {
                self.eof = true;
                break raw.len();
            }
            if let Some(i) = memchr::memrchr(b'\n', &raw[searched..]) {
                break searched + i + 1;
            }
            searched = raw.len();
        };
        let text = &raw[..end];
        let mut start = 0;
        let mut ends = memchr::memchr_iter(b'\n', text);
        loop {
            let stop = match ends.next() {
                Some(nl) => nl,
                None if start < text.len() => text.len(),
                None => break,
            };
            let mut l = &text[start..stop];
            start = stop + 1;
            self.line += 1;
            self.bytes += l.len() as u64 + 1;
            if let [rest @ .., b'\r'] = l {
                l = rest;
            }
            if l.is_empty() {
                continue;
            }
            let (kind, key, value) = match self.format {
                Format::Tsv => {
                    let (fields, n) = first_fields(l.split(|&b| b == b'\t'));
                    fields_to_entry(text, decoded, &fields[..n.min(3)], n, self.key_enc, self.value_enc)
                }
                Format::Jsonl => json_to_op(l, self.key_enc, self.value_enc).map(|op| owned_entry(decoded, op)),
                _ => ldb_to_entry(text, decoded, l, self.key_enc, self.value_enc),
            }
            .map_err(|e| format!("line {}: {e}", self.line))?;
            entries.push(Entry { line: self.line, kind, key, value });
        }
        self.carry.extend_from_slice(&raw[end..]);
        raw.truncate(end);
        Ok(!self.eof)
    }
}

/// The first three fields and the number of fields.
fn first_fields<'a>(it: impl Iterator<Item = &'a [u8]>) -> ([&'a [u8]; 3], usize) {
    let mut fields: [&[u8]; 3] = [&[]; 3];
    let mut n = 0;
    for f in it {
        if n < 3 {
            fields[n] = f;
        }
        n += 1;
    }
    (fields, n)
}

fn owned_entry(decoded: &mut Vec<u8>, op: WriteOp<Vec<u8>>) -> (Kind, Span, Span) {
    match op {
        WriteOp::Put(k, v) => (Kind::Put, copy(decoded, &k), copy(decoded, &v)),
        WriteOp::Delete(k) => (Kind::Delete, copy(decoded, &k), EMPTY),
        WriteOp::Merge(k, v) => (Kind::Merge, copy(decoded, &k), copy(decoded, &v)),
        WriteOp::DeleteRange(k, v) => (Kind::DeleteRange, copy(decoded, &k), copy(decoded, &v)),
    }
}

/// A key or value: where it is in `raw` when taken as it is, otherwise decoded into `decoded`.
fn field(raw: &[u8], decoded: &mut Vec<u8>, f: &[u8], enc: Encoding, what: &str) -> Result<Span, String> {
    match enc {
        // Raw bytes are taken as they are, UTF-8 or not.
        Encoding::Utf8 => Ok(match offset_in(raw, f) {
            Some(start) => Span { start, end: start + f.len(), decoded: false },
            None => copy(decoded, f),
        }),
        _ => {
            let t = std::str::from_utf8(f).map_err(|_| format!("{what} is not UTF-8"))?.trim();
            let start = decoded.len();
            decode_into(t, enc, decoded).map_err(|e| format!("{what}: {e}"))?;
            Ok(Span { start, end: decoded.len(), decoded: true })
        }
    }
}

/// [`decode`] appending to `out` (which is left as it was on error).
fn decode_into(text: &str, enc: Encoding, out: &mut Vec<u8>) -> Result<(), String> {
    let start = out.len();
    let ok = match enc {
        Encoding::Utf8 => {
            out.extend_from_slice(text.as_bytes());
            true
        }
        Encoding::Hex => {
            let t = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
            out.resize(start + t.len() / 2, 0);
            // An odd length fails too: it does not fill `out` exactly.
            hex::decode_to_slice(t, &mut out[start..]).is_ok()
        }
        Encoding::Base64 => {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.decode_vec(text, out).is_ok()
        }
    };
    if ok {
        return Ok(());
    }
    // The error as `decode` words it.
    out.truncate(start);
    let v = decode(text, enc)?;
    out.extend_from_slice(&v);
    Ok(())
}

fn kind_of(name: &str, has_value: bool) -> Result<Kind, String> {
    let need = |k: Kind| if has_value { Ok(k) } else { Err(format!("op {name} needs a value")) };
    match name.trim().to_ascii_lowercase().as_str() {
        "put" | "p" | "" => need(Kind::Put),
        "delete" | "del" | "d" => Ok(Kind::Delete),
        "merge" | "m" => need(Kind::Merge),
        "delete_range" | "deleterange" | "range_delete" | "r" => need(Kind::DeleteRange),
        other => Err(format!("unknown op {other:?} (put, delete, merge, delete_range)")),
    }
}

/// Key, value and op fields (`fields` holds the first `n.min(3)` of `n`).
fn fields_to_entry(
    raw: &[u8],
    decoded: &mut Vec<u8>,
    fields: &[&[u8]],
    n: usize,
    key_enc: Encoding,
    value_enc: Encoding,
) -> Result<(Kind, Span, Span), String> {
    let key = field(raw, decoded, fields[0], key_enc, "key")?;
    match n {
        1 => Ok((Kind::Delete, key, EMPTY)),
        2 => Ok((Kind::Put, key, field(raw, decoded, fields[1], value_enc, "value")?)),
        3 => {
            let name = text(fields[2], "op")?;
            let is_range = matches!(
                name.trim().to_ascii_lowercase().as_str(),
                "delete_range" | "deleterange" | "range_delete" | "r"
            );
            let value = if is_range {
                field(raw, decoded, fields[1], key_enc, "end key")?
            } else {
                field(raw, decoded, fields[1], value_enc, "value")?
            };
            let kind = kind_of(&name, true)?;
            Ok((kind, key, if kind == Kind::Delete { EMPTY } else { value }))
        }
        n => Err(format!("{n} fields; expected key, value and an optional op")),
    }
}

/// Where the first ` ==> ` in `line` starts (keys rarely hold spaces: look for those first).
fn find_arrow(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b' ', line).find(|&at| line[at..].starts_with(ARROW))
}

const ARROW: &[u8] = b" ==> ";

fn ldb_to_entry(
    raw: &[u8],
    decoded: &mut Vec<u8>,
    line: &[u8],
    key_enc: Encoding,
    value_enc: Encoding,
) -> Result<(Kind, Span, Span), String> {
    match find_arrow(line) {
        Some(at) => {
            let key = field(raw, decoded, &line[..at], key_enc, "key")?;
            Ok((Kind::Put, key, field(raw, decoded, &line[at + ARROW.len()..], value_enc, "value")?))
        }
        None => {
            // `KEY ==>` with nothing after is a put of an empty value, as ldb reads it.
            if let Some(k) = line.strip_suffix(b" ==>") {
                return Ok((Kind::Put, field(raw, decoded, k, key_enc, "key")?, EMPTY));
            }
            Ok((Kind::Delete, field(raw, decoded, line, key_enc, "key")?, EMPTY))
        }
    }
}

fn text(field: &[u8], what: &str) -> Result<String, String> {
    String::from_utf8(field.to_vec()).map_err(|_| format!("{what} is not UTF-8"))
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
    let kind = kind_of(op, value.is_some())?;
    let value = value.unwrap_or_default();
    Ok(match kind {
        Kind::Put => WriteOp::Put(key, value),
        Kind::Delete => WriteOp::Delete(key),
        Kind::Merge => WriteOp::Merge(key, value),
        Kind::DeleteRange => WriteOp::DeleteRange(key, value),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, format: Format, k: Encoding, v: Encoding) -> Result<Vec<WriteOp<Vec<u8>>>, String> {
        let mut out = Vec::new();
        let mut p = Parser::new(text.as_bytes(), format, k, v);
        let mut b = Batch::default();
        loop {
            let more = p.fill(&mut b)?;
            out.extend(b.iter().map(|(_, op)| match op {
                WriteOp::Put(k, v) => WriteOp::Put(k.to_vec(), v.to_vec()),
                WriteOp::Delete(k) => WriteOp::Delete(k.to_vec()),
                WriteOp::Merge(k, v) => WriteOp::Merge(k.to_vec(), v.to_vec()),
                WriteOp::DeleteRange(k, v) => WriteOp::DeleteRange(k.to_vec(), v.to_vec()),
            }));
            if !more {
                return Ok(out);
            }
        }
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
