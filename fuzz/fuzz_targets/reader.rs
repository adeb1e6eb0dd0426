//! Raw bytes as a whole file on an in-memory object store → std-io's `SstReader`: open (a 64 KiB tail, and a
//! 100-byte tail that forces the second GET), get, forward scans, the block walk of the CLI's
//! `dump`/`verify`/`stats`, the listings; what core's `Table` also opens must read the same through both.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_fuzz::reader::{exercise_reader, ReaderSpec};

fuzz_target!(|data: &[u8]| {
    let probes: [&[u8]; 4] = [b"", b"a", b"key", &[0xff; 12]];
    exercise_reader(data, ReaderSpec { verify: true, tail_size: 64 * 1024, scan_chunk: 4 << 20 }, &probes, true);
    exercise_reader(data, ReaderSpec { verify: false, tail_size: 100, scan_chunk: 1 }, &probes, true);
});
