#!/usr/bin/env bash
# Calls whose bytes or waits simple hooks would miss (tests/targets/linux/fidelity.c): zero-copy
# sends (sendfile with and without an offset, splice both ways, copy_file_range to a socket) are
# sends and receives with their bytes in `conns` and `stats` and a sendfile's payload read back
# from its file; a sendfile between two files records nothing.
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
done_testing
