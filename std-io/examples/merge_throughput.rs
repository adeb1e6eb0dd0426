//! Merge throughput against scanning the inputs once (BENCHMARKS.md, "External sort and merge").
//!
//! `merge_throughput OUT_DIR IN.sst...`: scans every input once through `SstReader::scan` (counting entries
//! and bytes), then merges them with `sstkit::merge::merged` without writing (the merge's own cost), then
//! merges them into `OUT_DIR/0/000001.sst` through a `RollingWriter` on the local disk, printing the time and
//! rate of each.

use std::sync::Arc;
use std::time::Instant;

use futures::TryStreamExt;
use object_store::local::LocalFileSystem;
use object_store::ObjectStore;
use sstkit::merge::{merge, merged, MergeOptions};
use sstkit::reader::{ReadOptions, SstReader};
use sstkit::rolling::{RollingOptions, RollingWriter};

async fn open(files: &[String]) -> sstkit::Result<Vec<SstReader>> {
    let store: Arc<dyn ObjectStore> = Arc::new(LocalFileSystem::new());
    let mut out = Vec::new();
    for f in files {
        let abs = std::fs::canonicalize(f).map_err(|e| sstkit::Error::Io { context: f.clone(), source: e })?;
        let p = object_store::path::Path::from_absolute_path(abs).map_err(|e| sstkit::Error::Invalid(e.to_string()))?;
        out.push(SstReader::open(store.clone(), p, ReadOptions::default()).await?);
    }
    Ok(out)
}

fn rate(what: &str, entries: u64, bytes: u64, t: Instant) {
    let s = t.elapsed().as_secs_f64();
    println!(
        "{what}: {entries} entries, {:.1} MiB in {s:.2} s: {:.2} M entries/s, {:.1} MiB/s",
        bytes as f64 / (1 << 20) as f64,
        entries as f64 / s / 1e6,
        bytes as f64 / (1 << 20) as f64 / s
    );
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((out_dir, inputs)) = args.split_first() else {
        eprintln!("usage: merge_throughput OUT_DIR IN.sst...");
        std::process::exit(2);
    };
    let readers = open(inputs).await?;
    let t = Instant::now();
    let (mut n, mut bytes) = (0u64, 0u64);
    for r in &readers {
        let mut s = std::pin::pin!(r.scan((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded)));
        while let Some(e) = s.try_next().await? {
            n += 1;
            bytes += (e.user_key.len() + e.value.len()) as u64;
        }
    }
    rate("scan each input once", n, bytes, t);

    let t = Instant::now();
    let (mut m, mut mbytes) = (0u64, 0u64);
    let mut s = std::pin::pin!(merged(open(inputs).await?, MergeOptions::default()));
    while let Some(op) = s.try_next().await? {
        m += 1;
        mbytes += op.key().len() as u64
            + match &op {
                sstkit::writer::WriteOp::Put(_, v) | sstkit::writer::WriteOp::Merge(_, v) => v.len() as u64,
                _ => 0,
            };
    }
    rate("merged (not written)", m, mbytes, t);

    std::fs::create_dir_all(out_dir).map_err(|e| sstkit::Error::Io { context: out_dir.clone(), source: e })?;
    let store: Arc<dyn ObjectStore> = Arc::new(
        LocalFileSystem::new_with_prefix(out_dir)
            .map_err(|e| sstkit::Error::Store { context: out_dir.clone(), source: e })?,
    );
    let t = Instant::now();
    let ro = RollingOptions::new("").target_file_size(1 << 40);
    let files = merge(open(inputs).await?, MergeOptions::default(), RollingWriter::new(store, ro)?).await?;
    let written: u64 = files.iter().map(|f| f.metadata.stats.file_size).sum();
    rate("merged and written", m, mbytes, t);
    println!("output: {} file(s), {written} bytes", files.len());
    Ok(())
}
