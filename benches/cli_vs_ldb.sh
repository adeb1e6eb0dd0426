#!/usr/bin/env bash
# Times `sstkit build` against RocksDB's `ldb write_extern_sst` on the same 1M-line `key ==> value` input with
# the same table options: no compression, CRC32C checksums, a 10 bits/key Bloom filter (sstkit's defaults),
# 4 KiB blocks, restart interval 16, format_version 5. Runs alternate (sstkit, ldb, sstkit, ...); prints each
# run, the medians and the ratio. Goal: sstkit at least 2x faster.
#
# Usage: benches/cli_vs_ldb.sh [RUNS] [LINES]      (defaults: 5 runs each, 1 000 000 lines)
# Environment: WORK=dir for the input, DB and outputs (default: a temp dir on /dev/shm when it exists, so the
# disk does not time itself; it is removed at the end). Needs `ldb` (Debian's rocksdb-tools 7.8.3).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-5}"
lines="${2:-1000000}"

command -v ldb >/dev/null || { echo "ldb not found (apt-get install rocksdb-tools)" >&2; exit 2; }
cargo build --release -q -p sstkit
sstkit="$PWD/target/release/sstkit"

if [ -n "${WORK:-}" ]; then
  work="$WORK"; mkdir -p "$work"; keep=1
else
  base=/tmp; [ -d /dev/shm ] && base=/dev/shm
  work="$(mktemp -d "$base/sstkit-cli-bench.XXXXXX")"; keep=0
fi
cleanup() { [ "$keep" = 1 ] || rm -rf "$work"; }
trap cleanup EXIT

# Input: 16-byte hex keys in ascending order, 100-byte values (the entry number, then letters), no spaces.
input="$work/input.txt"
awk -v n="$lines" 'BEGIN {
  s = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  for (i = 0; i < n; i++) {
    v = sprintf("%08d:", i) substr(s, 1 + (i * 7) % 40, 91);
    printf "%016x ==> %s\n", 2 * i, v;
  }
}' > "$input"
echo "input: $lines lines, $(stat -c %s "$input") bytes in $work"

# ldb: a DB whose OPTIONS say CRC32C and a 10 bits/key full filter; --compression_type=no on each call.
db="$work/db"
ldb --db="$db" --create_if_missing load < /dev/null >/dev/null
opts="$(ls "$db"/OPTIONS-* | sort -t- -k2 -n | tail -1)"
sed -i -e 's/^\([[:space:]]*\)checksum=.*/\1checksum=kCRC32c/' \
       -e 's/^\([[:space:]]*\)filter_policy=.*/\1filter_policy=bloomfilter:10:false/' "$opts"
grep -q 'checksum=kCRC32c' "$opts" && grep -q 'filter_policy=bloomfilter:10:false' "$opts" \
  || { echo "could not patch $opts" >&2; exit 1; }

now() { date +%s.%N; }
run_sstkit() {
  rm -f "$work/sstkit.sst"
  local t0; t0=$(now)
  "$sstkit" build --compression none --checksum crc32c --bloom-bits 10 "$input" "$work/sstkit.sst" >/dev/null 2>&1
  echo "$(now) - $t0" | bc
}
run_ldb() {
  rm -f "$work/ldb.sst"
  local t0 out; t0=$(now)
  out=$(ldb --db="$db" --compression_type=no write_extern_sst "$work/ldb.sst" < "$input" 2>&1)
  local t1; t1=$(now)
  case "$out" in *"external SST file written"*) ;; *) echo "ldb failed: $out" >&2; exit 1 ;; esac
  echo "$t1 - $t0" | bc
}
median() { sort -n | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
s_times=(); l_times=()
for i in $(seq 1 "$runs"); do
  s=$(run_sstkit); l=$(run_ldb)
  s_times+=("$s"); l_times+=("$l")
  printf 'run %d: sstkit %.3f s, ldb %.3f s\n' "$i" "$s" "$l"
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

s_med=$(printf '%s\n' "${s_times[@]}" | median)
l_med=$(printf '%s\n' "${l_times[@]}" | median)
printf 'files: sstkit %s bytes, ldb %s bytes\n' "$(stat -c %s "$work/sstkit.sst")" "$(stat -c %s "$work/ldb.sst")"
printf 'median: sstkit %.3f s, ldb %.3f s; ldb / sstkit = %.2fx (goal >= 2x)\n' \
  "$s_med" "$l_med" "$(echo "$l_med / $s_med" | bc -l)"
