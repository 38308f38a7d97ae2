#!/usr/bin/env bash
# Findings of real Windows programs under Wine: tests/targets/windows/faults_win.c provokes each
# fault of the Windows rules on loopback under `wstrace.exe record`; `wstrace diagnose --json`
# (the Linux build, reading the Windows trace) must raise exactly the rules that fault stands
# for, with evidence that points at the calls of the trace; `faults_win clean` does the same work
# right and must raise nothing. Runs in private mount and network namespaces with a Wine prefix
# of its own: name lookups go to tests/tools/dns_server.py on 127.0.0.1:53 (as win_dns.sh).
# Exit status 77 when no namespace can be made.
# Run as: win_findings.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR WSTRACE_EXE
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_findings.sh"
TARGETS=$4 WIN_WSTRACE=$5
enter_private_netns "$@"
private_dns api.test=127.0.0.1
FAULTS=$TARGETS/faults_win.exe
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
trap 'wineserver -k 2>/dev/null' EXIT
wine wineboot --init >/dev/null 2>&1 || { echo "cannot start a Wine prefix in $WINEPREFIX" >&2; exit 1; }

# The default thresholds: no fault here is a matter of time (Wine under load is slow enough that
# a server thread's wait in the busy loop could pass a tight --gap).
THRESHOLDS=()

# fault NAME "RULE…" [ARGS…]: records `faults_win NAME ARGS…` and expects exactly these rules.
fault() {
  local name=$1 want=$2
  shift 2
  expect_exit 0 wine "$WIN_WSTRACE" record -q -o "$WORK/$name.wst" -- "$FAULTS" "$name" "$@"
  tr -d '\r' <"$WORK/out" >"$WORK/$name.out"
  expect_findings "$name" "$want"
}

fault notinit "winsock-not-initialised"
expect_in "$WORK/notinit.out" "notinit before=10093 after=10093"
expect_in "$WORK/notinit.diag" "used Winsock before WSAStartup and after WSACleanup: 2 calls failed with WSANOTINITIALISED"
expect_in "$WORK/notinit.diag" "socket() = -1 WSANOTINITIALISED"

fault refused "connect-failed"
expect_in "$WORK/refused.diag" "3 connects to 127.0.0.1:"
expect_in "$WORK/refused.diag" "refused: nothing listening there"
expect_in "$WORK/refused.diag" "= -1 WSAECONNREFUSED"

fault busy "busy-wait"
expect_in "$WORK/busy.diag" "would-block results in a row without waiting"
expect_in "$WORK/busy.diag" "recv(sock="
expect_in "$WORK/busy.diag" "= -1 WSAEWOULDBLOCK"

fault nb-refused "connect-failed nonblocking-connect"
expect_in "$WORK/nb-refused.out" "nb-connect so_error=10061"
expect_in "$WORK/nb-refused.diag" "the error showed only in SO_ERROR"
expect_in "$WORK/nb-refused.diag" "= -1 WSAEWOULDBLOCK"
expect_in "$WORK/nb-refused.diag" "getsockopt(sock="

# ConnectEx reports its failure in its completion (here WSAGetOverlappedResult after a wait on
# the event), where the program looks for it: connect-failed names that call.
fault connectex-refused "connect-failed"
expect_in "$WORK/connectex-refused.out" "connectex-refused error=10061"
expect_in "$WORK/connectex-refused.diag" "refused: nothing listening there"
expect_in "$WORK/connectex-refused.diag" "WSAGetOverlappedResult(sock="

fault lookup "lookup-failed" nx.test
expect_in "$WORK/lookup.out" "lookup nx.test 11001"
expect_in "$WORK/lookup.diag" "name \"nx.test\" (AF_UNSPEC) does not resolve: WSAHOST_NOT_FOUND"
checks=$((checks + 1))
grep -q "query nx.test" "$WORK/dns.err" || fail "the lookup of nx.test did not reach the test's DNS server"

fault not-closed "not-closed"
expect_in "$WORK/not-closed.diag" "faults_win.exe["
expect_in "$WORK/not-closed.diag" "ended with 3 sockets still open"

fault nagle "small-writes"
expect_in "$WORK/nagle.diag" "after small sends (Nagle + delayed ACK)"

# The peer aborts (linger 0) and we go on sending. Windows says WSAECONNRESET, or WSAECONNABORTED
# once the stack has dropped the connection; Wine 8 says WSAECONNRESET to every send and reports
# the reset to a receive as the end of the stream.
fault aborted "peer-reset"
expect_in "$WORK/aborted.diag" "was reset by the peer"
expect_in "$WORK/aborted.out" "aborted sends=10054"

# The connection aborted by this host's own stack (`ss -K` on the program's socket while it
# waits): Windows says WSAECONNABORTED, which send-after-peer-close names. Wine 8 turns the
# kernel's ECONNABORTED into WSAECONNRESET: then the trace must say that, and peer-reset name it.
rm -f "$WORK/in" "$WORK/fromprog"
mkfifo "$WORK/in" "$WORK/fromprog"
wine "$WIN_WSTRACE" record -q -o "$WORK/aborted-local.wst" -- "$FAULTS" aborted-local \
  <"$WORK/in" >"$WORK/fromprog" 2>"$WORK/aborted-local.err" &
prog=$!
exec 3>"$WORK/in" 4<"$WORK/fromprog"
read -r -t 60 line <&4
port=${line#port=}
port=${port%$'\r'}
checks=$((checks + 1))
ss -K -t src "127.0.0.1:$port" >"$WORK/ss.out" 2>&1 && grep -q ":$port " "$WORK/ss.out" ||
  fail "ss -K did not abort the connection from port '$port': $(cat "$WORK/ss.out")"
echo go >&3
exec 3>&-
tr -d '\r' <&4 >"$WORK/aborted-local.out"
exec 4<&-
checks=$((checks + 1))
wait "$prog" || fail "faults_win aborted-local: $(cat "$WORK/aborted-local.err")"
sends=$(sed -n 's/.*sends=\([0-9]*\),.*/\1/p' "$WORK/aborted-local.out")
case "$sends" in
  10053) want="send-after-peer-close peer-reset" ;;  # (the accepting side sees the reset)
  10054) want="peer-reset" ;;
  *) fail "aborted-local: the first send after the abort gave '$sends': $(cat "$WORK/aborted-local.out")"; want="?" ;;
esac
echo "aborted-local: the first send after a local abort gave $sends under $(wine --version 2>/dev/null)"
expect_findings aborted-local "$want"
checks=$((checks + 1))
python3 - "$WORK" "$sends" <<'PY' || fail "aborted-local: the trace does not say what the program saw"
import json, sys
work, code = sys.argv[1], int(sys.argv[2])
ev = [json.loads(l) for l in open(f"{work}/aborted-local.jsonl")]
failed = [e for e in ev if e["func"] == "send" and "error" in e]
assert failed and failed[0]["error"]["code"] == code, failed
PY

# The same kinds of work done right raise nothing, with the same thresholds; WSAStartup first.
fault clean "" api.test
expect_in "$WORK/clean.out" "clean 0"
expect_exit 0 "$WSTRACE" diagnose --fail-on info "${THRESHOLDS[@]}" "$WORK/clean.wst"
expect_in "$WORK/out" "no findings"

# wstrace.exe reads its own traces to the same findings.
for name in notinit busy nb-refused; do
  checks=$((checks + 1))
  wine "$WIN_WSTRACE" diagnose --json "${THRESHOLDS[@]}" "$WORK/$name.wst" | tr -d '\r' >"$WORK/$name.win.jsonl"
  cmp -s "$WORK/$name.diag.jsonl" "$WORK/$name.win.jsonl" ||
    fail "diagnose of $name.wst differs between the Linux build and wstrace.exe"
done

exec 9>&-
done_testing
