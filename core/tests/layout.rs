//! `TableLayout`: block walks by range, decoding once, the point-lookup decision, checked extents.
#![cfg(feature = "alloc")]

use std::ops::Bound;

use sstkit_core::handle::BlockHandle;
use sstkit_core::key::ValueType;
use sstkit_core::table::{
    newest_of, newest_of_covering, BlockBytes, BlockExtent, Covering, Entry, MetaLayout, Options, ReadOptions, Table,
    TableBuilder, TableLayout,
};
use sstkit_core::TableWriter;
use sstkit_core::{CompressionType, Part};

/// A range of key numbers.
type KeyRange = (Bound<u32>, Bound<u32>);

fn key(i: u32) -> Vec<u8> {
    format!("key{i:05}").into_bytes()
}

/// 3 000 keys in small blocks, at seqno 5.
fn build(compression: CompressionType) -> Vec<u8> {
    let opts = Options::default().compression(compression).block_size(512).external_file(false).seqno(5);
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..3000 {
        w.put(&key(i), format!("value{i}").as_bytes()).unwrap();
    }
    w.finish().unwrap().1
}

/// The user keys a walk over `range` yields: blocks from `for_each_block`, entries from
/// `for_each_entry_in_block` on each block decoded by `decode_block`.
fn walk(layout: &TableLayout<'_>, file: &[u8], range: (Bound<&[u8]>, Bound<&[u8]>)) -> (Vec<Vec<u8>>, usize) {
    let mut extents = Vec::new();
    layout
        .for_each_block(range, |e| {
            extents.push(e);
            Ok(true)
        })
        .unwrap();
    for w in extents.windows(2) {
        assert_eq!(w[0].end, w[1].start(), "data blocks are adjacent and in order");
    }
    let mut keys = Vec::new();
    let mut kb = Vec::new();
    for e in &extents {
        // Fetch exactly the extent, as a ranged reader does.
        let fetched = &file[e.start() as usize..e.end as usize];
        let mut buf = Vec::new();
        let d = layout.decode_block(fetched, e.start(), e.handle, &mut buf).unwrap();
        let block: &[u8] = match d.bytes {
            BlockBytes::Fetched(b) => b,
            BlockBytes::Buffer(n) => &buf[..n],
        };
        let more = layout
            .for_each_entry_in_block(block, e.handle, range, &mut kb, |en| {
                keys.push(en.user_key.to_vec());
                Ok(true)
            })
            .unwrap();
        if !more {
            break;
        }
    }
    (keys, extents.len())
}

#[test]
fn range_walks_list_the_blocks_and_entries_of_the_range() {
    for compression in [CompressionType::None, CompressionType::Lz4] {
        let file = build(compression);
        let t = Table::open(&file).unwrap();
        let l = t.layout();
        let (all, blocks) = walk(l, &file, (Bound::Unbounded, Bound::Unbounded));
        assert_eq!(all, (0..3000).map(key).collect::<Vec<_>>());
        assert!(blocks > 20, "small blocks: {blocks}");
        let cases: [(KeyRange, Vec<u32>); 5] = [
            ((Bound::Included(100), Bound::Excluded(200)), (100..200).collect()),
            ((Bound::Excluded(100), Bound::Included(200)), (101..=200).collect()),
            ((Bound::Included(2990), Bound::Unbounded), (2990..3000).collect()),
            ((Bound::Unbounded, Bound::Excluded(5)), (0..5).collect()),
            ((Bound::Included(7), Bound::Included(7)), vec![7]),
        ];
        for ((lo, hi), want) in cases {
            let (lk, hk) = (lo.map(key), hi.map(key));
            let range = (lk.as_ref().map(Vec::as_slice), hk.as_ref().map(Vec::as_slice));
            let (got, n) = walk(l, &file, range);
            assert_eq!(got, want.into_iter().map(key).collect::<Vec<_>>(), "{lo:?}..{hi:?}");
            assert!(n < blocks / 2, "{lo:?}..{hi:?} walks {n} of {blocks} blocks");
        }
    }
}

#[test]
fn the_point_lookup_decision_matches_table_get() {
    let opts = Options::default().block_size(512).external_file(false).seqno(5);
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..2000 {
        w.put(&key(i), b"v").unwrap();
        if i == 500 {
            w.delete_range(b"key00500a", b"key00500z").unwrap();
        }
    }
    let file = w.finish().unwrap().1;
    let t = Table::open(&file).unwrap();
    let l = t.layout();
    let mut kb = Vec::new();
    let probes: [(&[u8], Option<ValueType>); 6] = [
        (b"key00000", Some(ValueType::Value)),
        (b"key00500", Some(ValueType::Value)),
        (b"key00500b", Some(ValueType::RangeDeletion)),
        (b"key00500z", None),
        (b"key01999", Some(ValueType::Value)),
        (b"key05000", None),
    ];
    for (k, want) in probes {
        let block = l.point_block(k).unwrap();
        let mut buf = Vec::new();
        let decoded = block.map(|e| (l.decode_block(&file, 0, e.handle, &mut buf).unwrap(), e.handle));
        let bytes = decoded.map(|(d, h)| match d.bytes {
            BlockBytes::Fetched(b) => (b, h),
            BlockBytes::Buffer(_) => unreachable!("uncompressed table"),
        });
        let ours = l.get_in_block(bytes, k, &mut kb).unwrap();
        let mut tb = Vec::new();
        let table = t.get(k, &mut tb).unwrap();
        assert_eq!(ours, table, "{k:?}");
        assert_eq!(ours.map(|o| o.kind), want, "{k:?}");
    }
}

#[test]
fn a_newer_tombstone_wins_an_equal_or_older_one_does_not() {
    let put = Entry { user_key: b"k", timestamp: None, seqno: 7, kind: ValueType::Value, value: b"v" };
    assert_eq!(newest_of(b"k", Some(put), None), Some(put));
    assert_eq!(newest_of(b"k", Some(put), Some(7)), Some(put));
    assert_eq!(newest_of(b"k", Some(put), Some(6)), Some(put));
    let del = newest_of(b"k", Some(put), Some(8)).unwrap();
    assert_eq!((del.user_key, del.seqno, del.kind, del.value), (&b"k"[..], 8, ValueType::RangeDeletion, &b""[..]));
    let only = newest_of(b"k", None, Some(3)).unwrap();
    assert_eq!((only.user_key, only.seqno, only.kind), (&b"k"[..], 3, ValueType::RangeDeletion));
    assert_eq!(newest_of(b"k", None, None), None);
}

#[test]
fn with_timestamps_a_tombstone_deletes_only_versions_at_or_below_its_timestamp() {
    let put = Entry { user_key: b"k", timestamp: Some(20), seqno: 7, kind: ValueType::Value, value: b"v" };
    let at = |seqno, ts| Some(Covering { seqno, timestamp: Some(ts) });
    // Newer by seqno but older by timestamp: the version stays.
    assert_eq!(newest_of_covering(b"k", Some(put), at(9, 15)), Some(put));
    // Newer by seqno, at or above the version's timestamp: deleted, the tombstone's timestamp reported.
    for ts in [20, 25] {
        let del = newest_of_covering(b"k", Some(put), at(9, ts)).unwrap();
        assert_eq!((del.kind, del.seqno, del.timestamp), (ValueType::RangeDeletion, 9, Some(ts)));
    }
    // Older by seqno: the version stays whatever the timestamp.
    assert_eq!(newest_of_covering(b"k", Some(put), at(6, 30)), Some(put));
}

#[test]
fn extents_are_checked_against_the_file() {
    let h = |o, s| BlockHandle::new(o, s);
    let e = BlockExtent::new(h(10, 20), 100, Part::DataBlock).unwrap();
    assert_eq!((e.start(), e.end, e.stored_len(), e.range()), (10, 35, 25, 10..35));
    assert!(BlockExtent::new(h(80, 15), 100, Part::DataBlock).is_ok());
    let past = BlockExtent::new(h(80, 16), 100, Part::DataBlock).unwrap_err().to_string();
    assert!(past.contains("past the end of the file"), "{past}");
    for bad in [h(u64::MAX - 1, 0), h(u64::MAX - 5, 1), h(1, u64::MAX)] {
        let e = BlockExtent::new(bad, u64::MAX, Part::DataBlock).unwrap_err().to_string();
        assert!(e.contains("block handle overflows"), "{bad:?}: {e}");
    }
}

#[test]
fn a_ranged_view_reads_what_the_whole_file_view_reads() {
    let file = build(CompressionType::Lz4);
    let len = file.len() as u64;
    let opts = ReadOptions::default();
    let base = len - 16 * 1024;
    let region = &file[base as usize..];
    let mut index_buf = vec![0u8; 1 << 20];
    let meta = MetaLayout::parse(region, base, len, &opts, &mut index_buf).unwrap();
    let ranged = TableLayout::new(&meta, region, &index_buf, opts).unwrap();
    let t = Table::open(&file).unwrap();
    let mut a = Vec::new();
    let mut b = Vec::new();
    ranged
        .for_each_block((Bound::Unbounded, Bound::Unbounded), |e| {
            Ok({
                a.push(e);
                true
            })
        })
        .unwrap();
    t.layout()
        .for_each_block((Bound::Unbounded, Bound::Unbounded), |e| {
            Ok({
                b.push(e);
                true
            })
        })
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(ranged.point_block(&key(1234)).unwrap(), t.layout().point_block(&key(1234)).unwrap());
}
