//! A real `sstkit build --target-size` killed with SIGKILL half-way, then `--resume`d, on a local directory and
//! on the loopback S3 server (moto): the files hold exactly the entries of a clean run. And `sstkit clean`
//! finds and removes what killed builds leave: an incomplete multipart upload on S3, a temporary file on disk.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use object_store::{ObjectStore, ObjectStoreExt};

fn err_of(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sstkit(args: &[&str], env: &[(&str, String)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run sstkit")
}

fn ok(args: &[&str], env: &[(&str, String)]) -> String {
    let o = sstkit(args, env);
    assert!(o.status.success(), "sstkit {args:?}: {}", err_of(&o));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// A sorted TSV of `n` puts (every seventh a delete), then range deletions listed after later points (over
/// half of the keys, and one past the end).
fn write_input(dir: &Path, n: u64) -> String {
    let mut s = String::new();
    for i in 0..n {
        if i % 7 == 3 {
            s.push_str(&format!("key{i:08}\t\tdelete\n"));
        } else {
            s.push_str(&format!("key{i:08}\t{:016x}{}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15), "v".repeat(50)));
        }
    }
    s.push_str(&format!("key{:08}\tkey{:08}\tdelete_range\n", 500, n / 2));
    s.push_str(&format!("key{:08}\tkey{:08}\tdelete_range\n", n - 10, n + 100));
    let p = dir.join("in.tsv");
    std::fs::write(&p, s).unwrap();
    p.to_str().unwrap().to_string()
}

/// The number of files a manifest lists.
fn listed(manifest: &[u8]) -> usize {
    String::from_utf8_lossy(manifest).lines().filter(|l| l.starts_with("file ")).count()
}

/// Starts `sstkit args`, waits until `ready` (the build is under way), then SIGKILLs it.
fn kill_when(args: &[&str], env: &[(&str, String)], ready: &dyn Fn() -> bool) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(args).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child: Child = c.spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !ready() {
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the build ended ({status}) before it could be killed");
        }
        assert!(Instant::now() < deadline, "the build never got under way");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
}

/// Every table of a rolling output set, by name (`<level>/<id>.sst`), read back: entries and tombstones.
type SetContents = Vec<(String, Vec<sstkit_tests::ToolEntry>, Vec<sstkit_tests::OurTombstone>)>;

fn contents(files: Vec<(String, Vec<u8>)>) -> SetContents {
    let mut out: SetContents = files
        .into_iter()
        .map(|(name, bytes)| {
            let t = sstkit_tests::read_table(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
            (name, t.entries, t.tombstones)
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn local_set(dir: &Path) -> SetContents {
    let mut files = Vec::new();
    for e in std::fs::read_dir(dir.join("0")).unwrap() {
        let e = e.unwrap();
        files.push((format!("0/{}", e.file_name().to_string_lossy()), std::fs::read(e.path()).unwrap()));
    }
    contents(files)
}

fn names(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for e in walk(dir) {
        v.push(e.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
    }
    v.sort();
    v
}

fn walk(d: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(d).unwrap().flatten() {
        if e.path().is_dir() {
            out.extend(walk(&e.path()));
        } else {
            out.push(e.path());
        }
    }
    out
}

#[test]
fn a_sigkilled_local_build_resumes_to_the_files_of_a_clean_run() {
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 60_000);
    let clean = dir.path().join("clean");
    ok(&["build", &input, clean.to_str().unwrap(), "--target-size", "64K", "-q"], &[]);
    let want = local_set(&clean);
    assert!(want.len() > 20, "{} files", want.len());

    let out = dir.path().join("out");
    let o = out.to_str().unwrap();
    let manifest = out.join("sstkit.manifest");
    kill_when(&["build", &input, o, "--target-size", "64K", "-q"], &[], &|| {
        std::fs::read(&manifest).is_ok_and(|m| listed(&m) >= 8)
    });
    let m = std::fs::read(&manifest).unwrap();
    assert!(String::from_utf8_lossy(&m).contains("complete 0"), "killed before the end");
    // Without --resume the directory is refused, with a hint.
    let again = sstkit(&["build", &input, o, "--target-size", "64K", "-q"], &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(err_of(&again).contains("--resume"), "{}", err_of(&again));

    ok(&["build", &input, o, "--target-size", "64K", "-q", "--resume"], &[]);
    assert!(local_set(&out) == want, "the resumed files differ from a clean run's");
    let mut expect: Vec<String> = want.iter().map(|(n, _, _)| n.clone()).collect();
    expect.push("sstkit.manifest".into());
    expect.sort();
    assert_eq!(names(&out), expect, "nothing else is left");

    // Resuming with other options or another input is an error that changes nothing.
    let other = sstkit(&["build", &input, o, "--target-size", "128K", "-q", "--resume"], &[]);
    assert_eq!(other.status.code(), Some(2));
    assert!(err_of(&other).contains("other options"), "{}", err_of(&other));
    let moved = dir.path().join("copy.tsv");
    std::fs::copy(&input, &moved).unwrap();
    let other = sstkit(&["build", moved.to_str().unwrap(), o, "--target-size", "64K", "-q", "--resume"], &[]);
    assert_eq!(other.status.code(), Some(2));
    assert!(err_of(&other).contains("another input"), "{}", err_of(&other));
    let stdin = sstkit(&["build", "-", o, "--target-size", "64K", "--resume"], &[]);
    assert!(err_of(&stdin).contains("standard input"), "{}", err_of(&stdin));
    assert!(local_set(&out) == want);
}

fn s3_set(store: &dyn ObjectStore, prefix: &str) -> (SetContents, Vec<String>) {
    let rt = support::runtime();
    let paths = rt.block_on(support::list_paths(store, Some(&prefix.into())));
    let mut files = Vec::new();
    let mut all = Vec::new();
    for p in paths {
        let rel = p.as_ref().strip_prefix(&format!("{prefix}/")).unwrap().to_string();
        all.push(rel.clone());
        if rel.ends_with(".sst") {
            files.push((rel, rt.block_on(support::read_object(store, &p))));
        }
    }
    all.sort();
    (contents(files), all)
}

#[test]
fn a_sigkilled_s3_build_resumes_to_the_files_of_a_clean_run() {
    let Some((server, store)) = support::moto_store() else { return };
    let env = server.cli_env();
    let dir = tempfile::tempdir().unwrap();
    let input = write_input(dir.path(), 30_000);
    let bucket = support::MOTO_BUCKET;
    ok(&["build", &input, &format!("s3://{bucket}/clean"), "--target-size", "64K", "-q"], &env);
    let (want, _) = s3_set(&*store, "clean");
    assert!(want.len() > 10, "{} files", want.len());

    let url = format!("s3://{bucket}/out");
    let manifest = object_store::path::Path::from("out/sstkit.manifest");
    let rt = support::runtime();
    kill_when(&["build", &input, &url, "--target-size", "64K", "-q"], &env, &|| {
        rt.block_on(async { store.get(&manifest).await.ok()?.bytes().await.ok() }).is_some_and(|m| listed(&m) >= 4)
    });
    // An incomplete multipart upload under the prefix, as a kill during a large file leaves: resume aborts it.
    rt.block_on(async {
        let mut up = store.put_multipart(&object_store::path::Path::from("out/0/000999.sst")).await.unwrap();
        up.put_part(vec![7u8; 1000].into()).await.unwrap();
    });
    let uploads = sstkit_uploads(&env, &url);
    assert_eq!(rt.block_on(uploads.0.list(&uploads.1)).unwrap().len(), 1);
    ok(&["build", &input, &url, "--target-size", "64K", "-q", "--resume"], &env);
    assert!(rt.block_on(uploads.0.list(&uploads.1)).unwrap().is_empty(), "resume aborted the upload");
    let (got, all) = s3_set(&*store, "out");
    assert!(got == want, "the resumed files differ from a clean run's");
    let mut expect: Vec<String> = want.iter().map(|(n, _, _)| n.clone()).collect();
    expect.push("sstkit.manifest".into());
    expect.sort();
    assert_eq!(all, expect, "nothing else is left");
}

/// The library's upload listing for `url`, configured from the same variables as the binary.
fn sstkit_uploads(env: &[(&str, String)], url: &str) -> (sstkit::s3_uploads::S3Uploads, String) {
    // Tests run in parallel, each with its own server: set and read the variables under one lock.
    static ENV: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _held = ENV.lock().unwrap_or_else(|e| e.into_inner());
    for (k, v) in env {
        std::env::set_var(k, v);
    }
    sstkit::s3_uploads::S3Uploads::from_url(url).unwrap()
}

/// Feeds `sstkit build - OUTPUT` TSV lines on standard input until `ready`, then SIGKILLs it.
fn kill_fed_build(output: &str, env: &[(&str, String)], ready: &dyn Fn() -> bool) {
    use std::io::Write;
    let mut c = Command::new(env!("CARGO_BIN_EXE_sstkit"));
    c.args(["build", "-", output, "--input-format", "tsv", "-q"]).stdin(Stdio::piped()).stderr(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut i = 0u64;
    while !ready() {
        assert!(Instant::now() < deadline, "the build never got under way");
        let chunk: String = (i..i + 5000).map(|j| format!("key{j:012}\t{j:0>100}\n")).collect();
        stdin.write_all(chunk.as_bytes()).unwrap();
        i += 5000;
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(stdin);
}

#[test]
fn clean_lists_and_aborts_the_upload_of_a_sigkilled_s3_build() {
    let Some((server, store)) = support::moto_store() else { return };
    let env = server.cli_env();
    let bucket = support::MOTO_BUCKET;
    let prefix = format!("s3://{bucket}/killed/");
    let (s3, key_prefix) = sstkit_uploads(&env, &prefix);
    let rt = support::runtime();
    let open = || rt.block_on(s3.list(&key_prefix)).unwrap();
    assert!(open().is_empty());
    kill_fed_build(&format!("s3://{bucket}/killed/t.sst"), &env, &|| !open().is_empty());
    let left = open();
    assert_eq!(left.len(), 1, "the killed build left its multipart upload");
    assert_eq!(left[0].key, "killed/t.sst");

    // Dry run: listed, nothing changed.
    let text = ok(&["clean", &prefix], &env);
    assert!(text.contains("found incomplete upload of killed/t.sst") && text.contains(&left[0].upload_id), "{text}");
    assert!(text.contains("--apply"), "{text}");
    let json = ok(&["clean", &prefix, "--json"], &env);
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    assert_eq!((v["key"].as_str(), v["action"].as_str()), (Some("killed/t.sst"), Some("found")));
    assert_eq!(open().len(), 1);
    // Another prefix does not see it.
    assert!(ok(&["clean", &format!("s3://{bucket}/other/")], &env).contains("no incomplete"));

    let text = ok(&["clean", &prefix, "--apply"], &env);
    assert!(text.contains("aborted incomplete upload of killed/t.sst"), "{text}");
    assert!(open().is_empty(), "the upload is aborted");
    assert!(ok(&["clean", &prefix], &env).contains("no incomplete multipart uploads"));
    assert!(rt.block_on(support::list_paths(&*store, None)).is_empty(), "no object appeared");

    // Stores without an upload listing, and local paths without --local-temp, are refused.
    let gs = sstkit(&["clean", "gs://b/p"], &env);
    assert!(err_of(&gs).contains("S3"), "{}", err_of(&gs));
    let local = sstkit(&["clean", "/tmp"], &env);
    assert!(err_of(&local).contains("--local-temp"), "{}", err_of(&local));
}

#[test]
fn clean_local_temp_removes_the_temporary_file_of_a_sigkilled_build() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    std::fs::write(d.join("keep.sst"), b"not ours").unwrap();
    let out = d.join("sub").join("t.sst");
    std::fs::create_dir(d.join("sub")).unwrap();
    kill_fed_build(out.to_str().unwrap(), &[], &|| {
        walk(&d).iter().any(|p| p.metadata().map(|m| m.len() > 2 << 20).unwrap_or(false))
    });
    let temps: Vec<String> = names(&d).into_iter().filter(|n| n.ends_with(".tmp")).collect();
    assert_eq!(temps.len(), 1, "{:?}", names(&d));
    let dstr = d.to_str().unwrap();
    let text = ok(&["clean", dstr, "--local-temp"], &[]);
    assert!(text.contains("found leftover file") && text.contains(&temps[0]), "{text}");
    assert_eq!(names(&d).len(), 2, "a dry run removes nothing");
    let text = ok(&["clean", dstr, "--local-temp", "--apply"], &[]);
    assert!(text.contains("removed leftover file"), "{text}");
    assert_eq!(names(&d), vec!["keep.sst".to_string()]);
    assert!(ok(&["clean", dstr, "--local-temp"], &[]).contains("no leftover"));
}
