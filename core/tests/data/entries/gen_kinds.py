"""Writes kinds.sst and blob.sst: tables RocksDB 10.4.2 (rocksdict 0.3.29) wrote with merge operands, single
deletions, range deletions and blob references, through DB writes and a flush.

Run: /tmp/sstkit-rocksdict-venv/bin/python gen_kinds.py  (from this directory). core/tests/entries.rs and
std-io/tests/cli_entries.rs expect exactly what is written here.

rocksdict has no Merge or SingleDelete call, so kinds.sst goes in through the write-ahead log: after a new DB
closed, one WriteBatch record (RocksDB's log format: masked CRC32C, length, type 1; batch:
fixed64 seqno, fixed32 count, then `type, varint-prefixed key[, value]` per entry) is written to its empty WAL.
Reopening replays it and flushes the recovered memtable. The OPTIONS file names the built-in `stringappend`
merge operator so that the flush accepts merge operands (one operand per key stays a merge operand).

kinds.sst: the batch OPS below, seqnos 1..9. RocksDB's flush keeps: a_put (put, seq 1), c_merge (merge m1,
  seq 3), e_merge (merge m2, seq 8), f_sd (single deletion, seq 9) and the range deletion [d_range1, d_range3)
  (seq 6); it drops b_sd's put with the single deletion that meets it, and the puts the range deletion covers.
blob.sst: enable_blob_files with min_blob_size 8: big1 (seq 1) and big2 (seq 2) hold 40-byte values as blob
  references (blob file 10, offsets 66 and 142, size 40, uncompressed); small (seq 3) = b"tiny" stays inline.
"""
import glob
import os
import shutil
import struct
import tempfile

import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from rocksdict_fixtures import edit_options, only_sst  # noqa: E402
from rocksdict import Options, Rdict

BLOCK = 32768


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def mask(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(n):
    out = b""
    while n >= 0x80:
        out += bytes([n & 0x7F | 0x80])
        n >>= 7
    return out + bytes([n])


def lp(b):
    return varint(len(b)) + b


def append_batch(wal, seqno, ops):
    """Appends one WriteBatch of `ops` ((type, key, value or None)) at `seqno` to the log file `wal`."""
    body = struct.pack("<QI", seqno, len(ops))
    for t, k, v in ops:
        body += bytes([t]) + lp(k) + (lp(v) if v is not None else b"")
    size = os.path.getsize(wal)
    left = BLOCK - size % BLOCK
    pad = b""
    if left < 7 + len(body):
        assert left < 7 or size % BLOCK == 0, "record would need fragments"
        pad = b"\0" * (left % BLOCK if left < 7 else 0)
    rtype = 1  # kFullType
    header = struct.pack("<IHB", mask(crc32c(bytes([rtype]) + body)), len(body), rtype)
    with open(wal, "ab") as f:
        f.write(pad + header + body)


PUT, MERGE, SINGLE_DELETE, RANGE_DELETE = 0x1, 0x2, 0x7, 0xF
# Seqnos 1.. in this order.
OPS = [
    (PUT, b"a_put", b"v1"),
    (PUT, b"b_sd", b"x"),
    (MERGE, b"c_merge", b"m1"),
    (PUT, b"d_range1", b"r1"),
    (PUT, b"d_range2", b"r2"),
    (RANGE_DELETE, b"d_range1", b"d_range3"),
    (SINGLE_DELETE, b"b_sd", None),
    (MERGE, b"e_merge", b"m2"),
    (SINGLE_DELETE, b"f_sd", None),
]


# kinds.sst: every entry through one WAL record, replayed and flushed when the DB reopens.
d = tempfile.mkdtemp()
o = Options(raw_mode=True)
o.create_if_missing(True)
Rdict(d, o).close()
edit_options(d, [("merge_operator=nullptr", "merge_operator=stringappend"),
                 ("compression=kSnappyCompression", "compression=kNoCompression")])
wals = sorted(glob.glob(d + "/*.log"))
assert wals and os.path.getsize(wals[-1]) == 0, os.listdir(d)
append_batch(wals[-1], 1, OPS)
opts, _ = Options.load_latest(d)
db = Rdict(d, opts)
assert db[b"c_merge"] == b"m1", "the WAL record was replayed"
db.close()
only_sst(d, "kinds.sst")
shutil.rmtree(d)

# blob.sst
d = tempfile.mkdtemp()
o = Options(raw_mode=True)
o.create_if_missing(True)
o.set_enable_blob_files(True)
o.set_min_blob_size(8)
db = Rdict(d, o)
db[b"big1"] = b"B" * 40
db[b"big2"] = b"C" * 40
db[b"small"] = b"tiny"
db.flush()
db.close()
only_sst(d, "blob.sst")
shutil.rmtree(d)
