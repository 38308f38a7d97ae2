#!/usr/bin/env bash
# Proves that a change of the inspection code changed no output: runs every reading command,
# every export and the report of two wstrace builds over a folder of traces and compares the
# results byte for byte. Used for refactors that must not change what users see.
#   scripts/same_output.sh OLD_WSTRACE NEW_WSTRACE TRACE_DIR WORK_DIR
# Each build writes into WORK_DIR/old and WORK_DIR/new; the differing files are listed and the
# exit status is 1 when there is any. SQLite exports are compared as `sqlite3 .dump` text.
set -u
OLD=$1 NEW=$2 TRACES=$3 WORK=$4
FILTER='failed or rport == 53 or bytes > 100'

# One line a run: a name for the output and the arguments after the trace.
RUNS=(
  "show|show"
  "show-json|show --json"
  "show-csv|show --csv"
  "show-hex|show -x --relative"
  "show-filter|show --filter FILTER"
  "info|info"
  "info-json|info --json"
  "stats|stats"
  "stats-json|stats --json"
  "stats-filter|stats --filter FILTER"
  "conns|conns"
  "conns-json|conns --json --relative"
  "conns-filter|conns --filter FILTER"
  "dns|dns"
  "dns-json|dns --json"
  "http|http -H"
  "http-json|http --json"
  "diagnose|diagnose"
  "diagnose-json|diagnose --json"
  "replay|replay --speed 0 --relative"
  "replay-filter|replay --speed 0 --json --filter FILTER"
)
EXPORTS=(csv jsonl text pcapng sqlite chrome)

run_build() {  # run_build BINARY OUT_DIR
  local bin=$1 out=$2 trace name run label args
  mkdir -p "$out"
  for trace in "$TRACES"/*.wst; do
    name=$(basename "$trace" .wst)
    for run in "${RUNS[@]}"; do
      label=${run%%|*}
      read -r -a args <<<"${run#*|}"
      for i in "${!args[@]}"; do [ "${args[$i]}" = FILTER ] && args[$i]=$FILTER; done
      "$bin" "${args[0]}" "$trace" "${args[@]:1}" >"$out/$name.$label" 2>&1
      echo "exit $?" >>"$out/$name.$label"
    done
    for fmt in "${EXPORTS[@]}"; do
      rm -f "$out/$name.export.$fmt"
      "$bin" export "$trace" --format "$fmt" -o "$out/$name.export.$fmt" >/dev/null 2>&1
      echo "exit $?" >"$out/$name.export.$fmt.exit"
      if [ "$fmt" = sqlite ] && [ -f "$out/$name.export.sqlite" ]; then
        sqlite3 "$out/$name.export.sqlite" .dump >"$out/$name.export.sqlite.sql" 2>&1
        rm -f "$out/$name.export.sqlite"
      fi
    done
    "$bin" export "$trace" --format pcapng --filter "$FILTER" -o "$out/$name.export.filtered.pcapng" \
      >/dev/null 2>&1
    "$bin" report -q "$trace" -o "$out/$name.report.html" >/dev/null 2>&1
    echo "exit $?" >"$out/$name.report.exit"
    "$bin" report -q "$trace" --filter "$FILTER" --max-calls 500 -o "$out/$name.report-filter.html" \
      >/dev/null 2>&1
  done
}

[ -d "$WORK/old" ] && [ -n "${SAME_OUTPUT_KEEP_OLD:-}" ] || run_build "$OLD" "$WORK/old"
rm -rf "$WORK/new"
run_build "$NEW" "$WORK/new"
if diff -rq "$WORK/old" "$WORK/new"; then
  echo "same output: $(find "$WORK/new" -type f | wc -l) files over $(ls "$TRACES"/*.wst | wc -l) traces"
else
  echo "DIFFERENT output (above)"
  exit 1
fi
