//! Writes seed corpora for the fuzz targets in `fuzz/` from real tables: sstkit's own (many option variants),
//! RocksDB 7.8's (`ldb write_extern_sst` and a flush with deletions and range deletions) and LevelDB's.
//!
//! `cargo run -p sstkit-tests --example fuzz_seeds -- fuzz/seeds` (what `fuzz/make_corpus.sh` runs). Tables
//! from tools that are not installed are skipped with a note.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use sstkit_core::block::EntryFormat;
use sstkit_core::compress::decompress_to_vec;
use sstkit_core::handle::BlockHandle;
use sstkit_core::metaindex::Metaindex;
use sstkit_core::table::{Options, ReadOptions, Table};
use sstkit_core::{ChecksumType, CompressionType, Part};
use sstkit_tests::{build_table, flush_ssts, write_extern_sst, write_leveldb_table, Item, Op, RocksVariant};

/// The order of `CompressionType`s in the decompress target's codec byte.
const KINDS: [CompressionType; 9] = [
    CompressionType::None,
    CompressionType::Snappy,
    CompressionType::Zlib,
    CompressionType::Bzip2,
    CompressionType::Lz4,
    CompressionType::Lz4hc,
    CompressionType::Xpress,
    CompressionType::Zstd,
    CompressionType::ZstdNotFinal,
];

struct Seeds {
    root: PathBuf,
    written: BTreeSet<PathBuf>,
    bytes: usize,
}

impl Seeds {
    fn put(&mut self, target: &str, name: &str, data: &[u8]) {
        let dir = self.root.join(target);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        if self.written.insert(path) {
            self.bytes += data.len();
        }
    }

    /// Seeds every target from one table.
    fn table(&mut self, name: &str, file: &[u8]) {
        self.put("table", name, file);
        if file.len() <= 4096 {
            self.put("footer", name, file);
        }
        let mut index_buf = vec![0u8; 1 << 20];
        let mut opts = ReadOptions::default();
        opts.max_block_len = 1 << 20;
        let t = match Table::open_with(file, opts, &mut index_buf) {
            Ok(t) => t,
            Err(e) => panic!("{name}: seed table does not open: {e}"),
        };
        let fv = t.footer().format_version;
        let ib = t.index_block();
        let mut raw_index = ib.data().to_vec();
        raw_index.extend(
            (0..ib.num_restarts())
                .flat_map(|i| (ib.restart(i) as u32).to_le_bytes())
                .chain((ib.num_restarts() as u32).to_le_bytes()),
        );
        // Index keys: the seek key of the block seeds.
        let mut it = ib.iter(t.index_info().seek_order(), Vec::new());
        it.seek_to_first().unwrap();
        let mut data_handles = Vec::new();
        let mut first_key = Vec::new();
        while it.valid() {
            if first_key.is_empty() {
                first_key = it.key().to_vec();
            }
            let h = match t.index_info().format {
                EntryFormat::DeltaHandle { .. } => it.handle(),
                EntryFormat::LengthPrefixed => BlockHandle::decode(it.value()).unwrap().0,
            };
            data_handles.push(h);
            it.next().unwrap();
        }
        first_key.truncate(40);
        let index_flags = if t.index_info().user_keys { 0 } else { 2 };
        self.block_seed(&format!("{name}-index"), index_flags, &first_key, &raw_index);

        let meta = t.block(t.footer().metaindex, Part::Metaindex).unwrap();
        self.put("properties", &format!("{name}-metaindex"), meta.body);
        self.block_seed(&format!("{name}-metaindex"), 0, b"rocksdb.properties", meta.body);
        let mut metas = Vec::new();
        Metaindex::parse(meta.body)
            .unwrap()
            .for_each(|n, h| {
                metas.push((String::from_utf8_lossy(n).into_owned(), h));
                Ok(())
            })
            .unwrap();
        for (n, h) in metas {
            let b = t.block(h, Part::Block).unwrap();
            if n.contains("properties") || n.contains("stats") {
                self.put("properties", &format!("{name}-properties"), b.body);
                self.block_seed(&format!("{name}-properties"), 0, b"rocksdb.num.entries", b.body);
            } else if n.contains("filter") {
                self.put("filter", &format!("{name}-filter"), b.body);
            } else if n.contains("range_del") {
                self.block_seed(&format!("{name}-rangedel"), 1, b"a", b.body);
            }
        }
        for (i, h) in data_handles.iter().take(3).enumerate() {
            let b = t.block(*h, Part::DataBlock).unwrap();
            let raw = if b.compression == CompressionType::None {
                b.body.to_vec()
            } else {
                let k = KINDS.iter().position(|&k| k == b.compression).unwrap() as u8;
                let mut seed = vec![k, (3 << 6) | fv as u8];
                seed.extend_from_slice(b.body);
                self.put("decompress", &format!("{name}-data{i}"), &seed);
                decompress_to_vec(b.compression, fv, b.body, 1 << 20).unwrap()
            };
            self.block_seed(&format!("{name}-data{i}"), 1, &first_key, &raw);
        }
    }

    /// A seed for the block target: flags, seek-key length, seek key, block.
    fn block_seed(&mut self, name: &str, flags: u8, key: &[u8], block: &[u8]) {
        let key = &key[..key.len().min(255)];
        let mut seed = vec![flags, key.len() as u8];
        seed.extend_from_slice(key);
        seed.extend_from_slice(block);
        self.put("block", name, &seed);
    }
}

fn items(n: usize) -> Vec<Item> {
    let mut v = Vec::new();
    for i in 0..n {
        let k = format!("key{:04}", i * 3).into_bytes();
        if i == n / 2 {
            v.push(Item::DeleteRange(k.clone(), format!("key{:04}", i * 3 + 5).into_bytes()));
        }
        v.push(match i % 7 {
            2 => Item::Delete(k),
            5 => Item::Merge(k, format!("op{i}").into_bytes()),
            _ => Item::Put(k, format!("value{i}-{}", "x".repeat(i % 13)).into_bytes()),
        });
    }
    v
}

fn ours(seeds: &mut Seeds) {
    let variants: &[(u8, bool, u32, u32, usize, usize)] = &[
        // checksum, lz4, format_version, bloom bits, block size, restart interval
        (1, false, 5, 10, 256, 16),
        (0, false, 2, 0, 128, 1),
        (2, true, 3, 10, 256, 4),
        (3, false, 4, 0, 200, 16),
        (4, true, 5, 10, 512, 2),
        (4, false, 4, 10, 64, 3),
        (1, true, 2, 5, 300, 16),
        (3, true, 4, 10, 4096, 16),
        (2, false, 5, 0, 100, 1),
    ];
    for (i, &(ck, lz4, fv, bloom, bs, ri)) in variants.iter().enumerate() {
        let opts = Options::default()
            .checksum(ChecksumType::from_u8(ck).unwrap())
            .compression(if lz4 { CompressionType::Lz4 } else { CompressionType::None })
            .format_version(fv)
            .bloom_bits_per_key(bloom)
            .block_size(bs)
            .restart_interval(ri);
        let (file, _) = build_table(opts, &items(24 + 4 * i)).unwrap();
        seeds.table(&format!("ours-{i}-ck{ck}-lz4{}-fv{fv}", u8::from(lz4)), &file);
    }
    let (empty, _) = build_table(Options::default(), &[]).unwrap();
    seeds.table("ours-empty", &empty);
}

fn rocksdb(seeds: &mut Seeds, tmp: &Path) -> Result<(), String> {
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..40u32)
        .map(|i| {
            (format!("rkey{:05}", i * 7).into_bytes(), format!("v{i}-{}", "ab".repeat((i % 9) as usize)).into_bytes())
        })
        .collect();
    let variants = [
        RocksVariant { block_size: 256, ..RocksVariant::default() },
        RocksVariant {
            checksum: 1,
            compression: "no",
            format_version: 5,
            bloom: true,
            block_size: 256,
            ..RocksVariant::default()
        },
        RocksVariant {
            checksum: 2,
            compression: "lz4",
            format_version: 4,
            index_type: 3,
            block_size: 256,
            ..RocksVariant::default()
        },
        RocksVariant {
            checksum: 3,
            compression: "zlib",
            format_version: 3,
            bloom: true,
            block_size: 300,
            ..RocksVariant::default()
        },
        RocksVariant {
            checksum: 4,
            compression: "zstd",
            format_version: 2,
            block_size: 256,
            ..RocksVariant::default()
        },
        RocksVariant {
            checksum: 1,
            compression: "zlib",
            format_version: 0,
            block_size: 256,
            ..RocksVariant::default()
        },
        RocksVariant { checksum: 1, compression: "lz4", format_version: 1, block_size: 256, ..RocksVariant::default() },
        RocksVariant {
            checksum: 4,
            compression: "no",
            data_block_hash_index: true,
            restart_interval: 4,
            block_size: 256,
            ..RocksVariant::default()
        },
    ];
    for (i, v) in variants.iter().enumerate() {
        let path = tmp.join(format!("rocks{i}.sst"));
        write_extern_sst(v, &entries, &path)?;
        let name = format!("rocks-{i}-ck{}-{}-fv{}", v.checksum, v.compression, v.format_version);
        seeds.table(&name, &std::fs::read(&path).unwrap());
    }
    // A flushed (not external) table: real seqnos, point and range deletions.
    let mut ops = Vec::new();
    for i in 0..30u32 {
        let k = format!("fkey{:04}", i * 3).into_bytes();
        ops.push(if i % 5 == 2 { Op::Delete(k) } else { Op::Put(k, format!("val{i}").into_bytes()) });
    }
    ops.push(Op::DeleteRange(b"fkey0010".to_vec(), b"fkey0030".to_vec()));
    let v = RocksVariant { compression: "snappy", bloom: true, block_size: 256, ..RocksVariant::default() };
    let ssts = flush_ssts(&v, &ops, &tmp.join("flush"))?;
    for (i, f) in ssts.files.iter().enumerate() {
        seeds.table(&format!("rocks-flush{i}"), &std::fs::read(f).unwrap());
    }
    Ok(())
}

fn leveldb(seeds: &mut Seeds, tmp: &Path) -> Result<(), String> {
    let entries: Vec<(Vec<u8>, Vec<u8>)> = (0..60u32)
        .map(|i| (format!("lkey{:05}", i * 11).into_bytes(), format!("lv{i}").repeat(3).into_bytes()))
        .collect();
    for snappy in [false, true] {
        let dir = tmp.join(format!("leveldb-{snappy}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let path = write_leveldb_table(&entries, &dir, snappy)?;
        seeds.table(&format!("leveldb-snappy{}", u8::from(snappy)), &std::fs::read(path).unwrap());
    }
    Ok(())
}

fn main() {
    let root = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "fuzz/seeds".to_string()));
    let mut seeds = Seeds { root, written: BTreeSet::new(), bytes: 0 };
    let tmp = tempfile::tempdir().unwrap();
    ours(&mut seeds);
    if let Err(e) = rocksdb(&mut seeds, tmp.path()) {
        eprintln!("RocksDB seeds skipped: {e}");
    }
    if let Err(e) = leveldb(&mut seeds, tmp.path()) {
        eprintln!("LevelDB seeds skipped: {e}");
    }
    println!("{} seed files, {} bytes, in {}", seeds.written.len(), seeds.bytes, seeds.root.display());
}
