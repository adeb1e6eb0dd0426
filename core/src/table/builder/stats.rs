//! What the builder reports: counts and sizes as it goes, and where the meta blocks went once finished.

use crate::handle::BlockHandle;

/// Counts and sizes of a table, as it is being built and once finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct TableStats {
    /// Point entries of type Value.
    pub num_puts: u64,
    /// Point deletions (Deletion, SingleDeletion and DeletionWithTimestamp).
    pub num_deletions: u64,
    /// Merge operands.
    pub num_merges: u64,
    /// Range deletions.
    pub num_range_deletions: u64,
    /// Other point entries (blob indexes, wide columns, ...).
    pub num_other: u64,
    /// Sum of internal key lengths (range deletions included).
    pub raw_key_size: u64,
    /// Sum of value lengths (range deletion end keys included).
    pub raw_value_size: u64,
    /// Data blocks written.
    pub num_data_blocks: u64,
    /// Bytes of data blocks including trailers.
    pub data_size: u64,
    /// Bytes of the index block including its trailer; for a partitioned index, the contents of every
    /// partition and of the top-level index plus one trailer (as RocksDB counts `rocksdb.index.size`).
    pub index_size: u64,
    /// Index partitions written (partitioned index).
    pub index_partitions: u64,
    /// Bytes of the top-level index's contents (partitioned index).
    pub top_level_index_size: u64,
    /// Bytes of the filter block contents (for a partitioned filter, of every partition and of the
    /// filter-partition index).
    pub filter_size: u64,
    /// Keys added to the filter.
    pub num_filter_entries: u64,
    /// Smallest sequence number seen (`u64::MAX` when empty).
    pub min_seqno: u64,
    /// Largest sequence number seen.
    pub max_seqno: u64,
    /// Bytes handed out so far; the file size once finished.
    pub file_size: u64,
}

impl TableStats {
    /// Point entries plus range deletions, as `rocksdb.num.entries` counts them.
    pub fn num_entries(&self) -> u64 {
        self.num_puts + self.num_deletions + self.num_merges + self.num_other + self.num_range_deletions
    }

    /// Smallest and largest sequence number of the entries, `None` while the table is empty.
    pub fn seqno_range(&self) -> Option<(u64, u64)> {
        (self.min_seqno <= self.max_seqno).then_some((self.min_seqno, self.max_seqno))
    }
}

/// Where a finished table's meta blocks are: what [`TableBuilder::handles`](super::TableBuilder::handles) reports once the footer was handed
/// out, so a caller can describe the file without reading it back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableHandles {
    /// The index block (the top-level index of a partitioned index).
    pub index: BlockHandle,
    /// The full filter block (the filter-partition index of a partitioned filter), if one was written.
    pub filter: Option<BlockHandle>,
    /// The range-deletion block, if one was written.
    pub range_del: Option<BlockHandle>,
    /// The properties block.
    pub properties: BlockHandle,
    /// The metaindex block.
    pub metaindex: BlockHandle,
}

impl TableHandles {
    /// Handles as a table's footer and metaindex record them (for describing a table written earlier).
    pub fn new(
        index: BlockHandle,
        filter: Option<BlockHandle>,
        range_del: Option<BlockHandle>,
        properties: BlockHandle,
        metaindex: BlockHandle,
    ) -> Self {
        TableHandles { index, filter, range_del, properties, metaindex }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_count_every_kind_and_an_empty_table_has_no_seqno_range() {
        let mut s = TableStats { min_seqno: u64::MAX, ..TableStats::default() };
        assert_eq!(s.seqno_range(), None);
        (s.num_puts, s.num_deletions, s.num_merges, s.num_other, s.num_range_deletions) = (1, 2, 3, 4, 5);
        assert_eq!(s.num_entries(), 15);
        (s.min_seqno, s.max_seqno) = (3, 9);
        assert_eq!(s.seqno_range(), Some((3, 9)));
    }
}
