//! Partitioned indexes and filters written through std-io: the `WriterOptions` setters reach core through
//! `FileWriter`, `SstWriter` and `RollingWriter`, and `SstReader` (ranged GETs, partitions fetched on demand)
//! reads back exactly what was written: scans, gets of present and absent keys, the properties.
#![allow(clippy::result_large_err)]

mod support;

use std::ops::Bound;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::ObjectStore;
use sstkit::core::table::IndexType;
use sstkit::file_writer::FileWriter;
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::rolling::{RollingOptions, RollingWriter};
use sstkit::writer::{SstWriter, WriteOp, WriterOptions};
use support::model::{check_table, put_ops};
use support::{read_object, runtime};

fn opts(partition_filters: bool) -> WriterOptions {
    WriterOptions::default()
        .file_creation_time(Some(1_700_000_000))
        .block_size(512)
        .index_type(IndexType::Partitioned)
        .metadata_block_size(256)
        .partition_filters(partition_filters)
}

/// Reads `path` back through `SstReader` with a small tail (partitions fetched on demand) and checks it holds
/// exactly `ops`' puts: a full scan, gets of every key and of absent keys in between.
async fn check_reader(store: Arc<dyn ObjectStore>, path: Path, ops: &[WriteOp]) {
    let r = SstReader::open(store, path, ReadOptions::default().tail_size(1024)).await.unwrap();
    let props = r.properties().unwrap();
    assert_eq!(props.index_type, Some(2));
    assert!(props.index_partitions.unwrap() > 10);
    let got: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
    assert_eq!(got.len(), ops.len());
    for (e, op) in got.iter().zip(ops) {
        let WriteOp::Put(k, v) = op else { panic!("puts only") };
        assert_eq!((&e.user_key[..], &e.value[..]), (&k[..], &v[..]));
    }
    for op in ops.iter().step_by(7) {
        let WriteOp::Put(k, v) = op else { unreachable!() };
        assert_eq!(r.get(k).await.unwrap().map(|e| e.value.to_vec()), Some(v.clone()));
        let absent = [k.as_slice(), b"\x00"].concat();
        assert!(r.get(&absent).await.unwrap().is_none());
    }
}

#[test]
fn file_sst_and_rolling_writers_write_partitioned_tables() {
    let ops = put_ops(0..3000, 40, 3);
    runtime().block_on(async {
        for pf in [false, true] {
            // FileWriter.
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("p.sst");
            let mut w = FileWriter::create(&path, opts(pf)).unwrap();
            for op in &ops {
                w.write(op.as_slices()).unwrap();
            }
            let meta = w.close().unwrap();
            assert!(meta.stats.index_partitions > 10, "{}", meta.stats.index_partitions);
            assert_eq!(meta.properties["rocksdb.index.partitions"], [meta.stats.index_partitions as u8]);
            let bytes = std::fs::read(&path).unwrap();
            check_table(&bytes, &ops);
            let filter_name: &[u8] = if pf {
                b"partitionedfilter.rocksdb.BuiltinBloomFilter"
            } else {
                b"fullfilter.rocksdb.BuiltinBloomFilter"
            };
            let t = sstkit::core::table::Table::open(&bytes).unwrap();
            let meta_block = t.block(t.footer().metaindex, sstkit::core::Part::Metaindex).unwrap();
            let mi = sstkit::core::metaindex::Metaindex::parse(meta_block.body).unwrap();
            assert!(mi.find(filter_name).unwrap().is_some());

            // SstWriter into an object store, read back through SstReader.
            let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
            let p = Path::from("t/p.sst");
            let mut w = SstWriter::new(store.clone(), p.clone(), opts(pf)).unwrap();
            for op in &ops {
                w.write(op.as_slices()).await.unwrap();
            }
            w.close().await.unwrap();
            assert_eq!(read_object(store.as_ref(), &p).await, bytes, "the same bytes as FileWriter");
            check_reader(store.clone(), p, &ops).await;

            // RollingWriter: every file is partitioned.
            let rolling = RollingOptions::new("r").target_file_size(64 << 10).writer(opts(pf));
            let mut w = RollingWriter::new(store.clone(), rolling).unwrap();
            for op in &ops {
                w.write(op.as_slices()).await.unwrap();
            }
            let files = w.finish().await.unwrap();
            assert!(files.len() >= 2);
            let mut n = 0;
            for f in &files {
                let bytes = read_object(store.as_ref(), &f.path).await;
                let t = sstkit::core::table::Table::open(&bytes).unwrap();
                assert!(t.index_info().partitioned);
                n += t.properties().num_entries.unwrap();
            }
            assert_eq!(n, ops.len() as u64);
        }
    });
}
