#!/usr/bin/env bash
# The live view under load: record --ui on the loopback ping-pong with Chromium following the
# page, against record without --ui (live_bench.js prints calls/s, frame times, event latency).
# Needs the report tests' playwright-core (ctest -R report_browser installs it).
# Usage: live_bench.sh BUILD_DIR [ROUNDS [RATE]]   (RATE: the calls a second the program keeps to,
# 100,000 by default: the budget; 0 = as fast as it goes)
set -euo pipefail
build=$(cd "$1" && pwd) rounds=${2:-100000} rate=${3:-100000}
node_dir=$build/tests/report_node
[ -f "$node_dir/node_modules/playwright-core/package.json" ] ||
  { echo "live_bench: run 'ctest --preset linux -R report_browser' first (playwright-core)" >&2; exit 1; }
exec node "$(dirname "$0")/live_bench.js" "$node_dir" "${WSTRACE_CHROMIUM:-/usr/bin/chromium}" \
  "$build/bin/wstrace" "$build/tests/programs/pingpong" "$rounds" "$rate"
