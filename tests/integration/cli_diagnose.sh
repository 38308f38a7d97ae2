#!/usr/bin/env bash
# diagnose through the command line: golden findings of the demo trace on both platforms'
# conventions, JSON Lines, --fail-on and its exit status, bad thresholds.
. "$(dirname "$0")/lib.sh"
G=$SRC/tests/golden

for p in linux windows; do
  expect_exit 0 "$WSTRACE" synth demo --platform $p -o "$WORK/demo-$p.wst"
  expect_exit 0 "$WSTRACE" diagnose "$WORK/demo-$p.wst"
  cp "$WORK/out" "$WORK/diagnose-$p.txt"
  expect_same "$G/demo-$p.diagnose.txt" "$WORK/diagnose-$p.txt"
done
D=$WORK/demo-linux.wst

expect_exit 0 "$WSTRACE" diagnose --json "$D"
cp "$WORK/out" "$WORK/diagnose.jsonl"
checks=$((checks + 1))
python3 - "$WORK" <<'PY' || fail "JSON of diagnose"
import json, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/diagnose.jsonl")]
assert [(r["severity"], r["rule"]) for r in rows] == [
    ("error", "connect-failed"), ("error", "lookup-failed"), ("error", "peer-reset")], rows
assert rows[0]["conns"] == [2, 3, 4] and rows[0]["counts"]["refused"] == "3", rows[0]
assert [c["seq"] for c in rows[0]["calls"]] == [10, 13, 16], rows[0]["calls"]
assert rows[0]["calls"][0]["call"].startswith("connect(sock=4, 127.0.0.1:9) = -1 ECONNREFUSED")
assert rows[0]["calls"][0]["time"].endswith("Z") and rows[0]["meaning"] and rows[0]["next"]
assert rows[2]["counts"]["with data sent since our last receive"] == "1 (512 bytes)", rows[2]
PY

# --fail-on: 4 when a finding of that severity or worse exists.
expect_exit 4 "$WSTRACE" diagnose --fail-on error "$D"
expect_exit 4 "$WSTRACE" diagnose --fail-on warning --json "$D"
expect_exit 2 "$WSTRACE" diagnose --fail-on fatal "$D"
expect_in "$WORK/err" "--fail-on takes error, warning or info"
# Thresholds: a failure threshold above what happened hides it; bad values are usage errors.
expect_exit 0 "$WSTRACE" diagnose --connect-failures 4 "$D"
expect_not_in "$WORK/out" "connect-failed"
expect_exit 2 "$WSTRACE" diagnose --gap 10parsecs "$D"
expect_in "$WORK/err" "--gap takes a duration"
expect_exit 2 "$WSTRACE" diagnose --busy-wait lots "$D"
expect_exit 1 "$WSTRACE" diagnose "$WORK/missing.wst"
# A trace cut short: the findings of what was read, and exit 3.
head -c $(($(wc -c <"$D") - 100)) "$D" >"$WORK/cut.wst"
expect_exit 3 "$WSTRACE" diagnose "$WORK/cut.wst"
done_testing
