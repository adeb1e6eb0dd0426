//! The builder's working memory: a caller slice, or a `Vec` that grows.

/// Memory the table builder keeps its pending blocks, index entries and filter hashes in.
///
/// `&mut [u8]` and `[u8; N]` never grow: when they are full the builder returns
/// [`Error::BufferTooSmall`](crate::Error::BufferTooSmall) and nothing already added is lost. With the `alloc`
/// feature, `Vec<u8>` grows on its own.
pub trait Workspace {
    /// The whole workspace.
    fn bytes(&self) -> &[u8];
    /// The whole workspace, writable.
    fn bytes_mut(&mut self) -> &mut [u8];
    /// Grows to at least `len` bytes, keeping the contents; false if it cannot.
    fn try_grow(&mut self, len: usize) -> bool;
    /// Like [`try_grow`](Self::try_grow), for a last growth: no room for later ones is needed.
    fn try_grow_exact(&mut self, len: usize) -> bool {
        self.try_grow(len)
    }
}

impl Workspace for &mut [u8] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    fn try_grow(&mut self, len: usize) -> bool {
        len <= self.len()
    }
}

impl<const N: usize> Workspace for [u8; N] {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    fn try_grow(&mut self, len: usize) -> bool {
        len <= N
    }
}

#[cfg(feature = "alloc")]
impl Workspace for alloc::vec::Vec<u8> {
    fn bytes(&self) -> &[u8] {
        self
    }
    fn bytes_mut(&mut self) -> &mut [u8] {
        self
    }
    fn try_grow(&mut self, len: usize) -> bool {
        if len > self.len() {
            // Grow by half at least: O(log n) moves over a long build, and less idle (yet zeroed, so resident)
            // memory than doubling.
            let target = len.max(self.len().saturating_add(self.len() / 2));
            if self.try_reserve_exact(target - self.len()).is_err() {
                return false;
            }
            self.resize(target, 0);
        }
        true
    }
    fn try_grow_exact(&mut self, len: usize) -> bool {
        if len > self.len() {
            if self.try_reserve_exact(len - self.len()).is_err() {
                return false;
            }
            self.resize(len, 0);
        }
        true
    }
}
