//! The one error type of the codec.

use core::fmt;

/// Which part of a table an error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Part {
    /// The fixed-size footer at the end of the file.
    Footer,
    /// The metaindex block (names of meta blocks → handles).
    Metaindex,
    /// The properties block.
    Properties,
    /// The index block.
    Index,
    /// A data block.
    DataBlock,
    /// The filter block.
    Filter,
    /// The range-deletion block.
    RangeDel,
    /// A block whose role the decoder does not know (decoded on its own).
    Block,
    /// The 5-byte block trailer.
    Trailer,
    /// A compressed block body.
    Compression,
    /// A varint or fixed integer.
    Varint,
    /// An encoded block handle.
    Handle,
    /// The table as a whole (its size, its layout).
    Table,
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Part::Footer => "footer",
            Part::Metaindex => "metaindex block",
            Part::Properties => "properties block",
            Part::Index => "index block",
            Part::DataBlock => "data block",
            Part::Filter => "filter block",
            Part::RangeDel => "range-deletion block",
            Part::Block => "block",
            Part::Trailer => "block trailer",
            Part::Compression => "compressed block",
            Part::Varint => "varint",
            Part::Handle => "block handle",
            Part::Table => "table",
        };
        f.write_str(s)
    }
}

/// How many bytes of a key an [`Error::OutOfOrder`] keeps (without an allocator we cannot keep them all, and a
/// small error keeps every `Result` cheap).
pub const KEY_EXCERPT_LEN: usize = 32;

/// The first [`KEY_EXCERPT_LEN`] bytes of a key, and its full length.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct KeyExcerpt {
    bytes: [u8; KEY_EXCERPT_LEN],
    kept: u8,
    len: usize,
}

impl KeyExcerpt {
    /// Keeps the first [`KEY_EXCERPT_LEN`] bytes of `key`.
    pub fn new(key: &[u8]) -> Self {
        let kept = key.len().min(KEY_EXCERPT_LEN);
        let mut bytes = [0u8; KEY_EXCERPT_LEN];
        bytes[..kept].copy_from_slice(&key[..kept]);
        KeyExcerpt { bytes, kept: kept as u8, len: key.len() }
    }
    /// The bytes kept (all of the key if it was short enough).
    pub fn bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.kept)]
    }
    /// The full length of the key.
    pub fn len(&self) -> usize {
        self.len
    }
    /// True for the empty key.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
    /// True if [`bytes`](Self::bytes) is the whole key.
    pub fn is_complete(&self) -> bool {
        usize::from(self.kept) == self.len
    }
}

impl fmt::Debug for KeyExcerpt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for KeyExcerpt {
    /// Printable ASCII as is, other bytes as `\xNN`, in double quotes; `…(N bytes)` when cut.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.bytes().iter() {
            if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
                write!(f, "{}", b as char)?;
            } else {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")?;
        if !self.is_complete() {
            write!(f, "…({} bytes)", self.len)?;
        }
        Ok(())
    }
}

/// Everything that can go wrong while encoding or decoding a table.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the format.
    Corruption {
        /// The part being decoded.
        part: Part,
        /// Byte offset (in the file when known, else within the part) where the problem was found.
        offset: u64,
        /// What was wrong.
        reason: &'static str,
    },
    /// A block's stored checksum does not match its contents.
    ChecksumMismatch {
        /// The block.
        part: Part,
        /// Offset of the block in the file.
        offset: u64,
        /// Checksum stored in the trailer.
        stored: u32,
        /// Checksum computed over the block.
        computed: u32,
    },
    /// A key was added out of order (or repeated).
    OutOfOrder {
        /// The key added before.
        previous: KeyExcerpt,
        /// The key that was rejected.
        key: KeyExcerpt,
    },
    /// A caller-supplied buffer is too small; `needed` bytes in total would do.
    BufferTooSmall {
        /// The total size that would have been enough for this step.
        needed: usize,
    },
    /// Valid format, but a feature this build cannot handle (a compression codec not enabled, say).
    Unsupported {
        /// The part being decoded.
        part: Part,
        /// What is not supported.
        what: &'static str,
        /// The value that named it (a type byte, a version).
        value: u64,
    },
    /// A valid table whose keys are ordered by a comparator this crate does not read (only the bytewise
    /// comparators are: see [`crate::comparator`]).
    UnsupportedComparator {
        /// The comparator's name, as the table's properties give it.
        name: KeyExcerpt,
    },
    /// The table builder holds a finished block that was not taken yet: call `next_output` first.
    OutputPending,
    /// The caller asked for something impossible (an option out of range, a call in the wrong state).
    InvalidArgument {
        /// What was wrong.
        reason: &'static str,
    },
}

/// The broad class of an [`Error`], for callers that map errors to exit codes or retry policies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The bytes are damaged: [`Error::Corruption`] or [`Error::ChecksumMismatch`].
    Corruption,
    /// Valid format, feature not handled: [`Error::Unsupported`], [`Error::UnsupportedComparator`].
    Unsupported,
    /// The caller's input or call order: [`Error::OutOfOrder`], [`Error::InvalidArgument`],
    /// [`Error::OutputPending`].
    InvalidArgument,
    /// A buffer was too small: [`Error::BufferTooSmall`].
    BufferTooSmall,
}

/// The result type of this crate.
pub type Result<T, E = Error> = core::result::Result<T, E>;

impl Error {
    /// The broad class of this error.
    pub const fn kind(&self) -> ErrorKind {
        match self {
            Error::Corruption { .. } | Error::ChecksumMismatch { .. } => ErrorKind::Corruption,
            Error::Unsupported { .. } | Error::UnsupportedComparator { .. } => ErrorKind::Unsupported,
            Error::BufferTooSmall { .. } => ErrorKind::BufferTooSmall,
            Error::OutOfOrder { .. } | Error::OutputPending | Error::InvalidArgument { .. } => {
                ErrorKind::InvalidArgument
            }
        }
    }

    /// True for [`Error::Unsupported`]: a valid file using a feature this build does not handle.
    pub const fn is_unsupported(&self) -> bool {
        matches!(self, Error::Unsupported { .. } | Error::UnsupportedComparator { .. })
    }

    /// True for damaged bytes ([`Error::Corruption`], [`Error::ChecksumMismatch`]).
    pub const fn is_corruption(&self) -> bool {
        matches!(self.kind(), ErrorKind::Corruption)
    }

    /// Shorthand for [`Error::Corruption`].
    pub const fn corrupt(part: Part, offset: u64, reason: &'static str) -> Self {
        Error::Corruption { part, offset, reason }
    }

    /// Shifts a relative offset by `base` and names `part`, for errors found while decoding a block that lives
    /// at `base` in the file.
    #[must_use]
    pub fn at(self, part: Part, base: u64) -> Self {
        match self {
            Error::Corruption { offset, reason, .. } => {
                Error::Corruption { part, offset: base.saturating_add(offset), reason }
            }
            Error::ChecksumMismatch { offset, stored, computed, .. } => {
                Error::ChecksumMismatch { part, offset: base.saturating_add(offset), stored, computed }
            }
            Error::Unsupported { what, value, .. } => Error::Unsupported { part, what, value },
            other => other,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Corruption { part, offset, reason } => write!(f, "corrupt {part} at offset {offset}: {reason}"),
            Error::ChecksumMismatch { part, offset, stored, computed } => write!(
                f,
                "checksum mismatch in {part} at offset {offset}: stored {stored:#010x}, computed {computed:#010x}"
            ),
            Error::OutOfOrder { previous, key } => {
                write!(f, "key {key} is not after the previous key {previous}")
            }
            Error::BufferTooSmall { needed } => write!(f, "buffer too small: {needed} bytes needed"),
            Error::Unsupported { part, what, value } => write!(f, "unsupported {what} {value} in {part}"),
            Error::UnsupportedComparator { name } => write!(
                f,
                "unsupported comparator {name}: only leveldb.BytewiseComparator and \
                 leveldb.BytewiseComparator.u64ts tables are read"
            ),
            Error::InvalidArgument { reason } => write!(f, "invalid argument: {reason}"),
            Error::OutputPending => f.write_str("a finished block is waiting: take it with next_output() first"),
        }
    }
}

impl core::error::Error for Error {}
