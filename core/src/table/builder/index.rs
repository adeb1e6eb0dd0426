//! The index block: one entry per data block, keyed by separators (user keys unless a user key spans two
//! blocks), with delta-encoded handles from format_version 4.

use super::log::{
    is_partition_mark, parse_index_record, parse_part_record, Records, PART_RECORD_LEN, TAG_INDEX, TAG_PART,
};
use super::TableBuilder;
use crate::block::{BlockState, ValueFraming};
use crate::error::Result;
use crate::handle::{BlockHandle, MAX_HANDLE_LEN};
use crate::key::split_internal_key;
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};
use crate::varint::{encode_varint64, zigzag_encode, MAX_VARINT32_LEN};

/// An index entry's header (shared, unshared, value lengths) and its restart point, at most.
const INDEX_ENTRY_OVERHEAD: usize = 3 * MAX_VARINT32_LEN + 4;
/// A block's restart count and first restart point.
const BLOCK_FOOTER_MIN: usize = crate::block::EMPTY_BLOCK_LEN;

/// Writes one index-format block (the index, an index partition, the top-level index or the filter-partition
/// index): separators in the table's key form, handles whole or (format_version ≥ 4) delta-encoded.
pub(super) struct IndexBlockWriter {
    state: BlockState,
    framing: ValueFraming,
    user_keys: bool,
    prev_size: u64,
}

impl IndexBlockWriter {
    /// Adds the entry `separator` (an internal key) → `handle` to the block being written in `out`.
    pub(super) fn add(&mut self, out: &mut [u8], separator: &[u8], handle: BlockHandle) -> Result<()> {
        let key = if self.user_keys { split_internal_key(separator)?.0 } else { separator };
        // RocksDB's delta-encoded index stores a bare size delta when the key shares a prefix with the one
        // before it (the offset follows from the previous block), and the whole handle otherwise.
        let delta = self.framing == ValueFraming::SelfDelimiting && self.state.shared_with(out, key) != 0;
        let mut vb = [0u8; MAX_HANDLE_LEN];
        let vn = if delta {
            encode_varint64(zigzag_encode(handle.size.wrapping_sub(self.prev_size) as i64), &mut vb)?
        } else {
            let (hb, hn) = handle.encode();
            vb[..hn].copy_from_slice(&hb[..hn]);
            hn
        };
        self.state.add(out, key, &vb[..vn])?;
        self.prev_size = handle.size;
        Ok(())
    }

    /// Ends the block; returns its length.
    pub(super) fn finish(&mut self, out: &mut [u8]) -> usize {
        self.state.finish(out)
    }
}

/// Room an index block needs for entries whose separators total `keys` bytes, the longest `longest`.
fn index_block_room(entries: usize, keys: usize, longest: usize) -> usize {
    BLOCK_FOOTER_MIN + BLOCK_TRAILER_LEN + entries * (INDEX_ENTRY_OVERHEAD + MAX_HANDLE_LEN) + keys + longest
}

impl<W: Workspace> TableBuilder<W> {
    /// The index stage: builds and seals the index block. Returns true when there is more to write (a
    /// partitioned index writes one partition per call, then the top-level index).
    pub(super) fn write_index(&mut self) -> Result<bool> {
        if self.partitioned_index() {
            return self.write_index_partition();
        }
        let need = self.index_block_bound();
        self.reserve(self.block_cap, need)?;
        let n = self.build_index()?;
        let h = self.seal(self.log_end, n, CompressionType::None)?;
        self.stats.index_size = n as u64 + BLOCK_TRAILER_LEN as u64;
        self.index_handle = h;
        Ok(false)
    }

    pub(super) fn user_key_index(&self) -> bool {
        !self.index_needs_internal_keys
    }

    /// A writer for an index-format block in this table's key form and entry format.
    pub(super) fn index_block_writer(&self) -> IndexBlockWriter {
        let framing =
            if self.opts.format_version >= 4 { ValueFraming::SelfDelimiting } else { ValueFraming::LengthPrefixed };
        IndexBlockWriter {
            state: BlockState::new(self.opts.index_restart_interval, framing),
            framing,
            user_keys: self.user_key_index(),
            prev_size: 0,
        }
    }

    fn index_block_bound(&self) -> usize {
        let (mut n, mut keys, mut longest) = (0, 0, 0);
        for r in self.records() {
            if let Ok((TAG_INDEX, body)) = r {
                n += 1;
                keys += body.len();
                longest = longest.max(body.len());
            }
        }
        index_block_room(n, keys, longest)
    }

    fn build_index(&mut self) -> Result<usize> {
        let at = self.log_end;
        let mut w = self.index_block_writer();
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        for r in (Records { ws: head, pos: 2 * self.block_cap, end: at }) {
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                let (h, key) = parse_index_record(body)?;
                w.add(out, key, h)?;
            }
        }
        Ok(w.finish(out))
    }

    /// One step of a partitioned index: logs the handle of the partition written last, then writes the next
    /// partition (its index records up to the next partition mark) or, when none is left, the top-level index.
    fn write_index_partition(&mut self) -> Result<bool> {
        if let Some(h) = self.written_partition.take() {
            self.reserve(self.block_cap, PART_RECORD_LEN)?;
            self.append_part_record(h)?;
        }
        // The next partition: the index records from `scan` to the next mark.
        let base = 2 * self.block_cap;
        let (mut n, mut keys, mut longest, mut end, mut after) = (0, 0, 0, self.parts_end, self.parts_end);
        let mut recs = self.records_between(self.scan, self.parts_end);
        loop {
            let pos = recs.pos;
            let Some(r) = recs.next() else { break };
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                n += 1;
                keys += body.len();
                longest = longest.max(body.len());
            } else if is_partition_mark(tag) {
                (end, after) = (pos - base, recs.pos - base);
                break;
            }
        }
        if n == 0 {
            return self.write_top_level_index().map(|()| false);
        }
        self.reserve(self.block_cap, index_block_room(n, keys, longest))?;
        let at = self.log_end;
        let base = 2 * self.block_cap;
        let mut w = self.index_block_writer();
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        for r in (Records { ws: head, pos: base + self.scan, end: base + end }) {
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                let (h, key) = parse_index_record(body)?;
                w.add(out, key, h)?;
            }
        }
        let len = w.finish(out);
        self.scan = after;
        let h = self.seal(at, len, CompressionType::None)?;
        self.stats.index_size += len as u64;
        self.stats.index_partitions += 1;
        self.written_partition = Some(h);
        Ok(true)
    }

    /// Room for an index-format block with one entry per partition, keyed by its last separator (the
    /// top-level index, the filter-partition index).
    pub(super) fn partition_index_room(&self) -> Result<usize> {
        let (mut n, mut keys, mut longest, mut last) = (0, 0, 0, 0);
        for r in self.records_between(0, self.parts_end) {
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                last = body.len();
            } else if is_partition_mark(tag) {
                n += 1;
                keys += last;
                longest = longest.max(last);
            }
        }
        Ok(index_block_room(n, keys, longest))
    }

    /// The top-level index of a partitioned index: each partition's last separator → the partition's handle
    /// (logged in partition order after `parts_end`).
    fn write_top_level_index(&mut self) -> Result<()> {
        self.reserve(self.block_cap, self.partition_index_room()?)?;
        let at = self.log_end;
        let base = 2 * self.block_cap;
        let parts_end = self.parts_end;
        let mut w = self.index_block_writer();
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        let mut handles = Records { ws: head, pos: base + parts_end, end: at };
        let mut last: &[u8] = &[];
        for r in (Records { ws: head, pos: base, end: base + parts_end }) {
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                last = body;
            } else if is_partition_mark(tag) {
                let h = loop {
                    match handles.next() {
                        Some(Ok((TAG_PART, b))) => break parse_part_record(b)?,
                        Some(Ok(_)) => {}
                        Some(Err(e)) => return Err(e),
                        None => {
                            return Err(crate::error::Error::corrupt(
                                crate::error::Part::Table,
                                0,
                                "builder record log lost a partition handle",
                            ))
                        }
                    }
                };
                let (_, key) = parse_index_record(last)?;
                w.add(out, key, h)?;
            }
        }
        let len = w.finish(out);
        let h = self.seal(at, len, CompressionType::None)?;
        self.stats.top_level_index_size = len as u64;
        self.stats.index_size += (len + BLOCK_TRAILER_LEN) as u64;
        self.index_handle = h;
        self.scan = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::key::{InternalKey, ValueType};
    use crate::table::{Options, Table, TableBuilder, TableWriter};

    fn build(opts: Options, keys: &[(&[u8], u64)]) -> std::vec::Vec<u8> {
        let mut w = TableWriter::new(TableBuilder::new(std::vec::Vec::new(), opts).unwrap(), std::vec::Vec::new());
        for (k, seq) in keys {
            w.add(InternalKey::new(k, *seq, ValueType::Value), &[b'v'; 40]).unwrap();
        }
        w.finish().unwrap().1
    }

    #[test]
    fn user_keys_unless_a_user_key_spans_blocks_and_delta_handles_from_v4() {
        let opts = |fv| Options::default().external_file(false).block_size(64).format_version(fv);
        let distinct: std::vec::Vec<(&[u8], u64)> = [&b"a"[..], b"b", b"c", b"d"].iter().map(|k| (*k, 1)).collect();
        for fv in [3, 4] {
            let t_file = build(opts(fv), &distinct);
            let t = Table::open(&t_file).unwrap();
            assert!(t.index_info().user_keys);
            assert_eq!(t.properties().index_value_is_delta_encoded, Some(u64::from(fv >= 4)));
        }
        let spanning: std::vec::Vec<(&[u8], u64)> = (1..6u64).rev().map(|s| (&b"k"[..], s)).collect();
        let file = build(opts(4), &spanning);
        assert!(!Table::open(&file).unwrap().index_info().user_keys, "one user key in two blocks");
    }
}
