//! The entry a reader hands out, and reading entries out of one uncompressed data block.

use crate::block::{Block, BlockCursor, KeyOrder};
use crate::error::{Error, Part, Result};
use crate::key::{split_internal_key, split_timestamp, ValueType};
use crate::keybuf::KeyBuf;
use crate::value::Payload;

/// One entry as a reader hands it out: a cursor's current entry, or what a point lookup found (then, when a
/// range tombstone newer than any point entry covers the key, kind `RangeDeletion` with the tombstone's seqno).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry<'e> {
    /// The user key (without its timestamp, in a table with user-defined timestamps).
    pub user_key: &'e [u8],
    /// Its user-defined timestamp, in a table whose comparator carries them
    /// (`leveldb.BytewiseComparator.u64ts`); `None` elsewhere, and for a range tombstone a lookup yields.
    pub timestamp: Option<u64>,
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

/// How a table's stored keys become [`Entry`]s, and which versions a lookup sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EntryForm {
    /// The seqno every key is read with, for external files.
    pub global_seqno: Option<u64>,
    /// User keys end in an 8-byte timestamp, split off into [`Entry::timestamp`].
    pub timestamps: bool,
    /// With timestamps: a lookup sees only versions whose timestamp is ≤ this (`u64::MAX`: all).
    pub read_ts: u64,
}

impl Default for EntryForm {
    fn default() -> Self {
        EntryForm { global_seqno: None, timestamps: false, read_ts: u64::MAX }
    }
}

/// A table without timestamps, read with this global seqno (if any).
impl From<Option<u64>> for EntryForm {
    fn from(global_seqno: Option<u64>) -> Self {
        EntryForm { global_seqno, ..EntryForm::default() }
    }
}

impl EntryForm {
    /// The order to seek a data block's internal keys by a bare user key.
    pub fn order(&self) -> KeyOrder {
        if self.timestamps {
            KeyOrder::InternalByUserTs { read_ts: self.read_ts }
        } else {
            KeyOrder::InternalByUser
        }
    }

    /// The same form, a lookup seeing versions up to `read_ts`.
    pub fn at(self, read_ts: u64) -> Self {
        EntryForm { read_ts, ..self }
    }
}

/// Decodes an entry from its stored internal key and value, applying a global seqno and splitting off the
/// timestamp if the form says keys carry one.
pub fn decode_entry<'e>(internal_key: &'e [u8], value: &'e [u8], form: impl Into<EntryForm>) -> Result<Entry<'e>> {
    let form = form.into();
    let (user_key, trailer) = split_internal_key(internal_key)?;
    let kind = ValueType::parse(trailer as u8).map_err(|e| e.at(Part::DataBlock, 0))?;
    let (user_key, timestamp) = if form.timestamps {
        let (k, ts) = split_timestamp(user_key).ok_or(Error::corrupt(
            Part::DataBlock,
            0,
            "user key shorter than its timestamp",
        ))?;
        (k, Some(ts))
    } else {
        (user_key, None)
    };
    Ok(Entry { user_key, timestamp, seqno: form.global_seqno.unwrap_or(trailer >> 8), kind, value })
}

/// Looks `user_key` up in one uncompressed data block: its newest entry (with timestamps: the newest whose
/// timestamp is ≤ the form's `read_ts`), if the block holds it.
pub fn block_lookup<'b>(
    block_bytes: &'b [u8],
    user_key: &'b [u8],
    key: &mut impl KeyBuf,
    form: impl Into<EntryForm>,
) -> Result<Option<Entry<'b>>> {
    let form = form.into();
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    cur.seek(&block, key, user_key, form.order())?;
    if !cur.valid() {
        return Ok(None);
    }
    let e = decode_entry(key.as_slice(), cur.value(&block), form)?;
    if e.user_key != user_key {
        return Ok(None);
    }
    Ok(Some(Entry { user_key, value: cur.value(&block), ..e }))
}

/// What one data block says about the newest version of a user key a read at a snapshot sees
/// ([`block_lookup_as_of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionLookup {
    /// Found: its seqno, type and where its value lies in the block's bytes.
    Found {
        /// The version's seqno.
        seqno: u64,
        /// Its user-defined timestamp, in a table whose keys carry them.
        timestamp: Option<u64>,
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
    form: impl Into<EntryForm>,
) -> Result<VersionLookup> {
    let form = form.into();
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    cur.seek(&block, key, user_key, form.order())?;
    while cur.valid() {
        let e = decode_entry(key.as_slice(), cur.value(&block), form)?;
        if e.user_key != user_key {
            return Ok(VersionLookup::Absent);
        }
        if e.visible_at(snapshot) {
            let (start, len) = cur.value_range();
            let (seqno, timestamp, kind) = (e.seqno, e.timestamp, e.kind);
            return Ok(VersionLookup::Found { seqno, timestamp, kind, value: start..start + len });
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
    form: impl Into<EntryForm>,
    mut f: impl FnMut(Entry<'_>) -> Result<bool>,
) -> Result<bool> {
    let form = form.into();
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    match start {
        Some(s) => cur.seek(&block, key, s, form.order())?,
        None => cur.seek_to_first(&block, key)?,
    }
    while cur.valid() {
        let e = decode_entry(key.as_slice(), cur.value(&block), form)?;
        if !f(e)? {
            return Ok(false);
        }
        cur.next(&block, key)?;
    }
    Ok(true)
}
