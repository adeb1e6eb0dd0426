//! The index block: one entry per data block, keyed by separators (user keys unless a user key spans two
//! blocks), with delta-encoded handles from format_version 4.

use super::log::{Records, TAG_INDEX};
use super::TableBuilder;
use crate::block::{BlockState, ValueFraming};
use crate::error::Result;
use crate::handle::{BlockHandle, MAX_HANDLE_LEN};
use crate::key::split_internal_key;
use crate::table::workspace::Workspace;
use crate::trailer::{CompressionType, BLOCK_TRAILER_LEN};
use crate::varint::{decode_varint64, encode_varint64, zigzag_encode, MAX_VARINT32_LEN};

/// An index entry's header (shared, unshared, value lengths) and its restart point, at most.
const INDEX_ENTRY_OVERHEAD: usize = 3 * MAX_VARINT32_LEN + 4;
/// A block's restart count and first restart point.
const BLOCK_FOOTER_MIN: usize = crate::block::EMPTY_BLOCK_LEN;

impl<W: Workspace> TableBuilder<W> {
    /// The index stage: builds and seals the index block.
    pub(super) fn write_index(&mut self) -> Result<()> {
        let need = self.index_block_bound();
        self.reserve(self.block_cap, need)?;
        let n = self.build_index()?;
        let h = self.seal(self.log_end, n, CompressionType::None)?;
        self.stats.index_size = n as u64 + BLOCK_TRAILER_LEN as u64;
        self.index_handle = h;
        Ok(())
    }

    pub(super) fn user_key_index(&self) -> bool {
        !self.index_needs_internal_keys
    }

    fn index_framing(&self) -> ValueFraming {
        if self.opts.format_version >= 4 {
            ValueFraming::SelfDelimiting
        } else {
            ValueFraming::LengthPrefixed
        }
    }

    fn index_block_bound(&self) -> usize {
        let mut total = BLOCK_FOOTER_MIN + BLOCK_TRAILER_LEN;
        let mut longest = 0;
        for r in self.records() {
            if let Ok((TAG_INDEX, body)) = r {
                total += INDEX_ENTRY_OVERHEAD + MAX_HANDLE_LEN + body.len();
                longest = longest.max(body.len());
            }
        }
        total + longest
    }

    fn build_index(&mut self) -> Result<usize> {
        let at = self.log_end;
        let user_keys = self.user_key_index();
        let framing = self.index_framing();
        let mut state = BlockState::new(self.opts.index_restart_interval, framing);
        let mut prev_size = 0u64;
        let (head, out) = self.ws.bytes_mut().split_at_mut(at);
        let room = out.len() - BLOCK_TRAILER_LEN;
        let out = &mut out[..room];
        let records = Records { ws: head, pos: 2 * self.block_cap, end: at };
        for r in records {
            let (tag, body) = r?;
            if tag != TAG_INDEX {
                continue;
            }
            let (offset, a) = decode_varint64(body)?;
            let (size, b) = decode_varint64(&body[a..])?;
            let (klen, c) = decode_varint64(&body[a + b..])?;
            let key = &body[a + b + c..a + b + c + klen as usize];
            let key = if user_keys { split_internal_key(key)?.0 } else { key };
            // RocksDB's delta-encoded index stores a bare size delta when the key shares a prefix with the one
            // before it (the offset follows from the previous block), and the whole handle otherwise.
            let delta = framing == ValueFraming::SelfDelimiting && state.shared_with(out, key) != 0;
            let mut vb = [0u8; MAX_HANDLE_LEN];
            let vn = if delta {
                encode_varint64(zigzag_encode(size.wrapping_sub(prev_size) as i64), &mut vb)?
            } else {
                let (hb, hn) = BlockHandle::new(offset, size).encode();
                vb[..hn].copy_from_slice(&hb[..hn]);
                hn
            };
            state.add(out, key, &vb[..vn])?;
            prev_size = size;
        }
        Ok(state.finish(out))
    }
}

#[cfg(test)]
mod tests {
    use crate::key::{InternalKey, ValueType};
    use crate::table::{Options, Table, TableBuilder, TableWriter};

    fn build(opts: Options, keys: &[(&[u8], u64)]) -> std::vec::Vec<u8> {
        let mut w = TableWriter::new(TableBuilder::new(std::vec::Vec::new(), opts).unwrap(), std::vec::Vec::new());
        for (k, seq) in keys {
            w.add(InternalKey::new(k, *seq, ValueType::Value), &[b'v'; 40]).unwrap();
        }
        w.finish().unwrap().1
    }

    #[test]
    fn user_keys_unless_a_user_key_spans_blocks_and_delta_handles_from_v4() {
        let opts = |fv| Options::default().external_file(false).block_size(64).format_version(fv);
        let distinct: std::vec::Vec<(&[u8], u64)> = [&b"a"[..], b"b", b"c", b"d"].iter().map(|k| (*k, 1)).collect();
        for fv in [3, 4] {
            let t_file = build(opts(fv), &distinct);
            let t = Table::open(&t_file).unwrap();
            assert!(t.index_info().user_keys);
            assert_eq!(t.properties().index_value_is_delta_encoded, Some(u64::from(fv >= 4)));
        }
        let spanning: std::vec::Vec<(&[u8], u64)> = (1..6u64).rev().map(|s| (&b"k"[..], s)).collect();
        let file = build(opts(4), &spanning);
        assert!(!Table::open(&file).unwrap().index_info().user_keys, "one user key in two blocks");
    }
}
