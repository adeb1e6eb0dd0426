//! Tables RocksDB 10.4.2 wrote with a compression dictionary (core's `tests/data/dict` fixtures) read through
//! `SstReader` over an object store with a small tail: the dictionary block comes with the metadata and every
//! get and scan decodes with it.

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
    ("zstd_trained", include_bytes!("../../core/tests/data/dict/zstd_trained.sst")),
    ("zstd_raw", include_bytes!("../../core/tests/data/dict/zstd_raw.sst")),
    ("lz4_dict", include_bytes!("../../core/tests/data/dict/lz4_dict.sst")),
    ("lz4hc", include_bytes!("../../core/tests/data/dict/lz4hc.sst")),
];

/// What `gen.py` writes.
fn expected() -> Vec<(Vec<u8>, Vec<u8>)> {
    (0..400)
        .map(|i| {
            let k = format!("key{i:05}").into_bytes();
            let v = format!("value-{i:05}-") + &"the quick brown fox jumps over the lazy dog ".repeat(1 + i % 3);
            (k, v.into_bytes())
        })
        .collect()
}

#[tokio::test]
async fn sst_reader_decodes_with_the_dictionary() {
    let want = expected();
    for (name, file) in FIXTURES {
        let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        let path = Path::from("t/dict.sst");
        store.put(&path, PutPayload::from(Bytes::from_static(file))).await.unwrap();
        let opts = ReadOptions::default().file_size(file.len() as u64).tail_size(256);
        let r = SstReader::open(store, path, opts).await.unwrap_or_else(|e| panic!("{name}: {e}"));
        let all: Vec<_> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await.unwrap();
        let got: Vec<_> = all
            .iter()
            .map(|e| {
                assert_eq!(e.kind, ValueType::Value, "{name}");
                (e.user_key.to_vec(), e.value.to_vec())
            })
            .collect();
        assert_eq!(got, want, "{name}");
        for (k, v) in want.iter().step_by(37) {
            let e = r.get(k).await.unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            assert_eq!(&e.value[..], &v[..], "{name}");
        }
        assert!(r.get(b"key00400").await.unwrap().is_none(), "{name}");
    }
}
