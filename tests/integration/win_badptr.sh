#!/usr/bin/env bash
# wstrace.exe record under Wine of Winsock calls with pointers Winsock refuses
# (tests/targets/windows/wbadptr.c): each returns what it returns untraced (WSAEFAULT mostly) and
# no case dies of the agent reading the refused memory; the trace holds each call with its error
# and nothing read from that memory.
# Run as: SCRIPT WINE_RUN WSTRACE_EXE LINUX_WSTRACE WORK TARGETS_DIR
set -uo pipefail
WINE_RUN=$1 WIN_WSTRACE=$2 WSTRACE=$3 WORK=$4 TARGETS=$5
rm -rf "$WORK" && mkdir -p "$WORK"
failures=0 checks=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# lines OUT: the program's case and exit lines, without pids (a crash adds Wine's dump).
lines() { tr -d '\r' <"$1" | grep -a '^case \|^exit ' | sed 's/ pid=[0-9]*//'; }

checks=$((checks + 1))
"$WINE_RUN" "$TARGETS/wbadptr.exe" >"$WORK/untraced.out" 2>"$WORK/untraced.err" ||
  fail "wbadptr untraced exited $?"
checks=$((checks + 1))
"$WINE_RUN" "$WIN_WSTRACE" record -q -o "$WORK/badptr.wst" -- "$TARGETS/wbadptr.exe" \
  >"$WORK/traced.out" 2>"$WORK/traced.err" || fail "wstrace.exe record -- wbadptr exited $?"
lines "$WORK/untraced.out" >"$WORK/untraced.cmp"
lines "$WORK/traced.out" >"$WORK/traced.cmp"
checks=$((checks + 1))
grep -q "^case sendto_addr func=sendto result=-1 error=10014$" "$WORK/untraced.cmp" ||
  fail "untraced run: $(head -c 400 "$WORK/untraced.cmp")"
checks=$((checks + 1))
diff -u "$WORK/untraced.cmp" "$WORK/traced.cmp" >&2 || fail "traced run differs from untraced"

checks=$((checks + 1))
"$WSTRACE" show --json "$WORK/badptr.wst" >"$WORK/badptr.jsonl" || fail "badptr.wst does not read"
python3 - "$WORK/badptr.jsonl" "$WORK/traced.out" <<'PY' || fail "the trace does not hold the calls"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
bad = []
cases = 0
for line in open(sys.argv[2], errors="replace").read().replace("\r", "").splitlines():
    w = line.split()
    if not w or w[0] != "case":
        continue
    f = dict(x.split("=", 1) for x in w[2:])
    cases += 1
    # (the case's call is the child's last call of that function: its setup made others)
    got = [e for e in ev if e["func"] == f["func"] and e["pid"] == int(f["pid"])]
    if not got:
        bad.append(f"{w[1]}: no {f['func']} event in pid {f['pid']}")
        continue
    e = got[-1]
    have = (e["result"], (e.get("error") or {}).get("code", 0))
    if have != (int(f["result"]), int(f["error"])):
        bad.append(f"{w[1]}: result and error {have}, the program saw {f['result']}, {f['error']}")
    fields = ["addr", "peer", "optval", "arg", "payload"]
    if w[1] == "WSASendTo_bufs":  # its address was readable: read (safely) although it failed
        if (e["args"].get("addr") or {}).get("ip") != "127.0.0.1":
            bad.append(f"{w[1]}: the readable address not recorded: {e['args']!r}")
        fields.remove("addr")
    for field in fields:
        if e["args"].get(field):
            bad.append(f"{w[1]}: {field} recorded from refused memory: {e['args'][field]!r}")
if cases < 12:
    bad.append(f"only {cases} cases returned")
for b in bad:
    print("FAIL:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PY

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
