//! Wrappers around RocksDB 7.8.3 `ldb`.
//!
//! Quirks handled here:
//! * ldb prints its success messages (`external SST files ingested`,
//!   `external SST file written to ...`) on **stderr**;
//! * `--create_if_missing` makes ldb ignore the DB's `OPTIONS-*` file (it then
//!   writes a fresh one with default options), so it is only passed when the
//!   DB does not exist yet;
//! * `ldb query` stops reading at the first key that is not found (it exits
//!   with rc 1 and `Failed: `), so [`ldb_multi_get_hex`] restarts it after
//!   each miss.

use std::path::{Path, PathBuf};

use crate::tools::{decode_tool_hex, find_tool, run_tool, to_ldb_hex, KeyValue, ToolRun, LDB};

/// Runs ldb with `--db=<db_dir>` followed by `args`.
pub(crate) fn run_ldb(db_dir: &Path, args: &[&str], stdin: Option<&[u8]>) -> Result<ToolRun, String> {
    let tool = find_tool(LDB)?;
    let mut all = vec![format!("--db={}", db_dir.display())];
    all.extend(args.iter().map(|s| s.to_string()));
    run_tool(&tool, &all, stdin)
}

pub(crate) fn require_ok(run: ToolRun) -> Result<ToolRun, String> {
    if run.success() {
        Ok(run)
    } else {
        Err(format!("ldb failed: {}", run.describe()))
    }
}

/// True if `db_dir` holds a RocksDB database (a `CURRENT` file).
pub fn db_exists(db_dir: &Path) -> bool {
    db_dir.join("CURRENT").is_file()
}

/// Creates an empty database in `db_dir` (which must not hold one yet) with
/// `ldb --create_if_missing load < /dev/null`, which opens and closes the DB
/// without writing a key. Then replaces option values in its latest
/// `OPTIONS-*` file (see [`patch_db_options`]); later ldb calls on the DB
/// (without `--create_if_missing`) use them.
///
/// Example: `create_db_with_options(dir, &[("filter_policy", "bloomfilter:10:false")])`
/// makes point lookups consult table filters.
pub fn create_db_with_options(db_dir: &Path, options: &[(&str, &str)]) -> Result<(), String> {
    if db_exists(db_dir) {
        return Err(format!("{} already holds a database", db_dir.display()));
    }
    require_ok(run_ldb(db_dir, &["--create_if_missing", "load"], Some(b""))?)?;
    if !options.is_empty() {
        patch_db_options(db_dir, options)?;
    }
    Ok(())
}

/// The newest `OPTIONS-NNNNNN` file of a database (the one ldb loads).
pub fn latest_options_file(db_dir: &Path) -> Result<PathBuf, String> {
    let mut best: Option<(u64, PathBuf)> = None;
    let entries = std::fs::read_dir(db_dir).map_err(|e| format!("read {}: {e}", db_dir.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(num) = name.strip_prefix("OPTIONS-").and_then(|n| n.parse::<u64>().ok()) {
            if best.as_ref().is_none_or(|(b, _)| num > *b) {
                best = Some((num, entry.path()));
            }
        }
    }
    best.map(|(_, p)| p).ok_or_else(|| format!("no OPTIONS file in {}", db_dir.display()))
}

/// The sections of an OPTIONS file that [`patch_db_options`] edits.
const PATCHED_SECTIONS: [&str; 3] =
    ["[DBOptions]", "[CFOptions \"default\"]", "[TableOptions/BlockBasedTable \"default\"]"];

/// Replaces `name=value` lines in the `[DBOptions]`, `[CFOptions "default"]`
/// and `[TableOptions/BlockBasedTable "default"]` sections of the latest
/// `OPTIONS-*` file. Every name must already occur in one of them (so a typo
/// fails instead of being ignored); names are the RocksDB option names, e.g.
/// `checksum`=`kCRC32c`, `format_version`=`3`,
/// `filter_policy`=`bloomfilter:10:false`, `index_type`=`kBinarySearchWithFirstKey`,
/// `data_block_index_type`=`kDataBlockBinaryAndHash`, `block_size`=`1024`,
/// `block_restart_interval`=`4`, `compression`=`kZSTD`,
/// `disable_auto_compactions`=`true`.
pub fn patch_db_options(db_dir: &Path, options: &[(&str, &str)]) -> Result<(), String> {
    let file = latest_options_file(db_dir)?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("read {}: {e}", file.display()))?;
    let mut found = vec![false; options.len()];
    let mut in_section = false;
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            in_section = PATCHED_SECTIONS.contains(&trimmed);
        }
        let mut replaced = false;
        if in_section {
            if let Some((name, _)) = trimmed.split_once('=') {
                if let Some(i) = options.iter().position(|(n, _)| *n == name) {
                    let indent = &line[..line.len() - line.trim_start().len()];
                    out.push_str(&format!("{indent}{name}={}\n", options[i].1));
                    found[i] = true;
                    replaced = true;
                }
            }
        }
        if !replaced {
            out.push_str(line);
            out.push('\n');
        }
    }
    let missing: Vec<&str> = options.iter().zip(&found).filter(|(_, f)| !**f).map(|((n, _), _)| *n).collect();
    if !missing.is_empty() {
        return Err(format!("options {missing:?} not found in {}", file.display()));
    }
    std::fs::write(&file, out).map_err(|e| format!("write {}: {e}", file.display()))
}

/// The value of option `name` in the latest `OPTIONS-*` file (first match in
/// any section), e.g. to check that a patch survived later ldb runs.
pub fn db_option_value(db_dir: &Path, name: &str) -> Result<Option<String>, String> {
    let file = latest_options_file(db_dir)?;
    let text = std::fs::read_to_string(&file).map_err(|e| format!("read {}: {e}", file.display()))?;
    Ok(text.lines().find_map(|l| l.trim().split_once('=').filter(|(n, _)| *n == name).map(|(_, v)| v.to_string())))
}

/// Ingests an external SST file: `ldb --db=D [--create_if_missing]
/// ingest_extern_sst F` (`--create_if_missing` only if D holds no DB yet, so
/// a DB made by [`create_db_with_options`] keeps its options). The file is
/// copied, not moved. Success requires rc 0 and `external SST files ingested`
/// in the output. Callers should also read the data back ([`ldb_scan_hex`]).
pub fn ldb_ingest(db_dir: &Path, sst: &Path) -> Result<(), String> {
    let sst = sst.canonicalize().map_err(|e| format!("{}: {e}", sst.display()))?;
    let file = sst.to_string_lossy().into_owned();
    let mut args = Vec::new();
    if !db_exists(db_dir) {
        args.push("--create_if_missing");
    }
    args.extend(["ingest_extern_sst", file.as_str()]);
    let run = run_ldb(db_dir, &args, None)?;
    if run.success()
        && (run.stdout.contains("external SST files ingested") || run.stderr.contains("external SST files ingested"))
    {
        Ok(())
    } else {
        Err(format!("ingestion rejected: {}", run.describe()))
    }
}

/// All key/value pairs of the DB in key order: `ldb --db=D --hex scan`,
/// parsing `0xKEY : 0xVALUE` lines.
pub fn ldb_scan_hex(db_dir: &Path) -> Result<Vec<KeyValue>, String> {
    let run = require_ok(run_ldb(db_dir, &["--hex", "scan"], None)?)?;
    run.stdout
        .lines()
        .filter(|l| !l.is_empty())
        .map(|line| {
            let (k, v) = line.split_once(" : ").ok_or_else(|| format!("unexpected ldb scan line {line:?}"))?;
            Ok((decode_tool_hex(k)?, decode_tool_hex(v)?))
        })
        .collect()
}

/// One point lookup: `ldb --db=D --hex get 0xKEY`. `Ok(None)` when ldb says
/// `NotFound` (rc 1, stderr `Failed: Get failed: NotFound: `). Each call
/// starts a process (about 10 ms); use [`ldb_multi_get_hex`] for many keys.
pub fn ldb_get_hex(db_dir: &Path, key: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let hex_key = to_ldb_hex(key);
    let run = run_ldb(db_dir, &["--hex", "get", &hex_key], None)?;
    if run.success() {
        let line = run.stdout.lines().next().unwrap_or("");
        return decode_tool_hex(line.trim()).map(Some);
    }
    if run.status.code() == Some(1) && run.stderr.contains("NotFound") {
        return Ok(None);
    }
    Err(format!("ldb get failed: {}", run.describe()))
}

/// Many point lookups (`DB::Get`, so table filters are consulted when the DB's
/// options name a filter policy) through `ldb --db=D --hex query` with one
/// `get 0xKEY` line per key. Returns one result per key, in order.
///
/// `ldb query` quits at the first miss, so it is restarted after each
/// `Not found`: the cost is one process per miss plus one.
pub fn ldb_multi_get_hex(db_dir: &Path, keys: &[Vec<u8>]) -> Result<Vec<Option<Vec<u8>>>, String> {
    let mut results: Vec<Option<Vec<u8>>> = Vec::with_capacity(keys.len());
    while results.len() < keys.len() {
        let start = results.len();
        let mut input = String::new();
        for k in &keys[start..] {
            input.push_str("get ");
            input.push_str(&to_ldb_hex(k));
            input.push('\n');
        }
        let run = run_ldb(db_dir, &["--hex", "query"], Some(input.as_bytes()))?;
        let mut missed = false;
        for line in run.stdout.lines() {
            let i = results.len();
            if i >= keys.len() {
                return Err(format!("ldb query printed too much: {}", run.describe()));
            }
            let want = to_ldb_hex(&keys[i]);
            if let Some(nf) = line.strip_prefix("Not found ") {
                if nf != want {
                    return Err(format!("ldb query: miss for {nf}, expected {want}"));
                }
                results.push(None);
                missed = true;
                break;
            }
            let (k, v) = line
                .split_once(" ==> ")
                .ok_or_else(|| format!("unexpected ldb query line {line:?}: {}", run.describe()))?;
            if decode_tool_hex(k)? != keys[i] {
                return Err(format!("ldb query answered {k} for {want}"));
            }
            results.push(Some(decode_tool_hex(v)?));
        }
        let clean_exit = run.success() && run.stderr.trim().is_empty();
        let miss_exit = missed && run.status.code() == Some(1) && run.stderr.trim() == "Failed:";
        if !(clean_exit || miss_exit) {
            return Err(format!("ldb query failed: {}", run.describe()));
        }
        if results.len() == start {
            return Err(format!("ldb query made no progress: {}", run.describe()));
        }
    }
    Ok(results)
}

/// A range tombstone as `ldb list_file_range_deletes` prints it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RangeTombstone {
    /// The SST file's name (e.g. `000012.sst`), without its directory.
    pub file_name: String,
    /// Begin user key (inclusive).
    pub begin: Vec<u8>,
    /// End user key (exclusive).
    pub end: Vec<u8>,
    /// Sequence number of the tombstone.
    pub seqno: u64,
}

/// The range tombstones stored in the DB's live SST files, from
/// `ldb --db=D list_file_range_deletes` (which prints hex keys without `0x`:
/// `=== file : PATH ===` then `start: HEX end: HEX seq: N`).
pub fn ldb_range_deletes(db_dir: &Path) -> Result<Vec<RangeTombstone>, String> {
    let run = require_ok(run_ldb(db_dir, &["list_file_range_deletes"], None)?)?;
    let mut out = Vec::new();
    let mut file: Option<String> = None;
    for line in run.stdout.lines() {
        if let Some(path) = line.strip_prefix("=== file : ").and_then(|r| r.strip_suffix(" ===")) {
            file = Some(Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
        } else if let Some(rest) = line.strip_prefix("start: ") {
            let (begin, rest) = rest.split_once(" end: ").ok_or_else(|| format!("bad range line {line:?}"))?;
            let (end, seq) = rest.split_once(" seq: ").ok_or_else(|| format!("bad range line {line:?}"))?;
            out.push(RangeTombstone {
                file_name: file.clone().ok_or("range line before file line")?,
                begin: decode_tool_hex(begin)?,
                end: decode_tool_hex(end)?,
                seqno: seq.trim().parse().map_err(|e| format!("seq {seq:?}: {e}"))?,
            });
        } else if !line.trim().is_empty() {
            return Err(format!("unexpected list_file_range_deletes line {line:?}"));
        }
    }
    Ok(out)
}

/// The live SST files of the DB, from `ldb list_live_files_metadata`.
pub fn ldb_live_sst_files(db_dir: &Path) -> Result<Vec<PathBuf>, String> {
    let run = require_ok(run_ldb(db_dir, &["list_live_files_metadata"], None)?)?;
    let mut files: Vec<PathBuf> =
        run.stdout.lines().map(str::trim).filter(|l| l.ends_with(".sst")).map(PathBuf::from).collect();
    files.sort();
    Ok(files)
}
