#!/usr/bin/env bash
# Capture of programs no one here wrote: curl fetching a file from a local HTTP server
# (python3 -m http.server on 127.0.0.1 and a free port), curl refused by a port where nothing
# listens, and python3 doing a socket exchange with that server. The recorded connect, request
# and response bytes must be what really went over the wire.
# Run as: capture_real.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

for tool in curl python3; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
# the interpreter itself, not a wrapper script (pyenv shims are shell scripts)
PY=$(python3 -c 'import sys; print(sys.executable)')

mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
port=$(free_port)
http_server "$WORK/www" "$port"
echo "$port" >"$WORK/port"
free_port >"$WORK/dead-port"

record curl 0 -- curl -sS --max-time 20 "http://127.0.0.1:$port/hello.txt"
expect_in "$WORK/curl.out" "hello from wstrace"
# curl's own exit status comes through wstrace: 7 = could not connect
record curl-refused 7 -- curl -sS --max-time 20 "http://127.0.0.1:$(cat "$WORK/dead-port")/"

record python 0 -- "$PY" "$SRC/tests/tools/http_client.py" "$port"
expect_in "$WORK/python.out" "HTTP/1.0 200 OK"
expect_in "$WORK/python.out" "hello from wstrace"

# A TLS client (python3's ssl module) against a loopback listener that reads its ClientHello
# and closes: the handshake fails, but the server name and ALPN it offered are in the trace.
record tls 0 -- "$PY" "$SRC/tests/tools/tls_hello.py"
expect_in "$WORK/tls.out" "handshake failed as expected"

# What the inspection commands make of these real traces.
for name in curl curl-refused python tls; do
  for cmd in conns dns http; do
    expect_exit 0 "$WSTRACE" $cmd --json "$WORK/$name.wst"
    cp "$WORK/out" "$WORK/$name.$cmd.jsonl"
  done
done
trace_checks inspection <<'PY'
import json
from tracecheck import *
port = int(open(work("port")).read())
dead = int(open(work("dead-port")).read())
def rows(name, cmd):
    return [json.loads(l) for l in open(work(f"{name}.{cmd}.jsonl"))]

context("curl: conns and http")
tcp = [c for c in rows("curl", "conns") if c["kind"] == "tcp" and c.get("remote") == f"127.0.0.1:{port}"]
eq(len(tcp), 1, "one TCP connection to the server")
c = tcp[0]
eq((c["role"], c["process"]), ("client", "curl"), "role, process")
# HTTP/1.0: the server closes after the body, curl closes once it has the body; who is first varies.
check(c["end"] in ("closed by us", "closed by peer"), f"end: {c['end']}")
check(c["bytes_out"] > 60 and c["bytes_in"] > 19 and c["errors"] == 0, f"bytes {c}")
ex = [x for x in rows("curl", "http") if x["type"] == "http"]
eq(len(ex), 1, "one HTTP exchange")
x = ex[0]
eq((x["request"]["method"], x["request"]["target"], x["host"]), ("GET", "/hello.txt", f"127.0.0.1:{port}"), "request")
eq((x["response"]["status"], x["response"]["body_bytes"], x["response"]["end"]), (200, 19, "complete"), "response")
check(x["conn"] == c["id"] and x["ttfb_ns"] >= 0 and x["total_ns"] >= x["ttfb_ns"], f"times {x}")

context("curl refused: conns")
r = [c for c in rows("curl-refused", "conns") if c.get("remote") == f"127.0.0.1:{dead}"]
eq([(c["end"], c.get("end_error")) for c in r], [("error", "ECONNREFUSED")], "refused connection")

context("python: conns, dns, http")
c = [c for c in rows("python", "conns") if c.get("remote") == f"127.0.0.1:{port}"]
eq(len(c), 1, "one connection")
eq((c[0]["bytes_out"], c[0]["end"]), (len(b"GET /hello.txt HTTP/1.0\r\nHost: wstrace.test\r\n\r\n"), "closed by peer"), "bytes out, end")
d = [l for l in rows("python", "dns") if l["via"] == "getaddrinfo"]
eq([(l["name"], l["service"], l["answers"], l["ok"]) for l in d], [("127.0.0.1", str(port), ["127.0.0.1"], True)], "the lookup")
x = [x for x in rows("python", "http") if x["type"] == "http"]
eq([(e["host"], e["request"]["target"], e["response"]["status"], e["response"]["body_bytes"]) for e in x],
   [("wstrace.test", "/hello.txt", 200, 19)], "the exchange")

context("tls: the ClientHello")
t = [x for x in rows("tls", "http") if x["type"] == "tls"]
# The process is the client and the server: the hello is seen leaving one socket and arriving at
# the other.
eq(len(t), 2, "both ends of the TLS connection")
eq({(x["server_name"], tuple(x["alpn"])) for x in t}, {("sni.wstrace.test", ("h2", "http/1.1"))}, "SNI and ALPN")
check(t[0]["cipher_suites_offered"] > 0, "cipher suites offered")
finish()
PY

trace_checks curl <<'PY'
from tracecheck import *
port = int(open(work("port")).read())
dead = int(open(work("dead-port")).read())
context("curl")
t = load("curl")
eq(len(t.pids()), 1, "one process")
check(t.one("process_start")["args"].get("image", "").endswith("/curl"), "curl's image")
eq([e["args"].get("exit_code") for e in t.all("process_exit")], [0], "curl's exit code")
c = t.one("connect", addr={"family": "AF_INET", "ip": "127.0.0.1", "port": port, "text": f"127.0.0.1:{port}"})
fd = c["args"].get("sock")
sk = [e for e in t.all("socket") if e["result"] == fd]
check(sk and sk[-1]["args"]["family"] == "AF_INET" and sk[-1]["args"]["type"] == "SOCK_STREAM", "curl's TCP socket")
check(c["result"] == 0 or error_name(c) == "EINPROGRESS", f"connect: {c['result']} {error_name(c)}")
local = addr(c, "local")
check(local and local[0] == "127.0.0.1" and local[1] not in (0, port), f"connect local address {local}")
if error_name(c) == "EINPROGRESS":
    so = [e for e in t.all("getsockopt", sock=fd) if e["args"].get("optname") == "SO_ERROR"]
    eq([e["args"].get("optval") for e in so][:1], [0], "SO_ERROR after the non-blocking connect")
    check(any(f["sock"] == fd and "POLLOUT" in f["revents"] for e in t.all("poll") for f in e["args"].get("fds", [])),
          "a poll saw the socket writable")
sends = [e for e in t.all(("send", "sendto", "sendmsg", "write", "writev"), sock=fd)]
req = b"".join(payload(e) for e in sends)
check(req.startswith(b"GET /hello.txt HTTP/1.1\r\n"), f"the request: {req[:60]!r}")
check(f"\r\nHost: 127.0.0.1:{port}\r\n".encode() in req, "the Host header")
check(req.endswith(b"\r\n\r\n"), "the request ends with an empty line")
eq(sum(e["result"] for e in sends), len(req), "request bytes kept whole (1024-byte snap length)")
recvs = [e for e in t.all(("recv", "recvfrom", "recvmsg", "read", "readv"), sock=fd) if e["result"] > 0]
resp = b"".join(payload(e) for e in recvs)
check(resp.startswith(b"HTTP/1.0 200 OK\r\n"), f"the response status line: {resp[:40]!r}")
check(b"\r\nContent-Length: 19\r\n" in resp and resp.endswith(b"\r\n\r\nhello from wstrace\n"), "the response")
eq(len(t.all("close", sock=fd)) >= 1, True, "the socket is closed")

context("curl refused")
t = load("curl-refused")
eq([e["args"].get("exit_code") for e in t.all("process_exit")], [7], "curl's exit code")
c = t.one("connect")
eq(addr(c), ("127.0.0.1", dead), "connect address")
fd = c["args"].get("sock")
so = [e["args"].get("optval") for e in t.all("getsockopt", sock=fd) if e["args"].get("optname") == "SO_ERROR"]
check(error_name(c) == "ECONNREFUSED" or (error_name(c) == "EINPROGRESS" and so[:1] == [111]),
      f"refused: connect {error_name(c)}, SO_ERROR {so}")
eq(t.all("send"), [], "nothing sent")
finish()
PY

trace_checks python <<'PY'
from tracecheck import *
port = int(open(work("port")).read())
context("python")
t = load("python")
eq(len(t.pids()), 1, "one process")
eq([e["args"].get("exit_code") for e in t.all("process_exit")], [0], "python's exit code")
g = t.one("getaddrinfo", host="127.0.0.1")
eq((g["result"], g["args"].get("service"), [(a["ip"], a["port"]) for a in g["args"].get("addrs", [])]),
   (0, str(port), [("127.0.0.1", port)]), "create_connection's getaddrinfo")
c = t.one("connect")
fd = c["args"].get("sock")
eq((c["result"], addr(c)), (0, ("127.0.0.1", port)), "connect")
check(addr(c, "local") and addr(c, "local")[0] == "127.0.0.1", "connect local address")
sk = [e for e in t.all("socket") if e["result"] == fd]
eq([(e["args"]["family"], e["args"]["type"]) for e in sk], [("AF_INET", "SOCK_STREAM")], "python's socket")
check(sk and sk[0]["seq"] > g["seq"], "socket after getaddrinfo")
sends = t.all(("send", "sendto", "sendmsg", "write"), sock=fd)
eq(b"".join(payload(e) for e in sends), b"GET /hello.txt HTTP/1.0\r\nHost: wstrace.test\r\n\r\n", "sendall's bytes")
recvs = t.all(("recv", "recvfrom", "recvmsg", "read", "recv_into"), sock=fd)
resp = b"".join(payload(e) for e in recvs)
check(resp.startswith(b"HTTP/1.0 200 OK\r\n") and resp.endswith(b"hello from wstrace\n"), f"the response {resp[:40]!r}")
check(recvs and recvs[-1]["result"] == 0, "the last recv sees the end of data")
eq(len(t.all("close", sock=fd)), 1, "close")
check(t.one("close", sock=fd)["seq"] > recvs[-1]["seq"] if recvs else False, "close after the last recv")
finish()
PY

done_testing
