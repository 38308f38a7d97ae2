#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/trace_bench "${TRACE_BENCH_EVENTS:-10000000}"
echo
build/bin/feed_bench "${FEED_BENCH_EVENTS:-1000000}"
echo
bench/inspect_bench.py build/bin/wstrace build/bench-inspect "${INSPECT_BENCH_EVENTS:-10000000}"
echo
bench/export_bench.py build/bin/wstrace build/bench-export "${EXPORT_BENCH_BYTES:-1073741824}"
# Against another build (e.g. one of an earlier commit): BENCH_BASELINE=/path/to/old/wstrace.
if [ -n "${BENCH_BASELINE:-}" ]; then
  echo
  bench/compare_bench.py build/bin/wstrace "$BENCH_BASELINE" build/bench-compare \
    "${COMPARE_BENCH_EVENTS:-2000000}"
fi
echo
bench/pingpong_bench.sh build "${PINGPONG_ROUNDS:-50000}" "${PINGPONG_RUNS:-5}"
echo
bench/burst_bench.sh build "${BURST_THREADS:-2}" "${BURST_CALLS:-100000}" "${BURST_RUNS:-5}"
# (the live view with a browser following: once the report tests installed playwright-core)
if [ -f build/tests/report_node/node_modules/playwright-core/package.json ]; then
  echo
  bench/live_bench.sh build "${LIVE_BENCH_ROUNDS:-50000}"
fi
echo
bench/wine_pingpong_bench.py "$PWD" "${WINE_PINGPONG_ROUNDS:-10000}" "${WINE_PINGPONG_RUNS:-7}"
