//! Corruption sweep: small valid tables in every option variant (checksum 0–4 × compression none/LZ4 ×
//! format_version 2–7 × filter on/off), each damaged in every way a single flip or a truncation can:
//! - every bit of every byte flipped (every byte, with one mask, for tables of 2 KiB or more), and truncation at
//!   every length;
//! - each damaged file is opened and read (iteration both ways, gets, range tombstones, `verify_all`), with
//!   checksums verified and not: no call may panic;
//! - with a checksum type other than None, every flip inside checksummed bytes (a block's body or trailer, found
//!   from the table's handles) must make `Table::open` + `verify_all` fail. Flips elsewhere (the footer) may go
//!   unnoticed, as may the 8 bytes of the global seqno property (RocksDB rewrites them on ingestion without fixing
//!   the checksum, so readers accept the checksum computed with them zeroed);
//! - every truncation must fail to open.
//!
//! One test per checksum type (two for None), so the test harness spreads them over the cores. Each prints
//! how many mutations it tried and how many were detected.

use std::panic::{catch_unwind, AssertUnwindSafe};

use sstkit_test_support::checksummed_ranges;

use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::TableWriter;
use sstkit_core::{ChecksumType, CompressionType};

/// A small table with puts, deletes, merges and a range deletion, spread over several data blocks.
fn build(opts: Options) -> Vec<u8> {
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..10u32 {
        let k = format!("k{i:02}");
        if i == 4 {
            w.delete_range(k.as_bytes(), b"k07").unwrap();
        }
        match i % 4 {
            1 => w.delete(k.as_bytes()).unwrap(),
            3 => w.merge(k.as_bytes(), b"+1").unwrap(),
            _ => w.put(k.as_bytes(), "v".repeat(20 + i as usize).as_bytes()).unwrap(),
        }
    }
    w.finish().unwrap().1
}

/// Opens a damaged table and verifies it; returns true if `Table::open` + `verify_all` reported an error.
/// Reads the whole table too when `full` (and always when the damage went unnoticed).
///
/// The tables without checksums are read in full after every mutation: the decoders then see every damaged byte
/// (with checksums off, which is what `ChecksumType::None` amounts to). The same bodies with checksums on only
/// need the verdict: their damaged blocks are refused before any decoder sees them.
fn check(file: &[u8], full: bool) -> bool {
    match Table::open(file) {
        Ok(t) => {
            let failed = t.verify_all().is_err();
            if full || !failed {
                read(&t);
            }
            failed
        }
        Err(_) => true,
    }
}

/// Iterates both ways, gets, seeks and lists the range tombstones; errors are fine, panics are not.
fn read(t: &Table<'_>) {
    let mut c = t.iter();
    if c.seek_to_first().is_ok() {
        for _ in 0..100 {
            if !matches!(c.entry(), Ok(Some(_))) || c.next().is_err() {
                break;
            }
        }
    }
    if c.seek_to_last().is_ok() {
        for _ in 0..100 {
            if !matches!(c.entry(), Ok(Some(_))) || c.prev().is_err() {
                break;
            }
        }
    }
    let mut buf = Vec::new();
    for k in [&b"k00"[..], b"k05", b"k09", b"zz"] {
        let _ = t.get(k, &mut buf).map(|l| l.map(|l| l.value.len()));
        let _ = c.seek(k).and_then(|_| c.entry().map(|e| e.map(|e| e.value.len())));
    }
    for r in t.range_tombstones().take(100) {
        if r.is_err() {
            break;
        }
    }
}

#[derive(Default)]
struct Counts {
    tables: usize,
    bytes: usize,
    mutations: usize,
    detected: usize,
    must_detect: usize,
}

fn sweep(checksum: ChecksumType, compressions: &[bool]) -> Counts {
    let mut n = Counts::default();
    let full = checksum == ChecksumType::None;
    for &lz4 in compressions {
        for fv in 2..=7u32 {
            for filter in [false, true] {
                let opts = Options::default()
                    .checksum(checksum)
                    .compression(if lz4 { CompressionType::Lz4 } else { CompressionType::None })
                    .format_version(fv)
                    .base_context_checksum(0x9e37_79b9)
                    .bloom_bits_per_key(if filter { 10 } else { 0 })
                    .block_size(64)
                    .restart_interval(2);
                let file = build(opts);
                let what = format!("checksum {checksum:?} lz4 {lz4} fv {fv} filter {filter}, {} bytes", file.len());
                assert!(!check(&file, true), "{what}: the valid table must read");
                let ranges = checksummed_ranges(&file);
                let masks: &[u8] = if file.len() < 2048 { &[1, 2, 4, 8, 16, 32, 64, 128] } else { &[0x5a] };
                n.tables += 1;
                n.bytes += file.len();
                let mut damaged = file.clone();
                for pos in 0..file.len() {
                    let covered = ranges.iter().any(|&(s, e)| s <= pos && pos < e);
                    for &mask in masks {
                        damaged[pos] ^= mask;
                        let r = catch_unwind(AssertUnwindSafe(|| check(&damaged, full)));
                        damaged[pos] ^= mask;
                        let detected =
                            r.unwrap_or_else(|_| panic!("{what}: panic after flipping {mask:#04x} at {pos}"));
                        n.mutations += 1;
                        n.detected += usize::from(detected);
                        if covered && checksum != ChecksumType::None {
                            n.must_detect += 1;
                            assert!(detected, "{what}: flip {mask:#04x} at {pos} (checksummed) went unnoticed");
                        }
                    }
                }
                for len in 0..file.len() {
                    let r = catch_unwind(AssertUnwindSafe(|| check(&file[..len], full)));
                    let detected = r.unwrap_or_else(|_| panic!("{what}: panic after truncating to {len}"));
                    assert!(detected, "{what}: truncation to {len} bytes went unnoticed");
                    n.mutations += 1;
                    n.detected += 1;
                    n.must_detect += 1;
                }
            }
        }
    }
    let Counts { tables, bytes, mutations, detected, must_detect } = n;
    println!(
        "corruption sweep, checksum {checksum:?}, lz4 {compressions:?}: {tables} tables ({bytes} bytes), \
         {mutations} mutations, {detected} detected, {must_detect} required to be detected (all were)"
    );
    n
}

// The tables without checksums are read in full after every mutation, so they get two tests.
#[test]
fn sweep_no_checksum_uncompressed() {
    sweep(ChecksumType::None, &[false]);
}

#[test]
fn sweep_no_checksum_lz4() {
    sweep(ChecksumType::None, &[true]);
}

#[test]
fn sweep_crc32c() {
    sweep(ChecksumType::Crc32c, &[false, true]);
}

#[test]
fn sweep_xxhash() {
    sweep(ChecksumType::XxHash, &[false, true]);
}

#[test]
fn sweep_xxhash64() {
    sweep(ChecksumType::XxHash64, &[false, true]);
}

#[test]
fn sweep_xxh3() {
    sweep(ChecksumType::Xxh3, &[false, true]);
}
