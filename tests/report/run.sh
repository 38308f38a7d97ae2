#!/usr/bin/env bash
# The HTML report in a real browser: records a real session on loopback (python3's HTTP server,
# a python3 client that looks a name up, fetches a file and is refused by a closed port), writes
# its report and a report of a million synthetic calls, then drives both in Debian's Chromium
# with Playwright (report_test.js). playwright-core comes from the npm registry (`npm ci` into
# NODE_DIR, in the build tree); no browser is downloaded.
# Run as: run.sh WSTRACE SOURCE_DIR WORK_DIR NODE_DIR
. "$(dirname "$0")/../integration/lib.sh"
NODE_DIR=$4
CHROMIUM=${WSTRACE_CHROMIUM:-/usr/bin/chromium}

for tool in node npm python3 "$CHROMIUM"; do
  command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done

# playwright-core, exactly as package-lock.json says; again only when the lock changed.
mkdir -p "$NODE_DIR"
if ! cmp -s "$SRC/tests/report/package-lock.json" "$NODE_DIR/package-lock.json" ||
   [ ! -f "$NODE_DIR/node_modules/playwright-core/package.json" ]; then
  cp "$SRC/tests/report/package.json" "$SRC/tests/report/package-lock.json" "$NODE_DIR/"
  (cd "$NODE_DIR" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
    { echo "FAIL: npm ci of playwright-core in $NODE_DIR" >&2; exit 1; }
fi

PY=$(python3 -c 'import sys; print(sys.executable)')
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dead=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
python3 -m http.server --bind 127.0.0.1 --directory "$WORK/www" "$port" >"$WORK/http.log" 2>&1 &
http_pid=$!
trap 'kill $http_pid 2>/dev/null' EXIT
for _ in $(seq 100); do
  python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1).close()" 2>/dev/null && break
  sleep 0.05
done

cat >"$WORK/client.py" <<PYEOF
import socket
socket.getaddrinfo("localhost", $port, socket.AF_INET, socket.SOCK_STREAM)
s = socket.create_connection(("127.0.0.1", $port))
s.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: wstrace.test\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
s.close()
try:
    socket.create_connection(("127.0.0.1", $dead))
except ConnectionRefusedError:
    print("refused")
print(data.split(b"\r\n")[0].decode())
PYEOF
expect_exit 0 "$WSTRACE" record -q -o "$WORK/session.wst" -- "$PY" "$WORK/client.py"
expect_in "$WORK/out" "HTTP/1.0 200 OK"
expect_in "$WORK/out" "refused"
expect_exit 0 "$WSTRACE" report "$WORK/session.wst" -o "$WORK/session.html"
expect_in "$WORK/err" "session.html"

# A million calls: how long the page takes to open is printed, not asserted.
expect_exit 0 "$WSTRACE" synth bench:1000000 -o "$WORK/big.wst"
start=$(date +%s%N)
expect_exit 0 "$WSTRACE" report -q "$WORK/big.wst" -o "$WORK/big.html"
echo "report of 1000000 calls written in $((($(date +%s%N) - start) / 1000000)) ms," \
     "$(($(stat -c %s "$WORK/big.html") / 1048576)) MiB"

# A bad filter is one message and exit 2; an unwritable output exit 1.
expect_exit 2 "$WSTRACE" report "$WORK/session.wst" -o "$WORK/x.html" --filter 'rprot == 1'
expect_in "$WORK/err" "did you mean 'rport'"
expect_exit 1 "$WSTRACE" report "$WORK/session.wst" -o "$WORK/no/such/dir/x.html"

checks=$((checks + 1))
node "$SRC/tests/report/report_test.js" "$NODE_DIR" "$CHROMIUM" "$WORK/session.html" \
     "$WORK/big.html" "$WORK" "$port" || fail "the browser checks (report_test.js)"
done_testing
