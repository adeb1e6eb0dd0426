//! Buffers that hold a rebuilt key while iterating (keys in a block are prefix-compressed).

use crate::error::{Error, Result};

/// Somewhere to rebuild keys: a fixed array, a caller slice, or (with `alloc`) a `Vec`.
pub trait KeyBuf {
    /// The key held now.
    fn as_slice(&self) -> &[u8];
    /// Keeps the first `keep` bytes (≤ the current length) and appends `tail`.
    ///
    /// Fails with [`Error::BufferTooSmall`] when the result does not fit; the contents are then unspecified.
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> Result<()>;
    /// Replaces the whole key.
    fn set(&mut self, key: &[u8]) -> Result<()> {
        self.replace_tail(0, key)
    }
}

impl<const N: usize> KeyBuf for heapless::Vec<u8, N> {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> Result<()> {
        self.truncate(keep);
        self.extend_from_slice(tail).map_err(|_| Error::BufferTooSmall { needed: keep + tail.len() })
    }
}

/// A [`KeyBuf`] over a caller slice.
#[derive(Debug)]
pub struct SliceKeyBuf<'k> {
    buf: &'k mut [u8],
    len: usize,
}

impl<'k> SliceKeyBuf<'k> {
    /// Uses `buf` as key storage; keys longer than it fail with `BufferTooSmall`.
    pub fn new(buf: &'k mut [u8]) -> Self {
        SliceKeyBuf { buf, len: 0 }
    }
}

impl KeyBuf for SliceKeyBuf<'_> {
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> Result<()> {
        let keep = keep.min(self.len);
        let end = keep + tail.len();
        let Some(dst) = self.buf.get_mut(keep..end) else {
            return Err(Error::BufferTooSmall { needed: end });
        };
        dst.copy_from_slice(tail);
        self.len = end;
        Ok(())
    }
}

impl<K: KeyBuf + ?Sized> KeyBuf for &mut K {
    fn as_slice(&self) -> &[u8] {
        (**self).as_slice()
    }
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> Result<()> {
        (**self).replace_tail(keep, tail)
    }
}

#[cfg(feature = "alloc")]
impl KeyBuf for alloc::vec::Vec<u8> {
    fn as_slice(&self) -> &[u8] {
        self
    }
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> Result<()> {
        self.truncate(keep);
        self.extend_from_slice(tail);
        Ok(())
    }
}

/// The key buffer used where no caller buffer is given: 2 KiB on the stack without `alloc`, a `Vec` with it.
#[cfg(not(feature = "alloc"))]
pub type DefaultKeyBuf = heapless::Vec<u8, 2048>;
/// The key buffer used where no caller buffer is given: 2 KiB on the stack without `alloc`, a `Vec` with it.
#[cfg(feature = "alloc")]
pub type DefaultKeyBuf = alloc::vec::Vec<u8>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slice_and_heapless_agree() {
        let mut raw = [0u8; 8];
        let mut a = SliceKeyBuf::new(&mut raw);
        let mut b: heapless::Vec<u8, 8> = heapless::Vec::new();
        for kb in [&mut a as &mut dyn KeyBuf, &mut b] {
            kb.set(b"abcd").unwrap();
            kb.replace_tail(2, b"xyz").unwrap();
            assert_eq!(kb.as_slice(), b"abxyz");
            assert_eq!(kb.replace_tail(5, b"1234"), Err(Error::BufferTooSmall { needed: 9 }));
        }
    }
}
