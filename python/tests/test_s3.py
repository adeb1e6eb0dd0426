"""Object-store URLs against the loopback S3 server (moto): round trips, multipart uploads, rolling builds,
and failures that leave nothing behind."""

import pytest

import sstkit


def test_s3_round_trip(moto, tmp_path, ingest, sst_dump):
    items = [(b"k%06d" % i, b"x" * (i % 50)) for i in range(5000)]
    meta = sstkit.build(moto.url("one/t.sst"), items, compression="lz4")
    assert meta["entries"] == 5000 and meta["location"] == "one/t.sst"
    assert moto.objects("one/") == ["one/t.sst"]
    r = sstkit.SstReader(moto.url("one/t.sst"))
    assert list(r) == items
    assert list(r.scan(b"k000100", b"k000200")) == items[100:200]
    assert r.get(b"k004999") == items[-1][1]
    assert r.verify()["entries"] == 5000
    local = moto.download("one/t.sst", tmp_path / "t.sst")
    sst_dump(local)
    assert ingest([local]) == items


def test_empty_and_damaged_objects_are_errors(moto):
    moto.put("bad/empty.sst", b"")
    with pytest.raises(sstkit.CorruptionError, match="empty"):
        sstkit.SstReader(moto.url("bad/empty.sst"))
    moto.put("bad/junk.sst", b"\x00" * 100)
    with pytest.raises(sstkit.CorruptionError):
        sstkit.SstReader(moto.url("bad/junk.sst"))
    with pytest.raises(FileNotFoundError):
        sstkit.SstReader(moto.url("bad/missing.sst"))


def test_multipart_upload_round_trip(moto, tmp_path, ingest):
    # 12 MiB in 5 MiB parts: a multipart upload of three parts.
    items = [(b"%016d" % i, bytes([i % 251]) * 100) for i in range(110_000)]
    with sstkit.SstWriter(moto.url("multi/big.sst"), part_size=5 << 20, bloom_bits=0) as w:
        assert w.write_all(iter(items)) == len(items)
    assert w.metadata["size"] > 10 << 20
    assert moto.objects("multi/") == ["multi/big.sst"] and moto.multipart_uploads() == []
    r = sstkit.SstReader(moto.url("multi/big.sst"))
    assert len(r) == len(items)
    got = list(r)
    assert got == items
    assert ingest([moto.download("multi/big.sst", tmp_path / "big.sst")]) == items


def test_an_exception_in_the_block_leaves_nothing(moto):
    with pytest.raises(RuntimeError, match="stop"):
        with sstkit.SstWriter(moto.url("aborted/t.sst"), part_size=5 << 20) as w:
            w.write_all((b"%016d" % i, b"v" * 100) for i in range(60_000))  # > 5 MiB: parts went up
            assert w.estimated_size > 5 << 20
            raise RuntimeError("stop")
    assert moto.objects("aborted/") == []
    assert "aborted/t.sst" not in moto.multipart_uploads()


def test_a_key_out_of_order_in_build_leaves_nothing(moto):
    def items():
        for i in range(60_000):
            yield b"%016d" % i, b"v" * 100
        yield b"0", b"late"

    with pytest.raises(sstkit.OutOfOrderError) as e:
        sstkit.build(moto.url("ooo/t.sst"), items(), part_size=5 << 20)
    assert "0000000000059999" in str(e.value)
    assert moto.objects("ooo/") == []
    assert "ooo/t.sst" not in moto.multipart_uploads()


def test_a_failing_upload_leaves_nothing_and_says_why(moto):
    url = "s3://no-such-bucket-sstkit/t.sst"
    w = sstkit.SstWriter(url, part_size=5 << 20)
    # moto answers NoSuchBucket (404): FileNotFoundError; other store failures are StoreError.
    with pytest.raises((sstkit.StoreError, FileNotFoundError)) as e:
        w.write_all((b"%016d" % i, b"v" * 100) for i in range(60_000))
        w.close()
    assert "no-such-bucket-sstkit" in str(e.value) or "NoSuchBucket" in str(e.value)
    with pytest.raises(sstkit.SstkitError):
        w.put(b"zz", b"after the failure")
    w.abort()
    assert "t.sst" not in moto.objects("")


def test_rolling_build_to_s3(moto, tmp_path, ingest):
    items = [(b"key%08d" % i, b"v" * 100) for i in range(15000)]
    files = sstkit.build_rolling(moto.url("roll"), items, target_size=512 << 10, level=6, first_id=10)
    assert len(files) >= 2
    assert [f["path"] for f in files] == [moto.url("roll/6/%06d.sst" % (10 + i)) for i in range(len(files))]
    assert moto.objects("roll/") == ["roll/6/%06d.sst" % (10 + i) for i in range(len(files))]
    local = [moto.download("roll/6/%06d.sst" % f["id"], tmp_path / ("%d.sst" % f["id"])) for f in files]
    assert ingest(local) == items


def test_rolling_build_failure_leaves_nothing(moto):
    def items():
        for i in range(15000):
            yield b"key%08d" % i, b"v" * 100
        yield b"a", b"out of order"

    with pytest.raises(sstkit.OutOfOrderError):
        sstkit.build_rolling(moto.url("rollfail"), items(), target_size=128 << 10)
    assert moto.objects("rollfail/") == []
