#!/usr/bin/env bash
# The Linux agent's one list of hooks (src/capture/linux/agent/hook_list.h) is what it hooks:
# the functions libwstrace-agent.so exports are exactly the list's, each listed once (that the
# hooks record what they should is the other capture_*.sh tests' part).
# Run as: capture_hook_list.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"

AGENT=$(dirname "$WSTRACE")/../lib/libwstrace-agent.so
LIST=$SRC/src/capture/linux/agent/hook_list.h
[ -f "$AGENT" ] || fail "no agent at $AGENT"

grep -oE '^WS_HOOK\([A-Za-z_0-9]+' "$LIST" | sed 's/^WS_HOOK(//' >"$WORK/listed"
checks=$((checks + 1))
listed=$(wc -l <"$WORK/listed")
[ "$listed" -ge 60 ] || fail "hook_list.h lists only $listed hooks"
checks=$((checks + 1))
dups=$(sort "$WORK/listed" | uniq -d)
[ -z "$dups" ] || fail "listed more than once: $dups"

# Every function symbol the agent defines and exports (its C++ runtime is linked in hidden).
nm -D --defined-only "$AGENT" | awk '$2 == "T" || $2 == "W" || $2 == "i" {print $3}' |
  sort >"$WORK/exported"
sort -u "$WORK/listed" >"$WORK/listed.sorted"
checks=$((checks + 1))
diff -u "$WORK/listed.sorted" "$WORK/exported" >"$WORK/diff" ||
  fail "the agent's exports differ from hook_list.h (- listed only, + exported only):
$(cat "$WORK/diff")"

done_testing
