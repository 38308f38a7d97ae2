#!/usr/bin/env bash
# The live view in a real browser: `wstrace record --ui` on a client that works in steps when
# told (tests/tools/phased_client.py: an HTTP fetch from python3's server on loopback, a refused
# connect), driven in Debian's Chromium with Playwright (live_test.js): the security refusals,
# calls appearing while the program runs, the filter on arriving calls, pause and resume, a
# finding during the run; and (live_rows_test.js) that its tables hold a window of the rows of a
# run of many connections. Runs in a private network namespace.
# Run as: live.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR NODE_DIR
. "$(dirname "$0")/../integration/lib_capture.sh"
. "$(dirname "$0")/../integration/lib_findings.sh"
NODE_DIR=$5
. "$(dirname "$0")/lib_node.sh"
need_browser_tools
install_playwright "$NODE_DIR"

enter_private_netns "$@"
ip link set lo up || fail "cannot bring loopback up in the test's namespace"

port=$(free_port)
dead=$(free_port)
mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
http_server "$WORK/www" "$port"

checks=$((checks + 1))
WSTRACE_PY=$(python3 -c 'import sys; print(sys.executable)') \
  node "$SRC/tests/report/live_test.js" "$NODE_DIR" "$CHROMIUM" "$WSTRACE" "$WORK" "$port" "$dead" \
       "$SRC/tests/tools/phased_client.py" || fail "the live view in the browser (live_test.js)"
checks=$((checks + 1))
node "$SRC/tests/report/live_rows_test.js" "$NODE_DIR" "$CHROMIUM" "$WSTRACE" "$WORK" ||
  fail "the live page's tables hold a window (live_rows_test.js)"
done_testing
