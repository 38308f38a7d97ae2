#!/usr/bin/env bash
# TCP health: the agent's TCP statistics (tcp_info events) against the kernel's own report.
# In a private network namespace, nftables drops one in four of the data segments arriving for the
# receiver's port (tests/tools/tcp_loss.py); a traced sender moves 2 MB, waits until every byte
# is acknowledged, and then `ss -ti` is asked about its socket before the sender closes it.
# The trace's final reading must equal ss's retransmission counts, `conns --json` must carry
# them, and `diagnose` must raise `retransmissions` — and the same run without loss none.
# errno is checked around a traced send and close (the reads must not change it).
. "$(dirname "$0")/lib_capture.sh"

if ! command -v nft >/dev/null || ! command -v ss >/dev/null; then echo "SKIP: nft and ss (nftables, iproute2) are needed"; exit 77; fi
if ! unshare -n true 2>/dev/null; then echo "SKIP: cannot make a network namespace (not root?)"; exit 77; fi

cat >"$WORK/sender.py" <<'PY'
# The traced program: sends 2 MB, waits for the receiver's acknowledgement (so that nothing is
# left to retransmit), says its port, waits for a line, then closes through libc with errno set.
import ctypes, socket, sys
libc = ctypes.CDLL(None, use_errno=True)
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"x" * (2 << 20))
assert s.recv(1) == b"k"
print("ready", s.getsockname()[1], flush=True)
sys.stdin.readline()
ctypes.set_errno(77)
assert libc.send(s.fileno(), b"!", 1, 0) == 1
sent_errno = ctypes.get_errno()
fd = s.detach()
ctypes.set_errno(78)
assert libc.close(fd) == 0
print("errno", sent_errno, ctypes.get_errno(), flush=True)
PY


for run in loss clean; do
  checks=$((checks + 1))
  unshare -n python3 "$SRC/tests/tools/tcp_loss.py" "$WSTRACE" "$WORK" "$run" "$run" $((2 << 20)) \
    "$WORK/sender.py" --tcp-info-interval 1 >"$WORK/$run.log" 2>&1 ||
    fail "$run: the run failed: $(tail -c 600 "$WORK/$run.log")"
  "$WSTRACE" conns --json "$WORK/$run.wst" >"$WORK/$run.conns.json" 2>"$WORK/err" || fail "$run: conns"
  "$WSTRACE" diagnose --json "$WORK/$run.wst" >"$WORK/$run.diag.json" 2>"$WORK/err"
  "$WSTRACE" show --json "$WORK/$run.wst" >"$WORK/$run.jsonl" 2>"$WORK/err" || fail "$run: show"
done

trace_checks "TCP statistics against ss, the finding with loss and none without" <<'PY'
import json, os
work = os.environ["WORK"]
for run in ("loss", "clean"):
    ss = json.load(open(f"{work}/{run}.ss.json"))
    assert ss["sender"].split() == ["errno", "77", "78"], ("errno changed by the agent", ss["sender"])
    conns = [json.loads(l) for l in open(f"{work}/{run}.conns.json")]
    tcp = [c for c in conns if c.get("role") == "client" and c["kind"] == "tcp"]
    assert len(tcp) == 1, conns
    t = tcp[0].get("tcp")
    assert t and t["final"] and t["readings"] >= 3, (run, tcp[0])
    assert t["retrans"] == ss["retrans"], (run, t, ss)
    assert t.get("retrans_bytes", 0) == ss["bytes_retrans"], (run, t, ss)
    assert t["bytes_sent"] >= 2 << 20 and t["min_rtt_ns"] > 0, t
    ev = [json.loads(l) for l in open(f"{work}/{run}.jsonl")]
    ats = [e["args"]["tcp_at"] for e in ev if e["event"] == "tcp_info" and e["args"]["sock"] == tcp[0]["sock"]]
    assert ats[0] == 1 and ats[-1] == 4 and 2 in ats, ats  # connected, intervals, before close
    found = [json.loads(l) for l in open(f"{work}/{run}.diag.json") if l.strip()]
    rt = [f for f in found if f["rule"] == "retransmissions"]
    if run == "loss":
        assert ss["retrans"] > 0, ("the drop rule made no loss", ss)
        assert len(rt) == 1 and tcp[0]["id"] in rt[0]["conns"], found
    elif ss["retrans"] == 0:
        assert not rt, rt
    else:  # a machine so busy that an ACK came after the retransmission timeout: said as such
        print(f"note: the run without loss retransmitted {ss['retrans']} times (a busy machine)")
PY
done_testing
