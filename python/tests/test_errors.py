"""Bad input and bad calls raise clear exceptions that carry the Rust error's text; nothing half-made is left."""

import os

import pytest

import sstkit


def test_out_of_order_names_both_keys_and_the_writer_stays_usable(tmp_path):
    path = tmp_path / "t.sst"
    w = sstkit.SstWriter(path)
    w.put(b"banana", b"1")
    with pytest.raises(sstkit.OutOfOrderError) as e:
        w.put(b"apple", b"2")
    assert "banana" in str(e.value) and "apple" in str(e.value)
    with pytest.raises(sstkit.OutOfOrderError):
        w.write_all([(b"cherry", b"3"), (b"banana", b"4")])  # a repeated key
    w.put(b"date", b"5")
    meta = w.close()
    assert meta["entries"] == 3
    assert list(sstkit.SstReader(path)) == [(b"banana", b"1"), (b"cherry", b"3"), (b"date", b"5")]


def test_an_exception_in_the_block_leaves_no_file(tmp_path):
    path = tmp_path / "t.sst"
    with pytest.raises(KeyError):
        with sstkit.SstWriter(path) as w:
            w.put(b"a", b"1")
            raise KeyError("boom")
    assert os.listdir(tmp_path) == []


def test_a_failed_build_leaves_no_file(tmp_path):
    with pytest.raises(sstkit.OutOfOrderError):
        sstkit.build(tmp_path / "t.sst", [(b"b", b""), (b"a", b"")])
    with pytest.raises(TypeError):
        sstkit.build(tmp_path / "t.sst", [(b"a", b""), (b"b", 5)])
    assert os.listdir(tmp_path) == []


def test_a_dropped_writer_leaves_no_file(tmp_path):
    w = sstkit.SstWriter(tmp_path / "t.sst")
    w.put(b"a", b"1")
    del w
    assert os.listdir(tmp_path) == []


def test_an_empty_table_is_an_error(tmp_path):
    with pytest.raises(sstkit.InvalidArgumentError, match="no entries"):
        with sstkit.SstWriter(tmp_path / "t.sst"):
            pass
    assert os.listdir(tmp_path) == []


def test_closed_writer(tmp_path):
    w = sstkit.SstWriter(tmp_path / "t.sst")
    w.put(b"a", b"")
    w.close()
    with pytest.raises(sstkit.InvalidArgumentError, match="closed"):
        w.put(b"b", b"")
    w.abort()  # a no-op once closed
    assert os.path.exists(tmp_path / "t.sst")


@pytest.mark.parametrize("key, message", [
    ("text", "encoding="),
    (5, "bytes-like"),
    (None, "bytes-like"),
    ([1, 2], "bytes-like"),
])
def test_bad_keys(tmp_path, key, message):
    w = sstkit.SstWriter(tmp_path / "t.sst")
    with pytest.raises(TypeError, match=message):
        w.put(key, b"v")
    w.abort()


def test_bad_items():
    w = sstkit.SstWriter("memory:///t.sst")
    with pytest.raises(TypeError, match="tuples"):
        w.write_all([b"just a key"])
    with pytest.raises(TypeError, match="tuples"):
        w.write_all([(b"k", b"v", b"extra")])
    with pytest.raises(TypeError):
        w.write_all(5)
    w.abort()


@pytest.mark.parametrize("opts, exc, message", [
    ({"block_size": 10}, ValueError, "block_size must be between 256"),
    ({"block_size": -1}, ValueError, "block_size"),
    ({"block_size": "4k"}, TypeError, "block_size must be an int"),
    ({"bloom_bits": True}, TypeError, "bloom_bits must be an int"),
    ({"compression": "brotli"}, ValueError, "'none' or 'lz4'"),
    ({"checksum": "md5"}, ValueError, "checksum"),
    ({"format_version": 9}, ValueError, "format_version"),
    ({"part_size": 1024}, ValueError, "part_size"),
    ({"encoding": "no-such-codec"}, LookupError, "no-such-codec"),
    ({"colour": "blue"}, TypeError, 'unknown option "colour"'),
])
def test_bad_options(tmp_path, opts, exc, message):
    with pytest.raises(exc, match=message):
        sstkit.SstWriter(tmp_path / "t.sst", **opts)
    assert os.listdir(tmp_path) == []


def test_bad_rolling_arguments(tmp_path):
    with pytest.raises(ValueError, match="target_size"):
        sstkit.build_rolling(tmp_path, [], target_size=10)
    with pytest.raises(TypeError):
        sstkit.build_rolling(tmp_path, [])  # target_size is required


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError):
        sstkit.SstReader(tmp_path / "missing.sst")
    with pytest.raises(sstkit.InvalidArgumentError, match="directory"):
        sstkit.SstReader(tmp_path)
    with pytest.raises(ValueError, match="empty"):
        sstkit.SstReader("")
    with pytest.raises(TypeError):
        sstkit.SstReader(42)
    with pytest.raises(sstkit.SstkitError, match="unsupported|URL"):
        sstkit.SstReader("ftp://host/x.sst")


def test_corrupt_files(tmp_path):
    empty = tmp_path / "empty.sst"
    empty.write_bytes(b"")
    with pytest.raises(sstkit.CorruptionError, match="empty"):
        sstkit.SstReader(empty)
    junk = tmp_path / "junk.sst"
    junk.write_bytes(b"\x00" * 100)
    with pytest.raises(sstkit.CorruptionError):
        sstkit.SstReader(junk)
    # A flipped byte inside a data block: open works (metadata is intact), reading the block does not.
    path = tmp_path / "t.sst"
    meta = sstkit.build(path, [(b"k%05d" % i, b"v" * 50) for i in range(2000)], bloom_bits=0)
    data = bytearray(path.read_bytes())
    data[100] ^= 0xFF
    path.write_bytes(bytes(data))
    r = sstkit.SstReader(path)
    with pytest.raises(sstkit.CorruptionError, match="checksum|offset"):
        r.verify()
    with pytest.raises(sstkit.CorruptionError):
        list(r)
    assert meta["data_blocks"] > 1
    with pytest.raises(sstkit.CorruptionError):
        sstkit.SstReader(path, verify_checksums="always").verify()
    assert list(sstkit.SstReader(path, verify_checksums=False).scan(b"k01000", b"k01002")) == [
        (b"k01000", b"v" * 50), (b"k01001", b"v" * 50)]
    assert sstkit.SstReader(path, verify_checksums="never").get(b"k01999") == b"v" * 50
    with pytest.raises(ValueError, match="verify_checksums"):
        sstkit.SstReader(path, verify_checksums="sometimes")


# RocksDB 10.4.2's table with a partitioned filter (core/tests/data/partitioned): its first filter partition
# starts right after the last data block (@39150+85, then the 5-byte trailer), at offset 39240.
PFILTER = os.path.join(os.path.dirname(__file__), "..", "..", "core", "tests", "data", "partitioned", "fv6_pfilter.sst")


def test_verify_checks_the_filter_partitions(tmp_path):
    data = bytearray(open(PFILTER, "rb").read())
    # 156 data blocks and 37 filter partitions.
    assert sstkit.SstReader(PFILTER).verify() == {"blocks": 156 + 37, "entries": 1200}
    data[39240 + 10] ^= 0x01
    path = tmp_path / "bad_filter.sst"
    path.write_bytes(bytes(data))
    with pytest.raises(sstkit.CorruptionError, match="filter"):
        sstkit.SstReader(path).verify()


def test_exceptions_form_a_hierarchy():
    for e in (sstkit.OutOfOrderError, sstkit.CorruptionError, sstkit.UnsupportedError,
              sstkit.InvalidArgumentError, sstkit.StoreError):
        assert issubclass(e, sstkit.SstkitError)
    assert issubclass(sstkit.SstkitError, Exception)
