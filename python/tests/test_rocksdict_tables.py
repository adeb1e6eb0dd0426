"""Tables that RocksDB 10.4.2 (rocksdict's SstFileWriter) writes are read exactly."""

import random

import pytest

import sstkit

TABLES = [
    {},
    {"compression": "lz4", "block_size": 512, "bloom_bits": 10},
    {"compression": "zstd", "format_version": 6, "checksum": "xxh3"},
    {"compression": "snappy", "format_version": 7, "restart_interval": 3},
    {"compression": "zlib", "format_version": 5, "checksum": "xxhash64"},
]


def write_with_rocksdb(r, path, table, entries):
    b = r.BlockBasedOptions()
    if "format_version" in table:
        b.set_format_version(table["format_version"])
    if "checksum" in table:
        b.set_checksum_type(getattr(r.ChecksumType, table["checksum"])())
    if table.get("bloom_bits"):
        b.set_bloom_filter(table["bloom_bits"], False)
    if "block_size" in table:
        b.set_block_size(table["block_size"])
    if "restart_interval" in table:
        b.set_block_restart_interval(table["restart_interval"])
    o = r.Options(raw_mode=True)
    o.set_block_based_table_factory(b)
    o.set_compression_type(getattr(r.DBCompressionType, table.get("compression", "none"))())
    w = r.SstFileWriter(o)
    w.open(str(path))
    for kind, k, v in entries:
        if kind == "put":
            w[k] = v
        else:
            del w[k]
    w.finish()


@pytest.mark.parametrize("table", TABLES, ids=lambda t: ",".join("%s=%s" % kv for kv in t.items()) or "defaults")
def test_rocksdb_tables_read_exactly(tmp_path, rocksdict, table):
    rnd = random.Random(3)
    keys = sorted({b"%08d" % rnd.randrange(10**8) + bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 8)))
                   for _ in range(4000)})
    entries = []
    for k in keys:
        if rnd.random() < 0.2:
            entries.append(("delete", k, b""))
        else:
            entries.append(("put", k, bytes(rnd.randrange(256) for _ in range(rnd.randint(0, 200)))))
    path = tmp_path / "rocks.sst"
    write_with_rocksdb(rocksdict, path, table, entries)

    r = sstkit.SstReader(path)
    assert list(r.items(kinds=True)) == [(k, kind, v) for kind, k, v in entries]
    assert list(r) == [(k, v) for kind, k, v in entries if kind == "put"]
    assert list(reversed(r)) == [(k, v) for kind, k, v in entries if kind == "put"][::-1]
    assert len(r) == len(entries)
    for kind, k, v in rnd.sample(entries, 300):
        assert r.get(k) == (v if kind == "put" else None)
        assert r.get_entry(k) == (kind, v)
    assert r.get(b"zzzz") is None
    assert r.verify()["entries"] == len(entries)
    props = r.properties
    assert props["rocksdb.num.entries"] == len(entries)
    assert props["rocksdb.comparator"] == "leveldb.BytewiseComparator"
