//! [`CountingStore`]: an `ObjectStore` wrapper counting the calls that reach the store below it (GETs, ranged
//! GETs, bytes fetched, HEADs, PUTs, multipart parts, lists, deletes), for tests and benchmarks that assert or
//! report request counts.

use std::fmt;
use std::ops::Range;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::stream::BoxStream;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, UploadPart,
};

/// What a [`CountingStore`] counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Counts {
    /// GET requests (whole or ranged; HEADs not included).
    pub gets: u64,
    /// Ranged GET requests (included in `gets`).
    pub ranged_gets: u64,
    /// Bytes the GETs asked for (the returned ranges' lengths).
    pub bytes_fetched: u64,
    /// HEAD requests.
    pub heads: u64,
    /// Single PUTs.
    pub puts: u64,
    /// Bytes in single PUTs.
    pub put_bytes: u64,
    /// Multipart uploads started.
    pub multipart_starts: u64,
    /// Parts sent.
    pub parts: u64,
    /// Size of each part, in the order sent.
    pub part_sizes: Vec<usize>,
    /// Multipart completions.
    pub completes: u64,
    /// Multipart aborts.
    pub aborts: u64,
    /// List calls (any kind).
    pub lists: u64,
    /// Deleted paths.
    pub deletes: u64,
}

impl Counts {
    /// Bytes sent in parts.
    pub fn part_bytes(&self) -> u64 {
        self.part_sizes.iter().map(|&s| s as u64).sum()
    }

    /// Requests sent: HEADs, GETs, PUTs, multipart starts, parts and completions.
    pub fn requests(&self) -> u64 {
        self.heads + self.gets + self.puts + self.multipart_starts + self.parts + self.completes
    }

    /// What was counted since `earlier` (a snapshot of the same store); part sizes are those sent since.
    pub fn since(&self, earlier: &Counts) -> Counts {
        Counts {
            gets: self.gets - earlier.gets,
            ranged_gets: self.ranged_gets - earlier.ranged_gets,
            bytes_fetched: self.bytes_fetched - earlier.bytes_fetched,
            heads: self.heads - earlier.heads,
            puts: self.puts - earlier.puts,
            put_bytes: self.put_bytes - earlier.put_bytes,
            multipart_starts: self.multipart_starts - earlier.multipart_starts,
            parts: self.parts - earlier.parts,
            part_sizes: self.part_sizes.get(earlier.part_sizes.len()..).unwrap_or_default().to_vec(),
            completes: self.completes - earlier.completes,
            aborts: self.aborts - earlier.aborts,
            lists: self.lists - earlier.lists,
            deletes: self.deletes - earlier.deletes,
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} request(s): {} HEAD, {} GET ({} ranged)",
            self.requests(),
            self.heads,
            self.gets,
            self.ranged_gets
        )?;
        if self.puts + self.multipart_starts + self.parts > 0 {
            write!(f, ", {} PUT, {} multipart start(s), {} part(s)", self.puts, self.multipart_starts, self.parts)?;
        }
        Ok(())
    }
}

/// An `ObjectStore` wrapper counting the calls that reach it.
#[derive(Debug, Clone)]
pub struct CountingStore {
    inner: Arc<dyn ObjectStore>,
    counts: Arc<Mutex<Counts>>,
}

impl CountingStore {
    /// Wraps `inner`.
    pub fn new(inner: Arc<dyn ObjectStore>) -> Self {
        CountingStore { inner, counts: Arc::default() }
    }
    /// This store as a trait object (sharing the counters).
    pub fn arc(&self) -> Arc<dyn ObjectStore> {
        Arc::new(self.clone())
    }
    /// The counts so far.
    pub fn counts(&self) -> Counts {
        self.counts.lock().unwrap().clone()
    }
    /// Zeroes the counts.
    pub fn reset(&self) {
        *self.counts.lock().unwrap() = Counts::default();
    }
    /// The wrapped store.
    pub fn inner(&self) -> &Arc<dyn ObjectStore> {
        &self.inner
    }
    fn bump(&self, f: impl FnOnce(&mut Counts)) {
        f(&mut self.counts.lock().unwrap());
    }
}

impl fmt::Display for CountingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CountingStore({})", self.inner)
    }
}

#[derive(Debug)]
struct CountingUpload {
    inner: Box<dyn MultipartUpload>,
    counts: Arc<Mutex<Counts>>,
}

#[async_trait]
impl MultipartUpload for CountingUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        {
            let mut c = self.counts.lock().unwrap();
            c.parts += 1;
            c.part_sizes.push(data.content_length());
        }
        self.inner.put_part(data)
    }

    async fn complete(&mut self) -> object_store::Result<PutResult> {
        self.counts.lock().unwrap().completes += 1;
        self.inner.complete().await
    }

    async fn abort(&mut self) -> object_store::Result<()> {
        self.counts.lock().unwrap().aborts += 1;
        self.inner.abort().await
    }
}

#[async_trait]
impl ObjectStore for CountingStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        let len = payload.content_length() as u64;
        self.bump(|c| {
            c.puts += 1;
            c.put_bytes += len;
        });
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.bump(|c| c.multipart_starts += 1);
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(CountingUpload { inner, counts: self.counts.clone() }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> object_store::Result<GetResult> {
        let head = options.head;
        let ranged = options.range.is_some();
        self.bump(|c| {
            if head {
                c.heads += 1;
            } else {
                c.gets += 1;
                c.ranged_gets += u64::from(ranged);
            }
        });
        let r = self.inner.get_opts(location, options).await?;
        if !head {
            let Range { start, end } = r.range;
            self.bump(|c| c.bytes_fetched += end - start);
        }
        Ok(r)
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<Path>>,
    ) -> BoxStream<'static, object_store::Result<Path>> {
        let counts = self.counts.clone();
        self.inner
            .delete_stream(locations)
            .inspect(move |r| {
                if r.is_ok() {
                    counts.lock().unwrap().deletes += 1;
                }
            })
            .boxed()
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.bump(|c| c.lists += 1);
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.bump(|c| c.lists += 1);
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> object_store::Result<ListResult> {
        self.bump(|c| c.lists += 1);
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> object_store::Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> object_store::Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}
