//! The comparator a table was written with (property `rocksdb.comparator`): the order of its user keys, and
//! whether they end in a user-defined timestamp.
//!
//! Two are read: RocksDB's and LevelDB's bytewise order (`leveldb.BytewiseComparator`, also assumed when the
//! property is absent, as in LevelDB tables), and bytewise order with a u64 timestamp
//! (`leveldb.BytewiseComparator.u64ts`): every user key ends in an 8-byte little-endian timestamp, and keys
//! sort by the part before it ascending, then by the timestamp descending (newest first), then by seqno
//! descending. Any other comparator orders keys in a way this crate cannot seek: [`Error::UnsupportedComparator`].

use crate::error::{Error, KeyExcerpt, Result};
use crate::properties::Properties;

/// RocksDB's and LevelDB's bytewise comparator.
pub const BYTEWISE: &str = "leveldb.BytewiseComparator";
/// The bytewise comparator with a u64 user-defined timestamp at the end of every user key.
pub const BYTEWISE_U64TS: &str = "leveldb.BytewiseComparator.u64ts";

/// How a table's user keys are ordered and shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Comparator {
    /// Bytewise order; user keys as written.
    #[default]
    Bytewise,
    /// Bytewise order of the key before an 8-byte timestamp, then the timestamp descending.
    BytewiseU64Ts {
        /// False when the table says `rocksdb.user.defined.timestamps.persisted = 0`: the timestamps were
        /// stripped when it was written, so its keys carry none and read as plain bytewise keys.
        persisted: bool,
    },
}

impl Comparator {
    /// The comparator named by the properties (bytewise when they name none).
    pub fn from_properties(p: &Properties<'_>) -> Result<Self> {
        match p.comparator {
            None => Ok(Comparator::Bytewise),
            Some(n) if n == BYTEWISE.as_bytes() => Ok(Comparator::Bytewise),
            Some(n) if n == BYTEWISE_U64TS.as_bytes() => {
                Ok(Comparator::BytewiseU64Ts { persisted: p.user_defined_timestamps_persisted != Some(0) })
            }
            Some(n) => Err(Error::UnsupportedComparator { name: KeyExcerpt::new(n) }),
        }
    }

    /// Its name, as RocksDB writes it in the properties.
    pub fn name(&self) -> &'static str {
        match self {
            Comparator::Bytewise => BYTEWISE,
            Comparator::BytewiseU64Ts { .. } => BYTEWISE_U64TS,
        }
    }

    /// True when every stored user key ends in an 8-byte timestamp that readers split off.
    pub fn keys_have_timestamps(&self) -> bool {
        matches!(self, Comparator::BytewiseU64Ts { persisted: true })
    }

    /// True when the comparator carries timestamps but the table was written without them.
    pub fn timestamps_stripped(&self) -> bool {
        matches!(self, Comparator::BytewiseU64Ts { persisted: false })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    fn props(comparator: Option<&'static [u8]>, persisted: Option<u64>) -> Properties<'static> {
        let mut p = Properties::default();
        p.comparator = comparator;
        p.user_defined_timestamps_persisted = persisted;
        p
    }

    #[test]
    fn the_two_bytewise_comparators_are_read_and_others_named() {
        assert_eq!(Comparator::from_properties(&props(None, None)).unwrap(), Comparator::Bytewise);
        assert_eq!(Comparator::from_properties(&props(Some(BYTEWISE.as_bytes()), None)).unwrap(), Comparator::Bytewise);
        let ts = Comparator::from_properties(&props(Some(BYTEWISE_U64TS.as_bytes()), None)).unwrap();
        assert!(ts.keys_have_timestamps() && !ts.timestamps_stripped());
        let stripped = Comparator::from_properties(&props(Some(BYTEWISE_U64TS.as_bytes()), Some(0))).unwrap();
        assert!(!stripped.keys_have_timestamps() && stripped.timestamps_stripped());
        let e = Comparator::from_properties(&props(Some(b"rocksdb.ReverseBytewiseComparator"), None)).unwrap_err();
        assert!(e.is_unsupported());
        assert!(e.to_string().contains("rocksdb.ReverseBytewiseComparato"), "{e}");
    }
}
