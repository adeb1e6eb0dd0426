//! Valid features this crate does not handle are `Error::Unsupported` naming the feature, never corruption;
//! damage stays corruption.
#![cfg(feature = "alloc")]

use sstkit_core::block::{Block, BlockBuilder};
use sstkit_core::checksum::BlockChecksum;
use sstkit_core::table::{verified_block, Options, ReadOptions, Table, TableBuilder};
use sstkit_core::TableWriter;
use sstkit_core::{BlockHandle, Error, ErrorKind, Part, ValueType};

/// A block with two entries and the given flag bits or'ed into its footer word.
fn block_with_flags(flags: u32) -> Vec<u8> {
    let mut buf = [0u8; 256];
    let mut b = BlockBuilder::new(&mut buf, 16);
    b.add(b"a", b"1").unwrap();
    b.add(b"b", b"2").unwrap();
    let mut v = b.finish().to_vec();
    let n = v.len();
    let word = u32::from_le_bytes(v[n - 4..].try_into().unwrap()) | flags;
    v[n - 4..].copy_from_slice(&word.to_le_bytes());
    v
}

#[test]
fn block_footer_bits() {
    assert!(Block::parse(&block_with_flags(0)).is_ok());
    // Bit 29 (uniform-keys hint) is masked off.
    let b = block_with_flags(1 << 29);
    let blk = Block::parse(&b).unwrap();
    let mut it = blk.iter(sstkit_core::block::KeyOrder::Bytewise, Vec::new());
    it.seek_to_first().unwrap();
    assert_eq!((it.key(), it.value()), (&b"a"[..], &b"1"[..]));
    // Bit 28 (separated key/value layout) is a real feature we do not read.
    let e = Block::parse(&block_with_flags(1 << 28)).unwrap_err();
    assert!(matches!(e, Error::Unsupported { what, .. } if what.contains("separated")), "{e:?}");
    // Bit 30: nobody's feature; RocksDB calls it corruption too.
    assert_eq!(Block::parse(&block_with_flags(1 << 30)).unwrap_err().kind(), ErrorKind::Corruption);
}

#[test]
fn value_types() {
    for (b, t) in [
        (0x18, ValueType::ValuePreferredSeqno),
        (0x11, ValueType::BlobIndex),
        (0x16, ValueType::WideColumnEntity),
        (0x14, ValueType::DeletionWithTimestamp),
        (0x07, ValueType::SingleDeletion),
    ] {
        assert_eq!(ValueType::parse(b).unwrap(), t);
        assert_eq!(t as u8, b);
    }
    // WAL-only codes are not table entries.
    for b in [0x03, 0x06, 0x08, 0x0e, 0x10, 0x12, 0x13, 0x15, 0x17, 0x19] {
        assert_eq!(ValueType::parse(b).unwrap_err().kind(), ErrorKind::Corruption, "{b:#x}");
    }
    for b in [0x1a, 0x40, 0xff] {
        assert!(ValueType::parse(b).unwrap_err().is_unsupported(), "{b:#x}");
    }
}

fn table(opts: Options) -> Vec<u8> {
    let mut w = TableWriter::new(TableBuilder::new(Vec::new(), opts).unwrap(), Vec::new());
    for i in 0..50u32 {
        w.put(format!("k{i:03}").as_bytes(), b"value value value value").unwrap();
    }
    w.finish().unwrap().1
}

/// Rewrites the trailer of the block at `h` with compression type byte `ty` and a matching checksum.
fn retype(file: &mut [u8], h: BlockHandle, sum: BlockChecksum, ty: u8) {
    let (s, e) = (h.offset as usize, h.offset as usize + h.size as usize);
    file[e] = ty;
    let c = sum.stored(&file[s..e], ty, h.offset);
    file[e + 1..e + 5].copy_from_slice(&c.to_le_bytes());
}

#[test]
fn compression_types_we_lack() {
    for fv in [5, 6] {
        let opts = Options::default().format_version(fv).base_context_checksum(77).block_size(128);
        let file = table(opts);
        let t = Table::open(&file).unwrap();
        let sum = t.footer().block_checksum();
        let mut it = t.index_block().iter(t.index_info().seek_order(), Vec::new());
        it.seek_to_first().unwrap();
        let h = it.handle();
        // BZip2 (3) decodes when its feature is on; these bytes are then corrupt, not unsupported.
        let types: &[u8] = if cfg!(feature = "bzip2") { &[6, 0x80, 0xfe] } else { &[3, 6, 0x80, 0xfe] };
        for &ty in types {
            let mut bad = file.clone();
            retype(&mut bad, h, sum, ty);
            let e = match verified_block(&bad, 0, h, sum, true, Part::DataBlock) {
                Err(e) => e,
                Ok(c) => c.decompress_to(fv, 1 << 20, &mut Vec::new()).unwrap_err(),
            };
            assert!(e.is_unsupported(), "fv {fv} type {ty:#x}: {e:?}");
            let t = Table::open(&bad).unwrap();
            let e = t.get(b"k000", &mut Vec::new()).unwrap_err();
            assert!(e.is_unsupported(), "fv {fv} type {ty:#x}: {e:?}");
        }
    }
}

#[test]
fn index_types() {
    let file = table(Options::default());
    let t = Table::open(&file).unwrap();
    let props = t.properties();
    let mut p = props.clone();
    for (ty, ok) in [(0u32, true), (1, true), (2, true), (3, true), (4, false)] {
        p.index_type = Some(ty);
        let r = sstkit_core::table::IndexInfo::from_properties(&p);
        assert_eq!(r.is_ok(), ok, "{ty}");
        if let Err(e) = r {
            assert!(e.is_unsupported(), "{e:?}");
        }
    }
    p.index_type = Some(2);
    assert!(sstkit_core::table::IndexInfo::from_properties(&p).unwrap().partitioned);
}

#[test]
fn future_format_version() {
    for fv in [5u32, 6] {
        let mut file = table(Options::default().format_version(fv).base_context_checksum(5));
        let n = file.len();
        file[n - 12..n - 8].copy_from_slice(&8u32.to_le_bytes());
        let e = Table::open_with(&file, ReadOptions::default(), &mut []).unwrap_err();
        assert!(matches!(e, Error::Unsupported { part: Part::Footer, what: "format_version", value: 8 }), "{e:?}");
    }
}
