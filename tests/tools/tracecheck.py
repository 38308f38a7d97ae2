"""Assertions on recorded traces, for the capture tests (tests/integration/capture_*.sh).

The scripts embed their checks as python3 with this folder on PYTHONPATH, and the environment
variables WSTRACE (the wstrace binary) and WORK (the test's work folder). A scenario NAME has its
trace in $WORK/NAME.wst and the traced program's standard output in $WORK/NAME.out.

    from tracecheck import *
    t = load("tcp4")                       # the events of `wstrace show --json`
    c = t.one("connect", sock=5)           # exactly one event with that func and args
    eq(addr(c, "addr"), ("127.0.0.1", 8080), "connect address")
    finish()                               # prints the count, exits 1 if anything failed
"""
import json
import os
import subprocess
import sys

_checks = 0
_failures = 0
_context = ""


def context(text):
    """A label for the failure messages that follow."""
    global _context
    _context = text


def check(cond, msg):
    global _checks, _failures
    _checks += 1
    if not cond:
        _failures += 1
        print(f"FAIL{(' [' + _context + ']') if _context else ''}: {msg}", file=sys.stderr)
    return bool(cond)


def eq(actual, expected, what):
    return check(actual == expected, f"{what}: got {actual!r}, expected {expected!r}")


def finish():
    print(f"{_checks} trace checks, {_failures} failed")
    sys.exit(1 if _failures else 0)


def work(name):
    return os.path.join(os.environ["WORK"], name)


def output(name):
    """The traced program's standard output, as a list of lines."""
    with open(work(name + ".out")) as f:
        return f.read().splitlines()


def output_fields(name, first_word):
    """key=value pairs of the output line starting with first_word."""
    for line in output(name):
        words = line.split()
        if words and words[0] == first_word:
            return dict(w.split("=", 1) for w in words[1:] if "=" in w)
    check(False, f"{name}.out has no line starting with {first_word!r}")
    return {}


def _matches(ev, func, pid, args):
    if func is not None:
        funcs = func if isinstance(func, (tuple, list, set)) else (func,)
        if ev["func"] not in funcs:
            return False
    if pid is not None and ev["pid"] != pid:
        return False
    for k, v in args.items():
        if ev["args"].get(k) != v:
            return False
    return True


class Trace:
    def __init__(self, name, path, events):
        self.name = name
        self.path = path
        self.events = events

    def all(self, func=None, pid=None, **args):
        return [e for e in self.events if _matches(e, func, pid, args)]

    def one(self, func=None, pid=None, **args):
        found = self.all(func, pid, **args)
        what = f"{func or 'event'}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
        if pid is not None:
            what += f" in pid {pid}"
        if not check(len(found) == 1, f"{self.name}: expected one {what}, found {len(found)}"):
            return found[0] if found else {"func": func, "args": {}, "result": None, "pid": None,
                                           "tid": None, "dur_ns": None}
        return found[0]

    def funcs(self, pid=None):
        """The function names in trace order, without process_start/process_exit."""
        return [e["func"] for e in self.events
                if (pid is None or e["pid"] == pid)
                and e["func"] not in ("process_start", "process_exit")]

    def pids(self):
        return sorted({e["pid"] for e in self.events if e["func"] == "process_start"})

    def dropped(self):
        return sum(e["args"].get("dropped", 0) for e in self.events if e["func"] == "drops")


def load(name, path=None, tcp_info=False):
    """Reads a trace with `wstrace show --json`; its exit status must be 0. The agent's own TCP
    statistics readings (tcp_info events) are left out unless asked for: they are no calls of the
    program (capture_tcp_health.sh checks them)."""
    path = path or work(name + ".wst")
    p = subprocess.run([os.environ["WSTRACE"], "show", "--json", path], capture_output=True,
                       text=True)
    check(p.returncode == 0, f"wstrace show --json {path} exited {p.returncode}: {p.stderr[:300]}")
    events = []
    for n, line in enumerate(p.stdout.splitlines()):
        try:
            ev = json.loads(line)
            if tcp_info or ev.get("event") != "tcp_info":
                events.append(ev)
        except ValueError as e:
            check(False, f"{path}: line {n + 1} is not JSON ({e}): {line[:200]}")
    check(events, f"{path}: no events")
    return Trace(name, path, events)


def addr(ev, field="addr"):
    """An address field as (ip, port), or the path of an AF_UNIX address, or None."""
    a = ev["args"].get(field)
    if a is None:
        return None
    if a.get("family") == "AF_UNIX":
        return a.get("path", "")
    return (a.get("ip"), a.get("port"))


def payload(ev):
    """The recorded payload bytes (b'' when the event has none)."""
    p = ev["args"].get("payload")
    return bytes.fromhex(p["hex"]) if p else b""


def payload_len(ev):
    p = ev["args"].get("payload")
    return p["len"] if p else None


def error_name(ev):
    e = ev.get("error")
    return e["name"] if e else None


def expect_error(ev, name, what):
    eq(error_name(ev), name, f"{what}: error")
