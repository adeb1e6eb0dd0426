//! Wrappers around RocksDB 7.8.3 `sst_dump`.
//!
//! Quirks handled here:
//! * the file name must end in `.sst`, otherwise sst_dump reports "not a valid
//!   SST file"; other names are copied to a temporary `.sst` file first;
//! * the exit code is 0 even for corrupt files, so outputs are parsed and any
//!   text on stderr counts as a failure; any non-zero rc or a signal also does;
//! * `--command=verify` checks nothing unless `--verify_checksum` is given.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::tools::{decode_tool_hex, find_tool, run_tool, ToolEntry, ToolRun, SST_DUMP};

/// A path to give sst_dump: `path` itself if it ends in `.sst`, else a copy
/// named `input.sst` in a temporary directory (kept alive by the guard).
fn sst_named(path: &Path) -> Result<(PathBuf, Option<tempfile::TempDir>), String> {
    if path.extension().is_some_and(|e| e == "sst") {
        return Ok((path.to_path_buf(), None));
    }
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let copy = dir.path().join("input.sst");
    std::fs::copy(path, &copy).map_err(|e| format!("copy {} to .sst: {e}", path.display()))?;
    Ok((copy, Some(dir)))
}

fn run_sst_dump(path: &Path, args: &[&str]) -> Result<ToolRun, String> {
    let tool = find_tool(SST_DUMP)?;
    if !path.is_file() {
        return Err(format!("{} is not a file", path.display()));
    }
    let (file, _guard) = sst_named(path)?;
    let mut all = vec![format!("--file={}", file.display())];
    all.extend(args.iter().map(|s| s.to_string()));
    run_tool(&tool, &all, None)
}

/// Fails unless the run exited with 0 and printed nothing on stderr.
fn require_clean(run: &ToolRun) -> Result<(), String> {
    if run.success() && run.stderr.trim().is_empty() {
        Ok(())
    } else {
        Err(format!("sst_dump rejected the file: {}", run.describe()))
    }
}

/// Lines sst_dump prints before its real output.
fn is_preamble(line: &str) -> bool {
    line.starts_with("options.env is ")
        || line.starts_with("Process ")
        || line == "Sst file format: block-based"
        || line.starts_with("from [")
        || line.trim().is_empty()
}

/// Runs `sst_dump --command=verify --verify_checksum` (which checks every
/// block checksum) and requires `The file is ok` on stdout, exit code 0 and an
/// empty stderr.
pub fn sst_dump_verify(path: &Path) -> Result<(), String> {
    let run = run_sst_dump(path, &["--command=verify", "--verify_checksum"])?;
    require_clean(&run)?;
    if run.stdout.lines().any(|l| l.trim() == "The file is ok") {
        Ok(())
    } else {
        Err(format!("sst_dump verify did not say ok: {}", run.describe()))
    }
}

/// Runs `sst_dump --command=scan --output_hex --verify_checksum` and parses
/// each `'KEYHEX' seq:N, type:T => VALHEX` line, in file order. Range
/// tombstones are not printed by sst_dump 7.8 (see
/// [`crate::ldb_range_deletes`]). Any other output line, text on stderr or a
/// non-zero status is an error.
pub fn sst_dump_scan(path: &Path) -> Result<Vec<ToolEntry>, String> {
    scan(path, false)
}

/// Like [`sst_dump_scan`], for LevelDB tables (and other files without a
/// properties block): sst_dump then prints `Not able to read table
/// properties` and `Sst file format: block-based(old version)`, which this
/// accepts (and requires). LevelDB entries keep their real sequence numbers.
pub fn sst_dump_scan_leveldb(path: &Path) -> Result<Vec<ToolEntry>, String> {
    scan(path, true)
}

fn scan(path: &Path, leveldb: bool) -> Result<Vec<ToolEntry>, String> {
    let run = run_sst_dump(path, &["--command=scan", "--output_hex", "--verify_checksum"])?;
    require_clean(&run)?;
    let mut entries = Vec::new();
    let mut old_format = false;
    for line in run.stdout.lines() {
        if line.starts_with('\'') {
            entries.push(parse_scan_line(line).map_err(|e| format!("sst_dump scan line {line:?}: {e}"))?);
        } else if leveldb && line == "Not able to read table properties" {
            continue;
        } else if leveldb && line == "Sst file format: block-based(old version)" {
            old_format = true;
        } else if !is_preamble(line) {
            return Err(format!("unexpected sst_dump scan line {line:?}: {}", run.describe()));
        }
    }
    if leveldb && !old_format {
        return Err(format!("not an old-format (LevelDB) table: {}", run.describe()));
    }
    Ok(entries)
}

/// Parses `'KEYHEX' seq:N, type:T => VALHEX` (the value may be empty).
pub fn parse_scan_line(line: &str) -> Result<ToolEntry, String> {
    let rest = line.strip_prefix('\'').ok_or("no opening quote")?;
    let (key_hex, rest) = rest.split_once("' seq:").ok_or("no `' seq:`")?;
    let (seq, rest) = rest.split_once(", type:").ok_or("no `, type:`")?;
    let (kind, value) = rest.split_once(" =>").ok_or("no ` =>`")?;
    let value = value.strip_prefix(' ').unwrap_or(value);
    Ok(ToolEntry {
        user_key: decode_tool_hex(key_hex)?,
        seqno: seq.parse().map_err(|e| format!("seq {seq:?}: {e}"))?,
        kind: kind.parse().map_err(|e| format!("type {kind:?}: {e}"))?,
        value: decode_tool_hex(value.trim_end())?,
    })
}

/// Runs `sst_dump --command=check --show_properties` and returns the table
/// properties exactly as printed, keyed by the printed label with leading
/// whitespace removed, e.g. `"# entries"`, `"filter policy name"`,
/// `"SST file compression algo"`, `"index block size (user-key? 1,
/// delta-value? 1)"`. Raw user-collected properties keep their `# ` prefix and
/// hex value: `"# rocksdb.block.based.table.index.type"` → `"0x03000000"`.
pub fn sst_dump_properties(path: &Path) -> Result<BTreeMap<String, String>, String> {
    let run = run_sst_dump(path, &["--command=check", "--show_properties"])?;
    require_clean(&run)?;
    let mut props = BTreeMap::new();
    let mut in_props = false;
    for line in run.stdout.lines() {
        let l = line.trim_start();
        if l.starts_with("Table Properties:") {
            in_props = true;
            continue;
        }
        if !in_props || l.starts_with("---") || l.is_empty() || l == "Raw user collected properties" {
            continue;
        }
        let (k, v) = match l.split_once(": ") {
            Some((k, v)) => (k, v),
            None => match l.strip_suffix(':') {
                Some(k) => (k, ""),
                None => return Err(format!("unexpected property line {line:?}")),
            },
        };
        props.insert(k.to_string(), v.trim_end().to_string());
    }
    if props.is_empty() {
        return Err(format!("no properties printed: {}", run.describe()));
    }
    Ok(props)
}

/// Runs `sst_dump --command=raw` and returns the contents of the
/// `<name>_dump.txt` file it writes (footer, metaindex, properties, index,
/// range deletions and data blocks; the `ASCII` lines hold raw key bytes,
/// decoded lossily as UTF-8). The file is copied to a temporary
/// directory first so nothing is written next to `path`.
pub fn sst_dump_raw(path: &Path) -> Result<String, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let copy = dir.path().join("raw.sst");
    std::fs::copy(path, &copy).map_err(|e| format!("copy {}: {e}", path.display()))?;
    let run = run_sst_dump(&copy, &["--command=raw"])?;
    require_clean(&run)?;
    let dump = dir.path().join("raw_dump.txt");
    let bytes = std::fs::read(&dump).map_err(|e| format!("no raw dump {}: {e}; {}", dump.display(), run.describe()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}
