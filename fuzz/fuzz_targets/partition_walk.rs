//! Raw bytes as a whole file, aimed at the walks of a partitioned index and partitioned filter: the ranged
//! reader's steps (`partition_for` → `decode_partition` → `point_block_in_partition`; `for_each_partition` →
//! `for_each_block_in_partition`; `for_each_index_entry_in_partition`; `filter_partition_for` →
//! `filter_partition_body` → `filter_partition_may_match`) next to the in-memory ones (`point_block`,
//! `for_each_block`). Nothing may panic, and when both paths succeed they must name the same blocks.
#![no_main]

use std::ops::Bound;

use libfuzzer_sys::fuzz_target;
use sstkit_core::table::{BlockBytes, BlockExtent, Table, TableLayout};
use sstkit_fuzz::hostile_read_options;

/// At most this many extents are collected per walk, so a run stays bounded whatever the input.
const MAX_EXTENTS: usize = 4096;

/// The uncompressed bytes of the index partition at `x`, through the ranged reader's step.
fn partition<'f>(l: &TableLayout<'_>, file: &'f [u8], x: BlockExtent, buf: &'f mut Vec<u8>) -> Option<&'f [u8]> {
    let decoded = l.decode_partition(file, 0, x.handle, buf).ok()?;
    match decoded.bytes {
        BlockBytes::Fetched(b) => Some(b),
        BlockBytes::Buffer(n) => buf.get(..n),
    }
}

/// A point lookup the way a ranged reader does it: top-level index, fetched partition, data block.
fn ranged_point_block(l: &TableLayout<'_>, file: &[u8], key: &[u8]) -> Option<Option<BlockExtent>> {
    let Some(x) = l.partition_for(key).ok()? else { return Some(None) };
    let mut buf = Vec::new();
    let part = partition(l, file, x, &mut buf)?;
    l.point_block_in_partition(part, x.handle, key).ok()
}

/// Every data block that may hold keys in `range`, the way a ranged reader walks them (`None`: an error).
fn ranged_blocks(l: &TableLayout<'_>, file: &[u8], range: (Bound<&[u8]>, Bound<&[u8]>)) -> Option<Vec<BlockExtent>> {
    let mut parts = Vec::new();
    l.for_each_partition(range, |x| {
        parts.push(x);
        Ok(parts.len() < MAX_EXTENTS)
    })
    .ok()?;
    let mut out = Vec::new();
    let mut start = range.0;
    for x in parts {
        let mut buf = Vec::new();
        let part = partition(l, file, x, &mut buf)?;
        let more = l
            .for_each_block_in_partition(part, x.handle, (start, range.1), |b| {
                out.push(b);
                Ok(out.len() < MAX_EXTENTS)
            })
            .ok()?;
        let _ = l.for_each_index_entry_in_partition(part, x.handle, |_, _, _| Ok(()));
        if !more || out.len() >= MAX_EXTENTS {
            break;
        }
        start = Bound::Unbounded;
    }
    Some(out)
}

fuzz_target!(|data: &[u8]| {
    for verify in [true, false] {
        let mut index_buf = vec![0u8; 64 * 1024];
        let Ok(t) = Table::open_with(data, hostile_read_options(verify), &mut index_buf) else { continue };
        let l = t.layout();
        if !l.index_info().partitioned {
            continue;
        }
        // Probe keys: fixed ones and the table's own index keys (user key part), bounded in number.
        let mut probes: Vec<Vec<u8>> = vec![b"".to_vec(), b"a".to_vec(), b"key".to_vec(), vec![0xff; 12]];
        let _ = l.for_each_index_entry(|k, _, _| {
            if probes.len() < 64 {
                probes.push(k.get(..k.len().saturating_sub(8)).unwrap_or(k).to_vec());
                probes.push(k.to_vec());
            }
            Ok(())
        });
        for key in &probes {
            let ranged = ranged_point_block(l, data, key);
            if let (Some(r), Ok(m)) = (ranged, l.point_block(key)) {
                assert_eq!(r, m, "the ranged and in-memory lookups name the same block");
            }
            if let Some(x) = l.filter_partition_for(key) {
                let body = l.filter_partition_body(data, 0, x.handle);
                let may = l.filter_partition_may_match(body, key);
                if !may {
                    assert!(!l.may_contain(key), "the region's filter agrees with the fetched partition");
                }
            }
        }
        let ranges: [(Bound<&[u8]>, Bound<&[u8]>); 3] = [
            (Bound::Unbounded, Bound::Unbounded),
            (Bound::Included(&probes[probes.len() - 1]), Bound::Unbounded),
            (Bound::Included(b"a"), Bound::Excluded(&probes[probes.len() / 2])),
        ];
        for range in ranges {
            let ranged = ranged_blocks(l, data, range);
            let mut memory = Vec::new();
            let walked = l.for_each_block(range, |b| {
                memory.push(b);
                Ok(memory.len() < MAX_EXTENTS)
            });
            if let (Some(r), Ok(())) = (ranged, walked) {
                if r.len() < MAX_EXTENTS && memory.len() < MAX_EXTENTS {
                    assert_eq!(r, memory, "the ranged and in-memory walks name the same blocks");
                }
            }
        }
    }
});
