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
