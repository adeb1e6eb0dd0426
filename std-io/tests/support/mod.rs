//! Shared test support for the std-io tests (writer, rolling, reader):
//!
//! - [`FaultyStore`]: an `ObjectStore` wrapper that fails chosen calls deterministically (the N-th part
//!   upload, the completion, a PUT, the N-th ranged GET, ...), counting what it saw and injected;
//! - [`CountingStore`]: counts GETs (ranged or not), bytes fetched, HEADs, PUTs, parts, lists, ...;
//! - [`moto_store`]: an S3-compatible `moto_server` on loopback with a fresh bucket, and an `AmazonS3`
//!   store pointing at it (killed on drop);
//! - small helpers: [`list_paths`], [`read_object`], [`runtime`].
//!
//! Every test binary includes this with `mod support;`; not every binary uses every item.
#![allow(dead_code)]

pub mod model;

#[allow(unused_imports)] // not every test binary counts requests
pub use sstkit_test_support::counting::{CountingStore, Counts};

use std::fmt;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Child;
#[cfg(feature = "aws")]
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
#[cfg(feature = "aws")]
use std::time::Instant;

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetRange, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, ObjectStoreExt,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};

/// A multi-thread runtime for tests that want one explicitly (most use `#[tokio::test]`).
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(4).enable_all().build().expect("runtime")
}

/// Every object path under `prefix` (all objects for `None`), sorted.
pub async fn list_paths(store: &dyn ObjectStore, prefix: Option<&Path>) -> Vec<Path> {
    let mut v: Vec<Path> = store.list(prefix).map_ok(|m| m.location).try_collect().await.expect("list must succeed");
    v.sort();
    v
}

/// The whole object.
pub async fn read_object(store: &dyn ObjectStore, path: &Path) -> Vec<u8> {
    store.get(path).await.expect("get").bytes().await.expect("bytes").to_vec()
}

fn injected(what: String) -> object_store::Error {
    object_store::Error::Generic { store: "FaultyStore", source: format!("injected fault: {what}").into() }
}

// ------------------------------------------------------------------------------------------------------------
// FaultyStore
// ------------------------------------------------------------------------------------------------------------

/// When a fault fires, counting the calls of one kind from 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Trigger {
    /// Never.
    #[default]
    Never,
    /// Only the N-th call (1-based).
    Nth(u64),
    /// The N-th call and every later one.
    From(u64),
    /// Every call.
    Always,
}

impl Trigger {
    fn fires(self, n: u64) -> bool {
        match self {
            Trigger::Never => false,
            Trigger::Nth(k) => n == k,
            Trigger::From(k) => n >= k,
            Trigger::Always => true,
        }
    }
}

/// Which calls a [`FaultyStore`] fails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Faults {
    /// `put_part` of a multipart upload (counted across all uploads of the store).
    pub part: Trigger,
    /// `complete` of a multipart upload.
    pub complete: Trigger,
    /// Starting a multipart upload (`put_multipart`).
    pub multipart_start: Trigger,
    /// A single `PUT`.
    pub put: Trigger,
    /// A ranged GET (suffix GETs included).
    pub get_range: Trigger,
    /// A suffix GET (`bytes=-N`), as a store refusing them: checked before `get_range`.
    pub suffix_get: Trigger,
    /// A GET of the whole object.
    pub get: Trigger,
    /// A HEAD.
    pub head: Trigger,
}

/// Calls seen by a [`FaultyStore`] (each counted whether it failed or not).
#[derive(Debug, Default)]
struct FaultCounters {
    parts: AtomicU64,
    completes: AtomicU64,
    multipart_starts: AtomicU64,
    puts: AtomicU64,
    get_ranges: AtomicU64,
    suffix_gets: AtomicU64,
    gets: AtomicU64,
    heads: AtomicU64,
    aborts: AtomicU64,
    injected: AtomicU64,
}

#[derive(Debug, Default)]
struct FaultShared {
    faults: Mutex<Faults>,
    counters: FaultCounters,
}

impl FaultShared {
    fn check(&self, counter: &AtomicU64, pick: impl Fn(&Faults) -> Trigger, what: &str) -> object_store::Result<()> {
        let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
        let trigger = pick(&self.faults.lock().unwrap());
        if trigger.fires(n) {
            self.counters.injected.fetch_add(1, Ordering::SeqCst);
            return Err(injected(format!("{what} #{n}")));
        }
        Ok(())
    }
}

/// An `ObjectStore` that fails chosen calls (see [`Faults`]), deterministically, and passes the rest on.
/// A failed call does not reach the inner store.
#[derive(Debug, Clone)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    shared: Arc<FaultShared>,
}

impl FaultyStore {
    /// Wraps `inner` with no faults.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        FaultyStore { inner, shared: Arc::default() }
    }
    /// Replaces the faults (also while in use).
    pub fn set_faults(&self, f: Faults) {
        *self.shared.faults.lock().unwrap() = f;
    }
    /// Fails the N-th part upload.
    pub fn fail_part(self, n: u64) -> Self {
        self.shared.faults.lock().unwrap().part = Trigger::Nth(n);
        self
    }
    /// Fails every multipart completion.
    pub fn fail_complete(self) -> Self {
        self.shared.faults.lock().unwrap().complete = Trigger::Always;
        self
    }
    /// Fails every multipart start.
    pub fn fail_multipart_start(self) -> Self {
        self.shared.faults.lock().unwrap().multipart_start = Trigger::Always;
        self
    }
    /// Fails every single PUT.
    pub fn fail_put(self) -> Self {
        self.shared.faults.lock().unwrap().put = Trigger::Always;
        self
    }
    /// Fails the N-th single PUT.
    pub fn fail_put_nth(self, n: u64) -> Self {
        self.shared.faults.lock().unwrap().put = Trigger::Nth(n);
        self
    }
    /// Fails ranged GETs as `t` says.
    pub fn fail_get_range(self, t: Trigger) -> Self {
        self.shared.faults.lock().unwrap().get_range = t;
        self
    }
    /// Fails suffix GETs as `t` says (a store that refuses them).
    pub fn fail_suffix_get(self, t: Trigger) -> Self {
        self.shared.faults.lock().unwrap().suffix_get = t;
        self
    }
    /// Fails whole-object GETs as `t` says.
    pub fn fail_get(self, t: Trigger) -> Self {
        self.shared.faults.lock().unwrap().get = t;
        self
    }
    /// Fails HEADs as `t` says.
    pub fn fail_head(self, t: Trigger) -> Self {
        self.shared.faults.lock().unwrap().head = t;
        self
    }
    /// This store as a trait object.
    pub fn arc(&self) -> Arc<dyn ObjectStore> {
        Arc::new(self.clone())
    }
    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }
    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.shared.counters.injected.load(Ordering::SeqCst)
    }
    /// Multipart aborts seen.
    pub fn aborts(&self) -> u64 {
        self.shared.counters.aborts.load(Ordering::SeqCst)
    }
    /// Part uploads seen (failed ones included).
    pub fn parts(&self) -> u64 {
        self.shared.counters.parts.load(Ordering::SeqCst)
    }
    /// Multipart completions seen.
    pub fn completes(&self) -> u64 {
        self.shared.counters.completes.load(Ordering::SeqCst)
    }
    /// Single PUTs seen.
    pub fn puts(&self) -> u64 {
        self.shared.counters.puts.load(Ordering::SeqCst)
    }
    /// Ranged GETs seen.
    pub fn get_ranges(&self) -> u64 {
        self.shared.counters.get_ranges.load(Ordering::SeqCst)
    }
}

impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FaultyStore({})", self.inner)
    }
}

#[derive(Debug)]
struct FaultyUpload {
    inner: Box<dyn MultipartUpload>,
    shared: Arc<FaultShared>,
}

#[async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        match self.shared.check(&self.shared.counters.parts, |f| f.part, "part upload") {
            Ok(()) => self.inner.put_part(data),
            Err(e) => Box::pin(async move { Err(e) }),
        }
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.shared.check(&self.shared.counters.completes, |f| f.complete, "multipart completion")?;
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.shared.counters.aborts.fetch_add(1, Ordering::SeqCst);
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.shared.check(&self.shared.counters.puts, |f| f.put, "put")?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.shared.check(&self.shared.counters.multipart_starts, |f| f.multipart_start, "multipart start")?;
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload { inner, shared: self.shared.clone() }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let c = &self.shared.counters;
        if options.head {
            self.shared.check(&c.heads, |f| f.head, "head")?;
        } else if options.range.is_some() {
            if matches!(options.range, Some(GetRange::Suffix(_))) {
                self.shared.check(&c.suffix_gets, |f| f.suffix_get, "suffix get")?;
            }
            self.shared.check(&c.get_ranges, |f| f.get_range, "ranged get")?;
        } else {
            self.shared.check(&c.gets, |f| f.get, "get")?;
        }
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

// ------------------------------------------------------------------------------------------------------------
// moto
// ------------------------------------------------------------------------------------------------------------

/// Default location of the moto virtualenv (override with `MOTO_VENV`); `.ci/moto.sh` creates it.
pub const DEFAULT_MOTO_VENV: &str = "/tmp/sstkit-moto-venv";
/// The bucket [`moto_store`] creates.
pub const MOTO_BUCKET: &str = "sstkit-test";

/// A running `moto_server`; killed (and reaped) on drop.
#[derive(Debug)]
pub struct MotoServer {
    child: Child,
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    /// Its combined stdout/stderr log.
    pub log: PathBuf,
}

impl MotoServer {
    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment a `sstkit` process needs to reach this server as `s3://`.
    pub fn cli_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".to_string()),
        ]
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// Starts `moto_server` on a free loopback port, creates [`MOTO_BUCKET`] and returns the server with an
/// `AmazonS3` store for that bucket.
///
/// The server comes from the virtualenv at `$MOTO_VENV` (default [`DEFAULT_MOTO_VENV`]). If it is missing the
/// test fails (a test that needs S3 must not pass without one; `scripts/test.sh` creates the venv), unless
/// `SSTKIT_SKIP_MISSING_TOOLS=1` is set outside CI: then this prints a loud `SKIPPED` line and returns `None`
/// (see [`sstkit_tests::tool_missing`]).
#[cfg(feature = "aws")]
pub fn moto_store() -> Option<(MotoServer, Arc<dyn ObjectStore>)> {
    let venv = PathBuf::from(std::env::var("MOTO_VENV").unwrap_or_else(|_| DEFAULT_MOTO_VENV.to_string()));
    let bin = venv.join("bin").join("moto_server");
    if !bin.exists() {
        let why = format!("{} not found", bin.display());
        sstkit_tests::tool_missing("moto_server", &why, "bash .ci/moto.sh (about 70 s)");
        return None;
    }
    let port = free_port();
    let log = std::env::temp_dir().join(format!("sstkit-moto-{}-{port}.log", std::process::id()));
    let log_file = std::fs::File::create(&log).expect("moto log file");
    let child = Command::new(&bin)
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdin(Stdio::null())
        .stdout(log_file.try_clone().expect("log fd"))
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", bin.display()));
    let server = MotoServer { child, port, log };
    // Wait until it answers, then create the bucket with a plain HTTP PUT (moto does not check signatures).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match http_request(port, "PUT", &format!("/{MOTO_BUCKET}")) {
            Ok(200) => break,
            Ok(status) => panic!("moto: creating bucket {MOTO_BUCKET} answered HTTP {status}"),
            Err(e) if Instant::now() > deadline => {
                let text = std::fs::read_to_string(&server.log).unwrap_or_default();
                panic!("moto_server did not come up on port {port} in 30 s ({e}); log:\n{text}");
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    // The cloud backends' HTTP client has no TLS provider of its own (see `install_tls_provider`).
    sstkit::location::install_tls_provider();
    let store = object_store::aws::AmazonS3Builder::new()
        .with_endpoint(server.endpoint())
        .with_allow_http(true)
        .with_bucket_name(MOTO_BUCKET)
        .with_region("us-east-1")
        .with_access_key_id("testing")
        .with_secret_access_key("testing")
        .with_virtual_hosted_style_request(false)
        .build()
        .expect("AmazonS3Builder");
    Some((server, Arc::new(store)))
}

fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    l.local_addr().expect("local addr").port()
}

/// One HTTP/1.1 request with an empty body; returns the status code.
fn http_request(port: u16, method: &str, path: &str) -> std::io::Result<u16> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(s, "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf)?;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("bad HTTP answer: {text:.200}")))?;
    Ok(status)
}

/// The object's bytes through a ranged read of all of it (for stores where a full GET is the thing under
/// test elsewhere).
pub async fn read_object_ranged(store: &dyn ObjectStore, path: &Path) -> Bytes {
    let size = store.head(path).await.expect("head").size;
    store.get_range(path, 0..size).await.expect("get_range")
}

/// Writes `ops` (sorted) to a table file at `path` through a [`sstkit::file_writer::FileWriter`]; on an error
/// the writer is dropped, which leaves nothing at `path`.
#[allow(clippy::result_large_err)] // sstkit's own Result, as its API returns it.
pub fn build_file<B: AsRef<[u8]>>(
    path: impl AsRef<std::path::Path>,
    opts: sstkit::writer::WriterOptions,
    ops: impl IntoIterator<Item = sstkit::writer::WriteOp<B>>,
) -> sstkit::Result<sstkit::writer::SstMetadata> {
    let mut w = sstkit::file_writer::FileWriter::create(path, opts)?;
    for op in ops {
        w.write(op)?;
    }
    w.close()
}

/// The table core's `TableBuilder` writes for `model` (sorted puts) with `opts`, in memory.
pub fn build_table(
    model: &std::collections::BTreeMap<Vec<u8>, Vec<u8>>,
    opts: sstkit::core::table::Options,
) -> Vec<u8> {
    let mut b = sstkit::core::table::TableBuilder::new(Vec::new(), opts).expect("builder");
    let mut out = Vec::new();
    for (k, v) in model {
        b.put(k, v).expect("put");
        while let Some(c) = b.next_output().expect("output") {
            out.extend_from_slice(c);
        }
    }
    b.finish().expect("finish");
    while let Some(c) = b.next_output().expect("output") {
        out.extend_from_slice(c);
    }
    out
}
