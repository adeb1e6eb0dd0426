//! The filter: a full filter built at finish from the kept key hashes, or (with [`Options::expected_keys`]) set
//! bit by bit as keys arrive in a region reserved at the workspace's end and handed out as is; or a partitioned
//! filter, whose partitions were built into the record log as the index partitions closed and are handed out
//! one per step, followed by the filter-partition index.
//!
//! [`Options::expected_keys`]: crate::table::Options::expected_keys

use super::log::{parse_index_record, Records, TAG_FILTER, TAG_INDEX};
use super::{TableBuilder, HASH_LEN};
use crate::error::Result;
use crate::filter::{FullFilterMetadata, FULL_FILTER_METADATA_LEN};
use crate::handle::BlockHandle;
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};

/// The filter hashes kept in `area` (8 bytes each).
pub(super) fn kept_hashes(area: &[u8]) -> impl Iterator<Item = u64> + Clone + '_ {
    area.chunks_exact(HASH_LEN).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; HASH_LEN])))
}

impl<W: Workspace> TableBuilder<W> {
    /// The filter stage: seals the filter block, if the table has one. Returns true when there is more to write
    /// (a partitioned filter writes one partition per call, then the filter-partition index).
    pub(super) fn write_filter(&mut self) -> Result<bool> {
        if self.opts.partitioned_filter() {
            return self.write_filter_partition();
        }
        self.check_restored()?;
        if let (Some(bloom), true) = (self.bloom, self.filter_region > 0) {
            if self.stats.num_filter_entries > 0 {
                // Bits were set as keys came; add the metadata after them and hand the region out.
                let start = self.cap() - self.filter_region;
                let bits_len = self.filter_region - FULL_FILTER_METADATA_LEN - BLOCK_TRAILER_LEN;
                let meta = FullFilterMetadata::fast_local_bloom(bloom.num_probes());
                self.ws.bytes_mut()[start + bits_len..start + bits_len + FULL_FILTER_METADATA_LEN]
                    .copy_from_slice(zerocopy::IntoBytes::as_bytes(&meta));
                let n = bits_len + FULL_FILTER_METADATA_LEN;
                self.stats.filter_size = n as u64;
                let h = self.seal(start, n, CompressionType::None)?;
                self.filter_handle = Some(h);
            }
        } else if let (Some(bloom), true) = (self.bloom, self.hashes > 0) {
            let need = bloom.filter_len(self.hashes) + BLOCK_TRAILER_LEN;
            self.reserve(self.block_cap, need)?;
            let cap = self.cap();
            let (head, hashes) = self.ws.bytes_mut().split_at_mut(cap - self.hashes * HASH_LEN);
            let n = bloom.build_into(kept_hashes(hashes), &mut head[self.log_end..])?;
            self.stats.filter_size = n as u64;
            let h = self.seal(self.log_end, n, CompressionType::None)?;
            self.filter_handle = Some(h);
        }
        self.hashes = 0;
        Ok(false)
    }

    /// One step of a partitioned filter: hands out the next filter partition logged, or, when none is left, the
    /// filter-partition index (each partition's last separator → the partition's handle; the partitions lie
    /// back to back from `first_filter_partition`).
    fn write_filter_partition(&mut self) -> Result<bool> {
        let base = 2 * self.block_cap;
        let mut recs = self.records_between(self.scan, self.parts_end);
        let mut found = None;
        while let Some(r) = recs.next() {
            if let (TAG_FILTER, body) = r? {
                found = Some((recs.pos - body.len() - base, body.len(), recs.pos - base));
                break;
            }
        }
        if let Some((body_at, len, next)) = found {
            self.reserve(self.block_cap, len + BLOCK_TRAILER_LEN)?;
            if self.filter_partitions == 0 {
                self.first_filter_partition = self.stats.file_size;
            }
            let (base, at) = (2 * self.block_cap, self.log_end);
            self.ws.bytes_mut().copy_within(base + body_at..base + body_at + len, at);
            self.seal(at, len, CompressionType::None)?;
            self.stats.filter_size += len as u64;
            self.filter_partitions += 1;
            self.scan = next;
            return Ok(true);
        }
        self.scan = 0;
        if self.filter_partitions == 0 {
            return Ok(false);
        }
        // The filter-partition index.
        self.reserve(self.block_cap, self.partition_index_room()?)?;
        let (base, at, end) = (2 * self.block_cap, self.log_end, 2 * self.block_cap + self.parts_end);
        let mut offset = self.first_filter_partition;
        let mut w = self.index_block_writer();
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        let mut last: &[u8] = &[];
        for r in (Records { ws: head, pos: base, end }) {
            let (tag, body) = r?;
            if tag == TAG_INDEX {
                last = body;
            } else if tag == TAG_FILTER {
                let (_, key) = parse_index_record(last)?;
                let h = BlockHandle::new(offset, body.len() as u64);
                w.add(out, key, h)?;
                offset += (body.len() + BLOCK_TRAILER_LEN) as u64;
            }
        }
        let len = w.finish(out);
        let h = self.seal(at, len, CompressionType::None)?;
        self.stats.filter_size += len as u64;
        self.filter_handle = Some(h);
        Ok(false)
    }
}

#[cfg(test)]
mod tests {
    use crate::table::{Options, Table, TableBuilder, TableWriter};

    fn build(opts: Options) -> std::vec::Vec<u8> {
        let mut w = TableWriter::new(TableBuilder::new(std::vec::Vec::new(), opts).unwrap(), std::vec::Vec::new());
        for i in 0..500u32 {
            w.put(std::format!("k{i:04}").as_bytes(), b"v").unwrap();
        }
        w.finish().unwrap().1
    }

    #[test]
    fn kept_hashes_and_bits_set_as_keys_arrive_give_the_same_filter() {
        let kept = build(Options::default());
        let streamed = build(Options::default().expected_keys(500));
        assert_eq!(kept, streamed);
        let t = Table::open(&kept).unwrap();
        assert!(matches!(t.filter(), Some(crate::table::TableFilter::Full(_))));
        for i in 0..500u32 {
            assert!(t.may_contain(std::format!("k{i:04}").as_bytes()));
        }
        assert_eq!(t.properties().num_filter_entries, Some(500));
        assert!(Table::open(&build(Options::default().bloom_bits_per_key(0))).unwrap().filter().is_none());
    }
}
