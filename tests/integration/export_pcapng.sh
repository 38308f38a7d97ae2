#!/usr/bin/env bash
# pcapng export read by tshark (Debian's): real programs recorded on loopback, exported with
# `wstrace export FILE --format pcapng -o OUT`, then tshark must find
#   - curl's HTTP request (URI) and the server's response code,
#   - the names of DNS queries a python3 program sent over UDP and TCP to our resolver
#     (tests/tools/dns_server.py on 127.0.0.1:53),
#   - the bytes of a followed TCP stream equal to the recorded payloads, for a connection traced
#     at both ends in one process (client and server threads): written once,
#   - packet comments naming the thread (frame.comment contains "tid="), and the bytes a small
#     snap length did not keep,
#   - with checksum validation on, no malformed packet and no expert warning or error;
# and the synthetic demo traces of both platforms (Windows functions and error codes) export
# too, with their reset written as an RST; the kernel engine's retransmissions (the synthetic
# `retransmissions` trace: tcp_retransmit events) are segments written again, which tshark's
# analysis flags as retransmissions, with the bytes first sent.
# The script re-runs itself in private mount and network namespaces (lib_findings.sh): only
# loopback exists there. Exit status 77 (skipped) when no namespace can be made.
# Run as: export_pcapng.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
. "$(dirname "$0")/lib_findings.sh"
enter_private_netns "$@"

for tool in curl python3 tshark; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
PY=$(python3 -c 'import sys; print(sys.executable)')
private_dns api.test=127.0.0.1

mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
python3 -c 'import sys; sys.stdout.write("".join(chr(97 + i % 26) for i in range(5000)))' >"$WORK/www/big.txt"
http_server "$WORK/www" 8080

# curl through the resolver (glibc's own queries are not socket calls of the program: the names
# in the pcapng come from dnsq.py below).
record curl 0 -- curl -sS --max-time 20 http://api.test:8080/hello.txt
expect_in "$WORK/curl.out" "hello from wstrace"
# the same with a snap length that cuts the response
record curl-snap 0 -s 200 -- curl -sS --max-time 20 -o /dev/null http://127.0.0.1:8080/big.txt

# DNS messages sent by the program itself: over UDP (two names) and over TCP.
cat >"$WORK/dnsq.py" <<'EOF'
import socket, struct
def query(qid, name, qtype):
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for label in name.split("."):
        q += bytes([len(label)]) + label.encode()
    return q + b"\0" + struct.pack("!HH", qtype, 1)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
for qid, name in ((1, "api.test"), (2, "nx.test")):
    u.sendto(query(qid, name, 1), ("127.0.0.1", 53))
    reply, _ = u.recvfrom(512)
    print(name, "rcode", reply[3] & 15)
u.close()
t = socket.create_connection(("127.0.0.1", 53), 5)
q = query(3, "tcp.api.test", 28)
t.sendall(struct.pack("!H", len(q)) + q)
n = struct.unpack("!H", t.recv(2))[0]
reply = b""
while len(reply) < n:
    reply += t.recv(n - len(reply))
print("tcp.api.test rcode", reply[3] & 15)
t.close()
EOF
record dnsq 0 -- "$PY" "$WORK/dnsq.py"
expect_in "$WORK/dnsq.out" "api.test rcode 0"
expect_in "$WORK/dnsq.out" "nx.test rcode 3"

# One process, both ends of a loopback connection: 200000 bytes one way (kept whole by -s max,
# 256 KiB a call; more than one packet holds), 4 the other.
cat >"$WORK/both.py" <<'EOF'
import socket, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
port = srv.getsockname()[1]
got = []
def serve():
    c, _ = srv.accept()
    n = 0
    while n < 200000:
        chunk = c.recv(70000)
        if not chunk:
            break
        n += len(chunk)
    got.append(n)
    c.sendall(b"done")
    c.close()
t = threading.Thread(target=serve)
t.start()
s = socket.create_connection(("127.0.0.1", port))
s.sendall(bytes((i * 7) % 251 for i in range(200000)))
print("reply", s.recv(16).decode())
s.close()
t.join()
print("port", port, "server got", got[0])
EOF
record both 0 -s max -- "$PY" "$WORK/both.py"
expect_in "$WORK/both.out" "reply done"
expect_in "$WORK/both.out" "server got 200000"

# the demo scenario of each platform
for p in linux windows; do
  expect_exit 0 "$WSTRACE" synth demo --platform $p -o "$WORK/demo-$p.wst"
done
expect_exit 0 "$WSTRACE" synth retransmissions -o "$WORK/retrans.wst"

for name in curl curl-snap dnsq both demo-linux demo-windows retrans; do
  expect_exit 0 "$WSTRACE" export "$WORK/$name.wst" --format pcapng -o "$WORK/$name.pcapng"
done

# -o - writes the same bytes to standard output (wstrace export … -o - | wireshark -k -i -)
expect_exit 0 "$WSTRACE" export "$WORK/demo-windows.wst" --format pcapng -o -
checks=$((checks + 1))
cmp -s "$WORK/out" "$WORK/demo-windows.pcapng" || fail "pcapng on standard output differs from the file"

trace_checks pcapng <<'PY'
import subprocess
from tracecheck import *

# tshark with checksum validation on, each file read once for every field the checks need.
CHECKSUMS = ["-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
             "-o", "ip.check_checksum:TRUE"]
FIELDS = ["frame.number", "frame.comment", "frame.len", "frame.cap_len",
          "frame.packet_flags_direction", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.len",
          "tcp.flags.syn", "tcp.flags.ack", "tcp.flags.reset", "http.request.method",
          "http.request.uri", "http.response.code", "dns.qry.name", "dns.flags.response",
          "dns.flags.rcode", "_ws.expert.severity", "_ws.expert.message"]

def tshark(name, *args):
    p = subprocess.run(["tshark", "-n", "-r", work(name + ".pcapng")] + CHECKSUMS + list(args),
                       capture_output=True, text=True)
    check(p.returncode == 0, f"tshark {' '.join(args)} on {name}: exit {p.returncode}: {p.stderr[:300]}")
    return p.stdout

def packets(name):
    args = ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=|"]
    for f in FIELDS:
        args += ["-e", f]
    return [dict(zip(FIELDS, l.split("\t"))) for l in tshark(name, *args).splitlines()]

def problems(rows):
    """Expert items of severity warning or error (a malformed packet is an error): messages."""
    out = []
    for r in rows:
        for s, m in zip(r["_ws.expert.severity"].split("|"), r["_ws.expert.message"].split("|")):
            if s and int(s, 0) >= 0x00600000:
                out.append(f"frame {r['frame.number']}: {m}")
    return out

def requests(rows):
    return [(r["http.request.method"], r["http.request.uri"]) for r in rows if r["http.request.method"]]

def codes(rows):
    return [r["http.response.code"] for r in rows if r["http.response.code"]]

def dns_names(rows, response):
    return sorted(r["dns.qry.name"] for r in rows if r["dns.flags.response"] == response)

rows = {}
for name in ("curl", "curl-snap", "dnsq", "both", "demo-linux", "demo-windows"):
    context(name)
    with open(work(name + ".pcapng"), "rb") as f:
        eq(f.read(4), b"\x0a\x0d\x0d\x0a", "a pcapng section header first")
    r = rows[name] = packets(name)
    check(r, "packets written")
    eq([x["frame.number"] for x in r if int(x["frame.len"] or 0) > 65535], [], "no packet over 64 KiB")
    eq([x["frame.number"] for x in r if "tid=" not in x["frame.comment"]], [],
       "every comment names the thread")
    if not name.startswith("demo"):
        eq(problems(r), [], "no malformed packets, no expert warnings or errors")
# the filter users type
eq(len(tshark("curl", "-Y", 'frame.comment contains "tid="').splitlines()), len(rows["curl"]),
   'frame.comment contains "tid=" picks every packet')

context("curl: HTTP request and response")
r = rows["curl"]
eq(requests(r), [("GET", "/hello.txt")], "the request")
eq(codes(r), ["200"], "the response code")
com = [x["frame.comment"] for x in r if x["http.request.method"]]
check(com and com[0].startswith("proc=curl pid=") and " func=" in com[0] and " call=" in com[0],
      f"the comment: {com}")
data = [x for x in r if x["tcp.len"] not in ("", "0")]
check(data, "data packets")
for x in data:
    c = x["frame.comment"]
    want = "0x00000002" if ("func=send" in c or "func=write" in c) else "0x00000001"
    eq(x["frame.packet_flags_direction"], want, f"the direction flag of {c}")

context("curl with a 200-byte snap length")
r = rows["curl-snap"]
eq(requests(r), [("GET", "/big.txt")], "the request still decodes")
cut = [x for x in r if "not kept" in x["frame.comment"]]
check(cut, "packets cut by the snap length say so")
for x in cut:
    check(int(x["frame.cap_len"]) < int(x["frame.len"]), f"captured < original: {x['frame.comment']}")
t = load("curl-snap")
recvs = t.all(("recv", "read", "recvfrom", "recvmsg"))
kept = sum(len(payload(e)) for e in recvs)
moved = sum(e["result"] for e in recvs if e["result"] > 0)
lost = sum(int(x["frame.comment"].split("snaplen: ")[1].split()[0]) for x in cut
           if "func=recv" in x["frame.comment"] or "func=read" in x["frame.comment"])
check(moved > kept, f"the snap length cut the response: {kept} of {moved} bytes kept")
eq(lost, moved - kept, "the comments count the bytes the trace did not keep")

context("dnsq: DNS query names over UDP and TCP")
r = rows["dnsq"]
eq(dns_names(r, "0"), ["api.test", "nx.test", "tcp.api.test"], "the queries")
eq(dns_names(r, "1"), ["api.test", "nx.test", "tcp.api.test"], "the responses")
eq([x["dns.flags.rcode"] for x in r if x["dns.qry.name"] == "nx.test" and x["dns.flags.response"] == "1"],
   ["3"], "NXDOMAIN")

context("both: a connection traced at both ends, followed")
r = rows["both"]
port = str([l.split()[1] for l in output("both") if l.startswith("port ")][0])
mine = [x for x in r if port in (x["tcp.srcport"], x["tcp.dstport"])]
syn = [x for x in mine if x["tcp.flags.syn"] == "1" and x["tcp.flags.ack"] == "0"]
eq(len(syn), 1, "one handshake: the connection is written once")
eq(len({x["tcp.stream"] for x in mine}), 1, "one TCP stream")
stream = mine[0]["tcp.stream"] if mine else "0"
out = tshark("both", "-q", "-z", f"follow,tcp,raw,{stream}")
client, server = b"", b""
body = out.split("Node 1:", 1)[1].split("\n", 1)[1] if "Node 1:" in out else ""
for line in body.splitlines():
    if line.startswith("="):
        break
    if line.startswith("\t"):
        server += bytes.fromhex(line.strip())
    elif line.strip():
        client += bytes.fromhex(line.strip())
t = load("both")
c = [e for e in t.all("connect") if addr(e) == ("127.0.0.1", int(port))]
eq(len(c), 1, "the client's connect")
fd = c[0]["args"]["sock"] if c else -1
sent = b"".join(payload(e) for e in t.all(("send", "sendto", "sendmsg", "write"))
                if e["args"].get("sock") == fd)
check(sent == bytes((i * 7) % 251 for i in range(200000)),
      f"the recorded payload (-s max) is what was sent: {len(sent)} bytes")
eq(len(client), len(sent), "the followed stream's length: each byte once")
check(client == sent, "the followed stream (client to server) = the recorded payload")
eq(server, b"done", "the followed stream (server to client)")
segs = [int(x["tcp.len"]) for x in mine if x["tcp.len"] not in ("", "0")]
check(segs and max(segs) <= 65535 - 40, f"large sends segmented: {max(segs) if segs else None}")

for name in ("demo-linux", "demo-windows"):
    context(name)
    r = rows[name]
    eq(requests(r), [("GET", "/status")], "the request")
    eq(codes(r), ["200"], "the response")
    eq(dns_names(r, "0"), ["api.example.test"], "the DNS query")
    rst = [x["tcp.srcport"] for x in r if x["tcp.flags.reset"] == "1"]
    eq(sorted(rst), ["8081", "9", "9", "9"], "RSTs: the three refused connects and the reset")
    eq(sorted({p.split(": ", 1)[1] for p in problems(r)}), ["Connection reset (RST)"],
       "only the resets are warnings")
    check(any("not kept" in x["frame.comment"] for x in r), "the demo's 64-byte snap length is marked")

context("retrans: the kernel engine's retransmissions, written again")
flagged = tshark("retrans", "-Y", "tcp.analysis.retransmission", "-T", "fields", "-e", "tcp.seq",
                 "-e", "tcp.len", "-e", "tcp.payload", "-e", "frame.comment").splitlines()
sent = bytes(ord("a") + i % 26 for i in range(64 << 10))
got = [l.split("\t") for l in flagged]
eq([(int(g[0]), int(g[1])) for g in got], [(16385, 16384), (32769, 8192), (32769, 1000)],
   "each range again: its relative sequence number (offset + 1) and length")
for g in got:
    off, n = int(g[0]) - 1, int(g[1])
    check(bytes.fromhex(g[2].replace(":", "")) == sent[off:off + n], f"the bytes of {off}+{n}")
    check("func=tcp_retransmit" in g[3] and "sent again" in g[3], f"the comment: {g[3]}")
finish()
PY

exec 9>&-
done_testing
