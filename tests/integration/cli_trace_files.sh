#!/usr/bin/env bash
# The trace file through the command line: golden views of the demo trace on both platforms'
# conventions, damaged and foreign files, exit codes, file mode.
. "$(dirname "$0")/lib.sh"
G=$SRC/tests/golden

for p in linux windows; do
  expect_exit 0 "$WSTRACE" synth demo --platform $p -o "$WORK/demo-$p.wst"
  expect_exit 0 "$WSTRACE" show "$WORK/demo-$p.wst"
  cp "$WORK/out" "$WORK/show-$p.txt"
  expect_same "$G/demo-$p.show.txt" "$WORK/show-$p.txt"
  expect_exit 0 "$WSTRACE" info "$WORK/demo-$p.wst"
  sed "s|$WORK/||" "$WORK/out" >"$WORK/info-$p.txt"
  expect_same "$G/demo-$p.info.txt" "$WORK/info-$p.txt"
  expect_exit 0 "$WSTRACE" stats "$WORK/demo-$p.wst"
  cp "$WORK/out" "$WORK/stats-$p.txt"
  expect_same "$G/demo-$p.stats.txt" "$WORK/stats-$p.txt"
done

# stats: JSON, and a filter that keeps only the failures.
expect_exit 0 "$WSTRACE" stats --json --filter failed "$WORK/demo-windows.wst"
checks=$((checks + 1))
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
f = j["functions"]
assert set(f) == {"connect", "GetAddrInfoW", "recv"}, f
assert f["connect"]["errors"] == {"WSAECONNREFUSED": 3} and f["connect"]["calls"] == 3
assert f["connect"]["latency_ns"]["max"] == 90000
assert j["processes"]["4242"]["failed"] == 5
' "$WORK/out" || fail "stats --json --filter failed"

# Owner-only file mode.
checks=$((checks + 1))
[ "$(stat -c %a "$WORK/demo-linux.wst")" = 600 ] || fail "trace mode is $(stat -c %a "$WORK/demo-linux.wst"), expected 600"

# JSON Lines: one valid object per event, and the same count as the text view.
expect_exit 0 "$WSTRACE" show --json "$WORK/demo-linux.wst"
cp "$WORK/out" "$WORK/demo.jsonl"
expect_lines "$WORK/demo.jsonl" "$(wc -l <"$WORK/show-linux.txt")"
checks=$((checks + 1))
python3 - "$WORK/demo.jsonl" <<'PY' || fail "JSON Lines do not hold what the demo recorded"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
refused = [r for r in rows if r["func"] == "connect" and r.get("error", {}).get("name") == "ECONNREFUSED"]
assert len(refused) == 3, refused
assert refused[0]["args"]["addr"]["ip"] == "127.0.0.1" and refused[0]["args"]["addr"]["port"] == 9
send = next(r for r in rows if r["func"] == "send")
assert bytes.fromhex(send["args"]["payload"]["hex"]).startswith(b"GET /status HTTP/1.1\r\n")
assert send["args"]["payload"]["len"] == len(b"GET /status HTTP/1.1\r\nHost: api.example.test:8080\r\nUser-Agent: demo/1.0\r\n\r\n")
assert rows[0]["time"] == "2026-11-27T12:00:00.000000000Z", rows[0]["time"]
PY

# CSV: a header row from the event table, one row per event, parseable.
expect_exit 0 "$WSTRACE" show --csv "$WORK/demo-windows.wst"
cp "$WORK/out" "$WORK/demo.csv"
checks=$((checks + 1))
python3 - "$WORK/demo.csv" <<'PY' || fail "CSV does not hold what the demo recorded"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1], newline="")))
assert rows[0]["func"] == "process_start" and rows[0]["image"] == "C:\\\\demo\\\\client.exe", rows[0]
refused = [r for r in rows if r["error"] == "WSAECONNREFUSED"]
assert len(refused) == 3 and refused[0]["addr"] == "127.0.0.1:9", refused
assert any(r["error"] == "WSAHOST_NOT_FOUND" and r["host"] == "missing.example.test" for r in rows)
PY

# Filters: only the calls that match; a bad filter shows where it went wrong.
expect_exit 0 "$WSTRACE" show --filter 'err == ECONNREFUSED and rport == 9' "$WORK/demo-windows.wst"
expect_lines "$WORK/out" 3
expect_in "$WORK/out" "WSAECONNREFUSED"
expect_exit 0 "$WSTRACE" show --filter 'func == getaddrinfo or func == GetAddrInfoW' "$WORK/demo-linux.wst"
expect_lines "$WORK/out" 2
expect_exit 2 "$WSTRACE" show --filter 'rport == 9 andd failed' "$WORK/demo-linux.wst"
expect_in "$WORK/err" "           ^ expected 'and', 'or' or the end of the filter, found 'andd'"

# A trace cut short: everything before the cut is shown, the cut is named, exit 3.
# (A trace of many blocks, as a recording is.)
expect_exit 0 "$WSTRACE" synth bench:20000 -o "$WORK/long.wst"
size=$(stat -c %s "$WORK/long.wst")
head -c $((size - 100)) "$WORK/long.wst" >"$WORK/cut.wst"
expect_exit 3 "$WSTRACE" show "$WORK/cut.wst"
expect_in "$WORK/err" "cut short"
expect_in "$WORK/err" "byte offset"
checks=$((checks + 1))
shown=$(wc -l <"$WORK/out")
[ "$shown" -ge 15000 ] && [ "$shown" -lt 20000 ] || fail "a cut trace should show the events before the cut (showed $shown of 20000)"

# A damaged byte in the middle: reported with its offset, exit 3.
cp "$WORK/long.wst" "$WORK/bad.wst"
printf '\xff\xff\xff\xff' | dd of="$WORK/bad.wst" bs=1 seek=$((size / 2)) conv=notrunc status=none
expect_exit 3 "$WSTRACE" show "$WORK/bad.wst"
expect_in "$WORK/err" "damaged"

# Foreign and empty files, a missing file, a directory: one clear message, exit 1.
: >"$WORK/empty.wst"
expect_exit 1 "$WSTRACE" show "$WORK/empty.wst"
expect_in "$WORK/err" "is empty"
expect_lines "$WORK/err" 1
head -c 4096 /bin/sh >"$WORK/garbage.wst"
expect_exit 1 "$WSTRACE" info "$WORK/garbage.wst"
expect_in "$WORK/err" "not a wstrace trace"
expect_exit 1 "$WSTRACE" show "$WORK/nope.wst"
expect_in "$WORK/err" "No such file"
expect_exit 1 "$WSTRACE" show "$WORK"
expect_in "$WORK/err" "directory"

# Writing: unwritable place and a full disk.
expect_exit 1 "$WSTRACE" synth demo -o "$WORK/no/such/dir/t.wst"
expect_in "$WORK/err" "cannot create"
expect_exit 1 "$WSTRACE" synth demo -o /dev/full
expect_in "$WORK/err" "disk full"

# Usage errors exit 2.
expect_exit 2 "$WSTRACE" show
expect_exit 2 "$WSTRACE" frobnicate
expect_exit 2 "$WSTRACE" synth nonsense -o "$WORK/x.wst"
expect_in "$WORK/err" "unknown scenario"

done_testing
