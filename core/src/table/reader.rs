//! The table reader: opens a whole table held in memory, zero-copy, and answers point lookups.
//!
//! Readers that fetch byte ranges themselves (object stores) use the same steps through the public pieces:
//! [`Footer::decode`], [`verified_block`], [`BlockContents`], [`Metaindex`], [`Properties`], [`IndexInfo`].

use crate::block::Block;
use crate::error::{Error, Part, Result};
use crate::footer::Footer;
use crate::handle::BlockHandle;
use crate::keybuf::DefaultKeyBuf;
use crate::metaindex::Metaindex;
use crate::properties::Properties;
use crate::table::blocks::{verified_block, BlockBytes, BlockContents, ReadBuf, ReadOptions};
use crate::table::entry::{Entry, VersionLookup};
use crate::table::index::IndexInfo;
use crate::table::layout::TableLayout;
use crate::table::meta::{read_properties_block, MetaLayout, TableFilter};
use crate::table::read_cache::{Place, ReadCache};
use crate::table::tombstones::RangeTombstones;
use core::ops::Bound;

/// A table held in memory, opened zero-copy.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    file: &'a [u8],
    layout: TableLayout<'a>,
    properties: Properties<'a>,
}

impl<'a> Table<'a> {
    /// Opens a table whose index block is not compressed (see [`open_with`](Self::open_with)).
    pub fn open(file: &'a [u8]) -> Result<Self> {
        Self::open_with(file, ReadOptions::default(), &mut [])
    }

    /// Opens a table: footer → metaindex → properties → index → filter and range deletions, verifying every
    /// block read. A compressed index block is decompressed into `index_buf` (which may be empty otherwise).
    pub fn open_with(file: &'a [u8], opts: ReadOptions, index_buf: &'a mut [u8]) -> Result<Self> {
        let meta = MetaLayout::parse(file, 0, file.len() as u64, &opts, index_buf)?;
        let index_buf: &'a [u8] = index_buf;
        let layout = TableLayout::new(&meta, file, index_buf, opts)?;
        let properties = meta.properties(file)?;
        Ok(Table { file, layout, properties })
    }

    /// The whole file.
    pub fn file(&self) -> &'a [u8] {
        self.file
    }
    /// The opened metadata: block extents, lookups, decoding.
    pub fn layout(&self) -> &TableLayout<'a> {
        &self.layout
    }
    /// The footer.
    pub fn footer(&self) -> &Footer {
        self.layout.footer()
    }
    /// The properties (empty for LevelDB tables).
    pub fn properties(&self) -> &Properties<'a> {
        &self.properties
    }
    /// The read options.
    pub fn read_options(&self) -> &ReadOptions {
        self.layout.read_options()
    }
    /// The seqno every key is read with, if the table is an external file.
    pub fn global_seqno(&self) -> Option<u64> {
        self.layout.global_seqno()
    }
    /// How the index is encoded.
    pub fn index_info(&self) -> IndexInfo {
        self.layout.index_info()
    }
    /// The index block (the top-level index when the index is partitioned).
    pub fn index_block(&self) -> Block<'a> {
        self.layout.index_block()
    }

    /// The filter, if any this crate can read.
    pub fn filter(&self) -> Option<&TableFilter<'a>> {
        self.layout.filter()
    }

    /// Reads and verifies the block at `handle` (not decompressed).
    pub fn block(&self, handle: BlockHandle, part: Part) -> Result<BlockContents<'a>> {
        self.layout.verified_block(self.file, 0, handle, part)
    }

    /// False only if the filter proves `user_key` absent (full filters; LevelDB filters need the block offset).
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        self.layout.may_contain(user_key)
    }

    /// The range tombstones, in stored order.
    pub fn range_tombstones(&self) -> RangeTombstones<'a> {
        self.layout.range_tombstones()
    }

    /// Seqno of the newest range tombstone covering `user_key`.
    pub fn covering_tombstone(&self, user_key: &[u8]) -> Result<Option<u64>> {
        self.range_tombstones().covering(user_key)
    }

    /// Finds the newest entry for `user_key`, honouring range tombstones. `buf` holds a decompressed block and
    /// the rebuilt key (a block's length is enough for the key; add the uncompressed size for compressed tables).
    pub fn get<'r>(&'r self, user_key: &'r [u8], buf: &'r mut impl ReadBuf) -> Result<Option<Entry<'r>>> {
        self.get_at(user_key, u64::MAX, buf)
    }

    /// [`get`](Self::get) at read timestamp `read_ts`: in a table with user-defined timestamps (comparator
    /// `leveldb.BytewiseComparator.u64ts`), the newest version of `user_key` (given without its timestamp)
    /// whose timestamp is ≤ `read_ts`, and only range tombstones with a timestamp ≤ `read_ts` apply. In other
    /// tables `read_ts` changes nothing.
    pub fn get_at<'r>(
        &'r self,
        user_key: &'r [u8],
        read_ts: u64,
        buf: &'r mut impl ReadBuf,
    ) -> Result<Option<Entry<'r>>> {
        let point = self.get_point_at(user_key, read_ts, buf)?;
        self.layout.apply_tombstones_at(user_key, point, read_ts)
    }

    /// The newest entry for `user_key` that a read at sequence number `snapshot` sees: point versions and range
    /// tombstones with seqno ≤ `snapshot` (a table's global seqno, when it has one, is every entry's seqno).
    /// `buf` as for [`get`](Self::get); keys are rebuilt in a [`DefaultKeyBuf`]. When the newer versions of the
    /// key fill a block, the following blocks are read in turn.
    pub fn get_as_of<'r>(
        &'r self,
        user_key: &'r [u8],
        snapshot: u64,
        buf: &'r mut impl ReadBuf,
    ) -> Result<Option<Entry<'r>>> {
        // The visible version's lookup, and its block's bytes when they are the file's (else the first `n` bytes
        // of `buf`).
        let mut found: Option<(VersionLookup, Option<&'a [u8]>, usize)> = None;
        if self.layout.may_contain(user_key) {
            let mut key = DefaultKeyBuf::new();
            let range = (Bound::Included(user_key), Bound::Included(user_key));
            self.layout.for_each_block(range, |extent| {
                let handle = extent.handle;
                let decoded = self.layout.decode_block(self.file, 0, handle, &mut *buf)?;
                let (stored, n) = match decoded.bytes {
                    BlockBytes::Fetched(body) => (Some(body), 0),
                    BlockBytes::Buffer(n) => (None, n),
                };
                let bytes = stored.unwrap_or(buf.bytes().get(..n).unwrap_or(&[]));
                match self.layout.point_in_block_as_of(bytes, handle, user_key, snapshot, &mut key)? {
                    VersionLookup::ReadOn => Ok(true),
                    VersionLookup::Absent => Ok(false),
                    hit => {
                        found = Some((hit, stored, n));
                        Ok(false)
                    }
                }
            })?;
        }
        let point = match found {
            Some((VersionLookup::Found { seqno, timestamp, kind, value }, stored, n)) => {
                let bytes: &'r [u8] = match stored {
                    Some(body) => body,
                    None => buf.bytes().get(..n).unwrap_or(&[]),
                };
                let value = bytes.get(value).ok_or(Error::corrupt(Part::DataBlock, 0, "value outside its block"))?;
                Some(Entry { user_key, timestamp, seqno, kind, value })
            }
            _ => None,
        };
        self.layout.apply_tombstones_as_of(user_key, point, snapshot)
    }

    /// The newest point entry for `user_key` (range tombstones not applied).
    pub fn get_point<'r>(&'r self, user_key: &'r [u8], buf: &'r mut impl ReadBuf) -> Result<Option<Entry<'r>>> {
        self.get_point_at(user_key, u64::MAX, buf)
    }

    /// The newest point entry for `user_key` whose timestamp is ≤ `read_ts` (range tombstones not applied).
    pub fn get_point_at<'r>(
        &'r self,
        user_key: &'r [u8],
        read_ts: u64,
        buf: &'r mut impl ReadBuf,
    ) -> Result<Option<Entry<'r>>> {
        let Some(extent) = self.layout.point_block_at(user_key, read_ts)? else {
            return Ok(None);
        };
        let handle = extent.handle;
        let decoded = self.layout.decode_block(self.file, 0, handle, &mut *buf)?;
        match decoded.bytes {
            BlockBytes::Fetched(body) => self.point_in(body, 0, handle, user_key, read_ts, buf),
            BlockBytes::Buffer(n) => self.point_in(&[], n, handle, user_key, read_ts, buf),
        }
    }

    /// [`get`](Self::get) through `cache`: a data block this cache saw pass its checksum is not checked again,
    /// and a compressed one it holds decompressed is not decompressed again. `buf` as for `get` (it holds the
    /// rebuilt key, and a decompressed block the cache has no slot for). The cache is bound to this table's bytes
    /// (reading another table through it empties it first).
    pub fn get_with<'r, 'c>(
        &'r self,
        user_key: &'r [u8],
        cache: &'r mut ReadCache<'c>,
        buf: &'r mut impl ReadBuf,
    ) -> Result<Option<Entry<'r>>>
    where
        'a: 'c,
    {
        let Some(extent) = self.layout.point_block(user_key)? else {
            return self.layout.apply_tombstones_at(user_key, None, u64::MAX);
        };
        let handle = extent.handle;
        let layout: &TableLayout<'c> = &self.layout;
        let point = match cache.load(layout, handle, &mut *buf)? {
            Place::Region { start, len } => {
                let body = self.file.get(start..start.saturating_add(len)).unwrap_or(&[]);
                self.point_in(body, 0, handle, user_key, u64::MAX, buf)?
            }
            Place::Slot { at, len } => {
                let cache: &'r ReadCache<'c> = cache;
                self.point_in(cache.slot_bytes(at, len), 0, handle, user_key, u64::MAX, buf)?
            }
            Place::Buffer { len } => self.point_in(&[], len, handle, user_key, u64::MAX, buf)?,
        };
        self.layout.apply_tombstones_at(user_key, point, u64::MAX)
    }

    /// The newest point entry for `user_key` in the data block at `handle`: `stored` (bytes outside `buf`), or
    /// else the first `block_room` bytes of `buf`. The key is rebuilt in `buf` behind the block.
    fn point_in<'r>(
        &'r self,
        stored: &'r [u8],
        block_room: usize,
        handle: BlockHandle,
        user_key: &'r [u8],
        read_ts: u64,
        buf: &'r mut impl ReadBuf,
    ) -> Result<Option<Entry<'r>>> {
        // A key is never longer than its block.
        let key_room = if block_room == 0 { stored.len() } else { block_room };
        let whole = buf.buf(block_room.checked_add(key_room).ok_or(Error::BufferTooSmall { needed: usize::MAX })?)?;
        let (bpart, kpart) = whole.split_at_mut(block_room);
        let bytes: &[u8] = if block_room == 0 { stored } else { bpart };
        let mut key = crate::keybuf::SliceKeyBuf::new(kpart);
        self.layout.point_in_block_at(bytes, handle, user_key, &mut key, read_ts)
    }

    /// Verifies the checksum of every block the table references (data blocks through the index, index and
    /// filter partitions, and the meta blocks), whatever the read options say. Returns the number of blocks
    /// checked.
    pub fn verify_all(&self) -> Result<u64> {
        let sum = self.footer().block_checksum();
        let check = |h: BlockHandle, part| verified_block(self.file, 0, h, sum, true, part).map(|_| ());
        let footer = *self.footer();
        check(footer.metaindex, Part::Metaindex)?;
        check(footer.index, Part::Index)?;
        let mut n = 2;
        let meta = verified_block(self.file, 0, footer.metaindex, sum, true, Part::Metaindex)?;
        let mut err = None;
        let index_entry = self.footer().index_in_metaindex();
        Metaindex::parse(meta.body)?.for_each(|name, h| {
            if index_entry && name == crate::footer::INDEX_HANDLE_NAME {
                // The index block, checked above.
                return Ok(());
            }
            let part = if name == crate::metaindex::PROPERTIES { Part::Properties } else { Part::Block };
            let r = if part == Part::Properties {
                read_properties_block(self.file, 0, h, sum, true).map(|_| ())
            } else {
                check(h, part)
            };
            if let Err(e) = r {
                err.get_or_insert(e);
            }
            n += 1;
            Ok(())
        })?;
        if let Some(e) = err {
            return Err(e);
        }
        self.layout.for_each_index_partition(|h| {
            check(h, Part::Index)?;
            n += 1;
            Ok(true)
        })?;
        self.layout.for_each_filter_partition(|h| {
            check(h, Part::Filter)?;
            n += 1;
            Ok(true)
        })?;
        self.layout.for_each_block((Bound::Unbounded, Bound::Unbounded), |extent| {
            check(extent.handle, Part::DataBlock)?;
            n += 1;
            Ok(true)
        })?;
        Ok(n)
    }
}
