//! Raw bytes as a whole file → open (checksums on and off), iterate both ways, get, tombstones, verify_all; and the
//! ranged-reader path (`meta_start`, `MetaLayout`, `table::index`, `table::entry`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sstkit_core::table::Table;
use sstkit_fuzz::{exercise_ranged, exercise_table, hostile_read_options};

fuzz_target!(|data: &[u8]| {
    // Default options: the 64 MiB cap; a compressed index needs a buffer, and none is given.
    let _ = Table::open(data).map(|t| t.may_contain(b"k"));
    let probes: [&[u8]; 4] = [b"", b"a", b"key", &[0xff; 12]];
    for verify in [true, false] {
        let mut index_buf = vec![0u8; 64 * 1024];
        if let Ok(t) = Table::open_with(data, hostile_read_options(verify), &mut index_buf) {
            exercise_table(&t, &probes);
        }
        exercise_ranged(data, verify, &probes);
    }
});
