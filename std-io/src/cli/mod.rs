//! The `sstkit` command-line tool: build, scan, get, dump, props, stats and verify SST files, on local paths
//! or object-store URLs, and clean up after killed builds.

mod build;
mod clean;
mod input;
mod merge;
mod output;
mod read;
mod sort;
mod table_args;
mod target;

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Error;
use sstkit_core::ErrorKind;

/// Build, inspect and verify RocksDB-compatible SST files, locally or on object stores.
///
/// FILE and OUTPUT may be local paths or URLs (s3://bucket/key, gs://, az://, file://, memory://); cloud
/// credentials and endpoints come from the usual environment variables (AWS_ENDPOINT, AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP, ...). Credentials from the cloud metadata service
/// (instance roles) are used only with --instance-credentials.
#[derive(Debug, Parser)]
#[command(name = "sstkit", version, about, long_about, after_help = EXIT_CODES)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Print JSON (one object per line for listings) instead of text.
    #[arg(long, global = true)]
    json: bool,
    /// Print keys and values as hex.
    #[arg(long, global = true)]
    hex: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Allow cloud credentials from the instance metadata service (169.254.169.254); without this flag a
    /// missing AWS/GCS/Azure credential is an error naming the variable to set, and no metadata request is made.
    #[arg(long, global = true)]
    instance_credentials: bool,
}

/// The exit status table, shown by `--help` and in the README.
pub const EXIT_CODES: &str = "\
Exit status (every command):
  0    success (get: the key has a value; for an entity, its default column)
  1    the negative answer: get: the key is absent, deleted, a merge operand or a blob reference (the value
       lives in a blob file); verify: corruption found
  2    usage error: bad arguments, an input line that does not parse, unsorted input, a duplicate key
       with --duplicates error, an output that exists (without --force) or is not a regular file, a
       missing credential variable
  3    corrupt bytes met by any command but verify (not an SST file, checksum mismatch, ...)
  4    a valid table using a feature this build does not support (verify prints UNSUPPORTED: <what>);
       merge: a merge operand over an older version (needs the merge operator)
  5    I/O or object-store error (a missing file, permissions, network)
  130  interrupted by SIGINT (Ctrl-C); 143: by SIGTERM. A build or merge removes everything it wrote first.";

/// Exit statuses (see [`EXIT_CODES`]).
pub(crate) mod exit {
    /// Success.
    pub const OK: i32 = 0;
    /// The negative answer (get: absent; verify: corrupt).
    pub const NO: i32 = 1;
    /// Usage or input error.
    pub const USAGE: i32 = 2;
    /// Corrupt bytes.
    pub const CORRUPT: i32 = 3;
    /// A feature this build does not support.
    pub const UNSUPPORTED: i32 = 4;
    /// I/O or object-store error.
    pub const IO: i32 = 5;
    /// SIGINT.
    pub const SIGINT: i32 = 130;
    /// SIGTERM.
    pub const SIGTERM: i32 = 143;
}

/// The exit status for an error, by its kind.
pub(crate) fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Codec { source, .. } => match source.kind() {
            ErrorKind::Unsupported => exit::UNSUPPORTED,
            ErrorKind::InvalidArgument => exit::USAGE,
            // Corruption, or a buffer too small while reading (a block larger than the reader accepts): bad bytes.
            _ => exit::CORRUPT,
        },
        Error::Store { .. } | Error::Io { .. } => exit::IO,
        Error::Invalid(_) => exit::USAGE,
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an SST from `key ==> value` lines (ldb's format), TSV, CSV or JSON lines.
    Build(build::BuildArgs),
    /// Merge SST files (newest version per key wins, range deletions apply) into one file or, with
    /// --target-size, non-overlapping files: a compaction as a tool.
    Merge(merge::MergeArgs),
    /// Print entries, optionally in a key range.
    Scan(ScanArgs),
    /// Look one key up: prints the value (exit 0; an entity's default column, its columns on stderr); a
    /// deletion, merge operand or blob reference is reported with its kind (exit 1), as is an absent key.
    Get(GetArgs),
    /// Show the file's structure: footer, meta blocks, index entries, data blocks (like `sst_dump --command=raw`).
    Dump(DumpArgs),
    /// Show the properties (like `sst_dump --show_properties`).
    Props(FileArgs),
    /// Block counts, sizes, key and value size distributions, compression ratio.
    Stats(FileArgs),
    /// Check every block's checksum and decode every entry's value by its type; exit status 1 with the offset
    /// and block on corruption, 4 (printing UNSUPPORTED: <what>) for a valid table this build cannot read.
    Verify(FileArgs),
    /// List (and with --apply remove) what killed builds left: incomplete S3 multipart uploads under a prefix,
    /// or with --local-temp the temporary and staging files in a local directory. Dry run by default.
    Clean(clean::CleanArgs),
}

/// How keys or values given on the command line or in input files are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Encoding {
    /// The bytes as written (UTF-8 text).
    #[default]
    Utf8,
    /// Hexadecimal (an optional `0x` prefix is accepted).
    Hex,
    /// Standard base64.
    Base64,
}

#[derive(Debug, Args)]
struct FileArgs {
    /// The SST file (path or URL).
    file: String,
}

#[derive(Debug, Args)]
struct ScanArgs {
    /// The SST file (path or URL).
    file: String,
    /// First key to print (inclusive).
    #[arg(long)]
    from: Option<String>,
    /// Key to stop before (exclusive).
    #[arg(long)]
    to: Option<String>,
    /// Print at most this many entries.
    #[arg(long)]
    limit: Option<u64>,
    /// Encoding of --from and --to.
    #[arg(long, value_enum, default_value_t)]
    key_format: Encoding,
    /// Print only what a read at this sequence number sees: entries and range deletions with seqno ≤ SEQNO.
    #[arg(long, value_name = "SEQNO")]
    as_of: Option<u64>,
}

#[derive(Debug, Args)]
struct GetArgs {
    /// The SST file (path or URL).
    file: String,
    /// The key.
    key: String,
    /// Encoding of KEY.
    #[arg(long, value_enum, default_value_t)]
    key_format: Encoding,
    /// Read timestamp, for tables with user-defined timestamps (comparator leveldb.BytewiseComparator.u64ts):
    /// the newest version of KEY (given without its timestamp) whose timestamp is ≤ N. Default: the newest.
    #[arg(long, value_name = "N")]
    read_ts: Option<u64>,
    /// Read as of this sequence number: the newest version and range deletion with seqno ≤ SEQNO.
    #[arg(long, value_name = "SEQNO", conflicts_with = "read_ts")]
    as_of: Option<u64>,
}

#[derive(Debug, Args)]
struct DumpArgs {
    /// The SST file (path or URL).
    file: String,
    /// Also print every entry of every data block.
    #[arg(long)]
    entries: bool,
}

/// Shared settings for commands.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ui {
    pub json: bool,
    pub hex: bool,
    pub progress: bool,
    pub instance_credentials: bool,
}

/// Runs the CLI with these arguments (the first is the program name); returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit::USAGE } else { exit::OK };
        }
    };
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    // Warnings (a cleanup that failed, say) must reach the user: RUST_LOG filters, default `warn`.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(terminal)
        .with_target(false)
        .without_time()
        .try_init();
    let ui = Ui {
        json: cli.json,
        hex: cli.hex,
        progress: !cli.quiet && terminal,
        instance_credentials: cli.instance_credentials,
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sstkit: cannot start the async runtime: {e}");
            return exit::IO;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Build(a) => build::build(a, ui).await,
            Command::Merge(a) => merge::merge(a, ui).await,
            Command::Scan(a) => read::scan(&a.file, (a.from, a.to), a.limit, a.key_format, a.as_of, ui).await,
            Command::Get(a) => read::get(&a.file, &a.key, (a.read_ts, a.as_of), a.key_format, ui).await,
            Command::Dump(a) => read::dump(&a.file, a.entries, ui).await,
            Command::Props(a) => read::props(&a.file, ui).await,
            Command::Stats(a) => read::stats(&a.file, ui).await,
            Command::Verify(a) => read::verify(&a.file, ui).await,
            Command::Clean(a) => clean::clean(a, ui).await,
        }
    });
    // A parser thread may still sit in a read of standard input: do not wait for it.
    rt.shutdown_background();
    match result {
        Ok(code) => code,
        Err(e) => {
            let code = exit_code(&e);
            // The same word as `verify` prints, so scripts can tell the kinds apart on every command.
            let kind = match code {
                exit::UNSUPPORTED => "UNSUPPORTED: ",
                exit::CORRUPT => "CORRUPT: ",
                _ => "",
            };
            eprintln!("sstkit: {kind}{}", one_line(&e));
            code
        }
    }
}

/// The error and its causes on one line.
pub(crate) fn one_line(e: &Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(c) = src {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        src = c.source();
    }
    s.replace('\n', " ")
}

/// Decodes a key or value given in `enc`.
pub(crate) fn decode(text: &str, enc: Encoding) -> Result<Vec<u8>, String> {
    use base64::Engine;
    match enc {
        Encoding::Utf8 => Ok(text.as_bytes().to_vec()),
        Encoding::Hex => {
            let t = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")).unwrap_or(text);
            hex::decode(t).map_err(|e| format!("bad hex {text:?}: {e}"))
        }
        Encoding::Base64 => {
            base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("bad base64 {text:?}: {e}"))
        }
    }
}
