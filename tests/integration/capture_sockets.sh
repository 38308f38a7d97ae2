#!/usr/bin/env bash
# Capture of socket calls as they really happen: TCP over 127.0.0.1 and ::1, UDP, Unix sockets,
# refused and reset connections, snap lengths, and wstrace's exit status. Each scenario runs the
# target program tests/targets/linux/netops.c under `wstrace record`, then the recorded events
# are compared with what the program did (its ports and payloads).
# Run as: capture_sockets.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

record tcp4 0 -- "$NETOPS" tcp4
record tcp6 0 -- "$NETOPS" tcp6
record tcp4-fortify 0 -- "$TARGETS/netops-fortify" tcp4
record udp 0 -- "$NETOPS" udp
short_dir UNIX_DIR
record unix 0 -- "$NETOPS" unix "$UNIX_DIR"
record refused 0 -- "$NETOPS" refused
record reset 0 -- "$NETOPS" reset
record snap4 0 -s 4 -- "$NETOPS" tcp4
record snap0 0 -s 0 -- "$NETOPS" tcp4
record exit7 7 -- "$NETOPS" exit 7
record signal15 143 -- "$NETOPS" signal 15
record usage 2 -- "$NETOPS" no-such-subcommand

# The fortified build really calls the checking variants (else its test would prove nothing).
nm -D "$TARGETS/netops-fortify" >"$WORK/fortify.syms"
expect_in "$WORK/fortify.syms" " __recv_chk@"
expect_in "$WORK/fortify.syms" " __read_chk@"

trace_checks tcp <<'PY'
from tracecheck import *

def tcp(name, family, ip):
    context(name)
    t = load(name)
    o = output_fields(name, "tcp4" if family == "AF_INET" else "tcp6")
    sport, cport = int(o["server"]), int(o["client"])
    eq(len(t.pids()), 1, "processes")
    pid = t.pids()[0]
    start = t.one("process_start")
    check(start["args"]["image"].endswith("/netops" + ("-fortify" if "fortify" in name else "")),
          f"process_start image {start['args'].get('image')}")
    check(start["args"]["cmdline"].endswith(" tcp4" if family == "AF_INET" else " tcp6"),
          f"process_start cmdline {start['args'].get('cmdline')}")
    eq(t.one("process_exit")["args"].get("exit_code"), 0, "process_exit exit_code")

    # the server thread: socket, SO_REUSEADDR, bind, listen, accept4
    lst = t.one("listen")
    lfd = lst["args"]["sock"]
    eq(lst["args"]["backlog"], 16, "listen backlog")
    sock = [e for e in t.all("socket") if e["result"] == lfd]
    eq(len(sock), 1, "socket() that made the listener")
    if sock:
        eq((sock[0]["args"]["family"], sock[0]["args"]["type"]), (family, "SOCK_STREAM"), "listener socket")
    so = t.one("setsockopt", sock=lfd)
    eq((so["args"].get("level"), so["args"].get("optname"), so["args"].get("optval"), so["args"].get("optlen")),
       ("SOL_SOCKET", "SO_REUSEADDR", 1, 4), "setsockopt")
    eq(addr(t.one("bind", sock=lfd)), (ip, 0), "bind address")
    eq(addr(t.one("getsockname", sock=lfd)), (ip, sport), "listener's getsockname")
    acc = t.one("accept4", sock=lfd)
    sfd = acc["args"].get("new_sock")
    eq(acc["result"], sfd, "accept4 result is new_sock")
    eq(addr(acc, "peer"), (ip, cport), "accept4 peer")
    eq(addr(acc, "local"), (ip, sport), "accept4 local")
    eq(acc["args"]["peer"]["family"], family, "accept4 peer family")

    # the client: socket, connect with both ends
    con = t.one("connect")
    cfd = con["args"]["sock"]
    eq(con["result"], 0, "connect result")
    check("error" not in con, "connect has no error")
    eq(addr(con), (ip, sport), "connect addr")
    eq(addr(con, "local"), (ip, cport), "connect local")
    check(con["dur_ns"] > 0, "connect has a duration")
    check(con["tid"] == pid and acc["tid"] != pid, "client in the main thread, server in another")
    csock = [e for e in t.all("socket") if e["result"] == cfd]
    eq(len(csock), 1, "socket() that made the client")
    check(len({lfd, sfd, cfd}) == 3, f"three distinct sockets {lfd} {sfd} {cfd}")

    def data(fd):
        return [(e["func"], payload(e), e["result"]) for e in t.events
                if e["args"].get("sock") == fd and e["event"] in ("send", "recv")]
    eq(data(cfd), [("send", b"ping-1", 6), ("recv", b"pong-1", 6), ("sendmsg", b"ping-2", 6),
                   ("recvmsg", b"pong-2", 6), ("write", b"ping-3", 6), ("read", b"pong-3", 6),
                   ("writev", b"ping-4", 6), ("readv", b"pong-4", 6), ("recv", b"bye", 3),
                   ("recv", b"", 0)], "client data")
    eq(data(sfd), [("recv", b"ping-1", 6), ("send", b"pong-1", 6), ("recvmsg", b"ping-2", 6),
                   ("sendmsg", b"pong-2", 6), ("read", b"ping-3", 6), ("write", b"pong-3", 6),
                   ("readv", b"ping-4", 6), ("writev", b"pong-4", 6), ("recv", b"", 0),
                   ("send", b"bye", 3)], "server data")
    eq([(e["args"].get("len"), e["args"].get("count")) for e in t.all(("sendmsg", "writev", "readv"), sock=cfd)],
       [(6, 2), (6, 2), (20, 2)], "client sendmsg/writev/readv len and count")
    eq(t.one("readv", sock=sfd)["args"].get("len"), 19, "server readv room (3+16)")
    eq([e["args"].get("len") for e in t.all(("recv", "read"), sock=cfd)], [256, 256, 256, 256],
       "client recv/read room")
    eq([payload_len(e) for e in t.all("send", sock=cfd)], [6], "payload len")
    eq(addr(t.one("getsockname", sock=cfd)), (ip, cport), "client getsockname")
    eq(addr(t.one("getpeername", sock=cfd)), (ip, sport), "client getpeername")
    eq(t.one("shutdown", sock=cfd)["args"].get("how"), "SHUT_WR", "shutdown how")

    # every socket is used between its creation and its close, and closed once
    for fd, made_by in ((lfd, sock[0] if sock else None), (sfd, acc), (cfd, con)):
        closes = t.all("close", sock=fd)
        eq(len(closes), 1, f"close({fd})")
        if not closes or not made_by:
            continue
        used = [e["seq"] for e in t.events if e["args"].get("sock") == fd and e["func"] != "close"]
        check(all(s <= closes[0]["seq"] for s in used), f"socket {fd} used after its close")
        eq(closes[0]["result"], 0, f"close({fd}) result")
    check(all(e["pid"] == pid for e in t.events), "every event in the one process")

tcp("tcp4", "AF_INET", "127.0.0.1")
tcp("tcp6", "AF_INET6", "::1")
tcp("tcp4-fortify", "AF_INET", "127.0.0.1")
context("tcp6")
t = load("tcp6")
eq(t.one("connect")["args"]["addr"]["text"][:5], "[::1]", "IPv6 address text")

# snap lengths: 4 keeps 4 bytes and the real length; 0 keeps none
for name, kept in (("snap4", 4), ("snap0", 0)):
    context(name)
    t = load(name)
    for e in t.all(("send", "recv", "sendmsg", "recvmsg", "write", "read", "writev", "readv")):
        if e["result"] <= 0:
            continue
        p = e["args"].get("payload")
        if not check(p is not None, f"{e['func']} #{e['seq']} has a payload field"):
            continue
        eq((p["len"], p["kept"], len(p["hex"]) // 2), (e["result"], min(kept, e["result"]), min(kept, e["result"])),
           f"{e['func']} #{e['seq']} payload len/kept")
    s = t.all("send")[0]
    eq(payload(s), b"ping-1"[:kept], "first send's kept bytes")
finish()
PY

trace_checks udp <<'PY'
from tracecheck import *
context("udp")
t = load("udp")
o = output_fields("udp", "udp")
pa, pb, p6, dead = int(o["a"]), int(o["b"]), int(o["c6"]), int(o["dead"])
lo = "127.0.0.1"
binds = {addr(e, "addr"): e for e in t.all("bind")}
names = {e["args"]["sock"]: addr(e) for e in t.all("getsockname")}
a = [s for s, ad in names.items() if ad == (lo, pa)]
b = [s for s, ad in names.items() if ad == (lo, pb)]
check(len(a) == 1 and len(b) == 1, f"getsockname gave both ports {pa} {pb}: {names}")
a, b = (a or [None])[0], (b or [None])[0]
for fd in (a, b):
    e = [s for s in t.all("socket") if s["result"] == fd]
    check(e and e[0]["args"]["type"] == "SOCK_DGRAM" and e[0]["args"]["family"] == "AF_INET",
          f"socket {fd} is an AF_INET SOCK_DGRAM socket")

s1 = t.one("sendto", sock=a, payload={"hex": b"dgram-1".hex(), "kept": 7, "len": 7})
eq((addr(s1), s1["result"], s1["args"].get("len")), ((lo, pb), 7, 7), "sendto dgram-1")
r1 = t.one("recvfrom", sock=b, payload={"hex": b"dgram-1".hex(), "kept": 7, "len": 7})
eq((addr(r1, "peer"), r1["result"], r1["args"].get("len")), ((lo, pa), 7, 256), "recvfrom dgram-1 peer")
s2 = t.one("sendto", sock=b)
eq((addr(s2), payload(s2)), ((lo, pa), b"dgram-2"), "sendto dgram-2")
# the program passed no address buffer: the sender is recorded all the same
r2 = t.one("recvfrom", sock=a)
eq((addr(r2, "peer"), payload(r2)), ((lo, pb), b"dgram-2"), "recvfrom without an address buffer")

mm = t.one("sendmmsg", sock=a)
eq((mm["result"], mm["args"].get("count"), addr(mm), payload(mm), mm["args"].get("len")),
   (2, 2, (lo, pb), b"mm-1", 4), "sendmmsg (first message)")
rm = t.one("recvmmsg", sock=b)
eq((rm["result"], rm["args"].get("count"), addr(rm, "peer"), payload(rm)), (2, 2, (lo, pa), b"mm-1"),
   "recvmmsg (first message)")
# the second message of each is an event of its own
mm2 = t.one("sendmmsg_msg", sock=a)
eq((mm2["result"], addr(mm2), payload(mm2), mm2["args"].get("len")), (5, (lo, pb), b"mm-22", 5),
   "sendmmsg (second message)")
rm2 = t.one("recvmmsg_msg", sock=b)
eq((rm2["result"], addr(rm2, "peer"), payload(rm2)), (5, (lo, pa), b"mm-22"), "recvmmsg (second message)")

for text in (b"dgram-4", b"dgram-5"):
    sm = t.one("sendmsg", sock=a, payload={"hex": text.hex(), "kept": 7, "len": 7})
    eq((sm["result"], addr(sm), sm["args"].get("count")), (7, (lo, pb), 1), f"sendmsg {text} with an address")
# recvmsg with an address buffer, then without one: the datagram's sender is recorded both times
for text in (b"dgram-4", b"dgram-5"):
    rm = t.one("recvmsg", sock=b, payload={"hex": text.hex(), "kept": 7, "len": 7})
    eq((rm["result"], addr(rm, "peer")), (7, (lo, pa)), f"recvmsg {text}: sender")

c = t.one("connect", sock=a)
eq((c["result"], addr(c), addr(c, "local")), (0, (lo, pb), (lo, pa)), "connected UDP: addr and local")
eq(payload(t.one("send", sock=a)), b"dgram-3", "send on connected UDP")
eq(payload(t.one("recv", sock=b)), b"dgram-3", "recv on UDP")

s6 = t.one("sendto", payload={"hex": b"dgram-6".hex(), "kept": 7, "len": 7})
eq(addr(s6)[0] if addr(s6) else None, "::1", "sendto ::1")
eq(s6["args"]["addr"]["family"], "AF_INET6", "sendto ::1 family")
r6 = t.one("recvfrom", payload={"hex": b"dgram-6".hex(), "kept": 7, "len": 7})
eq(addr(r6, "peer"), ("::1", p6), "recvfrom ::1 peer")

# a port where nothing listens: connect works, the refusal comes with the receive
cd = t.one("connect", addr={"family": "AF_INET", "ip": lo, "port": dead, "text": f"{lo}:{dead}"})
u = cd["args"]["sock"]
eq(cd["result"], 0, "connect to the dead UDP port")
eq(payload(t.one("send", sock=u)), b"hello?", "send to the dead port")
rr = t.one("recv", sock=u)
eq((rr["result"], error_name(rr), rr["error"]["code"] if "error" in rr else None), (-1, "ECONNREFUSED", 111),
   "recv from the dead port")
eq(rr["error"]["domain"] if "error" in rr else None, "errno", "error domain")
check("payload" not in rr["args"], "a failed recv has no payload")
eq(sorted(e["args"]["sock"] for e in t.all("close")), sorted([u, u, a, b] + [e["result"] for e in t.all("socket") if e["args"]["family"] == "AF_INET6"]),
   "every socket closed (the dead port's twice: it was closed, then its number reused)")
finish()
PY

trace_checks unix <<PY
from tracecheck import *
context("unix")
t = load("unix")
d = "$UNIX_DIR"
eq(len(t.all("socketpair")), 2, "two socketpairs")
sp = (t.all("socketpair") or [{"result": None, "args": {}}])[0]
eq((sp["result"], sp["args"].get("family"), sp["args"].get("type")), (0, "AF_UNIX", "SOCK_STREAM"), "socketpair")
s0, s1 = sp["args"].get("sock"), sp["args"].get("new_sock")
check(s0 is not None and s1 is not None and s0 != s1, f"socketpair gives two sockets {s0} {s1}")
eq(payload(t.one("send", sock=s0)), b"pair-1", "send on the pair")
eq(payload(t.all("recv", sock=s1)[0]), b"pair-1", "recv on the pair")
# a socket passed over the pair with SCM_RIGHTS, written through the number it arrived as
passed = int(output_fields("unix", "unix")["passed"])
eq([(e["func"], payload(e)) for e in t.all(("sendmsg", "recvmsg"))], [("sendmsg", b"fd"), ("recvmsg", b"fd")],
   "the descriptor's journey")
eq([(e["result"], payload(e)) for e in t.all("write", sock=passed)], [(6, b"passed")], "write on the passed socket")
eq([payload(e) for e in t.all("read")], [b"passed"], "read at the other end")

b = t.one("bind", addr={"family": "AF_UNIX", "path": d + "/stream.sock", "text": "unix:" + d + "/stream.sock"})
l = b["args"]["sock"]
eq(t.one("listen", sock=l)["args"].get("backlog"), 4, "listen")
c = t.one("connect")
eq((c["result"], addr(c), addr(c, "local")), (0, d + "/stream.sock", ""), "connect to the path (unnamed client)")
a = t.one("accept", sock=l)
eq((addr(a, "local"), addr(a, "peer")), (d + "/stream.sock", ""), "accept local and peer")
cfd, afd = c["args"]["sock"], a["result"]
eq(payload(t.one("send", sock=cfd)), b"unix-1", "client send")
eq(payload(t.one("send", sock=afd)), b"unix-2", "server send")
eq([payload(e) for e in t.all("recv", sock=afd)], [b"unix-1"], "server recv")

st = t.one("sendto")
eq((addr(st), payload(st)), (d + "/dgram.sock", b"udg-1"), "sendto a unix path")
rf = t.one("recvfrom")
eq((addr(rf, "peer"), payload(rf)), (d + "/sender.sock", b"udg-1"), "recvfrom gives the sender's path")
eq(len(t.all("close")), 10, "ten sockets closed")
finish()
PY

trace_checks refused-reset <<'PY'
from tracecheck import *
context("refused")
t = load("refused")
o = output_fields("refused", "refused")
port, port6 = int(o["port"]), int(o["port6"])
cons = t.all("connect")
eq(len(cons), 3, "three connects")
if len(cons) == 3:
    a, b, c = cons
    eq((a["result"], error_name(a), a["error"]["code"] if "error" in a else None, addr(a)),
       (-1, "ECONNREFUSED", 111, ("127.0.0.1", port)), "blocking connect")
    eq((b["result"], error_name(b), addr(b)), (-1, "EINPROGRESS", ("127.0.0.1", port)), "non-blocking connect")
    check(addr(b, "local") and addr(b, "local")[0] == "127.0.0.1", "non-blocking connect has its local address")
    nb = [e for e in t.all("socket") if e["result"] == b["args"]["sock"] and e["args"].get("type_flags") == "SOCK_NONBLOCK"]
    check(nb, "the non-blocking socket is recorded with type_flags SOCK_NONBLOCK")
    p = t.one("poll")
    eq(p["result"], 1, "poll result")
    fds = p["args"].get("fds", [])
    eq([(f["sock"], f["events"]) for f in fds], [(b["args"]["sock"], "POLLOUT")], "poll fds")
    check(fds and "POLLERR" in fds[0]["revents"].split("|"), f"poll revents has POLLERR: {fds}")
    eq(p["args"].get("timeout"), 5_000_000_000, "poll timeout (ns)")
    g = t.one("getsockopt", sock=b["args"]["sock"])
    eq((g["result"], g["args"].get("optname"), g["args"].get("optval")), (0, "SO_ERROR", 111), "SO_ERROR")
    eq((c["result"], error_name(c), addr(c)), (-1, "ECONNREFUSED", ("::1", port6)), "blocking connect to ::1")

context("reset")
t = load("reset")
port = int(output_fields("reset", "reset")["port"])
c = t.one("connect")
cfd = c["args"]["sock"]
eq((c["result"], addr(c)), (0, ("127.0.0.1", port)), "connect")
a = t.one("accept")
sfd = a["result"]
# accept(fd, NULL, NULL): the peer is recorded anyway
eq(addr(a, "peer"), addr(c, "local"), "accept peer = connect local")
eq(addr(a, "local"), ("127.0.0.1", port), "accept local")
eq(payload(t.all("send", sock=cfd)[0]), b"doomed", "send")
eq(payload(t.one("recv", sock=sfd)), b"doomed", "server recv")
lg = t.one("setsockopt", sock=sfd)
eq((lg["args"].get("optname"), lg["args"].get("optlen")), ("SO_LINGER", 8), "SO_LINGER")
cl = t.one("close", sock=sfd)
r = t.one("recv", sock=cfd)
eq((r["result"], error_name(r)), (-1, "ECONNRESET"), "recv after the reset")
check(r["seq"] > cl["seq"], "the reset follows the server's close")
s = t.all("send", sock=cfd)
eq(len(s), 2, "two sends on the client")
if len(s) == 2:
    eq((s[1]["result"], error_name(s[1]), s[1]["args"].get("flags")), (-1, "EPIPE", "MSG_NOSIGNAL"),
       "send after the reset")
finish()
PY

trace_checks exit-status <<'PY'
from tracecheck import *
for name, code in (("exit7", 7), ("signal15", 143), ("usage", 2)):
    context(name)
    t = load(name)
    eq([e["args"].get("exit_code") for e in t.all("process_exit")], [code], "process_exit exit_code")
    if name != "usage":
        eq(t.funcs(), ["socket", "close"], "calls")
finish()
PY

done_testing
