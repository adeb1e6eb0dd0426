//! RocksDB 11 index and data-block layout (shared doc §1.5), on a crafted table (test-support's
//! `rocksdb11::padded_table`: our builder's table rewritten the way `super_block_alignment_size` lays one
//! out): data blocks not contiguous, index entries mid-interval with `shared = 0` and a full handle, and the
//! index block's uniform hint (footer bit 29). `Table`, `TableCursor` both ways, point lookups, the ranged
//! walk and `verify_all` read it exactly.
#![cfg(feature = "alloc")]

use std::ops::Bound;

use sstkit_core::handle::BlockHandle;
use sstkit_core::table::Table;
use sstkit_core::trailer::BLOCK_TRAILER_LEN;
use sstkit_core::varint::read_fixed32;
use sstkit_test_support::rocksdb11::{padded_table, UNIFORM_HINT};

#[test]
fn the_crafted_table_has_what_rocksdb_11_writes() {
    let p = padded_table(300);
    let t = Table::open(&p.file).unwrap();
    let gaps =
        p.blocks.windows(2).filter(|w| w[0].offset + w[0].size + BLOCK_TRAILER_LEN as u64 != w[1].offset).count();
    assert!(gaps >= 5, "data blocks are not contiguous ({gaps} gaps)");
    assert!(p.mid_interval_full_handles >= 5, "{} mid-interval full handles", p.mid_interval_full_handles);
    let ih = t.footer().index;
    let word = read_fixed32(&p.file, (ih.offset + ih.size) as usize - 4).unwrap();
    assert_ne!(word & UNIFORM_HINT, 0, "the index block carries the uniform hint");
    assert!(t.index_info().format != sstkit_core::block::EntryFormat::LengthPrefixed, "delta-encoded index");
}

#[test]
fn table_cursor_lookups_walks_and_verify_read_it_exactly() {
    let p = padded_table(300);
    let t = Table::open(&p.file).unwrap();
    // Every data block the index names is one the rewrite placed.
    let mut named = Vec::new();
    t.layout()
        .for_each_index_entry(|_, h, _| {
            named.push(h);
            Ok(())
        })
        .unwrap();
    assert_eq!(named, p.blocks);
    let mut walked: Vec<BlockHandle> = Vec::new();
    t.layout()
        .for_each_block((Bound::Unbounded, Bound::Unbounded), |x| {
            walked.push(x.handle);
            Ok(true)
        })
        .unwrap();
    assert_eq!(walked, p.blocks);

    let mut it = t.iter();
    it.seek_to_first().unwrap();
    let mut got = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        got.push((e.user_key.to_vec(), e.value.to_vec()));
        it.next().unwrap();
    }
    assert_eq!(got, p.entries);
    it.seek_to_last().unwrap();
    let mut back = Vec::new();
    while let Some(e) = it.entry().unwrap() {
        back.push((e.user_key.to_vec(), e.value.to_vec()));
        it.prev().unwrap();
    }
    back.reverse();
    assert_eq!(back, p.entries);

    for (i, (k, v)) in p.entries.iter().enumerate() {
        let mut buf = Vec::new();
        let e = t.get(k, &mut buf).unwrap().unwrap_or_else(|| panic!("{i} not found"));
        assert_eq!(e.value, &v[..]);
        it.seek(k).unwrap();
        assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(k.clone()));
        if i > 0 {
            it.prev().unwrap();
            assert_eq!(it.entry().unwrap().map(|e| e.user_key.to_vec()), Some(p.entries[i - 1].0.clone()));
        }
    }
    let mut buf = Vec::new();
    assert_eq!(t.get(b"k9999", &mut buf).unwrap(), None);
    // Metaindex, index, properties, filter and every data block.
    assert_eq!(t.verify_all().unwrap(), 4 + p.blocks.len() as u64);
}
