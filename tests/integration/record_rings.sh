#!/usr/bin/env bash
# The shared rings under pressure and under attack: a program that overwrites them, names a
# neighbour created first, a small /dev/shm, more threads than rings.
# Run as: SCRIPT WSTRACE SRC WORK PROGRAMS_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_record.sh"
PROGRAMS=$4

# drops_json FILE: one line per drops event: "pid reason dropped threads".
drops_of() {
  "$WSTRACE" show --json "$1" | python3 -c '
import json, sys
for line in sys.stdin:
    e = json.loads(line)
    if e["event"] == "drops":
        a = e["args"]
        print(e["pid"], a.get("reason", 0), a["dropped"], a.get("threads", 0))'
}

# 1. A program that rewrites the region's geometry, its ring's head and tail, record lengths,
#    slot states and pids while it makes calls: the collector survives, the program runs to its
#    end, the trace reads, and the damage is counted as drops of that process.
expect_exit 0 "$WSTRACE" record -q -o "$WORK/hostile.wst" -- "$PROGRAMS/hostile" 40
expect_in "$WORK/out" "hostile done"
expect_exit 0 "$WSTRACE" info "$WORK/hostile.wst"
expect_in "$WORK/out" "ring damaged by the program"
expect_exit 0 "$WSTRACE" info --json "$WORK/hostile.wst"
checks=$((checks + 1))
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["dropped_ring_damaged"] >= 1, j
procs = [p for p in j["processes"] if "hostile" in p["cmdline"]]
assert len(procs) == 1 and procs[0]["dropped"] >= 1 and procs[0]["calls"] >= 1, procs
assert all(p["pid"] != 0 for p in j["processes"]), j["processes"]
' "$WORK/out" || fail "info should show the hostile process with its damaged ring's drops"

# 2. Region names a neighbour could guess (wstrace's pid, then a counter) exist already.
expect_exit 0 sh -c 'echo $$ >"$4"; for n in 0 1 2 3; do : >/dev/shm/wstrace-$$-$n; done
  exec "$1" record -q -o "$2" -- "$3" 1 10' sh "$WSTRACE" "$WORK/names.wst" "$PROGRAMS/stress" \
  "$WORK/names.pid"
expect_in "$WORK/out" "23"
for n in 0 1 2 3; do rm -f "/dev/shm/wstrace-$(cat "$WORK/names.pid")-$n"; done

# 3. A small /dev/shm: the rings are reserved when made, so that a shortage shows before the
#    program runs (fewer, smaller rings with a warning; or a refusal), never as a SIGBUS.
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
  small_shm() {  # small_shm SIZE USED_KIB OUT CMD…: CMD with a /dev/shm of SIZE, USED_KIB taken
    local size=$1 used=$2 out=$3
    shift 3
    unshare --mount sh -c 'mount -t tmpfs -o size="$1" tmpfs /dev/shm || exit 99
      [ "$2" = 0 ] || head -c "$2"K /dev/zero >/dev/shm/other || exit 99
      shift 3; "$@"' sh "$size" "$used" "$out" "$@" >"$out.out" 2>"$out.err"
    echo $? >"$out.rc"
  }
  # 64 MiB, as a container has by default, 60 MiB of it used by others; 8 busy threads.
  small_shm 64m 61440 "$WORK/shm64" "$WSTRACE" record -q -o "$WORK/shm64.wst" -- \
    "$PROGRAMS/stress" 8 20000
  checks=$((checks + 1))
  [ "$(cat "$WORK/shm64.rc")" = 0 ] || fail "64 MiB /dev/shm: exit $(cat "$WORK/shm64.rc"): $(cat "$WORK/shm64.err")"
  expect_in "$WORK/shm64.out" "320024"
  expect_in "$WORK/shm64.err" "warning: /dev/shm has"
  expect_in "$WORK/shm64.err" "recording with"
  accounted "$WORK/shm64.wst" 320024
  # Too small for the smallest rings: one clear refusal, the program never runs, no trace.
  small_shm 256k 0 "$WORK/shm-tiny" "$WSTRACE" record -q -o "$WORK/tiny.wst" -- \
    "$PROGRAMS/stress" 1 10
  checks=$((checks + 1))
  [ "$(cat "$WORK/shm-tiny.rc")" = 1 ] || fail "tiny /dev/shm should be refused with exit 1"
  expect_in "$WORK/shm-tiny.err" "not enough shared memory for the rings"
  expect_lines "$WORK/shm-tiny.err" 1
  expect_lines "$WORK/shm-tiny.out" 0
  checks=$((checks + 1))
  [ ! -e "$WORK/tiny.wst" ] || fail "no trace should be written when the rings do not fit"

  # 4. More threads than rings (a /dev/shm with room for 4): what the threads without a ring
  #    lose is charged to their process, with the reason, and everything is accounted for.
  small_shm 768k 0 "$WORK/few" "$WSTRACE" record -q -o "$WORK/few.wst" -- \
    "$PROGRAMS/stress" 16 2000
  checks=$((checks + 1))
  [ "$(cat "$WORK/few.rc")" = 0 ] || fail "768 KiB /dev/shm: exit $(cat "$WORK/few.rc"): $(cat "$WORK/few.err")"
  expect_in "$WORK/few.err" "recording with 4 rings"
  accounted "$WORK/few.wst" 64048
  drops_of "$WORK/few.wst" >"$WORK/few.drops"
  checks=$((checks + 1))
  awk '$2 == 2 { n++; if ($1 == 0 || $4 < 1) bad++ } END { exit !(n > 0 && !bad) }' \
    "$WORK/few.drops" || fail "no-free-ring drops should name their process: $(cat "$WORK/few.drops")"
  expect_exit 0 "$WSTRACE" info "$WORK/few.wst"
  expect_in "$WORK/out" "no free ring:"
  expect_in "$WORK/out" "rings taken"
fi

# 5. Rings come back from threads that end without wstrace reaping them: 300 processes that a
#    traced shell starts and reaps itself (each takes a ring for its start and exit records), then
#    a connect, with the default 256 rings: nothing is dropped and the connect is there.
expect_exit 0 "$WSTRACE" record -q -o "$WORK/many.wst" -- bash -c \
  'for i in $(seq 300); do /bin/true; done; curl -s -o /dev/null http://127.0.0.1:1/; true'
drops_of "$WORK/many.wst" >"$WORK/many.drops"
expect_lines "$WORK/many.drops" 0
"$WSTRACE" show "$WORK/many.wst" >"$WORK/many.show"
expect_in "$WORK/many.show" "connect(sock="

done_testing
