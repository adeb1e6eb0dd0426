"""Writes tables with user-defined timestamps, by RocksDB 10.4.2 itself (rocksdict 0.3.29).

Run: /tmp/sstkit-rocksdict-venv/bin/python gen.py  (from this directory)

rocksdict has no timestamp API, so: create a DB, keep only its OPTIONS file with the comparator changed to
`leveldb.BytewiseComparator.u64ts` (and a 256-byte block size, no compression), open that directory again so
RocksDB creates a fresh DB with the timestamp comparator, and write a WriteBatch whose keys carry the 8-byte
little-endian timestamp suffix themselves; a flush writes the table. udt.sst also has a full Bloom filter.

udt.sst (timestamps persisted), what core/tests/udt.rs expects:
  k00..k29: versions at ts 10, 20 and 30 with values b"k%02d@%d"; k07 also deleted at ts 25;
  a range deletion [k20, k23) at ts 15, written after the puts (it deletes the ts-10 versions only).
udt_stripped.sst: the same DB toggled to `persist_user_defined_timestamps=false` (RocksDB strips the
  timestamps when it flushes; property user.defined.timestamps.persisted = 0): keys s00..s04, ts 0.
"""
import glob
import os
import shutil
import struct
import tempfile

import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rocksdict_fixtures import edit_options, only_sst  # noqa: E402
from rocksdict import Options, Rdict, WriteBatch


def ts(key, t):
    return key + struct.pack("<Q", t)


def fresh_options_dir(edits):
    """A directory holding only an OPTIONS file (and rocksdict's config) with `edits` applied."""
    d = tempfile.mkdtemp()
    o = Options(raw_mode=True)
    o.create_if_missing(True)
    Rdict(d, o).close()
    for f in os.listdir(d):
        if not (f.startswith("OPTIONS") or f.startswith("rocksdict")):
            os.remove(os.path.join(d, f))
    edit_options(d, edits)
    return d


COMMON = [
    ("block_size=4096", "block_size=256"),
    ("compression=kSnappyCompression", "compression=kNoCompression"),
]

# Timestamps persisted.
d = fresh_options_dir(COMMON + [
    ("comparator=leveldb.BytewiseComparator", "comparator=leveldb.BytewiseComparator.u64ts"),
    # A full Bloom filter: RocksDB adds the keys to it without their timestamps.
    ("filter_policy=nullptr", "filter_policy=bloomfilter:10:false"),
])
opts, _ = Options.load_latest(d)
db = Rdict(d, opts)
wb = WriteBatch(raw_mode=True)
for t in (10, 20, 30):
    for i in range(30):
        k = b"k%02d" % i
        wb.put(ts(k, t), k + b"@%d" % t)
wb.delete(ts(b"k07", 25))
wb.delete_range(ts(b"k20", 15), ts(b"k23", 15))
db.write(wb)
db.flush()
db.close()
only_sst(d, "udt.sst")
shutil.rmtree(d)

# Timestamps stripped: an existing bytewise DB toggled to the timestamp comparator without persisting them.
d = fresh_options_dir(COMMON)
opts, _ = Options.load_latest(d)
Rdict(d, opts).close()
edit_options(d, [
    ("comparator=leveldb.BytewiseComparator", "comparator=leveldb.BytewiseComparator.u64ts"),
    ("persist_user_defined_timestamps=true", "persist_user_defined_timestamps=false"),
    ("allow_concurrent_memtable_write=true", "allow_concurrent_memtable_write=false"),
])
opts, _ = Options.load_latest(d)
db = Rdict(d, opts)
wb = WriteBatch(raw_mode=True)
for i in range(5):
    wb.put(ts(b"s%02d" % i, 0), b"v%d" % i)
db.write(wb)
db.flush()
db.close()
only_sst(d, "udt_stripped.sst")
shutil.rmtree(d)
