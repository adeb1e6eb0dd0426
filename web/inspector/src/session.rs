//! One opened table: its metadata region, its block map and what the page learnt about each block, and the
//! questions the page asks (summary, block contents, index entries, a lookup step by step, verify-all with
//! statistics), answered as JSON.
//!
//! Sans-IO like core: the page reads the file in slices. A question whose answer needs bytes the session does
//! not hold answers [`Step::Need`] with the range; the page reads it ([`Inspector::provide`]) and asks again.
//! Every format decision is core's (`TableLayout`, `MetaLayout`, the block map); this module only walks and
//! reports.

use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::{json, Map, Value};
use sstkit_core::key::split_internal_key;
use sstkit_core::keybuf::DefaultKeyBuf;
use sstkit_core::metaindex::Metaindex;
use sstkit_core::properties::{prop_number, Properties};
use sstkit_core::table::{
    meta_start, BlockBytes, BlockKind, Entry, MetaLayout, MetaNeed, ReadOptions, TableBlock, TableFilter, TableLayout,
};
use sstkit_core::value::{BlobRef, Payload};
use sstkit_core::{BlockHandle, CompressionType, Error, ErrorKind, Part, ValueType};

use crate::stats::Stats;

/// The kinds of the block map, in the order the page's legend and the block codes use.
pub const KINDS: [&str; 11] = [
    "data",
    "index",
    "index partition",
    "filter",
    "filter partition",
    "properties",
    "range deletions",
    "compression dictionary",
    "meta",
    "metaindex",
    "footer",
];

/// Most entries one answer lists (a block's entries, a page of index entries).
pub const MAX_LISTED: usize = 5000;
/// Most bytes of fetched slices kept for the questions that asked for them.
const FETCHED_CAP: usize = 64 << 20;

/// A question's answer, or the byte range it needs first.
#[derive(Debug)]
pub enum Step<T> {
    /// Read `[offset, offset + len)` of the file, [`provide`](Inspector::provide) it and ask again.
    Need {
        /// First byte.
        offset: u64,
        /// How many bytes.
        len: u64,
    },
    /// The answer.
    Done(T),
}

/// What opening from a tail of the file gave.
#[derive(Debug)]
pub enum Opened {
    /// The metadata starts before the tail: read the file from this offset to its end and open again.
    Need {
        /// First byte of the metadata.
        from: u64,
    },
    /// The table is open.
    Ready(Box<Inspector>),
}

/// What is known of one block: nothing until it is read, then its checksum verdict and compression (and for a
/// data block its size uncompressed and its entry count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Seen {
    /// 0 not read yet, 1 verified, 2 corrupt.
    check: u8,
    compression: Option<CompressionType>,
    raw_len: Option<u64>,
    entries: Option<u64>,
}

/// A block of the map, owned.
#[derive(Debug, Clone)]
struct MapBlock {
    /// Index into [`KINDS`].
    kind: u8,
    /// The metaindex name of an unknown meta block.
    name: Vec<u8>,
    handle: BlockHandle,
    end: u64,
}

impl MapBlock {
    fn of(b: &TableBlock<'_>) -> MapBlock {
        let kind = KINDS.iter().position(|k| *k == b.kind.name()).unwrap_or(8) as u8;
        let name = if let BlockKind::OtherMeta(n) = b.kind { n.to_vec() } else { Vec::new() };
        MapBlock { kind, name, handle: b.handle, end: b.end() }
    }

    fn table_block(&self) -> TableBlock<'_> {
        let kind = match self.kind {
            0 => BlockKind::Data,
            1 => BlockKind::Index,
            2 => BlockKind::IndexPartition,
            3 => BlockKind::Filter,
            4 => BlockKind::FilterPartition,
            5 => BlockKind::Properties,
            6 => BlockKind::RangeDeletions,
            7 => BlockKind::CompressionDict,
            9 => BlockKind::Metaindex,
            10 => BlockKind::Footer,
            _ => BlockKind::OtherMeta(&self.name),
        };
        TableBlock { kind, handle: self.handle }
    }

    fn kind(&self) -> &'static str {
        KINDS[self.kind as usize]
    }
}

/// An opened table.
#[derive(Debug)]
pub struct Inspector {
    file_len: u64,
    base: u64,
    region: Vec<u8>,
    index_buf: Vec<u8>,
    meta: MetaLayout,
    blocks: Vec<MapBlock>,
    seen: Vec<Seen>,
    errors: BTreeMap<usize, String>,
    fetched: BTreeMap<u64, Vec<u8>>,
    stats: Stats,
    /// Why the block map stops short (a damaged index partition, say): the blocks found before it are kept.
    map_error: Option<String>,
}

fn read_options() -> ReadOptions {
    let mut o = ReadOptions::default();
    o.verify_checksums = true;
    o
}

/// An error as the page shows it: the message, its class (`corruption`, `unsupported`, …) and the offset.
pub fn error_json(e: &Error) -> Value {
    let kind = match e.kind() {
        ErrorKind::Corruption => "corruption",
        ErrorKind::Unsupported => "unsupported",
        ErrorKind::BufferTooSmall => "too big",
        _ => "invalid",
    };
    let offset = match e {
        Error::Corruption { offset, .. } | Error::ChecksumMismatch { offset, .. } => Some(*offset),
        _ => None,
    };
    json!({"error": e.to_string(), "error_kind": kind, "offset": offset})
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// One entry: `[key, seqno, kind, value, detail]`, byte strings in hex (the page shows them as hex or UTF-8);
/// `detail` is the value decoded by its type when that is more than the bytes (columns, a blob reference, a
/// preferred seqno) or why it does not decode.
fn entry_json(e: &Entry<'_>) -> Value {
    let detail = match Payload::decode(e.kind, e.value) {
        Ok(Payload::Entity(ent)) => {
            let cols: Vec<Value> = ent.columns().map(|c| json!([hex(c.name), hex(c.value)])).collect();
            json!({"columns": cols})
        }
        Ok(Payload::ValuePreferredSeqno { value, preferred_seqno }) => {
            json!({"value": hex(value), "preferred_seqno": preferred_seqno})
        }
        Ok(Payload::Blob(BlobRef::Blob { expiration, file_number, offset, size, compression })) => {
            json!({"blob": {"file_number": file_number, "offset": offset, "size": size,
                            "compression": compression, "expiration": expiration}})
        }
        Ok(Payload::Blob(BlobRef::InlinedTtl { expiration, value })) => {
            json!({"value": hex(value), "expiration": expiration})
        }
        Ok(_) => Value::Null,
        Err(err) => json!({"malformed": err.to_string()}),
    };
    json!([hex(e.user_key), e.seqno, e.kind.name(), hex(e.value), detail])
}

/// One index entry: `[separator, offset, size, first key, seqno]`; a separator (and a first key) stored as an
/// internal key is shown as its user key, with the separator's seqno.
fn index_entry_json(key: &[u8], h: BlockHandle, first: Option<&[u8]>, user_keys: bool) -> Value {
    fn split(k: &[u8], user_keys: bool) -> Option<(&[u8], u64)> {
        if user_keys {
            None
        } else {
            split_internal_key(k).ok()
        }
    }
    let (key, seqno) = split(key, user_keys).map_or((key, None), |(u, t)| (u, Some(t >> 8)));
    let first = first.map(|f| split(f, user_keys).map_or(f, |(u, _)| u));
    json!([hex(key), h.offset, h.size, first.map(hex), seqno])
}

fn handle_json(h: BlockHandle) -> Value {
    json!([h.offset, h.size])
}

impl Inspector {
    /// Opens from `tail`, the last bytes of a file of `file_len` bytes: [`Opened::Need`] when the metadata
    /// (footer, metaindex, properties, index and its partitions, filter, range deletions) starts before it.
    /// The blocks that lie in the metadata are verified now.
    pub fn open(tail: &[u8], file_len: u64) -> Result<Opened, Error> {
        let base = file_len
            .checked_sub(tail.len() as u64)
            .ok_or(Error::InvalidArgument { reason: "the tail is longer than the file" })?;
        let opts = read_options();
        match meta_start(tail, base, file_len, &opts)? {
            MetaNeed::Covered => {}
            MetaNeed::From(from) if from < base => return Ok(Opened::Need { from }),
            MetaNeed::From(_) => return Err(Error::corrupt(Part::Table, base, "metadata does not fit in the file")),
        }
        let mut index_buf = Vec::new();
        let meta = MetaLayout::parse_growing(tail, base, file_len, &opts, &mut index_buf)?;
        let mut me = Inspector {
            file_len,
            base,
            region: tail.to_vec(),
            index_buf,
            meta,
            blocks: Vec::new(),
            seen: Vec::new(),
            errors: BTreeMap::new(),
            fetched: BTreeMap::new(),
            stats: Stats::default(),
            map_error: None,
        };
        let mut blocks = Vec::new();
        let walk = me.layout()?.for_each_table_block(|b| {
            blocks.push(MapBlock::of(&b));
            Ok(())
        });
        me.map_error = walk.err().map(|e| e.to_string());
        blocks.sort_by_key(|b| b.handle.offset);
        me.seen = vec![Seen::default(); blocks.len()];
        me.blocks = blocks;
        for i in 0..me.blocks.len() {
            if me.blocks[i].handle.offset >= base {
                let seen = me.check(i, &me.region, base);
                me.record(i, seen);
            }
        }
        Ok(Opened::Ready(Box::new(me)))
    }

    /// The format view over the metadata.
    fn layout(&self) -> Result<TableLayout<'_>, Error> {
        TableLayout::new(&self.meta, &self.region, &self.index_buf, read_options())
    }

    /// Keeps `bytes`, the file from `offset`, for the question that asked for them.
    pub fn provide(&mut self, offset: u64, bytes: Vec<u8>) {
        let held: usize = self.fetched.values().map(Vec::len).sum();
        if held.saturating_add(bytes.len()) > FETCHED_CAP {
            self.fetched.clear();
        }
        self.fetched.insert(offset, bytes);
    }

    /// The bytes `[start, end)` and the file offset of the slice's first byte, if held.
    fn bytes(&self, start: u64, end: u64) -> Option<(&[u8], u64)> {
        if start >= self.base {
            return Some((&self.region, self.base));
        }
        let (&at, b) = self.fetched.range(..=start).next_back()?;
        (at.checked_add(b.len() as u64)? >= end).then_some((b.as_slice(), at))
    }

    /// Verifies block `i` (in `fetched`, file bytes from `at`); a data block is also decoded, each entry's value
    /// by its type. Statistics are the caller's.
    fn check(&self, i: usize, fetched: &[u8], at: u64) -> Result<Seen, (Seen, String)> {
        self.check_with(i, fetched, at, |_| {})
    }

    fn check_with(
        &self,
        i: usize,
        fetched: &[u8],
        at: u64,
        mut each: impl FnMut(&Entry<'_>),
    ) -> Result<Seen, (Seen, String)> {
        let bad = |e: Error| (Seen { check: 2, ..Seen::default() }, e.to_string());
        let layout = self.layout().map_err(bad)?;
        let b = &self.blocks[i];
        let contents = layout.verify_table_block(fetched, at, &b.table_block()).map_err(bad)?;
        let mut seen = Seen { check: 1, compression: Some(contents.compression), ..Seen::default() };
        if b.kind != 0 {
            return Ok(seen);
        }
        let fail =
            |e: Error| (Seen { check: 2, compression: Some(contents.compression), ..Seen::default() }, e.to_string());
        let mut buf = Vec::new();
        let d = layout.decode_block(fetched, at, b.handle, &mut buf).map_err(fail)?;
        let body = match d.bytes {
            BlockBytes::Fetched(body) => body,
            BlockBytes::Buffer(n) => &buf[..n],
        };
        let mut n = 0u64;
        let mut key = DefaultKeyBuf::new();
        layout
            .for_each_entry_in_block(body, b.handle, (Bound::Unbounded, Bound::Unbounded), &mut key, |e| {
                // Bytes that pass their checksum can still be malformed: decode each value by its type.
                Payload::decode(e.kind, e.value).map_err(|err| err.at(Part::DataBlock, b.handle.offset))?;
                each(&e);
                n += 1;
                Ok(true)
            })
            .map_err(fail)?;
        seen.raw_len = Some(body.len() as u64);
        seen.entries = Some(n);
        Ok(seen)
    }

    fn record(&mut self, i: usize, r: Result<Seen, (Seen, String)>) {
        match r {
            Ok(s) => {
                self.seen[i] = s;
                self.errors.remove(&i);
            }
            Err((s, msg)) => {
                self.seen[i] = s;
                self.errors.insert(i, msg);
            }
        }
    }

    /// The block whose extent holds `offset` (by its first byte).
    fn block_at(&self, offset: u64) -> Option<usize> {
        let i = self.blocks.partition_point(|b| b.handle.offset <= offset);
        i.checked_sub(1).filter(|&i| self.blocks[i].end > offset)
    }

    /// The footer, format facts, properties, meta blocks, range deletions and block counts.
    pub fn summary(&self) -> Result<Value, Error> {
        let layout = self.layout()?;
        let f = layout.footer();
        let info = layout.index_info();
        let props: Properties<'_> = self.meta.properties(&self.region)?;
        let mut plist = Vec::new();
        let mut bad = None;
        props.for_each(|name, raw| {
            let num = prop_number(name, raw).unwrap_or_else(|e| {
                bad.get_or_insert(e);
                None
            });
            let text = std::str::from_utf8(raw).ok().filter(|s| !s.contains('\0'));
            plist.push(json!([String::from_utf8_lossy(name), num, text, hex(raw)]));
        })?;
        if let Some(e) = bad {
            return Err(e);
        }
        let mut meta_blocks = Vec::new();
        self.meta.metaindex(&self.region)?.for_each(|name, h| {
            meta_blocks.push(json!([String::from_utf8_lossy(name), h.offset, h.size]));
            Ok(())
        })?;
        let tombstones: Vec<Value> = layout
            .range_tombstones()
            .map(|t| t.map(|t| json!([hex(t.start), hex(t.end), t.seqno])))
            .collect::<Result<_, _>>()?;
        let filter = match layout.filter() {
            Some(TableFilter::Full(_)) => "full filter",
            Some(TableFilter::LevelDb(_)) => "LevelDB filter block (one filter per 2 KiB of data offsets)",
            Some(TableFilter::Partitioned(_)) => "partitioned full filter",
            None if self.blocks.iter().any(|b| b.kind == 3) => "a filter this crate does not read (lookups skip it)",
            None => "none",
        };
        let mut by_kind = Map::new();
        for b in &self.blocks {
            let n = by_kind.entry(b.kind()).or_insert(json!(0));
            *n = json!(n.as_u64().unwrap_or(0) + 1);
        }
        let table = if f.format_version == 0 && layout.meta().properties(&self.region)?.comparator.is_none() {
            "LevelDB (legacy footer)"
        } else if f.format_version == 0 {
            "RocksDB block-based table (legacy footer)"
        } else {
            "RocksDB block-based table"
        };
        Ok(json!({
            "file_size": self.file_len,
            "metadata_from": self.base,
            "metadata_bytes": self.region.len(),
            "table": table,
            "footer": {
                "format_version": f.format_version,
                "checksum": f.checksum.name(),
                "base_context_checksum": f.base_context_checksum,
                "metaindex": handle_json(f.metaindex),
                "index": handle_json(f.index),
                "length": f.encoded_len(),
            },
            "index": {
                "keys": if info.user_keys { "user keys" } else { "internal keys" },
                "first_key": info.first_key,
                "partitioned": info.partitioned,
                "encoding": format!("{:?}", info.format),
            },
            "filter": filter,
            "global_seqno": layout.global_seqno(),
            "compression_dict_bytes": layout.compression_dict().len(),
            "properties": plist,
            "meta_blocks": meta_blocks,
            "range_deletions": tombstones,
            "blocks_by_kind": by_kind,
            "kinds": KINDS,
            "map_error": self.map_error,
        }))
    }

    /// How many blocks the map holds.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// The block map packed for the page, in file order: three little-endian `f64`s per block — `kind * 4 +
    /// check` (kind: an index into [`KINDS`]; check: 0 not read, 1 verified, 2 corrupt), offset, stored length
    /// (trailer included). A 1 GiB table has ~250 000 blocks: this is ~6 MB, read without parsing.
    pub fn blocks_packed(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24 * self.blocks.len());
        for (b, s) in self.blocks.iter().zip(&self.seen) {
            for v in [u64::from(b.kind) * 4 + u64::from(s.check), b.handle.offset, b.end - b.handle.offset] {
                out.extend_from_slice(&(v as f64).to_le_bytes());
            }
        }
        out
    }

    /// Block `i` of the map: `[kind, offset, stored length, check, compression, raw length, entries, name,
    /// error]` (`null` for what is not known yet; `error`: why it is corrupt).
    pub fn block_info(&self, i: usize) -> Value {
        let (Some(b), Some(s)) = (self.blocks.get(i), self.seen.get(i)) else {
            return json!({"error": "no such block", "error_kind": "invalid"});
        };
        json!([
            b.kind,
            b.handle.offset,
            b.end - b.handle.offset,
            s.check,
            s.compression.map(CompressionType::name),
            s.raw_len,
            s.entries,
            String::from_utf8_lossy(&b.name),
            self.errors.get(&i)
        ])
    }

    /// Block `i`: where it is, its checksum verdict and compression, and what it holds (a data block's
    /// entries, an index block's entries, the metaindex's names, the properties, the range deletions, the
    /// footer; the first bytes of the others).
    pub fn inspect(&mut self, i: usize) -> Result<Step<Value>, Error> {
        let b = self.blocks.get(i).ok_or(Error::InvalidArgument { reason: "no such block" })?;
        let (start, end) = (b.handle.offset, b.end);
        let Some((fetched, at)) = self.bytes(start, end) else {
            return Ok(Step::Need { offset: start, len: end - start });
        };
        let seen = self.check(i, fetched, at);
        let mut out = json!({
            "index": i, "kind": b.kind(), "name": String::from_utf8_lossy(&b.name),
            "offset": start, "size": b.handle.size, "stored": end - start,
        });
        match &seen {
            Ok(s) => {
                out["checksum"] = json!("ok");
                out["compression"] = json!(s.compression.map(CompressionType::name));
                match self.contents(i, fetched, at) {
                    Ok(c) => out["contents"] = c,
                    Err(e) => out["contents"] = error_json(&e),
                }
            }
            Err((_, msg)) => {
                out["checksum"] = json!("bad");
                out["error"] = json!(msg);
            }
        }
        self.record(i, seen);
        Ok(Step::Done(out))
    }

    /// What block `i` holds (verified already).
    fn contents(&self, i: usize, fetched: &[u8], at: u64) -> Result<Value, Error> {
        let layout = self.layout()?;
        let b = &self.blocks[i];
        let tb = b.table_block();
        let mut buf = Vec::new();
        Ok(match tb.kind {
            BlockKind::Data => {
                let d = layout.decode_block(fetched, at, b.handle, &mut buf)?;
                let body = match d.bytes {
                    BlockBytes::Fetched(body) => body,
                    BlockBytes::Buffer(n) => &buf[..n],
                };
                let (mut rows, mut total) = (Vec::new(), 0usize);
                let mut key = DefaultKeyBuf::new();
                let all = (Bound::Unbounded, Bound::Unbounded);
                layout.for_each_entry_in_block(body, b.handle, all, &mut key, |e| {
                    if rows.len() < MAX_LISTED {
                        rows.push(entry_json(&e));
                    }
                    total += 1;
                    Ok(true)
                })?;
                json!({"entries": rows, "total": total, "uncompressed": body.len()})
            }
            BlockKind::Index | BlockKind::IndexPartition => {
                let d = layout.decode_partition(fetched, at, b.handle, &mut buf)?;
                let body = match d.bytes {
                    BlockBytes::Fetched(body) => body,
                    BlockBytes::Buffer(n) => &buf[..n],
                };
                let (mut rows, mut total) = (Vec::new(), 0usize);
                let user_keys = layout.index_info().user_keys;
                layout.for_each_index_entry_in_partition(body, b.handle, |k, h, first| {
                    if rows.len() < MAX_LISTED {
                        rows.push(index_entry_json(k, h, first, user_keys));
                    }
                    total += 1;
                    Ok(())
                })?;
                let names = if tb.kind == BlockKind::Index && layout.index_info().partitioned {
                    "index partitions"
                } else {
                    "data blocks"
                };
                json!({"index_entries": rows, "total": total, "names": names, "uncompressed": body.len()})
            }
            BlockKind::Metaindex => {
                let c = layout.verify_table_block(fetched, at, &tb)?;
                let mut rows = Vec::new();
                Metaindex::parse(c.body)?.for_each(|name, h| {
                    rows.push(json!([String::from_utf8_lossy(name), h.offset, h.size]));
                    Ok(())
                })?;
                json!({"meta_blocks": rows})
            }
            BlockKind::Properties => {
                let c = layout.verify_table_block(fetched, at, &tb)?;
                let mut rows = Vec::new();
                Properties::parse(c.body)?.for_each(|name, raw| {
                    let num = prop_number(name, raw).ok().flatten();
                    let text = std::str::from_utf8(raw).ok().filter(|s| !s.contains('\0'));
                    rows.push(json!([String::from_utf8_lossy(name), num, text, hex(raw)]));
                })?;
                json!({"properties": rows})
            }
            BlockKind::RangeDeletions => {
                let rows: Vec<Value> = layout
                    .range_tombstones()
                    .map(|t| t.map(|t| json!([hex(t.start), hex(t.end), t.seqno])))
                    .collect::<Result<_, _>>()?;
                json!({"range_deletions": rows})
            }
            BlockKind::Footer => {
                let f = layout.footer();
                json!({"footer": {"format_version": f.format_version, "checksum": f.checksum.name(),
                    "metaindex": handle_json(f.metaindex), "index": handle_json(f.index),
                    "base_context_checksum": f.base_context_checksum}})
            }
            _ => {
                let c = layout.verify_table_block(fetched, at, &tb)?;
                json!({"first_bytes": hex(&c.body[..c.body.len().min(256)]), "length": c.body.len()})
            }
        })
    }

    /// Index entries `from..from + limit` (at most [`MAX_LISTED`]) that name data blocks, in order, as
    /// `[key, offset, size, first key, seqno]` (see `index_entry_json`), with the total.
    pub fn index_entries(&self, from: usize, limit: usize) -> Result<Value, Error> {
        let limit = limit.min(MAX_LISTED);
        let (mut rows, mut total) = (Vec::new(), 0usize);
        let layout = self.layout()?;
        let user_keys = layout.index_info().user_keys;
        layout.for_each_index_entry(|k, h, first| {
            if total >= from && rows.len() < limit {
                rows.push(index_entry_json(k, h, first, user_keys));
            }
            total += 1;
            Ok(())
        })?;
        Ok(json!({"from": from, "entries": rows, "total": total}))
    }

    /// Looks `key` up, reporting each step: the filter's verdict, the index step (through the partition of a
    /// partitioned index), the data block read and verified, and the result with range deletions applied.
    /// The data block read (and verified) is marked so on the map.
    pub fn lookup(&mut self, key: &[u8]) -> Result<Step<Value>, Error> {
        let (answer, read) = self.lookup_steps(key)?;
        if let Some((i, compression, raw_len)) = read {
            let was = self.seen[i];
            self.record(i, Ok(Seen { check: 1, compression: Some(compression), raw_len: Some(raw_len), ..was }));
        }
        Ok(answer)
    }

    /// [`lookup`](Self::lookup)'s answer, and the data block it read: its index, compression and size
    /// uncompressed.
    #[allow(clippy::type_complexity)]
    fn lookup_steps(&self, key: &[u8]) -> Result<(Step<Value>, Option<(usize, CompressionType, u64)>), Error> {
        let layout = self.layout()?;
        let mut steps = Vec::new();
        let mut step = |what: &str, text: String, block: Option<u64>| {
            let b = block.and_then(|o| self.block_at(o));
            steps.push(json!({"step": what, "text": text, "block": b}));
        };
        let verdict = |m: bool| if m { "may contain the key" } else { "proves the key absent" };
        // 1. The filter (a LevelDB filter answers per data block, after the index step).
        let pass = match layout.filter() {
            Some(TableFilter::Full(_)) => {
                let m = layout.may_contain(key);
                let at = self.blocks.iter().find(|b| b.kind == 3).map(|b| b.handle.offset);
                step("filter", format!("full filter: {}", verdict(m)), at);
                m
            }
            Some(TableFilter::Partitioned(_)) => match layout.filter_partition_for(key) {
                Some(x) => {
                    let Some((fetched, at)) = self.bytes(x.start(), x.end) else {
                        return Ok((Step::Need { offset: x.start(), len: x.stored_len() }, None));
                    };
                    let body = layout.filter_partition_body(fetched, at, x.handle);
                    let m = layout.filter_partition_may_match(body, key);
                    let text = format!("filter partition @{}+{}: {}", x.handle.offset, x.handle.size, verdict(m));
                    step("filter", text, Some(x.start()));
                    m
                }
                None => {
                    step("filter", "partitioned filter: no partition answers for the key (may match)".into(), None);
                    true
                }
            },
            Some(TableFilter::LevelDb(_)) => true,
            None => {
                step("filter", "no filter this crate reads: every key may match".into(), None);
                true
            }
        };
        if !pass {
            step("result", "not found (the filter says so; no data block read)".into(), None);
            return Ok((Step::Done(json!({"found": false, "steps": steps})), None));
        }
        // 2. The index.
        let mut part_buf = Vec::new();
        let extent = if layout.index_info().partitioned {
            match layout.partition_for(key)? {
                None => None,
                Some(p) => {
                    let text = format!("top-level index → partition @{}+{}", p.handle.offset, p.handle.size);
                    step("index", text, Some(p.start()));
                    let d = layout.decode_index_partition(p.handle, &mut part_buf)?;
                    let body = match d.bytes {
                        BlockBytes::Fetched(body) => body,
                        BlockBytes::Buffer(n) => &part_buf[..n],
                    };
                    layout.point_block_in_partition(body, p.handle, key)?
                }
            }
        } else {
            if let Some(TableFilter::LevelDb(_)) = layout.filter() {
                if let Some(h) = self.meta.find_block(&self.region, &self.index_buf, key)? {
                    let m = self.meta.may_contain(&self.region, key, Some(h.offset));
                    let at = self.blocks.iter().find(|b| b.kind == 3).map(|b| b.handle.offset);
                    step("filter", format!("LevelDB filter for the block @{}: {}", h.offset, verdict(m)), at);
                    if !m {
                        step("result", "not found (the filter says so; no data block read)".into(), None);
                        return Ok((Step::Done(json!({"found": false, "steps": steps})), None));
                    }
                }
            }
            layout.point_block(key)?
        };
        let Some(extent) = extent else {
            step("index", "no data block can hold the key".into(), None);
            let hit = layout.get_in_block(None, key, &mut DefaultKeyBuf::new())?;
            return Ok((Step::Done(self.result(hit, None, steps)), None));
        };
        let h = extent.handle;
        step("index", format!("index → data block @{}+{}", h.offset, h.size), Some(h.offset));
        // 3. The data block.
        let Some((fetched, at)) = self.bytes(extent.start(), extent.end) else {
            return Ok((Step::Need { offset: extent.start(), len: extent.stored_len() }, None));
        };
        let mut buf = Vec::new();
        let d = layout.decode_block(fetched, at, h, &mut buf)?;
        let body = match d.bytes {
            BlockBytes::Fetched(body) => body,
            BlockBytes::Buffer(n) => &buf[..n],
        };
        let text = format!(
            "read @{}+{}: checksum ok, {}, {} bytes uncompressed",
            h.offset,
            h.size,
            d.compression.name(),
            body.len()
        );
        step("block", text, Some(h.offset));
        // 4. The result.
        let mut kb = DefaultKeyBuf::new();
        let point = layout.point_in_block(body, h, key, &mut kb)?.map(|e| entry_json(&e));
        let mut kb = DefaultKeyBuf::new();
        let hit = layout.get_in_block(Some((body, h)), key, &mut kb)?;
        let read = self.block_at(h.offset).map(|i| (i, d.compression, body.len() as u64));
        Ok((Step::Done(self.result(hit, point, steps)), read))
    }

    fn result(&self, hit: Option<Entry<'_>>, point: Option<Value>, mut steps: Vec<Value>) -> Value {
        let text = match &hit {
            Some(e) if e.kind == ValueType::RangeDeletion => {
                format!("deleted by a range deletion at seq {} (the block's own entry is older or absent)", e.seqno)
            }
            Some(e) if e.is_deleted() => format!("deleted ({} at seq {})", e.kind.name(), e.seqno),
            Some(e) => format!("found: {} at seq {}", e.kind.name(), e.seqno),
            None => "not found".into(),
        };
        steps.push(json!({"step": "result", "text": text, "block": null}));
        let found = hit.as_ref().is_some_and(|e| !e.is_deleted());
        json!({"found": found, "entry": hit.as_ref().map(entry_json), "point_entry": point, "steps": steps})
    }

    /// Verifies every block that lies whole in `bytes` (the file from `start`); a data block is decoded too,
    /// its entries counted into the statistics. Starting at offset 0 starts a new pass. Answers the blocks
    /// found corrupt, where the next chunk starts (`next`) and, when the next block does not fit in a chunk
    /// starting there, how many bytes it needs (`need_len`).
    pub fn verify_chunk(&mut self, start: u64, bytes: &[u8]) -> Value {
        if start == 0 {
            self.stats = Stats::default();
        }
        let end = start.saturating_add(bytes.len() as u64);
        let mut i = self.blocks.partition_point(|b| b.handle.offset < start);
        let mut bad = Vec::new();
        let mut checked = 0u64;
        while i < self.blocks.len() && self.blocks[i].end <= end {
            let mut stats = std::mem::take(&mut self.stats);
            let r = self.check_with(i, bytes, start, |e| stats.entry(e.kind.name(), e.user_key.len(), e.value.len()));
            let b = &self.blocks[i];
            match &r {
                Ok(s) if b.kind == 0 => {
                    let compressed = s.compression.is_some_and(|c| c != CompressionType::None);
                    stats.data_block(b.handle.size, s.raw_len.unwrap_or(0), compressed);
                }
                _ => stats.other_block(),
            }
            self.stats = stats;
            if let Err((_, msg)) = &r {
                bad.push(json!([i, self.blocks[i].handle.offset, self.blocks[i].kind(), msg]));
            }
            self.record(i, r);
            checked += 1;
            i += 1;
        }
        let next = self.blocks.get(i).map_or(self.file_len, |b| b.handle.offset);
        let need_len = match self.blocks.get(i) {
            Some(b) if next <= start => b.end - b.handle.offset,
            _ => 0,
        };
        json!({"next": next, "need_len": need_len, "checked": checked, "bad": bad})
    }

    /// What `sstkit stats` shows (entries by kind, block and key/value size distributions, compression ratio)
    /// and what verify counted, from the last verify pass.
    pub fn stats(&self) -> Result<Value, Error> {
        let layout = self.layout()?;
        let mut v = self.stats.to_json();
        let tombstones = layout.range_tombstones().count();
        if tombstones > 0 {
            v["entries"]["range_delete"] = json!(tombstones);
        }
        let mut index_entries = 0u64;
        layout.for_each_index_entry(|_, _, _| {
            index_entries += 1;
            Ok(())
        })?;
        v["index_entries"] = json!(index_entries);
        v["file_size"] = json!(self.file_len);
        v["corrupt_blocks"] = json!(self.errors.len());
        Ok(v)
    }
}
