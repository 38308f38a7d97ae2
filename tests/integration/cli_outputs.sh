#!/usr/bin/env bash
# The files wstrace writes and reads (issue 14): every output (a trace, an export, a report) is
# a new file, owner-only from its creation, that replaces a symlink or a file someone else made
# at its name instead of writing through or into it; readers refuse a FIFO, a socket or a
# device with one message instead of blocking.
# Run as: cli_outputs.sh WSTRACE SOURCE_DIR WORK_DIR
. "$(dirname "$0")/lib.sh"

D=$WORK/demo.wst
expect_exit 0 "$WSTRACE" synth demo -o "$D"

# write WHAT OUT: makes a trace, an export or a report of the demo at OUT, exit 0 expected.
write() {
  case $1 in
    trace) expect_exit 0 "$WSTRACE" synth demo -o "$2" ;;
    export) expect_exit 0 "$WSTRACE" export "$D" --format csv -o "$2" ;;
    report) expect_exit 0 "$WSTRACE" report -q "$D" -o "$2" ;;
  esac
}

# ---- a symlink at the destination: replaced by the new file, its target untouched -----------
mkdir -p "$WORK/elsewhere"
for what in trace export report; do
  victim=$WORK/elsewhere/$what.victim
  out=$WORK/$what.out
  echo "not yours" >"$victim"
  ln -sfn "$victim" "$out"
  write $what "$out"
  checks=$((checks + 1))
  echo "not yours" | cmp -s - "$victim" || fail "$what -o through a symlink wrote into its target"
  checks=$((checks + 1))
  [ -f "$out" ] && [ ! -L "$out" ] || fail "$what -o: the symlink should be replaced by the file"
  checks=$((checks + 1))
  [ "$(stat -c %a "$out")" = 600 ] || fail "$what output mode $(stat -c %a "$out"), expected 600"
done

# ---- a file someone else made at the destination (or at the old OUT.part): never reused -----
for what in trace export report; do
  out=$WORK/pre-$what.out
  echo "planted" >"$out"
  chmod 666 "$out"
  echo "planted" >"$out.part"
  if [ "$(id -u)" = 0 ]; then chown nobody "$out" "$out.part"; fi
  before=$(stat -c %i "$out")
  write $what "$out"
  checks=$((checks + 1))
  [ "$(stat -c %i "$out")" != "$before" ] || fail "$what -o opened the file that was there"
  checks=$((checks + 1))
  [ "$(stat -c %u:%a "$out")" = "$(id -u):600" ] ||
    fail "$what output is $(stat -c %U:%a "$out"), expected $(id -un):600"
  checks=$((checks + 1))
  echo planted | cmp -s - "$out.part" || fail "$what -o used the OUT.part that was there"
done
expect_exit 0 "$WSTRACE" show "$WORK/pre-trace.out"

# ---- owner-only from the first byte: the file is created 0600 with O_EXCL, whatever umask ----
if command -v strace >/dev/null; then
  for cmd in "synth demo -o $WORK/m.wst" "export $D --format csv -o $WORK/m.csv" \
             "report -q $D -o $WORK/m.html"; do
    checks=$((checks + 1))
    # shellcheck disable=SC2086
    (umask 000 && strace -f -qq -e trace=open,openat,creat -o "$WORK/strace.log" "$WSTRACE" $cmd) ||
      fail "$cmd under strace"
    # Every file created: exclusively (O_EXCL) and with mode 0600.
    grep -E 'O_CREAT|creat\(' "$WORK/strace.log" | grep -v -E 'O_EXCL.*, 0600\)' >"$WORK/loose" &&
      fail "$cmd created a file that is not exclusive and 0600: $(head -c 400 "$WORK/loose")"
    grep -q 'O_CREAT' "$WORK/strace.log" || fail "$cmd: strace saw no file created"
  done
else
  echo "note: strace is missing: the creation flags were not checked" >&2
fi

# ---- readers: a FIFO, a socket, a device -------------------------------------------------------
mkfifo "$WORK/fifo"
# bound by a relative name: a checkout's path may be longer than a socket address holds (108)
python3 -c 'import os, socket, sys; os.chdir(sys.argv[1]); socket.socket(socket.AF_UNIX).bind("sock")' \
  "$WORK"
for input in "$WORK/fifo:FIFO" "$WORK/sock:socket" "/dev/zero:device"; do
  path=${input%:*} kind=${input##*:}
  for cmd in show info "export --format csv -o $WORK/never.csv" "report -o $WORK/never.html"; do
    set -- $cmd
    # timeout only guards against the old behaviour: opening a FIFO waited for a writer forever.
    expect_exit 1 timeout 10 "$WSTRACE" "$1" "$path" "${@:2}"
    expect_in "$WORK/err" "$path is a"
    expect_in "$WORK/err" "$kind"
    expect_lines "$WORK/err" 1
  done
done
checks=$((checks + 1))
[ ! -e "$WORK/never.csv" ] && [ ! -e "$WORK/never.html" ] || fail "a refused input left an output"

# ---- writing to a device or to /dev/stdout stays possible; a folder is refused before any work --
expect_exit 0 "$WSTRACE" synth demo -o /dev/null
expect_exit 0 "$WSTRACE" export "$D" --format csv -o /dev/null
expect_exit 0 "$WSTRACE" export "$D" --format csv -o /dev/stdout
expect_in "$WORK/out" "seq,time_utc"
checks=$((checks + 1))
[ -L /dev/stdout ] || fail "/dev/stdout is no longer a symlink"
mkdir -p "$WORK/folder"
expect_exit 1 "$WSTRACE" export "$D" --format csv -o "$WORK/folder"
expect_in "$WORK/err" "cannot write $WORK/folder"
checks=$((checks + 1))
[ -z "$(ls -A "$WORK/folder")" ] && ! ls "$WORK"/folder.*.part >/dev/null 2>&1 ||
  fail "a refused output left a file"

done_testing
