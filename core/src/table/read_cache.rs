//! A read cache the caller owns: which data blocks a reader has verified, and decompressed copies of
//! compressed ones, in caller-supplied memory (no allocator).
//!
//! Blocks are keyed by their whole handle (offset and size) and every lookup compares it, so a collision can
//! only evict: it may cost a second checksum or decompression, never skip the check of a block that was not
//! verified, and never hand out another block's bytes. A block that fails its check is not remembered.
//!
//! The cache borrows the bytes it serves for its whole life, so they cannot change under it: "verified once"
//! means once per cache (and per table bytes; reading another table through it empties it first).

use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::table::blocks::{verified_block, ReadBuf};
use crate::table::layout::TableLayout;
use crate::trailer::CompressionType;

/// Directory entries a block may sit in, from its home entry on (a short linear probe, so a few colliding
/// blocks all stay; past it the home entry is evicted).
const PROBES: usize = 4;
/// Each decompressed slot starts with the handle of the block it holds and the block's length (`u64::MAX`:
/// empty), so a directory entry pointing at a slot another block has since taken is seen as stale.
const SLOT_HEADER: usize = 24;
/// Low bits of [`CacheEntry::state`]: the slot, or this for none.
const NO_SLOT: u32 = 0x7fff_ffff;
/// High bit of [`CacheEntry::state`]: the block passed its checksum.
const VERIFIED: u32 = 0x8000_0000;

/// One entry of a [`ReadCache`]'s directory: a block, whether it passed its checksum, and which slot holds it
/// decompressed (16 bytes). Directories are plain arrays: `[CacheEntry::EMPTY; 1024]` or
/// `vec![CacheEntry::EMPTY; n]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheEntry {
    offset: u64,
    /// The block's size; a block of 4 GiB or more is never entered.
    size: u32,
    /// [`VERIFIED`] | the slot.
    state: u32,
}

impl CacheEntry {
    /// An entry that holds no block.
    pub const EMPTY: CacheEntry = CacheEntry { offset: 0, size: 0, state: NO_SLOT };

    /// A fresh entry for `h` (`None` if its size does not fit an entry).
    fn new(h: BlockHandle) -> Option<Self> {
        Some(CacheEntry { offset: h.offset, size: u32::try_from(h.size).ok()?, state: NO_SLOT })
    }

    fn is_empty(&self) -> bool {
        self.state == NO_SLOT
    }

    /// True if this entry is about the block at `h` (offset and size).
    fn holds(&self, h: BlockHandle) -> bool {
        !self.is_empty() && self.offset == h.offset && u64::from(self.size) == h.size
    }

    fn handle(&self) -> BlockHandle {
        BlockHandle::new(self.offset, u64::from(self.size))
    }

    fn verified(&self) -> bool {
        self.state & VERIFIED != 0
    }

    fn set_verified(&mut self) {
        self.state |= VERIFIED;
    }

    fn slot(&self) -> Option<usize> {
        let k = self.state & NO_SLOT;
        (k != NO_SLOT).then_some(k as usize)
    }

    fn set_slot(&mut self, k: usize) {
        // `k` < the slot count, which is below `NO_SLOT`.
        self.state = (self.state & VERIFIED) | (k as u32 & NO_SLOT);
    }
}

impl Default for CacheEntry {
    fn default() -> Self {
        CacheEntry::EMPTY
    }
}

/// What a [`ReadCache`] has done since it was made or cleared.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct CacheStats {
    /// Block checksums computed.
    pub checks: u64,
    /// Blocks decompressed (into a slot or the caller's buffer).
    pub decompressions: u64,
    /// Reads answered from a decompressed slot.
    pub slot_hits: u64,
}

/// A per-reader cache of data-block state in caller memory: a directory of verified blocks and, optionally,
/// slots holding decompressed blocks so a compressed table's hot blocks are decompressed once.
///
/// Read through it with [`Table::get_with`](crate::table::Table::get_with) and
/// [`Table::cursor_with`](crate::table::Table::cursor_with). Reads take it by `&mut`, so it serves one thread
/// or task at a time: give each its own. The directory is direct-mapped (with a 4-entry probe), so size it at
/// about twice the number of blocks you want remembered; a slot too small for a block is not used for it (the
/// block is decompressed into the read's buffer, as without a cache). Under
/// `ReadOptions::verify_checksums = false` nothing is checked and nothing is remembered as verified. Index
/// partitions and metadata are read as without a cache.
///
/// ```
/// use sstkit_core::table::{CacheEntry, Options, ReadCache, Table, TableBuilder};
/// use sstkit_core::CompressionType;
///
/// let mut opts = Options::default();
/// opts.compression = CompressionType::Lz4;
/// let mut b = TableBuilder::new(Vec::new(), opts)?;
/// b.put(b"apple", b"red")?;
/// b.put(b"pear", b"green")?;
/// b.finish()?;
/// let mut file = Vec::new();
/// while let Some(chunk) = b.next_output()? {
///     file.extend_from_slice(chunk);
/// }
/// let table = Table::open(&file)?;
///
/// let mut dir = [CacheEntry::EMPTY; 64]; // remembers verified blocks
/// let mut slots = vec![0u8; 4 * ReadCache::slot_size(4096)]; // 4 decompressed blocks of up to 4 KiB
/// let mut cache = ReadCache::with_slots(&mut dir, &mut slots, 4096);
/// let mut buf = Vec::new();
/// for _ in 0..3 {
///     let hit = table.get_with(b"pear", &mut cache, &mut buf)?;
///     assert_eq!(hit.map(|e| e.value), Some(&b"green"[..]));
/// }
/// // Checked and decompressed once (when LZ4 is built in), then served from the slot.
/// assert_eq!(cache.stats().checks, 1);
/// assert!(cache.stats().decompressions <= 1);
/// # Ok::<(), sstkit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct ReadCache<'c> {
    /// The bytes the directory and slots describe (a table's region), once bound.
    region: Option<&'c [u8]>,
    entries: &'c mut [CacheEntry],
    slots: &'c mut [u8],
    slot_size: usize,
    slot_count: usize,
    next_slot: usize,
    stats: CacheStats,
}

/// Where a cached read found a data block's uncompressed bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Stored uncompressed: `region[start..start + len]`.
    Region { start: usize, len: usize },
    /// Decompressed into the read's buffer: its first `len` bytes.
    Buffer { len: usize },
    /// In a decompressed slot of the cache: [`ReadCache::slot_bytes`].
    Slot { at: usize, len: usize },
}

impl Place {
    /// A block stored uncompressed: its body of `len` bytes starts at `handle.offset` in the file.
    fn in_region(handle: BlockHandle, base: u64, len: usize) -> Result<Place> {
        let start = handle.offset.checked_sub(base).and_then(|s| usize::try_from(s).ok());
        let start =
            start.ok_or(Error::corrupt(Part::DataBlock, handle.offset, "block lies outside the bytes given"))?;
        Ok(Place::Region { start, len })
    }
}

impl<'c> ReadCache<'c> {
    /// A cache that remembers verified blocks in `entries` (emptied here), without decompressed slots.
    pub fn new(entries: &'c mut [CacheEntry]) -> Self {
        Self::with_slots(entries, &mut [], 0)
    }

    /// A cache that also keeps decompressed blocks of up to `block_len` bytes in `slots`, which holds
    /// `slots.len() / ReadCache::slot_size(block_len)` of them (first in, first out).
    pub fn with_slots(entries: &'c mut [CacheEntry], slots: &'c mut [u8], block_len: usize) -> Self {
        let slot_size = Self::slot_size(block_len);
        let slot_count = if block_len == 0 { 0 } else { (slots.len() / slot_size).min(NO_SLOT as usize - 1) };
        let mut c = ReadCache {
            region: None,
            entries,
            slots,
            slot_size,
            slot_count,
            next_slot: 0,
            stats: CacheStats::default(),
        };
        c.clear();
        c
    }

    /// Bytes of `slots` one decompressed block of up to `block_len` bytes takes (its header included).
    pub const fn slot_size(block_len: usize) -> usize {
        block_len.saturating_add(SLOT_HEADER)
    }

    /// Forgets every block (and the table bytes it was bound to), and zeroes the statistics.
    pub fn clear(&mut self) {
        self.entries.fill(CacheEntry::EMPTY);
        self.region = None;
        self.next_slot = 0;
        self.stats = CacheStats::default();
    }

    /// What the cache has done since it was made or cleared.
    pub fn stats(&self) -> CacheStats {
        self.stats
    }

    /// Binds the cache to `region`, emptying it if it held another table's blocks.
    fn bind(&mut self, region: &'c [u8]) {
        if !self.region.is_some_and(|r| core::ptr::eq(r, region)) {
            self.clear();
            self.region = Some(region);
        }
    }

    fn home(&self, h: BlockHandle) -> usize {
        // Fibonacci hashing (offsets in near-arithmetic progression, a table's blocks, spread evenly), then a
        // multiply-shift onto the directory: no division on the read path.
        let x = (h.offset ^ h.size.rotate_left(29)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        ((u128::from(x) * self.entries.len() as u128) >> 64) as usize
    }

    /// The directory positions `h` may sit in: its home and the next ones, wrapping.
    fn probes(&self, h: BlockHandle) -> impl Iterator<Item = usize> {
        let (home, len) = (self.home(h), self.entries.len());
        (0..PROBES.min(len)).map(move |i| if home + i >= len { home + i - len } else { home + i })
    }

    /// The directory entry holding `h`, if any.
    fn find(&self, h: BlockHandle) -> Option<usize> {
        if self.entries.is_empty() {
            return None;
        }
        self.probes(h).find(|&i| self.entries[i].holds(h))
    }

    /// The directory entry for `h`: found, a free one near its home, or its home (evicting what was there);
    /// `None` when there is no directory or `h` does not fit an entry.
    fn entry_for(&mut self, h: BlockHandle) -> Option<usize> {
        let fresh = CacheEntry::new(h)?;
        if self.entries.is_empty() {
            return None;
        }
        if let Some(i) = self.find(h) {
            return Some(i);
        }
        let i = self.probes(h).find(|&i| self.entries[i].is_empty()).unwrap_or(self.home(h));
        self.entries[i] = fresh;
        Some(i)
    }

    /// The header of slot `k`: the handle it holds and the block's length (`None`: empty).
    fn slot_header(&self, k: usize) -> Option<(BlockHandle, usize)> {
        let at = k.checked_mul(self.slot_size)?;
        let head = self.slots.get(at..at.checked_add(SLOT_HEADER)?)?;
        let word = |i: usize| head.get(i * 8..i * 8 + 8).and_then(|w| w.try_into().ok()).map(u64::from_le_bytes);
        let len = usize::try_from(word(2)?).ok()?;
        Some((BlockHandle::new(word(0)?, word(1)?), len))
    }

    fn set_slot_header(&mut self, k: usize, h: BlockHandle, len: u64) {
        let at = k * self.slot_size;
        let head = &mut self.slots[at..at + SLOT_HEADER];
        head[..8].copy_from_slice(&h.offset.to_le_bytes());
        head[8..16].copy_from_slice(&h.size.to_le_bytes());
        head[16..].copy_from_slice(&len.to_le_bytes());
    }

    /// Where entry `i`'s block is decompressed, if its slot still holds it.
    fn slot_of(&self, i: usize) -> Option<Place> {
        let e = self.entries[i];
        let k = e.slot()?;
        match self.slot_header(k) {
            Some((h, len)) if h == e.handle() && len <= self.slot_size - SLOT_HEADER => {
                Some(Place::Slot { at: k * self.slot_size + SLOT_HEADER, len })
            }
            _ => None,
        }
    }

    /// `len` bytes of a slot a read returned as [`Place::Slot`].
    pub(crate) fn slot_bytes(&self, at: usize, len: usize) -> &[u8] {
        at.checked_add(len).and_then(|end| self.slots.get(at..end)).unwrap_or(&[])
    }

    /// The data block at `handle` of the table `layout` describes: checked unless this cache saw it pass (or the
    /// read options turn checks off), uncompressed from a slot, the region, or else into `buf`.
    pub(crate) fn load<B: ReadBuf + ?Sized>(
        &mut self,
        layout: &TableLayout<'c>,
        handle: BlockHandle,
        buf: &mut B,
    ) -> Result<Place> {
        let (region, base) = (layout.region(), layout.meta().base);
        self.bind(region);
        let verify = layout.read_options().verify_checksums;
        let sum = layout.footer().block_checksum();
        let mut found = self.find(handle);
        let mut checked = None;
        if verify && !found.is_some_and(|i| self.entries[i].verified()) {
            self.stats.checks += 1;
            let contents = verified_block(region, base, handle, sum, true, Part::DataBlock)?;
            found = self.entry_for(handle);
            if let Some(i) = found {
                self.entries[i].set_verified();
            }
            checked = Some(contents);
        }
        if let Some(place) = found.and_then(|i| self.slot_of(i)) {
            self.stats.slot_hits += 1;
            return Ok(place);
        }
        // Checked just now, trusted, or not to be checked: sliced out without a check.
        let contents = match checked {
            Some(c) => c,
            None => verified_block(region, base, handle, sum, false, Part::DataBlock)?,
        };
        if contents.compression == CompressionType::None {
            return Place::in_region(handle, base, contents.body.len());
        }
        self.stats.decompressions += 1;
        let fv = layout.footer().format_version;
        let (max, dict) = (layout.read_options().max_block_len, layout.compression_dict());
        let room = self.slot_size - SLOT_HEADER;
        // A block too big for a slot (or damaged: the read's buffer then gives the error a read without a cache
        // gets) is decompressed into the read's buffer, leaving the slots as they are.
        if self.slot_count > 0 && contents.uncompressed_len(fv, max).is_ok_and(|n| n <= room) {
            let k = self.next_slot;
            // Empty the slot before writing it: a failed decompression leaves no stale block behind.
            self.set_slot_header(k, BlockHandle::NULL, u64::MAX);
            let at = k * self.slot_size + SLOT_HEADER;
            let mut out: &mut [u8] = &mut self.slots[at..at + room];
            if let Ok(len) = contents.decompress_to_with_dict(fv, max, dict, &mut out) {
                self.set_slot_header(k, handle, len as u64);
                self.next_slot = (k + 1) % self.slot_count;
                if let Some(i) = found.or_else(|| self.entry_for(handle)) {
                    self.entries[i].set_slot(k);
                }
                return Ok(Place::Slot { at, len });
            }
        }
        let len = contents.decompress_to_with_dict(fv, max, dict, buf)?;
        Ok(Place::Buffer { len })
    }
}

/// Where a [`TableCursor`](crate::table::TableCursor) takes data blocks from: `()` reads each from the table
/// (checked on every read when the read options say so), `&mut ReadCache` reads through the cache. Sealed.
pub trait BlockSource<'r>: sealed::Source<'r> {}

impl<'r> BlockSource<'r> for () {}
impl<'r: 'c, 'c> BlockSource<'r> for &mut ReadCache<'c> {}

pub(crate) mod sealed {
    use super::{Place, ReadCache};
    use crate::error::Result;
    use crate::handle::BlockHandle;
    use crate::table::blocks::{BlockBytes, ReadBuf};
    use crate::table::layout::TableLayout;

    /// The methods behind [`BlockSource`](super::BlockSource).
    pub trait Source<'r> {
        /// The data block at `handle`, uncompressed.
        #[allow(private_interfaces)]
        fn load<B: ReadBuf + ?Sized>(
            &mut self,
            layout: &TableLayout<'r>,
            handle: BlockHandle,
            buf: &mut B,
        ) -> Result<Place>;
        /// Bytes of a [`Place::Slot`].
        fn slot_bytes(&self, at: usize, len: usize) -> &[u8];
    }

    impl<'r> Source<'r> for () {
        #[allow(private_interfaces)]
        fn load<B: ReadBuf + ?Sized>(
            &mut self,
            layout: &TableLayout<'r>,
            handle: BlockHandle,
            buf: &mut B,
        ) -> Result<Place> {
            let decoded = layout.decode_block(layout.region(), layout.meta().base, handle, buf)?;
            match decoded.bytes {
                BlockBytes::Fetched(body) => Place::in_region(handle, layout.meta().base, body.len()),
                BlockBytes::Buffer(len) => Ok(Place::Buffer { len }),
            }
        }
        fn slot_bytes(&self, _: usize, _: usize) -> &[u8] {
            &[]
        }
    }

    impl<'r: 'c, 'c> Source<'r> for &mut ReadCache<'c> {
        #[allow(private_interfaces)]
        fn load<B: ReadBuf + ?Sized>(
            &mut self,
            layout: &TableLayout<'r>,
            handle: BlockHandle,
            buf: &mut B,
        ) -> Result<Place> {
            // A view over the same bytes, at the cache's lifetime.
            let view: &TableLayout<'c> = layout;
            ReadCache::load(self, view, handle, buf)
        }
        fn slot_bytes(&self, at: usize, len: usize) -> &[u8] {
            ReadCache::slot_bytes(self, at, len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_matches_whole_handles() {
        let mut entries = [CacheEntry::EMPTY; 8];
        let mut c = ReadCache::new(&mut entries);
        let h = BlockHandle::new(4096, 100);
        assert_eq!(c.find(h), None);
        let i = c.entry_for(h).unwrap();
        c.entries[i].set_verified();
        assert_eq!(c.find(h), Some(i));
        // Same offset, another size (a damaged index can say so): not the block that was checked.
        assert_eq!(c.find(BlockHandle::new(4096, 101)), None);
        assert_eq!(c.find(BlockHandle::new(4097, 100)), None);
        // The null handle is a block like any other, not "empty".
        assert_eq!(c.find(BlockHandle::NULL), None);
        // A block too big for an entry is never entered, so always checked.
        assert_eq!(c.entry_for(BlockHandle::new(0, 1 << 32)), None);
        assert_eq!(core::mem::size_of::<CacheEntry>(), 16);
    }

    #[test]
    fn a_directory_of_one_evicts_and_a_stale_slot_is_not_used() {
        let mut entries = [CacheEntry::EMPTY; 1];
        let mut slots = [0u8; 2 * ReadCache::slot_size(16)];
        let mut c = ReadCache::with_slots(&mut entries, &mut slots, 16);
        let (a, b) = (BlockHandle::new(0, 10), BlockHandle::new(15, 10));
        let i = c.entry_for(a).unwrap();
        c.set_slot_header(0, a, 10);
        c.entries[i].set_slot(0);
        assert!(matches!(c.slot_of(i), Some(Place::Slot { at: SLOT_HEADER, len: 10 })));
        // The slot is taken by `b`: the entry still names slot 0, but the slot no longer holds `a`.
        c.set_slot_header(0, b, 10);
        assert_eq!(c.slot_of(i), None);
        // `b` evicts `a` from the single entry.
        let j = c.entry_for(b).unwrap();
        c.entries[j].set_verified();
        assert_eq!((i, c.find(a), c.find(b)), (j, None, Some(j)));
    }
}
