//! The block map: every block of a table with its kind (data, index and its partitions, filter and its
//! partitions, properties, range deletions, compression dictionary, other meta blocks, metaindex, footer), and
//! the checksum rule each kind is verified by.
//!
//! An inspector draws the file with it and a verifier walks it: together the blocks tile the file (a test
//! checks it), so nothing a table holds goes unseen. The walk needs only the metadata a
//! [`TableLayout`] holds — its region must hold the index partitions of a partitioned index (open it with
//! [`meta_start`](crate::table::meta_start), or over the whole file) — never a data block.

use core::ops::Bound;

use crate::error::{Error, Part, Result};
use crate::footer::INDEX_HANDLE_NAME;
use crate::handle::BlockHandle;
use crate::metaindex::{COMPRESSION_DICT, PROPERTIES, PROPERTIES_LEGACY, RANGE_DEL};
use crate::table::blocks::{verified_block, BlockContents};
use crate::table::layout::TableLayout;
use crate::table::meta::read_properties_block;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};

/// What a block of the table is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockKind<'r> {
    /// A data block (named by the index).
    Data,
    /// The index block; the top-level index when the index is partitioned.
    Index,
    /// A partition of a partitioned index (named by the top-level index).
    IndexPartition,
    /// The filter block the metaindex names: a full filter, a LevelDB filter block, or the top-level index of
    /// a partitioned filter.
    Filter,
    /// A partition of a partitioned filter (named by its top-level index).
    FilterPartition,
    /// The properties block.
    Properties,
    /// The range-deletion block.
    RangeDeletions,
    /// The compression dictionary.
    CompressionDict,
    /// Another meta block the metaindex names (by this name), which this crate does not interpret.
    OtherMeta(&'r [u8]),
    /// The metaindex block.
    Metaindex,
    /// The footer (no trailer; its handle's size is the footer's length).
    Footer,
}

impl BlockKind<'_> {
    /// A short lowercase name (`data`, `index`, `index partition`, …; `meta` for [`OtherMeta`](Self::OtherMeta)).
    pub fn name(&self) -> &'static str {
        match self {
            BlockKind::Data => "data",
            BlockKind::Index => "index",
            BlockKind::IndexPartition => "index partition",
            BlockKind::Filter => "filter",
            BlockKind::FilterPartition => "filter partition",
            BlockKind::Properties => "properties",
            BlockKind::RangeDeletions => "range deletions",
            BlockKind::CompressionDict => "compression dictionary",
            BlockKind::OtherMeta(_) => "meta",
            BlockKind::Metaindex => "metaindex",
            BlockKind::Footer => "footer",
        }
    }

    /// The [`Part`] errors about a block of this kind name.
    pub fn part(&self) -> Part {
        match self {
            BlockKind::Data => Part::DataBlock,
            BlockKind::Index | BlockKind::IndexPartition => Part::Index,
            BlockKind::Filter | BlockKind::FilterPartition => Part::Filter,
            BlockKind::Properties => Part::Properties,
            BlockKind::RangeDeletions => Part::RangeDel,
            BlockKind::CompressionDict => Part::Compression,
            BlockKind::OtherMeta(_) => Part::Block,
            BlockKind::Metaindex => Part::Metaindex,
            BlockKind::Footer => Part::Footer,
        }
    }
}

/// One block of the table: its kind and handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableBlock<'r> {
    /// What it is.
    pub kind: BlockKind<'r>,
    /// Where it is (the body; the 5-byte trailer follows, except after the footer).
    pub handle: BlockHandle,
}

impl TableBlock<'_> {
    /// Bytes the block takes in the file: body and trailer (the footer has no trailer).
    pub fn stored_len(&self) -> u64 {
        let trailer = if self.kind == BlockKind::Footer { 0 } else { BLOCK_TRAILER_LEN as u64 };
        self.handle.size.saturating_add(trailer)
    }

    /// Offset just past the block (and its trailer).
    pub fn end(&self) -> u64 {
        self.handle.offset.saturating_add(self.stored_len())
    }
}

impl<'r> TableLayout<'r> {
    /// Calls `f` with every block of the table, grouped by kind — footer, metaindex, the meta blocks in
    /// metaindex order, the filter partitions, the index, its partitions, then the data blocks — each group in
    /// file order (sort by offset for the file's order). Every handle is checked against the file size. The
    /// region must hold the partitions of a partitioned index (see the module docs); filter partitions are named
    /// by the filter's top-level index, not read.
    pub fn for_each_table_block(&self, mut f: impl FnMut(TableBlock<'_>) -> Result<()>) -> Result<()> {
        let footer = *self.footer();
        let footer_len = footer.encoded_len() as u64;
        let footer_at = self.file_len().checked_sub(footer_len).ok_or(Error::corrupt(
            Part::Footer,
            0,
            "file is shorter than its footer",
        ))?;
        f(TableBlock { kind: BlockKind::Footer, handle: BlockHandle::new(footer_at, footer_len) })?;
        let mut block = |kind: BlockKind<'_>, handle: BlockHandle| {
            self.extent(handle, kind.part())?;
            f(TableBlock { kind, handle })
        };
        block(BlockKind::Metaindex, footer.metaindex)?;
        let filter = self.meta().metaindex(self.region())?.filter()?.map(|(_, h)| h);
        self.meta().metaindex(self.region())?.for_each(|name, h| {
            let kind = if name == INDEX_HANDLE_NAME && footer.index_in_metaindex() {
                // The index, listed below with its partitions.
                return Ok(());
            } else if name == PROPERTIES || name == PROPERTIES_LEGACY {
                BlockKind::Properties
            } else if name == RANGE_DEL {
                BlockKind::RangeDeletions
            } else if name == COMPRESSION_DICT {
                BlockKind::CompressionDict
            } else if Some(h) == filter {
                BlockKind::Filter
            } else {
                BlockKind::OtherMeta(name)
            };
            block(kind, h)
        })?;
        self.for_each_filter_partition(|h| block(BlockKind::FilterPartition, h).map(|()| true))?;
        block(BlockKind::Index, footer.index)?;
        self.for_each_index_partition(|h| block(BlockKind::IndexPartition, h).map(|()| true))?;
        self.for_each_block((Bound::Unbounded, Bound::Unbounded), |x| block(BlockKind::Data, x.handle).map(|()| true))
    }

    /// Takes `block` out of `fetched` (file bytes starting at offset `fetched_at`) and verifies its checksum by
    /// the rule of its kind, whatever the read options say: the properties block may match only with its
    /// global seqno zeroed (RocksDB rewrites that field on ingestion), every other block must match as stored.
    /// Not decompressed. The footer is checked when the table is opened, so here it only has to lie in
    /// `fetched`; its contents come back with no compression.
    pub fn verify_table_block<'f>(
        &self,
        fetched: &'f [u8],
        fetched_at: u64,
        block: &TableBlock<'_>,
    ) -> Result<BlockContents<'f>> {
        let h = block.handle;
        let sum = self.footer().block_checksum();
        match block.kind {
            BlockKind::Footer => {
                // The footer ends the file; decoding it checks its magic and (format_version ≥ 6) its checksum.
                let end = h.offset.checked_add(h.size).and_then(|e| e.checked_sub(fetched_at));
                let tail = end
                    .and_then(|e| usize::try_from(e).ok())
                    .and_then(|e| fetched.get(..e))
                    .ok_or(Error::InvalidArgument { reason: "the fetched bytes do not hold the footer" })?;
                crate::footer::Footer::decode(tail, self.file_len())?;
                let start = tail.len().saturating_sub(usize::try_from(h.size).unwrap_or(usize::MAX));
                Ok(BlockContents { body: &tail[start..], compression: CompressionType::None, offset: h.offset })
            }
            BlockKind::Properties => {
                read_properties_block(fetched, fetched_at, h, sum, true)?;
                verified_block(fetched, fetched_at, h, sum, false, Part::Properties)
            }
            kind => verified_block(fetched, fetched_at, h, sum, true, kind.part()),
        }
    }
}
