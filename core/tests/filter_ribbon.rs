//! Ribbon filters (`Standard128Ribbon`, marker `0xFE`) that real RocksDB 10.4.2 wrote into external SST files
//! (fixtures from `tests/data/filter/make_ribbon_fixtures.py`; rerun it with the rocksdict venv's python).

use sstkit_core::filter::{ribbon, FullFilter, FullFilterKind, KeyHash, RibbonFilter};

/// The keys of every fixture: `key(0..n)`, the formula of `make_ribbon_fixtures.py`.
fn key(i: u64) -> Vec<u8> {
    format!("key-{}", i * 2_654_435_761 % (1 << 32)).into_bytes()
}

/// Keys in no fixture (fixture keys all start with "key-").
fn absent(i: u64) -> Vec<u8> {
    format!("absent-{i}").into_bytes()
}

/// Absent keys probed per fixture.
const ABSENT: u64 = 200_000;

/// Checks a fixture: Ribbon kind, every key passes, and returns the false-positive rate on [`ABSENT`] keys.
fn check(filter: &[u8], bits: u32, n: u64) -> f64 {
    let f = FullFilter::parse(filter).unwrap();
    let meta = &filter[filter.len() - 5..];
    let num_blocks = u32::from_le_bytes([meta[2], meta[3], meta[4], 0]);
    assert_eq!(f.kind(), FullFilterKind::Ribbon { seed: meta[1], num_blocks });
    let direct = RibbonFilter::new(&filter[..filter.len() - 5], meta[1], num_blocks).unwrap();
    for i in 0..n {
        let k = key(i);
        assert!(f.may_match(&k), "RocksDB-built Ribbon filter must match key {i} of {n}");
        assert!(f.may_match_hash(&KeyHash::new(&k)));
        assert!(direct.may_match(&k));
    }
    let fp = (0..ABSENT).filter(|&i| f.may_match(&absent(i))).count();
    let hashed = (0..ABSENT).filter(|&i| f.may_match_hash(&KeyHash::new(&absent(i)))).count();
    assert_eq!(fp, hashed);
    let rate = fp as f64 / ABSENT as f64;
    eprintln!(
        "ribbon bits={bits} n={n}: {} bytes, {num_blocks} blocks, false positives {fp}/{ABSENT} = {:.3}%",
        filter.len(),
        rate * 100.0
    );
    rate
}

#[test]
fn ribbon_10_bits_1000_keys() {
    // `ribbonfilter:10` targets the rate of a 10 bits/key Bloom, about 1% (measured: 0.93%).
    let rate = check(include_bytes!("data/filter/ribbon_10_1000.filter"), 10, 1_000);
    assert!((0.005..0.015).contains(&rate), "{rate}");
}

#[test]
fn ribbon_10_bits_10000_keys() {
    let rate = check(include_bytes!("data/filter/ribbon_10_10000.filter"), 10, 10_000);
    assert!((0.005..0.015).contains(&rate), "{rate}");
}

#[test]
fn ribbon_10_bits_100000_keys() {
    let rate = check(include_bytes!("data/filter/ribbon_10_100000.filter"), 10, 100_000);
    assert!((0.005..0.015).contains(&rate), "{rate}");
}

#[test]
fn ribbon_7_bits_10000_keys() {
    let rate = check(include_bytes!("data/filter/ribbon_7_10000.filter"), 7, 10_000);
    // A 7 bits/key Bloom's rate is about 3.5% (measured: 3.6%).
    assert!((0.025..0.05).contains(&rate), "{rate}");
}

#[test]
fn ribbon_20_bits_10000_keys() {
    let rate = check(include_bytes!("data/filter/ribbon_20_10000.filter"), 20, 10_000);
    // About 0.01% (measured: 28 of 200 000).
    assert!(rate < 0.0005, "{rate}");
}

#[test]
fn ribbon_with_wrong_seed_loses_keys() {
    // The seed matters: the same solution read under another seed rejects most present keys, so the passes above
    // are not an artefact of a permissive reader.
    let filter = include_bytes!("data/filter/ribbon_10_10000.filter");
    let meta = &filter[filter.len() - 5..];
    let num_blocks = u32::from_le_bytes([meta[2], meta[3], meta[4], 0]);
    let wrong = RibbonFilter::new(&filter[..filter.len() - 5], meta[1].wrapping_add(1), num_blocks).unwrap();
    let kept = (0..10_000).filter(|&i| wrong.may_match(&key(i))).count();
    assert!(kept < 500, "{kept}");
    assert_ne!(ribbon::raw_seed(meta[1]), ribbon::raw_seed(meta[1].wrapping_add(1)));
}

#[test]
fn truncated_ribbon_never_panics_nor_errors() {
    // Cutting segments off the front leaves metadata that promises more than there is: RocksDB accepts it, and
    // so do we; every query stays in bounds.
    let filter = include_bytes!("data/filter/ribbon_10_1000.filter");
    for cut in [1usize, 15, 16, 17, 100, 500, 879, 880] {
        let f = FullFilter::parse(&filter[cut..]).unwrap();
        for i in 0..2_000 {
            let _ = f.may_match(&key(i));
        }
    }
}

/// The whole 1000-key table: its Ribbon filter reaches `get` through the metaindex, every key is found, and the
/// filter rules out absent keys at its rate.
#[cfg(feature = "alloc")]
#[test]
fn ribbon_table_from_rocksdb_10() {
    use sstkit_core::table::{Table, TableFilter};
    let bytes = include_bytes!("data/filter/ribbon_10_1000.sst");
    let t = Table::open(bytes).unwrap();
    let Some(TableFilter::Full(f)) = t.filter() else { panic!("no full filter: {:?}", t.filter()) };
    assert!(matches!(f.kind(), FullFilterKind::Ribbon { num_blocks: 8, .. }), "{:?}", f.kind());
    let mut buf = Vec::new();
    for i in 0..1_000 {
        let k = key(i);
        let got = t.get(&k, &mut buf).unwrap().unwrap_or_else(|| panic!("key {i} not found"));
        assert_eq!(got.value, b"v");
    }
    let passed = (0..20_000).filter(|&i| f.may_match(&absent(i))).count();
    assert!(passed < 400, "{passed} of 20 000 absent keys pass");
    for i in 0..2_000 {
        assert!(t.get(&absent(i), &mut buf).unwrap().is_none());
    }
}
