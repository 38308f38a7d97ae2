#!/usr/bin/env python3
"""Inspection speed and memory: `wstrace stats` and `wstrace conns` over generated traces of
10 million events — one with a few long connections (bench:N) and one where connections keep
opening and closing, 64 at a time (conns:N). Prints events per second (goal >= 5 M) and the
peak memory for 1 M and 10 M events: it must not grow with the trace's length.

Run as: inspect_bench.py WSTRACE WORK_DIR [EVENTS]"""
import os
import subprocess
import sys

wstrace, work = sys.argv[1], sys.argv[2]
events = int(sys.argv[3]) if len(sys.argv) > 3 else 10_000_000
os.makedirs(work, exist_ok=True)


def peak_kib(cmd):
    """Runs cmd under GNU time (Debian's `time`, a small C program, so the peak it reports is
    the command's own), returns (wall seconds, peak RSS in KiB, CPU seconds)."""
    out = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr.split()
    return float(out[-4]), int(out[-1]), float(out[-3]) + float(out[-2])


print(f"inspection of generated traces ({events:,} events; goal >= 5.0 M events/s, memory flat)")
for scenario in ("bench", "conns"):
    small, big = f"{work}/{scenario}-small.wst", f"{work}/{scenario}-big.wst"
    subprocess.run([wstrace, "synth", f"{scenario}:{events // 10}", "-o", small], check=True)
    subprocess.run([wstrace, "synth", f"{scenario}:{events}", "-o", big], check=True)
    for cmd in ("stats", "conns"):
        _, mem_small, _ = peak_kib([wstrace, cmd, small])
        runs = [peak_kib([wstrace, cmd, big]) for _ in range(3)]
        secs = sorted(r[0] for r in runs)[1]
        cpu = sorted(r[2] for r in runs)[1]
        mem_big = max(r[1] for r in runs)
        # CPU time too: on a busy machine the wall clock measures the neighbours.
        print(f"  {cmd:<5} {scenario + ':':<7} {events / secs / 1e6:5.1f} M events/s "
              f"(median of 3: {secs:.2f} s; by CPU time {events / max(cpu, 1e-9) / 1e6:.1f} M/s); "
              f"peak memory {mem_small / 1024:.1f} MiB at "
              f"{events // 10:,} events, {mem_big / 1024:.1f} MiB at {events:,} "
              f"(ratio {mem_big / mem_small:.2f})")
    os.remove(small)
    os.remove(big)
