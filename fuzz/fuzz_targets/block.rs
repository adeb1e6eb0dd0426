//! Raw bytes → `Block::parse_with` in every entry format, full forward and backward iteration, seeks.
//!
//! Input: a flags byte, a seek-key length byte, the seek key, then the block.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::block::{Block, BlockIter, EntryFormat, KeyOrder};
use sstkit_core::keybuf::{KeyBuf, SliceKeyBuf};
use sstkit_fuzz::MAX_STEPS;

fn walk<K: KeyBuf>(mut it: BlockIter<'_, K>, order: KeyOrder, targets: &[&[u8]]) {
    let mut forward = 0usize;
    if it.seek_to_first().is_ok() {
        while it.valid() && forward < MAX_STEPS {
            let _ = (it.key(), it.value(), it.handle());
            if it.next().is_err() {
                break;
            }
            forward += 1;
        }
    }
    if it.seek_to_last().is_ok() {
        let mut steps = 0;
        while it.valid() && steps < MAX_STEPS {
            let _ = (it.key(), it.value(), it.handle());
            if it.prev().is_err() {
                break;
            }
            steps += 1;
        }
    }
    for t in targets {
        if it.seek(t).is_ok() && it.valid() {
            assert_ne!(order.compare(it.key(), t), core::cmp::Ordering::Less, "seek landed before its target");
            let _ = it.prev();
            let _ = it.next();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else { return };
    let Some((&klen, rest)) = rest.split_first() else { return };
    let klen = usize::from(klen).min(rest.len());
    let (target, bytes) = rest.split_at(klen);
    let order = match flags % 3 {
        0 => KeyOrder::Bytewise,
        1 => KeyOrder::Internal,
        _ => KeyOrder::InternalByUser,
    };
    for format in [
        EntryFormat::LengthPrefixed,
        EntryFormat::DeltaHandle { first_key: false },
        EntryFormat::DeltaHandle { first_key: true },
    ] {
        let Ok(block) = Block::parse_with(bytes, format) else { continue };
        let _ = (block.num_restarts(), block.data(), block.is_empty());
        // The layout must rebuild the same block over the same bytes, and never panic over other bytes.
        let again = Block::from_layout(bytes, block.layout()).expect("own layout");
        assert_eq!(again.data(), block.data());
        let _ = Block::from_layout(target, block.layout());
        let targets: [&[u8]; 3] = [target, b"", &[0xff; 9]];
        walk(block.iter(order, Vec::new()), order, &targets);
        walk(block.iter(order, heapless_like()), order, &targets);
        let mut raw = [0u8; 24];
        walk(block.iter(order, SliceKeyBuf::new(&mut raw)), order, &targets);
    }
});

/// A small fixed-capacity key buffer (keys longer than it error).
fn heapless_like() -> SmallKey {
    SmallKey { buf: [0; 16], len: 0 }
}

struct SmallKey {
    buf: [u8; 16],
    len: usize,
}

impl KeyBuf for SmallKey {
    fn as_slice(&self) -> &[u8] {
        &self.buf[..self.len]
    }
    fn replace_tail(&mut self, keep: usize, tail: &[u8]) -> sstkit_core::Result<()> {
        let keep = keep.min(self.len);
        let end = keep + tail.len();
        let dst = self.buf.get_mut(keep..end).ok_or(sstkit_core::Error::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(tail);
        self.len = end;
        Ok(())
    }
}
