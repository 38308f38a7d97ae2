#!/usr/bin/env bash
# The HTML report in a real browser: records a real session on loopback (python3's HTTP server,
# a python3 client that looks a name up, fetches a file and is refused by a closed port), writes
# its report and a report of a million synthetic calls, then drives both in Debian's Chromium
# with Playwright (report_test.js). Then the report's filter box against wstrace's own filter:
# every filter of parity_filters.txt on reports of real programs (tests/targets' netops) and of
# the synthetic demo for Linux and Windows (parity_cases.py, parity.js). playwright-core comes
# from the npm registry (`npm ci` into NODE_DIR, in the build tree); no browser is downloaded.
# Everything after `npm ci` runs in a private network namespace with a DNS server of its own.
# Run as: run.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR NODE_DIR
. "$(dirname "$0")/../integration/lib_capture.sh"
. "$(dirname "$0")/../integration/lib_findings.sh"
NODE_DIR=$5
. "$(dirname "$0")/lib_node.sh"
need_browser_tools openssl
install_playwright "$NODE_DIR"

enter_private_netns "$@"
private_dns api.test=127.0.0.1 api.test=::1

PY=$(python3 -c 'import sys; print(sys.executable)')
port=$(free_port)
dead=$(free_port)
mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
http_server "$WORK/www" "$port"

record session 0 -- "$PY" "$SRC/tests/tools/http_client.py" "$port" --lookup localhost \
       --refused "$dead"
expect_in "$WORK/session.out" "HTTP/1.0 200 OK"
expect_in "$WORK/session.out" "refused"
# A TLS handshake with a server on loopback, for the TLS tab (a certificate made for it).
expect_exit 0 openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=sni.wstrace.test -days 1 \
  -keyout "$WORK/key.pem" -out "$WORK/cert.pem"
record tls 0 -- "$PY" "$SRC/tests/tools/tls_hello.py" --cert "$WORK/cert.pem" --key "$WORK/key.pem"
expect_in "$WORK/tls.out" "handshake done TLSv1.3"
expect_exit 0 "$WSTRACE" report -q "$WORK/tls.wst" -o "$WORK/tls.html"
# A Windows program's overlapped calls on a completion port (recorded under Wine).
expect_exit 0 "$WSTRACE" report -q "$SRC/tests/report/windows/iocp.wst" -o "$WORK/iocp.html"
expect_exit 0 "$WSTRACE" synth retransmissions -o "$WORK/retrans.wst"
expect_exit 0 "$WSTRACE" report -q "$WORK/retrans.wst" -o "$WORK/retrans.html"
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
     "$WORK/big.html" "$WORK" "$port" "$WORK/tls.html" "$WORK/iocp.html" "$WORK/retrans.html" ||
  fail "the browser checks (report_test.js)"

# The filter box and wstrace's filter pick the same calls of real programs and of the
# synthetic demo on both platforms. The payload cap is raised so that the box sees the payloads
# the trace kept.
short_dir UNIX_DIR
parity=("session=$WORK/session.wst")
for run in tcp4 tcp6 udp "unix $UNIX_DIR" dup wait refused reset errno "lookup api.test nx.test"; do
  name=${run%% *}
  record "$name" 0 -- "$NETOPS" $run
  parity+=("$name=$WORK/$name.wst")
done
expect_exit 0 "$WSTRACE" synth demo -o "$WORK/demo.wst"
expect_exit 0 "$WSTRACE" synth demo --platform windows -o "$WORK/demo-win.wst"
parity+=("demo=$WORK/demo.wst" "demo-win=$WORK/demo-win.wst")
# Windows programs: tests/targets/windows/wnetops recorded by wstrace.exe under Wine (as
# win_capture.sh does), kept in tests/report/windows/ so that this test needs no Wine.
for t in "$SRC"/tests/report/windows/*.wst; do
  name=win-$(basename "$t" .wst)
  cp "$t" "$WORK/$name.wst"
  parity+=("$name=$WORK/$name.wst")
done
cases=()
for p in "${parity[@]}"; do
  expect_exit 0 "$WSTRACE" report -q "${p#*=}" -o "${p#*=}.html" --payload-cap 1048576
  cases+=("$p:${p#*=}.html")
done
checks=$((checks + 1))
python3 "$SRC/tests/report/parity_cases.py" "$WSTRACE" "$SRC/tests/report/parity_filters.txt" \
        "$WORK/parity.json" "${cases[@]}" &&
  node "$SRC/tests/report/parity.js" "$NODE_DIR" "$CHROMIUM" "$WORK/parity.json" ||
  fail "the filter box and wstrace's filter disagree (parity.js)"
done_testing
