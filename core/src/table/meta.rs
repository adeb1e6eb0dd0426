//! Opening a table from the bytes at its end, for readers that fetch byte ranges themselves.
//!
//! A table's metadata (metaindex, properties, index, filter, range deletions, footer) sits after the data
//! blocks. A ranged reader fetches a tail of the file, asks [`meta_start`] whether the tail covers all of it
//! (or from which offset to fetch), then parses a [`MetaLayout`]: plain offsets and shapes with no borrows, so
//! the reader can keep it next to its own buffers and get borrowed views back on each call.

use crate::block::{Block, BlockLayout, KeyOrder};
use crate::checksum::BlockChecksum;
use crate::comparator::Comparator;
use crate::error::{Error, Part, Result};
use crate::filter::{FullFilter, LevelDbFilterBlock};
use crate::footer::Footer;
use crate::handle::BlockHandle;
use crate::metaindex::{FilterKind, Metaindex, COMPRESSION_DICT, RANGE_DEL};
use crate::properties::Properties;
use crate::table::blocks::{verified_block, BlockContents, ReadOptions};
use crate::table::index::{index_seek, IndexInfo};
use crate::trailer::CompressionType;

/// What a tail of the file covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetaNeed {
    /// The tail holds every metadata block: parse it with [`MetaLayout::parse`].
    Covered,
    /// Fetch the file from this offset to its end, then ask again.
    From(u64),
}

/// Which metadata blocks the tail must hold, given the tail (the bytes `[tail_offset, file_len)`).
///
/// The footer names the metaindex and the index; the metaindex (once in the tail) names the others. The
/// partitions of a partitioned index count as metadata here, so a [`TableLayout`](crate::table::TableLayout)
/// over the region answers every lookup; a reader that fetches partitions on demand uses
/// [`meta_start_without_partitions`] instead.
pub fn meta_start(tail: &[u8], tail_offset: u64, file_len: u64, opts: &ReadOptions) -> Result<MetaNeed> {
    meta_start_inner(tail, tail_offset, file_len, opts, true)
}

/// [`meta_start`] without the partitions of a partitioned index: the reader fetches each partition it needs
/// ([`TableLayout::partition_for`](crate::table::TableLayout::partition_for),
/// [`TableLayout::for_each_partition`](crate::table::TableLayout::for_each_partition)).
pub fn meta_start_without_partitions(
    tail: &[u8],
    tail_offset: u64,
    file_len: u64,
    opts: &ReadOptions,
) -> Result<MetaNeed> {
    meta_start_inner(tail, tail_offset, file_len, opts, false)
}

fn meta_start_inner(
    tail: &[u8],
    tail_offset: u64,
    file_len: u64,
    opts: &ReadOptions,
    partitions: bool,
) -> Result<MetaNeed> {
    if tail_offset.checked_add(tail.len() as u64) != Some(file_len) {
        return Err(Error::InvalidArgument { reason: "tail must end where the file ends" });
    }
    let mut footer = Footer::decode(tail, file_len)?;
    if footer.metaindex.offset < tail_offset {
        // The metaindex names the other blocks: fetch it first (with the index, when the footer names that).
        let first = if footer.index_in_metaindex() {
            footer.metaindex.offset
        } else {
            footer.metaindex.offset.min(footer.index.offset)
        };
        return Ok(MetaNeed::From(first));
    }
    let meta = verified_block(
        tail,
        tail_offset,
        footer.metaindex,
        footer.block_checksum(),
        opts.verify_checksums,
        Part::Metaindex,
    )?;
    let metaindex = Metaindex::parse(meta.body).map_err(|e| e.at(Part::Metaindex, footer.metaindex.offset))?;
    // Everything the footer and the metaindex name, so one more fetch covers it all.
    let mut lowest = lowest_named(&footer, &metaindex)?;
    if partitions && lowest >= tail_offset {
        // A partitioned index: its partitions (before the metaindex) are part of the metadata too.
        footer.resolve_index(&metaindex, file_len)?;
        if let Some(p) = first_index_partition(tail, tail_offset, footer, &metaindex, opts)? {
            lowest = lowest.min(p);
        }
    }
    Ok(if lowest < tail_offset { MetaNeed::From(lowest) } else { MetaNeed::Covered })
}

/// The lowest offset of a block the footer or the metaindex names (the first metadata block, index partitions
/// and filter partitions aside).
fn lowest_named(footer: &Footer, metaindex: &Metaindex<'_>) -> Result<u64> {
    let mut lowest = footer.metaindex.offset;
    if !footer.index_in_metaindex() {
        lowest = lowest.min(footer.index.offset);
    }
    metaindex.for_each(|_, h| {
        lowest = lowest.min(h.offset);
        Ok(())
    })?;
    Ok(lowest)
}

/// The lowest offset of an index partition, when the properties say the index is partitioned (`footer` has its
/// index resolved; the tail holds the properties and the top-level index).
fn first_index_partition(
    tail: &[u8],
    tail_offset: u64,
    footer: Footer,
    metaindex: &Metaindex<'_>,
    opts: &ReadOptions,
) -> Result<Option<u64>> {
    let sum = footer.block_checksum();
    let Some(h) = metaindex.properties()? else { return Ok(None) };
    let raw = read_properties_block(tail, tail_offset, h, sum, opts.verify_checksums)?;
    let props = Properties::parse(raw).map_err(|e| e.at(Part::Properties, h.offset))?;
    let info = IndexInfo::from_properties(&props)?;
    if !info.partitioned {
        return Ok(None);
    }
    let at = footer.index.offset;
    let top = verified_block(tail, tail_offset, footer.index, sum, opts.verify_checksums, Part::Index)?;
    #[cfg(feature = "alloc")]
    let mut buf = alloc::vec::Vec::new();
    let body = if top.compression == CompressionType::None {
        top.body
    } else {
        #[cfg(feature = "alloc")]
        {
            let n = top
                .decompress_to(footer.format_version, opts.max_block_len, &mut buf)
                .map_err(|e| e.at(Part::Index, at))?;
            &buf[..n]
        }
        #[cfg(not(feature = "alloc"))]
        return Err(Error::Unsupported {
            part: Part::Index,
            what: "compressed top-level index of a partitioned index without alloc",
            value: top.compression as u64,
        });
    };
    let block = Block::parse_with(body, info.format).map_err(|e| e.at(Part::Index, at))?;
    let mut lowest: Option<u64> = None;
    let mut key = crate::keybuf::DefaultKeyBuf::new();
    crate::table::index::for_each_block(&block, info, None, &mut key, |h| {
        lowest = Some(lowest.map_or(h.offset, |l| l.min(h.offset)));
        Ok(true)
    })
    .map_err(|e| e.at(Part::Index, at))?;
    Ok(lowest)
}

/// The filter a table carries.
#[derive(Debug, Clone, Copy)]
pub enum TableFilter<'a> {
    /// A full filter (RocksDB).
    Full(FullFilter<'a>),
    /// A LevelDB filter block (one filter per 2 KiB of data offsets).
    LevelDb(LevelDbFilterBlock<'a>),
    /// A partitioned filter's top-level block: separators (in the index's key form and entry format) → the
    /// handles of full-filter partitions.
    Partitioned(Block<'a>),
}

/// Where the index block's bytes live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexSource {
    /// Inside the region, at `[start, start + len)`.
    Region {
        /// Start within the region.
        start: usize,
        /// Length.
        len: usize,
    },
    /// Decompressed into the caller's index buffer, `[0, len)`.
    Buffer {
        /// Length.
        len: usize,
    },
}

/// A table's metadata as offsets into a region of the file (and an index buffer for a compressed index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetaLayout {
    /// The footer.
    pub footer: Footer,
    /// File size.
    pub file_len: u64,
    /// Offset in the file of the region's first byte.
    pub base: u64,
    /// How the index is encoded.
    pub index_info: IndexInfo,
    /// The global seqno every key is read with (external files).
    pub global_seqno: Option<u64>,
    /// The comparator the keys are ordered by (and whether they carry timestamps).
    pub comparator: Comparator,
    /// Where the index block is.
    pub index: IndexSource,
    index_layout: BlockLayout,
    filter: Option<(FilterKind, usize, usize)>,
    range_del: Option<(usize, usize, BlockLayout)>,
    properties: Option<(usize, usize)>,
    metaindex: (usize, usize),
    compression_dict: Option<(usize, usize)>,
}

fn local(h: &BlockContents<'_>, region: &[u8]) -> (usize, usize) {
    (h.body.as_ptr() as usize - region.as_ptr() as usize, h.body.len())
}

impl MetaLayout {
    /// Parses the metadata from `region` (the file's bytes from `base` to its end), verifying each block read.
    /// A compressed index block is decompressed into `index_buf`; if that is too short the error is
    /// `BufferTooSmall { needed }`.
    pub fn parse(region: &[u8], base: u64, file_len: u64, opts: &ReadOptions, index_buf: &mut [u8]) -> Result<Self> {
        if base.checked_add(region.len() as u64) != Some(file_len) {
            return Err(Error::InvalidArgument { reason: "region must end where the file ends" });
        }
        let mut footer = Footer::decode(region, file_len)?;
        let fv = footer.format_version;
        let verify = opts.verify_checksums;
        let sum = footer.block_checksum();
        let read = |h: BlockHandle, part: Part| verified_block(region, base, h, sum, verify, part);
        let meta = read(footer.metaindex, Part::Metaindex)?;
        let metaindex = Metaindex::parse(meta.body).map_err(|e| e.at(Part::Metaindex, footer.metaindex.offset))?;
        footer.resolve_index(&metaindex, file_len)?;

        let (props_range, properties) = match metaindex.properties()? {
            Some(h) => {
                let raw = read_properties_block(region, base, h, sum, verify)?;
                let p = Properties::parse(raw).map_err(|e| e.at(Part::Properties, h.offset))?;
                (Some((raw.as_ptr() as usize - region.as_ptr() as usize, raw.len())), p)
            }
            None => (None, Properties::default()),
        };
        let global_seqno = properties.global_seqno()?;
        let comparator = Comparator::from_properties(&properties)?;
        let index_info = IndexInfo::from_properties(&properties)?;

        let idx = read(footer.index, Part::Index)?;
        let (index, index_layout) = if idx.compression == CompressionType::None {
            let (start, len) = local(&idx, region);
            let b = Block::parse_with(idx.body, index_info.format).map_err(|e| e.at(Part::Index, idx.offset))?;
            (IndexSource::Region { start, len }, b.layout())
        } else {
            let mut buf: &mut [u8] = index_buf;
            let n = idx.decompress_to(fv, opts.max_block_len, &mut buf).map_err(|e| e.at(Part::Index, idx.offset))?;
            let b = Block::parse_with(&buf[..n], index_info.format).map_err(|e| e.at(Part::Index, idx.offset))?;
            (IndexSource::Buffer { len: n }, b.layout())
        };

        let filter = match metaindex.filter()? {
            Some((FilterKind::Partitioned, h)) => {
                // The filter-partition index: an index-format block (separators → filter partitions).
                let b = read(h, Part::Filter)?;
                if b.compression != CompressionType::None {
                    None
                } else {
                    Block::parse_with(b.body, index_info.format).map_err(|e| e.at(Part::Filter, h.offset))?;
                    let (s, l) = local(&b, region);
                    Some((FilterKind::Partitioned, s, l))
                }
            }
            Some((kind, h)) if matches!(kind, FilterKind::Full | FilterKind::BlockBased) => {
                let b = read(h, Part::Filter)?;
                if b.compression != CompressionType::None {
                    None
                } else {
                    // Parse once now so a broken filter is reported at open, not at the first lookup.
                    match kind {
                        FilterKind::Full => {
                            FullFilter::parse(b.body).map_err(|e| e.at(Part::Filter, h.offset))?;
                        }
                        _ => {
                            LevelDbFilterBlock::parse(b.body).map_err(|e| e.at(Part::Filter, h.offset))?;
                        }
                    }
                    let (s, l) = local(&b, region);
                    Some((kind, s, l))
                }
            }
            _ => None,
        };
        let range_del = match metaindex.find(RANGE_DEL)? {
            Some(h) => {
                let b = read(h, Part::RangeDel)?;
                if b.compression != CompressionType::None {
                    return Err(Error::Unsupported {
                        part: Part::RangeDel,
                        what: "compressed range-deletion block",
                        value: b.compression as u64,
                    });
                }
                let blk = Block::parse(b.body).map_err(|e| e.at(Part::RangeDel, h.offset))?;
                let (s, l) = local(&b, region);
                Some((s, l, blk.layout()))
            }
            None => None,
        };
        let compression_dict = match metaindex.find(COMPRESSION_DICT)? {
            Some(h) => {
                let b = read(h, Part::Compression)?;
                // RocksDB writes the dictionary uncompressed; anything else is not a table it wrote.
                if b.compression != CompressionType::None {
                    return Err(Error::corrupt(Part::Compression, h.offset, "compressed compression dictionary"));
                }
                Some(local(&b, region))
            }
            None => None,
        };
        Ok(MetaLayout {
            compression_dict,
            footer,
            file_len,
            base,
            index_info,
            global_seqno,
            comparator,
            index,
            index_layout,
            filter,
            range_del,
            properties: props_range,
            metaindex: local(&meta, region),
        })
    }

    /// [`parse`](Self::parse) with a growable index buffer: a compressed index block gets the room it needs (at
    /// most `opts.max_block_len` bytes; a bigger one is `BufferTooSmall`).
    #[cfg(feature = "alloc")]
    pub fn parse_growing(
        region: &[u8],
        base: u64,
        file_len: u64,
        opts: &ReadOptions,
        index_buf: &mut alloc::vec::Vec<u8>,
    ) -> Result<Self> {
        loop {
            match Self::parse(region, base, file_len, opts, index_buf) {
                Err(Error::BufferTooSmall { needed }) if needed > index_buf.len() && needed <= opts.max_block_len => {
                    index_buf.resize(needed, 0);
                }
                r => return r,
            }
        }
    }

    /// The index block, from the region or the index buffer given to [`parse`](Self::parse).
    pub fn index<'r>(&self, region: &'r [u8], index_buf: &'r [u8]) -> Result<Block<'r>> {
        let bytes = match self.index {
            IndexSource::Region { start, len } => region.get(start..start + len),
            IndexSource::Buffer { len } => index_buf.get(..len),
        };
        let bytes = bytes.ok_or(Error::InvalidArgument { reason: "region does not match the layout" })?;
        Block::from_layout(bytes, self.index_layout)
    }

    /// The filter, if the table has one this crate reads.
    pub fn filter<'r>(&self, region: &'r [u8]) -> Option<TableFilter<'r>> {
        let (kind, s, l) = self.filter?;
        let bytes = region.get(s..s + l)?;
        match kind {
            FilterKind::Full => FullFilter::parse(bytes).ok().map(TableFilter::Full),
            FilterKind::Partitioned => {
                Block::parse_with(bytes, self.index_info.format).ok().map(TableFilter::Partitioned)
            }
            _ => LevelDbFilterBlock::parse(bytes).ok().map(TableFilter::LevelDb),
        }
    }

    /// The compression dictionary (the `rocksdb.compression_dict` block's body), if the table has one.
    pub fn compression_dict<'r>(&self, region: &'r [u8]) -> Option<&'r [u8]> {
        let (s, l) = self.compression_dict?;
        region.get(s..s.checked_add(l)?)
    }

    /// The range-deletion block, if any.
    pub fn range_del<'r>(&self, region: &'r [u8]) -> Result<Option<Block<'r>>> {
        let Some((s, l, layout)) = self.range_del else { return Ok(None) };
        let bytes =
            region.get(s..s + l).ok_or(Error::InvalidArgument { reason: "region does not match the layout" })?;
        Block::from_layout(bytes, layout).map(Some)
    }

    /// The metaindex block (names of meta blocks and their handles).
    pub fn metaindex<'r>(&self, region: &'r [u8]) -> Result<Metaindex<'r>> {
        let (s, l) = self.metaindex;
        let bytes =
            region.get(s..s + l).ok_or(Error::InvalidArgument { reason: "region does not match the layout" })?;
        Metaindex::parse(bytes)
    }

    /// The properties (parsed again on each call; empty for LevelDB tables).
    pub fn properties<'r>(&self, region: &'r [u8]) -> Result<Properties<'r>> {
        match self.properties {
            Some((s, l)) => {
                let bytes = region
                    .get(s..s + l)
                    .ok_or(Error::InvalidArgument { reason: "region does not match the layout" })?;
                Properties::parse(bytes)
            }
            None => Ok(Properties::default()),
        }
    }

    /// False only if the filter proves `user_key` absent from the data block at `block_offset` (LevelDB filters)
    /// or from the table (full filters).
    pub fn may_contain(&self, region: &[u8], user_key: &[u8], block_offset: Option<u64>) -> bool {
        match (self.filter(region), block_offset) {
            (Some(TableFilter::Full(f)), _) => f.may_match(user_key),
            (Some(TableFilter::LevelDb(f)), Some(off)) => f.may_match(off, user_key),
            _ => true,
        }
    }

    /// The handle of the data block that may hold `user_key` (`None`: past the last block). A partitioned
    /// index's partition is read from the region (verified; a compressed one needs `alloc`).
    pub fn find_block(&self, region: &[u8], index_buf: &[u8], user_key: &[u8]) -> Result<Option<BlockHandle>> {
        let index = self.index(region, index_buf)?;
        let mut key = crate::keybuf::DefaultKeyBuf::new();
        let found = index_seek(&index, self.index_info, user_key, &mut key)
            .map_err(|e| e.at(Part::Index, self.footer.index.offset))?;
        let Some(h) = found else { return Ok(None) };
        if !self.index_info.partitioned {
            return Ok(Some(h));
        }
        if h.offset < self.base {
            return Err(Error::InvalidArgument { reason: "index partition lies before the region given" });
        }
        let part = verified_block(region, self.base, h, self.checksum(), true, Part::Index)?;
        #[cfg(feature = "alloc")]
        let mut buf = alloc::vec::Vec::new();
        let body = if part.compression == CompressionType::None {
            part.body
        } else {
            #[cfg(feature = "alloc")]
            {
                let n = part
                    .decompress_to(self.footer.format_version, crate::compress::DEFAULT_MAX_BLOCK_LEN, &mut buf)
                    .map_err(|e| e.at(Part::Index, h.offset))?;
                &buf[..n]
            }
            #[cfg(not(feature = "alloc"))]
            return Err(Error::Unsupported {
                part: Part::Index,
                what: "compressed index partition without alloc",
                value: part.compression as u64,
            });
        };
        let block = Block::parse_with(body, self.index_info.format).map_err(|e| e.at(Part::Index, h.offset))?;
        index_seek(&block, self.index_info, user_key, &mut key).map_err(|e| e.at(Part::Index, h.offset))
    }

    /// Where the metadata starts: the lowest offset the footer or the metaindex names (index and filter
    /// partitions, which lie before it, aside). A ranged reader needs the last `file_len - meta_offset` bytes
    /// to open the table; [`meta_start_without_partitions`] asks for exactly these.
    pub fn meta_offset(&self, region: &[u8]) -> Result<u64> {
        lowest_named(&self.footer, &self.metaindex(region)?)
    }

    /// The checksum scheme of every block (type and, for format_version ≥ 6, base context checksum): pass it
    /// to [`verified_block`]. Its `kind` is the checksum type.
    pub fn checksum(&self) -> BlockChecksum {
        self.footer.block_checksum()
    }

    /// Seek order for index keys.
    pub fn index_order(&self) -> KeyOrder {
        self.index_info.seek_order()
    }
}

/// Reads the properties block, accepting a checksum that matches only with the global seqno zeroed (RocksDB
/// rewrites that field on ingestion without fixing the checksum).
///
/// `sum` is the table's scheme ([`Footer::block_checksum`]); the format_version ≥ 6 modifier is applied at
/// `h.offset` on the retry too.
pub fn read_properties_block(
    region: &[u8],
    base: u64,
    h: BlockHandle,
    sum: impl Into<BlockChecksum>,
    verify: bool,
) -> Result<&[u8]> {
    let sum = sum.into();
    match verified_block(region, base, h, sum, verify, Part::Properties) {
        Ok(b) => Ok(b.body),
        Err(e @ Error::ChecksumMismatch { stored, .. }) => {
            let b = verified_block(region, base, h, sum, false, Part::Properties)?;
            let p = Properties::parse(b.body).map_err(|_| e.clone())?;
            let Some(at) = p.global_seqno_value_offset else { return Err(e) };
            let computed = crate::checksum::block_checksum_with_zeroed(sum.kind, b.body, at, 8, b.compression as u8)
                .wrapping_add(sum.modifier(h.offset));
            if computed == stored {
                Ok(b.body)
            } else {
                Err(e)
            }
        }
        Err(e) => Err(e),
    }
}
