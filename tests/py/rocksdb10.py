"""Drives RocksDB 10.4.2 (the PyPI package rocksdict 0.3.29) for sstkit's interop tests.

Reads one JSON object {"tasks": [...]} on stdin, runs the tasks in order and prints one JSON object
{"results": [...]} on stdout, one result per task. Keys and values are hex strings. A task that fails
gives {"ok": false, "error": "..."}; the script itself only exits non-zero on a bad request.

Tasks ("op"):
  version      -> {"ok", "rocksdict"}
  write_sst    SstFileWriter: path, table (see table_options), entries [["put", k, v] | ["delete", k]]
               -> {"ok", "size"}
  db_files     a DB with real seqnos: dir, table, batches [[op...]...] (a flush after each batch, ops
               ["put", k, v], ["delete", k], ["delete_range", start, end]), compact (compact_range of
               everything at the end) -> {"ok", "flushed": [[path, level]...], "compacted": [[path, level]...],
               "last_seqno"}
  ingest       dir, base [[k, v]...] (written with SstFileWriter, no filter, ingested first), files [paths],
               bloom_bits, probe [k...] -> {"ok", "items": [[k, v]...], "gets": [v | null...],
               "bloom_useful", "bloom_positive"}; "error" holds RocksDB's message when the ingestion fails.
               The DB uses merge_operator=StringAppendOperator (',' between operands) and the filter, both
               set by editing its OPTIONS file (see edit_options_file).
  open_db      dir, table: create a DB with these table options, put, flush -> {"ok"} or {"ok": false, "error"}

table_options: {"format_version", "checksum" (0 none, 1 crc32c, 2 xxhash, 3 xxhash64, 4 xxh3),
                "compression" ("none", "snappy", "lz4", "zstd", "zlib", ...), "bloom_bits" (0 = none),
                "block_size", "restart_interval"}, all optional.
"""

import glob
import json
import os
import re
import shutil
import sys

import rocksdict as r

CHECKSUMS = [r.ChecksumType.no_checksum, r.ChecksumType.crc32c, r.ChecksumType.xxhash,
             r.ChecksumType.xxhash64, r.ChecksumType.xxh3]


def unhex(s):
    return bytes.fromhex(s)


def options(table, create=False, statistics=False):
    """rocksdict Options with the bytewise comparator (raw_mode) and the given table options."""
    o = r.Options(raw_mode=True)
    if create:
        o.create_if_missing(True)
    o.set_block_based_table_factory(table_factory(table))
    o.set_compression_type(getattr(r.DBCompressionType, table.get("compression", "none"))())
    if statistics:
        o.enable_statistics()
    return o


def table_factory(table):
    b = r.BlockBasedOptions()
    if "format_version" in table:
        b.set_format_version(table["format_version"])
    if "checksum" in table:
        b.set_checksum_type(CHECKSUMS[table["checksum"]]())
    if table.get("bloom_bits", 0):
        b.set_bloom_filter(table["bloom_bits"], False)
    if "block_size" in table:
        b.set_block_size(table["block_size"])
    if "restart_interval" in table:
        b.set_block_restart_interval(table["restart_interval"])
    return b


def write_sst(task):
    w = r.SstFileWriter(options(task.get("table", {})))
    w.open(task["path"])
    for e in task["entries"]:
        if e[0] == "put":
            w[unhex(e[1])] = unhex(e[2])
        elif e[0] == "delete":
            del w[unhex(e[1])]
        else:
            raise ValueError("SstFileWriter entry op %r" % e[0])
    w.finish()
    return {"ok": True, "size": os.path.getsize(task["path"])}


def live(db, root):
    return sorted([[root + f["name"], f["level"]] for f in db.live_files()])


def db_files(task):
    root = task["dir"]
    shutil.rmtree(root, ignore_errors=True)
    o = options(task.get("table", {}), create=True)
    o.set_disable_auto_compactions(True)
    db = r.Rdict(root, o)
    try:
        flushed = []
        for batch in task["batches"]:
            for e in batch:
                if e[0] == "put":
                    db.put(unhex(e[1]), unhex(e[2]))
                elif e[0] == "delete":
                    db.delete(unhex(e[1]))
                elif e[0] == "delete_range":
                    db.delete_range(unhex(e[1]), unhex(e[2]))
                else:
                    raise ValueError("db op %r" % e[0])
            before = {f[0] for f in live(db, root)}
            db.flush()
            flushed += [f for f in live(db, root) if f[0] not in before]
        compacted = []
        if task.get("compact"):
            db.compact_range(None, None)
            compacted = live(db, root)
        last = db.latest_sequence_number()
    finally:
        db.close()
    return {"ok": True, "flushed": flushed, "compacted": compacted, "last_seqno": last}


def edit_options_file(root, settings):
    """Sets `name=value` lines of the newest OPTIONS file. rocksdict cannot set a built-in merge operator, and
    its OPTIONS file names the Bloom filter as just "bloomfilter", which loads as no filter at all; rocksdict
    reopens an existing DB with the column family options of that file, so they are fixed there."""
    path = sorted(glob.glob(os.path.join(root, "OPTIONS-*")))[-1]
    with open(path) as f:
        text = f.read()
    for name, value in settings.items():
        text, n = re.subn(r"(?m)^(\s*)%s=.*$" % re.escape(name), lambda m: m.group(1) + name + "=" + value, text)
        if n != 1:
            raise RuntimeError("%d %s lines in %s" % (n, name, path))
    with open(path, "w") as f:
        f.write(text)


def stat(text, name):
    m = re.search(re.escape(name) + r" COUNT : (\d+)", text)
    return int(m.group(1)) if m else None


TEMPLATES = {}


def empty_db(root, bloom_bits):
    """An empty DB at root with the merge operator and filter: a copy of one made (and edited) once per run,
    since opening a DB costs more than copying its few small files."""
    if bloom_bits not in TEMPLATES:
        template = "%s.template%d" % (root, bloom_bits)
        shutil.rmtree(template, ignore_errors=True)
        r.Rdict(template, options({"bloom_bits": bloom_bits}, create=True)).close()
        settings = {"merge_operator": "StringAppendOperator"}
        if bloom_bits:
            settings["filter_policy"] = "bloomfilter:%d:false" % bloom_bits
        edit_options_file(template, settings)
        TEMPLATES[bloom_bits] = template
    shutil.copytree(TEMPLATES[bloom_bits], root)


def ingest(task):
    root = task["dir"]
    shutil.rmtree(root, ignore_errors=True)
    empty_db(root, task.get("bloom_bits", 10))
    o, _ = r.Options.load_latest(root)
    o.enable_statistics()
    db = r.Rdict(root, o)
    try:
        if task.get("base"):
            base = root + ".base.sst"
            write_sst({"path": base, "table": {}, "entries": [["put", k, v] for k, v in task["base"]]})
            db.ingest_external_file([base])
            os.remove(base)
        try:
            db.ingest_external_file(task["files"])
        except Exception as e:  # RocksDB's refusal is the answer under test
            return {"ok": False, "error": str(e)}
        items = []
        it = db.iter()
        it.seek_to_first()
        while it.valid():
            items.append([it.key().hex(), it.value().hex()])
            it.next()
        it.status()
        before = o.get_statistics() or ""
        gets = []
        for k in task.get("probe", []):
            v = db.get(unhex(k))
            gets.append(None if v is None else v.hex())
        after = o.get_statistics() or ""
        counts = {}
        for key, name in [("bloom_useful", "rocksdb.bloom.filter.useful"),
                          ("bloom_positive", "rocksdb.bloom.filter.full.positive")]:
            counts[key] = (stat(after, name) or 0) - (stat(before, name) or 0)
        return dict({"ok": True, "items": items, "gets": gets}, **counts)
    finally:
        db.close()
        shutil.rmtree(root, ignore_errors=True)


def open_db(task):
    root = task["dir"]
    shutil.rmtree(root, ignore_errors=True)
    db = r.Rdict(root, options(task.get("table", {}), create=True))
    try:
        db.put(b"k", b"v")
        db.flush()
    finally:
        db.close()
        shutil.rmtree(root, ignore_errors=True)
    return {"ok": True}


def version(_task):
    from importlib.metadata import version as v
    return {"ok": True, "rocksdict": v("rocksdict")}


TASKS = {"version": version, "write_sst": write_sst, "db_files": db_files, "ingest": ingest, "open_db": open_db}


def main():
    request = json.load(sys.stdin)
    results = []
    for task in request["tasks"]:
        try:
            results.append(TASKS[task["op"]](task))
        except KeyError as e:
            if task.get("op") not in TASKS:
                raise SystemExit("unknown task op %r" % task.get("op"))
            results.append({"ok": False, "error": "KeyError: %s" % e})
        except Exception as e:
            results.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    for template in TEMPLATES.values():
        shutil.rmtree(template, ignore_errors=True)
    json.dump({"results": results}, sys.stdout)


if __name__ == "__main__":
    main()
