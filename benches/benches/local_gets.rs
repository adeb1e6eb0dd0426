//! Random point lookups on one local table through `sstkit::reader::SstReader` from 1, 2 and 8 tokio tasks,
//! comparing how the bytes are read, side by side in one group:
//!
//! - `object_store`: `SstReader::open` over object_store's `LocalFileSystem` (what the CLI used before; it opens
//!   the file again for every ranged read);
//! - `open_file`: `SstReader::open_file` (one open file, positioned reads), block reads inline on the task;
//! - `open_file_pool`: the same with every read on tokio's blocking pool (`ReadOptions::local_inline_read = 0`).
//!
//! The table: 2 000 000 entries of 16-byte keys and 32-byte values, sstkit's default options (4 KiB blocks, no
//! compression, 10 bits/key Bloom filter), about 110 MB, written to a temporary directory under /tmp and deleted
//! at the end. Each reader has the default private 64 MiB block cache, so about half the lookups read a block
//! from the file (from the page cache). Keys are drawn uniformly at random, fresh ones in every iteration;
//! each iteration does 8 000 gets split evenly between the tasks (`Throughput::Elements`), on a multi-threaded
//! runtime with one worker per core.
//!
//! After the criterion groups, `cpu` prints the user and system CPU time (getrusage, the whole process) and the
//! wall time of a fixed 200 000 gets in each mode and task count.
//!
//! `SSTKIT_BENCH_SCALE=0.1` shrinks the table (for quick checks).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit_benches::{key_of, Dataset, Rng};
use sstkit_core::CompressionType;

/// Gets per criterion iteration (all tasks together).
const GETS: usize = 8_000;
/// Gets of the CPU-time runs.
const CPU_GETS: usize = 200_000;
const TASKS: [usize; 3] = [1, 2, 8];

#[derive(Clone, Copy, Debug)]
enum Mode {
    ObjectStore,
    OpenFile,
    OpenFilePool,
}

const MODES: [Mode; 3] = [Mode::ObjectStore, Mode::OpenFile, Mode::OpenFilePool];

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::ObjectStore => "object_store",
            Mode::OpenFile => "open_file",
            Mode::OpenFilePool => "open_file_pool",
        }
    }

    async fn open(self, path: &Path) -> SstReader {
        match self {
            Mode::ObjectStore => {
                let (store, p) = sstkit::location::resolve(path.to_str().expect("utf-8 path")).expect("resolve");
                SstReader::open(store, p, ReadOptions::default()).await.expect("open")
            }
            Mode::OpenFile => SstReader::open_file(path, ReadOptions::default()).await.expect("open_file"),
            Mode::OpenFilePool => {
                let mut o = ReadOptions::default();
                o.local_inline_read = 0;
                SstReader::open_file(path, o).await.expect("open_file")
            }
        }
    }
}

struct Table {
    _dir: tempfile::TempDir,
    path: PathBuf,
    n: u64,
}

fn table() -> Table {
    let scale: f64 = std::env::var("SSTKIT_BENCH_SCALE").ok().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let n = ((2_000_000.0 * scale) as usize).max(1000);
    let data = Dataset::new("local", n, 32, CompressionType::None);
    let dir = tempfile::Builder::new().prefix("sstkit-local-gets").tempdir_in("/tmp").expect("temp dir");
    let path = dir.path().join("table.sst");
    let f = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
    data.build_sstkit_to(false, f).expect("write table");
    let size = std::fs::metadata(&path).expect("stat").len();
    println!("table: {n} entries, {size} bytes, in {}", dir.path().display());
    Table { _dir: dir, path, n: n as u64 }
}

/// `gets` random present lookups split over `tasks` tasks; keys from `seed`.
async fn run(r: &SstReader, n: u64, tasks: usize, gets: usize, seed: u64) {
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let r = r.clone();
            tokio::spawn(async move {
                let mut rng = Rng::new(seed.wrapping_mul(31).wrapping_add(t as u64));
                for _ in 0..gets / tasks {
                    let k = key_of(2 * rng.below(n));
                    assert!(r.get(&k).await.expect("get").is_some());
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime")
}

fn gets(c: &mut Criterion) {
    let t = table();
    let rt = runtime();
    let seed = AtomicU64::new(1);
    let mut g = c.benchmark_group("local_gets");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(GETS as u64));
    for tasks in TASKS {
        for mode in MODES {
            let r = rt.block_on(mode.open(&t.path));
            g.bench_function(format!("{}/{tasks}_tasks", mode.name()), |b| {
                b.iter_custom(|iters| {
                    let start = Instant::now();
                    for _ in 0..iters {
                        rt.block_on(run(&r, t.n, tasks, GETS, seed.fetch_add(1, Ordering::Relaxed)));
                    }
                    start.elapsed()
                })
            });
        }
    }
    g.finish();
    cpu(&t, &rt);
}

/// User and system CPU time of the whole process so far.
fn cpu_times() -> (Duration, Duration) {
    let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).expect("getrusage");
    let d = |t: nix::sys::time::TimeVal| Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000);
    (d(u.user_time()), d(u.system_time()))
}

fn cpu(t: &Table, rt: &tokio::runtime::Runtime) {
    println!("\nCPU time of {CPU_GETS} random gets (getrusage RUSAGE_SELF; a fresh reader each, 64 MiB cache):");
    println!("| mode | tasks | wall s | gets/s | user s | system s |");
    println!("|---|---|---|---|---|---|");
    for tasks in TASKS {
        for mode in MODES {
            let r = rt.block_on(mode.open(&t.path));
            let (u0, s0) = cpu_times();
            let start = Instant::now();
            rt.block_on(run(&r, t.n, tasks, CPU_GETS, 7_000 + tasks as u64));
            let wall = start.elapsed();
            let (u1, s1) = cpu_times();
            println!(
                "| {} | {tasks} | {:.2} | {:.0} | {:.2} | {:.2} |",
                mode.name(),
                wall.as_secs_f64(),
                CPU_GETS as f64 / wall.as_secs_f64(),
                (u1 - u0).as_secs_f64(),
                (s1 - s0).as_secs_f64()
            );
        }
    }
}

criterion_group!(benches, gets);
criterion_main!(benches);
