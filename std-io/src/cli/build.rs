//! `sstkit build`: text input → SST file(s), locally or on an object store.

use std::io::Read;
use std::sync::Arc;

use object_store::{ObjectStore, ObjectStoreExt};
use serde_json::json;

use super::input::{BadLines, Batch, Format, Limits, Parser};
use super::output::{progress, put_bytes, text};
use super::sort::{send_sorted, SortArgs};
use super::table_args::{parse_size, TableArgs, MIN_TARGET_SIZE};
use super::target::{self, check_url, is_local};
use super::{exit, Encoding, Ui};
use crate::error::{Error, Result};
use crate::file_writer::FileWriter;
use crate::rolling::{ExpectedKeys, RollingOptions, RollingWriter};
use crate::sort::ExternalSort;
use crate::writer::{SstMetadata, SstWriter, WriteOp, WriterOptions};

/// Arguments of `build`.
///
/// Input records: a put (key and value), a deletion (only by the format's explicit marker), or with an op
/// column / JSON "op" a merge or a range deletion. Parsing is strict: a line that does not follow the format is
/// an error naming it (see --skip-bad-lines). Keys must be sorted (bytewise, strictly ascending) unless --sort
/// is given; --sort sorts any input in bounded memory (--memory, spilling to --tmp-dir), and --duplicates
/// says whether a key given twice is an error or the last record wins.
///
/// Deletion markers: ldb `KEY =/=>`; TSV `KEY<TAB><TAB>delete`; CSV `KEY,,delete`; JSON lines
/// `{"key": K, "delete": true}` or `"op": "delete"`.
///
/// The output is never replaced silently: an existing file (or, with --target-size, a non-empty directory or
/// prefix) is refused unless --force; devices, directories, the input itself are always refused. On an error,
/// SIGINT or SIGTERM nothing is left behind (temporary files removed, uploads aborted, finished files of a
/// rolling build deleted).
#[derive(Debug, clap::Args)]
pub(crate) struct BuildArgs {
    /// Input file (`-` for standard input).
    input: String,
    /// Output file (path or URL); with --target-size, the directory or URL prefix the files go under.
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
    /// Skip lines that do not parse (counting them and printing the first few) instead of failing, like
    /// `ldb write_extern_sst`.
    #[arg(long)]
    skip_bad_lines: bool,
    /// Largest key (after decoding) accepted, in bytes (K, M, G suffixes; at most 1G); a longer one is an error
    /// naming its line, found without reading the whole line.
    #[arg(long, value_parser = parse_limit, default_value = "64M")]
    max_key_size: u64,
    /// Largest value (after decoding) accepted, in bytes (K, M, G suffixes; at most 1G).
    #[arg(long, value_parser = parse_limit, default_value = "64M")]
    max_value_size: u64,
    /// Replace an existing output file (a symbolic link: the file it points to); with --target-size, remove
    /// the earlier output set in the directory or prefix first.
    #[arg(long)]
    force: bool,
    /// The external sort.
    #[command(flatten)]
    sort: SortArgs,
    /// How the output is written.
    #[command(flatten)]
    pub(crate) table: TableArgs,
    /// Continue a rolling build that was killed: read the manifest under OUTPUT, remove what was unfinished
    /// (and, on S3, abort the incomplete multipart uploads under OUTPUT), re-read the input from the start,
    /// skip what the finished files hold and write the rest. The input and every option must be those of the
    /// first run (a mismatch is an error). Needs --target-size and an input file.
    #[arg(long, requires = "target_size", conflicts_with = "force")]
    resume: bool,
}

/// The largest `--max-key-size` / `--max-value-size`.
const MAX_LIMIT: u64 = 1 << 30;

fn parse_limit(s: &str) -> Result<u64, String> {
    match parse_size(s)? {
        0 => Err("must be at least 1 byte".into()),
        n if n > MAX_LIMIT => Err(format!("{n} bytes is too large: at most 1G")),
        n => Ok(n),
    }
}

/// Where records go.
pub(crate) enum Sink {
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

    /// Writes one op.
    pub(crate) async fn write(&mut self, op: WriteOp<&[u8]>) -> Result<()> {
        match self {
            Sink::File(w) => w.write(op),
            Sink::Object(w) => w.write(op).await,
            Sink::Rolling(w) => w.write(op).await,
        }
    }

    /// Removes everything written; a cleanup that fails is printed with what it leaves behind. True if clean.
    pub(crate) async fn abort(self, output: &str) -> bool {
        let (r, rolling) = match self {
            Sink::File(w) => {
                (*w).abort();
                (Ok(()), false)
            }
            Sink::Object(w) => ((*w).abort().await, false),
            Sink::Rolling(w) => ((*w).abort().await, true),
        };
        let Err(e) = r else { return true };
        let e = super::one_line(&e);
        eprintln!("sstkit: warning: cleaning up {output} failed: {}: {e}", left_behind(output, rolling, &e));
        false
    }

    pub(crate) async fn close(self) -> Result<Vec<SstMetadata>> {
        Ok(match self {
            Sink::File(w) => vec![(*w).close()?],
            Sink::Object(w) => vec![(*w).close().await?],
            Sink::Rolling(w) => (*w).finish().await?.into_iter().map(|d| d.metadata).collect(),
        })
    }
}

/// What a failed cleanup of `output` may leave, for the warning, with the commands that remove it.
fn left_behind(output: &str, rolling: bool, error: &str) -> String {
    if rolling {
        return format!("finished files or an incomplete multipart upload may be left under {output}");
    }
    let id = upload_id(error);
    let what = match &id {
        Some(id) => format!("an incomplete multipart upload (upload id {id}) may be left at {output}"),
        None => format!("an incomplete multipart upload may be left at {output}"),
    };
    // S3 keeps (and bills) the parts until the upload is aborted; say how.
    let Some((bucket, key)) = output.strip_prefix("s3://").and_then(|r| r.split_once('/')) else { return what };
    match id {
        Some(id) => format!(
            "{what}; abort it with `aws s3api abort-multipart-upload --bucket {bucket} --key {key} --upload-id {id}`"
        ),
        None => format!(
            "{what}; find it with `aws s3api list-multipart-uploads --bucket {bucket} --prefix {key}` and abort it \
             with `aws s3api abort-multipart-upload`"
        ),
    }
}

/// The multipart upload id in a store error. object_store's `MultipartUpload` does not expose the id, but its
/// errors name the request URL, whose query carries it (`...?uploadId=...`).
fn upload_id(error: &str) -> Option<String> {
    let at = error.find("uploadId=")?;
    let query = error[at..].split(|c: char| c.is_whitespace() || c == '&').next()?;
    url::form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "uploadId")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
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

/// SIGINT and SIGTERM, caught: from the moment this is created the signals no longer end the process, the
/// build sees them and cleans up.
pub(crate) struct Interrupts {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Interrupts {
    pub(crate) fn new() -> Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let io = |e| Error::Io { context: "installing signal handlers".into(), source: e };
            Ok(Interrupts {
                int: signal(SignalKind::interrupt()).map_err(io)?,
                term: signal(SignalKind::terminate()).map_err(io)?,
            })
        }
        #[cfg(not(unix))]
        Ok(Interrupts {})
    }

    /// Runs `write` to its end even if a signal arrives (recorded in `stopped`, to stop after it): a write
    /// cancelled half-way could complete on its own after the cleanup and be left behind. A write can wait long
    /// on a store that stopped answering: a second signal quits at once.
    pub(crate) async fn guard<T>(
        &mut self,
        write: impl std::future::Future<Output = T>,
        stopped: &mut Option<(i32, &'static str)>,
        output: &str,
    ) -> T {
        let mut write = std::pin::pin!(write);
        loop {
            tokio::select! {
                biased;
                r = &mut write => break r,
                sig = self.next() => {
                    if stopped.is_some() {
                        eprintln!(
                            "sstkit: {} again: quitting at once; {output} may keep a temporary file or an incomplete \
                             multipart upload",
                            sig.1
                        );
                        std::process::exit(sig.0);
                    }
                    eprintln!(
                        "sstkit: {}: finishing the current write, then removing the output (send it again to quit \
                         at once)",
                        sig.1
                    );
                    *stopped = Some(sig);
                }
            }
        }
    }

    /// The next signal: its exit status and name. Cancel-safe.
    pub(crate) async fn next(&mut self) -> (i32, &'static str) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => (exit::SIGINT, "SIGINT"),
                _ = self.term.recv() => (exit::SIGTERM, "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            (exit::SIGINT, "Ctrl-C")
        }
    }
}

/// Where the output goes, checked before any work.
pub(crate) enum Plan {
    /// A local file at this path (a symbolic link's target with --force).
    File(std::path::PathBuf),
    /// One object.
    Object(Arc<dyn ObjectStore>, object_store::path::Path),
    /// A rolling build into a store under a prefix.
    Rolling(Arc<dyn ObjectStore>, object_store::path::Path),
}

/// Checks the output before any work (see [`Plan`]); `inputs` are the command's inputs (a local output must
/// not be one of them); `resume`: a rolling build continues in its directory or prefix. Returns the plan and
/// the directories it created.
pub(crate) async fn plan(
    inputs: &[&str],
    out: &str,
    (force, resume): (bool, bool),
    table: &TableArgs,
    ui: Ui,
) -> Result<(Plan, Vec<std::path::PathBuf>)> {
    let out = &out.to_string();
    if table.target_size.is_some() {
        if !is_local(out) {
            check_url(out, false, ui)?;
            let (store, prefix) = crate::location::resolve(out)?;
            if !resume {
                target::store_rolling_prefix(out, &store, &prefix, force).await?;
            }
            return Ok((Plan::Rolling(store, prefix), Vec::new()));
        }
        let created = if resume {
            target::create_dirs(&target::local_path(out))?
        } else {
            target::local_rolling_dir(out, force)?
        };
        let dir = target::local_path(out);
        let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
            .map_err(|e| Error::Store { context: out.clone(), source: e })?;
        let store: Arc<dyn ObjectStore> = Arc::new(store);
        return Ok((Plan::Rolling(store, object_store::path::Path::from("")), created));
    }
    if !is_local(out) {
        check_url(out, true, ui)?;
        let (store, path) = crate::location::resolve(out)?;
        match store.head(&path).await {
            Ok(_) if !force => {
                return Err(Error::Invalid(format!("{out}: exists; use --force to replace it")));
            }
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(Error::Store { context: format!("{out}: HEAD"), source: e }),
        }
        return Ok((Plan::Object(store, path), Vec::new()));
    }
    let mut path = target::local_output(inputs.first().copied().unwrap_or("-"), out, force)?;
    for input in inputs.iter().skip(1) {
        path = target::local_output(input, out, force)?;
    }
    let created = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => target::create_dirs(dir)?,
        None => Vec::new(),
    };
    Ok((Plan::File(path), created))
}

fn open_input(input: &str) -> Result<(Box<dyn Read + Send>, Option<u64>)> {
    if input == "-" {
        return Ok((Box::new(std::io::stdin()), None));
    }
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => Error::Io {
            context: input.to_string(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "no such file"),
        },
        _ => Error::Io { context: input.to_string(), source: e },
    };
    let f = std::fs::File::open(input).map_err(io)?;
    let m = f.metadata().map_err(io)?;
    if m.is_dir() {
        return Err(Error::Invalid(format!("{input}: is a directory, not an input file")));
    }
    // Pipes and devices have no size to show progress against.
    let total = m.is_file().then_some(m.len());
    Ok((Box::new(f), total))
}

pub(crate) async fn build(args: BuildArgs, ui: Ui) -> Result<i32> {
    let mut opts = args.table.writer_options()?;
    if args.resume && args.input == "-" {
        return Err(Error::Invalid(
            "--resume re-reads the input from the start: give an input file, not standard input".into(),
        ));
    }
    let format = args.input_format.resolve(&args.input);
    let (reader, total) = open_input(&args.input)?;
    let (plan, created) = plan(&[&args.input], &args.output, (args.force, args.resume), &args.table, ui).await?;
    // Catch the signals before anything exists that they could leave behind.
    let mut interrupts = Interrupts::new()?;
    let sorter = match args.sort.sorter() {
        Ok(s) => s,
        Err(e) => {
            target::remove_dirs(&created);
            return Err(e);
        }
    };
    if let Some(s) = &sorter {
        // Filter hashes spill into --tmp-dir (an unlinked file), rolled files' too.
        opts = s.writer_options(opts);
    }
    // The parser thread owns the sorter, and may be left running on an interrupt: remove its files here too.
    let sort_dir = TempFiles(sorter.as_ref().map(|s| s.dir().to_path_buf()));
    let manifest = Manifest { input_id: input_id(&args, format)?, resume: args.resume, output: &args.output };
    let mut out = if sorter.is_some() && !matches!(plan, Plan::Rolling(..)) {
        // One sorted file: opened once the merge starts, with the options the sort gives (see `Output`).
        Output { sink: None, later: Some((plan, opts)) }
    } else {
        match open_sink(&args.table, plan, opts, Some(manifest)).await {
            Ok(s) => Output { sink: Some(s), later: None },
            Err(e) => {
                target::remove_dirs(&created);
                return Err(e);
            }
        }
    };
    let bar = progress(ui, total, "building");
    let outcome = feed(&args, reader, &mut out, &bar, ui, &mut interrupts, sorter).await;
    bar.finish_and_clear();
    drop(sort_dir);
    let fed = match outcome {
        Ok(FeedEnd::Done(fed)) => fed,
        Err(e) => {
            out.abort(&args.output).await;
            cleanup_dirs(&args.output, &args.table, &created);
            return Err(e);
        }
        Ok(FeedEnd::Interrupted(code, name)) => {
            let clean = out.abort(&args.output).await;
            cleanup_dirs(&args.output, &args.table, &created);
            if clean {
                eprintln!("sstkit: interrupted by {name}; removed the partial output");
            } else {
                eprintln!("sstkit: interrupted by {name}; the partial output could not all be removed (see above)");
            }
            return Ok(code);
        }
    };
    report_bad_lines(&fed.bad);
    if fed.records == 0 && fed.bad.count > 0 {
        out.abort(&args.output).await;
        cleanup_dirs(&args.output, &args.table, &created);
        return Err(Error::Invalid(format!(
            "{}: no line parsed ({} bad lines); the first: {}",
            args.input,
            fed.bad.count,
            fed.bad.first.first().map_or("", String::as_str)
        )));
    }
    let files = match out.close(&args.table).await {
        Ok(f) => f,
        Err(e) => {
            cleanup_dirs(&args.output, &args.table, &created);
            return Err(e);
        }
    };
    report(&args.output, &files, &fed.bad, ui);
    Ok(exit::OK)
}

/// Removes the directories a failed build made (a rolling build's level directory too), if empty.
pub(crate) fn cleanup_dirs(output: &str, table: &TableArgs, created: &[std::path::PathBuf]) {
    if table.target_size.is_some() && is_local(output) {
        let _ = std::fs::remove_dir(target::local_path(output).join(table.level.to_string()));
    }
    target::remove_dirs(created);
}

fn report_bad_lines(bad: &BadLines) {
    if bad.count == 0 {
        return;
    }
    eprintln!("sstkit: warning: {} bad lines skipped (--skip-bad-lines); the first:", bad.count);
    for m in &bad.first {
        eprintln!("  {m}");
    }
}

/// How a rolling build records its progress (a manifest beside its files), and whether it resumes.
pub(crate) struct Manifest<'a> {
    /// What identifies the input ([`input_id`]).
    pub input_id: String,
    /// Continue after the files the manifest lists.
    pub resume: bool,
    /// The output (for the leftovers removed before a resume).
    pub output: &'a str,
}

/// Opens the writer the plan names; a rolling writer keeps a manifest when `manifest` says so.
pub(crate) async fn open_sink(
    table: &TableArgs,
    plan: Plan,
    opts: WriterOptions,
    manifest: Option<Manifest<'_>>,
) -> Result<Sink> {
    Ok(match plan {
        Plan::Rolling(store, prefix) => {
            let target = table.target_size.unwrap_or(MIN_TARGET_SIZE);
            let ro = RollingOptions::new(prefix).level(table.level).target_file_size(target).writer(opts);
            let Some(m) = manifest else { return Ok(Sink::Rolling(Box::new(RollingWriter::new(store, ro)?))) };
            let ro = ro.manifest(true).input_id(m.input_id);
            if !m.resume {
                return Ok(Sink::Rolling(Box::new(RollingWriter::new(store, ro)?)));
            }
            remove_leftovers_before_resume(m.output).await?;
            Sink::Rolling(Box::new(RollingWriter::resume(store, ro).await?))
        }
        Plan::Object(store, path) => Sink::Object(Box::new(SstWriter::new(store, path, opts)?)),
        Plan::File(path) => Sink::File(Box::new(FileWriter::create(path, opts)?)),
    })
}

/// The writer of a build: opened up front, or, sorting into one file, when the first sorted batch comes, with
/// the options the sort gives ([`ExternalSort::writer_options`]: filter hashes spill into --tmp-dir, the
/// filter's bits come when the file is finished, after the merge) and its memory charged to --memory.
pub(crate) struct Output {
    sink: Option<Sink>,
    /// The plan and options of a writer not opened yet.
    later: Option<(Plan, WriterOptions)>,
}

impl Output {
    /// The writer, opened now if it was not (with `opts` from the sort, if it sent them).
    async fn sink(&mut self, table: &TableArgs, opts: Option<WriterOptions>) -> Result<&mut Sink> {
        if let Some((plan, planned)) = self.later.take() {
            self.sink = Some(open_sink(table, plan, opts.unwrap_or(planned), None).await?);
        }
        self.sink.as_mut().ok_or_else(|| Error::Invalid("build: the writer is gone".into()))
    }

    /// Finishes the writer (opening it first if no batch came).
    async fn close(mut self, table: &TableArgs) -> Result<Vec<SstMetadata>> {
        self.sink(table, None).await?;
        match self.sink {
            Some(s) => s.close().await,
            None => Err(Error::Invalid("build: the writer is gone".into())),
        }
    }

    /// Removes everything written (nothing if the writer was never opened). True if clean.
    async fn abort(&mut self, output: &str) -> bool {
        self.later = None;
        match self.sink.take() {
            Some(s) => s.abort(output).await,
            None => true,
        }
    }
}

/// The sort's temporary directory, removed when dropped (whoever comes first, this or the sorter).
struct TempFiles(Option<std::path::PathBuf>);

impl Drop for TempFiles {
    fn drop(&mut self) {
        if let Some(d) = &self.0 {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}

/// What identifies the input of a rolling build in its manifest: the file, its size and modification time,
/// and how it is parsed (a resume with another input or parsing is refused).
fn input_id(args: &BuildArgs, format: Format) -> Result<String> {
    let (len, mtime) = match std::fs::metadata(&args.input) {
        Ok(m) => {
            let t = m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
            (m.len(), t.map_or(0, |d| d.as_nanos()))
        }
        Err(_) => (0, 0),
    };
    Ok(format!(
        "{} size={len} mtime_ns={mtime} format={format:?} keys={:?} values={:?} sort={} skip_bad_lines={} \
         max_key={} max_value={}",
        args.input,
        args.key_format,
        args.value_format,
        args.sort.sort,
        args.skip_bad_lines,
        args.max_key_size,
        args.max_value_size
    ))
}

/// Before resuming: aborts the incomplete multipart uploads under an S3 output prefix, or removes the staging
/// and temporary files of a local output directory (the killed run's unfinished files, which listings do not
/// show).
async fn remove_leftovers_before_resume(output: &str) -> Result<()> {
    if is_local(output) {
        for (path, pid) in super::clean::local_leftovers(&target::local_path(output))? {
            if pid.is_some_and(super::clean::alive) {
                return Err(Error::Invalid(format!(
                    "{}: a build (process {}) is still writing here; resume after it ended",
                    path.display(),
                    pid.unwrap_or(0)
                )));
            }
            std::fs::remove_file(&path).map_err(|e| Error::Io { context: path.display().to_string(), source: e })?;
        }
        return Ok(());
    }
    #[cfg(feature = "aws")]
    if output.starts_with("s3://") || output.starts_with("s3a://") {
        let (s3, prefix) = crate::s3_uploads::S3Uploads::from_url(output)?;
        let prefix = if prefix.is_empty() || prefix.ends_with('/') { prefix } else { format!("{prefix}/") };
        for u in s3.list(&prefix).await? {
            s3.abort(&u).await?;
        }
    }
    Ok(())
}

/// What feeding the input gave.
struct Fed {
    records: u64,
    bad: BadLines,
}

/// How feeding the input ended.
enum FeedEnd {
    /// The input was read and written.
    Done(Fed),
    /// A signal arrived: the exit status and the signal's name.
    Interrupted(i32, &'static str),
}

/// Batches in flight between the parser thread and the writer.
const IN_FLIGHT: usize = 4;

/// MiB the merge holds besides the run readers, the writer and the batches (the runtime, the threads' stacks
/// and heaps, the program): measured, see BENCHMARKS.md ("External sort and merge").
pub(crate) const RUNTIME_MIB: u64 = 24;

/// Batches that may exist at once: those in flight, the one being filled, the one being written, one handed back.
const BATCHES: usize = IN_FLIGHT + 3;

/// What the sort tells the writer once it has seen the input: the options of one file, or a rolling writer's
/// key counts; before, what the writer was planned with (the options, and whether they upload parts; or the
/// rolling writer's options and target size).
enum Sized {
    One(WriterOptions, bool),
    Rolling { opts: WriterOptions, target: u64, keys: Option<ExpectedKeys> },
}

impl Sized {
    /// The planned writer's key counts from the sort, and its memory charged to the sort's budget (see
    /// [`ExternalSort::reserve`]), with a warning when the budget cannot hold it.
    fn charge(self, s: &mut ExternalSort) -> Sized {
        let batches = (BATCHES * Batch::MAX_BYTES) as u64;
        let parts = |o: &WriterOptions| o.part_size as u64 * (o.parts_in_flight as u64 + 1);
        let (sized, workspace, uploads, target) = match self {
            Sized::One(o, upload) => {
                let o = s.writer_options(o);
                let w = s.writer_workspace(&o, None);
                let up = if upload { parts(&o) } else { 0 };
                (Sized::One(o, upload), w, up, None)
            }
            Sized::Rolling { opts, target, .. } => {
                let w = s.writer_workspace(&opts, Some(target));
                let up = parts(&opts);
                (Sized::Rolling { keys: s.rolling_keys(target), opts, target }, w, up, Some(target))
            }
        };
        let reserved = workspace.merging + uploads + batches;
        s.reserve(reserved);
        let budget = s.options().memory as u64;
        // One file is finished after the merge, its readers and batches freed.
        let merging = reserved + s.merge_readers();
        let finishing = workspace.finishing + uploads;
        if merging.max(finishing) > budget {
            let mib = |n: u64| n.div_ceil(1 << 20);
            let hint = match target {
                None => "use --target-size to cut the output into files whose filter and index fit",
                Some(_) => "use a smaller --target-size",
            };
            eprintln!(
                "sstkit: warning: --memory {} MiB does not hold the merge: the output file's filter and index take \
                 ~{} MiB while merging and ~{} MiB when it is finished, the batches and uploads {} MiB, the reads \
                 of {} runs {} MiB; peak memory will be ~{} MiB; {hint}, or give more --memory",
                mib(budget),
                mib(workspace.merging),
                mib(workspace.finishing),
                mib(uploads + batches),
                s.runs(),
                mib(s.merge_readers()),
                mib(merging.max(finishing)) + RUNTIME_MIB
            );
        }
        sized
    }

    /// The options of one file.
    fn one(&self) -> Option<WriterOptions> {
        match self {
            Sized::One(o, _) => Some(o.clone()),
            Sized::Rolling { .. } => None,
        }
    }
}

async fn feed(
    args: &BuildArgs,
    reader: Box<dyn Read + Send>,
    out: &mut Output,
    bar: &indicatif::ProgressBar,
    ui: Ui,
    interrupts: &mut Interrupts,
    sorter: Option<ExternalSort>,
) -> Result<FeedEnd> {
    // Parse on a blocking thread, write here (object stores are async); a bounded channel keeps memory flat, and
    // the writer hands emptied batches back for reuse.
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Batch>>(IN_FLIGHT);
    let (recycle, reuse) = std::sync::mpsc::channel::<Batch>();
    // Sorting, the parser keeps reusing its own batch.
    let recycle_own = recycle.clone();
    let format = args.input_format.resolve(&args.input);
    let (sort, key_enc, value_enc, input) = (sorter.is_some(), args.key_format, args.value_format, args.input.clone());
    let mut sorter = sorter;
    // The writer gets the sort's key counts before the first sorted batch: a writer opened late (one file) its
    // options, a rolling writer the counts per file; the sort charges the writer's memory to --memory.
    let planned = match &out.later {
        Some((plan, o)) => Some(Sized::One(o.clone(), matches!(plan, Plan::Object(..)))),
        None if sort && args.table.target_size.is_some() => {
            let target = args.table.target_size.unwrap_or(MIN_TARGET_SIZE);
            Some(Sized::Rolling { opts: args.table.writer_options()?, target, keys: None })
        }
        None => None,
    };
    let (sized_tx, mut sized_rx) = tokio::sync::oneshot::channel::<Sized>();
    let rt = tokio::runtime::Handle::current();
    let limits = Limits {
        max_key: usize::try_from(args.max_key_size).unwrap_or(usize::MAX),
        max_value: usize::try_from(args.max_value_size).unwrap_or(usize::MAX),
        skip_bad_lines: args.skip_bad_lines,
    };
    let bar2 = bar.clone();
    let parser = tokio::task::spawn_blocking(move || {
        let mut parser = Parser::new(reader, format, key_enc, value_enc, limits);
        let mut order = OrderCheck::default();
        loop {
            let mut batch = reuse.try_recv().unwrap_or_default();
            let filled = parser.fill(&mut batch);
            bar2.set_position(parser.bytes_read());
            if !sort {
                // The records before a bad line come first: an order error among them is the one to report.
                if let Err(e) = order.check(&batch, ui) {
                    let _ = tx.blocking_send(Err(Error::Invalid(format!("{input}: {e}"))));
                    return parser.bad_lines().clone();
                }
            }
            let more = match filled {
                Ok(more) => more,
                Err(e) => {
                    let _ = tx.blocking_send(Err(Error::Invalid(format!("{input}: {e}"))));
                    return parser.bad_lines().clone();
                }
            };
            if let Some(s) = &mut sorter {
                if let Err(e) = batch.iter().try_for_each(|(line, op)| s.add_at(op, line)) {
                    let _ = tx.blocking_send(Err(e));
                    return parser.bad_lines().clone();
                }
                batch.clear();
                let _ = recycle_own.send(batch);
            } else if !batch.is_empty() && tx.blocking_send(Ok(batch)).is_err() {
                // The writer stopped (it failed): stop parsing too.
                return parser.bad_lines().clone();
            }
            if !more {
                break;
            }
        }
        if let Some(mut s) = sorter {
            if let Some(p) = planned {
                let _ = sized_tx.send(p.charge(&mut s));
            }
            send_sorted(s, &rt, &tx, &reuse);
        }
        parser.bad_lines().clone()
    });
    let mut result = Ok(());
    let mut records = 0u64;
    let mut stopped = None;
    loop {
        // A signal is taken between batches, never in the middle of a write: a write cancelled half-way (a
        // file being finished, say) could complete on its own after the cleanup and be left behind.
        let next = tokio::select! {
            biased;
            sig = interrupts.next() => {
                stopped = Some(sig);
                break;
            }
            b = rx.recv() => b,
        };
        let Some(b) = next else { break };
        let b = match b {
            Ok(b) => b,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        let sized = sized_rx.try_recv().ok();
        let sink = match out.sink(&args.table, sized.as_ref().and_then(Sized::one)).await {
            Ok(s) => s,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if let (Some(Sized::Rolling { keys, .. }), Sink::Rolling(w)) = (&sized, &mut *sink) {
            w.expect_keys(*keys);
        }
        let written = interrupts.guard(sink.write_batch(&b), &mut stopped, &args.output).await;
        if let Err((line, e)) = written {
            result = Err(match e {
                Error::Codec { source, .. } => Error::Invalid(format!("{}: line {line}: {source}", args.input)),
                other => other,
            });
            break;
        }
        records += b.len() as u64;
        let _ = recycle.send(b);
        if stopped.is_some() {
            break;
        }
    }
    drop(rx);
    if let Some((code, name)) = stopped {
        // The parser may be blocked reading standard input: do not wait for it.
        return Ok(FeedEnd::Interrupted(code, name));
    }
    let bad = parser.await.unwrap_or_default();
    result.map(|()| FeedEnd::Done(Fed { records, bad }))
}

/// Prints what was written: one line (or JSON object) per file, and a total for several.
pub(crate) fn report(output: &str, files: &[SstMetadata], bad: &BadLines, ui: Ui) {
    if ui.json {
        for m in files {
            let mut o = serde_json::Map::new();
            o.insert("location".into(), json!(m.location));
            o.insert("file_size".into(), json!(m.stats.file_size));
            o.insert("entries".into(), json!(m.stats.num_entries()));
            o.insert("puts".into(), json!(m.stats.num_puts));
            o.insert("deletes".into(), json!(m.stats.num_deletions));
            o.insert("merges".into(), json!(m.stats.num_merges));
            o.insert("range_deletions".into(), json!(m.stats.num_range_deletions));
            o.insert("data_blocks".into(), json!(m.stats.num_data_blocks));
            o.insert("skipped_lines".into(), json!(bad.count));
            let (first, last) = (m.first_user_key.as_deref().unwrap_or(&[]), m.last_user_key.as_deref().unwrap_or(&[]));
            put_bytes(&mut o, &[("first_key", first), ("last_key", last)], ui);
            println!("{}", serde_json::Value::Object(o));
        }
    } else {
        for m in files {
            println!(
                "wrote {}: {} entries ({} puts, {} deletes, {} merges, {} range deletions), {} bytes, {} data blocks",
                m.location,
                m.stats.num_entries(),
                m.stats.num_puts,
                m.stats.num_deletions,
                m.stats.num_merges,
                m.stats.num_range_deletions,
                m.stats.file_size,
                m.stats.num_data_blocks
            );
        }
        if files.len() > 1 {
            let sum = |f: fn(&SstMetadata) -> u64| files.iter().map(f).sum::<u64>();
            println!(
                "{} files under {output}: {} entries ({} puts, {} deletes, {} merges, {} range deletions)",
                files.len(),
                sum(|m| m.stats.num_entries()),
                sum(|m| m.stats.num_puts),
                sum(|m| m.stats.num_deletions),
                sum(|m| m.stats.num_merges),
                sum(|m| m.stats.num_range_deletions)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{left_behind, upload_id};

    #[test]
    fn upload_ids_in_store_errors() {
        let e = "Error performing DELETE http://h/b/k?uploadId=a%2Bb.c_1 in 2ms - 403";
        assert_eq!(upload_id(e).as_deref(), Some("a+b.c_1"));
        assert_eq!(upload_id("PUT http://h/b/k?partNumber=2&uploadId=x-1&y=2 in 1ms").as_deref(), Some("x-1"));
        assert_eq!(upload_id("uploadId= in 1ms"), None);
        assert_eq!(upload_id("connection refused"), None);
        // Without an id, the S3 hint says how to find it; other stores and rolling builds get no aws command.
        let s3 = left_behind("s3://b/d/k.sst", false, "connection refused");
        assert!(s3.contains("list-multipart-uploads --bucket b --prefix d/k.sst"), "{s3}");
        let gs = left_behind("gs://b/k.sst", false, "DELETE http://h/k?uploadId=u in 1ms");
        assert_eq!(gs, "an incomplete multipart upload (upload id u) may be left at gs://b/k.sst");
        assert!(left_behind("s3://b/d", true, "").contains("may be left under s3://b/d"));
    }
}
