//! Finishing: a state machine that writes the last data block, then the filter, index, range-deletion,
//! properties and metaindex blocks and the footer, one output at a time.

use super::log::{INDEX_RECORD_OVERHEAD, TAG_LAST_KEY};
use super::{Output, Stage, TableBuilder};
use crate::error::Result;
use crate::footer::{Footer, FIRST_CONTEXT_CHECKSUM_VERSION, FOOTER_LEN, INDEX_HANDLE_NAME};
use crate::handle::BlockHandle;
use crate::metaindex::{build_metaindex, FULL_FILTER_BLOOM, PARTITIONED_FILTER_BLOOM, PROPERTIES, RANGE_DEL};
use crate::table::workspace::Workspace;
use crate::trailer::CompressionType;
use crate::varint::encode_varint64;

/// Meta blocks the metaindex can name: properties, index (format_version ≥ 6), filter, range deletions.
const MAX_META_BLOCKS: usize = 4;
/// Room for the metaindex block: at most [`MAX_META_BLOCKS`] entries (header, a name under 32 bytes, a handle)
/// and the block footer fit with room to spare.
const METAINDEX_ROOM: usize = 512;

impl<W: Workspace> TableBuilder<W> {
    /// Ends the table: no more entries. The remaining blocks and the footer come out of
    /// [`next_output`](Self::next_output), one at a time. If filter hashes were spilled, hand them back with
    /// [`restore_hashes`](Self::restore_hashes) now.
    pub fn finish(&mut self) -> Result<()> {
        self.check_building()?;
        self.start_restoring()?;
        self.stage = Stage::LastBlock;
        Ok(())
    }

    /// The next finished bytes to write, in file order; `None` when there is nothing to write now (while
    /// building) or ever again (after [`finish`](Self::finish), once the footer was handed out).
    ///
    /// A chunk counts as written once you call the builder again: write it before the next call.
    #[inline]
    pub fn next_output(&mut self) -> Result<Option<&[u8]>> {
        // The common case while adding entries: nothing finished since the last call.
        if self.output.is_none() && self.stage == Stage::Building {
            return Ok(None);
        }
        self.next_output_slow()
    }

    #[inline(never)]
    fn next_output_slow(&mut self) -> Result<Option<&[u8]>> {
        if let Some(o) = self.output {
            if !o.handed_out {
                self.output = Some(Output { handed_out: true, ..o });
                return Ok(Some(&self.ws.bytes()[o.start..o.start + o.len]));
            }
            self.output = None;
        }
        while self.output.is_none() && self.stage != Stage::Building && self.stage != Stage::Done {
            self.advance()?;
        }
        match self.output {
            Some(o) if !o.handed_out => {
                self.output = Some(Output { handed_out: true, ..o });
                Ok(Some(&self.ws.bytes()[o.start..o.start + o.len]))
            }
            _ => Ok(None),
        }
    }

    /// Runs one finishing stage; it may or may not queue an output.
    fn advance(&mut self) -> Result<()> {
        match self.stage {
            Stage::Building | Stage::Done => {}
            Stage::LastBlock => {
                self.write_last_block()?;
                self.stage = Stage::Filter;
            }
            Stage::Filter => {
                if !self.write_filter()? {
                    self.stage = Stage::Index;
                    self.hashes = 0;
                }
            }
            Stage::Index => {
                // The filter went out: a region it had at the end is free for the index.
                self.filter_region = 0;
                if !self.write_index()? {
                    self.stage = Stage::RangeDel;
                }
            }
            Stage::RangeDel => {
                self.stage = Stage::Properties;
                self.write_range_del()?;
            }
            Stage::Properties => {
                self.write_properties()?;
                self.stage = Stage::Metaindex;
            }
            Stage::Metaindex => {
                self.write_metaindex()?;
                self.stage = Stage::Footer;
            }
            Stage::Footer => {
                self.write_footer()?;
                self.stage = Stage::Done;
            }
        }
        Ok(())
    }

    /// Flushes the pending data block, writes its index record (keyed by the last key) and logs the last key.
    fn write_last_block(&mut self) -> Result<()> {
        // Index record for the last block (keyed by its last key), and the last key kept in the log.
        // The index record and the last-key record (bounded by the larger index record twice).
        // A partitioned index closes its last partition (with the filter partition) after that record.
        let rec = INDEX_RECORD_OVERHEAD + self.last_key_len;
        let cut = self.cut_room();
        self.reserve(self.block_cap, 2 * rec + cut)?;
        if !self.block.is_empty() {
            self.flush_block()?;
        }
        let mut closed = false;
        if let Some(h) = self.pending_index.take() {
            let sep_len = self.append_index_record(h, None)?;
            closed = self.note_index_entry(sep_len, h)?;
        }
        if !closed {
            self.cut_last_partition()?;
        }
        if self.has_last_key {
            let lk_end = self.cap() - self.back_reserved();
            let lk_start = lk_end - self.last_key_len;
            let ws = self.ws.bytes_mut();
            let mut p = self.log_end;
            ws[p] = TAG_LAST_KEY;
            p += 1;
            p += encode_varint64(self.last_key_len as u64, &mut ws[p..])?;
            ws.copy_within(lk_start..lk_end, p);
            p += self.last_key_len;
            self.log_end = p;
        }
        self.last_key_len = 0;
        self.parts_end = self.log_end - 2 * self.block_cap;
        Ok(())
    }

    fn write_metaindex(&mut self) -> Result<()> {
        self.reserve(self.block_cap, METAINDEX_ROOM)?;
        let mut entries: [(&[u8], BlockHandle); MAX_META_BLOCKS] =
            [(PROPERTIES, self.properties_handle); MAX_META_BLOCKS];
        let mut k = 1;
        if self.opts.format_version >= FIRST_CONTEXT_CHECKSUM_VERSION {
            entries[k] = (INDEX_HANDLE_NAME, self.index_handle);
            k += 1;
        }
        if let Some(h) = self.filter_handle {
            let name = if self.opts.partitioned_filter() { PARTITIONED_FILTER_BLOOM } else { FULL_FILTER_BLOOM };
            entries[k] = (name, h);
            k += 1;
        }
        if let Some(h) = self.range_del_handle {
            entries[k] = (RANGE_DEL, h);
            k += 1;
        }
        let at = self.log_end;
        let n = build_metaindex(&mut entries[..k], &mut self.ws.bytes_mut()[at..])?;
        self.metaindex_handle = self.seal(at, n, CompressionType::None)?;
        Ok(())
    }

    fn write_footer(&mut self) -> Result<()> {
        self.reserve(self.block_cap, FOOTER_LEN)?;
        let f = Footer {
            checksum: self.opts.checksum,
            metaindex: self.metaindex_handle,
            index: self.index_handle,
            format_version: self.opts.format_version,
            base_context_checksum: self.sum.base,
        };
        let at = self.log_end;
        let n = f.encode_into(&mut self.ws.bytes_mut()[at..])?;
        self.stats.file_size += n as u64;
        self.output = Some(Output { start: at, len: n, handed_out: false });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::table::{Options, Table, TableBuilder};

    #[test]
    fn stages_hand_out_every_block_then_nothing() {
        for fv in [2, 5, 6, 7] {
            let mut b =
                TableBuilder::new(std::vec::Vec::new(), Options::default().format_version(fv).base_context_checksum(7))
                    .unwrap();
            b.put(b"k", b"v").unwrap();
            b.finish().unwrap();
            assert!(b.is_finishing() && !b.is_done());
            assert!(matches!(b.put(b"l", b""), Err(Error::InvalidArgument { .. })));
            assert!(matches!(b.finish(), Err(Error::InvalidArgument { .. })));
            let mut chunks = 0;
            let mut out = std::vec::Vec::new();
            while let Some(c) = b.next_output().unwrap() {
                out.extend_from_slice(c);
                chunks += 1;
            }
            // Data, filter, index, properties, metaindex, footer.
            assert_eq!(chunks, 6, "format_version {fv}");
            assert!(b.is_done());
            assert_eq!(b.next_output().unwrap(), None);
            let h = b.handles().unwrap();
            let t = Table::open(&out).unwrap();
            assert_eq!((t.footer().metaindex, t.footer().index), (h.metaindex, h.index));
            assert_eq!(b.stats().file_size, out.len() as u64);
        }
    }
}
