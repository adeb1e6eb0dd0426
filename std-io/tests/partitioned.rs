//! Partitioned-index tables written by RocksDB 10.4.2 (core's `tests/data/partitioned` fixtures) read through
//! `SstReader` over an object store: the partitions are fetched with the metadata at open (one more GET at
//! most), then get, scans both ways of the key range and the block walk match what RocksDB wrote.
// for_each_data_block takes a closure returning sstkit::Result, whose error is large by design.
#![allow(clippy::result_large_err)]

use std::ops::Bound;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::core::ValueType;
use sstkit::reader::{ReadOptions, SstReader};

const FIXTURES: [(&str, &[u8]); 4] = [
    ("fv5", include_bytes!("../../core/tests/data/partitioned/fv5.sst")),
    ("fv4_pfilter", include_bytes!("../../core/tests/data/partitioned/fv4_pfilter.sst")),
    ("fv6_pfilter", include_bytes!("../../core/tests/data/partitioned/fv6_pfilter.sst")),
    ("fv6_lz4", include_bytes!("../../core/tests/data/partitioned/fv6_lz4.sst")),
];
const N: usize = 1200;

/// What `gen.py` writes: `(user key, value or None for a deletion)`.
fn expected() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    (0..N)
        .map(|i| {
            let k = format!("k{i:05}").into_bytes();
            (k, (i % 10 != 3).then(|| format!("v{i}-").repeat(i % 7 + 1).into_bytes()))
        })
        .collect()
}

async fn open(file: &'static [u8]) -> SstReader {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("t/partitioned.sst");
    store.put(&path, PutPayload::from(Bytes::from_static(file))).await.unwrap();
    // A small tail, so the partitions are not in it by chance.
    let opts = ReadOptions::default().file_size(file.len() as u64).tail_size(256);
    SstReader::open(store, path, opts).await.unwrap()
}

fn owned(e: &sstkit::reader::OwnedEntry) -> (Vec<u8>, Option<Vec<u8>>) {
    let v = match e.kind {
        ValueType::Value => Some(e.value.to_vec()),
        ValueType::Deletion => None,
        k => panic!("unexpected {k:?}"),
    };
    (e.user_key.to_vec(), v)
}

#[tokio::test]
async fn reads_partitioned_tables_exactly() {
    let want = expected();
    for (name, file) in FIXTURES {
        let r = open(file).await;
        assert!(r.layout().index_info.partitioned, "{name}");
        let opened = r.stats().gets;
        assert!(opened <= 4, "{name}: open took {opened} GETs");

        for (k, v) in &want {
            let e = r.get(k).await.unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            assert_eq!(owned(&e), (k.clone(), v.clone()), "{name}");
        }
        for absent in [&b"a"[..], b"k00000\0", b"k00599x", b"k01199\0", b"z"] {
            assert!(r.get(absent).await.unwrap().is_none(), "{name}: {absent:?}");
        }

        let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        assert_eq!(all.iter().map(owned).collect::<Vec<_>>(), want, "{name}: full scan");
        for (s, e) in [(0usize, 5usize), (123, 987), (599, 601), (1100, N)] {
            let lo = Bound::Included(want[s].0.clone());
            let hi = match want.get(e) {
                Some(x) => Bound::Excluded(x.0.clone()),
                None => Bound::Unbounded,
            };
            let got: Vec<_> = r.scan((lo, hi)).try_collect().await.unwrap();
            assert_eq!(got.iter().map(owned).collect::<Vec<_>>(), want[s..e], "{name}: {s}..{e}");
        }

        // The index entries are the data blocks (through the partitions), one per block the walk visits.
        let idx = r.index_entries().unwrap();
        let mut blocks = Vec::new();
        r.for_each_data_block(|b| {
            blocks.push(b.extent.handle);
            Ok(())
        })
        .await
        .unwrap();
        assert_eq!(idx.iter().map(|e| e.handle).collect::<Vec<_>>(), blocks, "{name}");
        assert_eq!(Some(blocks.len() as u64), r.properties().unwrap().num_data_blocks, "{name}");
    }
}
