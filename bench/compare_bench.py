#!/usr/bin/env python3
"""Two builds of wstrace side by side on the same generated traces: the reading commands
(`stats`, `conns`), the exports (sqlite, pcapng, jsonl) and the report. Prints each build's
CPU time (user + sys, median of 3: on a busy machine the wall clock measures the neighbours)
and the ratio new/old (below 1: the new build is faster). Used to show that a change of the
inspection code costs nothing, e.g. the new build against one of the commit before.

Run as: compare_bench.py NEW_WSTRACE OLD_WSTRACE WORK_DIR [EVENTS]"""
import os
import subprocess
import sys

new, old, work = sys.argv[1], sys.argv[2], sys.argv[3]
events = int(sys.argv[4]) if len(sys.argv) > 4 else 2_000_000
os.makedirs(work, exist_ok=True)


def cpu_seconds(cmd):
    """Runs cmd under GNU time and returns its user + sys seconds."""
    out = subprocess.run(["/usr/bin/time", "-f", "%U %S"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr.split()
    return float(out[-2]) + float(out[-1])


def median_cpu(build, args):
    return sorted(cpu_seconds([build] + args) for _ in range(3))[1]


print(f"new {new} against old {old}, {events:,} generated events (CPU seconds, median of 3)")
for scenario in ("bench", "conns"):
    trace = f"{work}/{scenario}.wst"
    subprocess.run([new, "synth", f"{scenario}:{events}", "-o", trace], check=True)
    out = f"{work}/out"
    jobs = [
        ("stats", ["stats", trace]),
        ("conns", ["conns", trace]),
        ("export sqlite", ["export", trace, "--format", "sqlite", "-o", out + ".sqlite"]),
        ("export pcapng", ["export", trace, "--format", "pcapng", "-o", out + ".pcapng"]),
        ("export jsonl", ["export", trace, "--format", "jsonl", "-o", out + ".jsonl"]),
        ("report", ["report", "-q", trace, "-o", out + ".html"]),
    ]
    for name, args in jobs:
        t_new, t_old = median_cpu(new, args), median_cpu(old, args)
        print(f"  {scenario + ':':<7} {name:<14} new {t_new:6.2f} s  old {t_old:6.2f} s  "
              f"ratio {t_new / max(t_old, 1e-9):.2f}")
    for leftover in (trace, out + ".sqlite", out + ".pcapng", out + ".jsonl", out + ".html"):
        if os.path.exists(leftover):
            os.remove(leftover)
