#!/usr/bin/env bash
# no_std checks: sstkit-core builds for a microcontroller and for wasm, and a `no_main` binary with no global
# allocator links (it would fail with "no global memory allocator found" if anything allocated).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
step() { echo "--- $* ($(( $(date +%s) - start ))s)"; "$@"; }

rustup target add thumbv7em-none-eabihf wasm32-unknown-unknown >/dev/null 2>&1 || true
step cargo build -p sstkit-core --no-default-features --target thumbv7em-none-eabihf
step cargo build -p sstkit-core --no-default-features --features lz4,snappy,zlib,embedded-io --target thumbv7em-none-eabihf
step cargo build -p sstkit-core --no-default-features --features lz4 --target wasm32-unknown-unknown
(cd examples/nostd-smoke && step cargo build --release --target thumbv7em-none-eabihf)
echo "--- no_std builds and the no-allocator smoke binary: ok ($(( $(date +%s) - start ))s)"
