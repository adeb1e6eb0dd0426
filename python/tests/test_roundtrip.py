"""Round trips against a dict model: what sstkit writes it reads back exactly, RocksDB 10.4.2 ingests it
and finds the same, and RocksDB 7.8.3's sst_dump verifies every checksum."""

import os
import random

import pytest

import sstkit


def model(n, seed, key_len=(1, 24), value_len=(0, 300)):
    rnd = random.Random(seed)
    d = {}
    while len(d) < n:
        k = bytes(rnd.randrange(256) for _ in range(rnd.randint(*key_len)))
        d[k] = bytes(rnd.randrange(256) for _ in range(rnd.randint(*value_len)))
    return d


CONFIGS = [
    {},
    {"compression": "lz4", "block_size": 1024},
    {"checksum": "xxh3", "format_version": 6, "bloom_bits": 0},
    {"checksum": "xxhash64", "format_version": 7, "restart_interval": 4, "index_restart_interval": 8},
    {"checksum": "xxhash", "format_version": 2, "block_size": 256},
    {"checksum": "none", "format_version": 3, "expected_keys": 10},
]


@pytest.mark.parametrize("opts", CONFIGS, ids=lambda o: ",".join("%s=%s" % kv for kv in o.items()) or "defaults")
def test_round_trip_against_a_dict(tmp_path, opts, ingest, sst_dump):
    d = model(3000, seed=len(opts))
    items = sorted(d.items())
    path = tmp_path / "t.sst"
    meta = sstkit.build(path, iter(items), **opts)
    assert meta["entries"] == meta["num_puts"] == len(d)
    assert meta["size"] == os.path.getsize(path)
    assert meta["first_key"] == items[0][0] and meta["last_key"] == items[-1][0]
    assert meta["data_blocks"] >= 1

    r = sstkit.SstReader(path)
    assert len(r) == len(d)
    assert list(r) == items
    assert list(reversed(r)) == items[::-1]
    rnd = random.Random(7)
    for k in rnd.sample(list(d), 200):
        assert r.get(k) == d[k]
        assert k in r
    assert r.get(b"\xff" * 30) is None
    assert r.get(b"\xff" * 30, b"dflt") == b"dflt"
    keys = [k for k, _ in items]
    for _ in range(20):
        a, b = sorted(rnd.sample(keys, 2))
        want = [(k, v) for k, v in items if a <= k < b]
        assert list(r.scan(a, b)) == want
        assert list(r.items(a, b, reverse=True)) == want[::-1]
        assert list(r.seek(a)) == [(k, v) for k, v in items if k >= a]
        assert list(r.seek(b, reverse=True)) == [(k, v) for k, v in items if k <= b][::-1]
    props = r.properties
    assert props["rocksdb.num.entries"] == len(d)
    assert r.verify() == {"blocks": r.verify()["blocks"], "entries": len(d)}

    if opts.get("format_version") == 7:
        # RocksDB 10.4.2 writes format_version 7 (rocksdict's tables in test_rocksdict_tables) but refuses to
        # open or ingest it.
        with pytest.raises(Exception, match="unsupported format_version: 7"):
            ingest([path])
    else:
        assert ingest([path]) == items
    if opts.get("format_version", 5) <= 5:  # sst_dump 7.8.3 reads format_version ≤ 5
        sst_dump(path)


def test_every_op_kind_round_trips(tmp_path, ingest, sst_dump):
    path = tmp_path / "ops.sst"
    with sstkit.SstWriter(path) as w:
        w.put(b"a", b"1")
        w.delete(b"b")
        w.merge(b"c", b"+1")
        w.delete_range(b"d", b"f")
        w.put(bytearray(b"g"), memoryview(b"7"))
    m = w.metadata
    assert (m["num_puts"], m["num_deletions"], m["num_merges"], m["num_range_deletions"]) == (2, 1, 1, 1)
    assert m["smallest_key"] == b"a" and m["largest_key"] == b"g"
    r = sstkit.SstReader(path)
    assert list(r) == [(b"a", b"1"), (b"g", b"7")]
    assert list(r.items(kinds=True)) == [(b"a", "put", b"1"), (b"b", "delete", b""), (b"c", "merge", b"+1"),
                                         (b"g", "put", b"7")]
    assert list(r.items(kinds=True, reverse=True))[0] == (b"g", "put", b"7")
    assert r.range_tombstones() == [(b"d", b"f")]
    assert r.get(b"b") is None and r.get_entry(b"b") == ("delete", b"")
    assert r.get_entry(b"e")[0] == "delete_range"
    assert r.get(b"c") == b"+1"
    assert len(r) == 4
    sst_dump(path)


def test_str_keys_with_an_encoding(tmp_path):
    path = tmp_path / "s.sst"
    with sstkit.SstWriter(str(path), encoding="utf-8") as w:
        w.write_all([("ä", "ü"), ("ö", b"raw")])
    r = sstkit.SstReader(path, encoding="utf-8")
    assert r.get("ä") == "ü".encode()
    assert list(r) == [("ä".encode(), "ü".encode()), ("ö".encode(), b"raw")]


def test_file_url_and_memoryview_buffers(tmp_path):
    path = tmp_path / "dir" / "u.sst"
    url = "file://" + str(path)
    n = sstkit.SstWriter(url)
    n.write_all((memoryview(b"k%05d" % i), bytearray(b"v" * (i % 7))) for i in range(500))
    meta = n.close()
    assert n.closed and meta["entries"] == 500 and path.exists()
    assert n.close() == meta  # closing twice returns the same metadata
    r = sstkit.SstReader(url)
    assert r.get(b"k00010") == b"vvv"


def test_rolling_build_writes_non_overlapping_files(tmp_path, ingest, sst_dump):
    items = [(b"key%08d" % i, b"v" * 100) for i in range(20000)]
    files = sstkit.build_rolling(tmp_path / "out", iter(items), target_size=256 << 10, bloom_bits=0)
    assert len(files) > 3
    assert sum(f["entries"] for f in files) == len(items)
    for a, b in zip(files, files[1:]):
        assert a["largest_key"] < b["smallest_key"]
    assert [f["id"] for f in files] == list(range(1, len(files) + 1))
    for f in files:
        assert os.path.exists(f["path"]) and f["path"].endswith("%06d.sst" % f["id"])
        sst_dump(f["path"])
    assert ingest([f["path"] for f in files]) == items


def test_iterators_dropped_early_and_many_at_once(tmp_path):
    path = tmp_path / "t.sst"
    items = [(b"%08d" % i, b"v" * 30) for i in range(20000)]
    sstkit.build(path, items, block_size=512)
    r = sstkit.SstReader(path)
    for _ in range(50):  # each starts a scan thread that must stop when its iterator goes away
        it = iter(r)
        assert next(it) == items[0]
        del it
    its = [iter(r), reversed(r), r.items(kinds=True), r.scan(b"00001000", b"00002000")]
    firsts = [next(i) for i in its]
    assert firsts == [items[0], items[-1], (items[0][0], "put", items[0][1]), items[1000]]
    assert len(list(its[0])) == len(items) - 1


def test_an_exception_from_the_iterable_leaves_no_file(tmp_path):
    def gen():
        for i in range(100_000):
            yield b"%08d" % i, b"v"
        raise ValueError("the source failed")

    with pytest.raises(ValueError, match="the source failed"):
        with sstkit.SstWriter(tmp_path / "t.sst") as w:
            w.write_all(gen())
    assert os.listdir(tmp_path) == []
    # Pairs before a bad one are written; the writer stays usable.
    w = sstkit.SstWriter(tmp_path / "u.sst")
    with pytest.raises(TypeError, match="value"):
        w.write_all([(b"a", b"1"), (b"b", 2)])
    w.put(b"c", b"3")
    assert w.close()["entries"] == 2
    assert list(sstkit.SstReader(tmp_path / "u.sst")) == [(b"a", b"1"), (b"c", b"3")]


# A table RocksDB wrote with user-defined timestamps (core/tests/data/udt): the versions of k08 (ts 30, 20 | 10)
# span two data blocks, and the index separators end in a timestamp.
UDT = os.path.join(os.path.dirname(__file__), "..", "..", "core", "tests", "data", "udt", "udt.sst")


def test_a_reverse_seek_keeps_every_version_of_its_key_in_a_table_with_timestamps():
    r = sstkit.SstReader(UDT)
    forward = [e for e in r.items(kinds=True) if e[0] == b"k08"]
    assert len(forward) == 3, forward
    backward = [e for e in r.seek(b"k08", reverse=True, kinds=True) if e[0] == b"k08"]
    assert backward == forward[::-1]
