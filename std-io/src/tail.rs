//! How much of a table's end the open fetches: the metadata sizes of recently opened tables, remembered so the
//! next open's first GET covers its metadata too (RocksDB's `TailPrefetchStats`).
//!
//! A cold get of a table on an object store needs the footer, the metaindex, the properties, the index (and
//! the filter, which RocksDB writes before the index) and then the data block. They all lie together at the
//! end of the file, so when the first GET of the open (the file's tail) is large enough the get costs two
//! requests: the tail and the block. A fixed tail is either too small for large tables (a 1 GiB table carries
//! ~20 MB of index and filter: three requests) or wasteful for small ones (it fetches data blocks nobody asked
//! for). Tables of one store are usually alike (one writer's options, one target file size), so the sizes
//! seen so far predict the next one: [`TailPrefetch`] remembers the last [`TRACKED`] metadata sizes and
//! suggests the largest of them that wastes at most 1/8 of the bytes fetched had every one of them been
//! opened with it.
//!
//! Why not a lazily loaded filter instead: a get on a table whose filter is not loaded would have to read the
//! block, so every absent key would cost a GET until something loads the filter (one more request then);
//! remembering sizes keeps the filter and costs nothing per get.

use std::sync::{Arc, Mutex, OnceLock};

/// How many recent metadata sizes a [`TailPrefetch`] remembers (RocksDB's `kNumTracked`).
pub const TRACKED: usize = 32;

/// The largest tail a [`TailPrefetch`] suggests (64 MiB): the metadata of a ~3 GiB table with default
/// options. Larger metadata is fetched by the open's second GET, as without a suggestion.
pub const MAX_SUGGESTED: u64 = 64 << 20;

#[derive(Debug, Default)]
struct Records {
    sizes: [u64; TRACKED],
    len: usize,
    next: usize,
}

/// The metadata sizes (bytes from the first metadata block to the end of the file) of the last [`TRACKED`]
/// tables opened with it, and the tail size they suggest. Cheap to clone; clones share the records.
///
/// [`ReadOptions::default`](crate::reader::ReadOptions) uses [`TailPrefetch::global`], shared by every reader
/// of the process; readers of a different kind of table (another writer's, much larger or smaller) can keep
/// their own with [`TailPrefetch::new`].
#[derive(Debug, Clone, Default)]
pub struct TailPrefetch {
    records: Arc<Mutex<Records>>,
}

impl TailPrefetch {
    /// An empty record, suggesting nothing until a table is opened with it.
    pub fn new() -> Self {
        Self::default()
    }

    /// The process-wide record that [`ReadOptions::default`](crate::reader::ReadOptions) uses.
    pub fn global() -> TailPrefetch {
        static GLOBAL: OnceLock<TailPrefetch> = OnceLock::new();
        GLOBAL.get_or_init(TailPrefetch::new).clone()
    }

    /// Remembers that a table's metadata took its last `meta_len` bytes (the oldest record is forgotten once
    /// [`TRACKED`] are held).
    pub fn record(&self, meta_len: u64) {
        // A poisoned lock still holds valid records (the updates below cannot panic half-way).
        let mut r = self.records.lock().unwrap_or_else(|e| e.into_inner());
        let at = r.next;
        r.sizes[at] = meta_len;
        r.next = (at + 1) % TRACKED;
        r.len = (r.len + 1).min(TRACKED);
    }

    /// The suggested tail size: the largest remembered size such that, had every remembered table been opened
    /// with it, at most 1/8 of the bytes fetched would be beyond its metadata (RocksDB's rule); capped at
    /// [`MAX_SUGGESTED`]. 0 when nothing is remembered.
    pub fn suggested(&self) -> u64 {
        let mut sorted = {
            let r = self.records.lock().unwrap_or_else(|e| e.into_inner());
            r.sizes[..r.len].to_vec()
        };
        sorted.sort_unstable();
        let Some(&first) = sorted.first() else { return 0 };
        let (mut best, mut prev, mut wasted) = (first, first, 0u64);
        for (i, &size) in sorted.iter().enumerate().skip(1) {
            // Tails of `size` for every table: the i smaller ones each waste what lies beyond theirs.
            wasted = wasted.saturating_add((size - prev).saturating_mul(i as u64));
            let read = size.saturating_mul(sorted.len() as u64);
            if wasted <= read / 8 {
                best = size;
            }
            prev = size;
        }
        best.min(MAX_SUGGESTED)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_the_largest_size_that_wastes_at_most_an_eighth() {
        let t = TailPrefetch::new();
        assert_eq!(t.suggested(), 0);
        t.record(20_000_000);
        assert_eq!(t.suggested(), 20_000_000);
        // Alike tables: the largest.
        t.record(19_000_000);
        t.record(21_000_000);
        assert_eq!(t.suggested(), 21_000_000);
        // Mostly small tables now: a 21 MB tail would waste nearly all it fetched for them.
        let small = TailPrefetch::new();
        small.record(21_000_000);
        for _ in 0..TRACKED - 1 {
            small.record(100_000);
        }
        assert_eq!(small.suggested(), 100_000);
        // Only the last TRACKED are remembered: the big one is forgotten.
        small.record(90_000);
        assert_eq!(small.suggested(), 100_000);
        let r = small.records.lock().unwrap();
        assert!(!r.sizes.contains(&21_000_000));
    }

    #[test]
    fn is_capped() {
        let t = TailPrefetch::new();
        t.record(u64::MAX);
        t.record(u64::MAX - 1);
        assert_eq!(t.suggested(), MAX_SUGGESTED);
    }

    #[test]
    fn clones_share_the_records_and_global_is_one() {
        let t = TailPrefetch::new();
        t.clone().record(5000);
        assert_eq!(t.suggested(), 5000);
        assert!(Arc::ptr_eq(&TailPrefetch::global().records, &TailPrefetch::global().records));
    }
}
