//! format_version 6 and 7 through the std-io writer: a random non-zero base per file unless one is given, files
//! that read back and whose metadata (read back from the tail) is right.

mod support;

use sstkit::core::footer::Footer;
use sstkit::writer::WriterOptions;
use support::build_file;
use support::model::{check_metadata, check_table, mixed_ops};

fn footer(bytes: &[u8]) -> Footer {
    Footer::decode(bytes, bytes.len() as u64).unwrap()
}

#[test]
fn random_base_per_file_and_pinned_base_is_deterministic() {
    let dir = tempfile::tempdir().unwrap();
    let ops = mixed_ops(3000, 40, 7, true);
    for fv in [6u32, 7] {
        let opts = WriterOptions::default().file_creation_time(Some(1_700_000_000)).format_version(fv);
        let mut bases = Vec::new();
        for i in 0..3 {
            let path = dir.path().join(format!("r{fv}_{i}.sst"));
            let meta = build_file(&path, opts.clone(), ops.iter().cloned()).unwrap();
            let bytes = std::fs::read(&path).unwrap();
            let f = footer(&bytes);
            assert_eq!(f.format_version, fv);
            assert_ne!(f.base_context_checksum, 0);
            bases.push(f.base_context_checksum);
            check_table(&bytes, &ops);
            check_metadata(&meta, &bytes, &ops);
        }
        bases.dedup();
        assert_eq!(bases.len(), 3, "a fresh base per file: {bases:x?}");

        let pinned = opts.clone().base_context_checksum(Some(0xabcd_0123));
        let a = dir.path().join(format!("p{fv}_a.sst"));
        let b = dir.path().join(format!("p{fv}_b.sst"));
        build_file(&a, pinned.clone(), ops.iter().cloned()).unwrap();
        build_file(&b, pinned, ops.iter().cloned()).unwrap();
        let (a, b) = (std::fs::read(a).unwrap(), std::fs::read(b).unwrap());
        assert_eq!(a, b);
        assert_eq!(footer(&a).base_context_checksum, 0xabcd_0123);
    }
    // A zero base is refused for fv 6 (and ignored for fv 5).
    let zero = WriterOptions::default().format_version(6).base_context_checksum(Some(0));
    assert!(zero.core_options().is_err());
    let five = WriterOptions::default().format_version(5).base_context_checksum(Some(0));
    assert_eq!(five.core_options().unwrap().base_context_checksum, 0);
}
