#!/usr/bin/env python3
"""Writes the input of the `sstkit build` peak-RSS measurement (BENCHMARKS.md) to a TSV file:
N sorted entries of 16-byte keys and 100-byte values (hex digits of a cheap hash, so values differ).

    python3 benches/gen_rss_input.py /tmp/rss-input.tsv 9000000
"""
import sys


def main() -> None:
    path, n = sys.argv[1], int(sys.argv[2])
    with open(path, "w", buffering=1 << 20) as out:
        for i in range(n):
            h = (i * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
            value = (f"{h:016x}" * 7)[:100]
            out.write(f"key-{i:012d}\t{value}\n")


if __name__ == "__main__":
    main()
