//! [`merged`] and [`merge`]: a k-way merge of tables (ours or RocksDB's, on any store, streamed by
//! [`SstReader::scan`]) into one sorted stream of ops — the live view of the inputs as one layer.
//!
//! # What the output is
//! The inputs are stacked: per user key the newest version wins, by seqno, and between equal seqnos (external
//! files, which all read as seqno 0 or their global seqno) by input order, the later input winning — as if the
//! inputs were ingested into RocksDB in the order given. Range deletions apply by the same order: a range
//! tombstone deletes the versions older than it (within one input: a strictly smaller seqno, RocksDB's rule;
//! across inputs: a smaller seqno, or the same seqno in an earlier input).
//!
//! The output holds one entry per user key at most, written at the writer's one seqno (0 by default: an
//! external file RocksDB ingests), so it is the inputs' combined view as one new layer:
//! - a key whose newest version is a value or a merge operand: that op;
//! - a key whose newest version is a point deletion: a `Delete`, because the layer may be placed over older
//!   data the inputs hid (none when a carried range deletion already covers the key);
//! - a key whose newest version is deleted by a range tombstone: nothing;
//! - range deletions are **carried**: the union of the input's range tombstones, as `DeleteRange` ops in key
//!   order. In the output they sit at the same seqno as its points and so delete only what lies below the
//!   layer (RocksDB's rule: a tombstone deletes strictly older entries), which is exactly what they covered in
//!   the inputs that the inputs themselves do not decide.
//!
//! With [`MergeOptions::bottommost`] nothing lies below: point and range deletions are applied and dropped, and
//! only values and merge operands are written (seqno 0, as RocksDB's bottommost compaction zeroes seqnos).
//!
//! With [`MergeOptions::snapshot`] the merge sees only versions and range tombstones with seqno ≤ it.
//!
//! # What cannot be merged
//! A merge operand over an older version of its key (a value or another operand not deleted in between, or a
//! point deletion below it when the deletion would have to be kept) needs the merge operator, which a file
//! does not carry: `Unsupported`, naming the key. A blob reference, a wide-column entity or a value with a
//! preferred seqno as a key's newest version is `Unsupported` too (the writer writes plain values only), and so
//! is an input with user-defined timestamps (comparator `leveldb.BytewiseComparator.u64ts`).
//!
//! # Memory
//! One scan per input ([`ReadOptions::scan_chunk`](crate::reader::ReadOptions::scan_chunk) ×
//! ([`scan_read_ahead`](crate::reader::ReadOptions::scan_read_ahead) + 1) bytes each), the versions of one
//! user key, and the inputs' range tombstones (already in memory with each reader's metadata).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, VecDeque};
use std::pin::Pin;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use sstkit_core::key::ValueType;
use sstkit_core::{KeyExcerpt, Part};

use crate::error::{Error, Result};
use crate::reader::{OwnedEntry, SstReader};
use crate::rolling::{FileDescriptor, RollingWriter};
use crate::writer::WriteOp;

/// What a merge does with a user key that has more than one version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Duplicates {
    /// The newest version wins (the others are older versions).
    #[default]
    Newest,
    /// A user key with more than one point version is an error naming it and the two versions.
    Error,
}

/// How a merge runs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct MergeOptions {
    /// Read as of this sequence number: versions and range tombstones with a larger seqno are not seen.
    pub snapshot: Option<u64>,
    /// Nothing lies below the output: apply and drop point and range deletions.
    pub bottommost: bool,
    /// What a key with several versions is.
    pub duplicates: Duplicates,
    /// The inputs are an external sort's runs: seqnos are input line numbers (errors say "line"), and a later
    /// record replaces an earlier one of its key whatever it is (a merge operand included): records, not versions.
    pub(crate) records: bool,
}

impl MergeOptions {
    /// Sets [`snapshot`](Self::snapshot).
    pub fn snapshot(mut self, v: Option<u64>) -> Self {
        self.snapshot = v;
        self
    }
    /// Sets [`bottommost`](Self::bottommost).
    pub fn bottommost(mut self, v: bool) -> Self {
        self.bottommost = v;
        self
    }
    /// Sets [`duplicates`](Self::duplicates).
    pub fn duplicates(mut self, v: Duplicates) -> Self {
        self.duplicates = v;
        self
    }
}

/// The merged view of `inputs` (later inputs win ties, see the module docs) as a sorted stream of ops for a
/// writer ([`RollingWriter::write`], [`SstWriter::write`](crate::writer::SstWriter::write),
/// [`FileWriter::write`](crate::file_writer::FileWriter::write)); [`merge`] writes it through a rolling writer.
pub fn merged(inputs: Vec<SstReader>, opts: MergeOptions) -> impl Stream<Item = Result<WriteOp<Bytes>>> + Send {
    futures::stream::try_unfold(
        Merger::new(inputs, opts),
        |mut m| async move { Ok(m.next_op().await?.map(|op| (op, m))) },
    )
}

/// Merges `inputs` into `out` (files cut at its target size, non-overlapping) and finishes it. On an error
/// the writer is aborted: nothing is left behind.
pub async fn merge(inputs: Vec<SstReader>, opts: MergeOptions, mut out: RollingWriter) -> Result<Vec<FileDescriptor>> {
    let written = async {
        let mut ops = std::pin::pin!(merged(inputs, opts));
        while let Some(op) = ops.next().await {
            out.write(op?).await?;
        }
        Ok::<_, Error>(())
    };
    match written.await {
        Ok(()) => out.finish().await,
        Err(e) => {
            if let Err(cleanup) = out.abort().await {
                tracing::warn!("merge: removing the partial output failed: {cleanup}");
            }
            Err(e)
        }
    }
}

type EntryStream = Pin<Box<dyn Stream<Item = Result<OwnedEntry>> + Send>>;

/// One version of the current key: seqno, input, type, value. Ordered by (seqno, input).
struct Version {
    seqno: u64,
    input: usize,
    kind: ValueType,
    value: Bytes,
}

impl Version {
    fn rank(&self) -> (u64, usize) {
        (self.seqno, self.input)
    }
}

/// A piece of the key space and the newest range tombstone covering all of it, as (seqno, input).
struct Fragment {
    start: Bytes,
    end: Bytes,
    top: (u64, usize),
}

struct Merger {
    readers: Vec<SstReader>,
    streams: Vec<EntryStream>,
    heads: Vec<Option<OwnedEntry>>,
    /// (user key of an input's head, input), smallest first.
    heap: BinaryHeap<Reverse<(Bytes, usize)>>,
    fragments: Vec<Fragment>,
    at: usize,
    /// Range deletions still to write (non-bottommost), in key order.
    carried: VecDeque<(Bytes, Bytes)>,
    pending: VecDeque<WriteOp<Bytes>>,
    versions: Vec<Version>,
    opts: MergeOptions,
    started: bool,
}

impl Merger {
    fn new(readers: Vec<SstReader>, opts: MergeOptions) -> Self {
        Merger {
            readers,
            streams: Vec::new(),
            heads: Vec::new(),
            heap: BinaryHeap::new(),
            fragments: Vec::new(),
            at: 0,
            carried: VecDeque::new(),
            pending: VecDeque::new(),
            versions: Vec::new(),
            opts,
            started: false,
        }
    }

    fn visible(&self, seqno: u64) -> bool {
        self.opts.snapshot.is_none_or(|s| seqno <= s)
    }

    /// Opens the scans and splits the inputs' range tombstones into fragments.
    async fn start(&mut self) -> Result<()> {
        let mut tombstones = Vec::new();
        if let Some(r) = self.readers.iter().find(|r| r.layout().comparator.keys_have_timestamps()) {
            // Versions would be told apart by timestamp first: not what this merge orders by.
            return Err(Error::Codec {
                context: format!("merge: {}", r.location()),
                source: sstkit_core::Error::Unsupported {
                    part: Part::Properties,
                    what: "merging tables with user-defined timestamps (comparator u64ts), input",
                    value: 0,
                },
            });
        }
        for (i, r) in self.readers.iter().enumerate() {
            for (start, end, seqno) in r.range_tombstones()? {
                if start < end && self.visible(seqno) {
                    tombstones.push((start, end, (seqno, i)));
                }
            }
            self.streams.push(Box::pin(r.scan((std::ops::Bound::Unbounded, std::ops::Bound::Unbounded))));
        }
        self.fragments = fragments(tombstones);
        if !self.opts.bottommost {
            for f in &self.fragments {
                match self.carried.back_mut() {
                    Some((_, end)) if *end == f.start => *end = f.end.clone(),
                    _ => self.carried.push_back((f.start.clone(), f.end.clone())),
                }
            }
        }
        for i in 0..self.streams.len() {
            let head = self.streams[i].next().await.transpose()?;
            if let Some(h) = &head {
                self.heap.push(Reverse((h.user_key.clone(), i)));
            }
            self.heads.push(head);
        }
        self.started = true;
        Ok(())
    }

    /// The newest range tombstone covering `key` (keys are asked in increasing order).
    fn covering(&mut self, key: &[u8]) -> Option<(u64, usize)> {
        while self.fragments.get(self.at).is_some_and(|f| &f.end[..] <= key) {
            self.at += 1;
        }
        self.fragments.get(self.at).filter(|f| &f.start[..] <= key).map(|f| f.top)
    }

    async fn next_op(&mut self) -> Result<Option<WriteOp<Bytes>>> {
        if !self.started {
            self.start().await?;
        }
        loop {
            if let Some(op) = self.pending.pop_front() {
                return Ok(Some(op));
            }
            let Some(Reverse((key, _))) = self.heap.peek().cloned() else {
                return Ok(self.carried.pop_front().map(|(s, e)| WriteOp::DeleteRange(s, e)));
            };
            self.collect_versions(&key).await?;
            while self.carried.front().is_some_and(|(s, _)| *s <= key) {
                let (s, e) = self.carried.pop_front().unwrap_or_default();
                self.pending.push_back(WriteOp::DeleteRange(s, e));
            }
            let tomb = self.covering(&key);
            if let Some(op) = self.decide(&key, tomb)? {
                self.pending.push_back(op);
            }
        }
    }

    /// Takes every version of `key` off the inputs' heads into `versions`, newest first.
    async fn collect_versions(&mut self, key: &Bytes) -> Result<()> {
        self.versions.clear();
        while self.heap.peek().is_some_and(|Reverse((k, _))| k == key) {
            let Some(Reverse((_, i))) = self.heap.pop() else { break };
            while let Some(e) = self.heads[i].take() {
                if e.user_key != *key {
                    if e.user_key < *key {
                        return Err(Error::Codec {
                            context: format!("merge: {}", self.readers[i].location()),
                            source: sstkit_core::Error::OutOfOrder {
                                previous: KeyExcerpt::new(key),
                                key: KeyExcerpt::new(&e.user_key),
                            },
                        });
                    }
                    self.heap.push(Reverse((e.user_key.clone(), i)));
                    self.heads[i] = Some(e);
                    break;
                }
                if self.visible(e.seqno) {
                    self.versions.push(Version { seqno: e.seqno, input: i, kind: e.kind, value: e.value });
                }
                self.heads[i] = self.streams[i].next().await.transpose()?;
            }
        }
        self.versions.sort_by_key(|v| Reverse(v.rank()));
        Ok(())
    }

    /// The op for `key` given its versions (newest first) and the newest range tombstone covering it.
    fn decide(&self, key: &Bytes, tomb: Option<(u64, usize)>) -> Result<Option<WriteOp<Bytes>>> {
        let Some(newest) = self.versions.first() else { return Ok(None) };
        // A tombstone beats a version when it is newer: a larger seqno, or the same seqno in a later input
        // (within one input, the same seqno does not delete: RocksDB's rule).
        let beats = |v: &Version| tomb.is_some_and(|t| t > v.rank());
        if beats(newest) {
            return Ok(None);
        }
        if self.opts.duplicates == Duplicates::Error {
            if let Some(older) = self.versions.get(1) {
                let name = if self.opts.records { "line" } else { "seqno" };
                return Err(Error::Invalid(format!(
                    "duplicate key {}: at {name} {} and {name} {} (--duplicates last keeps the later one)",
                    KeyExcerpt::new(key),
                    older.seqno,
                    newest.seqno
                )));
            }
        }
        let value = newest.value.clone();
        Ok(match newest.kind {
            ValueType::Value => Some(WriteOp::Put(key.clone(), value)),
            // A deletion under a carried range deletion is redundant (records keep theirs: the build wrote them).
            k if k.is_deletion() => {
                (!self.opts.bottommost && (tomb.is_none() || self.opts.records)).then(|| WriteOp::Delete(key.clone()))
            }
            ValueType::Merge if self.opts.records => Some(WriteOp::Merge(key.clone(), value)),
            ValueType::Merge => {
                // The version the operand applies to, unless a range tombstone deleted it.
                let below = self.versions.get(1).filter(|v| !beats(v));
                match below {
                    None => {}
                    // Over a deletion the operand has no base: the same in the output when nothing older shows
                    // through (bottommost, or a carried range deletion hides what is below).
                    Some(v) if v.kind.is_deletion() && (self.opts.bottommost || tomb.is_some()) => {}
                    Some(v) => return Err(unsupported(key, newest, v)),
                }
                Some(WriteOp::Merge(key.clone(), value))
            }
            other => {
                return Err(Error::Codec {
                    context: format!("merge: key {}", KeyExcerpt::new(key)),
                    source: sstkit_core::Error::Unsupported {
                        part: Part::DataBlock,
                        what: match other {
                            ValueType::BlobIndex => "merging a blob reference (the value lives in a blob file): type",
                            ValueType::WideColumnEntity => "merging a wide-column entity: type",
                            _ => "merging an entry of type",
                        },
                        value: other as u64,
                    },
                })
            }
        })
    }
}

fn unsupported(key: &[u8], op: &Version, below: &Version) -> Error {
    Error::Codec {
        context: format!(
            "merge: key {}: a merge operand (seqno {}) over an older {} (seqno {}) needs the merge operator, which \
             the files do not carry",
            KeyExcerpt::new(key),
            op.seqno,
            match below.kind {
                ValueType::Merge => "merge operand",
                k if k.is_deletion() => "deletion",
                _ => "value",
            },
            below.seqno
        ),
        source: sstkit_core::Error::Unsupported {
            part: Part::DataBlock,
            what: "merge operand over an older version, type",
            value: ValueType::Merge as u64,
        },
    }
}

/// Splits range tombstones `(start, end, rank)` into disjoint fragments in key order, each with the newest
/// tombstone covering it; pieces no tombstone covers are left out.
fn fragments(tombstones: Vec<(Bytes, Bytes, (u64, usize))>) -> Vec<Fragment> {
    let mut bounds: Vec<Bytes> = tombstones.iter().flat_map(|(s, e, _)| [s.clone(), e.clone()]).collect();
    bounds.sort();
    bounds.dedup();
    let mut by_start: Vec<_> = tombstones.iter().collect();
    by_start.sort_by(|a, b| a.0.cmp(&b.0));
    let mut by_end: Vec<_> = tombstones.iter().collect();
    by_end.sort_by(|a, b| a.1.cmp(&b.1));
    let (mut si, mut ei) = (0, 0);
    let mut active: BTreeMap<(u64, usize), u32> = BTreeMap::new();
    let mut out = Vec::new();
    for w in bounds.windows(2) {
        let b = &w[0];
        while let Some(t) = by_start.get(si).filter(|t| t.0 == *b) {
            *active.entry(t.2).or_default() += 1;
            si += 1;
        }
        while let Some(t) = by_end.get(ei).filter(|t| t.1 == *b) {
            if let Some(n) = active.get_mut(&t.2) {
                *n -= 1;
                if *n == 0 {
                    active.remove(&t.2);
                }
            }
            ei += 1;
        }
        if let Some((&top, _)) = active.last_key_value() {
            out.push(Fragment { start: b.clone(), end: w[1].clone(), top });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fragments_take_the_newest_cover() {
        let b = |s: &'static str| Bytes::from_static(s.as_bytes());
        let f = fragments(vec![(b("a"), b("m"), (5, 0)), (b("c"), b("z"), (7, 1)), (b("p"), b("q"), (9, 0))]);
        let got: Vec<_> = f.iter().map(|f| (&f.start[..], &f.end[..], f.top)).collect();
        assert_eq!(
            got,
            vec![
                (&b"a"[..], &b"c"[..], (5, 0)),
                (b"c", b"m", (7, 1)),
                (b"m", b"p", (7, 1)),
                (b"p", b"q", (9, 0)),
                (b"q", b"z", (7, 1))
            ]
        );
        assert!(fragments(Vec::new()).is_empty());
    }
}
