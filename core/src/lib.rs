//! `sstkit-core`: a `no_std`, sans-IO codec for RocksDB/LevelDB block-based SST files.
//!
//! Encoders write into buffers the caller owns; decoders borrow from `&[u8]` and hand back borrowed slices.
//! Nothing here does I/O or needs an allocator (the `alloc` feature adds growable conveniences).
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

pub mod block;
pub mod checksum;
pub mod comparator;
pub mod compress;
pub mod error;
pub mod filter;
pub mod footer;
pub mod handle;
pub mod key;
pub mod keybuf;
pub mod metaindex;
pub mod properties;
pub mod sink;
pub mod table;
pub mod trailer;
pub mod value;
pub mod varint;

pub use checksum::BlockChecksum;
pub use error::{Error, ErrorKind, KeyExcerpt, Part, Result};
pub use handle::BlockHandle;
pub use key::{InternalKey, ValueType};
#[cfg(feature = "embedded-io")]
pub use sink::EmbeddedIo;
#[cfg(feature = "std")]
pub use sink::StdIo;
pub use sink::{Sink, SliceSink};
pub use table::writer::{TableWriter, WriteError};
pub use trailer::{BlockTrailer, ChecksumType, CompressionType};

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
