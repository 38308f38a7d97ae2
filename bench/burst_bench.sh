#!/usr/bin/env bash
# A burst of socket calls: THREADS threads each sending and receiving CALLS messages on a
# socketpair as fast as they can (tests/programs/stress), timed untraced, under the preload
# engine, under the kernel engine (when it can run here: root, BTF) and under strace. Prints
# the median of RUNS runs of each: wall time, CPU time (user + system of the program and of
# wstrace, which counts the kernel engine's BPF programs) and CPU time per call traced, with
# the kernel engine's against the preload engine's (the goal: within 2 times).
# Usage: burst_bench.sh BUILD_DIR [THREADS] [CALLS] [RUNS]
set -euo pipefail
build=$1 threads=${2:-2} calls=${3:-100000} runs=${4:-5}
w=$build/bin/wstrace
stress=$build/tests/programs/stress
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

run() {  # run NAME CMD…: appends the wall µs and the CPU µs of one run to $tmp/NAME.{wall,cpu}
  local name=$1 t0 t1
  shift
  t0=$(date +%s%N)
  /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >"$tmp/out" 2>/dev/null
  t1=$(date +%s%N)
  echo $(((t1 - t0) / 1000)) >>"$tmp/$name.wall"
  awk '{printf "%d\n", ($1 + $2) * 1000000}' "$tmp/cpu" >>"$tmp/$name.cpu"
}
ebpf_why=""
"$w" record -q --engine ebpf -o /dev/null -- true 2>"$tmp/ebpf.err" ||
  ebpf_why=$(cat "$tmp/ebpf.err")
# Rings that hold the burst (the drops, if any, are printed): recording is measured, not dropping.
for _ in $(seq "$runs"); do
  run base "$stress" "$threads" "$calls"
  made=$(cat "$tmp/out")
  run preload "$w" record -q --ring-kib 16384 -o "$tmp/pre.wst" -- "$stress" "$threads" "$calls"
  [ -z "$ebpf_why" ] &&
    run ebpf "$w" record -q --engine ebpf -o "$tmp/eb.wst" -- \
      "$stress" "$threads" "$calls"
  run strace strace -f -qq -e trace=network,read,write -o /dev/null "$stress" "$threads" "$calls"
done
median() { sort -n "$tmp/$1.$2" | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)]/1000}'; }
per_call() {  # extra CPU µs per call over the untraced run
  awk -v a="$(median "$1" cpu)" -v b="$(median base cpu)" -v n="$made" \
    'BEGIN {printf "%.2f", (a - b) * 1000 / n}'
}
echo "burst: $threads threads, $made socket calls in all, median of $runs runs"
printf '  %-34s %9s %12s %22s\n' "run" "wall ms" "cpu ms" "cpu us/call (traced)"
for name in base preload ebpf strace; do
  [ -s "$tmp/$name.cpu" ] || continue
  case $name in
    base) label="untraced" ;;
    preload) label="wstrace record (preload)" ;;
    ebpf) label="wstrace record --engine ebpf" ;;
    strace) label="strace -f" ;;
  esac
  printf '  %-34s %9s %12s %22s\n' "$label" "$(median $name wall)" "$(median $name cpu)" \
    "$([ $name = base ] && echo - || per_call $name)"
done
if [ -z "$ebpf_why" ]; then
  printf '  kernel engine / preload engine, CPU per call: %s x (goal <= 2); dropped: preload %s, ebpf %s\n' \
    "$(awk -v a="$(per_call ebpf)" -v b="$(per_call preload)" 'BEGIN {printf "%.2f", a / b}')" \
    "$("$w" info --json "$tmp/pre.wst" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("dropped", 0))')" \
    "$("$w" info --json "$tmp/eb.wst" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("dropped", 0))')"
else
  echo "  the kernel engine: skipped: $ebpf_why"
fi
