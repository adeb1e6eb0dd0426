#!/usr/bin/env python3
"""Regenerates the RocksDB 10.4.2 SST fixtures in this folder (format_version 6, RocksDB's default there).

Needs the `rocksdict` 0.3.29 wheel (RocksDB 10.4.2), e.g. in /tmp/sstkit-rocksdict-venv:
    /tmp/sstkit-rocksdict-venv/bin/python make_fixtures.py   (writes next to this script)

Every file holds the same entries (see `entries()`): 150 puts `key%04d` -> `value%d` repeated, with every tenth
key deleted instead, written by `SstFileWriter` with a 256-byte block size so there are many data blocks. The
variants cover the five checksum types, LZ4 compression and a Bloom filter. `core/tests/rocksdb10.rs` reads
them and checks exactly these entries.
"""
import os

import rocksdict as r

HERE = os.path.dirname(os.path.abspath(__file__))

# (file name, checksum type, compression, bloom bits per key or None)
VARIANTS = [
    ("fv6_crc32c.sst", r.ChecksumType.crc32c(), r.DBCompressionType.none(), None),
    ("fv6_none.sst", r.ChecksumType.no_checksum(), r.DBCompressionType.none(), None),
    ("fv6_xxhash.sst", r.ChecksumType.xxhash(), r.DBCompressionType.none(), None),
    ("fv6_xxhash64.sst", r.ChecksumType.xxhash64(), r.DBCompressionType.none(), None),
    ("fv6_xxh3_lz4_bloom.sst", r.ChecksumType.xxh3(), r.DBCompressionType.lz4(), 10),
]


def entries():
    """(key, value or None for a deletion), sorted."""
    out = []
    for i in range(150):
        k = b"key%04d" % i
        out.append((k, None if i % 10 == 3 else (b"value%d" % i) * 3))
    return out


def main():
    for name, checksum, compression, bloom in VARIANTS:
        t = r.BlockBasedOptions()
        t.set_checksum_type(checksum)
        t.set_block_size(256)
        if bloom:
            t.set_bloom_filter(bloom, False)
        o = r.Options(raw_mode=True)
        o.set_block_based_table_factory(t)
        o.set_compression_type(compression)
        path = os.path.join(HERE, name)
        if os.path.exists(path):
            os.remove(path)
        w = r.SstFileWriter(o)
        w.open(path)
        for k, v in entries():
            if v is None:
                del w[k]
            else:
                w[k] = v
        w.finish()
        print(name, os.path.getsize(path))


if __name__ == "__main__":
    main()
