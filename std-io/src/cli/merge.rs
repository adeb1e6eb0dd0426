//! `sstkit merge`: SST files (local or on object stores) → their merged view, one file or rolled files.

use futures::StreamExt;

use super::build::{cleanup_dirs, open_sink, plan, report, Interrupts};
use super::input::BadLines;
use super::table_args::TableArgs;
use super::{exit, Ui};
use crate::error::{Error, Result};
use crate::merge::{merged, MergeOptions};

/// Arguments of `merge`.
///
/// The inputs are stacked oldest first: per user key the newest version wins by seqno, and between equal
/// seqnos (external files all read as seqno 0) the later input on the command line wins, as if they were
/// ingested into RocksDB in that order. Range deletions apply by the same order. The output holds each key's
/// newest version once, written at --seqno (0: an external file RocksDB ingests); point deletions and the
/// union of the range deletions are kept so the output still hides what lies below it, unless --bottommost.
/// A merge operand over an older version needs the merge operator: exit 4 (unsupported). On an error, SIGINT
/// or SIGTERM nothing is left behind.
#[derive(Debug, clap::Args)]
pub(crate) struct MergeArgs {
    /// Input SST files (paths or URLs), oldest first, then the output file (with --target-size, the directory
    /// or URL prefix the files go under).
    #[arg(required = true, num_args = 2.., value_name = "IN... OUT")]
    paths: Vec<String>,
    /// Nothing lies below the output: apply point and range deletions and drop them (seqnos are zero, as
    /// --seqno 0 writes them).
    #[arg(long)]
    bottommost: bool,
    /// Read the inputs as of this sequence number: versions and range deletions with a larger seqno are not seen.
    #[arg(long, value_name = "SEQNO")]
    as_of: Option<u64>,
    /// Replace an existing output (with --target-size, remove the earlier output set first).
    #[arg(long)]
    force: bool,
    /// How the output is written.
    #[command(flatten)]
    table: TableArgs,
}

pub(crate) async fn merge(args: MergeArgs, ui: Ui) -> Result<i32> {
    let Some((output, inputs)) = args.paths.split_last() else {
        return Err(Error::Invalid("merge needs at least one input and an output".into()));
    };
    let opts = args.table.writer_options()?;
    let mut readers = Vec::with_capacity(inputs.len());
    for f in inputs {
        readers.push(super::target::open_reader(f, ui).await?);
    }
    let names: Vec<&str> = inputs.iter().map(String::as_str).collect();
    let (plan, created) = plan(&names, output, (args.force, false), &args.table, ui).await?;
    let mut interrupts = Interrupts::new()?;
    let mut sink = match open_sink(&args.table, plan, opts, None).await {
        Ok(s) => s,
        Err(e) => {
            super::target::remove_dirs(&created);
            return Err(e);
        }
    };
    let mopts = MergeOptions::default().snapshot(args.as_of).bottommost(args.bottommost);
    let mut ops = std::pin::pin!(merged(readers, mopts));
    let mut stopped = None;
    let mut result = Ok(());
    while stopped.is_none() {
        let next = tokio::select! {
            biased;
            sig = interrupts.next() => {
                stopped = Some(sig);
                break;
            }
            op = ops.next() => op,
        };
        let op = match next {
            None => break,
            Some(Ok(op)) => op,
            Some(Err(e)) => {
                result = Err(e);
                break;
            }
        };
        if let Err(e) = interrupts.guard(sink.write(op.as_slices()), &mut stopped, output).await {
            result = Err(e);
            break;
        }
    }
    if let Some((code, name)) = stopped {
        let clean = sink.abort(output).await;
        cleanup_dirs(output, &args.table, &created);
        let what = if clean { "removed the partial output" } else { "the partial output could not all be removed" };
        eprintln!("sstkit: interrupted by {name}; {what}");
        return Ok(code);
    }
    if let Err(e) = result {
        sink.abort(output).await;
        cleanup_dirs(output, &args.table, &created);
        return Err(e);
    }
    let files = match sink.close().await {
        Ok(f) => f,
        Err(e) => {
            cleanup_dirs(output, &args.table, &created);
            return Err(e);
        }
    };
    report(output, &files, &BadLines::default(), ui);
    Ok(exit::OK)
}
