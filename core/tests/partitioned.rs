//! Tables with a partitioned index (index type 2) written by RocksDB 10.4.2, committed as fixtures by
//! `data/partitioned/gen.py`: read exactly in both directions, looked up, sought, verified, and walked through
//! the ranged path (`meta_start` → `MetaLayout` → `TableLayout`).
#![cfg(feature = "alloc")]

use core::ops::Bound;

use sstkit_core::table::{meta_start, MetaLayout, MetaNeed, ReadOptions, Table, TableLayout};
use sstkit_core::{Error, Part, ValueType};

const FIXTURES: [(&str, &[u8]); 5] = [
    ("fv5", include_bytes!("data/partitioned/fv5.sst")),
    ("fv5_nofilter", include_bytes!("data/partitioned/fv5_nofilter.sst")),
    ("fv4_pfilter", include_bytes!("data/partitioned/fv4_pfilter.sst")),
    ("fv6_pfilter", include_bytes!("data/partitioned/fv6_pfilter.sst")),
    ("fv6_lz4", include_bytes!("data/partitioned/fv6_lz4.sst")),
];
const N: usize = 1200;

/// The entries `gen.py` writes: `(user key, value or None for a deletion)`.
fn expected() -> Vec<(Vec<u8>, Option<Vec<u8>>)> {
    (0..N)
        .map(|i| {
            let k = format!("k{i:05}").into_bytes();
            (k, (i % 10 != 3).then(|| format!("v{i}-").repeat(i % 7 + 1).into_bytes()))
        })
        .collect()
}

fn open<'a>(name: &str, file: &'a [u8], index_buf: &'a mut [u8]) -> Table<'a> {
    let t = Table::open_with(file, ReadOptions::default(), index_buf).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert!(t.index_info().partitioned, "{name}");
    t
}

fn kv(name: &str, e: sstkit_core::table::Entry<'_>) -> (Vec<u8>, Option<Vec<u8>>) {
    let v = match e.kind {
        ValueType::Value => Some(e.value.to_vec()),
        ValueType::Deletion => None,
        k => panic!("{name}: unexpected {k:?}"),
    };
    (e.user_key.to_vec(), v)
}

fn partitions(t: &Table<'_>) -> usize {
    t.layout().index_partition_count().unwrap() as usize
}

#[test]
fn scans_both_ways_exactly() {
    let want = expected();
    for (name, file) in FIXTURES {
        let mut ib = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib);
        assert!(partitions(&t) > 3, "{name}: too few partitions to test anything");
        let mut got = Vec::new();
        let mut it = t.iter();
        it.seek_to_first().unwrap();
        while let Some(e) = it.entry().unwrap() {
            assert_eq!(e.seqno, 0, "{name}");
            got.push(kv(name, e));
            it.next().unwrap();
        }
        assert_eq!(got, want, "{name}: forward");

        let mut back = Vec::new();
        it.seek_to_last().unwrap();
        while let Some(e) = it.entry().unwrap() {
            back.push(kv(name, e));
            it.prev().unwrap();
        }
        back.reverse();
        assert_eq!(back, want, "{name}: backward");

        // Ranges that start and end inside and across partitions.
        for (s, e) in [(0usize, 1usize), (17, 433), (599, 600), (1000, N)] {
            let start = want[s].0.clone();
            let end = want.get(e).map(|x| x.0.clone());
            let mut got = Vec::new();
            t.for_each_in_range(Some(&start), end.as_deref(), Vec::new(), |e| {
                got.push(kv(name, e));
                true
            })
            .unwrap();
            assert_eq!(got, want[s..e], "{name}: range {s}..{e}");
        }
    }
}

#[test]
fn get_and_seek() {
    let want = expected();
    for (name, file) in FIXTURES {
        let mut ib = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib);
        let mut buf = Vec::new();
        for (k, v) in &want {
            let e = t.get(k, &mut buf).unwrap().unwrap_or_else(|| panic!("{name}: {k:?} missing"));
            assert_eq!(kv(name, e), (k.clone(), v.clone()), "{name}");
        }
        for absent in [&b""[..], b"a", b"k", b"k00000\0", b"k00599x", b"k01199\0", b"k012", b"z"] {
            assert!(t.get(absent, &mut buf).unwrap().is_none(), "{name}: {absent:?}");
        }
        let mut it = t.iter();
        // Between two keys: the next one, even across a partition.
        for i in 0..N - 1 {
            let mut k = want[i].0.clone();
            k.push(b'x');
            it.seek(&k).unwrap();
            assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(want[i + 1].0.clone()), "{name}");
            it.seek(&want[i + 1].0).unwrap();
            assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(want[i + 1].0.clone()), "{name}");
            it.seek_before(&want[i + 1].0).unwrap();
            assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(want[i].0.clone()), "{name}");
        }
        it.seek(b"k01199x").unwrap();
        assert!(!it.valid(), "{name}");
        it.seek(b"").unwrap();
        assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(want[0].0.clone()), "{name}");
    }
}

#[test]
fn verify_all_checks_partitions() {
    for (name, file) in FIXTURES {
        let mut ib = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib);
        let mut data_blocks = 0u64;
        t.layout()
            .for_each_block((Bound::Unbounded, Bound::Unbounded), |_| {
                data_blocks += 1;
                Ok(true)
            })
            .unwrap();
        let parts = partitions(&t) as u64;
        let n = t.verify_all().unwrap();
        assert!(n >= 2 + parts + data_blocks, "{name}: {n} < 2 + {parts} + {data_blocks}");
        assert_eq!(Some(data_blocks), t.properties().num_data_blocks, "{name}");

        // A flipped byte inside a partition is found by verify_all and by reads that pass through it.
        let mut first = None;
        t.layout()
            .for_each_index_partition(|h| {
                first.get_or_insert(h);
                Ok(false)
            })
            .unwrap();
        let h = first.unwrap();
        let mut bad = file.to_vec();
        bad[h.offset as usize + 1] ^= 0x40;
        let mut ib2 = vec![0u8; 1 << 16];
        let t2 = Table::open_with(&bad, ReadOptions::default(), &mut ib2).unwrap();
        let e = t2.verify_all().unwrap_err();
        assert!(matches!(e, Error::ChecksumMismatch { .. }), "{name}: {e:?}");
        let e = t2.get(b"k00000", &mut Vec::new()).unwrap_err();
        assert!(matches!(e, Error::ChecksumMismatch { part: Part::Index, .. }), "{name}: {e:?}");
    }
}

/// The ranged path: a reader that starts from a small tail is told to fetch the partitions too, then every
/// lookup and walk agrees with the in-memory table.
#[test]
fn ranged_layout_covers_partitions() {
    for (name, file) in FIXTURES {
        let len = file.len() as u64;
        let opts = ReadOptions::default();
        let mut base = len - 64;
        let mut rounds = 0;
        while let MetaNeed::From(s) = meta_start(&file[base as usize..], base, len, &opts).unwrap() {
            assert!(s < base, "{name}");
            base = s;
            rounds += 1;
        }
        assert!(rounds >= 1, "{name}");
        let region = &file[base as usize..];
        let mut ib = vec![0u8; 1 << 16];
        let meta = MetaLayout::parse(region, base, len, &opts, &mut ib).unwrap();
        let layout = TableLayout::new(&meta, region, &ib, opts).unwrap();
        let mut ib2 = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib2);
        let mut lowest = u64::MAX;
        layout
            .for_each_index_partition(|h| {
                lowest = lowest.min(h.offset);
                Ok(true)
            })
            .unwrap();
        assert!(base <= lowest, "{name}: the region holds the partitions");
        for (k, _) in expected() {
            assert_eq!(layout.point_block(&k).unwrap(), t.layout().point_block(&k).unwrap(), "{name}");
            assert!(layout.point_block(&k).unwrap().is_some(), "{name}");
        }
        let walk = |lo: Bound<&[u8]>, hi: Bound<&[u8]>| {
            let mut v = Vec::new();
            layout
                .for_each_block((lo, hi), |x| {
                    v.push(x.handle.offset);
                    Ok(true)
                })
                .unwrap();
            v
        };
        let all = walk(Bound::Unbounded, Bound::Unbounded);
        assert_eq!(all.len() as u64, t.properties().num_data_blocks.unwrap(), "{name}");
        assert!(all.windows(2).all(|w| w[0] < w[1]), "{name}");
        let some = walk(Bound::Included(b"k00300"), Bound::Excluded(b"k00700"));
        assert!(some.len() > 2 && some.len() < all.len(), "{name}");
        let first = t.layout().point_block(b"k00300").unwrap().unwrap().handle.offset;
        let last = t.layout().point_block(b"k00700").unwrap().unwrap().handle.offset;
        assert_eq!(some.first(), Some(&first), "{name}");
        assert_eq!(some.last(), Some(&last), "{name}");
    }
}

/// The on-demand path: `meta_start_without_partitions` leaves the partitions out of the region; the reader asks
/// which partition a key or range needs, fetches it, and gets the same answers as the in-memory table.
#[test]
fn partitions_fetched_on_demand() {
    let file: &[u8] = include_bytes!("data/partitioned/fv5_nofilter.sst");
    let len = file.len() as u64;
    let opts = ReadOptions::default();
    let mut base = len - 64;
    while let MetaNeed::From(s) =
        sstkit_core::table::meta_start_without_partitions(&file[base as usize..], base, len, &opts).unwrap()
    {
        base = s;
    }
    let region = &file[base as usize..];
    let mut ib = vec![0u8; 1 << 16];
    let meta = MetaLayout::parse(region, base, len, &opts, &mut ib).unwrap();
    let layout = TableLayout::new(&meta, region, &ib, opts).unwrap();
    let mut ib2 = vec![0u8; 1 << 16];
    let t = open("fv5_nofilter", file, &mut ib2);
    // No filter precedes the partitions: the region starts after them and the region-only walk refuses.
    assert!(t.filter().is_none());
    let e = layout.point_block(b"k00000").unwrap_err();
    assert!(matches!(e, Error::InvalidArgument { .. }), "{e:?}");

    // Stands in for a ranged GET of one block.
    let fetch = |x: sstkit_core::table::BlockExtent| {
        assert!(x.start() < base, "a partition the region already holds");
        let raw = &file[x.start() as usize..x.end as usize];
        let mut buf = Vec::new();
        let d = layout.decode_partition(raw, x.start(), x.handle, &mut buf).unwrap();
        match d.bytes {
            sstkit_core::table::BlockBytes::Fetched(b) => b.to_vec(),
            sstkit_core::table::BlockBytes::Buffer(n) => buf[..n].to_vec(),
        }
    };
    for (k, _) in expected() {
        let p = layout.partition_for(&k).unwrap().unwrap();
        let part = fetch(p);
        let got = layout.point_block_in_partition(&part, p.handle, &k).unwrap();
        assert_eq!(got, t.layout().point_block(&k).unwrap());
    }
    assert_eq!(layout.partition_for(b"k99").unwrap(), None);

    for (lo, hi) in [
        (Bound::Unbounded, Bound::Unbounded),
        (Bound::Included(&b"k00300"[..]), Bound::Excluded(&b"k00700"[..])),
        (Bound::Excluded(&b"k00599"[..]), Bound::Included(&b"k00601"[..])),
    ] {
        let mut want = Vec::new();
        t.layout()
            .for_each_block((lo, hi), |x| {
                want.push(x);
                Ok(true)
            })
            .unwrap();
        let mut parts = Vec::new();
        layout
            .for_each_partition((lo, hi), |x| {
                parts.push(x);
                Ok(true)
            })
            .unwrap();
        let mut got = Vec::new();
        for p in parts {
            let bytes = fetch(p);
            let more = layout
                .for_each_block_in_partition(&bytes, p.handle, (lo, hi), |x| {
                    got.push(x);
                    Ok(true)
                })
                .unwrap();
            if !more {
                break;
            }
        }
        assert_eq!(got, want, "{lo:?}..{hi:?}");
        assert!(!got.is_empty());
    }
}

/// `MetaLayout::find_block` goes through the partition to the data block.
#[test]
fn meta_find_block_reads_the_partition() {
    for (name, file) in FIXTURES {
        let opts = ReadOptions::default();
        let mut ib = vec![0u8; 1 << 16];
        let meta = MetaLayout::parse(file, 0, file.len() as u64, &opts, &mut ib).unwrap();
        let mut ib2 = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib2);
        for (k, _) in expected().iter().step_by(13) {
            let want = t.layout().point_block(k).unwrap().map(|x| x.handle);
            assert_eq!(meta.find_block(file, &ib, k).unwrap(), want, "{name}");
        }
        assert_eq!(meta.find_block(file, &ib, b"z").unwrap(), None, "{name}");
    }
}

/// A partitioned filter (`partitionedfilter.` meta key) is used by lookups: every present key passes it, most
/// absent keys are rejected, and the ranged path names the partition to fetch.
#[test]
fn partitioned_filter_is_used() {
    for (name, file) in FIXTURES.into_iter().filter(|(n, _)| n.contains("pfilter") || n.contains("lz4")) {
        let mut ib = vec![0u8; 1 << 16];
        let t = open(name, file, &mut ib);
        assert!(matches!(t.filter(), Some(sstkit_core::table::TableFilter::Partitioned(_))), "{name}");
        let want = expected();
        for (k, _) in &want {
            assert!(t.may_contain(k), "{name}: {k:?} rejected");
        }
        let absent: Vec<Vec<u8>> = (0..N).map(|i| format!("k{i:05}x").into_bytes()).collect();
        let rejected = absent.iter().filter(|k| !t.may_contain(k)).count();
        // 10 bits per key: about 1% false positives.
        assert!(rejected > N * 9 / 10, "{name}: only {rejected} of {N} absent keys rejected");
        let mut buf = Vec::new();
        for k in &absent {
            assert!(t.get(k, &mut buf).unwrap().is_none(), "{name}");
        }
        let l = t.layout();
        let p = l.filter_partition_for(b"k00500").unwrap();
        let body = l.verified_block(file, 0, p.handle, Part::Filter).unwrap().body;
        assert!(l.filter_partition_may_match(body, b"k00500"), "{name}");
    }
}
