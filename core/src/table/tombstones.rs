//! Range tombstones: reading a table's range-deletion block, and the rule that decides between a point entry
//! and the tombstones covering its key.

use crate::block::{Block, BlockCursor};
use crate::error::{Error, Part, Result};
use crate::key::{split_internal_key, ValueType};
use crate::keybuf::DefaultKeyBuf;
use crate::table::entry::Entry;

/// A range tombstone: user keys in `[start, end)` are deleted at `seqno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeTombstone<'a> {
    /// First deleted user key.
    pub start: &'a [u8],
    /// First user key not deleted.
    pub end: &'a [u8],
    /// Sequence number (the global seqno for external files).
    pub seqno: u64,
}

impl RangeTombstone<'_> {
    /// True if it covers `user_key`.
    pub fn covers(&self, user_key: &[u8]) -> bool {
        self.start <= user_key && user_key < self.end
    }
}

/// The newest of a point entry and the newest range tombstone covering the same key (its seqno): the
/// tombstone wins when it is strictly newer, as in RocksDB. The one place this rule is written.
/// `user_key` is the key looked up (the entry a tombstone yields carries it).
#[inline] // Was beside its caller in layout.rs; kept inlinable across modules.
pub fn newest_of<'v>(user_key: &'v [u8], point: Option<Entry<'v>>, tombstone: Option<u64>) -> Option<Entry<'v>> {
    let deleted = |seqno| Some(Entry { user_key, seqno, kind: ValueType::RangeDeletion, value: &[] });
    match (point, tombstone) {
        (Some(p), Some(t)) if t > p.seqno => deleted(t),
        (None, Some(t)) => deleted(t),
        (p, _) => p,
    }
}

/// Iterator over a table's range tombstones.
#[derive(Debug)]
pub struct RangeTombstones<'a> {
    block: Block<'a>,
    cursor: BlockCursor,
    key: DefaultKeyBuf,
    global_seqno: Option<u64>,
    err: Option<Error>,
    started: bool,
}

impl<'a> RangeTombstones<'a> {
    /// Iterates the tombstones of a range-deletion block (see [`MetaLayout::range_del`](crate::table::MetaLayout::range_del)).
    pub fn new(block: Block<'a>, global_seqno: Option<u64>) -> Self {
        let mut cursor = BlockCursor::new();
        let mut key = DefaultKeyBuf::new();
        let err = cursor.seek_to_first(&block, &mut key).err();
        RangeTombstones { block, cursor, key, global_seqno, err, started: false }
    }

    /// Seqno of the newest tombstone covering `user_key`.
    pub fn covering(self, user_key: &[u8]) -> Result<Option<u64>> {
        self.covering_as_of(user_key, u64::MAX)
    }

    /// Seqno of the newest tombstone covering `user_key` that a read at `snapshot` sees (seqno ≤ `snapshot`).
    pub fn covering_as_of(self, user_key: &[u8], snapshot: u64) -> Result<Option<u64>> {
        let mut best: Option<u64> = None;
        for t in self {
            let t = t?;
            if t.covers(user_key) && t.seqno <= snapshot {
                best = Some(best.map_or(t.seqno, |b| b.max(t.seqno)));
            }
        }
        Ok(best)
    }
}

impl<'a> Iterator for RangeTombstones<'a> {
    type Item = Result<RangeTombstone<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.err.take() {
            self.cursor = BlockCursor::new();
            return Some(Err(e));
        }
        if self.started {
            if let Err(e) = self.cursor.next(&self.block, &mut self.key) {
                self.cursor = BlockCursor::new();
                return Some(Err(e.at(Part::RangeDel, 0)));
            }
        }
        self.started = true;
        if !self.cursor.valid() {
            return None;
        }
        let r = (|| {
            let (start, trailer) = split_internal_key(self.key.as_slice())?;
            if trailer as u8 != ValueType::RangeDeletion as u8 {
                return Err(Error::corrupt(Part::RangeDel, 0, "range-deletion block entry of another type"));
            }
            // Start keys are rebuilt in a buffer; find the same bytes in the block so the tombstone can borrow
            // 'a (restart interval 1 keeps every key whole in the block).
            let data = self.block.data();
            let at = self.cursor.offset();
            let start = find_whole(data, at, start).ok_or(Error::corrupt(
                Part::RangeDel,
                at as u64,
                "range-deletion key is prefix-compressed",
            ))?;
            Ok(RangeTombstone {
                start,
                end: self.cursor.value(&self.block),
                seqno: self.global_seqno.unwrap_or(trailer >> 8),
            })
        })();
        if r.is_err() {
            self.cursor = BlockCursor::new();
        }
        Some(r)
    }
}

/// The key bytes of an entry stored whole (shared = 0) at `at`, if they equal `key`.
fn find_whole<'a>(data: &'a [u8], at: usize, key: &[u8]) -> Option<&'a [u8]> {
    let mut r = crate::varint::Reader::new(data.get(at..)?);
    let shared = r.varint32().ok()?;
    let non_shared = r.varint32().ok()? as usize;
    let _vlen = r.varint32().ok()?;
    if shared != 0 || non_shared < crate::key::INTERNAL_KEY_TRAILER_LEN {
        return None;
    }
    let start = at + r.position();
    let k = data.get(start..start + non_shared - crate::key::INTERNAL_KEY_TRAILER_LEN)?;
    (k == key).then_some(k)
}
