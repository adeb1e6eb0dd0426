//! A valid table built from fuzzer-chosen entries and options, then damaged (flips, insertions, removals,
//! truncation). Opening and reading must error or return data, never panic; with checksums on, a change of at
//! most 4 consecutive bytes inside a block's checksummed bytes must make `open` + `verify_all` fail.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sstkit_core::table::Table;
use sstkit_core::ChecksumType;
use sstkit_fuzz::mutate::{apply, Mutation};
use sstkit_fuzz::{
    build, checksummed_ranges, covered, exercise_ranged, exercise_table, hostile_read_options, TableSpec,
};

#[derive(Arbitrary, Debug)]
struct Input {
    table: TableSpec,
    mutations: Vec<Mutation>,
    probes: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let model = input.table.model();
    let Some(orig) = build(&model, input.table.opts.slice_workspace) else { return };
    let mut file = orig.clone();
    for m in input.mutations.iter().take(16) {
        apply(&mut file, m);
    }
    let probes: Vec<&[u8]> =
        input.probes.iter().map(|p| p.as_slice()).chain(model.points.keys().take(8).map(|k| k.as_slice())).collect();
    for verify in [true, false] {
        let mut index_buf = vec![0u8; 64 * 1024];
        if let Ok(t) = Table::open_with(&file, hostile_read_options(verify), &mut index_buf) {
            exercise_table(&t, &probes);
        }
        exercise_ranged(&file, verify, &probes);
    }

    // Detection: same length, every changed byte inside checksummed bytes, all within a 4-byte window (a burst
    // CRC32C always detects; the xxHash variants miss one with probability 2^-32).
    if model.opts.checksum == ChecksumType::None || file.len() != orig.len() {
        return;
    }
    let diff: Vec<usize> = (0..file.len()).filter(|&i| file[i] != orig[i]).collect();
    let (Some(&first), Some(&last)) = (diff.first(), diff.last()) else { return };
    let ranges = checksummed_ranges(&orig);
    if last - first < 4 && diff.iter().all(|&p| covered(&ranges, p)) {
        let r = Table::open(&file).and_then(|t| t.verify_all());
        assert!(r.is_err(), "change at {diff:?} in checksummed bytes went unnoticed ({:?})", model.opts);
    }
});
