#!/usr/bin/env bash
# Overlapped and IOCP Winsock programs (wiocp.exe) traced by wstrace.exe under Wine: what the
# Linux build's conns, show, diagnose and pcapng export say of them must be what happened.
# Run as: SCRIPT WINE_RUN WSTRACE_EXE LINUX_WSTRACE WORK TARGETS_DIR
set -uo pipefail
WINE_RUN=$1 WIN_WSTRACE=$2 WSTRACE=$3 WORK=$4 TARGETS=$5
rm -rf "$WORK" && mkdir -p "$WORK"
failures=0 checks=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
have_tshark=0
command -v tshark >/dev/null && have_tshark=1

# record NAME: traces `wiocp NAME` into $WORK/NAME.wst and reads it back: NAME.out (the program's
# own output), NAME.jsonl (show), NAME.conns (conns), NAME.diag (diagnose), NAME.stats (stats),
# NAME.pcapng and, with tshark, NAME.packets (one line a packet: time, ports, flags, payload).
record() {
  local name=$1
  checks=$((checks + 1))
  "$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/$name.wst" -- "$TARGETS/wiocp.exe" "$name" \
    >"$WORK/$name.out" 2>"$WORK/$name.err"
  local rc=$?
  [ "$rc" -eq 0 ] || fail "wiocp $name exited $rc: $(head -c 300 "$WORK/$name.out" "$WORK/$name.err")"
  "$WSTRACE" show --json "$WORK/$name.wst" >"$WORK/$name.jsonl" || fail "show $name"
  "$WSTRACE" conns --json "$WORK/$name.wst" >"$WORK/$name.conns" || fail "conns $name"
  "$WSTRACE" diagnose --json "$WORK/$name.wst" >"$WORK/$name.diag" || fail "diagnose $name"
  "$WSTRACE" stats --json "$WORK/$name.wst" >"$WORK/$name.stats" || fail "stats $name"
  "$WSTRACE" export --format pcapng -o "$WORK/$name.pcapng" "$WORK/$name.wst" || fail "export $name"
  : >"$WORK/$name.packets"
  if [ "$have_tshark" = 1 ]; then
    tshark -r "$WORK/$name.pcapng" -T fields -E separator=/t -e frame.time_epoch -e ip.src \
      -e tcp.srcport -e udp.srcport -e ip.dst -e tcp.dstport -e udp.dstport -e tcp.flags.str \
      -e tcp.payload -e udp.payload >"$WORK/$name.packets" 2>"$WORK/$name.tshark" ||
      fail "tshark $name: $(head -c 300 "$WORK/$name.tshark")"
  fi
}

# check NAME PYTHON: asserts over the program's output `out`, the events `ev`, the connections
# `conns`, the findings `findings` and the packets `packets` (None without tshark).
check() {
  checks=$((checks + 1))
  python3 - "$WORK" "$1" "$have_tshark" <<PY || fail "$1: the trace does not tell what the program did"
import json, sys
w, name, tshark = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
out = open(f"{w}/{name}.out").read().replace("\r", "")
ev = [json.loads(l) for l in open(f"{w}/{name}.jsonl")]
conns = [json.loads(l) for l in open(f"{w}/{name}.conns")]
findings = [json.loads(l) for l in open(f"{w}/{name}.diag") if l.strip()]
stats = json.load(open(f"{w}/{name}.stats"))
rules = [f["rule"] for f in findings]
def num(key): return int(out.split(key + "=")[1].split()[0])
def calls(f): return [e for e in ev if e["func"] == f]
def payload(e): return bytes.fromhex(e["args"]["payload"]["hex"]) if "payload" in e["args"] else b""
class P:
    def __init__(s, f):
        f += [""] * (10 - len(f))
        s.t = float(f[0]); s.src = f[1]; s.sport = int(f[2] or f[3] or 0)
        s.dst = f[4]; s.dport = int(f[5] or f[6] or 0); s.flags = f[7]
        s.data = bytes.fromhex((f[8] or f[9]).replace(":", ""))
    def __repr__(s): return f"{s.t:.6f} {s.sport}->{s.dport} {s.flags} {s.data!r}"
packets = [P(l.rstrip("\n").split("\t")) for l in open(f"{w}/{name}.packets")] if tshark else None
def fin_from(port): return [p for p in packets if p.sport == port and "F" in p.flags]
def rst(): return [p for p in packets if "R" in p.flags]
def data_from(port): return b"".join(p.data for p in packets if p.sport == port)
$2
PY
}

# 1. AcceptEx: the accepted connection has both ends from its completion, opens when the accept
# completes (not when its socket was made), and has packets.
record accept
check accept '
server, client = num("server"), num("client")
acc = [c for c in conns if c["role"] == "accepted"]
assert len(acc) == 1, conns
a = acc[0]
assert a["local"] == f"127.0.0.1:{server}" and a["remote"] == f"127.0.0.1:{client}", a
done = [e for e in ev if e["event"] == "io_complete" and e["args"].get("op") ==
        calls("AcceptEx")[0]["args"]["op"]]
assert done and done[0]["args"]["peer"]["port"] == client, done
assert a["opened_ts_ns"] == a["connected_ts_ns"], a
assert a["bytes_in"] == 10 and a["bytes_out"] == 5, a
if packets is not None:
    assert data_from(client) == b"hello-iocp" and data_from(server) == b"reply", packets
    syn = [p for p in packets if p.flags.endswith("S") or "S" in p.flags]
    assert syn and syn[0].sport == client and syn[0].dport == server, packets
'

# 2. ConnectEx: the client has its real local address once connected.
record connect
check connect '
server, client = num("server"), num("client")
cli = [c for c in conns if c["role"] == "client"]
assert len(cli) == 1 and cli[0]["local"] == f"127.0.0.1:{client}", conns
assert cli[0]["remote"] == f"127.0.0.1:{server}", cli
if packets is not None:
    assert data_from(client) == b"hello-connectex", packets
    # One stream: the client and the accepted end share it.
    assert {p.sport for p in packets} == {client, server}, packets
'

# 3. A zero-byte read that completes with 0 bytes says "data is there", not end of stream.
record zeroread
check zeroread '
assert num("total") == 11, out
acc = [c for c in conns if c["role"] == "accepted"][0]
assert acc["end"] == "closed by us" and acc["bytes_in"] == 11, acc
assert "eof-not-handled" not in rules, findings
if packets is not None:
    client = [c for c in conns if c["role"] == "client"][0]
    cport = int(client["local"].rsplit(":", 1)[1])
    fins = fin_from(cport)
    data_at = [p.t for p in packets if p.sport == cport and p.data]
    assert data_from(cport) == b"firstsecond", packets
    assert not fins or fins[0].t >= max(data_at), packets
'

# 4. Overlapped WSARecvFrom and WSARecvMsg: each datagram with its sender; none on TCP.
record recvfrom
check recvfrom '
r, s1, s2 = num("receiver"), num("sender1"), num("sender2")
assert f"message=8 from={s2}" in out, out
done = [e for e in ev if e["event"] == "io_complete" and e["args"].get("len")]
assert [e["args"].get("peer", {}).get("port") for e in done[:3]] == [s1, s2, s2], done
# On a connected TCP socket Winsock writes no sender: the stale one in the buffer is not recorded.
assert "tcp=8" in out, out
assert len(done) == 4 and payload(done[3]) == b"tcp-data", done
assert "192.0.2.1" not in json.dumps(ev), [e for e in ev if "192.0.2.1" in json.dumps(e)]
assert payload(done[2]) == b"from-msg", done
rx = {c["remote"]: c for c in conns if c.get("local", "").endswith(f":{r}")}
assert rx[f"127.0.0.1:{s1}"]["bytes_in"] == 8 and rx[f"127.0.0.1:{s2}"]["bytes_in"] == 16, conns
if packets is not None:
    got = {(p.sport, p.data) for p in packets if p.dport == r}
    assert got == {(s1, b"from-one"), (s2, b"from-two"), (s2, b"from-msg")}, packets
'

# 5. and 9. A receive done at once: its bytes are in the trace; its completion packet names
# its socket and counts nothing twice.
record immediate
check immediate '
assert "at-once=0 bytes=10" in out, out
wr = calls("WSARecv")[0]
assert wr["result"] == 10 and payload(wr) == b"ready-data", wr
pk = [e for e in ev if e["event"] == "io_complete" and e["args"].get("op") == wr["args"]["op"]]
assert pk and pk[0]["args"].get("sock") == wr["args"]["sock"], pk
assert pk[0].get("conn") and pk[0]["conn"] == wr["conn"], (pk, wr)
acc = [c for c in conns if c["role"] == "accepted"][0]
assert acc["bytes_in"] == 10 and acc["end"] == "closed by us", acc
assert "eof-not-handled" not in rules, findings
'

# 6. Completions after closesocket and calls on the closed handle make no connection.
record closed
check closed '
assert "send-closed=-1 err=10038" in out, out
acc = [c for c in conns if c["role"] == "accepted"]
sock = acc[0]["sock"]
assert [c for c in conns if c["sock"] == sock] == acc, conns
assert acc[0]["end"] == "closed by us", acc
assert not [f for f in findings if f["rule"] in ("not-closed",)], findings
'

# 7. A receive that times out under SO_RCVTIMEO is an outcome, not the connection failing.
record timeout
check timeout '
assert "timedout=-1 err=10060" in out and "got=5" in out, out
cli = [c for c in conns if c["role"] == "client"][0]
assert cli["end"] == "closed by us" and "end_error" not in cli and cli["errors"] == 0, cli
r = stats["functions"]["recv"]
assert r["failed"] == 0 and r["outcomes"] == {"WSAETIMEDOUT": 1}, r
if packets is not None:
    assert not rst(), packets
'

# 8. Replies whose completions the program learned of through MsgWaitForMultipleObjects, or by
# looking at the OVERLAPPED, each followed by a busy 1.3 s: no slow reply.
record late
check late '
rx = calls("WSARecv")
assert len(rx) == 2, rx
first, second = [e for e in ev if e["event"] == "io_complete"]
assert payload(first) == b"answer" and payload(second) == b"answer", (first, second)
nxt = lambda e: [x for x in ev if x["seq"] > e["seq"] and x["event"] != "io_complete"][0]
# The wait is hooked: its completion is recorded as the wait returned, before the busy time.
assert first["args"].get("noticed") == 1, first
assert first["ts_ns"] < nxt(first)["ts_ns"] - 1_000_000_000, (first, nxt(first))
# Looked at: noticed at the next call, when it completed not known.
assert second["args"].get("noticed") == 2, second
assert "slow-call" not in rules, findings
'

# 9. Wake-ups posted to a port are no I/O completions.
record posted
check posted '
assert "woke=3" in out, out
assert not [e for e in ev if e["event"] == "io_complete"], [e for e in ev if e["event"] == "io_complete"]
'

# 10. The packets of a non-blocking connect whose data leaves at once: time never goes back.
record nbconnect
check nbconnect '
if packets is not None:
    ts = [p.t for p in packets]
    assert ts == sorted(ts), packets
    assert b"first-data" in b"".join(p.data for p in packets), packets
'

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
