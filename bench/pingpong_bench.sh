#!/usr/bin/env bash
# Loopback TCP ping-pong (32-byte messages, one round trip at a time), timed untraced, under
# `wstrace record -q` without and with payload capture, and under strace, in the same run.
# Prints the median of RUNS runs of each and the ratios to the untraced run.
# Usage: pingpong_bench.sh BUILD_DIR [ROUNDS] [RUNS]
set -euo pipefail
build=$1 rounds=${2:-50000} runs=${3:-5}
w=$build/bin/wstrace
pp=$build/tests/programs/pingpong
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The four ways are run in turn, round after round, so that a change in the machine's load
# weighs on all of them alike; each figure is the median of its rounds.
time_ms() {  # time_ms CMD…: wall time of one run in ms
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}
declare -a t_base t_ws0 t_wsd t_st
for _ in $(seq "$runs"); do
  t_base+=("$(time_ms "$pp" "$rounds")")
  t_ws0+=("$(time_ms "$w" record -q -s 0 -o "$tmp/s0.wst" -- "$pp" "$rounds")")
  t_wsd+=("$(time_ms "$w" record -q -o "$tmp/sd.wst" -- "$pp" "$rounds")")
  t_st+=("$(time_ms strace -f -qq -e trace=network -o /dev/null "$pp" "$rounds")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
base=$(median "${t_base[@]}")
ws0=$(median "${t_ws0[@]}")
wsd=$(median "${t_wsd[@]}")
st=$(median "${t_st[@]}")
events=$("$w" info "$tmp/sd.wst" | awk '/^events/ {print $2}')
ratio() { awk -v a="$1" -v b="$base" 'BEGIN {printf "%.3f", a / b}'; }
echo "ping-pong over loopback TCP: $rounds round trips (32 bytes each way), median of $runs runs"
printf '  %-40s %9s ms   ratio\n' "run" "wall"
printf '  %-40s %9s ms   1.000\n' "untraced" "$base"
printf '  %-40s %9s ms   %s   (goal <= 1.05)\n' "wstrace record -q -s 0" "$ws0" "$(ratio "$ws0")"
printf '  %-40s %9s ms   %s   (goal <= 1.10)\n' "wstrace record -q (snaplen 1024)" "$wsd" "$(ratio "$wsd")"
printf '  %-40s %9s ms   %s\n' "strace -f -e trace=network" "$st" "$(ratio "$st")"
printf '  wstrace vs strace: %s times as fast; %s events recorded per run\n' \
  "$(awk -v a="$st" -v b="$wsd" 'BEGIN {printf "%.1f", a / b}')" "$events"
