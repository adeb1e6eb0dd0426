//! Point lookups and entry decoding over single blocks, shared by the in-memory table and ranged readers.

use crate::block::{Block, BlockCursor, KeyOrder};
use crate::error::{Part, Result};
use crate::handle::BlockHandle;
use crate::key::{split_internal_key, ValueType};
use crate::keybuf::KeyBuf;
use crate::table::cursor::Entry;
use crate::table::reader::{IndexInfo, Lookup};

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

/// Decodes an entry from its stored internal key and value, applying a global seqno.
pub fn decode_entry<'e>(internal_key: &'e [u8], value: &'e [u8], global_seqno: Option<u64>) -> Result<Entry<'e>> {
    let (user_key, trailer) = split_internal_key(internal_key)?;
    let kind = ValueType::parse(trailer as u8).map_err(|e| e.at(Part::DataBlock, 0))?;
    Ok(Entry { user_key, seqno: global_seqno.unwrap_or(trailer >> 8), kind, value })
}

/// Looks `user_key` up in one uncompressed data block: its newest entry, if the block holds it.
pub fn block_lookup<'b>(
    block_bytes: &'b [u8],
    user_key: &[u8],
    key: &mut impl KeyBuf,
    global_seqno: Option<u64>,
) -> Result<Option<Lookup<'b>>> {
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    cur.seek(&block, key, user_key, KeyOrder::InternalByUser)?;
    if !cur.valid() {
        return Ok(None);
    }
    let e = decode_entry(key.as_slice(), cur.value(&block), global_seqno)?;
    if e.user_key != user_key {
        return Ok(None);
    }
    Ok(Some(Lookup { seqno: e.seqno, kind: e.kind, value: cur.value(&block) }))
}

/// Calls `f` with every entry of one uncompressed data block from the first with user key ≥ `start`, until
/// `f` returns false. Returns false if `f` stopped early.
pub fn for_each_in_block(
    block_bytes: &[u8],
    start: Option<&[u8]>,
    key: &mut impl KeyBuf,
    global_seqno: Option<u64>,
    mut f: impl FnMut(Entry<'_>) -> Result<bool>,
) -> Result<bool> {
    let block = Block::parse(block_bytes)?;
    let mut cur = BlockCursor::new();
    match start {
        Some(s) => cur.seek(&block, key, s, KeyOrder::InternalByUser)?,
        None => cur.seek_to_first(&block, key)?,
    }
    while cur.valid() {
        let e = decode_entry(key.as_slice(), cur.value(&block), global_seqno)?;
        if !f(e)? {
            return Ok(false);
        }
        cur.next(&block, key)?;
    }
    Ok(true)
}
