//! Tables: the builder state machine that writes them and the reader that opens them.

pub mod builder;
pub mod cursor;
pub mod layout;
pub mod lookup;
pub mod meta;
pub mod options;
pub mod reader;
pub mod workspace;

pub use builder::{TableBuilder, TableHandles, TableStats};
pub use cursor::{Entry, TableCursor};
pub use layout::{newest_of, BlockBytes, BlockExtent, DecodedBlock, TableLayout};
pub use meta::{meta_start, MetaLayout, MetaNeed};
pub use options::Options;
pub use reader::{
    read_block, BlockContents, IndexInfo, Lookup, RangeTombstone, RangeTombstones, ReadBuf, ReadOptions, Table,
    TableFilter,
};
pub use workspace::Workspace;
