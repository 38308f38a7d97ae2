#!/usr/bin/python3
"""The Windows ping-pong (tests/targets/windows/wpingpong.c) under Wine: untraced, and under
`wstrace.exe record -q` without and with payload capture.

Wall time on a shared machine is noise-bound, so this measures CPU time too, taken from the
Linux side: the traced program's and wstrace.exe's (each one's rusage, reaped by this script,
which makes itself their subreaper: Wine starts a Windows child through a double fork, so it
is no Linux child of wstrace.exe), and the wineserver's (shared by every Wine process of the
prefix; its on-CPU time from /proc/PID/schedstat before and after each run). Runs alternate
(untraced, traced, traced with payloads; the order turns each round), each configuration RUNS
times with ROUNDS round trips and RUNS times with 0 (the fixed cost of starting, injecting and
ending); medians with the spread (min-max), and CPU per socket call net of the fixed cost (a
round trip is 4 calls: send and recv on each side). Then the collector's own cost while the
program does nothing: what its wake-ups cost a second.

Usage: wine_pingpong_bench.py SOURCE_DIR [ROUNDS] [RUNS]   (WSTRACE_EXE=… another build's)
"""
import ctypes
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

PR_SET_CHILD_SUBREAPER = 36
CALLS_PER_ROUND = 4


def schedstat_ns(pid):
    """Time PID spent on a CPU, in ns (user and system; the scheduler's own count)."""
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def cpu_ns(rusage):
    return int((rusage.ru_utime + rusage.ru_stime) * 1e9)


def zombie_children():
    """{pid: comm} of this process's children that have ended and wait to be reaped."""
    me, found = str(os.getpid()), {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        state, ppid = stat[stat.rindex(")") + 2:].split()[:2]
        if ppid == me and state == "Z":
            found[int(pid)] = comm
    return found


def measure(argv, wineserver, program_comm, stdin=None):
    """Runs ARGV to its end: (wall ns, its own CPU ns, the program's CPU ns when it ran as a
    separate process (else 0), the wineserver's CPU ns)."""
    ws0, t0 = schedstat_ns(wineserver), time.monotonic_ns()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    wall = time.monotonic_ns() - t0
    if proc.returncode:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}")
    own, program = cpu_ns(rusage), 0
    # The traced program, orphaned by Wine's double fork, is reaped here (bounded wait: it has
    # ended when wstrace.exe saw it end, but its zombie may come a moment later).
    deadline = time.monotonic() + (5 if argv[1].endswith("wstrace.exe") else 0)
    while True:
        for pid, comm in zombie_children().items():
            _, _, ru = os.wait4(pid, 0)
            if program_comm.startswith(comm):
                program += cpu_ns(ru)
                deadline = 0
        if time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    return wall, own, program, schedstat_ns(wineserver) - ws0


def spread(values, scale):
    """median [min-max], in units of SCALE ns."""
    m = statistics.median(values)
    return f"{m / scale:8.1f} [{min(values) / scale:.1f}-{max(values) / scale:.1f}]"


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    src = os.path.abspath(argv[1])
    rounds = int(argv[2]) if len(argv) > 2 else 20000
    runs = int(argv[3]) if len(argv) > 3 else 7
    # Another build's (with its agent beside it) to compare: WSTRACE_EXE=/path/to/wstrace.exe
    wstrace = os.environ.get("WSTRACE_EXE") or os.path.join(src, "build/win64/bin/wstrace.exe")
    pingpong = os.path.join(src, "build/win64/tests/targets/wpingpong.exe")
    for path in (wstrace, pingpong):
        if not os.path.exists(path):
            sys.exit(f"{path} is missing: build the win64 preset first")
    ctypes.CDLL(None).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    tmp = tempfile.mkdtemp(prefix="wine-pingpong-")
    # A prefix of the benchmark's own, so that no test's wineserver is counted here.
    prefix = os.path.join(src, "build/win64/bench-wineprefix")
    os.environ.update(WINEPREFIX=prefix, WINEDEBUG="-all", WINEDLLOVERRIDES="mscoree,mshtml=")
    os.makedirs(prefix, exist_ok=True)
    subprocess.run(["wineserver", "-k"], stderr=subprocess.DEVNULL)  # one left by a past run
    server = subprocess.Popen(["wineserver", "-f", "-p"])
    try:
        # (Output let go: the services wineboot starts would hold a pipe open to the end.)
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL, "check": True}
        subprocess.run(["wine", "wineboot", "--init"], **quiet)
        subprocess.run(["wine", pingpong, "100"], **quiet)  # warm up
        if server.poll() is not None:
            sys.exit(f"the wineserver of {prefix} exited {server.returncode}")
        configs = {
            "untraced": lambda n: ["wine", pingpong, str(n)],
            "wstrace.exe record -q -s 0": lambda n: ["wine", wstrace, "record", "-q", "-s", "0",
                                                     "-o", f"{tmp}/s0.wst", "--", pingpong,
                                                     str(n)],
            "wstrace.exe record -q (snaplen 1024)": lambda n: ["wine", wstrace, "record", "-q",
                                                               "-o", f"{tmp}/sd.wst", "--",
                                                               pingpong, str(n)],
        }
        names = list(configs)
        results = {(name, n): [] for name in names for n in (0, rounds)}
        # wstrace.exe's own start and end, without a program: the floor of its start-up cost
        # (under Wine, mostly loading its image).
        results[("version", 0)] = []
        for i in range(runs):
            results[("version", 0)].append(measure(["wine", wstrace, "--version"], server.pid,
                                                   "-"))
            for n in (0, rounds):
                for name in names[i % 3:] + names[:i % 3]:
                    results[(name, n)].append(measure(configs[name](n), server.pid,
                                                      "wpingpong.exe"))
        report(results, names, rounds, runs)
        idle(wstrace, os.path.join(os.path.dirname(pingpong), "wnetops.exe"), server.pid, runs,
             tmp)
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(tmp, ignore_errors=True)


IDLE_SECONDS = (1, 3)


def idle(wstrace, wnetops, wineserver, runs, tmp):
    """The collector's own cost: a program idle (wnetops waiting for its input) for 1 s and for
    3 s, untraced and traced in turn. What tracing adds per second of idling is the slope
    between the two lengths, free of the start-up cost: wstrace.exe's CPU, and the wineserver's
    above untraced."""
    rows = {(name, t): [] for name in ("untraced", "traced") for t in IDLE_SECONDS}
    for _ in range(runs):
        for name, seconds in rows:
            argv = ["wine", wnetops, "waitstdin"]
            if name == "traced":
                argv = ["wine", wstrace, "record", "-q", "-o", f"{tmp}/idle.wst", "--", *argv[1:]]
            feeder = subprocess.Popen(["sh", "-c", f"sleep {seconds}; echo go"],
                                      stdout=subprocess.PIPE)
            rows[(name, seconds)].append(measure(argv, wineserver, "wnetops.exe", feeder.stdout))
            feeder.stdout.close()
    short, long = IDLE_SECONDS

    def slope(name, k):
        return (statistics.median(r[k] for r in rows[(name, long)]) -
                statistics.median(r[k] for r in rows[(name, short)])) / (long - short) / 1e6

    print(f"  a program idle ({short} s and {long} s, {runs} runs each): the collector's wake-ups"
          f" cost wstrace.exe {slope('traced', 1):.1f} ms of CPU a second, and the wineserver "
          f"{slope('traced', 3) - slope('untraced', 3):+.1f} ms a second above untraced "
          f"({slope('untraced', 3):.1f})")
    for (name, seconds), r in rows.items():
        print(f"    {name} {seconds} s: wstrace.exe {spread([x[1] for x in r], 1e6)} ms, "
              f"wineserver {spread([x[3] for x in r], 1e6)} ms")


def report(results, names, rounds, runs):
    calls = rounds * CALLS_PER_ROUND
    print(f"Windows ping-pong under Wine: {rounds} round trips (32 bytes each way, {calls} "
          f"socket calls), {runs} runs of each, alternating; median [min-max]")
    print(f"  {'':38} {'wall ms':>20} {'CPU ms: program':>24} {'wstrace.exe':>20} "
          f"{'wineserver':>20} {'all':>20}")
    totals = {}
    for n in (0, rounds):
        print(f"  {n} rounds{' (start-up cost: start, inject, end)' if n == 0 else ''}")
        for name in names:
            rows = results[(name, n)]
            traced = name != "untraced"
            program = [r[2] if traced else r[1] for r in rows]
            collector = [r[1] if traced else 0 for r in rows]
            wineserver = [r[3] for r in rows]
            everything = [p + c + w for p, c, w in zip(program, collector, wineserver)]
            totals[(name, n)] = (statistics.median([r[0] for r in rows]),
                                 statistics.median(program), statistics.median(collector),
                                 statistics.median(wineserver), statistics.median(everything))
            print(f"    {name:36} {spread([r[0] for r in rows], 1e6)} {spread(program, 1e6)} "
                  f"{spread(collector, 1e6) if traced else '-':>20} {spread(wineserver, 1e6)} "
                  f"{spread(everything, 1e6)}")
    print(f"  per socket call, net of the start-up cost (median of {rounds} rounds minus median"
          f" of 0), and the ratio to untraced:")
    base = [totals[("untraced", rounds)][k] - totals[("untraced", 0)][k] for k in range(5)]
    for name in names:
        net = [totals[(name, rounds)][k] - totals[(name, 0)][k] for k in range(5)]
        per = [v / calls / 1000 for v in net]  # µs
        print(f"    {name:36} wall {per[0]:6.2f} µs ({net[0] / base[0]:.2f}x)   CPU: program "
              f"{per[1]:6.2f} µs ({net[1] / base[1]:.2f}x), wstrace.exe {per[2]:6.2f} µs, "
              f"wineserver {per[3]:6.2f} µs, all {per[4]:6.2f} µs ({net[4] / base[4]:.2f}x)")
    version = results[("version", 0)]
    print(f"  wstrace.exe --version alone: wall {spread([r[0] for r in version], 1e6)} ms, CPU "
          f"{spread([r[1] for r in version], 1e6)} ms (+ wineserver "
          f"{spread([r[3] for r in version], 1e6)})")
    for name in names[1:]:
        s = [totals[(name, 0)][k] - totals[("untraced", 0)][k] for k in range(5)]
        print(f"  start-up cost of {name}: wall +{s[0] / 1e6:.0f} ms, CPU +{s[4] / 1e6:.0f} ms "
              f"(program +{s[1] / 1e6:.0f}, wstrace.exe {s[2] / 1e6:.0f}, wineserver "
              f"+{s[3] / 1e6:.0f})")


if __name__ == "__main__":
    main(sys.argv)
