#!/usr/bin/env bash
# Recording as a whole: every call accounted for under stress, a collector that dies, programs
# the agent cannot reach, bad command lines and outputs, a disk that fills up.
# Run as: SCRIPT WSTRACE SRC WORK PROGRAMS_DIR
. "$(dirname "$0")/lib.sh"
PROGRAMS=$4

# count_events FILE: prints "calls dropped" — traced calls (not process facts) and drop totals.
# An exit without a status stands for the agent's own exit record that a full ring dropped
# (these programs are never killed), so it is taken off the drops.
count_events() {
  "$WSTRACE" show --json "$1" | python3 -c '
import json, sys
calls = dropped = 0
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "drops":
        dropped += e["args"]["dropped"]
    elif e["event"] == "process_exit":
        dropped -= "exit_code" not in e["args"]
    elif e["event"] not in ("process_start", "thread_name", "fork"):  # (stress counts socket calls)
        calls += 1
print(calls, dropped)'
}

# 1. Stress: 8 threads; recorded calls + dropped records == calls made, with the default rings
#    and with rings so small that records must be dropped.
for ring in default 16; do
  args=()
  [ "$ring" = default ] || args=(--ring-kib "$ring")
  expect_exit 0 "$WSTRACE" record -q "${args[@]}" -o "$WORK/stress.wst" -- "$PROGRAMS/stress" 8 5000
  made=$(cat "$WORK/out")
  read -r calls dropped < <(count_events "$WORK/stress.wst")
  checks=$((checks + 1))
  [ $((calls + dropped)) -eq "$made" ] ||
    fail "ring $ring: $calls recorded + $dropped dropped != $made calls made"
  if [ "$ring" = 16 ]; then
    checks=$((checks + 1))
    [ "$dropped" -gt 0 ] || fail "16 KiB rings under 8 busy threads should have dropped records"
    expect_exit 0 "$WSTRACE" info "$WORK/stress.wst"
    expect_in "$WORK/out" "dropped    $dropped records"
    # diagnose names the drops (whose, how many) and weakens what rests on the missing calls:
    # a socket whose close was dropped is "not closed" only maybe.
    expect_exit 0 "$WSTRACE" diagnose --json "$WORK/stress.wst"
    checks=$((checks + 1))
    python3 - "$WORK/out" "$dropped" <<'PY' || fail "diagnose of a trace with drops"
import json, re, sys
found = [json.loads(l) for l in open(sys.argv[1])]
lost = [f for f in found if f["rule"] == "tracing-lost"]
assert len(lost) == 1 and re.match(r"%s records of stress\[\d+\] dropped: its ring was full$" % sys.argv[2],
                                   lost[0]["title"]), lost
over_gaps = {"not-closed", "long-gap", "busy-wait", "connect-timeout"}
for f in found:
    assert f["severity"] != "error", f
    if f["rule"] in over_gaps or "CLOSE_WAIT" in f["title"]:
        assert "may be due to dropped records (" in f["title"], f
        assert f["severity"] == "info" and f["counts"]["records dropped"], f
PY
  fi
done

# Signal handlers that make traced calls while threads are inside traced calls, and a fork
# while threads are busy: the program is unaffected and every call is still accounted for.
expect_exit 0 "$WSTRACE" record -q -o "$WORK/sig.wst" -- "$PROGRAMS/stress" 4 20000 signals fork
made=$(cat "$WORK/out")
read -r calls dropped < <(count_events "$WORK/sig.wst")
checks=$((checks + 1))
[ $((calls + dropped)) -eq "$made" ] || fail "signals+fork: $calls recorded + $dropped dropped != $made made"
checks=$((checks + 1))
[ "$("$WSTRACE" show --json "$WORK/sig.wst" | grep -c '"event":"process_start"')" -eq 2 ] ||
  fail "the forked child should have its own process_start"

# 2. The collector dies: the program runs on, unaffected, and the trace reads up to the end of
#    what was written.
rm -f "$WORK/control" "$WORK/report" "$WORK/waiter.out"
mkfifo "$WORK/control" "$WORK/waiter.out"
"$WSTRACE" record -q -o "$WORK/killed.wst" -- "$PROGRAMS/waiter" "$WORK/control" "$WORK/report" 2000 \
  >"$WORK/waiter.out" 2>"$WORK/waiter.err" &
collector=$!
exec 3<"$WORK/waiter.out"
read -r -t 20 ready <&3 || ready=""       # the program says ready once it runs and was traced
checks=$((checks + 1))
[ "$ready" = ready ] || fail "waiter did not start under wstrace"
# Wait (bounded) until the collector has written the program's first calls, then kill it.
for _ in $(seq 1 200); do
  shown=$("$WSTRACE" show "$WORK/killed.wst" 2>/dev/null)  # exit 3: the trace is not closed yet
  [[ $shown == *"socketpair("* ]] && break
  sleep 0.05
done
kill -KILL "$collector"
wait "$collector" 2>/dev/null
echo go >"$WORK/control"                   # blocks until the program opens the fifo
cat <&3 >/dev/null                         # end of file: the program has exited
exec 3<&-
expect_in "$WORK/report" "done 2000"
expect_exit 3 "$WSTRACE" show "$WORK/killed.wst"
expect_in "$WORK/out" "socketpair("
expect_in "$WORK/err" "no end marker"
rm -f /dev/shm/wstrace-"$collector"-*

# 3. Programs the agent cannot reach, and programs that are not there.
expect_exit 1 "$WSTRACE" record -q --engine preload -o "$WORK/static.wst" -- \
  "$PROGRAMS/static_hello"
expect_in "$WORK/err" "statically linked"
expect_lines "$WORK/err" 1
checks=$((checks + 1))
[ ! -e "$WORK/static.wst" ] || fail "no trace should be written for a program that never ran"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
  cp "$PROGRAMS/waiter" "$WORK/suid"
  chown nobody "$WORK/suid" && chmod u+s "$WORK/suid"
  expect_exit 1 "$WSTRACE" record -q -o "$WORK/suid.wst" -- "$WORK/suid" a b 1
  expect_in "$WORK/err" "setuid"
fi
# The loader refuses the agent (here an agent file it cannot load, as a noexec /dev/shm or a
# missing library would make it): the trace and record say the program was not seen, instead
# of a trace of a program that made no calls.
mkdir -p "$WORK/broken/bin" "$WORK/broken/lib"
cp "$WSTRACE" "$WORK/broken/bin/" && : >"$WORK/broken/lib/libwstrace-agent.so"
expect_exit 0 "$WORK/broken/bin/wstrace" record -o "$WORK/broken.wst" -- "$PROGRAMS/stress" 1 1
expect_in "$WORK/err" "agent never started in the program"
"$WSTRACE" show --json "$WORK/broken.wst" >"$WORK/broken.json" || fail "the trace of an unloaded agent reads"
expect_in "$WORK/broken.json" '"event":"tracing_lost"'
expect_exit 127 "$WSTRACE" record -q -o "$WORK/x.wst" -- no-such-program-wstrace
expect_in "$WORK/err" "not found"
: >"$WORK/not-exec" && chmod 644 "$WORK/not-exec"
expect_exit 126 "$WSTRACE" record -q -o "$WORK/x.wst" -- "$WORK/not-exec"
expect_in "$WORK/err" "not executable"
expect_exit 1 "$WSTRACE" record -q -o "$WORK/no/such/dir/x.wst" -- "$PROGRAMS/stress" 1 1
expect_in "$WORK/err" "cannot create"
expect_exit 2 "$WSTRACE" record -q -s lots -o "$WORK/x.wst" -- "$PROGRAMS/stress" 1 1
expect_in "$WORK/err" "-s takes"

# 4. The program's exit status is wstrace's.
expect_exit 2 "$WSTRACE" record -q -o "$WORK/x.wst" -- "$PROGRAMS/stress"

# 5. The disk fills up while recording: one clear message, the program runs to its end, its
#    exit status is kept, and the trace so far reads.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  mkdir -p "$WORK/small"
  unshare --mount sh -c "mount -t tmpfs -o size=256k tmpfs '$WORK/small' &&
    '$WSTRACE' record -q -o '$WORK/small/t.wst' -- '$PROGRAMS/stress' 2 20000 >'$WORK/full.out' 2>'$WORK/full.err';
    echo \$? >'$WORK/full.rc'; cp '$WORK/small/t.wst' '$WORK/full.wst'"
  checks=$((checks + 1))
  [ "$(cat "$WORK/full.rc")" = 0 ] || fail "a full disk must not change the program's exit status"
  expect_in "$WORK/full.out" "80006"
  expect_in "$WORK/full.err" "disk full"
  expect_exit 3 "$WSTRACE" show "$WORK/full.wst"
  expect_in "$WORK/out" "socketpair("
fi

done_testing
