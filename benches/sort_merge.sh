#!/usr/bin/env bash
# External sort + build against `LC_ALL=C sort -S 256M | sstkit build -`, and merge against scanning the inputs
# once (BENCHMARKS.md, "External sort and merge").
#
# Usage: benches/sort_merge.sh [LINES]      (default 8 500 000 lines of ~126 bytes: about 1 GiB)
# Environment: WORK=dir for the input, temporary files and outputs (default: a new directory under /tmp, removed
# at the end; a 10 GiB input needs ~55 GB there); SORT_ONLY=1 skips the merge part; TARGET_SIZE="1G 256M" runs
# only rolling builds (`--target-size`, one per size, each checked to hold every line in key order) instead. Peak RSS comes from
# `/usr/bin/time -v` ("Maximum resident set size"). The 10 GiB run of BENCHMARKS.md:
#   WORK=/big/dir SORT_ONLY=1 nice -n 5 benches/sort_merge.sh 85000000
#   WORK=/big/dir TARGET_SIZE="1G 256M" nice -n 5 benches/sort_merge.sh 85000000
set -euo pipefail
cd "$(dirname "$0")/.."
lines="${1:-8500000}"
cargo build --release -q -p sstkit --bin sstkit --example merge_throughput
sstkit="$PWD/target/release/sstkit"
if [ -n "${WORK:-}" ]; then work="$WORK"; mkdir -p "$work"; keep=1; else work="$(mktemp -d /tmp/sstkit-sort-bench.XXXXXX)"; keep=0; fi
cleanup() { if [ "$keep" = 1 ]; then rm -rf "$work"/input.txt "$work"/*.sst "$work"/t? "$work"/merged "$work"/roll; else rm -rf "$work"; fi; }
trap cleanup EXIT

# Input: `KEY ==> VALUE`, 16 hex digits of key in a scrambled order (unique: the low half is the line number),
# a 100-byte value.
python3 - "$lines" "$work/input.txt" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
pad = "v" * 91
with open(path, "w", buffering=1 << 22) as f:
    for start in range(0, n, 100000):
        f.write("".join("%08x%08x ==> %09d%s\n" % ((i * 0x9E3779B1) & 0xFFFFFFFF, i, i, pad)
                        for i in range(start, min(n, start + 100000))))
PY
ls -l "$work/input.txt"
rss() { grep -E "Maximum resident|Elapsed" "$1" | sed 's/^\s*/    /'; }
# When (UTC) and how loaded the machine was: wall times depend on it, RSS does not.
stamp() { echo "    $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg)"; }

if [ -n "${TARGET_SIZE:-}" ]; then
  # Every generated line, once, in key order across the files (file ids follow key order).
  check='
import sys
n = int(sys.argv[1]); pad = b"v" * 91; prev = b""; c = bad = 0
for line in sys.stdin.buffer:
    k, v = line.rstrip(b"\n").split(b" => ", 1); i = int(k[8:], 16)
    bad += not (k > prev and i < n and int(k[:8], 16) == (i * 0x9E3779B1) & 0xFFFFFFFF and v == b"%09d" % i + pad)
    prev = k; c += 1
print("    %d entries, %d bad: %s" % (c, bad, "OK" if c == n and not bad else "FAIL")); sys.exit(c != n or bad > 0)'
  for ts in $TARGET_SIZE; do
    echo "== sstkit build --sort --memory 256M --target-size $ts"; stamp
    /usr/bin/time -v "$sstkit" build -q --sort --memory 256M --tmp-dir "$work" --target-size "$ts" "$work/input.txt" \
      "$work/roll" 2>"$work/t7" >/dev/null
    rss "$work/t7"; stamp
    echo "    $(ls "$work"/roll/0/*.sst | wc -l) files, $(stat -c %s "$work"/roll/0/*.sst | paste -sd+ | bc) bytes"
    for f in "$work"/roll/0/*.sst; do "$sstkit" scan "$f"; done | python3 -c "$check" "$lines"
    rm -rf "$work/roll"
  done
  exit 0
fi

echo "== sstkit build --sort --memory 256M"; stamp
/usr/bin/time -v "$sstkit" build -q --sort --memory 256M --tmp-dir "$work" "$work/input.txt" "$work/a.sst" 2>"$work/t1" >/dev/null
rss "$work/t1"; stamp
echo "== sstkit build --sort --memory 256M --index-type partitioned --partition-filters"
/usr/bin/time -v "$sstkit" build -q --sort --memory 256M --tmp-dir "$work" --index-type partitioned \
  --partition-filters "$work/input.txt" "$work/p.sst" 2>"$work/t6" >/dev/null
rss "$work/t6"; stamp
echo "== LC_ALL=C sort -S 256M | sstkit build -"
start=$(date +%s.%N)
LC_ALL=C /usr/bin/time -v -o "$work/t2" sort -S 256M -T "$work" "$work/input.txt" \
  | /usr/bin/time -v -o "$work/t3" "$sstkit" build -q - "$work/b.sst" >/dev/null
echo "    pipeline wall: $(echo "$(date +%s.%N) - $start" | bc) s"; stamp
echo "  sort:"; rss "$work/t2"; echo "  sstkit build -:"; rss "$work/t3"
sum=$("$sstkit" scan "$work/a.sst" | md5sum)
for f in p b; do [ "$("$sstkit" scan "$work/$f.sst" | md5sum)" = "$sum" ] || { echo "$f.sst differs from a.sst"; exit 1; }; done
echo "    same entries in all three"
rm "$work"/p.sst "$work"/b.sst
if [ -n "${SORT_ONLY:-}" ]; then exit 0; fi

echo "== merge: 4 inputs (every 4th line each, built with --sort), then scan-once vs merge"
for k in 0 1 2 3; do
  awk -v k=$k 'NR % 4 == k' "$work/input.txt" > "$work/part$k.txt"
  "$sstkit" build -q --sort --memory 256M --tmp-dir "$work" "$work/part$k.txt" "$work/part$k.sst" >/dev/null
  rm "$work/part$k.txt"
done
rm "$work/input.txt"
/usr/bin/time -v -o "$work/t4" target/release/examples/merge_throughput "$work/merged" "$work"/part?.sst
rss "$work/t4"
echo "== sstkit merge (CLI) of the 4 inputs"
/usr/bin/time -v -o "$work/t5" "$sstkit" merge -q "$work"/part?.sst "$work/m.sst" >/dev/null
rss "$work/t5"
