#!/usr/bin/env python3
"""pcapng export speed: `wstrace export --format pcapng` of a generated trace holding 1 GiB of
payload (the synthetic scenario payload:N, a download over one TCP connection, every byte kept).
Prints payload MB/s (goal >= 300 MB/s) by the wall clock and by CPU time and the ratios to the
goal, writing to memory (tmpfs: the exporter's speed) and to WORK_DIR (the disk's), and, for
comparison, how fast `wstrace conns` merely reads the same trace.

Run as: export_bench.py WSTRACE WORK_DIR [BYTES]"""
import os
import subprocess
import sys

wstrace, work = sys.argv[1], sys.argv[2]
size = int(sys.argv[3]) if len(sys.argv) > 3 else 1 << 30
GOAL = 300.0  # MB/s of payload
os.makedirs(work, exist_ok=True)
trace, out = f"{work}/payload.wst", f"{work}/payload.pcapng"


def timed(cmd):
    """Runs cmd under GNU time: (wall seconds, CPU seconds)."""
    res = subprocess.run(["/usr/bin/time", "-f", "%e %U %S"] + cmd, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True, check=True).stderr.split()
    return float(res[-3]), float(res[-2]) + float(res[-1])


def export_rate(out):
    """Median of 3 exports to `out`: (wall MB/s, CPU MB/s, wall seconds)."""
    runs = [timed([wstrace, "export", trace, "--format", "pcapng", "-o", out]) for _ in range(3)]
    wall = sorted(r[0] for r in runs)[1]
    cpu = sorted(r[1] for r in runs)[1]
    return mb / max(wall, 1e-9), mb / max(cpu, 1e-9), wall


subprocess.run([wstrace, "synth", f"payload:{size}", "-o", trace], check=True)
mb = size / 1e6
print(f"pcapng export of a trace with {size / (1 << 20):,.0f} MiB of payload "
      f"(goal >= {GOAL:.0f} MB/s)")
# The exporter's own speed: the output in memory (tmpfs) when there is one, so that the figure
# is not the disk's; then the same to WORK_DIR, what a user's disk gives.
places = ([("memory (/dev/shm)", "/dev/shm/wstrace-export-bench.pcapng")]
          if os.path.isdir("/dev/shm") else []) + [(f"disk ({work})", out)]
try:
    for where, path in places:
        wall, cpu, secs = export_rate(path)
        print(f"  export to {where}: {wall:6.0f} MB/s (median of 3: {secs:.2f} s), ratio to the "
              f"goal {wall / GOAL:.2f}; by CPU time {cpu:.0f} MB/s, ratio {cpu / GOAL:.2f} "
              f"(the wall clock also measures the neighbours on a busy machine)")
        if os.path.exists(path):
            os.remove(path)
    read = sorted(timed([wstrace, "conns", trace]) for _ in range(3))[1]
    print(f"  reading the trace alone (conns): {mb / max(read[0], 1e-9):6.0f} MB/s ({read[0]:.2f} s; "
          f"by CPU time {mb / max(read[1], 1e-9):.0f} MB/s)")
finally:
    for f in [trace] + [p for _, p in places]:
        if os.path.exists(f):
            os.remove(f)
