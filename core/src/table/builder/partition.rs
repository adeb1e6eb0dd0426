//! Partitions while building (index type 2): the open index partition's size estimate, when a partition is
//! closed, and closing it (a bare mark in the record log, or the finished filter partition built from the
//! hashes kept for it, which are then dropped).

use super::filter::kept_hashes;
use super::log::{TAG_CUT, TAG_FILTER};
use super::{TableBuilder, HASH_LEN};
use crate::error::Result;
use crate::handle::BlockHandle;
use crate::table::options::IndexType;
use crate::table::workspace::Workspace;
use crate::varint::{encode_varint64, varint_len, MAX_VARINT32_LEN};

/// An index entry's header when its lengths are under 128 bytes: shared, unshared and value lengths.
const ENTRY_HEADER_TYPICAL: usize = 3;
/// A restart point.
const RESTART_LEN: usize = 4;

/// The open index partition.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct OpenPartition {
    /// Estimated bytes of its index block: whole keys, whole handles, a restart point every
    /// `index_restart_interval` entries (prefix compression and size deltas make the real block smaller).
    index_bytes: usize,
    /// Index entries in it.
    entries: usize,
}

impl<W: Workspace> TableBuilder<W> {
    /// True when the index is partitioned.
    pub(super) fn partitioned_index(&self) -> bool {
        self.opts.index_type == IndexType::Partitioned
    }

    /// Log bytes closing the open partition takes now, at most: the mark, with the filter partition.
    pub(super) fn cut_room(&self) -> usize {
        if !self.partitioned_index() {
            return 0;
        }
        match self.bloom {
            Some(b) if self.opts.partitioned_filter() => 1 + MAX_VARINT32_LEN + b.filter_len(self.hashes),
            _ => 1,
        }
    }

    /// Counts the index entry just logged (a separator of `sep_len` bytes for the block at `handle`) in the open
    /// partition, and closes the partition once one more entry like it would reach `metadata_block_size` (or,
    /// with partitioned filters, once its filter reached it). Returns true if the partition was closed. The
    /// caller reserved [`cut_room`](Self::cut_room).
    pub(super) fn note_index_entry(&mut self, sep_len: usize, handle: BlockHandle) -> Result<bool> {
        if !self.partitioned_index() {
            return Ok(false);
        }
        let restart = if self.part.entries % self.opts.index_restart_interval == 0 { RESTART_LEN } else { 0 };
        let entry = ENTRY_HEADER_TYPICAL + sep_len + varint_len(handle.offset) + varint_len(handle.size) + restart;
        self.part.index_bytes += entry;
        self.part.entries += 1;
        let target = self.opts.metadata_block_size;
        let index_full = self.part.index_bytes + entry >= target;
        let filter_bytes = (self.hashes as u64 * u64::from(self.opts.bloom_millibits_per_key)).div_ceil(8000);
        let filter_full = self.opts.partitioned_filter() && filter_bytes >= target as u64;
        if index_full || filter_full {
            self.cut_partition()?;
            return Ok(true);
        }
        Ok(false)
    }

    /// Closes the open partition (if it has entries) at the end of the table.
    pub(super) fn cut_last_partition(&mut self) -> Result<()> {
        if self.partitioned_index() && self.part.entries > 0 {
            self.cut_partition()?;
        }
        Ok(())
    }

    /// Logs the end of the open partition: with partitioned filters, its filter partition built from the kept
    /// hashes (which are dropped: the last-key copy below them moves up), else a bare mark.
    fn cut_partition(&mut self) -> Result<()> {
        self.part = OpenPartition::default();
        let cap = self.cap();
        let log_end = self.log_end;
        let (hashes_len, key_len) = (self.hashes * HASH_LEN, self.last_key_len);
        let ws = self.ws.bytes_mut();
        match self.bloom {
            Some(bloom) if self.opts.partitioned_filter() => {
                // No filter region with partitioned filters: the hashes end the workspace.
                let hashes_start = cap - hashes_len;
                let (head, hashes) = ws.split_at_mut(hashes_start);
                let len = bloom.filter_len_for(kept_hashes(hashes));
                let mut p = log_end;
                head[p] = TAG_FILTER;
                p += 1;
                p += encode_varint64(len as u64, &mut head[p..])?;
                p += bloom.build_into(kept_hashes(hashes), &mut head[p..p + len])?;
                ws.copy_within(hashes_start - key_len..hashes_start, cap - key_len);
                self.log_end = p;
                self.hashes = 0;
            }
            _ => {
                ws[log_end] = TAG_CUT;
                self.log_end = log_end + 1;
            }
        }
        Ok(())
    }
}
