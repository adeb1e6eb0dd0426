//! `sstkit`: the std adapter for [`sstkit_core`].
//!
//! This crate will move core's buffers to and from files and object stores. For now it re-exports the core codec
//! so that std programs have one crate to depend on.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub use sstkit_core as core;
