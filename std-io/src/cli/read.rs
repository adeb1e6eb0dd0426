//! The read-only commands: scan, get, dump, props, stats, verify.

use std::ops::Bound;

use futures::TryStreamExt;
use serde_json::{json, Map, Value};
use sstkit_core::key::ValueType;

use sstkit_core::value::Payload;

use super::output::{
    blob_text, columns_text, entry_line, kind_name, payload, progress, put_bytes, put_entry, put_timestamp, text,
};
use super::{decode, exit, Encoding, Ui};
use crate::error::{Error, Result};
use crate::reader::SstReader;

async fn open(file: &str, ui: Ui) -> Result<SstReader> {
    super::target::open_reader(file, ui).await
}

fn arg(text: &str, enc: Encoding, what: &str) -> Result<Vec<u8>> {
    decode(text, enc).map_err(|e| Error::Invalid(format!("{what}: {e}")))
}

pub(crate) async fn scan(
    file: &str,
    (from, to): (Option<String>, Option<String>),
    limit: Option<u64>,
    enc: Encoding,
    as_of: Option<u64>,
    ui: Ui,
) -> Result<i32> {
    let r = open(file, ui).await?;
    let start = match from {
        Some(k) => Bound::Included(arg(&k, enc, "--from")?),
        None => Bound::Unbounded,
    };
    let end = match to {
        Some(k) => Bound::Excluded(arg(&k, enc, "--to")?),
        None => Bound::Unbounded,
    };
    let mut s = std::pin::pin!(r.scan_as_of((start, end), as_of.unwrap_or(u64::MAX)));
    let mut n = 0u64;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    while limit.is_none_or(|l| n < l) {
        let Some(e) = s.try_next().await? else { break };
        writeln_or_quit(&mut out, &entry_line(&e.user_key, e.timestamp, e.seqno, e.kind, &e.value, ui)?)?;
        n += 1;
    }
    if limit.is_none() || n < limit.unwrap_or(0) {
        for t in r.range_tombstones_at(u64::MAX)?.into_iter().filter(|t| as_of.is_none_or(|s| t.seqno <= s)) {
            let line = entry_line(&t.start, t.timestamp, t.seqno, ValueType::RangeDeletion, &t.end, ui)?;
            writeln_or_quit(&mut out, &line)?;
        }
    }
    flush(&mut out)?;
    Ok(0)
}

fn writeln_or_quit(out: &mut impl std::io::Write, line: &str) -> Result<()> {
    match writeln!(out, "{line}") {
        // A closed pipe (`| head`) is not an error worth a message.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        r => r.map_err(|e| Error::Io { context: "stdout".into(), source: e }),
    }
}

fn flush(out: &mut impl std::io::Write) -> Result<()> {
    match out.flush() {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.map_err(|e| Error::Io { context: "stdout".into(), source: e }),
    }
}

/// Looks a key up. A value counts as found (exit 0, the value on stdout): a plain value, the user value of a
/// `value_preferred_seqno` (without its preferred seqno), and an entity's default column (the column named
/// `""`, empty if it has none: what RocksDB's `Get` returns), with all the entity's columns on stderr. A
/// deletion (point or range), a merge operand (whose value depends on the merge operator) and a blob reference
/// (the value lives in a blob file, not in the table) are reported with their kind on stderr (exit 1), as is
/// an absent key. `--json` prints `found`, `kind` and the decoded value (see `put_entry`).
/// `read_ts`: in a table with user-defined timestamps, the newest version whose timestamp is ≤ it (`--read-ts`);
/// `as_of`: the newest version with seqno ≤ it (`--as-of`).
pub(crate) async fn get(
    file: &str,
    key: &str,
    (read_ts, as_of): (Option<u64>, Option<u64>),
    enc: Encoding,
    ui: Ui,
) -> Result<i32> {
    let r = open(file, ui).await?;
    let k = arg(key, enc, "KEY")?;
    let comparator = r.layout().comparator;
    if read_ts.is_some() && comparator == sstkit_core::comparator::Comparator::Bytewise {
        // A read timestamp would silently mean nothing here: say so instead.
        return Err(Error::Invalid(format!(
            "--read-ts: {file} has no user-defined timestamps (comparator {})",
            comparator.name()
        )));
    }
    let found = match as_of {
        Some(s) => r.get_as_of(&k, s).await?,
        None => r.get_at(&k, read_ts.unwrap_or(u64::MAX)).await?,
    };
    let mut out = std::io::stdout().lock();
    let p = match &found {
        Some(f) => Some(payload(&k, f.kind, &f.value, ui)?),
        None => None,
    };
    let value: Option<&[u8]> = match (&found, &p) {
        (Some(f), Some(Payload::Value(v))) if f.kind == ValueType::Value => Some(v),
        (_, Some(Payload::ValuePreferredSeqno { value, .. })) => Some(value),
        // A default column whose value lives in a blob file is not in the table: reported below, like a blob.
        (_, Some(Payload::Entity(e))) if !e.default_column().is_some_and(|c| c.in_blob) => {
            Some(e.default_value().unwrap_or(&[]))
        }
        _ => None,
    };
    let code = if value.is_some() { exit::OK } else { exit::NO };
    if ui.json {
        let mut o = Map::new();
        o.insert("found".into(), json!(found.is_some()));
        match (&found, &p) {
            (Some(f), Some(p)) => {
                put_entry(&mut o, &k, &f.value, p, ui);
                if let (Payload::Entity(_), Some(v)) = (p, value) {
                    // What RocksDB's Get returns; `encoding` already covers it (it is one of the columns).
                    let utf8 = o.get("encoding") == Some(&json!("utf8"));
                    let v = if utf8 { String::from_utf8_lossy(v).into_owned() } else { hex::encode(v) };
                    o.insert("value".into(), json!(v));
                }
                o.insert("kind".into(), json!(kind_name(f.kind)));
                put_timestamp(&mut o, f.timestamp);
                o.insert("seqno".into(), json!(f.seqno));
            }
            _ => {
                put_bytes(&mut o, &[("key", &k)], ui);
                o.insert("kind".into(), Value::Null);
            }
        }
        writeln_or_quit(&mut out, &Value::Object(o).to_string())?;
        return Ok(code);
    }
    let (Some(f), Some(p)) = (&found, &p) else {
        eprintln!("{}: not found", text(&k, ui));
        return Ok(code);
    };
    if let Some(ts) = f.timestamp {
        eprintln!("{}: ts={ts} seq {}", text(&k, ui), f.seqno);
    }
    if let Some(v) = value {
        let v = if ui.hex { hex::encode(v) } else { String::from_utf8_lossy(v).into_owned() };
        writeln_or_quit(&mut out, &v)?;
        if let Payload::Entity(e) = p {
            let which = if e.default_value().is_some() {
                "its default column printed"
            } else {
                "no default column: an empty value printed"
            };
            eprintln!(
                "{}: a wide-column entity at seq {} with {} columns ({which}): {}",
                text(&k, ui),
                f.seqno,
                e.len(),
                columns_text(e, ui)
            );
        }
        return Ok(code);
    }
    match p {
        _ if f.is_deleted() => eprintln!("{}: deleted ({} at seq {})", text(&k, ui), kind_name(f.kind), f.seqno),
        Payload::Merge(v) => eprintln!(
            "{}: a merge operand at seq {}, not a value (the value depends on the merge operator): {}",
            text(&k, ui),
            f.seqno,
            text(v, ui)
        ),
        Payload::Entity(e) => eprintln!(
            "{}: a wide-column entity at seq {} whose default column lives in a blob file: {}",
            text(&k, ui),
            f.seqno,
            columns_text(e, ui)
        ),
        Payload::Blob(b) => eprintln!(
            "{}: the value lives in a blob file, not in this table: a blob reference at seq {} ({})",
            text(&k, ui),
            f.seqno,
            blob_text(b)
        ),
        _ => eprintln!(
            "{}: a {} entry at seq {}, not a plain value: {}",
            text(&k, ui),
            kind_name(f.kind),
            f.seqno,
            text(&f.value, ui)
        ),
    }
    Ok(code)
}

pub(crate) async fn props(file: &str, ui: Ui) -> Result<i32> {
    let r = open(file, ui).await?;
    let list = r.properties_list()?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    // How the keys of a table with user-defined timestamps are read (not a stored property).
    let cmp = r.layout().comparator;
    let timestamps = if cmp.keys_have_timestamps() {
        Some("in every user key (8-byte u64 suffix, split off and shown as ts=N)")
    } else if cmp.timestamps_stripped() {
        Some("stripped when written (user.defined.timestamps.persisted = 0): keys read as plain keys")
    } else {
        None
    };
    if ui.json {
        let mut o = Map::new();
        if let Some(t) = timestamps {
            o.insert("sstkit.timestamps".into(), json!(t));
        }
        for (name, raw, num) in &list {
            let v = match (num, std::str::from_utf8(raw)) {
                (Some(n), _) => json!(n),
                (None, Ok(s)) if !ui.hex => json!(s),
                _ => json!({ "hex": hex::encode(raw) }),
            };
            o.insert(name.clone(), v);
        }
        writeln_or_quit(&mut out, &Value::Object(o).to_string())?;
    } else {
        for (name, raw, num) in &list {
            let v = match num {
                Some(n) => n.to_string(),
                None => text(raw, ui),
            };
            writeln_or_quit(&mut out, &format!("{name}: {v}"))?;
        }
        if let Some(t) = timestamps {
            writeln_or_quit(&mut out, &format!("user-defined timestamps: {t}"))?;
        }
    }
    flush(&mut out)?;
    Ok(0)
}

pub(crate) async fn dump(file: &str, entries: bool, ui: Ui) -> Result<i32> {
    let r = open(file, ui).await?;
    let l = *r.layout();
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let info = l.index_info;
    if ui.json {
        let meta: Vec<Value> =
            r.meta_blocks()?.into_iter().map(|(n, h)| json!({"name": n, "offset": h.offset, "size": h.size})).collect();
        let index: Vec<Value> = r
            .index_entries()
            .await?
            .into_iter()
            .map(|e| {
                let mut o = Map::new();
                put_bytes(&mut o, &[("key", &e.key)], ui);
                o.insert("offset".into(), json!(e.handle.offset));
                o.insert("size".into(), json!(e.handle.size));
                Value::Object(o)
            })
            .collect();
        let head = json!({
            "file": file,
            "file_size": r.file_size(),
            "footer": {
                "format_version": l.footer.format_version,
                "checksum": l.footer.checksum.name(),
                "metaindex": {"offset": l.footer.metaindex.offset, "size": l.footer.metaindex.size},
                "index": {"offset": l.footer.index.offset, "size": l.footer.index.size},
            },
            "index_key_is_user_key": info.user_keys,
            "index_first_key": info.first_key,
            "global_seqno": l.global_seqno,
            "meta_blocks": meta,
            "index": index,
        });
        writeln_or_quit(&mut out, &head.to_string())?;
    } else {
        writeln_or_quit(&mut out, &format!("file: {file} ({} bytes)", r.file_size()))?;
        writeln_or_quit(
            &mut out,
            &format!(
                "footer: format_version {}, checksum {}, metaindex @{}+{}, index @{}+{}",
                l.footer.format_version,
                l.footer.checksum.name(),
                l.footer.metaindex.offset,
                l.footer.metaindex.size,
                l.footer.index.offset,
                l.footer.index.size
            ),
        )?;
        writeln_or_quit(
            &mut out,
            &format!("index keys: {}", if info.user_keys { "user keys" } else { "internal keys" }),
        )?;
        if let Some(s) = l.global_seqno {
            writeln_or_quit(&mut out, &format!("global seqno: {s}"))?;
        }
        writeln_or_quit(&mut out, "meta blocks:")?;
        for (n, h) in r.meta_blocks()? {
            writeln_or_quit(&mut out, &format!("  {n} @{}+{}", h.offset, h.size))?;
        }
        writeln_or_quit(&mut out, "index:")?;
        for e in r.index_entries().await? {
            writeln_or_quit(&mut out, &format!("  {} -> @{}+{}", text(&e.key, ui), e.handle.offset, e.handle.size))?;
        }
        writeln_or_quit(&mut out, "data blocks:")?;
    }
    let mut lines = Vec::new();
    let mut bad: Option<Error> = None;
    r.for_each_data_block(|b| {
        let mut n = 0u64;
        let mut first = None;
        let mut last = None;
        let mut rows = Vec::new();
        r.block_entries(&b, |e| {
            n += 1;
            if first.is_none() {
                first = Some(e.user_key.to_vec());
            }
            last = Some(e.user_key.to_vec());
            if entries {
                match entry_line(e.user_key, e.timestamp, e.seqno, e.kind, e.value, ui) {
                    Ok(row) => rows.push(row),
                    Err(err) => {
                        bad.get_or_insert(err);
                    }
                }
            }
        })?;
        if ui.json {
            let mut o = Map::new();
            o.insert("block_offset".into(), json!(b.extent.handle.offset));
            o.insert("stored_size".into(), json!(b.extent.handle.size));
            o.insert("size".into(), json!(b.bytes.len()));
            o.insert("compression".into(), json!(b.compression.name()));
            o.insert("entries".into(), json!(n));
            let (first, last) = (first.as_deref().unwrap_or(&[]), last.as_deref().unwrap_or(&[]));
            put_bytes(&mut o, &[("first_key", first), ("last_key", last)], ui);
            lines.push(Value::Object(o).to_string());
        } else {
            lines.push(format!(
                "  @{}+{} {} ({} bytes uncompressed): {} entries, {} .. {}",
                b.extent.handle.offset,
                b.extent.handle.size,
                b.compression.name(),
                b.bytes.len(),
                n,
                text(first.as_deref().unwrap_or(&[]), ui),
                text(last.as_deref().unwrap_or(&[]), ui)
            ));
        }
        for row in rows {
            lines.push(if ui.json { row } else { format!("    {row}") });
        }
        Ok(())
    })
    .await?;
    if let Some(e) = bad {
        return Err(e);
    }
    for line in lines {
        writeln_or_quit(&mut out, &line)?;
    }
    if !ui.json {
        let tombs = r.range_tombstones()?;
        if !tombs.is_empty() {
            writeln_or_quit(&mut out, "range deletions:")?;
            for (s, e, q) in tombs {
                writeln_or_quit(&mut out, &format!("  [{}, {}) seq {q}", text(&s, ui), text(&e, ui)))?;
            }
        }
    }
    flush(&mut out)?;
    Ok(0)
}

/// A size distribution.
#[derive(Default)]
struct Dist {
    sizes: Vec<u64>,
}

impl Dist {
    fn add(&mut self, n: usize) {
        self.sizes.push(n as u64);
    }
    fn summary(&mut self) -> Value {
        self.sizes.sort_unstable();
        let n = self.sizes.len();
        if n == 0 {
            return json!({"count": 0});
        }
        let q = |p: f64| self.sizes[((n - 1) as f64 * p).round() as usize];
        let sum: u64 = self.sizes.iter().sum();
        json!({
            "count": n, "min": self.sizes[0], "p50": q(0.5), "p90": q(0.9), "p99": q(0.99),
            "max": self.sizes[n - 1], "mean": (sum as f64 / n as f64 * 10.0).round() / 10.0, "total": sum,
        })
    }
}

pub(crate) async fn stats(file: &str, ui: Ui) -> Result<i32> {
    let r = open(file, ui).await?;
    let (mut keys, mut values, mut stored, mut raw) =
        (Dist::default(), Dist::default(), Dist::default(), Dist::default());
    let mut kinds = std::collections::BTreeMap::<&'static str, u64>::new();
    let mut compressed_blocks = 0u64;
    let bar = progress(ui, Some(r.file_size()), "reading");
    r.for_each_data_block(|b| {
        stored.add(b.extent.handle.size as usize);
        raw.add(b.bytes.len());
        if b.compression != sstkit_core::CompressionType::None {
            compressed_blocks += 1;
        }
        bar.inc(b.extent.stored_len());
        r.block_entries(&b, |e| {
            keys.add(e.user_key.len());
            values.add(e.value.len());
            *kinds.entry(kind_name(e.kind)).or_default() += 1;
        })
    })
    .await?;
    bar.finish_and_clear();
    let tombstones = r.range_tombstones()?.len() as u64;
    if tombstones > 0 {
        kinds.insert("range_delete", tombstones);
    }
    let stored_total: u64 = stored.sizes.iter().sum();
    let raw_total: u64 = raw.sizes.iter().sum();
    let ratio = if stored_total == 0 { 1.0 } else { raw_total as f64 / stored_total as f64 };
    let v = json!({
        "file": file,
        "file_size": r.file_size(),
        "entries": kinds,
        "data_blocks": stored.sizes.len(),
        "compressed_blocks": compressed_blocks,
        "stored_block_size": stored.summary(),
        "uncompressed_block_size": raw.summary(),
        "compression_ratio": (ratio * 1000.0).round() / 1000.0,
        "key_size": keys.summary(),
        "value_size": values.summary(),
        "index_entries": r.index_entries().await?.len(),
    });
    let mut out = std::io::stdout().lock();
    if ui.json {
        writeln_or_quit(&mut out, &v.to_string())?;
    } else {
        print_tree(&mut out, &v, 0)?;
    }
    Ok(0)
}

fn print_tree(out: &mut impl std::io::Write, v: &Value, depth: usize) -> Result<()> {
    if let Value::Object(m) = v {
        for (k, v) in m {
            match v {
                Value::Object(_) => {
                    writeln_or_quit(out, &format!("{:indent$}{k}:", "", indent = depth * 2))?;
                    print_tree(out, v, depth + 1)?;
                }
                Value::String(s) => writeln_or_quit(out, &format!("{:indent$}{k}: {s}", "", indent = depth * 2))?,
                other => writeln_or_quit(out, &format!("{:indent$}{k}: {other}", "", indent = depth * 2))?,
            }
        }
    }
    Ok(())
}

pub(crate) async fn verify(file: &str, ui: Ui) -> Result<i32> {
    // Opening verifies the footer and every meta block (metaindex, properties, index, filter, range deletions).
    let r = match open(file, ui).await {
        Ok(r) => r,
        Err(e) => return report_corruption(file, e, ui),
    };
    let bar = progress(ui, Some(r.file_size()), "verifying");
    let mut blocks = r.meta_blocks().map(|m| m.len() as u64 + 2).unwrap_or(2);
    let mut entries = 0u64;
    // Each entry's value is decoded by its type too (entities, preferred seqnos, blob references): bytes
    // that pass their checksum can still be malformed.
    let mut bad_value: Option<Error> = None;
    let res = r
        .for_each_data_block(|b| {
            blocks += 1;
            bar.inc(b.extent.stored_len());
            r.block_entries(&b, |e| {
                entries += 1;
                if bad_value.is_none() {
                    bad_value = payload(e.user_key, e.kind, e.value, ui).err();
                }
            })
        })
        .await;
    // The filter partitions of a partitioned filter: no data-block read passes through them.
    let res = match res {
        Ok(()) => r.verify_filter_partitions().await.map(|n| blocks += n),
        Err(e) => Err(e),
    };
    bar.finish_and_clear();
    if let Err(e) = res.and(bad_value.map_or(Ok(()), Err)) {
        return report_corruption(file, e, ui);
    }
    let mut out = std::io::stdout().lock();
    if ui.json {
        let v = json!({"file": file, "ok": true, "blocks": blocks, "entries": entries, "file_size": r.file_size()});
        writeln_or_quit(&mut out, &v.to_string())?;
    } else {
        writeln_or_quit(&mut out, &format!("{file}: ok ({blocks} blocks, {entries} entries checked)"))?;
    }
    Ok(exit::OK)
}

/// Verify's answer for an error: corruption is the negative answer (exit 1, with the offset and block), an
/// unsupported feature is `UNSUPPORTED: <what>` (exit 4); anything else (I/O, a missing file) is an error.
fn report_corruption(file: &str, e: Error, ui: Ui) -> Result<i32> {
    // Every unsupported feature, an unsupported comparator included: a valid table, not a corrupt one.
    let unsupported = e.codec().is_some_and(sstkit_core::Error::is_unsupported);
    let (offset, block) = match e.codec() {
        Some(sstkit_core::Error::ChecksumMismatch { part, offset, .. })
        | Some(sstkit_core::Error::Corruption { part, offset, .. }) => (Some(*offset), Some(part.to_string())),
        Some(sstkit_core::Error::Unsupported { part, .. }) => (None, Some(part.to_string())),
        // The comparator is named by the properties.
        Some(sstkit_core::Error::UnsupportedComparator { .. }) => {
            (None, Some(sstkit_core::Part::Properties.to_string()))
        }
        _ => (None, None),
    };
    if e.codec().is_none() || super::exit_code(&e) == exit::USAGE {
        return Err(e);
    }
    let (status, code) = if unsupported { ("UNSUPPORTED", exit::UNSUPPORTED) } else { ("CORRUPT", exit::NO) };
    if ui.json {
        let v = json!({"file": file, "ok": false, "status": status, "offset": offset, "block": block, "error": e.to_string()});
        println!("{v}");
    }
    eprintln!("sstkit: {file}: {status}: {e}");
    Ok(code)
}
