#!/usr/bin/env bash
# The Windows ping-pong under Wine: untraced, and under `wstrace.exe record -q` without and with
# payload capture, run in turn, round after round; prints medians and ratios.
# Usage: wine_pingpong_bench.sh SOURCE_DIR [ROUNDS] [RUNS]
set -euo pipefail
src=$1 rounds=${2:-20000} runs=${3:-5}
run=$src/scripts/wine-run
w=$src/build/win64/bin/wstrace.exe
pp=$src/build/win64/tests/targets/wpingpong.exe
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; "$run" --stop' EXIT
"$run" --start
time_ms() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000))
}
declare -a t_base t_ws0 t_wsd
"$run" "$pp" 100 >/dev/null 2>&1  # warm the prefix
for _ in $(seq "$runs"); do
  t_base+=("$(time_ms "$run" "$pp" "$rounds")")
  t_ws0+=("$(time_ms "$run" "$w" record -q -s 0 -o "$tmp/s0.wst" -- "$pp" "$rounds")")
  t_wsd+=("$(time_ms "$run" "$w" record -q -o "$tmp/sd.wst" -- "$pp" "$rounds")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
base=$(median "${t_base[@]}") ws0=$(median "${t_ws0[@]}") wsd=$(median "${t_wsd[@]}")
ratio() { awk -v a="$1" -v b="$base" 'BEGIN {printf "%.3f", a / b}'; }
echo "Windows ping-pong under Wine: $rounds round trips (32 bytes each way), median of $runs runs"
printf '  %-40s %9s ms   1.000\n' "untraced" "$base"
printf '  %-40s %9s ms   %s   (goal <= 1.10)\n' "wstrace.exe record -q -s 0" "$ws0" "$(ratio "$ws0")"
printf '  %-40s %9s ms   %s   (goal <= 1.10)\n' "wstrace.exe record -q (snaplen 1024)" "$wsd" "$(ratio "$wsd")"
