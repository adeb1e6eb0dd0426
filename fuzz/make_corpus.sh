#!/usr/bin/env bash
# Regenerates the checked-in seed corpora in fuzz/seeds/<target>/ from real tables: sstkit's own in many option
# variants, RocksDB 7.8's (ldb write_extern_sst, a flush with deletions and range deletions) and LevelDB's
# (plyvel). Tables from tools that are not installed are skipped with a note. The fuzzers' working corpora live in
# fuzz/corpus/<target>/ (not checked in); the seeds are passed as a second, read-only corpus directory.
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf fuzz/seeds
cargo run -q -p sstkit-tests --example fuzz_seeds -- fuzz/seeds
# Ribbon filters RocksDB 10.4.2 wrote (core/tests/data/filter/make_ribbon_fixtures.py), for the filter target.
cp core/tests/data/filter/ribbon_10_1000.filter core/tests/data/filter/ribbon_7_10000.filter fuzz/seeds/filter/
# A small partitioned-index table with partitioned filters RocksDB 10.4.2 wrote (core/tests/data/partitioned/gen.py),
# so the table and reader targets walk index and filter partitions.
cp core/tests/data/partitioned/small_fv6_seed.sst fuzz/seeds/table/rocksdb10-partitioned-fv6
# The same two partitioned tables (small ones only) for the partition_walk target.
mkdir -p fuzz/seeds/partition_walk
cp core/tests/data/partitioned/small_fv6_seed.sst fuzz/seeds/partition_walk/rocksdb10-partitioned-fv6-small
cp core/tests/data/partitioned/fv6_lz4.sst fuzz/seeds/partition_walk/rocksdb10-partitioned-fv6-lz4
# BZip2 blocks RocksDB 7.8.3 wrote (core/tests/data/compress/make_fixtures.py) for the decompress target: codec
# byte 3, settings byte 0xC0 | format_version (1 MiB cap), body.
for fv in 5 1; do
    { printf "\\x03\\x$(printf %x $((0xC0 + fv)))"; cat "core/tests/data/compress/bzip2_fv$fv.bin"; } \
        > "fuzz/seeds/decompress/rocksdb-bzip2_fv$fv"
done
# Rolling-build manifests (std-io/src/manifest.rs) for the manifest target: one as written, and its body without
# the `end` line (the target appends a correct one, so the body reaches the record parser).
tmp=$(mktemp -d)
printf 'a\t1\nb\t2\nc\t\tdelete\na\tb\tdelete_range\n' > "$tmp/in.tsv"
cargo run -q -p sstkit -- build "$tmp/in.tsv" "$tmp/out" --target-size 64K -q >/dev/null
mkdir -p fuzz/seeds/manifest
cp "$tmp/out/sstkit.manifest" fuzz/seeds/manifest/small
grep -v '^end ' "$tmp/out/sstkit.manifest" > fuzz/seeds/manifest/small-body
rm -rf "$tmp"
