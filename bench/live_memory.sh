#!/usr/bin/env bash
# The live page's memory after CALLS calls (10 M by default): `wstrace ui` of a synthetic trace
# played as fast as it goes into Chromium, the page holding at most HOLD calls (default
# 100000, the page's own default); live_memory.js prints its JS heap along the way. Needs the
# report tests' playwright-core (ctest -R report_live installs it).
# Usage: live_memory.sh BUILD_DIR [CALLS] [HOLD] [SCENARIO]   (SCENARIO: bench or conns)
set -euo pipefail
build=$(cd "$1" && pwd) calls=${2:-10000000} hold=${3:-100000} scenario=${4:-bench}
node_dir=$build/tests/report_node
[ -f "$node_dir/node_modules/playwright-core/package.json" ] ||
  { echo "live_memory: run 'ctest --preset linux -R report_live' first (playwright-core)" >&2; exit 1; }
exec node "$(dirname "$0")/live_memory.js" "$node_dir" "${WSTRACE_CHROMIUM:-/usr/bin/chromium}" \
  "$build/bin/wstrace" "$calls" "$hold" "$scenario"
