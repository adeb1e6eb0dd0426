//! Opening a table from a tail of the file, as a ranged (object-store) reader does.
#![cfg(feature = "alloc")]

use sstkit_core::keybuf::DefaultKeyBuf;
use sstkit_core::table::entry::block_lookup;
use sstkit_core::table::index::for_each_block;
use sstkit_core::table::{meta_start, verified_block, MetaLayout, MetaNeed, Options, ReadOptions, TableBuilder};
use sstkit_core::TableWriter;
use sstkit_core::{CompressionType, Part};

fn build(n: u32, compression: CompressionType) -> Vec<u8> {
    let builder = TableBuilder::new(Vec::new(), Options::default().compression(compression)).unwrap();
    let mut w = TableWriter::new(builder, Vec::new());
    for i in 0..n {
        w.put(format!("key{i:07}").as_bytes(), format!("value{i}").as_bytes()).unwrap();
        if i % 1000 == 0 {
            w.delete_range(format!("key{i:07}x").as_bytes(), format!("key{i:07}y").as_bytes()).unwrap();
        }
    }
    w.finish().unwrap().1
}

#[test]
fn ranged_open_from_any_tail_size() {
    for compression in [CompressionType::None, CompressionType::Lz4] {
        let file = build(20_000, compression);
        let len = file.len() as u64;
        let opts = ReadOptions::default();
        for tail_len in [53usize, 100, 1000, 4096, 65536, file.len()] {
            let tail_len = tail_len.min(file.len());
            let mut base = len - tail_len as u64;
            let mut fetches = 1;
            loop {
                match meta_start(&file[base as usize..], base, len, &opts).unwrap() {
                    MetaNeed::Covered => break,
                    MetaNeed::From(x) => {
                        assert!(x < base, "asks for more than it has");
                        base = x;
                        fetches += 1;
                    }
                }
            }
            assert!(fetches <= 3, "tail {tail_len}: {fetches} fetches");
            if tail_len >= 1000 {
                // The tail holds the metaindex: the one more fetch covers every block it and the footer name.
                assert!(fetches <= 2, "tail {tail_len}: {fetches} fetches");
            }
            if tail_len == 65536 {
                assert_eq!(fetches, 1, "64 KiB covers this table's metadata");
            }
            let region = &file[base as usize..];
            let layout = MetaLayout::parse(region, base, len, &opts, &mut []).unwrap();
            assert_eq!(layout.properties(region).unwrap().num_entries, Some(20_000 + 20));
            // Where the metadata starts: where the last fetch started, or inside a tail that covered it.
            let meta_offset = layout.meta_offset(region).unwrap();
            if fetches > 1 {
                assert_eq!(meta_offset, base, "tail {tail_len}");
            } else {
                assert!(meta_offset >= base && meta_offset < len - 53, "tail {tail_len}: {meta_offset}");
            }
            assert!(layout.range_del(region).unwrap().is_some());
            // Look keys up fetching only their block.
            let mut key = DefaultKeyBuf::new();
            for i in (0..20_000u32).step_by(997) {
                let k = format!("key{i:07}");
                assert!(layout.may_contain(region, k.as_bytes(), None));
                let h = layout.find_block(region, &[], k.as_bytes()).unwrap().unwrap();
                let end = (h.offset + h.size + 5) as usize;
                let raw = &file[h.offset as usize..end];
                let c = verified_block(raw, h.offset, h, layout.checksum(), true, Part::DataBlock).unwrap();
                let mut buf = vec![0u8; c.uncompressed_len(5, 1 << 20).unwrap()];
                let body = c.uncompress(5, &mut buf).unwrap();
                let hit = block_lookup(body, k.as_bytes(), &mut key, layout.global_seqno).unwrap().unwrap();
                assert_eq!(hit.value, format!("value{i}").as_bytes());
            }
            let index = layout.index(region, &[]).unwrap();
            let mut blocks = 0;
            for_each_block(&index, layout.index_info, None, &mut key, |_| {
                blocks += 1;
                Ok(true)
            })
            .unwrap();
            assert_eq!(Some(blocks), layout.properties(region).unwrap().num_data_blocks);
        }
    }
}
