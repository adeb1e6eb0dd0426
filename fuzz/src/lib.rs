//! Shared pieces of the fuzz targets: structured table specs (built and checked by the model in
//! `sstkit-test-support`) and routines that read everything a (possibly hostile) table offers.

pub mod mutate;
pub mod reader;

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use sstkit_core::key::MAX_SEQNO;
use sstkit_core::keybuf::SliceKeyBuf;
use sstkit_core::table::{CacheEntry, IndexType, Options, ReadCache, ReadOptions, Table};
use sstkit_core::{ChecksumType, CompressionType};
/// Shared with the core tests: which bytes a block checksum covers, and the model a table is checked against.
pub use sstkit_test_support::model::{build, check_model, Model, Op};
pub use sstkit_test_support::{checksummed_ranges, covered};

/// Upper bound on cursor steps per direction, so a target's run time stays bounded whatever the input.
pub const MAX_STEPS: usize = 20_000;

/// Read options for hostile inputs: a 1 MiB decompression cap keeps each run fast (the cap itself is what is
/// being exercised; the 64 MiB default is exercised by `Table::open`).
pub fn hostile_read_options(verify: bool) -> ReadOptions {
    let mut o = ReadOptions::default();
    o.verify_checksums = verify;
    o.max_block_len = 1 << 20;
    o
}

/// Write options chosen by the fuzzer.
#[derive(Arbitrary, Debug, Clone)]
pub struct OptsSpec {
    pub block_size: u16,
    pub restart_interval: u8,
    pub lz4: bool,
    pub checksum: u8,
    pub format_version: u8,
    pub bloom_bits: u8,
    /// `Some`: not an external file; every entry gets this seqno.
    pub seqno: Option<u64>,
    /// Build through a fixed `&mut [u8]` workspace instead of a growing `Vec`.
    pub slice_workspace: bool,
    /// `Some((metadata_block_size, partition_filters))`: a partitioned index (and maybe filter).
    pub partitioned: Option<(u16, bool)>,
}

impl OptsSpec {
    pub fn options(&self) -> Options {
        let mut o = Options::default()
            .block_size(usize::from(self.block_size % 8192).max(1))
            .restart_interval(usize::from(self.restart_interval % 32) + 1)
            .compression(if self.lz4 { CompressionType::Lz4 } else { CompressionType::None })
            .checksum(ChecksumType::from_u8(self.checksum % 5).unwrap())
            .format_version(2 + u32::from(self.format_version % 4))
            .bloom_bits_per_key(if self.bloom_bits.is_multiple_of(3) {
                0
            } else {
                u32::from(self.bloom_bits % 100) + 1
            });
        if let Some(s) = self.seqno {
            o = o.external_file(false).seqno(s & MAX_SEQNO);
        }
        if let Some((mbs, pf)) = self.partitioned {
            o = o
                .index_type(IndexType::Partitioned)
                .metadata_block_size(usize::from(mbs % 4096).max(1))
                .partition_filters(pf);
        }
        o
    }
}

/// A point operation as the fuzzer describes it.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum OpSpec {
    Put(Vec<u8>),
    Delete,
    Merge(Vec<u8>),
}

impl From<OpSpec> for Op {
    fn from(op: OpSpec) -> Op {
        match op {
            OpSpec::Put(v) => Op::Put(v),
            OpSpec::Delete => Op::Delete,
            OpSpec::Merge(v) => Op::Merge(v),
        }
    }
}

/// A table as the fuzzer describes it.
#[derive(Arbitrary, Debug, Clone)]
pub struct TableSpec {
    pub opts: OptsSpec,
    pub entries: Vec<(Vec<u8>, OpSpec)>,
    /// Range deletions as `(start, suffix)`: the end key is `start + suffix + [1]`, so it is always larger.
    pub ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TableSpec {
    pub fn model(&self) -> Model {
        let points: BTreeMap<_, _> = self.entries.iter().map(|(k, op)| (k.clone(), Op::from(op.clone()))).collect();
        let starts: BTreeMap<_, _> = self.ranges.iter().cloned().collect();
        let ranges = starts
            .into_iter()
            .map(|(s, suffix)| {
                let mut e = s.clone();
                e.extend_from_slice(&suffix);
                e.push(1);
                (s, e)
            })
            .collect();
        Model { opts: self.opts.options(), points, ranges }
    }
}

/// Reads everything a possibly hostile table offers. Any call may fail; none may panic or run unbounded.
pub fn exercise_table(t: &Table<'_>, probes: &[&[u8]]) {
    let mut keys: Vec<Vec<u8>> = Vec::new();
    let mut c = t.iter();
    if c.seek_to_first().is_ok() {
        for _ in 0..MAX_STEPS {
            match c.entry() {
                Ok(Some(e)) => {
                    if keys.len() < 3 {
                        keys.push(e.user_key.to_vec());
                    }
                }
                _ => break,
            }
            let _ = c.internal_key();
            if c.next().is_err() {
                break;
            }
        }
    }
    if c.seek_to_last().is_ok() {
        for _ in 0..MAX_STEPS {
            match c.entry() {
                Ok(Some(e)) => {
                    if keys.len() < 5 {
                        keys.push(e.user_key.to_vec());
                    }
                }
                _ => break,
            }
            if c.prev().is_err() {
                break;
            }
        }
    }
    let mut arr = [0u8; 4096];
    let mut buf = Vec::new();
    // Reads through a small read cache (3 entries, 2 slots of 512 bytes: constant eviction) answer as plain
    // reads do.
    let (mut entries, mut slots) = ([CacheEntry::EMPTY; 3], [0u8; 2 * ReadCache::slot_size(512)]);
    let mut cache = ReadCache::with_slots(&mut entries, &mut slots, 512);
    let mut cbuf = Vec::new();
    let all = probes.iter().copied().chain(keys.iter().map(|k| k.as_slice()));
    for k in all {
        for _ in 0..2 {
            let plain = t.get(k, &mut buf).map(|e| e.map(|e| (e.kind, e.seqno, e.value.to_vec())));
            let cached = t.get_with(k, &mut cache, &mut cbuf).map(|e| e.map(|e| (e.kind, e.seqno, e.value.to_vec())));
            assert_eq!(plain, cached, "get {k:?} through a read cache");
        }
        let _ = t.get(k, &mut arr);
        let _ = t.covering_tombstone(k);
        if c.seek(k).is_ok() {
            let _ = c.entry();
            let _ = c.prev();
            let _ = c.next();
            let _ = c.entry();
        }
        if c.seek_before(k).is_ok() {
            let _ = c.entry();
        }
    }
    // The block map, and each block verified by its kind's rule.
    let mut blocks = 0;
    let _ = t.layout().for_each_table_block(|b| {
        let _ = t.layout().verify_table_block(t.file(), 0, &b);
        blocks += 1;
        if blocks < MAX_STEPS {
            Ok(())
        } else {
            Err(sstkit_core::Error::InvalidArgument { reason: "enough blocks" })
        }
    });
    let mut n = 0;
    let _ = t.for_each_in_range(probes.first().copied(), None, Vec::new(), |_| {
        n += 1;
        n < MAX_STEPS
    });
    for r in t.range_tombstones().take(MAX_STEPS) {
        match r {
            Ok(r) => {
                let _ = r.covers(b"k");
            }
            Err(_) => break,
        }
    }
    // A scan through the read cache sees what a plain scan sees.
    let mut plain = t.iter();
    let mut cached = t.cursor_with(&mut cache, Vec::new(), Vec::new(), Vec::new());
    let (p, q) = (plain.seek_to_first(), cached.seek_to_first());
    assert_eq!(p.is_ok(), q.is_ok(), "seek_to_first through a read cache");
    if p.is_ok() {
        for _ in 0..MAX_STEPS {
            let e = plain.entry().map(|e| e.map(|e| (e.user_key.to_vec(), e.seqno, e.value.to_vec())));
            let f = cached.entry().map(|e| e.map(|e| (e.user_key.to_vec(), e.seqno, e.value.to_vec())));
            assert_eq!(e, f, "scan through a read cache");
            if !matches!(e, Ok(Some(_))) {
                break;
            }
            let (p, q) = (plain.next(), cached.next());
            assert_eq!(p.is_ok(), q.is_ok(), "next through a read cache");
            if p.is_err() {
                break;
            }
        }
    }
    // The no-allocator path.
    let mut blockbuf = [0u8; 8192];
    let (mut ik, mut dk) = ([0u8; 256], [0u8; 256]);
    let mut c2 = t.cursor(&mut blockbuf[..], SliceKeyBuf::new(&mut ik), SliceKeyBuf::new(&mut dk));
    if c2.seek_to_first().is_ok() {
        for _ in 0..MAX_STEPS {
            if !matches!(c2.entry(), Ok(Some(_))) || c2.next().is_err() {
                break;
            }
        }
    }
    let _ = t.properties().for_each(|_, _| {});
    let _ = t.properties().get("rocksdb.comparator");
    let _ = t.verify_all();
}

/// The ranged-reader path over a possibly hostile file: `meta_start` on a tail, `MetaLayout::parse` on the region
/// it asks for, then every accessor and the block-level lookups of `table::entry` on the data blocks.
pub fn exercise_ranged(file: &[u8], verify: bool, probes: &[&[u8]]) {
    use sstkit_core::table::entry::{block_lookup, for_each_in_block};
    use sstkit_core::table::index::for_each_index_entry;
    use sstkit_core::table::{meta_start, verified_block, MetaLayout, MetaNeed};

    let opts = hostile_read_options(verify);
    let len = file.len() as u64;
    let mut base = file.len().saturating_sub(256);
    for _ in 0..3 {
        match meta_start(&file[base..], base as u64, len, &opts) {
            Ok(MetaNeed::Covered) => break,
            Ok(MetaNeed::From(off)) if (off as usize) < base => base = off as usize,
            _ => return,
        }
    }
    let region = &file[base..];
    let mut index_buf = vec![0u8; 64 * 1024];
    let Ok(layout) = MetaLayout::parse(region, base as u64, len, &opts, &mut index_buf) else { return };
    let _ = layout.metaindex(region).map(|m| m.for_each(|_, _| Ok(())));
    let _ = layout.properties(region).map(|p| p.for_each(|_, _| {}));
    let _ = layout.filter(region);
    if let Ok(Some(rd)) = layout.range_del(region) {
        for t in sstkit_core::table::RangeTombstones::new(rd, layout.global_seqno).take(MAX_STEPS) {
            if t.is_err() {
                break;
            }
        }
    }
    for k in probes {
        let _ = layout.may_contain(region, k, Some(0));
        let _ = layout.find_block(region, &index_buf, k);
    }
    let Ok(index) = layout.index(region, &index_buf) else { return };
    let mut handles = Vec::new();
    let mut key = Vec::new();
    let _ = for_each_index_entry(&index, layout.index_info, &mut key, |_, h, _| {
        handles.push(h);
        if handles.len() >= 64 {
            return Err(sstkit_core::Error::InvalidArgument { reason: "enough" });
        }
        Ok(())
    });
    let fv = layout.footer.format_version;
    for h in handles {
        let Ok(b) = verified_block(file, 0, h, layout.checksum(), verify, sstkit_core::Part::DataBlock) else {
            continue;
        };
        let Ok(need) = b.uncompressed_len(fv, opts.max_block_len) else { continue };
        let mut buf = vec![0u8; need];
        let Ok(bytes) = b.uncompress(fv, &mut buf) else { continue };
        let mut key = Vec::new();
        for k in probes {
            let _ = block_lookup(bytes, k, &mut key, layout.global_seqno);
        }
        let mut n = 0;
        let _ = for_each_in_block(bytes, None, &mut key, layout.global_seqno, |_| {
            n += 1;
            Ok(n < MAX_STEPS)
        });
    }
}
