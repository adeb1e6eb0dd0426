//! The crafted table of issue 11: checksum type 0 and one index entry whose block handle has offset 2^64−2.
//! Every reader path (core's `Table`, `SstReader`, the CLI) must give an error, never panic or wrap.
// The walk's callback returns the crate's error type, which the crate itself allows to be large.
#![allow(clippy::result_large_err)]

use std::ops::Bound;
use std::path::Path as FsPath;
use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::core::block::BlockBuilder;
use sstkit::core::footer::Footer;
use sstkit::core::handle::BlockHandle;
use sstkit::core::keybuf::DefaultKeyBuf;
use sstkit::core::table::index::for_each_index_entry;
use sstkit::core::table::{Options, Table, TableBuilder};
use sstkit::core::trailer::{ChecksumType, BLOCK_TRAILER_LEN};
use sstkit::reader::{ReadOptions, SstReader};

const BAD_OFFSET: u64 = u64::MAX - 1;

fn key(i: u32) -> Vec<u8> {
    format!("key{i:06}").into_bytes()
}

/// A one-data-block table without checksums (keys `key000000..key000300`) whose index is replaced by
/// `entries(original index key, original data-block handle)`: the new index block goes where the old footer
/// was and a new footer points at it.
fn with_index(entries: impl FnOnce(&[u8], BlockHandle) -> Vec<(Vec<u8>, BlockHandle)>) -> Vec<u8> {
    let opts = Options::default().checksum(ChecksumType::None).format_version(2).block_size(1 << 20);
    let mut b = TableBuilder::new(Vec::new(), opts).unwrap();
    let mut file = Vec::new();
    for i in 0..300 {
        b.put(&key(i), &[b'v'; 40]).unwrap();
        while let Some(c) = b.next_output().unwrap() {
            file.extend_from_slice(c);
        }
    }
    b.finish().unwrap();
    while let Some(c) = b.next_output().unwrap() {
        file.extend_from_slice(c);
    }
    let t = Table::open(&file).unwrap();
    let footer = *t.footer();
    let mut old = Vec::new();
    for_each_index_entry(&t.index_block(), t.index_info(), &mut DefaultKeyBuf::new(), |k, h, _| {
        old.push((k.to_vec(), h));
        Ok(())
    })
    .unwrap();
    assert_eq!(old.len(), 1, "the table must have one data block");
    let (index_key, good) = old.pop().unwrap();

    let mut buf = vec![0u8; 4096];
    let mut ib = BlockBuilder::new(&mut buf, 1);
    for (k, h) in entries(&index_key, good) {
        let (handle_bytes, n) = h.encode();
        ib.add(&k, &handle_bytes[..n]).unwrap();
    }
    let index = ib.finish().to_vec();

    let body_end = file.len() - footer.encoded_len();
    file.truncate(body_end);
    let index_handle = BlockHandle::new(file.len() as u64, index.len() as u64);
    file.extend_from_slice(&index);
    file.extend_from_slice(&[0u8; BLOCK_TRAILER_LEN]); // no compression, no checksum
    let new_footer = Footer { index: index_handle, ..footer };
    let mut fbuf = [0u8; 64];
    let n = new_footer.encode_into(&mut fbuf).unwrap();
    file.extend_from_slice(&fbuf[..n]);
    file
}

/// The table: one index entry whose handle has offset 2^64−2.
fn crafted() -> Vec<u8> {
    with_index(|k, good| vec![(k.to_vec(), BlockHandle::new(BAD_OFFSET, good.size))])
}

fn assert_overflow(what: &str, err: impl std::fmt::Display) {
    let e = err.to_string();
    assert!(e.contains("block handle overflows"), "{what}: {e}");
}

#[test]
fn core_table_reports_the_overflow() {
    let file = crafted();
    let t = Table::open(&file).unwrap();
    assert_overflow("Table::get", t.get(&key(5), &mut Vec::new()).unwrap_err());
    assert_overflow("Table::verify_all", t.verify_all().unwrap_err());
    assert_overflow("Table::iter().seek_to_first", t.iter().seek_to_first().unwrap_err());
    assert_overflow("Table::iter().seek", t.iter().seek(&key(5)).unwrap_err());
    assert_overflow("Table::iter().seek_to_last", t.iter().seek_to_last().unwrap_err());
}

async fn reader(file: Vec<u8>) -> SstReader {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("crafted.sst");
    store.put(&path, PutPayload::from(Bytes::from(file))).await.unwrap();
    SstReader::open(store, path, ReadOptions::default()).await.unwrap()
}

#[tokio::test]
async fn sst_reader_reports_the_overflow_on_every_path() {
    let r = reader(crafted()).await;
    assert_overflow("get", r.get(&key(5)).await.unwrap_err());
    assert_overflow("block", r.block(BlockHandle::new(BAD_OFFSET, 10)).await.unwrap_err());
    let all: Result<Vec<_>, _> = r.scan((Bound::Unbounded, Bound::Unbounded)).try_collect().await;
    assert_overflow("scan", all.unwrap_err());
    let some: Result<Vec<_>, _> = r.scan((Bound::Included(key(3)), Bound::Excluded(key(9)))).try_collect().await;
    assert_overflow("ranged scan", some.unwrap_err());
    let mut seen = 0;
    let walk = r
        .for_each_data_block(|_| {
            seen += 1;
            Ok(())
        })
        .await;
    assert_overflow("for_each_data_block", walk.unwrap_err());
    assert_eq!(seen, 0);
    // The listing paths only show the handle; they work.
    assert_eq!(r.index_entries().await.unwrap()[0].handle.offset, BAD_OFFSET);
}

#[test]
fn every_cli_read_command_fails_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crafted.sst");
    std::fs::write(&path, crafted()).unwrap();
    let file = path.to_str().unwrap();
    let k = String::from_utf8(key(5)).unwrap();
    let cmds: [&[&str]; 7] = [
        &["verify", file],
        &["dump", file],
        &["dump", "--entries", file],
        &["stats", file],
        &["scan", file],
        &["get", file, &k],
        &["--json", "verify", file],
    ];
    for args in cmds {
        let out = Command::new(env!("CARGO_BIN_EXE_sstkit")).args(args).output().expect("run sstkit");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} must fail");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(stderr.contains("block handle overflows"), "{args:?}: {stderr}");
    }
    assert!(FsPath::new(file).exists());
}

/// Found by the `reader` fuzz target: two index entries naming offset 0 with different sizes. The block cache
/// was keyed by offset alone, so after reading the first, a lookup through the second got the first block's
/// entries instead of what its own handle names.
#[tokio::test]
async fn blocks_at_one_offset_with_two_sizes_are_read_apart() {
    let file = with_index(|_, good| {
        let mut mid = key(150);
        mid.extend_from_slice(&[0; 8]); // an internal key's trailer
        let mut last = key(999);
        last.extend_from_slice(&[0; 8]);
        vec![(mid, good), (last, BlockHandle::new(0, 13))]
    });
    let r = reader(file.clone()).await;
    let t = Table::open(&file).unwrap();
    // key 100 reads (and caches) the whole block; key 200 goes through the 13-byte handle.
    for k in [key(100), key(200), key(100)] {
        let ours = r.get(&k).await.map(|f| f.map(|f| (f.kind, f.seqno, f.value.to_vec())));
        let core = t.get(&k, &mut Vec::new()).map(|f| f.map(|f| (f.kind, f.seqno, f.value.to_vec())));
        match (ours, core) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{k:?}"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("{k:?}: SstReader {a:?}, Table {b:?}"),
        }
    }
    assert!(r.get(&key(100)).await.unwrap().is_some());
    assert!(r.get(&key(200)).await.unwrap_or(None).is_none(), "key 200 is not in the 13 bytes its handle names");
}
