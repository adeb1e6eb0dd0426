#!/usr/bin/env bash
# The Python package's tests: builds the sstkit wheel (release, abi3) and runs python/tests with pytest,
# the Spark bulk-load test included. On a fresh Debian/Ubuntu machine it first installs what they need:
#   - Debian packages when missing: rocksdb-tools (RocksDB 7.8.3 sst_dump), python3-venv, a C compiler,
#     a Java runtime for Spark (openjdk-17-jre-headless);
#   - the moto venv (S3 test server, $MOTO_VENV, default /tmp/sstkit-moto-venv) via .ci/moto.sh;
#   - a venv ($SSTKIT_PY_VENV, default /tmp/sstkit-py-venv) with maturin, pytest, rocksdict 0.3.29
#     (RocksDB 10.4.2) and pyspark.
# Each step is skipped when already done. Extra arguments go to pytest (e.g. `-k s3 -x`).
# Under CI=true a missing tool fails its tests (never a skip).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${SSTKIT_PY_VENV:-/tmp/sstkit-py-venv}"
ROCKSDICT_VERSION=0.3.29

if ! command -v cargo >/dev/null; then
  echo "test-python.sh: cargo not found; install Rust first" >&2
  exit 2
fi

# --- Debian packages
packages=()
command -v sst_dump >/dev/null || packages+=(rocksdb-tools)
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
command -v cc >/dev/null || packages+=(build-essential)
command -v java >/dev/null || packages+=(openjdk-17-jre-headless)
CALLER=test-python.sh bash scripts/apt-install.sh ${packages[@]+"${packages[@]}"}

# --- moto (S3 server)
bash .ci/moto.sh

# --- the venv
have_venv() {
  "$VENV/bin/python" -c "from importlib.metadata import version; import sys, rocksdict, pyspark, pytest; \
sys.exit(version('rocksdict') != '$ROCKSDICT_VERSION')" 2>/dev/null && [ -x "$VENV/bin/maturin" ]
}
if ! have_venv; then
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check maturin pytest "rocksdict==$ROCKSDICT_VERSION" pyspark
  have_venv
  echo "test-python.sh: made $VENV (maturin, pytest, rocksdict $ROCKSDICT_VERSION, pyspark)"
fi

# --- the wheel (python/ is its own cargo workspace; its target/ is never committed)
start=$(date +%s)
rm -rf python/target/wheels
(cd python && "$VENV/bin/maturin" build --release --quiet --interpreter "$VENV/bin/python")
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps python/target/wheels/sstkit-*.whl
echo "test-python.sh: wheel built and installed in $(( $(date +%s) - start ))s"

# --- the tests, against the installed wheel (the package source is python/pysrc/sstkit, so nothing in python/
# shadows it, not even in Spark's Python workers, which run in this directory)
export MOTO_VENV="${MOTO_VENV:-/tmp/sstkit-moto-venv}"
cd python
set +e
"$VENV/bin/pytest" -p no:cacheprovider -q "$@"
status=$?
set -e
[ "$status" -eq 0 ] && echo "python tests passed" || echo "python tests failed (exit $status)"
exit "$status"
