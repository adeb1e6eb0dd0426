//! The synchronous writers: FileWriter (temporary file, fsync, rename; nothing partial on error or drop),
//! IoWriter; and their files pass sst_dump and ldb ingest.

mod support;

use std::io::Write;
use std::path::Path;

use sstkit::core::{ChecksumType, CompressionType};
use sstkit::file_writer::{FileWriter, IoWriter};
use sstkit::writer::{WriteOp, WriterOptions};
use support::build_file;
use support::model::{check_metadata, check_table, interop_check, key, ldb_model, mixed_ops};

fn opts() -> WriterOptions {
    WriterOptions::default().file_creation_time(Some(1_700_000_000))
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn file_writer_round_trip_renames_into_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("000001.sst");
    let ops = mixed_ops(5000, 80, 1, true);
    let mut w = FileWriter::create(&path, opts()).unwrap();
    for op in &ops {
        w.write(op.as_slices()).unwrap();
    }
    assert!(!path.exists(), "nothing at the path before close");
    assert_eq!(names(dir.path()).len(), 1, "only the temporary file while writing");
    assert!(names(dir.path())[0].starts_with(".000001.sst.") && names(dir.path())[0].ends_with(".tmp"));
    assert_eq!(w.entries(), ops.len() as u64);
    let meta = w.close().unwrap();
    assert_eq!(names(dir.path()), vec!["000001.sst".to_string()], "the temporary file was renamed");
    assert_eq!(meta.location, path.display().to_string());
    let bytes = std::fs::read(&path).unwrap();
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
}

#[test]
fn file_writer_dropped_or_aborted_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = FileWriter::create(dir.path().join("a.sst"), opts()).unwrap();
    for op in mixed_ops(3000, 80, 2, true) {
        w.write(op).unwrap();
    }
    drop(w);
    assert!(names(dir.path()).is_empty(), "{:?}", names(dir.path()));
    let mut w = FileWriter::create(dir.path().join("b.sst"), opts()).unwrap();
    w.put(b"k", b"v").unwrap();
    w.abort();
    assert!(names(dir.path()).is_empty());
    // An empty table is refused and leaves nothing.
    let w = FileWriter::create(dir.path().join("c.sst"), opts()).unwrap();
    assert!(w.close().unwrap_err().to_string().contains("no entries"));
    assert!(names(dir.path()).is_empty());
    // A missing directory is an error at create.
    assert!(FileWriter::create(dir.path().join("no/such/dir/d.sst"), opts()).is_err());
}

#[test]
fn file_writer_out_of_order_names_both_keys_and_continues() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("o.sst");
    let mut w = FileWriter::create(&path, opts()).unwrap();
    w.put(&key(5), b"five").unwrap();
    let err = w.put(&key(4), b"four").unwrap_err();
    assert!(err.to_string().contains("key0000000004") && err.to_string().contains("key0000000005"), "{err}");
    assert!(err.to_string().contains("o.sst"), "{err}");
    w.merge(&key(6), b"six").unwrap();
    let meta = w.close().unwrap();
    let ops = vec![WriteOp::Put(key(5), b"five".to_vec()), WriteOp::Merge(key(6), b"six".to_vec())];
    let bytes = std::fs::read(&path).unwrap();
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
}

#[test]
fn build_file_in_one_call_and_nothing_on_error() {
    let dir = tempfile::tempdir().unwrap();
    let ops = mixed_ops(2000, 50, 3, true);
    let meta = build_file(dir.path().join("b.sst"), opts(), ops.iter().map(WriteOp::as_slices)).unwrap();
    let bytes = std::fs::read(dir.path().join("b.sst")).unwrap();
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
    let mut bad = ops.clone();
    bad.swap(10, 20);
    let err = build_file(dir.path().join("bad.sst"), opts(), bad).unwrap_err();
    assert!(matches!(err.codec(), Some(sstkit::core::Error::OutOfOrder { .. })), "{err}");
    assert_eq!(names(dir.path()), vec!["b.sst".to_string()]);
}

#[test]
fn io_writer_round_trip_and_write_errors() {
    let ops = mixed_ops(3000, 80, 4, true);
    let mut w = IoWriter::new(Vec::new(), opts()).unwrap().with_location("memory");
    for op in &ops {
        w.write(op.as_slices()).unwrap();
    }
    let (bytes, meta) = w.finish().unwrap();
    assert_eq!(meta.location, "memory");
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);

    /// Accepts `left` bytes, then fails.
    struct Failing {
        left: usize,
    }
    impl Write for Failing {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("disk full"));
            }
            let n = buf.len().min(self.left);
            self.left -= n;
            Ok(n)
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut w = IoWriter::new(Failing { left: 20_000 }, opts()).unwrap().with_location("failing");
    let mut err = None;
    for op in &ops {
        if let Err(e) = w.write(op.as_slices()) {
            err = Some(e);
            break;
        }
    }
    let err = err.expect("the write error surfaces");
    assert!(err.to_string().contains("disk full") && err.to_string().contains("failing"), "{err}");
    assert!(w.put(b"zzz", b"v").unwrap_err().to_string().contains("failed earlier"));
    assert!(w.close().is_err());
}

#[test]
fn file_writer_files_pass_sst_dump_and_ldb_ingest() {
    let dir = tempfile::tempdir().unwrap();
    let variants = [
        opts(),
        opts().compression(CompressionType::Lz4).checksum(ChecksumType::Xxh3).block_size(16 * 1024),
        opts().format_version(2).bloom_bits_per_key(0).checksum(ChecksumType::None),
    ];
    for (i, o) in variants.into_iter().enumerate() {
        let ops = mixed_ops(4000, 100, 10 + i as u64, false);
        let path = dir.path().join(format!("f{i}.sst"));
        let meta = build_file(&path, o, ops.iter().map(WriteOp::as_slices)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        check_table(&bytes, &ops);
        check_metadata(&meta, &bytes, &ops);
        if !interop_check(&path, &ldb_model(&ops)) {
            return;
        }
    }
}
