//! Making SST files with RocksDB 7.8.3 itself, in chosen format variants, so
//! that sstkit's reader can be checked against what `sst_dump` prints.
//!
//! Variants are made by creating a scratch DB, patching its `OPTIONS-*` file
//! (see [`crate::patch_db_options`]) and running ldb on it.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::ldb::{create_db_with_options, ldb_live_sst_files, ldb_range_deletes, require_ok, run_ldb, RangeTombstone};
use crate::sst_dump::{sst_dump_properties, sst_dump_raw};
use crate::tools::{to_ldb_hex, KeyValue};

/// Table-format choices for files written by RocksDB.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RocksVariant {
    /// Block checksum type: 0 none, 1 CRC32c, 2 xxHash, 3 xxHash64, 4 XXH3.
    pub checksum: u8,
    /// `"no"`, `"snappy"`, `"lz4"`, `"zlib"` or `"zstd"`.
    pub compression: &'static str,
    /// Table `format_version`, 0..=5. RocksDB writes 1 when asked for 0 with a
    /// checksum other than CRC32c (see [`RocksVariant::footer_format_version`]).
    pub format_version: u32,
    /// Write a full Bloom filter (`bloomfilter:10:false`).
    pub bloom: bool,
    /// Index type: 0 = kBinarySearch, 3 = kBinarySearchWithFirstKey.
    pub index_type: u8,
    /// Add the data-block hash index (`kDataBlockBinaryAndHash`).
    pub data_block_hash_index: bool,
    /// Target data block size in bytes.
    pub block_size: usize,
    /// Restart interval of data blocks.
    pub restart_interval: usize,
}

impl Default for RocksVariant {
    /// RocksDB 7.8's defaults: XXH3, Snappy, fv5, no filter, binary-search
    /// index, no hash index, 4096-byte blocks, restart interval 16.
    fn default() -> Self {
        RocksVariant {
            checksum: 4,
            compression: "snappy",
            format_version: 5,
            bloom: false,
            index_type: 0,
            data_block_hash_index: false,
            block_size: 4096,
            restart_interval: 16,
        }
    }
}

impl fmt::Display for RocksVariant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "checksum={} compression={} fv={} bloom={} index_type={} hash_index={} block_size={} restart={}",
            self.checksum,
            self.compression,
            self.format_version,
            self.bloom,
            self.index_type,
            self.data_block_hash_index,
            self.block_size,
            self.restart_interval
        )
    }
}

impl RocksVariant {
    /// The `checksum=` option value, or an error for types outside 0..=4.
    pub fn checksum_option(&self) -> Result<&'static str, String> {
        Ok(match self.checksum {
            0 => "kNoChecksum",
            1 => "kCRC32c",
            2 => "kxxHash",
            3 => "kxxHash64",
            4 => "kXXH3",
            other => return Err(format!("unknown checksum type {other}")),
        })
    }

    /// The CF `compression=` option value for [`RocksVariant::compression`].
    pub fn compression_option(&self) -> Result<&'static str, String> {
        Ok(match self.compression {
            "no" => "kNoCompression",
            "snappy" => "kSnappyCompression",
            "lz4" => "kLZ4Compression",
            "zlib" => "kZlibCompression",
            "zstd" => "kZSTD",
            "bzip2" => "kBZip2Compression",
            other => return Err(format!("unknown compression {other:?}")),
        })
    }

    /// What sst_dump prints as `SST file compression algo`.
    pub fn compression_property(&self) -> Result<&'static str, String> {
        Ok(match self.compression {
            "no" => "NoCompression",
            "snappy" => "Snappy",
            "lz4" => "LZ4",
            "zlib" => "Zlib",
            "zstd" => "ZSTD",
            "bzip2" => "BZip2",
            other => return Err(format!("unknown compression {other:?}")),
        })
    }

    /// The format_version the footer will carry: 1 instead of 0 unless the
    /// checksum is CRC32c.
    pub fn footer_format_version(&self) -> u32 {
        if self.format_version == 0 && self.checksum != 1 {
            1
        } else {
            self.format_version
        }
    }

    /// The `(name, value)` pairs patched into the scratch DB's OPTIONS file.
    pub fn options(&self) -> Result<Vec<(&'static str, String)>, String> {
        if self.format_version > 5 {
            return Err(format!("format_version {} is not supported by RocksDB 7.8", self.format_version));
        }
        let index_type = match self.index_type {
            0 => "kBinarySearch",
            3 => "kBinarySearchWithFirstKey",
            other => return Err(format!("index type {other} not supported here (0 or 3)")),
        };
        Ok(vec![
            ("checksum", self.checksum_option()?.to_string()),
            ("compression", self.compression_option()?.to_string()),
            ("format_version", self.format_version.to_string()),
            ("filter_policy", if self.bloom { "bloomfilter:10:false" } else { "nullptr" }.to_string()),
            ("index_type", index_type.to_string()),
            (
                "data_block_index_type",
                if self.data_block_hash_index { "kDataBlockBinaryAndHash" } else { "kDataBlockBinarySearch" }
                    .to_string(),
            ),
            ("block_size", self.block_size.to_string()),
            ("block_restart_interval", self.restart_interval.to_string()),
        ])
    }

    /// Creates a scratch DB in `db_dir` with this variant's options plus `extra`.
    fn create_db(&self, db_dir: &Path, extra: &[(&str, &str)]) -> Result<(), String> {
        let opts = self.options()?;
        let mut all: Vec<(&str, &str)> = opts.iter().map(|(n, v)| (*n, v.as_str())).collect();
        all.extend_from_slice(extra);
        create_db_with_options(db_dir, &all)
    }

    fn compression_flag(&self) -> String {
        format!("--compression_type={}", self.compression)
    }
}

/// Writes `entries` (user key, value; strictly ascending keys, at least one)
/// with RocksDB's SstFileWriter: `ldb write_extern_sst OUT --hex` reading
/// `0xKEY ==> 0xVALUE` lines, in a scratch DB whose options were patched for
/// `variant`. All entries get seqno 0 and type 1, as in any external file.
pub fn write_extern_sst(variant: &RocksVariant, entries: &[KeyValue], out: &Path) -> Result<(), String> {
    let scratch = tempfile::tempdir().map_err(|e| format!("tempdir: {e}"))?;
    let db = scratch.path().join("db");
    variant.create_db(&db, &[])?;
    let mut input = String::with_capacity(entries.iter().map(|(k, v)| 2 * (k.len() + v.len()) + 12).sum());
    for (k, v) in entries {
        input.push_str(&to_ldb_hex(k));
        input.push_str(" ==> ");
        input.push_str(&to_ldb_hex(v));
        input.push('\n');
    }
    let out_abs = absolute(out)?;
    let out_str = out_abs.to_string_lossy().into_owned();
    let flag = variant.compression_flag();
    let run = run_ldb(&db, &["--hex", &flag, "write_extern_sst", &out_str], Some(input.as_bytes()))?;
    let said_ok =
        run.stderr.contains("external SST file written to") || run.stdout.contains("external SST file written to");
    if !run.success() || !said_ok || run.stderr.contains("bad lines ignored") {
        return Err(format!("write_extern_sst failed ({variant}): {}", run.describe()));
    }
    Ok(())
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// One write applied to a database by [`flush_ssts`] / [`compacted_ssts`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Put(key, value)`.
    Put(Vec<u8>, Vec<u8>),
    /// `Delete(key)` (a type-0 tombstone).
    Delete(Vec<u8>),
    /// `DeleteRange(begin, end)`: removes keys in `[begin, end)`.
    DeleteRange(Vec<u8>, Vec<u8>),
}

/// SST files taken from a database built by [`flush_ssts`] or [`compacted_ssts`].
#[derive(Debug)]
pub struct DbSsts {
    /// The database directory (`<dir>/db`); it stays, so ldb can be run on it.
    pub db_dir: PathBuf,
    /// Copies of the DB's live SST files, in `<dir>`, sorted by name (the
    /// RocksDB file number).
    pub files: Vec<PathBuf>,
    /// The range tombstones in those files, per `ldb list_file_range_deletes`
    /// (`file_name` matches the copies' names).
    pub range_deletes: Vec<RangeTombstone>,
}

/// Applies `ops` in order to a new DB in `<dir>/db` (`dir` is created if
/// needed and must not hold a `db` yet; options patched for
/// `variant`, plus `disable_auto_compactions=true` and
/// `avoid_flush_during_recovery=true`), then flushes the memtable once (via
/// `ldb checkpoint`), so all ops land in **one level-0 SST** with their real
/// sequence numbers (op i gets seqno i+1), deletion tombstones kept and range
/// deletions in the `rocksdb.range_del` block. As in any RocksDB flush, older
/// versions of a key shadowed by a newer op in the same flush are dropped.
///
/// Consecutive puts and deletes are sent through one `ldb --hex query`
/// process; each `DeleteRange` is one `ldb --hex deleterange` process.
pub fn flush_ssts(variant: &RocksVariant, ops: &[Op], dir: &Path) -> Result<DbSsts, String> {
    let db = build_db(variant, ops, dir)?;
    let checkpoint = dir.join("checkpoint");
    let cp = checkpoint.to_string_lossy().into_owned();
    require_ok(run_ldb(&db, &[&format!("--checkpoint_dir={cp}"), "checkpoint"], None)?)?;
    std::fs::remove_dir_all(&checkpoint).map_err(|e| format!("remove {cp}: {e}"))?;
    collect_ssts(&db, dir)
}

/// Like [`flush_ssts`], then `ldb compact` over the whole key range. The
/// output is bottommost, so RocksDB zeroes the sequence numbers and drops
/// tombstones, range tombstones and shadowed versions.
pub fn compacted_ssts(variant: &RocksVariant, ops: &[Op], dir: &Path) -> Result<DbSsts, String> {
    let db = build_db(variant, ops, dir)?;
    let flag = variant.compression_flag();
    require_ok(run_ldb(&db, &[&flag, "compact"], None)?)?;
    collect_ssts(&db, dir)
}

fn build_db(variant: &RocksVariant, ops: &[Op], dir: &Path) -> Result<PathBuf, String> {
    if ops.is_empty() {
        return Err("no ops".to_string());
    }
    std::fs::create_dir_all(dir).map_err(|e| format!("create {}: {e}", dir.display()))?;
    let db = absolute(&dir.join("db"))?;
    variant.create_db(&db, &[("disable_auto_compactions", "true"), ("avoid_flush_during_recovery", "true")])?;
    let flag = variant.compression_flag();
    let mut i = 0;
    while i < ops.len() {
        if let Op::DeleteRange(b, e) = &ops[i] {
            let run =
                require_ok(run_ldb(&db, &["--hex", &flag, "deleterange", &to_ldb_hex(b), &to_ldb_hex(e)], None)?)?;
            if run.stdout.trim() != "OK" {
                return Err(format!("deleterange: {}", run.describe()));
            }
            i += 1;
            continue;
        }
        let mut input = String::new();
        let mut n = 0;
        while let Some(op) = ops.get(i) {
            match op {
                Op::Put(k, v) => input.push_str(&format!("put {} {}\n", to_ldb_hex(k), to_ldb_hex(v))),
                Op::Delete(k) => input.push_str(&format!("delete {}\n", to_ldb_hex(k))),
                Op::DeleteRange(..) => break,
            }
            i += 1;
            n += 1;
        }
        let run = require_ok(run_ldb(&db, &["--hex", &flag, "query"], Some(input.as_bytes()))?)?;
        let done = run.stdout.lines().filter(|l| l.starts_with("Successfully ")).count();
        if done != n || !run.stderr.trim().is_empty() {
            return Err(format!("ldb query applied {done} of {n} ops: {}", run.describe()));
        }
    }
    Ok(db)
}

fn collect_ssts(db: &Path, dir: &Path) -> Result<DbSsts, String> {
    let live = ldb_live_sst_files(db)?;
    if live.is_empty() {
        return Err(format!("no live SST files in {}", db.display()));
    }
    let mut files = Vec::new();
    for src in live {
        let name = src.file_name().ok_or("bad live file path")?;
        let dst = dir.join(name);
        std::fs::copy(&src, &dst).map_err(|e| format!("copy {}: {e}", src.display()))?;
        files.push(dst);
    }
    let range_deletes = ldb_range_deletes(db)?;
    Ok(DbSsts { db_dir: db.to_path_buf(), files, range_deletes })
}

/// The footer fields of a block-based table, read directly from its last
/// bytes (no sstkit code involved).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FooterInfo {
    /// True for the 48-byte legacy footer (magic `0xdb4775248b80fb57`: LevelDB
    /// tables and RocksDB format_version 0).
    pub legacy: bool,
    /// Checksum type byte (1 = CRC32c for legacy footers).
    pub checksum: u8,
    /// Footer format_version (0 for legacy footers).
    pub format_version: u32,
}

/// Reads the footer of a table file: magic, checksum type and format_version.
pub fn read_footer(path: &Path) -> Result<FooterInfo, String> {
    const MAGIC: u64 = 0x88e2_41b7_85f4_cff7;
    const LEGACY_MAGIC: u64 = 0xdb47_7524_8b80_fb57;
    let data = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let n = data.len();
    if n < 48 {
        return Err(format!("{} is too short for a footer", path.display()));
    }
    let magic = u64::from_le_bytes(data[n - 8..].try_into().unwrap());
    match magic {
        LEGACY_MAGIC => Ok(FooterInfo { legacy: true, checksum: 1, format_version: 0 }),
        MAGIC if n >= 53 => Ok(FooterInfo {
            legacy: false,
            checksum: data[n - 53],
            format_version: u32::from_le_bytes(data[n - 12..n - 8].try_into().unwrap()),
        }),
        other => Err(format!("{}: unknown magic {other:#018x}", path.display())),
    }
}

/// Checks that a RocksDB-written file really has `variant`'s format, using the
/// footer and sst_dump's properties: checksum type, footer format_version,
/// compression name, filter policy, index type and (for uncompressed files)
/// the hash-index flag of the first data block (uncompressed variants only).
pub fn check_variant(path: &Path, variant: &RocksVariant) -> Result<(), String> {
    let footer = read_footer(path)?;
    let want_fv = variant.footer_format_version();
    if footer.format_version != want_fv || footer.legacy != (want_fv == 0) {
        return Err(format!("footer {footer:?}, wanted fv {want_fv} ({variant})"));
    }
    if footer.checksum != variant.checksum {
        return Err(format!("footer {footer:?}, wanted checksum {} ({variant})", variant.checksum));
    }
    let props = sst_dump_properties(path)?;
    let get = |k: &str| props.get(k).map(String::as_str).unwrap_or("<absent>");
    if get("SST file compression algo") != variant.compression_property()? {
        return Err(format!("compression is {}, wanted {variant}", get("SST file compression algo")));
    }
    let want_filter = if variant.bloom { "bloomfilter" } else { "N/A" };
    if get("filter policy name") != want_filter {
        return Err(format!("filter policy is {}, wanted {want_filter}", get("filter policy name")));
    }
    let want_index = format!("0x{:02X}000000", variant.index_type);
    if get("# rocksdb.block.based.table.index.type") != want_index {
        return Err(format!("index type is {}, wanted {want_index}", get("# rocksdb.block.based.table.index.type")));
    }
    // Only uncompressed blocks can be inspected without decompressing.
    let hash_flag = if variant.compression == "no" { first_data_block_hash_flag(path)? } else { None };
    if let Some(flag) = hash_flag {
        if flag != variant.data_block_hash_index {
            return Err(format!("first data block hash-index flag {flag}, wanted {variant}"));
        }
    }
    Ok(())
}

/// Bit 31 of the first data block's footer word (the data-block hash index
/// flag), or `None` if that block is compressed or the file has none. The
/// block is located through the first index entry of sst_dump's raw dump
/// (`HEX <key>: <handle hex>`).
pub fn first_data_block_hash_flag(path: &Path) -> Result<Option<bool>, String> {
    let raw = sst_dump_raw(path)?;
    let Some(index) = raw.split("Index Details:").nth(1) else {
        return Ok(None);
    };
    let Some(handle_hex) = index
        .lines()
        .map(str::trim)
        .find_map(|l| l.strip_prefix("HEX "))
        .and_then(|l| l.rsplit_once(": ").map(|(_, h)| h.trim().to_string()))
    else {
        return Ok(None);
    };
    let handle = hex::decode(&handle_hex).map_err(|e| format!("handle {handle_hex:?}: {e}"))?;
    let (offset, used) = varint64(&handle)?;
    let (size, _) = varint64(&handle[used..])?;
    let data = std::fs::read(path).map_err(|e| format!("read {}: {e}", path.display()))?;
    let (offset, size) = (offset as usize, size as usize);
    if size < 4 || offset + size + 5 > data.len() {
        return Err(format!("bad first data block handle {offset}+{size}"));
    }
    if data[offset + size] != 0 {
        return Ok(None);
    }
    let word = u32::from_le_bytes(data[offset + size - 4..offset + size].try_into().unwrap());
    Ok(Some(word & 0x8000_0000 != 0))
}

fn varint64(bytes: &[u8]) -> Result<(u64, usize), String> {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate().take(10) {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok((v, i + 1));
        }
    }
    Err("bad varint".to_string())
}
