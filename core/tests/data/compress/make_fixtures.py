#!/usr/bin/env python3
"""Regenerates the real-RocksDB compressed block fixtures in this folder.

Needs /usr/bin/ldb (RocksDB 7.8.3, Debian `rocksdb-tools`). For each codec and format_version it writes an SST
with `ldb write_extern_sst` (index compression off, so the index can be read here), then slices out the body of
the first data block (without its 5-byte trailer) into `<codec>_fv<N>.bin`. `none.bin` is the same block stored
uncompressed: RocksDB cuts blocks by raw size, so every fixture must decode to exactly these bytes.

Usage: python3 make_fixtures.py   (writes next to this script)
"""
import glob
import os
import re
import shutil
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
# (ldb --compression_type, format_version, fixture name, trailer type byte expected)
VARIANTS = [
    ("no", 5, "none", 0),
    ("snappy", 5, "snappy_fv5", 1),
    ("zlib", 5, "zlib_fv5", 2),
    ("lz4", 5, "lz4_fv5", 4),
    ("lz4hc", 5, "lz4hc_fv5", 5),
    ("zstd", 5, "zstd_fv5", 7),
    ("zlib", 1, "zlib_fv1", 2),
    ("lz4", 1, "lz4_fv1", 4),
    ("bzip2", 5, "bzip2_fv5", 3),
    ("bzip2", 1, "bzip2_fv1", 3),
]


def lines():
    # Compressible but not trivial: a counter, a repeated word, varying lengths.
    return "".join("key%05d ==> value-%05d-%s\n" % (i, i, "abcdefgh" * (i % 5)) for i in range(200))


def varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, pos
        shift += 7


def first_data_block(sst):
    data = open(sst, "rb").read()
    footer = data[-53:]
    version = struct.unpack("<I", footer[41:45])[0]
    _, p = varint(footer, 1)  # metaindex offset
    _, p = varint(footer, p)  # metaindex size
    idx_off, p = varint(footer, p)
    idx_size, p = varint(footer, p)
    assert data[idx_off + idx_size] == 0, "index block is compressed"
    index = data[idx_off : idx_off + idx_size]
    # First entry: shared, non_shared, [value_len unless fv >= 4 delta-encoded values], key, handle.
    shared, p = varint(index, 0)
    non_shared, p = varint(index, p)
    if version < 4:
        _, p = varint(index, p)
    p += non_shared
    off, p = varint(index, p)
    size, p = varint(index, p)
    return version, data[off : off + size], data[off + size]


def main():
    tmp = tempfile.mkdtemp()
    try:
        for ctype, fv, name, type_byte in VARIANTS:
            db = os.path.join(tmp, "db_" + name)
            sst = os.path.join(tmp, name + ".sst")
            subprocess.run(["ldb", "--db=" + db, "--create_if_missing", "put", "x", "y"], check=True,
                           capture_output=True)
            opts = sorted(glob.glob(os.path.join(db, "OPTIONS-*")))[-1]
            text = open(opts).read()
            text = re.sub(r"format_version=\d+", "format_version=%d" % fv, text)
            text = text.replace("enable_index_compression=true", "enable_index_compression=false")
            text = re.sub(r"\n  block_size=\d+", "\n  block_size=2048", text)
            open(opts, "w").write(text)
            subprocess.run(["ldb", "--db=" + db, "--compression_type=" + ctype, "write_extern_sst", sst],
                           input=lines(), text=True, check=True, capture_output=True)
            version, body, ty = first_data_block(sst)
            assert version == fv, (name, version)
            assert ty == type_byte, (name, ty)
            with open(os.path.join(HERE, name + ".bin"), "wb") as f:
                f.write(body)
            print("%-10s fv%d type %d: %d bytes" % (name, version, ty, len(body)))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
