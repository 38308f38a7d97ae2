#!/usr/bin/env bash
# Runs one fuzz target for a few seconds.
#   run.sh TARGET WSTRACE SEEDS CORPUS [SECONDS]   seeds: traces that the Linux build writes
#   run.sh --seeds DIR TARGET CORPUS [SECONDS]     seeds: the committed files in DIR (read only)
set -euo pipefail
if [ "$1" = --seeds ]; then
  seeds=$2 target=$3 corpus=$4 seconds=${5:-20}
  mkdir -p "$corpus"
else
  target=$1 wstrace=$2 seeds=$3 corpus=$4 seconds=${5:-20}
  rm -rf "$seeds" && mkdir -p "$seeds" "$corpus"
  "$wstrace" synth demo -o "$seeds/demo-linux.wst"
  "$wstrace" synth demo --platform windows -o "$seeds/demo-windows.wst"
  "$wstrace" synth bench:300 -o "$seeds/bench.wst"
  head -c 700 "$seeds/demo-linux.wst" > "$seeds/cut.wst"
fi
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  "$corpus" "$seeds" 2>&1 | tail -n 15
