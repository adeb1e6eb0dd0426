//! Workspace regions: the two block regions, the record log after them and the back area (last key, filter
//! hashes), moved and grown on demand.

use super::{Stage, TableBuilder};
use crate::error::{Error, Result};
use crate::table::workspace::Workspace;

/// Block regions grow in steps of this many bytes, so a run of growing entries moves the log only now and then.
const REGION_GRANULE: usize = 1024;

impl<W: Workspace> TableBuilder<W> {
    pub(super) fn region(&self, r: usize) -> &[u8] {
        &self.ws.bytes()[r * self.block_cap..(r + 1) * self.block_cap]
    }

    /// Makes sure the block regions are at least `block_cap` and `free` bytes are free after the log,
    /// moving things around (and growing the workspace if it can). Changes nothing on failure.
    #[inline]
    pub(super) fn reserve(&mut self, block_cap: usize, free: usize) -> Result<()> {
        // Fast path, inlined: the regions are big enough and the free gap holds `free`.
        if block_cap <= self.block_cap && self.log_end + self.back_len() + free <= self.cap() {
            return Ok(());
        }
        self.reserve_slow(block_cap, free)
    }

    #[inline(never)]
    fn reserve_slow(&mut self, block_cap: usize, free: usize) -> Result<()> {
        let new_b =
            if block_cap > self.block_cap { block_cap.next_multiple_of(REGION_GRANULE) } else { self.block_cap };
        let log_len = self.log_end - 2 * self.block_cap;
        let back = self.back_len();
        let total = 2 * new_b + log_len + back + free;
        let cap = self.cap();
        if new_b == self.block_cap && total <= cap {
            return Ok(());
        }
        // While finishing, each block is the last growth for a while: take no more than it needs.
        let grown = if self.stage == Stage::Building { self.ws.try_grow(total) } else { self.ws.try_grow_exact(total) };
        if total > cap && !grown {
            return Err(Error::BufferTooSmall { needed: total });
        }
        let new_cap = self.cap();
        if new_cap < total {
            return Err(Error::BufferTooSmall { needed: total });
        }
        let old_b = self.block_cap;
        let ws = self.ws.bytes_mut();
        // Move right-to-left so nothing is overwritten before it is moved.
        ws.copy_within(cap - back..cap, new_cap - back);
        ws.copy_within(2 * old_b..2 * old_b + log_len, 2 * new_b);
        if new_b != old_b {
            let out = self.output.filter(|o| !o.handed_out);
            // Region 1 moves to new_b.
            if self.pending == 1 {
                let (h, t) = (self.block.head_len(), self.block.tail_len());
                ws.copy_within(2 * old_b - t..2 * old_b, 2 * new_b - t);
                ws.copy_within(old_b..old_b + h, new_b);
            }
            if let Some(o) = out {
                if o.start >= old_b {
                    ws.copy_within(o.start..o.start + o.len, o.start - old_b + new_b);
                }
            }
            // Region 0 grows in place; its block tail moves to the new end.
            if self.pending == 0 {
                let t = self.block.tail_len();
                ws.copy_within(old_b - t..old_b, new_b - t);
            }
            if let Some(o) = self.output.as_mut() {
                if o.start >= old_b {
                    o.start = o.start - old_b + new_b;
                }
            }
        }
        self.log_end = 2 * new_b + log_len;
        if let Some(t) = self.last_tombstone.as_mut() {
            *t = *t - 2 * old_b + 2 * new_b;
        }
        self.block_cap = new_b;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::error::Error;
    use crate::table::{Options, TableBuilder};

    #[test]
    fn a_fixed_workspace_reports_what_it_needs_and_a_vec_grows() {
        let mut ws = [0u8; 8 * 1024];
        let mut b = TableBuilder::new(&mut ws[..], Options::default().block_size(1024)).unwrap();
        let need = b.block_cap * 4;
        assert!(matches!(b.reserve(need, 0), Err(Error::BufferTooSmall { needed }) if needed > 8 * 1024));
        let mut v = TableBuilder::new(std::vec::Vec::new(), Options::default().block_size(1024)).unwrap();
        v.put(b"a", b"1").unwrap();
        let before = v.block_cap;
        v.reserve(before * 4, 100).unwrap();
        assert!(v.block_cap >= before * 4 && v.block_cap % 1024 == 0);
        assert_eq!(v.last_user_key(), Some(&b"a"[..]), "the last key moved with the back area");
    }
}
