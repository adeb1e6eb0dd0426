//! Discovery of the real tools and a small process runner.
//!
//! The interop tests compare sstkit with RocksDB 7.8.3 (`ldb`, `sst_dump`,
//! Debian package `rocksdb-tools`), LevelDB 1.23 (Debian package
//! `python3-plyvel`, run with `/usr/bin/python3`) and RocksDB 10.4.2 (PyPI
//! `rocksdict` 0.3.29 in a virtualenv, see [`crate::rocksdb10`]).
//!
//! A test that needs a tool FAILS when the tool is missing: `scripts/test.sh`
//! installs them all. Set [`SKIP_ENV`]`=1` to skip such tests instead (never
//! honoured under `CI=true`); each skip is printed and, when [`SKIP_LOG_ENV`]
//! names a file, appended to it so the test script can list the skips.

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
/// Name accepted by [`require_tool`] for the Python of the rocksdict venv
/// (RocksDB 10.4.2, see [`crate::rocksdb10`]). The returned path is the interpreter.
pub const ROCKSDICT: &str = "rocksdict";

/// The opt-out: when this variable is `1` (or `true`), a test whose tool is
/// missing is skipped instead of failing (outside CI only).
pub const SKIP_ENV: &str = "SSTKIT_SKIP_MISSING_TOOLS";
/// When set, the path of a file each skip appends one line to (`scripts/test.sh`
/// prints it in its summary, since cargo hides a passing test's output).
pub const SKIP_LOG_ENV: &str = "SSTKIT_SKIP_LOG";

/// What a test does when its tool is missing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MissingToolPolicy {
    /// Fail (panic): the default, and always under `CI=true`.
    Fail,
    /// Print a loud `SKIPPED` line and let the test return early: only with
    /// [`SKIP_ENV`]`=1` outside CI.
    Skip,
}

/// The policy for the given values of `CI` and [`SKIP_ENV`].
pub fn missing_tool_policy(ci: Option<&str>, opt_out: Option<&str>) -> MissingToolPolicy {
    if ci == Some("true") {
        return MissingToolPolicy::Fail;
    }
    match opt_out {
        Some("1") | Some("true") => MissingToolPolicy::Skip,
        _ => MissingToolPolicy::Fail,
    }
}

/// The policy of this process's environment.
pub fn current_missing_tool_policy() -> MissingToolPolicy {
    missing_tool_policy(std::env::var("CI").ok().as_deref(), std::env::var(SKIP_ENV).ok().as_deref())
}

/// Reports that the tool `name` is missing (`why`; `hint` says how to get it):
/// panics under [`MissingToolPolicy::Fail`], otherwise prints a loud
/// `SKIPPED` line, records it in [`SKIP_LOG_ENV`]'s file and returns, so the
/// caller can return early. Used by [`require_tool`] and the moto harness.
pub fn tool_missing(name: &str, why: &str, hint: &str) {
    let test = std::thread::current().name().unwrap_or("?").to_string();
    match current_missing_tool_policy() {
        MissingToolPolicy::Fail => panic!(
            "test `{test}` needs `{name}`, which is missing ({why}).\n\
             Install it: {hint}; `scripts/test.sh` installs every tool the tests need.\n\
             To skip such tests instead (not in CI), set {SKIP_ENV}=1."
        ),
        MissingToolPolicy::Skip => {
            eprintln!(
                "\n==================================================================\n\
                 SKIPPED ({SKIP_ENV}=1): `{test}` needs `{name}` ({why}); {hint}\n\
                 ==================================================================\n"
            );
            if let Some(log) = std::env::var_os(SKIP_LOG_ENV) {
                let line = format!("{test}: `{name}` missing ({why})\n");
                let appended = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .and_then(|mut f| f.write_all(line.as_bytes()));
                if let Err(e) = appended {
                    eprintln!("cannot record the skip in {}: {e}", Path::new(&log).display());
                }
            }
        }
    }
}

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
/// `name` is `"ldb"`, `"sst_dump"` (searched in `PATH`, then `/usr/bin`),
/// `"plyvel"` / `"python3-plyvel"` (returns a Python interpreter, preferring
/// `/usr/bin/python3`, that can `import plyvel`) or `"rocksdict"` (the Python
/// of the rocksdict venv). Other names are searched as executables.
///
/// If the tool is missing this **panics** (see [`tool_missing`]), unless
/// [`SKIP_ENV`]`=1` is set outside CI: then it prints a loud `SKIPPED:` line
/// and returns `None`, so the caller can `return` early.
///
/// Results are cached per process.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    match find_tool(name) {
        Ok(path) => Some(path),
        Err(why) => {
            tool_missing(name, &why, install_hint(name));
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
        ROCKSDICT => crate::rocksdb10::find_rocksdict_python(),
        other => find_executable(other).ok_or_else(|| format!("`{other}` not found in PATH")),
    };
    cache.lock().unwrap().insert(name.to_string(), found.clone());
    found
}

fn install_hint(name: &str) -> &'static str {
    match name {
        PLYVEL | "python3-plyvel" => "apt-get install python3-plyvel",
        ROCKSDICT => {
            "python3 -m venv /tmp/sstkit-rocksdict-venv && /tmp/sstkit-rocksdict-venv/bin/pip install rocksdict==0.3.29 \
             (or set SSTKIT_ROCKSDICT_VENV)"
        }
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
