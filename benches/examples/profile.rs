//! A single sstkit operation in a loop, for `valgrind --tool=callgrind` (repeatable instruction counts).
//!
//! `cargo build --profile bench -p sstkit-benches --example profile`, then
//! `valgrind --tool=callgrind target/release/examples/profile get 100000 100 none`.
//! Modes: build, get, absent, seek, scan, back, open, index (prints the index size). Arguments: mode, entries,
//! value length, none|lz4. Environment: `SSTKIT_NO_VERIFY=1` verifies every block once and then reads without
//! checksums; `SSTKIT_HINT=1` tells the builder the key count; `SSTKIT_INDEX_RI=n` writes the table with index
//! restart interval n (also honoured by the criterion suite, through `Dataset::sstkit_options`);
//! `SSTKIT_READ_CACHE=1` reads get, seek, scan and back through a `ReadCache` holding the whole table, warmed
//! by a scan first (`sstkit_benches::CacheMem`).

use std::hint::black_box;
use std::time::Instant;

use sstkit_benches::{scan_table_with, seek_each, CacheMem, Dataset};
use sstkit_core::table::{ReadCache, ReadOptions, Table};
use sstkit_core::CompressionType;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map_or("get", |s| s.as_str());
    let n: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let vlen: usize = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(100);
    let comp = if args.get(4).is_some_and(|s| s == "lz4") { CompressionType::Lz4 } else { CompressionType::None };
    let data = Dataset::new("profile", n, vlen, comp);
    let mut bytes = Vec::new();
    data.build_sstkit(true, &mut bytes).expect("build");
    // SSTKIT_NO_VERIFY=1: verify every block once, then read without checksums (what a warm block cache gives).
    let table = if std::env::var_os("SSTKIT_NO_VERIFY").is_some() {
        let t = Table::open(&bytes).expect("open");
        t.verify_all().expect("verify");
        let mut o = ReadOptions::default();
        o.verify_checksums = false;
        Table::open_with(&bytes, o, &mut []).expect("open")
    } else {
        Table::open(&bytes).expect("open")
    };
    let lookups = 100_000;
    let mut mem = CacheMem::new(&table, true);
    if std::env::var_os("SSTKIT_READ_CACHE").is_some() {
        eprintln!("read cache: {}", mem.describe());
    }
    let mut cache = std::env::var_os("SSTKIT_READ_CACHE").is_some().then(|| {
        let mut c = mem.cache();
        scan_table_with(&table, &mut c, false);
        c
    });
    let t = Instant::now();
    let sum = match mode {
        "build" => run_build(&data, bytes.len()),
        "get" => run_get(&table, &data.random_present(lookups, 1), cache.as_mut()),
        "absent" => run_get(&table, &data.random_absent(lookups, 2), cache.as_mut()),
        "seek" => run_seek(&table, &data.random_present(lookups, 1), cache.as_mut()),
        "scan" => run_scan(&table, false, cache.as_mut()),
        "back" => run_scan(&table, true, cache.as_mut()),
        "open" => run_open(&bytes),
        "index" => {
            eprintln!("index block: {} bytes of a {} byte table", table.footer().index.size, bytes.len());
            0
        }
        _ => panic!("unknown mode {mode}"),
    };
    eprintln!("{mode}: {:?} (sum {})", t.elapsed(), black_box(sum));
}

#[inline(never)]
fn run_build(data: &Dataset, len: usize) -> usize {
    // SSTKIT_REPEAT=n: build n times (a fresh output buffer each time), so the build dominates a perf profile.
    let repeat: usize = std::env::var("SSTKIT_REPEAT").ok().and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut total = 0;
    for _ in 0..repeat {
        let mut out = Vec::with_capacity(len);
        // SSTKIT_HINT=1: tell the builder the key count (`expected_keys`).
        data.build_sstkit(std::env::var_os("SSTKIT_HINT").is_some(), &mut out).expect("build");
        total += out.len();
    }
    total
}

#[inline(never)]
fn run_open(bytes: &[u8]) -> usize {
    (0..100).map(|_| Table::open(black_box(bytes)).expect("open").footer().index.size as usize).sum()
}

#[inline(never)]
fn run_get<'a: 'c, 'c>(table: &Table<'a>, keys: &[[u8; 16]], cache: Option<&mut ReadCache<'c>>) -> usize {
    let mut buf = Vec::new();
    let len = |e: Option<sstkit_core::table::Entry<'_>>| e.map_or(0, |e| e.value.len());
    match cache {
        Some(c) => keys.iter().map(|k| len(table.get_with(k, c, &mut buf).expect("get"))).sum(),
        None => keys.iter().map(|k| len(table.get(k, &mut buf).expect("get"))).sum(),
    }
}

#[inline(never)]
fn run_seek<'a: 'c, 'c>(table: &Table<'a>, keys: &[[u8; 16]], cache: Option<&mut ReadCache<'c>>) -> usize {
    match cache {
        Some(c) => seek_each(&mut table.cursor_with(c, Vec::new(), Vec::new(), Vec::new()), keys),
        None => seek_each(&mut table.iter(), keys),
    }
}

#[inline(never)]
fn run_scan<'a: 'c, 'c>(table: &Table<'a>, backward: bool, cache: Option<&mut ReadCache<'c>>) -> usize {
    match cache {
        Some(c) => scan_table_with(table, c, backward),
        None => sstkit_benches::scan_table(table, backward),
    }
}
