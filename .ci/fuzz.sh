#!/usr/bin/env bash
# Fuzz stage: builds every target in fuzz/ and runs each for a bounded time, seeded from fuzz/seeds/<target>/,
# failing on any crash, timeout (5 s per input) or memory blow-up (512 MiB).
#
#   FUZZ_SECONDS   seconds per target (default 60)
#   FUZZ_JOBS      targets run at once (default: the number of cores)
#   FUZZ_TOOLCHAIN "stable" (default; no sanitizer, `-s none`) or "nightly" (AddressSanitizer)
#
# 13 targets × 60 s on 2 cores: about 7 minutes of fuzzing plus the build (longer since the `reader*` targets
# compile std-io and object_store). fuzz/seeds/reader is a link to fuzz/seeds/table.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
export CARGO_TERM_COLOR=never
FUZZ_SECONDS="${FUZZ_SECONDS:-60}"
FUZZ_JOBS="${FUZZ_JOBS:-$(nproc)}"
FUZZ_TOOLCHAIN="${FUZZ_TOOLCHAIN:-stable}"
start=$(date +%s)

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

if [ "$FUZZ_TOOLCHAIN" = nightly ]; then
  sanitizer=(); else sanitizer=(-s none); fi
triple="$(rustc +"$FUZZ_TOOLCHAIN" -vV | sed -n 's/^host: //p')"
cargo +"$FUZZ_TOOLCHAIN" fuzz build "${sanitizer[@]}"
echo "built in $(( $(date +%s) - start ))s"

mapfile -t targets < <(cargo +"$FUZZ_TOOLCHAIN" fuzz list)
mkdir -p logs artifacts
run_one() {
  local t="$1" seeds=()
  mkdir -p "corpus/$t" "artifacts/$t"
  [ -d "seeds/$t" ] && seeds=("seeds/$t")
  # The binary directly (not `cargo fuzz run`), so parallel runs do not wait on cargo's lock.
  if "target/$triple/release/$t" -artifact_prefix="artifacts/$t/" -max_total_time="$FUZZ_SECONDS" \
      -rss_limit_mb=512 -timeout=5 -print_final_stats=1 "corpus/$t" "${seeds[@]}" >"logs/$t.log" 2>&1; then
    local execs cov
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "logs/$t.log")
    cov=$(grep -o 'cov: [0-9]*' "logs/$t.log" | tail -1)
    echo "ok   $t: $execs executions, $cov"
  else
    echo "FAIL $t (log: fuzz/logs/$t.log; reproduce: cd fuzz && cargo +stable fuzz run -s none $t artifacts/$t/<file>)"
    grep -E "panicked|ERROR|SUMMARY|Test unit written" "logs/$t.log" | head -20
    return 1
  fi
}
export -f run_one
export triple FUZZ_SECONDS
status=0
printf '%s\n' "${targets[@]}" | xargs -P "$FUZZ_JOBS" -I{} bash -c 'run_one {}' || status=1
echo "fuzz stage: ${#targets[@]} targets × ${FUZZ_SECONDS}s in $(( $(date +%s) - start ))s"
exit "$status"
