#!/usr/bin/env bash
# Capture across processes: fork (a child doing a TCP exchange with its parent), fork+exec,
# exec of the program itself, posix_spawn and vfork; each process's events under its own pid,
# with its process_start (parent, image, command line) and its process_exit; --no-follow records
# the program alone (across its own exec too).
# Run as: capture_procs.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

record fork 0 -- "$NETOPS" fork
record fork-nofollow 0 --no-follow -- "$NETOPS" fork
record exec 0 -- "$NETOPS" exec
record exec-nofollow 0 --no-follow -- "$NETOPS" exec
record exec-self 0 -- "$NETOPS" exec-self
record exec-self-nofollow 0 --no-follow -- "$NETOPS" exec-self
record spawn 0 -- "$NETOPS" spawn
record vfork 0 -- "$NETOPS" vfork
# --no-follow, many times: the program itself is recorded every time (no race with its start)
for i in $(seq 50); do
  "$WSTRACE" record -q --no-follow -o "$WORK/nofollow-$i.wst" -- "$NETOPS" exit 0 >/dev/null 2>>"$WORK/nofollow.err" ||
    fail "wstrace record --no-follow run $i failed"
done
# Thread names a program gives its threads itself (a Python program, through ctypes): prctl
# (PR_SET_NAME) on the main thread, with a name longer than the kernel keeps, and
# pthread_setname_np(pthread_self()) on another thread.
record threadnames 0 -- python3 -c '
import ctypes, threading
libc = ctypes.CDLL(None)
libc.pthread_self.restype = ctypes.c_ulong
libc.pthread_setname_np.argtypes = [ctypes.c_ulong, ctypes.c_char_p]
libc.prctl(15, b"main-named-by-prctl", 0, 0, 0)
worker = {}
def run():
    worker["tid"] = threading.get_native_id()
    libc.pthread_setname_np(libc.pthread_self(), b"py-worker")
t = threading.Thread(target=run)
t.start()
t.join()
print("names main=%d worker=%d" % (threading.get_native_id(), worker["tid"]))
'
# the children's programs run alone, to compare their calls with
for sub in unix udp reset refused; do
  record alone-$sub 0 -- "$NETOPS" $sub
done

trace_checks processes <<'PY'
from tracecheck import *

def starts(t, pid):
    return [e for e in t.all("process_start") if e["pid"] == pid]

def exits(t, pid):
    return [e["args"].get("exit_code") for e in t.all("process_exit") if e["pid"] == pid]

def image_ok(e):
    return e["args"].get("image", "").endswith("/netops")

def calls(t, pid, after=-1):
    """A process's calls: function, result, error, socket numbers (ports and payloads aside)."""
    return [(e["func"], e["result"], error_name(e), e["args"].get("sock"), e["args"].get("new_sock"))
            for e in t.events if e["pid"] == pid and e["seq"] > after
            and e["func"] not in ("process_start", "process_exit")]

def same_as_alone(t, pid, sub, after=-1):
    alone = load("alone-" + sub)
    want = calls(alone, alone.pids()[0] if alone.pids() else None)
    check(len(want) > 10, f"netops {sub} alone made {len(want)} calls")
    eq(calls(t, pid, after), want, f"the calls of 'netops {sub}' in the child")

def parent_and_child(name, first_word):
    t = load(name)
    o = output_fields(name, first_word)
    p, c = int(o["parent"]), int(o["child"])
    ps = starts(t, p)
    check(len(ps) == 1 and image_ok(ps[0]) and ps[0]["args"]["cmdline"].endswith(" " + first_word),
          f"parent's process_start: {ps}")
    eq(exits(t, p), [0], "parent's process_exit")
    return t, p, c

# fork: the child's own events under its pid; its connect meets the parent's accept
context("fork")
t, p, c = parent_and_child("fork", "fork")
port = int(output_fields("fork", "fork")["port"])
eq(t.pids(), sorted([p, c]), "processes")
cs = starts(t, c)
eq(len(cs), 1, "child's process_start")
if cs:
    eq((cs[0]["args"].get("ppid"), cs[0]["tid"]), (p, c), "child's parent and thread")
    check(image_ok(cs[0]) and cs[0]["args"]["cmdline"].endswith(" fork"), f"child's image and cmdline {cs[0]['args']}")
    check(cs[0]["seq"] < min(e["seq"] for e in t.events if e["pid"] == c and e["func"] != "process_start"),
          "the child's process_start comes first")
ls = t.one("listen", pid=p)["args"].get("sock")
cs_ = [e["result"] for e in t.all("socket", pid=c)]
s = cs_[0] if cs_ else None
eq(calls(t, c), [("close", 0, None, ls, None), ("socket", s, None, None, None), ("connect", 0, None, s, None),
                 ("send", 11, None, s, None), ("recv", 10, None, s, None), ("close", 0, None, s, None)],
   "the child's calls (the inherited listener closed, then its own socket)")
con = t.one("connect", pid=c)
eq((con["result"], addr(con)), (0, ("127.0.0.1", port)), "child's connect")
eq(payload(t.one("send", pid=c)), b"child-hello", "child's send")
eq(payload(t.one("recv", pid=c)), b"parent-ack", "child's recv")
acc = t.one("accept", pid=p)
eq(addr(acc, "peer"), addr(con, "local"), "parent's accept peer = child's connect local")
eq(payload(t.one("recv", pid=p)), b"child-hello", "parent's recv")
eq(payload(t.one("send", pid=p)), b"parent-ack", "parent's send")
eq(exits(t, c), [0], "the child's process_exit (it ended with status 0)")

context("fork --no-follow")
t, p, c = parent_and_child("fork-nofollow", "fork")
eq(t.pids(), [p], "processes")
eq([e["seq"] for e in t.events if e["pid"] == c], [], "events of the child")
eq(payload(t.one("recv", pid=p)), b"child-hello", "the parent's side is there")

# fork + exec: the child's image and command line are the new program's
context("exec")
t, p, c = parent_and_child("exec", "exec")
eq(t.funcs(p), ["socket", "close", "fork"], "the parent's calls (its fork names the child)")
eq([e["result"] for e in t.all("fork", pid=p)], [c], "the fork event's result is the child")
cs = starts(t, c)
check(cs and cs[-1]["args"].get("cmdline") == "netops unix" and image_ok(cs[-1])
      and cs[-1]["args"].get("ppid") == p, f"the exec'd child's process_start: {[e['args'] for e in cs]}")
check(len(cs) in (1, 2), "one process_start for the fork, one for the exec")
eq([e["result"] for e in t.all("socketpair", pid=c)], [0, 0], "the exec'd child's socketpairs")
eq(payload(t.one("sendto", pid=c)), b"udg-1", "the exec'd child's sendto")
same_as_alone(t, c, "unix")
eq(exits(t, c), [0], "the child's process_exit")

context("exec --no-follow")
t, p, c = parent_and_child("exec-nofollow", "exec")
eq(t.pids(), [p], "processes")
eq(t.funcs(p), ["socket", "close", "fork"], "the parent's calls")

# the program execs itself: same pid, a new process_start, the new image's calls
for name in ("exec-self", "exec-self-nofollow"):
    context(name)
    t = load(name)
    pid = int(output_fields(name, "exec-self")["pid"])
    eq(t.pids(), [pid], "one process")
    ss = starts(t, pid)
    eq([e["args"].get("cmdline", "").split(" ")[-1] for e in ss], ["exec-self", "refused"],
       "process_start before and after exec")
    if len(ss) == 2:
        eq(ss[0]["args"]["ppid"], ss[1]["args"]["ppid"], "same parent")
        eq(t.funcs(pid)[:2], ["socket", "close"], "calls before exec")
        after = [e for e in t.events if e["seq"] > ss[1]["seq"]]
        eq([error_name(e) for e in after if e["func"] == "connect"], ["ECONNREFUSED", "EINPROGRESS", "ECONNREFUSED"],
           "the new image's connects")
        same_as_alone(t, pid, "refused", after=ss[1]["seq"])
    eq(exits(t, pid), [0], "process_exit")

# posix_spawn and vfork: no fork handlers run in the child, the exec'd program records itself
for name, sub in (("spawn", "udp"), ("vfork", "reset")):
    context(name)
    t, p, c = parent_and_child(name, name)
    eq(t.pids(), sorted([p, c]), "processes")
    cs = starts(t, c)
    check(cs and cs[-1]["args"].get("cmdline") == "netops " + sub and cs[-1]["args"].get("ppid") == p,
          f"child's process_start: {[e['args'] for e in cs]}")
    if sub == "udp":
        eq([payload(e) for e in t.all("recvfrom", pid=c)][:1], [b"dgram-1"],
           "the spawned child's first recvfrom")
        eq([error_name(e) for e in t.all("recv", pid=c) if "error" in e], ["ECONNREFUSED"], "its refused recv")
    else:
        eq([error_name(e) for e in t.all("recv", pid=c) if "error" in e], ["ECONNRESET"], "its reset recv")
    same_as_alone(t, c, sub)
    eq(t.funcs(p), ["socket", "close"], "the parent's calls")
    eq(exits(t, c), [0], "the child's process_exit")
context("thread names")
t = load("threadnames")
o = output_fields("threadnames", "names")
eq(sorted((e["tid"], e["args"].get("name")) for e in t.all("thread_name")),
   sorted([(int(o.get("main", 0)), "main-named-by-p"), (int(o.get("worker", 0)), "py-worker")]),
   "thread_name events (tid, the name the kernel keeps)")

context("--no-follow x50")
empty = []
for i in range(1, 51):
    t = load(f"nofollow-{i}", work(f"nofollow-{i}.wst"))
    if [e["func"] for e in t.events if e["func"] != "process_exit"] != ["process_start", "socket", "close"]:
        empty.append(i)
eq(empty, [], "runs where the program's own calls are missing")
finish()
PY

done_testing
