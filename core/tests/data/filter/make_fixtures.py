#!/usr/bin/python3
"""Regenerates the filter fixtures in this directory from the real RocksDB and LevelDB.

Needs `ldb` from Debian `rocksdb-tools` (RocksDB 7.8.3) and `python3-plyvel` (LevelDB 1.23); run it with the
system interpreter from anywhere:

    /usr/bin/python3 core/tests/data/filter/make_fixtures.py

Outputs (all beside this script; `core/tests/filter_rocksdb.rs` reads them):
  keys.bin                    the user keys, ascending: repeated [u32 LE length][key bytes]
  rocksdb_fv5_<mbpk>.filter   `fullfilter.rocksdb.BuiltinBloomFilter` contents of an SST written by
                              `ldb write_extern_sst` with format_version=5 (FastLocalBloom) and
                              `filter_policy=bloomfilter:<bpk>:false`; <mbpk> = millibits per key
  rocksdb_fv4_<mbpk>.filter   the same with format_version=4 (legacy cache-local Bloom)
  leveldb.filter              `filter.leveldb.BuiltinBloomFilter2` contents of a LevelDB table (bloom_filter_bits=10)
  leveldb_offsets.bin         for each key of keys.bin in order, the u64 LE offset of the data block holding it

The keys are pseudo-random (fixed seed) and cover every length path of XXPH3 (0, 1-3, 4-8, 9-16, 17-128, 129-240,
241-1023, whole 1 KiB blocks, multiples of 64) and bytes >= 0x80 at every tail position of the 32-bit hash.
"""
import glob
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 20261101
FILTER_NAME_ROCKSDB = b"fullfilter.rocksdb.BuiltinBloomFilter"
FILTER_NAME_LEVELDB = b"filter.leveldb.BuiltinBloomFilter2"


def make_keys():
    rng = random.Random(SEED)
    lengths = [0, 1, 1, 2, 2, 3, 3]
    lengths += [n for n in range(1, 17) for _ in range(12)]          # every short length, many times
    lengths += [rng.randint(17, 128) for _ in range(150)]
    lengths += [rng.randint(129, 240) for _ in range(60)]
    lengths += [rng.randint(241, 1023) for _ in range(25)]
    lengths += [128, 129, 240, 241, 256, 320, 1024, 1025, 1087, 2048, 2049, 3000, 4096, 5000]
    keys = set()
    for n in lengths:
        # Half the keys printable, half arbitrary bytes (so the 32-bit hash sees bytes >= 0x80 in its tail).
        if rng.random() < 0.5:
            k = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(n))
        else:
            k = bytes(rng.randrange(256) for _ in range(n))
        keys.add(k)
    return sorted(keys)


def varint(buf, pos):
    v, shift = 0, 0
    while True:
        b = buf[pos]
        pos += 1
        v |= (b & 0x7F) << shift
        if b < 0x80:
            return v, pos
        shift += 7


def block_entries(block, has_value_len=True):
    """(key, value) pairs of an uncompressed block (no hash index)."""
    num_restarts = struct.unpack_from("<I", block, len(block) - 4)[0] & 0x7FFFFFFF
    end = len(block) - 4 - 4 * num_restarts
    pos, key, out = 0, b"", []
    while pos < end:
        shared, pos = varint(block, pos)
        non_shared, pos = varint(block, pos)
        vlen, pos = varint(block, pos)
        key = key[:shared] + block[pos:pos + non_shared]
        pos += non_shared
        out.append((key, block[pos:pos + vlen]))
        pos += vlen
    return out


def handle(buf, pos=0):
    off, pos = varint(buf, pos)
    size, pos = varint(buf, pos)
    return off, size, pos


def read_block(data, off, size):
    assert data[off + size] == 0, "block is compressed"
    return data[off:off + size]


def rocksdb_filter(keys, bits_per_key, format_version):
    tmp = tempfile.mkdtemp(prefix="sstkit-filter-")
    try:
        db = os.path.join(tmp, "db")
        subprocess.run(["ldb", "--db=" + db, "--create_if_missing", "put", "a", "b"], check=True,
                       stdout=subprocess.DEVNULL)
        opts = sorted(glob.glob(os.path.join(db, "OPTIONS-*")))[-1]
        text = open(opts).read()
        text = text.replace("filter_policy=nullptr", "filter_policy=bloomfilter:%s:false" % bits_per_key)
        text = text.replace("format_version=5", "format_version=%d" % format_version)
        assert "bloomfilter:%s:false" % bits_per_key in text and "format_version=%d" % format_version in text
        open(opts, "w").write(text)
        sst = os.path.join(tmp, "out.sst")
        lines = "".join("0x%s ==> 0x%s\n" % (k.hex().upper(), b"v".hex()) for k in keys)
        r = subprocess.run(["ldb", "--db=" + db, "--hex", "write_extern_sst", sst], input=lines.encode(),
                           capture_output=True, check=True)
        assert b"external SST file written" in r.stdout + r.stderr, r
        data = open(sst, "rb").read()
        footer = data[-53:]
        assert footer[-8:] == bytes.fromhex("f7cff485b741e288")
        assert struct.unpack_from("<I", footer, 41)[0] == format_version
        mi_off, mi_size, _ = handle(footer, 1)
        for name, value in block_entries(read_block(data, mi_off, mi_size)):
            if name == FILTER_NAME_ROCKSDB:
                off, size, _ = handle(value)
                return read_block(data, off, size)
        raise SystemExit("no %r in the metaindex" % FILTER_NAME_ROCKSDB)
    finally:
        shutil.rmtree(tmp)


def leveldb_filter(keys):
    import plyvel
    tmp = tempfile.mkdtemp(prefix="sstkit-filter-")
    try:
        path = os.path.join(tmp, "db")
        db = plyvel.DB(path, create_if_missing=True, bloom_filter_bits=10, compression=None)
        with db.write_batch() as wb:
            for k in keys:
                wb.put(k, b"v")
        db.compact_range()
        db.close()
        tables = glob.glob(os.path.join(path, "*.ldb"))
        assert len(tables) == 1, tables
        data = open(tables[0], "rb").read()
        footer = data[-48:]
        assert footer[-8:] == bytes.fromhex("57fb808b247547db")
        mi_off, mi_size, pos = handle(footer, 0)
        ix_off, ix_size, _ = handle(footer, pos)
        filt = None
        for name, value in block_entries(read_block(data, mi_off, mi_size)):
            if name == FILTER_NAME_LEVELDB:
                off, size, _ = handle(value)
                filt = read_block(data, off, size)
        assert filt is not None, "no filter block"
        where = {}
        for _sep, value in block_entries(read_block(data, ix_off, ix_size)):
            off, size, _ = handle(value)
            for ikey, _v in block_entries(read_block(data, off, size)):
                where[ikey[:-8]] = off
        assert sorted(where) == keys, "table does not hold exactly the keys"
        return filt, where
    finally:
        shutil.rmtree(tmp)


def main():
    keys = make_keys()
    with open(os.path.join(HERE, "keys.bin"), "wb") as f:
        for k in keys:
            f.write(struct.pack("<I", len(k)) + k)
    for bpk, mbpk in (("10", 10000), ("7.5", 7500), ("30", 30000)):
        with open(os.path.join(HERE, "rocksdb_fv5_%d.filter" % mbpk), "wb") as f:
            f.write(rocksdb_filter(keys, bpk, 5))
    with open(os.path.join(HERE, "rocksdb_fv4_10000.filter"), "wb") as f:
        f.write(rocksdb_filter(keys, "10", 4))
    filt, where = leveldb_filter(keys)
    with open(os.path.join(HERE, "leveldb.filter"), "wb") as f:
        f.write(filt)
    with open(os.path.join(HERE, "leveldb_offsets.bin"), "wb") as f:
        for k in keys:
            f.write(struct.pack("<Q", where[k]))
    print("%d keys, %d LevelDB data blocks" % (len(keys), len(set(where.values()))), file=sys.stderr)


if __name__ == "__main__":
    main()
