//! Helpers shared by `sstkit-core`'s tests, the fuzz crate, std-io's tests and the benchmarks, so they check
//! tables (and count requests) the same way.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "objstore")]
pub mod counting;
pub mod model;
pub mod rocksdb11;

use sstkit_core::block::EntryFormat;
use sstkit_core::handle::BlockHandle;
use sstkit_core::metaindex::{Metaindex, PROPERTIES};
use sstkit_core::table::Table;

/// Every byte range covered by a block checksum in a valid table (body + trailer of each block), minus the
/// 8 bytes of the global seqno property (RocksDB rewrites them without fixing the checksum, so a reader accepts
/// any value there).
pub fn checksummed_ranges(file: &[u8]) -> Vec<(usize, usize)> {
    let t = Table::open(file).expect("valid table");
    let mut handles: Vec<BlockHandle> = vec![t.footer().metaindex, t.footer().index];
    let meta = t.block(t.footer().metaindex, sstkit_core::Part::Metaindex).unwrap();
    let mut props = None;
    Metaindex::parse(meta.body)
        .unwrap()
        .for_each(|name, h| {
            if name == PROPERTIES {
                props = Some(h);
            }
            handles.push(h);
            Ok(())
        })
        .unwrap();
    let ib = t.index_block();
    let mut it = ib.iter(t.index_info().seek_order(), Vec::new());
    it.seek_to_first().unwrap();
    while it.valid() {
        let h = match t.index_info().format {
            EntryFormat::DeltaHandle { .. } => it.handle(),
            EntryFormat::LengthPrefixed => BlockHandle::decode(it.value()).unwrap().0,
        };
        handles.push(h);
        it.next().unwrap();
    }
    let mut ranges = Vec::new();
    if t.footer().format_version >= 6 {
        // The footer's own checksum covers everything before the format_version and magic.
        ranges.push((file.len() - 53, file.len() - 12));
    }
    let skip = props.and_then(|h| t.properties().global_seqno_value_offset.map(|at| h.offset as usize + at));
    for h in handles {
        let (s, e) = (h.offset as usize, h.end_with_trailer().unwrap() as usize);
        match skip {
            Some(at) if s <= at && at < e => {
                ranges.push((s, at));
                ranges.push((at + 8, e));
            }
            _ => ranges.push((s, e)),
        }
    }
    ranges.sort_unstable();
    ranges
}

/// True if `pos` lies in one of the (sorted) `ranges`.
pub fn covered(ranges: &[(usize, usize)], pos: usize) -> bool {
    ranges.iter().any(|&(s, e)| s <= pos && pos < e)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sstkit_core::table::{Options, TableBuilder};
    use sstkit_core::TableWriter;

    #[test]
    fn ranges_cover_every_block_and_skip_the_global_seqno() {
        let b = TableBuilder::new(Vec::new(), Options::default().block_size(256)).unwrap();
        let mut w = TableWriter::new(b, Vec::new());
        for i in 0..200u32 {
            w.put(format!("key{i:05}").as_bytes(), b"value").unwrap();
        }
        let (stats, file) = w.finish().unwrap();
        let ranges = checksummed_ranges(&file);
        // Data blocks, index, metaindex, filter and properties (split around the global seqno).
        assert_eq!(ranges.len() as u64, stats.num_data_blocks + 3 + 2);
        assert!(covered(&ranges, 0));
        assert!(!covered(&ranges, file.len() - 1), "the footer has no block checksum");
        let gaps = ranges.windows(2).filter(|w| w[0].1 != w[1].0).count();
        assert_eq!(gaps, 1, "only the 8 global seqno bytes are left out between blocks");
    }
}
