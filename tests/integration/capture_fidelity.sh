#!/usr/bin/env bash
# Calls whose bytes or waits simple hooks would miss (tests/targets/linux/fidelity.c): zero-copy
# sends (sendfile with and without an offset, splice both ways, copy_file_range to a socket) are
# sends and receives with their bytes in `conns` and `stats` and a sendfile's payload read back
# from its file; a sendfile between two files records nothing. Every message of sendmmsg and
# recvmmsg is a datagram with its own bytes, address and payload (in `show`, each flow of
# `conns`, the pcapng export) while `stats` counts each call once. epoll_pwait, epoll_pwait2 and
# __ppoll_chk are recorded as waits with their timeouts.
# Run as: capture_fidelity.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
FIDELITY=$TARGETS/fidelity

record zerocopy 0 -s max -- "$FIDELITY" zerocopy "$WORK"
"$WSTRACE" conns --json "$WORK/zerocopy.wst" >"$WORK/zerocopy.conns" || fail "conns --json"

trace_checks zerocopy <<'PY'
import json
from tracecheck import *
context("zerocopy")
t = load("zerocopy")
o = output_fields("zerocopy", "zerocopy")
client, server = int(o["client"]), int(o["server"])
data = bytes(ord("a") + (i * 7) % 26 for i in range(10000))
sf = t.all("sendfile")
# the third sendfile, between two files, is no socket business
eq([(e["args"].get("sock"), e["args"].get("len"), e["result"]) for e in sf],
   [(client, 5000, 5000), (client, 3000, 3000)], "sendfile calls: socket, asked, moved")
if len(sf) == 2:
    eq((payload(sf[0]), payload_len(sf[0])), (data[100:5100], 5000), "payload of sendfile at offset 100")
    eq((payload(sf[1]), payload_len(sf[1])), (data[1000:4000], 3000), "payload of sendfile from the position")
sp = t.one("splice")
eq((sp["args"].get("sock"), sp["args"].get("len"), sp["result"], payload(sp)), (client, 11, 11, b""),
   "splice of a pipe into the socket (the pipe's bytes are not kept)")
sr = t.one("splice_recv")
eq((sr["args"].get("sock"), sr["args"].get("len"), sr["result"], payload(sr)), (client, 10, 10, b""),
   "splice of the socket into a pipe (not kept: reading the pipe would take them)")
cf = t.one("copy_file_range")
if o["cfr"] == "-1":
    eq((cf["result"], error_name(cf)), (-1, o["cfr_errno"]), "copy_file_range refused by the kernel")
else:
    eq((cf["result"], payload(cf)), (int(o["cfr"]), data[:int(o["cfr"])]), "copy_file_range")
moved_cf = max(int(o["cfr"]), 0)
with open(work("zerocopy.conns")) as f:
    rows = {r["sock"]: r for r in map(json.loads, f) if r.get("kind") == "tcp"}
eq((rows[client]["bytes_out"], rows[client]["bytes_in"]), (8011 + moved_cf, 10), "client's bytes in conns")
eq((rows[server]["bytes_in"], rows[server]["bytes_out"]), (8011 + moved_cf, 10), "server's bytes in conns")
finish()
PY

"$WSTRACE" stats "$WORK/zerocopy.wst" >"$WORK/zerocopy.stats" || fail "stats"
# stats: calls, failed, bytes of each function
for want in '^sendfile +2 +0 +8000 ' '^splice +1 +0 +11 ' '^splice_recv +1 +0 +10 '; do
  checks=$((checks + 1))
  grep -Eq "$want" "$WORK/zerocopy.stats" || fail "stats lacks /$want/: $(cat "$WORK/zerocopy.stats")"
done
record mmsg 0 -s max -- "$FIDELITY" mmsg
"$WSTRACE" conns --json "$WORK/mmsg.wst" >"$WORK/mmsg.conns" || fail "conns --json"
"$WSTRACE" stats "$WORK/mmsg.wst" >"$WORK/mmsg.stats" || fail "stats"
expect_exit 0 "$WSTRACE" export "$WORK/mmsg.wst" --format pcapng -o "$WORK/mmsg.pcapng"
if command -v tshark >/dev/null; then
  tshark -r "$WORK/mmsg.pcapng" -T fields -e udp.srcport -e udp.dstport -e data.data \
    >"$WORK/mmsg.packets" 2>"$WORK/tshark.err" || fail "tshark: $(head -c 400 "$WORK/tshark.err")"
fi

trace_checks mmsg <<'PY'
import json, os
from tracecheck import *
context("mmsg")
t = load("mmsg")
o = {k: int(v) for k, v in output_fields("mmsg", "mmsg").items()}
r1, r2, s, s2 = o["r1"], o["r2"], o["s"], o["s2"]
def msg(e, field):
    a = addr(e, field)
    return (e["func"], e["args"].get("len"), a[1] if a else None, payload(e))
# the call's own event holds the first message; each further one is an event of its own
eq([msg(e, "addr") for e in t.all(("sendmmsg", "sendmmsg_msg"), sock=s)],
   [("sendmmsg", 3, o["p1"], b"one"), ("sendmmsg_msg", 10, o["p2"], b"second-msg"),
    ("sendmmsg_msg", 16, o["p1"], b"third-datagram!!")], "sendmmsg's messages")
eq(t.one("sendmmsg")["result"], 3, "sendmmsg's result: messages sent")
eq([msg(e, "peer") for e in t.all(("recvmmsg", "recvmmsg_msg"), sock=r1)],
   [("recvmmsg", 64, o["ps2"], b"from-s2!!"), ("recvmmsg_msg", 3, o["ps"], b"one"),
    ("recvmmsg_msg", 16, o["ps"], b"third-datagram!!")], "recvmmsg's messages on r1")
eq([msg(e, "peer") for e in t.all(("recvmmsg", "recvmmsg_msg"), sock=r2)],
   [("recvmmsg", 64, o["ps"], b"second-msg")], "recvmmsg's message on r2")
with open(work("mmsg.conns")) as f:
    rows = [json.loads(l) for l in f]
flows = {(r["sock"], r["remote"]): (r["bytes_out"], r["calls_out"], r["bytes_in"], r["calls_in"])
         for r in rows if r.get("kind") == "udp"}
eq(flows.get((s, f"127.0.0.1:{o['p1']}")), (19, 2, 0, 0), "s to r1: 2 datagrams, 19 bytes")
eq(flows.get((s, f"127.0.0.2:{o['p2']}")), (10, 1, 0, 0), "s to r2: 1 datagram, 10 bytes")
eq(flows.get((r1, f"127.0.0.1:{o['ps']}")), (0, 0, 19, 2), "r1 from s: 2 datagrams, 19 bytes")
eq(flows.get((r1, f"127.0.0.1:{o['ps2']}")), (0, 0, 9, 1), "r1 from s2")
eq(flows.get((r2, f"127.0.0.1:{o['ps']}")), (0, 0, 10, 1), "r2 from s")
if os.path.exists(work("mmsg.packets")):
    # the receivers' side of the export (the senders' is written with made-up local ports)
    with open(work("mmsg.packets")) as f:
        pk = [tuple(l.split("\t")) for l in f.read().splitlines()]
    got = sorted((int(a), int(b), bytes.fromhex(d)) for a, b, d in pk if int(a) in (o["ps"], o["ps2"]))
    eq(got, sorted([(o["ps2"], o["p1"], b"from-s2!!"), (o["ps"], o["p1"], b"one"),
                    (o["ps"], o["p1"], b"third-datagram!!"), (o["ps"], o["p2"], b"second-msg")]),
       "datagrams of the receivers in the pcapng export")
finish()
PY
for want in '^sendmmsg +1 +0 +29 ' '^recvmmsg +2 +0 +38 '; do
  checks=$((checks + 1))
  grep -Eq "$want" "$WORK/mmsg.stats" || fail "stats lacks /$want/: $(cat "$WORK/mmsg.stats")"
done
expect_not_in "$WORK/mmsg.stats" "mmsg_msg"

record waits 0 -- "$FIDELITY" waits
trace_checks waits <<'PY'
from tracecheck import *
context("waits")
t = load("waits")
o = output_fields("waits", "waits")
r, ep = int(o["r"]), int(o["ep"])
pw = t.one("epoll_pwait")
eq((pw["result"], pw["args"].get("sock"), pw["args"].get("count"), pw["args"].get("timeout")),
   (1, ep, 3, 1_000_000_000), "epoll_pwait")
p2 = t.one("epoll_pwait2")
if o["pwait2"] == "1":
    eq((p2["result"], p2["args"].get("sock"), p2["args"].get("count"), p2["args"].get("timeout")),
       (1, ep, 3, 2_000_000_500), "epoll_pwait2 (its timespec to the nanosecond)")
else:  # a kernel before 5.11
    eq((p2["result"], error_name(p2)), (-1, o["pwait2_errno"]), "epoll_pwait2 refused")
pp = t.one("ppoll")
eq((pp["result"], [(f["sock"], f["events"], f["revents"]) for f in pp["args"].get("fds", [])],
    pp["args"].get("timeout")), (1, [(r, "POLLIN", "POLLIN")], 3_000_000_000), "__ppoll_chk as ppoll")
finish()
PY
done_testing
