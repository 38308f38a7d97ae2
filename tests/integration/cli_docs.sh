#!/usr/bin/env bash
# docs/events.md is generated from the event table; it must not drift from it.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "$WSTRACE" schema --markdown
expect_same "$SRC/docs/events.md" "$WORK/out"
expect_exit 0 "$WSTRACE" schema
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "connect" in d and any(f["name"]=="addr" for f in d["connect"]["fields"])' "$WORK/out" || fail "schema JSON"
done_testing
