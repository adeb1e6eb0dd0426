//! Object-store throughput on loopback (issue 14, item 5): sstkit's writer and reader against raw
//! `object_store` calls on the same bytes, in one run, against an S3-compatible server.
//!
//! `bash benches/objstore.sh` installs and starts the server (s3s-fs on a tmpfs), runs this and stops it.
//! By hand: `cargo run --release -p sstkit-benches --features objstore --example objstore_throughput` with
//! `SSTKIT_BENCH_URL=s3://BUCKET/` and the usual `AWS_*` variables (`AWS_ENDPOINT`, `AWS_ALLOW_HTTP=true`,
//! `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`; `AmazonS3Builder::from_env`). Path-style
//! requests are forced. `SSTKIT_BENCH_ENTRIES` (default 9 400 000: a ~1 GiB table) and `SSTKIT_BENCH_ROUNDS`
//! (default 3) size the run.
//!
//! Each round measures, on one table (byte-identical across rounds: the creation time is pinned):
//! - (a) raw multipart upload of the table's bytes with `put_multipart`, in `WriterOptions`' default part size
//!   with its default number of parts in flight, each part a spawned task as in the writer;
//! - (b) build + upload of the table through `SstWriter` (default options), entries generated on the fly;
//! - (c) raw reads of the whole object: ranged GETs of `ReadOptions::scan_chunk` bytes with
//!   `scan_read_ahead` in flight, and one plain GET streamed to the end;
//! - (d) a full scan through `SstReader` (open included), checking the entry count.
//!
//! The order of (a)/(b) and of (c)/(d) alternates between rounds. After the rounds, (e) counts the requests a
//! cold `get` of a present key makes (a fresh reader, counted by a wrapper around the store).

use std::collections::VecDeque;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures::stream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sstkit::reader::{ReadOptions, SstReader, TailPrefetch};
use sstkit::writer::{SstWriter, WriterOptions};
use sstkit_benches::{key_of, Rng};
use sstkit_test_support::counting::CountingStore;

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

const VALUE_LEN: usize = 100;
const MIB: f64 = (1u64 << 20) as f64;

// ------------------------------------------------------------------------------------------------------------
// The measurements
// ------------------------------------------------------------------------------------------------------------

/// (a) The table's bytes through `put_multipart`: parts of `part_size`, at most `in_flight` uploading (the
/// oldest awaited before the next is sent), each a spawned task, as `SstWriter` does.
async fn raw_upload(store: &Arc<dyn ObjectStore>, path: &Path, data: &Bytes, opts: &WriterOptions) -> Res<Duration> {
    let t = Instant::now();
    let mut upload = store.put_multipart(path).await?;
    let mut in_flight = VecDeque::new();
    let mut start = 0;
    while start < data.len() {
        let end = (start + opts.part_size).min(data.len());
        while in_flight.len() >= opts.parts_in_flight {
            let oldest: tokio::task::JoinHandle<object_store::Result<()>> = in_flight.pop_front().expect("non-empty");
            oldest.await??;
        }
        in_flight.push_back(tokio::spawn(upload.put_part(PutPayload::from(data.slice(start..end)))));
        start = end;
    }
    for p in in_flight {
        p.await??;
    }
    upload.complete().await?;
    Ok(t.elapsed())
}

/// (b) A table of `n` entries built and uploaded through `SstWriter`: key `i` is `key_of(2 i)` (16 bytes), its
/// value 100 pseudo-random bytes, made as they are written. Returns the time and the file size.
async fn sstkit_upload(store: &Arc<dyn ObjectStore>, path: &Path, n: u64) -> Res<(Duration, u64)> {
    let t = Instant::now();
    // Default options; the creation time is pinned so every round writes the same bytes.
    let opts = WriterOptions::default().file_creation_time(Some(1_700_000_000));
    let mut w = SstWriter::new(store.clone(), path.clone(), opts)?;
    let mut rng = Rng::new(0x0b5e_57ee);
    let mut value = [0u8; VALUE_LEN];
    for i in 0..n {
        for c in value.chunks_mut(8) {
            let r = rng.next_u64().to_le_bytes();
            c.copy_from_slice(&r[..c.len()]);
        }
        w.put(&key_of(2 * i), &value).await?;
    }
    let meta = w.close().await?;
    Ok((t.elapsed(), meta.stats.file_size))
}

/// (c) The whole object through ranged GETs of `chunk` bytes, `ahead` in flight, in order.
async fn raw_ranged(store: &Arc<dyn ObjectStore>, path: &Path, size: u64, chunk: u64, ahead: usize) -> Res<Duration> {
    let t = Instant::now();
    let ranges: Vec<_> = (0..size).step_by(chunk as usize).map(|s| s..(s + chunk).min(size)).collect();
    let got: u64 = stream::iter(ranges)
        .map(|r| {
            let store = store.clone();
            let path = path.clone();
            async move { store.get_range(&path, r).await }
        })
        .buffered(ahead)
        .try_fold(0u64, |n, b| async move { Ok(n + b.len() as u64) })
        .await?;
    assert_eq!(got, size, "ranged GETs returned the whole object");
    Ok(t.elapsed())
}

/// (c) The whole object through one plain GET, its body streamed to the end (not concatenated).
async fn raw_get(store: &Arc<dyn ObjectStore>, path: &Path, size: u64) -> Res<Duration> {
    let t = Instant::now();
    let got = store.get(path).await?.into_stream().try_fold(0u64, |n, b| async move { Ok(n + b.len() as u64) }).await?;
    assert_eq!(got, size, "the GET returned the whole object");
    Ok(t.elapsed())
}

/// (d) Open a fresh reader (default options) and scan every entry; checks the count and the value bytes.
async fn sstkit_scan(store: &Arc<dyn ObjectStore>, path: &Path, n: u64) -> Res<Duration> {
    let t = Instant::now();
    let reader = SstReader::open(store.clone(), path.clone(), ReadOptions::default()).await?;
    let (count, value_bytes) = reader
        .scan((Bound::Unbounded, Bound::Unbounded))
        .try_fold((0u64, 0u64), |(c, v), e| async move { Ok((c + 1, v + e.value.len() as u64)) })
        .await?;
    let elapsed = t.elapsed();
    assert_eq!(count, n, "the scan saw every entry");
    assert_eq!(value_bytes, n * VALUE_LEN as u64, "the scan saw every value byte");
    Ok(elapsed)
}

/// CPU seconds used so far: this process (getrusage, user + system) and the server (`/proc/PID/stat`, utime +
/// stime, for the pid in `SSTKIT_SERVER_PID`; 0 when unknown).
#[derive(Debug, Clone, Copy, Default)]
struct Cpu {
    client: f64,
    server: f64,
}

impl Cpu {
    fn now() -> Cpu {
        let u = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).expect("getrusage");
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
        let server = std::env::var("SSTKIT_SERVER_PID")
            .ok()
            .and_then(|pid| std::fs::read_to_string(format!("/proc/{pid}/stat")).ok())
            .and_then(|stat| {
                // Fields after the command name (which may hold spaces): state is field 3, utime 14, stime 15.
                let rest = &stat[stat.rfind(')')? + 2..];
                let f: Vec<&str> = rest.split_whitespace().collect();
                Some((f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?) as f64 / 100.0)
            })
            .unwrap_or(0.0);
        Cpu { client: secs(u.user_time()) + secs(u.system_time()), server }
    }
    fn since(self, start: Cpu) -> Cpu {
        Cpu { client: self.client - start.client, server: self.server - start.server }
    }
}

impl fmt::Display for Cpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cpu client {:.1} s, server {:.1} s", self.client, self.server)
    }
}

/// Runs `f`, returning its result and the CPU it and the server used.
async fn with_cpu<T>(f: impl std::future::Future<Output = Res<T>>) -> Res<(T, Cpu)> {
    let start = Cpu::now();
    let r = f.await?;
    Ok((r, Cpu::now().since(start)))
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn mibs(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / MIB / d.as_secs_f64()
}

/// Best (highest) and median of some throughputs.
fn best_median(v: &[f64]) -> (f64, f64) {
    let mut s = v.to_vec();
    s.sort_by(|a, b| a.total_cmp(b));
    (s[s.len() - 1], s[s.len() / 2])
}

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|s| s.replace('_', "").parse().ok()).unwrap_or(default)
}

fn main() -> Res<()> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(run())
}

async fn run() -> Res<()> {
    let url = std::env::var("SSTKIT_BENCH_URL").map_err(|_| "set SSTKIT_BENCH_URL=s3://BUCKET/ (and AWS_*)")?;
    let n = env_num("SSTKIT_BENCH_ENTRIES", 9_400_000);
    let rounds = env_num("SSTKIT_BENCH_ROUNDS", 3).max(1) as usize;
    sstkit::location::install_tls_provider();
    let s3 = object_store::aws::AmazonS3Builder::from_env()
        .with_url(url.as_str())
        .with_virtual_hosted_style_request(false)
        .build()?;
    let counting = CountingStore::new(Arc::new(s3));
    let store: Arc<dyn ObjectStore> = counting.arc();
    let (table, raw) = (Path::from("bench/table.sst"), Path::from("bench/raw.bin"));
    let wopts = WriterOptions::default();
    let ropts = ReadOptions::default();

    println!("# objstore_throughput: {url} ({})", std::env::var("AWS_ENDPOINT").unwrap_or_default());
    println!("load average at start: {}", load_average());
    println!(
        "{n} entries (16-byte keys, {VALUE_LEN}-byte values); upload: {} MiB parts, {} in flight; scan: {} MiB GETs, \
         {} ahead; {rounds} rounds",
        wopts.part_size >> 20,
        wopts.parts_in_flight,
        ropts.scan_chunk >> 20,
        ropts.scan_read_ahead
    );

    let mut bytes: Option<Bytes> = None;
    let mut size = 0u64;
    let (mut a, mut b, mut c_ranged, mut c_get, mut d) = (vec![], vec![], vec![], vec![], vec![]);
    for round in 0..rounds {
        // (a) needs the table's bytes: the first round writes the table first, then fetches it (untimed).
        let sstkit_first = round % 2 == 0;
        let upload_raw = |bytes: Bytes| {
            let store = store.clone();
            let (raw, wopts) = (raw.clone(), wopts.clone());
            async move { raw_upload(&store, &raw, &bytes, &wopts).await }
        };
        let before = counting.counts();
        let ((ta, ca), ((tb, cb), s));
        if sstkit_first {
            ((tb, s), cb) = with_cpu(sstkit_upload(&store, &table, n)).await?;
            size = s;
            if bytes.is_none() {
                bytes = Some(store.get(&table).await?.bytes().await?);
            }
            (ta, ca) = with_cpu(upload_raw(bytes.clone().expect("fetched"))).await?;
        } else {
            (ta, ca) = with_cpu(upload_raw(bytes.clone().expect("fetched"))).await?;
            ((tb, s), cb) = with_cpu(sstkit_upload(&store, &table, n)).await?;
            assert_eq!(s, size, "every round writes the same table");
        }
        let raw_len = bytes.as_ref().expect("fetched").len() as u64;
        assert_eq!(raw_len, size);
        let writes = counting.counts().since(&before);
        let ((tc, cc), (tg, cg), (td, cd));
        if sstkit_first {
            (tc, cc) = with_cpu(raw_ranged(&store, &table, size, ropts.scan_chunk, ropts.scan_read_ahead)).await?;
            (tg, cg) = with_cpu(raw_get(&store, &table, size)).await?;
            (td, cd) = with_cpu(sstkit_scan(&store, &table, n)).await?;
        } else {
            (td, cd) = with_cpu(sstkit_scan(&store, &table, n)).await?;
            (tg, cg) = with_cpu(raw_get(&store, &table, size)).await?;
            (tc, cc) = with_cpu(raw_ranged(&store, &table, size, ropts.scan_chunk, ropts.scan_read_ahead)).await?;
        }
        a.push(mibs(size, ta));
        b.push(mibs(size, tb));
        c_ranged.push(mibs(size, tc));
        c_get.push(mibs(size, tg));
        d.push(mibs(size, td));
        println!(
            "round {}: (a) raw multipart {:7.1} MiB/s ({:.2} s) | (b) SstWriter {:7.1} MiB/s ({:.2} s, {:.0}% of a) | \
             (c) ranged GETs {:7.1} MiB/s, one GET {:7.1} MiB/s | (d) SstReader scan {:7.1} MiB/s ({:.2} s, {:.0}% \
             of ranged) [writes: {writes}]\n  (a) {ca}; (b) {cb}; (c) ranged {cc}, one GET {cg}; (d) {cd}; load {}",
            round + 1,
            a[round],
            ta.as_secs_f64(),
            b[round],
            tb.as_secs_f64(),
            100.0 * b[round] / a[round],
            c_ranged[round],
            c_get[round],
            d[round],
            td.as_secs_f64(),
            100.0 * d[round] / c_ranged[round],
            load_average(),
        );
    }
    println!("table: {size} bytes ({:.1} MiB)", size as f64 / MIB);
    println!("\n| measurement | best MiB/s | median MiB/s | ratio (best / best, median / median) |");
    println!("|---|---|---|---|");
    let (ab, am) = best_median(&a);
    let (bb, bm) = best_median(&b);
    let (cb, cm) = best_median(&c_ranged);
    let (gb, gm) = best_median(&c_get);
    let (db, dm) = best_median(&d);
    println!("| (a) raw multipart upload (server ceiling, write) | {ab:.1} | {am:.1} | |");
    println!(
        "| (b) SstWriter build + upload | {bb:.1} | {bm:.1} | {:.0}% / {:.0}% of (a) |",
        100.0 * bb / ab,
        100.0 * bm / am
    );
    println!(
        "| (c) raw ranged GETs, {} MiB × {} ahead | {cb:.1} | {cm:.1} | |",
        ropts.scan_chunk >> 20,
        ropts.scan_read_ahead
    );
    println!("| (c) raw single GET | {gb:.1} | {gm:.1} | |");
    println!(
        "| (d) SstReader open + full scan | {db:.1} | {dm:.1} | {:.0}% / {:.0}% of ranged GETs |",
        100.0 * db / cb,
        100.0 * dm / cm
    );

    // (e) Cold gets: a fresh reader each time (its own new cache), one present key. Default options learn the
    // tail from the tables opened before ((d) opened this one); a fresh TailPrefetch is the first table of its
    // kind a process opens.
    println!();
    let key = key_of(2 * (n / 2));
    let mut first = ReadOptions::default();
    first.tail_prefetch = Some(TailPrefetch::new());
    let cases: [(&str, ReadOptions); 4] = [
        ("default ReadOptions, first table of its kind (size unknown, empty TailPrefetch)", first),
        ("default ReadOptions (size unknown, TailPrefetch::global after the scans)", ReadOptions::default()),
        ("file size known (ReadOptions::file_size)", ReadOptions::default().file_size(size)),
        ("file size known, tail_size 32 MiB", ReadOptions::default().file_size(size).tail_size(32 << 20)),
    ];
    for (what, opts) in cases {
        let s0 = counting.counts();
        let t = Instant::now();
        let reader = SstReader::open(store.clone(), table.clone(), opts).await?;
        let topen = t.elapsed();
        let s1 = counting.counts();
        let e = reader.get(&key).await?.ok_or("the key is present")?;
        let tget = t.elapsed() - topen;
        let s2 = counting.counts();
        assert_eq!(e.value.len(), VALUE_LEN);
        let (open, get) = (s1.since(&s0), s2.since(&s1));
        println!(
            "(e) cold get, {what}: open {open} in {:.1} ms; get {get} in {:.1} ms; total {} request(s)",
            topen.as_secs_f64() * 1e3,
            tget.as_secs_f64() * 1e3,
            open.requests() + get.requests()
        );
    }
    println!("\nload average at end: {}", load_average());
    Ok(())
}
