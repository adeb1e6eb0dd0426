//! Sizes read from a file are checked before anything is allocated: a compressed block claiming more than
//! `ReadOptions::max_block_len` is an error in every read path, raised before the read buffer is asked for room.

use sstkit_core::table::{Options, ReadBuf, ReadOptions, Table, TableBuilder};
use sstkit_core::{BlockHandle, ChecksumType, CompressionType, Error};

/// A read buffer that fails the test if asked for more than `limit` bytes.
struct Capped {
    limit: usize,
    buf: Vec<u8>,
}

impl ReadBuf for Capped {
    fn buf(&mut self, len: usize) -> sstkit_core::Result<&mut [u8]> {
        assert!(len <= self.limit, "asked for {len} bytes, more than the {} the options allow", self.limit);
        if self.buf.len() < len {
            self.buf.resize(len, 0);
        }
        Ok(&mut self.buf[..len])
    }
    fn bytes(&self) -> &[u8] {
        &self.buf
    }
}

/// An LZ4 table without checksums (so the test can edit it) and the handle of its first compressed data block.
fn lz4_table() -> (Vec<u8>, BlockHandle) {
    let opts = Options::default().checksum(ChecksumType::None).compression(CompressionType::Lz4).block_size(4096);
    let mut b = TableBuilder::new(Vec::new(), opts).unwrap();
    let mut file = Vec::new();
    for i in 0..200u32 {
        b.put(format!("key{i:05}").as_bytes(), &[b'x'; 40]).unwrap();
        while let Some(c) = b.next_output().unwrap() {
            file.extend_from_slice(c);
        }
    }
    b.finish().unwrap();
    while let Some(c) = b.next_output().unwrap() {
        file.extend_from_slice(c);
    }
    let t = Table::open(&file).unwrap();
    let mut it = t.index_block().iter(t.index_info().seek_order(), Vec::new());
    it.seek_to_first().unwrap();
    let h = it.handle();
    assert_eq!(file[(h.offset + h.size) as usize], CompressionType::Lz4 as u8, "first data block is compressed");
    (file, h)
}

#[test]
fn claims_above_max_block_len_are_errors_before_any_allocation() {
    let (mut file, h) = lz4_table();
    let at = h.offset as usize;
    // The body starts with the varint32 uncompressed length; keep its byte count, claim the most it can hold.
    let n = file[at..].iter().position(|&b| b & 0x80 == 0).unwrap() + 1;
    for b in &mut file[at..at + n - 1] {
        *b = 0xff;
    }
    file[at + n - 1] = 0x7f;
    let claimed = (1usize << (7 * n)) - 1;
    let mut opts = ReadOptions::default();
    opts.max_block_len = claimed - 1;
    let t = Table::open_with(&file, opts, &mut []).unwrap();
    let too_big = |r: sstkit_core::Result<()>| {
        assert!(
            matches!(r, Err(Error::Unsupported { value, .. }) if value == claimed as u64),
            "claim of {claimed} bytes with a limit of {}: {r:?}",
            claimed - 1
        )
    };
    let mut buf = Capped { limit: claimed - 1, buf: Vec::new() };
    too_big(t.get(b"key00000", &mut buf).map(|_| ()));
    let mut c = t.cursor(Capped { limit: claimed - 1, buf: Vec::new() }, Vec::new(), Vec::new());
    too_big(c.seek_to_first());
    too_big(c.seek(b"key00001"));
    // Within the limit the claim is honoured and the block fails to decode instead.
    let mut opts = ReadOptions::default();
    opts.max_block_len = claimed;
    let t = Table::open_with(&file, opts, &mut []).unwrap();
    let mut buf = Capped { limit: 2 * claimed, buf: Vec::new() };
    assert!(matches!(t.get(b"key00000", &mut buf), Err(Error::Corruption { .. })));
}

#[test]
fn default_limit_is_64_mib() {
    assert_eq!(ReadOptions::default().max_block_len, 64 << 20);
}
