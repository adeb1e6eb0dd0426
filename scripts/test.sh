#!/usr/bin/env bash
# Every test in one command. On a Debian/Ubuntu machine this first installs what the tests need, then runs
# `cargo test --workspace --all-features`, the browser inspector's test (web/test.sh: Debian chromium driven by
# playwright-core) and the Python package's pytest suite with its Spark job (scripts/test-python.sh), and prints
# one summary:
#   - Debian packages: rocksdb-tools (RocksDB 7.8.3 ldb/sst_dump), python3-plyvel (LevelDB), python3-venv,
#     and a C compiler for the compression crates, when missing (apt-get, through sudo when not root);
#   - the moto venv (S3 test server, $MOTO_VENV, default /tmp/sstkit-moto-venv) via .ci/moto.sh;
#   - the rocksdict venv (RocksDB 10.4.2: PyPI rocksdict 0.3.29, $SSTKIT_ROCKSDICT_VENV, default
#     /tmp/sstkit-rocksdict-venv).
# Each step is skipped when already done, so a second run starts the tests at once.
# Extra arguments go to `cargo test` (e.g. `scripts/test.sh -- --test-threads=1`).
# SSTKIT_TEST_ONLY=cargo runs the cargo tests alone (a quick local loop; never used by CI).
# A test whose tool is missing fails; SSTKIT_SKIP_MISSING_TOOLS=1 skips such tests instead (not under CI=true)
# and the summary lists them.
set -euo pipefail
cd "$(dirname "$0")/.."

ROCKSDICT_VENV="${SSTKIT_ROCKSDICT_VENV:-/tmp/sstkit-rocksdict-venv}"
ROCKSDICT_VERSION=0.3.29

if ! command -v cargo >/dev/null; then
  echo "test.sh: cargo not found; install Rust first (https://rustup.rs)" >&2
  exit 2
fi

# --- Debian packages
packages=()
command -v ldb >/dev/null && command -v sst_dump >/dev/null || packages+=(rocksdb-tools)
/usr/bin/python3 -c 'import plyvel' 2>/dev/null || packages+=(python3-plyvel)
python3 -c 'import venv, ensurepip' 2>/dev/null || packages+=(python3-venv)
command -v cc >/dev/null || packages+=(build-essential)
[ -e /etc/ssl/certs/ca-certificates.crt ] || packages+=(ca-certificates)
CALLER=test.sh bash scripts/apt-install.sh ${packages[@]+"${packages[@]}"}

# --- moto (S3 server for the std-io tests)
bash .ci/moto.sh

# --- rocksdict (RocksDB 10.4.2)
have_rocksdict() {
  "$ROCKSDICT_VENV/bin/python" -c "from importlib.metadata import version; import rocksdict, sys; \
sys.exit(version('rocksdict') != '$ROCKSDICT_VERSION')" 2>/dev/null
}
if have_rocksdict; then
  echo "rocksdict: $ROCKSDICT_VENV has rocksdict $ROCKSDICT_VERSION"
else
  rm -rf "$ROCKSDICT_VENV"
  python3 -m venv "$ROCKSDICT_VENV"
  "$ROCKSDICT_VENV/bin/pip" install -q --disable-pip-version-check "rocksdict==$ROCKSDICT_VERSION"
  have_rocksdict
  echo "rocksdict: installed $ROCKSDICT_VERSION (RocksDB 10.4.2) into $ROCKSDICT_VENV"
fi
export SSTKIT_ROCKSDICT_VENV="$ROCKSDICT_VENV"

# --- the tests
mkdir -p target
log=target/test.log
skips=target/test-skipped-tools.log
rm -f "$skips"
export SSTKIT_SKIP_LOG="$PWD/$skips"
start=$(date +%s)
set +e
cargo test --workspace --all-features "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e

cargo_status=$status

# --- the browser inspector and the Python package (each installs what it needs when missing)
web_status=0; py_status=0
if [ "${SSTKIT_TEST_ONLY:-}" != cargo ]; then
  set +e
  bash web/test.sh 2>&1 | tee target/test-web.log
  web_status=${PIPESTATUS[0]}
  bash scripts/test-python.sh 2>&1 | tee target/test-python.log
  py_status=${PIPESTATUS[0]}
  set -e
fi

echo
echo "=== test summary ($(( $(date +%s) - start ))s)"
read -r cp cf ci < <(grep -E "^test result:" "$log" | awk '{p+=$4; f+=$6; i+=$8} END {print p+0, f+0, i+0}')
echo "cargo test: $cp passed, $cf failed, $ci ignored"
grep -E "^test .* \.\.\. FAILED$" "$log" | sed 's/^/  /' || true
wp=0; wf=0; pp=0; pf=0
if [ "${SSTKIT_TEST_ONLY:-}" != cargo ]; then
  wp=$(sed -n 's/^# pass \([0-9]*\)$/\1/p' target/test-web.log | tail -1); wp=${wp:-0}
  wf=$(sed -n 's/^# fail \([0-9]*\)$/\1/p' target/test-web.log | tail -1); wf=${wf:-0}
  [ "$web_status" -eq 0 ] || [ "$wf" -gt 0 ] || wf=1
  echo "browser (web/test.sh): $wp passed, $wf failed"
  pp=$(grep -Eo '[0-9]+ passed' target/test-python.log | tail -1 | grep -Eo '[0-9]+'); pp=${pp:-0}
  pf=$(grep -Eo '[0-9]+ (failed|error)' target/test-python.log | tail -1 | grep -Eo '[0-9]+'); pf=${pf:-0}
  [ "$py_status" -eq 0 ] || [ "$pf" -gt 0 ] || pf=1
  echo "python (scripts/test-python.sh): $pp passed, $pf failed"
fi
if [ -n "${SSTKIT_SKIP_MISSING_TOOLS:-}" ] && [ "${SSTKIT_SKIP_MISSING_TOOLS}" != 0 ]; then
  n=0
  [ -f "$skips" ] && n=$(wc -l <"$skips")
  echo "OPT-OUT: SSTKIT_SKIP_MISSING_TOOLS=$SSTKIT_SKIP_MISSING_TOOLS was set: $n test(s) skipped for a missing tool (counted as passed above)"
  [ -f "$skips" ] && sed 's/^/  /' "$skips"
fi
status=0
[ "$cargo_status" -eq 0 ] && [ "$web_status" -eq 0 ] && [ "$py_status" -eq 0 ] || status=1
[ "$status" -eq 0 ] && echo "all tests passed" || echo "tests failed (cargo $cargo_status, web $web_status, python $py_status)"
echo "all: $((cp + wp + pp)) passed, $((cf + wf + pf)) failed"
exit "$status"
