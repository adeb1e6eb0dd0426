//! The no-allocator path, run on the host: build a table, open it, iterate and look keys up with nothing but
//! stack arrays (the same steps as `examples/nostd-smoke`, which proves on thumbv7em that nothing allocates).

use sstkit_core::keybuf::SliceKeyBuf;
use sstkit_core::table::{Options, Table, TableBuilder};
use sstkit_core::{CompressionType, Error, ValueType};
use sstkit_core::{SliceSink, TableWriter};

const N: u32 = 400;

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

fn options() -> Options {
    let o = Options::default().block_size(1024).bloom_bits_per_key(10);
    if cfg!(feature = "lz4") {
        o.compression(CompressionType::Lz4)
    } else {
        o
    }
}

/// Writes the table into `out` through a stack workspace; every 7th key is a deletion. Returns its length.
fn build(out: &mut [u8]) -> Result<usize, Error> {
    let mut workspace = [0u8; 32 * 1024];
    let builder = TableBuilder::new(&mut workspace[..], options())?;
    let mut w = TableWriter::new(builder, SliceSink::new(out));
    for i in 0..N {
        if i % 7 == 0 {
            w.delete(&key(i))?;
        } else {
            w.put(&key(i), &value(i))?;
        }
    }
    let (stats, sink) = w.finish()?;
    assert_eq!(stats.file_size, sink.len() as u64);
    Ok(sink.len())
}

#[test]
fn build_open_iterate_get_on_the_stack() {
    let mut out = [0u8; 32 * 1024];
    let len = build(&mut out).unwrap();
    let table = Table::open(&out[..len]).unwrap();
    let props = table.properties();
    assert_eq!(props.num_entries, Some(u64::from(N)));
    assert!(props.num_data_blocks.unwrap_or(0) > 1);
    assert!(table.filter().is_some());
    if cfg!(feature = "lz4") {
        // The values compress: LZ4 blocks made it into the file.
        assert!(len < (N as usize) * 24, "table of {len} bytes is not compressed");
    }

    // Iterate every entry with stack buffers only.
    let mut block_buf = [0u8; 4 * 1024];
    let mut index_key = [0u8; 64];
    let mut data_key = [0u8; 64];
    let mut cur = table.cursor(&mut block_buf[..], SliceKeyBuf::new(&mut index_key), SliceKeyBuf::new(&mut data_key));
    cur.seek_to_first().unwrap();
    let mut i = 0;
    while let Some(e) = cur.entry().unwrap() {
        assert_eq!(e.user_key, &key(i));
        if i % 7 == 0 {
            assert_eq!(e.kind, ValueType::Deletion);
            assert!(e.value.is_empty());
        } else {
            assert_eq!(e.kind, ValueType::Value);
            assert_eq!(e.value, &value(i));
        }
        i += 1;
        cur.next().unwrap();
    }
    assert_eq!(i, N);
    cur.seek(&key(123)).unwrap();
    assert_eq!(cur.entry().unwrap().unwrap().user_key, &key(123));

    // Point lookups: hits, deletions, misses.
    let mut buf = [0u8; 4 * 1024];
    for i in (1..N).step_by(13) {
        let k = key(i);
        let hit = table.get(&k, &mut buf).unwrap().unwrap();
        if i % 7 == 0 {
            assert!(hit.is_deleted());
        } else {
            assert_eq!(hit.value, &value(i));
        }
    }
    let mut filtered = 0;
    for i in N..N + 200 {
        assert_eq!(table.get(&key(i), &mut buf).unwrap(), None);
        filtered += u32::from(!table.may_contain(&key(i)));
    }
    assert!(filtered > 180, "the filter should reject most misses, rejected {filtered}");
    assert_eq!(table.verify_all().unwrap(), props.num_data_blocks.unwrap() + 4);
}

#[test]
fn output_buffer_too_small_says_how_much() {
    let mut big = [0u8; 32 * 1024];
    let len = build(&mut big).unwrap();
    let mut small = [0u8; 2 * 1024];
    match build(&mut small) {
        Err(Error::BufferTooSmall { needed }) => assert!(needed > small.len() && needed <= len),
        other => panic!("unexpected {other:?}"),
    }
}
