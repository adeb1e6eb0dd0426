"""Write and read 1M entries (16-byte keys, 100-byte values) with sstkit and with rocksdict 0.3.29
(RocksDB 10.4.2): SstFileWriter for writing; iteration after IngestExternalFile for reading.

Both write the same table: no compression, format_version 5, CRC32C, 4 KiB blocks, a 10 bits/key Bloom
filter. Each measurement runs REPEAT times (alternating the two libraries) and the best is kept; wall
time and CPU time (user + sys of this process, every thread) are both printed, since the machine may be
shared with other work.

    python bench/bench_write_read.py [--entries N] [--repeat R] [--dir /tmp/...] [--overwrite]

Each write makes a new file (the previous run's is removed first, outside the timing); --overwrite writes over
it instead, as the first version of this script did.
"""

import argparse
import os
import resource
import shutil
import tempfile
import time

import rocksdict
import sstkit


def clock():
    u = resource.getrusage(resource.RUSAGE_SELF)  # every thread of this process, microsecond resolution
    return time.perf_counter(), u.ru_utime + u.ru_stime


def measure(f):
    w0, c0 = clock()
    r = f()
    w1, c1 = clock()
    return w1 - w0, c1 - c0, r


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--entries", type=int, default=1_000_000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--dir", default=None)
    p.add_argument("--overwrite", action="store_true",
                   help="write over the previous run's file instead of removing it first (the replaced file's "
                        "page cache is then freed inside the timing)")
    a = p.parse_args()
    root = tempfile.mkdtemp(prefix="sstkit-bench-", dir=a.dir)
    n = a.entries
    value = bytes(range(100))
    items = [(b"%016d" % i, value) for i in range(n)]

    def rocks_options():
        b = rocksdict.BlockBasedOptions()
        b.set_format_version(5)
        b.set_block_size(4096)
        b.set_checksum_type(rocksdict.ChecksumType.crc32c())
        b.set_bloom_filter(10, False)
        o = rocksdict.Options(raw_mode=True)
        o.set_block_based_table_factory(b)
        o.set_compression_type(rocksdict.DBCompressionType.none())
        return o

    def write_sstkit(path):
        with sstkit.SstWriter(path, compression="none", format_version=5, checksum="crc32c", block_size=4096,
                              bloom_bits=10) as w:
            w.write_all(items)
        return w.metadata["size"]

    def write_rocksdict(path):
        w = rocksdict.SstFileWriter(rocks_options())
        w.open(path)
        for k, v in items:
            w[k] = v
        w.finish()
        return os.path.getsize(path)

    def read_sstkit(path):
        c = 0
        for k, v in sstkit.SstReader(path):
            c += 1
        return c

    db_path = os.path.join(root, "db")
    db = rocksdict.Rdict(db_path, rocks_options())

    def read_rocksdict_items():
        c = 0
        for k, v in db.items():
            c += 1
        return c

    def read_rocksdict_iter():
        c = 0
        it = db.iter()
        it.seek_to_first()
        while it.valid():
            it.key()
            it.value()
            c += 1
            it.next()
        return c

    best = {}

    def keep(name, res, want=None):
        w, c, r = res
        assert want is None or r == want, (name, r, want)
        bw, bc = best.get(name, (float("inf"), float("inf")))
        best[name] = (min(bw, w), min(bc, c))

    ours = os.path.join(root, "sstkit.sst")
    theirs = os.path.join(root, "rocksdict.sst")
    def fresh(path):
        # Each write makes a new file: the old one is removed first, outside the timing (replacing a 116 MB file
        # frees its page cache, which would be charged to whichever writer replaces it).
        if not a.overwrite and os.path.exists(path):
            os.remove(path)
        return path

    for i in range(a.repeat):
        keep("write sstkit (write_all)", measure(lambda: write_sstkit(fresh(ours))))
        keep("write rocksdict (SstFileWriter)", measure(lambda: write_rocksdict(fresh(theirs))))
    sizes = (os.path.getsize(ours), os.path.getsize(theirs))
    ingest_copy = os.path.join(root, "ingest.sst")
    shutil.copy(ours, ingest_copy)
    db.ingest_external_file([ingest_copy])
    assert read_sstkit(ours) == n and read_rocksdict_items() == n
    for i in range(a.repeat):
        keep("read sstkit (SstReader iteration)", measure(lambda: read_sstkit(ours)), n)
        keep("read rocksdict (Rdict.items() after ingestion)", measure(read_rocksdict_items), n)
        keep("read rocksdict (Rdict.iter() key()/value())", measure(read_rocksdict_iter), n)
    db.close()
    print("%d entries, 16-byte keys, 100-byte values; files: sstkit %d bytes, rocksdict %d bytes; best of %d"
          % (n, sizes[0], sizes[1], a.repeat))
    print("%-48s %10s %10s   (cpu = user + sys of the whole process, getrusage)" % ("", "wall s", "cpu s"))
    for name, (w, c) in best.items():
        print("%-48s %10.3f %10.3f" % (name, w, c))
    ws, wr = best["write sstkit (write_all)"], best["write rocksdict (SstFileWriter)"]
    rs = best["read sstkit (SstReader iteration)"]
    rr = min(best["read rocksdict (Rdict.items() after ingestion)"], best["read rocksdict (Rdict.iter() key()/value())"])
    print("write speedup: %.2fx wall, %.2fx cpu" % (wr[0] / ws[0], wr[1] / ws[1]))
    print("read speedup (vs rocksdict's faster way): %.2fx wall, %.2fx cpu" % (rr[0] / rs[0], rr[1] / rs[1]))
    shutil.rmtree(root)


if __name__ == "__main__":
    main()
