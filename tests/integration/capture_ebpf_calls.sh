#!/usr/bin/env bash
# The kernel engine (`record --engine ebpf`) records the calls beyond its first slice as the
# preload agent does: the same program recorded by both engines gives the same events for
#   - name lookups (uprobes on libc: getaddrinfo, gethostbyname(_r), getnameinfo, gethostbyaddr),
#     through a resolver on loopback in a private network namespace (lib_findings.sh), for a name
#     that resolves and one that does not;
#   - waits (poll, ppoll, select, epoll_wait): the sockets listed, events asked and returned
#     (an epoll wait's: those it returned ready, found through the epoll_ctl calls), and
#     epoll_ctl on a socket (added, changed, removed: its events and data);
# and says what it cannot record: the library's own sockets inside a lookup are marked `nested`
# (no row of conns when they moved nothing; the DNS they carried stays), zero-copy sends
# (sendfile, splice into a socket) keep their bytes as the preload agent's do, bytes it cannot
# read are declared unseen, io_uring's socket operations are counted and declared.
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

context("epoll waits")
# Both engines list the sockets an epoll wait returned ready, not a pipe (netops wait: the
# socket alone, the socket beside a pipe, a pipe with a word the socket had, both with one word)
for engine in ("preload", "ebpf"):
    s0 = int(output_fields("wait-" + engine, "wait")["sv"].split(",")[0])
    eq([(e["result"], [f["sock"] for f in e["args"].get("fds", [])])
        for e in load("wait-" + engine).all("epoll_wait")],
       [(1, [s0]), (2, [s0]), (1, []), (2, [])], f"{engine}: the sockets listed")

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

# Zero-copy sends: sendfile at an offset, from the file's position and 100 kB at once (longer
# than an event: sent in pieces), splice from a pipe into a socket, copy_file_range to a socket
# (refused by the kernel), both engines. The kernel
# engine keeps the bytes the preload agent reads back from the file (and a splice's, which the
# agent cannot read), declares unseen only what it cannot read: a sendfile from /dev/zero (no
# page cache), a splice out of a socket (its bytes went into a pipe).
cat >"$WORK/zerocopy.py" <<'PY'
import os, socket, sys, threading
data = bytes((i * 7) % 251 for i in range(100000))
path = sys.argv[1]
with open(path, "wb") as f:
    f.write(data)
a, b = socket.socketpair()
got = bytearray()
def drain():
    while True:
        d = b.recv(65536)
        if not d:
            return
        got.extend(d)
t = threading.Thread(target=drain)
t.start()
fd = os.open(path, os.O_RDONLY)
print("at", os.sendfile(a.fileno(), fd, 100, 5000))
os.lseek(fd, 1000, os.SEEK_SET)
print("pos", os.sendfile(a.fileno(), fd, None, 3000))
print("big", os.sendfile(a.fileno(), fd, 0, 100000))
r, w = os.pipe()
os.write(w, b"piped bytes " * 10)
print("to", os.splice(r, a.fileno(), 120))
z = os.open("/dev/zero", os.O_RDONLY)
print("zero", os.sendfile(a.fileno(), z, None, 1000))
a.shutdown(socket.SHUT_WR)
t.join()
c, d = socket.socketpair()
d.send(b"y" * 100)
print("from", os.splice(c.fileno(), w, 100))
print("got", len(got))
try:
    os.copy_file_range(fd, c.fileno(), 10)
except OSError as e:
    print("copy_file_range", e.errno)
PY
for engine in preload ebpf; do
  record "zerocopy-$engine" 0 -s max --engine "$engine" -- /usr/bin/python3 "$WORK/zerocopy.py" \
    "$WORK/zerocopy-$engine.bin"
  expect_in "$WORK/zerocopy-$engine.out" "big 100000"
  expect_in "$WORK/zerocopy-$engine.out" "to 120"
  expect_in "$WORK/zerocopy-$engine.out" "from 100"
  expect_in "$WORK/zerocopy-$engine.out" "got 109120"
done
trace_checks zerocopy <<'PY'
import hashlib
from tracecheck import *
context("zerocopy")
data = bytes((i * 7) % 251 for i in range(100000))
def digest(b):
    """A payload as its length and the start of its SHA-1 (short in a failure's message)."""
    return (len(b), hashlib.sha1(b).hexdigest()[:12])
def zc(name):
    return [(e["func"], e["result"], e["args"].get("len"), digest(payload(e)), payload_len(e))
            for e in load(name).events
            if e["func"] in ("sendfile", "splice", "splice_recv", "copy_file_range")]
pre, k = zc("zerocopy-preload"), zc("zerocopy-ebpf")
eq([x[:3] for x in k], [x[:3] for x in pre], "the kernel engine's calls, results and lengths")
eq(k[:3], pre[:3], "the kernel engine's sendfile payloads are the preload agent's")
eq([x[3] for x in k[:3]], [digest(data[100:5100]), digest(data[1000:4000]), digest(data)],
   "sendfile payloads are the file's bytes")
eq(k[3:4], [("splice", 120, 120, digest(b"piped bytes " * 10), 120)],
   "a splice's bytes from its pipe")
eq(k[4:5], [("sendfile", 1000, 1000, digest(b""), 1000)],
   "a sendfile from /dev/zero: its length, no bytes")
eq([(x[0], x[3]) for x in k[5:6]], [("splice_recv", digest(b""))],
   "a splice out of a socket: no bytes")
cfr = [(e["result"], error_name(e), e["args"].get("sock"), e["args"].get("len"))
       for n in ("zerocopy-preload", "zerocopy-ebpf") for e in load(n).all("copy_file_range")]
eq(len(cfr), 2, "copy_file_range to a socket recorded by both engines")
if len(cfr) == 2:
    eq(cfr[1], cfr[0], "the kernel engine's copy_file_range is the preload agent's")
t = load("zerocopy-ebpf")
u = t.all("unseen")
eq([e["args"].get("what") for e in u], ["zero-copy-payload"], "unread bytes are declared, once")
sf = [e for e in t.events if e["func"] == "sendfile"]
eq(u[0]["ts_ns"] if u and len(sf) > 3 else None, sf[3]["ts_ns"] if len(sf) > 3 else None,
   "declared at the first call whose bytes were not read")
finish()
PY
expect_exit 0 "$WSTRACE" info "$WORK/zerocopy-ebpf.wst"
expect_in "$WORK/out" "not seen"

# A splice that waits on an empty pipe another process fills: the bytes came after the call
# began (its child writes once /proc says the splice waits): declared, not kept.
cat >"$WORK/late.py" <<'PY'
import os, socket
a, b = socket.socketpair()
r, w = os.pipe()
parent = os.getpid()
if os.fork() == 0:
    while True:
        with open(f"/proc/{parent}/syscall") as f:
            if f.read().split()[0] == str(275):  # (splice, waiting)
                break
        os.sched_yield()
    os.write(w, b"late bytes")
    os._exit(0)
print("late", os.splice(r, a.fileno(), 10))
os.wait()
PY
record zerocopy-late 0 -s max --engine ebpf -- /usr/bin/python3 "$WORK/late.py"
expect_in "$WORK/zerocopy-late.out" "late 10"
trace_checks zerocopy-late <<'PY'
from tracecheck import *
context("zerocopy-late")
t = load("zerocopy-late")
sp = t.one("splice")
eq((sp["result"], payload(sp), payload_len(sp)), (10, b"", 10), "the splice: its length, no bytes")
eq([e["args"].get("what") for e in t.all("unseen")], ["zero-copy-payload"], "declared")
finish()
PY

# The same from a file of overlayfs (a container's root): the bytes are its real file's page
# cache (the lower layer's, then the upper one's once the file is written). The mount is the
# test's own, in its private mount namespace.
mkdir -p "$WORK/ovl/lower" "$WORK/ovl/upper" "$WORK/ovl/work" "$WORK/ovl/merged"
python3 -c 'import sys; open(sys.argv[1], "wb").write(bytes((i * 7) % 251 for i in range(100000)))' \
  "$WORK/ovl/lower/f.bin"
if mount -t overlay overlay -o "lowerdir=$WORK/ovl/lower,upperdir=$WORK/ovl/upper,workdir=$WORK/ovl/work" \
    "$WORK/ovl/merged" 2>"$WORK/ovl.err"; then
  cat >"$WORK/ovl.py" <<'PY'
import os, socket, sys, threading
a, b = socket.socketpair()
threading.Thread(target=lambda: [None for _ in iter(lambda: b.recv(65536), b"")]).start()
fd = os.open(sys.argv[1], os.O_RDONLY)
print("lower", os.sendfile(a.fileno(), fd, 100, 5000))
with open(sys.argv[1], "r+b") as f:
    f.write(b"upper")
fd = os.open(sys.argv[1], os.O_RDONLY)
print("upper", os.sendfile(a.fileno(), fd, 0, 100))
a.close()
PY
  record zerocopy-ovl 0 -s max --engine ebpf -- /usr/bin/python3 "$WORK/ovl.py" "$WORK/ovl/merged/f.bin"
  expect_in "$WORK/zerocopy-ovl.out" "upper 100"
  trace_checks zerocopy-ovl <<'PY'
import hashlib
from tracecheck import *
context("zerocopy-ovl")
data = bytes((i * 7) % 251 for i in range(100000))
def digest(b):
    return (len(b), hashlib.sha1(b).hexdigest()[:12])
t = load("zerocopy-ovl")
eq([digest(payload(e)) for e in t.all("sendfile")],
   [digest(data[100:5100]), digest(b"upper" + data[5:100])],
   "sendfile from overlayfs: the lower file's bytes, then the upper copy's")
eq(t.all("unseen"), [], "nothing declared unseen")
finish()
PY
  umount "$WORK/ovl/merged"
else
  echo "note: no overlayfs here ($(cat "$WORK/ovl.err")): its part is left out"
fi

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
