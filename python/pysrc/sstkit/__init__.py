"""sstkit: write and read RocksDB-compatible SST files from Python.

Tables go to (and come from) local paths or object-store URLs (``s3://``, ``gs://``, ``az://``,
``file://``), with credentials from the environment as in the ``sstkit`` CLI (``AWS_ACCESS_KEY_ID``,
``AWS_SECRET_ACCESS_KEY``, ``AWS_ENDPOINT``, ``AWS_ALLOW_HTTP``, ``GOOGLE_SERVICE_ACCOUNT``,
``AZURE_STORAGE_ACCOUNT_NAME``, ...). The files are what RocksDB's ``SstFileWriter`` writes and
``IngestExternalFile`` takes.

>>> import sstkit, tempfile, os
>>> path = os.path.join(tempfile.mkdtemp(), "000001.sst")
>>> with sstkit.SstWriter(path) as w:
...     w.write_all((b"key%04d" % i, b"value") for i in range(100))
100
>>> r = sstkit.SstReader(path)
>>> r.get(b"key0042"), len(r)
(b'value', 100)
"""

from typing import Any, Iterable, Tuple

from ._sstkit import (
    WRITER_OPTIONS,
    CorruptionError,
    EntryIterator,
    InvalidArgumentError,
    OutOfOrderError,
    SstkitError,
    SstReader,
    SstWriter,
    StoreError,
    UnsupportedError,
    build_rolling,
)

__all__ = [
    "SstWriter",
    "SstReader",
    "EntryIterator",
    "build",
    "build_rolling",
    "SstkitError",
    "OutOfOrderError",
    "CorruptionError",
    "UnsupportedError",
    "InvalidArgumentError",
    "StoreError",
    "WRITER_OPTIONS",
]


def build(path_or_url: Any, items: Iterable[Tuple[Any, Any]], **options: Any) -> dict:
    """Writes the ``(key, value)`` pairs of ``items`` (sorted by key, keys unique) as one table at
    ``path_or_url`` and returns its metadata. On any error (a key out of order included) nothing is left
    at the path. Takes the options of :class:`SstWriter`."""
    w = SstWriter(path_or_url, **options)
    try:
        w.write_all(items)
    except BaseException:
        w.abort()
        raise
    return w.close()
