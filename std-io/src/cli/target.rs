//! Where commands read and write: the checks made before any work (an object key in a URL, credentials in the
//! environment, an output that must not be replaced silently) and errors a person understands.

use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::{ObjectStore, ObjectStoreExt};

use super::Ui;
use crate::error::{Error, Result};
use crate::location::is_url;
use crate::manifest::in_output_set;
use crate::reader::{ReadOptions, SstReader};

/// True if `target` names a local file (a path or a `file://` URL).
pub(crate) fn is_local(target: &str) -> bool {
    !is_url(target) || target.starts_with("file://")
}

/// The local path of a path or `file://` URL.
pub(crate) fn local_path(target: &str) -> PathBuf {
    match url::Url::parse(target) {
        Ok(u) if u.scheme() == "file" => PathBuf::from(u.path()),
        _ => PathBuf::from(target),
    }
}

fn truthy(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| matches!(v.to_ascii_lowercase().as_str(), "1" | "true" | "on" | "yes" | "y"))
}

fn set(var: &str) -> bool {
    std::env::var_os(var).is_some_and(|v| !v.is_empty())
}

/// Checks an object-store URL before any request: it names an object (when `need_key`), plain HTTP is allowed
/// when the endpoint is `http://`, and credentials are configured (the metadata service is asked only with
/// `--instance-credentials`).
pub(crate) fn check_url(target: &str, need_key: bool, ui: Ui) -> Result<()> {
    if !is_url(target) || target.starts_with("file://") || target.starts_with("memory://") {
        return Ok(());
    }
    let url = url::Url::parse(target).map_err(|e| Error::Invalid(format!("{target}: not a valid URL: {e}")))?;
    let scheme = url.scheme().to_ascii_lowercase();
    if need_key && matches!(scheme.as_str(), "s3" | "s3a" | "gs" | "az" | "adl" | "azure" | "abfs" | "abfss") {
        let path = url.path();
        if path.is_empty() || path == "/" {
            return Err(Error::Invalid(format!(
                "{target}: no object key: name the object, as in {}://{}/table.sst",
                url.scheme(),
                url.host_str().unwrap_or("bucket")
            )));
        }
        if path.ends_with('/') {
            return Err(Error::Invalid(format!(
                "{target}: ends with '/', a directory, not an object: name the object, as in {target}table.sst"
            )));
        }
    }
    let no_metadata = |what: &str| {
        Error::Invalid(format!(
            "{target}: no {what} credentials in the environment: {}; or pass --instance-credentials to use the \
             cloud metadata service",
            match what {
                "AWS" =>
                    "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (AWS_SKIP_SIGNATURE=true for a public bucket)",
                "GCS" => "set GOOGLE_SERVICE_ACCOUNT (a service-account key file) or GOOGLE_APPLICATION_CREDENTIALS",
                _ =>
                    "set AZURE_STORAGE_ACCOUNT_NAME with AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY, \
                      or AZURE_CLIENT_ID/AZURE_CLIENT_SECRET/AZURE_TENANT_ID)",
            }
        ))
    };
    match scheme.as_str() {
        "s3" | "s3a" => {
            let endpoint = std::env::var("AWS_ENDPOINT").or_else(|_| std::env::var("AWS_ENDPOINT_URL")).ok();
            if let Some(ep) = endpoint.filter(|e| e.to_ascii_lowercase().starts_with("http://")) {
                if !truthy("AWS_ALLOW_HTTP") {
                    return Err(Error::Invalid(format!(
                        "{target}: the endpoint {ep} is plain HTTP, which is refused unless AWS_ALLOW_HTTP=true is set"
                    )));
                }
            }
            match (set("AWS_ACCESS_KEY_ID"), set("AWS_SECRET_ACCESS_KEY")) {
                (true, true) => return Ok(()),
                (true, false) => {
                    return Err(Error::Invalid(format!(
                        "{target}: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not"
                    )))
                }
                (false, true) => {
                    return Err(Error::Invalid(format!(
                        "{target}: AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not"
                    )))
                }
                (false, false) => {}
            }
            let other = truthy("AWS_SKIP_SIGNATURE")
                || set("AWS_WEB_IDENTITY_TOKEN_FILE")
                || set("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
                || set("AWS_CONTAINER_CREDENTIALS_FULL_URI")
                || set("AWS_METADATA_ENDPOINT");
            if other || ui.instance_credentials {
                Ok(())
            } else {
                Err(no_metadata("AWS"))
            }
        }
        "gs" => {
            let adc = std::env::var_os("HOME")
                .map(|h| Path::new(&h).join(".config/gcloud/application_default_credentials.json"))
                .is_some_and(|p| p.exists());
            let ok = set("GOOGLE_SERVICE_ACCOUNT")
                || set("GOOGLE_SERVICE_ACCOUNT_PATH")
                || set("GOOGLE_SERVICE_ACCOUNT_KEY")
                || set("GOOGLE_APPLICATION_CREDENTIALS")
                || truthy("GOOGLE_SKIP_SIGNATURE")
                || adc;
            if ok || ui.instance_credentials {
                Ok(())
            } else {
                Err(no_metadata("GCS"))
            }
        }
        "az" | "adl" | "azure" | "abfs" | "abfss" => {
            let ok = std::env::vars().any(|(k, v)| {
                !v.is_empty()
                    && k.starts_with("AZURE_")
                    && ["KEY", "SAS", "TOKEN", "SECRET", "EMULATOR", "SKIP_SIGNATURE", "USE_AZURE_CLI"]
                        .iter()
                        .any(|w| k.contains(w))
            });
            if ok || ui.instance_credentials {
                Ok(())
            } else {
                Err(no_metadata("Azure"))
            }
        }
        _ => Ok(()),
    }
}

fn not_found(file: &str, what: &str) -> Error {
    Error::Io { context: file.to_string(), source: std::io::Error::new(ErrorKind::NotFound, what.to_string()) }
}

/// Opens a table for reading, with errors that say what is wrong: no such file, a directory, an empty file.
/// A local file is kept open and read with positioned reads ([`SstReader::open_file`]).
pub(crate) async fn open_reader(file: &str, ui: Ui) -> Result<SstReader> {
    check_url(file, true, ui)?;
    let empty = || Error::Codec {
        context: file.to_string(),
        source: sstkit_core::Error::corrupt(
            sstkit_core::error::Part::Footer,
            0,
            "the file is empty (0 bytes), too short to be an SST file",
        ),
    };
    if is_local(file) {
        let p = local_path(file);
        let size = match std::fs::metadata(&p) {
            Err(e) if e.kind() == ErrorKind::NotFound => return Err(not_found(file, "no such file")),
            Err(e) => return Err(Error::Io { context: file.to_string(), source: e }),
            Ok(m) if m.is_dir() => return Err(Error::Invalid(format!("{file}: is a directory, not an SST file"))),
            Ok(m) => m.len(),
        };
        if size == 0 {
            return Err(empty());
        }
        // The size comes from the open file (the path could name another file by now).
        return SstReader::open_file(&p, ReadOptions::default()).await;
    }
    let (store, path) = crate::location::resolve(file)?;
    let size = match store.head(&path).await {
        Ok(m) => m.size,
        Err(object_store::Error::NotFound { .. }) => return Err(not_found(file, "no such object")),
        Err(e) => return Err(Error::Store { context: format!("{file}: HEAD"), source: e }),
    };
    if size == 0 {
        return Err(empty());
    }
    SstReader::open(store, path, ReadOptions { file_size: Some(size), ..ReadOptions::default() }).await
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::Metadata, _: &std::fs::Metadata) -> bool {
    false
}

/// Checks a local output file before any work and returns the path to write: refuses directories, devices
/// and other non-regular files, the input itself, an existing file (unless `force`) and a symbolic link
/// (unless `force`, which writes the file the link points to).
pub(crate) fn local_output(input: &str, output: &str, force: bool) -> Result<PathBuf> {
    let path = local_path(output);
    if output.ends_with('/') || output.ends_with(std::path::MAIN_SEPARATOR) {
        return Err(Error::Invalid(format!("{output}: ends with '/', a directory: name the output file")));
    }
    let mut target = path.clone();
    let io = |e: std::io::Error| Error::Io { context: output.to_string(), source: e };
    match std::fs::symlink_metadata(&path) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(path),
        Err(e) => return Err(io(e)),
        Ok(m) if m.file_type().is_symlink() => {
            let link = std::fs::read_link(&path).map_err(io)?;
            if !force {
                return Err(Error::Invalid(format!(
                    "{output}: is a symbolic link (to {}); use --force to write the table to the file it points to",
                    link.display()
                )));
            }
            target = match std::fs::canonicalize(&path) {
                Ok(t) => t,
                // A dangling link: its target is created.
                Err(_) => path.parent().unwrap_or(Path::new(".")).join(link),
            };
        }
        Ok(_) => {}
    }
    let m = match std::fs::metadata(&target) {
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(target),
        Err(e) => return Err(io(e)),
        Ok(m) => m,
    };
    if m.is_dir() {
        return Err(Error::Invalid(format!("{output}: is a directory; name the output file (or use --target-size)")));
    }
    if !m.is_file() {
        return Err(Error::Invalid(format!(
            "{output}: is not a regular file (a device, pipe or socket); sstkit writes tables only to regular files"
        )));
    }
    if input != "-" && std::fs::metadata(input).is_ok_and(|i| same_file(&i, &m)) {
        return Err(Error::Invalid(format!("{output}: is the input file; writing it would destroy the input")));
    }
    if !force && target == path {
        return Err(Error::Invalid(format!("{output}: exists; use --force to replace it")));
    }
    Ok(target)
}

/// Describes what is left of a rolling output set when nothing may be there.
fn not_empty(output: &str, found: &[String], foreign: Option<&String>) -> Error {
    match foreign {
        Some(f) => Error::Invalid(format!(
            "{output}: holds {f}, which is not part of an sstkit output set; remove it yourself or choose another \
             directory"
        )),
        None => Error::Invalid(format!(
            "{output}: is not empty ({} files of an earlier build, e.g. {}); use --force to remove them first (or \
             --resume to continue a build that was killed)",
            found.len(),
            found.first().map_or("", String::as_str)
        )),
    }
}

/// Readies a local directory for a rolling build: it must be empty, or with `force` hold only an earlier
/// output set, which is removed. Returns the directories it created (to remove if the build fails).
pub(crate) fn local_rolling_dir(output: &str, force: bool) -> Result<Vec<PathBuf>> {
    let dir = local_path(output);
    let io = |e: std::io::Error| Error::Io { context: output.to_string(), source: e };
    match std::fs::symlink_metadata(&dir) {
        Err(e) if e.kind() == ErrorKind::NotFound => return create_dirs(&dir),
        Err(e) => return Err(io(e)),
        Ok(m) if m.is_dir() => {}
        Ok(m) if m.file_type().is_symlink() && std::fs::metadata(&dir).is_ok_and(|t| t.is_dir()) => {}
        Ok(_) => {
            return Err(Error::Invalid(format!(
                "{output}: exists and is not a directory (--target-size writes a directory)"
            )))
        }
    }
    let (mut set, mut foreign) = (Vec::new(), None);
    for e in std::fs::read_dir(&dir).map_err(io)? {
        let e = e.map_err(io)?;
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().map_err(io)?.is_dir() {
            let mut any = false;
            for f in std::fs::read_dir(e.path()).map_err(io)? {
                let f = f.map_err(io)?;
                let fname = f.file_name().to_string_lossy().into_owned();
                any = true;
                if in_output_set(&[&name, &fname]) && f.file_type().map_err(io)?.is_file() {
                    set.push(f.path());
                } else {
                    foreign.get_or_insert(format!("{name}/{fname}"));
                }
            }
            if !any && !name.bytes().all(|b| b.is_ascii_digit()) {
                foreign.get_or_insert(format!("{name}/"));
            }
        } else if in_output_set(&[&name]) {
            set.push(e.path());
        } else {
            foreign.get_or_insert(name);
        }
    }
    let shown: Vec<String> = set.iter().map(|p| p.display().to_string()).collect();
    if foreign.is_some() || (!set.is_empty() && !force) {
        return Err(not_empty(output, &shown, foreign.as_ref()));
    }
    for f in &set {
        std::fs::remove_file(f).map_err(|e| Error::Io { context: format!("{}: removing", f.display()), source: e })?;
        if let Some(level) = f.parent().filter(|p| *p != dir) {
            let _ = std::fs::remove_dir(level);
        }
    }
    Ok(Vec::new())
}

/// Creates `dir` and its missing parents; returns the ones created, deepest first.
pub(crate) fn create_dirs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut d = Some(dir);
    while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
        missing.push(p.to_path_buf());
        d = p.parent();
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| Error::Io { context: format!("{}: creating the directory", dir.display()), source: e })?;
    Ok(missing)
}

/// Removes the directories [`create_dirs`] made, if they are empty.
pub(crate) fn remove_dirs(dirs: &[PathBuf]) {
    for d in dirs {
        let _ = std::fs::remove_dir(d);
    }
}

/// Readies an object-store prefix for a rolling build, like [`local_rolling_dir`].
pub(crate) async fn store_rolling_prefix(
    output: &str,
    store: &Arc<dyn ObjectStore>,
    prefix: &object_store::path::Path,
    force: bool,
) -> Result<()> {
    let listed: Vec<object_store::ObjectMeta> = store
        .list(Some(prefix))
        .try_collect()
        .await
        .map_err(|e| Error::Store { context: format!("{output}: listing"), source: e })?;
    let (mut set, mut foreign) = (Vec::new(), None);
    for m in listed {
        let parts: Vec<String> = match m.location.prefix_match(prefix) {
            Some(p) => p.map(|p| p.as_ref().to_string()).collect(),
            None => continue,
        };
        let refs: Vec<&str> = parts.iter().map(String::as_str).collect();
        if in_output_set(&refs) {
            set.push(m.location);
        } else {
            foreign.get_or_insert(m.location.to_string());
        }
    }
    let shown: Vec<String> = set.iter().map(|p| p.to_string()).collect();
    if foreign.is_some() || (!set.is_empty() && !force) {
        return Err(not_empty(output, &shown, foreign.as_ref()));
    }
    for p in set {
        store.delete(&p).await.map_err(|e| Error::Store { context: format!("{p}: deleting"), source: e })?;
    }
    Ok(())
}
