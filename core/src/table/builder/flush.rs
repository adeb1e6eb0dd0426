//! The flush policy (when the pending data block is cut) and sealing: a block gets its trailer and becomes the
//! next output.

use super::{Output, TableBuilder};
use crate::error::Result;
use crate::handle::BlockHandle;
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};

/// RocksDB's `block_size_deviation`: a block over `100 - this` percent of the target size is cut rather than
/// overshoot the target.
const BLOCK_SIZE_DEVIATION_PERCENT: usize = 10;

impl<W: Workspace> TableBuilder<W> {
    pub(super) fn should_flush(&self, key_len: usize, value_len: usize) -> bool {
        if self.block.is_empty() {
            return false;
        }
        let size = self.block.size_estimate();
        let target = self.opts.block_size;
        if size >= target {
            return true;
        }
        // Cut early rather than overshoot by a lot.
        let limit = (target * (100 - BLOCK_SIZE_DEVIATION_PERCENT)).div_ceil(100);
        size > limit && self.block.size_after(key_len, value_len) > target
    }

    /// Finishes the pending data block into an output (compressed when that pays) and remembers its handle.
    pub(super) fn flush_block(&mut self) -> Result<()> {
        let b = self.block_cap;
        let p = self.pending;
        let other = 1 - p;
        let (r0, r1) = self.ws.bytes_mut()[..2 * b].split_at_mut(b);
        let (pend, oth) = if p == 0 { (r0, r1) } else { (r1, r0) };
        let n = self.block.finish(pend);
        let mut kind = CompressionType::None;
        let mut out_region = p;
        let mut len = n;
        if self.opts.compression != CompressionType::None {
            let room = oth.len() - BLOCK_TRAILER_LEN;
            if let Some(m) = crate::compress::compress_into(
                self.opts.compression,
                self.opts.format_version,
                &pend[..n],
                &mut oth[..room],
            )? {
                kind = self.opts.compression;
                self.compression_used = true;
                out_region = other;
                len = m;
            }
        }
        let start = out_region * b;
        self.seal(start, len, kind)?;
        // The pending block continues in whichever region does not hold the output.
        self.pending = if out_region == p { other } else { p };
        let handle = BlockHandle::new(self.stats.file_size - (len + BLOCK_TRAILER_LEN) as u64, len as u64);
        self.stats.num_data_blocks += 1;
        self.stats.data_size += (len + BLOCK_TRAILER_LEN) as u64;
        self.pending_index = Some(handle);
        Ok(())
    }

    /// Appends the trailer to the block at `[start, start + len)` and queues it as output; returns its handle.
    pub(super) fn seal(&mut self, start: usize, len: usize, kind: CompressionType) -> Result<BlockHandle> {
        let ws = self.ws.bytes_mut();
        // The format_version >= 6 modifier depends on where the block starts: the current end of the file.
        let sum = self.sum.stored(&ws[start..start + len], kind as u8, self.stats.file_size);
        let t = start + len;
        ws[t] = kind as u8;
        ws[t + 1..t + 5].copy_from_slice(&sum.to_le_bytes());
        let handle = BlockHandle::new(self.stats.file_size, len as u64);
        self.stats.file_size += (len + BLOCK_TRAILER_LEN) as u64;
        self.output = Some(Output { start, len: len + BLOCK_TRAILER_LEN, handed_out: false });
        Ok(handle)
    }
}

#[cfg(test)]
mod tests {
    use crate::table::{Options, TableBuilder};

    #[test]
    fn a_block_is_cut_at_the_target_size_and_sealed_with_a_trailer() {
        let mut ws = [0u8; 16 * 1024];
        let mut b = TableBuilder::new(&mut ws[..], Options::default().block_size(100)).unwrap();
        assert!(!b.should_flush(1, 1), "an empty block is never cut");
        let mut i = 0u32;
        while !b.should_flush(8, 10) {
            b.put(std::format!("key{i:05}").as_bytes(), b"0123456789").unwrap();
            i += 1;
        }
        assert!(b.block.size_estimate() >= 90, "not cut before 90% of the target");
        b.put(std::format!("key{i:05}").as_bytes(), b"0123456789").unwrap();
        let out = b.next_output().unwrap().unwrap().to_vec();
        let s = b.stats();
        assert_eq!(s.num_data_blocks, 1);
        assert_eq!(out.len() as u64, s.data_size);
        assert_eq!(out[out.len() - 5], 0, "trailer: not compressed");
    }
}
