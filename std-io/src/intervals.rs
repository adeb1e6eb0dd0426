//! Sets of disjoint key intervals `[start, end)` (start → end in a `BTreeMap`, no two overlapping or touching):
//! how the [`RollingWriter`](crate::rolling::RollingWriter) keeps range deletions (all of one seqno, so their
//! union deletes what they delete) until it knows which file each part belongs to.

use std::collections::BTreeMap;
use std::ops::Bound;

/// Adds `[s, e)` to a set of disjoint, non-touching intervals, merging what it overlaps or touches.
pub(crate) fn add_interval(set: &mut BTreeMap<Vec<u8>, Vec<u8>>, s: &[u8], e: &[u8]) {
    let (mut s, mut e) = (s.to_vec(), e.to_vec());
    if let Some((ps, pe)) = set.range::<[u8], _>((Bound::Unbounded, Bound::Included(&s[..]))).next_back() {
        if *pe >= s {
            if *pe > e {
                e = pe.clone();
            }
            s = ps.clone();
        }
    }
    let inside: Vec<Vec<u8>> =
        set.range::<[u8], _>((Bound::Included(&s[..]), Bound::Included(&e[..]))).map(|(k, _)| k.clone()).collect();
    for k in inside {
        if let Some(v) = set.remove(&k) {
            if v > e {
                e = v;
            }
        }
    }
    set.insert(s, e);
}

/// Removes and returns (in order) the parts of `set` below `c` (everything when `c` is `None`).
pub(crate) fn take_below(set: &mut BTreeMap<Vec<u8>, Vec<u8>>, c: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    let Some(c) = c else { return std::mem::take(set).into_iter().collect() };
    let keep = set.split_off(c);
    let mut below: Vec<(Vec<u8>, Vec<u8>)> = std::mem::replace(set, keep).into_iter().collect();
    if let Some((_, e)) = below.last_mut() {
        if e.as_slice() > c {
            set.insert(c.to_vec(), std::mem::replace(e, c.to_vec()));
        }
    }
    below
}

/// The parts of `set` inside `[lo, hi)` (`None`: unbounded).
pub(crate) fn clip(set: &BTreeMap<Vec<u8>, Vec<u8>>, lo: Option<&[u8]>, hi: Option<&[u8]>) -> Vec<(Vec<u8>, Vec<u8>)> {
    set.iter()
        .filter_map(|(s, e)| {
            let s = match lo {
                Some(lo) if s.as_slice() < lo => lo,
                _ => s.as_slice(),
            };
            let e = match hi {
                Some(hi) if e.as_slice() > hi => hi,
                _ => e.as_slice(),
            };
            (s < e).then(|| (s.to_vec(), e.to_vec()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(v: &[(&str, &str)]) -> BTreeMap<Vec<u8>, Vec<u8>> {
        v.iter().map(|(s, e)| (s.as_bytes().to_vec(), e.as_bytes().to_vec())).collect()
    }

    #[test]
    fn intervals_merge_and_split() {
        let mut m = BTreeMap::new();
        add_interval(&mut m, b"m", b"p");
        add_interval(&mut m, b"a", b"c");
        add_interval(&mut m, b"x", b"z");
        assert_eq!(m, set(&[("a", "c"), ("m", "p"), ("x", "z")]));
        add_interval(&mut m, b"b", b"n");
        assert_eq!(m, set(&[("a", "p"), ("x", "z")]));
        add_interval(&mut m, b"p", b"q"); // touching merges
        add_interval(&mut m, b"y", b"ya");
        assert_eq!(m, set(&[("a", "q"), ("x", "z")]));
        let below = take_below(&mut m, Some(b"c"));
        assert_eq!(below, vec![(b"a".to_vec(), b"c".to_vec())]);
        assert_eq!(m, set(&[("c", "q"), ("x", "z")]));
        assert_eq!(
            clip(&m, Some(b"d"), Some(b"y")),
            vec![(b"d".to_vec(), b"q".to_vec()), (b"x".to_vec(), b"y".to_vec())]
        );
        assert_eq!(take_below(&mut m, None).len(), 2);
        assert!(m.is_empty());
    }
}
