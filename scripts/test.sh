#!/usr/bin/env bash
# `make test`: every test of every build (Linux, ASan+UBSan, Windows under Wine, fuzz targets).
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0
for preset in linux asan win64 fuzz; do
  echo "== tests: $preset"
  ctest --preset "$preset" --timeout 600 -j "$(nproc)" || rc=1
done
exit $rc
