#!/usr/bin/env bash
# docs/events.md is generated from the event table; it must not drift from it. docs/findings.md
# has a section for every rule of the registry, in its order, and for no other.
. "$(dirname "$0")/lib.sh"
expect_exit 0 "$WSTRACE" schema --markdown
expect_same "$SRC/docs/events.md" "$WORK/out"
expect_exit 0 "$WSTRACE" schema
checks=$((checks + 1))
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "connect" in d and any(f["name"]=="addr" for f in d["connect"]["fields"])' "$WORK/out" || fail "schema JSON"
checks=$((checks + 1))
rules=$(grep -oE '^ +\{"[a-z0-9-]+",' "$SRC/src/inspect/findings/registry.cc" | tr -d ' {",')
sections=$(grep -oE '^### [a-z0-9-]+ \(' "$SRC/docs/findings.md" | cut -c5- | tr -d ' (')
[ -n "$rules" ] && [ "$rules" = "$sections" ] ||
  fail "docs/findings.md's rule sections ($(echo $sections)) are not the registry's rules ($(echo $rules))"
done_testing
