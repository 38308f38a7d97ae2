#!/usr/bin/env bash
# A trace written by the Windows build reads identically in the Linux build, and the other way
# round: the same scenario written by both builds gives byte-identical files, and each build's
# views of the other's file equal its views of its own; exports and reports are the same bytes.
set -uo pipefail
WINE_RUN=$1 WIN_WSTRACE=$2 LINUX_WSTRACE=$3 WORK=$4
rm -rf "$WORK" && mkdir -p "$WORK"
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
cd "$WORK"
for p in linux windows; do
  "$LINUX_WSTRACE" synth demo --platform $p -o "lin-$p.wst" || fail "linux synth $p"
  "$WINE_RUN" "$WIN_WSTRACE" synth demo --platform $p -o "win-$p.wst" || fail "windows synth $p"
  cmp "lin-$p.wst" "win-$p.wst" || fail "the two builds wrote different files for $p"
  "$LINUX_WSTRACE" show --json "win-$p.wst" >"lin-reads-win-$p.jsonl" || fail "linux reads windows $p"
  "$LINUX_WSTRACE" show --json "lin-$p.wst" >"lin-reads-lin-$p.jsonl" || fail "linux reads linux $p"
  "$WINE_RUN" "$WIN_WSTRACE" show --json "lin-$p.wst" | tr -d '\r' >"win-reads-lin-$p.jsonl" || fail "windows reads linux $p"
  cmp "lin-reads-win-$p.jsonl" "lin-reads-lin-$p.jsonl" || fail "linux views differ for $p"
  cmp "win-reads-lin-$p.jsonl" "lin-reads-lin-$p.jsonl" || fail "windows and linux views differ for $p"
  [ "$(wc -l <"lin-reads-win-$p.jsonl")" -gt 20 ] || fail "too few events read for $p"
  # The inspection tables: the same from either build.
  for cmd in conns dns http stats; do
    "$LINUX_WSTRACE" $cmd "lin-$p.wst" >"lin-$cmd-$p.txt" || fail "linux $cmd $p"
    "$WINE_RUN" "$WIN_WSTRACE" $cmd "lin-$p.wst" | tr -d '\r' >"win-$cmd-$p.txt" || fail "windows $cmd $p"
    cmp "lin-$cmd-$p.txt" "win-$cmd-$p.txt" || fail "$cmd differs between the builds for $p"
    [ "$(wc -l <"lin-$cmd-$p.txt")" -gt 1 ] || fail "$cmd printed no rows for $p"
  done
  # Files written from a trace: the same bytes from either build (csv written by the Windows
  # build keeps "\n" line ends, as every format does).
  for fmt in pcapng csv chrome; do
    "$LINUX_WSTRACE" export "lin-$p.wst" --format $fmt -o "lin-$p.$fmt" || fail "linux export $fmt $p"
    "$WINE_RUN" "$WIN_WSTRACE" export "lin-$p.wst" --format $fmt -o "win-$p.$fmt" ||
      fail "windows export $fmt $p"
    cmp "lin-$p.$fmt" "win-$p.$fmt" || fail "export $fmt differs between the builds for $p"
    [ -s "lin-$p.$fmt" ] || fail "export $fmt wrote nothing for $p"
  done
  "$LINUX_WSTRACE" report "lin-$p.wst" -o "lin-$p.html" >/dev/null || fail "linux report $p"
  "$WINE_RUN" "$WIN_WSTRACE" report "lin-$p.wst" -o "win-$p.html" >/dev/null ||
    fail "windows report $p"
  cmp "lin-$p.html" "win-$p.html" || fail "report differs between the builds for $p"
  grep -q 'connect' "lin-$p.html" || fail "report of $p holds no connect"
done
# Absolute Unix paths reach the Windows build as paths (Wine maps them), not as /options.
"$WINE_RUN" "$WIN_WSTRACE" info "$WORK/lin-linux.wst" >/dev/null || fail "windows build cannot open an absolute path"
echo "$failures failed"
[ "$failures" -eq 0 ]
