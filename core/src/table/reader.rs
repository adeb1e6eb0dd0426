//! The table reader: opens a whole table held in memory, zero-copy, and answers point lookups.
//!
//! Readers that fetch byte ranges themselves (object stores) use the same steps through the public pieces:
//! [`Footer::decode`], [`read_block`], [`BlockContents`], [`Metaindex`], [`Properties`], [`IndexInfo`].

use crate::block::{Block, BlockCursor, EntryFormat, KeyOrder};
use crate::checksum::verify_block;
use crate::compress::{decompress_into, decompressed_len, DEFAULT_MAX_BLOCK_LEN};
use crate::error::{Error, Part, Result};
use crate::filter::{FullFilter, LevelDbFilterBlock};
use crate::footer::Footer;
use crate::handle::BlockHandle;
use crate::key::{split_internal_key, ValueType};
use crate::keybuf::{DefaultKeyBuf, KeyBuf};
use crate::metaindex::Metaindex;
use crate::properties::Properties;
use crate::trailer::{ChecksumType, CompressionType};

/// How a table is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Verify the checksum of every block read (default true).
    pub verify_checksums: bool,
    /// Largest decompressed block accepted; a bigger claim is an error, never an allocation (default 64 MiB).
    pub max_block_len: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions { verify_checksums: true, max_block_len: DEFAULT_MAX_BLOCK_LEN }
    }
}

/// A block as stored: its body (maybe compressed) and compression type, checksum verified.
#[derive(Debug, Clone, Copy)]
pub struct BlockContents<'a> {
    /// The stored body, without the trailer.
    pub body: &'a [u8],
    /// How the body is compressed.
    pub compression: CompressionType,
    /// Offset of the block in the file.
    pub offset: u64,
}

impl<'a> BlockContents<'a> {
    /// Bytes the uncompressed block needs (the body's own length when it is not compressed). For bodies whose
    /// framing does not say (legacy Zlib) this is a guess; [`decompress_to`](Self::decompress_to) then retries
    /// with the real size.
    pub fn uncompressed_len(&self, format_version: u32, max_len: usize) -> Result<usize> {
        Ok(self.size_hint(format_version, max_len)?.0)
    }

    /// `(size, exact)`: the uncompressed size and whether the framing states it.
    fn size_hint(&self, format_version: u32, max_len: usize) -> Result<(usize, bool)> {
        if self.compression == CompressionType::None {
            return Ok((self.body.len(), true));
        }
        match decompressed_len(self.compression, format_version, self.body, max_len)
            .map_err(|e| e.at(Part::Compression, self.offset))?
        {
            Some(n) => Ok((n, true)),
            None => Ok((self.body.len().saturating_mul(4).clamp(4096, max_len.max(1)), false)),
        }
    }

    /// Decompresses into `buf` (which grows if it can) and returns the uncompressed length: the block is
    /// `buf.bytes()[..len]`. When the framing does not state the size, tries a guess and retries once with
    /// the size the decoder reports (never above `max_len`).
    pub fn decompress_to<B: ReadBuf + ?Sized>(
        &self,
        format_version: u32,
        max_len: usize,
        buf: &mut B,
    ) -> Result<usize> {
        let (mut room, exact) = self.size_hint(format_version, max_len)?;
        loop {
            let out = buf.buf(room)?;
            match decompress_into(self.compression, format_version, self.body, out) {
                Ok(n) => return Ok(n),
                Err(Error::BufferTooSmall { needed }) if !exact && needed > room && needed <= max_len => room = needed,
                Err(e) => return Err(e.at(Part::Compression, self.offset)),
            }
        }
    }

    /// The uncompressed block: the body itself, or the body decompressed into `buf`.
    pub fn uncompress<'b>(&self, format_version: u32, buf: &'b mut [u8]) -> Result<&'b [u8]>
    where
        'a: 'b,
    {
        if self.compression == CompressionType::None {
            return Ok(self.body);
        }
        let n = decompress_into(self.compression, format_version, self.body, buf)
            .map_err(|e| e.at(Part::Compression, self.offset))?;
        Ok(&buf[..n])
    }
}

/// Takes the block at `handle` out of `bytes` (which start at file offset `base`), checks its bounds and (if
/// `verify`) its checksum.
pub fn read_block<'a>(
    bytes: &'a [u8],
    base: u64,
    handle: BlockHandle,
    checksum: ChecksumType,
    verify: bool,
    part: Part,
) -> Result<BlockContents<'a>> {
    let end = handle.end_with_trailer().ok_or(Error::corrupt(part, handle.offset, "block handle overflows"))?;
    let (start, stop) = match (handle.offset.checked_sub(base), end.checked_sub(base)) {
        (Some(s), Some(e)) if e <= bytes.len() as u64 => (s as usize, e as usize),
        _ => return Err(Error::corrupt(part, handle.offset, "block lies outside the bytes given")),
    };
    let kind = if verify { checksum } else { ChecksumType::None };
    let (body, trailer) = verify_block(kind, &bytes[start..stop], part, handle.offset)?;
    let compression = CompressionType::from_u8(trailer.compression).map_err(|e| e.at(part, handle.offset))?;
    Ok(BlockContents { body, compression, offset: handle.offset })
}

/// How the index block is encoded, from the properties (never from the footer's format_version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexInfo {
    /// Keys are user keys (else internal keys).
    pub user_keys: bool,
    /// Entry format (delta-encoded handles or length-prefixed values).
    pub format: EntryFormat,
    /// Values carry the data block's first key (index type 3).
    pub first_key: bool,
}

impl IndexInfo {
    /// Reads the index settings from properties.
    pub fn from_properties(p: &Properties<'_>) -> Result<Self> {
        let first_key = match p.index_type.unwrap_or(0) {
            0 => false,
            3 => true,
            t => return Err(Error::Unsupported { part: Part::Index, what: "index type", value: u64::from(t) }),
        };
        let format = if p.index_is_delta_encoded() {
            EntryFormat::DeltaHandle { first_key }
        } else {
            EntryFormat::LengthPrefixed
        };
        Ok(IndexInfo { user_keys: p.index_has_user_keys(), format, first_key })
    }

    /// Order to seek index keys by a user key.
    pub fn seek_order(&self) -> KeyOrder {
        if self.user_keys {
            KeyOrder::Bytewise
        } else {
            KeyOrder::InternalByUser
        }
    }

    /// The data-block handle an index cursor points at (`value` is the cursor's current value).
    pub fn handle(&self, cursor: &BlockCursor, value: &[u8]) -> Result<BlockHandle> {
        match self.format {
            EntryFormat::DeltaHandle { .. } => Ok(cursor.handle()),
            EntryFormat::LengthPrefixed => {
                let (h, _) = BlockHandle::decode(value).map_err(|e| e.at(Part::Index, 0))?;
                Ok(h)
            }
        }
    }
}

/// The filter a table carries.
#[derive(Debug, Clone, Copy)]
pub enum TableFilter<'a> {
    /// A full filter (RocksDB).
    Full(FullFilter<'a>),
    /// A LevelDB filter block (one filter per 2 KiB of data offsets).
    LevelDb(LevelDbFilterBlock<'a>),
}

/// What a point lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lookup<'r> {
    /// The newest entry's seqno (the global seqno for external files; the tombstone's for range deletions).
    pub seqno: u64,
    /// Its type: Value, Merge, Deletion, ... or RangeDeletion when a range tombstone covers the key.
    pub kind: ValueType,
    /// The value (empty for deletions).
    pub value: &'r [u8],
}

impl Lookup<'_> {
    /// True if the key is deleted (point or range).
    pub fn is_deleted(&self) -> bool {
        self.kind.is_deletion()
    }
}

/// A range tombstone: user keys in `[start, end)` are deleted at `seqno`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeTombstone<'a> {
    /// First deleted user key.
    pub start: &'a [u8],
    /// First user key not deleted.
    pub end: &'a [u8],
    /// Sequence number (the global seqno for external files).
    pub seqno: u64,
}

impl RangeTombstone<'_> {
    /// True if it covers `user_key`.
    pub fn covers(&self, user_key: &[u8]) -> bool {
        self.start <= user_key && user_key < self.end
    }
}

/// Buffers a reader decompresses blocks and rebuilds keys in: a slice, an array, or (with `alloc`) a `Vec`
/// that grows.
pub trait ReadBuf {
    /// At least `len` writable bytes; `BufferTooSmall` if it cannot provide them.
    fn buf(&mut self, len: usize) -> Result<&mut [u8]>;
    /// What the last [`buf`](Self::buf) call handed out (and may since hold data).
    fn bytes(&self) -> &[u8];
}

impl ReadBuf for &mut [u8] {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        let n = self.len();
        self.get_mut(..len).ok_or(Error::BufferTooSmall { needed: len.max(n) })
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

impl<const N: usize> ReadBuf for [u8; N] {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        self.get_mut(..len).ok_or(Error::BufferTooSmall { needed: len })
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

#[cfg(feature = "alloc")]
impl ReadBuf for alloc::vec::Vec<u8> {
    fn buf(&mut self, len: usize) -> Result<&mut [u8]> {
        if self.len() < len {
            self.try_reserve(len - self.len()).map_err(|_| Error::BufferTooSmall { needed: len })?;
            self.resize(len, 0);
        }
        Ok(&mut self[..len])
    }
    fn bytes(&self) -> &[u8] {
        self
    }
}

/// A table held in memory, opened zero-copy.
#[derive(Debug, Clone)]
pub struct Table<'a> {
    file: &'a [u8],
    footer: Footer,
    opts: ReadOptions,
    index: Block<'a>,
    index_info: IndexInfo,
    properties: Properties<'a>,
    filter: Option<TableFilter<'a>>,
    range_del: Option<Block<'a>>,
    global_seqno: Option<u64>,
}

impl<'a> Table<'a> {
    /// Opens a table whose index block is not compressed (see [`open_with`](Self::open_with)).
    pub fn open(file: &'a [u8]) -> Result<Self> {
        Self::open_with(file, ReadOptions::default(), &mut [])
    }

    /// Opens a table: footer → metaindex → properties → index → filter and range deletions, verifying every
    /// block read. A compressed index block is decompressed into `index_buf` (which may be empty otherwise).
    pub fn open_with(file: &'a [u8], opts: ReadOptions, index_buf: &'a mut [u8]) -> Result<Self> {
        let layout = crate::table::meta::MetaLayout::parse(file, 0, file.len() as u64, &opts, index_buf)?;
        let index_buf: &'a [u8] = index_buf;
        let index = layout.index(file, index_buf)?;
        let properties = layout.properties(file)?;
        let filter = layout.filter(file);
        let range_del = layout.range_del(file)?;
        Ok(Table {
            file,
            footer: layout.footer,
            opts,
            index,
            index_info: layout.index_info,
            properties,
            filter,
            range_del,
            global_seqno: layout.global_seqno,
        })
    }

    /// The whole file.
    pub fn file(&self) -> &'a [u8] {
        self.file
    }
    /// The footer.
    pub fn footer(&self) -> &Footer {
        &self.footer
    }
    /// The properties (empty for LevelDB tables).
    pub fn properties(&self) -> &Properties<'a> {
        &self.properties
    }
    /// The read options.
    pub fn read_options(&self) -> &ReadOptions {
        &self.opts
    }
    /// The seqno every key is read with, if the table is an external file.
    pub fn global_seqno(&self) -> Option<u64> {
        self.global_seqno
    }
    /// How the index is encoded.
    pub fn index_info(&self) -> IndexInfo {
        self.index_info
    }
    /// The index block.
    pub fn index_block(&self) -> Block<'a> {
        self.index
    }
    /// The filter, if any this crate can read.
    pub fn filter(&self) -> Option<&TableFilter<'a>> {
        self.filter.as_ref()
    }

    /// Reads and verifies the block at `handle` (not decompressed).
    pub fn block(&self, handle: BlockHandle, part: Part) -> Result<BlockContents<'a>> {
        read_block(self.file, 0, handle, self.footer.checksum, self.opts.verify_checksums, part)
    }

    /// False only if the filter proves `user_key` absent (full filters; LevelDB filters need the block offset).
    pub fn may_contain(&self, user_key: &[u8]) -> bool {
        match &self.filter {
            Some(TableFilter::Full(f)) => f.may_match(user_key),
            _ => true,
        }
    }

    /// Applies the global seqno to a stored seqno.
    fn seqno(&self, stored: u64) -> u64 {
        self.global_seqno.unwrap_or(stored)
    }

    /// The range tombstones, in stored order.
    pub fn range_tombstones(&self) -> RangeTombstones<'a> {
        RangeTombstones::new(self.range_del.unwrap_or(EMPTY_BLOCK), self.global_seqno)
    }

    /// Seqno of the newest range tombstone covering `user_key`.
    pub fn covering_tombstone(&self, user_key: &[u8]) -> Result<Option<u64>> {
        self.range_tombstones().covering(user_key)
    }

    /// Finds the newest entry for `user_key`, honouring range tombstones. `buf` holds a decompressed block and
    /// the rebuilt key (a block's length is enough for the key; add the uncompressed size for compressed tables).
    pub fn get<'r>(&'r self, user_key: &[u8], buf: &'r mut impl ReadBuf) -> Result<Option<Lookup<'r>>> {
        let tomb = if self.range_del.is_some() { self.covering_tombstone(user_key)? } else { None };
        let point = self.get_point(user_key, buf)?;
        Ok(match (point, tomb) {
            (Some(p), Some(t)) if t > p.seqno => Some(Lookup { seqno: t, kind: ValueType::RangeDeletion, value: &[] }),
            (None, Some(t)) => Some(Lookup { seqno: t, kind: ValueType::RangeDeletion, value: &[] }),
            (p, _) => p,
        })
    }

    /// The newest point entry for `user_key` (range tombstones not applied).
    pub fn get_point<'r>(&'r self, user_key: &[u8], buf: &'r mut impl ReadBuf) -> Result<Option<Lookup<'r>>> {
        if !self.may_contain(user_key) {
            return Ok(None);
        }
        let mut icur = BlockCursor::new();
        // Index keys are rebuilt on the stack when they fit (no allocation per lookup), else in a growable buffer.
        let order = self.index_info.seek_order();
        let mut small = heapless::Vec::<u8, 64>::new();
        let found = match icur.seek(&self.index, &mut small, user_key, order) {
            Err(Error::BufferTooSmall { .. }) => icur.seek(&self.index, &mut DefaultKeyBuf::new(), user_key, order),
            r => r,
        };
        found.map_err(|e| e.at(Part::Index, self.footer.index.offset))?;
        if !icur.valid() {
            return Ok(None);
        }
        let handle = self.index_info.handle(&icur, icur.value(&self.index))?;
        if let Some(TableFilter::LevelDb(f)) = &self.filter {
            if !f.may_match(handle.offset, user_key) {
                return Ok(None);
            }
        }
        let contents = self.block(handle, Part::DataBlock)?;
        let fv = self.footer.format_version;
        let compressed = contents.compression != CompressionType::None;
        let block_room = if compressed { contents.decompress_to(fv, self.opts.max_block_len, &mut *buf)? } else { 0 };
        // A key is never longer than its block.
        let key_room = if compressed { block_room } else { contents.body.len() };
        let whole = buf.buf(block_room.checked_add(key_room).ok_or(Error::BufferTooSmall { needed: usize::MAX })?)?;
        let (bpart, kpart) = whole.split_at_mut(block_room);
        let bytes: &[u8] = if compressed { bpart } else { contents.body };
        let block = Block::parse(bytes).map_err(|e| e.at(Part::DataBlock, handle.offset))?;
        let mut key = crate::keybuf::SliceKeyBuf::new(kpart);
        let mut cur = BlockCursor::new();
        cur.seek(&block, &mut key, user_key, KeyOrder::InternalByUser)
            .map_err(|e| e.at(Part::DataBlock, handle.offset))?;
        if !cur.valid() {
            return Ok(None);
        }
        let (u, trailer) = split_internal_key(key.as_slice()).map_err(|e| e.at(Part::DataBlock, handle.offset))?;
        if u != user_key {
            return Ok(None);
        }
        let kind = ValueType::from_u8(trailer as u8).ok_or(Error::corrupt(
            Part::DataBlock,
            handle.offset,
            "unknown value type",
        ))?;
        let value = cur.value(&block);
        Ok(Some(Lookup { seqno: self.seqno(trailer >> 8), kind, value }))
    }

    /// A cursor over all point entries, using `buf` for decompressed blocks and `keys` for rebuilt keys.
    pub fn cursor<B: ReadBuf, K: KeyBuf>(
        &self,
        buf: B,
        index_key: K,
        data_key: K,
    ) -> crate::table::cursor::TableCursor<'_, 'a, B, K> {
        crate::table::cursor::TableCursor::new(self, buf, index_key, data_key)
    }

    /// Calls `f` on every point entry with `start <= user key < end` (`None` = unbounded), in order, until it
    /// returns false. `buf` holds decompressed blocks; keys are rebuilt in [`DefaultKeyBuf`]s.
    pub fn for_each_in_range<B: ReadBuf>(
        &self,
        start: Option<&[u8]>,
        end: Option<&[u8]>,
        buf: B,
        mut f: impl FnMut(crate::table::cursor::Entry<'_>) -> bool,
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
    pub fn iter(&self) -> crate::table::cursor::TableCursor<'_, 'a, alloc::vec::Vec<u8>, alloc::vec::Vec<u8>> {
        self.cursor(alloc::vec::Vec::new(), alloc::vec::Vec::new(), alloc::vec::Vec::new())
    }

    /// Verifies the checksum of every block the table references (data blocks through the index, and the
    /// meta blocks), whatever the read options say. Returns the number of blocks checked.
    pub fn verify_all(&self) -> Result<u64> {
        let sum = self.footer.checksum;
        let check = |h: BlockHandle, part| read_block(self.file, 0, h, sum, true, part).map(|_| ());
        check(self.footer.metaindex, Part::Metaindex)?;
        check(self.footer.index, Part::Index)?;
        let mut n = 2;
        let meta = read_block(self.file, 0, self.footer.metaindex, sum, true, Part::Metaindex)?;
        let mut err = None;
        Metaindex::parse(meta.body)?.for_each(|name, h| {
            let part = if name == crate::metaindex::PROPERTIES { Part::Properties } else { Part::Block };
            let r = if part == Part::Properties {
                crate::table::meta::read_properties_block(self.file, 0, h, sum, true).map(|_| ())
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
        let mut icur = BlockCursor::new();
        let mut ikey = DefaultKeyBuf::new();
        icur.seek_to_first(&self.index, &mut ikey)?;
        while icur.valid() {
            let h = self.index_info.handle(&icur, icur.value(&self.index))?;
            check(h, Part::DataBlock)?;
            n += 1;
            icur.next(&self.index, &mut ikey)?;
        }
        Ok(n)
    }
}

const EMPTY_BLOCK: Block<'static> = Block::empty();

/// Iterator over a table's range tombstones.
#[derive(Debug)]
pub struct RangeTombstones<'a> {
    block: Block<'a>,
    cursor: BlockCursor,
    key: DefaultKeyBuf,
    global_seqno: Option<u64>,
    err: Option<Error>,
    started: bool,
}

impl<'a> RangeTombstones<'a> {
    /// Iterates the tombstones of a range-deletion block (see [`MetaLayout::range_del`](crate::table::MetaLayout::range_del)).
    pub fn new(block: Block<'a>, global_seqno: Option<u64>) -> Self {
        let mut cursor = BlockCursor::new();
        let mut key = DefaultKeyBuf::new();
        let err = cursor.seek_to_first(&block, &mut key).err();
        RangeTombstones { block, cursor, key, global_seqno, err, started: false }
    }

    /// Seqno of the newest tombstone covering `user_key`.
    pub fn covering(self, user_key: &[u8]) -> Result<Option<u64>> {
        let mut best: Option<u64> = None;
        for t in self {
            let t = t?;
            if t.covers(user_key) {
                best = Some(best.map_or(t.seqno, |b| b.max(t.seqno)));
            }
        }
        Ok(best)
    }
}

impl<'a> Iterator for RangeTombstones<'a> {
    type Item = Result<RangeTombstone<'a>>;
    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.err.take() {
            self.cursor = BlockCursor::new();
            return Some(Err(e));
        }
        if self.started {
            if let Err(e) = self.cursor.next(&self.block, &mut self.key) {
                self.cursor = BlockCursor::new();
                return Some(Err(e.at(Part::RangeDel, 0)));
            }
        }
        self.started = true;
        if !self.cursor.valid() {
            return None;
        }
        let r = (|| {
            let (start, trailer) = split_internal_key(self.key.as_slice())?;
            if trailer as u8 != ValueType::RangeDeletion as u8 {
                return Err(Error::corrupt(Part::RangeDel, 0, "range-deletion block entry of another type"));
            }
            // Start keys are rebuilt in a buffer; find the same bytes in the block so the tombstone can borrow
            // 'a (restart interval 1 keeps every key whole in the block).
            let data = self.block.data();
            let at = self.cursor.offset();
            let start = find_whole(data, at, start).ok_or(Error::corrupt(
                Part::RangeDel,
                at as u64,
                "range-deletion key is prefix-compressed",
            ))?;
            Ok(RangeTombstone {
                start,
                end: self.cursor.value(&self.block),
                seqno: self.global_seqno.unwrap_or(trailer >> 8),
            })
        })();
        if r.is_err() {
            self.cursor = BlockCursor::new();
        }
        Some(r)
    }
}

/// The key bytes of an entry stored whole (shared = 0) at `at`, if they equal `key`.
fn find_whole<'a>(data: &'a [u8], at: usize, key: &[u8]) -> Option<&'a [u8]> {
    let mut r = crate::varint::Reader::new(data.get(at..)?);
    let shared = r.varint32().ok()?;
    let non_shared = r.varint32().ok()? as usize;
    let _vlen = r.varint32().ok()?;
    if shared != 0 || non_shared < crate::key::INTERNAL_KEY_TRAILER_LEN {
        return None;
    }
    let start = at + r.position();
    let k = data.get(start..start + non_shared - crate::key::INTERNAL_KEY_TRAILER_LEN)?;
    (k == key).then_some(k)
}
