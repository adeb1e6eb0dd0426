#!/usr/bin/env bash
# Object-store throughput on loopback (issue 14, item 5; BENCHMARKS.md "Object stores on loopback").
#
# Installs s3s-fs (a Rust S3-compatible server over a directory, from crates.io) into $SSTKIT_TOOLS if it is
# missing, serves a directory on tmpfs (/dev/shm) on 127.0.0.1 only, runs the objstore_throughput example
# against it, then stops the server and removes its data (also on error or Ctrl-C).
#
#   bash benches/objstore.sh            # ~1 GiB table, 3 rounds
#   SSTKIT_BENCH_ENTRIES=1000000 SSTKIT_BENCH_ROUNDS=1 bash benches/objstore.sh   # a quick smoke run
#
# Environment: SSTKIT_TOOLS (install root, default /tmp/sstkit-tools; kept out of the repository),
# S3S_PORT (default: a free port), SSTKIT_SHM (server data, default /dev/shm/sstkit-objstore-$$).
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS="${SSTKIT_TOOLS:-/tmp/sstkit-tools}"
S3S_VERSION=0.14.1 # 0.17 needs rustc 1.96
S3S="$TOOLS/bin/s3s-fs"
if [ ! -x "$S3S" ]; then
  echo "installing s3s-fs $S3S_VERSION into $TOOLS (a few minutes)"
  CARGO_TARGET_DIR="$TOOLS/target" CARGO_INSTALL_ROOT="$TOOLS" \
    cargo install s3s-fs --version "$S3S_VERSION" --locked --features binary
  rm -rf "$TOOLS/target"
fi
echo "server: $("$S3S" --version)"

cargo build --release -p sstkit-benches --features objstore --example objstore_throughput

DATA="${SSTKIT_SHM:-/dev/shm/sstkit-objstore-$$}"
PORT="${S3S_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}"
BUCKET=bench
LOG="$DATA.log"
mkdir -p "$DATA/$BUCKET"
SERVER_PID=
cleanup() {
  if [ -n "$SERVER_PID" ]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$DATA" "$LOG"
}
trap cleanup EXIT INT TERM

"$S3S" --host 127.0.0.1 --port "$PORT" --access-key sstkit --secret-key sstkit-secret "$DATA" >"$LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 100); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
  sleep 0.1
done

export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 \
  AWS_ACCESS_KEY_ID=sstkit AWS_SECRET_ACCESS_KEY=sstkit-secret SSTKIT_BENCH_URL="s3://$BUCKET/" \
  SSTKIT_SERVER_PID="$SERVER_PID"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
target/release/examples/objstore_throughput
