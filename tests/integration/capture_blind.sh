#!/usr/bin/env bash
# What a preloaded agent sees only indirectly (tests/targets/linux/blind.c), and how the trace says
# so. Socket calls made by number through libc's syscall() (libuv's sendmmsg and close) are traced
# like their functions. A socket closed by system call instruction is not seen, but its number
# coming back is: the process declares `raw-syscalls` (info, record's summary, diagnose). io_uring
# set up is declared `io_uring`. Sockets the program inherited (a listener and a connection
# opened by its parent) are known from its first call: kind, both ends, listening, bytes — no `?`
# rows, and their bytes in the pcapng.
# Run as: capture_blind.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
BLIND=$TARGETS/blind

record syscalls 0 -- "$BLIND" syscalls
expect_in "$WORK/syscalls.out" "syscalls ok"
trace_checks syscalls <<'EOF'
from tracecheck import *
import json, subprocess, os
t = load("syscalls")
funcs = t.funcs()
for f in ("socket", "bind", "sendmmsg", "recvfrom", "listen", "connect", "accept4", "sendto",
          "write", "read", "shutdown", "close", "getsockname"):
    check(f in funcs, f"{f} made by syscall() is in the trace: {sorted(funcs)}")
eq(len(t.all("close")), 4, "the four closes by syscall(SYS_close)")
eq(len(t.all("socket")), 3, "three sockets")
conns = [json.loads(l) for l in subprocess.run([os.environ["WSTRACE"], "conns", "--json",
         work("syscalls.wst")], capture_output=True, text=True, check=True).stdout.splitlines()]
conns = [c for c in conns if c.get("type", "conn") == "conn" or "kind" in c]
kinds = sorted(c["kind"] for c in conns)
check("?" not in kinds, f"no connection of unknown kind: {kinds}")
udp = [c for c in conns if c["kind"] == "udp"]
check(udp and udp[0]["bytes_out"] == 18 and udp[0]["bytes_in"] == 18,
      f"the datagram of sendmmsg by number is counted both ways: {udp}")
tcp = sorted((c["role"], c["bytes_out"], c["bytes_in"], c["end"]) for c in conns
             if c["kind"] == "tcp" and c["role"] != "listener")
eq(tcp, [("accepted", 5, 5, "closed by us"), ("client", 5, 5, "closed by us")],
   "the TCP connection by number, both ends")
finish()
EOF

record inline-close 0 -- "$BLIND" inline-close
expect_in "$WORK/inline-close.out" "reused"
fd=$(awk '/reused/ {print $2}' "$WORK/inline-close.out")
expect_in "$WORK/inline-close.err" "raw-syscalls"
expect_exit 0 "$WSTRACE" info --json "$WORK/inline-close.wst"
trace_checks inline-close <<EOF
from tracecheck import *
import json
info = json.load(open(work("out")))
unseen = [u for p in info["processes"] for u in p.get("unseen", [])]
eq([u["what"] for u in unseen], ["raw-syscalls"], "the process declares raw system calls")
t = load("inline-close")
u = t.one("unseen")
eq(u["args"].get("sock"), $fd, "the declaration names the socket whose close was not seen")
finish()
EOF
expect_exit 0 "$WSTRACE" info "$WORK/inline-close.wst"
expect_in "$WORK/out" "not seen from"
expect_in "$WORK/out" "raw-syscalls: a socket was closed by a call the agent does not see"
expect_exit 0 "$WSTRACE" diagnose "$WORK/inline-close.wst"
expect_in "$WORK/out" "cannot see"
expect_exit 0 "$WSTRACE" report -o "$WORK/inline-close.html" "$WORK/inline-close.wst"
expect_in "$WORK/inline-close.html" "makes socket calls wstrace cannot see (raw-syscalls)"
# A program that closes its sockets through libc declares nothing.
expect_exit 0 "$WSTRACE" info --json "$WORK/syscalls.wst"
expect_not_in "$WORK/out" '"unseen"'

record io-uring 0 -- "$BLIND" io-uring
if grep -q "io_uring set up" "$WORK/io-uring.out"; then
  expect_exit 0 "$WSTRACE" info --json "$WORK/io-uring.wst"
  expect_in "$WORK/out" '"what": "io_uring"'
  expect_in "$WORK/io-uring.err" "io_uring"
else
  echo "io_uring refused by this kernel: $(cat "$WORK/io-uring.out")"
fi

# Inherited: a python parent makes a listener and a connection to its own echo peer, and runs
# wstrace record with both descriptors left open for the program.
trace_checks inherited-run <<EOF
import os, socket, subprocess, threading
from tracecheck import *
peer = socket.create_server(("127.0.0.1", 0))
lst = socket.create_server(("127.0.0.1", 0))
conn = socket.create_connection(peer.getsockname())
served, _ = peer.accept()
def echo():
    data = b""
    while len(data) < 4:
        data += served.recv(4 - len(data))
    served.sendall(b"pong")
def knock():
    k = socket.create_connection(lst.getsockname())
    k.sendall(b"hi")
    k.recv(1)
    k.close()
threads = [threading.Thread(target=echo), threading.Thread(target=knock)]
for th in threads: th.start()
for s in (lst, conn): os.set_inheritable(s.fileno(), True)
r = subprocess.run([os.environ["WSTRACE"], "record", "-q", "-o", work("inherited.wst"), "--",
                    "$BLIND", "inherited", str(lst.fileno()), str(conn.fileno())],
                   pass_fds=(lst.fileno(), conn.fileno()), capture_output=True, text=True,
                   timeout=60)
for th in threads: th.join(10)
eq(r.returncode, 0, "record of the inheriting program: " + r.stderr[:300])
open(work("inherited.out"), "w").write(r.stdout)
with open(work("inherited.ends"), "w") as f:
    f.write("%s %s %s %s\n" % (conn.getsockname()[1], peer.getsockname()[1],
                               lst.getsockname()[1], lst.fileno()))
finish()
EOF
expect_in "$WORK/inherited.out" "inherited ok"
read -r local_port peer_port listen_port listen_fd <"$WORK/inherited.ends"
trace_checks inherited <<EOF
from tracecheck import *
import json, subprocess, os
conns = [json.loads(l) for l in subprocess.run([os.environ["WSTRACE"], "conns", "--json",
         work("inherited.wst")], capture_output=True, text=True, check=True).stdout.splitlines()]
eq(sorted(c["kind"] for c in conns), ["tcp", "tcp", "tcp"], "three TCP rows, none unknown")
def ends(c): return (c.get("local") or "", c.get("remote") or "")
by_role = {c["role"]: c for c in conns}
lst = by_role.get("listener")
check(lst and lst["local"] == "127.0.0.1:$listen_port", f"the inherited listener: {lst}")
out = [c for c in conns if c.get("remote") == "127.0.0.1:$peer_port"]
check(len(out) == 1 and out[0]["local"] == "127.0.0.1:$local_port" and out[0]["bytes_out"] == 4
      and out[0]["bytes_in"] == 4, f"the inherited connection, both ends and its bytes: {out}")
acc = by_role.get("accepted")
check(acc and acc["bytes_in"] == 2 and acc.get("listener") == (lst or {}).get("id"),
      f"the connection accepted on the inherited listener: {acc}")
t = load("inherited")
eq(len(t.all("inherited")), 2, "two inherited sockets recorded")
eq(t.one("inherited", sock=$listen_fd)["args"].get("listening"), 1, "the listener is listening")
finish()
EOF
# Their bytes reach the export: the 4 bytes each way of the inherited connection, with no
# handshake made up for it.
if command -v tshark >/dev/null; then
  expect_exit 0 "$WSTRACE" export --format pcapng -o "$WORK/inherited.pcapng" "$WORK/inherited.wst"
  expect_exit 0 tshark -r "$WORK/inherited.pcapng" -q \
    -z "follow,tcp,raw,127.0.0.1:$local_port,127.0.0.1:$peer_port"
  expect_in "$WORK/out" "70696e67"  # ping
  expect_in "$WORK/out" "706f6e67"  # pong
  expect_exit 0 tshark -r "$WORK/inherited.pcapng" -Y "tcp.port == $peer_port && tcp.flags.syn == 1"
  expect_lines "$WORK/out" 0
fi

# A program is named as it was started (a symbolic link's name, not its target's), and one that
# renames itself keeps its title: info shows both.
ln -sf "$BLIND" "$WORK/blind-link"
record link 0 -- "$WORK/blind-link" retitle padding-for-the-title
expect_in "$WORK/link.out" "retitled"
expect_exit 0 "$WSTRACE" info --json "$WORK/link.wst"
trace_checks names <<'EOF'
from tracecheck import *
import json
info = json.load(open(work("out")))
p = info["processes"][0]
check(p["image"].endswith("/blind-link"), f"the image is the link it was started by: {p['image']}")
eq(p.get("title"), "blind: worker process", "the title it gave itself")
check(p["cmdline"].endswith("blind-link retitle padding-for-the-title"),
      f"the command line it was started with: {p['cmdline']}")
finish()
EOF
expect_exit 0 "$WSTRACE" info "$WORK/link.wst"
expect_in "$WORK/out" "blind: worker process  (started as "
expect_exit 0 "$WSTRACE" conns "$WORK/link.wst"
expect_in "$WORK/out" "blind-link["

done_testing
