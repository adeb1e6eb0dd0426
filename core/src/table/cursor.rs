//! A cursor over a table's point entries: both directions, seeks, ranges.

use crate::block::{Block, BlockCursor, BlockLayout};
use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::keybuf::DefaultKeyBuf;
use crate::keybuf::KeyBuf;
use crate::table::blocks::{BlockBytes, ReadBuf};
use crate::table::entry::{decode_entry, Entry};
use crate::table::read_cache::sealed::Source;
use crate::table::read_cache::{BlockSource, Place, ReadCache};
use crate::table::reader::Table;

/// Where a partitioned index's current partition is: in the file, or uncompressed in the cursor's buffer.
#[derive(Debug, Clone, Copy)]
enum PartSrc<'a> {
    File(Block<'a>),
    Buf { len: usize, layout: BlockLayout },
}

/// The buffer a compressed index partition is uncompressed into (none without an allocator).
#[cfg(feature = "alloc")]
type PartBuf = alloc::vec::Vec<u8>;
#[cfg(not(feature = "alloc"))]
type PartBuf = [u8; 0];

fn part_block<'s>(src: &PartSrc<'s>, buf: &'s PartBuf) -> Result<Block<'s>> {
    match *src {
        PartSrc::File(b) => Ok(b),
        PartSrc::Buf { len, layout } => Block::from_layout(buf.bytes().get(..len).unwrap_or(&[]), layout),
    }
}

/// A cursor over the point entries of a [`Table`], in internal-key order. Values borrow from the table's bytes
/// or, for compressed blocks, from the cursor's buffer (or the [`ReadCache`] it reads through): read them before
/// moving. `C` is where data blocks come from ([`BlockSource`]): `()` for the table itself,
/// `&mut ReadCache` through a cache ([`Table::cursor_with`]).
#[derive(Debug)]
pub struct TableCursor<'t, 'a, B: ReadBuf, K: KeyBuf, C: BlockSource<'a> = ()> {
    table: &'t Table<'a>,
    buf: B,
    cache: C,
    index: BlockCursor,
    index_key: K,
    // A partitioned index: `top` walks the top-level index, `index` the partition `part` (at `part_at`).
    top: BlockCursor,
    top_key: DefaultKeyBuf,
    part: PartSrc<'a>,
    part_buf: PartBuf,
    part_at: u64,
    data: BlockCursor,
    data_key: K,
    /// Where the current data block is (`None`: no block).
    src: Option<Place>,
    layout: BlockLayout,
    handle: BlockHandle,
}

/// The uncompressed bytes of the block at `src`.
fn src_bytes<'s, 'r, C: Source<'r>>(src: Option<Place>, file: &'s [u8], buf: &'s [u8], cache: &'s C) -> &'s [u8] {
    match src {
        None => &[],
        Some(Place::Region { start, len }) => file.get(start..start.saturating_add(len)).unwrap_or(&[]),
        Some(Place::Buffer { len }) => buf.get(..len).unwrap_or(&[]),
        Some(Place::Slot { at, len }) => cache.slot_bytes(at, len),
    }
}

impl<'t, 'a, B: ReadBuf, K: KeyBuf, C: BlockSource<'a>> TableCursor<'t, 'a, B, K, C> {
    pub(crate) fn new(table: &'t Table<'a>, cache: C, buf: B, index_key: K, data_key: K) -> Self {
        TableCursor {
            table,
            buf,
            cache,
            index: BlockCursor::new(),
            index_key,
            top: BlockCursor::new(),
            top_key: DefaultKeyBuf::new(),
            part: PartSrc::File(Block::empty()),
            part_buf: PartBuf::default(),
            part_at: 0,
            data: BlockCursor::new(),
            data_key,
            src: None,
            layout: BlockLayout::default(),
            handle: BlockHandle::NULL,
        }
    }

    fn block_bytes(&self) -> &[u8] {
        src_bytes(self.src, self.table.file(), self.buf.bytes(), &self.cache)
    }

    /// Loads the data block the index cursor points at.
    fn load_block(&mut self) -> Result<()> {
        self.data = BlockCursor::new();
        self.src = None;
        let handle = if self.table.index_info().partitioned {
            let ib = part_block(&self.part, &self.part_buf)?;
            self.table.index_info().handle(&self.index, self.index.value(&ib))?
        } else {
            let ib = self.table.index_block();
            self.table.index_info().handle(&self.index, self.index.value(&ib))?
        };
        let src = Some(self.cache.load(self.table.layout(), handle, &mut self.buf)?);
        let bytes = src_bytes(src, self.table.file(), self.buf.bytes(), &self.cache);
        let block = Block::parse(bytes).map_err(|e| e.at(Part::DataBlock, handle.offset))?;
        self.layout = block.layout();
        self.src = src;
        self.handle = handle;
        Ok(())
    }

    /// Runs `f` on the data cursor with the current block.
    fn with_data(&mut self, f: impl FnOnce(&mut BlockCursor, &Block<'_>, &mut K) -> Result<()>) -> Result<()> {
        let bytes = src_bytes(self.src, self.table.file(), self.buf.bytes(), &self.cache);
        let block = Block::from_layout(bytes, self.layout)?;
        let off = self.handle.offset;
        f(&mut self.data, &block, &mut self.data_key).map_err(|e| e.at(Part::DataBlock, off))
    }

    fn index_step(&mut self, f: impl FnOnce(&mut BlockCursor, &Block<'_>, &mut K) -> Result<()>) -> Result<()> {
        let (ib, off) = if self.table.index_info().partitioned {
            (part_block(&self.part, &self.part_buf)?, self.part_at)
        } else {
            (self.table.index_block(), self.table.footer().index.offset)
        };
        f(&mut self.index, &ib, &mut self.index_key).map_err(|e| e.at(Part::Index, off))
    }

    /// Positions the index on its first entry ≥ `target` (`None`: its first entry), or its last entry when
    /// `last`; with a partitioned index, through the top-level index and the partition it names.
    fn index_position(&mut self, target: Option<&[u8]>, last: bool, read_ts: u64) -> Result<()> {
        let order = self.table.index_info().seek_order_at(read_ts);
        if !self.table.index_info().partitioned {
            return self.index_step(|c, b, k| match (target, last) {
                (_, true) => c.seek_to_last(b, k),
                (Some(t), false) => c.seek(b, k, t, order),
                (None, false) => c.seek_to_first(b, k),
            });
        }
        let top = self.table.index_block();
        let off = self.table.footer().index.offset;
        match (target, last) {
            (_, true) => self.top.seek_to_last(&top, &mut self.top_key),
            (Some(t), false) => self.top.seek(&top, &mut self.top_key, t, order),
            (None, false) => self.top.seek_to_first(&top, &mut self.top_key),
        }
        .map_err(|e| e.at(Part::Index, off))?;
        self.index = BlockCursor::new();
        if !self.top.valid() {
            return Ok(());
        }
        self.load_partition()?;
        self.index_step(|c, b, k| match (target, last) {
            (_, true) => c.seek_to_last(b, k),
            (Some(t), false) => c.seek(b, k, t, order),
            (None, false) => c.seek_to_first(b, k),
        })?;
        if last {
            self.settle_index_backward()
        } else {
            self.settle_index_forward()
        }
    }

    /// Loads the partition the top-level cursor points at.
    fn load_partition(&mut self) -> Result<()> {
        let top = self.table.index_block();
        let off = self.table.footer().index.offset;
        let h = self.table.index_info().handle(&self.top, self.top.value(&top)).map_err(|e| e.at(Part::Index, off))?;
        let layout = self.table.layout();
        let decoded = layout.decode_index_partition(h, &mut self.part_buf)?;
        let shape = layout.partition_block(&decoded, self.part_buf.bytes())?.layout();
        self.part = match decoded.bytes {
            BlockBytes::Fetched(bytes) => PartSrc::File(Block::from_layout(bytes, shape)?),
            BlockBytes::Buffer(len) => PartSrc::Buf { len, layout: shape },
        };
        self.part_at = h.offset;
        Ok(())
    }

    /// With a partitioned index, moves on to the next partitions while the partition cursor is past its end.
    fn settle_index_forward(&mut self) -> Result<()> {
        let top = self.table.index_block();
        let off = self.table.footer().index.offset;
        while !self.index.valid() && self.top.valid() {
            self.top.next(&top, &mut self.top_key).map_err(|e| e.at(Part::Index, off))?;
            if !self.top.valid() {
                return Ok(());
            }
            self.load_partition()?;
            self.index_step(|c, b, k| c.seek_to_first(b, k))?;
        }
        Ok(())
    }

    /// With a partitioned index, moves back to earlier partitions while the partition cursor is before its start.
    fn settle_index_backward(&mut self) -> Result<()> {
        let top = self.table.index_block();
        let off = self.table.footer().index.offset;
        while !self.index.valid() && self.top.valid() {
            self.top.prev(&top, &mut self.top_key).map_err(|e| e.at(Part::Index, off))?;
            if !self.top.valid() {
                return Ok(());
            }
            self.load_partition()?;
            self.index_step(|c, b, k| c.seek_to_last(b, k))?;
        }
        Ok(())
    }

    fn index_next(&mut self) -> Result<()> {
        self.index_step(|c, b, k| c.next(b, k))?;
        if self.table.index_info().partitioned {
            self.settle_index_forward()?;
        }
        Ok(())
    }

    fn index_prev(&mut self) -> Result<()> {
        self.index_step(|c, b, k| c.prev(b, k))?;
        if self.table.index_info().partitioned {
            self.settle_index_backward()?;
        }
        Ok(())
    }

    /// Skips forward over empty blocks until positioned or past the end.
    #[inline]
    fn settle_forward(&mut self) -> Result<()> {
        if self.data.valid() || !self.index.valid() {
            return Ok(());
        }
        self.next_block_forward()
    }

    /// The slow half of [`Self::settle_forward`]: load following blocks until one has an entry.
    #[inline(never)]
    fn next_block_forward(&mut self) -> Result<()> {
        while !self.data.valid() && self.index.valid() {
            self.index_next()?;
            if !self.index.valid() {
                self.src = None;
                return Ok(());
            }
            self.load_block()?;
            self.with_data(|c, b, k| c.seek_to_first(b, k))?;
        }
        Ok(())
    }

    fn settle_backward(&mut self) -> Result<()> {
        while !self.data.valid() && self.index.valid() {
            self.index_prev()?;
            if !self.index.valid() {
                self.src = None;
                return Ok(());
            }
            self.load_block()?;
            self.with_data(|c, b, k| c.seek_to_last(b, k))?;
        }
        Ok(())
    }

    /// True when positioned on an entry.
    pub fn valid(&self) -> bool {
        self.data.valid()
    }

    /// The current entry.
    pub fn entry(&self) -> Result<Option<Entry<'_>>> {
        if !self.data.valid() {
            return Ok(None);
        }
        let form = self.table.layout().entry_form();
        let e =
            decode_entry(self.data_key.as_slice(), &[], form).map_err(|e| e.at(Part::DataBlock, self.handle.offset))?;
        // The value range was checked against the block when the cursor stepped onto the entry; the block's
        // entry bytes start at its first byte, so the range indexes the block bytes directly.
        let (start, len) = self.data.value_range();
        let value = self.block_bytes().get(start..start + len).ok_or(Error::corrupt(
            Part::DataBlock,
            self.handle.offset,
            "value outside its block",
        ))?;
        Ok(Some(Entry { value, ..e }))
    }

    /// The current internal key (user key and 8-byte trailer as stored).
    pub fn internal_key(&self) -> &[u8] {
        if self.data.valid() {
            self.data_key.as_slice()
        } else {
            &[]
        }
    }

    /// Moves to the first entry.
    pub fn seek_to_first(&mut self) -> Result<()> {
        self.data = BlockCursor::new();
        self.index_position(None, false, u64::MAX)?;
        if !self.index.valid() {
            return Ok(());
        }
        self.load_block()?;
        self.with_data(|c, b, k| c.seek_to_first(b, k))?;
        self.settle_forward()
    }

    /// Moves to the last entry.
    pub fn seek_to_last(&mut self) -> Result<()> {
        self.data = BlockCursor::new();
        self.index_position(None, true, u64::MAX)?;
        if !self.index.valid() {
            return Ok(());
        }
        self.load_block()?;
        self.with_data(|c, b, k| c.seek_to_last(b, k))?;
        self.settle_backward()
    }

    /// Moves to the first entry whose user key is ≥ `user_key` (its newest version).
    pub fn seek(&mut self, user_key: &[u8]) -> Result<()> {
        self.seek_at(user_key, u64::MAX)
    }

    /// Moves to the first entry at or after (`user_key`, `read_ts`): in a table with user-defined timestamps,
    /// the newest version of `user_key` whose timestamp is ≤ `read_ts`, else the first entry of a larger key
    /// (entries go by user key ascending, then timestamp descending). In other tables, [`seek`](Self::seek).
    pub fn seek_at(&mut self, user_key: &[u8], read_ts: u64) -> Result<()> {
        self.data = BlockCursor::new();
        self.index_position(Some(user_key), false, read_ts)?;
        if !self.index.valid() {
            return Ok(());
        }
        self.load_block()?;
        let order = self.table.layout().entry_form().at(read_ts).order();
        self.with_data(|c, b, k| c.seek(b, k, user_key, order))?;
        self.settle_forward()
    }

    /// Moves to the last entry whose user key is < `user_key`.
    pub fn seek_before(&mut self, user_key: &[u8]) -> Result<()> {
        self.seek(user_key)?;
        if self.valid() {
            self.prev()
        } else {
            self.seek_to_last()
        }
    }

    /// Moves to the next entry.
    #[allow(clippy::should_implement_trait)] // A positional cursor, not an Iterator: it also goes back and seeks.
    pub fn next(&mut self) -> Result<()> {
        if !self.data.valid() {
            return Ok(());
        }
        self.with_data(|c, b, k| c.next(b, k))?;
        self.settle_forward()
    }

    /// Moves to the previous entry.
    pub fn prev(&mut self) -> Result<()> {
        if !self.data.valid() {
            return Ok(());
        }
        self.with_data(|c, b, k| c.prev(b, k))?;
        self.settle_backward()
    }

    /// Handle of the data block the cursor is in.
    pub fn block_handle(&self) -> BlockHandle {
        self.handle
    }
}

/// Cursors and scans over a [`Table`]: here rather than in the table module, so the table does not depend on
/// its cursor.
impl<'a> Table<'a> {
    /// A cursor over all point entries, using `buf` for decompressed blocks and `keys` for rebuilt keys.
    pub fn cursor<B: ReadBuf, K: KeyBuf>(&self, buf: B, index_key: K, data_key: K) -> TableCursor<'_, 'a, B, K> {
        TableCursor::new(self, (), buf, index_key, data_key)
    }

    /// [`cursor`](Self::cursor) reading data blocks through `cache` (see [`get_with`](Self::get_with)): a block
    /// the cache saw pass its checksum is not checked again, one it holds decompressed is not decompressed again.
    pub fn cursor_with<'t, 'c, B: ReadBuf, K: KeyBuf>(
        &'t self,
        cache: &'t mut ReadCache<'c>,
        buf: B,
        index_key: K,
        data_key: K,
    ) -> TableCursor<'t, 'a, B, K, &'t mut ReadCache<'c>>
    where
        'a: 'c,
    {
        TableCursor::new(self, cache, buf, index_key, data_key)
    }

    /// Calls `f` on every point entry with `start <= user key < end` (`None` = unbounded), in order, until it
    /// returns false. `buf` holds decompressed blocks; keys are rebuilt in [`DefaultKeyBuf`]s.
    pub fn for_each_in_range<B: ReadBuf>(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        buf: B,
        mut f: impl FnMut(Entry<'_>) -> bool,
    ) -> Result<()> {
        let mut c = self.cursor(buf, DefaultKeyBuf::new(), DefaultKeyBuf::new());
        match start {
            Some(s) => c.seek(s)?,
            None => c.seek_to_first()?,
        }
        while let Some(e) = c.entry()? {
            if end.is_some_and(|end| e.user_key >= end) || !f(e) {
                break;
            }
            c.next()?;
        }
        Ok(())
    }

    /// A cursor with default buffers (`Vec`s).
    #[cfg(feature = "alloc")]
    pub fn iter(&self) -> TableCursor<'_, 'a, alloc::vec::Vec<u8>, alloc::vec::Vec<u8>> {
        self.cursor(alloc::vec::Vec::new(), alloc::vec::Vec::new(), alloc::vec::Vec::new())
    }
}
