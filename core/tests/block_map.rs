//! The block map (`TableLayout::for_each_table_block`): every block with its kind, tiling the file exactly, for
//! tables we write and tables RocksDB wrote (plain, partitioned index and filter, dictionary, ribbon); and
//! `verify_table_block` finds a flipped byte in the block that holds it, and only there.
#![cfg(feature = "alloc")]

use sstkit_core::properties::Properties;
use sstkit_core::table::{
    meta_start, BlockKind, MetaLayout, MetaNeed, Options, ReadOptions, Table, TableBlock, TableBuilder, TableLayout,
};
use sstkit_core::{CompressionType, Error, TableWriter};

/// Tables RocksDB wrote (committed fixtures, each made by the script next to it).
const ROCKSDB: [(&str, &[u8]); 9] = [
    ("rocksdb10/fv6_crc32c", include_bytes!("data/rocksdb10/fv6_crc32c.sst")),
    ("rocksdb10/fv6_xxh3_lz4_bloom", include_bytes!("data/rocksdb10/fv6_xxh3_lz4_bloom.sst")),
    ("partitioned/fv5", include_bytes!("data/partitioned/fv5.sst")),
    ("partitioned/fv4_pfilter", include_bytes!("data/partitioned/fv4_pfilter.sst")),
    ("partitioned/fv6_pfilter", include_bytes!("data/partitioned/fv6_pfilter.sst")),
    ("partitioned/fv6_lz4", include_bytes!("data/partitioned/fv6_lz4.sst")),
    ("dict/lz4_dict", include_bytes!("data/dict/lz4_dict.sst")),
    ("filter/ribbon_10_1000", include_bytes!("data/filter/ribbon_10_1000.sst")),
    ("entries/entities", include_bytes!("data/entries/entities.sst")),
];

/// A table we write: small blocks, a Bloom filter, range deletions, LZ4, format_version `fv`.
fn ours(fv: u32) -> Vec<u8> {
    let opts = Options::default()
        .compression(CompressionType::Lz4)
        .block_size(256)
        .bloom_bits_per_key(10)
        .format_version(fv)
        .base_context_checksum(if fv >= 6 { 0x5eed_1234 } else { 0 });
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..500u32 {
        let k = format!("key{i:05}");
        if i % 9 == 4 {
            w.delete(k.as_bytes()).unwrap();
        } else {
            w.put(k.as_bytes(), format!("value {i} ").repeat(3).as_bytes()).unwrap();
        }
    }
    w.delete_range(b"key00100", b"key00120").unwrap();
    w.finish().unwrap().1
}

/// (kind name, meta name if any, offset, size), sorted by offset.
type Row = (&'static str, Vec<u8>, u64, u64, u64);

fn map(layout: &TableLayout<'_>) -> Vec<Row> {
    let mut out = Vec::new();
    layout
        .for_each_table_block(|b: TableBlock<'_>| {
            let name = match b.kind {
                BlockKind::OtherMeta(n) => n.to_vec(),
                _ => Vec::new(),
            };
            out.push((b.kind.name(), name, b.handle.offset, b.handle.size, b.end()));
            Ok(())
        })
        .unwrap();
    out.sort_by_key(|r| r.2);
    out
}

fn kind_of<'a>(name: &'static str, meta: &'a [u8]) -> BlockKind<'a> {
    match name {
        "data" => BlockKind::Data,
        "index" => BlockKind::Index,
        "index partition" => BlockKind::IndexPartition,
        "filter" => BlockKind::Filter,
        "filter partition" => BlockKind::FilterPartition,
        "properties" => BlockKind::Properties,
        "range deletions" => BlockKind::RangeDeletions,
        "compression dictionary" => BlockKind::CompressionDict,
        "meta" => BlockKind::OtherMeta(meta),
        "metaindex" => BlockKind::Metaindex,
        "footer" => BlockKind::Footer,
        other => panic!("unknown kind {other}"),
    }
}

/// Opens a whole file (its compressed index, if any, uncompressed into `index_buf`).
fn open<'a>(file: &'a [u8], index_buf: &'a mut [u8]) -> Table<'a> {
    Table::open_with(file, ReadOptions::default(), index_buf).unwrap()
}

fn count(rows: &[Row], kind: &str) -> u64 {
    rows.iter().filter(|r| r.0 == kind).count() as u64
}

/// The blocks tile `[0, file_len)`: each starts where the one before it ends, the footer last; every block
/// verifies; the data blocks are as many as the properties say.
fn check_tiles(name: &str, file: &[u8]) -> Vec<Row> {
    let mut index_buf = vec![0u8; 1 << 20];
    let t = open(file, &mut index_buf);
    let rows = map(t.layout());
    let mut at = 0;
    for r in &rows {
        assert_eq!(r.2, at, "{name}: {} at {} does not start where the block before it ends", r.0, r.2);
        at = r.4;
    }
    assert_eq!(at, file.len() as u64, "{name}: the blocks end at the file's end");
    assert_eq!(rows.last().unwrap().0, "footer", "{name}");
    assert_eq!(count(&rows, "metaindex"), 1, "{name}");
    assert_eq!(count(&rows, "index"), 1, "{name}");
    let props: &Properties<'_> = t.properties();
    if let Some(n) = props.num_data_blocks {
        assert_eq!(count(&rows, "data"), n, "{name}: data blocks");
    }
    for r in &rows {
        let b = TableBlock { kind: kind_of(r.0, &r.1), handle: sstkit_core::BlockHandle::new(r.2, r.3) };
        t.layout().verify_table_block(file, 0, &b).unwrap_or_else(|e| panic!("{name}: {} at {}: {e}", r.0, r.2));
    }
    rows
}

#[test]
fn blocks_tile_tables_rocksdb_wrote() {
    for (name, file) in ROCKSDB {
        let rows = check_tiles(name, file);
        assert_eq!(count(&rows, "properties"), 1, "{name}");
        if name.starts_with("partitioned/") {
            assert!(count(&rows, "index partition") > 1, "{name}: index partitions");
        }
        if name.contains("pfilter") {
            assert!(count(&rows, "filter partition") > 1, "{name}: filter partitions");
            assert_eq!(count(&rows, "filter"), 1, "{name}: the filter's top-level index");
        }
        if name.starts_with("dict/") {
            assert_eq!(count(&rows, "compression dictionary"), 1, "{name}");
        }
        if name.contains("bloom") || name.contains("ribbon") {
            assert_eq!(count(&rows, "filter"), 1, "{name}");
        }
    }
}

#[test]
fn blocks_tile_tables_we_write() {
    for fv in [2, 3, 4, 5, 6, 7] {
        let file = ours(fv);
        let name = format!("ours fv{fv}");
        let rows = check_tiles(&name, &file);
        assert_eq!(count(&rows, "range deletions"), 1, "{name}");
        assert!(count(&rows, "data") > 10, "{name}");
    }
}

/// A byte flipped inside any block's stored bytes fails that block's verification and no other's.
#[test]
fn a_flipped_byte_fails_only_its_block() {
    let file = ours(5);
    let mut index_buf = vec![0u8; 1 << 20];
    let t = open(&file, &mut index_buf);
    let rows = map(t.layout());
    let data: Vec<&Row> = rows.iter().filter(|r| r.0 == "data").collect();
    for victim in [data[0], data[data.len() / 2], *data.last().unwrap()] {
        let mut bad = file.clone();
        bad[(victim.2 + victim.3 / 2) as usize] ^= 0x40;
        for r in &rows {
            let b = TableBlock { kind: kind_of(r.0, &r.1), handle: sstkit_core::BlockHandle::new(r.2, r.3) };
            let res = t.layout().verify_table_block(&bad, 0, &b);
            if r.2 == victim.2 {
                assert!(matches!(res, Err(Error::ChecksumMismatch { offset, .. }) if offset == victim.2), "{res:?}");
            } else {
                assert!(res.is_ok(), "{} at {}: {res:?}", r.0, r.2);
            }
        }
    }
}

/// The walk needs only the metadata region (`meta_start`: index partitions included), never a data block.
#[test]
fn the_map_comes_from_the_metadata_region() {
    for (name, file) in ROCKSDB.iter().map(|(n, f)| (n.to_string(), f.to_vec())).chain([("ours".into(), ours(6))]) {
        let len = file.len() as u64;
        let opts = ReadOptions::default();
        let mut base = len - 64;
        while let MetaNeed::From(b) = meta_start(&file[base as usize..], base, len, &opts).unwrap() {
            base = b;
        }
        let region = &file[base as usize..];
        let mut index_buf = vec![0u8; 1 << 20];
        let meta = MetaLayout::parse(region, base, len, &opts, &mut index_buf).unwrap();
        let layout = TableLayout::new(&meta, region, &index_buf, opts).unwrap();
        let mut whole_buf = vec![0u8; 1 << 20];
        let whole = open(&file, &mut whole_buf);
        assert_eq!(map(&layout), map(whole.layout()), "{name}");
        let first_data = map(&layout).iter().filter(|r| r.0 == "data").map(|r| r.2).min();
        assert!(first_data.is_none_or(|d| d < base), "{name}: data blocks lie before the region");
    }
}

/// A footer taken from bytes that do not hold it is an error, not a panic.
#[test]
fn a_footer_outside_the_fetched_bytes_is_an_error() {
    let file = ours(6);
    let mut index_buf = vec![0u8; 1 << 20];
    let t = open(&file, &mut index_buf);
    let footer = map(t.layout()).pop().unwrap();
    let b = TableBlock { kind: BlockKind::Footer, handle: sstkit_core::BlockHandle::new(footer.2, footer.3) };
    assert!(t.layout().verify_table_block(&file[..10], 0, &b).is_err());
    assert!(t.layout().verify_table_block(&file[footer.2 as usize..], footer.2, &b).is_ok());
    assert!(t.layout().verify_table_block(&file[footer.2 as usize + 1..], footer.2 + 1, &b).is_err());
}
