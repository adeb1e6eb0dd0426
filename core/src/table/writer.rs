//! [`TableWriter`]: a [`TableBuilder`] driven into a [`Sink`], so callers never drain
//! [`next_output`](TableBuilder::next_output) by hand.

use core::fmt;

use crate::error::{Error, Result};
use crate::key::InternalKey;
use crate::sink::Sink;
use crate::table::builder::{TableBuilder, TableStats};
use crate::table::workspace::Workspace;

/// What went wrong in a [`TableWriter`]: the codec refused, or the sink failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WriteError<E> {
    /// The builder returned an error (keys out of order, workspace full, bad argument, ...).
    Codec(Error),
    /// The sink failed to take bytes; the table written so far is incomplete.
    Sink(E),
}

impl<E> WriteError<E> {
    /// The codec error, if this is one.
    pub fn codec(&self) -> Option<&Error> {
        match self {
            WriteError::Codec(e) => Some(e),
            WriteError::Sink(_) => None,
        }
    }

    /// The sink error, if this is one.
    pub fn sink(&self) -> Option<&E> {
        match self {
            WriteError::Codec(_) => None,
            WriteError::Sink(e) => Some(e),
        }
    }
}

impl<E> From<Error> for WriteError<E> {
    fn from(e: Error) -> Self {
        WriteError::Codec(e)
    }
}

/// For sinks whose error is the codec's own ([`SliceSink`](crate::SliceSink), `Vec<u8>`): both cases become one [`Error`], so `?`
/// works in functions returning [`crate::Result`].
impl From<WriteError<Error>> for Error {
    fn from(e: WriteError<Error>) -> Self {
        match e {
            WriteError::Codec(e) | WriteError::Sink(e) => e,
        }
    }
}

impl<E: fmt::Display> fmt::Display for WriteError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WriteError::Codec(e) => write!(f, "table builder: {e}"),
            WriteError::Sink(e) => write!(f, "writing the table: {e}"),
        }
    }
}

impl<E: fmt::Debug + fmt::Display> core::error::Error for WriteError<E> {}

/// A [`TableBuilder`] and a [`Sink`]: every call adds to the builder and then writes each finished chunk into
/// the sink, so [`Error::OutputPending`] never happens.
///
/// A codec error (keys out of order, say) changes nothing: the writer stays usable. A sink error leaves the
/// table incomplete: every later call fails with [`Error::InvalidArgument`] (use
/// [`into_parts`](Self::into_parts) to get the sink back).
///
/// ```
/// use sstkit_core::{SliceSink, TableWriter};
/// use sstkit_core::table::{Options, Table, TableBuilder};
///
/// let mut workspace = [0u8; 32 * 1024];
/// let mut file = [0u8; 16 * 1024];
/// let builder = TableBuilder::new(&mut workspace[..], Options::default())?;
/// let mut w = TableWriter::new(builder, SliceSink::new(&mut file));
/// w.put(b"apple", b"red")?;
/// w.delete(b"banana")?;
/// w.put(b"cherry", b"dark red")?;
/// assert!(w.put(b"apricot", b"orange").is_err()); // out of order: rejected, nothing changed
/// let (stats, sink) = w.finish()?;
/// assert_eq!(stats.num_entries(), 3);
/// assert_eq!(stats.file_size, sink.len() as u64);
///
/// let table = Table::open(sink.written())?;
/// let mut buf = [0u8; 8 * 1024];
/// let hit = table.get(b"cherry", &mut buf)?.expect("present");
/// assert_eq!(hit.value, b"dark red");
/// # Ok::<(), sstkit_core::Error>(())
/// ```
#[derive(Debug)]
pub struct TableWriter<W: Workspace, S: Sink> {
    builder: TableBuilder<W>,
    sink: S,
    broken: bool,
}

/// The error every call returns after a sink write failed.
const BROKEN: Error = Error::InvalidArgument { reason: "an earlier sink write failed; the table is incomplete" };

impl<W: Workspace, S: Sink> TableWriter<W, S> {
    /// Drives `builder` into `sink`. A chunk the builder still holds is written by the next call.
    pub fn new(builder: TableBuilder<W>, sink: S) -> Self {
        TableWriter { builder, sink, broken: false }
    }

    /// Adds a value (see [`TableBuilder::put`]).
    pub fn put(&mut self, key: &[u8], value: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.put(key, value))
    }

    /// Adds a point deletion (see [`TableBuilder::delete`]).
    pub fn delete(&mut self, key: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.delete(key))
    }

    /// Adds a merge operand (see [`TableBuilder::merge`]).
    pub fn merge(&mut self, key: &[u8], operand: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.merge(key, operand))
    }

    /// Adds an entry with its own seqno and type (see [`TableBuilder::add`]).
    pub fn add(&mut self, key: InternalKey<'_>, value: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.add(key, value))
    }

    /// Deletes the user keys in `[start, end)` (see [`TableBuilder::delete_range`]).
    pub fn delete_range(&mut self, start: &[u8], end: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.delete_range(start, end))
    }

    /// [`delete_range`](Self::delete_range) with its own seqno (see [`TableBuilder::delete_range_at`]).
    pub fn delete_range_at(&mut self, start: &[u8], end: &[u8], seqno: u64) -> Result<(), WriteError<S::Error>> {
        self.step(|b| b.delete_range_at(start, end, seqno))
    }

    /// Ends the table: writes the last data block, the meta blocks and the footer, flushes the sink, and gives
    /// back the final statistics (`file_size` is the table's size) and the sink. On an error the writer is
    /// gone; a sink you want back after a failure can be lent as `&mut S`.
    pub fn finish(mut self) -> Result<(TableStats, S), WriteError<S::Error>> {
        self.check()?;
        // Write anything still waiting from before, then end the table (unless the caller already did).
        self.drain()?;
        if !self.builder.is_finishing() {
            self.builder.finish()?;
        }
        self.drain()?;
        self.sink.flush().map_err(WriteError::Sink)?;
        Ok((*self.builder.stats(), self.sink))
    }

    /// Ends the table one chunk at a time, for sinks that must act between chunks (an async upload that sends
    /// full parts): the first call ends the table, each call writes at most one finished chunk into the sink.
    /// Returns `false` once every byte was written; then the builder reports its
    /// [`handles`](TableBuilder::handles) and [`finish`](Self::finish) only flushes.
    pub fn finish_step(&mut self) -> Result<bool, WriteError<S::Error>> {
        self.check()?;
        if !self.builder.is_finishing() {
            // Anything still waiting from before goes first, then the table ends.
            self.drain()?;
            self.builder.finish()?;
        }
        let chunk = match self.builder.next_output() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return Ok(false),
            Err(e) => return Err(WriteError::Codec(e)),
        };
        if let Err(e) = self.sink.write_all(chunk) {
            self.broken = true;
            return Err(WriteError::Sink(e));
        }
        Ok(true)
    }

    /// Takes the kept filter hashes out of the builder's workspace (see [`TableBuilder::spill_hashes`]).
    pub fn spill_hashes<E>(&mut self, spill: impl FnOnce(&[u8]) -> Result<(), E>) -> Result<usize, E> {
        self.builder.spill_hashes(spill)
    }

    /// Hands spilled filter hashes back (see [`TableBuilder::restore_hashes`]). The first call ends the table
    /// as [`finish_step`](Self::finish_step)'s first call does (writing nothing of the end yet); then
    /// [`finish_step`](Self::finish_step) or [`finish`](Self::finish) write it.
    pub fn restore_hashes(&mut self, bytes: &[u8]) -> Result<(), WriteError<S::Error>> {
        self.check()?;
        if !self.builder.is_finishing() {
            self.drain()?;
            self.builder.finish()?;
        }
        self.builder.restore_hashes(bytes).map_err(WriteError::Codec)
    }

    /// The builder (options, first and last keys, ...).
    pub fn builder(&self) -> &TableBuilder<W> {
        &self.builder
    }

    /// The sink (for a [`SliceSink`](crate::SliceSink), [`written`](crate::SliceSink::written) shows the bytes so
    /// far).
    pub fn sink(&self) -> &S {
        &self.sink
    }

    /// The sink, to take bytes out between calls (an upload cutting full parts off a buffer). Whatever is taken
    /// is the caller's to keep in order.
    pub fn sink_mut(&mut self) -> &mut S {
        &mut self.sink
    }

    /// Counts and sizes so far; `file_size` is the number of bytes written to the sink.
    pub fn stats(&self) -> &TableStats {
        self.builder.stats()
    }

    /// The file size the table would have if finished now (roughly), for deciding when to start a new file.
    pub fn estimated_size(&self) -> u64 {
        self.builder.estimated_size()
    }

    /// Splits the writer into its builder and sink, for instance to inspect what was written after an error.
    pub fn into_parts(self) -> (TableBuilder<W>, S) {
        (self.builder, self.sink)
    }

    fn check(&self) -> Result<(), WriteError<S::Error>> {
        if self.broken {
            return Err(WriteError::Codec(BROKEN));
        }
        Ok(())
    }

    /// Runs one builder call between two drains. The first drain writes a chunk left from before `new` (or from
    /// a failed call); it costs nothing otherwise.
    fn step(&mut self, op: impl FnOnce(&mut TableBuilder<W>) -> Result<()>) -> Result<(), WriteError<S::Error>> {
        self.check()?;
        self.drain()?;
        let r = op(&mut self.builder);
        // Drain even after an error: whatever the builder finished must reach the sink before the next call.
        self.drain()?;
        r.map_err(WriteError::Codec)
    }

    /// Writes every chunk the builder has ready.
    fn drain(&mut self) -> Result<(), WriteError<S::Error>> {
        loop {
            let chunk = match self.builder.next_output() {
                Ok(Some(chunk)) => chunk,
                Ok(None) => return Ok(()),
                Err(e) => return Err(WriteError::Codec(e)),
            };
            if let Err(e) = self.sink.write_all(chunk) {
                self.broken = true;
                return Err(WriteError::Sink(e));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::key::ValueType;
    // The writer over every sink adapter.
    use crate::sink::*;
    use crate::table::{Options, Table};
    use crate::trailer::BLOCK_TRAILER_LEN;
    use crate::CompressionType;
    use std::vec;
    use std::vec::Vec;

    fn key(i: u32) -> [u8; 10] {
        let mut k = *b"key-000000";
        let mut n = i;
        for b in k[4..].iter_mut().rev() {
            *b = b'0' + (n % 10) as u8;
            n /= 10;
        }
        k
    }

    fn value(i: u32) -> [u8; 24] {
        let mut v = [0u8; 24];
        for (j, b) in v.iter_mut().enumerate() {
            *b = b'a' + ((i as usize * 7 + j) % 26) as u8;
        }
        v
    }

    fn opts() -> Options {
        let o = Options::default().block_size(1024);
        if cfg!(feature = "lz4") {
            o.compression(CompressionType::Lz4)
        } else {
            o
        }
    }

    /// The reference: draining the builder by hand into a Vec.
    fn by_hand(n: u32) -> Vec<u8> {
        let mut ws = vec![0u8; 64 * 1024];
        let mut b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut out = Vec::new();
        for i in 0..n {
            if i % 10 == 3 {
                b.delete(&key(i)).unwrap();
            } else {
                b.put(&key(i), &value(i)).unwrap();
            }
            if i == 5 {
                b.delete_range(b"key-000005x", b"key-000006").unwrap();
            }
            while let Some(c) = b.next_output().unwrap() {
                out.extend_from_slice(c);
            }
        }
        b.finish().unwrap();
        while let Some(c) = b.next_output().unwrap() {
            out.extend_from_slice(c);
        }
        out
    }

    fn write_all<W: Workspace, S: Sink>(w: &mut TableWriter<W, S>, n: u32) -> Result<(), WriteError<S::Error>> {
        for i in 0..n {
            if i % 10 == 3 {
                w.delete(&key(i))?;
            } else {
                w.put(&key(i), &value(i))?;
            }
            if i == 5 {
                w.delete_range(b"key-000005x", b"key-000006")?;
            }
        }
        Ok(())
    }

    #[test]
    fn slice_sink_matches_manual_draining() {
        let expected = by_hand(500);
        let mut ws = [0u8; 64 * 1024];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        write_all(&mut w, 500).unwrap();
        assert!(w.stats().num_data_blocks > 2, "several blocks were cut and written on the way");
        assert_eq!(w.sink().len() as u64, w.stats().file_size);
        let (stats, sink) = w.finish().unwrap();
        assert_eq!(sink.written(), &expected[..]);
        assert_eq!(stats.file_size, expected.len() as u64);
        assert_eq!(stats.num_entries(), 501);
        let written = sink.into_written();
        let t = Table::open(written).unwrap();
        let mut buf = [0u8; 8 * 1024];
        assert_eq!(t.get(&key(7), &mut buf).unwrap().unwrap().value, &value(7));
    }

    #[test]
    fn slice_sink_too_small_reports_needed() {
        let full = by_hand(500).len();
        let mut ws = [0u8; 64 * 1024];
        let mut file = [0u8; 1000];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        let err = write_all(&mut w, 500).and_then(|()| w.finish().map(|_| ())).unwrap_err();
        match err {
            WriteError::Sink(Error::BufferTooSmall { needed }) => assert!(needed > 1000 && needed <= full),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn slice_sink_too_small_at_finish() {
        let full = by_hand(3).len();
        let mut ws = [0u8; 16 * 1024];
        let mut file = vec![0u8; full - 1];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        write_all(&mut w, 3).unwrap();
        let err = w.finish().unwrap_err();
        assert_eq!(err, WriteError::Sink(Error::BufferTooSmall { needed: full }));
        assert_eq!(Error::from(err), Error::BufferTooSmall { needed: full });
    }

    #[test]
    fn sink_error_stops_the_writer() {
        let mut ws = [0u8; 64 * 1024];
        let mut file = [0u8; 100];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        let err = write_all(&mut w, 500).unwrap_err();
        assert!(matches!(err, WriteError::Sink(Error::BufferTooSmall { .. })));
        assert_eq!(w.put(b"zzz", b"v"), Err(WriteError::Codec(BROKEN)));
        let (_, sink) = w.into_parts();
        assert!(sink.is_empty());
    }

    #[test]
    fn out_of_order_keeps_the_writer_usable() {
        let mut ws = [0u8; 64 * 1024];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        write_all(&mut w, 300).unwrap();
        let before = *w.stats();
        for bad in [&key(10)[..], &key(299)[..], b"a"] {
            let e = w.put(bad, b"x").unwrap_err();
            assert!(matches!(e.codec(), Some(Error::OutOfOrder { .. })), "{e:?}");
            assert!(e.sink().is_none());
        }
        assert!(matches!(
            w.delete_range(b"key-000001", b"key-000002"),
            Err(WriteError::Codec(Error::OutOfOrder { .. }))
        ));
        assert!(matches!(
            w.add(InternalKey::new(&key(299), 0, ValueType::Value), b"x"),
            Err(WriteError::Codec(Error::OutOfOrder { .. }))
        ));
        assert_eq!(*w.stats(), before);
        // Carry on: the table has every good key and none of the bad ones.
        for i in 300..400 {
            w.put(&key(i), &value(i)).unwrap();
        }
        w.merge(b"zz-merge", b"+1").unwrap();
        let (stats, sink) = w.finish().unwrap();
        assert_eq!(stats.num_entries(), 300 + 1 + 100 + 1);
        let t = Table::open(sink.written()).unwrap();
        let mut buf = [0u8; 8 * 1024];
        assert_eq!(t.get(&key(350), &mut buf).unwrap().unwrap().value, &value(350));
        assert_eq!(t.get(b"a", &mut buf).unwrap(), None);
        assert_eq!(t.get(b"zz-merge", &mut buf).unwrap().unwrap().kind, ValueType::Merge);
        // And it matches a table written without the rejected calls.
        let mut ws2 = [0u8; 64 * 1024];
        let mut file2 = vec![0u8; 64 * 1024];
        let mut w2 = TableWriter::new(TableBuilder::new(&mut ws2[..], opts()).unwrap(), SliceSink::new(&mut file2));
        write_all(&mut w2, 300).unwrap();
        for i in 300..400 {
            w2.put(&key(i), &value(i)).unwrap();
        }
        w2.merge(b"zz-merge", b"+1").unwrap();
        let (_, sink2) = w2.finish().unwrap();
        assert_eq!(sink.written(), sink2.written());
    }

    #[test]
    fn writes_after_finish_on_the_builder_are_picked_up() {
        // A builder handed over mid-way, with a chunk not taken yet and finish already called.
        let expected = by_hand(500);
        let mut ws = [0u8; 64 * 1024];
        let mut b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut head = Vec::new();
        for i in 0..500 {
            if i % 10 == 3 {
                b.delete(&key(i)).unwrap();
            } else {
                b.put(&key(i), &value(i)).unwrap();
            }
            if i == 5 {
                b.delete_range(b"key-000005x", b"key-000006").unwrap();
            }
            if i < 499 {
                while let Some(c) = b.next_output().unwrap() {
                    head.extend_from_slice(c);
                }
            }
        }
        b.finish().unwrap();
        let mut file = vec![0u8; 64 * 1024];
        let w = TableWriter::new(b, SliceSink::new(&mut file));
        let (_, sink) = w.finish().unwrap();
        head.extend_from_slice(sink.written());
        assert_eq!(head, expected);
    }

    /// A byte-at-a-time embedded-io writer that counts flushes.
    #[cfg(feature = "embedded-io")]
    struct Trickle<'a> {
        buf: &'a mut [u8],
        len: usize,
        flushes: u32,
    }

    #[cfg(feature = "embedded-io")]
    impl embedded_io::ErrorType for Trickle<'_> {
        type Error = embedded_io::ErrorKind;
    }

    #[cfg(feature = "embedded-io")]
    impl embedded_io::Write for Trickle<'_> {
        fn write(&mut self, buf: &[u8]) -> Result<usize, Self::Error> {
            let Some(&b) = buf.first() else { return Ok(0) };
            let slot = self.buf.get_mut(self.len).ok_or(embedded_io::ErrorKind::WriteZero)?;
            *slot = b;
            self.len += 1;
            Ok(1)
        }
        fn flush(&mut self) -> Result<(), Self::Error> {
            self.flushes += 1;
            Ok(())
        }
    }

    #[cfg(feature = "embedded-io")]
    #[test]
    fn embedded_io_writer() {
        let expected = by_hand(500);
        let mut ws = [0u8; 64 * 1024];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, EmbeddedIo(Trickle { buf: &mut file, len: 0, flushes: 0 }));
        write_all(&mut w, 500).unwrap();
        let (stats, sink) = w.finish().unwrap();
        let t = sink.into_inner();
        assert_eq!(t.flushes, 1);
        assert_eq!(t.len as u64, stats.file_size);
        assert_eq!(&t.buf[..t.len], &expected[..]);
    }

    #[cfg(feature = "embedded-io")]
    #[test]
    fn embedded_io_slice_and_errors() {
        let expected = by_hand(500);
        let mut ws = [0u8; 64 * 1024];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, EmbeddedIo(&mut file[..]));
        write_all(&mut w, 500).unwrap();
        let (_, EmbeddedIo(rest)) = w.finish().unwrap();
        let n = 64 * 1024 - rest.len();
        assert_eq!(&file[..n], &expected[..]);

        // Too small: embedded-io's own error comes through, and its Display works.
        let mut small = [0u8; 512];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, EmbeddedIo(&mut small[..]));
        let err = write_all(&mut w, 500).unwrap_err();
        assert_eq!(err, WriteError::Sink(embedded_io::SliceWriteError::Full));
        let msg = std::format!("{err}");
        assert!(msg.contains("Full"), "{msg}");
        let _: &dyn core::error::Error = &err;
    }

    #[test]
    fn finish_step_writes_one_chunk_at_a_time() {
        let expected = by_hand(500);
        let mut ws = [0u8; 64 * 1024];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        write_all(&mut w, 500).unwrap();
        let before = w.sink().len();
        assert!(w.builder().handles().is_none(), "no handles before the footer is out");
        let mut steps = 0;
        let mut last = before;
        while w.finish_step().unwrap() {
            steps += 1;
            assert!(w.sink().len() > last, "each step writes a chunk");
            last = w.sink().len();
        }
        // Last data block, filter, index, range deletions, properties, metaindex, footer.
        assert_eq!(steps, 7);
        assert!(!w.finish_step().unwrap(), "stays done");
        let h = w.builder().handles().expect("done");
        assert!(h.filter.is_some() && h.range_del.is_some());
        assert_eq!(h.metaindex.offset + h.metaindex.size + BLOCK_TRAILER_LEN as u64, w.stats().file_size - 53);
        assert_eq!(w.builder().range_deletion_bounds(), Some((&b"key-000005x"[..], &b"key-000006"[..])));
        let mut props = Vec::new();
        w.builder().for_each_property(|n, v| props.push((n.as_bytes().to_vec(), v.to_vec()))).unwrap();
        let (stats, sink) = w.finish().unwrap();
        assert_eq!(sink.written(), &expected[..]);
        assert_eq!(stats.file_size, expected.len() as u64);
        // The properties reported are the ones the block holds, byte for byte.
        let t = Table::open(sink.written()).unwrap();
        let mut read = Vec::new();
        t.properties().for_each(|n, v| read.push((n.to_vec(), v.to_vec()))).unwrap();
        props.sort();
        assert_eq!(props, read);
        assert_eq!(stats.seqno_range(), Some((0, 0)));
    }

    #[cfg(feature = "std")]
    #[test]
    fn std_io_sink() {
        let expected = by_hand(500);
        let b = TableBuilder::new(vec![0u8; 64 * 1024], opts()).unwrap();
        let mut w = TableWriter::new(b, StdIo(std::io::BufWriter::new(Vec::new())));
        write_all(&mut w, 500).unwrap();
        let (_, sink) = w.finish().unwrap();
        assert_eq!(sink.into_inner().into_inner().unwrap(), expected);

        // A full writer's error comes through as the sink's, and later calls fail.
        let mut small = [0u8; 700];
        let b = TableBuilder::new(vec![0u8; 64 * 1024], opts()).unwrap();
        let mut w = TableWriter::new(b, StdIo(&mut small[..]));
        let err = write_all(&mut w, 500).unwrap_err();
        assert_eq!(err.sink().map(std::io::Error::kind), Some(std::io::ErrorKind::WriteZero));
        assert_eq!(w.put(b"zzz", b"v").unwrap_err().codec(), Some(&BROKEN));
    }

    #[test]
    fn borrowed_sink() {
        let expected = by_hand(50);
        let mut ws = [0u8; 32 * 1024];
        let mut file = vec![0u8; 32 * 1024];
        let mut sink = SliceSink::new(&mut file);
        let b = TableBuilder::new(&mut ws[..], opts()).unwrap();
        let mut w = TableWriter::new(b, &mut sink);
        write_all(&mut w, 50).unwrap();
        let _ = w.finish().unwrap();
        assert_eq!(sink.written(), &expected[..]);
        assert_eq!(sink.capacity(), 32 * 1024);
    }

    #[cfg(feature = "alloc")]
    #[test]
    fn vec_sink() {
        let expected = by_hand(500);
        let b = TableBuilder::new(Vec::new(), opts()).unwrap();
        let mut w = TableWriter::new(b, Vec::new());
        write_all(&mut w, 500).unwrap();
        assert!(w.estimated_size() >= w.stats().file_size);
        let (_, out) = w.finish().unwrap();
        assert_eq!(out, expected);
    }

    #[test]
    fn workspace_too_small_is_a_codec_error() {
        let o = opts();
        let min = 2 * (o.block_size + o.block_size / 2 + 256) + 256;
        let mut ws = vec![0u8; min + 64];
        let mut file = vec![0u8; 64 * 1024];
        let b = TableBuilder::new(&mut ws[..], o).unwrap();
        let mut w = TableWriter::new(b, SliceSink::new(&mut file));
        let err = write_all(&mut w, 500).unwrap_err();
        assert!(matches!(err, WriteError::Codec(Error::BufferTooSmall { .. })), "{err:?}");
        let msg = std::format!("{err}");
        assert!(msg.starts_with("table builder: buffer too small"), "{msg}");
    }
}
