//! `sstkit`: the std adapter for [`sstkit_core`].
//!
//! It moves the core codec's buffers to and from storage and adds no format logic of its own:
//! - [`writer::SstWriter`]: async writer streaming blocks through an `object_store` multipart upload;
//! - [`file_writer::FileWriter`]: sync writer to a local file (temporary file, fsync, rename) and
//!   [`file_writer::IoWriter`] over any `std::io::Write`;
//! - [`rolling::RollingWriter`]: cuts a sorted stream into non-overlapping files of a target size;
//! - [`manifest`]: the progress record that lets a rolling build resume after a crash;
//! - `s3_uploads` (feature `aws`): lists and aborts incomplete S3 multipart uploads;
//! - [`reader::SstReader`]: lazy reader with ranged GETs (or positioned reads on a local file kept open,
//!   [`reader::SstReader::open_file`]), a shared [`cache::BlockCache`] and blocks verified once
//!   ([`verified::Verify`]), opening with a tail sized from the tables opened before ([`tail::TailPrefetch`]).
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Errors carry a context string and the codec's or store's error; every call that returns one does I/O, next to
// which moving a larger Result is noise.
#![allow(clippy::result_large_err)]

pub mod cache;
#[cfg(feature = "cli")]
pub mod cli;
pub mod error;
pub mod file_writer;
mod hash_spill;
mod intervals;
pub mod location;
pub mod manifest;
pub mod merge;
mod read_ahead;
pub mod reader;
pub mod rolling;
#[cfg(feature = "aws")]
pub mod s3_uploads;
pub mod sort;
mod source;
pub mod tail;
pub mod verified;
pub mod writer;

pub use error::{Error, Result};
pub use sstkit_core as core;
