//! A cleanup that fails is printed, naming what is left: SIGINT during an `s3://` build against a fake S3
//! server that refuses to abort the multipart upload.
//!
//! The server is written here (no moto): it speaks just enough HTTP/1.1 for a build, and answers the
//! AbortMultipartUpload with 403, an error object_store does not retry, so the failure is immediate.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const UPLOAD_ID: &str = "upload-123";

/// A request the fake server received: the method and the path with its query.
type Log = Arc<Mutex<Vec<(String, String)>>>;

/// Starts the fake S3 server on a free port of 127.0.0.1; every request is appended to the log. With
/// `parts_fail` it refuses the parts too (403), as a store that stops letting the build write.
fn fake_s3(parts_fail: bool) -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let log: Log = Arc::default();
    let log2 = log.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { return };
            let log = log2.clone();
            // reqwest keeps several connections open (parts are uploaded concurrently).
            std::thread::spawn(move || {
                let _ = serve(conn, &log, parts_fail);
            });
        }
    });
    (port, log)
}

/// Answers the requests of one connection until the client closes it.
fn serve(conn: TcpStream, log: &Log, parts_fail: bool) -> std::io::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(90)))?;
    let mut out = conn.try_clone()?;
    let mut r = BufReader::new(conn);
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or("").to_string());
        let mut length = 0usize;
        loop {
            let mut h = String::new();
            if r.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
        }
        std::io::copy(&mut (&mut r).take(length as u64), &mut std::io::sink())?;
        log.lock().unwrap().push((method.clone(), target.clone()));
        let (status, headers, body) = answer(&method, &target, parts_fail);
        write!(out, "HTTP/1.1 {status}\r\nContent-Length: {}\r\n{headers}\r\n", body.len())?;
        // A HEAD answer has no body, whatever its length says.
        if method != "HEAD" {
            out.write_all(body.as_bytes())?;
        }
        out.flush()?;
    }
}

/// The status line's tail, extra headers and body for a request.
fn answer(method: &str, target: &str, parts_fail: bool) -> (&'static str, String, String) {
    let query = target.split_once('?').map_or("", |(_, q)| q);
    match method {
        // No object there yet.
        "HEAD" | "GET" => ("404 Not Found", String::new(), String::new()),
        "POST" if query.split('&').any(|q| q == "uploads" || q == "uploads=") => (
            "200 OK",
            "Content-Type: application/xml\r\n".into(),
            format!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><InitiateMultipartUploadResult><Bucket>bucket</Bucket>\
                 <Key>t.sst</Key><UploadId>{UPLOAD_ID}</UploadId></InitiateMultipartUploadResult>"
            ),
        ),
        "PUT" if query.contains("partNumber=") && !parts_fail => {
            let n = query.split('&').find_map(|q| q.strip_prefix("partNumber=")).unwrap_or("0");
            ("200 OK", format!("ETag: \"etag-{n}\"\r\n"), String::new())
        }
        // The abort (and with `parts_fail` the part) is refused, and 403 is not retried.
        "DELETE" | "PUT" if query.contains("uploadId=") => (
            "403 Forbidden",
            "Content-Type: application/xml\r\n".into(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>Access Denied\
             </Message></Error>"
                .into(),
        ),
        _ => ("400 Bad Request", String::new(), String::new()),
    }
}

/// The build's stderr, its exit status, the requests the server saw and how long it took.
struct Run {
    status: Option<i32>,
    err: String,
    log: Vec<(String, String)>,
}

/// Builds `s3://bucket/dir/t.sst` from standard input against the fake server, without RUST_LOG, feeding
/// records until the server has seen a part; then sends SIGINT, or with `parts_fail` closes the input.
fn build_until_a_part(parts_fail: bool) -> Run {
    let started = Instant::now();
    let (port, log) = fake_s3(parts_fail);
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(["build", "-", "s3://bucket/dir/t.sst", "--input-format", "tsv"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k == "RUST_LOG" {
            c.env_remove(k);
        }
    }
    c.env("AWS_ENDPOINT", format!("http://127.0.0.1:{port}"))
        .env("AWS_ALLOW_HTTP", "true")
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false");
    let mut child = c.spawn().unwrap();
    let pid = child.id().to_string();
    // Never hang: whatever happens, the child is killed after a minute (the check below then fails the test).
    let (done, finished) = std::sync::mpsc::channel::<()>();
    let watched = pid.clone();
    let watchdog = std::thread::spawn(move || {
        if finished.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = Command::new("kill").args(["-KILL", &watched]).status();
        }
    });
    let mut stdin = child.stdin.take().unwrap();
    let uploaded = || log.lock().unwrap().iter().any(|(m, t)| m == "PUT" && t.contains("partNumber="));
    let mut i = 0u64;
    while !uploaded() {
        assert!(started.elapsed() < Duration::from_secs(50), "no part uploaded: {:?}", log.lock().unwrap());
        let chunk: String = (i..i + 5000).map(|j| format!("key{j:012}\t{j:0>100}\n")).collect();
        if stdin.write_all(chunk.as_bytes()).is_err() {
            break;
        }
        i += 5000;
    }
    if parts_fail {
        drop(stdin);
    } else {
        assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    }
    let mut err = String::new();
    child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
    let status = child.wait().unwrap();
    let _ = done.send(());
    watchdog.join().unwrap();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(60), "killed by the watchdog: {err}");
    let log = log.lock().unwrap().clone();
    eprintln!("stderr of the build:\n{err}\nrequests: {log:?}\ntook {took:?}");
    Run { status: status.code(), err, log }
}

/// The server saw the abort of the upload.
fn abort_tried(log: &[(String, String)]) -> bool {
    log.iter().any(|(m, t)| m == "DELETE" && t.starts_with("/bucket/dir/t.sst?") && t.contains(UPLOAD_ID))
}

#[test]
fn sigint_with_a_failing_abort_prints_the_upload_left_behind() {
    let Run { status, err, log } = build_until_a_part(false);
    assert_eq!(status, Some(130), "{err}");
    assert!(abort_tried(&log), "the abort was tried: {log:?}");
    // The warning comes without RUST_LOG and names the object, the upload left behind and how to abort it.
    let warning = err.lines().find(|l| l.contains("warning")).unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(warning.starts_with("sstkit: warning: cleaning up s3://bucket/dir/t.sst failed"), "{err}");
    assert!(warning.contains("an incomplete multipart upload (upload id upload-123) may be left"), "{err}");
    assert!(
        warning.contains("aws s3api abort-multipart-upload --bucket bucket --key dir/t.sst --upload-id upload-123"),
        "{err}"
    );
    assert!(warning.contains("403"), "the store's error: {err}");
    // The interrupt does not claim a clean removal.
    assert!(err.contains("interrupted by SIGINT; the partial output could not all be removed"), "{err}");
    assert!(!err.contains("removed the partial output"), "{err}");
}

#[test]
fn a_store_error_with_a_failing_abort_warns_without_rust_log() {
    let Run { status, err, log } = build_until_a_part(true);
    assert_eq!(status, Some(5), "an object-store error: {err}");
    assert!(abort_tried(&log), "the abort was tried: {log:?}");
    // The writer's own warning (tracing, default filter `warn`) names the path and, in the store's error, the id.
    let warning = err.lines().find(|l| l.contains("WARN")).unwrap_or_else(|| panic!("no warning: {err}"));
    assert!(warning.contains("an incomplete multipart upload may be left at the path"), "{err}");
    assert!(warning.contains("path=dir/t.sst"), "{err}");
    assert!(warning.contains("uploadId=upload-123"), "{err}");
}
