//! Shared helpers for sstkit integration and interop tests.
//!
//! The interop tests check sstkit against the real tools: RocksDB 7.8.3
//! (`/usr/bin/ldb`, `/usr/bin/sst_dump`, Debian `rocksdb-tools`),
//! LevelDB 1.23 (Debian `python3-plyvel`, through `/usr/bin/python3`) and
//! RocksDB 10.4.2 (PyPI `rocksdict` 0.3.29 in a venv). `scripts/test.sh`
//! installs them all.
//! A test that needs a tool starts with
//!
//! ```no_run
//! let Some(_sst_dump) = sstkit_tests::require_tool("sst_dump") else { return };
//! ```
//!
//! which panics when the tool is missing, unless `SSTKIT_SKIP_MISSING_TOOLS=1`
//! is set outside CI: then it prints `SKIPPED` and lets the test return early. Every helper returns
//! `Result<_, String>` with the tool's command line and output in the error.
//!
//! * [`tools`]: tool discovery, [`ToolEntry`], a process runner.
//! * [`sst_dump`]: verify, scan, properties and raw dump of one file.
//! * [`ldb`]: ingestion, scans, point lookups, DB options.
//! * [`rocksdb_files`]: files written by RocksDB in chosen [`RocksVariant`]s.
//! * [`leveldb_files`]: tables written by LevelDB.
//! * [`rocksdb10`]: RocksDB 10.4.2 through rocksdict: writing, flushing,
//!   compacting and ingesting, batched in one Python process.
//! * [`data`]: deterministic sample entries.
//! * [`ours`]: building and reading tables with sstkit itself.

#![warn(missing_docs)]

pub mod data;
pub mod ldb;
pub mod leveldb_files;
pub mod ours;
pub mod rocksdb10;
pub mod rocksdb_files;
pub mod sst_dump;
pub mod tools;

pub use data::{sample_entries, KEY_LENGTHS};
pub use ldb::{
    create_db_with_options, db_exists, db_option_value, latest_options_file, ldb_get_hex, ldb_ingest,
    ldb_live_sst_files, ldb_multi_get_hex, ldb_range_deletes, ldb_scan_hex, patch_db_options, RangeTombstone,
};
pub use leveldb_files::write_leveldb_table;
pub use ours::{
    build_table, point_entries, range_deletions, read_table, read_table_file, with_table, write_table, Item, OurRead,
    OurTombstone,
};
pub use rocksdb_files::{
    check_variant, compacted_ssts, first_data_block_hash_flag, flush_ssts, read_footer, write_extern_sst, DbSsts,
    FooterInfo, Op, RocksVariant,
};
pub use sst_dump::{
    parse_scan_line, sst_dump_properties, sst_dump_raw, sst_dump_scan, sst_dump_scan_leveldb, sst_dump_verify,
};
pub use tools::{
    current_missing_tool_policy, find_tool, missing_tool_policy, require_tool, run_tool, tool_missing, KeyValue,
    MissingToolPolicy, ToolEntry, ToolRun, LDB, PLYVEL, ROCKSDICT, SKIP_ENV, SKIP_LOG_ENV, SST_DUMP,
};
