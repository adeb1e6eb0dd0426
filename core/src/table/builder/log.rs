//! The record log after the block regions: the first and last keys, one index record per data block (handle
//! and separator), the range tombstones and, for a partitioned index, a partition mark after each partition's
//! last index record (a bare cut, or the finished filter partition), in the order they came; while finishing,
//! the handles of the index partitions written.

use super::separator::{separator_len, VALUE_TYPE_FOR_SEEK};
use super::TableBuilder;
use crate::error::{Error, Result};
use crate::handle::{BlockHandle, MAX_HANDLE_LEN};
use crate::key::{pack_trailer, split_internal_key, InternalKey, INTERNAL_KEY_TRAILER_LEN, MAX_SEQNO};
use crate::table::workspace::Workspace;
use crate::varint::{decode_varint64, encode_varint64, MAX_VARINT32_LEN};

/// An index record: data-block handle, then its separator key.
pub(super) const TAG_INDEX: u8 = 1;
/// A range tombstone: seqno, start, end.
pub(super) const TAG_TOMBSTONE: u8 = 2;
/// The first internal key added.
pub(super) const TAG_FIRST_KEY: u8 = 3;
/// The last internal key added (logged when finishing starts).
pub(super) const TAG_LAST_KEY: u8 = 4;
/// End of an index partition (partitioned index without partitioned filters): no body.
pub(super) const TAG_CUT: u8 = 5;
/// End of an index partition with its finished filter partition (the full filter's bytes) as body.
pub(super) const TAG_FILTER: u8 = 6;
/// The handle of an index partition once written (while finishing): offset, size.
pub(super) const TAG_PART: u8 = 7;
/// Bytes a partition-handle record takes: tag and two varint64s.
pub(super) const PART_RECORD_LEN: usize = 1 + MAX_HANDLE_LEN;

/// True for the records that end an index partition.
pub(super) fn is_partition_mark(tag: u8) -> bool {
    tag == TAG_CUT || tag == TAG_FILTER
}

/// Bytes an index record takes besides its key: tag, handle, key length.
pub(super) const INDEX_RECORD_OVERHEAD: usize = 1 + MAX_HANDLE_LEN + MAX_VARINT32_LEN;
/// Bytes a first- or last-key record takes besides its key: tag, key length.
pub(super) const FIRST_KEY_RECORD_OVERHEAD: usize = 1 + MAX_VARINT32_LEN;

impl<W: Workspace> TableBuilder<W> {
    pub(super) fn records(&self) -> Records<'_> {
        Records { ws: self.ws.bytes(), pos: 2 * self.block_cap, end: self.log_end }
    }

    pub(super) fn find_key_record(&self, tag: u8) -> Option<&[u8]> {
        for r in self.records() {
            match r {
                Ok((t, body)) if t == tag => return split_internal_key(body).ok().map(|(u, _)| u),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    }

    pub(super) fn tombstone_at(&self, at: usize) -> Result<(u64, &[u8], &[u8])> {
        parse_tombstone(self.ws.bytes(), at)
    }

    /// The records from `from` to `to` (offsets relative to the log's start).
    pub(super) fn records_between(&self, from: usize, to: usize) -> Records<'_> {
        let base = 2 * self.block_cap;
        Records { ws: self.ws.bytes(), pos: base + from, end: base + to }
    }

    /// Appends a partition-handle record. Space was reserved by the caller.
    pub(super) fn append_part_record(&mut self, h: BlockHandle) -> Result<()> {
        let ws = self.ws.bytes_mut();
        let mut p = self.log_end;
        ws[p] = TAG_PART;
        p += 1;
        p += encode_varint64(h.offset, &mut ws[p..])?;
        p += encode_varint64(h.size, &mut ws[p..])?;
        self.log_end = p;
        Ok(())
    }

    /// Appends an index record for `handle`, with a separator between the last key and `next` (or the last key
    /// itself for the last block), and returns the separator's length. Space was reserved by the caller.
    pub(super) fn append_index_record(&mut self, handle: BlockHandle, next: Option<InternalKey<'_>>) -> Result<usize> {
        let last_end = self.cap() - self.back_reserved();
        let last_start = last_end - self.last_key_len;
        let (head, tail) = self.ws.bytes_mut().split_at_mut(last_start);
        let last = &tail[..last_end - last_start];
        let (last_user, _) = split_internal_key(last)?;
        let mut p = self.log_end;
        head[p] = TAG_INDEX;
        p += 1;
        p += encode_varint64(handle.offset, &mut head[p..])?;
        p += encode_varint64(handle.size, &mut head[p..])?;
        // Shorten only when the user keys differ; a shorter user key gets the max seqno so it still sorts after
        // every version of the last key.
        let key_at;
        let short_len = match next {
            Some(n) if n.user_key != last_user => separator_len(last_user, n.user_key),
            _ => last_user.len(),
        };
        if short_len < last_user.len() {
            let sep_len = short_len + INTERNAL_KEY_TRAILER_LEN;
            p += encode_varint64(sep_len as u64, &mut head[p..])?;
            key_at = p;
            let next_user = next.map(|n| n.user_key).unwrap_or(&[]);
            let n = crate::key::shortest_separator(last_user, next_user, &mut head[p..p + last_user.len()]);
            debug_assert_eq!(n, short_len);
            p += n;
            head[p..p + INTERNAL_KEY_TRAILER_LEN]
                .copy_from_slice(&pack_trailer(MAX_SEQNO, VALUE_TYPE_FOR_SEEK).to_le_bytes());
            p += INTERNAL_KEY_TRAILER_LEN;
        } else {
            p += encode_varint64(last.len() as u64, &mut head[p..])?;
            key_at = p;
            head[p..p + last.len()].copy_from_slice(last);
            p += last.len();
        }
        self.log_end = p;
        Ok(p - key_at)
    }

    pub(super) fn append_record_with_key(&mut self, tag: u8, key: InternalKey<'_>) -> Result<()> {
        let ws = self.ws.bytes_mut();
        let mut p = self.log_end;
        ws[p] = tag;
        p += 1;
        p += encode_varint64(key.encoded_len() as u64, &mut ws[p..])?;
        p += key.encode_into(&mut ws[p..])?;
        self.log_end = p;
        Ok(())
    }
}

/// Reads the record at `at`: `(tag, body, next)`. Index records' bodies are `offset, size, key`, tombstones'
/// `seqno, start, end`; key records' bodies are the key itself.
pub(super) fn read_record(ws: &[u8], at: usize) -> Result<(u8, &[u8], usize)> {
    let bad = || Error::corrupt(crate::error::Part::Table, at as u64, "builder record log damaged");
    let tag = *ws.get(at).ok_or_else(bad)?;
    let mut p = at + 1;
    match tag {
        TAG_INDEX => {
            let (_, a) = decode_varint64(&ws[p..])?;
            let (_, b) = decode_varint64(&ws[p + a..])?;
            let (k, c) = decode_varint64(&ws[p + a + b..])?;
            let end = p + a + b + c + k as usize;
            Ok((tag, ws.get(p..end).ok_or_else(bad)?, end))
        }
        TAG_TOMBSTONE => {
            let (_, a) = decode_varint64(&ws[p..])?;
            p += a;
            let (s, b) = decode_varint64(&ws[p..])?;
            p += b + s as usize;
            let (e, c) = decode_varint64(ws.get(p..).ok_or_else(bad)?)?;
            let end = p + c + e as usize;
            Ok((tag, ws.get(at + 1..end).ok_or_else(bad)?, end))
        }
        TAG_CUT => Ok((tag, &ws[p..p], p)),
        TAG_PART => {
            let (_, a) = decode_varint64(ws.get(p..).ok_or_else(bad)?)?;
            let (_, b) = decode_varint64(ws.get(p + a..).ok_or_else(bad)?)?;
            let end = p + a + b;
            Ok((tag, ws.get(p..end).ok_or_else(bad)?, end))
        }
        TAG_FIRST_KEY | TAG_LAST_KEY | TAG_FILTER => {
            let (k, a) = decode_varint64(&ws[p..])?;
            p += a;
            let end = p + k as usize;
            Ok((tag, ws.get(p..end).ok_or_else(bad)?, end))
        }
        _ => Err(bad()),
    }
}

/// The data-block handle and separator (an internal key) of an index record's body.
pub(super) fn parse_index_record(body: &[u8]) -> Result<(BlockHandle, &[u8])> {
    let (offset, a) = decode_varint64(body)?;
    let (size, b) = decode_varint64(&body[a..])?;
    let (klen, c) = decode_varint64(&body[a + b..])?;
    let key = body.get(a + b + c..a + b + c + klen as usize).ok_or(Error::corrupt(
        crate::error::Part::Table,
        0,
        "builder record log damaged",
    ))?;
    Ok((BlockHandle::new(offset, size), key))
}

/// The handle of a partition-handle record's body.
pub(super) fn parse_part_record(body: &[u8]) -> Result<BlockHandle> {
    let (offset, a) = decode_varint64(body)?;
    let (size, _) = decode_varint64(&body[a..])?;
    Ok(BlockHandle::new(offset, size))
}

/// The `(seqno, start, end)` of the tombstone record at `at`.
pub(super) fn parse_tombstone(ws: &[u8], at: usize) -> Result<(u64, &[u8], &[u8])> {
    let (_, body, _) = read_record(ws, at)?;
    let (seqno, a) = decode_varint64(body)?;
    let (s, b) = decode_varint64(&body[a..])?;
    let start = &body[a + b..a + b + s as usize];
    let rest = &body[a + b + s as usize..];
    let (e, c) = decode_varint64(rest)?;
    Ok((seqno, start, &rest[c..c + e as usize]))
}

/// The records between two offsets of the workspace.
pub(super) struct Records<'w> {
    pub(super) ws: &'w [u8],
    pub(super) pos: usize,
    pub(super) end: usize,
}

impl<'w> Iterator for Records<'w> {
    type Item = Result<(u8, &'w [u8])>;
    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.end {
            return None;
        }
        match read_record(self.ws, self.pos) {
            Ok((tag, body, next)) => {
                self.pos = next;
                Some(Ok((tag, body)))
            }
            Err(e) => {
                self.pos = self.end;
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_read_back_and_a_damaged_log_is_an_error() {
        let mut b = TableBuilder::new([0u8; 16 * 1024], crate::table::Options::default()).unwrap();
        b.put(b"apple", b"1").unwrap();
        b.delete_range(b"b", b"c").unwrap();
        let start = 2 * b.block_cap;
        let tags: std::vec::Vec<u8> = b.records().map(|r| r.unwrap().0).collect();
        assert_eq!(tags, [TAG_FIRST_KEY, TAG_TOMBSTONE]);
        let at = read_record(b.ws.bytes(), start).unwrap().2;
        assert_eq!(parse_tombstone(b.ws.bytes(), at).unwrap(), (0, &b"b"[..], &b"c"[..]));
        assert_eq!(b.first_user_key(), Some(&b"apple"[..]));
        b.ws[start] = 9;
        assert!(read_record(b.ws.bytes(), start).is_err());
        assert!(b.records().next().unwrap().is_err());
    }

    #[test]
    fn the_index_record_overhead_bounds_a_real_record() {
        let mut buf = [0u8; 64];
        let mut p = 1;
        p += encode_varint64(u64::MAX, &mut buf[p..]).unwrap();
        p += encode_varint64(u64::MAX, &mut buf[p..]).unwrap();
        p += encode_varint64(u64::from(u32::MAX), &mut buf[p..]).unwrap();
        assert_eq!(p, INDEX_RECORD_OVERHEAD);
    }
}
