//! Blocks: the unit every part of a table is stored in.
//!
//! A block is a run of prefix-compressed entries, then the offsets of its restart points (entries stored with
//! their whole key), then the number of restart points.

pub mod builder;
pub mod reader;

pub use builder::{common_prefix, BlockBuilder, BlockState, ValueFraming, EMPTY_BLOCK_LEN};
pub use reader::{Block, BlockCursor, BlockIter, BlockLayout, EntryFormat, KeyOrder};
