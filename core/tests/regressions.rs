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

/// A damaged partitioned table the `partition_walk` fuzz target found (`data/partitioned/fuzz_partition_walk_1.sst`,
/// RocksDB 10.4.2's `small_fv6_seed.sst` mutated): its top-level index keys pass a range's end before the
/// partitions' own keys do. The ranged walk (`for_each_partition`, which stops at the top-level key past the end,
/// then `for_each_block_in_partition`) named fewer blocks than the in-memory `for_each_block`, which ignored the
/// top-level keys' end. Now `for_each_block` is that same walk, so both readers name the same blocks.
#[cfg(feature = "alloc")]
#[test]
fn partitioned_walks_agree_on_a_damaged_top_level_index() {
    use core::ops::Bound;
    use sstkit_core::table::{BlockBytes, BlockExtent};
    const FILE: &[u8] = include_bytes!("data/partitioned/fuzz_partition_walk_1.sst");
    for verify in [true, false] {
        let mut o = ReadOptions::default();
        o.verify_checksums = verify;
        o.max_block_len = 1 << 20;
        let mut index_buf = vec![0u8; 64 * 1024];
        let Ok(t) = Table::open_with(FILE, o, &mut index_buf) else { continue };
        let l = t.layout();
        let mut keys = Vec::new();
        let _ = l.for_each_index_entry(|k, _, _| {
            keys.push(k.to_vec());
            Ok(())
        });
        let probes: Vec<Vec<u8>> =
            keys.iter().flat_map(|k| [k[..k.len().saturating_sub(8)].to_vec(), k.clone()]).collect();
        let mut compared = 0;
        for end in &probes {
            let range = (Bound::Included(&b"a"[..]), Bound::Excluded(end.as_slice()));
            let mut memory = Vec::new();
            let walked = l.for_each_block(range, |b| {
                memory.push(b);
                Ok(true)
            });
            let mut parts: Vec<BlockExtent> = Vec::new();
            let listed = l.for_each_partition(range, |x| {
                parts.push(x);
                Ok(true)
            });
            let mut ranged = Vec::new();
            let mut start = range.0;
            let mut ok = listed.is_ok();
            for x in &parts {
                if !ok {
                    break;
                }
                let mut buf = Vec::new();
                let Ok(d) = l.decode_partition(FILE, 0, x.handle, &mut buf) else {
                    ok = false;
                    break;
                };
                let bytes = match d.bytes {
                    BlockBytes::Fetched(b) => b,
                    BlockBytes::Buffer(n) => &buf[..n],
                };
                match l.for_each_block_in_partition(bytes, x.handle, (start, range.1), |b| {
                    ranged.push(b);
                    Ok(true)
                }) {
                    Ok(true) => start = Bound::Unbounded,
                    Ok(false) => break,
                    Err(_) => ok = false,
                }
            }
            if ok && walked.is_ok() {
                assert_eq!(ranged, memory, "range to {end:?}");
                compared += 1;
            }
        }
        assert!(compared > 0);
    }
}
