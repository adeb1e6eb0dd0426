//! Fuzzer-chosen entries and options (a partitioned index and filter among them) → build → read back equals a
//! `BTreeMap` model.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use sstkit_fuzz::{build, check_model, TableSpec};

#[derive(Arbitrary, Debug)]
struct Input {
    table: TableSpec,
    probes: Vec<Vec<u8>>,
}

fuzz_target!(|input: Input| {
    let model = input.table.model();
    let Some(file) = build(&model, input.table.opts.slice_workspace) else { return };
    check_model(&file, &model, &input.probes);
});
