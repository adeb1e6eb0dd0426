//! std-io's `SstReader` over an in-memory object store: every path the library and the CLI's read commands
//! run (open, get, forward scans, the data-block walk of `dump`/`verify`/`stats`, the listings), and a check
//! against core's in-memory `Table` for tables both open.
// The walk's callback returns std-io's error type, which std-io itself allows to be large.
#![allow(clippy::result_large_err)]

use std::ops::Bound;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::verified::Verify;
use sstkit_core::table::Table;

use crate::{hostile_read_options, MAX_STEPS};

/// How the reader is set up for one input.
#[derive(Debug, Clone, Copy)]
pub struct ReaderSpec {
    /// Verify checksums.
    pub verify: bool,
    /// Bytes fetched from the end at open (small values force the second GET).
    pub tail_size: u64,
    /// Most bytes one scan GET fetches (small values split runs).
    pub scan_chunk: u64,
}

fn runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_current_thread().build().expect("runtime"))
}

/// One entry as both readers show it: user key, kind, seqno, value.
type Row = (Vec<u8>, u8, u64, Vec<u8>);

/// Opens `file` with `SstReader` and runs everything it offers; returns whether it opened. With `check`, a
/// table core's `Table` also opens must read the same through both (scan, gets, tombstones): they share every
/// format decision, so a difference is std-io fetching or slicing the wrong bytes.
pub fn exercise_reader(file: &[u8], spec: ReaderSpec, probes: &[&[u8]], check: bool) -> bool {
    runtime().block_on(run(file, spec, probes, check))
}

async fn run(file: &[u8], spec: ReaderSpec, probes: &[&[u8]], check: bool) -> bool {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let path = Path::from("fuzz.sst");
    store.put(&path, PutPayload::from(Bytes::copy_from_slice(file))).await.expect("in-memory put");
    let core_opts = hostile_read_options(spec.verify);
    let mut opts = ReadOptions::default();
    // Once: the verified-block set is exercised too (a damaged block is never remembered).
    opts.verify_checksums = if spec.verify { Verify::Once } else { Verify::Never };
    opts.max_block_len = core_opts.max_block_len;
    opts.tail_size = spec.tail_size;
    opts.scan_chunk = spec.scan_chunk.max(1);
    let Ok(r) = SstReader::open(store, path, opts).await else { return false };

    let _ = r.properties_list();
    let _ = r.meta_blocks();
    let _ = r.index_entries().await;
    let tombs = r.range_tombstones();
    let mut gets = Vec::new();
    for k in probes {
        gets.push(r.get(k).await.map(|f| f.map(|f| (f.kind as u8, f.seqno, f.value.to_vec()))));
    }
    let all = collect(&r, (Bound::Unbounded, Bound::Unbounded)).await;
    if let (Some(a), Some(b)) = (probes.first(), probes.last()) {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        let _ = collect(&r, (Bound::Included(lo.to_vec()), Bound::Excluded(hi.to_vec()))).await;
        let _ = collect(&r, (Bound::Excluded(lo.to_vec()), Bound::Included(hi.to_vec()))).await;
    }
    // The CLI's dump/verify/stats walk: every data block, then its entries.
    let walk = r.for_each_data_block(|b| r.block_entries(&b, |_| {})).await;

    if !check {
        return true;
    }
    let mut index_buf = vec![0u8; 1 << 20];
    let Ok(t) = Table::open_with(file, core_opts, &mut index_buf) else { return true };
    let mut want = Vec::new();
    let core_scan = t.for_each_in_range(None, None, Vec::new(), |e| {
        want.push((e.user_key.to_vec(), e.kind as u8, e.seqno, e.value.to_vec()));
        want.len() < MAX_STEPS
    });
    if core_scan.is_ok() && want.len() < MAX_STEPS {
        assert_eq!(all.as_ref().ok(), Some(&want), "SstReader scan differs from Table");
        assert!(walk.is_ok(), "the block walk failed where Table's scan worked: {walk:?}");
    }
    let core_tombs: Result<Vec<_>, _> =
        t.range_tombstones().map(|t| t.map(|t| (t.start.to_vec(), t.end.to_vec(), t.seqno))).collect();
    if let (Ok(a), Ok(b)) = (&tombs, &core_tombs) {
        let a: Vec<_> = a.iter().map(|(s, e, q)| (s.to_vec(), e.to_vec(), *q)).collect();
        assert_eq!(&a, b, "range tombstones differ");
    }
    for (k, got) in probes.iter().zip(gets) {
        let mut buf = Vec::new();
        let core = t.get(k, &mut buf).map(|f| f.map(|f| (f.kind as u8, f.seqno, f.value.to_vec())));
        match (got, core) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "get {k:?} differs from Table"),
            (Err(_), Err(_)) => {}
            (a, b) => panic!("get {k:?}: SstReader {a:?}, Table {b:?}"),
        }
    }
    true
}

async fn collect(r: &SstReader, range: (Bound<Vec<u8>>, Bound<Vec<u8>>)) -> Result<Vec<Row>, sstkit::Error> {
    r.scan(range)
        .take(MAX_STEPS)
        .map_ok(|e| (e.user_key.to_vec(), e.kind as u8, e.seqno, e.value.to_vec()))
        .try_collect()
        .await
}
