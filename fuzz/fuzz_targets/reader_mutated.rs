//! A valid table built from fuzzer-chosen entries and options, damaged (flips, insertions, removals,
//! truncation), on an in-memory object store → std-io's `SstReader` with fuzzer-chosen tail size, scan chunk
//! and checksum setting: open, get, forward scans, the CLI's block walk and listings must return data or an
//! error, never panic; what core's `Table` also opens must read the same through both. Undamaged tables must
//! open (and so read the same as `Table`).
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sstkit_fuzz::mutate::{apply, Mutation};
use sstkit_fuzz::reader::{exercise_reader, ReaderSpec};
use sstkit_fuzz::{build, TableSpec};

#[derive(Arbitrary, Debug)]
struct Input {
    table: TableSpec,
    mutations: Vec<Mutation>,
    probes: Vec<Vec<u8>>,
    verify: bool,
    tail_size: u16,
    scan_chunk: u16,
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
    let spec = ReaderSpec {
        verify: input.verify,
        tail_size: u64::from(input.tail_size),
        scan_chunk: u64::from(input.scan_chunk),
    };
    let opened = exercise_reader(&file, spec, &probes, true);
    assert!(opened || file != orig, "SstReader failed to open an undamaged table ({:?})", model.opts);
});
