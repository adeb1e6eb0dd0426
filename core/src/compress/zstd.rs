//! ZSTD blocks: one zstd frame (after RocksDB's varint32 length), decoded with `ruzstd`, which needs an
//! allocator for its window and tables.
//!
//! Memory stays bounded by the caller's buffer, not by what the frame declares: the accepted window is tied to
//! `out.len()`, and blocks are decoded a chunk at a time and drained into `out`, so a frame that produces more
//! than it claimed is caught after at most one window and one chunk.

use ruzstd::decoding::errors::FrameDecoderError;
use ruzstd::decoding::{BlockDecodingStrategy, Dictionary, FrameDecoder};
use ruzstd::io::Read;

use crate::error::{Error, Part, Result};

/// Output decoded per step before draining into `out` (a zstd block produces at most 128 KiB more).
const CHUNK: usize = 64 << 10;
/// Smallest window limit: zstd's largest block, which encoders such as ruzstd use as their window.
const MIN_WINDOW: usize = 128 << 10;

/// Starts a trained dictionary (entropy tables, repeat offsets, content).
const DICT_MAGIC: [u8; 4] = [0x37, 0xA4, 0x30, 0xEC];
/// Id we file a raw-content dictionary under; frames using one carry no id, so the value only has to be nonzero.
const RAW_DICT_ID: u32 = 1;
/// zstd's starting repeat offsets, which a raw-content dictionary leaves as they are.
const START_REPEAT_OFFSETS: [u32; 3] = [1, 4, 8];

/// The dictionary `dict` as ruzstd wants it: parsed when trained, wrapped as content when raw.
fn dictionary(dict: &[u8]) -> Result<Dictionary> {
    if dict.starts_with(&DICT_MAGIC) {
        return Dictionary::decode_dict(dict).map_err(|_| corrupt("invalid zstd dictionary"));
    }
    Ok(Dictionary {
        id: RAW_DICT_ID,
        fse: Default::default(),
        huf: Default::default(),
        dict_content: dict.to_vec(),
        offset_hist: START_REPEAT_OFFSETS,
    })
}

/// Decodes the zstd frame `payload` into `out`, whose length is the claimed uncompressed length; `dict` (maybe
/// empty) is the table's compression dictionary.
pub(super) fn decompress(payload: &[u8], dict: &[u8], out: &mut [u8]) -> Result<usize> {
    let mut dec = FrameDecoder::new();
    let dict_id = if dict.is_empty() {
        None
    } else {
        let d = dictionary(dict)?;
        let id = d.id;
        dec.add_dict(d).map_err(failure)?;
        Some(id)
    };
    // Decoding needs no history beyond the frame's own content, and libzstd sizes the window to the input
    // (a power of two ≥ it); allow twice that, so a hostile header cannot make ruzstd buffer more.
    let window = out.len().max(MIN_WINDOW).checked_next_power_of_two().unwrap_or(usize::MAX).saturating_mul(2);
    dec.set_max_window_size(window as u64);
    let mut src = payload;
    dec.reset(&mut src).map_err(failure)?;
    // RocksDB's frames may omit the dictionary id (and raw-content ones have none): use the table's anyway.
    // A frame naming a different id already failed in `reset`.
    if let Some(id) = dict_id {
        dec.force_dict(id).map_err(failure)?;
    }
    let mut written = 0;
    loop {
        dec.decode_blocks(&mut src, BlockDecodingStrategy::UptoBytes(CHUNK)).map_err(failure)?;
        let n = dec.read(&mut out[written..]).map_err(|_| corrupt("invalid zstd frame"))?;
        written += n;
        // `read` drained all it could into the room left; anything still collectable does not fit.
        if dec.can_collect() > 0 {
            return Err(corrupt("zstd data longer than the claimed length"));
        }
        if dec.is_finished() {
            break;
        }
    }
    if !src.is_empty() {
        return Err(corrupt("bytes after the zstd frame"));
    }
    Ok(written)
}

fn failure(e: FrameDecoderError) -> Error {
    match e {
        FrameDecoderError::WindowSizeTooBig { requested, .. } => Error::Unsupported {
            part: Part::Compression,
            what: "zstd window size for this block length",
            value: requested,
        },
        FrameDecoderError::DictNotProvided { dict_id } => {
            Error::Unsupported { part: Part::Compression, what: "zstd dictionary id", value: u64::from(dict_id) }
        }
        _ => corrupt("invalid zstd frame"),
    }
}

fn corrupt(reason: &'static str) -> Error {
    Error::corrupt(Part::Compression, 0, reason)
}
