#!/usr/bin/env python3
"""Summary of bench/load/ab.sh output: ab_summary.py OUTPUT BASELINE prints, per server, the median server
CPU µs/request (range), its user and system parts, and the median of the per-round ratios to BASELINE."""
import collections
import statistics
import sys

runs = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 6:
        round_, name, _, total, user, system = parts
        runs[name][round_] = (float(total), float(user), float(system))
baseline = runs[sys.argv[2]]
for name, by_round in runs.items():
    total = [v[0] for v in by_round.values()]
    ratios = [v[0] / baseline[r][0] for r, v in by_round.items() if r in baseline]
    print(f"{name}: CPU {statistics.median(total):.2f} µs/request ({min(total):.2f}-{max(total):.2f}), "
          f"user {statistics.median(v[1] for v in by_round.values()):.2f}, system {statistics.median(v[2] for v in by_round.values()):.2f}, "
          f"vs {sys.argv[2]} {statistics.median(ratios):.3f} (median of {len(ratios)} paired rounds)")
