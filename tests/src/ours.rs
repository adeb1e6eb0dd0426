//! Writing and reading tables with sstkit itself, in the shapes the tool
//! helpers use ([`ToolEntry`], files on disk), so interop tests can compare
//! both sides directly.

use std::path::Path;

use sstkit_core::keybuf::KeyBuf;
use sstkit_core::table::{Options, ReadBuf, ReadOptions, Table, TableBuilder, TableCursor, TableStats};
use sstkit_core::ValueType;

use crate::tools::ToolEntry;

/// One call on sstkit's [`TableBuilder`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// `put(key, value)`.
    Put(Vec<u8>, Vec<u8>),
    /// `delete(key)`.
    Delete(Vec<u8>),
    /// `merge(key, operand)`.
    Merge(Vec<u8>, Vec<u8>),
    /// `delete_range(start, end)`.
    DeleteRange(Vec<u8>, Vec<u8>),
}

impl Item {
    /// The point entry this item stores (seqno `seqno`), or `None` for a
    /// range deletion.
    pub fn tool_entry(&self, seqno: u64) -> Option<ToolEntry> {
        let (k, kind, v): (&[u8], ValueType, &[u8]) = match self {
            Item::Put(k, v) => (k, ValueType::Value, v),
            Item::Delete(k) => (k, ValueType::Deletion, &[]),
            Item::Merge(k, v) => (k, ValueType::Merge, v),
            Item::DeleteRange(..) => return None,
        };
        Some(ToolEntry { user_key: k.to_vec(), seqno, kind: kind as u8, value: v.to_vec() })
    }
}

/// The point entries of `items` as sst_dump prints them (all with `seqno`).
pub fn point_entries(items: &[Item], seqno: u64) -> Vec<ToolEntry> {
    items.iter().filter_map(|i| i.tool_entry(seqno)).collect()
}

/// The range deletions of `items`, as `(start, end)`.
pub fn range_deletions(items: &[Item]) -> Vec<(Vec<u8>, Vec<u8>)> {
    items
        .iter()
        .filter_map(|i| match i {
            Item::DeleteRange(s, e) => Some((s.clone(), e.clone())),
            _ => None,
        })
        .collect()
}

/// Builds a table from `items` (in call order) with sstkit's builder and a
/// growable workspace; returns the file bytes and the builder's stats.
pub fn build_table(opts: Options, items: &[Item]) -> Result<(Vec<u8>, TableStats), String> {
    let mut b = TableBuilder::new(Vec::<u8>::new(), opts).map_err(|e| format!("TableBuilder::new: {e}"))?;
    let mut file = Vec::new();
    for (n, item) in items.iter().enumerate() {
        let r = match item {
            Item::Put(k, v) => b.put(k, v),
            Item::Delete(k) => b.delete(k),
            Item::Merge(k, v) => b.merge(k, v),
            Item::DeleteRange(s, e) => b.delete_range(s, e),
        };
        r.map_err(|e| format!("item {n} {item:?}: {e}"))?;
        drain(&mut b, &mut file)?;
    }
    b.finish().map_err(|e| format!("finish: {e}"))?;
    drain(&mut b, &mut file)?;
    if !b.is_done() {
        return Err("builder not done after draining its output".to_string());
    }
    let stats = *b.stats();
    if stats.file_size != file.len() as u64 {
        return Err(format!("stats.file_size {} but {} bytes written", stats.file_size, file.len()));
    }
    Ok((file, stats))
}

fn drain(b: &mut TableBuilder<Vec<u8>>, file: &mut Vec<u8>) -> Result<(), String> {
    while let Some(chunk) = b.next_output().map_err(|e| format!("next_output: {e}"))? {
        file.extend_from_slice(chunk);
    }
    Ok(())
}

/// [`build_table`], then writes the bytes to `path`.
pub fn write_table(path: &Path, opts: Options, items: &[Item]) -> Result<TableStats, String> {
    let (bytes, stats) = build_table(opts, items)?;
    std::fs::write(path, &bytes).map_err(|e| format!("write {}: {e}", path.display()))?;
    Ok(stats)
}

/// A range tombstone as sstkit's reader returns it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct OurTombstone {
    /// First deleted user key.
    pub start: Vec<u8>,
    /// First user key not deleted.
    pub end: Vec<u8>,
    /// The tombstone's seqno (the global seqno for external files).
    pub seqno: u64,
}

/// Everything sstkit's reader gives for a table, decoded eagerly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OurRead {
    /// Point entries, iterating forward from `seek_to_first`.
    pub entries: Vec<ToolEntry>,
    /// Point entries, iterating backward from `seek_to_last` (then reversed,
    /// so it should equal `entries`).
    pub backward: Vec<ToolEntry>,
    /// Range tombstones in stored order.
    pub tombstones: Vec<OurTombstone>,
    /// The table's global seqno, if it is an external file.
    pub global_seqno: Option<u64>,
    /// `rocksdb.num.entries`, if present.
    pub num_entries: Option<u64>,
    /// Blocks checked by `verify_all`.
    pub blocks_verified: u64,
}

/// The `max_block_len` the helpers read with: 1 MiB, far above any block in
/// the test files. The default (64 MiB) is also what sstkit asks a buffer to
/// hold when a block does not record its uncompressed length (Zlib and LZ4
/// with format_version < 2), which would make every such read allocate and
/// zero 64 MiB (see `interop_read::legacy_zlib_index_opens_with_default_options`).
pub const MAX_BLOCK_LEN: usize = 1 << 20;

/// The read options of the helpers: the defaults with [`MAX_BLOCK_LEN`].
pub fn read_options() -> ReadOptions {
    let mut opts = ReadOptions::default();
    opts.max_block_len = MAX_BLOCK_LEN;
    opts
}

/// A buffer for a table's (maybe compressed) index block: four times the
/// file plus [`MAX_BLOCK_LEN`].
pub fn index_buf_for(bytes: &[u8]) -> Vec<u8> {
    vec![0u8; bytes.len() * 4 + MAX_BLOCK_LEN + 64 * 1024]
}

/// Opens `bytes` with sstkit ([`read_options`], decompressing the index if
/// needed) and runs `f`.
pub fn with_table<R>(bytes: &[u8], f: impl FnOnce(&Table<'_>) -> Result<R, String>) -> Result<R, String> {
    let mut index_buf = index_buf_for(bytes);
    let table = Table::open_with(bytes, read_options(), &mut index_buf).map_err(|e| format!("open: {e}"))?;
    f(&table)
}

fn to_tool(e: &sstkit_core::table::Entry<'_>) -> ToolEntry {
    ToolEntry { user_key: e.user_key.to_vec(), seqno: e.seqno, kind: e.kind as u8, value: e.value.to_vec() }
}

/// The entry a cursor is on, or `None` when it is not positioned.
pub fn current<B: ReadBuf, K: KeyBuf>(c: &TableCursor<'_, '_, B, K>) -> Result<Option<ToolEntry>, String> {
    Ok(c.entry().map_err(|e| format!("entry: {e}"))?.as_ref().map(to_tool))
}

/// Reads a whole table with sstkit: all entries both ways, range tombstones,
/// and `verify_all`.
pub fn read_table(bytes: &[u8]) -> Result<OurRead, String> {
    with_table(bytes, |t| {
        let blocks_verified = t.verify_all().map_err(|e| format!("verify_all: {e}"))?;
        Ok(OurRead {
            entries: scan_forward(t)?,
            backward: scan_backward(t)?,
            tombstones: tombstones(t)?,
            global_seqno: t.global_seqno(),
            num_entries: t.properties().num_entries,
            blocks_verified,
        })
    })
}

/// [`read_table`] on a file.
pub fn read_table_file(path: &Path) -> Result<OurRead, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    read_table(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}

/// All point entries, forward.
pub fn scan_forward(t: &Table<'_>) -> Result<Vec<ToolEntry>, String> {
    let mut out = Vec::new();
    let mut c = t.iter();
    c.seek_to_first().map_err(|e| format!("seek_to_first: {e}"))?;
    while let Some(e) = c.entry().map_err(|e| format!("entry #{}: {e}", out.len()))? {
        out.push(to_tool(&e));
        c.next().map_err(|e| format!("next after #{}: {e}", out.len()))?;
    }
    Ok(out)
}

/// All point entries, backward, returned in forward order.
pub fn scan_backward(t: &Table<'_>) -> Result<Vec<ToolEntry>, String> {
    let mut out = Vec::new();
    let mut c = t.iter();
    c.seek_to_last().map_err(|e| format!("seek_to_last: {e}"))?;
    while let Some(e) = c.entry().map_err(|e| format!("entry #-{}: {e}", out.len()))? {
        out.push(to_tool(&e));
        c.prev().map_err(|e| format!("prev after #-{}: {e}", out.len()))?;
    }
    out.reverse();
    Ok(out)
}

/// The range tombstones in stored order.
pub fn tombstones(t: &Table<'_>) -> Result<Vec<OurTombstone>, String> {
    t.range_tombstones()
        .map(|r| {
            r.map(|t| OurTombstone { start: t.start.to_vec(), end: t.end.to_vec(), seqno: t.seqno })
                .map_err(|e| format!("range tombstone: {e}"))
        })
        .collect()
}

/// What `Table::get` returns for `user_key`: `(seqno, kind, value)`.
pub fn get(t: &Table<'_>, user_key: &[u8]) -> Result<Option<(u64, u8, Vec<u8>)>, String> {
    get_with(t, user_key, &mut Vec::new())
}

/// [`get`] with a caller's buffer (reused across calls).
pub fn get_with(t: &Table<'_>, user_key: &[u8], buf: &mut Vec<u8>) -> Result<Option<(u64, u8, Vec<u8>)>, String> {
    let found = t.get(user_key, buf).map_err(|e| format!("get {}: {e}", hex::encode(user_key)))?;
    Ok(found.map(|l| (l.seqno, l.kind as u8, l.value.to_vec())))
}

/// Where a `seek(user_key)` on a new cursor lands: the entry, or `None` past
/// the end.
pub fn seek(t: &Table<'_>, user_key: &[u8]) -> Result<Option<ToolEntry>, String> {
    let mut c = t.iter();
    c.seek(user_key).map_err(|e| format!("seek {}: {e}", hex::encode(user_key)))?;
    let e = c.entry().map_err(|e| format!("entry after seek {}: {e}", hex::encode(user_key)))?;
    Ok(e.as_ref().map(to_tool))
}
