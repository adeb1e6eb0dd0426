//! Range deletions: logged as they come (starts strictly increasing), written as the range-deletion block
//! (restart interval 1, keys `start ‖ trailer`, values the ends) at finish.

use super::log::{parse_tombstone, read_record, TAG_TOMBSTONE};
use super::TableBuilder;
use crate::block::{BlockState, ValueFraming};
use crate::error::{Error, KeyExcerpt, Result};
use crate::key::{InternalKey, ValueType, INTERNAL_KEY_TRAILER_LEN, MAX_SEQNO};
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};
use crate::varint::{encode_varint64, varint_len, MAX_VARINT32_LEN};

/// A range-deletion entry's header (shared, unshared, value lengths) and its restart point, at most.
const RANGE_DEL_ENTRY_OVERHEAD: usize = 3 * MAX_VARINT32_LEN + 4;

impl<W: Workspace> TableBuilder<W> {
    /// Deletes the user keys in `[start, end)`. Calls must come with strictly increasing `start`; they may be
    /// interleaved with point entries in any way.
    pub fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<()> {
        self.delete_range_at(start, end, self.opts.seqno)
    }

    /// [`delete_range`](Self::delete_range) with its own seqno.
    pub fn delete_range_at(&mut self, start: &[u8], end: &[u8], seqno: u64) -> Result<()> {
        self.check_building()?;
        if start >= end {
            return Err(Error::InvalidArgument { reason: "range deletion needs start < end" });
        }
        if seqno > MAX_SEQNO || (self.opts.external_file && seqno != 0) {
            return Err(Error::InvalidArgument { reason: "bad seqno for a range deletion" });
        }
        if let Some(at) = self.last_tombstone {
            let prev = self.tombstone_at(at)?.1;
            if start <= prev {
                return Err(Error::OutOfOrder { previous: KeyExcerpt::new(prev), key: KeyExcerpt::new(start) });
            }
        }
        let rec = 1
            + varint_len(seqno)
            + varint_len(start.len() as u64)
            + start.len()
            + varint_len(end.len() as u64)
            + end.len();
        self.reserve(self.block_cap, rec)?;
        let at = self.log_end;
        let mut p = at;
        let ws = self.ws.bytes_mut();
        ws[p] = TAG_TOMBSTONE;
        p += 1;
        p += encode_varint64(seqno, &mut ws[p..])?;
        p += encode_varint64(start.len() as u64, &mut ws[p..])?;
        ws[p..p + start.len()].copy_from_slice(start);
        p += start.len();
        p += encode_varint64(end.len() as u64, &mut ws[p..])?;
        ws[p..p + end.len()].copy_from_slice(end);
        p += end.len();
        self.log_end = p;
        self.last_tombstone = Some(at);
        let s = &mut self.stats;
        s.num_range_deletions += 1;
        s.raw_key_size += (start.len() + INTERNAL_KEY_TRAILER_LEN) as u64;
        s.raw_value_size += end.len() as u64;
        s.min_seqno = s.min_seqno.min(seqno);
        s.max_seqno = s.max_seqno.max(seqno);
        Ok(())
    }

    /// The smallest range-deletion start and the largest (exclusive) range-deletion end, if any.
    pub fn range_deletion_bounds(&self) -> Option<(&[u8], &[u8])> {
        let ws = self.ws.bytes();
        let mut bounds: Option<(&[u8], &[u8])> = None;
        let mut p = 2 * self.block_cap;
        while p < self.log_end {
            let (tag, _, next) = read_record(ws, p).ok()?;
            if tag == TAG_TOMBSTONE {
                let (_, start, end) = parse_tombstone(ws, p).ok()?;
                // Starts increase, so the first is the smallest; ends do not.
                bounds = Some(match bounds {
                    None => (start, end),
                    Some((s, e)) => (s, e.max(end)),
                });
            }
            p = next;
        }
        bounds
    }

    /// The range-deletion stage: builds and seals the block, if there are tombstones.
    pub(super) fn write_range_del(&mut self) -> Result<()> {
        if self.stats.num_range_deletions > 0 {
            let need = self.range_del_bound();
            self.reserve(self.block_cap, need)?;
            let n = self.build_range_del()?;
            let h = self.seal(self.log_end, n, CompressionType::None)?;
            self.range_del_handle = Some(h);
        }
        Ok(())
    }

    fn range_del_bound(&self) -> usize {
        let mut total = crate::block::EMPTY_BLOCK_LEN + BLOCK_TRAILER_LEN;
        let mut longest = 0;
        for r in self.records() {
            if let Ok((TAG_TOMBSTONE, body)) = r {
                total += RANGE_DEL_ENTRY_OVERHEAD + body.len() + INTERNAL_KEY_TRAILER_LEN;
                longest = longest.max(body.len() + INTERNAL_KEY_TRAILER_LEN);
            }
        }
        total + longest
    }

    fn build_range_del(&mut self) -> Result<usize> {
        let at = self.log_end;
        let longest = self.longest_tombstone_key();
        let mut state = BlockState::new(1, ValueFraming::LengthPrefixed);
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        // The block key is an internal key (start ‖ trailer), built in scratch at the end of the free area; the
        // block gets the same buffer on every call (its restarts live at the buffer's end).
        let end = out.len() - BLOCK_TRAILER_LEN;
        let blk_len = end.checked_sub(longest).ok_or(Error::BufferTooSmall { needed: longest })?;
        let (blk, scratch) = out[..end].split_at_mut(blk_len);
        let mut p = 2 * self.block_cap;
        while p < at {
            let (tag, _, next) = read_record(head, p)?;
            if tag == TAG_TOMBSTONE {
                let (seqno, start, stop) = parse_tombstone(head, p)?;
                let n = InternalKey::new(start, seqno, ValueType::RangeDeletion).encode_into(scratch)?;
                state.add(blk, &scratch[..n], stop)?;
            }
            p = next;
        }
        Ok(state.finish(blk))
    }

    fn longest_tombstone_key(&self) -> usize {
        let mut longest = 0;
        let ws = self.ws.bytes();
        let mut p = 2 * self.block_cap;
        while p < self.log_end {
            let Ok((tag, _, next)) = read_record(ws, p) else { break };
            if tag == TAG_TOMBSTONE {
                if let Ok((_, s, _)) = parse_tombstone(ws, p) {
                    longest = longest.max(s.len() + INTERNAL_KEY_TRAILER_LEN);
                }
            }
            p = next;
        }
        longest
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::table::{Options, Table, TableBuilder};

    #[test]
    fn tombstones_are_checked_bounded_and_written() {
        let mut b = TableBuilder::new(std::vec::Vec::new(), Options::default()).unwrap();
        assert!(matches!(b.delete_range(b"b", b"b"), Err(Error::InvalidArgument { .. })), "empty range");
        assert!(matches!(b.delete_range_at(b"b", b"c", 5), Err(Error::InvalidArgument { .. })), "external file");
        b.delete_range(b"b", b"z").unwrap();
        assert!(matches!(b.delete_range(b"a", b"c"), Err(Error::OutOfOrder { .. })));
        b.delete_range(b"c", b"d").unwrap();
        assert_eq!(b.range_deletion_bounds(), Some((&b"b"[..], &b"z"[..])));
        assert_eq!(b.stats().num_range_deletions, 2);
        b.finish().unwrap();
        let mut out = std::vec::Vec::new();
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
        assert!(b.handles().unwrap().range_del.is_some());
        let t = Table::open(&out).unwrap();
        let got: std::vec::Vec<_> =
            t.range_tombstones().map(|r| r.map(|r| (r.start, r.end))).collect::<Result<_, _>>().unwrap();
        assert_eq!(got, [(&b"b"[..], &b"z"[..]), (&b"c"[..], &b"d"[..])]);
    }
}
