#!/usr/bin/env bash
# Findings of real programs: tests/targets/linux/faults.c provokes each fault on loopback under
# `wstrace record`; `wstrace diagnose` must raise exactly the rules that fault stands for, with
# evidence that points at the right calls of the trace; `faults clean` does the same work right
# and must raise nothing. Runs in private mount and network namespaces (as capture_dns.sh): name
# lookups go to tests/tools/dns_server.py on 127.0.0.1:53, and no route leaves the host (so a
# connect to 10.255.255.1 is unreachable at once). Exit status 77 when no namespace can be made.
# Run as: capture_findings.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
if [ -z "${WSTRACE_TEST_NETNS:-}" ]; then
  for how in "unshare --mount --net" "unshare --user --map-root-user --mount --net"; do
    if $how true 2>/dev/null; then
      WSTRACE_TEST_NETNS=1 exec $how "$0" "$@"
    fi
  done
  echo "SKIP: cannot make private mount and network namespaces (unshare needs root or user namespaces)"
  exit 77
fi

. "$(dirname "$0")/lib_capture.sh"
FAULTS=$TARGETS/faults

ip link set lo up || { echo "cannot bring up lo in the private network namespace" >&2; exit 1; }
printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$WORK/resolv.conf"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$WORK/hosts"
if ! mount --bind "$WORK/resolv.conf" /etc/resolv.conf || ! mount --bind "$WORK/hosts" /etc/hosts; then
  echo "cannot bind-mount resolv.conf and hosts in the private mount namespace" >&2
  exit 1
fi
exec 9> >(exec python3 "$SRC/tests/tools/dns_server.py" --port 53 --slow slow.test=0.15 \
  api.test=127.0.0.1 slow.test=127.0.0.1 >"$WORK/dns.out" 2>"$WORK/dns.err")
for _ in $(seq 100); do
  grep -q '^ready' "$WORK/dns.out" 2>/dev/null && break
  sleep 0.05
done
checks=$((checks + 1))
grep -q '^ready' "$WORK/dns.out" || fail "the DNS server did not start: $(cat "$WORK/dns.err")"

# Thresholds tight enough for faults of ~100 ms; the clean run is held to the same ones.
THRESHOLDS=(--gap 80ms --slow-lookup 100ms --slow-min 50ms)

# fault NAME "RULE…" [ARGS…]: records `faults NAME ARGS…` and expects exactly these rules.
fault() {
  local name=$1 want=$2
  shift 2
  record "$name" 0 -- "$FAULTS" "$name" "$@"
  expect_exit 0 "$WSTRACE" diagnose "${THRESHOLDS[@]}" "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.diag"
  expect_exit 0 "$WSTRACE" diagnose --json "${THRESHOLDS[@]}" "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.diag.jsonl"
  expect_exit 0 "$WSTRACE" show --json "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.jsonl"
  checks=$((checks + 1))
  python3 - "$WORK" "$name" "$want" <<'PY' || fail "findings of 'faults $name'"
import json, sys
work, name, want = sys.argv[1], sys.argv[2], sorted(sys.argv[3].split())
found = [json.loads(l) for l in open(f"{work}/{name}.diag.jsonl")]
got = sorted({f["rule"] for f in found})
assert got == want, f"rules {got}, expected {want}: {[f['title'] for f in found]}"
events = {e["seq"]: e for e in map(json.loads, open(f"{work}/{name}.jsonl"))}
for f in found:
    assert f["title"] and f["meaning"] and f["next"], f
    for c in f["calls"]:
        if c["seq"] == 0 and c["call"].startswith(("GET", "POST")):
            continue  # an HTTP exchange, not one call
        e = events.get(c["seq"])
        assert e is not None, ("evidence names no event of the trace", c)
        assert c["call"].startswith(e["func"] + "("), ("evidence is another call", c, e)
        assert (c["pid"], c["tid"], c["ts_ns"]) == (e["pid"], e["tid"], e["ts_ns"]), (c, e)
PY
}

fault refused "connect-failed"
expect_in "$WORK/refused.diag" "3 connects to 127.0.0.1:"
expect_in "$WORK/refused.diag" "refused: nothing listening there"
fault unreachable "connect-failed"
expect_in "$WORK/unreachable.diag" "10.255.255.1:80 failed: host or network unreachable"
fault reset "peer-reset"
expect_in "$WORK/reset.diag" "with data sent since our last receive 1 (20 bytes)"
fault send-after-close "send-after-peer-close"
expect_in "$WORK/send-after-close.diag" "after a receive returned 0 1"
fault eof-loop "eof-not-handled"
expect_in "$WORK/eof-loop.diag" "kept receiving after the peer closed (3 receives after end-of-stream)"
fault close-wait "eof-not-handled not-closed"
expect_in "$WORK/close-wait.diag" "never closed after the peer closed (CLOSE_WAIT)"
fault ipv6-first "connect-failed ipv6-fallback"
expect_in "$WORK/ipv6-first.diag" "(loopback): IPv6 [::1]:"
fault gap "long-gap"
expect_in "$WORK/gap.diag" "between two calls on connection"
fault nagle "small-writes"
expect_in "$WORK/nagle.diag" "after small sends (Nagle + delayed ACK)"
fault slow-response "slow-call long-gap"  # the server's 150 ms before answering is a gap too
expect_in "$WORK/slow-response.diag" "1 response took up to 15"
fault busy "busy-wait"
fault nb-refused "connect-failed nonblocking-connect"
expect_in "$WORK/nb-refused.diag" "the error showed only in SO_ERROR"
fault nb-unchecked "connect-failed nonblocking-connect"
expect_in "$WORK/nb-unchecked.diag" "never read SO_ERROR"
fault not-closed "not-closed"
expect_in "$WORK/not-closed.diag" "ended with 2 sockets still open"
fault lookup "lookup-failed" nx.test
expect_in "$WORK/lookup.diag" "name \"nx.test\" (AF_UNSPEC) does not resolve: EAI_NONAME"
cp "$WORK/lookup.diag" "$WORK/lookup-nx.diag"
fault lookup "slow-lookup" slow.test
expect_in "$WORK/lookup.diag" "lookup of \"slow.test\" (AF_UNSPEC) took 1"

# The same work done right raises nothing, with the same thresholds.
record clean 0 -- "$FAULTS" clean api.test
expect_exit 0 "$WSTRACE" diagnose --fail-on info "${THRESHOLDS[@]}" "$WORK/clean.wst"
expect_in "$WORK/out" "no findings"

# --fail-on: exit 4 at that severity or worse, 0 below it.
expect_exit 4 "$WSTRACE" diagnose --fail-on error "$WORK/refused.wst"
expect_exit 0 "$WSTRACE" diagnose --fail-on error "$WORK/gap.wst"
expect_exit 4 "$WSTRACE" diagnose --fail-on info "${THRESHOLDS[@]}" "$WORK/gap.wst"

# record prints the findings of its run at the end, unless -q.
expect_exit 0 "$WSTRACE" record -o "$WORK/loud.wst" -- "$FAULTS" refused
expect_in "$WORK/err" "wstrace: findings (wstrace diagnose $WORK/loud.wst)"
expect_in "$WORK/err" "error   connect-failed: 3 connects to 127.0.0.1:"
expect_not_in "$WORK/refused.err" "connect-failed"

exec 9>&-
done_testing
