//! sstkit against lsm-tree 3.1.10 and sstable 0.11.1 on the same data, side by side in the same groups.
//!
//! Workloads: `small` = 1M entries of 16-byte keys and 100-byte values, without compression (`small_none`) and
//! with LZ4 (`small_lz4`); `large` = 10k entries of 4 KiB values, no compression. Every table: 4 KiB blocks,
//! restart interval 16, a 10 bits/key Bloom filter. Keys go in in order; lookups use uniformly random keys
//! generated before timing, 10k per iteration (`Throughput::Elements`), absent keys are odd ids between the
//! table's even ones.
//!
//! Groups are `<workload>/<measure>`; see BENCHMARKS.md for what each peer does in each measure. In short:
//! "mem" = table bytes in RAM (sstkit: `Table` over a `Vec<u8>`; sstable: its `RandomAccess` over shared bytes
//! and a block cache holding every block; lsm-tree, which reads files only: its file on tmpfs, index and filter
//! pinned and a warm block cache holding every block). "file" = the file on tmpfs (`/dev/shm`), no data-block
//! cache: sstkit through a `pread`-per-block reader built on its ranged-reader pieces
//! (`sstkit_benches::FileTable`), lsm-tree with index and filter pinned and a 64 KiB cache, sstable with a
//! 1-block cache.
//!
//! "sstkit (read cache)" reads through a `ReadCache` that holds the whole table (a directory of 4 entries per
//! data block, and for LZ4 one decompressed slot per block), warmed by a scan first: each block is verified
//! (and decompressed) once, as in the peers' warm caches. "sstkit (read cache, small)": 4096 directory entries
//! (96 KiB) and 4 MiB of slots, also warmed.
//!
//! "sstkit (verified once)" is a table whose blocks were all verified by `Table::verify_all` and that is then
//! read with `verify_checksums = false`: the guarantee the peers' block caches give (a block's checksum is
//! checked when it is loaded, not on every hit). Plain "sstkit" verifies the CRC32C of every block it reads.
//!
//! `SSTKIT_BENCH_SCALE=0.1` shrinks the datasets (for quick checks); `SSTKIT_BENCH_WORKLOADS=small_none,large`
//! runs only some workloads.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion, SamplingMode, Throughput};
use sstkit_benches::{
    bench_dir, copy_and_crc, crc32c_crc_crate, scan_table, scan_table_with, seek_each, CacheMem, Dataset, FileTable,
    LookupBufs, KEY_LEN,
};
use sstkit_core::table::{ReadCache, ReadOptions, Table};
use sstkit_core::CompressionType;

/// Random lookups timed per iteration.
const LOOKUPS: usize = 10_000;

fn scaled(n: usize) -> usize {
    let scale: f64 = std::env::var("SSTKIT_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    ((n as f64 * scale) as usize).max(100)
}

fn group<'a>(c: &'a mut Criterion, name: String, slow: bool) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(2));
    if slow {
        // Each iteration takes long: the same iteration count in every sample, not 1..=10 times a base.
        g.sampling_mode(SamplingMode::Flat);
    }
    g
}

// ---------------------------------------------------------------------------------------------------------
// lsm-tree

mod lsm {
    use super::*;
    use lsm_tree::table::filter::standard_bloom::Builder as Bloom;
    use lsm_tree::table::Writer;
    use lsm_tree::{Cache, Checksum, InternalValue, SeqNo, Slice, ValueType};

    pub use lsm_tree::table::Table;

    /// Writes the table with lsm-tree's defaults (4 KiB blocks, restart interval 16, 10 bits/key Bloom).
    pub fn build(data: &Dataset, path: &Path) -> Checksum {
        let _ = std::fs::remove_file(path);
        let mut w = Writer::new(path.to_path_buf(), 0, 0).expect("lsm-tree writer");
        if data.compression == CompressionType::Lz4 {
            w = w.use_data_block_compression(lsm_tree::CompressionType::Lz4);
        }
        for (k, v) in data.iter() {
            w.write(InternalValue::from_components(k, v, 0, ValueType::Value)).expect("lsm-tree write");
        }
        w.finish().expect("lsm-tree finish").expect("non-empty table").1
    }

    /// Opens it with index and filter pinned and a block cache of `cache_bytes`.
    pub fn open(path: &Path, checksum: Checksum, cache_bytes: u64) -> Table {
        let cache = Arc::new(Cache::with_capacity_bytes(cache_bytes));
        Table::recover(path.to_path_buf(), checksum, 0, 0, cache, None, true, true).expect("lsm-tree recover")
    }

    pub fn get(t: &Table, key: &[u8]) -> Option<usize> {
        let h = Bloom::get_hash(key);
        t.get(key, SeqNo::MAX, h).expect("lsm-tree get").map(|v| v.value.len())
    }

    pub fn seek(t: &Table, key: &[u8]) -> usize {
        let mut it = t.range(Slice::from(key)..);
        it.next().map_or(0, |e| e.expect("lsm-tree seek").value.len())
    }

    pub fn scan(t: &Table, backward: bool) -> usize {
        let mut sum = 0;
        let f = |e: lsm_tree::Result<InternalValue>| {
            let e = e.expect("lsm-tree iter");
            e.key.user_key.len() + e.value.len()
        };
        if backward {
            for e in t.iter().rev() {
                sum += f(e);
            }
        } else {
            for e in t.iter() {
                sum += f(e);
            }
        }
        sum
    }
}

// ---------------------------------------------------------------------------------------------------------
// sstable

mod sst {
    use super::*;
    use sstable::{SSIterator, Table};

    /// Table bytes shared in RAM, read through sstable's `RandomAccess` (one copy per block read).
    pub struct Mem(pub Arc<Vec<u8>>);

    impl sstable::RandomAccess for Mem {
        fn read_at(&self, off: usize, dst: &mut [u8]) -> sstable::Result<usize> {
            let src = self.0.get(off..).unwrap_or(&[]);
            let n = dst.len().min(src.len());
            dst[..n].copy_from_slice(&src[..n]);
            Ok(n)
        }
    }

    /// Options: 4 KiB blocks, restart interval 16, 10 bits/key Bloom (its defaults); a cache of `blocks` blocks.
    pub fn options(blocks: usize) -> sstable::Options {
        sstable::Options::default().with_cache_capacity(blocks.max(1))
    }

    pub fn build(data: &Dataset, out: &mut Vec<u8>) {
        let mut b = sstable::TableBuilder::new(options(1), out);
        for (k, v) in data.iter() {
            b.add(k, v).expect("sstable add");
        }
        b.finish().expect("sstable finish");
    }

    pub fn open_mem(bytes: &Arc<Vec<u8>>, blocks: usize) -> Table {
        Table::new(options(blocks), Box::new(Mem(bytes.clone())), bytes.len()).expect("sstable open")
    }

    pub fn open_file(path: &Path, blocks: usize) -> Table {
        Table::new_from_file(options(blocks), path).expect("sstable open")
    }

    pub fn get(t: &Table, key: &[u8]) -> Option<usize> {
        t.get(key).expect("sstable get").map(|v| v.len())
    }

    /// Full scan; values (and keys) are copied into reused buffers, the cheapest way its API gives them.
    pub fn scan(t: &Table, backward: bool, last_key: &[u8]) -> usize {
        let (mut k, mut v) = (Vec::new(), Vec::new());
        let mut sum = 0;
        let mut it = t.iter();
        if backward {
            it.seek(last_key);
            while it.valid() {
                it.current(&mut k, &mut v);
                sum += k.len() + v.len();
                if !it.prev() {
                    break;
                }
            }
        } else {
            it.reset();
            while it.advance() {
                it.current(&mut k, &mut v);
                sum += k.len() + v.len();
            }
        }
        sum
    }

    pub fn seek(it: &mut sstable::TableIterator, key: &[u8], v: &mut Vec<u8>, k: &mut Vec<u8>) -> usize {
        it.seek(key);
        if it.current(k, v) {
            v.len()
        } else {
            0
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// sstkit

fn sstkit_get(t: &Table<'_>, key: &[u8], buf: &mut Vec<u8>) -> Option<usize> {
    t.get(key, buf).expect("sstkit get").map(|l| l.value.len())
}

fn sstkit_get_with<'a: 'c, 'c>(
    t: &Table<'a>,
    key: &[u8],
    cache: &mut ReadCache<'c>,
    buf: &mut Vec<u8>,
) -> Option<usize> {
    t.get_with(key, cache, buf).expect("sstkit get").map(|l| l.value.len())
}

// ---------------------------------------------------------------------------------------------------------

struct Fixture {
    data: Dataset,
    _dir: tempfile::TempDir,
    sstkit: Vec<u8>,
    sstkit_path: PathBuf,
    lsm_path: PathBuf,
    lsm_sum: lsm_tree::Checksum,
    sstable: Option<Arc<Vec<u8>>>,
    sstable_path: PathBuf,
    present: Vec<[u8; KEY_LEN]>,
    absent: Vec<[u8; KEY_LEN]>,
}

impl Fixture {
    fn new(data: Dataset) -> Self {
        let dir = bench_dir();
        let mut sstkit = Vec::new();
        data.build_sstkit(true, &mut sstkit).expect("sstkit build");
        let sstkit_path = dir.path().join("sstkit.sst");
        std::fs::write(&sstkit_path, &sstkit).expect("write");
        let lsm_path = dir.path().join("lsm.sst");
        let lsm_sum = lsm::build(&data, &lsm_path);
        // sstable compresses with Snappy only: it sits out the LZ4 workload.
        let sstable_path = dir.path().join("sstable.ldb");
        let sstable = (data.compression == CompressionType::None).then(|| {
            let mut out = Vec::new();
            sst::build(&data, &mut out);
            std::fs::write(&sstable_path, &out).expect("write");
            Arc::new(out)
        });
        let present = data.random_present(LOOKUPS, 1);
        let absent = data.random_absent(LOOKUPS, 2);
        eprintln!(
            "[{}] {} entries, raw {} B; sstkit {} B, lsm-tree {} B, sstable {} B",
            data.name,
            data.n,
            data.raw_bytes(),
            sstkit.len(),
            std::fs::metadata(&lsm_path).map(|m| m.len()).unwrap_or(0),
            sstable.as_ref().map_or(0, |s| s.len()),
        );
        Fixture { data, _dir: dir, sstkit, sstkit_path, lsm_path, lsm_sum, sstable, sstable_path, present, absent }
    }

    fn blocks(&self) -> usize {
        // Generous: every data block fits (blocks are ≥ ~1 KiB compressed).
        self.sstkit.len() / 1024 + 1024
    }
}

fn bench_build(c: &mut Criterion, f: &Fixture) {
    let data = &f.data;
    let mut g = group(c, format!("{}/build", data.name), true);
    g.throughput(Throughput::Bytes(data.raw_bytes()));
    let cap = data.raw_bytes() as usize * 9 / 8;
    g.bench_function("sstkit", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(cap);
            data.build_sstkit(false, &mut out).expect("build");
            out.len()
        })
    });
    // The caller-supplied buffer reused from one build to the next (already resident, as the floors' buffer is):
    // what a caller streaming tables out through one buffer pays, without the kernel zeroing fresh pages.
    let mut reused = Vec::with_capacity(cap);
    g.bench_function("sstkit (reused output buffer)", |b| {
        b.iter(|| {
            reused.clear();
            data.build_sstkit(false, &mut reused).expect("build");
            reused.len()
        })
    });
    g.bench_function("sstkit (expected_keys)", |b| {
        b.iter(|| {
            let mut out = Vec::with_capacity(cap);
            data.build_sstkit(true, &mut out).expect("build");
            out.len()
        })
    });
    let path = f._dir.path().join("build-sstkit.sst");
    g.bench_function("sstkit (tmpfs file)", |b| {
        b.iter(|| {
            let file = std::fs::File::create(&path).expect("create");
            data.build_sstkit_to(false, std::io::BufWriter::with_capacity(1 << 16, file)).expect("build");
        })
    });
    let _ = std::fs::remove_file(&path);
    let path = f._dir.path().join("build-lsm.sst");
    g.bench_function("lsm-tree (tmpfs file)", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let _ = std::fs::remove_file(&path);
                let t = Instant::now();
                black_box(lsm::build(data, &path));
                total += t.elapsed();
            }
            total
        })
    });
    let _ = std::fs::remove_file(&path);
    if f.sstable.is_some() {
        g.bench_function("sstable", |b| {
            b.iter(|| {
                let mut out = Vec::with_capacity(cap);
                sst::build(data, &mut out);
                out.len()
            })
        });
    }
    let mut buf = Vec::with_capacity(cap);
    g.bench_function("floor: memcpy + crc32c (crc crate, slice-by-16)", |b| {
        b.iter(|| copy_and_crc(data, &mut buf, crc32c_crc_crate))
    });
    g.bench_function("floor: memcpy + crc32c (sstkit checksum)", |b| {
        b.iter(|| copy_and_crc(data, &mut buf, sstkit_core::checksum::crc32c))
    });
    g.bench_function("floor: memcpy + crc32c (crc-fast, hardware)", |b| {
        b.iter(|| copy_and_crc(data, &mut buf, crc_fast::crc32_iscsi))
    });
    g.bench_function("floor: memcpy only", |b| b.iter(|| copy_and_crc(data, &mut buf, |b| b.len() as u32)));
    g.finish();
}

/// Lookups and scans over tables in RAM.
fn bench_mem(c: &mut Criterion, f: &Fixture) {
    let data = &f.data;
    let table = Table::open(&f.sstkit).expect("open");
    // Every block verified once, then read without checksums: what the peers' warm block caches give.
    let verified = {
        table.verify_all().expect("verify");
        let mut o = ReadOptions::default();
        o.verify_checksums = false;
        Table::open_with(&f.sstkit, o, &mut []).expect("open")
    };
    let (mut whole_mem, mut small_mem) = (CacheMem::new(&table, true), CacheMem::new(&table, false));
    eprintln!("[{}] read cache: {}; small: {}", data.name, whole_mem.describe(), small_mem.describe());
    let (mut whole, mut small) = (whole_mem.cache(), small_mem.cache());
    // Warm both caches.
    scan_table_with(&table, &mut whole, false);
    scan_table_with(&table, &mut small, false);
    let lsm_t = lsm::open(&f.lsm_path, f.lsm_sum, 4 << 30);
    lsm::scan(&lsm_t, false); // warm its block cache
    let sst_t = f.sstable.as_ref().map(|b| {
        let t = sst::open_mem(b, f.blocks());
        sst::scan(&t, false, &[]);
        t
    });

    for (measure, keys) in [("get_present", &f.present), ("get_absent", &f.absent)] {
        let mut g = group(c, format!("{}/{measure}", data.name), false);
        g.throughput(Throughput::Elements(keys.len() as u64));
        let mut buf = Vec::new();
        g.bench_function("sstkit", |b| {
            b.iter(|| keys.iter().filter_map(|k| sstkit_get(&table, k, &mut buf)).sum::<usize>())
        });
        g.bench_function("sstkit (verified once)", |b| {
            b.iter(|| keys.iter().filter_map(|k| sstkit_get(&verified, k, &mut buf)).sum::<usize>())
        });
        for (name, cache) in [("sstkit (read cache)", &mut whole), ("sstkit (read cache, small)", &mut small)] {
            g.bench_function(name, |b| {
                b.iter(|| keys.iter().filter_map(|k| sstkit_get_with(&table, k, cache, &mut buf)).sum::<usize>())
            });
        }
        g.bench_function("lsm-tree", |b| b.iter(|| keys.iter().filter_map(|k| lsm::get(&lsm_t, k)).sum::<usize>()));
        if let Some(t) = &sst_t {
            g.bench_function("sstable", |b| b.iter(|| keys.iter().filter_map(|k| sst::get(t, k)).sum::<usize>()));
        }
        g.finish();
    }

    {
        let keys = &f.present;
        let mut g = group(c, format!("{}/seek", data.name), false);
        g.throughput(Throughput::Elements(keys.len() as u64));
        for (name, t) in [("sstkit", &table), ("sstkit (verified once)", &verified)] {
            let mut cur = t.iter();
            g.bench_function(name, |b| b.iter(|| seek_each(&mut cur, keys)));
        }
        for (name, cache) in [("sstkit (read cache)", &mut whole), ("sstkit (read cache, small)", &mut small)] {
            let mut cur = table.cursor_with(cache, Vec::new(), Vec::new(), Vec::new());
            g.bench_function(name, |b| b.iter(|| seek_each(&mut cur, keys)));
        }
        g.bench_function("lsm-tree", |b| b.iter(|| keys.iter().map(|k| lsm::seek(&lsm_t, k)).sum::<usize>()));
        if let Some(t) = &sst_t {
            let mut it = t.iter();
            let (mut kb, mut vb) = (Vec::new(), Vec::new());
            g.bench_function("sstable", |b| {
                b.iter(|| keys.iter().map(|k| sst::seek(&mut it, k, &mut vb, &mut kb)).sum::<usize>())
            });
        }
        g.finish();
    }

    let last = data.key(data.n - 1).to_vec();
    for (measure, backward) in [("scan_forward", false), ("scan_backward", true)] {
        let mut g = group(c, format!("{}/{measure}", data.name), true);
        g.throughput(Throughput::Elements(data.n as u64));
        g.bench_function("sstkit", |b| b.iter(|| scan_table(&table, backward)));
        g.bench_function("sstkit (verified once)", |b| b.iter(|| scan_table(&verified, backward)));
        for (name, cache) in [("sstkit (read cache)", &mut whole), ("sstkit (read cache, small)", &mut small)] {
            g.bench_function(name, |b| b.iter(|| scan_table_with(&table, cache, backward)));
        }
        g.bench_function("lsm-tree", |b| b.iter(|| lsm::scan(&lsm_t, backward)));
        if let Some(t) = &sst_t {
            g.bench_function("sstable", |b| b.iter(|| sst::scan(t, backward, &last)));
        }
        g.finish();
    }

    let mut g = group(c, format!("{}/open_mem", data.name), false);
    g.bench_function("sstkit", |b| {
        b.iter(|| Table::open(black_box(&f.sstkit)).expect("open").properties().num_entries)
    });
    g.bench_function("lsm-tree (tmpfs file)", |b| b.iter(|| lsm::open(&f.lsm_path, f.lsm_sum, 1 << 20).id()));
    if let Some(bytes) = &f.sstable {
        g.bench_function("sstable", |b| b.iter(|| sst::open_mem(bytes, 1).approx_offset_of(b"")));
    }
    g.finish();
}

/// Opens, lookups and scans reading the file (tmpfs) without a data-block cache.
fn bench_file(c: &mut Criterion, f: &Fixture) {
    let data = &f.data;
    let mut g = group(c, format!("{}/open_file", data.name), false);
    g.bench_function("sstkit (pread metadata)", |b| {
        b.iter(|| FileTable::open(&f.sstkit_path).expect("open").path().as_os_str().len())
    });
    g.bench_function("sstkit (fs::read whole file + open)", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&f.sstkit_path).expect("read");
            Table::open(&bytes).expect("open").properties().num_entries
        })
    });
    g.bench_function("lsm-tree", |b| b.iter(|| lsm::open(&f.lsm_path, f.lsm_sum, 1 << 16).id()));
    if f.sstable.is_some() {
        g.bench_function("sstable", |b| b.iter(|| sst::open_file(&f.sstable_path, 1).approx_offset_of(b"")));
    }
    g.finish();

    let ft = FileTable::open(&f.sstkit_path).expect("open");
    let lsm_t = lsm::open(&f.lsm_path, f.lsm_sum, 1 << 16);
    let sst_t = f.sstable.as_ref().map(|_| sst::open_file(&f.sstable_path, 1));
    for (measure, keys) in [("get_present_file", &f.present), ("get_absent_file", &f.absent)] {
        let mut g = group(c, format!("{}/{measure}", data.name), false);
        g.throughput(Throughput::Elements(keys.len() as u64));
        let mut bufs = LookupBufs::default();
        g.bench_function("sstkit", |b| {
            b.iter(|| keys.iter().filter_map(|k| ft.get_len(k, &mut bufs).expect("get")).sum::<usize>())
        });
        g.bench_function("lsm-tree", |b| b.iter(|| keys.iter().filter_map(|k| lsm::get(&lsm_t, k)).sum::<usize>()));
        if let Some(t) = &sst_t {
            g.bench_function("sstable", |b| b.iter(|| keys.iter().filter_map(|k| sst::get(t, k)).sum::<usize>()));
        }
        g.finish();
    }

    let last = data.key(data.n - 1).to_vec();
    let mut g = group(c, format!("{}/scan_file", data.name), true);
    g.throughput(Throughput::Elements(data.n as u64));
    g.bench_function("sstkit (fs::read + open + scan)", |b| {
        b.iter(|| {
            let bytes = std::fs::read(&f.sstkit_path).expect("read");
            scan_table(&Table::open(&bytes).expect("open"), false)
        })
    });
    g.bench_function("lsm-tree (open + scan)", |b| {
        b.iter(|| lsm::scan(&lsm::open(&f.lsm_path, f.lsm_sum, 1 << 16), false))
    });
    if f.sstable.is_some() {
        g.bench_function("sstable (open + scan)", |b| {
            b.iter(|| sst::scan(&sst::open_file(&f.sstable_path, 1), false, &last))
        });
    }
    g.finish();
}

fn workload(c: &mut Criterion, name: &'static str, n: usize, value_len: usize, compression: CompressionType) {
    let f = Fixture::new(Dataset::new(name, scaled(n), value_len, compression));
    bench_build(c, &f);
    bench_mem(c, &f);
    bench_file(c, &f);
}

fn benches(c: &mut Criterion) {
    // SSTKIT_BENCH_WORKLOADS=small_none,large runs only those (building the datasets and tables takes a while).
    let only = std::env::var("SSTKIT_BENCH_WORKLOADS").ok();
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|w| w.trim() == name));
    let workloads = [
        ("small_none", 1_000_000, 100, CompressionType::None),
        ("small_lz4", 1_000_000, 100, CompressionType::Lz4),
        ("large", 10_000, 4096, CompressionType::None),
    ];
    for (name, n, value_len, compression) in workloads {
        if wanted(name) {
            workload(c, name, n, value_len, compression);
        }
    }
}

criterion_group!(core_benches, benches);
criterion_main!(core_benches);
