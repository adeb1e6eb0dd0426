"""The Spark bulk-load example on a real local Spark (local[2], 1M rows) writing to the loopback S3 server;
RocksDB 10.4.2 then ingests every file in one call and a full scan equals the input."""

import importlib.util
import os
import shutil
import sys

import pytest

EXAMPLE = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "spark_bulk_load.py")
ROWS = 1_000_000


@pytest.fixture(scope="module")
def spark():
    try:
        from pyspark.sql import SparkSession
    except ImportError as e:
        from conftest import tool_missing
        tool_missing("pyspark", str(e))
    if shutil.which("java") is None:
        from conftest import tool_missing
        tool_missing("java", "not on PATH (Java 17)")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    os.environ["PYSPARK_DRIVER_PYTHON"] = sys.executable
    s = (SparkSession.builder.master("local[2]").appName("sstkit-test")
         .config("spark.ui.enabled", "false")
         .config("spark.sql.shuffle.partitions", "4")
         .config("spark.driver.memory", "2g")
         .getOrCreate())
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()


def load_example():
    spec = importlib.util.spec_from_file_location("spark_bulk_load", EXAMPLE)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_spark_bulk_load_to_s3(spark, moto, ingest, tmp_path, capsys):
    job = load_example()
    # Keys are a permutation of 0..ROWS-1 (7919 is prime to 10^6), so the input is not sorted.
    df = spark.range(ROWS).selectExpr(
        "cast(format_string('k%08d', (id * 7919) % {n}) as binary) as key".format(n=ROWS),
        "cast(concat('value-', id, repeat('x', cast(id % 40 as int))) as binary) as value",
    )
    files = job.bulk_load(df, moto.url("spark/"), 8, compression="lz4")
    assert 2 <= len(files) <= 8
    assert sum(f["entries"] for f in files) == ROWS
    assert [f["path"] for f in files] == sorted(f["path"] for f in files)  # partition order is key order
    job.check_no_overlap(files)
    keys = moto.objects("spark/")
    assert keys == sorted(f["path"][len("s3://%s/" % moto.bucket):] for f in files)

    local = [moto.download(k, tmp_path / os.path.basename(k)) for k in keys]
    got = ingest(local)
    want = sorted((b"k%08d" % ((i * 7919) % ROWS), b"value-%d" % i + b"x" * (i % 40)) for i in range(ROWS))
    assert len(got) == ROWS
    assert got == want
