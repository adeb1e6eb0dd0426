//! Index separators: the shortest key between a block's last key and the next block's first key.

use crate::key::ValueType;

/// RocksDB's `kValueTypeForSeek` (7.x): the type byte of shortened index separators.
pub(super) const VALUE_TYPE_FOR_SEEK: ValueType = ValueType::WideColumnEntity;

/// Length of the shortest separator between two different user keys (see [`crate::key::shortest_separator`]).
pub(super) fn separator_len(start: &[u8], limit: &[u8]) -> usize {
    let min = start.len().min(limit.len());
    let diff = crate::block::common_prefix(start, limit);
    if diff < min {
        let b = start[diff];
        if b < 0xff && b + 1 < limit[diff] {
            return diff + 1;
        }
    }
    start.len()
}

#[cfg(test)]
mod tests {
    use super::separator_len;

    #[test]
    fn shortens_only_when_a_byte_can_be_bumped() {
        assert_eq!(separator_len(b"abcdef", b"abzzzz"), 3, "abd");
        assert_eq!(separator_len(b"abc", b"abd"), 3, "c + 1 == d: no room");
        assert_eq!(separator_len(b"a\xff", b"c"), 1, "bump the first byte that differs");
        assert_eq!(separator_len(b"a\xff", b"b"), 2, "a + 1 == b: no room");
        assert_eq!(separator_len(b"ab", b"abc"), 2, "a prefix stays whole");
        let mut out = [0u8; 8];
        let n = crate::key::shortest_separator(b"abcdef", b"abzzzz", &mut out);
        assert_eq!((n, &out[..n]), (separator_len(b"abcdef", b"abzzzz"), &b"abd"[..]));
    }
}
