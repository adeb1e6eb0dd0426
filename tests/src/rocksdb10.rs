//! RocksDB 10.4.2, reached through the PyPI package `rocksdict` 0.3.29 in a virtualenv.
//!
//! The venv is `$SSTKIT_ROCKSDICT_VENV` (default [`DEFAULT_ROCKSDICT_VENV`]); `scripts/test.sh` creates it.
//! Everything goes through one Python script, `tests/py/rocksdb10.py`, which takes a batch of tasks as JSON on
//! stdin and answers one JSON result per task, so a test matrix costs one Python start, not one per file.
//! Every DB is opened with `Options(raw_mode=True)`: rocksdict's default mode pickles keys and values, raw mode
//! stores the bytes as given under the bytewise comparator.
//!
//! What rocksdict 0.3.29 lacks, and how the script works around it:
//! * no setter for a built-in merge operator: [`ingest_task`] creates the DB, rewrites `merge_operator=` in its
//!   `OPTIONS-*` file to `StringAppendOperator` (operands joined with `,`) and reopens it with
//!   `Options.load_latest`;
//! * no `delete_range` on `SstFileWriter` (only put and delete), so RocksDB's range deletions come from a DB
//!   flush ([`db_files_task`]);
//! * no table-properties or `sst_dump` API: what RocksDB wrote is known from what the tasks asked it to write
//!   ([`DbModel`] encodes what a flush and a bottommost compaction keep).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::ours::Item;
use crate::tools::{run_tool, KeyValue, ToolEntry};

/// Default location of the rocksdict virtualenv (override with `SSTKIT_ROCKSDICT_VENV`).
pub const DEFAULT_ROCKSDICT_VENV: &str = "/tmp/sstkit-rocksdict-venv";
/// The rocksdict release the tests expect: it bundles RocksDB 10.4.2.
pub const ROCKSDICT_VERSION: &str = "0.3.29";

/// The venv's Python, if it imports rocksdict [`ROCKSDICT_VERSION`]. Used by
/// [`crate::find_tool`]`("rocksdict")`.
pub fn find_rocksdict_python() -> Result<PathBuf, String> {
    let venv = std::env::var_os("SSTKIT_ROCKSDICT_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_ROCKSDICT_VENV));
    let python = venv.join("bin").join("python");
    if !python.exists() {
        return Err(format!("{} not found", python.display()));
    }
    let run = run_tool(
        &python,
        &["-c", "import rocksdict; from importlib.metadata import version; print(version('rocksdict'))"],
        None,
    )?;
    if !run.success() {
        return Err(format!("{} cannot import rocksdict: {}", python.display(), run.stderr.trim()));
    }
    let found = run.stdout.trim();
    if found != ROCKSDICT_VERSION {
        return Err(format!(
            "{} has rocksdict {found}, the tests need {ROCKSDICT_VERSION} (RocksDB 10.4.2)",
            python.display()
        ));
    }
    Ok(python)
}

/// The driver script, `tests/py/rocksdb10.py`.
pub fn script_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("py").join("rocksdb10.py")
}

/// Runs `tasks` in one Python process with the venv's interpreter `python` and returns one result per task.
/// A task that RocksDB refused is a result with `"ok": false` and `"error"`; see [`expect_ok`].
pub fn run_tasks(python: &Path, tasks: &[Value]) -> Result<Vec<Value>, String> {
    let request = serde_json::to_vec(&json!({ "tasks": tasks })).map_err(|e| format!("encode tasks: {e}"))?;
    let script = script_path();
    let run = run_tool(python, &[script.as_os_str()], Some(&request))?;
    if !run.success() {
        return Err(run.describe());
    }
    let answer: Value = serde_json::from_str(&run.stdout)
        .map_err(|e| format!("bad JSON from the script ({e}):\n{}", run.describe()))?;
    let results = answer["results"].as_array().cloned().unwrap_or_default();
    if results.len() != tasks.len() {
        return Err(format!("{} tasks but {} results:\n{}", tasks.len(), results.len(), run.describe()));
    }
    Ok(results)
}

/// The result itself if it says `"ok": true`, else RocksDB's error message.
pub fn expect_ok(result: &Value) -> Result<&Value, String> {
    if result["ok"].as_bool() == Some(true) {
        Ok(result)
    } else {
        Err(result["error"].as_str().unwrap_or("no error message").to_string())
    }
}

/// Table options for RocksDB's writers (`BlockBasedOptions` and the compression of `Options`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableConfig {
    /// `format_version`; RocksDB 10.4.2 opens DBs with 2..=6 (writes 0 and 1 only in `SstFileWriter`).
    pub format_version: u32,
    /// 0 none, 1 CRC32c, 2 xxHash, 3 xxHash64, 4 XXH3.
    pub checksum: u8,
    /// `none`, `snappy`, `lz4`, `zstd` (rocksdict's `zlib` build stores blocks uncompressed).
    pub compression: &'static str,
    /// Full Bloom filter bits per key; 0 writes no filter.
    pub bloom_bits: u32,
    /// Target data block size.
    pub block_size: usize,
}

impl Default for TableConfig {
    /// RocksDB 10.4.2's defaults, without compression or filter: fv6, CRC32c, 4 KiB blocks.
    fn default() -> Self {
        TableConfig { format_version: 6, checksum: 1, compression: "none", bloom_bits: 0, block_size: 4096 }
    }
}

impl TableConfig {
    /// The `table` object of the script's tasks.
    pub fn json(&self) -> Value {
        json!({
            "format_version": self.format_version,
            "checksum": self.checksum,
            "compression": self.compression,
            "bloom_bits": self.bloom_bits,
            "block_size": self.block_size,
        })
    }

    /// A short name for messages and file names.
    pub fn name(&self) -> String {
        format!(
            "fv{}-ck{}-{}-{}-b{}",
            self.format_version,
            self.checksum,
            self.compression,
            if self.bloom_bits > 0 { "bloom" } else { "nofilter" },
            self.block_size
        )
    }
}

fn hx(b: &[u8]) -> String {
    hex::encode(b)
}

/// One entry for `SstFileWriter`: a put, or a delete when the value is `None`.
pub type SstEntry = (Vec<u8>, Option<Vec<u8>>);

/// A task writing `entries` (sorted, distinct keys) with `SstFileWriter` to `path`.
pub fn write_sst_task(path: &Path, table: &TableConfig, entries: &[SstEntry]) -> Value {
    let entries: Vec<Value> = entries
        .iter()
        .map(|(k, v)| match v {
            Some(v) => json!(["put", hx(k), hx(v)]),
            None => json!(["delete", hx(k)]),
        })
        .collect();
    json!({ "op": "write_sst", "path": path, "table": table.json(), "entries": entries })
}

/// What [`write_sst_task`] makes of `entries`, as sstkit must read it: seqno 0 (the global seqno of an
/// external file), puts as type 1, deletes as type 0.
pub fn sst_entries_as_tool(entries: &[SstEntry]) -> Vec<ToolEntry> {
    entries
        .iter()
        .map(|(k, v)| match v {
            Some(v) => ToolEntry::put(k, 0, v),
            None => ToolEntry::delete(k, 0),
        })
        .collect()
}

/// One write on a RocksDB DB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DbOp {
    /// `db.put(key, value)`.
    Put(Vec<u8>, Vec<u8>),
    /// `db.delete(key)`.
    Delete(Vec<u8>),
    /// `db.delete_range(start, end)`.
    DeleteRange(Vec<u8>, Vec<u8>),
}

/// A task writing `batches` into a new DB at `dir` (auto compactions off), flushing after each batch, then,
/// with `compact`, compacting everything into the bottommost level.
pub fn db_files_task(dir: &Path, table: &TableConfig, batches: &[Vec<DbOp>], compact: bool) -> Value {
    let batches: Vec<Vec<Value>> = batches
        .iter()
        .map(|b| {
            b.iter()
                .map(|op| match op {
                    DbOp::Put(k, v) => json!(["put", hx(k), hx(v)]),
                    DbOp::Delete(k) => json!(["delete", hx(k)]),
                    DbOp::DeleteRange(s, e) => json!(["delete_range", hx(s), hx(e)]),
                })
                .collect()
        })
        .collect();
    json!({ "op": "db_files", "dir": dir, "table": table.json(), "batches": batches, "compact": compact })
}

/// The answer to [`db_files_task`]: live files with their level.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbFiles {
    /// The file each flush made, in order.
    pub flushed: Vec<(PathBuf, u64)>,
    /// The live files after the compaction (empty without one).
    pub compacted: Vec<(PathBuf, u64)>,
    /// The DB's last sequence number.
    pub last_seqno: u64,
}

fn files(v: &Value) -> Vec<(PathBuf, u64)> {
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|f| (PathBuf::from(f[0].as_str().unwrap_or_default()), f[1].as_u64().unwrap_or(u64::MAX)))
                .collect()
        })
        .unwrap_or_default()
}

/// Parses the result of [`db_files_task`].
pub fn parse_db_files(result: &Value) -> Result<DbFiles, String> {
    let r = expect_ok(result)?;
    Ok(DbFiles {
        flushed: files(&r["flushed"]),
        compacted: files(&r["compacted"]),
        last_seqno: r["last_seqno"].as_u64().ok_or("no last_seqno")?,
    })
}

/// A range tombstone `(start, end, seqno)`.
pub type Tombstone = (Vec<u8>, Vec<u8>, u64);

/// What RocksDB 10.4.2 keeps, without snapshots, when the batches of a [`db_files_task`] are flushed and
/// compacted (observed with `sst_dump` 7.8.3 on fv5 output of the same code path):
/// * every write takes the next seqno from 1;
/// * a flush keeps the newest version of each key (put or delete), drops a version covered by a newer range
///   deletion of the same flush, and keeps the range deletions;
/// * a compaction into the bottommost level keeps only live puts, with seqno 0, and no range deletions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DbModel {
    /// Per flush: point entries in key order, and the range deletions.
    pub flushed: Vec<(Vec<ToolEntry>, Vec<Tombstone>)>,
    /// The bottommost file's entries.
    pub compacted: Vec<ToolEntry>,
    /// The last seqno used.
    pub last_seqno: u64,
}

impl DbModel {
    /// Runs the model over `batches`.
    pub fn of(batches: &[Vec<DbOp>]) -> DbModel {
        let mut seqno = 0u64;
        let mut flushed = Vec::new();
        let mut all_points: BTreeMap<Vec<u8>, ToolEntry> = BTreeMap::new();
        let mut all_tombs: Vec<Tombstone> = Vec::new();
        for batch in batches {
            let mut points: BTreeMap<Vec<u8>, ToolEntry> = BTreeMap::new();
            let mut tombs = Vec::new();
            for op in batch {
                seqno += 1;
                match op {
                    DbOp::Put(k, v) => {
                        points.insert(k.clone(), ToolEntry::put(k, seqno, v));
                    }
                    DbOp::Delete(k) => {
                        points.insert(k.clone(), ToolEntry::delete(k, seqno));
                    }
                    DbOp::DeleteRange(s, e) => tombs.push((s.clone(), e.clone(), seqno)),
                }
            }
            let covered = |e: &ToolEntry, tombs: &[Tombstone]| {
                tombs.iter().any(|(s, end, t)| s.as_slice() <= &e.user_key[..] && &e.user_key[..] < end && *t > e.seqno)
            };
            let kept: Vec<ToolEntry> = points.values().filter(|e| !covered(e, &tombs)).cloned().collect();
            for e in &kept {
                all_points.insert(e.user_key.clone(), e.clone());
            }
            all_tombs.extend(tombs.iter().cloned());
            flushed.push((kept, tombs));
        }
        let compacted = all_points
            .values()
            .filter(|e| {
                e.kind == 1
                    && !all_tombs
                        .iter()
                        .any(|(s, end, t)| s.as_slice() <= &e.user_key[..] && &e.user_key[..] < end && *t > e.seqno)
            })
            .map(|e| ToolEntry::put(&e.user_key, 0, &e.value))
            .collect();
        DbModel { flushed, compacted, last_seqno: seqno }
    }
}

/// A task that makes a new DB at `dir` whose table options carry a Bloom filter of `bloom_bits` (0: none)
/// and the `StringAppendOperator` merge operator, ingests `base` (an `SstFileWriter` file without a filter, so
/// the filter statistics count only `files`), ingests `files` in one call, iterates the whole DB and `get`s
/// each key of `probe`. The DB is removed afterwards.
pub fn ingest_task(dir: &Path, base: &[KeyValue], files: &[PathBuf], bloom_bits: u32, probe: &[Vec<u8>]) -> Value {
    let base: Vec<Value> = base.iter().map(|(k, v)| json!([hx(k), hx(v)])).collect();
    let probe: Vec<String> = probe.iter().map(|k| hx(k)).collect();
    json!({ "op": "ingest", "dir": dir, "base": base, "files": files, "bloom_bits": bloom_bits, "probe": probe })
}

/// The answer to [`ingest_task`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ingested {
    /// The DB's contents after the ingestion, by a full forward iteration.
    pub items: Vec<KeyValue>,
    /// `get` of each probed key.
    pub gets: Vec<Option<Vec<u8>>>,
    /// Growth of `rocksdb.bloom.filter.useful` over the gets (lookups a filter answered "absent").
    pub bloom_useful: u64,
    /// Growth of `rocksdb.bloom.filter.full.positive` over the gets.
    pub bloom_positive: u64,
}

fn unhex(v: &Value) -> Result<Vec<u8>, String> {
    hex::decode(v.as_str().ok_or_else(|| format!("not a hex string: {v}"))?).map_err(|e| format!("bad hex {v}: {e}"))
}

/// Parses the result of [`ingest_task`]; `Err` holds RocksDB's message when it refused the files.
pub fn parse_ingested(result: &Value) -> Result<Ingested, String> {
    let r = expect_ok(result)?;
    let items = r["items"]
        .as_array()
        .ok_or("no items")?
        .iter()
        .map(|kv| Ok((unhex(&kv[0])?, unhex(&kv[1])?)))
        .collect::<Result<_, String>>()?;
    let gets = r["gets"]
        .as_array()
        .ok_or("no gets")?
        .iter()
        .map(|v| if v.is_null() { Ok(None) } else { unhex(v).map(Some) })
        .collect::<Result<_, String>>()?;
    Ok(Ingested {
        items,
        gets,
        bloom_useful: r["bloom_useful"].as_u64().ok_or("no bloom_useful")?,
        bloom_positive: r["bloom_positive"].as_u64().ok_or("no bloom_positive")?,
    })
}

/// A task that creates a DB with `table` options, writes and flushes one key; RocksDB's error if it refuses.
pub fn open_db_task(dir: &Path, table: &TableConfig) -> Value {
    json!({ "op": "open_db", "dir": dir, "table": table.json() })
}

/// What a DB holds after ingesting one sstkit file of `items` (one global seqno, newer than `base`) over
/// `base`, with the `StringAppendOperator` merge operator: the file's range deletions hide base keys (not the
/// file's own keys, which share the tombstones' seqno), then the file's puts replace, deletes remove and merge
/// operands append to what is left (`base,operand`, or the operand alone).
pub fn ingest_model(base: &[KeyValue], items: &[Item]) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut db: BTreeMap<Vec<u8>, Vec<u8>> = base.iter().cloned().collect();
    for item in items {
        if let Item::DeleteRange(s, e) = item {
            db.retain(|k, _| !(s <= k && k < e));
        }
    }
    for item in items {
        match item {
            Item::Put(k, v) => {
                db.insert(k.clone(), v.clone());
            }
            Item::Delete(k) => {
                db.remove(k);
            }
            Item::Merge(k, v) => {
                let merged = match db.get(k) {
                    Some(old) => [old.as_slice(), b",", v].concat(),
                    None => v.clone(),
                };
                db.insert(k.clone(), merged);
            }
            Item::DeleteRange(..) => {}
        }
    }
    db
}
