//! `sstkit build`: text input → SST file(s), locally or on an object store.

use std::io::Read;

use serde_json::json;
use sstkit_core::{ChecksumType, CompressionType};

use super::input::{Batch, Format, Parser};
use super::output::{progress, text};
use super::{Encoding, Ui};
use crate::error::{Error, Result};
use crate::file_writer::FileWriter;
use crate::rolling::{RollingOptions, RollingWriter};
use crate::writer::{SstMetadata, SstWriter, WriterOptions};

/// Compression for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Compression {
    /// Store blocks as they are.
    None,
    /// LZ4 (a block stays uncompressed unless that saves 12.5%).
    Lz4,
}

/// Block checksum for writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Checksum {
    /// No checksum.
    None,
    /// CRC32C (masked), RocksDB's classic.
    Crc32c,
    /// xxHash32.
    Xxhash,
    /// xxHash64 (low 32 bits).
    Xxhash64,
    /// XXH3 (RocksDB 7.x's default).
    Xxh3,
}

/// Arguments of `build`.
///
/// Input records: a put (key and value), a deletion (a key alone), or with an op column / JSON "op" a merge or
/// a range deletion. Keys must be sorted (bytewise, strictly ascending) unless --sort is given; --sort reads
/// the whole input into memory, so use it only for inputs that fit (for equal keys the last record wins).
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// Input file (`-` for standard input).
    input: String,
    /// Output file (path or URL); with --target-size, the prefix (directory or URL) the files go under.
    output: String,
    /// Input format.
    #[arg(long, value_enum, default_value = "auto")]
    input_format: Format,
    /// Encoding of keys in the input.
    #[arg(long, value_enum, default_value_t)]
    key_format: Encoding,
    /// Encoding of values in the input.
    #[arg(long, value_enum, default_value_t)]
    value_format: Encoding,
    /// Sort the input in memory first (it must fit).
    #[arg(long)]
    sort: bool,
    /// Data block size in bytes.
    #[arg(long, default_value_t = 4096)]
    block_size: usize,
    /// Restart interval of data blocks.
    #[arg(long, default_value_t = 16)]
    restart_interval: usize,
    /// Restart interval of the index block (1, RocksDB's default, stores every index key whole; larger values
    /// make the index smaller).
    #[arg(long, default_value_t = 1)]
    index_restart_interval: usize,
    /// Block compression.
    #[arg(long, value_enum, default_value = "none")]
    compression: Compression,
    /// Bloom filter bits per key (0 = no filter).
    #[arg(long, default_value_t = 10)]
    bloom_bits: u32,
    /// Block checksum.
    #[arg(long, value_enum, default_value = "crc32c")]
    checksum: Checksum,
    /// Footer format_version (2–5).
    #[arg(long, default_value_t = 5)]
    format_version: u32,
    /// Sequence number of every entry; non-zero writes a non-external table (not ingestible by RocksDB).
    #[arg(long, default_value_t = 0)]
    seqno: u64,
    /// Cut the output into files of about this many bytes (accepts K, M, G suffixes), named
    /// OUTPUT/<level>/<id>.sst.
    #[arg(long, value_parser = parse_size)]
    target_size: Option<u64>,
    /// Level written into rolled file names.
    #[arg(long, default_value_t = 0)]
    level: u32,
}

fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim();
    let (num, mult) = match t.chars().last().map(|c| c.to_ascii_uppercase()) {
        Some('K') => (&t[..t.len() - 1], 1u64 << 10),
        Some('M') => (&t[..t.len() - 1], 1 << 20),
        Some('G') => (&t[..t.len() - 1], 1 << 30),
        _ => (t, 1),
    };
    let n: u64 = num.trim().parse().map_err(|_| format!("bad size {s:?}"))?;
    n.checked_mul(mult).filter(|&v| v > 0).ok_or_else(|| format!("bad size {s:?}"))
}

impl BuildArgs {
    fn writer_options(&self) -> Result<WriterOptions> {
        let mut o = WriterOptions::default()
            .block_size(self.block_size)
            .restart_interval(self.restart_interval)
            .index_restart_interval(self.index_restart_interval)
            .compression(match self.compression {
                Compression::None => CompressionType::None,
                Compression::Lz4 => CompressionType::Lz4,
            })
            .bloom_bits_per_key(self.bloom_bits)
            .checksum(match self.checksum {
                Checksum::None => ChecksumType::None,
                Checksum::Crc32c => ChecksumType::Crc32c,
                Checksum::Xxhash => ChecksumType::XxHash,
                Checksum::Xxhash64 => ChecksumType::XxHash64,
                Checksum::Xxh3 => ChecksumType::Xxh3,
            })
            .format_version(self.format_version)
            .seqno(self.seqno);
        if self.seqno != 0 {
            o = o.external_file(false);
        }
        o.core_options()?;
        Ok(o)
    }
}

/// Where records go.
enum Sink {
    File(Box<FileWriter>),
    Object(Box<SstWriter>),
    Rolling(Box<RollingWriter>),
}

impl Sink {
    /// Writes the batch's records; on error, the line of the record that failed.
    async fn write_batch(&mut self, b: &Batch) -> std::result::Result<(), (u64, Error)> {
        match self {
            // The local file writer is synchronous: no await per record.
            Sink::File(w) => {
                for (line, op) in b.iter() {
                    w.write(op).map_err(|e| (line, e))?;
                }
            }
            Sink::Object(w) => {
                for (line, op) in b.iter() {
                    w.write(op).await.map_err(|e| (line, e))?;
                }
            }
            Sink::Rolling(w) => {
                for (line, op) in b.iter() {
                    w.write(op).await.map_err(|e| (line, e))?;
                }
            }
        }
        Ok(())
    }

    async fn abort(self) {
        let r = match self {
            Sink::File(w) => {
                (*w).abort();
                Ok(())
            }
            Sink::Object(w) => (*w).abort().await,
            Sink::Rolling(w) => (*w).abort().await,
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "cleaning up after a failed build");
        }
    }

    async fn close(self) -> Result<Vec<SstMetadata>> {
        Ok(match self {
            Sink::File(w) => vec![(*w).close()?],
            Sink::Object(w) => vec![(*w).close().await?],
            Sink::Rolling(w) => (*w).finish().await?.into_iter().map(|d| d.metadata).collect(),
        })
    }
}

/// Checks sort order with line numbers (the writer would reject it too, without naming the line).
#[derive(Default)]
struct OrderCheck {
    point: Option<(Vec<u8>, u64)>,
    range: Option<(Vec<u8>, u64)>,
}

impl OrderCheck {
    /// Checks the batch's records against each other and the last keys before them, then keeps its last keys.
    fn check(&mut self, b: &Batch, ui: Ui) -> Result<()> {
        // The last record of each kind in this batch, compared with in place; keys are copied once per batch.
        let (mut last_point, mut last_range): (Option<usize>, Option<usize>) = (None, None);
        for i in 0..b.len() {
            let is_range = b.is_range(i);
            let (last, kept) = if is_range { (&mut last_range, &self.range) } else { (&mut last_point, &self.point) };
            let prev = match *last {
                Some(j) => Some((b.key(j), b.line(j))),
                None => kept.as_ref().map(|(k, l)| (k.as_slice(), *l)),
            };
            let key = b.key(i);
            if let Some((prev, prev_line)) = prev {
                if key <= prev {
                    return Err(Error::Invalid(format!(
                        "line {}: key {} is not after key {} of line {} (input must be sorted and unique; use --sort)",
                        b.line(i),
                        text(key, ui),
                        text(prev, ui),
                        prev_line
                    )));
                }
            }
            *last = Some(i);
        }
        for (last, kept) in [(last_point, &mut self.point), (last_range, &mut self.range)] {
            if let Some(j) = last {
                let (k, l) = kept.get_or_insert_with(|| (Vec::new(), 0));
                k.clear();
                k.extend_from_slice(b.key(j));
                *l = b.line(j);
            }
        }
        Ok(())
    }
}

pub(crate) async fn build(args: BuildArgs, ui: Ui) -> Result<i32> {
    let opts = args.writer_options()?;
    let format = args.input_format.resolve(&args.input);
    let total = if args.input == "-" { 0 } else { std::fs::metadata(&args.input).map(|m| m.len()).unwrap_or(0) };
    // The parser reads in large chunks itself: no BufReader.
    let reader: Box<dyn Read + Send> = if args.input == "-" {
        Box::new(std::io::stdin())
    } else {
        let f = std::fs::File::open(&args.input).map_err(|e| Error::Io { context: args.input.clone(), source: e })?;
        Box::new(f)
    };

    let mut sink = open_sink(&args, opts).await?;
    let bar = progress(ui, total, "building");
    let result = feed(&args, format, reader, &mut sink, &bar, ui).await;
    bar.finish_and_clear();
    if let Err(e) = result {
        sink.abort().await;
        return Err(e);
    }
    let files = sink.close().await?;
    report(&args.output, &files, ui);
    Ok(0)
}

async fn open_sink(args: &BuildArgs, opts: WriterOptions) -> Result<Sink> {
    if let Some(target) = args.target_size {
        let (store, prefix) = if crate::location::is_url(&args.output) {
            crate::location::resolve(&args.output)?
        } else {
            std::fs::create_dir_all(&args.output)
                .map_err(|e| Error::Io { context: format!("{}: creating the directory", args.output), source: e })?;
            let store = object_store::local::LocalFileSystem::new_with_prefix(&args.output)
                .map_err(|e| Error::Store { context: args.output.clone(), source: e })?;
            (
                std::sync::Arc::new(store) as std::sync::Arc<dyn object_store::ObjectStore>,
                object_store::path::Path::from(""),
            )
        };
        let ro = RollingOptions::new(prefix).level(args.level).target_file_size(target).writer(opts);
        return Ok(Sink::Rolling(Box::new(RollingWriter::new(store, ro)?)));
    }
    if crate::location::is_url(&args.output) && !args.output.starts_with("file://") {
        let (store, path) = crate::location::resolve(&args.output)?;
        return Ok(Sink::Object(Box::new(SstWriter::new(store, path, opts)?)));
    }
    let path = args.output.strip_prefix("file://").unwrap_or(&args.output);
    if let Some(dir) = std::path::Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| Error::Io { context: format!("{}: creating the directory", dir.display()), source: e })?;
    }
    Ok(Sink::File(Box::new(FileWriter::create(path, opts)?)))
}

/// Batches in flight between the parser thread and the writer.
const IN_FLIGHT: usize = 4;

async fn feed(
    args: &BuildArgs,
    format: Format,
    reader: Box<dyn Read + Send>,
    sink: &mut Sink,
    bar: &indicatif::ProgressBar,
    ui: Ui,
) -> Result<()> {
    // Parse on a blocking thread, write here (object stores are async); a bounded channel keeps memory flat, and
    // the writer hands emptied batches back for reuse.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Batch>>(IN_FLIGHT);
    let (recycle, reuse) = std::sync::mpsc::channel::<Batch>();
    let (sort, key_enc, value_enc, input) = (args.sort, args.key_format, args.value_format, args.input.clone());
    let bar2 = bar.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let mut parser = Parser::new(reader, format, key_enc, value_enc);
        let mut order = OrderCheck::default();
        let mut all: Vec<Batch> = Vec::new();
        loop {
            let mut batch = reuse.try_recv().unwrap_or_default();
            let filled = parser.fill(&mut batch);
            bar2.set_position(parser.bytes_read());
            if !sort {
                // The records before a bad line come first: an order error among them is the one to report.
                if let Err(e) = order.check(&batch, ui) {
                    let _ = tx.blocking_send(Err(Error::Invalid(format!("{input}: {e}"))));
                    return;
                }
            }
            let more = match filled {
                Ok(more) => more,
                Err(e) => {
                    let _ = tx.blocking_send(Err(Error::Invalid(format!("{input}: {e}"))));
                    return;
                }
            };
            if sort {
                all.push(batch);
            } else if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
                // The writer stopped (it failed): stop parsing too.
                return;
            }
            if !more {
                break;
            }
        }
        if sort {
            send_sorted(&all, &tx);
        }
    });
    let mut result = Ok(());
    while let Some(b) = rx.recv().await {
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if let Err((line, e)) = sink.write_batch(&b).await {
            result = Err(match e {
                Error::Codec { source, .. } => Error::Invalid(format!("{}: line {line}: {source}", args.input)),
                other => other,
            });
            break;
        }
        let _ = recycle.send(b);
    }
    drop(rx);
    let _ = parser.await;
    result
}

/// Sorts the records of `all` by key (stable: for equal keys the last record wins) and sends them in batches.
fn send_sorted(all: &[Batch], tx: &tokio::sync::mpsc::Sender<Result<Batch>>) {
    let mut order: Vec<(u32, u32)> = Vec::with_capacity(all.iter().map(Batch::len).sum());
    for (b, batch) in all.iter().enumerate() {
        order.extend((0..batch.len()).map(|i| (b as u32, i as u32)));
    }
    let at = |&(b, i): &(u32, u32)| (&all[b as usize], i as usize);
    order.sort_by(|x, y| {
        let ((bx, ix), (by, iy)) = (at(x), at(y));
        bx.key(ix).cmp(by.key(iy)).then(bx.line(ix).cmp(&by.line(iy)))
    });
    let mut deduped: Vec<(u32, u32)> = Vec::with_capacity(order.len());
    for r in order {
        let (b, i) = at(&r);
        if deduped.last().map(at).is_some_and(|(lb, li)| lb.key(li) == b.key(i) && lb.is_range(li) == b.is_range(i)) {
            deduped.pop();
        }
        deduped.push(r);
    }
    let mut batch = Batch::default();
    for r in &deduped {
        let (b, i) = at(r);
        let (line, op) = b.get(i);
        batch.push(line, op);
        if batch.is_full() && tx.blocking_send(Ok(std::mem::take(&mut batch))).is_err() {
            return;
        }
    }
    let _ = tx.blocking_send(Ok(batch));
}

fn report(output: &str, files: &[SstMetadata], ui: Ui) {
    if ui.json {
        for m in files {
            let v = json!({
                "location": m.location,
                "file_size": m.stats.file_size,
                "entries": m.stats.num_entries(),
                "puts": m.stats.num_puts,
                "deletes": m.stats.num_deletions,
                "merges": m.stats.num_merges,
                "range_deletions": m.stats.num_range_deletions,
                "data_blocks": m.stats.num_data_blocks,
                "first_key_hex": m.first_user_key.as_deref().map(hex::encode),
                "last_key_hex": m.last_user_key.as_deref().map(hex::encode),
            });
            println!("{v}");
        }
    } else {
        for m in files {
            println!(
                "wrote {}: {} entries, {} bytes, {} data blocks",
                m.location,
                m.stats.num_entries(),
                m.stats.file_size,
                m.stats.num_data_blocks
            );
        }
        if files.len() > 1 {
            println!("{} files under {output}", files.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("10k"), Ok(10 << 10));
        assert_eq!(parse_size("123"), Ok(123));
        assert!(parse_size("0").is_err());
        assert!(parse_size("x").is_err());
    }
}
