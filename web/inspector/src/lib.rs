//! `sstkit-inspector`: the wasm module behind the browser SST inspector (`web/index.html`).
//!
//! A plain exported ABI, no wasm-bindgen: the page writes bytes into the module's input buffer
//! ([`sst_input`] returns where), calls an export with numbers, and reads the JSON answer (UTF-8) from
//! [`sst_output_ptr`], as long as the export's return value. File offsets cross as `f64` (exact below 2⁵³).
//!
//! The table never leaves the browser and is never read whole: the page reads the tail, then whatever an
//! answer's `{"need": [offset, len]}` names ([`sst_provide`] hands it over), then asks again. The state is one
//! opened table, [`session::Inspector`]; every format decision is sstkit-core's.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod session;
pub mod stats;

use std::cell::RefCell;

use serde_json::{json, Value};

use session::{error_json, Inspector, Opened, Step};

thread_local! {
    static INPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static OUTPUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    static SESSION: RefCell<Option<Box<Inspector>>> = const { RefCell::new(None) };
}

/// Largest offset a JavaScript number carries exactly.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// Writes `v` as the answer; returns its length.
fn answer(v: Value) -> u32 {
    answer_bytes(v.to_string().into_bytes())
}

/// Writes raw bytes as the answer; returns their length.
fn answer_bytes(bytes: Vec<u8>) -> u32 {
    OUTPUT.with(|o| {
        let mut o = o.borrow_mut();
        *o = bytes;
        o.len() as u32
    })
}

fn offset(x: f64) -> Result<u64, Value> {
    if (0.0..=MAX_SAFE).contains(&x) && x.fract() == 0.0 {
        Ok(x as u64)
    } else {
        Err(json!({"error": "offset out of range", "error_kind": "invalid"}))
    }
}

/// Runs `f` on the open table (an error answer when none is open).
fn with_session(f: impl FnOnce(&mut Inspector) -> Value) -> u32 {
    let v = SESSION.with(|s| match s.borrow_mut().as_deref_mut() {
        Some(i) => f(i),
        None => json!({"error": "no table is open", "error_kind": "invalid"}),
    });
    answer(v)
}

fn step(r: Result<Step<Value>, sstkit_core::Error>) -> Value {
    match r {
        Ok(Step::Done(v)) => v,
        Ok(Step::Need { offset, len }) => json!({"need": [offset, len]}),
        Err(e) => error_json(&e),
    }
}

fn done(r: Result<Value, sstkit_core::Error>) -> Value {
    r.unwrap_or_else(|e| error_json(&e))
}

/// The ABI. `#[no_mangle]` is what `deny(unsafe_code)` objects to here: the exports' names are the contract
/// with web/app.js; no unsafe operation is used.
#[allow(unsafe_code)]
mod abi {
    use super::*;

    /// Makes the input buffer `len` bytes long (zeroed) and returns where it starts in linear memory.
    #[no_mangle]
    pub extern "C" fn sst_input(len: u32) -> u32 {
        INPUT.with(|i| {
            let mut i = i.borrow_mut();
            i.clear();
            i.resize(len as usize, 0);
            i.as_ptr() as usize as u32
        })
    }

    /// Where the last answer starts in linear memory.
    #[no_mangle]
    pub extern "C" fn sst_output_ptr() -> u32 {
        OUTPUT.with(|o| o.borrow().as_ptr() as usize as u32)
    }

    /// Opens the table whose last bytes are in the input buffer (`file_len`: the file's size). Answers
    /// `{"need_from": offset}` when the metadata starts before those bytes (read from there to the end and
    /// open again), the summary when open, or the error (`error_kind` `unsupported` for a valid table using a
    /// feature sstkit does not read).
    #[no_mangle]
    pub extern "C" fn sst_open(file_len: f64) -> u32 {
        let file_len = match offset(file_len) {
            Ok(n) => n,
            Err(v) => return answer(v),
        };
        let tail = INPUT.with(|i| std::mem::take(&mut *i.borrow_mut()));
        let v = match Inspector::open(&tail, file_len) {
            Ok(Opened::Need { from }) => json!({"need_from": from}),
            Ok(Opened::Ready(t)) => {
                let v = done(t.summary());
                SESSION.with(|s| *s.borrow_mut() = Some(t));
                v
            }
            Err(e) => {
                SESSION.with(|s| *s.borrow_mut() = None);
                error_json(&e)
            }
        };
        answer(v)
    }

    /// The open table's summary ([`Inspector::summary`]).
    #[no_mangle]
    pub extern "C" fn sst_summary() -> u32 {
        with_session(|t| done(t.summary()))
    }

    /// The block map, packed ([`Inspector::blocks_packed`]): not JSON.
    #[no_mangle]
    pub extern "C" fn sst_blocks_packed() -> u32 {
        let packed = SESSION.with(|s| s.borrow().as_deref().map(Inspector::blocks_packed));
        match packed {
            Some(bytes) => answer_bytes(bytes),
            None => with_session(|_| Value::Null),
        }
    }

    /// Block `i` of the map ([`Inspector::block_info`]).
    #[no_mangle]
    pub extern "C" fn sst_block_info(i: u32) -> u32 {
        with_session(|t| t.block_info(i as usize))
    }

    /// Hands over the input buffer: the file's bytes from `at`, that an answer asked for.
    #[no_mangle]
    pub extern "C" fn sst_provide(at: f64) -> u32 {
        let bytes = INPUT.with(|i| std::mem::take(&mut *i.borrow_mut()));
        match offset(at) {
            Ok(at) => with_session(|t| {
                t.provide(at, bytes);
                json!({"ok": true})
            }),
            Err(v) => answer(v),
        }
    }

    /// Block `i` of the map and what it holds ([`Inspector::inspect`]).
    #[no_mangle]
    pub extern "C" fn sst_inspect(i: u32) -> u32 {
        with_session(|t| step(t.inspect(i as usize)))
    }

    /// Index entries `from..from + limit` ([`Inspector::index_entries`]).
    #[no_mangle]
    pub extern "C" fn sst_index_entries(from: u32, limit: u32) -> u32 {
        with_session(|t| done(t.index_entries(from as usize, limit as usize)))
    }

    /// Looks up the key in the input buffer, step by step ([`Inspector::lookup`]). The key stays in the
    /// input buffer, so the page can provide a block and ask again only after writing the key back.
    #[no_mangle]
    pub extern "C" fn sst_lookup() -> u32 {
        let key = INPUT.with(|i| i.borrow().clone());
        with_session(|t| step(t.lookup(&key)))
    }

    /// Verifies the blocks that lie whole in the input buffer, the file from `start`
    /// ([`Inspector::verify_chunk`]).
    #[no_mangle]
    pub extern "C" fn sst_verify_chunk(start: f64) -> u32 {
        let bytes = INPUT.with(|i| std::mem::take(&mut *i.borrow_mut()));
        match offset(start) {
            Ok(start) => with_session(|t| t.verify_chunk(start, &bytes)),
            Err(v) => answer(v),
        }
    }

    /// Statistics of the last verify pass ([`Inspector::stats`]).
    #[no_mangle]
    pub extern "C" fn sst_stats() -> u32 {
        with_session(|t| done(t.stats()))
    }
}

pub use abi::*;
