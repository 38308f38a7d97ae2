#!/usr/bin/env bash
# A real program whose names are hostile bytes (tests/tools/odd_bytes.py run by a copy of
# python3 named "=py\xff\x1b[31m"): invalid UTF-8 and escape sequences in the process, thread,
# Unix socket path (one of 107 bytes), looked-up host, HTTP headers and — given a UTS namespace
# — the machine's host name. Every JSON output parses (python3 json), every text view shows the
# control characters escaped (no raw ESC, BEL or CR reaches the terminal), CSV text cells are no
# formulas.
# Run as: capture_odd_bytes.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
if [ -z "${WSTRACE_TEST_UTS:-}" ] && unshare --uts true 2>/dev/null; then
  WSTRACE_TEST_UTS=1 exec unshare --uts "$0" "$@"
fi
. "$(dirname "$0")/lib_capture.sh"

if [ -n "${WSTRACE_TEST_UTS:-}" ]; then
  python3 -c 'import socket; socket.sethostname(b"h\xff\x1b[31m")' || fail "sethostname"
else
  echo "note: no UTS namespace: the trace's host name is the machine's own" >&2
fi
ODD_PY="$WORK/=py"$'\xff\x1b[31m'
# The interpreter itself (not a wrapper script such as pyenv's shim), copied under that name.
cp "$(python3 -c 'import os, sys; print(os.path.realpath(sys.executable))')" "$ODD_PY"
short_dir UNIX_DIR
export UNIX_DIR
expect_exit 0 "$WSTRACE" record -o "$WORK/odd.wst" -- "$ODD_PY" "$SRC/tests/tools/odd_bytes.py" \
  "$UNIX_DIR"
cp "$WORK/err" "$WORK/record.err"
expect_in "$WORK/out" "done"

# Every view, as JSON and as text.
for view in show conns dns http diagnose stats info; do
  expect_exit 0 "$WSTRACE" $view --json "$WORK/odd.wst"
  cp "$WORK/out" "$WORK/$view.json"
  expect_exit 0 "$WSTRACE" $view "$WORK/odd.wst"
  cp "$WORK/out" "$WORK/$view.txt"
done
expect_exit 0 "$WSTRACE" http -H "$WORK/odd.wst"
cp "$WORK/out" "$WORK/http-H.txt"
for f in jsonl chrome csv text; do
  expect_exit 0 "$WSTRACE" export "$WORK/odd.wst" --format $f -o "$WORK/odd.$f"
  checks=$((checks + 1))
  ! ls "$WORK"/odd.$f*.part >/dev/null 2>&1 || fail "export $f left a .part file"
done
expect_exit 0 "$WSTRACE" report -q "$WORK/odd.wst" -o "$WORK/odd.html"

trace_checks "odd bytes" <<'PY'
import csv, json, os, re
W = os.environ["WORK"]
failures = []
def read(name):
    try:
        return open(os.path.join(W, name), "rb").read()
    except OSError as e:
        failures.append(str(e))
        return b""
def check(ok, what):
    if not ok:
        failures.append(what)

# JSON: every document and line parses; the odd bytes are there as characters.
docs = {}
for view in ("show", "conns", "dns", "http", "diagnose"):
    try:
        docs[view] = [json.loads(l) for l in read(view + ".json").splitlines()]
    except ValueError as e:
        check(False, f"{view} --json does not parse: {e}")
for view in ("stats", "info"):
    try:
        docs[view] = json.loads(read(view + ".json"))
    except ValueError as e:
        check(False, f"{view} --json does not parse: {e}")
try:
    docs["jsonl"] = [json.loads(l) for l in read("odd.jsonl").splitlines()]
    json.loads(read("odd.chrome"))
except ValueError as e:
    check(False, f"an export does not parse: {e}")
page = read("odd.html").decode("utf-8")
m = re.search(r'<script id="wstrace-data" type="application/json">(.*?)</script>', page, re.S)
check(m is not None, "the report holds its data")
if m:
    try:
        data = json.loads(m.group(1))
        check(any("=py\u00ff\x1b[31m" in p[2] for p in data["procs"]), f"report process names {[p[2] for p in data['procs']]}")
        check(any("T\u00ff\u00fe\x1b[31m" in t[2] for t in data["threads"]), f"report thread names {data['threads']}")
    except ValueError as e:
        check(False, f"the report's data does not parse: {e}")
show = docs.get("show", [])
procs = {e.get("process") for e in show}
check("=py\u00ff\x1b[31m" in procs, f"show --json names the process with its bytes: {procs}")
paths = [e["args"]["addr"]["text"] for e in show if e["func"] == "bind" and "addr" in e["args"]]
check(any(p.startswith("unix:") and len(p) == 5 + 107 for p in paths), f"the 107-byte path is whole: {paths}")
check(any("\u00ff\u00fe\x1b[31m\x07\u00c0\u0080.sock" in p for p in paths), f"the odd path: {paths}")
U = os.environ["UNIX_DIR"]
full = "unix:" + U + "/" + "F" * (107 - len(U) - 1)
locals_ = [e["args"].get("local", {}).get("text") for e in show if e["func"] in ("accept", "accept4")]
check([t for t in locals_ if t.startswith("unix:")] == [full],
      f"accept's local end is the 107-byte path: {locals_}")
hosts = [e["args"].get("host") for e in show if e["func"] == "getaddrinfo"]
check(any(h and h.startswith("=cmd") for h in hosts), f"lookups in show --json: {hosts}")

# Text: no raw control character reaches the terminal; the escapes are shown instead.
bad = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]")
for name in ("show.txt", "conns.txt", "dns.txt", "http.txt", "http-H.txt", "diagnose.txt",
             "stats.txt", "info.txt", "record.err", "odd.text"):
    text = read(name)
    hit = bad.search(text)
    check(hit is None, f"{name} holds a raw control character near {text[max(0, hit.start() - 30):hit.end() + 10]!r}" if hit else "")
for name, want in (("show.txt", rb"=py\xff\x1b[31m["), ("http-H.txt", rb"Host: \x1b[31mhost\xff"),
                   ("http-H.txt", rb"X-Title: \x1b]0;owned\x07"), ("dns.txt", rb"\xff\xfe\x1b]0;owned\x07"),
                   ("conns.txt", rb"\x1b[31m\x07"), ("diagnose.txt", rb"\x1b]0;owned"),
                   ("info.txt", rb"=py\xff\x1b[31m"), ("record.err", rb"=py\xff\x1b[31m")):
    check(want in read(name), f"{name} shows {want!r} escaped")

# CSV: the process and the looked-up formula are text, not formulas; results stay numbers.
rows = list(csv.DictReader(read("odd.csv").decode("utf-8", "replace").splitlines()))
check(rows and all(r["process"].startswith("'=py") for r in rows if r["process"]), "csv process cells")
check(any(r["host"].startswith("'=cmd|") for r in rows), f"csv host cells {[r['host'] for r in rows if r['host']]}")
check(any(re.fullmatch(r"-\d+", r["result"]) for r in rows), "csv results stay numbers")
check(not bad.search(read("odd.csv")), "csv cells hold no raw control character")

for f in failures:
    if f:
        print("FAIL:", f)
raise SystemExit(1 if any(failures) else 0)
PY

done_testing
