#!/usr/bin/env bash
# How long `record` runs and what its signals do (tests/targets/linux/blind.c). It returns the
# program's status when the program exits, even when the program left a traced child running:
# that child stays traced, by a copy of the collector in the background, until it ends (the trace
# is then complete, with the child's calls) or until that copy is sent SIGTERM (the trace is
# completed at once and the child goes on, untraced). SIGINT and SIGTERM sent to `record` reach
# the program.
# Run as: capture_lifetime.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
BLIND=$TARGETS/blind

# wait_gone PID: until PID has ended (at most 30 s); fails the test if it has not.
wait_gone() {
  checks=$((checks + 1))
  for _ in $(seq 600); do
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.05
  done
  fail "process $1 still runs after 30 s"
}

# the background pid named by record's line "… by wstrace PID until they end …"
background_pid() { sed -n 's/.* by wstrace \([0-9]*\) until they end.*/\1/p' "$1"; }

# 1. The child ends by itself: record has already returned; the background copy completes the
#    trace with the child's calls once it has.
mkfifo "$WORK/go"
record daemon 0 -- "$BLIND" daemon "$WORK/go"
child=$(awk '/^child/ {print $2}' "$WORK/daemon.out")
bg=$(background_pid "$WORK/daemon.err")
[ -n "$child" ] && [ -n "$bg" ] || fail "record's output names the child and the background copy: $(cat "$WORK/daemon.err")"
expect_in "$WORK/daemon.err" "1 background process ($child) still traced into"
kill -0 "$child" 2>/dev/null || fail "the child runs on after record returned"
echo go >"$WORK/go"
wait_gone "$child"
wait_gone "$bg"
expect_exit 0 "$WSTRACE" info --json "$WORK/daemon.wst"
trace_checks daemon <<EOF
from tracecheck import *
import json
info = json.load(open(work("out")))
eq(info["complete"], True, "the trace is complete")
procs = {p["pid"]: p for p in info["processes"]}
check($child in procs and procs[$child]["exited"] and procs[$child].get("exit_code") == 0,
      f"the child's end is in the trace: {procs.get($child)}")
t = load("daemon")
eq(len(t.all("socketpair", pid=$child)), 1, "the child's late socketpair")
eq([e["result"] for e in t.all("send", pid=$child)], [4], "the child's late send")
finish()
EOF
rm -f "$WORK/go"

# 2. The background copy is stopped: the trace is complete up to then, the child runs on.
mkfifo "$WORK/go"
record stopped 0 -- "$BLIND" daemon "$WORK/go"
child=$(awk '/^child/ {print $2}' "$WORK/stopped.out")
bg=$(background_pid "$WORK/stopped.err")
[ -n "$child" ] && [ -n "$bg" ] || fail "record names the child and the background copy"
[ -n "$bg" ] && kill -TERM "$bg"
[ -n "$bg" ] && wait_gone "$bg"
kill -0 "$child" 2>/dev/null || fail "the child goes on after the background copy stopped"
expect_exit 0 "$WSTRACE" info --json "$WORK/stopped.wst"
expect_in "$WORK/out" '"complete": true'
exec 4<>"$WORK/go"  # lets the child read its line and end
echo go >&4
wait_gone "$child"
exec 4>&-
rm -f "$WORK/go"

# 3. --no-follow: nothing else is traced, so record ends with its program.
mkfifo "$WORK/go"
record nofollow 0 --no-follow -- "$BLIND" daemon "$WORK/go"
expect_not_in "$WORK/nofollow.err" "still traced"
child=$(awk '/^child/ {print $2}' "$WORK/nofollow.out")
exec 4<>"$WORK/go"
echo go >&4
[ -n "$child" ] && wait_gone "$child"
exec 4>&-

# 4. SIGINT and SIGTERM sent to record reach the program (once).
for sig in INT TERM; do
  rm -f "$WORK/ready"
  mkfifo "$WORK/ready"
  "$WSTRACE" record -q -o "$WORK/sig-$sig.wst" -- "$BLIND" wait-signal >"$WORK/ready" \
    2>"$WORK/sig-$sig.err" &
  rec=$!
  exec 3<"$WORK/ready"
  read -r line <&3
  [ "$line" = ready ] || fail "wait-signal did not start under record"
  kill -"$sig" "$rec"
  read -r line <&3
  exec 3<&-
  checks=$((checks + 1))
  [ "$line" = "got SIG$sig" ] || fail "the program got '$line' for SIG$sig sent to record"
  wait "$rec"
  code=$?
  checks=$((checks + 1))
  [ "$code" -eq 0 ] || fail "record exited $code after passing SIG$sig on; $(cat "$WORK/sig-$sig.err")"
  expect_exit 0 "$WSTRACE" show "$WORK/sig-$sig.wst"
  expect_in "$WORK/out" "socketpair("
done

done_testing
