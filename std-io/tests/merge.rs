//! `sstkit::merge` against a model of stacked inputs (versions with their own seqnos, external files at seqno
//! 0, range deletions), with and without a snapshot and `bottommost`; `SstReader::get_as_of`/`scan_as_of`
//! against core's `Table`; merge operands; rolled output; the S3 (moto) path.

mod support;

use std::collections::BTreeMap;
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::memory::InMemory;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use proptest::prelude::*;
use sstkit::core::key::{InternalKey, ValueType};
use sstkit::core::table::{Options, Table, TableBuilder};
use sstkit::core::TableWriter;
use sstkit::merge::{merge, merged, MergeOptions};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::rolling::{RollingOptions, RollingWriter};
use sstkit::writer::{WriteOp, WriterOptions};

/// One input table: point versions `(key, seqno, kind, value)` and range deletions `(start, end, seqno)`.
/// `external`: written as an external file (every seqno 0).
#[derive(Debug, Clone)]
struct Input {
    points: Vec<(Vec<u8>, u64, ValueType, Vec<u8>)>,
    ranges: Vec<(Vec<u8>, Vec<u8>, u64)>,
    external: bool,
}

impl Input {
    fn bytes(&self) -> Vec<u8> {
        let opts = Options::default().external_file(self.external).block_size(128);
        let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
        let mut points = self.points.clone();
        points.sort_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        for (k, s, kind, v) in &points {
            w.add(InternalKey::new(k, *s, *kind), v).unwrap();
        }
        let mut ranges = self.ranges.clone();
        ranges.sort();
        for (s, e, q) in &ranges {
            w.delete_range_at(s, e, *q).unwrap();
        }
        w.finish().unwrap().1
    }
}

fn key(i: u8) -> Vec<u8> {
    format!("k{i:02}").into_bytes()
}

const KEYS: u8 = 16;

/// What the stacked inputs say about `k` at `snapshot`: `Some(Some(v))` a value, `Some(None)` deleted (point
/// or range), `None` nothing (what lies below shows).
fn model(inputs: &[Input], k: &[u8], snapshot: u64) -> Option<Option<Vec<u8>>> {
    let vis = |s: u64| s <= snapshot;
    let point = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, inp)| inp.points.iter().filter(|p| p.0 == k && vis(p.1)).map(move |p| ((p.1, i), p)))
        .max_by_key(|(rank, _)| *rank);
    let tomb = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, inp)| {
            inp.ranges.iter().filter(|r| r.0.as_slice() <= k && k < r.1.as_slice() && vis(r.2)).map(move |r| (r.2, i))
        })
        .max();
    match (point, tomb) {
        (Some((rank, _)), Some(t)) if t > rank => Some(None),
        (None, Some(_)) => Some(None),
        (Some((_, p)), _) => Some((p.2 == ValueType::Value).then(|| p.3.clone())),
        (None, None) => None,
    }
}

fn input_strategy() -> impl Strategy<Value = Input> {
    let kind = prop_oneof![4 => Just(ValueType::Value), 1 => Just(ValueType::Deletion)];
    let point = (0u8..KEYS, 1u64..40, kind, proptest::collection::vec(b'a'..=b'z', 1..12));
    let range = (0u8..KEYS, 1u8..6, 1u64..40);
    (proptest::collection::vec(point, 1..25), proptest::collection::vec(range, 0..3), any::<bool>()).prop_map(
        |(points, ranges, external)| {
            let mut seen = std::collections::BTreeSet::new();
            let points = points
                .into_iter()
                // One version per (key, seqno) in a table; an external file has one version per key.
                .filter(|p| seen.insert((p.0, if external { 0 } else { p.1 })))
                .map(|(k, s, kind, v)| {
                    let v = if kind == ValueType::Deletion { Vec::new() } else { v };
                    (key(k), if external { 0 } else { s }, kind, v)
                })
                .collect();
            let mut starts = std::collections::BTreeSet::new();
            let ranges = ranges
                .into_iter()
                .filter(|r| starts.insert(r.0))
                .map(|(s, len, q)| (key(s), key(s + len), if external { 0 } else { q }))
                .collect();
            Input { points, ranges, external }
        },
    )
}

async fn open_all(store: &Arc<dyn ObjectStore>, inputs: &[Input]) -> Vec<SstReader> {
    let mut readers = Vec::new();
    for (i, inp) in inputs.iter().enumerate() {
        let path = Path::from(format!("in/{i}.sst"));
        store.put(&path, PutPayload::from(inp.bytes())).await.unwrap();
        readers.push(SstReader::open(store.clone(), path, ReadOptions::default()).await.unwrap());
    }
    readers
}

/// The output as a layer over a base holding every key: what each key reads as.
fn layer_view(out: &[WriteOp<bytes::Bytes>], base: bool) -> BTreeMap<Vec<u8>, Option<Vec<u8>>> {
    let mut view = BTreeMap::new();
    for i in 0..KEYS + 8 {
        let k = key(i);
        let covered = out.iter().any(|op| matches!(op, WriteOp::DeleteRange(s, e) if s[..] <= k[..] && k[..] < e[..]));
        let point = out.iter().find(|op| !matches!(op, WriteOp::DeleteRange(..)) && op.key() == &k[..]);
        let v = match point {
            Some(WriteOp::Put(_, v)) => Some(v.to_vec()),
            Some(_) => None,
            None if covered => None,
            None => base.then(|| b"base".to_vec()),
        };
        view.insert(k, v);
    }
    view
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The merged output, placed over older data, reads as the inputs stacked over it; with bottommost it
    /// reads as the inputs alone and holds no deletion. At a snapshot, likewise for what the snapshot sees.
    #[test]
    fn merged_output_reads_as_the_stacked_inputs(
        inputs in proptest::collection::vec(input_strategy(), 1..4),
        snapshot in prop_oneof![Just(None), (0u64..40).prop_map(Some)],
        bottommost in any::<bool>(),
    ) {
        let out: Vec<WriteOp<bytes::Bytes>> = rt().block_on(async {
            let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
            let readers = open_all(&store, &inputs).await;
            let opts = MergeOptions::default().snapshot(snapshot).bottommost(bottommost);
            merged(readers, opts).try_collect().await.unwrap()
        });
        // Sorted: point keys strictly increasing, range starts increasing.
        let points: Vec<&[u8]> = out.iter().filter(|o| !matches!(o, WriteOp::DeleteRange(..))).map(|o| o.key()).collect();
        prop_assert!(points.windows(2).all(|w| w[0] < w[1]), "{:?}", out);
        let keys: Vec<&[u8]> = out.iter().map(|o| o.key()).collect();
        prop_assert!(keys.windows(2).all(|w| w[0] <= w[1]), "{:?}", out);
        let snap = snapshot.unwrap_or(u64::MAX);
        let view = layer_view(&out, !bottommost);
        for i in 0..KEYS + 8 {
            let k = key(i);
            let want = match model(&inputs, &k, snap) {
                Some(v) => v,
                None => (!bottommost).then(|| b"base".to_vec()),
            };
            prop_assert_eq!(&view[&k], &want, "key {:?}; output {:?}", String::from_utf8_lossy(&k), out);
        }
        if bottommost {
            prop_assert!(out.iter().all(|o| matches!(o, WriteOp::Put(..))), "{:?}", out);
        }
    }

    /// `SstReader::get_as_of` and `scan_as_of` answer as core's `Table::get_as_of` and a filtered cursor.
    #[test]
    fn reader_as_of_agrees_with_core(input in input_strategy(), snapshot in 0u64..45) {
        let bytes = input.bytes();
        let table = Table::open(&bytes).unwrap();
        let mut buf = Vec::new();
        rt().block_on(async {
            let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
            let r = open_all(&store, std::slice::from_ref(&input)).await.remove(0);
            for i in 0..KEYS + 8 {
                let k = key(i);
                let want = table.get_as_of(&k, snapshot, &mut buf).unwrap().map(|e| (e.seqno, e.kind, e.value.to_vec()));
                let got = r.get_as_of(&k, snapshot).await.unwrap().map(|e| (e.seqno, e.kind, e.value.to_vec()));
                assert_eq!(got, want, "key {:?} at {snapshot}", String::from_utf8_lossy(&k));
            }
            let all = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
            let got: Vec<_> = r.scan_as_of(all, snapshot).map_ok(|e| (e.user_key.to_vec(), e.seqno)).try_collect().await.unwrap();
            let mut want = Vec::new();
            let mut it = table.iter();
            it.seek_to_first().unwrap();
            while let Some(e) = it.entry().unwrap() {
                if e.visible_at(snapshot) {
                    want.push((e.user_key.to_vec(), e.seqno));
                }
                it.next().unwrap();
            }
            assert_eq!(got, want);
        });
    }
}

fn put(k: &str, s: u64, v: &str) -> (Vec<u8>, u64, ValueType, Vec<u8>) {
    (k.as_bytes().to_vec(), s, ValueType::Value, v.as_bytes().to_vec())
}

fn op(k: &str, s: u64, kind: ValueType, v: &str) -> (Vec<u8>, u64, ValueType, Vec<u8>) {
    (k.as_bytes().to_vec(), s, kind, v.as_bytes().to_vec())
}

fn table(points: Vec<(Vec<u8>, u64, ValueType, Vec<u8>)>) -> Input {
    Input { points, ranges: Vec::new(), external: false }
}

async fn merge_all(inputs: &[Input], opts: MergeOptions) -> sstkit::Result<Vec<WriteOp<bytes::Bytes>>> {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    merged(open_all(&store, inputs).await, opts).try_collect().await
}

#[tokio::test]
async fn a_merge_operand_over_an_older_version_is_unsupported() {
    let base = table(vec![put("a", 1, "x"), put("b", 1, "y")]);
    let operand = table(vec![op("a", 5, ValueType::Merge, "+1"), op("c", 5, ValueType::Merge, "+2")]);
    let e = merge_all(&[base.clone(), operand.clone()], MergeOptions::default()).await.unwrap_err();
    assert!(e.codec().is_some_and(|c| c.is_unsupported()), "{e}");
    let msg = e.to_string();
    assert!(msg.contains("\"a\"") && msg.contains("merge operator"), "{msg}");
    // A lone operand (nothing older) is kept as it is; so is one over a range-deleted version.
    let lone = merge_all(std::slice::from_ref(&operand), MergeOptions::default()).await.unwrap();
    assert_eq!(lone[0], WriteOp::Merge("a".into(), "+1".into()));
    let mut deleted = base.clone();
    deleted.ranges.push((b"a".to_vec(), b"b".to_vec(), 3));
    let ops = merge_all(&[deleted, operand.clone()], MergeOptions::default()).await.unwrap();
    assert!(ops.contains(&WriteOp::Merge("a".into(), "+1".into())), "{ops:?}");
    // Over a point deletion: the deletion would have to stay below it; with bottommost nothing is below.
    let del = table(vec![op("a", 2, ValueType::Deletion, "")]);
    assert!(merge_all(&[del.clone(), operand.clone()], MergeOptions::default()).await.is_err());
    let ops = merge_all(&[del, operand], MergeOptions::default().bottommost(true)).await.unwrap();
    assert_eq!(ops, vec![WriteOp::Merge("a".into(), "+1".into()), WriteOp::Merge("c".into(), "+2".into())]);
}

#[tokio::test]
async fn other_entry_types_are_unsupported_by_name() {
    let blob = table(vec![op("a", 1, ValueType::BlobIndex, "\x01\x02")]);
    let e = merge_all(&[blob], MergeOptions::default()).await.unwrap_err();
    assert!(e.codec().is_some_and(|c| c.is_unsupported()) && e.to_string().contains("blob"), "{e}");
}

#[tokio::test]
async fn equal_seqnos_go_to_the_later_input() {
    let older = Input { external: true, ..table(vec![put("a", 0, "old"), put("b", 0, "old")]) };
    let newer =
        Input { external: true, points: vec![put("a", 0, "new")], ranges: vec![(b"b".to_vec(), b"c".to_vec(), 0)] };
    let ops = merge_all(&[older.clone(), newer.clone()], MergeOptions::default()).await.unwrap();
    assert_eq!(ops, vec![WriteOp::Put("a".into(), "new".into()), WriteOp::DeleteRange("b".into(), "c".into())]);
    let ops = merge_all(&[newer, older], MergeOptions::default()).await.unwrap();
    assert_eq!(
        ops,
        vec![
            WriteOp::Put("a".into(), "old".into()),
            WriteOp::DeleteRange("b".into(), "c".into()),
            WriteOp::Put("b".into(), "old".into())
        ]
    );
}

/// `merge` into a rolling writer: non-overlapping files that together hold the merged view.
#[tokio::test]
async fn rolled_output_is_non_overlapping() {
    let mk = |step: usize, s: u64, tag: &str| {
        table(
            (0..3000)
                .step_by(step)
                .map(|i| put(&format!("key{i:06}"), s, &format!("{tag}{}", "v".repeat(40))))
                .collect(),
        )
    };
    let mut a = mk(1, 1, "a");
    a.ranges.push((b"key001000".to_vec(), b"key001500".to_vec(), 2));
    let b = mk(3, 3, "b");
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let readers = open_all(&store, &[a, b]).await;
    let ro = RollingOptions::new("out")
        .target_file_size(64 << 10)
        .writer(WriterOptions::default().file_creation_time(Some(1)));
    let files =
        merge(readers, MergeOptions::default().bottommost(true), RollingWriter::new(store.clone(), ro).unwrap())
            .await
            .unwrap();
    assert!(files.len() > 2, "{}", files.len());
    let mut seen = BTreeMap::new();
    let mut last: Option<Vec<u8>> = None;
    for f in &files {
        let r = SstReader::open(store.clone(), f.path.clone(), ReadOptions::default()).await.unwrap();
        let all = (std::ops::Bound::Unbounded, std::ops::Bound::Unbounded);
        let entries: Vec<_> = r.scan(all).try_collect().await.unwrap();
        assert!(last.as_deref().is_none_or(|l| l < &entries[0].user_key[..]), "files overlap");
        last = Some(entries.last().unwrap().user_key.to_vec());
        for e in entries {
            assert_eq!(e.seqno, 0);
            seen.insert(e.user_key.to_vec(), e.value.to_vec());
        }
    }
    for i in 0..3000 {
        let k = format!("key{i:06}");
        let want = if i % 3 == 0 {
            Some(format!("b{}", "v".repeat(40)))
        } else if (1000..1500).contains(&i) {
            None
        } else {
            Some(format!("a{}", "v".repeat(40)))
        };
        assert_eq!(seen.get(k.as_bytes()).map(|v| String::from_utf8(v.clone()).unwrap()), want, "{k}");
    }
}

/// Inputs streamed from the moto S3 server (ranged GETs), output written back to it.
#[test]
fn merge_streams_inputs_from_s3() {
    let Some((_server, store)) = support::moto_store() else { return };
    let rt = support::runtime();
    rt.block_on(async {
        let a = table((0..5000).map(|i| put(&format!("key{i:06}"), 1, "a")).collect());
        let mut b = table((0..5000).step_by(2).map(|i| put(&format!("key{i:06}"), 2, "b")).collect());
        b.ranges.push((b"key004000".to_vec(), b"key009999".to_vec(), 3));
        let mut readers = Vec::new();
        for (i, inp) in [a, b].iter().enumerate() {
            let path = Path::from(format!("merge/in{i}.sst"));
            store.put(&path, PutPayload::from(inp.bytes())).await.unwrap();
            // A small tail and scan chunk: the scan reads many ranged GETs.
            let mut ro = ReadOptions::default().tail_size(4096);
            ro.scan_chunk = 16 << 10;
            readers.push(SstReader::open(store.clone(), path, ro).await.unwrap());
        }
        let ro = RollingOptions::new("merge/out").writer(WriterOptions::default().part_size(5 << 20));
        let files = merge(readers.clone(), MergeOptions::default(), RollingWriter::new(store.clone(), ro).unwrap())
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        // The open takes at most 2 GETs (the tail, then the metadata it lacks); the scans many more.
        for r in &readers {
            assert!(r.stats().gets > 4, "ranged GETs: {:?}", r.stats());
        }
        let out = SstReader::open(store.clone(), files[0].path.clone(), ReadOptions::default()).await.unwrap();
        assert_eq!(out.get(b"key000002").await.unwrap().unwrap().value, "b");
        assert_eq!(out.get(b"key000003").await.unwrap().unwrap().value, "a");
        assert!(out.get(b"key004001").await.unwrap().is_some_and(|e| e.is_deleted()));
        assert_eq!(out.range_tombstones().unwrap().len(), 1);
    });
}
