#!/usr/bin/env bash
# Credentials in payloads (README "Secrets"): curl and python3 send a bearer token, cookies and
# user:password (in a URL and as Basic auth) to a loopback server that answers with Set-Cookie.
# Every view that prints payloads or headers — show (text, -x, --json, --csv), http -H (and
# --json), replay, the live lines of record, every export, the HTML report — must hold none of
# these values by default, but masks of the same length; --show-secrets shows them. A trace
# recorded with --redact holds none on disk, says so in info, and its views and pcapng stay valid.
# Run as: capture_secrets.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

for tool in curl python3 tshark; do
  command -v $tool >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
PY=$(python3 -c 'import sys; print(sys.executable)')

TOKEN=wstTok3nA1b2C3d4E5 COOKIE=wstC00kieZ9y8x7 PASSWORD=wstPassQ7w6e5 SERVERSID=wstServerSid55r4
printf '%s\n' "$TOKEN" "$COOKIE" "$PASSWORD" "$SERVERSID" >"$WORK/secrets"
port=$(free_port)
echo "$port" >"$WORK/port"
"$PY" "$SRC/tests/tools/cookie_server.py" "$port" "$SERVERSID" >"$WORK/server.log" 2>&1 &
server_pid=$!
trap 'kill $server_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
  kill -0 $server_pid 2>/dev/null || break
  sleep 0.05
done

# live NAME [record options] -- PROGRAM…: records with the live lines on (kept in NAME.err).
live() {
  local name=$1
  shift
  expect_exit 0 "$WSTRACE" record -o "$WORK/$name.wst" "$@"
  cp "$WORK/out" "$WORK/$name.out"
  cp "$WORK/err" "$WORK/$name.err"
}
# The secrets reach the programs through a curl config file and the environment: a traced
# process's command line is recorded as it is (README "Secrets").
printf 'url = "http://127.0.0.1:%s/a"\nheader = "Authorization: Bearer %s"\ncookie = "session=%s"\n' \
  "$port" "$TOKEN" "$COOKIE" >"$WORK/bearer.curlrc"
printf 'url = "http://alice:%s@127.0.0.1:%s/b"\ncookie = "session=%s"\n' \
  "$PASSWORD" "$port" "$COOKIE" >"$WORK/basic.curlrc"
export SECRET_TOKEN=$TOKEN SECRET_COOKIE=$COOKIE SECRET_PASSWORD=$PASSWORD
client=("$PY" "$SRC/tests/tools/secret_client.py" "$port")
live curl-bearer -- curl -sS --max-time 20 -K "$WORK/bearer.curlrc"
live curl-basic -- curl -sS --max-time 20 -K "$WORK/basic.curlrc"
live python -- "${client[@]}"
expect_in "$WORK/python.out" "200 sid=$SERVERSID"
live python-shown --show-secrets -- "${client[@]}"
# The filter of the live lines sees the payloads the lines show.
live python-filter-shown --show-secrets --filter "payload contains \"$TOKEN\"" -- "${client[@]}"
live python-filter-masked --filter "payload contains \"$TOKEN\"" -- "${client[@]}"
live redacted --redact -- "${client[@]}"
expect_in "$WORK/redacted.out" "HTTP/1.1 200 OK"

# views NAME SUFFIX [--show-secrets]: every view of NAME.wst into views/NAME.VIEW.SUFFIX.
mkdir -p "$WORK/views"
views() {
  local name=$1 suffix=$2 f="$WORK/$1.wst" v="$WORK/views/$1"
  shift 2
  local -a cmds=(
    "show|show $f" "showx|show -x $f" "showjson|show --json $f" "showcsv|show --csv $f"
    "http|http -H $f" "httpjson|http -H --json $f" "replay|replay --speed 0 $f"
    "replayjson|replay --speed 0 --json $f")
  for c in "${cmds[@]}"; do
    # shellcheck disable=SC2086
    expect_exit 0 "$WSTRACE" ${c#*|} "$@"
    cp "$WORK/out" "$v.${c%%|*}.$suffix"
  done
  for fmt in csv jsonl text sqlite pcapng chrome; do
    rm -f "$v.$fmt.$suffix"
    expect_exit 0 "$WSTRACE" export "$f" --format $fmt -o "$v.$fmt.$suffix" "$@"
  done
  expect_exit 0 "$WSTRACE" export "$f" --format text -x -o "$v.textx.$suffix" "$@"
  expect_exit 0 "$WSTRACE" report "$f" -o "$v.report.$suffix" -q "$@"
}
for name in curl-bearer curl-basic python redacted; do
  views $name masked
  views $name shown --show-secrets
done
expect_exit 0 "$WSTRACE" info "$WORK/redacted.wst"
cp "$WORK/out" "$WORK/redacted.info"
expect_exit 0 "$WSTRACE" info --json "$WORK/redacted.wst"
cp "$WORK/out" "$WORK/redacted.info.json"

trace_checks secrets <<'PY'
import base64, json, re, subprocess
from tracecheck import *

TOKEN, COOKIE, PASSWORD, SERVERSID = open(work("secrets")).read().split()
port = int(open(work("port")).read())
BASIC = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
SECRETS = [TOKEN, COOKIE, PASSWORD, SERVERSID, BASIC]
VIEWS = ["show", "showx", "showjson", "showcsv", "http", "httpjson", "replay", "replayjson",
         "csv", "jsonl", "text", "sqlite", "pcapng", "chrome", "textx", "report"]
# Views that print whole payloads or headers (the others cut payloads to a short preview).
WHOLE = [v for v in VIEWS if v not in ("show", "replay", "text", "chrome")]

def dump_bytes(text):
    """The bytes of every hex dump line (show -x) in the order printed."""
    out = bytearray()
    for m in re.finditer(r"^ +[0-9a-f]{8}  ((?:[0-9a-f]{2} {1,2}){1,16})", text, re.M):
        out += bytes.fromhex(m.group(1).replace(" ", ""))
    return bytes(out)

def report_strings(html):
    """Every string of the report's data, base64 ones also decoded."""
    m = re.search(r'<script id="wstrace-data" type="application/json">(.*?)</script>', html, re.S)
    out = []
    def walk(o):
        if isinstance(o, dict):
            for v in o.values(): walk(v)
        elif isinstance(o, list):
            for v in o: walk(v)
        elif isinstance(o, str):
            out.append(o.encode())
            if len(o) >= 8 and len(o) % 4 == 0 and re.fullmatch(r"[A-Za-z0-9+/]*={0,2}", o):
                out.append(base64.b64decode(o))
    walk(json.loads(m.group(1)))
    return b"\n".join(out)

def readable(view, data):
    """The view's bytes, plus its payloads decoded where they are written as hex or base64."""
    text = data.decode("utf-8", "replace")
    parts = [data, dump_bytes(text)]
    for h in re.findall(r"[0-9a-fA-F]{16,}", text):
        parts.append(bytes.fromhex(h[: len(h) // 2 * 2]))
    if view == "report":
        parts.append(report_strings(text))
    return b"\n".join(parts)

def leaked(data):
    return [s for s in SECRETS if s.encode() in data]

def view(name, v, suffix):
    with open(work(f"views/{name}.{v}.{suffix}"), "rb") as f:
        return readable(v, f.read())

for name in ("curl-bearer", "curl-basic", "python", "redacted"):
    for v in VIEWS:
        context(f"{name} {v}")
        eq(leaked(view(name, v, "masked")), [], "secrets in the default view")
        if name != "redacted" and v in WHOLE:
            shown = leaked(view(name, v, "shown"))
            want = {"curl-bearer": [TOKEN, COOKIE, SERVERSID], "curl-basic": [COOKIE, SERVERSID, BASIC],
                    "python": [TOKEN, COOKIE, PASSWORD, SERVERSID]}[name]
            eq(sorted(s for s in want if s in shown), sorted(want), "--show-secrets shows them")
        if name == "redacted":
            eq(leaked(view(name, v, "shown")), [], "--show-secrets on a redacted trace")

context("masks of the same length, where the values were")
stars = lambda s: "*" * len(s)
for name, lines in {
    "curl-bearer": [f"Authorization: Bearer {stars(TOKEN)}", f"Cookie: session={stars(COOKIE)}",
                    f"Set-Cookie: sid={stars(SERVERSID)}; Path=/; HttpOnly"],
    "curl-basic": [f"Authorization: Basic {stars(BASIC)}", f"Cookie: session={stars(COOKIE)}"],
    "python": [f"Authorization: Bearer {stars(TOKEN)}", f"Cookie: session={stars(COOKIE)}; theme=****",
               f"Host: bob:{stars(PASSWORD)}@127.0.0.1:{port}",
               f"Referer: http://bob:{stars(PASSWORD)}@127.0.0.1:{port}/from",
               f"authorization: Bearer {stars(TOKEN)}", f"cookie: session={stars(COOKIE)}",
               f"Set-Cookie: sid={stars(SERVERSID)}; Path=/; HttpOnly"],
    "redacted": [f"authorization: Bearer {stars(TOKEN)}"],
}.items():
    text = view(name, "http", "masked").decode("utf-8", "replace")
    for l in lines:
        check(l in text, f"{name}: http -H shows '{l}'")
    dump = dump_bytes(view(name, "showx", "masked").decode("utf-8", "replace"))
    check(lines[0].encode() in dump, f"{name}: show -x holds '{lines[0]}'")
x = [json.loads(l) for l in open(work("views/python.httpjson.masked"))]
eq([e["request"]["target"] for e in x if e.get("type") == "http"][:1],
   [f"http://bob:{stars(PASSWORD)}@127.0.0.1:{port}/first"], "the absolute target's password")

context("python: the token cut between two sends is masked in both")
sends = [json.loads(l) for l in open(work("views/python.showjson.shown"))]
sends = [bytes.fromhex(e["args"]["payload"]["hex"]) for e in sends
         if e["event"] == "send" and "payload" in e.get("args", {})]
half = len(TOKEN) // 2
check(any(s.endswith(f"Bearer {TOKEN[:half]}".encode()) for s in sends), "a send ends inside the token")
masked_sends = [json.loads(l) for l in open(work("views/python.showjson.masked"))]
masked_sends = [bytes.fromhex(e["args"]["payload"]["hex"]) for e in masked_sends
                if e["event"] == "send" and "payload" in e.get("args", {})]
eq([len(s) for s in masked_sends], [len(s) for s in sends], "payload lengths")
check(any(s.endswith(f"Bearer {stars(TOKEN[:half])}".encode()) for s in masked_sends), "its first half masked")
check(any(s.startswith(f"{stars(TOKEN[half:])}\r\n".encode()) for s in masked_sends), "its second half masked")

context("live lines of record")
for name in ("curl-bearer", "curl-basic", "python", "redacted"):
    eq(leaked(open(work(f"{name}.err"), "rb").read()), [], f"{name}: live lines")
check(PASSWORD.encode() in open(work("python-shown.err"), "rb").read(), "--show-secrets live lines")
def send_lines(name):
    return [l for l in open(work(f"{name}.err"), "rb").read().splitlines() if b" send(" in l]
check(len(send_lines("python-filter-shown")) >= 1,
      "--show-secrets: a filter on the token finds the send that holds it")
eq(send_lines("python-filter-masked"), [], "masked: the token is not there to be found")

context("record --redact")
raw = open(work("redacted.wst"), "rb").read()
eq(leaked(readable("wst", raw)), [], "secrets in the .wst file")
check(TOKEN.encode() in open(work("python.wst"), "rb").read(), "an unredacted trace holds the token (control)")
check("credentials masked when recorded" in open(work("redacted.info")).read(), "info says so")
eq(json.load(open(work("redacted.info.json")))["redacted"], True, "info --json says so")

context("pcapng in tshark")
CHECKSUMS = ["-o", "tcp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE"]
def tshark(path, *args):
    p = subprocess.run(["tshark", "-n", "-r", path] + CHECKSUMS + list(args), capture_output=True, text=True)
    check(p.returncode == 0, f"tshark on {path}: exit {p.returncode}: {p.stderr[:300]}")
    return p.stdout
for name in ("curl-bearer", "curl-basic", "python", "redacted"):
    masked, shown = (work(f"views/{name}.pcapng.{s}") for s in ("masked", "shown"))
    rows = tshark(masked, "-T", "fields", "-E", "occurrence=a", "-e", "_ws.expert.severity",
                  "-e", "_ws.expert.message", "-e", "tcp.len").splitlines()
    bad = [r for r in rows if any(s and int(s, 0) >= 0x00600000 for s in r.split("\t")[0].split(","))]
    eq(bad, [], f"{name}: no malformed packets, no expert warnings or errors")
    lens = tshark(shown, "-T", "fields", "-e", "tcp.len").split()
    eq([r.split("\t")[-1] for r in rows], lens, f"{name}: the same TCP lengths as with --show-secrets")
    follow = tshark(masked, "-q", "-z", "follow,tcp,raw,0")
    data = b"".join(bytes.fromhex(l.strip()) for l in follow.splitlines()
                    if re.fullmatch(r"\s*[0-9a-f]+", l))
    eq(leaked(data), [], f"{name}: follow tcp stream")
    check(b"Set-Cookie: sid=" + stars(SERVERSID).encode() in data, f"{name}: follow shows the mask")
finish()
PY

done_testing
