#!/usr/bin/env bash
# Loopback TCP ping-pong (32-byte messages, one round trip at a time), timed untraced, under
# `wstrace record -q` without and with payload capture, under the kernel engine
# (`--engine ebpf`, when it can run here: root, BTF) and under strace, in the same run.
# Prints the median of RUNS runs of each (wall time, and CPU time: user + system of the program
# and of wstrace, which counts the kernel engine's BPF programs) and the ratios to the untraced
# run.
# Usage: pingpong_bench.sh BUILD_DIR [ROUNDS] [RUNS]
set -euo pipefail
build=$1 rounds=${2:-50000} runs=${3:-5}
w=$build/bin/wstrace
pp=$build/tests/programs/pingpong
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The four ways are run in turn, round after round, so that a change in the machine's load
# weighs on all of them alike; each figure is the median of its rounds.
time_ms() {  # time_ms NAME CMD…: wall time of one run in µs; its CPU µs appended to $tmp/NAME.cpu
  local name=$1 t0 t1
  shift
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >/dev/null 2>&1
  t1=$(date +%s%N)
  awk '{printf "%d\n", ($1 + $2) * 1000000}' "$tmp/cpu" >>"$tmp/$name.cpu"
  echo $(((t1 - t0) / 1000))
}
declare -a t_base t_ws0 t_wsd t_eb t_st t_wst t_ebt t_wsn
ebpf_why=""
"$w" record -q --engine ebpf -o /dev/null -- true 2>"$tmp/ebpf.err" ||
  ebpf_why=$(cat "$tmp/ebpf.err")
for _ in $(seq "$runs"); do
  t_base+=("$(time_ms base "$pp" "$rounds")")
  t_ws0+=("$(time_ms ws0 "$w" record -q -s 0 -o "$tmp/s0.wst" -- "$pp" "$rounds")")
  t_wsd+=("$(time_ms wsd "$w" record -q -o "$tmp/sd.wst" -- "$pp" "$rounds")")
  t_wsn+=("$(time_ms wsn "$w" record -q -s 0 --no-tcp-info -o "$tmp/sn.wst" -- "$pp" "$rounds")")
  t_wst+=("$(time_ms wst "$w" record -q -o /dev/null -- true)")
  if [ -z "$ebpf_why" ]; then
    t_eb+=("$(time_ms eb "$w" record -q --engine ebpf -o "$tmp/eb.wst" -- "$pp" "$rounds")")
    t_ebt+=("$(time_ms ebt "$w" record -q --engine ebpf -o /dev/null -- true)")
  fi
  t_st+=("$(time_ms st strace -f -qq -e trace=network -o /dev/null "$pp" "$rounds")")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
base=$(median "${t_base[@]}")
ws0=$(median "${t_ws0[@]}")
wsd=$(median "${t_wsd[@]}")
st=$(median "${t_st[@]}")
events=$("$w" info "$tmp/sd.wst" | awk '/^events/ {print $2}')
ratio() { awk -v a="$1" -v b="$base" 'BEGIN {printf "%.3f", a / b}'; }
cpu() {  # cpu NAME: median CPU ms of its runs, and µs per round trip
  # shellcheck disable=SC2046
  median $(cat "$tmp/$1.cpu") | awk -v r="$rounds" '{printf "%7.1f ms cpu (%.2f us/round trip)", $1, $1 * 1000 / r}'
}
echo "ping-pong over loopback TCP: $rounds round trips (32 bytes each way), median of $runs runs"
printf '  %-40s %9s ms   ratio\n' "run" "wall"
printf '  %-40s %9s ms   1.000   %s\n' "untraced" "$base" "$(cpu base)"
printf '  %-40s %9s ms   %s   %s   (goal <= 1.05)\n' "wstrace record -q -s 0" "$ws0" \
  "$(ratio "$ws0")" "$(cpu ws0)"
printf '  %-40s %9s ms   %s   %s   (goal <= 1.10)\n' "wstrace record -q (snaplen 1024)" "$wsd" \
  "$(ratio "$wsd")" "$(cpu wsd)"
# The TCP statistics the agent reads (at set-up, every second at a send or receive, at close):
# the default against --no-tcp-info.
wsn=$(median "${t_wsn[@]}")
printf '  %-40s %9s ms   %s   %s   (TCP statistics cost: %s x)\n' \
  "wstrace record -q -s 0 --no-tcp-info" "$wsn" "$(ratio "$wsn")" "$(cpu wsn)" \
  "$(awk -v a="$ws0" -v b="$wsn" 'BEGIN {printf "%.3f", a / b}')"
if [ -z "$ebpf_why" ]; then
  eb=$(median "${t_eb[@]}")
  # shellcheck disable=SC2046
  printf '  %-40s %9s ms   %s   %s   (%s x the preload engine; goal <= 2; CPU: %s x)\n' \
    "wstrace record -q --engine ebpf" "$eb" "$(ratio "$eb")" "$(cpu eb)" \
    "$(awk -v a="$eb" -v b="$wsd" 'BEGIN {printf "%.2f", a / b}')" \
    "$(awk -v a="$(median $(cat "$tmp/eb.cpu"))" -v b="$(median $(cat "$tmp/wsd.cpu"))" \
      'BEGIN {printf "%.2f", a / b}')"
  # Its start (loading and verifying the BPF programs) is a fixed cost, apart from the calls.
  wst=$(median "${t_wst[@]}")
  ebt=$(median "${t_ebt[@]}")
  printf '    start-up (record -- true): preload %s ms, ebpf %s ms; beyond it the kernel engine took %s x the preload engine'"'"'s time\n' \
    "$wst" "$ebt" "$(awk -v a="$eb" -v at="$ebt" -v b="$wsd" -v bt="$wst" \
      'BEGIN {printf "%.2f", (a - at) / (b - bt)}')"
else
  printf '  %-40s skipped: %s\n' "wstrace record -q --engine ebpf" "$ebpf_why"
fi
printf '  %-40s %9s ms   %s   %s\n' "strace -f -e trace=network" "$st" "$(ratio "$st")" \
  "$(cpu st)"
printf '  wstrace vs strace: %s times as fast; %s events recorded per run\n' \
  "$(awk -v a="$st" -v b="$wsd" 'BEGIN {printf "%.1f", a / b}')" "$events"
if [ -z "$ebpf_why" ]; then
  printf '  kernel engine vs strace: %s times as fast; %s events recorded per run\n' \
    "$(awk -v a="$st" -v b="$eb" 'BEGIN {printf "%.1f", a / b}')" \
    "$("$w" info "$tmp/eb.wst" | awk '/^events/ {print $2}')"
fi
