//! A `BTreeMap` model of a table and the check that a table built from it reads back the same through every
//! reader path (cursor both ways, the no-allocator cursor, range tombstones, ranges, gets, filter, seeks).
//! Shared by core's property tests and the fuzz crate's round-trip targets.

use std::collections::BTreeMap;

use sstkit_core::key::ValueType;
use sstkit_core::keybuf::SliceKeyBuf;
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::Error;

/// A point operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// A value.
    Put(Vec<u8>),
    /// A point deletion.
    Delete,
    /// A merge operand.
    Merge(Vec<u8>),
}

impl Op {
    /// The entry type it writes.
    pub fn kind(&self) -> ValueType {
        match self {
            Op::Put(_) => ValueType::Value,
            Op::Delete => ValueType::Deletion,
            Op::Merge(_) => ValueType::Merge,
        }
    }
    /// Its value (empty for deletions).
    pub fn value(&self) -> &[u8] {
        match self {
            Op::Put(v) | Op::Merge(v) => v,
            Op::Delete => &[],
        }
    }
}

/// What a table should hold: options, point entries by user key, and range deletions `[start, end)` with
/// strictly increasing starts.
#[derive(Debug, Clone)]
pub struct Model {
    /// The options the table is built with (`seqno` is every entry's seqno).
    pub opts: Options,
    /// Point entries.
    pub points: BTreeMap<Vec<u8>, Op>,
    /// Range deletions.
    pub ranges: Vec<(Vec<u8>, Vec<u8>)>,
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
