//! How often a reader checks block checksums, and the set of blocks an opened table has verified already.

use std::collections::HashSet;
use std::sync::RwLock;

use sstkit_core::handle::BlockHandle;

/// When a reader checks a block's checksum ([`ReadOptions::verify_checksums`](crate::reader::ReadOptions)).
///
/// Blocks in the [`BlockCache`](crate::cache::BlockCache) were verified when they were read, so a cache hit is
/// never checked again under any setting; the setting decides what happens when a block is read from storage
/// again (evicted from the cache, a scan, which bypasses the cache, or an index or filter partition taken out of
/// the metadata read at open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Verify {
    /// Check each block the first time this opened table reads it and remember that it passed; reads of
    /// the same block later skip the check (what the peers' block caches give). A block that fails is not
    /// remembered, so every read of it reports the damage. The default.
    #[default]
    Once,
    /// Check every block on every read from storage.
    Always,
    /// Never check block checksums (the footer and the metadata read at open are still bounds-checked).
    Never,
}

impl Verify {
    /// Whether a block never verified by this table is checked.
    pub fn checks(self) -> bool {
        self != Verify::Never
    }
}

/// Most blocks one table remembers as verified (about 8 MiB of memory at most; 1 GiB of table at 4 KiB
/// blocks). Blocks past it are checked on every read, as under [`Verify::Always`].
const MAX_REMEMBERED: usize = 1 << 18;

/// The blocks an opened table has verified (keyed by handle: a damaged index can name one offset with two
/// sizes, and each must be checked as what it names). The lock is held only to look up or insert, never across
/// an await.
#[derive(Debug)]
pub(crate) struct VerifiedBlocks {
    policy: Verify,
    set: RwLock<HashSet<BlockHandle>>,
}

impl VerifiedBlocks {
    pub(crate) fn new(policy: Verify) -> Self {
        VerifiedBlocks { policy, set: RwLock::new(HashSet::new()) }
    }

    /// True if the block at `handle` needs no check now: checksums are off, or (under [`Verify::Once`]) it
    /// passed one already.
    pub(crate) fn trusted(&self, handle: BlockHandle) -> bool {
        match self.policy {
            Verify::Never => true,
            Verify::Always => false,
            // A poisoned lock still holds a valid set (inserts cannot panic half-way).
            Verify::Once => self.set.read().unwrap_or_else(|e| e.into_inner()).contains(&handle),
        }
    }

    /// Records that the block at `handle` passed its check (kept under [`Verify::Once`] only).
    pub(crate) fn passed(&self, handle: BlockHandle) {
        if self.policy != Verify::Once {
            return;
        }
        let mut set = self.set.write().unwrap_or_else(|e| e.into_inner());
        if set.len() < MAX_REMEMBERED {
            set.insert(handle);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_once_remembers() {
        let h = BlockHandle::new(10, 20);
        for (policy, before, after) in
            [(Verify::Once, false, true), (Verify::Always, false, false), (Verify::Never, true, true)]
        {
            let v = VerifiedBlocks::new(policy);
            assert_eq!(v.trusted(h), before, "{policy:?}");
            v.passed(h);
            assert_eq!(v.trusted(h), after, "{policy:?}");
            // Same offset, another size: not the block that was checked.
            assert_eq!(v.trusted(BlockHandle::new(10, 21)), before, "{policy:?}");
        }
    }
}
