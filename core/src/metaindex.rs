//! The metaindex block: names of meta blocks (properties, filter, range deletions) and their handles.

use crate::block::{Block, BlockBuilder, KeyOrder};
use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::keybuf::DefaultKeyBuf;

/// Name of the properties block.
pub const PROPERTIES: &[u8] = b"rocksdb.properties";
/// Old name of the properties block, still accepted on read.
pub const PROPERTIES_LEGACY: &[u8] = b"rocksdb.stats";
/// Name of the compression dictionary block (raw bytes, stored uncompressed, used for data blocks).
pub const COMPRESSION_DICT: &[u8] = b"rocksdb.compression_dict";
/// Name of the range-deletion block.
pub const RANGE_DEL: &[u8] = b"rocksdb.range_del";
/// Name under which we write RocksDB's built-in full filter.
pub const FULL_FILTER_BLOOM: &[u8] = b"fullfilter.rocksdb.BuiltinBloomFilter";
/// Name under which we write RocksDB's built-in partitioned filter (its filter-partition index).
pub const PARTITIONED_FILTER_BLOOM: &[u8] = b"partitionedfilter.rocksdb.BuiltinBloomFilter";
/// Name of LevelDB's filter block.
pub const LEVELDB_FILTER: &[u8] = b"filter.leveldb.BuiltinBloomFilter2";

/// What kind of filter a metaindex names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterKind {
    /// A full filter over the whole table (`fullfilter.*`).
    Full,
    /// LevelDB's block-based filter (`filter.leveldb.BuiltinBloomFilter2`), one filter per 2 KiB of data offsets.
    BlockBased,
    /// Another block-based filter (`filter.*`, e.g. RocksDB's obsolete one, which hashes keys differently):
    /// not read, lookups skip it.
    OtherBlockBased,
    /// A partitioned filter (`partitionedfilter.*`), which this crate does not read (lookups skip it).
    Partitioned,
}

/// A parsed metaindex block.
#[derive(Debug, Clone, Copy)]
pub struct Metaindex<'a> {
    block: Block<'a>,
}

impl<'a> Metaindex<'a> {
    /// Parses the block body (after decompression and checksum checks).
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        Ok(Metaindex { block: Block::parse(body).map_err(|e| e.at(Part::Metaindex, 0))? })
    }

    /// Calls `f(name, handle)` for each entry, in order.
    pub fn for_each(&self, mut f: impl FnMut(&[u8], BlockHandle) -> Result<()>) -> Result<()> {
        let mut it = self.block.iter(KeyOrder::Bytewise, DefaultKeyBuf::new());
        it.seek_to_first().map_err(|e| e.at(Part::Metaindex, 0))?;
        while it.valid() {
            let h = BlockHandle::decode_exact(it.value()).map_err(|e| e.at(Part::Metaindex, 0))?;
            f(it.key(), h)?;
            it.next().map_err(|e| e.at(Part::Metaindex, 0))?;
        }
        Ok(())
    }

    /// The handle stored under `name`.
    pub fn find(&self, name: &[u8]) -> Result<Option<BlockHandle>> {
        let mut found = None;
        self.for_each(|n, h| {
            if n == name {
                found = Some(h);
            }
            Ok(())
        })?;
        Ok(found)
    }

    /// The properties block (under either name).
    pub fn properties(&self) -> Result<Option<BlockHandle>> {
        Ok(match self.find(PROPERTIES)? {
            Some(h) => Some(h),
            None => self.find(PROPERTIES_LEGACY)?,
        })
    }

    /// The first filter named, with its kind.
    pub fn filter(&self) -> Result<Option<(FilterKind, BlockHandle)>> {
        let mut found = None;
        self.for_each(|n, h| {
            let kind = if n.starts_with(b"fullfilter.") {
                Some(FilterKind::Full)
            } else if n.starts_with(b"partitionedfilter.") {
                Some(FilterKind::Partitioned)
            } else if n == LEVELDB_FILTER {
                Some(FilterKind::BlockBased)
            } else if n.starts_with(b"filter.") {
                Some(FilterKind::OtherBlockBased)
            } else {
                None
            };
            if let (Some(k), None) = (kind, found) {
                found = Some((k, h));
            }
            Ok(())
        })?;
        Ok(found)
    }
}

/// Writes a metaindex block with the given `(name, handle)` entries (sorted here) into `out`; returns its length.
pub fn build_metaindex(entries: &mut [(&[u8], BlockHandle)], out: &mut [u8]) -> Result<usize> {
    entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
    for w in entries.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::InvalidArgument { reason: "duplicate metaindex name" });
        }
    }
    let mut b = BlockBuilder::new(out, 1);
    for (name, h) in entries.iter() {
        let (buf, n) = h.encode();
        b.add(name, &buf[..n])?;
    }
    Ok(b.finish().len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_and_find() {
        let mut out = [0u8; 256];
        let mut entries = [
            (RANGE_DEL, BlockHandle::new(5, 6)),
            (PROPERTIES, BlockHandle::new(1, 2)),
            (FULL_FILTER_BLOOM, BlockHandle::new(3, 4)),
        ];
        let n = build_metaindex(&mut entries, &mut out).unwrap();
        let m = Metaindex::parse(&out[..n]).unwrap();
        assert_eq!(m.properties().unwrap(), Some(BlockHandle::new(1, 2)));
        assert_eq!(m.find(RANGE_DEL).unwrap(), Some(BlockHandle::new(5, 6)));
        assert_eq!(m.filter().unwrap(), Some((FilterKind::Full, BlockHandle::new(3, 4))));
        assert_eq!(m.find(b"nope").unwrap(), None);
        let mut names = heapless::Vec::<u8, 128>::new();
        m.for_each(|n, _| {
            names.extend_from_slice(&n[..1]).unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(&names[..], b"frr");
    }
}
