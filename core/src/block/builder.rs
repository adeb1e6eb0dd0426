//! Writes one block: prefix-compressed entries with restart points, into a caller buffer.

use crate::error::{Error, Result};
use crate::varint::{encode_varint32, varint_len};

/// How an entry's value is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ValueFraming {
    /// `shared, non_shared, value_len` varints, key delta, value (every block but delta-encoded indexes).
    #[default]
    LengthPrefixed,
    /// `shared, non_shared` only: the value follows the key and frames itself (RocksDB's delta-encoded index
    /// block; its values are block handles).
    SelfDelimiting,
}

/// The bookkeeping of a block under construction, kept apart from its buffer so that an owner that moves
/// buffers around (the table builder) can hold it without borrowing. Most callers want [`BlockBuilder`].
///
/// Entries grow from the front of the buffer. The restart offsets and a copy of the last key (needed for prefix
/// compression) are kept at the back, so one buffer is all a block needs.
#[derive(Debug, Clone, Copy)]
pub struct BlockState {
    len: usize,
    num_restarts: usize,
    restart_interval: usize,
    since_restart: usize,
    entries: usize,
    last_key_len: usize,
    framing: ValueFraming,
}

impl BlockState {
    /// An empty block with a restart point every `restart_interval` entries (at least 1).
    pub const fn new(restart_interval: usize, framing: ValueFraming) -> Self {
        BlockState {
            len: 0,
            num_restarts: 0,
            restart_interval: if restart_interval == 0 { 1 } else { restart_interval },
            since_restart: 0,
            entries: 0,
            last_key_len: 0,
            framing,
        }
    }

    /// Forgets all entries (same interval and framing).
    pub fn reset(&mut self) {
        *self = BlockState::new(self.restart_interval, self.framing);
    }

    /// Entries added so far.
    pub fn entries(&self) -> usize {
        self.entries
    }

    /// True if nothing was added.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.entries == 0
    }

    /// Size of the block if it were finished now.
    #[inline]
    pub fn size_estimate(&self) -> usize {
        self.len + 4 * self.num_restarts.max(1) + 4
    }

    /// Size of the block after adding an entry with this key and value (assuming no shared prefix).
    #[inline]
    pub fn size_after(&self, key_len: usize, value_len: usize) -> usize {
        let restarts = self.num_restarts.max(1) + usize::from(self.since_restart >= self.restart_interval);
        self.len + 3 * 5 + key_len + value_len + 4 * restarts + 4
    }

    /// Bytes at the back of the buffer in use (restart offsets and the last-key copy).
    pub fn tail_len(&self) -> usize {
        4 * self.num_restarts + self.last_key_len
    }

    /// Bytes at the front of the buffer in use (entries).
    pub fn head_len(&self) -> usize {
        self.len
    }

    /// Buffer bytes needed to add this entry now (`needed` of the `BufferTooSmall` that `add` would return).
    pub fn needed_for(&self, last_key: &[u8], key: &[u8], value_len: usize) -> usize {
        let restart = self.entries == 0 || self.since_restart >= self.restart_interval;
        let shared = if restart { 0 } else { common_prefix(last_key, key) };
        self.needed_with(restart, shared, key.len(), value_len)
    }

    /// [`needed_for`](Self::needed_for) once the restart decision and the shared prefix are known.
    #[inline]
    fn needed_with(&self, restart: bool, shared: usize, key_len: usize, value_len: usize) -> usize {
        let non_shared = key_len - shared;
        let header = varint_len(shared as u64)
            + varint_len(non_shared as u64)
            + match self.framing {
                ValueFraming::LengthPrefixed => varint_len(value_len as u64),
                ValueFraming::SelfDelimiting => 0,
            };
        let restarts_after = self.num_restarts + usize::from(restart);
        self.len + header + non_shared + value_len + 4 * restarts_after + key_len + 4
    }

    /// The last key added, from `buf`.
    #[inline]
    pub fn last_key<'b>(&self, buf: &'b [u8]) -> &'b [u8] {
        let end = buf.len() - 4 * self.num_restarts;
        &buf[end - self.last_key_len..end]
    }

    /// The prefix [`BlockState::add`] would share between `key` and the previous key: 0 at a restart point.
    /// Delta-encoded index blocks choose the value's encoding by it.
    pub fn shared_with(&self, buf: &[u8], key: &[u8]) -> usize {
        if self.entries == 0 || self.since_restart >= self.restart_interval {
            0
        } else {
            common_prefix(self.last_key(buf), key)
        }
    }

    /// Appends an entry to the block in `buf`. Keys must come in the block's order; this does not check it.
    ///
    /// On [`Error::BufferTooSmall`] nothing changed and `needed` is the buffer size that would hold the block.
    #[inline]
    pub fn add(&mut self, buf: &mut [u8], key: &[u8], value: &[u8]) -> Result<()> {
        let restart = self.entries == 0 || self.since_restart >= self.restart_interval;
        let shared = if restart { 0 } else { common_prefix(self.last_key(buf), key) };
        let non_shared = key.len() - shared;
        // An upper bound (15 header bytes) settles the common case without sizing three varints.
        let bound = self.len + 15 + non_shared + value.len() + 4 * (self.num_restarts + 1) + key.len() + 4;
        if bound > buf.len() || key.len() > u32::MAX as usize || value.len() > u32::MAX as usize {
            let needed = self.needed_with(restart, shared, key.len(), value.len());
            if needed > buf.len() || key.len() > u32::MAX as usize || value.len() > u32::MAX as usize {
                return Err(Error::BufferTooSmall { needed });
            }
        }
        // The old last-key copy may be overwritten from here on: everything below reads the arguments only.
        let mut p = self.len;
        let length_prefixed = self.framing == ValueFraming::LengthPrefixed;
        if length_prefixed && (shared | non_shared | value.len()) < 0x80 {
            // Short keys and values: three one-byte lengths.
            buf[p..p + 3].copy_from_slice(&[shared as u8, non_shared as u8, value.len() as u8]);
            p += 3;
        } else {
            p += encode_varint32(shared as u32, &mut buf[p..])?;
            p += encode_varint32(non_shared as u32, &mut buf[p..])?;
            if length_prefixed {
                p += encode_varint32(value.len() as u32, &mut buf[p..])?;
            }
        }
        buf[p..p + non_shared].copy_from_slice(&key[shared..]);
        p += non_shared;
        buf[p..p + value.len()].copy_from_slice(value);
        p += value.len();
        if restart {
            // Restart i lives at cap - 4 * (i + 1): the array grows down from the end.
            let at = buf.len() - 4 * (self.num_restarts + 1);
            buf[at..at + 4].copy_from_slice(&(self.len as u32).to_le_bytes());
            self.num_restarts += 1;
            self.since_restart = 0;
        }
        let key_end = buf.len() - 4 * self.num_restarts;
        buf[key_end - key.len()..key_end].copy_from_slice(key);
        self.last_key_len = key.len();
        self.len = p;
        self.since_restart += 1;
        self.entries += 1;
        Ok(())
    }

    /// Finishes the block in place (entries, restart offsets, restart count) and returns its length; the state
    /// is reset for the next block.
    pub fn finish(&mut self, buf: &mut [u8]) -> usize {
        let (len, num_restarts) = (self.len, self.num_restarts);
        self.reset();
        let cap = buf.len();
        if num_restarts == 0 {
            // An empty block still has one restart at offset 0.
            buf[..8].copy_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
            return 8;
        }
        // Reverse the down-growing array so offsets ascend, then move it right after the entries.
        let start = cap - 4 * num_restarts;
        for i in 0..num_restarts / 2 {
            let a = start + 4 * i;
            let b = cap - 4 * (i + 1);
            for k in 0..4 {
                buf.swap(a + k, b + k);
            }
        }
        buf.copy_within(start..cap, len);
        let end = len + 4 * num_restarts;
        buf[end..end + 4].copy_from_slice(&(num_restarts as u32).to_le_bytes());
        end + 4
    }
}

/// Builds one block inside a caller buffer.
///
/// [`finish`](Self::finish) moves the restart array into place and returns the finished block.
#[derive(Debug)]
pub struct BlockBuilder<'b> {
    buf: &'b mut [u8],
    state: BlockState,
}

impl<'b> BlockBuilder<'b> {
    /// A builder writing into `buf`, with a restart point every `restart_interval` entries (at least 1).
    pub fn new(buf: &'b mut [u8], restart_interval: usize) -> Self {
        Self::with_framing(buf, restart_interval, ValueFraming::LengthPrefixed)
    }

    /// A builder with a chosen [`ValueFraming`].
    pub fn with_framing(buf: &'b mut [u8], restart_interval: usize, framing: ValueFraming) -> Self {
        BlockBuilder { buf, state: BlockState::new(restart_interval, framing) }
    }

    /// Entries added so far.
    pub fn entries(&self) -> usize {
        self.state.entries()
    }

    /// True if nothing was added.
    pub fn is_empty(&self) -> bool {
        self.state.is_empty()
    }

    /// Size of the block if it were finished now.
    pub fn size_estimate(&self) -> usize {
        self.state.size_estimate()
    }

    /// The last key added.
    pub fn last_key(&self) -> &[u8] {
        self.state.last_key(self.buf)
    }

    /// Appends an entry; see [`BlockState::add`].
    pub fn add(&mut self, key: &[u8], value: &[u8]) -> Result<()> {
        self.state.add(self.buf, key, value)
    }

    /// Finishes the block in place and returns it: entries, restart offsets, restart count.
    pub fn finish(self) -> &'b [u8] {
        let BlockBuilder { buf, mut state } = self;
        let n = state.finish(buf);
        &buf[..n]
    }
}

/// Length of the common prefix of two byte strings.
#[inline]
pub fn common_prefix(a: &[u8], b: &[u8]) -> usize {
    let n = a.len().min(b.len());
    // Compare 8 bytes at a time; keys often share long prefixes.
    let mut i = 0;
    while i + 8 <= n {
        let x = u64::from_le_bytes(a[i..i + 8].try_into().unwrap_or([0; 8]));
        let y = u64::from_le_bytes(b[i..i + 8].try_into().unwrap_or([0; 8]));
        let d = x ^ y;
        if d != 0 {
            return i + (d.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < n && a[i] == b[i] {
        i += 1;
    }
    i
}

/// Bytes needed for an empty block.
pub const EMPTY_BLOCK_LEN: usize = 8;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_block_is_eight_bytes() {
        let mut buf = [0xaau8; 16];
        let b = BlockBuilder::new(&mut buf, 16);
        assert_eq!(b.finish(), &[0, 0, 0, 0, 1, 0, 0, 0]);
    }

    #[test]
    fn layout_of_two_entries() {
        let mut buf = [0u8; 64];
        let mut b = BlockBuilder::new(&mut buf, 16);
        b.add(b"apple", b"1").unwrap();
        b.add(b"apricot", b"22").unwrap();
        let out = b.finish();
        let mut want = std::vec::Vec::new();
        want.extend_from_slice(&[0, 5, 1]);
        want.extend_from_slice(b"apple1");
        want.extend_from_slice(&[2, 5, 2]);
        want.extend_from_slice(b"ricot22");
        want.extend_from_slice(&[0, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(out, want.as_slice());
    }

    #[test]
    fn restarts_ascend_and_prefixes_reset() {
        let mut buf = [0u8; 256];
        let mut b = BlockBuilder::new(&mut buf, 2);
        for k in [&b"k1"[..], b"k2", b"k3", b"k4", b"k5"] {
            b.add(k, b"").unwrap();
        }
        let out = b.finish();
        let n = out.len();
        assert_eq!(u32::from_le_bytes(out[n - 4..].try_into().unwrap()), 3);
        let r: [u32; 3] =
            core::array::from_fn(|i| u32::from_le_bytes(out[n - 16 + 4 * i..n - 12 + 4 * i].try_into().unwrap()));
        assert_eq!(r, [0, 9, 18]);
        assert_eq!(&out[9..14], &[0, 2, 0, b'k', b'3']);
    }

    #[test]
    fn too_small_says_what_is_needed_and_keeps_state() {
        let mut buf = [0u8; 24];
        let mut b = BlockBuilder::new(&mut buf, 16);
        b.add(b"a", b"x").unwrap();
        let e = b.add(b"bbbbbbbbbb", b"yyyyyyyy").unwrap_err();
        let Error::BufferTooSmall { needed } = e else { panic!("{e:?}") };
        assert!(needed > 24);
        assert_eq!(b.entries(), 1);
        assert_eq!(b.last_key(), b"a");
        b.add(b"b", b"").unwrap();
        assert_eq!(b.finish().len(), 4 + 3 + 2 + 8);
    }

    #[test]
    fn common_prefix_lengths() {
        assert_eq!(common_prefix(b"", b"abc"), 0);
        assert_eq!(common_prefix(b"abcdefghij", b"abcdefghiX"), 9);
        assert_eq!(common_prefix(b"abcdefghijklmnop", b"abcdefghijklmnop"), 16);
        assert_eq!(common_prefix(b"abcdefgh1", b"abcdeXgh1"), 5);
    }
}
