//! Where a table lives: a local path or an object-store URL, resolved to a store and a path in it.

use std::sync::Arc;

use object_store::path::Path;
use object_store::ObjectStore;

use crate::error::{Error, Result};

/// True if `target` is a URL (`scheme://...`) rather than a local path.
pub fn is_url(target: &str) -> bool {
    target
        .split_once("://")
        .is_some_and(|(scheme, _)| !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric() || c == '+'))
}

/// Resolves `target` to a store and a path: local paths and `file://` URLs use the local file system,
/// `memory://` an in-memory store, `s3://` / `gs://` / `az://` (and the other forms object_store parses) the
/// cloud stores, configured from the usual environment variables (`AWS_ENDPOINT`, `AWS_ACCESS_KEY_ID`,
/// `AWS_ALLOW_HTTP`, `GOOGLE_SERVICE_ACCOUNT`, `AZURE_STORAGE_ACCOUNT_NAME`, ...).
pub fn resolve(target: &str) -> Result<(Arc<dyn ObjectStore>, Path)> {
    if !is_url(target) {
        return local(std::path::Path::new(target));
    }
    let url = url::Url::parse(target).map_err(|e| Error::Invalid(format!("{target}: not a valid URL: {e}")))?;
    #[cfg(feature = "cloud")]
    let bad = |e: object_store::Error| Error::Store { context: format!("{target}: cannot open the store"), source: e };
    let (scheme, path) = object_store::ObjectStoreScheme::parse(&url)
        .map_err(|e| Error::Invalid(format!("{target}: unsupported object store URL: {e}")))?;
    let path = Path::parse(path).map_err(|e| Error::Invalid(format!("{target}: bad object path: {e}")))?;
    let store: Arc<dyn ObjectStore> = match scheme {
        object_store::ObjectStoreScheme::Local => return local(std::path::Path::new(url.path())),
        object_store::ObjectStoreScheme::Memory => Arc::new(object_store::memory::InMemory::new()),
        object_store::ObjectStoreScheme::AmazonS3 => {
            #[cfg(feature = "aws")]
            {
                install_tls_provider();
                Arc::new(object_store::aws::AmazonS3Builder::from_env().with_url(target).build().map_err(bad)?)
            }
            #[cfg(not(feature = "aws"))]
            return Err(missing(target, "aws"));
        }
        object_store::ObjectStoreScheme::GoogleCloudStorage => {
            #[cfg(feature = "gcp")]
            {
                install_tls_provider();
                Arc::new(
                    object_store::gcp::GoogleCloudStorageBuilder::from_env().with_url(target).build().map_err(bad)?,
                )
            }
            #[cfg(not(feature = "gcp"))]
            return Err(missing(target, "gcp"));
        }
        object_store::ObjectStoreScheme::MicrosoftAzure => {
            #[cfg(feature = "azure")]
            {
                install_tls_provider();
                Arc::new(object_store::azure::MicrosoftAzureBuilder::from_env().with_url(target).build().map_err(bad)?)
            }
            #[cfg(not(feature = "azure"))]
            return Err(missing(target, "azure"));
        }
        object_store::ObjectStoreScheme::Http => {
            #[cfg(feature = "http")]
            {
                install_tls_provider();
                let base = &url[..url::Position::BeforePath];
                Arc::new(object_store::http::HttpBuilder::new().with_url(base).build().map_err(bad)?)
            }
            #[cfg(not(feature = "http"))]
            return Err(missing(target, "http"));
        }
        other => return Err(Error::Invalid(format!("{target}: unsupported store scheme {other:?}"))),
    };
    Ok((store, path))
}

/// Makes rustls's ring provider the process default, once, unless one was installed already: the cloud
/// backends' HTTP client is built without a provider of its own (the default one, aws-lc-rs, needs a C
/// compiler). Call it before building an object_store cloud client yourself.
#[cfg(feature = "cloud")]
pub fn install_tls_provider() {
    // Err means a provider is installed already, which is as good.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The error for a URL whose backend was left out of the build.
#[cfg(not(all(feature = "aws", feature = "gcp", feature = "azure", feature = "http")))]
fn missing(target: &str, feature: &str) -> Error {
    Error::Invalid(format!("{target}: sstkit was built without the `{feature}` feature"))
}

/// A local file as a store rooted at its directory (created if missing) and the file name in it.
fn local(path: &std::path::Path) -> Result<(Arc<dyn ObjectStore>, Path)> {
    let name = path
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| Error::Invalid(format!("{}: not a file path", path.display())))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let store = object_store::local::LocalFileSystem::new_with_prefix(&dir)
        .map_err(|e| Error::Store { context: format!("{}: cannot open directory", dir.display()), source: e })?;
    let file = Path::parse(name).map_err(|e| Error::Invalid(format!("{}: bad file name: {e}", path.display())))?;
    Ok((Arc::new(store), file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert!(is_url("s3://bucket/key.sst"));
        assert!(is_url("file:///tmp/x.sst"));
        assert!(!is_url("out/x.sst"));
        assert!(!is_url("/abs/x.sst"));
        let (_, p) = resolve("memory:///a/b.sst").unwrap();
        assert_eq!(p.as_ref(), "a/b.sst");
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("t.sst");
        let (_, p) = resolve(f.to_str().unwrap()).unwrap();
        assert_eq!(p.as_ref(), "t.sst");
    }

    #[cfg(feature = "aws")]
    #[test]
    fn s3_urls_build_a_client() {
        let (_, p) = resolve("s3://bucket/dir/t.sst").unwrap();
        assert_eq!(p.as_ref(), "dir/t.sst");
    }

    #[cfg(not(feature = "aws"))]
    #[test]
    fn s3_urls_name_the_missing_feature() {
        let e = resolve("s3://bucket/t.sst").expect_err("no aws backend");
        assert!(e.to_string().contains("built without the `aws` feature"), "{e}");
    }
}
