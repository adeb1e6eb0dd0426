#!/usr/bin/env bash
# The inspector's headless browser test: builds the wasm module (web/build.sh), installs what the test needs when
# missing (Debian's chromium, playwright-core into web/node_modules), writes a table with the sstkit CLI into
# target/web-test/, and runs web/test/*.test.mjs with node's test runner (its last lines count passes and failures).
# Screenshots go to target/web-test/. Under CI=true a missing chromium that cannot be installed is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; } || true
  fi
  if [ ! -x /usr/bin/chromium ]; then
    echo "web/test.sh: /usr/bin/chromium is missing and could not be installed" >&2
    exit 1
  fi
fi
if [ ! -d web/node_modules/playwright-core ]; then
  (cd web && npm ci --no-audit --no-fund)
fi
web/build.sh
out=target/web-test
mkdir -p "$out"
# A table we write: 3000 keys in small LZ4 blocks with a Bloom filter, every 7th key deleted.
python3 - "$out/ours.tsv" <<'PY'
import sys
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        f.write(f"user{i:05d}\t\tdelete\n" if i % 7 == 3 else f"user{i:05d}\tvalue of {i} " + "x" * (i % 50) + "\n")
PY
cargo run -q -p sstkit -- build --force --block-size 1024 --compression lz4 --bloom-bits 10 \
  "$out/ours.tsv" "$out/ours.sst" >/dev/null
# A table LevelDB 1.23 writes (python3-plyvel: Snappy, a 10-bit Bloom filter block): 2000 keys, compacted.
if ! /usr/bin/python3 -c 'import plyvel' 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-plyvel >/dev/null || true
fi
rm -rf "$out/leveldb" "$out/leveldb.ldb"
if /usr/bin/python3 -c 'import plyvel' 2>/dev/null; then
  /usr/bin/python3 - "$out/leveldb" <<'PY'
import glob, shutil, sys, plyvel
db = plyvel.DB(sys.argv[1], create_if_missing=True, bloom_filter_bits=10, compression='snappy')
with db.write_batch() as wb:
    for i in range(2000):
        wb.put(b"ldb%05d" % i, b"leveldb value %d " % i * 3)
db.compact_range()
db.close()
(table,) = glob.glob(sys.argv[1] + "/*.ldb")
shutil.copy(table, sys.argv[1] + ".ldb")
PY
elif [ "${CI:-}" = true ]; then
  echo "web/test.sh: python3-plyvel is missing (needed for the LevelDB case under CI)" >&2
  exit 1
fi
cd web
SSTKIT_WEB_OUT="$root/$out" node --test test/
