//! Discovery of the real tools and a small process runner.
//!
//! The interop tests compare sstkit with RocksDB 7.8.3 (`ldb`, `sst_dump`,
//! Debian package `rocksdb-tools`) and LevelDB 1.23 (Debian package
//! `python3-plyvel`, run with `/usr/bin/python3`).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, OnceLock};

/// Name accepted by [`require_tool`] for RocksDB's `ldb`.
pub const LDB: &str = "ldb";
/// Name accepted by [`require_tool`] for RocksDB's `sst_dump`.
pub const SST_DUMP: &str = "sst_dump";
/// Name accepted by [`require_tool`] for a Python interpreter that can
/// `import plyvel` (LevelDB bindings). The returned path is the interpreter.
pub const PLYVEL: &str = "plyvel";

/// A user key and its value, as given to the writers and returned by scans.
pub type KeyValue = (Vec<u8>, Vec<u8>);

/// One entry as the real tools show it (`sst_dump --command=scan`,
/// `ldb idump`): user key, sequence number, value type and value.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ToolEntry {
    /// The user key (the internal key without its 8-byte trailer).
    pub user_key: Vec<u8>,
    /// The sequence number from the internal key trailer.
    pub seqno: u64,
    /// The value type from the internal key trailer (1 = Value, 0 = Deletion, ...).
    pub kind: u8,
    /// The value (empty for deletions).
    pub value: Vec<u8>,
}

impl ToolEntry {
    /// A `Value` (type 1) entry with the given sequence number.
    pub fn put(user_key: &[u8], seqno: u64, value: &[u8]) -> Self {
        ToolEntry { user_key: user_key.to_vec(), seqno, kind: 1, value: value.to_vec() }
    }

    /// A `Deletion` (type 0) entry with the given sequence number.
    pub fn delete(user_key: &[u8], seqno: u64) -> Self {
        ToolEntry { user_key: user_key.to_vec(), seqno, kind: 0, value: Vec::new() }
    }
}

/// Finds a real tool for an interop test.
///
/// `name` is `"ldb"`, `"sst_dump"` (searched in `PATH`, then `/usr/bin`) or
/// `"plyvel"` / `"python3-plyvel"` (returns a Python interpreter, preferring
/// `/usr/bin/python3`, that can `import plyvel`). Other names are searched as
/// executables.
///
/// If the tool is missing:
/// * when the environment variable `CI` is `true`, this **panics**, because a
///   test that needs a real tool must fail in CI rather than pass silently;
/// * otherwise it prints a loud `SKIPPED:` line to stderr and returns `None`,
///   so the caller can `return` early.
///
/// Results are cached per process.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match find_tool(name) {
        Ok(path) => Some(path),
        Err(why) => {
            let hint = install_hint(name);
            if std::env::var("CI").map(|v| v == "true").unwrap_or(false) {
                panic!(
                    "required interop tool `{name}` is not available in CI ({why}); \
                     install it: {hint}"
                );
            }
            eprintln!(
                "\n==================================================================\n\
                 SKIPPED: `{name}` not installed ({why}) ({hint})\n\
                 ==================================================================\n"
            );
            None
        }
    }
}

/// Like [`require_tool`] but never panics or prints: the tool's path, or an
/// error message. Used inside the helpers, which return `Err` when their tool
/// is missing.
pub fn find_tool(name: &str) -> Result<PathBuf, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Result<PathBuf, String>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(found) = cache.lock().unwrap().get(name) {
        return found.clone();
    }
    let found = match name {
        PLYVEL | "python3-plyvel" => find_plyvel_python(),
        other => find_executable(other).ok_or_else(|| format!("`{other}` not found in PATH")),
    };
    cache.lock().unwrap().insert(name.to_string(), found.clone());
    found
}

fn install_hint(name: &str) -> &'static str {
    match name {
        PLYVEL | "python3-plyvel" => "apt-get install python3-plyvel",
        _ => "apt-get install rocksdb-tools",
    }
}

fn find_executable(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> =
        std::env::var_os("PATH").map(|p| std::env::split_paths(&p).collect()).unwrap_or_default();
    dirs.push(PathBuf::from("/usr/bin"));
    dirs.push(PathBuf::from("/usr/local/bin"));
    dirs.into_iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.metadata().map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

fn find_plyvel_python() -> Result<PathBuf, String> {
    let mut candidates = vec![PathBuf::from("/usr/bin/python3")];
    candidates.extend(find_executable("python3"));
    for python in candidates {
        if !is_executable(&python) {
            continue;
        }
        let ok = Command::new(&python)
            .args(["-c", "import plyvel"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false);
        if ok {
            return Ok(python);
        }
    }
    Err("no python3 that can `import plyvel` (use Debian's /usr/bin/python3)".to_string())
}

/// The result of one finished tool run.
#[derive(Debug)]
pub struct ToolRun {
    /// A printable form of the command line.
    pub command: String,
    /// The exit status.
    pub status: ExitStatus,
    /// Standard output, lossily decoded as UTF-8.
    pub stdout: String,
    /// Standard error, lossily decoded as UTF-8.
    pub stderr: String,
}

impl ToolRun {
    /// True only for exit code 0 (a signal is never success).
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// `"rc N"` or `"signal N"` (the Debian RocksDB build aborts with SIGABRT
    /// or SIGSEGV on some malformed input).
    pub fn status_text(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        match (self.status.code(), self.status.signal()) {
            (Some(rc), _) => format!("rc {rc}"),
            (None, Some(sig)) => format!("signal {sig}"),
            (None, None) => "unknown status".to_string(),
        }
    }

    /// A one-paragraph description for error messages.
    pub fn describe(&self) -> String {
        format!(
            "`{}` exited with {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.command,
            self.status_text(),
            clip(&self.stdout),
            clip(&self.stderr)
        )
    }
}

fn clip(s: &str) -> String {
    const MAX: usize = 4000;
    if s.len() <= MAX {
        s.to_string()
    } else {
        let mut end = MAX;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}... [{} more bytes]", &s[..end], s.len() - end)
    }
}

/// Runs `program args...`, feeding `stdin` (or nothing: stdin is `/dev/null`)
/// and capturing both output streams. Fails only if the process cannot be
/// started; check [`ToolRun::success`] for the outcome.
pub fn run_tool<S: AsRef<OsStr>>(program: &Path, args: &[S], stdin: Option<&[u8]>) -> Result<ToolRun, String> {
    let command = std::iter::once(program.as_os_str())
        .chain(args.iter().map(|a| a.as_ref()))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new(program);
    cmd.args(args).stdout(Stdio::piped()).stderr(Stdio::piped()).stdin(if stdin.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    });
    let mut child = cmd.spawn().map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let output = std::thread::scope(|scope| {
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            scope.spawn(move || {
                // A tool that exits early closes the pipe; its status tells why.
                let _ = pipe.write_all(input);
            });
        }
        child.wait_with_output()
    })
    .map_err(|e| format!("waiting for `{command}`: {e}"))?;
    Ok(ToolRun {
        command,
        status: output.status,
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

/// Decodes hex as the tools print it: optional `0x` prefix, either case,
/// empty allowed.
pub fn decode_tool_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits = s.strip_prefix("0x").unwrap_or(s);
    hex::decode(digits).map_err(|e| format!("bad hex {s:?}: {e}"))
}

/// `0x` followed by uppercase hex digits (the form `ldb --hex` accepts).
pub fn to_ldb_hex(bytes: &[u8]) -> String {
    format!("0x{}", hex::encode_upper(bytes))
}
