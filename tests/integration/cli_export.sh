#!/usr/bin/env bash
# wstrace export (all formats but pcapng, which has tests of its own): csv, jsonl and text are
# the bytes of show; the sqlite database answers with the counts of stats, conns, dns, http and
# diagnose (queried with the sqlite3 client); the chrome trace is well-formed Trace Event JSON;
# bad input gets one message and leaves no file; a damaged trace exports what could be read;
# the progress bar. On the synthetic demo trace, and on a real program recorded on loopback
# when the agent is built.
. "$(dirname "$0")/lib.sh"

for tool in sqlite3 python3; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

# same_as_show TRACE [show/export options…]: csv, jsonl and text exports equal show's output,
# to a file and to standard output.
same_as_show() {
  local t=$1
  shift
  local f show
  for f in csv jsonl text; do
    case $f in csv) show=(--csv) ;; jsonl) show=(--json) ;; text) show=() ;; esac
    expect_exit 0 "$WSTRACE" show "${show[@]}" "$@" "$t"
    cp "$WORK/out" "$WORK/show.$f"
    expect_exit 0 "$WSTRACE" export "$t" --format $f -o "$WORK/export.$f" "$@"
    expect_same "$WORK/show.$f" "$WORK/export.$f"
    expect_exit 0 "$WSTRACE" export "$t" --format $f -o - "$@"
    expect_same "$WORK/show.$f" "$WORK/out"
  done
}

# q DB SQL: one value from the database.
q() { sqlite3 -batch -noheader "$1" "$2"; }

# expect_eq WHAT GOT WANT
expect_eq() {
  checks=$((checks + 1))
  [ "$1" != "" ] && [ "$2" = "$3" ] || fail "$1: got '$2', expected '$3'"
}

# sqlite_matches TRACE DB: the database's tables hold as many rows as the commands print.
sqlite_matches() {
  local t=$1 db=$2
  "$WSTRACE" show --json "$t" >"$WORK/all.jsonl"
  expect_eq "$db calls" "$(q "$db" 'select count(*) from calls')" "$(wc -l <"$WORK/all.jsonl")"
  expect_eq "$db failed calls" "$(q "$db" 'select count(*) from calls where error is not null')" \
    "$(grep -c '"error":{' "$WORK/all.jsonl")"
  expect_eq "$db connections" "$(q "$db" 'select count(*) from connections')" \
    "$("$WSTRACE" conns --json "$t" | wc -l)"
  expect_eq "$db lookups" "$(q "$db" 'select count(*) from lookups')" \
    "$("$WSTRACE" dns --json "$t" | wc -l)"
  "$WSTRACE" http --json "$t" >"$WORK/http.jsonl"
  expect_eq "$db http" "$(q "$db" 'select count(*) from http')" \
    "$(grep -c '"type":"http"' "$WORK/http.jsonl")"
  expect_eq "$db tls" "$(q "$db" 'select count(*) from tls')" \
    "$(grep -c '"type":"tls"' "$WORK/http.jsonl")"
  "$WSTRACE" diagnose --json "$t" >"$WORK/diagnose.jsonl"
  expect_eq "$db findings" "$(q "$db" "select group_concat(rule, ' ') from (select rule from findings order by id)")" \
    "$(python3 -c 'import json,sys; print(" ".join(json.loads(l)["rule"] for l in open(sys.argv[1])))' "$WORK/diagnose.jsonl")"
  "$WSTRACE" stats --json "$t" >"$WORK/stats.json"
  expect_eq "$db processes" "$(q "$db" 'select count(*) from processes')" \
    "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["processes"]))' "$WORK/stats.json")"
  # Facts, not calls the program made (is_fact in src/core/event.h).
  local facts="('process_start', 'process_exit', 'thread_name', 'drops', 'tracing_lost', 'unseen', 'inherited', 'fork', 'tcp_info')"
  expect_eq "$db calls by function" \
    "$(q "$db" "select func || ' ' || count(*) || ' ' || count(error) from calls where event not in $facts group by func order by func")" \
    "$(python3 -c 'import json,sys; f=json.load(open(sys.argv[1]))["functions"]; print("\n".join("%s %d %d" % (k, v["calls"], v["failed"] + sum(v["outcomes"].values())) for k, v in sorted(f.items())))' "$WORK/stats.json")"
  expect_eq "$db calls per process" "$(q "$db" 'select sum(calls) from processes')" \
    "$(q "$db" "select count(*) from calls where event not in $facts")"
  # Every call on a connection joins its row.
  expect_eq "$db join" "$(q "$db" 'select count(*) from calls join connections on calls.conn = connections.id')" \
    "$(q "$db" 'select count(*) from calls where conn is not null')"
}

# chrome_ok FILE: the Trace Event format Perfetto and chrome://tracing read.
chrome_ok() {
  checks=$((checks + 1))
  python3 - "$1" <<'PY' || fail "chrome trace $1"
import json, sys
doc = json.load(open(sys.argv[1]))
evs = doc["traceEvents"]
assert doc["displayTimeUnit"] == "ns"
spans, last, tracks, named, procs = {}, {}, set(), set(), set()
slices = 0
for e in evs:
    ph = e["ph"]
    assert isinstance(e["pid"], int) and isinstance(e["tid"], int), e
    if ph == "X":
        slices += 1
        track = (e["pid"], e["tid"])
        tracks.add(track)
        assert e["ts"] >= last.get(track, 0), ("time goes back on", track, e)
        last[track] = e["ts"]
        assert e["dur"] >= 0 and isinstance(e["name"], str) and "seq" in e["args"], e
        failed, outcome = e["args"].get("failed") is True, e["args"].get("outcome") is True
        assert ("error" in e["args"]) == (failed or outcome) and not (failed and outcome), e
        assert (e.get("cname") == "terrible") == failed, e
    elif ph in ("b", "e"):
        assert e["cat"] == "connection" and "id" in e, e
        key = (e["pid"], e["cat"], e["id"], e["name"])
        spans.setdefault(key, []).append((ph, e["ts"]))
    elif ph == "M":
        assert e["name"] in ("process_name", "thread_name") and e["args"]["name"], e
        (named if e["name"] == "thread_name" else procs).add((e["pid"], e["tid"]) if e["name"] == "thread_name" else e["pid"])
    else:
        raise AssertionError(f"unexpected phase {ph}")
assert slices > 0
for key, v in spans.items():
    assert [p for p, _ in v] == ["b", "e"], (key, v)
    assert v[1][1] >= v[0][1], (key, v)
assert tracks <= named, tracks - named
assert {p for p, _ in tracks} <= procs
PY
}

# ---- the demo trace ------------------------------------------------------------------------
for p in linux windows; do
  expect_exit 0 "$WSTRACE" synth demo --platform $p -o "$WORK/demo-$p.wst"
done
D=$WORK/demo-linux.wst

same_as_show "$D"
same_as_show "$WORK/demo-windows.wst"
same_as_show "$D" --filter 'rport == 9 or proto == udp'
same_as_show "$D" --relative -x
expect_exit 0 "$WSTRACE" export "$D" --format jsonl -o "$WORK/f.jsonl" --filter 'conn == 2'
expect_lines "$WORK/f.jsonl" "$("$WSTRACE" show --json --filter 'conn == 2' "$D" | wc -l)"
expect_in "$WORK/f.jsonl" '"conn":2'
expect_not_in "$WORK/f.jsonl" '"conn":1,'

for p in linux windows; do
  expect_exit 0 "$WSTRACE" export "$WORK/demo-$p.wst" --format sqlite -o "$WORK/demo-$p.db"
  sqlite_matches "$WORK/demo-$p.wst" "$WORK/demo-$p.db"
  expect_exit 0 "$WSTRACE" export "$WORK/demo-$p.wst" --format chrome -o "$WORK/demo-$p.json"
  chrome_ok "$WORK/demo-$p.json"
done
DB=$WORK/demo-linux.db
expect_eq "refused connects" "$(q "$DB" "select count(*) from calls where func = 'connect' and error = 'ECONNREFUSED'")" 3
expect_eq "connection 2" "$(q "$DB" "select kind, role, remote, host, \"end\", end_error from connections where id = 2")" \
  "tcp|client|127.0.0.1:9|api.example.test|error|ECONNREFUSED"
expect_eq "payload blob" "$(q "$DB" "select substr(cast(payload as text), 1, 16) from calls where conn = 1 and func = 'send'")" "GET /status HTTP"
expect_eq "http" "$(q "$DB" "select method, target, status from http")" "GET|/status|200"
expect_eq "finding evidence" "$(q "$DB" "select group_concat(seq) from finding_calls join findings on findings.id = finding where rule = 'connect-failed'")" "10,13,16"
expect_eq "meta" "$(q "$DB" "select count(*) from meta where key = 'host'")" 1
# With a filter: the calls and connections that match; lookups, http and findings of the whole trace.
expect_exit 0 "$WSTRACE" export "$D" --format sqlite -o "$WORK/f.db" --filter 'rport == 9'
expect_eq "filtered calls" "$(q "$WORK/f.db" 'select count(*) from calls')" "$("$WSTRACE" show --filter 'rport == 9' "$D" | wc -l)"
expect_eq "filtered connections" "$(q "$WORK/f.db" 'select group_concat(id) from connections')" "2,3,4"
expect_eq "filtered findings" "$(q "$WORK/f.db" 'select count(*) from findings')" "$(q "$DB" 'select count(*) from findings')"
expect_exit 0 "$WSTRACE" export "$D" --format chrome -o "$WORK/f.json" --filter 'rport == 9'
chrome_ok "$WORK/f.json"
checks=$((checks + 1))
python3 - "$WORK/f.json" <<'PY' || fail "filtered chrome trace"
import json, sys
evs = json.load(open(sys.argv[1]))["traceEvents"]
assert sorted({e["id"] for e in evs if e["ph"] == "b"}) == [2, 3, 4]
calls = [e for e in evs if e["ph"] == "X"]
assert {e["args"]["conn"] for e in calls} == {2, 3, 4}, calls
assert sum(e["name"] == "connect" and e["args"].get("failed") is True for e in calls) == 3, calls
PY

# ---- bad input: one message, a non-zero exit, no file -----------------------------------------
expect_exit 2 "$WSTRACE" export "$D" --format pcap -o "$WORK/x"
expect_in "$WORK/err" "unknown format 'pcap'"
expect_lines "$WORK/err" 1
expect_exit 2 "$WSTRACE" export "$D" --format csv -o "$WORK/x" --filter 'rport =='
expect_in "$WORK/err" "bad filter"
expect_exit 1 "$WSTRACE" export "$WORK/missing.wst" --format csv -o "$WORK/x"
expect_lines "$WORK/err" 1
echo "not a trace" >"$WORK/foreign.wst"
expect_exit 1 "$WSTRACE" export "$WORK/foreign.wst" --format sqlite -o "$WORK/x"
checks=$((checks + 1))
[ ! -e "$WORK/x" ] && [ ! -e "$WORK/x.part" ] || fail "a failed export left a file"
for f in csv sqlite chrome; do
  expect_exit 1 "$WSTRACE" export "$D" --format $f -o "$WORK/no/such/folder/out"
  expect_in "$WORK/err" "cannot write $WORK/no/such/folder/out"
  expect_lines "$WORK/err" 1
done
expect_exit 1 "$WSTRACE" export "$D" --format sqlite -o -
expect_in "$WORK/err" "give -o FILE"
# An earlier export survives one that fails.
echo "earlier" >"$WORK/keep.csv"
expect_exit 1 "$WSTRACE" export "$WORK/missing.wst" --format csv -o "$WORK/keep.csv"
expect_in "$WORK/keep.csv" "earlier"
expect_exit 2 "$WSTRACE" export "$D" --format csv
# A full disk: the export fails (exit 1) instead of pretending; so does show.
if [ -w /dev/full ]; then
  for cmd in "export $D --format jsonl -o -" "show --json $D"; do
    checks=$((checks + 1))
    # shellcheck disable=SC2086
    "$WSTRACE" $cmd >/dev/full 2>"$WORK/err"
    [ $? -eq 1 ] && grep -q "cannot write standard output" "$WORK/err" || fail "$cmd into a full disk"
  done
fi

# ---- a trace cut short: what could be read, and exit 3 ----------------------------------------
expect_exit 0 "$WSTRACE" synth conns:20000 -o "$WORK/conns.wst"
head -c $(($(wc -c <"$WORK/conns.wst") / 2)) "$WORK/conns.wst" >"$WORK/cut.wst"
expect_exit 3 "$WSTRACE" show --csv "$WORK/cut.wst"
cp "$WORK/out" "$WORK/cut-show.csv"
expect_exit 3 "$WSTRACE" export "$WORK/cut.wst" --format csv -o "$WORK/cut.csv"
expect_in "$WORK/err" "offset"
expect_same "$WORK/cut-show.csv" "$WORK/cut.csv"
expect_exit 3 "$WSTRACE" export "$WORK/cut.wst" --format sqlite -o "$WORK/cut.db"
checks=$((checks + 1))
[ "$(wc -l <"$WORK/cut.csv")" -gt 1000 ] || fail "the cut trace exported $(wc -l <"$WORK/cut.csv") lines"
expect_eq "cut calls" "$(q "$WORK/cut.db" 'select count(*) from calls')" "$(($(wc -l <"$WORK/cut.csv") - 1))"
expect_exit 3 "$WSTRACE" export "$WORK/cut.wst" --format chrome -o "$WORK/cut.json"
chrome_ok "$WORK/cut.json"

# ---- the progress bar: forced with WSTRACE_PROGRESS=1, absent when stderr is no terminal -------
expect_exit 0 "$WSTRACE" synth bench:200000 -o "$WORK/bench.wst"
expect_exit 0 "$WSTRACE" export "$WORK/bench.wst" --format csv -o "$WORK/bench.csv"
checks=$((checks + 1))
[ ! -s "$WORK/err" ] || fail "progress written to a pipe: $(head -c 200 "$WORK/err")"
WSTRACE_PROGRESS=1 expect_exit 0 "$WSTRACE" export "$WORK/bench.wst" --format csv -o "$WORK/bench.csv"
expect_in "$WORK/err" "wstrace: export 100%"
expect_in "$WORK/err" "MiB/s"
checks=$((checks + 1))
[ "$(tr '\r' '\n' <"$WORK/err" | grep -c 'wstrace: export')" -ge 2 ] || fail "the bar was drawn once only"
WSTRACE_PROGRESS=0 expect_exit 0 "$WSTRACE" export "$WORK/bench.wst" --format csv -o "$WORK/bench.csv"
checks=$((checks + 1))
[ ! -s "$WORK/err" ] || fail "WSTRACE_PROGRESS=0 still drew"

# ---- a real program recorded on loopback -----------------------------------------------------
AGENT=$(dirname "$WSTRACE")/../lib/libwstrace-agent.so
if [ -e "$AGENT" ]; then
  PY=$(python3 -c 'import sys; print(sys.executable)')
  cat >"$WORK/web.py" <<'EOF'
# A client and a server in one process, on loopback: a lookup, two HTTP exchanges on one
# connection, a refused connect.
import socket, threading
socket.getaddrinfo("localhost", 80, socket.AF_INET, socket.SOCK_STREAM)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
def serve():
    c, _ = srv.accept()
    buf = b""
    for _ in range(2):
        while b"\r\n\r\n" not in buf:
            buf += c.recv(4096)
        buf = buf.split(b"\r\n\r\n", 1)[1]
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
    c.close()
t = threading.Thread(target=serve)
t.start()
s = socket.create_connection(srv.getsockname())
for path in ("/a", "/b"):
    s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\nHost: web.test\r\n\r\n")
    got = b""
    while not got.endswith(b"hello"):
        got += s.recv(4096)
s.close()
t.join()
dead = socket.socket()
dead.bind(("127.0.0.1", 0))
port = dead.getsockname()[1]
dead.close()
try:
    socket.create_connection(("127.0.0.1", port))
except ConnectionRefusedError:
    print("refused")
EOF
  expect_exit 0 "$WSTRACE" record -q -o "$WORK/web.wst" -- "$PY" "$WORK/web.py"
  expect_in "$WORK/out" "refused"
  R=$WORK/web.wst
  same_as_show "$R"
  same_as_show "$R" --filter 'proto == tcp and not failed'
  expect_exit 0 "$WSTRACE" export "$R" --format sqlite -o "$WORK/web.db"
  sqlite_matches "$R" "$WORK/web.db"
  # Both ends are traced: each exchange is seen by the client and by the server.
  expect_eq "real http" "$(q "$WORK/web.db" "select group_concat(target || ' ' || n, ', ') from (select target, count(*) as n from http where host = 'web.test' and status = 200 group by target order by target)")" \
    "/a 2, /b 2"
  expect_eq "real refused" "$(q "$WORK/web.db" "select count(*) from calls where event = 'connect' and error = 'ECONNREFUSED'")" 1
  expect_eq "real threads" "$(q "$WORK/web.db" "select count(distinct tid) >= 2 from calls")" 1
  expect_eq "real lookup" "$(q "$WORK/web.db" "select count(*) from lookups where name = 'localhost' and ok")" 1
  expect_exit 0 "$WSTRACE" export "$R" --format chrome -o "$WORK/web.json"
  chrome_ok "$WORK/web.json"
else
  echo "note: $AGENT is not built: the recorded-program part was skipped" >&2
fi
done_testing
