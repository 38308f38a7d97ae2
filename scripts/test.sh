#!/usr/bin/env bash
# `make test`: every test of every build (Linux; ASan+UBSan with the fuzz targets; Windows under
# Wine), then one closing line that adds them up.
set -uo pipefail
cd "$(dirname "$0")/.."
rc=0 passed=0 failed=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
for preset in linux asan win64; do
  echo "== tests: $preset"
  ctest --preset "$preset" --timeout 600 -j "$(nproc)" 2>&1 | tee "$log"
  [ "${PIPESTATUS[0]}" -eq 0 ] || rc=1
  summary=$(grep -E '^[0-9]+% tests passed, [0-9]+ tests failed out of [0-9]+' "$log" | tail -n 1)
  if [ -z "$summary" ]; then
    rc=1
    continue
  fi
  total=$(sed -E 's/.* out of ([0-9]+).*/\1/' <<<"$summary")
  bad=$(sed -E 's/.* ([0-9]+) tests failed.*/\1/' <<<"$summary")
  passed=$((passed + total - bad))
  failed=$((failed + bad))
done
echo
echo "total: $passed passed, $failed failed"
exit $rc
