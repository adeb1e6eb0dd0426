//! Input formats of `sstkit build`: ldb's `key ==> value` lines, TSV, CSV and JSON lines.
//!
//! Every format says the same things: a put (key and value), a deletion, and in the formats with room for it a
//! merge or a range deletion. Parsing is strict: a line that does not follow its format is an error naming the
//! line (or, with `--skip-bad-lines`, counted and skipped); a deletion is only ever written by its explicit
//! marker, never inferred from a missing separator. Lines are bounded: a line longer than the key and value
//! limits allow is an error before it is read whole.

use std::io::Read;

use serde_json::Value;

use super::{decode, Encoding};
use crate::writer::WriteOp;

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// From the file extension: .tsv/.tab, .csv, .jsonl/.ndjson/.json, otherwise ldb lines.
    Auto,
    /// `KEY ==> VALUE` per line (what `ldb dump` prints and `ldb write_extern_sst` reads); `KEY ==>` puts an
    /// empty value; `KEY =/=>` deletes KEY.
    Ldb,
    /// `KEY<TAB>VALUE[<TAB>OP]`: OP is put, merge, delete (VALUE then empty: `KEY<TAB><TAB>delete`) or
    /// delete_range (VALUE is then the end key, exclusive).
    Tsv,
    /// Like TSV with commas and RFC 4180 quoting (a quoted field ends on its line).
    Csv,
    /// One JSON object per line: `{"key": K, "value": V}`; `"op"` may be put, merge, delete or delete_range
    /// (with `"end"`); `{"key": K, "delete": true}` deletes.
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

    /// The name `--input-format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::Ldb => "ldb",
            Format::Tsv => "tsv",
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
        }
    }
}

/// Input bytes per batch: the parser reads this much (then up to the end of the line), parses it and hands it
/// to the writer in one piece.
const CHUNK: usize = 256 * 1024;

/// Records per batch at most (batches filled with [`Batch::push`], whose bytes are copied).
const MAX_ENTRIES: usize = 8192;

/// Bytes of a bad line shown in an error message.
const SHOWN: usize = 80;

/// Bad lines whose messages `--skip-bad-lines` keeps (it counts all of them).
const KEPT_BAD: usize = 5;

/// Where a key or value is: in the batch's input bytes, or in its decoded bytes.
#[derive(Debug, Clone, Copy)]
struct Span {
    start: usize,
    end: usize,
    decoded: bool,
}

impl Span {
    fn len(&self) -> usize {
        self.end - self.start
    }
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
    /// About the most a batch filled by [`push`](Self::push) holds: its bytes (the decoded buffer, doubled as it
    /// grows; the input buffer kept from parsing) and its records.
    pub const MAX_BYTES: usize = 3 * CHUNK + MAX_ENTRIES * std::mem::size_of::<Entry>();

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

/// Limits on what one input line may hold.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest key (and range-deletion end) in bytes, after decoding.
    pub max_key: usize,
    /// Largest value in bytes, after decoding.
    pub max_value: usize,
    /// Count and skip lines that do not parse instead of failing.
    pub skip_bad_lines: bool,
}

/// Lines skipped by `--skip-bad-lines`.
#[derive(Debug, Default, Clone)]
pub struct BadLines {
    /// How many.
    pub count: u64,
    /// The messages of the first few.
    pub first: Vec<String>,
}

/// Reads records from an input in batches.
pub struct Parser<R: Read> {
    input: R,
    format: Format,
    key_enc: Encoding,
    value_enc: Encoding,
    limits: Limits,
    /// The longest line the limits allow, in input bytes (encodings and quoting make a line longer than the
    /// bytes it holds).
    max_line: usize,
    /// The start of a line that did not fit into the last batch.
    carry: Vec<u8>,
    line: u64,
    bytes: u64,
    eof: bool,
    bad: BadLines,
    /// Fields of the current CSV line (reused).
    csv_fields: Vec<std::ops::Range<usize>>,
    csv_unquoted: Vec<u8>,
}

/// How many input bytes one byte of a key or value may take at most.
fn expansion(enc: Encoding) -> usize {
    match enc {
        Encoding::Utf8 => 1,
        // Hex doubles; base64 is 4/3 (rounded up generously).
        Encoding::Hex | Encoding::Base64 => 2,
    }
}

impl<R: Read> Parser<R> {
    /// A parser of `input`.
    pub fn new(input: R, format: Format, key_enc: Encoding, value_enc: Encoding, limits: Limits) -> Self {
        let quoting = match format {
            // A JSON string may escape one byte as `\u00XX`.
            Format::Jsonl => 6,
            Format::Csv => 2,
            _ => 1,
        };
        let per_byte = quoting * expansion(key_enc).max(expansion(value_enc));
        let max_line = limits.max_key.saturating_add(limits.max_value).saturating_mul(per_byte).saturating_add(4096);
        Parser {
            input,
            format,
            key_enc,
            value_enc,
            limits,
            max_line,
            carry: Vec::new(),
            line: 0,
            bytes: 0,
            eof: false,
            bad: BadLines::default(),
            csv_fields: Vec::new(),
            csv_unquoted: Vec::new(),
        }
    }

    /// Input bytes read so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        self.bytes
    }

    /// The lines skipped so far (with `--skip-bad-lines`).
    pub fn bad_lines(&self) -> &BadLines {
        &self.bad
    }

    /// Empties `batch` and fills it with the next records. Returns whether there may be more. On an error
    /// (naming the line) the batch holds the records of the lines before it.
    pub fn fill(&mut self, batch: &mut Batch) -> Result<bool, String> {
        batch.clear();
        if self.eof {
            return Ok(false);
        }
        let Batch { raw, decoded, entries } = &mut *batch;
        raw.extend_from_slice(&self.carry);
        self.carry.clear();
        // Read a chunk, then on to the end of a line; no newline in more than `max_line` bytes is an error
        // before more is read.
        let mut searched = 0;
        let end = loop {
            let want = if raw.len() < CHUNK { CHUNK - raw.len() } else { CHUNK };
            let n = (&mut self.input)
                .take(want as u64)
                .read_to_end(raw)
                .map_err(|e| format!("line {}: reading the input: {e}", self.line + 1))?;
            if n < want {
                self.eof = true;
                break raw.len();
            }
            if let Some(i) = memchr::memrchr(b'\n', &raw[searched..]) {
                break searched + i + 1;
            }
            searched = raw.len();
            // No newline anywhere in `raw`: it is all one line.
            if raw.len() > self.max_line {
                return Err(self.too_long(self.line + 1, raw));
            }
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
            if l.len() > self.max_line {
                return Err(self.too_long(self.line, l));
            }
            if let [rest @ .., b'\r'] = l {
                l = rest;
            }
            if l.is_empty() {
                continue;
            }
            let mark = decoded.len();
            let parsed = match self.format {
                Format::Tsv => {
                    let (fields, n) = first_fields(l.split(|&b| b == b'\t'));
                    fields_to_entry(text, decoded, &fields[..n.min(3)], n, self.key_enc, self.value_enc, '\t')
                }
                Format::Csv => {
                    csv_split(l, &mut self.csv_fields, &mut self.csv_unquoted).and_then(|()| {
                        // Unquoted fields are slices of the line; quoted ones with `""` were unescaped into
                        // `csv_unquoted`.
                        let field_bytes = |r: &std::ops::Range<usize>| -> &[u8] {
                            if r.start > l.len() {
                                let s = r.start - (l.len() + 1);
                                &self.csv_unquoted[s..s + r.len()]
                            } else {
                                &l[r.clone()]
                            }
                        };
                        let n = self.csv_fields.len();
                        let (fields, _) = first_fields(self.csv_fields.iter().map(field_bytes));
                        fields_to_entry(text, decoded, &fields[..n.min(3)], n, self.key_enc, self.value_enc, ',')
                    })
                }
                Format::Jsonl => json_to_op(l, self.key_enc, self.value_enc).map(|op| owned_entry(decoded, op)),
                _ => ldb_to_entry(text, decoded, l, self.key_enc, self.value_enc),
            }
            .and_then(|(kind, key, value)| self.check_sizes(kind, key, value).map(|()| (kind, key, value)));
            match parsed {
                Ok((kind, key, value)) => entries.push(Entry { line: self.line, kind, key, value }),
                Err(why) => {
                    decoded.truncate(mark);
                    let msg = self.bad_line(l, &why);
                    if !self.limits.skip_bad_lines {
                        return Err(msg);
                    }
                    self.bad.count += 1;
                    if self.bad.first.len() < KEPT_BAD {
                        self.bad.first.push(msg);
                    }
                }
            }
        }
        self.carry.extend_from_slice(&raw[end..]);
        raw.truncate(end);
        Ok(!self.eof)
    }

    fn check_sizes(&self, kind: Kind, key: Span, value: Span) -> Result<(), String> {
        if key.len() > self.limits.max_key {
            return Err(format!("the key is {} bytes, over --max-key-size {}", key.len(), self.limits.max_key));
        }
        let (what, flag, max) = match kind {
            Kind::DeleteRange => ("range end key", "--max-key-size", self.limits.max_key),
            _ => ("value", "--max-value-size", self.limits.max_value),
        };
        if value.len() > max {
            return Err(format!("the {what} is {} bytes, over {flag} {max}", value.len()));
        }
        Ok(())
    }

    fn too_long(&self, line: u64, start: &[u8]) -> String {
        format!(
            "line {line}: longer than {} bytes, more than --max-key-size {} and --max-value-size {} allow; it starts \
             with {}",
            self.max_line,
            self.limits.max_key,
            self.limits.max_value,
            shown(start)
        )
    }

    /// The message for a line that does not parse: its number, why, the line (cut) and, if it looks like
    /// another format, which.
    fn bad_line(&self, line: &[u8], why: &str) -> String {
        let mut msg = format!("line {}: {why}: {}", self.line, shown(line));
        if let Some(other) = looks_like(line).filter(|&f| f != self.format) {
            msg.push_str(&format!(
                " (this looks like {} input, not {}: use --input-format {})",
                other.name(),
                self.format.name(),
                other.name()
            ));
        }
        msg
    }
}

/// A line for an error message: quoted, escaped, cut to [`SHOWN`] bytes.
fn shown(line: &[u8]) -> String {
    let mut s = String::from("\"");
    for &b in &line[..line.len().min(SHOWN)] {
        match b {
            b'"' => s.push_str("\\\""),
            b'\t' => s.push_str("\\t"),
            0x20..0x7f if b != b'\\' => s.push(b as char),
            _ => s.push_str(&format!("\\x{b:02x}")),
        }
    }
    s.push('"');
    if line.len() > SHOWN {
        s.push_str(&format!("… ({} bytes)", line.len()));
    }
    s
}

/// The format a line seems to be in, if any.
fn looks_like(line: &[u8]) -> Option<Format> {
    if line.first() == Some(&b'{') && serde_json::from_slice::<Value>(line).is_ok_and(|v| v.is_object()) {
        Some(Format::Jsonl)
    } else if find_arrow(line).is_some() || line.ends_with(b" ==>") || line.ends_with(DELETE_MARK) {
        Some(Format::Ldb)
    } else if memchr::memchr(b'\t', line).is_some() {
        Some(Format::Tsv)
    } else if memchr::memchr(b',', line).is_some() {
        Some(Format::Csv)
    } else {
        None
    }
}

/// Splits a CSV line into field ranges: ranges in `line`, or (for quoted fields holding `""`) ranges offset by
/// `line.len() + 1` into `unquoted`. Strict RFC 4180 on one line: a quoted field starts and ends with a quote
/// and is followed by a comma or the end of the line; a quote inside an unquoted field is an error.
fn csv_split(line: &[u8], fields: &mut Vec<std::ops::Range<usize>>, unquoted: &mut Vec<u8>) -> Result<(), String> {
    fields.clear();
    unquoted.clear();
    let base = line.len() + 1;
    let mut i = 0;
    loop {
        if line.get(i) == Some(&b'"') {
            let open = i;
            let start = i + 1;
            let (mut j, mut seg) = (start, start);
            // Where the field starts in `unquoted`, once a `""` made copying it necessary.
            let mut copied: Option<usize> = None;
            loop {
                let Some(q) = memchr::memchr(b'"', &line[j..]) else {
                    return Err(format!(
                        "unterminated quote (the field opened at byte {} does not end on this line)",
                        open + 1
                    ));
                };
                let at = j + q;
                if line.get(at + 1) == Some(&b'"') {
                    copied.get_or_insert(unquoted.len());
                    unquoted.extend_from_slice(&line[seg..=at]);
                    seg = at + 2;
                    j = at + 2;
                } else {
                    match copied {
                        Some(s) => {
                            unquoted.extend_from_slice(&line[seg..at]);
                            fields.push(base + s..base + unquoted.len());
                        }
                        None => fields.push(start..at),
                    }
                    i = at + 1;
                    break;
                }
            }
            match line.get(i) {
                None => return Ok(()),
                Some(b',') => i += 1,
                Some(_) => {
                    return Err(format!("text after the closing quote at byte {} (a quoted field ends there)", i))
                }
            }
        } else {
            let end = memchr::memchr(b',', &line[i..]).map_or(line.len(), |c| i + c);
            if let Some(q) = memchr::memchr(b'"', &line[i..end]) {
                return Err(format!("a quote inside an unquoted field at byte {} (quote the whole field)", i + q + 1));
            }
            fields.push(i..end);
            if end == line.len() {
                return Ok(());
            }
            i = end + 1;
        }
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

/// The op an OP column or `"op"` names.
fn kind_of(name: &str) -> Result<Kind, String> {
    match name.trim().to_ascii_lowercase().as_str() {
        "put" => Ok(Kind::Put),
        "delete" => Ok(Kind::Delete),
        "merge" => Ok(Kind::Merge),
        "delete_range" => Ok(Kind::DeleteRange),
        other => Err(format!("unknown op {other:?} (put, merge, delete, delete_range)")),
    }
}

/// Key, value and op fields of TSV and CSV (`fields` holds the first `n.min(3)` of `n`).
fn fields_to_entry(
    raw: &[u8],
    decoded: &mut Vec<u8>,
    fields: &[&[u8]],
    n: usize,
    key_enc: Encoding,
    value_enc: Encoding,
    sep: char,
) -> Result<(Kind, Span, Span), String> {
    let sep_name = if sep == '\t' { "<TAB>" } else { "," };
    match n {
        1 => Err(format!("only one field (a put is KEY{sep_name}VALUE; a deletion is KEY{sep_name}{sep_name}delete)")),
        2 => {
            let key = field(raw, decoded, fields[0], key_enc, "key")?;
            Ok((Kind::Put, key, field(raw, decoded, fields[1], value_enc, "value")?))
        }
        3 => {
            let name = std::str::from_utf8(fields[2]).map_err(|_| "the op is not UTF-8".to_string())?;
            let kind = kind_of(name)?;
            let key = field(raw, decoded, fields[0], key_enc, "key")?;
            let value = match kind {
                Kind::DeleteRange => field(raw, decoded, fields[1], key_enc, "end key")?,
                Kind::Delete if !fields[1].is_empty() => {
                    return Err(format!("a delete has no value (KEY{sep_name}{sep_name}delete)"))
                }
                Kind::Delete => EMPTY,
                _ => field(raw, decoded, fields[1], value_enc, "value")?,
            };
            Ok((kind, key, value))
        }
        n => Err(format!("{n} fields; expected KEY{sep_name}VALUE with an optional {sep_name}OP")),
    }
}

/// Where the first ` ==> ` in `line` starts (keys rarely hold spaces: look for those first).
fn find_arrow(line: &[u8]) -> Option<usize> {
    memchr::memchr_iter(b' ', line).find(|&at| line[at..].starts_with(ARROW))
}

const ARROW: &[u8] = b" ==> ";

/// The ldb format's deletion marker: `KEY =/=>`.
const DELETE_MARK: &[u8] = b" =/=>";

fn ldb_to_entry(
    raw: &[u8],
    decoded: &mut Vec<u8>,
    line: &[u8],
    key_enc: Encoding,
    value_enc: Encoding,
) -> Result<(Kind, Span, Span), String> {
    if let Some(at) = find_arrow(line) {
        let key = field(raw, decoded, &line[..at], key_enc, "key")?;
        return Ok((Kind::Put, key, field(raw, decoded, &line[at + ARROW.len()..], value_enc, "value")?));
    }
    // `KEY ==>` with nothing after is a put of an empty value, as ldb reads it.
    if let Some(k) = line.strip_suffix(b" ==>") {
        return Ok((Kind::Put, field(raw, decoded, k, key_enc, "key")?, EMPTY));
    }
    if let Some(k) = line.strip_suffix(DELETE_MARK) {
        return Ok((Kind::Delete, field(raw, decoded, k, key_enc, "key")?, EMPTY));
    }
    Err("no \" ==> \" separator (a put is `KEY ==> VALUE`; a deletion is `KEY =/=>`)".into())
}

fn json_to_op(line: &[u8], key_enc: Encoding, value_enc: Encoding) -> Result<WriteOp<Vec<u8>>, String> {
    let v: Value = serde_json::from_slice(line).map_err(|e| format!("bad JSON: {e}"))?;
    let obj = v.as_object().ok_or("expected a JSON object")?;
    if let Some(unknown) = obj.keys().find(|k| !matches!(k.as_str(), "key" | "value" | "op" | "end" | "delete")) {
        return Err(format!("unknown field {unknown:?} (key, value, op, end, delete)"));
    }
    let field = |name: &str, enc: Encoding| -> Result<Option<Vec<u8>>, String> {
        match obj.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => decode(s, enc).map(Some).map_err(|e| format!("{name}: {e}")),
            Some(_) => Err(format!("\"{name}\" must be a string")),
        }
    };
    let key = field("key", key_enc)?.ok_or("missing \"key\"")?;
    let delete = match obj.get("delete") {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err("\"delete\" must be true or false".into()),
    };
    let kind = match (obj.get("op"), delete) {
        (None | Some(Value::Null), true) => Kind::Delete,
        (None | Some(Value::Null), false) => Kind::Put,
        (Some(Value::String(op)), false) => kind_of(op)?,
        (Some(Value::String(op)), true) if kind_of(op)? == Kind::Delete => Kind::Delete,
        (Some(Value::String(_)), true) => return Err("\"delete\": true with another \"op\"".into()),
        (Some(_), _) => return Err("\"op\" must be a string".into()),
    };
    Ok(match kind {
        Kind::Delete => {
            if obj.get("value").is_some_and(|v| !v.is_null()) {
                return Err("a delete has no \"value\"".into());
            }
            WriteOp::Delete(key)
        }
        Kind::DeleteRange => {
            let end = match (field("end", key_enc)?, field("value", key_enc)?) {
                (Some(e), None) | (None, Some(e)) => e,
                (Some(_), Some(_)) => return Err("delete_range takes \"end\" (not also \"value\")".into()),
                (None, None) => return Err("delete_range needs \"end\"".into()),
            };
            WriteOp::DeleteRange(key, end)
        }
        Kind::Put | Kind::Merge => {
            let value =
                field("value", value_enc)?.ok_or("missing \"value\" (a deletion is {\"key\": K, \"delete\": true})")?;
            if obj.get("end").is_some() {
                return Err("\"end\" belongs to delete_range".into());
            }
            if kind == Kind::Put {
                WriteOp::Put(key, value)
            } else {
                WriteOp::Merge(key, value)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits { max_key: 1 << 20, max_value: 1 << 20, skip_bad_lines: false };

    type Ops = Vec<WriteOp<Vec<u8>>>;

    fn parse_with(text: &[u8], format: Format, k: Encoding, v: Encoding, l: Limits) -> Result<(Ops, BadLines), String> {
        let mut out = Vec::new();
        let mut p = Parser::new(text, format, k, v, l);
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
                return Ok((out, p.bad_lines().clone()));
            }
        }
    }

    fn parse(text: &str, format: Format, k: Encoding, v: Encoding) -> Result<Ops, String> {
        parse_with(text.as_bytes(), format, k, v, LIMITS).map(|(ops, _)| ops)
    }

    #[test]
    fn every_format_says_the_same() {
        use Encoding::*;
        let want = vec![
            WriteOp::Put(b"a".to_vec(), b"1".to_vec()),
            WriteOp::Delete(b"b".to_vec()),
            WriteOp::Put(b"c".to_vec(), b"".to_vec()),
        ];
        assert_eq!(parse("a ==> 1\nb =/=>\nc ==>\n", Format::Ldb, Utf8, Utf8).unwrap(), want);
        assert_eq!(parse("a\t1\nb\t\tdelete\nc\t\n", Format::Tsv, Utf8, Utf8).unwrap(), want);
        assert_eq!(parse("a,1\r\nb,,delete\n\"c\",\"\"\n", Format::Csv, Utf8, Utf8).unwrap(), want);
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
        assert_eq!(parse("0x61 ==> MQ==\n0x62 =/=>\n0x63 ==> \n", Format::Ldb, Hex, Base64).unwrap(), want);
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

    #[test]
    fn a_missing_separator_is_an_error_not_a_delete() {
        use Encoding::*;
        let e = parse("a ==> 1\nkey9 => value9\n", Format::Ldb, Utf8, Utf8).unwrap_err();
        assert!(e.starts_with("line 2: no \" ==> \" separator") && e.contains("\"key9 => value9\""), "{e}");
        let e = parse("a\t1\nb\n", Format::Tsv, Utf8, Utf8).unwrap_err();
        assert!(e.starts_with("line 2: only one field"), "{e}");
        let e = parse("a\t1\t\n", Format::Tsv, Utf8, Utf8).unwrap_err();
        assert!(e.contains("unknown op"), "{e}");
        let e = parse("a\tv\tdelete\n", Format::Tsv, Utf8, Utf8).unwrap_err();
        assert!(e.contains("a delete has no value"), "{e}");
        let e = parse("{\"key\":\"a\"}\n", Format::Jsonl, Utf8, Utf8).unwrap_err();
        assert!(e.contains("missing \\\"value\\\"") || e.contains("missing \"value\""), "{e}");
        // Another format is named.
        let e = parse("a\t1\n", Format::Ldb, Utf8, Utf8).unwrap_err();
        assert!(e.contains("looks like tsv input, not ldb: use --input-format tsv"), "{e}");
        let e = parse("a ==> 1\n", Format::Csv, Utf8, Utf8).unwrap_err();
        assert!(e.contains("looks like ldb input"), "{e}");
        // Long lines are cut in the message.
        let long = format!("{}\n", "x".repeat(500));
        let e = parse(&long, Format::Ldb, Utf8, Utf8).unwrap_err();
        assert!(e.len() < 300 && e.contains("(500 bytes)"), "{e}");
    }

    #[test]
    fn csv_quoting_is_strict() {
        use Encoding::*;
        assert_eq!(
            parse("\"a,b\",\"say \"\"hi\"\"\"\n\"\",x\n", Format::Csv, Utf8, Utf8).unwrap(),
            vec![WriteOp::Put(b"a,b".to_vec(), b"say \"hi\"".to_vec()), WriteOp::Put(b"".to_vec(), b"x".to_vec())]
        );
        let e = parse("a,1\nb,\"unterminated\nc,3\nd,4\n", Format::Csv, Utf8, Utf8).unwrap_err();
        assert!(e.starts_with("line 2: unterminated quote"), "{e}");
        let e = parse("a,\"x\"y\n", Format::Csv, Utf8, Utf8).unwrap_err();
        assert!(e.contains("after the closing quote"), "{e}");
        let e = parse("a,x\"y\n", Format::Csv, Utf8, Utf8).unwrap_err();
        assert!(e.contains("quote inside an unquoted field"), "{e}");
    }

    #[test]
    fn skip_bad_lines_counts_them() {
        use Encoding::*;
        let l = Limits { skip_bad_lines: true, ..LIMITS };
        let text: String =
            (0..10).map(|i| if i % 2 == 0 { format!("k{i} ==> v\n") } else { format!("bad{i}\n") }).collect();
        let (ops, bad) = parse_with(text.as_bytes(), Format::Ldb, Utf8, Utf8, l).unwrap();
        assert_eq!(ops.len(), 5);
        assert_eq!(bad.count, 5);
        assert_eq!(bad.first.len(), KEPT_BAD);
        assert!(bad.first[0].starts_with("line 2:"), "{:?}", bad.first);
    }

    #[test]
    fn lines_are_bounded() {
        use Encoding::*;
        let l = Limits { max_key: 10, max_value: 20, skip_bad_lines: false };
        let e = parse_with(b"0123456789A ==> v\n", Format::Ldb, Utf8, Utf8, l).unwrap_err();
        assert!(e.contains("the key is 11 bytes, over --max-key-size 10"), "{e}");
        let e = parse_with(b"k ==> 0123456789012345678901\n", Format::Ldb, Utf8, Utf8, l).unwrap_err();
        assert!(e.contains("value is 22 bytes"), "{e}");
        // An endless line stops after the limit, not at the end of the input.
        struct Zeros(u64);
        impl Read for Zeros {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                buf.fill(0);
                self.0 += buf.len() as u64;
                Ok(buf.len())
            }
        }
        let mut p = Parser::new(Zeros(0), Format::Ldb, Utf8, Utf8, l);
        let e = p.fill(&mut Batch::default()).unwrap_err();
        assert!(e.starts_with("line 1: longer than"), "{e}");
        assert!(p.input.0 <= 2 * CHUNK as u64, "read {} bytes", p.input.0);
    }
}
