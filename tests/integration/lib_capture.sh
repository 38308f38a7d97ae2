# What the capture_*.sh tests share: run as SCRIPT WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR.
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
TARGETS=$4
NETOPS=$TARGETS/netops

# record NAME WANT_EXIT [wstrace record options] -- PROGRAM…: traces into $WORK/NAME.wst and
# keeps wstrace's stdout and stderr as $WORK/NAME.out and $WORK/NAME.err.
record() {
  local name=$1 want=$2
  shift 2
  expect_exit "$want" "$WSTRACE" record -q -o "$WORK/$name.wst" "$@"
  cp "$WORK/out" "$WORK/$name.out"
  cp "$WORK/err" "$WORK/$name.err"
}

# trace_checks WHAT: runs the python on stdin (with tests/tools/tracecheck.py importable).
trace_checks() {
  checks=$((checks + 1))
  PYTHONPATH="$SRC/tests/tools" WSTRACE="$WSTRACE" WORK="$WORK" python3 - || fail "trace checks: $1"
}

# free_port: a TCP port of 127.0.0.1 that nothing listens on (at the time of asking).
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# http_server DIR PORT: python3's http.server serving DIR on 127.0.0.1:PORT, up when this
# returns (fails the test otherwise); killed when the script exits.
http_server() {
  python3 -m http.server --bind 127.0.0.1 --directory "$1" "$2" >"$WORK/http.log" 2>&1 &
  http_pid=$!
  trap 'kill $http_pid 2>/dev/null' EXIT
  for _ in $(seq 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $2), 1).close()" 2>/dev/null && return 0
    kill -0 $http_pid 2>/dev/null || break
    sleep 0.05
  done
  fail "the HTTP server on 127.0.0.1:$2 did not start: $(head -c 400 "$WORK/http.log")"
}
