//! The full filter: built at finish from the kept key hashes, or (with [`Options::expected_keys`]) set bit by
//! bit as keys arrive in a region reserved at the workspace's end and handed out as is.
//!
//! [`Options::expected_keys`]: crate::table::Options::expected_keys

use super::{TableBuilder, HASH_LEN};
use crate::error::Result;
use crate::filter::{FullFilterMetadata, FULL_FILTER_METADATA_LEN};
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};

impl<W: Workspace> TableBuilder<W> {
    /// The filter stage: seals the filter block, if the table has one.
    pub(super) fn write_filter(&mut self) -> Result<()> {
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
            let it = hashes.chunks_exact(HASH_LEN).map(|c| u64::from_le_bytes(c.try_into().unwrap_or([0; HASH_LEN])));
            let n = bloom.build_into(it, &mut head[self.log_end..])?;
            self.stats.filter_size = n as u64;
            let h = self.seal(self.log_end, n, CompressionType::None)?;
            self.filter_handle = Some(h);
        }
        self.hashes = 0;
        Ok(())
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
