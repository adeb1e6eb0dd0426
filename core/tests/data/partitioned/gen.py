"""Writes partitioned-index tables with RocksDB 10.4.2 (rocksdict 0.3.29) and the expected entries.

Run: /tmp/sstkit-rocksdict-venv/bin/python gen.py  (from this directory)
Keys: k00000..k01199; key i is deleted when i % 10 == 3, else put with value (b"v%d-" % i) * (i % 7 + 1).
"""
import rocksdict as r

N = 1200


def kv(i):
    return b"k%05d" % i, (b"v%d-" % i) * (i % 7 + 1)


def write(name, fv, partition_filters, compression=r.DBCompressionType.none(), bloom=True):
    o = r.Options(raw_mode=True)
    o.set_compression_type(compression)
    b = r.BlockBasedOptions()
    b.set_index_type(r.BlockBasedIndexType.two_level_index_search())
    b.set_block_size(256)
    b.set_metadata_block_size(128)
    b.set_format_version(fv)
    if bloom:
        b.set_bloom_filter(10, False)
    b.set_partition_filters(partition_filters)
    o.set_block_based_table_factory(b)
    w = r.SstFileWriter(options=o)
    w.open(name)
    for i in range(N):
        k, v = kv(i)
        if i % 10 == 3:
            del w[k]
        else:
            w[k] = v
    w.finish()


write("fv5.sst", 5, False)
write("fv6_pfilter.sst", 6, True)
write("fv4_pfilter.sst", 4, True)
write("fv6_lz4.sst", 6, True, r.DBCompressionType.lz4())
# No filter: the index partitions are the first metadata blocks, so a ranged reader must fetch them itself.
write("fv5_nofilter.sst", 5, False, bloom=False)


def write_small(name):
    """A 2.5 KB partitioned table (60 keys, 64-byte blocks and partitions): a fuzz seed (fuzz/make_corpus.sh)."""
    o = r.Options(raw_mode=True)
    b = r.BlockBasedOptions()
    b.set_index_type(r.BlockBasedIndexType.two_level_index_search())
    b.set_block_size(64)
    b.set_metadata_block_size(64)
    b.set_format_version(6)
    b.set_bloom_filter(10, False)
    b.set_partition_filters(True)
    o.set_block_based_table_factory(b)
    w = r.SstFileWriter(options=o)
    w.open(name)
    for i in range(60):
        k = b"k%03d" % i
        if i % 10 == 3:
            del w[k]
        else:
            w[k] = b"v%d" % i
    w.finish()


write_small("small_fv6_seed.sst")
