#!/usr/bin/env bash
# record's engines: chosen by name at run time (`--engine`, auto meaning preload for a program
# that goes through libc), an unknown name refused before anything runs, and the live lines, the summary and the findings
# at the end all taken from the engine's events, never from reading the trace file again.
# Run as: SCRIPT WSTRACE SRC WORK PROGRAMS_DIR
. "$(dirname "$0")/lib.sh"
PROGRAMS=$4

# A program with a finding: three connects refused on loopback.
cat >"$WORK/refuse.py" <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
port = s.getsockname()[1]
s.close()
for _ in range(3):
    try:
        socket.create_connection(("127.0.0.1", port)).close()
    except ConnectionRefusedError:
        pass
PY

# 1. Each engine name records the same calls (stress makes a fixed number of them).
for engine in auto preload; do
  expect_exit 0 "$WSTRACE" record --engine "$engine" -o "$WORK/$engine.wst" -- \
    "$PROGRAMS/stress" 1 50
  grep '^wstrace: 1 process' "$WORK/err" | sed 's/; trace in .*//' >"$WORK/$engine.summary"
  expect_exit 0 "$WSTRACE" info "$WORK/$engine.wst"
  expect_in "$WORK/out" "complete   yes"
  expect_in "$WORK/out" "capture    engine preload,"  # (the trace names its engine)
done
expect_lines "$WORK/auto.summary" 1
expect_same "$WORK/auto.summary" "$WORK/preload.summary"

# 2. An unknown engine: one message naming the known ones, exit 2, nothing run or written.
expect_exit 2 "$WSTRACE" record --engine kernel0 -o "$WORK/none.wst" -- touch "$WORK/ran"
expect_in "$WORK/err" \
  "wstrace: unknown engine 'kernel0': the engines of this build are auto, preload"
expect_lines "$WORK/err" 1
checks=$((checks + 1))
[ ! -e "$WORK/ran" ] && [ ! -e "$WORK/none.wst" ] ||
  fail "an unknown engine must run and write nothing"
expect_exit 0 "$WSTRACE" record --help
expect_in "$WORK/out" "auto, preload"

# 3. The findings at the end of record are those of `diagnose` on its trace, byte for byte.
expect_exit 0 "$WSTRACE" record -o "$WORK/refused.wst" -- python3 "$WORK/refuse.py"
expect_in "$WORK/err" "wstrace: findings (wstrace diagnose $WORK/refused.wst)"
sed -n '/^wstrace: findings (/,$p' "$WORK/err" | tail -n +3 >"$WORK/record.findings"
expect_exit 0 "$WSTRACE" diagnose "$WORK/refused.wst"
expect_in "$WORK/out" "connect-failed: 3 connects to 127.0.0.1:"
expect_same "$WORK/out" "$WORK/record.findings"

# 4. ... worked out from the events as they came: the program removes the trace file while it
#    is written (the file lives on, unnamed, until wstrace closes it), and record still prints
#    the findings; the file is opened once, to write it.
expect_exit 0 "$WSTRACE" record -o "$WORK/gone.wst" -- \
  sh -c 'rm -f "$1" && exec python3 "$2"' sh "$WORK/gone.wst" "$WORK/refuse.py"
expect_in "$WORK/err" "error   connect-failed: 3 connects to 127.0.0.1:"
expect_not_in "$WORK/err" "cannot"
checks=$((checks + 1))
[ ! -e "$WORK/gone.wst" ] || fail "the program removed the trace"
expect_exit 0 strace -o "$WORK/strace.txt" -e trace=open,openat \
  "$WSTRACE" record -o "$WORK/once.wst" -- python3 "$WORK/refuse.py"
expect_in "$WORK/err" "error   connect-failed: 3 connects to 127.0.0.1:"
checks=$((checks + 1))
opens=$(grep -c 'once\.wst' "$WORK/strace.txt")
[ "$opens" -eq 1 ] ||
  fail "record opened its trace $opens times: $(grep 'once\.wst' "$WORK/strace.txt")"

done_testing
