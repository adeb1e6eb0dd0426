#!/usr/bin/env python3
"""Markdown tables from criterion's results (target/criterion/*/*/new/{benchmark,estimates}.json).

Usage: python3 benches/report.py [CRITERION_DIR]   (default: target/criterion)

One table per workload (small_none, small_lz4, large): for each measure and implementation, the median time
per iteration, the time per operation (Throughput::Elements) or the throughput (Throughput::Bytes), and how
many times faster than lsm-tree and sstable it is in the same group (peer median / this median; > 1 = faster).
"""
import json
import os
import sys
from collections import defaultdict

ORDER = [
    "build", "get_present", "get_absent", "seek", "scan_forward", "scan_backward", "open_mem",
    "open_file", "get_present_file", "get_absent_file", "scan_file",
]


def fmt_time(ns):
    for unit, div in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= div:
            return f"{ns / div:.3g} {unit}"
    return f"{ns:.3g} ns"


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "target/criterion"
    groups = defaultdict(dict)
    for d, _, files in os.walk(root):
        if os.path.basename(d) != "new" or "benchmark.json" not in files:
            continue
        with open(os.path.join(d, "benchmark.json")) as f:
            b = json.load(f)
        with open(os.path.join(d, "estimates.json")) as f:
            e = json.load(f)
        groups[b["group_id"]][b["function_id"]] = (e["median"]["point_estimate"], b.get("throughput") or {})

    workloads = defaultdict(dict)
    for gid, benches in groups.items():
        w, _, measure = gid.partition("/")
        workloads[w][measure] = benches

    for w in sorted(workloads, key=lambda x: ["small_none", "small_lz4", "large"].index(x)
                    if x in ("small_none", "small_lz4", "large") else 9):
        print(f"\n#### {w}\n")
        print("| measure | implementation | median / iteration | per op or throughput | × vs lsm-tree | × vs sstable |")
        print("|---|---|---:|---:|---:|---:|")
        measures = workloads[w]
        for m in sorted(measures, key=lambda x: ORDER.index(x) if x in ORDER else 99):
            benches = measures[m]
            peer = {}
            for name, (t, _) in benches.items():
                for p in ("lsm-tree", "sstable"):
                    if name.startswith(p):
                        peer[p] = t

            def rank(n):
                return (0 if n.startswith("sstkit") else 1 if n.startswith("lsm") else 2 if n.startswith("sstable")
                        else 3, n)

            for name in sorted(benches, key=rank):
                t, thr = benches[name]
                if "Elements" in thr:
                    per = f"{t / thr['Elements']:.0f} ns/op"
                elif "Bytes" in thr:
                    per = f"{thr['Bytes'] / (t / 1e9) / 2**20:.0f} MiB/s"
                else:
                    per = ""
                ratios = []
                for p in ("lsm-tree", "sstable"):
                    ratios.append("" if p not in peer or name.startswith(p) else f"{peer[p] / t:.2f}")
                print(f"| {m} | {name} | {fmt_time(t)} | {per} | {ratios[0]} | {ratios[1]} |")


if __name__ == "__main__":
    main()
