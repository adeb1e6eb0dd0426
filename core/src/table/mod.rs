//! Tables: the builder state machine that writes them and the reader that opens them.
//!
//! The reader's modules import only those listed before them (checked by the `layering` test below):
//! `blocks` (slice and verify one block) → `entry` (the entry type, one data block's entries) → `index`
//! (index encoding and walks) → `tombstones` (range deletions and their precedence rule) → `meta` (a table's
//! metadata as offsets) → `layout` (the opened metadata: which blocks, decoding, point lookup) → `map` (every
//! block of the table with its kind, and the checksum rule by kind) → `read_cache` ([`ReadCache`]: verified blocks and
//! decompressed copies in caller memory) → `reader`
//! ([`Table`]) → `cursor` ([`TableCursor`], [`Table::cursor`]).

pub mod blocks;
pub mod builder;
pub mod cursor;
pub mod entry;
pub mod index;
pub mod layout;
pub mod map;
pub mod meta;
pub mod options;
pub mod read_cache;
pub mod reader;
pub mod tombstones;
pub mod workspace;
pub mod writer;

pub use blocks::{verified_block, BlockBytes, BlockContents, BlockExtent, DecodedBlock, ReadBuf, ReadOptions};
pub use builder::{TableBuilder, TableHandles, TableStats};
pub use cursor::TableCursor;
pub use entry::{Entry, EntryForm, VersionLookup};
pub use index::IndexInfo;
pub use layout::TableLayout;
pub use map::{BlockKind, TableBlock};
pub use meta::{meta_start, meta_start_without_partitions, MetaLayout, MetaNeed, TableFilter};
pub use options::{IndexType, Options, DEFAULT_METADATA_BLOCK_SIZE};
pub use read_cache::{BlockSource, CacheEntry, CacheStats, ReadCache};
pub use reader::Table;
pub use tombstones::{newest_of, newest_of_covering, Covering, RangeTombstone, RangeTombstones};
pub use workspace::Workspace;
pub use writer::{TableWriter, WriteError};

/// The reader's modules form a layered stack with no cycle: each imports (through `crate::table::`) only
/// modules listed before it.
#[cfg(test)]
mod layering {
    /// Bottom to top. The builder sits beside the reader and imports none of it.
    const ORDER: &[(&str, &str)] = &[
        ("options", include_str!("options.rs")),
        ("workspace", include_str!("workspace.rs")),
        ("builder", include_str!("builder/mod.rs")),
        ("builder", include_str!("builder/add.rs")),
        ("builder", include_str!("builder/filter.rs")),
        ("builder", include_str!("builder/finish.rs")),
        ("builder", include_str!("builder/flush.rs")),
        ("builder", include_str!("builder/index.rs")),
        ("builder", include_str!("builder/log.rs")),
        ("builder", include_str!("builder/properties.rs")),
        ("builder", include_str!("builder/range_del.rs")),
        ("builder", include_str!("builder/separator.rs")),
        ("builder", include_str!("builder/space.rs")),
        ("builder", include_str!("builder/stats.rs")),
        ("writer", include_str!("writer.rs")),
        ("blocks", include_str!("blocks.rs")),
        ("entry", include_str!("entry.rs")),
        ("index", include_str!("index.rs")),
        ("tombstones", include_str!("tombstones.rs")),
        ("meta", include_str!("meta.rs")),
        ("layout", include_str!("layout.rs")),
        ("map", include_str!("map.rs")),
        ("read_cache", include_str!("read_cache.rs")),
        ("reader", include_str!("reader.rs")),
        ("cursor", include_str!("cursor.rs")),
    ];

    /// Modules of `crate::table` that `src` names in code (doc comments and comments skipped).
    fn imports(src: &str) -> std::vec::Vec<&str> {
        let mut out = std::vec::Vec::new();
        for line in src.lines().filter(|l| !l.trim_start().starts_with("//")) {
            let mut rest = line;
            while let Some(at) = rest.find("crate::table::") {
                rest = &rest[at + "crate::table::".len()..];
                // `crate::table::{a::X, B}` names each item of the group (on one line, as rustfmt keeps short ones).
                let group = rest.strip_prefix('{').map(|g| &g[..g.find('}').unwrap_or(g.len())]);
                for item in group.map_or_else(|| std::vec![rest], |g| g.split(',').collect()) {
                    let item = item.trim_start();
                    let end = item.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(item.len());
                    let name = &item[..end];
                    if name.starts_with(|c: char| c.is_ascii_lowercase()) {
                        out.push(name);
                    }
                }
            }
        }
        out
    }

    #[test]
    fn reader_modules_import_only_lower_ones() {
        for (i, (name, src)) in ORDER.iter().enumerate() {
            for dep in imports(src) {
                let at = ORDER.iter().position(|(n, _)| *n == dep);
                assert!(
                    at.is_some_and(|at| at < i || (dep == *name)),
                    "table::{name} imports table::{dep}, which is not below it"
                );
            }
        }
    }

    #[test]
    fn the_check_sees_imports() {
        assert_eq!(imports("use crate::table::meta::{MetaLayout};\n// crate::table::cursor\n"), ["meta"]);
        assert_eq!(imports("use crate::table::{index::IndexInfo, Table, reader::X};"), ["index", "reader"]);
        assert!(!imports(include_str!("layout.rs")).is_empty());
    }
}
