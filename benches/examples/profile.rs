//! A single sstkit operation in a loop, for `valgrind --tool=callgrind` (repeatable instruction counts).
//!
//! `cargo build --profile bench -p sstkit-benches --example profile`, then
//! `valgrind --tool=callgrind target/release/examples/profile get 100000 100 none`.
//! Modes: build, get, absent, seek, scan, back, open, index (prints the index size). Arguments: mode, entries,
//! value length, none|lz4. Environment: `SSTKIT_NO_VERIFY=1` verifies every block once and then reads without
//! checksums; `SSTKIT_HINT=1` tells the builder the key count; `SSTKIT_INDEX_RI=n` writes the table with index
//! restart interval n (also honoured by the criterion suite, through `Dataset::sstkit_options`).

use std::hint::black_box;
use std::time::Instant;

use sstkit_benches::Dataset;
use sstkit_core::table::{ReadOptions, Table};
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
    let t = Instant::now();
    let sum = match mode {
        "build" => run_build(&data, bytes.len()),
        "get" => run_get(&table, &data.random_present(lookups, 1)),
        "absent" => run_get(&table, &data.random_absent(lookups, 2)),
        "seek" => run_seek(&table, &data.random_present(lookups, 1)),
        "scan" => run_scan(&table, false),
        "back" => run_scan(&table, true),
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
fn run_get(table: &Table<'_>, keys: &[[u8; 16]]) -> usize {
    let mut buf = Vec::new();
    keys.iter().map(|k| table.get(k, &mut buf).expect("get").map_or(0, |l| l.value.len())).sum()
}

#[inline(never)]
fn run_seek(table: &Table<'_>, keys: &[[u8; 16]]) -> usize {
    let mut c = table.iter();
    let mut sum = 0;
    for k in keys {
        c.seek(k).expect("seek");
        sum += c.entry().expect("entry").map_or(0, |e| e.value.len());
    }
    sum
}

#[inline(never)]
fn run_scan(table: &Table<'_>, backward: bool) -> usize {
    sstkit_benches::scan_table(table, backward)
}
