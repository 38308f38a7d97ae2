#!/usr/bin/env bash
# The live view's older calls (`GET /calls`) on synthetic traces of SIZE events (1 M and 10 M by
# default), served by `wstrace ui`: how long the last 1,000 calls before the end take, and how
# long an event stream of the same server stalled meanwhile (older_calls_bench.py).
# Usage: older_calls_bench.sh BUILD_DIR [SIZE...]  (SIZE: N for bench:N, or conns:N)
set -euo pipefail
build=$(cd "$1" && pwd)
shift
[ $# -gt 0 ] || set -- 1000000 10000000
exec python3 "$(dirname "$0")/older_calls_bench.py" "$build/bin/wstrace" "$@"
