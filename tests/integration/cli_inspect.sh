#!/usr/bin/env bash
# Inspection through the command line: golden tables of conns, dns and http for the demo trace
# on both platforms' conventions; the filter fields that need the tracker (proc, conn, host);
# JSON Lines of every table; replay's pacing and its bad input.
. "$(dirname "$0")/lib.sh"
G=$SRC/tests/golden

for p in linux windows; do
  expect_exit 0 "$WSTRACE" synth demo --platform $p -o "$WORK/demo-$p.wst"
  for cmd in conns dns http; do
    expect_exit 0 "$WSTRACE" $cmd "$WORK/demo-$p.wst"
    cp "$WORK/out" "$WORK/$cmd-$p.txt"
    expect_same "$G/demo-$p.$cmd.txt" "$WORK/$cmd-$p.txt"
  done
done
D=$WORK/demo-linux.wst

# Filter fields that the tracker answers.
expect_exit 0 "$WSTRACE" show --filter 'conn == 6' "$D"
expect_lines "$WORK/out" 5
expect_in "$WORK/out" "#6 recv(sock=6, len=4096) = -1 ECONNRESET"
expect_exit 0 "$WSTRACE" show --filter 'proc == demo-client and host == "api.example.test" and rport == 8081 and failed' "$D"
expect_lines "$WORK/out" 1
expect_exit 0 "$WSTRACE" show --filter 'proc == curl' "$D"
expect_lines "$WORK/out" 0
expect_exit 0 "$WSTRACE" show --filter 'proto == udp and rport == 53' "$D"
expect_lines "$WORK/out" 3  # sendto, recvfrom and the close: the connection knows its peer
expect_in "$WORK/out" "#5 close(sock=5)"
expect_exit 0 "$WSTRACE" conns --filter 'failed' "$D"
expect_lines "$WORK/out" 5  # the header and connections 2, 3, 4, 6
expect_exit 0 "$WSTRACE" conns --filter 'rport == 8080' "$D"
expect_in "$WORK/out" "closed by peer"
expect_lines "$WORK/out" 2
expect_exit 2 "$WSTRACE" conns --filter 'conn = = 1' "$D"
expect_in "$WORK/err" "^"
expect_exit 1 "$WSTRACE" conns "$WORK/missing.wst"

# JSON Lines of every table, with what the demo did.
for cmd in conns dns http; do
  expect_exit 0 "$WSTRACE" $cmd --json "$D"
  cp "$WORK/out" "$WORK/$cmd.jsonl"
done
expect_exit 0 "$WSTRACE" show --json "$D"
cp "$WORK/out" "$WORK/show.jsonl"
expect_exit 0 "$WSTRACE" info --json "$D"
cp "$WORK/out" "$WORK/info.json"
checks=$((checks + 1))
python3 - "$WORK" <<'PY' || fail "JSON of the inspection tables"
import json, sys
w = sys.argv[1]
rows = lambda n: [json.loads(l) for l in open(f"{w}/{n}.jsonl")]
conns = rows("conns")
assert [c["id"] for c in conns] == [1, 2, 3, 4, 5, 6], conns
assert [c["end"] for c in conns] == ["closed by peer", "error", "error", "error", "closed by us", "reset"], conns
assert conns[0]["bytes_out"] == 75 and conns[0]["bytes_in"] == 67 and conns[0]["calls_in"] == 2
assert conns[4]["kind"] == "udp" and conns[4]["remote"] == "127.0.0.1:53"
assert conns[5]["end_error"] == "ECONNRESET" and conns[5]["error_names"] == ["ECONNRESET"]
dns = rows("dns")
assert [(l["via"], l["name"], l["ok"]) for l in dns] == [
    ("getaddrinfo", "api.example.test", True), ("getaddrinfo", "missing.example.test", False),
    ("udp", "api.example.test", True)], dns
assert dns[1]["result"] == "EAI_NONAME" and dns[2]["conn"] == 5 and dns[2]["answers"] == ["127.0.0.1"]
assert dns[2]["dur_ns"] == 865000, dns[2]
http = rows("http")
assert len(http) == 1 and http[0]["type"] == "http", http
x = http[0]
assert (x["request"]["method"], x["request"]["target"], x["host"]) == ("GET", "/status", "api.example.test:8080")
assert x["request"]["end"].startswith("cut"), x["request"]["end"]
assert (x["response"]["status"], x["response"]["body_bytes"]) == (200, 3)
assert x["ttfb_ns"] == 2040000, x
info = json.load(open(f"{w}/info.json"))
assert (info["events"], info["failed"], info["complete"]) == (30, 5, True), info
assert info["processes"][0]["image"] == "/usr/bin/demo-client" and info["calls_by_function"]["connect"] == 5
show = rows("show")
assert {r.get("conn") for r in show if r["func"] in ("send", "recv")} == {1, 6}
assert all(r.get("process") == "demo-client" for r in show)
PY

# replay: --speed 0 gives show's lines; a speed paces the lines (the demo spans 0.741 s, so at
# --speed 4 the last line cannot come before 0.185 s); a bad speed is refused.
expect_exit 0 "$WSTRACE" show "$D"
cp "$WORK/out" "$WORK/show.txt"
expect_exit 0 "$WSTRACE" replay --speed 0 --utc "$D"
expect_same "$WORK/show.txt" "$WORK/out"
checks=$((checks + 1))
start=$(date +%s%N)
"$WSTRACE" replay --speed 4 --filter 'conn == 6' "$D" >"$WORK/paced" || fail "replay --speed 4"
elapsed=$(( ($(date +%s%N) - start) / 1000000 ))
[ "$elapsed" -ge 185 ] || fail "replay --speed 4 took ${elapsed} ms, less than the trace's span / 4"
expect_lines "$WORK/paced" 5
expect_exit 2 "$WSTRACE" replay --speed -1 "$D"
expect_in "$WORK/err" "--speed takes a factor >= 0"
expect_exit 1 "$WSTRACE" replay "$WORK/missing.wst"

done_testing
