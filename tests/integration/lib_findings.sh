# What the findings tests share (capture_findings.sh on Linux, win_findings.sh under Wine): a
# private network namespace with a DNS server of the test's own on 127.0.0.1:53 (also used by
# capture_dns.sh, win_dns.sh and export_pcapng.sh), and the check that `wstrace diagnose` raised
# exactly the expected rules with evidence from the trace.
# Source after lib.sh.

# enter_private_netns "$@": runs the calling script again in private mount and network
# namespaces (as root, or in a user namespace); exits 77 (skipped) when none can be made.
enter_private_netns() {
  [ -n "${WSTRACE_TEST_NETNS:-}" ] && return 0
  local how
  for how in "unshare --mount --net" "unshare --user --map-root-user --mount --net"; do
    if $how true 2>/dev/null; then
      WSTRACE_TEST_NETNS=1 exec $how "$0" "$@"
    fi
  done
  echo "SKIP: cannot make private mount and network namespaces (unshare needs root or user namespaces)"
  exit 77
}

# private_dns DNS_SERVER_ARGS…: loopback up, /etc/resolv.conf pointing at tests/tools/dns_server.py
# on 127.0.0.1:53 (started with these arguments; it ends with the test), /etc/hosts with localhost
# only. No route leaves the namespace. Exits 1 when any step fails.
private_dns() {
  ip link set lo up || { echo "cannot bring up lo in the private network namespace" >&2; exit 1; }
  printf 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n' >"$WORK/resolv.conf"
  printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n' >"$WORK/hosts"
  if ! mount --bind "$WORK/resolv.conf" /etc/resolv.conf || ! mount --bind "$WORK/hosts" /etc/hosts; then
    echo "cannot bind-mount resolv.conf and hosts in the private mount namespace" >&2
    exit 1
  fi
  # The server reads fd 9's pipe: it ends when this script does.
  exec 9> >(exec python3 "$SRC/tests/tools/dns_server.py" --port 53 "$@" >"$WORK/dns.out" 2>"$WORK/dns.err")
  for _ in $(seq 100); do
    grep -q '^ready' "$WORK/dns.out" 2>/dev/null && break
    sleep 0.05
  done
  checks=$((checks + 1))
  grep -q '^ready' "$WORK/dns.out" || fail "the DNS server did not start: $(cat "$WORK/dns.err")"
}

# expect_findings NAME "RULE…": `wstrace diagnose "${THRESHOLDS[@]}"` of $WORK/NAME.wst raises
# exactly these rules, each with a title, a meaning and what to check, and every evidence call
# is the call of the trace at that seq. Keeps the text in NAME.diag, the JSON in NAME.diag.jsonl
# and the events in NAME.jsonl.
expect_findings() {
  local name=$1 want=$2
  expect_exit 0 "$WSTRACE" diagnose "${THRESHOLDS[@]}" "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.diag"
  expect_exit 0 "$WSTRACE" diagnose --json "${THRESHOLDS[@]}" "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.diag.jsonl"
  expect_exit 0 "$WSTRACE" show --json "$WORK/$name.wst"
  cp "$WORK/out" "$WORK/$name.jsonl"
  checks=$((checks + 1))
  python3 - "$WORK" "$name" "$want" <<'PY' || fail "findings of '$name'"
import json, sys
work, name, want = sys.argv[1], sys.argv[2], sorted(sys.argv[3].split())
found = [json.loads(l) for l in open(f"{work}/{name}.diag.jsonl")]
got = sorted({f["rule"] for f in found})
assert got == want, f"rules {got}, expected {want}: {[f['title'] for f in found]}"
events = {e["seq"]: e for e in map(json.loads, open(f"{work}/{name}.jsonl"))}
for f in found:
    assert f["title"] and f["meaning"] and f["next"], f
    for c in f["calls"]:
        if c["seq"] == 0:
            continue  # an exchange or a wait, not one call
        e = events.get(c["seq"])
        assert e is not None, ("evidence names no event of the trace", c)
        assert c["call"].startswith(e["func"] + "("), ("evidence is another call", c, e)
        assert (c["pid"], c["tid"], c["ts_ns"]) == (e["pid"], e["tid"], e["ts_ns"]), (c, e)
PY
}
