//! `sstkit clean`: finds what killed builds leave behind (incomplete S3 multipart uploads under a prefix,
//! temporary and staging files in a local directory) and, with `--apply`, removes it. Dry run by default.

use std::path::PathBuf;

use serde_json::json;

use super::target::{check_url, is_local, local_path};
use super::Ui;
use crate::error::{Error, Result};
use crate::file_writer::leftover_name;

/// Arguments of `clean`.
///
/// Without --apply nothing is changed: the command only lists. Run it when no build is writing under the
/// prefix: an upload or temporary file of a running build looks the same as a dead one's (a temporary file
/// whose process is still alive is skipped).
#[derive(Debug, clap::Args)]
pub(crate) struct CleanArgs {
    /// `s3://bucket/prefix`: incomplete multipart uploads whose keys start with the prefix; with --local-temp,
    /// a local directory (searched recursively).
    prefix: String,
    /// Abort the uploads / remove the files listed.
    #[arg(long)]
    apply: bool,
    /// Look for the temporary files (`.<name>.<pid>.<n>.tmp`) and staging files (`<name>#<n>`) of killed local
    /// builds instead of multipart uploads.
    #[arg(long)]
    local_temp: bool,
}

pub(crate) async fn clean(a: CleanArgs, ui: Ui) -> Result<i32> {
    if a.local_temp {
        if !is_local(&a.prefix) {
            return Err(Error::Invalid(format!("{}: --local-temp takes a local directory", a.prefix)));
        }
        return clean_local(&a, ui);
    }
    if is_local(&a.prefix) {
        return Err(Error::Invalid(format!(
            "{}: a local directory has no multipart uploads; use --local-temp for the temporary files of killed \
             local builds",
            a.prefix
        )));
    }
    if !a.prefix.starts_with("s3://") && !a.prefix.starts_with("s3a://") {
        return Err(Error::Invalid(format!(
            "{}: listing incomplete multipart uploads is implemented for S3 (s3://) only",
            a.prefix
        )));
    }
    check_url(&a.prefix, false, ui)?;
    clean_s3(&a, ui).await
}

#[cfg(feature = "aws")]
async fn clean_s3(a: &CleanArgs, ui: Ui) -> Result<i32> {
    let (s3, prefix) = crate::s3_uploads::S3Uploads::from_url(&a.prefix)?;
    let uploads = s3.list(&prefix).await?;
    for u in &uploads {
        if a.apply {
            s3.abort(u).await?;
        }
        let action = if a.apply { "aborted" } else { "found" };
        if ui.json {
            let o = json!({"kind": "upload", "key": u.key, "upload_id": u.upload_id, "initiated": u.initiated,
                           "action": action});
            println!("{o}");
        } else {
            println!("{action} incomplete upload of {} (upload id {}, started {})", u.key, u.upload_id, u.initiated);
        }
    }
    summary(uploads.len(), "incomplete multipart uploads", &a.prefix, a.apply, "abort", ui);
    Ok(super::exit::OK)
}

#[cfg(not(feature = "aws"))]
async fn clean_s3(a: &CleanArgs, _: Ui) -> Result<i32> {
    Err(Error::Invalid(format!("{}: sstkit was built without the `aws` feature", a.prefix)))
}

fn summary(n: usize, what: &str, prefix: &str, apply: bool, verb: &str, ui: Ui) {
    if ui.json {
        return;
    }
    match (n, apply) {
        (0, _) => println!("no {what} under {prefix}"),
        (n, true) => println!("{n} {what} under {prefix}: done"),
        (n, false) => println!("{n} {what} under {prefix}; run again with --apply to {verb} them"),
    }
}

/// Whether process `pid` is alive (Linux: its /proc entry exists; elsewhere assumed dead).
pub(crate) fn alive(pid: u32) -> bool {
    cfg!(target_os = "linux") && std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The leftover files (see [`leftover_name`]) under `root`, recursively, with the process id in the name of a
/// temporary file.
pub(crate) fn local_leftovers(root: &std::path::Path) -> Result<Vec<(PathBuf, Option<u32>)>> {
    let io = |p: &std::path::Path, e| Error::Io { context: p.display().to_string(), source: e };
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| io(&dir, e))?
            .collect::<std::io::Result<_>>()
            .map_err(|e| io(&dir, e))?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            let ft = e.file_type().map_err(|err| io(&path, err))?;
            if ft.is_dir() {
                dirs.push(path);
            } else if ft.is_file() {
                if let Some(pid) = leftover_name(&e.file_name().to_string_lossy()) {
                    out.push((path, pid));
                }
            }
        }
    }
    Ok(out)
}

fn clean_local(a: &CleanArgs, ui: Ui) -> Result<i32> {
    let root = local_path(&a.prefix);
    if !std::fs::metadata(&root).map_err(|e| Error::Io { context: a.prefix.clone(), source: e })?.is_dir() {
        return Err(Error::Invalid(format!("{}: not a directory", a.prefix)));
    }
    let mut found = 0usize;
    for (path, pid) in local_leftovers(&root)? {
        if let Some(pid) = pid.filter(|&p| alive(p) && p != std::process::id()) {
            if !ui.json {
                println!("skipped {} (its process {pid} is still running)", path.display());
            }
            continue;
        }
        found += 1;
        if a.apply {
            std::fs::remove_file(&path).map_err(|e| Error::Io { context: path.display().to_string(), source: e })?;
        }
        let action = if a.apply { "removed" } else { "found" };
        if ui.json {
            println!("{}", json!({"kind": "file", "path": path.display().to_string(), "action": action}));
        } else {
            println!("{action} leftover file {}", path.display());
        }
    }
    summary(found, "leftover temporary files", &a.prefix, a.apply, "remove", ui);
    Ok(super::exit::OK)
}
