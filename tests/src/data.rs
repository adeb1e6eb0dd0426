//! Deterministic test data.

use crate::tools::KeyValue;

/// Key lengths that cover every code path of RocksDB's XXPH3 filter hash
/// (0, 1–3, 4–8, 9–16, 17–128, 129–240, over 240) and their edges.
pub const KEY_LENGTHS: [usize; 19] = [1, 2, 3, 4, 5, 8, 9, 12, 16, 17, 33, 64, 128, 129, 200, 240, 241, 300, 1000];

/// `n` distinct entries (user key, value), sorted by key, deterministic for a
/// given `seed`. Includes the empty key, binary keys with every length in
/// [`KEY_LENGTHS`], keys sharing long prefixes, empty values and
/// compressible as well as incompressible values up to a few KiB.
pub fn sample_entries(n: usize, seed: u64) -> Vec<KeyValue> {
    let mut rng = XorShift(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut keys = std::collections::BTreeSet::new();
    if n > 0 {
        keys.insert(Vec::new());
    }
    let mut i = 0usize;
    while keys.len() < n {
        let key = match i % 3 {
            // Random bytes of a chosen length.
            0 => {
                let len = KEY_LENGTHS[(i / 3) % KEY_LENGTHS.len()];
                (0..len).map(|_| rng.next() as u8).collect()
            }
            // Readable keys with a shared prefix (exercise prefix compression).
            1 => format!("user/{:08}/profile", rng.next() % 1_000_000).into_bytes(),
            // Short binary keys, including 0x00 and 0xff bytes.
            _ => {
                let len = 1 + (rng.next() % 6) as usize;
                (0..len).map(|_| [0x00, 0xff, 0x7f, 0x80][(rng.next() % 4) as usize]).collect()
            }
        };
        keys.insert(key);
        i += 1;
    }
    keys.into_iter()
        .enumerate()
        .map(|(j, k)| {
            let value = match j % 4 {
                0 => Vec::new(),
                1 => format!("value-{j}-").repeat(1 + j % 40).into_bytes(),
                2 => (0..(rng.next() % 300) as usize).map(|_| rng.next() as u8).collect(),
                _ => vec![b'a' + (j % 26) as u8; (rng.next() % 4000) as usize],
            };
            (k, value)
        })
        .collect()
}

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}
