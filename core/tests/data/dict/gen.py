"""Writes the compression-dictionary fixtures with RocksDB 10.4.2 (rocksdict 0.3.29).

Run: /tmp/sstkit-rocksdict-venv/bin/python gen.py  (in this directory). Each table holds N entries
key%05d -> value text repeated across blocks, so a dictionary pays off; 1 KiB blocks give many data blocks.
"""
import os
import shutil
import tempfile

from rocksdict import (BlockBasedOptions, DBCompressionType, Options, SstFileWriter)

N = 400


def kv(i):
    return b"key%05d" % i, (b"value-%05d-" % i) + b"the quick brown fox jumps over the lazy dog " * (1 + i % 3)


def write(name, ctype, max_dict_bytes, train_bytes):
    opts = Options(raw_mode=True)
    bbo = BlockBasedOptions()
    bbo.set_block_size(1024)
    opts.set_block_based_table_factory(bbo)
    opts.set_compression_type(ctype)
    opts.set_compression_options(-14, 0, 0, max_dict_bytes)
    opts.set_zstd_max_train_bytes(train_bytes)
    opts.set_bottommost_compression_type(ctype)
    opts.set_bottommost_compression_options(-14, 0, 0, max_dict_bytes, True)
    opts.set_bottommost_zstd_max_train_bytes(train_bytes, True)
    w = SstFileWriter(options=opts)
    w.open(name)
    for i in range(N):
        k, v = kv(i)
        w[k] = v
    w.finish()


write("zstd_trained.sst", DBCompressionType.zstd(), 4096, 64 << 10)
write("zstd_raw.sst", DBCompressionType.zstd(), 4096, 0)
write("lz4_dict.sst", DBCompressionType.lz4(), 4096, 0)
write("lz4hc.sst", DBCompressionType.lz4hc(), 0, 0)
