//! Builds, opens, scans and queries a small LZ4 table with a Bloom filter using only stack memory, on a
//! `no_std` target with no global allocator. If anything in `sstkit-core` allocated, this would not link
//! (`no global memory allocator found` / undefined `__rust_alloc`).
#![no_std]
#![no_main]

use core::hint::black_box;
use core::panic::PanicInfo;

use sstkit_core::keybuf::SliceKeyBuf;
use sstkit_core::sink::{EmbeddedIo, Sink, SliceSink};
use sstkit_core::{TableWriter, WriteError};
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::{CompressionType, Error};

#[panic_handler]
fn panic(_: &PanicInfo<'_>) -> ! {
    loop {
        core::hint::spin_loop();
    }
}

fn key(i: u32) -> [u8; 8] {
    let mut k = *b"k0000000";
    let mut n = i;
    for b in k[1..].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    k
}

fn value(i: u32) -> [u8; 16] {
    let mut v = *b"value-of-0000000";
    let mut n = i;
    for b in v[9..].iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
    v
}

/// Writes `n` keys (every 7th a deletion) into `sink`.
fn build<S: Sink>(sink: S, n: u32) -> Result<S, WriteError<S::Error>> {
    let mut workspace = [0u8; 32 * 1024];
    let opts = Options::default().block_size(1024).bloom_bits_per_key(10).compression(CompressionType::Lz4);
    let builder = TableBuilder::new(&mut workspace[..], opts)?;
    let mut w = TableWriter::new(builder, sink);
    for i in 0..n {
        if i % 7 == 0 {
            w.delete(&key(i))?;
        } else {
            w.put(&key(i), &value(i))?;
        }
    }
    let (_, sink) = w.finish()?;
    Ok(sink)
}

/// One error type for `run`: the codec's, or "the sink failed".
fn flat<E>(e: WriteError<E>) -> Error {
    match e {
        WriteError::Codec(e) => e,
        WriteError::Sink(_) => Error::InvalidArgument { reason: "sink failed" },
    }
}

/// A cheap fingerprint of the table bytes.
fn fingerprint(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Everything the binary checks; a checksum of what it read.
fn run(n: u32) -> Result<u64, Error> {
    let mut out = [0u8; 32 * 1024];
    // Through the embedded-io adapter (`&mut [u8]` is an `embedded_io::Write`) ...
    let rest = build(EmbeddedIo(&mut out[..]), n).map_err(flat)?.into_inner().len();
    let len = out.len() - rest;
    let via_embedded_io = fingerprint(&out[..len]);
    // ... and into one buffer: the same bytes.
    let len = build(SliceSink::new(&mut out), n).map_err(flat)?.len();
    if fingerprint(&out[..len]) != via_embedded_io {
        return Err(Error::InvalidArgument { reason: "sinks disagree" });
    }
    let table = Table::open(&out[..len])?;
    let mut sum = table.properties().num_entries.unwrap_or(0);

    let mut block_buf = [0u8; 4 * 1024];
    let mut index_key = [0u8; 64];
    let mut data_key = [0u8; 64];
    let mut cur = table.cursor(&mut block_buf[..], SliceKeyBuf::new(&mut index_key), SliceKeyBuf::new(&mut data_key));
    cur.seek_to_first()?;
    let mut seen = 0u32;
    while let Some(e) = cur.entry()? {
        if e.user_key != key(seen) {
            return Err(Error::InvalidArgument { reason: "scan out of step" });
        }
        sum = sum.wrapping_add(e.value.len() as u64);
        seen += 1;
        cur.next()?;
    }
    if seen != n {
        return Err(Error::InvalidArgument { reason: "scan lost entries" });
    }

    let mut buf = [0u8; 4 * 1024];
    for i in (0..n + 50).step_by(11) {
        match table.get(&key(i), &mut buf)? {
            Some(hit) if !hit.is_deleted() => {
                if hit.value != value(i) {
                    return Err(Error::InvalidArgument { reason: "wrong value" });
                }
                sum = sum.wrapping_add(u64::from(hit.value[15]));
            }
            Some(_) => sum = sum.wrapping_add(1),
            None if i < n => return Err(Error::InvalidArgument { reason: "key lost" }),
            None => {}
        }
    }
    sum = sum.wrapping_add(table.verify_all()?);
    Ok(sum)
}

/// The entry point: no runtime, no allocator. Linked with the target's default `rust-lld`, which starts at
/// `_start`.
#[no_mangle]
pub extern "C" fn _start() -> ! {
    let n = black_box(300u32);
    let result = run(n);
    black_box(&result);
    loop {
        core::hint::spin_loop();
    }
}
