//! A block cache shared by readers: uncompressed, verified blocks keyed by (file, block offset).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;

/// Cache key: the file's location and the block's handle (offset and size: a damaged index can name one offset
/// with two sizes, and each must be read as what it names).
pub type BlockKey = (Arc<str>, sstkit_core::handle::BlockHandle);

#[derive(Clone, Default)]
struct ByteWeighter;

impl quick_cache::Weighter<BlockKey, Bytes> for ByteWeighter {
    fn weight(&self, key: &BlockKey, val: &Bytes) -> u64 {
        // Count the key and a little bookkeeping too, so many tiny blocks cannot overrun the budget.
        (val.len() + key.0.len() + 64) as u64
    }
}

/// A cache of uncompressed data blocks, bounded in bytes, safe to share between readers and tasks.
///
/// Concurrent misses for the same block wait for one fetch (see [`BlockCache::get_or_fetch`]).
#[derive(Clone)]
pub struct BlockCache {
    inner: Arc<quick_cache::sync::Cache<BlockKey, Bytes, ByteWeighter>>,
    capacity: u64,
}

impl std::fmt::Debug for BlockCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BlockCache").field("capacity", &self.capacity).field("used", &self.used_bytes()).finish()
    }
}

impl BlockCache {
    /// A cache holding up to `capacity_bytes` of blocks.
    pub fn new(capacity_bytes: u64) -> Self {
        let items = (capacity_bytes / 4096).clamp(16, 1 << 22) as usize;
        BlockCache {
            inner: Arc::new(quick_cache::sync::Cache::with_weighter(items, capacity_bytes.max(1), ByteWeighter)),
            capacity: capacity_bytes,
        }
    }

    /// Capacity in bytes.
    pub fn capacity(&self) -> u64 {
        self.capacity
    }

    /// Bytes held now.
    pub fn used_bytes(&self) -> u64 {
        self.inner.weight()
    }

    /// Blocks held now.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// True if empty.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The cached block, if present.
    pub fn get(&self, key: &BlockKey) -> Option<Bytes> {
        self.inner.get(key)
    }

    /// The cached block, or the result of `fetch` (inserted on success). Concurrent callers for the same key
    /// wait for the first one's fetch instead of fetching again. `hit` is set when no fetch ran.
    pub async fn get_or_fetch<E>(
        &self,
        key: BlockKey,
        fetch: impl std::future::Future<Output = Result<Bytes, E>>,
        hit: &AtomicU64,
    ) -> Result<Bytes, E> {
        let fetched = AtomicU64::new(0);
        let v = self
            .inner
            .get_or_insert_async(&key, async {
                fetched.store(1, Ordering::Relaxed);
                fetch.await
            })
            .await?;
        if fetched.load(Ordering::Relaxed) == 0 {
            hit.fetch_add(1, Ordering::Relaxed);
        }
        Ok(v)
    }
}
