//! The `sstkit` command-line tool: build, scan, get, dump, props, stats and verify SST files, on local paths
//! or object-store URLs.

mod build;
mod input;
mod output;
mod read;

use std::ffi::OsString;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::error::Error;

/// Build, inspect and verify RocksDB-compatible SST files, locally or on object stores.
///
/// FILE and OUTPUT may be local paths or URLs (s3://bucket/key, gs://, az://, file://, memory://); cloud
/// credentials and endpoints come from the usual environment variables (AWS_ENDPOINT, AWS_ACCESS_KEY_ID,
/// AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ALLOW_HTTP, ...).
#[derive(Debug, Parser)]
#[command(name = "sstkit", version, about, long_about)]
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
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Build an SST from `key ==> value` lines (ldb's format), TSV, CSV or JSON lines.
    Build(build::BuildArgs),
    /// Print entries, optionally in a key range.
    Scan(ScanArgs),
    /// Look one key up.
    Get(GetArgs),
    /// Show the file's structure: footer, meta blocks, index entries, data blocks (like `sst_dump --command=raw`).
    Dump(DumpArgs),
    /// Show the properties (like `sst_dump --show_properties`).
    Props(FileArgs),
    /// Block counts, sizes, key and value size distributions, compression ratio.
    Stats(FileArgs),
    /// Check every block's checksum; exit status 1 with the offset and block on corruption.
    Verify(FileArgs),
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
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let ui = Ui {
        json: cli.json,
        hex: cli.hex,
        progress: !cli.quiet && std::io::IsTerminal::is_terminal(&std::io::stderr()),
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("sstkit: cannot start the async runtime: {e}");
            return 1;
        }
    };
    let result = rt.block_on(async {
        match cli.command {
            Command::Build(a) => build::build(a, ui).await,
            Command::Scan(a) => read::scan(&a.file, a.from, a.to, a.limit, a.key_format, ui).await,
            Command::Get(a) => read::get(&a.file, &a.key, a.key_format, ui).await,
            Command::Dump(a) => read::dump(&a.file, a.entries, ui).await,
            Command::Props(a) => read::props(&a.file, ui).await,
            Command::Stats(a) => read::stats(&a.file, ui).await,
            Command::Verify(a) => read::verify(&a.file, ui).await,
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("sstkit: {}", one_line(&e));
            1
        }
    }
}

/// The error and its causes on one line.
fn one_line(e: &Error) -> String {
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
