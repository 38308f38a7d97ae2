#!/usr/bin/env bash
# TCP health under the kernel engine (`record --engine ebpf`): what TCP did, as events of their
# own, against the kernel's own report. In a private network namespace nftables drops one in
# four of the data segments arriving for the receiver's port; a traced sender moves 4 MB, waits
# until every byte is acknowledged, and `ss -ti` is asked about its socket before it closes it.
# - the tcp_retransmit events of the socket, counted in segments, equal ss's retransmission
#   total (ss reads it after the last byte was acknowledged: a retransmission after that, of the
#   last small writes, would show in the final reading too and is said as such), and equal the
#   final tcp_info reading's count (both read from the kernel's socket);
# - the readings: one when the connection was set up, one before close; state changes from
#   SYN_SENT to ESTABLISHED and on to the close;
# - `conns --json` carries them, `diagnose` raises `retransmissions` with the retransmissions'
#   times and a call that waited over them — and the run without loss raises nothing;
# - the pcapng export of the lossy run has segments tshark's analysis calls retransmissions.
# Exit 77 (skipped, with the reason) where BPF cannot be loaded.
. "$(dirname "$0")/lib_capture.sh"

skip() {
  echo "SKIP: $*"
  exit 77
}
command -v nft >/dev/null && command -v ss >/dev/null || skip "nft and ss (nftables, iproute2) are needed"
command -v tshark >/dev/null || skip "tshark is needed"
unshare -n true 2>/dev/null || skip "cannot make a network namespace (not root?)"
if ! "$WSTRACE" record -q --engine ebpf -o "$WORK/probe.wst" -- true >"$WORK/probe.out" 2>&1; then
  skip "the kernel engine cannot run here: $(head -c 400 "$WORK/probe.out")"
fi

cat >"$WORK/sender.py" <<'PY'
# The traced program: sends 4 MB, waits for the receiver's acknowledgement (nothing is left to
# retransmit then), says its port, waits for a line, then closes.
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes(range(256)) * (4 << 12))
assert s.recv(1) == b"k"
print("ready", s.getsockname()[1], flush=True)
sys.stdin.readline()
s.close()
PY


for run in loss clean; do
  checks=$((checks + 1))
  unshare -n python3 "$SRC/tests/tools/tcp_loss.py" "$WSTRACE" "$WORK" "$run" "$run" $((4 << 20)) \
    "$WORK/sender.py" --engine ebpf >"$WORK/$run.log" 2>&1 ||
    fail "$run: the run failed: $(tail -c 600 "$WORK/$run.log")"
  "$WSTRACE" conns --json "$WORK/$run.wst" >"$WORK/$run.conns.json" 2>"$WORK/err" || fail "$run: conns"
  "$WSTRACE" diagnose --json "$WORK/$run.wst" >"$WORK/$run.diag.json" 2>"$WORK/err"
  "$WSTRACE" show --json "$WORK/$run.wst" >"$WORK/$run.jsonl" 2>"$WORK/err" || fail "$run: show"
done
checks=$((checks + 1))
"$WSTRACE" export "$WORK/loss.wst" --format pcapng -o "$WORK/loss.pcapng" 2>"$WORK/err" ||
  fail "export: $(cat "$WORK/err")"
tshark -n -r "$WORK/loss.pcapng" -Y tcp.analysis.retransmission -T fields -e tcp.seq_raw \
  >"$WORK/flagged" 2>"$WORK/tshark.err" || fail "tshark: $(head -c 400 "$WORK/tshark.err")"

trace_checks "retransmission events against ss, the readings, the finding, the pcapng" <<'PY'
import json, os
work = os.environ["WORK"]
for run in ("loss", "clean"):
    ss = json.load(open(f"{work}/{run}.ss.json"))
    conns = [json.loads(l) for l in open(f"{work}/{run}.conns.json")]
    tcp = [c for c in conns if c.get("role") == "client" and c["kind"] == "tcp" and
           c.get("remote", "").endswith(f":{ss['port']}")]
    assert len(tcp) == 1, conns
    conn = tcp[0]
    ev = [json.loads(l) for l in open(f"{work}/{run}.jsonl")]
    mine = [e for e in ev if e["pid"] == conn["pid"] and e["args"].get("sock") == conn["sock"]]
    resent = [e for e in mine if e["event"] == "tcp_retransmit"]
    segments = sum(e["args"].get("count", 1) for e in resent)
    readings = [e for e in mine if e["event"] == "tcp_info"]
    ats = [e["args"]["tcp_at"] for e in readings]
    assert ats[:1] == [1] and ats[-1:] == [4], ats  # set up, before close
    final = readings[-1]["args"].get("retrans", 0)
    assert segments == final, (run, "events", segments, "final reading", final)
    if segments != ss["retrans"]:
        # Sent again after ss read the socket (the last small writes, on a busy machine).
        assert segments > ss["retrans"], (run, segments, ss)
        print(f"note: {run}: {segments - ss['retrans']} retransmissions after ss read the socket")
    states = [(e["args"]["old_state"], e["args"]["tcp_state"]) for e in mine
              if e["event"] == "tcp_state_change"]
    assert ("SYN_SENT", "ESTABLISHED") in states and states[0] == ("CLOSED", "SYN_SENT"), states
    t = conn.get("tcp")
    assert t and t["final"] and t.get("retransmits_seen", 0) == len(resent), (run, t)
    assert t.get("retrans", 0) == final and t["bytes_sent"] >= 4 << 20 and t["min_rtt_ns"] > 0, t
    for e in resent:  # each a range of what was sent
        a = e["args"]
        assert a["stream_offset"] + a["len"] <= 4 << 20, a
    found = [json.loads(l) for l in open(f"{work}/{run}.diag.json") if l.strip()]
    rt = [f for f in found if f["rule"] == "retransmissions"]
    if run == "loss":
        assert ss["retrans"] > 0 and resent, ("the drop rule made no loss", ss)
        assert len(rt) == 1 and conn["id"] in rt[0]["conns"], found
        counts = dict(rt[0]["counts"]) if isinstance(rt[0]["counts"], list) else rt[0]["counts"]
        assert "first retransmissions" in counts, rt[0]
        evidence = [c["call"] for c in rt[0]["calls"]]
        assert any(x.startswith("tcp_retransmit") for x in evidence), evidence
        assert any(x.startswith(("send", "recv", "write", "read")) for x in evidence), evidence  # waited over them
        flagged = [l for l in open(f"{work}/flagged") if l.strip()]
        # Each data segment sent again is one in the pcapng; tshark's analysis calls it a
        # retransmission (or, within the path's round trip of the original, out of order).
        assert len(flagged) >= len([e for e in resent if e["args"]["len"]]) // 2 > 0, (len(flagged), len(resent))
        print(f"loss: {len(resent)} retransmission events ({segments} segments, ss {ss['retrans']}),"
              f" {len(flagged)} flagged by tshark")
    elif segments == 0:
        assert not rt, rt
    else:
        print(f"note: the run without loss retransmitted {segments} times (a busy machine)")
PY
done_testing
