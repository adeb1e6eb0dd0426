//! A table laid out the way RocksDB 11 writes one with `super_block_alignment_size` and the uniform-keys hint
//! (no RocksDB 11 is installable here, so it is crafted): written with core's builder, then rewritten so that
//! some data blocks are preceded by zero padding (data blocks not contiguous), the index is re-encoded with a
//! restart every 4 entries where an entry after padding has `shared = 0` and a full handle in mid-interval
//! (the others a size delta), and the index block footer carries bit 29, the "is uniform" hint.

use sstkit_core::block::common_prefix;
use sstkit_core::footer::Footer;
use sstkit_core::handle::BlockHandle;
use sstkit_core::metaindex::{build_metaindex, Metaindex};
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::trailer::BLOCK_TRAILER_LEN;
use sstkit_core::varint::encode_varint64;
use sstkit_core::{Part, TableWriter};

/// Bytes of padding before data block `i` (0 for most): RocksDB pads a block that would straddle a super
/// block; any amount is valid to a reader.
fn padding_before(i: usize) -> usize {
    if i % 3 == 1 {
        37 + i
    } else {
        0
    }
}

/// Index block footer bit 29: RocksDB 11's "is uniform" hint.
pub const UNIFORM_HINT: u32 = 1 << 29;

fn varint(out: &mut Vec<u8>, v: u64) {
    let mut b = [0u8; 10];
    let n = encode_varint64(v, &mut b).expect("10 bytes hold a varint64");
    out.extend_from_slice(&b[..n]);
}

/// Appends `body` as a block (uncompressed) at the end of `file`, with its trailer; returns its handle.
fn append_block(file: &mut Vec<u8>, body: &[u8], footer: &Footer) -> BlockHandle {
    let h = BlockHandle::new(file.len() as u64, body.len() as u64);
    file.extend_from_slice(body);
    let sum = footer.block_checksum().stored(body, 0, h.offset);
    file.push(0);
    file.extend_from_slice(&sum.to_le_bytes());
    h
}

/// The index block: `(key, handle)` entries, a restart every 4, `shared = 0` and a full handle at restarts and
/// after padding, else the shared key prefix and a zigzag size delta; the footer word carries the uniform hint.
fn index_block(entries: &[(Vec<u8>, BlockHandle)]) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut restarts = Vec::new();
    let mut mid_full = 0;
    for (j, (key, h)) in entries.iter().enumerate() {
        let prev = j.checked_sub(1).map(|p| &entries[p]);
        let contiguous = prev.is_some_and(|(_, p)| p.offset + p.size + BLOCK_TRAILER_LEN as u64 == h.offset);
        let restart = j % 4 == 0;
        if restart {
            restarts.push(out.len() as u32);
        }
        match prev {
            Some((pkey, p)) if !restart && contiguous && common_prefix(pkey, key) > 0 => {
                let shared = common_prefix(pkey, key);
                varint(&mut out, shared as u64);
                varint(&mut out, (key.len() - shared) as u64);
                out.extend_from_slice(&key[shared..]);
                let delta = h.size as i64 - p.size as i64;
                varint(&mut out, ((delta << 1) ^ (delta >> 63)) as u64);
            }
            _ => {
                if !restart {
                    mid_full += 1;
                }
                varint(&mut out, 0);
                varint(&mut out, key.len() as u64);
                out.extend_from_slice(key);
                let (b, n) = h.encode();
                out.extend_from_slice(&b[..n]);
            }
        }
    }
    for r in &restarts {
        out.extend_from_slice(&r.to_le_bytes());
    }
    out.extend_from_slice(&(restarts.len() as u32 | UNIFORM_HINT).to_le_bytes());
    (out, mid_full)
}

/// The crafted table and the `(key, value)` pairs it holds (keys `k0000`.., values `value-<i>-...`).
pub struct PaddedTable {
    /// The file.
    pub file: Vec<u8>,
    /// Its entries, in order.
    pub entries: Vec<(Vec<u8>, Vec<u8>)>,
    /// Handles of its data blocks, in order.
    pub blocks: Vec<BlockHandle>,
    /// Index entries with `shared = 0` and a full handle in mid-interval.
    pub mid_interval_full_handles: usize,
}

/// Builds the crafted table (`n` entries, small blocks, format_version 5, CRC32C).
pub fn padded_table(n: usize) -> PaddedTable {
    let opts = Options::default().format_version(5).block_size(96).index_restart_interval(4);
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..n)
        .map(|i| (format!("k{i:04}").into_bytes(), format!("value-{i}-{}", "x".repeat(i % 13)).into_bytes()))
        .collect();
    for (k, v) in &entries {
        w.put(k, v).unwrap();
    }
    let old = w.finish().unwrap().1;
    let t = Table::open(&old).unwrap();
    let footer = *t.footer();
    let mut index = Vec::new();
    t.layout()
        .for_each_index_entry(|k, h, _| {
            index.push((k.to_vec(), h));
            Ok(())
        })
        .unwrap();
    let data_end = index.last().map_or(0, |(_, h)| h.offset + h.size + BLOCK_TRAILER_LEN as u64) as usize;

    // Data blocks, some after padding, checksums recomputed at their new offsets.
    let mut file = Vec::new();
    let mut blocks = Vec::new();
    for (i, (_, h)) in index.iter_mut().enumerate() {
        file.resize(file.len() + padding_before(i), 0);
        let body = &old[h.offset as usize..(h.offset + h.size) as usize];
        *h = append_block(&mut file, body, &footer);
        blocks.push(*h);
    }
    // The meta blocks as they were, shifted by the padding (the old index and metaindex stay as dead bytes).
    let shift = (file.len() - data_end) as u64;
    let footer_at = old.len() - footer.encoded_len();
    file.extend_from_slice(&old[data_end..footer_at]);
    let (ib, mid_interval_full_handles) = index_block(&index);
    let index_h = append_block(&mut file, &ib, &footer);
    let meta = t.block(footer.metaindex, Part::Metaindex).unwrap();
    let mut names = Vec::new();
    Metaindex::parse(meta.body)
        .unwrap()
        .for_each(|name, h| {
            names.push((name.to_vec(), BlockHandle::new(h.offset + shift, h.size)));
            Ok(())
        })
        .unwrap();
    let mut named: Vec<(&[u8], BlockHandle)> = names.iter().map(|(n, h)| (n.as_slice(), *h)).collect();
    let mut mb = vec![0u8; 4096];
    let len = build_metaindex(&mut named, &mut mb).unwrap();
    let meta_h = append_block(&mut file, &mb[..len], &footer);
    let new_footer = Footer { metaindex: meta_h, index: index_h, ..footer };
    let mut fb = vec![0u8; new_footer.encoded_len()];
    new_footer.encode_into(&mut fb).unwrap();
    file.extend_from_slice(&fb);
    PaddedTable { file, entries, blocks, mid_interval_full_handles }
}
