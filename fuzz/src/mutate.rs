//! Damage done to a valid table by the `*_mutated` targets: flips, byte sets, insertions, removals, truncation.

use arbitrary::Arbitrary;

/// One change to a file.
#[derive(Arbitrary, Debug)]
pub enum Mutation {
    Flip { at: u32, mask: u8 },
    Set { at: u32, byte: u8 },
    Insert { at: u32, bytes: Vec<u8> },
    Remove { at: u32, len: u16 },
    Truncate { len: u32 },
}

/// Applies `m` to `file` (positions wrap around the current length).
pub fn apply(file: &mut Vec<u8>, m: &Mutation) {
    let pos = |at: u32, len: usize| if len == 0 { 0 } else { at as usize % len };
    match m {
        Mutation::Flip { at, mask } => {
            if !file.is_empty() {
                let p = pos(*at, file.len());
                file[p] ^= mask;
            }
        }
        Mutation::Set { at, byte } => {
            if !file.is_empty() {
                let p = pos(*at, file.len());
                file[p] = *byte;
            }
        }
        Mutation::Insert { at, bytes } => {
            let p = pos(*at, file.len() + 1);
            file.splice(p..p, bytes.iter().copied());
        }
        Mutation::Remove { at, len } => {
            let p = pos(*at, file.len() + 1);
            let e = (p + usize::from(*len)).min(file.len());
            file.drain(p..e);
        }
        Mutation::Truncate { len } => file.truncate(*len as usize % (file.len() + 1)),
    }
}
