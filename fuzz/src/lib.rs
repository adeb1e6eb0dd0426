//! Shared pieces of the fuzz targets: structured table specs, a builder driver, a `BTreeMap` model check and a
//! routine that reads everything a (possibly hostile) table offers.

pub mod mutate;
pub mod reader;

use std::collections::BTreeMap;

use arbitrary::Arbitrary;
use sstkit_core::key::{ValueType, MAX_SEQNO};
use sstkit_core::keybuf::SliceKeyBuf;
use sstkit_core::table::{Options, ReadOptions, Table, TableBuilder};
use sstkit_core::{ChecksumType, CompressionType, Error};
/// Shared with the core tests: which bytes a block checksum covers.
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
        o
    }
}

/// A point operation.
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub enum Op {
    Put(Vec<u8>),
    Delete,
    Merge(Vec<u8>),
}

impl Op {
    pub fn kind(&self) -> ValueType {
        match self {
            Op::Put(_) => ValueType::Value,
            Op::Delete => ValueType::Deletion,
            Op::Merge(_) => ValueType::Merge,
        }
    }
    pub fn value(&self) -> &[u8] {
        match self {
            Op::Put(v) | Op::Merge(v) => v,
            Op::Delete => &[],
        }
    }
}

/// A table as the fuzzer describes it.
#[derive(Arbitrary, Debug, Clone)]
pub struct TableSpec {
    pub opts: OptsSpec,
    pub entries: Vec<(Vec<u8>, Op)>,
    /// Range deletions as `(start, suffix)`: the end key is `start + suffix + [1]`, so it is always larger.
    pub ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

/// The sorted model of a [`TableSpec`].
pub struct Model {
    pub opts: Options,
    pub points: BTreeMap<Vec<u8>, Op>,
    pub ranges: Vec<(Vec<u8>, Vec<u8>)>,
}

impl TableSpec {
    pub fn model(&self) -> Model {
        let points: BTreeMap<_, _> = self.entries.iter().cloned().collect();
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

fn drain<W: sstkit_core::table::Workspace>(b: &mut TableBuilder<W>, out: &mut Vec<u8>) {
    while let Some(c) = b.next_output().expect("next_output") {
        out.extend_from_slice(c);
    }
}

fn build_with<W: sstkit_core::table::Workspace>(mut b: TableBuilder<W>, m: &Model) -> Result<Vec<u8>, Error> {
    let mut out = Vec::new();
    let mut ri = m.ranges.iter().peekable();
    for (k, op) in &m.points {
        while let Some((s, e)) = ri.peek() {
            if s.as_slice() > k.as_slice() {
                break;
            }
            b.delete_range(s, e)?;
            ri.next();
        }
        match op {
            Op::Put(v) => b.put(k, v)?,
            Op::Delete => b.delete(k)?,
            Op::Merge(v) => b.merge(k, v)?,
        }
        drain(&mut b, &mut out);
    }
    for (s, e) in ri {
        b.delete_range(s, e)?;
    }
    b.finish()?;
    drain(&mut b, &mut out);
    assert!(b.is_done());
    assert_eq!(b.stats().file_size, out.len() as u64);
    Ok(out)
}

/// Builds the model's table. `None` only when a fixed workspace turned out too small (a sizing question for
/// the caller, not a codec bug); every other builder error panics.
pub fn build(m: &Model, slice_workspace: bool) -> Option<Vec<u8>> {
    let r = if slice_workspace {
        let n = m.points.len() + m.ranges.len();
        let keys: usize =
            m.points.keys().map(|k| k.len()).sum::<usize>() + m.ranges.iter().map(|r| r.1.len()).sum::<usize>();
        let avg = keys / n.max(1) + 1;
        let len = TableBuilder::<&mut [u8]>::workspace_len_hint(&m.opts, n, avg) + 64 * 1024;
        let mut ws = vec![0u8; len];
        let b = TableBuilder::new(&mut ws[..], m.opts.clone()).expect("builder");
        match build_with(b, m) {
            Err(Error::BufferTooSmall { .. }) => return None,
            r => r,
        }
    } else {
        build_with(TableBuilder::new(Vec::new(), m.opts.clone()).expect("builder"), m)
    };
    Some(r.unwrap_or_else(|e| panic!("building a valid table failed: {e:?}")))
}

type Row = (Vec<u8>, ValueType, Vec<u8>, u64);

/// Checks a table built from `m` against the model: scans both ways, tombstones, gets, seeks and ranges.
pub fn check_model(file: &[u8], m: &Model, probes: &[Vec<u8>]) {
    let table = Table::open(file).expect("open");
    let seqno = m.opts.seqno;
    assert_eq!(table.properties().num_entries, Some((m.points.len() + m.ranges.len()) as u64));
    assert!(table.verify_all().expect("verify_all") >= 3);
    let want: Vec<Row> = m.points.iter().map(|(k, op)| (k.clone(), op.kind(), op.value().to_vec(), seqno)).collect();

    let mut c = table.iter();
    c.seek_to_first().unwrap();
    let mut got = Vec::new();
    while let Some(e) = c.entry().unwrap() {
        got.push((e.user_key.to_vec(), e.kind, e.value.to_vec(), e.seqno));
        c.next().unwrap();
    }
    assert_eq!(got, want, "forward");
    c.seek_to_last().unwrap();
    let mut back = Vec::new();
    while let Some(e) = c.entry().unwrap() {
        back.push((e.user_key.to_vec(), e.kind, e.value.to_vec(), e.seqno));
        c.prev().unwrap();
    }
    back.reverse();
    assert_eq!(back, want, "backward");

    // The no-allocator path: a caller slice for blocks and slices for keys.
    let raw: usize = m.points.iter().map(|(k, op)| k.len() + op.value().len() + 32).sum();
    let mut blockbuf = vec![0u8; 2 * raw + m.opts.block_size * 4 + 64 * 1024];
    let max_key = m.points.keys().map(|k| k.len()).max().unwrap_or(0) + 64;
    let (mut ik, mut dk) = (vec![0u8; max_key], vec![0u8; max_key]);
    let mut c2 = table.cursor(&mut blockbuf[..], SliceKeyBuf::new(&mut ik), SliceKeyBuf::new(&mut dk));
    c2.seek_to_first().unwrap();
    let mut n = 0;
    while let Some(e) = c2.entry().unwrap() {
        assert_eq!(e.user_key, want[n].0.as_slice());
        assert_eq!(e.value, want[n].2.as_slice());
        n += 1;
        c2.next().unwrap();
    }
    assert_eq!(n, want.len());

    let tombs: Vec<_> = table
        .range_tombstones()
        .map(|t| t.map(|t| (t.start.to_vec(), t.end.to_vec(), t.seqno)))
        .collect::<Result<_, _>>()
        .unwrap();
    let want_tombs: Vec<_> = m.ranges.iter().map(|(s, e)| (s.clone(), e.clone(), seqno)).collect();
    assert_eq!(tombs, want_tombs);

    if probes.len() >= 2 {
        let (a, b) = if probes[0] <= probes[1] { (&probes[0], &probes[1]) } else { (&probes[1], &probes[0]) };
        let mut got = Vec::new();
        table
            .for_each_in_range(Some(a), Some(b), Vec::new(), |e| {
                got.push(e.user_key.to_vec());
                true
            })
            .unwrap();
        let want: Vec<_> = m.points.range(a.clone()..b.clone()).map(|(k, _)| k.clone()).collect();
        assert_eq!(got, want, "range");
    }

    let mut buf = Vec::new();
    for k in m.points.keys().chain(probes.iter()) {
        let got = table.get(k, &mut buf).unwrap().map(|l| (l.kind, l.value.to_vec(), l.seqno));
        let covered = m.ranges.iter().any(|(s, e)| s <= k && k < e);
        let want = match m.points.get(k) {
            Some(op) => Some((op.kind(), op.value().to_vec(), seqno)),
            None if covered => Some((ValueType::RangeDeletion, Vec::new(), seqno)),
            None => None,
        };
        assert_eq!(got, want, "get {k:?}");
        if m.points.contains_key(k) {
            assert!(table.may_contain(k), "filter false negative for {k:?}");
        }
        c.seek(k).unwrap();
        let want_seek = m.points.range(k.clone()..).next().map(|(k, _)| k.clone());
        assert_eq!(c.entry().unwrap().map(|e| e.user_key.to_vec()), want_seek, "seek {k:?}");
        c.seek_before(k).unwrap();
        let want_before = m.points.range(..k.clone()).next_back().map(|(k, _)| k.clone());
        assert_eq!(c.entry().unwrap().map(|e| e.user_key.to_vec()), want_before, "seek_before {k:?}");
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
    let all = probes.iter().copied().chain(keys.iter().map(|k| k.as_slice()));
    for k in all {
        let _ = t.get(k, &mut buf);
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
        let Ok(b) = verified_block(file, 0, h, layout.checksum(), verify, sstkit_core::Part::DataBlock) else { continue };
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
