#!/usr/bin/env bash
# `make bench`: every benchmark, each printing its figures and ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
build/bin/trace_bench "${TRACE_BENCH_EVENTS:-10000000}"
