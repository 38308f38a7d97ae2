#!/usr/bin/env bash
# wstrace.exe record under Wine: a Windows program's Winsock calls, read back by the Linux build.
# Run as: SCRIPT WINE_RUN WSTRACE_EXE LINUX_WSTRACE WORK TARGETS_DIR
set -uo pipefail
WINE_RUN=$1 WIN_WSTRACE=$2 WSTRACE=$3 WORK=$4 TARGETS=$5
rm -rf "$WORK" && mkdir -p "$WORK"
failures=0 checks=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# record NAME ARGS…: traces wnetops ARGS into $WORK/NAME.wst, keeps its output in $WORK/NAME.out
record() {
  local name=$1
  shift
  checks=$((checks + 1))
  "$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/$name.wst" -- "$TARGETS/wnetops.exe" "$@" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  [ "$rc" -eq 0 ] || fail "wstrace.exe record -- wnetops $* exited $rc: $(head -c 300 "$WORK/$name.err")"
  "$WSTRACE" show --json "$WORK/$name.wst" >"$WORK/$name.jsonl" || fail "$name.wst does not read"
}

# check NAME PYTHON: asserts over the events (list `ev`) and the program's output (`out`).
check() {
  checks=$((checks + 1))
  python3 - "$WORK/$1.jsonl" "$WORK/$1.out" <<PY || fail "$1: the trace does not show what the program did"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2]).read().replace("\r", "")
def calls(f): return [e for e in ev if e["func"] == f]
def one(f):
    c = calls(f)
    assert c, f + " missing; have " + str(sorted({e["func"] for e in ev}))
    return c
def payload(e): return bytes.fromhex(e["args"]["payload"]["hex"]) if "payload" in e["args"] else b""
$2
PY
}

record tcp tcp
check tcp '
port = int(out.split("port=")[1].split()[0])
assert "lasterr=4322" in out, out  # the TCP statistics reads left the last error alone
assert ev[0]["event"] == "process_start" and ev[0]["args"]["image"].endswith("wnetops.exe")
assert one("WSAStartup")[0]["args"]["version"] == 0x202
c = one("connect")[0]
assert c["args"]["addr"]["ip"] == "127.0.0.1" and c["args"]["addr"]["port"] == port, c
assert c["args"]["local"]["ip"] == "127.0.0.1" and c["result"] == 0
a = one("accept")[0]
assert a["args"]["peer"]["port"] == c["args"]["local"]["port"], (a, c)
assert a["args"]["local"]["port"] == port
sends = [payload(e) for e in calls("send")]
assert b"ping-1" in sends, sends
ws = one("WSASend")[0]
assert payload(ws) == b"ping-2" and ws["result"] == 6
wr = one("WSARecv")[0]
assert payload(wr) == b"ping-2" and wr["result"] == 6
assert one("shutdown")[0]["args"]["how"] == "SHUT_WR"
assert len(calls("closesocket")) >= 3
# Under Wine WSASend calls WSASendTo, and socket WSASocketW: the program called the first only.
assert not calls("WSASendTo") and not calls("WSASocketW"), "a hooked function calling another is traced once"
assert ev[-1]["event"] == "process_exit" and ev[-1]["args"]["exit_code"] == 0
'

record udp udp
check udp '
port = int(out.split("port=")[1].split()[0])
s = one("sendto")[0]
assert s["args"]["addr"]["port"] == port and payload(s) == b"dgram-1"
r = one("recvfrom")[0]
assert r["args"]["peer"]["port"] == port and payload(r) == b"dgram-1"
assert payload(one("WSASendTo")[0]) == b"dgram-2"
wr = one("WSARecvFrom")[0]
assert wr["args"]["peer"]["port"] == port and payload(wr) == b"dgram-2"
'

record errors errors
check errors '
assert "refused=10061" in out, out
refused = [e for e in calls("connect") if e.get("error", {}).get("name") == "WSAECONNREFUSED"]
assert refused and refused[0]["error"]["code"] == 10061, calls("connect")
look = one("getaddrinfo")[0]
assert look["args"]["host"] == "missing.example.invalid"
assert look["error"]["name"] == "WSAHOST_NOT_FOUND", look
assert look["args"]["hint_flags"] == "AI_NUMERICHOST"
assert not calls("recv")
'

# A reset: a Linux peer on loopback accepts, then aborts (SO_LINGER 0) as data arrives.
python3 - "$WORK/reset.port" <<'PY' &
import socket, struct, sys
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
open(sys.argv[1], "w").write(str(s.getsockname()[1]))
s.settimeout(60)
c, _ = s.accept()
c.recv(5)
c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
c.close()
PY
peer=$!
for _ in $(seq 1 100); do [ -s "$WORK/reset.port" ] && break; sleep 0.05; done
record reset reset "$(cat "$WORK/reset.port")"
wait "$peer"
# Wine 8 reports the peer's reset to the program as the end of the stream (recv returns 0),
# where Windows says WSAECONNRESET; the trace must say exactly what the program saw.
check reset '
seen = int(out.split("reset=")[1].split()[0])
r = one("recv")[0]
if seen == 10054:
    assert r["error"]["name"] == "WSAECONNRESET" and r["result"] == -1, r
else:
    assert seen == 0 and r["result"] == 0 and "error" not in r, (seen, r)
assert payload(one("send")[0]) == b"hello"
'

record dynamic dynamic
check dynamic '
assert "dynamic dll=13" in out, out
sends = [payload(e) for e in calls("send")]
assert b"via-getprocaddress" in sends, sends
assert b"from-late-dll" in sends, sends
assert len(calls("connect")) == 2
'

# TCP statistics under Wine, which refuses SIO_TCP_INFO (WSAEOPNOTSUPP) with a fixme line on
# stderr for each ioctl, counted here: the agent asks on TCP connections only (none for UDP
# sockets, also one of a kind it had to ask about), stops at the first refusal in the process
# (one reading: TCP_INFO_v1, then v0), asks nothing with --no-tcp-info, and the last error after
# every call is what the program sees untraced.
tcp_info_ioctls() { grep -c "unimplemented ioctl _WSAIORW(IOC_VENDOR, 39)" "$1"; }
# tcpinfo NAME [RECORD OPTIONS] -- ARGS: wnetops tcpinfo ARGS traced into NAME.wst (stderr kept)
tcpinfo() {
  local name=$1 opts=()
  shift
  while [ "$1" != -- ]; do opts+=("$1"); shift; done
  shift
  checks=$((checks + 1))
  WSTRACE_WINEDEBUG=-all,fixme+winsock "$WINE_RUN" "$WIN_WSTRACE" record -q "${opts[@]}" \
    -o "$WORK/$name.wst" -- "$TARGETS/wnetops.exe" tcpinfo "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" ||
    fail "wstrace.exe record ${opts[*]} -- wnetops tcpinfo $* exited $?"
}
checks=$((checks + 1))
WSTRACE_WINEDEBUG=-all,fixme+winsock "$WINE_RUN" "$TARGETS/wnetops.exe" tcpinfo \
  >"$WORK/tcpinfo.plain" 2>"$WORK/tcpinfo.plain.err"
[ "$(tcp_info_ioctls "$WORK/tcpinfo.plain.err")" = 0 ] || fail "wnetops tcpinfo asks SIO_TCP_INFO itself"
tcpinfo tcpinfo_udp -- udp
[ "$(tcp_info_ioctls "$WORK/tcpinfo_udp.err")" = 0 ] ||
  fail "SIO_TCP_INFO asked on UDP sockets: $(grep -m3 IOC_VENDOR "$WORK/tcpinfo_udp.err")"
tcpinfo tcpinfo_tcp --
n=$(tcp_info_ioctls "$WORK/tcpinfo_tcp.err")
[ "$n" = 2 ] || fail "SIO_TCP_INFO asked $n times in a process where Wine refused it (want 2: v1, v0)"
diff -u "$WORK/tcpinfo.plain" "$WORK/tcpinfo_tcp.out" >&2 || fail "TCP statistics changed the last error"
grep -q "^recv(c, buf, 4, 0) *4 " "$WORK/tcpinfo_tcp.out" || fail "tcpinfo did not converse"
tcpinfo tcpinfo_off --no-tcp-info --
[ "$(tcp_info_ioctls "$WORK/tcpinfo_off.err")" = 0 ] || fail "SIO_TCP_INFO asked with --no-tcp-info"

# The last error the program sees is the same traced and untraced.
checks=$((checks + 1))
"$WINE_RUN" "$TARGETS/wnetops.exe" lasterror >"$WORK/lasterror.plain" 2>/dev/null
record lasterror lasterror
diff -u "$WORK/lasterror.plain" "$WORK/lasterror.out" >&2 || fail "the last error changed under wstrace"
check lasterror '
sends = calls("send")
assert sends[0]["error"]["name"] == "WSAENOTSOCK", sends[0]
# The overlapped part went through the hooks it is there for.
assert calls("WSAGetOverlappedResult") and calls("completion_routine") and calls("thread_name")
assert [e for e in calls("GetQueuedCompletionStatusEx") if e.get("error", {}).get("name") == "WSAECONNREFUSED"]
assert len([e for e in calls("GetAddrInfoExW") if "host" not in e["args"]]) == 2
tf = one("TransmitFile")[-1]
assert tf["error"]["name"] == "WSA_IO_PENDING" and tf["args"]["len"] == 64, tf
assert [e for e in calls("GetQueuedCompletionStatus") if e["args"]["op"] == tf["args"]["op"]
        and e["result"] == 64], "the completion of TransmitFile"
'

# Completions the program learns of from the OVERLAPPED alone: after a wait on its event (each
# kind of wait), or by looking at it and then using the socket. Each is one io_complete with the
# pending call's op, bytes and data — once, though GetOverlappedResult is asked after the wait.
record evented evented
check evented '
assert "one=9:event-one two=9:event-two three=5:three four=4:four connect=0 accept=10:accept-10b" in out, out
assert "polled=6:polled" in out, out
done = {}
for e in ev:
    if e["event"] == "io_complete":
        assert e["args"]["op"] not in done, ("recorded twice", done[e["args"]["op"]], e)
        done[e["args"]["op"]] = e
started = [e for e in ev if e["func"] in ("WSARecv", "ConnectEx", "AcceptEx")
           and e.get("error", {}).get("name") == "WSA_IO_PENDING"]
got = [payload(done[s["args"]["op"]]) for s in started]
assert got == [b"event-one", b"event-two", b"three", b"four", b"connect-data", b"accept-10b",
               b"polled"], got
for s in started:
    d = done[s["args"]["op"]]
    assert d["func"] == "WSAGetOverlappedResult" and d["result"] == len(payload(d)), d
    assert "error" not in d and d["args"]["sock"] == s["args"].get("new_sock", s["args"]["sock"]), (s, d)
assert not calls("GetOverlappedResult"), "GetOverlappedResult after the wait recorded it again"
polled = done[started[-1]["args"]["op"]]
ask = one("getsockopt")[-1]
assert ev.index(polled) < ev.index(ask), "the polled completion is recorded before the next call"
'

# A failure that comes through the completion port: GetQueuedCompletionStatusEx hands over an
# NTSTATUS; the trace says the Winsock error.
record iocpfail iocpfail
check iocpfail '
assert "iocpfail status=0xc0000236 wsa=10061" in out, out
cx = one("ConnectEx")[0]
assert cx["error"]["name"] == "WSA_IO_PENDING", cx
d = [e for e in calls("GetQueuedCompletionStatusEx") if e["args"]["op"] == cx["args"]["op"]]
assert len(d) == 1 and d[0]["result"] == -1, d
assert d[0]["error"]["name"] == "WSAECONNREFUSED" and d[0]["error"]["code"] == 10061, d[0]
assert not calls("WSAGetOverlappedResult"), "asked again after the port: recorded twice"
'

# GetAddrInfoExW started asynchronously: the start (WSA_IO_PENDING, op) and, once, the result
# with the same op — after a wait on the event, from a completion routine, and through
# GetAddrInfoExOverlappedResult.
record asynclookup asynclookup
check asynclookup '
assert "asynclookup 997 0 997 0 997 11001" in out, out
gx = calls("GetAddrInfoExW")
started = [e for e in gx if "host" in e["args"]]
assert [s["args"]["host"] for s in started] == ["127.0.0.1", "127.0.0.2", "not-numeric.invalid"]
for s in started:
    assert s["error"]["name"] == "WSA_IO_PENDING" and s["args"]["op"], s
ends = {}
for e in gx:
    if "host" not in e["args"]:
        assert e["args"]["op"] not in ends, ("result recorded twice", e)
        ends[e["args"]["op"]] = e
a, b, c = (ends[s["args"]["op"]] for s in started)
assert len(ends) == 3, ends
assert a["result"] == 0 and [(x["ip"], x["port"]) for x in a["args"]["addrs"]] == [("127.0.0.1", 80)], a
assert b["result"] == 0 and [(x["ip"], x["port"]) for x in b["args"]["addrs"]] == [("127.0.0.2", 81)], b
assert c["result"] == 11001 and c["error"]["name"] == "WSAHOST_NOT_FOUND" and "addrs" not in c["args"], c
'

# Children given an environment block of their own without WSTRACE_SHM (CreateProcessA with an
# ANSI block, CreateProcessW with a wide one) are traced all the same.
record childenv childenv
check childenv '
words = out.split("childenv ")[1].split()
kids = [int(words[1].split("=")[1]), int(words[4].split("=")[1])]
assert words[2] == "exit=0" and words[5] == "exit=0", out
starts = {e["pid"] for e in ev if e["event"] == "process_start"}
exits = {e["pid"]: e["args"].get("exit_code") for e in ev if e["event"] == "process_exit"}
for kid in kids:
    assert kid in starts, (kid, starts)
    assert [e for e in calls("sendto") if e["pid"] == kid and payload(e) == b"dgram-1"], kid
    assert exits.get(kid) == 0, exits
'

# Detaching: the agent puts the functions' first bytes back (the program sets the event wstrace
# sets on Ctrl+C): the send before is recorded, the one after is not, and the program runs on.
record unhook unhook
check unhook '
assert "unhook first=" in out and "echoed=5" in out and "first=e9" not in out, out
sent = [payload(e) for e in calls("send")]
assert b"before" in sent and b"after" not in sent, sent
'

# Thread names: SetThreadDescription of the thread itself and of another, by its handle.
record names names
check names '
main = int(out.split("main=")[1].split()[0])
worker = int(out.split("worker=")[1].split()[0])
def text(s):  # (the JSON view writes bytes beyond ASCII as \\xNN escapes)
    return s.encode().decode("unicode_escape").encode("latin-1").decode("utf-8")
named = sorted((e["tid"], text(e["args"]["name"])) for e in ev if e["event"] == "thread_name")
assert named == sorted([(main, "wnetops-main"), (worker, "worker-\u00e9")]), named
'

# Overlapped I/O on a completion port: AcceptEx, ConnectEx, WSARecv/WSASend; each pending call
# and its completion are tied by `op`, completions carry the bytes and the received data.
record iocp iocp
check iocp '
assert "accepted=15:hello-connectex" in out and "received=6:second" in out, out
# ConnectEx was body-hooked once the program started Winsock: WSAIoctl hands out the real one.
assert "connectex first=e9" in out, out
done = {e["args"]["op"]: e for e in calls("GetQueuedCompletionStatus")}
ax = one("AcceptEx")[0]
assert ax["error"]["name"] == "WSA_IO_PENDING", ax
assert payload(done[ax["args"]["op"]]) == b"hello-connectex" and done[ax["args"]["op"]]["result"] == 15
cx = one("ConnectEx")[0]
assert cx["error"]["name"] == "WSA_IO_PENDING" and cx["args"]["addr"]["ip"] == "127.0.0.1"
assert payload(done[cx["args"]["op"]]) == b"hello-connectex"
rx = one("WSARecv")[0]
assert rx["error"]["name"] == "WSA_IO_PENDING", rx
assert payload(done[rx["args"]["op"]]) == b"second"
asked = {e["args"].get("extension") for e in calls("WSAIoctl")
         if e["args"]["request"] == "SIO_GET_EXTENSION_FUNCTION_POINTER"}
assert {"AcceptEx", "ConnectEx"} <= asked, asked
'

# stats keeps its columns under names longer than the usual 24 characters
# (GetQueuedCompletionStatus).
"$WSTRACE" stats "$WORK/iocp.wst" >"$WORK/iocp.stats" || fail "stats of iocp.wst"
python3 - "$WORK/iocp.stats" <<'PY' || fail "stats: columns not aligned under a long function name"
import sys
table = open(sys.argv[1]).read().split("\n\n")[0].splitlines()
assert any(l.startswith("GetQueuedCompletionStatus ") for l in table), table
# Each row's calls column ends where the header's does.
end = table[0].index("calls") + len("calls")
for l in table[1:]:
    assert l[end - 1].isdigit() and l[end] == " ", (end, l)
PY

# Completion routines: the program's routine still runs, and the completion is recorded with
# the received data under the pending call's op.
record apc apc
check apc '
assert "apc received=8:apc-data" in out, out
rx = one("WSARecv")[0]
assert rx["error"]["name"] == "WSA_IO_PENDING", rx
done = {e["args"]["op"]: e for e in calls("completion_routine")}
assert payload(done[rx["args"]["op"]]) == b"apc-data", done
'

record lookups lookups
check lookups '
assert "lookups 0 0 0 1" in out, out
g = one("GetAddrInfoW")[0]
assert g["args"]["host"] == "localhost" and any(a["ip"] == "127.0.0.1" for a in g["args"]["addrs"]), g
x = one("GetAddrInfoExW")[0]
assert x["args"]["host"] == "localhost" and x["args"]["service"] == "443", x
assert one("GetNameInfoW")[0]["args"]["addr"]["ip"] == "127.0.0.1"
assert one("gethostbyname")[0]["args"]["host"] == "localhost"
assert one("FreeAddrInfoW") and one("FreeAddrInfoExW")
'

record threads threads
check threads '
assert "threads done" in out, out
sends = calls("send")
clients = {payload(e) for e in sends if payload(e).startswith(b"client-")}
assert len(clients) == 8, clients
tids = {e["tid"] for e in calls("connect")}
assert len(tids) == 8, "each client thread records under its own thread id"
assert len(calls("accept")) == 8
'

# Child processes are followed: the child's own calls, under its own pid.
record child child
check child '
kid = int(out.split("child pid=")[1].split()[0])
starts = [e for e in ev if e["event"] == "process_start"]
assert len(starts) == 2 and starts[1]["pid"] == kid, starts
assert [e for e in calls("sendto") if e["pid"] == kid], "the child sendto is missing"
exits = {e["pid"]: e["args"].get("exit_code") for e in ev if e["event"] == "process_exit"}
assert exits.get(kid) == 0, exits
'

# attached NAME MODE: runs wnetops MODE, attaches to it once it says its pid, then lets it go on;
# the trace in $WORK/NAME.jsonl, the program's output in $WORK/NAME.out, its pid in $wpid.
attached() {
  local name=$1 mode=$2
  rm -f "$WORK/in" "$WORK/out" "$WORK/attach.err"
  mkfifo "$WORK/in" "$WORK/out" "$WORK/attach.err"
  "$WINE_RUN" "$TARGETS/wnetops.exe" "$mode" <"$WORK/in" >"$WORK/out" 2>/dev/null &
  local target=$!
  exec 3>"$WORK/in" 4<"$WORK/out"
  read -r -t 60 pidline <&4
  wpid=${pidline#pid=}
  wpid=${wpid%$'\r'}
  "$WINE_RUN" "$WIN_WSTRACE" attach -o "$WORK/$name.wst" "$wpid" 2>"$WORK/attach.err" &
  local attacher=$!
  exec 5<"$WORK/attach.err"
  local attached=""
  while read -r -t 60 line <&5; do
    case "$line" in *"attached to process"*) attached=yes; break ;; esac
  done
  checks=$((checks + 1))
  [ -n "$attached" ] || fail "attach did not report that it attached to $wpid"
  echo go >&3
  exec 3>&-
  cat <&4 >"$WORK/$name.out"
  cat <&5 >/dev/null
  wait "$attacher" || fail "attach exited $?"
  wait "$target"
  exec 4<&- 5<&-
  "$WSTRACE" show --json "$WORK/$name.wst" >"$WORK/$name.jsonl" || fail "$name.wst does not read"
}

# Attach to a running program: its calls from then on.
attached attach waitstdin
check attach '
assert ev[0]["event"] == "process_start" and ev[0]["pid"] == int("'"$wpid"'"), ev[0]
port = int(out.split("port=")[1].split()[0])
c = one("connect")[0]
assert c["args"]["addr"]["port"] == port
assert b"ping-1" in [payload(e) for e in calls("send")]
assert not calls("WSAStartup"), "WSAStartup ran before the attach"
assert ev[-1]["event"] == "process_exit"
'

# Attach to a program that fetched its function pointers before (GetProcAddress, WSAIoctl), as
# libuv does at start-up: the body hooks see the calls through them. Its listener and its
# connection, made before the attach, are in the trace as `inherited` with both ends; and
# WSASendDisconnect, which Wine's ws2_32 makes a call to shutdown of, shows that shutdown.
attached prefetch prefetch
check prefetch '
words = dict(w.split("=") for w in out.split("prefetch ")[1].split())
port, client = int(words["port"]), int(words["client"])
assert words["got"] == "15" and words["connectex"] == "20" and words["got2"] == "20", out
inh = calls("inherited")
listening = [e for e in inh if e["args"].get("listening")]
assert [e["args"]["local"]["port"] for e in listening] == [port], inh
conn = [e for e in inh if e["args"].get("local", {}).get("port") == client]
assert len(conn) == 1 and conn[0]["args"]["peer"]["port"] == port, inh
csock = conn[0]["args"]["sock"]
s = [e for e in calls("send") if payload(e) == b"prefetched-send"]
assert len(s) == 1 and s[0]["args"]["sock"] == csock, calls("send")
assert [e for e in calls("recv") if payload(e) == b"prefetched-send"], calls("recv")
cx = one("ConnectEx")[0]
assert cx["args"]["addr"]["port"] == port, cx
done = [e for e in calls("GetQueuedCompletionStatusEx") if e["args"]["op"] == cx["args"]["op"]]
assert len(done) == 1 and payload(done[0]) == b"prefetched-connectex", done
sh = one("shutdown")
assert len(sh) == 1 and sh[0]["args"]["sock"] == csock and sh[0]["args"]["how"] == "SHUT_WR", sh
assert not calls("WSASocketW") and not calls("getpeername"), "a hooked function calling another is traced once"
'
checks=$((checks + 1))
"$WSTRACE" conns --json "$WORK/prefetch.wst" >"$WORK/prefetch.conns" 2>&1 || fail "conns of prefetch.wst"
python3 - "$WORK/prefetch.conns" "$WORK/prefetch.out" <<'PY' || fail "prefetch: conns does not show the sockets made before the attach with both ends"
import json, sys
conns = [json.loads(l) for l in open(sys.argv[1])]
out = open(sys.argv[2]).read().replace("\r", "")
words = dict(w.split("=") for w in out.split("prefetch ")[1].split())
client, server = "127.0.0.1:" + words["client"], "127.0.0.1:" + words["port"]
ends = {(c.get("local"), c.get("remote")): c for c in conns}
assert (client, server) in ends and ends[(client, server)]["bytes_out"] == 15, conns
assert (server, client) in ends and ends[(server, client)]["bytes_in"] == 15, conns
assert [c for c in conns if c["role"] == "listener" and c.get("local") == server], conns
PY
# Attach to a program whose threads run through a hooked function all the while: the hooks are
# written with them suspended (one stopped inside the overwritten bytes moves to the trampoline),
# and they run on, their calls recorded from then on.
attached busy busy
check busy '
assert "busy threads=4" in out, out
tids = {e["tid"] for e in calls("ioctlsocket")}
assert len(tids) == 4, tids
'
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" attach -q -o "$WORK/x.wst" 999999 >/dev/null 2>"$WORK/nopid.err"
[ $? -eq 1 ] && grep -q "no process with id 999999" "$WORK/nopid.err" || fail "attach to a missing pid: $(cat "$WORK/nopid.err")"

# A Windows component no one here wrote: WinHTTP fetching from a local HTTP server.
mkdir -p "$WORK/www" && echo "hello from the test server" >"$WORK/www/index.txt"
python3 -u -m http.server 0 --bind 127.0.0.1 --directory "$WORK/www" >"$WORK/http.log" 2>&1 &
server=$!
hport=""
for _ in $(seq 1 100); do
  hport=$(sed -n 's/.*port \([0-9]*\).*/\1/p' "$WORK/http.log" | head -1)
  [ -n "$hport" ] && break
  sleep 0.05
done
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/whttp.wst" -- "$TARGETS/whttp.exe" "$hport" /index.txt \
  >"$WORK/whttp.out" 2>"$WORK/whttp.err" || fail "whttp under wstrace: $(cat "$WORK/whttp.err")"
kill "$server" 2>/dev/null
wait "$server" 2>/dev/null
"$WSTRACE" show --json "$WORK/whttp.wst" >"$WORK/whttp.jsonl" || fail "whttp.wst does not read"
check whttp '
assert "status=200 body=27" in out, out
port = int("'"$hport"'")
conn = [e for e in ev if e["event"] == "connect" and e["args"]["addr"]["port"] == port]
assert conn, "no connect to the server"
sent = b"".join(payload(e) for e in ev if e["event"] == "send")
assert sent.startswith(b"GET /index.txt HTTP/1.1\r\n"), sent[:80]
got = b"".join(payload(e) for e in ev if e["event"] == "recv")
assert got.startswith(b"HTTP/1.0 200 OK") or got.startswith(b"HTTP/1.1 200 OK"), got[:80]
'

# The collector dies: the program runs on unaffected, and the trace reads up to where it was.
rm -f "$WORK/kin" "$WORK/kout"
mkfifo "$WORK/kin" "$WORK/kout"
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/killed.wst" -- "$TARGETS/wnetops.exe" waitstdin \
  <"$WORK/kin" >"$WORK/kout" 2>/dev/null &
collector=$!
exec 6>"$WORK/kin" 7<"$WORK/kout"
read -r -t 60 pidline <&7
for _ in $(seq 1 200); do  # (bounded) until the collector has written the program's start
  shown=$("$WSTRACE" show "$WORK/killed.wst" 2>/dev/null)
  [[ $shown == *process_start* ]] && break
  sleep 0.05
done
kill -KILL "$collector"
wait "$collector" 2>/dev/null
echo go >&6
exec 6>&-
cat <&7 >"$WORK/killed.out"   # end of file: the program has exited
exec 7<&-
checks=$((checks + 1))
grep -q "tcp port=" "$WORK/killed.out" || fail "the program did not finish its work after the collector died"
checks=$((checks + 1))
"$WSTRACE" show "$WORK/killed.wst" >"$WORK/killed.txt" 2>"$WORK/killed.err"
[ $? -eq 3 ] && grep -q "process_start" "$WORK/killed.txt" && grep -q "no end marker" "$WORK/killed.err" ||
  fail "the trace of a killed collector should read up to its end: $(cat "$WORK/killed.err")"

# A 32-bit or missing program: one clear message.
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/none.wst" -- no-such-program.exe >/dev/null 2>"$WORK/none.err"
rc=$?
[ "$rc" -eq 127 ] && grep -q "not found" "$WORK/none.err" || fail "missing program: exit $rc, $(cat "$WORK/none.err")"

# Not a 64-bit program (the machine field of a copy of wnetops.exe says i386), and an output
# that cannot be created: one clear message each, nothing run.
python3 - "$TARGETS/wnetops.exe" "$WORK/w32.exe" <<'PY'
import struct, sys
b = bytearray(open(sys.argv[1], "rb").read())
pe = struct.unpack_from("<I", b, 0x3c)[0]
struct.pack_into("<H", b, pe + 4, 0x14c)  # IMAGE_FILE_MACHINE_I386
open(sys.argv[2], "wb").write(b)
PY
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/w32.wst" -- "$WORK/w32.exe" tcp >/dev/null 2>"$WORK/w32.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "not a 64-bit x86 program" "$WORK/w32.err" && [ ! -e "$WORK/w32.wst" ] ||
  fail "32-bit program: exit $rc, $(cat "$WORK/w32.err")"
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/no/such/dir/x.wst" -- "$TARGETS/wnetops.exe" udp \
  >/dev/null 2>"$WORK/nodir.err"
rc=$?
[ "$rc" -eq 1 ] && grep -q "cannot create" "$WORK/nodir.err" || fail "unwritable output: exit $rc, $(cat "$WORK/nodir.err")"

# The inspection tables of these Windows traces: the Linux build and wstrace.exe print the same,
# and they say what the programs did.
for name in tcp errors iocp whttp; do
  for cmd in conns dns http stats; do
    checks=$((checks + 1))
    "$WSTRACE" $cmd --json "$WORK/$name.wst" >"$WORK/$name.$cmd.json" || fail "linux $cmd $name"
    "$WINE_RUN" "$WIN_WSTRACE" $cmd --json "$WORK/$name.wst" | tr -d '\r' >"$WORK/$name.$cmd.win.json" ||
      fail "wstrace.exe $cmd $name"
    cmp -s "$WORK/$name.$cmd.json" "$WORK/$name.$cmd.win.json" ||
      fail "$cmd of $name.wst differs between the Linux build and wstrace.exe"
  done
done
checks=$((checks + 1))
python3 - "$WORK" <<'PY' || fail "the inspection tables of the Windows traces"
import json, sys
w = sys.argv[1]
rows = lambda n: [json.loads(l) for l in open(f"{w}/{n}.json")]
# tcp: a client and the connection it was accepted as, both ends agreeing, with the ping bytes.
c = [r for r in rows("tcp.conns") if r["role"] == "client" and r["kind"] == "tcp"]
a = [r for r in rows("tcp.conns") if r["role"] == "accepted"]
assert c and a and c[0]["remote"] == a[0]["local"] and c[0]["local"] == a[0]["remote"], (c, a)
assert c[0]["process"] == "wnetops.exe" and c[0]["bytes_out"] >= 12 and a[0]["bytes_in"] >= 12, (c, a)
assert [r for r in rows("tcp.conns") if r["role"] == "listener"], rows("tcp.conns")
# errors: the refused connection and the failed lookup.
e = [r for r in rows("errors.conns") if r["end"] == "error"]
assert e and e[0]["end_error"] == "WSAECONNREFUSED", rows("errors.conns")
d = [l for l in rows("errors.dns") if l["name"] == "missing.example.invalid"]
assert d and d[0]["result"] == "WSAHOST_NOT_FOUND" and not d[0]["ok"], rows("errors.dns")
# iocp: AcceptEx's first data and ConnectEx's sent bytes arrive through the completion port.
acc = [r for r in rows("iocp.conns") if r["role"] == "accepted"]
cli = [r for r in rows("iocp.conns") if r["role"] == "client"]
assert acc and acc[0]["bytes_in"] >= len(b"hello-connectex") + len(b"second"), rows("iocp.conns")
assert cli and cli[0]["bytes_out"] >= len(b"hello-connectex"), rows("iocp.conns")
# whttp: WinHTTP's request, decoded.
x = [x for x in rows("whttp.http") if x["type"] == "http"]
assert len(x) == 1, x
assert (x[0]["request"]["method"], x[0]["request"]["target"]) == ("GET", "/index.txt"), x
assert (x[0]["response"]["status"], x[0]["response"]["body_bytes"]) == (200, 27), x
st = json.load(open(f"{w}/whttp.stats.json"))
assert st["connections"] >= 1 and st["top_connections"][0]["bytes_in"] > 27, st
PY

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
