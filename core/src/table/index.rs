//! The index block: how it is encoded ([`IndexInfo`]) and walks over it (seek to a key's data block, every
//! data-block handle from a key, every index entry).

use crate::block::{Block, BlockCursor, EntryFormat, KeyOrder};
use crate::comparator::Comparator;
use crate::error::{Error, Part, Result};
use crate::handle::BlockHandle;
use crate::keybuf::KeyBuf;
use crate::properties::Properties;

/// How the index block is encoded, from the properties (never from the footer's format_version).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexInfo {
    /// Keys are user keys (else internal keys).
    pub user_keys: bool,
    /// Entry format (delta-encoded handles or length-prefixed values).
    pub format: EntryFormat,
    /// Values carry the data block's first key (index type 3).
    pub first_key: bool,
    /// The index is partitioned (index type 2): the index block named by the footer is a top-level index whose
    /// entries map each partition's last separator to the partition's handle; each partition is an ordinary
    /// index block in the same key form and entry format.
    pub partitioned: bool,
    /// User keys (in the index and the data blocks) end in an 8-byte timestamp, ordered newest first
    /// (comparator `leveldb.BytewiseComparator.u64ts`, timestamps persisted).
    pub timestamps: bool,
}

impl IndexInfo {
    /// Reads the index settings from properties.
    pub fn from_properties(p: &Properties<'_>) -> Result<Self> {
        let (first_key, partitioned) = match p.index_type.unwrap_or(0) {
            // Type 1 (hash search) keeps an ordinary binary-searchable index; its hash meta blocks are optional.
            0 | 1 => (false, false),
            2 => (false, true),
            3 => (true, false),
            t => return Err(Error::Unsupported { part: Part::Index, what: "index type", value: u64::from(t) }),
        };
        let format = if p.index_is_delta_encoded() {
            EntryFormat::DeltaHandle { first_key }
        } else {
            EntryFormat::LengthPrefixed
        };
        let timestamps = Comparator::from_properties(p)?.keys_have_timestamps();
        Ok(IndexInfo { user_keys: p.index_has_user_keys(), format, first_key, partitioned, timestamps })
    }

    /// Order to seek index keys by a user key (its newest version).
    pub fn seek_order(&self) -> KeyOrder {
        self.seek_order_at(u64::MAX)
    }

    /// Order to seek index keys by a user key (without timestamp) read at `read_ts`: in a table with
    /// timestamps, the first version whose timestamp is ≤ `read_ts`; elsewhere `read_ts` does not matter.
    pub fn seek_order_at(&self, read_ts: u64) -> KeyOrder {
        match (self.user_keys, self.timestamps) {
            (true, false) => KeyOrder::Bytewise,
            (false, false) => KeyOrder::InternalByUser,
            (true, true) => KeyOrder::UserTs { read_ts },
            (false, true) => KeyOrder::InternalByUserTs { read_ts },
        }
    }

    /// The data-block handle an index cursor points at (`value` is the cursor's current value).
    pub fn handle(&self, cursor: &BlockCursor, value: &[u8]) -> Result<BlockHandle> {
        match self.format {
            EntryFormat::DeltaHandle { .. } => Ok(cursor.handle()),
            EntryFormat::LengthPrefixed => {
                let (h, _) = BlockHandle::decode(value).map_err(|e| e.at(Part::Index, 0))?;
                Ok(h)
            }
        }
    }
}

/// Positions on the index entry for the data block that may hold `user_key` and returns its handle
/// (`None` when `user_key` is past the last block).
pub fn index_seek(
    index: &Block<'_>,
    info: IndexInfo,
    user_key: &[u8],
    key: &mut impl KeyBuf,
) -> Result<Option<BlockHandle>> {
    let mut cur = BlockCursor::new();
    cur.seek(index, key, user_key, info.seek_order())?;
    if !cur.valid() {
        return Ok(None);
    }
    info.handle(&cur, cur.value(index)).map(Some)
}

/// Calls `f` with each data-block handle of the index, from the block that may hold `start` (or the first).
pub fn for_each_block(
    index: &Block<'_>,
    info: IndexInfo,
    start: Option<&[u8]>,
    key: &mut impl KeyBuf,
    mut f: impl FnMut(BlockHandle) -> Result<bool>,
) -> Result<()> {
    let mut cur = BlockCursor::new();
    match start {
        Some(s) => cur.seek(index, key, s, info.seek_order())?,
        None => cur.seek_to_first(index, key)?,
    }
    while cur.valid() {
        if !f(info.handle(&cur, cur.value(index))?)? {
            break;
        }
        cur.next(index, key)?;
    }
    Ok(())
}

/// Calls `f(index key, handle, first key)` for every index entry, in order (the first key is present for
/// index type 3).
pub fn for_each_index_entry(
    index: &Block<'_>,
    info: IndexInfo,
    key: &mut impl KeyBuf,
    mut f: impl FnMut(&[u8], BlockHandle, Option<&[u8]>) -> Result<()>,
) -> Result<()> {
    let mut cur = BlockCursor::new();
    cur.seek_to_first(index, key)?;
    while cur.valid() {
        let value = cur.value(index);
        let handle = info.handle(&cur, value)?;
        let first = if info.first_key { first_key_of(value, info)? } else { None };
        f(key.as_slice(), handle, first)?;
        cur.next(index, key)?;
    }
    Ok(())
}

/// The first key stored after the handle in an index type 3 value.
fn first_key_of(value: &[u8], info: IndexInfo) -> Result<Option<&[u8]>> {
    let mut r = crate::varint::Reader::new(value);
    match info.format {
        crate::block::EntryFormat::LengthPrefixed => {
            r.varint64()?;
            r.varint64()?;
        }
        crate::block::EntryFormat::DeltaHandle { .. } => {
            // A full handle at restarts (two varints), a size delta elsewhere (one); the value is exactly
            // handle part + length-prefixed key, so try the two-varint reading first.
            let mut two = r.clone();
            if two.varint64().is_ok() && two.varint64().is_ok() {
                if let Ok(k) = two.clone().length_prefixed() {
                    if two.position() + crate::varint::varint_len(k.len() as u64) + k.len() == value.len() {
                        return Ok(Some(k));
                    }
                }
            }
            r.varint64()?;
        }
    }
    Ok(Some(r.length_prefixed()?))
}
