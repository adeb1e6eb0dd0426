#!/usr/bin/env python3
"""Regenerates the Ribbon filter fixtures in this directory with RocksDB 10.4.2 (PyPI `rocksdict==0.3.29`).

Run it with the interpreter that has rocksdict, from anywhere:

    /tmp/sstkit-rocksdict-venv/bin/python core/tests/data/filter/make_ribbon_fixtures.py

rocksdict has no Ribbon setter, so the script creates a DB, rewrites `filter_policy` in its OPTIONS file to
`ribbonfilter:<bits>`, loads the options back and writes an external SST with `SstFileWriter` (external files use
Ribbon: RocksDB treats their unknown level as the bottommost). It keeps only the
`fullfilter.rocksdb.BuiltinBloomFilter` block contents:

  ribbon_<bits>_<n>.filter   the Ribbon filter of keys key(0..n), written with `ribbonfilter:<bits>`
  ribbon_10_1000.sst         the whole (uncompressed, format_version 5) table of the 1000-key case, value b"v"

`core/tests/filter_ribbon.rs` regenerates the keys with the same formula: key(i) = b"key-%d" % (i * 2654435761 mod
2^32), a bijection, so the keys are distinct; absent keys there start with b"absent-".
"""
import glob
import os
import shutil
import struct
import tempfile

import rocksdict
from rocksdict import BlockBasedOptions, Options, Rdict, SstFileWriter

HERE = os.path.dirname(os.path.abspath(__file__))
FILTER_NAME = b"fullfilter.rocksdb.BuiltinBloomFilter"
CASES = [(10, 1_000), (10, 10_000), (10, 100_000), (7, 10_000), (20, 10_000)]


def key(i):
    return b"key-%d" % (i * 2654435761 % 2**32)


def varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, pos
        shift += 7


def block_entries(block):
    """(key, value) pairs of an uncompressed block without a hash index."""
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0] & 0x7FFFFFFF
    end = len(block) - 4 - 4 * num_restarts
    pos, k, out = 0, b"", []
    while pos < end:
        shared, pos = varint(block, pos)
        non_shared, pos = varint(block, pos)
        vlen, pos = varint(block, pos)
        k = k[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        out.append((k, block[pos:pos + vlen]))
        pos += vlen
    return out


def handle(buf, pos=0):
    off, pos = varint(buf, pos)
    size, pos = varint(buf, pos)
    return off, size, pos


def read_block(data, off, size):
    assert data[off + size] == 0, "block is compressed"
    return data[off:off + size]


def ribbon_filter(bits, n, keep_sst=None):
    tmp = tempfile.mkdtemp(prefix="sstkit-ribbon-")
    try:
        path = os.path.join(tmp, "db")
        opts = Options(raw_mode=True)
        opts.create_if_missing(True)
        table = BlockBasedOptions()
        table.set_bloom_filter(bits, False)
        table.set_format_version(5)  # fv5 footer: the metaindex handle sits at a fixed place.
        opts.set_block_based_table_factory(table)
        db = Rdict(path, opts)
        db[b"a"] = b"b"
        db.close()
        options_file = sorted(glob.glob(os.path.join(path, "OPTIONS-*")))[-1]
        text = open(options_file).read()
        assert "filter_policy=bloomfilter\n" in text, "unexpected OPTIONS layout"
        text = text.replace("filter_policy=bloomfilter\n", "filter_policy=ribbonfilter:%d\n" % bits)
        open(options_file, "w").write(text)
        # The column family's options carry the table factory; the DB-wide ones do not.
        _db_opts, cfs = Options.load_latest(path)
        loaded = cfs["default"]
        loaded.set_compression_type(rocksdict.DBCompressionType.none())
        sst = os.path.join(tmp, "out.sst")
        w = SstFileWriter(options=loaded)
        w.open(sst)
        for k in sorted(key(i) for i in range(n)):
            w[k] = b"v"
        w.finish()
        data = open(sst, "rb").read()
        footer = data[-53:]
        assert footer[-8:] == bytes.fromhex("f7cff485b741e288")
        assert struct.unpack_from("<I", footer, 41)[0] == 5
        mi_off, mi_size, _ = handle(footer, 1)
        filt = props = None
        for name, value in block_entries(read_block(data, mi_off, mi_size)):
            if name == FILTER_NAME:
                off, size, _ = handle(value)
                filt = read_block(data, off, size)
            if name == b"rocksdb.properties":
                off, size, _ = handle(value)
                props = dict(block_entries(read_block(data, off, size)))
        assert filt is not None, "no %r in the metaindex" % FILTER_NAME
        assert props[b"rocksdb.filter.policy"] == b"ribbonfilter", props[b"rocksdb.filter.policy"]
        assert filt[-5] == 0xFE, "not a Ribbon filter: metadata %s" % filt[-5:].hex()
        if keep_sst:
            shutil.copyfile(sst, keep_sst)
        return filt
    finally:
        shutil.rmtree(tmp)


def main():
    for bits, n in CASES:
        keep = os.path.join(HERE, "ribbon_10_1000.sst") if (bits, n) == (10, 1_000) else None
        filt = ribbon_filter(bits, n, keep)
        with open(os.path.join(HERE, "ribbon_%d_%d.filter" % (bits, n)), "wb") as f:
            f.write(filt)
        meta = filt[-5:]
        print("bits=%d n=%d: %d bytes, seed %d, %d blocks" % (
            bits, n, len(filt), meta[1], meta[2] | meta[3] << 8 | meta[4] << 16))


if __name__ == "__main__":
    main()
