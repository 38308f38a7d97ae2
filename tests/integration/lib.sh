# Helpers for the command-line tests: each test script is run as SCRIPT WSTRACE SOURCE_DIR WORK_DIR.
set -uo pipefail
WSTRACE=$1
SRC=$2
WORK=$3
rm -rf "$WORK" && mkdir -p "$WORK"
failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect_exit CODE CMD…: runs CMD, keeps stdout in $WORK/out and stderr in $WORK/err.
expect_exit() {
  local want=$1
  shift
  checks=$((checks + 1))
  "$@" >"$WORK/out" 2>"$WORK/err"
  local got=$?
  [ "$got" -eq "$want" ] || fail "'$*' exited $got, expected $want; stderr: $(head -c 400 "$WORK/err")"
}

# expect_in FILE TEXT: FILE contains TEXT (fixed string).
expect_in() {
  checks=$((checks + 1))
  grep -qF -- "$2" "$1" || fail "$1 lacks '$2'; it holds: $(head -c 600 "$1")"
}

expect_not_in() {
  checks=$((checks + 1))
  ! grep -qF -- "$2" "$1" || fail "$1 should not hold '$2'"
}

# expect_lines FILE N: FILE has exactly N lines.
expect_lines() {
  checks=$((checks + 1))
  local n
  n=$(wc -l <"$1")
  [ "$n" -eq "$2" ] || fail "$1 has $n lines, expected $2"
}

# expect_same GOLDEN ACTUAL: files are equal (shows the diff otherwise).
expect_same() {
  checks=$((checks + 1))
  diff -u "$1" "$2" >&2 || fail "$2 differs from $1 (update the golden file only if the change is intended)"
}

# short_dir VAR: sets VAR to a new folder under /tmp for Unix socket paths, which hold 108 bytes
# at most ($WORK is deeper than that in a checkout at a long path); done_testing removes it.
SHORT_DIRS=()
short_dir() {
  local d
  d=$(mktemp -d /tmp/wst-XXXXXX) || return 1
  SHORT_DIRS+=("$d")
  printf -v "$1" '%s' "$d"
}

done_testing() {
  [ ${#SHORT_DIRS[@]} -eq 0 ] || rm -rf "${SHORT_DIRS[@]}"
  echo "$checks checks, $failures failed"
  [ "$failures" -eq 0 ]
}
