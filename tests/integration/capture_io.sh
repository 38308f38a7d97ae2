#!/usr/bin/env bash
# Capture of waits (poll, ppoll, select, epoll_ctl, epoll_wait), of descriptors duplicated, re-targeted and
# reused (dup, dup2, dup3, fcntl, ioctl), and of many threads at once: every call counted, or
# every missing one accounted for by drops events.
# Run as: capture_io.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

record wait 0 -- "$NETOPS" wait
record wait-fortify 0 -- "$TARGETS/netops-fortify" wait
nm -D "$TARGETS/netops-fortify" >"$WORK/fortify.syms"
expect_in "$WORK/fortify.syms" " __poll_chk@"
record dup 0 -- "$NETOPS" dup
record threads 0 -- "$NETOPS" threads 16 500
# more threads at once than the collector has rings (256): some threads cannot record
record threads-many 0 -- "$NETOPS" threads 300 20

trace_checks wait <<'PY'
from tracecheck import *
for name in ("wait", "wait-fortify"):
    context(name)
    t = load(name)
    o = output_fields(name, "wait")
    s0, s1 = (int(x) for x in o["sv"].split(","))
    pipe, ep = int(o["pipe"]), int(o["ep"])
    sp = t.one("socketpair")
    eq((sp["args"].get("sock"), sp["args"].get("new_sock")), (s0, s1), "socketpair")
    def fds(e):
        return [(f["sock"], f["events"], f["revents"]) for f in e["args"].get("fds", [])]
    polls = t.all("poll")
    # the third poll waits on the pipe alone: not a socket wait, not recorded
    eq(len(polls), 2, "poll calls recorded")
    if len(polls) == 2:
        eq((polls[0]["result"], fds(polls[0]), polls[0]["args"].get("timeout")),
           (0, [(s0, "POLLIN", "0")], 0), "poll on an empty socket")
        eq((polls[1]["result"], fds(polls[1]), polls[1]["args"].get("timeout")),
           (1, [(s0, "POLLIN", "POLLIN")], 1_000_000_000), "poll on the socket and a pipe (pipe not listed)")
        check(polls[0]["seq"] < t.one("send")["seq"] < polls[1]["seq"], "poll, send, poll in order")
    pp = t.one("ppoll")
    eq((pp["result"], fds(pp), pp["args"].get("timeout")), (1, [(s0, "POLLIN", "POLLIN")], 1_000_000_000), "ppoll")
    se = t.one("select")
    eq((se["result"], fds(se), se["args"].get("timeout")),
       (2, [(s0, "POLLIN", "POLLIN"), (s1, "POLLOUT", "POLLOUT")], 1_000_000_000), "select")
    # each epoll wait lists the sockets it returned ready (from the data words of the epoll_ctl
    # calls), not a pipe: not one returned beside the socket, not one given a word a socket had
    D = 0x1122334455667788
    ews = t.all("epoll_wait")
    eq([(e["result"], e["args"].get("sock"), e["args"].get("count"), e["args"].get("timeout"), fds(e))
        for e in ews],
       [(1, ep, 4, 1_000_000_000, [(s0, "POLLIN", "POLLIN")]),
        (2, ep, 4, 1_000_000_000, [(s0, "POLLIN", "POLLIN")]),
        (1, ep, 4, 1_000_000_000, []),
        (2, ep, 4, 1_000_000_000, [])], "epoll_wait: the sockets returned ready")
    # epoll_ctl on the socket: added, changed, removed (twice: the second fails), added again;
    # the pipe's not
    w = [(e["args"].get("sock"), e["args"].get("epfd"), e["args"].get("epoll_op"),
          e["args"].get("events"), e["args"].get("data"), e["result"], error_name(e))
         for e in t.all("epoll_ctl")]
    eq(w, [(s0, ep, "EPOLL_CTL_ADD", "EPOLLIN", s0, 0, None),
           (s0, ep, "EPOLL_CTL_MOD", "EPOLLIN|EPOLLRDHUP|EPOLLET", D, 0, None),
           (s0, ep, "EPOLL_CTL_DEL", None, None, 0, None),
           (s0, ep, "EPOLL_CTL_DEL", None, None, -1, "ENOENT"),
           (s0, ep, "EPOLL_CTL_ADD", "EPOLLIN", D, 0, None)], "epoll_ctl on the socket only")
    check(t.one("epoll_ctl", epoll_op="EPOLL_CTL_MOD")["seq"] < ews[2]["seq"], "epoll_ctl before the wait")
    eq(payload(t.one("recv", sock=s0)), b"w", "recv")
    eq(sorted(e["args"]["sock"] for e in t.all("close")), [s0, s1], "closes: sockets only (not the pipe, not epoll)")
finish()
PY

trace_checks dup <<'PY'
from tracecheck import *
context("dup")
t = load("dup")
o = output_fields("dup", "dup")
s0, s1 = (int(x) for x in o["sv"].split(","))
d1, d4, sock, f = int(o["d1"]), int(o["d4"]), int(o["sock"]), int(o["file"])
sock2, f2 = int(o["sock2"]), int(o["file2"])
def dupev(func, new):
    e = t.one(func, new_sock=new)
    eq((e["args"].get("sock"), e["result"]), (s0, new), f"{func} from {s0} to {new}")
dupev("dup", d1)
dupev("dup2", 100)
dupev("dup3", 101)
dupev("fcntl_dupfd", d4)
check(d4 >= 200, "F_DUPFD 200 gives at least 200")
for fd, text in ((d1, b"dup-1"), (101, b"dup-3"), (d4, b"dup-4")):
    eq([payload(e) for e in t.all("send", sock=fd)], [text], f"send on the duplicate {fd}")
# 100 was a socket, then became a pipe: only its socket life is recorded
eq([(e["func"], payload(e)) for e in t.events if e["args"].get("sock") == 100], [("send", b"dup-2")],
   "events on descriptor 100")
eq(t.all("write"), [], "no write recorded (pipe and file)")
eq([payload(e) for e in t.all("recv", sock=s1) if e["result"] > 0],
   [b"dup-1", b"dup-2", b"dup-3", b"dup-4", b"dup-5"], "recv on the other end")
fc = t.all("fcntl", sock=s1)
eq([e["args"].get("request") for e in fc], ["F_GETFL", "F_SETFL"], "fcntl requests")
if len(fc) == 2:
    eq(fc[1]["args"].get("arg"), fc[0]["result"] | 0o4000, "F_SETFL arg = flags | O_NONBLOCK")
ea = [e for e in t.all("recv", sock=s1) if e["result"] < 0]
eq([error_name(e) for e in ea], ["EAGAIN"], "recv on the empty non-blocking socket")
io = t.all("ioctl")
eq([(e["args"].get("sock"), e["args"].get("request"), e["args"].get("arg"), e["result"]) for e in io],
   [(s0, "FIONBIO", 1, 0), (s1, "FIONREAD", 5, 0)], "ioctl FIONBIO and FIONREAD")
# closes: the duplicates, then a socket whose number a file takes next (the file's close is not
# a socket's), then the pair. The second socket is closed inside libc (fclose of fdopen): its
# close cannot be seen, but the file that takes its number next is no socket either.
eq([e["args"]["sock"] for e in t.all("close")], [d1, 101, d4, sock, s0, s1], "closes")
eq((sock, sock2), (f, f2), "the files reused the sockets' numbers (else this test proves less)")
s2 = [e for e in t.all("socket") if e["args"].get("type") == "SOCK_STREAM"]
eq([e["result"] for e in s2], [sock2], "the socket closed by fclose")
if s2:
    eq([(e["func"], payload(e)) for e in t.events if e["seq"] > s2[0]["seq"] and e["args"].get("sock") == sock2],
       [], "events on the number after the socket became a file (write 'file-2', close)")
eq(len(t.all("dup")), 1, "dup of the pipe not recorded")
finish()
PY

trace_checks threads <<'PY'
from tracecheck import *
from collections import Counter, defaultdict

def threads(name, n, m, expect_drops):
    context(name)
    t = load(name)
    per_thread = 3 + 4 * m  # socketpair, 2m sends, 2m recvs, 2 closes
    kinds = ("socketpair", "send", "recv", "close")
    counted = sum(1 for e in t.events if e["func"] in kinds)
    dropped = t.dropped()
    eq(counted + dropped, n * per_thread, f"recorded calls ({counted}) + dropped ({dropped})")
    by_tid = defaultdict(Counter)
    for e in t.events:
        if e["func"] in kinds:
            by_tid[e["tid"]][e["func"]] += 1
    pid = t.pids()[0] if t.pids() else None
    check(pid not in by_tid, "the main thread made no socket calls")
    if not dropped:
        eq(Counter(e["func"] for e in t.events if e["func"] in kinds),
           Counter({"send": n * m * 2, "recv": n * m * 2, "socketpair": n, "close": 2 * n}), "calls by function")
        eq(len(by_tid), n, "threads seen")
    # a thread is recorded whole, or from the moment a ring was freed for it (another thread
    # ended): then it lacks at least its first call, the socketpair
    partial = {tid: c for tid, c in by_tid.items() if sum(c.values()) != per_thread}
    eq({tid: c for tid, c in partial.items() if c["socketpair"]}, {},
       "threads recorded in part that kept their first call")
    if not expect_drops:
        eq(partial, {}, "threads recorded in part")
    # each thread's sends and receives stay on its own pair
    pairs = {e["tid"]: {e["args"]["sock"], e["args"]["new_sock"]} for e in t.all("socketpair")}
    stray = [e["seq"] for e in t.all(("send", "recv")) if e["args"]["sock"] not in pairs.get(e["tid"], ())]
    eq(stray[:5], [], "sends/receives on another thread's sockets")
    bad = [e["seq"] for e in t.all(("send", "recv")) if e["result"] != 1 or len(payload(e)) != 1]
    eq(bad[:5], [], "every send/recv moved its 1 byte")
    if expect_drops:
        check(dropped > 0, f"{n} threads at once and 256 rings: some calls must be dropped")
        with open(work(name + ".err")) as f:
            err = f.read()
        check(f"{dropped} records dropped" in err, f"wstrace says how many records it dropped: {err!r}")
    return t

threads("threads", 16, 500, False)
threads("threads-many", 300, 20, True)
finish()
PY

done_testing
