"""Bulk-load a Spark DataFrame into RocksDB: one SST file per range partition, written by sstkit.

The DataFrame has a `key` and a `value` column (binary or string). The job range-partitions it by key
(`repartitionByRange`), sorts each partition (`sortWithinPartitions`), and writes each partition as one SST
file with `sstkit` inside `mapPartitions`, to a local directory or an `s3://` (`gs://`, `az://`) prefix.
Each task returns its file's metadata to the driver, which checks that the files do not overlap (so RocksDB
can ingest them all in one `IngestExternalFile` call, into the bottommost level) and prints the ingestion
list, one path per line, in key order.

Spark orders binary and string columns bytewise (unsigned), RocksDB's default comparator order, so the
partitions' key ranges are disjoint and each partition comes out sorted. Keys must be unique: a duplicate
key fails its partition's task with sstkit.OutOfOrderError (and leaves no file).

    spark-submit examples/spark_bulk_load.py INPUT.parquet s3://bucket/load/ --files 64

Object-store credentials come from the executors' environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
AWS_ENDPOINT, ...; pass them with `--conf spark.executorEnv.NAME=...` on a cluster).
"""

import argparse
import sys


def _join(output, name):
    return output.rstrip("/") + "/" + name


def write_partitions(output, options):
    """The function `mapPartitions` runs: writes the partition's sorted rows as one SST file (none for an
    empty partition) and yields the file's metadata."""

    def run(rows):
        import itertools

        import sstkit
        from pyspark import TaskContext

        part = TaskContext.get().partitionId()
        pairs = ((bytes(r[0]) if not isinstance(r[0], str) else r[0].encode(),
                  bytes(r[1]) if not isinstance(r[1], str) else r[1].encode()) for r in rows)
        first = next(pairs, None)
        if first is None:
            return
        path = _join(output, "%06d.sst" % (part + 1))
        # Closed on success; on any error the file (or the upload) is removed and the task fails.
        with sstkit.SstWriter(path, **options) as w:
            w.write_all(itertools.chain([first], pairs))
        meta = dict(w.metadata)
        meta["path"] = path
        meta["partition"] = part
        meta.pop("properties", None)
        yield meta

    return run


def check_no_overlap(files):
    """Sorts the files by key and checks that each ends before the next starts; returns them in order."""
    files = sorted(files, key=lambda f: f["smallest_key"])
    for a, b in zip(files, files[1:]):
        if not a["largest_key"] < b["smallest_key"]:
            raise ValueError("%s and %s overlap: %r >= %r" % (a["path"], b["path"], a["largest_key"],
                                                             b["smallest_key"]))
    return files


def bulk_load(df, output, num_files, key="key", value="value", **options):
    """Writes `df` as up to `num_files` non-overlapping SST files under `output`; returns their metadata
    in key order. `options` are sstkit.SstWriter's (compression, block_size, bloom_bits, ...)."""
    ranged = df.select(key, value).repartitionByRange(num_files, key).sortWithinPartitions(key)
    files = ranged.rdd.mapPartitions(write_partitions(output, options)).collect()
    return check_no_overlap(files)


def main(argv=None):
    from pyspark.sql import SparkSession

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("input", help="a Parquet file or directory with `key` and `value` columns")
    p.add_argument("output", help="a local directory or an s3://, gs://, az:// prefix")
    p.add_argument("--files", type=int, default=8, help="number of SST files (range partitions)")
    p.add_argument("--compression", default="none", choices=["none", "lz4"])
    args = p.parse_args(argv)
    spark = SparkSession.builder.appName("sstkit-bulk-load").getOrCreate()
    try:
        files = bulk_load(spark.read.parquet(args.input), args.output, args.files, compression=args.compression)
    finally:
        spark.stop()
    total = sum(f["entries"] for f in files)
    print("# %d files, %d entries, %d bytes; ingest them in one call:" % (len(files), total,
                                                                        sum(f["size"] for f in files)),
          file=sys.stderr)
    for f in files:
        print(f["path"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
