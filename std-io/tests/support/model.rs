//! Deterministic op lists and the checks that compare a written table with them.

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use sstkit::core::table::Table;
use sstkit::writer::{SstMetadata, WriteOp};
use sstkit_tests::{Item, OurTombstone, ToolEntry};

/// SplitMix64: a small deterministic generator.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// Next number.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// In `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    /// `len` pseudo-random bytes (compressible half the time).
    pub fn bytes(&mut self, len: usize) -> Vec<u8> {
        if self.below(2) == 0 {
            let b = b'a' + self.below(26) as u8;
            return vec![b; len];
        }
        (0..len).map(|_| self.next_u64() as u8).collect()
    }
}

/// The `i`-th key: `key` and 10 digits.
pub fn key(i: u64) -> Vec<u8> {
    format!("key{i:010}").into_bytes()
}

/// `n` sorted ops over keys `key(2i)`: mostly puts, some deletes, merges (if `merges`) and range deletions
/// `[key(2i) + "-r", key(2i+1))` that cover no point key.
pub fn mixed_ops(n: u64, value_len: usize, seed: u64, merges: bool) -> Vec<WriteOp> {
    let mut rng = Rng::new(seed);
    let mut ops = Vec::with_capacity(n as usize + n as usize / 16);
    for i in 0..n {
        let k = key(2 * i);
        let dice = rng.below(100);
        let len = value_len / 2 + rng.below(value_len as u64 + 1) as usize;
        let op = match dice {
            0..=79 => WriteOp::Put(k.clone(), rng.bytes(len)),
            80..=89 => WriteOp::Delete(k.clone()),
            _ if merges => WriteOp::Merge(k.clone(), rng.bytes(len / 4 + 1)),
            _ => WriteOp::Put(k.clone(), rng.bytes(len)),
        };
        ops.push(op);
        if rng.below(20) == 0 {
            let mut start = k.clone();
            start.extend_from_slice(b"-r");
            ops.push(WriteOp::DeleteRange(start, key(2 * i + 1)));
        }
    }
    ops
}

/// Only puts, `key(i)` for `i` in `range`, values of `value_len` bytes.
pub fn put_ops(range: std::ops::Range<u64>, value_len: usize, seed: u64) -> Vec<WriteOp> {
    let mut rng = Rng::new(seed);
    range.map(|i| WriteOp::Put(key(i), rng.bytes(value_len))).collect()
}

/// The ops as the harness's [`Item`]s.
pub fn to_items(ops: &[WriteOp]) -> Vec<Item> {
    ops.iter()
        .map(|op| match op.clone() {
            WriteOp::Put(k, v) => Item::Put(k, v),
            WriteOp::Delete(k) => Item::Delete(k),
            WriteOp::Merge(k, v) => Item::Merge(k, v),
            WriteOp::DeleteRange(s, e) => Item::DeleteRange(s, e),
        })
        .collect()
}

/// The point entries a table of `ops` holds (seqno 0 as read from an external file).
pub fn expected_points(ops: &[WriteOp]) -> Vec<ToolEntry> {
    sstkit_tests::point_entries(&to_items(ops), 0)
}

/// The range tombstones a table of `ops` holds.
pub fn expected_tombstones(ops: &[WriteOp]) -> Vec<OurTombstone> {
    sstkit_tests::range_deletions(&to_items(ops))
        .into_iter()
        .map(|(start, end)| OurTombstone { start, end, seqno: 0 })
        .collect()
}

/// Opens `bytes` with the core reader and asserts it holds exactly `ops` (both scan directions, tombstones,
/// every block checksum).
pub fn check_table(bytes: &[u8], ops: &[WriteOp]) {
    let read = sstkit_tests::read_table(bytes).unwrap_or_else(|e| panic!("reading the written table: {e}"));
    let want = expected_points(ops);
    assert_eq!(read.entries.len(), want.len(), "number of point entries");
    assert!(read.entries == want, "point entries differ from the input");
    assert!(read.backward == want, "backward scan differs from the input");
    assert_eq!(read.tombstones, expected_tombstones(ops), "range tombstones");
    assert_eq!(read.num_entries, Some(ops.len() as u64), "rocksdb.num.entries");
    assert!(read.blocks_verified > 0);
}

/// Asserts the metadata agrees with the bytes and with `ops`.
pub fn check_metadata(meta: &SstMetadata, bytes: &[u8], ops: &[WriteOp]) {
    assert_eq!(meta.stats.file_size, bytes.len() as u64, "file_size");
    let count = |f: fn(&WriteOp) -> bool| ops.iter().filter(|o| f(o)).count() as u64;
    assert_eq!(meta.stats.num_puts, count(|o| matches!(o, WriteOp::Put(..))), "puts");
    assert_eq!(meta.stats.num_deletions, count(|o| matches!(o, WriteOp::Delete(..))), "deletes");
    assert_eq!(meta.stats.num_merges, count(|o| matches!(o, WriteOp::Merge(..))), "merges");
    assert_eq!(meta.stats.num_range_deletions, count(|o| matches!(o, WriteOp::DeleteRange(..))), "range deletions");
    let points: Vec<&[u8]> = ops.iter().filter(|o| !matches!(o, WriteOp::DeleteRange(..))).map(|o| o.key()).collect();
    assert_eq!(meta.first_user_key.as_deref(), points.first().copied(), "first user key");
    assert_eq!(meta.last_user_key.as_deref(), points.last().copied(), "last user key");
    let ranges: Vec<(&[u8], &[u8])> = ops
        .iter()
        .filter_map(|o| match o {
            WriteOp::DeleteRange(s, e) => Some((s.as_slice(), e.as_slice())),
            _ => None,
        })
        .collect();
    let want_bounds = ranges.first().map(|(s, _)| (s.to_vec(), ranges.iter().map(|(_, e)| e.to_vec()).max().unwrap()));
    assert_eq!(meta.range_deletion_bounds, want_bounds, "range deletion bounds");
    assert_eq!(meta.stats.seqno_range(), Some((0, 0)));

    let table = Table::open(bytes).expect("open");
    let p = table.properties();
    assert_eq!(Some(meta.stats.data_size), p.data_size, "data size");
    assert_eq!(Some(meta.stats.index_size), p.index_size, "index size");
    assert_eq!(Some(meta.stats.filter_size), p.filter_size, "filter size");
    assert_eq!(Some(meta.stats.raw_key_size), p.raw_key_size, "raw key size");
    assert_eq!(Some(meta.stats.raw_value_size), p.raw_value_size, "raw value size");
    assert_eq!(Some(meta.stats.num_data_blocks), p.num_data_blocks, "data blocks");
    assert_eq!(Some(meta.stats.num_entries()), p.num_entries, "entries");
    assert_eq!(meta.format_version, table.footer().format_version);
    assert_eq!(meta.checksum, table.footer().checksum);
    // The handles the builder reported are the ones the footer points at.
    assert_eq!(meta.handles.index, table.footer().index, "index handle");
    assert_eq!(meta.handles.metaindex, table.footer().metaindex, "metaindex handle");
    assert_eq!(meta.handles.filter.is_some(), meta.stats.filter_size > 0, "filter handle");
    assert_eq!(meta.handles.range_del.is_some(), meta.stats.num_range_deletions > 0, "range-deletion handle");
    let mut props = BTreeMap::new();
    p.for_each(|n, v| {
        props.insert(String::from_utf8_lossy(n).into_owned(), v.to_vec());
    })
    .expect("properties");
    assert!(props.len() > 20, "a full properties block");
    assert_eq!(meta.properties, props, "properties map");
    assert_eq!(meta.property("rocksdb.external_sst_file.version"), Some(&2u32.to_le_bytes()[..]));
}

/// What `ldb --hex scan` shows after ingesting a table of `ops` into an empty DB: the puts (deletions and
/// range deletions of one external file do not hide its own keys, which share its seqno).
pub fn ldb_model(ops: &[WriteOp]) -> Vec<(Vec<u8>, Vec<u8>)> {
    ops.iter()
        .filter_map(|o| match o {
            WriteOp::Put(k, v) => Some((k.clone(), v.clone())),
            _ => None,
        })
        .collect()
}

/// Runs `sst_dump --verify_checksum` on the file and ingests it into a fresh DB with `ldb`, comparing the
/// scan with `want`. Panics when the tools are missing; returns `false` (after a loud SKIPPED) with `SSTKIT_SKIP_MISSING_TOOLS=1`.
pub fn interop_check(file: &FsPath, want: &[(Vec<u8>, Vec<u8>)]) -> bool {
    if sstkit_tests::require_tool(sstkit_tests::SST_DUMP).is_none()
        || sstkit_tests::require_tool(sstkit_tests::LDB).is_none()
    {
        return false;
    }
    sstkit_tests::sst_dump_verify(file).unwrap_or_else(|e| panic!("sst_dump verify {}: {e}", file.display()));
    let db = tempfile::tempdir().expect("tempdir");
    sstkit_tests::ldb_ingest(db.path(), file).unwrap_or_else(|e| panic!("ldb ingest {}: {e}", file.display()));
    let got = sstkit_tests::ldb_scan_hex(db.path()).unwrap_or_else(|e| panic!("ldb scan: {e}"));
    assert_eq!(got.len(), want.len(), "ldb scan row count after ingesting {}", file.display());
    assert!(got == want, "ldb scan differs from the model after ingesting {}", file.display());
    true
}
