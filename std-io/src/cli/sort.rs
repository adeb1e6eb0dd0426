//! `sstkit build --sort`: the flags of the external sort and the hand-over of its sorted ops to the build.

use std::path::PathBuf;

use futures::StreamExt;

use super::input::Batch;
use super::table_args::parse_size;
use crate::error::Result;
use crate::merge::Duplicates;
use crate::sort::{ExternalSort, SortOptions, MIN_MEMORY};

/// What `build` does with a key given more than once when it sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum DuplicateKeys {
    /// The later record wins.
    Last,
    /// A key given twice is an error naming both lines.
    Error,
}

/// The external-sort flags of `build` (flattened into it).
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct SortArgs {
    /// Sort the input first: records are buffered up to --memory, spilled as sorted temporary SSTs under
    /// --tmp-dir and merged into the output, so inputs of any size sort in bounded memory.
    #[arg(long)]
    pub(crate) sort: bool,
    /// Memory for the sort (K, M, G suffixes; at least 1M). Sorting, it is the buffer of records. Merging, it
    /// is shared: the output writer's workspace (its index, ~22 bytes per data block, and 4 MiB of filter hashes,
    /// the rest spilled to --tmp-dir; with --target-size each file's filter too, ~1.25 bytes per key), the
    /// batches in flight and upload buffers are charged first, the reads of the sorted runs get the rest. One
    /// output file's filter is built at its end, after the merge: its bits, index records and index block
    /// (~3% of a large input) must fit on their own. Not covered: the program, its runtime and the allocator's
    /// slack (glibc is limited to two heaps; see BENCHMARKS.md). A budget too small is said when the merge
    /// starts, with the peak to expect.
    #[arg(long, value_parser = parse_memory, default_value = "256M", requires = "sort")]
    memory: usize,
    /// Directory for the sort's temporary files (default: $TMPDIR or /tmp); they are removed on success, on
    /// error and on SIGINT/SIGTERM.
    #[arg(long, requires = "sort")]
    tmp_dir: Option<PathBuf>,
    /// With --sort, a key given more than once (two puts, a put and a delete, ...): the last record wins, or
    /// an error naming both lines. Range deletions are never duplicates (overlapping ones are joined).
    #[arg(long, value_enum, default_value = "last", requires = "sort")]
    duplicates: DuplicateKeys,
}

fn parse_memory(s: &str) -> Result<usize, String> {
    let n = parse_size(s)?;
    match usize::try_from(n) {
        Ok(n) if n >= MIN_MEMORY => Ok(n),
        Ok(_) => Err(format!("{n} bytes is too small: at least 1M")),
        Err(_) => Err(format!("{n} bytes is too large for this machine")),
    }
}

impl SortArgs {
    /// The sorter these flags ask for, its temporary directory made (`None` without --sort).
    pub(crate) fn sorter(&self) -> Result<Option<ExternalSort>> {
        if !self.sort {
            return Ok(None);
        }
        let mut o = SortOptions::default().memory(self.memory).duplicates(match self.duplicates {
            DuplicateKeys::Last => Duplicates::Newest,
            DuplicateKeys::Error => Duplicates::Error,
        });
        if let Some(d) = &self.tmp_dir {
            o = o.tmp_dir(d);
        }
        ExternalSort::new(o).map(Some)
    }
}

/// Merges the sorter's runs and sends the sorted ops to the writer in batches (on a blocking thread of the
/// runtime `rt`), reusing the batches the writer hands back on `reuse` (so memory stays at the batches in
/// flight). Stops when the writer stops listening.
pub(crate) fn send_sorted(
    sorter: ExternalSort,
    rt: &tokio::runtime::Handle,
    tx: &tokio::sync::mpsc::Sender<Result<Batch>>,
    reuse: &std::sync::mpsc::Receiver<Batch>,
) {
    rt.block_on(async {
        let ops = match sorter.finish().await {
            Ok(s) => s,
            Err(e) => {
                let _ = tx.send(Err(e)).await;
                return;
            }
        };
        let mut ops = std::pin::pin!(ops);
        let mut batch = Batch::default();
        while let Some(op) = ops.next().await {
            match op {
                // The line numbers were the runs' seqnos; the merged op no longer has one.
                Ok(op) => batch.push(0, op.as_slices()),
                Err(e) => {
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            }
            if batch.is_full() {
                let mut next = reuse.try_recv().unwrap_or_default();
                next.clear();
                if tx.send(Ok(std::mem::replace(&mut batch, next))).await.is_err() {
                    return;
                }
            }
        }
        let _ = tx.send(Ok(batch)).await;
    });
}
