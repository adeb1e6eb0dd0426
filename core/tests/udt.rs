//! Tables with user-defined timestamps (comparator `leveldb.BytewiseComparator.u64ts`) that RocksDB 10.4.2
//! wrote (`data/udt/gen.py`): every entry read exactly with its timestamp, point lookups at every read
//! timestamp against a model, cursor seeks at a timestamp both ways, timestamped range tombstones, a table
//! whose timestamps were stripped, and a comparator we cannot read.
#![cfg(feature = "alloc")]

use sstkit_core::comparator::Comparator;
use sstkit_core::table::{ReadOptions, Table};
use sstkit_core::{Error, ValueType};

const UDT: &[u8] = include_bytes!("data/udt/udt.sst");
const STRIPPED: &[u8] = include_bytes!("data/udt/udt_stripped.sst");

/// One entry: (user key, timestamp, kind, value).
type Row = (Vec<u8>, u64, ValueType, Vec<u8>);

/// What gen.py wrote, in RocksDB's order: user key ascending, then timestamp descending.
fn expected() -> Vec<Row> {
    let mut out = Vec::new();
    for i in 0..30 {
        let k = format!("k{i:02}").into_bytes();
        for t in [30u64, 25, 20, 10] {
            if t == 25 {
                if i == 7 {
                    out.push((k.clone(), 25, ValueType::DeletionWithTimestamp, Vec::new()));
                }
                continue;
            }
            out.push((k.clone(), t, ValueType::Value, format!("k{i:02}@{t}").into_bytes()));
        }
    }
    out
}

/// The range tombstone gen.py wrote: [k20, k23) at ts 15.
fn tombstone_covers(key: &[u8], read_ts: u64) -> bool {
    read_ts >= 15 && (&b"k20"[..]..&b"k23"[..]).contains(&key)
}

/// The model's answer to a lookup of `key` at `read_ts`: the newest version at or below it, deleted when the
/// tombstone (newer by seqno than every put, at ts 15) is visible and the version is at or below ts 15.
fn model_get(key: &[u8], read_ts: u64) -> Option<(u64, ValueType, Vec<u8>)> {
    let v = expected().into_iter().find(|(k, t, _, _)| k == key && *t <= read_ts);
    match v {
        Some((_, t, _, _)) if t <= 15 && tombstone_covers(key, read_ts) => Some((15, ValueType::RangeDeletion, vec![])),
        Some((_, t, kind, value)) => Some((t, kind, value)),
        None if tombstone_covers(key, read_ts) => Some((15, ValueType::RangeDeletion, vec![])),
        None => None,
    }
}

#[test]
fn the_comparator_and_every_entry_with_its_timestamp() {
    let t = Table::open(UDT).unwrap();
    assert_eq!(t.layout().comparator(), Comparator::BytewiseU64Ts { persisted: true });
    assert!(t.index_info().timestamps);
    // RocksDB's filter holds the keys without their timestamps (30 of them): asked with the bare key.
    assert!(t.filter().is_some());
    assert_eq!(t.properties().num_filter_entries, Some(30));
    assert!(t.may_contain(b"k17"));
    let mut it = t.iter();
    it.seek_to_first().unwrap();
    let mut got = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        got.push((e.user_key.to_vec(), e.timestamp.unwrap(), e.kind, e.value.to_vec()));
        it.next().unwrap();
    }
    assert_eq!(got, expected());
    // And backwards.
    it.seek_to_last().unwrap();
    let mut back = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        back.push((e.user_key.to_vec(), e.timestamp.unwrap(), e.kind, e.value.to_vec()));
        it.prev().unwrap();
    }
    back.reverse();
    assert_eq!(back, expected());
    let tombs: Vec<_> = t.range_tombstones().map(|r| r.unwrap()).collect();
    assert_eq!(tombs.len(), 1);
    assert_eq!((tombs[0].start, tombs[0].end, tombs[0].timestamp), (&b"k20"[..], &b"k23"[..], Some(15)));
    assert!(t.verify_all().unwrap() >= 12, "every block verifies");
}

#[test]
fn lookups_at_every_read_timestamp_match_the_model() {
    let t = Table::open(UDT).unwrap();
    let mut keys: Vec<Vec<u8>> = (0..30).map(|i| format!("k{i:02}").into_bytes()).collect();
    keys.extend([b"k".to_vec(), b"k2".to_vec(), b"k99".to_vec(), b"a".to_vec()]);
    for key in &keys {
        for read_ts in [0, 5, 10, 12, 15, 19, 20, 24, 25, 26, 30, 31, u64::MAX] {
            let mut buf = Vec::new();
            let got = t.get_at(key, read_ts, &mut buf).unwrap();
            let got = got.map(|e| (e.timestamp.unwrap(), e.kind, e.value.to_vec()));
            assert_eq!(got, model_get(key, read_ts), "{} at {read_ts}", String::from_utf8_lossy(key));
        }
        let mut buf = Vec::new();
        let newest = t.get(key, &mut buf).unwrap().map(|e| (e.timestamp.unwrap(), e.kind, e.value.to_vec()));
        assert_eq!(newest, model_get(key, u64::MAX));
    }
}

#[test]
fn cursor_seeks_at_a_timestamp_land_on_the_newest_visible_version() {
    let t = Table::open(UDT).unwrap();
    let all = expected();
    let mut it = t.iter();
    for (key, read_ts) in [(&b"k05"[..], 25u64), (b"k05", 9), (b"k07", 25), (b"k07", 24), (b"k13", 10), (b"k29", 0)] {
        it.seek_at(key, read_ts).unwrap();
        // The first row in the model at or after (key, read_ts) in RocksDB's order.
        let want = all.iter().position(|(k, ts, _, _)| (k.as_slice(), u64::MAX - *ts) >= (key, u64::MAX - read_ts));
        let got = it.entry().unwrap().map(|e| (e.user_key.to_vec(), e.timestamp.unwrap()));
        assert_eq!(got, want.map(|i| (all[i].0.clone(), all[i].1)), "{key:?} at {read_ts}");
        if let Some(i) = want.filter(|&i| i > 0) {
            it.prev().unwrap();
            let e = it.entry().unwrap().unwrap();
            assert_eq!((e.user_key, e.timestamp.unwrap()), (all[i - 1].0.as_slice(), all[i - 1].1));
        }
    }
    // A plain seek is the newest version.
    it.seek(b"k10").unwrap();
    assert_eq!(it.entry().unwrap().map(|e| e.timestamp), Some(Some(30)));
}

#[test]
fn stripped_timestamps_read_as_plain_keys() {
    let t = Table::open(STRIPPED).unwrap();
    assert_eq!(t.layout().comparator(), Comparator::BytewiseU64Ts { persisted: false });
    assert!(t.layout().comparator().timestamps_stripped());
    assert!(!t.index_info().timestamps);
    let mut it = t.iter();
    it.seek_to_first().unwrap();
    let mut got = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        assert_eq!(e.timestamp, None);
        got.push((e.user_key.to_vec(), e.value.to_vec()));
        it.next().unwrap();
    }
    let want: Vec<_> = (0..5).map(|i| (format!("s{i:02}").into_bytes(), format!("v{i}").into_bytes())).collect();
    assert_eq!(got, want);
    let mut buf = Vec::new();
    assert_eq!(t.get(b"s03", &mut buf).unwrap().unwrap().value, b"v3");
}

#[test]
fn another_comparator_is_unsupported_by_name() {
    // The same table claiming a reverse comparator (same length; checksums not verified so the bytes stand).
    let mut file = STRIPPED.to_vec();
    let at = file.windows(32).position(|w| w == b"leveldb.BytewiseComparator.u64ts").unwrap();
    file[at..at + 32].copy_from_slice(b"rocksdb.ReverseBytewiseComparato");
    let mut o = ReadOptions::default();
    o.verify_checksums = false;
    let e = Table::open_with(&file, o, &mut []).unwrap_err();
    assert!(matches!(e, Error::UnsupportedComparator { .. }), "{e}");
    assert!(e.is_unsupported());
    assert!(e.to_string().contains("rocksdb.ReverseBytewiseComparato"), "{e}");
}
