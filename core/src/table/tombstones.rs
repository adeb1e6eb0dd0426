//! Range tombstones: reading a table's range-deletion block, and the rule that decides between a point entry
//! and the tombstones covering its key.

use crate::block::{Block, BlockCursor};
use crate::error::{Error, Part, Result};
use crate::key::{split_internal_key, split_timestamp, ValueType};
use crate::keybuf::DefaultKeyBuf;
use crate::table::entry::Entry;

/// A range tombstone: user keys in `[start, end)` are deleted at `seqno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeTombstone<'a> {
    /// First deleted user key (without its timestamp, in a table with user-defined timestamps).
    pub start: &'a [u8],
    /// First user key not deleted (without its timestamp).
    pub end: &'a [u8],
    /// Sequence number (the global seqno for external files).
    pub seqno: u64,
    /// Its user-defined timestamp (the start key's), in a table whose keys carry them.
    pub timestamp: Option<u64>,
}

impl RangeTombstone<'_> {
    /// True if it covers `user_key` (without timestamp).
    pub fn covers(&self, user_key: &[u8]) -> bool {
        self.start <= user_key && user_key < self.end
    }

    /// True if a reader at `read_ts` sees it: it has no timestamp, or one ≤ `read_ts`.
    pub fn visible_at(&self, read_ts: u64) -> bool {
        self.timestamp.is_none_or(|ts| ts <= read_ts)
    }
}

/// The newest range tombstone covering a key: its seqno and, in a table with user-defined timestamps, its
/// timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Covering {
    /// The tombstone's seqno.
    pub seqno: u64,
    /// The tombstone's timestamp (tables with user-defined timestamps).
    pub timestamp: Option<u64>,
}

/// The newest of a point entry and the newest range tombstone covering the same key (its seqno): the
/// tombstone wins when it is strictly newer, as in RocksDB. `user_key` is the key looked up (the entry a
/// tombstone yields carries it). See [`newest_of_covering`] for tombstones with timestamps.
#[inline] // Was beside its caller in layout.rs; kept inlinable across modules.
pub fn newest_of<'v>(user_key: &'v [u8], point: Option<Entry<'v>>, tombstone: Option<u64>) -> Option<Entry<'v>> {
    newest_of_covering(user_key, point, tombstone.map(|seqno| Covering { seqno, timestamp: None }))
}

/// The one place the point-vs-range-tombstone rule is written: the tombstone wins when its seqno is strictly
/// newer and, when both carry user-defined timestamps, its timestamp is not older than the point entry's (a
/// tombstone deletes the versions at or below its timestamp).
#[inline]
pub fn newest_of_covering<'v>(
    user_key: &'v [u8],
    point: Option<Entry<'v>>,
    tombstone: Option<Covering>,
) -> Option<Entry<'v>> {
    let deleted = |t: Covering| {
        Some(Entry { user_key, timestamp: t.timestamp, seqno: t.seqno, kind: ValueType::RangeDeletion, value: &[] })
    };
    match (point, tombstone) {
        (Some(p), Some(t))
            if t.seqno > p.seqno && !matches!((t.timestamp, p.timestamp), (Some(a), Some(b)) if a < b) =>
        {
            deleted(t)
        }
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
    timestamps: bool,
    err: Option<Error>,
    started: bool,
}

impl<'a> RangeTombstones<'a> {
    /// Iterates the tombstones of a range-deletion block (see [`MetaLayout::range_del`](crate::table::MetaLayout::range_del)).
    pub fn new(block: Block<'a>, global_seqno: Option<u64>) -> Self {
        let mut cursor = BlockCursor::new();
        let mut key = DefaultKeyBuf::new();
        let err = cursor.seek_to_first(&block, &mut key).err();
        RangeTombstones { block, cursor, key, global_seqno, timestamps: false, err, started: false }
    }

    /// The same tombstones in a table whose user keys end in an 8-byte timestamp (split off each start and
    /// end key into [`RangeTombstone::timestamp`]).
    pub fn with_timestamps(mut self, timestamps: bool) -> Self {
        self.timestamps = timestamps;
        self
    }

    /// Seqno of the newest tombstone covering `user_key`.
    pub fn covering(self, user_key: &[u8]) -> Result<Option<u64>> {
        Ok(self.covering_at(user_key, u64::MAX)?.map(|c| c.seqno))
    }

    /// The newest tombstone covering `user_key` that a reader at `read_ts` sees (with timestamps: those whose
    /// timestamp is ≤ `read_ts`; the newest by timestamp, then seqno).
    pub fn covering_at(self, user_key: &[u8], read_ts: u64) -> Result<Option<Covering>> {
        self.newest_covering(user_key, |t| t.visible_at(read_ts))
    }

    /// The newest tombstone covering `user_key` that a read at sequence number `snapshot` sees (seqno ≤
    /// `snapshot`; with timestamps, the newest by timestamp, then seqno).
    pub fn covering_as_of(self, user_key: &[u8], snapshot: u64) -> Result<Option<Covering>> {
        self.newest_covering(user_key, |t| t.seqno <= snapshot)
    }

    /// The newest (by timestamp, then seqno) tombstone covering `user_key` among those `visible` accepts.
    fn newest_covering(
        self,
        user_key: &[u8],
        visible: impl Fn(&RangeTombstone<'a>) -> bool,
    ) -> Result<Option<Covering>> {
        let mut best: Option<Covering> = None;
        for t in self {
            let t = t?;
            if t.covers(user_key) && visible(&t) {
                let c = Covering { seqno: t.seqno, timestamp: t.timestamp };
                if best.is_none_or(|b| (c.timestamp, c.seqno) > (b.timestamp, b.seqno)) {
                    best = Some(c);
                }
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
            let end = self.cursor.value(&self.block);
            let (start, end, timestamp) = if self.timestamps {
                let short =
                    || Error::corrupt(Part::RangeDel, at as u64, "range-deletion key shorter than its timestamp");
                let (start, ts) = split_timestamp(start).ok_or_else(short)?;
                let (end, _) = split_timestamp(end).ok_or_else(short)?;
                (start, end, Some(ts))
            } else {
                (start, end, None)
            };
            Ok(RangeTombstone { start, end, seqno: self.global_seqno.unwrap_or(trailer >> 8), timestamp })
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
