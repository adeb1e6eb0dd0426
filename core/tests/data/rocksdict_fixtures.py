"""Helpers shared by the fixture scripts that have RocksDB (rocksdict) write tables: udt/gen.py and
entries/gen_kinds.py."""
import glob
import shutil


def edit_options(d, edits):
    """Applies `(old, new)` text replacements to the OPTIONS file(s) of the DB directory `d`; each must match."""
    for f in glob.glob(d + "/OPTIONS-*"):
        s = open(f).read()
        for a, b in edits:
            assert a in s, a
            s = s.replace(a, b)
        open(f, "w").write(s)


def only_sst(d, out):
    """Copies the one table of the DB directory `d` to `out`."""
    ssts = glob.glob(d + "/*.sst")
    assert len(ssts) == 1, ssts
    shutil.copy(ssts[0], out)
