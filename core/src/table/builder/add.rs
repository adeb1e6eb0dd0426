//! The add path: point entries in internal-key order, checked, hashed for the filter and appended to the
//! pending data block.

use super::{TableBuilder, HASH_LEN};
use crate::block::{BlockState, ValueFraming};
use crate::error::{Error, KeyExcerpt, Result};
use crate::filter::fast_bloom::{add_hash, key_hash};
use crate::filter::FULL_FILTER_METADATA_LEN;
use crate::key::{split_internal_key, InternalKey, ValueType, INTERNAL_KEY_TRAILER_LEN, MAX_SEQNO};
use crate::table::workspace::Workspace;
use crate::trailer::BLOCK_TRAILER_LEN;
use crate::varint::MAX_VARINT32_LEN;

use super::log::{FIRST_KEY_RECORD_OVERHEAD, INDEX_RECORD_OVERHEAD, TAG_FIRST_KEY};

/// A data-block entry's header: shared, unshared and value lengths, one varint32 each.
const ENTRY_HEADER_MAX: usize = 3 * MAX_VARINT32_LEN;
/// A restart point (4 bytes) and the restart count (4 bytes) the entry may add to its block.
const RESTART_ROOM: usize = 8;

impl<W: Workspace> TableBuilder<W> {
    /// Adds a value. User keys must strictly increase across `put`, `delete` and `merge`.
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Value), value, true)
    }

    /// Adds a point deletion.
    pub fn delete(&mut self, key: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Deletion), &[], true)
    }

    /// Adds a merge operand.
    pub fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<()> {
        self.add_inner(InternalKey::new(key, self.opts.seqno, ValueType::Merge), operand, true)
    }

    /// Adds an entry with its own seqno and type (for LSM engines). Internal keys must strictly increase:
    /// user key ascending, then seqno descending. Range deletions go through [`delete_range`](Self::delete_range).
    pub fn add(&mut self, key: InternalKey<'_>, value: &[u8]) -> Result<()> {
        if key.kind == ValueType::RangeDeletion {
            return Err(Error::InvalidArgument { reason: "range deletions go through delete_range" });
        }
        if key.seqno > MAX_SEQNO {
            return Err(Error::InvalidArgument { reason: "seqno exceeds 56 bits" });
        }
        if self.opts.external_file && key.seqno != 0 {
            return Err(Error::InvalidArgument { reason: "external files must use seqno 0" });
        }
        self.add_inner(key, value, false)
    }

    #[inline]
    pub(super) fn add_inner(&mut self, key: InternalKey<'_>, value: &[u8], strict_user: bool) -> Result<()> {
        self.check_building()?;
        let klen = key.encoded_len();
        let trailer = key.trailer();
        let mut same_user = false;
        if self.has_last_key {
            let (prev_user, prev_trailer) = split_internal_key(self.last_key())?;
            let user_ord = crate::key::compare_bytes(prev_user, key.user_key);
            same_user = user_ord == core::cmp::Ordering::Equal;
            let ord = user_ord.then(trailer.cmp(&prev_trailer));
            if ord != core::cmp::Ordering::Less || (strict_user && same_user) {
                return Err(Error::OutOfOrder {
                    previous: KeyExcerpt::new(prev_user),
                    key: KeyExcerpt::new(key.user_key),
                });
            }
        }
        let mut flush = self.should_flush(klen, value.len());
        // An entry that cannot join the pending block even though it is under target size also cuts it.
        let fits_now = || -> usize {
            let last = self.block.last_key(self.region(self.pending));
            let mut tmp_needed = self.block.needed_for(last, key.user_key, value.len());
            tmp_needed += INTERNAL_KEY_TRAILER_LEN * 2 + BLOCK_TRAILER_LEN;
            tmp_needed
        };
        // `size_after` plus the last-key copy bounds what `fits_now` computes exactly: skip it when that fits.
        let bound = self.block.size_after(key.user_key.len(), value.len())
            + key.user_key.len()
            + INTERNAL_KEY_TRAILER_LEN * 2
            + BLOCK_TRAILER_LEN;
        if !flush && !self.block.is_empty() && bound > self.block_cap && fits_now() > self.block_cap {
            flush = true;
        }
        if flush && self.output_pending() {
            return Err(Error::OutputPending);
        }
        // Space: a block region big enough for this entry alone, and log/back room for the index record, the
        // first-key record, the new hash and the new last-key copy (the old copy stays intact until replaced).
        // (Skip the exact figure when a generous bound already fits the regions: reserve ignores sizes below
        // the current region size.)
        let ulen = key.user_key.len();
        let alone_bound =
            ENTRY_HEADER_MAX + 2 * ulen + value.len() + RESTART_ROOM + INTERNAL_KEY_TRAILER_LEN * 2 + BLOCK_TRAILER_LEN;
        let alone = if alone_bound <= self.block_cap {
            0
        } else {
            BlockState::new(self.opts.restart_interval, ValueFraming::LengthPrefixed).needed_for(
                &[],
                key.user_key,
                value.len(),
            ) + INTERNAL_KEY_TRAILER_LEN * 2
                + BLOCK_TRAILER_LEN
        };
        let index_rec =
            if flush || self.pending_index.is_some() { INDEX_RECORD_OVERHEAD + self.last_key_len.max(klen) } else { 0 };
        let first_rec = if self.has_last_key { 0 } else { FIRST_KEY_RECORD_OVERHEAD + klen };
        // Room for a hash even for a repeated user key: it starts a partition if the record closes one.
        let new_hash_room = if self.bloom.is_some() && self.filter_region == 0 { HASH_LEN } else { 0 };
        let cut_room = if index_rec > 0 { self.cut_room() } else { 0 };
        let need_free = index_rec + cut_room + first_rec + self.last_key_len + new_hash_room + klen;
        self.reserve(alone, need_free)?;

        if flush {
            self.flush_block()?;
        }
        let mut partition_closed = false;
        if let Some(handle) = self.pending_index.take() {
            if same_user {
                // One user key spans two blocks: a user-key index could not tell them apart.
                self.index_needs_internal_keys = true;
            }
            let sep_len = self.append_index_record(handle, Some(key))?;
            partition_closed = self.note_index_entry(sep_len, handle)?;
        }
        // A user key's hash goes into the filter once; a filter partition starting with a later version of the
        // previous user key gets it too, so whichever partition a lookup lands on knows the key.
        let new_hash = if self.bloom.is_some() && (!same_user || (partition_closed && self.opts.partitioned_filter())) {
            HASH_LEN
        } else {
            0
        };
        if !self.has_last_key {
            self.append_record_with_key(TAG_FIRST_KEY, key)?;
        }
        // Push the filter hash, then replace the last-key copy (it sits just below the hashes).
        let cap = self.cap();
        if new_hash != 0 {
            let h = key_hash(key.user_key);
            if self.filter_region > 0 {
                let bits_len = self.filter_region - FULL_FILTER_METADATA_LEN - BLOCK_TRAILER_LEN;
                let start = cap - self.filter_region;
                let probes = self.bloom.map_or(0, |b| b.num_probes());
                add_hash(&mut self.ws.bytes_mut()[start..start + bits_len], probes, h);
            } else {
                let at = cap - self.back_reserved() - HASH_LEN;
                self.ws.bytes_mut()[at..at + HASH_LEN].copy_from_slice(&h.to_le_bytes());
                self.hashes += 1;
                if self.distinct_hashes == 0 || h != self.last_hash {
                    self.distinct_hashes += 1;
                }
                self.last_hash = h;
            }
        }
        let end = cap - self.back_reserved();
        let start = end - klen;
        key.encode_into(&mut self.ws.bytes_mut()[start..end])?;
        self.last_key_len = klen;
        self.has_last_key = true;
        // Add to the pending block: the key is read from its copy in the log/back area.
        let (regions, rest) = self.ws.bytes_mut().split_at_mut(2 * self.block_cap);
        let region = &mut regions[self.pending * self.block_cap..(self.pending + 1) * self.block_cap];
        let key_copy = &rest[start - 2 * self.block_cap..end - 2 * self.block_cap];
        self.block.add(region, key_copy, value)?;

        let s = &mut self.stats;
        match key.kind {
            ValueType::Value => s.num_puts += 1,
            ValueType::Deletion | ValueType::SingleDeletion | ValueType::DeletionWithTimestamp => s.num_deletions += 1,
            ValueType::Merge => s.num_merges += 1,
            _ => s.num_other += 1,
        }
        s.raw_key_size += klen as u64;
        s.raw_value_size += value.len() as u64;
        s.min_seqno = s.min_seqno.min(key.seqno);
        s.max_seqno = s.max_seqno.max(key.seqno);
        if new_hash != 0 {
            s.num_filter_entries += 1;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::key::{InternalKey, ValueType};
    use crate::table::{Options, TableBuilder};

    #[test]
    fn keys_must_increase_and_add_checks_seqnos() {
        let mut b = TableBuilder::new(alloc_ws(), Options::default()).unwrap();
        b.put(b"b", b"1").unwrap();
        assert!(matches!(b.put(b"a", b""), Err(Error::OutOfOrder { .. })));
        assert!(matches!(b.delete(b"b"), Err(Error::OutOfOrder { .. })), "a user key once only");
        let bad = InternalKey::new(b"c", 1, ValueType::Value);
        assert!(matches!(b.add(bad, b""), Err(Error::InvalidArgument { .. })), "external files use seqno 0");
        let range = InternalKey::new(b"c", 0, ValueType::RangeDeletion);
        assert!(matches!(b.add(range, b""), Err(Error::InvalidArgument { .. })));
        b.merge(b"c", b"op").unwrap();
        let s = b.stats();
        assert_eq!((s.num_puts, s.num_merges, s.raw_key_size, s.raw_value_size), (1, 1, 18, 3));
    }

    fn alloc_ws() -> [u8; 16 * 1024] {
        [0; 16 * 1024]
    }
}
