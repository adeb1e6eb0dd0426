//! Tests of the tool harness itself, against the real RocksDB 7.8.3 tools and
//! LevelDB (plyvel). Each test fails when its tool is missing (unless `SSTKIT_SKIP_MISSING_TOOLS=1`).

use std::path::Path;

use sstkit_tests::*;

/// Both RocksDB tools; panics when one is missing (`None`: skipped with `SSTKIT_SKIP_MISSING_TOOLS=1`).
fn rocksdb_tools() -> Option<()> {
    require_tool(SST_DUMP)?;
    require_tool(LDB)?;
    Some(())
}

fn as_tool_entries(entries: &[(Vec<u8>, Vec<u8>)]) -> Vec<ToolEntry> {
    entries.iter().map(|(k, v)| ToolEntry::put(k, 0, v)).collect()
}

fn varint(bytes: &[u8]) -> (u64, usize) {
    let mut v = 0u64;
    for (i, b) in bytes.iter().enumerate() {
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return (v, i + 1);
        }
    }
    panic!("bad varint {bytes:02x?}");
}

/// `(offset, size)` of a metaindex entry as sst_dump's raw dump prints it,
/// e.g. `Filter block handle: B86E8503`.
fn raw_dump_handle(raw: &str, label: &str) -> (usize, usize) {
    let hex_handle = raw
        .lines()
        .find_map(|l| l.trim().strip_prefix(label))
        .unwrap_or_else(|| panic!("no {label:?} in raw dump:\n{raw}"));
    let bytes = hex::decode(hex_handle.trim()).unwrap();
    let (offset, n) = varint(&bytes);
    let (size, _) = varint(&bytes[n..]);
    (offset as usize, size as usize)
}

#[test]
fn missing_tool_fails_unless_the_opt_out_is_set_outside_ci() {
    use MissingToolPolicy::{Fail, Skip};
    assert_eq!(missing_tool_policy(None, None), Fail);
    assert_eq!(missing_tool_policy(Some("false"), None), Fail);
    assert_eq!(missing_tool_policy(None, Some("0")), Fail);
    assert_eq!(missing_tool_policy(None, Some("")), Fail);
    assert_eq!(missing_tool_policy(None, Some("1")), Skip);
    assert_eq!(missing_tool_policy(Some("false"), Some("true")), Skip);
    // CI never skips, whatever the opt-out says.
    assert_eq!(missing_tool_policy(Some("true"), Some("1")), Fail);

    assert!(find_tool("sstkit-no-such-tool").is_err());
    match current_missing_tool_policy() {
        Fail => {
            let result = std::panic::catch_unwind(|| require_tool("sstkit-no-such-tool"));
            assert!(result.is_err(), "require_tool must panic when a tool is missing");
        }
        Skip => assert_eq!(require_tool("sstkit-no-such-tool"), None),
    }
}

#[test]
fn parse_scan_line_reads_sst_dump_format() {
    assert_eq!(
        parse_scan_line("'6300FF' seq:7, type:1 => 01AB").unwrap(),
        ToolEntry::put(&[0x63, 0x00, 0xff], 7, &[0x01, 0xab])
    );
    assert_eq!(parse_scan_line("'' seq:72057594037927935, type:0 => ").unwrap(), ToolEntry::delete(b"", (1 << 56) - 1));
    assert!(parse_scan_line("'61' seq:x, type:1 => 01").is_err());
    assert!(parse_scan_line("'6' seq:1, type:1 => 01").is_err());
    assert!(parse_scan_line("61 seq:1, type:1 => 01").is_err());
}

#[test]
fn extern_sst_default_variant_round_trips_through_sst_dump_and_ldb() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(3000, 1);
    let sst = dir.path().join("default.sst");
    let variant = RocksVariant::default();
    write_extern_sst(&variant, &entries, &sst).unwrap();

    check_variant(&sst, &variant).unwrap();
    sst_dump_verify(&sst).unwrap();
    assert_eq!(sst_dump_scan(&sst).unwrap(), as_tool_entries(&entries));
    let props = sst_dump_properties(&sst).unwrap();
    assert_eq!(props["# entries"], "3000");
    assert_eq!(props["SST file compression algo"], "Snappy");
    assert_eq!(props["filter policy name"], "N/A");
    assert_eq!(props["# rocksdb.external_sst_file.version"], "0x02000000");
    let raw = sst_dump_raw(&sst).unwrap();
    assert!(raw.contains("Footer Details:") && raw.contains("Data Block # 1 @"));

    // Ingest into a new DB and read everything back.
    let db = dir.path().join("db");
    ldb_ingest(&db, &sst).unwrap();
    assert_eq!(ldb_scan_hex(&db).unwrap(), entries);
    let (k, v) = &entries[1234];
    assert_eq!(ldb_get_hex(&db, k).unwrap(), Some(v.clone()));
    assert_eq!(ldb_get_hex(&db, b"\xff\xff\xffmissing").unwrap(), None);

    // Batch lookups: every key, with misses at the start, middle and end.
    let mut keys: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
    keys.insert(0, b"\x00missing".to_vec());
    keys.insert(1500, b"user/missing".to_vec());
    keys.push(b"\xff\xff\xffmissing".to_vec());
    let got = ldb_multi_get_hex(&db, &keys).unwrap();
    assert_eq!(got.len(), keys.len());
    let mut want: Vec<Option<Vec<u8>>> = entries.iter().map(|(_, v)| Some(v.clone())).collect();
    want.insert(0, None);
    want.insert(1500, None);
    want.push(None);
    assert_eq!(got, want);
}

/// Variants covering every checksum, compression, format_version, filter,
/// index type, hash index, block size and restart interval value at least
/// once (the full product is in the ignored test below).
fn covering_variants() -> Vec<RocksVariant> {
    let base = RocksVariant::default();
    let mut out = Vec::new();
    for checksum in 0..=4 {
        out.push(RocksVariant { checksum, compression: "no", ..base.clone() });
    }
    for compression in ["snappy", "lz4", "zlib", "zstd"] {
        out.push(RocksVariant { compression, checksum: 1, ..base.clone() });
    }
    for format_version in 0..=4 {
        out.push(RocksVariant {
            format_version,
            checksum: [1, 4, 2, 3, 1][format_version as usize],
            compression: ["no", "snappy", "lz4", "zlib", "zstd"][format_version as usize],
            ..base.clone()
        });
    }
    out.push(RocksVariant { format_version: 0, checksum: 4, ..base.clone() });
    out.push(RocksVariant {
        bloom: true,
        index_type: 3,
        data_block_hash_index: true,
        block_size: 256,
        restart_interval: 1,
        compression: "no",
        ..base.clone()
    });
    out.push(RocksVariant {
        bloom: true,
        format_version: 4,
        index_type: 3,
        block_size: 1024,
        restart_interval: 4,
        compression: "zstd",
        ..base.clone()
    });
    out.push(RocksVariant {
        data_block_hash_index: true,
        block_size: 16384,
        restart_interval: 32,
        checksum: 2,
        compression: "lz4",
        ..base
    });
    out
}

fn check_extern_variant(dir: &Path, n: usize, variant: &RocksVariant, entries: &[(Vec<u8>, Vec<u8>)]) {
    let sst = dir.join(format!("v{n}.sst"));
    write_extern_sst(variant, entries, &sst).unwrap_or_else(|e| panic!("{variant}: {e}"));
    check_variant(&sst, variant).unwrap_or_else(|e| panic!("{variant}: {e}"));
    sst_dump_verify(&sst).unwrap_or_else(|e| panic!("{variant}: {e}"));
    let scanned = sst_dump_scan(&sst).unwrap_or_else(|e| panic!("{variant}: {e}"));
    assert!(scanned == as_tool_entries(entries), "{variant}: scan differs");
}

#[test]
fn extern_sst_covering_variants_have_the_requested_format() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(300, 2);
    for (n, variant) in covering_variants().iter().enumerate() {
        check_extern_variant(dir.path(), n, variant, &entries);
    }
}

/// All 5 checksums x 5 compressions x 6 format versions x 2 feature sets
/// (about 30 s on 2 cores). Run with `cargo test -- --ignored`.
#[test]
#[ignore = "slow: 300 RocksDB variants"]
fn extern_sst_all_variants() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(400, 3);
    let mut n = 0;
    for checksum in 0..=4 {
        for compression in ["no", "snappy", "lz4", "zlib", "zstd"] {
            for format_version in 0..=5 {
                for (bloom, index_type, hash) in [(false, 0, false), (true, 3, true)] {
                    let variant = RocksVariant {
                        checksum,
                        compression,
                        format_version,
                        bloom,
                        index_type,
                        data_block_hash_index: hash,
                        block_size: 1024,
                        restart_interval: 4,
                    };
                    check_extern_variant(dir.path(), n, &variant, &entries);
                    n += 1;
                }
            }
        }
    }
}

#[test]
fn harness_rejects_bad_input() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(200, 4);
    let variant = RocksVariant { checksum: 1, compression: "no", ..Default::default() };

    // Unsorted keys and unknown options are errors, not silent successes.
    let unsorted = vec![(b"b".to_vec(), b"1".to_vec()), (b"a".to_vec(), b"2".to_vec())];
    assert!(write_extern_sst(&variant, &unsorted, &dir.path().join("unsorted.sst")).is_err());
    assert!(write_extern_sst(&variant, &[], &dir.path().join("empty.sst")).is_err());
    let bad_db = dir.path().join("bad-options");
    assert!(create_db_with_options(&bad_db, &[("no_such_option", "1")]).is_err());

    let good = dir.path().join("good.sst");
    write_extern_sst(&variant, &entries, &good).unwrap();

    // A name without `.sst` still works (the harness copies the file).
    let renamed = dir.path().join("good.bin");
    std::fs::copy(&good, &renamed).unwrap();
    sst_dump_verify(&renamed).unwrap();
    assert_eq!(sst_dump_scan(&renamed).unwrap().len(), entries.len());

    // One flipped byte in the first data block: sst_dump exits 0, but the
    // harness must report the corruption.
    let mut bytes = std::fs::read(&good).unwrap();
    bytes[10] ^= 0x01;
    let corrupt = dir.path().join("corrupt.sst");
    std::fs::write(&corrupt, &bytes).unwrap();
    let err = sst_dump_verify(&corrupt).unwrap_err();
    assert!(err.contains("checksum mismatch"), "{err}");
    assert!(sst_dump_scan(&corrupt).is_err());

    // A truncated file and random bytes are rejected by every helper.
    let truncated = dir.path().join("truncated.sst");
    std::fs::write(&truncated, &std::fs::read(&good).unwrap()[..100]).unwrap();
    let garbage = dir.path().join("garbage.sst");
    std::fs::write(&garbage, vec![0x5a; 4096]).unwrap();
    for f in [&truncated, &garbage] {
        assert!(sst_dump_verify(f).is_err());
        assert!(sst_dump_scan(f).is_err());
        assert!(sst_dump_properties(f).is_err());
        assert!(ldb_ingest(&dir.path().join("garbage-db"), f).is_err());
    }
}

#[test]
fn bloom_policy_db_consults_the_table_filter() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let entries = sample_entries(300, 5);
    // No checksum, so the filter can be edited without fixing a checksum.
    let variant = RocksVariant { checksum: 0, compression: "no", bloom: true, ..Default::default() };
    let good = dir.path().join("good.sst");
    write_extern_sst(&variant, &entries, &good).unwrap();
    check_variant(&good, &variant).unwrap();
    let props = sst_dump_properties(&good).unwrap();
    assert_eq!(props["filter policy name"], "bloomfilter");
    assert_eq!(props["# entries for filter"], "300");

    // Zero the filter's bit array, keeping its 5 metadata bytes.
    let (offset, size) = raw_dump_handle(&sst_dump_raw(&good).unwrap(), "Filter block handle:");
    let mut bytes = std::fs::read(&good).unwrap();
    assert_eq!(bytes[offset + size - 5], 0xff, "fv5 Bloom metadata marker");
    bytes[offset..offset + size - 5].fill(0);
    let zeroed = dir.path().join("zeroed.sst");
    std::fs::write(&zeroed, &bytes).unwrap();
    sst_dump_verify(&zeroed).unwrap();

    let keys: Vec<Vec<u8>> = entries.iter().take(40).map(|(k, _)| k.clone()).collect();
    let all_found: Vec<Option<Vec<u8>>> = entries.iter().take(40).map(|(_, v)| Some(v.clone())).collect();

    // A DB with default options ignores the filter: every key is found.
    let plain = dir.path().join("plain");
    ldb_ingest(&plain, &zeroed).unwrap();
    assert_eq!(ldb_multi_get_hex(&plain, &keys).unwrap(), all_found);

    // A DB whose options name the bloom policy consults it: nothing is found.
    let bloom = dir.path().join("bloom");
    create_db_with_options(&bloom, &[("filter_policy", "bloomfilter:10:false")]).unwrap();
    ldb_ingest(&bloom, &zeroed).unwrap();
    assert_eq!(
        db_option_value(&bloom, "filter_policy").unwrap().as_deref(),
        Some("bloomfilter:10:false"),
        "ingestion must not reset the patched options"
    );
    assert_eq!(ldb_multi_get_hex(&bloom, &keys).unwrap(), vec![None; keys.len()]);
    assert_eq!(ldb_get_hex(&bloom, &keys[0]).unwrap(), None);
    // The scan does not use the filter.
    assert_eq!(ldb_scan_hex(&bloom).unwrap(), entries);

    // With the intact filter the same DB setup finds every key.
    let bloom2 = dir.path().join("bloom2");
    create_db_with_options(&bloom2, &[("filter_policy", "bloomfilter:10:false")]).unwrap();
    ldb_ingest(&bloom2, &good).unwrap();
    let all_keys: Vec<Vec<u8>> = entries.iter().map(|(k, _)| k.clone()).collect();
    let all_values: Vec<Option<Vec<u8>>> = entries.iter().map(|(_, v)| Some(v.clone())).collect();
    assert_eq!(ldb_multi_get_hex(&bloom2, &all_keys).unwrap(), all_values);
}

fn key(i: u32) -> Vec<u8> {
    format!("k{i:03}").into_bytes()
}

/// Ops and the entries a flush keeps: puts k000..k099 (seqno 1..100), then
/// Delete k010 (101), Delete zz (102), DeleteRange [k050, k060) (103),
/// Put k055 (104), Put k000 again (105).
fn sample_ops() -> (Vec<Op>, Vec<ToolEntry>) {
    let mut ops: Vec<Op> = (0..100).map(|i| Op::Put(key(i), format!("v{i}").into_bytes())).collect();
    ops.push(Op::Delete(key(10)));
    ops.push(Op::Delete(b"zz".to_vec()));
    ops.push(Op::DeleteRange(key(50), key(60)));
    ops.push(Op::Put(key(55), b"new55".to_vec()));
    ops.push(Op::Put(key(0), b"new0".to_vec()));
    let mut want = vec![ToolEntry::put(&key(0), 105, b"new0")];
    for i in 1..100u32 {
        match i {
            10 => want.push(ToolEntry::delete(&key(10), 101)),
            55 => want.push(ToolEntry::put(&key(55), 104, b"new55")),
            50..=59 => {}
            _ => want.push(ToolEntry::put(&key(i), u64::from(i) + 1, format!("v{i}").as_bytes())),
        }
    }
    want.push(ToolEntry::delete(b"zz", 102));
    (ops, want)
}

#[test]
fn flush_keeps_seqnos_tombstones_and_range_deletions() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let variant =
        RocksVariant { checksum: 1, compression: "zstd", format_version: 4, bloom: true, ..Default::default() };
    let (ops, want) = sample_ops();
    let out = flush_ssts(&variant, &ops, dir.path()).unwrap();
    assert_eq!(out.files.len(), 1, "{:?}", out.files);
    let sst = &out.files[0];
    assert_eq!(sst.parent().unwrap(), dir.path());
    check_variant(sst, &variant).unwrap();
    sst_dump_verify(sst).unwrap();
    assert_eq!(sst_dump_scan(sst).unwrap(), want);

    let props = sst_dump_properties(sst).unwrap();
    assert_eq!(props["# range deletions"], "1");
    assert_eq!(props["# deletions"], "3", "2 point + 1 range tombstone");
    assert_eq!(props["# entries"], (want.len() + 1).to_string());
    assert!(!props.contains_key("# rocksdb.external_sst_file.version"));
    let raw = sst_dump_raw(sst).unwrap();
    assert!(raw.contains("Range deletions:"), "{raw}");

    let name = sst.file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(out.range_deletes, vec![RangeTombstone { file_name: name, begin: key(50), end: key(60), seqno: 103 }]);

    // The DB stays usable and shows the visible rows.
    let visible: Vec<(Vec<u8>, Vec<u8>)> =
        want.iter().filter(|e| e.kind == 1).map(|e| (e.user_key.clone(), e.value.clone())).collect();
    assert_eq!(ldb_scan_hex(&out.db_dir).unwrap(), visible);
    // A flushed (non-external) file is refused by ingestion.
    assert!(ldb_ingest(&dir.path().join("other-db"), sst).is_err());
}

#[test]
fn compaction_zeroes_seqnos_and_drops_tombstones() {
    if rocksdb_tools().is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let variant = RocksVariant { checksum: 3, compression: "lz4", ..Default::default() };
    let (ops, flushed) = sample_ops();
    let out = compacted_ssts(&variant, &ops, dir.path()).unwrap();
    assert_eq!(out.files.len(), 1, "{:?}", out.files);
    let want: Vec<ToolEntry> =
        flushed.iter().filter(|e| e.kind == 1).map(|e| ToolEntry::put(&e.user_key, 0, &e.value)).collect();
    check_variant(&out.files[0], &variant).unwrap();
    sst_dump_verify(&out.files[0]).unwrap();
    assert_eq!(sst_dump_scan(&out.files[0]).unwrap(), want);
    assert!(out.range_deletes.is_empty());
    assert_eq!(sst_dump_properties(&out.files[0]).unwrap()["# range deletions"], "0");
}

#[test]
fn leveldb_tables_are_written() {
    if require_tool(PLYVEL).is_none() || rocksdb_tools().is_none() {
        return;
    }
    let entries = sample_entries(2000, 6);
    let mut sizes = Vec::new();
    for compression in [false, true] {
        let dir = tempfile::tempdir().unwrap();
        let table = write_leveldb_table(&entries, dir.path(), compression).unwrap();
        assert_eq!(table.extension().unwrap(), "ldb");
        let footer = read_footer(&table).unwrap();
        assert!(footer.legacy, "{footer:?}");
        sizes.push(std::fs::metadata(&table).unwrap().len());

        // sst_dump reads LevelDB tables (without properties); the data must
        // be exactly the input, with LevelDB's sequence numbers.
        let scanned = sst_dump_scan_leveldb(&table).unwrap();
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = scanned.iter().map(|e| (e.user_key.clone(), e.value.clone())).collect();
        assert_eq!(pairs, entries);
        assert!(scanned.iter().all(|e| e.kind == 1 && e.seqno >= 1));
        assert!(sst_dump_scan(&table).is_err(), "strict scan wants properties");
        // ldb refuses LevelDB tables (it crashes on the missing properties).
        assert!(ldb_ingest(&dir.path().join("db"), &table).is_err());
    }
    assert!(sizes[1] < sizes[0] * 9 / 10, "snappy did not shrink: {sizes:?}");
}
