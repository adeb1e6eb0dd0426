//! Output sinks a [`TableWriter`] writes a table into, so callers never drain [`next_output`] by hand.
//!
//! The builder is sans-IO: after every call its finished bytes must be taken with [`next_output`] and written
//! before the next call. A [`TableWriter`] (in [`crate::table::writer`]) owns a builder and a [`Sink`] and
//! does that after every entry:
//!
//! - [`SliceSink`] writes the whole table into one caller buffer (no allocator);
//! - `EmbeddedIo` (feature `embedded-io`) writes through any `embedded_io::Write` (a UART, a flash driver, an
//!   SD card);
//! - `StdIo` (feature `std`) writes through any `std::io::Write`;
//! - with the `alloc` feature, `Vec<u8>` collects the table;
//! - `&mut S` is a sink whenever `S` is, so a writer can borrow a sink it does not own.
//!
//! [`next_output`]: crate::table::TableBuilder::next_output
//! [`TableWriter`]: crate::table::writer::TableWriter

use crate::error::Error;

/// Where a [`TableWriter`](crate::table::writer::TableWriter) puts the finished bytes of a table, in file order.
pub trait Sink {
    /// What can go wrong while writing.
    type Error;

    /// Writes all of `bytes`, or fails. After a failure the table is incomplete: the writer stops.
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error>;

    /// Pushes buffered bytes to their destination; [`TableWriter::finish`](crate::TableWriter::finish) calls
    /// it once at the end. The default does nothing.
    fn flush(&mut self) -> Result<(), Self::Error> {
        Ok(())
    }
}

impl<S: Sink + ?Sized> Sink for &mut S {
    type Error = S::Error;
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        (**self).write_all(bytes)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        (**self).flush()
    }
}

/// A [`Sink`] that fills a caller buffer from its start: "write the whole table into one buffer".
///
/// A chunk that does not fit fails with [`Error::BufferTooSmall`] whose `needed` is the buffer size that would
/// have held everything so far including that chunk (a lower bound for the whole table); nothing of the chunk
/// is written.
#[derive(Debug)]
pub struct SliceSink<'o> {
    buf: &'o mut [u8],
    len: usize,
}

impl<'o> SliceSink<'o> {
    /// A sink writing into `buf`, starting at its first byte.
    pub fn new(buf: &'o mut [u8]) -> Self {
        SliceSink { buf, len: 0 }
    }

    /// The bytes written so far.
    pub fn written(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Gives back the written part of the buffer, for as long as the buffer lives.
    pub fn into_written(self) -> &'o mut [u8] {
        &mut self.buf[..self.len]
    }

    /// Number of bytes written so far.
    pub fn len(&self) -> usize {
        self.len
    }

    /// True if nothing was written yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the whole buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }
}

impl Sink for SliceSink<'_> {
    type Error = Error;
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let end = self.len.checked_add(bytes.len()).ok_or(Error::BufferTooSmall { needed: usize::MAX })?;
        let dst = self.buf.get_mut(self.len..end).ok_or(Error::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.len = end;
        Ok(())
    }
}

/// A [`Sink`] over any [`embedded_io::Write`]: drives the builder over a serial port, a flash or SD driver, a
/// socket, or `&mut [u8]` (which implements `embedded_io::Write`). [`flush`](Sink::flush) flushes the writer.
#[cfg(feature = "embedded-io")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EmbeddedIo<W>(pub W);

#[cfg(feature = "embedded-io")]
impl<W> EmbeddedIo<W> {
    /// Gives back the writer.
    pub fn into_inner(self) -> W {
        self.0
    }
}

#[cfg(feature = "embedded-io")]
impl<W: embedded_io::Write> Sink for EmbeddedIo<W> {
    type Error = W::Error;
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write_all(bytes)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// A [`Sink`] over any [`std::io::Write`] (a file, a socket, a `BufWriter`), as embedded-io-adapters wraps
/// std; [`flush`](Sink::flush) flushes the writer. Wrap unbuffered writers in a `BufWriter`: the table comes
/// out in block-sized chunks.
#[cfg(feature = "std")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StdIo<W>(pub W);

#[cfg(feature = "std")]
impl<W> StdIo<W> {
    /// Gives back the writer.
    pub fn into_inner(self) -> W {
        self.0
    }
}

#[cfg(feature = "std")]
impl<W: std::io::Write> Sink for StdIo<W> {
    type Error = std::io::Error;
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Self::Error> {
        self.0.write_all(bytes)
    }
    fn flush(&mut self) -> Result<(), Self::Error> {
        self.0.flush()
    }
}

/// Appends to the vector. Memory is reserved with `try_reserve`, so running out fails with
/// [`Error::BufferTooSmall`] instead of aborting.
#[cfg(feature = "alloc")]
impl Sink for alloc::vec::Vec<u8> {
    type Error = Error;
    fn write_all(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.try_reserve(bytes.len())
            .map_err(|_| Error::BufferTooSmall { needed: self.len().saturating_add(bytes.len()) })?;
        self.extend_from_slice(bytes);
        Ok(())
    }
}
