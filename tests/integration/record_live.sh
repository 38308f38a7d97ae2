#!/usr/bin/env bash
# How the live view starts a browser and ends, without a browser: `--open` runs the default
# browser (here a fake `xdg-open` first on PATH, which hands the test its argument and ends, or
# stays, as xdg-open does while a browser it started runs) on the URL wstrace printed; the traced
# program's exit status still reaches the trace and record's own exit status, with the preload
# engine and the kernel engine (where BPF loads), and `wstrace ui FILE --open` opens its URL.
# `attach --ui --open` (the kernel engine) likewise, on a program already running.
# Ctrl+C (SIGINT) ends the serving that follows: record exits with the program's status, ui
# with 0, the trace complete and readable. Without an xdg-open, wstrace says so and serves on.
# Run as: SCRIPT WSTRACE SRC WORK PROGRAMS_DIR
. "$(dirname "$0")/lib.sh"

mkdir -p "$WORK/bin"
mkfifo "$WORK/opened" "$WORK/release"
cat >"$WORK/bin/xdg-open" <<EOF
#!/bin/sh
printf '%s\n' "\$1" >"$WORK/opened"
[ ! -e "$WORK/stay" ] || cat "$WORK/release" >/dev/null
EOF
chmod +x "$WORK/bin/xdg-open"
exec 6<>"$WORK/opened"  # (open both ways: the fake's write never waits for a reader)
exec 7<>"$WORK/release"  # the fakes that stay read it to its end: when this script ends

# start NAME ARGS…: wstrace ARGS in the background with the fake xdg-open first on PATH ($pid);
# its stderr is read from fd 5 by until_line and kept in $WORK/NAME.err.
start() {
  local name=$1
  shift
  mkfifo "$WORK/$name.fifo"
  PATH="${browser_path:-$WORK/bin:$PATH}" "$WSTRACE" "$@" >/dev/null 2>"$WORK/$name.fifo" &
  pid=$!
  exec 5<"$WORK/$name.fifo"
  : >"$WORK/$name.err"
}

# until_line NAME TEXT: reads wstrace's stderr until a line holds TEXT ($line); fails if it ends
# first.
until_line() {
  checks=$((checks + 1))
  while IFS= read -r -t 60 -u 5 line; do
    printf '%s\n' "$line" >>"$WORK/$1.err"
    case "$line" in *"$2"*) return 0 ;; esac
  done
  fail "$1: wstrace printed no line with '$2' (in 60 s): $(cat "$WORK/$1.err")"
  kill -KILL "$pid"
  return 1
}

# opened_url NAME URL: the fake xdg-open was started, with URL as its argument.
opened_url() {
  local got=""
  checks=$((checks + 1))
  read -r -t 60 -u 6 got || fail "$1: xdg-open was not started"
  [ "$got" = "$2" ] || fail "$1: xdg-open was started on '$got', wstrace printed '$2'"
}

# interrupt NAME WANT: SIGINT to wstrace; it ends (its stderr closes) with status WANT.
interrupt() {
  local got
  kill -INT "$pid"
  checks=$((checks + 1))
  while :; do
    IFS= read -r -t 60 -u 5 line
    got=$?
    [ "$got" -eq 0 ] || break
    printf '%s\n' "$line" >>"$WORK/$1.err"
  done
  exec 5<&-
  if [ "$got" -gt 128 ]; then
    fail "$1: wstrace still runs 60 s after SIGINT: $(cat "$WORK/$1.err")"
    kill -KILL "$pid"
  fi
  wait "$pid"
  got=$?
  [ "$got" -eq "$2" ] || fail "$1: wstrace ended with $got after SIGINT, expected $2: $(cat "$WORK/$1.err")"
}

# record_open NAME ENGINE: record --ui --open on a shell that exits 3 once the browser started.
record_open() {
  local name=$1 engine=$2 url
  mkfifo "$WORK/$name.go"
  start "$name" record -q --ui --open --engine "$engine" -o "$WORK/$name.wst" -- \
    sh -c 'read -r _ <"$1"; exit 3' sh "$WORK/$name.go"
  until_line "$name" "live view at " || return
  url=${line##*live view at }
  opened_url "$name" "$url"
  timeout 60 sh -c 'echo go >"$1"' sh "$WORK/$name.go" || fail "$name: the program never read its go"
  until_line "$name" "recording over; the live view stays at $url until Ctrl+C" || return
  interrupt "$name" 3
  trace_ends_with_3 "$name"
}

# attach_open NAME: attach --ui --open (the kernel engine) to a running shell that exits 3 once
# the browser started: the URL is printed once attached, the shell's end ends the recording,
# Ctrl+C the serving (0); the trace is complete, with the shell's status.
attach_open() {
  local name=$1 url target
  mkfifo "$WORK/$name.go"
  sh -c 'read -r _ <"$1"; exit 3' sh "$WORK/$name.go" &
  target=$!
  start "$name" attach -q --ui --open -o "$WORK/$name.wst" "$target"
  until_line "$name" "live view at " || return
  url=${line##*live view at }
  opened_url "$name" "$url"
  timeout 60 sh -c 'echo go >"$1"' sh "$WORK/$name.go" || fail "$name: the program never read its go"
  wait "$target"
  until_line "$name" "recording over; the live view stays at $url until Ctrl+C" || return
  interrupt "$name" 0
  trace_ends_with_3 "$name"
}

# trace_ends_with_3 NAME: $WORK/NAME.wst is complete, its one process ended with status 3.
trace_ends_with_3() {
  expect_exit 0 "$WSTRACE" info --json "$WORK/$1.wst"
  checks=$((checks + 1))
  python3 - "$WORK/out" <<'EOF' || fail "$1: the trace: $(head -c 2000 "$WORK/out")"
import json, sys
info = json.load(open(sys.argv[1]))
assert info["complete"], "the trace is complete"
codes = [p.get("exit_code") for p in info["processes"]]
assert codes == [3], "the program's exit status in the trace: %r" % codes
EOF
}

# 1. record --ui --open, each engine (xdg-open ending at once, and staying); Ctrl+C while serving.
record_open quick preload
touch "$WORK/stay"
record_open preload preload
if "$WSTRACE" record -q --engine ebpf -o "$WORK/probe.wst" -- true 2>"$WORK/probe.err"; then
  record_open ebpf ebpf
  attach_open attach
else
  echo "the kernel engine is not tried here: $(cat "$WORK/probe.err")"
fi

# 2. ui --open on that trace; Ctrl+C ends it with 0.
start ui ui --open "$WORK/preload.wst"
if until_line ui "playback of $WORK/preload.wst at "; then
  url=${line##* at }
  url=${url%% (Ctrl+C ends it)}
  opened_url ui "$url"
  interrupt ui 0
fi

# 3. No xdg-open to be found: said, and the URL still served until Ctrl+C.
mkdir -p "$WORK/empty"
browser_path=$WORK/empty start nobrowser ui --open "$WORK/preload.wst"
if until_line nobrowser "cannot start a browser (xdg-open: No such file or directory): open the URL above yourself"; then
  interrupt nobrowser 0
  expect_in "$WORK/nobrowser.err" "wstrace: playback of $WORK/preload.wst at http://127.0.0.1:"
fi

exec 7>&-  # the fakes end
done_testing
