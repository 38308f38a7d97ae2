#!/usr/bin/env bash
# The kernel engine (`record --engine ebpf`) records the calls beyond its first slice as the
# preload agent does: the same program recorded by both engines gives the same events for
#   - name lookups (uprobes on libc: getaddrinfo, gethostbyname(_r), getnameinfo, gethostbyaddr),
#     through a resolver on loopback in a private network namespace (lib_findings.sh), for a name
#     that resolves and one that does not;
#   - waits (poll, ppoll, select, epoll_wait): the sockets listed, events asked and returned,
#     and epoll_ctl on a socket (added, changed, removed: its events and data);
# and says what it cannot record: the library's own sockets inside a lookup are marked `nested`
# (no row of conns when they moved nothing; the DNS they carried stays), splice's bytes are
# declared unseen, io_uring's socket operations are counted and declared.
# Exit 77 (skipped, with the reason) where BPF cannot be loaded.
# Run as: capture_ebpf_calls.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
. "$(dirname "$0")/lib_findings.sh"
if ! "$WSTRACE" record -q --engine ebpf -o /dev/null -- true 2>"$WORK/probe.err"; then
  echo "SKIP: the kernel engine cannot run here: $(cat "$WORK/probe.err")"
  exit 77
fi
enter_private_netns "$@"
private_dns api.test=127.0.0.1 api.test=::1

for engine in preload ebpf; do
  record "lookup-$engine" 0 --engine "$engine" -- "$NETOPS" lookup api.test nx.test
  record "wait-$engine" 0 --engine "$engine" -- "$NETOPS" wait
done

trace_checks same-events <<'PY'
from tracecheck import *

def calls(name, funcs):
    """The events of those functions, without what differs from run to run."""
    out = []
    for e in load(name).events:
        if e["func"] not in funcs:
            continue
        args = {k: v for k, v in e["args"].items() if k not in ("nested",)}
        out.append((e["func"], e["result"], e.get("error"), args))
    return out

LOOKUPS = ("getaddrinfo", "gethostbyname", "gethostbyname_r", "getnameinfo", "gethostbyaddr")
for what, funcs in (("lookup", LOOKUPS), ("wait", ("poll", "ppoll", "select", "epoll_ctl", "epoll_wait"))):
    context(what)
    pre, ker = calls(what + "-preload", funcs), calls(what + "-ebpf", funcs)
    check(len(pre) >= (8 if what == "lookup" else 9), f"the preload engine's {what} events: {pre}")
    eq(len(ker), len(pre), f"{what}: as many events from the kernel engine")
    for p, k in zip(pre, ker):
        eq(k, p, f"{what}: the kernel engine's {p[0]}")

context("lookup durations")
t = load("lookup-ebpf")
g = t.one("getaddrinfo", host="api.test")
check(g["dur_ns"] > 0, "getaddrinfo has a duration")

context("nested")
# The resolver's own calls are the library's: marked, and only the kernel engine has them.
nested = [e for e in t.events if e["args"].get("nested") == 1]
check(any(e["func"] in ("sendto", "sendmmsg", "send") for e in nested),
      f"the resolver's queries are marked nested: {[e['func'] for e in nested]}")
inside = []
for lk in (e for e in t.events if e["func"] in LOOKUPS):
    inside += [e for e in t.events if e["func"] == "socket" and e["tid"] == lk["tid"] and
               lk["ts_ns"] <= e["ts_ns"] <= lk["ts_ns"] + lk["dur_ns"]]
check(inside, "the lookups made sockets")
eq([e["seq"] for e in inside if e["args"].get("nested") != 1], [],
   "every socket made inside a lookup is marked nested")
# (res_query and res_search are not probed: theirs are the program's own calls)
eq([e for e in load("lookup-preload").events if e["args"].get("nested")], [],
   "the preload agent marks nothing nested")
finish()
PY

# conns: no row for the library's sockets that moved nothing (the UDP connects that order
# getaddrinfo's answers), a row for each that carried DNS to the resolver.
expect_exit 0 "$WSTRACE" conns --json "$WORK/lookup-ebpf.wst"
cp "$WORK/out" "$WORK/conns.json"
trace_checks conns <<'PY'
from tracecheck import *
import json
rows = [json.loads(l) for l in open(work("conns.json")) if l.strip()]
context("conns")
check(rows, "conns has the resolver's flows")
for r in rows:
    moved = r.get("bytes_out", 0) + r.get("bytes_in", 0)
    check(moved > 0, f"a row that moved nothing: {r}")
check(any(str(r.get("remote", "")).endswith(":53") for r in rows), f"a row to the resolver: {rows}")
finish()
PY

# splice into and out of a socket: the calls as the preload agent records them (no payload: a
# pipe's bytes), the bytes moved, and the trace saying the payload is not there.
cat >"$WORK/splice.py" <<'PY'
import os, socket
a, b = socket.socketpair()
r, w = os.pipe()
os.write(w, b"x" * 100)
print("to", os.splice(r, a.fileno(), 100))
print("from", os.splice(b.fileno(), w, 100))
PY
for engine in preload ebpf; do
  record "splice-$engine" 0 --engine "$engine" -- /usr/bin/python3 "$WORK/splice.py"
  expect_in "$WORK/splice-$engine.out" "to 100"
  expect_in "$WORK/splice-$engine.out" "from 100"
done
trace_checks splice <<'PY'
from tracecheck import *
context("splice")
def spl(name):
    return [(e["func"], e["result"], e["args"].get("len")) for e in load(name).events
            if e["func"] in ("splice", "splice_recv")]
eq(spl("splice-ebpf"), spl("splice-preload"), "the kernel engine's splices")
eq(spl("splice-ebpf"), [("splice", 100, 100), ("splice_recv", 100, 100)], "both splices")
t = load("splice-ebpf")
u = t.all("unseen")
eq([e["args"].get("what") for e in u], ["zero-copy-payload"], "the missing bytes are declared")
finish()
PY
expect_exit 0 "$WSTRACE" info "$WORK/splice-ebpf.wst"
expect_in "$WORK/out" "not seen"

# io_uring: a socket operation submitted there is declared at once and counted at the end.
URING="$4/../programs/uring_send"
if [ -x "$URING" ]; then
  record uring 0 --engine ebpf -- "$URING"
  expect_in "$WORK/uring.out" "sent 5"
  trace_checks uring <<'PY'
from tracecheck import *
context("io_uring")
t = load("uring")
u = [(e["args"].get("what"), e["args"].get("count")) for e in t.all("unseen")]
check(("io_uring", None) in u, f"io_uring set up is declared: {u}")
check(("io_uring-sockets", None) in u, f"the first socket operation is declared: {u}")
check(("io_uring-sockets", 2) in u, f"two socket operations are counted: {u}")
finish()
PY
else
  echo "note: no io_uring test program: the io_uring part is left out"
fi

exec 9>&-
done_testing
