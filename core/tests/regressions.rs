//! Inputs that once made the reader panic (found by the fuzz targets in `fuzz/` and by review), kept as tests.

use sstkit_core::table::{Options, ReadOptions, Table, TableBuilder};
use sstkit_core::ChecksumType;
use sstkit_core::TableWriter;

fn build(opts: Options, keys: &[&[u8]]) -> Vec<u8> {
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for k in keys {
        w.put(k, b"value").unwrap();
    }
    w.finish().unwrap().1
}

/// A format_version 1 table whose data block claims Zlib stores no uncompressed length, so a lookup must size
/// its buffer from a guess. With `max_block_len = usize::MAX` (no limit), `Table::get` added the block
/// and key room and overflowed (a panic with overflow checks). Now: an error.
#[test]
fn legacy_zlib_block_with_unlimited_max_block_len() {
    let opts = Options::default().checksum(ChecksumType::None).bloom_bits_per_key(0).format_version(2);
    let mut file = build(opts, &[b"a", b"b"]);
    let len = file.len();
    // Footer format_version 2 → 1 (the u32 before the 8-byte magic).
    file[len - 12..len - 8].copy_from_slice(&1u32.to_le_bytes());
    let t = Table::open(&file).unwrap();
    let data = t.index_block();
    let mut it = data.iter(t.index_info().seek_order(), Vec::new());
    it.seek_to_first().unwrap();
    let h = sstkit_core::BlockHandle::decode(it.value()).map(|(h, _)| h).unwrap_or_else(|_| it.handle());
    // The data block's trailer: compression type Zlib (2).
    file[(h.offset + h.size) as usize] = 2;
    let mut opts = ReadOptions::default();
    opts.max_block_len = usize::MAX;
    let t = Table::open_with(&file, opts, &mut []).unwrap();
    let mut buf = Vec::new();
    // The body is not Zlib data: decoding it (with a guessed, then reported size) fails cleanly.
    assert!(t.get(b"a", &mut buf).is_err());
    let mut c = t.iter();
    assert!(c.seek_to_first().is_err());
}
