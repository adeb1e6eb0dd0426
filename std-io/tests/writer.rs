//! SstWriter over object stores: round trips (InMemory, LocalFileSystem, moto S3), multipart shape, fault
//! injection (nothing half-made), out-of-order keys, parallel writers, progress, and RocksDB interop.

mod support;

use std::sync::Arc;
use std::time::Duration;

use object_store::local::LocalFileSystem;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use sstkit::core::{ChecksumType, CompressionType};
use sstkit::writer::{build_object, SstMetadata, SstWriter, WriteOp, WriterOptions};
use support::model::{check_metadata, check_table, interop_check, key, ldb_model, mixed_ops, put_ops};
use support::{list_paths, moto_store, read_object, CountingStore, FaultyStore};

/// Fixed creation time: byte-identical output across runs.
fn opts() -> WriterOptions {
    WriterOptions::default().file_creation_time(Some(1_700_000_000))
}

async fn write_all(
    store: Arc<dyn ObjectStore>,
    path: &str,
    o: WriterOptions,
    ops: &[WriteOp],
) -> sstkit::Result<SstMetadata> {
    let mut w = SstWriter::new(store, Path::from(path), o)?;
    for op in ops {
        w.write(op.as_slices()).await?;
    }
    w.close().await
}

/// Writes ops until the first error (returned), or closes.
async fn write_until_error(mut w: SstWriter, ops: &[WriteOp]) -> sstkit::Error {
    for op in ops {
        if let Err(e) = w.write(op.as_slices()).await {
            // The writer is poisoned: later calls fail too, and close as well.
            let again = w.put(b"zzzz", b"v").await.expect_err("a failed writer must refuse more writes");
            assert!(again.to_string().contains("failed earlier"), "{again}");
            assert!(w.close().await.is_err());
            return e;
        }
    }
    w.close().await.expect_err("the injected fault must surface by close")
}

fn dir_entries(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> =
        walk(dir).into_iter().map(|p| p.strip_prefix(dir).unwrap().display().to_string()).collect();
    v.sort();
    v
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_table_goes_up_as_one_put() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let counting = CountingStore::new(mem.clone());
    let ops = mixed_ops(500, 40, 1, true);
    let meta = write_all(counting.arc(), "t/small.sst", opts(), &ops).await.unwrap();
    let c = counting.counts();
    assert_eq!((c.puts, c.multipart_starts, c.parts, c.completes, c.aborts), (1, 0, 0, 0, 0), "{c:?}");
    assert_eq!(c.put_bytes, meta.stats.file_size);
    let bytes = read_object(&*mem, &Path::from("t/small.sst")).await;
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
    assert_eq!(meta.location, "t/small.sst");
    assert!(meta.e_tag.is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_table_streams_equal_parts_in_memory() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let counting = CountingStore::new(mem.clone());
    let part = 64 * 1024;
    let ops = mixed_ops(8000, 100, 2, true);
    let mut w =
        SstWriter::new(counting.arc(), Path::from("big.sst"), opts().part_size(part).parts_in_flight(3)).unwrap();
    let progress = w.progress_handle();
    for op in &ops {
        w.write(op.as_slices()).await.unwrap();
    }
    let before_close = progress.get();
    assert_eq!(before_close.entries, ops.len() as u64);
    assert!(before_close.parts_uploaded >= 3, "parts upload while writing: {before_close:?}");
    let meta = w.close().await.unwrap();
    let c = counting.counts();
    assert_eq!((c.puts, c.multipart_starts, c.completes, c.aborts), (0, 1, 1, 0), "{c:?}");
    assert!(c.parts >= 3, "{c:?}");
    let (last, full) = c.part_sizes.split_last().unwrap();
    assert!(full.iter().all(|&s| s == part), "every part but the last is part_size: {:?}", c.part_sizes);
    assert!(*last > 0 && *last <= part);
    assert_eq!(c.part_bytes(), meta.stats.file_size);
    let p = progress.get();
    assert_eq!(
        (p.parts_uploaded, p.bytes_uploaded, p.bytes_written),
        (c.parts, meta.stats.file_size, meta.stats.file_size)
    );
    let bytes = read_object(&*mem, &Path::from("big.sst")).await;
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_filesystem_round_trip_multipart() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let ops = mixed_ops(4000, 100, 3, true);
    let meta = write_all(store.clone(), "level/0/000001.sst", opts().part_size(32 * 1024), &ops).await.unwrap();
    assert!(meta.stats.file_size > 3 * 32 * 1024);
    assert_eq!(dir_entries(dir.path()), vec!["level/0/000001.sst".to_string()], "no staging files left");
    let bytes = std::fs::read(dir.path().join("level/0/000001.sst")).unwrap();
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
    // And one small file (single PUT) next to it.
    let small = mixed_ops(50, 10, 4, false);
    let m2 = write_all(store.clone(), "level/0/000002.sst", opts(), &small).await.unwrap();
    check_table(&std::fs::read(dir.path().join("level/0/000002.sst")).unwrap(), &small);
    assert_eq!(list_paths(&*store, Some(&Path::from("level"))).await.len(), 2);
    assert!(m2.stats.file_size < 32 * 1024);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn moto_s3_round_trip_multipart_and_interop() {
    let Some((_server, s3)) = moto_store() else { return };
    let counting = CountingStore::new(s3.clone());
    // ~22 MB with 5 MiB parts (S3's minimum for all parts but the last): at least 4 parts.
    let ops = put_ops(0..170_000, 100, 5);
    let meta = write_all(counting.arc(), "bulk/000001.sst", opts().part_size(5 << 20), &ops).await.unwrap();
    let c = counting.counts();
    assert!(c.parts >= 3 && c.completes == 1 && c.aborts == 0 && c.puts == 0, "{c:?}");
    assert!(meta.stats.file_size >= 16 << 20, "file size {}", meta.stats.file_size);
    let bytes = read_object(&*s3, &Path::from("bulk/000001.sst")).await;
    assert_eq!(bytes.len() as u64, meta.stats.file_size);
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("moto.sst");
    std::fs::write(&file, &bytes).unwrap();
    interop_check(&file, &ldb_model(&ops));

    // A small table: one PUT.
    let small = mixed_ops(300, 20, 6, false);
    let m = write_all(s3.clone(), "bulk/000002.sst", opts(), &small).await.unwrap();
    check_table(&read_object(&*s3, &Path::from("bulk/000002.sst")).await, &small);
    assert!(m.stats.file_size < 5 << 20);

    // A failed part against real S3 semantics: the upload is aborted and nothing is listed.
    let faulty = FaultyStore::new(s3.clone()).fail_part(2);
    let w = SstWriter::new(faulty.arc(), Path::from("bulk/broken.sst"), opts().part_size(5 << 20)).unwrap();
    let err = write_until_error(w, &ops).await;
    assert!(err.to_string().contains("injected fault: part upload #2"), "{err}");
    assert_eq!(faulty.aborts(), 1);
    let listed = list_paths(&*s3, Some(&Path::from("bulk"))).await;
    assert_eq!(listed, vec![Path::from("bulk/000001.sst"), Path::from("bulk/000002.sst")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_part_aborts_and_leaves_no_object() {
    for n in [1, 2, 4] {
        let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let faulty = FaultyStore::new(mem.clone()).fail_part(n);
        let ops = mixed_ops(3000, 100, 7, true);
        let w = SstWriter::new(faulty.arc(), Path::from("x/t.sst"), opts().part_size(16 * 1024)).unwrap();
        let err = write_until_error(w, &ops).await;
        assert!(err.to_string().contains(&format!("injected fault: part upload #{n}")), "{err}");
        assert!(err.to_string().contains("x/t.sst"), "the error names the object: {err}");
        assert_eq!(faulty.aborts(), 1, "the multipart upload is aborted");
        assert_eq!(faulty.completes(), 0);
        assert!(list_paths(&*mem, None).await.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_part_on_local_filesystem_leaves_no_file_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let faulty = FaultyStore::new(local.clone()).fail_part(3);
    let ops = mixed_ops(3000, 100, 8, false);
    let w = SstWriter::new(faulty.arc(), Path::from("t.sst"), opts().part_size(16 * 1024)).unwrap();
    let err = write_until_error(w, &ops).await;
    assert!(err.to_string().contains("part upload #3"), "{err}");
    assert_eq!(faulty.aborts(), 1);
    assert!(list_paths(&*local, None).await.is_empty());
    assert_eq!(dir_entries(dir.path()), Vec::<String>::new(), "the staging file is gone too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_completion_aborts_and_leaves_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    for inner in [Arc::new(InMemory::new()) as Arc<dyn ObjectStore>, local] {
        let faulty = FaultyStore::new(inner.clone()).fail_complete();
        let ops = mixed_ops(2000, 100, 9, true);
        let w = SstWriter::new(faulty.arc(), Path::from("c.sst"), opts().part_size(16 * 1024)).unwrap();
        let err = write_until_error(w, &ops).await;
        assert!(err.to_string().contains("injected fault: multipart completion #1"), "{err}");
        assert!(faulty.parts() >= 3);
        assert_eq!(faulty.aborts(), 1);
        assert!(list_paths(&*inner, None).await.is_empty(), "{inner}");
    }
    assert_eq!(dir_entries(dir.path()), Vec::<String>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_put_and_failed_multipart_start_leave_no_object() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let faulty = FaultyStore::new(mem.clone()).fail_put();
    let ops = mixed_ops(100, 10, 10, true);
    let err = write_all(faulty.arc(), "p.sst", opts(), &ops).await.unwrap_err();
    assert!(err.to_string().contains("injected fault: put #1"), "{err}");
    assert_eq!(faulty.aborts(), 0, "no multipart upload was started");
    assert!(list_paths(&*mem, None).await.is_empty());

    let faulty = FaultyStore::new(mem.clone()).fail_multipart_start();
    let ops = mixed_ops(2000, 100, 11, true);
    let w = SstWriter::new(faulty.arc(), Path::from("m.sst"), opts().part_size(16 * 1024)).unwrap();
    let err = write_until_error(w, &ops).await;
    assert!(err.to_string().contains("injected fault: multipart start #1"), "{err}");
    assert!(list_paths(&*mem, None).await.is_empty());
}

async fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    for _ in 0..500 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_writer_aborts_its_upload() {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    for inner in [Arc::new(InMemory::new()) as Arc<dyn ObjectStore>, local] {
        let faulty = FaultyStore::new(inner.clone());
        let mut w = SstWriter::new(faulty.arc(), Path::from("d/dropped.sst"), opts().part_size(16 * 1024)).unwrap();
        for op in mixed_ops(2000, 100, 12, true) {
            w.write(op).await.unwrap();
        }
        assert!(w.progress().bytes_written > 3 * 16 * 1024);
        wait_for("parts to upload", || faulty.parts() >= 3).await;
        drop(w);
        wait_for("the abort of the dropped writer", || faulty.aborts() == 1).await;
        assert!(list_paths(&*inner, None).await.is_empty(), "{inner}");
    }
    wait_for("the staging file to disappear", || dir_entries(dir.path()).is_empty()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explicit_abort_leaves_no_object() {
    let dir = tempfile::tempdir().unwrap();
    let local: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new_with_prefix(dir.path()).unwrap());
    let faulty = FaultyStore::new(local.clone());
    let mut w = SstWriter::new(faulty.arc(), Path::from("a.sst"), opts().part_size(16 * 1024)).unwrap();
    for op in mixed_ops(2000, 100, 13, true) {
        w.write(op).await.unwrap();
    }
    w.abort().await.unwrap();
    assert_eq!(faulty.aborts(), 1);
    assert!(list_paths(&*local, None).await.is_empty());
    assert_eq!(dir_entries(dir.path()), Vec::<String>::new());
    // A small writer that never started an upload: abort and drop are no-ops.
    let mut w = SstWriter::new(faulty.arc(), Path::from("b.sst"), opts()).unwrap();
    w.put(b"k", b"v").await.unwrap();
    w.abort().await.unwrap();
    drop(SstWriter::new(faulty.arc(), Path::from("c.sst"), opts()).unwrap());
    assert!(list_paths(&*local, None).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_key_names_both_keys_and_writer_continues() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let faulty = FaultyStore::new(mem.clone());
    // Multipart, so a poisoned writer would show as an abort.
    let mut w = SstWriter::new(faulty.arc(), Path::from("o.sst"), opts().part_size(4096)).unwrap();
    let mut ops = Vec::new();
    for i in 0..400 {
        let op = WriteOp::Put(key(10 + i), vec![b'v'; 50]);
        w.write(op.as_slices()).await.unwrap();
        ops.push(op);
    }
    let err = w.put(&key(3), b"late").await.unwrap_err();
    let text = err.to_string();
    assert!(text.contains("key0000000003") && text.contains("key0000000409"), "{text}");
    assert!(text.contains("o.sst"), "{text}");
    assert!(matches!(err.codec(), Some(sstkit::core::Error::OutOfOrder { .. })), "{err:?}");
    // A repeated key is out of order too.
    let dup = w.delete(&key(409)).await.unwrap_err();
    assert!(matches!(dup.codec(), Some(sstkit::core::Error::OutOfOrder { .. })), "{dup:?}");
    // An empty range is refused without harm.
    assert!(w.delete_range(b"x", b"x").await.is_err());
    for op in
        [WriteOp::Delete(key(500)), WriteOp::DeleteRange(key(501), key(600)), WriteOp::Merge(key(700), b"m".to_vec())]
    {
        w.write(op.as_slices()).await.unwrap();
        ops.push(op);
    }
    // A range deletion starting before the previous one's start is refused too.
    assert!(matches!(
        w.delete_range(&key(400), &key(450)).await.unwrap_err().codec(),
        Some(sstkit::core::Error::OutOfOrder { .. })
    ));
    let meta = w.close().await.unwrap();
    assert_eq!(faulty.aborts(), 0);
    assert_eq!(meta.stats.num_entries(), ops.len() as u64);
    let bytes = read_object(&*mem, &Path::from("o.sst")).await;
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_table_is_refused_and_leaves_nothing() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let w = SstWriter::new(mem.clone(), Path::from("e.sst"), opts()).unwrap();
    let err = w.close().await.unwrap_err();
    assert!(err.to_string().contains("no entries"), "{err}");
    assert!(list_paths(&*mem, None).await.is_empty());
    // Bad options are refused up front.
    assert!(SstWriter::new(mem.clone(), Path::from("e.sst"), opts().part_size(0)).is_err());
    assert!(SstWriter::new(mem.clone(), Path::from("e.sst"), opts().parts_in_flight(0)).is_err());
    assert!(SstWriter::new(mem.clone(), Path::from("e.sst"), opts().format_version(9)).is_err());
    assert!(SstWriter::new(mem.clone(), Path::from("e.sst"), opts().seqno(5)).is_err(), "external files need seqno 0");
    // A non-external table may carry its own seqno.
    let mut w = SstWriter::new(mem.clone(), Path::from("s.sst"), opts().external_file(false).seqno(42)).unwrap();
    w.put(b"a", b"1").await.unwrap();
    let meta = w.close().await.unwrap();
    assert_eq!(meta.stats.seqno_range(), Some((42, 42)));
    assert_eq!(meta.property("rocksdb.external_sst_file.version"), None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_in_parallel_on_one_runtime() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let mut tasks = Vec::new();
    for i in 0..16u64 {
        let store = mem.clone();
        tasks.push(tokio::spawn(async move {
            let ops = mixed_ops(1500 + 100 * i, 80, 100 + i, true);
            let path = format!("par/{i:02}.sst");
            let meta = write_all(store, &path, opts().part_size(16 * 1024), &ops).await.unwrap();
            (path, ops, meta)
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    assert_eq!(list_paths(&*mem, Some(&Path::from("par"))).await.len(), 16);
    for (path, ops, meta) in results {
        let bytes = read_object(&*mem, &Path::from(path.as_str())).await;
        check_table(&bytes, &ops);
        check_metadata(&meta, &bytes, &ops);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_is_readable_from_another_task() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let mut w = SstWriter::new(mem.clone(), Path::from("p.sst"), opts().part_size(8 * 1024)).unwrap();
    let handle = w.progress_handle();
    let (stop_tx, mut stop_rx) = tokio::sync::oneshot::channel::<()>();
    let watcher = tokio::spawn(async move {
        let mut seen = Vec::new();
        loop {
            seen.push(handle.get());
            tokio::select! {
                _ = &mut stop_rx => return (seen, handle),
                _ = tokio::time::sleep(Duration::from_millis(1)) => {}
            }
        }
    });
    let ops = mixed_ops(3000, 60, 14, true);
    for (n, op) in ops.iter().enumerate() {
        w.write(op.as_slices()).await.unwrap();
        if n % 500 == 0 {
            assert_eq!(w.progress().entries, n as u64 + 1);
            tokio::time::sleep(Duration::from_millis(3)).await;
        }
    }
    let meta = w.close().await.unwrap();
    stop_tx.send(()).unwrap();
    let (seen, handle) = watcher.await.unwrap();
    assert!(seen.windows(2).all(|p| p[0].entries <= p[1].entries && p[0].bytes_written <= p[1].bytes_written));
    assert!(seen.iter().any(|p| p.entries > 0 && p.entries < ops.len() as u64), "saw progress mid-way");
    let end = handle.get();
    assert_eq!(end.entries, ops.len() as u64);
    assert_eq!(end.bytes_written, meta.stats.file_size);
    assert_eq!(end.bytes_uploaded, meta.stats.file_size);
    assert_eq!(end.parts_uploaded, meta.stats.file_size.div_ceil(8 * 1024));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn build_object_from_a_stream() {
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let ops = mixed_ops(2000, 50, 15, true);
    let meta =
        build_object(mem.clone(), Path::from("s.sst"), opts().part_size(8 * 1024), futures::stream::iter(ops.clone()))
            .await
            .unwrap();
    let bytes = read_object(&*mem, &Path::from("s.sst")).await;
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
    // Out of order inside build_object: an error, and nothing at the path.
    let mut bad = ops.clone();
    bad.swap(1000, 1900);
    let faulty = FaultyStore::new(mem.clone());
    let err = build_object(faulty.arc(), Path::from("bad.sst"), opts().part_size(8 * 1024), futures::stream::iter(bad))
        .await
        .unwrap_err();
    assert!(matches!(err.codec(), Some(sstkit::core::Error::OutOfOrder { .. })), "{err}");
    assert_eq!(faulty.aborts(), 1);
    assert_eq!(list_paths(&*mem, None).await, vec![Path::from("s.sst")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sst_writer_files_pass_sst_dump_and_ldb_ingest() {
    let variants = [
        opts(),
        opts().compression(CompressionType::Lz4).checksum(ChecksumType::Xxh3),
        opts()
            .bloom_bits_per_key(0)
            .format_version(3)
            .restart_interval(4)
            .block_size(1024)
            .checksum(ChecksumType::XxHash64),
        opts().format_version(4).checksum(ChecksumType::XxHash).bloom_bits_per_key(20),
    ];
    let dir = tempfile::tempdir().unwrap();
    for (i, o) in variants.into_iter().enumerate() {
        let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let ops = mixed_ops(3000, 80, 20 + i as u64, false);
        let meta = write_all(mem.clone(), "i.sst", o.part_size(16 * 1024), &ops).await.unwrap();
        let bytes = read_object(&*mem, &Path::from("i.sst")).await;
        check_table(&bytes, &ops);
        check_metadata(&meta, &bytes, &ops);
        let file = dir.path().join(format!("variant{i}.sst"));
        std::fs::write(&file, &bytes).unwrap();
        if !interop_check(&file, &ldb_model(&ops)) {
            return;
        }
    }
}

#[test]
fn works_without_a_tokio_runtime() {
    // Under another executor the parts upload one at a time, in the writer's own task.
    let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let counting = CountingStore::new(mem.clone());
    let ops = mixed_ops(3000, 80, 30, true);
    let meta =
        futures::executor::block_on(write_all(counting.arc(), "nr.sst", opts().part_size(16 * 1024), &ops)).unwrap();
    assert!(counting.counts().parts >= 3);
    let bytes = futures::executor::block_on(read_object(&*mem, &Path::from("nr.sst")));
    check_table(&bytes, &ops);
    check_metadata(&meta, &bytes, &ops);
}
