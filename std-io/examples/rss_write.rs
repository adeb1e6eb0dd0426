//! Benchmark (not a test): writes a ~1 GiB table through `SstWriter` into an object store that counts the
//! uploaded bytes and drops them, then reports the peak resident set size (`VmHWM` in /proc/self/status).
//!
//! ```text
//! cargo run --release -p sstkit --example rss_write -- [--entries N] [--no-filter] [--expected-keys]
//!                                                       [--no-spill] [--part-size-mib M] [--parts-in-flight P]
//! ```
//! Defaults: 10 000 000 entries of 16-byte keys and 90-byte values, `WriterOptions::default()` (8 MiB parts,
//! 2 in flight, 10 bits/key Bloom filter, 4 KiB blocks, no compression, filter hashes past 4 MiB spilled to a
//! temporary file). `--expected-keys` sets `expected_keys` to the entry count; `--no-spill` keeps every filter
//! hash in memory (`hash_spill_threshold(None)`). Linux only (reads /proc).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};
use sstkit::writer::{SstWriter, WriterOptions};

/// Accepts PUTs and multipart parts, counts their bytes and drops them.
#[derive(Debug, Default)]
struct DiscardStore {
    bytes: Arc<AtomicU64>,
    parts: Arc<AtomicU64>,
}

impl fmt::Display for DiscardStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DiscardStore")
    }
}

#[derive(Debug)]
struct DiscardUpload {
    bytes: Arc<AtomicU64>,
    parts: Arc<AtomicU64>,
}

#[async_trait]
impl MultipartUpload for DiscardUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        let (bytes, parts) = (self.bytes.clone(), self.parts.clone());
        Box::pin(async move {
            bytes.fetch_add(data.content_length() as u64, Ordering::Relaxed);
            parts.fetch_add(1, Ordering::Relaxed);
            drop(data);
            Ok(())
        })
    }
    async fn complete(&mut self) -> object_store::Result<PutResult> {
        Ok(PutResult { e_tag: None, version: None, extensions: Default::default() })
    }
    async fn abort(&mut self) -> object_store::Result<()> {
        Ok(())
    }
}

fn unsupported() -> object_store::Error {
    object_store::Error::NotImplemented { operation: "DiscardStore".into(), implementer: "rss_write".into() }
}

#[async_trait]
impl ObjectStore for DiscardStore {
    async fn put_opts(&self, _: &Path, payload: PutPayload, _: PutOptions) -> object_store::Result<PutResult> {
        self.bytes.fetch_add(payload.content_length() as u64, Ordering::Relaxed);
        self.parts.fetch_add(1, Ordering::Relaxed);
        Ok(PutResult { e_tag: None, version: None, extensions: Default::default() })
    }
    async fn put_multipart_opts(
        &self,
        _: &Path,
        _: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        Ok(Box::new(DiscardUpload { bytes: self.bytes.clone(), parts: self.parts.clone() }))
    }
    async fn get_opts(&self, _: &Path, _: GetOptions) -> object_store::Result<GetResult> {
        Err(unsupported())
    }
    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        locations
    }
    fn list(&self, _: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        futures::stream::empty().boxed()
    }
    async fn list_with_delimiter(&self, _: Option<&Path>) -> object_store::Result<ListResult> {
        Err(unsupported())
    }
    async fn copy_opts(&self, _: &Path, _: &Path, _: CopyOptions) -> object_store::Result<()> {
        Err(unsupported())
    }
    async fn rename_opts(&self, _: &Path, _: &Path, _: RenameOptions) -> object_store::Result<()> {
        Err(unsupported())
    }
}

/// A field of /proc/self/status in KiB (`VmHWM`, `VmRSS`).
fn status_kib(field: &str) -> u64 {
    let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut entries: u64 = 10_000_000;
    let mut opts = WriterOptions::default();
    let mut expected = false;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--entries" => entries = args.next().ok_or("--entries N")?.parse()?,
            "--no-filter" => opts = opts.bloom_bits_per_key(0),
            "--expected-keys" => expected = true,
            "--no-spill" => opts = opts.hash_spill_threshold(None),
            "--part-size-mib" => opts = opts.part_size(args.next().ok_or("--part-size-mib M")?.parse::<usize>()? << 20),
            "--parts-in-flight" => opts = opts.parts_in_flight(args.next().ok_or("--parts-in-flight P")?.parse()?),
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    if expected {
        opts = opts.expected_keys(entries);
    }
    let baseline = status_kib("VmRSS");
    let store = Arc::new(DiscardStore::default());
    let (bytes, parts) = (store.bytes.clone(), store.parts.clone());
    let mut w = SstWriter::new(store, Path::from("bench/1gib.sst"), opts.clone())?;

    // Values: 90-byte windows of a fixed random buffer (incompressible, no allocation per entry).
    let mut noise = vec![0u8; 1 << 16];
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    let start = Instant::now();
    let mut key = [0u8; 16];
    let mut rss_at_90pct = 0;
    for i in 0..entries {
        key[8..].copy_from_slice(&i.to_be_bytes());
        key[..8].copy_from_slice(b"user-key");
        let off = (i as usize * 61) % (noise.len() - 90);
        w.put(&key, &noise[off..off + 90]).await?;
        if i == entries * 9 / 10 {
            rss_at_90pct = status_kib("VmRSS");
        }
    }
    let before_close = status_kib("VmRSS");
    let meta = w.close().await?;
    let secs = start.elapsed().as_secs_f64();
    let hwm = status_kib("VmHWM");
    println!("entries            {entries}");
    println!(
        "file size          {} bytes ({:.1} MiB), uploaded {} bytes in {} parts",
        meta.stats.file_size,
        meta.stats.file_size as f64 / 1048576.0,
        bytes.load(Ordering::Relaxed),
        parts.load(Ordering::Relaxed)
    );
    println!(
        "  data {} / index {} / filter {} bytes, {} data blocks",
        meta.stats.data_size, meta.stats.index_size, meta.stats.filter_size, meta.stats.num_data_blocks
    );
    println!(
        "options            part_size {} MiB, parts_in_flight {}, filter {} millibits/key, expected_keys {:?}, \
         hash_spill_threshold {:?}, block {} B",
        opts.part_size >> 20,
        opts.parts_in_flight,
        opts.table.bloom_millibits_per_key,
        opts.table.expected_keys,
        opts.hash_spill_threshold,
        opts.table.block_size
    );
    println!("time               {secs:.1} s ({:.0} MiB/s)", meta.stats.file_size as f64 / 1048576.0 / secs);
    println!("RSS baseline       {:.1} MiB", mib(baseline));
    println!("RSS at 90% of puts {:.1} MiB", mib(rss_at_90pct));
    println!("RSS before close   {:.1} MiB", mib(before_close));
    println!("peak RSS (VmHWM)   {:.1} MiB", mib(hwm));
    Ok(())
}
