"""Writes entities.sst: a table RocksDB (rocksdict 0.3.29, RocksDB 10.4.2) wrote with wide-column entities.

Run: /tmp/sstkit-rocksdict-venv/bin/python gen.py (from this directory). Keys and columns are what
core/tests/entries.rs expects.
"""
import glob
import shutil
import tempfile

from rocksdict import Options, Rdict

d = tempfile.mkdtemp()
opts = Options(raw_mode=True)
opts.create_if_missing(True)
db = Rdict(d, opts)
db.put_entity(b"e1", [b"", b"attr", b"colour"], [b"default-value", b"x", b"blue"])
db.put_entity(b"e2", [b"a", b"b"], [b"1", b""])
db.put_entity(b"e3", [], [])
db[b"plain"] = b"v"
db[b"zgone"] = b"old"
db.delete(b"zgone")
db.flush()
db.close()
ssts = glob.glob(d + "/*.sst")
assert len(ssts) == 1, ssts
shutil.copy(ssts[0], "entities.sst")
shutil.rmtree(d)
