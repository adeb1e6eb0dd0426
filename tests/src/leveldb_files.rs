//! Making LevelDB 1.23 tables with `python3-plyvel`.

use std::path::{Path, PathBuf};

use crate::tools::{find_tool, run_tool, KeyValue, PLYVEL};

const SCRIPT: &str = r#"
import sys, plyvel
path, comp = sys.argv[1], sys.argv[2]
db = plyvel.DB(path, create_if_missing=True, error_if_exists=True,
               bloom_filter_bits=10, max_file_size=1 << 30,
               compression=(None if comp == 'none' else 'snappy'))
wb = db.write_batch()
n = 0
for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    k, v = line.split(':')
    wb.put(bytes.fromhex(k), bytes.fromhex(v))
    n += 1
wb.write()
db.compact_range()
db.close()
print('wrote', n)
"#;

/// Writes `entries` with LevelDB (plyvel: `bloom_filter_bits=10`, compression
/// Snappy if `compression`, else none; `max_file_size` 1 GiB so one table
/// holds everything) into a new DB in `<dir>/leveldb`, compacts it with
/// `compact_range()` so an `.ldb` table exists, and returns that table's path.
/// Keys should be distinct (a later duplicate replaces the earlier one).
/// Fails if there is not exactly one `.ldb` file.
pub fn write_leveldb_table(entries: &[KeyValue], dir: &Path, compression: bool) -> Result<PathBuf, String> {
    let python = find_tool(PLYVEL)?;
    if entries.is_empty() {
        return Err("no entries".to_string());
    }
    let db = dir.join("leveldb");
    let mut input = String::new();
    for (k, v) in entries {
        input.push_str(&hex::encode(k));
        input.push(':');
        input.push_str(&hex::encode(v));
        input.push('\n');
    }
    let db_str = db.to_string_lossy().into_owned();
    let comp = if compression { "snappy" } else { "none" };
    let run = run_tool(&python, &["-c", SCRIPT, &db_str, comp], Some(input.as_bytes()))?;
    if !run.success() || run.stdout.trim() != format!("wrote {}", entries.len()) {
        return Err(format!("plyvel failed: {}", run.describe()));
    }
    let mut tables: Vec<PathBuf> = std::fs::read_dir(&db)
        .map_err(|e| format!("read {db_str}: {e}"))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "ldb"))
        .collect();
    match tables.len() {
        1 => Ok(tables.pop().unwrap()),
        n => Err(format!("expected one .ldb table in {db_str}, found {n}: {tables:?}")),
    }
}
