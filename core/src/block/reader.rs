//! Reads one block: validates the restart array, iterates both ways, seeks by binary search.

use core::cmp::Ordering;

use zerocopy::byteorder::{LittleEndian, U32};
use zerocopy::FromBytes;

use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::key::compare_bytes;
use crate::keybuf::KeyBuf;
use crate::trailer::BLOCK_TRAILER_LEN;
use crate::varint::{decode_varint32, decode_varint64, read_fixed32, zigzag_decode};

/// How entries frame their values, as a reader must know it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EntryFormat {
    /// `shared, non_shared, value_len` then key delta and value.
    #[default]
    LengthPrefixed,
    /// RocksDB's delta-encoded index: `shared, non_shared`, key delta, then a full handle (when `shared` is 0)
    /// or a zigzag size delta, then (index type 3) a length-prefixed first key.
    DeltaHandle {
        /// Entries carry the data block's first key after the handle.
        first_key: bool,
    },
}

/// How keys in a block are ordered, for seeks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrder {
    /// Plain bytewise order (user keys, meta block names).
    Bytewise,
    /// Internal-key order: user key ascending, then the 8-byte trailer descending.
    Internal,
    /// Internal keys in the block, a bare user key as the seek target: lands on the newest entry of that user
    /// key (or the first of a larger one).
    InternalByUser,
    /// Internal keys whose user keys end in an 8-byte timestamp (comparator `leveldb.BytewiseComparator.u64ts`:
    /// user key ascending, then timestamp descending), a bare user key (without timestamp) as the seek target:
    /// lands on the newest version of that key whose timestamp is ≤ `read_ts` (or the first of a larger key).
    InternalByUserTs {
        /// The newest timestamp a reader sees (`u64::MAX`: every version).
        read_ts: u64,
    },
    /// User keys ending in an 8-byte timestamp (an index of user keys in such a table), a bare user key as the
    /// seek target, ordered as [`KeyOrder::InternalByUserTs`].
    UserTs {
        /// The newest timestamp a reader sees (`u64::MAX`: every version).
        read_ts: u64,
    },
}

/// Compares a user key that ends in an 8-byte little-endian timestamp with a bare user key read at `read_ts`:
/// the key part ascending, then the timestamp descending (a version newer than `read_ts` sorts before the
/// target). A key too short for a timestamp compares as plain bytes (only corrupt input has one).
#[inline]
fn compare_with_ts(stored: &[u8], target: &[u8], read_ts: u64) -> Ordering {
    match crate::key::split_timestamp(stored) {
        Some((k, ts)) => compare_bytes(k, target).then(read_ts.cmp(&ts)),
        None => compare_bytes(stored, target),
    }
}

impl KeyOrder {
    /// Compares two keys in this order.
    #[inline]
    pub fn compare(self, a: &[u8], b: &[u8]) -> Ordering {
        match self {
            KeyOrder::Bytewise => compare_bytes(a, b),
            KeyOrder::Internal => crate::key::compare_internal(a, b),
            KeyOrder::InternalByUser => match a.len().checked_sub(crate::key::INTERNAL_KEY_TRAILER_LEN) {
                Some(ulen) => compare_bytes(&a[..ulen], b),
                None => compare_bytes(a, b),
            },
            KeyOrder::InternalByUserTs { read_ts } => match a.len().checked_sub(crate::key::INTERNAL_KEY_TRAILER_LEN) {
                Some(ulen) => compare_with_ts(&a[..ulen], b, read_ts),
                None => compare_bytes(a, b),
            },
            KeyOrder::UserTs { read_ts } => compare_with_ts(a, b, read_ts),
        }
    }
}

/// A parsed block borrowed from the bytes it was read from (trailer excluded).
#[derive(Debug, Clone, Copy)]
pub struct Block<'a> {
    data: &'a [u8],
    restarts: &'a [U32<LittleEndian>],
    format: EntryFormat,
}

/// Block footer bit 31: a data-block hash index precedes the footer word.
const BLOCK_FOOTER_HASH_INDEX: u32 = 1 << 31;
/// Block footer bit 30: not assigned by RocksDB.
const BLOCK_FOOTER_UNKNOWN: u32 = 1 << 30;
/// Block footer bit 29: RocksDB 11's "uniform keys" hint for interpolation search in index blocks (safe to ignore).
const BLOCK_FOOTER_UNIFORM: u32 = 1 << 29;
/// Block footer bit 28: RocksDB 11's separated key/value layout.
const BLOCK_FOOTER_SEPARATED_KV: u32 = 1 << 28;

impl<'a> Block<'a> {
    /// A block with no entries.
    pub const fn empty() -> Block<'static> {
        Block { data: &[], restarts: &[], format: EntryFormat::LengthPrefixed }
    }

    /// Parses a block whose entries have length-prefixed values.
    pub fn parse(bytes: &'a [u8]) -> Result<Self> {
        Self::parse_with(bytes, EntryFormat::LengthPrefixed)
    }

    /// Parses a block, checking the restart array (in range, ascending) and the hash-index tail if flagged.
    pub fn parse_with(bytes: &'a [u8], format: EntryFormat) -> Result<Self> {
        let len = bytes.len();
        let Some(word) = len.checked_sub(4).and_then(|at| read_fixed32(bytes, at)) else {
            return Err(Error::corrupt(Part::Block, 0, "block shorter than its restart count"));
        };
        let mut end = len - 4;
        // The top 4 bits are feature flags (RocksDB `kMaxNumRestarts` = 2^28 - 1): bit 31 the data-block hash
        // index, bit 29 a search hint we can ignore, bit 28 the separated key/value layout of RocksDB 11 (a
        // valid block we cannot decode). RocksDB reports any other bit as corruption.
        if word & BLOCK_FOOTER_SEPARATED_KV != 0 {
            return Err(Error::Unsupported {
                part: Part::Block,
                what: "separated key/value block layout (block footer bit 28)",
                value: u64::from(word),
            });
        }
        if word & BLOCK_FOOTER_UNKNOWN != 0 {
            return Err(Error::corrupt(Part::Block, end as u64, "unrecognized feature in block footer"));
        }
        let num_restarts = (word & !(BLOCK_FOOTER_HASH_INDEX | BLOCK_FOOTER_UNIFORM)) as usize;
        if word & BLOCK_FOOTER_HASH_INDEX != 0 {
            // RocksDB's data-block hash index: u8 buckets and a u16 bucket count before the footer word.
            let nb_at =
                end.checked_sub(2).ok_or(Error::corrupt(Part::Block, end as u64, "hash index tail truncated"))?;
            let nb = u16::from_le_bytes([bytes[nb_at], bytes[nb_at + 1]]) as usize;
            end = nb_at.checked_sub(nb).ok_or(Error::corrupt(
                Part::Block,
                nb_at as u64,
                "hash index buckets run past the start",
            ))?;
        }
        let restart_bytes = num_restarts.checked_mul(4).filter(|&n| n <= end).ok_or(Error::corrupt(
            Part::Block,
            end as u64,
            "restart array larger than the block",
        ))?;
        let data_len = end - restart_bytes;
        let restarts = <[U32<LittleEndian>]>::ref_from_bytes(&bytes[data_len..end])
            .map_err(|_| Error::corrupt(Part::Block, data_len as u64, "restart array misaligned"))?;
        if num_restarts == 0 && data_len != 0 {
            return Err(Error::corrupt(Part::Block, end as u64, "entries but no restart points"));
        }
        // First at 0, strictly ascending, last inside the entries. Checked branch-free first (index blocks of
        // large tables have tens of thousands of restarts); the slow loop only finds which one is bad.
        let ascending = restarts.windows(2).fold(true, |ok, w| ok & (w[0].get() < w[1].get()));
        let first_ok = restarts.first().is_none_or(|r| r.get() == 0);
        let last_ok = data_len == 0 || restarts.last().is_none_or(|r| (r.get() as usize) < data_len);
        if !(ascending && first_ok && last_ok) {
            let mut prev = 0usize;
            for (i, r) in restarts.iter().enumerate() {
                let r = r.get() as usize;
                if (i == 0 && r != 0) || (i > 0 && r <= prev) || (r >= data_len && data_len != 0) {
                    return Err(Error::corrupt(Part::Block, (data_len + 4 * i) as u64, "bad restart offset"));
                }
                prev = r;
            }
        }
        Ok(Block { data: &bytes[..data_len], restarts, format })
    }

    /// Where the parts of this block are, to rebuild it later over the same bytes without validating again.
    pub fn layout(&self) -> BlockLayout {
        BlockLayout { data_len: self.data.len(), num_restarts: self.restarts.len(), format: self.format }
    }

    /// Rebuilds a block over the same bytes it was parsed from; errors (never panics) if they do not fit.
    #[inline]
    pub fn from_layout(bytes: &'a [u8], layout: BlockLayout) -> Result<Self> {
        let end = layout.data_len + 4 * layout.num_restarts;
        let data = bytes.get(..layout.data_len);
        let restarts = bytes.get(layout.data_len..end).and_then(|r| <[U32<LittleEndian>]>::ref_from_bytes(r).ok());
        match (data, restarts) {
            (Some(data), Some(restarts)) => Ok(Block { data, restarts, format: layout.format }),
            _ => Err(corrupt(0, "block layout does not fit its bytes")),
        }
    }

    /// The entry bytes (before the restart array).
    pub fn data(&self) -> &'a [u8] {
        self.data
    }

    /// Number of restart points.
    pub fn num_restarts(&self) -> usize {
        self.restarts.len()
    }

    /// Offset of restart point `i` (in range by construction).
    pub fn restart(&self, i: usize) -> usize {
        self.restarts[i].get() as usize
    }

    /// The entry format.
    pub fn format(&self) -> EntryFormat {
        self.format
    }

    /// True if the block holds no entries.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// An iterator over this block that rebuilds keys in `key`.
    pub fn iter<K: KeyBuf>(&self, order: KeyOrder, key: K) -> BlockIter<'a, K> {
        BlockIter { block: *self, order, cursor: BlockCursor::new(), key }
    }
}

/// The shape of a parsed block (see [`Block::layout`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlockLayout {
    data_len: usize,
    num_restarts: usize,
    format: EntryFormat,
}

/// One decoded entry header.
#[derive(Clone, Copy)]
struct RawEntry {
    shared: usize,
    key_delta: (usize, usize),
    value: (usize, usize),
    handle: BlockHandle,
    next: usize,
}

fn corrupt(at: usize, reason: &'static str) -> Error {
    Error::corrupt(Part::Block, at as u64, reason)
}

/// A decoding fault inside a block: where and why. Three words, so the per-entry decoders return it cheaply;
/// it becomes an [`Error::Corruption`] at the cursor's methods.
#[derive(Debug, Clone, Copy)]
struct Fault {
    at: usize,
    reason: &'static str,
}

#[inline]
const fn fault(at: usize, reason: &'static str) -> Fault {
    Fault { at, reason }
}

impl From<Fault> for Error {
    #[cold]
    fn from(f: Fault) -> Self {
        corrupt(f.at, f.reason)
    }
}

#[inline(always)]
fn decode_entry(block: &Block<'_>, at: usize, prev_handle: BlockHandle, key_len: usize) -> Result<RawEntry, Fault> {
    // Fast path, inlined into the cursors: the three lengths of a length-prefixed entry take one byte each
    // (short keys and values).
    if let (EntryFormat::LengthPrefixed, Some([s, n, v, ..])) = (block.format, block.data.get(at..)) {
        if (s | n | v) < 0x80 {
            let (shared, non_shared, vlen) = (usize::from(*s), usize::from(*n), usize::from(*v));
            if shared > key_len {
                return Err(fault(at, "shared prefix longer than the previous key"));
            }
            let kstart = at + 3;
            let next = kstart + non_shared + vlen;
            if next > block.data.len() {
                return Err(fault(at, "entry runs past the end of the block"));
            }
            return Ok(RawEntry {
                shared,
                key_delta: (kstart, non_shared),
                value: (kstart + non_shared, vlen),
                handle: prev_handle,
                next,
            });
        }
    }
    decode_entry_slow(block, at, prev_handle, key_len)
}

/// [`decode_entry`] for multi-byte lengths and delta-encoded index entries.
#[inline(never)]
fn decode_entry_slow(
    block: &Block<'_>,
    at: usize,
    prev_handle: BlockHandle,
    key_len: usize,
) -> Result<RawEntry, Fault> {
    let data = block.data;
    let rest = data.get(at..).ok_or(fault(at, "entry offset past the data"))?;
    let (shared, a) = decode_varint32(rest).map_err(|_| fault(at, "bad shared length"))?;
    let (non_shared, b) = decode_varint32(&rest[a..]).map_err(|_| fault(at, "bad key length"))?;
    let (shared, non_shared) = (shared as usize, non_shared as usize);
    if shared > key_len {
        return Err(fault(at, "shared prefix longer than the previous key"));
    }
    match block.format {
        EntryFormat::LengthPrefixed => {
            let (vlen, c) = decode_varint32(&rest[a + b..]).map_err(|_| fault(at, "bad value length"))?;
            let kstart = at + a + b + c;
            let vstart = kstart.checked_add(non_shared).ok_or(fault(at, "key length overflows"))?;
            let next = vstart.checked_add(vlen as usize).ok_or(fault(at, "value length overflows"))?;
            if next > data.len() {
                return Err(fault(at, "entry runs past the end of the block"));
            }
            Ok(RawEntry {
                shared,
                key_delta: (kstart, non_shared),
                value: (vstart, vlen as usize),
                handle: prev_handle,
                next,
            })
        }
        EntryFormat::DeltaHandle { first_key } => {
            let kstart = at + a + b;
            let vstart = kstart.checked_add(non_shared).filter(|&v| v <= data.len());
            let vstart = vstart.ok_or(fault(at, "entry runs past the end of the block"))?;
            let mut p = vstart;
            let handle = if shared == 0 {
                let (h, n) = BlockHandle::decode(&data[p..]).map_err(|_| fault(p, "bad block handle"))?;
                p += n;
                h
            } else {
                let (z, n) = decode_varint64(&data[p..]).map_err(|_| fault(p, "bad handle delta"))?;
                p += n;
                let offset = prev_handle.end_with_trailer().ok_or(fault(p, "handle offset overflows"))?;
                let size = (prev_handle.size as i64)
                    .checked_add(zigzag_decode(z))
                    .filter(|&s| s >= 0)
                    .ok_or(fault(p, "bad handle size delta"))?;
                BlockHandle::new(offset, size as u64)
            };
            if first_key {
                let (n, c) = decode_varint32(&data[p..]).map_err(|_| fault(p, "bad first-key length"))?;
                p = (p + c)
                    .checked_add(n as usize)
                    .filter(|&e| e <= data.len())
                    .ok_or(fault(p, "first key runs past the end of the block"))?;
            }
            let _ = BLOCK_TRAILER_LEN;
            Ok(RawEntry { shared, key_delta: (kstart, non_shared), value: (vstart, p - vstart), handle, next: p })
        }
    }
}

/// The key of the restart entry at `at` (restart entries share no prefix with anything), without decoding its
/// value or handle: all a binary search over restart points needs.
#[inline(always)]
fn restart_key<'a>(block: &Block<'a>, at: usize) -> Result<&'a [u8], Fault> {
    let data = block.data;
    // Fast path, inlined into the binary search: one-byte lengths (short keys and values), the common case.
    let header = match block.format {
        EntryFormat::LengthPrefixed => 3,
        EntryFormat::DeltaHandle { .. } => 2,
    };
    if let Some([0, n, v, ..]) = data.get(at..) {
        if (n | v) < 0x80 || (header == 2 && *n < 0x80) {
            let kstart = at + header;
            if let Some(k) = data.get(kstart..kstart + usize::from(*n)) {
                return Ok(k);
            }
        }
    }
    restart_key_slow(block, at)
}

/// [`restart_key`] for multi-byte lengths (and every error).
#[inline(never)]
fn restart_key_slow<'a>(block: &Block<'a>, at: usize) -> Result<&'a [u8], Fault> {
    let data = block.data;
    let rest = data.get(at..).ok_or(fault(at, "entry offset past the data"))?;
    let (shared, a) = decode_varint32(rest).map_err(|_| fault(at, "bad shared length"))?;
    if shared != 0 {
        return Err(fault(at, "restart entry shares a prefix"));
    }
    let (non_shared, b) = decode_varint32(&rest[a..]).map_err(|_| fault(at, "bad key length"))?;
    let c = match block.format {
        EntryFormat::LengthPrefixed => decode_varint32(&rest[a + b..]).map_err(|_| fault(at, "bad value length"))?.1,
        EntryFormat::DeltaHandle { .. } => 0,
    };
    let kstart = at + a + b + c;
    kstart
        .checked_add(non_shared as usize)
        .and_then(|end| data.get(kstart..end))
        .ok_or(fault(at, "entry runs past the end of the block"))
}

/// Position in a block, kept apart from the block and the key buffer so that owners that swap blocks (the table
/// cursor) can hold it without borrowing. Most callers want [`BlockIter`].
///
/// A cursor describes one block: after a `seek*` on a block, pass that same block (and key buffer) to `next`
/// and `prev`. To move to another block, seek again or start from [`BlockCursor::new`].
#[derive(Debug, Clone, Copy, Default)]
pub struct BlockCursor {
    valid: bool,
    current: usize,
    next: usize,
    restart_index: usize,
    /// Offset of restart point `restart_index + 1` (the data length after the last), so stepping forward
    /// knows a restart entry without reading the restart array.
    next_restart: usize,
    value: (usize, usize),
    handle: BlockHandle,
    /// Entry offsets of one restart interval, recorded by `prev` so that stepping back through the interval
    /// does not walk it again from its restart point for every entry.
    back: BackCache,
}

/// Most entries per restart interval [`BackCache`] records (RocksDB's default interval is 16).
const BACK_CACHE_LEN: usize = 32;

/// The entry offsets of restart interval `restart`, from its restart entry on (`len` of them).
#[derive(Debug, Clone, Copy, Default)]
struct BackCache {
    restart: usize,
    len: usize,
    at: [u32; BACK_CACHE_LEN],
}

impl BlockCursor {
    /// An unpositioned cursor.
    pub const fn new() -> Self {
        BlockCursor {
            valid: false,
            current: 0,
            next: 0,
            restart_index: 0,
            next_restart: 0,
            value: (0, 0),
            handle: BlockHandle::NULL,
            back: BackCache { restart: 0, len: 0, at: [0; BACK_CACHE_LEN] },
        }
    }

    /// True when positioned on an entry.
    pub fn valid(&self) -> bool {
        self.valid
    }

    /// The current value (borrowed from the block); empty when not valid.
    pub fn value<'a>(&self, block: &Block<'a>) -> &'a [u8] {
        if !self.valid {
            return &[];
        }
        &block.data[self.value.0..self.value.0 + self.value.1]
    }

    /// Where the current value lies in the block's entry bytes, `(start, len)`; `(0, 0)` when not valid.
    pub fn value_range(&self) -> (usize, usize) {
        if self.valid {
            self.value
        } else {
            (0, 0)
        }
    }

    /// The current entry's block handle ([`EntryFormat::DeltaHandle`] blocks only).
    pub fn handle(&self) -> BlockHandle {
        self.handle
    }

    /// Offset of the current entry in the block.
    pub fn offset(&self) -> usize {
        self.current
    }

    fn invalidate(&mut self) {
        self.valid = false;
    }

    /// Decodes the entry at `at`, which is not a restart point, on top of the key in `key`.
    #[inline]
    fn step_to(&mut self, block: &Block<'_>, key: &mut impl KeyBuf, at: usize) -> Result<()> {
        let e = decode_entry(block, at, self.handle, key.as_slice().len())?;
        self.apply(block, key, at, e)
    }

    /// Points `restart_index` at restart `index` and caches where the next one starts.
    #[inline]
    fn set_restart(&mut self, block: &Block<'_>, index: usize) {
        self.restart_index = index;
        self.next_restart = if index + 1 < block.num_restarts() { block.restart(index + 1) } else { block.data.len() };
    }

    /// Makes the decoded entry `e` at `at` the current one.
    #[inline]
    fn apply(&mut self, block: &Block<'_>, key: &mut impl KeyBuf, at: usize, e: RawEntry) -> Result<()> {
        key.replace_tail(e.shared, &block.data[e.key_delta.0..e.key_delta.0 + e.key_delta.1])?;
        self.current = at;
        self.next = e.next;
        self.value = e.value;
        self.handle = e.handle;
        self.valid = true;
        Ok(())
    }

    fn seek_to_restart(&mut self, block: &Block<'_>, key: &mut impl KeyBuf, index: usize) -> Result<()> {
        self.set_restart(block, index);
        self.handle = BlockHandle::NULL;
        let at = block.restart(index);
        let e = decode_entry(block, at, BlockHandle::NULL, 0)?;
        if e.shared != 0 {
            return Err(corrupt(at, "restart entry shares a prefix"));
        }
        self.apply(block, key, at, e)
    }

    /// Moves to the first entry (invalid if the block is empty).
    pub fn seek_to_first(&mut self, block: &Block<'_>, key: &mut impl KeyBuf) -> Result<()> {
        self.invalidate();
        self.back.len = 0;
        if block.is_empty() {
            return Ok(());
        }
        self.seek_to_restart(block, key, 0)
    }

    /// Moves to the last entry (invalid if the block is empty).
    pub fn seek_to_last(&mut self, block: &Block<'_>, key: &mut impl KeyBuf) -> Result<()> {
        self.invalidate();
        self.back.len = 0;
        if block.is_empty() {
            return Ok(());
        }
        self.seek_to_restart(block, key, block.num_restarts() - 1)?;
        while self.next < block.data.len() {
            let at = self.next;
            self.step_to(block, key, at)?;
        }
        Ok(())
    }

    /// Moves to the next entry; becomes invalid past the last.
    #[allow(clippy::should_implement_trait)] // A positional cursor, not an Iterator: it also goes back and seeks.
    pub fn next(&mut self, block: &Block<'_>, key: &mut impl KeyBuf) -> Result<()> {
        if !self.valid {
            return Ok(());
        }
        let at = self.next;
        if at >= block.data.len() {
            self.invalidate();
            return Ok(());
        }
        if at < self.next_restart {
            self.step_to(block, key, at)
        } else if at == self.next_restart {
            self.seek_to_restart(block, key, self.restart_index + 1)
        } else {
            self.invalidate();
            Err(corrupt(at, "entries do not line up with the restart points"))
        }
    }

    /// Moves to the previous entry; becomes invalid before the first.
    pub fn prev(&mut self, block: &Block<'_>, key: &mut impl KeyBuf) -> Result<()> {
        if !self.valid {
            return Ok(());
        }
        let target = self.current;
        if self.prev_cached(block, key)? {
            return Ok(());
        }
        // Find the restart region holding the entry before `target`, then walk forward to it, recording the
        // entry offsets for the next steps back.
        let mut ri = self.restart_index;
        while block.restart(ri) >= target {
            if ri == 0 {
                self.invalidate();
                return Ok(());
            }
            ri -= 1;
        }
        self.seek_to_restart(block, key, ri)?;
        self.back.restart = ri;
        self.back.len = 1;
        self.back.at[0] = self.current as u32;
        let mut overflow = false;
        while self.next < target {
            let at = self.next;
            self.step_to(block, key, at)?;
            match self.back.at.get_mut(self.back.len) {
                Some(slot) if !overflow => {
                    *slot = at as u32;
                    self.back.len += 1;
                }
                // A longer interval than the cache holds: keep walking, without the cache.
                _ => overflow = true,
            }
        }
        if overflow {
            self.back.len = 0;
        }
        if self.next != target {
            self.invalidate();
            return Err(corrupt(target, "entries do not chain to the current one"));
        }
        Ok(())
    }

    /// Steps back within the recorded restart interval: rebuilds the previous key from the current one and the
    /// key deltas of the entries before it, without decoding the interval again. False if the cache does not
    /// cover this step (then nothing changed).
    fn prev_cached(&mut self, block: &Block<'_>, key: &mut impl KeyBuf) -> Result<bool> {
        // Delta-encoded index values chain handles forward; those blocks take the plain walk.
        let cache = &self.back;
        if block.format != EntryFormat::LengthPrefixed || cache.restart != self.restart_index || cache.len < 2 {
            return Ok(false);
        }
        let Some(j) = cache.at[1..cache.len].iter().position(|&a| a as usize == self.current).map(|p| p + 1) else {
            return Ok(false);
        };
        let cur = decode_entry(block, self.current, self.handle, key.as_slice().len())?;
        let prev_at = cache.at[j - 1] as usize;
        let prev = decode_entry(block, prev_at, self.handle, usize::MAX)?;
        let keep = cur.shared;
        // Bytes [keep, prev_len) of the previous key: each position comes from the latest entry at or before
        // j - 1 whose delta starts at or before it. Walk back collecting (delta start, length) pieces.
        let prev_len = prev.shared + prev.key_delta.1;
        let mut pieces = [(0usize, 0usize); BACK_CACHE_LEN];
        let mut n = 0;
        let mut lo = prev_len;
        let mut m = j - 1;
        while lo > keep {
            let e = if m == j - 1 { prev } else { decode_entry(block, cache.at[m] as usize, self.handle, usize::MAX)? };
            if e.shared < lo {
                let from = e.shared.max(keep);
                // Positions [from, lo) of this entry's key lie in its delta at from - shared.
                let (start, len) = e.key_delta;
                let skip = from - e.shared;
                if lo - e.shared > len {
                    return Err(corrupt(cache.at[m] as usize, "entries do not chain to the current one"));
                }
                pieces[n] = (start + skip, lo - from);
                n += 1;
                lo = from;
            }
            if lo <= keep {
                break;
            }
            if m == 0 {
                return Err(corrupt(prev_at, "entries do not chain to the current one"));
            }
            m -= 1;
        }
        // Apply the pieces in key order (they were collected back to front).
        let mut len = keep;
        for &(start, plen) in pieces[..n].iter().rev() {
            key.replace_tail(len, &block.data[start..start + plen])?;
            len += plen;
        }
        if n == 0 {
            key.replace_tail(keep, &[])?;
        }
        self.current = prev_at;
        self.next = prev.next;
        self.value = prev.value;
        Ok(true)
    }

    /// Moves to the first entry with key ≥ `target` in `order`; invalid if there is none.
    pub fn seek(&mut self, block: &Block<'_>, key: &mut impl KeyBuf, target: &[u8], order: KeyOrder) -> Result<()> {
        // One copy of the search per order, so the comparison inlines into its loops.
        match order {
            KeyOrder::Bytewise => self.seek_by(block, key, target, compare_bytes),
            KeyOrder::Internal => self.seek_by(block, key, target, crate::key::compare_internal),
            KeyOrder::InternalByUser => self.seek_by(block, key, target, |a, b| KeyOrder::InternalByUser.compare(a, b)),
            o @ (KeyOrder::InternalByUserTs { .. } | KeyOrder::UserTs { .. }) => {
                self.seek_by(block, key, target, |a, b| o.compare(a, b))
            }
        }
    }

    #[inline(always)]
    fn seek_by(
        &mut self,
        block: &Block<'_>,
        key: &mut impl KeyBuf,
        target: &[u8],
        compare: impl Fn(&[u8], &[u8]) -> Ordering,
    ) -> Result<()> {
        self.invalidate();
        self.back.len = 0;
        if block.is_empty() {
            return Ok(());
        }
        // Binary search for the last restart whose key is < target.
        let (mut left, mut right) = (0usize, block.num_restarts() - 1);
        while left < right {
            let mid = left + (right - left).div_ceil(2);
            let k = restart_key(block, block.restart(mid))?;
            if compare(k, target) == Ordering::Less {
                left = mid;
            } else {
                right = mid - 1;
            }
        }
        // The answer lies in restart interval `left`, or is the first entry of the next one (whose key is not
        // below the target, by the search). Walk the interval without per-step restart bookkeeping.
        self.set_restart(block, left);
        let start = block.restart(left);
        let limit = self.next_restart;
        let first = decode_entry(block, start, BlockHandle::NULL, 0)?;
        if first.shared != 0 {
            return Err(corrupt(start, "restart entry shares a prefix"));
        }
        let mut at = start;
        let mut e = first;
        loop {
            self.apply(block, key, at, e)?;
            if compare(key.as_slice(), target) != Ordering::Less {
                return Ok(());
            }
            at = self.next;
            if at >= limit {
                break;
            }
            e = decode_entry(block, at, self.handle, key.as_slice().len())?;
        }
        if at != limit {
            self.invalidate();
            return Err(corrupt(at, "entries do not line up with the restart points"));
        }
        if at >= block.data.len() {
            self.invalidate();
            return Ok(());
        }
        self.seek_to_restart(block, key, left + 1)
    }
}

/// An iterator over one block that owns its key buffer.
#[derive(Debug)]
pub struct BlockIter<'a, K: KeyBuf> {
    block: Block<'a>,
    order: KeyOrder,
    cursor: BlockCursor,
    key: K,
}

impl<'a, K: KeyBuf> BlockIter<'a, K> {
    /// True when positioned on an entry.
    pub fn valid(&self) -> bool {
        self.cursor.valid()
    }
    /// The current key (rebuilt in the key buffer).
    pub fn key(&self) -> &[u8] {
        if self.cursor.valid() {
            self.key.as_slice()
        } else {
            &[]
        }
    }
    /// The current value, borrowed from the block.
    pub fn value(&self) -> &'a [u8] {
        self.cursor.value(&self.block)
    }
    /// The current handle (delta-encoded index blocks).
    pub fn handle(&self) -> BlockHandle {
        self.cursor.handle()
    }
    /// See [`BlockCursor::seek_to_first`].
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.cursor.seek_to_first(&self.block, &mut self.key)
    }
    /// See [`BlockCursor::seek_to_last`].
    pub fn seek_to_last(&mut self) -> Result<()> {
        self.cursor.seek_to_last(&self.block, &mut self.key)
    }
    /// See [`BlockCursor::next`].
    #[allow(clippy::should_implement_trait)] // A positional cursor, not an Iterator: it also goes back and seeks.
    pub fn next(&mut self) -> Result<()> {
        self.cursor.next(&self.block, &mut self.key)
    }
    /// See [`BlockCursor::prev`].
    pub fn prev(&mut self) -> Result<()> {
        self.cursor.prev(&self.block, &mut self.key)
    }
    /// See [`BlockCursor::seek`].
    pub fn seek(&mut self, target: &[u8]) -> Result<()> {
        self.cursor.seek(&self.block, &mut self.key, target, self.order)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::block::builder::BlockBuilder;
    use std::vec::Vec;

    fn build(keys: &[Vec<u8>], interval: usize, buf: &mut [u8]) -> usize {
        let mut b = BlockBuilder::new(buf, interval);
        for (i, k) in keys.iter().enumerate() {
            b.add(k, &i.to_le_bytes()).unwrap();
        }
        b.finish().len()
    }

    fn keys(n: usize) -> Vec<Vec<u8>> {
        (0..n).map(|i| std::format!("key{:05}", i * 3).into_bytes()).collect()
    }

    /// Backward steps (cached within a restart interval) give the same keys and values as forward ones, for
    /// keys whose shared prefixes grow and shrink, intervals below and above the cache size, and walks that
    /// turn around.
    #[test]
    fn prev_matches_next_for_varied_keys() {
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        let mut rnd = |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for interval in [1, 2, 5, 16, 31, 32, 33, 64] {
            let mut set = std::collections::BTreeSet::new();
            while set.len() < 300 {
                let len = 1 + rnd(24) as usize;
                let k: Vec<u8> =
                    (0..len).map(|i| if i < len / 2 { b'a' + rnd(2) as u8 } else { rnd(256) as u8 }).collect();
                set.insert(k);
            }
            let ks: Vec<Vec<u8>> = set.into_iter().collect();
            let mut buf = std::vec![0u8; 65536];
            let len = build(&ks, interval, &mut buf);
            let block = Block::parse(&buf[..len]).unwrap();
            let mut it = block.iter(KeyOrder::Bytewise, Vec::new());
            it.seek_to_last().unwrap();
            for i in (0..ks.len()).rev() {
                assert!(it.valid(), "interval {interval} entry {i}");
                assert_eq!(it.key(), ks[i].as_slice(), "interval {interval} entry {i}");
                assert_eq!(it.value(), &i.to_le_bytes());
                it.prev().unwrap();
            }
            assert!(!it.valid());
            // Random walks: back and forth from random seeks.
            for _ in 0..200 {
                let mut i = rnd(ks.len() as u64) as usize;
                it.seek(&ks[i]).unwrap();
                for _ in 0..40 {
                    if rnd(3) == 0 {
                        it.next().unwrap();
                        i += 1;
                    } else {
                        it.prev().unwrap();
                        if i == 0 {
                            assert!(!it.valid());
                            break;
                        }
                        i -= 1;
                    }
                    if i == ks.len() {
                        assert!(!it.valid());
                        break;
                    }
                    assert_eq!(it.key(), ks[i].as_slice(), "interval {interval} entry {i}");
                    assert_eq!(it.value(), &i.to_le_bytes());
                }
            }
        }
    }

    #[test]
    fn forward_backward_seek() {
        for interval in [1, 2, 3, 16] {
            for n in [0, 1, 2, 17, 100] {
                let ks = keys(n);
                let mut buf = [0u8; 8192];
                let len = build(&ks, interval, &mut buf);
                let block = Block::parse(&buf[..len]).unwrap();
                let mut it = block.iter(KeyOrder::Bytewise, heapless::Vec::<u8, 64>::new());
                it.seek_to_first().unwrap();
                let mut got = Vec::new();
                while it.valid() {
                    got.push(it.key().to_vec());
                    assert_eq!(it.value(), &(got.len() - 1).to_le_bytes());
                    it.next().unwrap();
                }
                assert_eq!(got, ks);
                it.seek_to_last().unwrap();
                let mut back = Vec::new();
                while it.valid() {
                    back.push(it.key().to_vec());
                    it.prev().unwrap();
                }
                back.reverse();
                assert_eq!(back, ks);
                for i in 0..n * 3 + 2 {
                    let t = std::format!("key{:05}", i).into_bytes();
                    it.seek(&t).unwrap();
                    let want = ks.iter().find(|k| **k >= t);
                    assert_eq!(it.valid().then(|| it.key().to_vec()).as_ref(), want, "seek {i}");
                }
            }
        }
    }

    #[test]
    fn bytewise_matches_slice_order() {
        let words: [&[u8]; 12] = [
            b"",
            b"a",
            b"abcdefg",
            b"abcdefgh",
            b"abcdefgh\0",
            b"abcdefgi",
            b"abcdefghabcdefgh",
            b"abcdefghabcdefgi",
            b"abcdefghabcdefgh1",
            b"\xff\xff\xff\xff\xff\xff\xff\xff",
            b"\x00\x00\x00\x00\x00\x00\x00\x01",
            b"0123456789abcdef",
        ];
        for a in words {
            for b in words {
                assert_eq!(compare_bytes(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn rejects_bad_restarts() {
        assert!(Block::parse(&[]).is_err());
        assert!(Block::parse(&[1, 0, 0]).is_err());
        assert!(Block::parse(&[0, 0, 0, 0, 1, 0, 0, 0]).unwrap().is_empty());
        assert!(Block::parse(&[0xff, 0xff, 0xff, 0x7f]).is_err());
        // Restart offset points past the data.
        assert!(Block::parse(&[0, 1, 0, b'a', 9, 0, 0, 0, 1, 0, 0, 0]).is_err());
        // First restart not zero.
        assert!(Block::parse(&[0, 1, 0, b'a', 1, 0, 0, 0, 1, 0, 0, 0]).is_err());
    }

    #[test]
    fn hash_index_flag_is_skipped() {
        let mut buf = [0u8; 256];
        let len = build(&keys(5), 2, &mut buf);
        // Rewrite the tail as RocksDB does: restarts, 3 buckets, u16 count, flagged word.
        let mut v = buf[..len - 4].to_vec();
        v.extend_from_slice(&[255, 0, 254]);
        v.extend_from_slice(&3u16.to_le_bytes());
        v.extend_from_slice(&(3u32 | 0x8000_0000).to_le_bytes());
        let block = Block::parse(&v).unwrap();
        assert_eq!(block.num_restarts(), 3);
        let mut it = block.iter(KeyOrder::Bytewise, heapless::Vec::<u8, 64>::new());
        it.seek(b"key00006").unwrap();
        assert_eq!(it.key(), b"key00006");
    }

    #[test]
    fn corrupt_entries_error_instead_of_panic() {
        let ks = keys(40);
        let mut buf = [0u8; 4096];
        let len = build(&ks, 4, &mut buf);
        for i in 0..len {
            for bit in 0..8 {
                let mut v = buf[..len].to_vec();
                v[i] ^= 1 << bit;
                if let Ok(block) = Block::parse(&v) {
                    let mut it = block.iter(KeyOrder::Bytewise, heapless::Vec::<u8, 16>::new());
                    let _ = it.seek_to_first();
                    let mut steps = 0;
                    while it.valid() && steps < 100 {
                        if it.next().is_err() {
                            break;
                        }
                        steps += 1;
                    }
                    let _ = it.seek_to_last();
                    while it.valid() && steps < 200 {
                        if it.prev().is_err() {
                            break;
                        }
                        steps += 1;
                    }
                    let _ = it.seek(b"key00050");
                }
            }
        }
    }
}
