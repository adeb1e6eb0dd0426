//! Incomplete S3 multipart uploads under a prefix: listed with `ListMultipartUploads` and aborted, for the
//! parts a killed process left behind (S3 keeps and bills them until they are aborted; listings of objects
//! do not show them).
//!
//! `object_store` can abort an upload by id ([`MultipartStore`]) but cannot list them, so the listing request
//! is signed here with object_store's own SigV4 signer ([`AwsAuthorizer`]) and the credentials the store
//! resolved, and sent with reqwest. Configuration comes from the environment, as for `s3://` URLs elsewhere
//! (`AWS_ENDPOINT`, `AWS_REGION`, `AWS_ACCESS_KEY_ID`, ...).

use object_store::aws::{AmazonS3, AmazonS3Builder, AmazonS3ConfigKey, AwsAuthorizer};
use object_store::client::HttpRequest;
use object_store::multipart::MultipartStore;
use object_store::path::Path;

use crate::error::{Error, Result};

/// One incomplete multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PendingUpload {
    /// The object key it would create.
    pub key: String,
    /// The upload id.
    pub upload_id: String,
    /// When it was started, as S3 reports it (ISO 8601).
    pub initiated: String,
}

/// The multipart uploads of one S3 bucket.
#[derive(Debug)]
pub struct S3Uploads {
    store: AmazonS3,
    /// `https://host/bucket` (path style) or `https://bucket.host` (virtual-hosted style), no trailing `/`.
    bucket_url: String,
    region: String,
    http: reqwest::Client,
}

/// Largest number of listing pages followed (1000 uploads each).
const MAX_PAGES: usize = 10_000;

impl S3Uploads {
    /// The bucket of an `s3://bucket/prefix` URL, configured from the environment; returns the key prefix too.
    pub fn from_url(url: &str) -> Result<(Self, String)> {
        crate::location::install_tls_provider();
        let bad = |e: object_store::Error| Error::Store { context: format!("{url}: cannot open the store"), source: e };
        let builder = AmazonS3Builder::from_env().with_url(url);
        let store = builder.clone().build().map_err(bad)?;
        let parsed = url::Url::parse(url).map_err(|e| Error::Invalid(format!("{url}: not a valid URL: {e}")))?;
        let prefix = parsed.path().trim_start_matches('/').to_string();
        // `with_url` is applied at `build`; the bucket is the URL's host (`s3://bucket/...`).
        let bucket = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::Invalid(format!("{url}: no bucket")))?;
        let region = builder.get_config_value(&AmazonS3ConfigKey::Region).unwrap_or_else(|| "us-east-1".into());
        let virtual_hosted = builder
            .get_config_value(&AmazonS3ConfigKey::VirtualHostedStyleRequest)
            .is_some_and(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1"));
        let bucket_url = match builder.get_config_value(&AmazonS3ConfigKey::Endpoint) {
            Some(ep) if virtual_hosted => ep.trim_end_matches('/').to_string(),
            Some(ep) => format!("{}/{bucket}", ep.trim_end_matches('/')),
            None if virtual_hosted => format!("https://{bucket}.s3.{region}.amazonaws.com"),
            None => format!("https://s3.{region}.amazonaws.com/{bucket}"),
        };
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| Error::Invalid(format!("{url}: cannot build the HTTP client: {e}")))?;
        Ok((S3Uploads { store, bucket_url, region, http }, prefix))
    }

    /// The incomplete uploads whose keys start with `prefix` (a plain string prefix, as S3 compares them).
    pub async fn list(&self, prefix: &str) -> Result<Vec<PendingUpload>> {
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (String::new(), String::new());
        for _ in 0..MAX_PAGES {
            let mut url = url::Url::parse(&format!("{}/", self.bucket_url))
                .map_err(|e| Error::Invalid(format!("{}: bad bucket URL: {e}", self.bucket_url)))?;
            {
                let mut q = url.query_pairs_mut();
                q.append_key_only("uploads");
                q.append_pair("prefix", prefix);
                if !key_marker.is_empty() {
                    q.append_pair("key-marker", &key_marker);
                    q.append_pair("upload-id-marker", &id_marker);
                }
            }
            let body = self.get_signed(url.as_str()).await?;
            let page = parse_list(&body)
                .map_err(|e| Error::Invalid(format!("{}: ListMultipartUploads: {e}", self.bucket_url)))?;
            out.extend(page.uploads);
            match page.next {
                Some((k, i)) if (k.as_str(), i.as_str()) != (key_marker.as_str(), id_marker.as_str()) => {
                    (key_marker, id_marker) = (k, i);
                }
                Some(_) => {
                    return Err(Error::Invalid(format!("{}: the upload listing does not advance", self.bucket_url)))
                }
                None => return Ok(out),
            }
        }
        Err(Error::Invalid(format!("{}: more than {MAX_PAGES} pages of uploads", self.bucket_url)))
    }

    async fn get_signed(&self, url: &str) -> Result<String> {
        let fail = |what: String| Error::Invalid(format!("ListMultipartUploads {url}: {what}"));
        let cred = self
            .store
            .credentials()
            .get_credential()
            .await
            .map_err(|e| Error::Store { context: "AWS credentials".into(), source: e })?;
        let mut req: HttpRequest = http::Request::builder()
            .method(http::Method::GET)
            .uri(url)
            .body(Vec::<u8>::new().into())
            .map_err(|e| fail(e.to_string()))?;
        AwsAuthorizer::new(&cred, "s3", &self.region)
            .try_authorize(&mut req, None)
            .map_err(|e| Error::Store { context: format!("signing {url}"), source: e })?;
        let resp = self.http.get(url).headers(req.headers().clone()).send().await.map_err(|e| fail(e.to_string()))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| fail(e.to_string()))?;
        if !status.is_success() {
            return Err(fail(format!("HTTP {status}: {}", text.chars().take(300).collect::<String>())));
        }
        Ok(text)
    }

    /// Aborts one upload (its parts are deleted; no object appears).
    pub async fn abort(&self, u: &PendingUpload) -> Result<()> {
        let path = Path::parse(&u.key).map_err(|e| Error::Invalid(format!("{}: bad key: {e}", u.key)))?;
        self.store
            .abort_multipart(&path, &u.upload_id)
            .await
            .map_err(|e| Error::Store { context: format!("{}: aborting upload {}", u.key, u.upload_id), source: e })
    }
}

/// One page of a `ListMultipartUploadsResult`.
struct Page {
    uploads: Vec<PendingUpload>,
    /// The markers of the next page, when the listing is truncated.
    next: Option<(String, String)>,
}

/// The text of each `<tag>...</tag>` in `xml`, in order (no nesting of the same tag).
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = rest.find(&open) {
        let after = &rest[i + open.len()..];
        let Some(j) = after.find(&close) else { break };
        out.push(&after[..j]);
        rest = &after[j + close.len()..];
    }
    out
}

fn unescape(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let j = after.find(';').ok_or_else(|| format!("bad XML entity in {s:?}"))?;
        let ent = &after[..j];
        let c = match ent {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let n = match ent.strip_prefix("#x") {
                    Some(h) => u32::from_str_radix(h, 16).ok(),
                    None => ent.strip_prefix('#').and_then(|d| d.parse().ok()),
                };
                n.and_then(char::from_u32).ok_or_else(|| format!("bad XML entity &{ent};"))?
            }
        };
        out.push(c);
        rest = &after[j + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

fn parse_list(xml: &str) -> Result<Page, String> {
    if !xml.contains("ListMultipartUploadsResult") {
        return Err(format!("not a ListMultipartUploadsResult: {}", xml.chars().take(200).collect::<String>()));
    }
    let one = |x: &str, tag: &str| elements(x, tag).first().map(|v| unescape(v)).transpose();
    let mut uploads = Vec::new();
    for u in elements(xml, "Upload") {
        uploads.push(PendingUpload {
            key: one(u, "Key")?.ok_or("an upload without a key")?,
            upload_id: one(u, "UploadId")?.ok_or("an upload without an id")?,
            initiated: one(u, "Initiated")?.unwrap_or_default(),
        });
    }
    // A value we do not know must not quietly end the listing (uploads would go unlisted).
    let truncated = match one(xml, "IsTruncated")?.as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => return Err(format!("IsTruncated is {other:?}, not true or false")),
    };
    let next = if truncated {
        let k = one(xml, "NextKeyMarker")?.unwrap_or_default();
        let i = one(xml, "NextUploadIdMarker")?.unwrap_or_default();
        Some((k, i))
    } else {
        None
    };
    Ok(Page { uploads, next })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_pages_parse() {
        let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker>
  <NextKeyMarker>out/a&amp;b.sst</NextKeyMarker><NextUploadIdMarker>id-2</NextUploadIdMarker>
  <MaxUploads>1000</MaxUploads><IsTruncated>true</IsTruncated>
  <Upload><Key>out/0/000001.sst</Key><UploadId>id-1</UploadId><Initiated>2026-01-01T00:00:00.000Z</Initiated></Upload>
  <Upload><Key>out/a&amp;b.sst</Key><UploadId>id-2</UploadId><Initiated>x</Initiated></Upload>
</ListMultipartUploadsResult>"#;
        let p = parse_list(xml).unwrap();
        assert_eq!(p.uploads.len(), 2);
        assert_eq!(p.uploads[1].key, "out/a&b.sst");
        assert_eq!(p.next, Some(("out/a&b.sst".into(), "id-2".into())));
        let last =
            parse_list("<ListMultipartUploadsResult><IsTruncated>false</IsTruncated></ListMultipartUploadsResult>")
                .unwrap();
        assert!(last.uploads.is_empty() && last.next.is_none());
        let odd =
            parse_list("<ListMultipartUploadsResult><IsTruncated>TRUE</IsTruncated></ListMultipartUploadsResult>");
        assert!(odd.err().is_some_and(|e| e.contains("IsTruncated")));
        assert!(parse_list("<Error><Code>AccessDenied</Code></Error>").is_err());
        assert_eq!(unescape("a&#65;&#x42;&lt;").unwrap(), "aAB<");
        assert!(unescape("a&bogus;").is_err());
    }
}
