//! The entry a reader hands out, and reading entries out of one uncompressed data block.

use crate::block::{Block, BlockCursor, KeyOrder};
use crate::error::{Part, Result};
use crate::key::{split_internal_key, ValueType};
use crate::keybuf::KeyBuf;
use crate::value::Payload;

/// One entry as a reader hands it out: a cursor's current entry, or what a point lookup found (then, when a
/// range tombstone newer than any point entry covers the key, kind `RangeDeletion` with the tombstone's seqno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'e> {
    /// The user key.
    pub user_key: &'e [u8],
    /// Its seqno (the table's global seqno for external files; the tombstone's for range deletions).
    pub seqno: u64,
    /// Its type: Value, Merge, Deletion, ... or RangeDeletion from a point lookup.
    pub kind: ValueType,
    /// Its value (empty for deletions).
    pub value: &'e [u8],
}

impl Entry<'_> {
    /// True if the key is deleted (point deletion, or a range tombstone covering it).
    pub fn is_deleted(&self) -> bool {
        self.kind.is_deletion()
    }

    /// True if a read at `snapshot` sees this entry (its seqno is ≤ `snapshot`). Cursors and scans yield every
    /// version of a key; a scan at a snapshot skips the entries for which this is false.
    pub fn visible_at(&self, snapshot: u64) -> bool {
        self.seqno <= snapshot
    }
}

impl<'e> Entry<'e> {
    /// What the value means by the entry's type: the user value split from a preferred seqno, an entity's
    /// columns, a blob reference, ... (see [`Payload`]).
    pub fn payload(&self) -> Result<Payload<'e>> {
        Payload::decode(self.kind, self.value)
    }
}

/// Decodes an entry from its stored internal key and value, applying a global seqno.
pub fn decode_entry<'e>(internal_key: &'e [u8], value: &'e [u8], global_seqno: Option<u64>) -> Result<Entry<'e>> {
    let (user_key, trailer) = split_internal_key(internal_key)?;
    let kind = ValueType::parse(trailer as u8).map_err(|e| e.at(Part::DataBlock, 0))?;
    Ok(Entry { user_key, seqno: global_seqno.unwrap_or(trailer >> 8), kind, value })
}

/// Looks `user_key` up in one uncompressed data block: its newest entry, if the block holds it.
pub fn block_lookup<'b>(
    block_bytes: &'b [u8],
    user_key: &'b [u8],
    key: &mut impl KeyBuf,
    global_seqno: Option<u64>,
) -> Result<Option<Entry<'b>>> {
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    cur.seek(&block, key, user_key, KeyOrder::InternalByUser)?;
    if !cur.valid() {
        return Ok(None);
    }
    let e = decode_entry(key.as_slice(), cur.value(&block), global_seqno)?;
    if e.user_key != user_key {
        return Ok(None);
    }
    Ok(Some(Entry { user_key, seqno: e.seqno, kind: e.kind, value: cur.value(&block) }))
}

/// What one data block says about the newest version of a user key a read at a snapshot sees
/// ([`block_lookup_as_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionLookup {
    /// Found: its seqno, type and where its value lies in the block's bytes.
    Found {
        /// The version's seqno.
        seqno: u64,
        /// Its type.
        kind: ValueType,
        /// Its value: a range of the block's bytes.
        value: core::ops::Range<usize>,
    },
    /// The table holds no visible version: the block reached a larger user key (or holds none of this one).
    Absent,
    /// Every version of the key in this block is newer than the snapshot and the block ends on the key: older
    /// versions may follow in the next block.
    ReadOn,
}

/// Looks `user_key` up in one uncompressed data block as a read at `snapshot` sees it: the newest version with
/// seqno ≤ `snapshot` (versions are stored newest first, so the walk stops at the first visible one).
pub fn block_lookup_as_of(
    block_bytes: &[u8],
    user_key: &[u8],
    snapshot: u64,
    key: &mut impl KeyBuf,
    global_seqno: Option<u64>,
) -> Result<VersionLookup> {
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    cur.seek(&block, key, user_key, KeyOrder::InternalByUser)?;
    while cur.valid() {
        let e = decode_entry(key.as_slice(), cur.value(&block), global_seqno)?;
        if e.user_key != user_key {
            return Ok(VersionLookup::Absent);
        }
        if e.visible_at(snapshot) {
            let (start, len) = cur.value_range();
            return Ok(VersionLookup::Found { seqno: e.seqno, kind: e.kind, value: start..start + len });
        }
        cur.next(&block, key)?;
    }
    Ok(VersionLookup::ReadOn)
}

/// Calls `f` with every entry of one uncompressed data block from the first with user key ≥ `start`, until
/// `f` returns false. Returns false if `f` stopped early.
pub fn for_each_in_block(
    block_bytes: &[u8],
    start: Option<&[u8]>,
    key: &mut impl KeyBuf,
    global_seqno: Option<u64>,
    mut f: impl FnMut(Entry<'_>) -> Result<bool>,
) -> Result<bool> {
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    match start {
        Some(s) => cur.seek(&block, key, s, KeyOrder::InternalByUser)?,
        None => cur.seek_to_first(&block, key)?,
    }
    while cur.valid() {
        let e = decode_entry(key.as_slice(), cur.value(&block), global_seqno)?;
        if !f(e)? {
            return Ok(false);
        }
        cur.next(&block, key)?;
    }
    Ok(true)
}
