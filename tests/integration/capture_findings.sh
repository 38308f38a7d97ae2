#!/usr/bin/env bash
# Findings of real programs: tests/targets/linux/faults.c provokes each fault on loopback under
# `wstrace record`; `wstrace diagnose` must raise exactly the rules that fault stands for, with
# evidence that points at the right calls of the trace; `faults clean` does the same work right
# and must raise nothing. Runs in private mount and network namespaces (as capture_dns.sh): name
# lookups go to tests/tools/dns_server.py on 127.0.0.1:53, and no route leaves the host (so a
# connect to 10.255.255.1 is unreachable at once); 192.0.2.0/24 (TEST-NET-1) is routed to lo,
# where its packets vanish (so a connect there times out). Exit status 77 when no namespace can
# be made.
# Run as: capture_findings.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
. "$(dirname "$0")/lib_findings.sh"
enter_private_netns "$@"
FAULTS=$TARGETS/faults
private_dns --slow slow.test=0.15 --servfail servfail.test --silent silent.test \
  api.test=127.0.0.1 slow.test=127.0.0.1
ip route add 192.0.2.0/24 dev lo || fail "cannot route 192.0.2.0/24 to lo"

# Thresholds tight enough for faults of ~100 ms; the clean run is held to the same ones.
THRESHOLDS=(--gap 80ms --slow-lookup 100ms --slow-min 50ms)

# fault NAME "RULE…" [ARGS…]: records `faults NAME ARGS…` and expects exactly these rules.
fault() {
  local name=$1 want=$2
  shift 2
  record "$name" 0 -- "$FAULTS" "$name" "$@"
  expect_findings "$name" "$want"
}

fault refused "connect-failed"
expect_in "$WORK/refused.diag" "3 connects to 127.0.0.1:"
expect_in "$WORK/refused.diag" "refused: nothing listening there"
fault unreachable "connect-failed"
expect_in "$WORK/unreachable.diag" "10.255.255.1:80 failed: host or network unreachable"
# Path or host down (nobody answers) versus nothing listening (refused, above).
fault timeout "connect-failed" 192.0.2.2
expect_in "$WORK/timeout.diag" "a connect to 192.0.2.2:80 timed out: host or path down"
expect_in "$WORK/timeout.diag" ", 192.0.2.2:80) = -1 ETIMEDOUT"
expect_not_in "$WORK/timeout.diag" "nothing listening"
expect_not_in "$WORK/refused.diag" "host or path down"
# A non-blocking connect the program gives up on by its own timeout while nothing answers
# (curl --connect-timeout, a python socket timeout): connect-timeout, with the time waited.
record curl-timeout 28 -- curl -s --connect-timeout 1 http://192.0.2.2/
expect_findings curl-timeout "connect-timeout"
expect_in "$WORK/curl-timeout.diag" "error   connect-timeout: a connect to 192.0.2.2:80 given up after "
expect_in "$WORK/curl-timeout.diag" ", 192.0.2.2:80) = -1 EINPROGRESS"
checks=$((checks + 1))  # about the second curl waited (curl's own clock runs the timeout)
grep -qE "close\(sock=[0-9]+\) = 0 .* … given up (1\.[0-9]{2} s|99[0-9]\.[0-9] ms|1000\.0 ms) after the connect" \
  "$WORK/curl-timeout.diag" || fail "curl's wait, connect to close: $(cat "$WORK/curl-timeout.diag")"
record py-timeout 0 -- python3 -c 'import socket
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect(("192.0.2.3", 80))
except socket.timeout:
    print("timed out")
s.close()'
expect_in "$WORK/py-timeout.out" "timed out"
expect_findings py-timeout "connect-timeout"
expect_in "$WORK/py-timeout.diag" "a connect to 192.0.2.3:80 given up after 50"
fault reset "peer-reset"
expect_in "$WORK/reset.diag" "with data sent since our last receive 1 (20 bytes)"
fault send-after-close "send-after-peer-close"
expect_in "$WORK/send-after-close.diag" "after a receive returned 0 1"
fault eof-loop "eof-not-handled"
expect_in "$WORK/eof-loop.diag" "kept receiving after the peer closed (3 receives after end-of-stream)"
fault close-wait "eof-not-handled not-closed"
expect_in "$WORK/close-wait.diag" "never closed after the peer closed (CLOSE_WAIT)"
fault ipv6-first "connect-failed ipv6-fallback"
expect_in "$WORK/ipv6-first.diag" "(loopback): IPv6 [::1]:"
# Happy eyeballs, the classic real case: a server on 127.0.0.1 only, a name with ::1 first
# (curl 7.88 resolves "localhost" itself, IPv4 first; python's getaddrinfo gives ::1 first).
# ::1 refuses, 127.0.0.1 works: a healthy run, the failure shown as info, not an error.
printf '::1\tdual.test\n127.0.0.1\tdual.test\n' >>"$WORK/hosts"
HTTP_PORT=$(free_port)
mkdir -p "$WORK/www" && echo hello >"$WORK/www/index.html"
http_server "$WORK/www" "$HTTP_PORT"
record curl-dual 0 -- curl -s -o /dev/null "http://dual.test:$HTTP_PORT/"
expect_findings curl-dual "connect-failed ipv6-fallback nonblocking-connect"
expect_in "$WORK/curl-dual.diag" "info    connect-failed: a connect to [::1]:$HTTP_PORT (dual.test) refused: nothing listening there; 127.0.0.1:$HTTP_PORT of the same name worked"
expect_in "$WORK/curl-dual.diag" "info    ipv6-fallback: dual.test: IPv6 [::1]:$HTTP_PORT failed (ECONNREFUSED)"
expect_exit 0 "$WSTRACE" diagnose --fail-on warning "$WORK/curl-dual.wst"
record py-localhost 0 -- python3 -c "import socket; socket.create_connection(('localhost', $HTTP_PORT)).close()"
expect_findings py-localhost "connect-failed ipv6-fallback"
expect_in "$WORK/py-localhost.diag" "info    connect-failed: a connect to [::1]:$HTTP_PORT (localhost) refused: nothing listening there; 127.0.0.1:$HTTP_PORT of the same name worked"
expect_exit 0 "$WSTRACE" diagnose --fail-on error "$WORK/py-localhost.wst"
fault gap "long-gap"
expect_in "$WORK/gap.diag" "between two calls on connection"
fault gap-busy "long-gap"
expect_in "$WORK/gap-busy.diag" "other calls in between (sendto ×3, recvfrom ×3, socket ×1, bind ×1)"
expect_in "$WORK/gap-busy.diag" " ms of it waiting in poll/select; the first"
expect_in "$WORK/gap-busy.diag" "socket() (first call meanwhile)"
expect_in "$WORK/gap-busy.diag" ") (last call meanwhile)"
fault slow-reply "slow-call long-gap"  # the server's 150 ms before answering is a gap too
expect_in "$WORK/slow-reply.diag" "1 reply took up to 15"
expect_in "$WORK/slow-reply.diag" "over 6 replies)"
expect_in "$WORK/slow-reply.diag" "after the request was sent"
# The only reply of the trace, 150 ms late: slow on its own (--slow-wait), no median needed.
# (Only here a --slow-wait that low: a loaded machine may take that long anywhere.)
KEPT=("${THRESHOLDS[@]}")
THRESHOLDS+=(--slow-wait 100ms)
fault slow-once "slow-call long-gap"
THRESHOLDS=("${KEPT[@]}")
expect_in "$WORK/slow-once.diag" "warning slow-call: 1 reply took 15"
expect_in "$WORK/slow-once.diag" "(the only one of the trace)"
fault nagle "small-writes"
expect_in "$WORK/nagle.diag" "after small sends (Nagle + delayed ACK)"
fault slow-response "slow-call long-gap"  # the server's 150 ms before answering is a gap too
expect_in "$WORK/slow-response.diag" "1 response took up to 15"
fault busy "busy-wait"
fault nb-refused "connect-failed nonblocking-connect"
expect_in "$WORK/nb-refused.diag" "the error showed only in SO_ERROR"
fault nb-unchecked "connect-failed nonblocking-connect"
expect_in "$WORK/nb-unchecked.diag" "never read SO_ERROR"
fault not-closed "not-closed"
expect_in "$WORK/not-closed.diag" "ended with 2 sockets still open"
fault lookup "lookup-failed" nx.test
expect_in "$WORK/lookup.diag" "name \"nx.test\" (AF_UNSPEC) does not resolve: EAI_NONAME"
cp "$WORK/lookup.diag" "$WORK/lookup-nx.diag"
fault lookup "slow-lookup" slow.test
expect_in "$WORK/lookup.diag" "lookup of \"slow.test\" (AF_UNSPEC) took 1"
# Temporary failures (EAI_AGAIN from glibc): the server answers SERVFAIL, or never answers (then
# the resolver gives up after its 1 s timeout: a slow lookup too).
fault lookup "lookup-failed" servfail.test
expect_in "$WORK/lookup.diag" "lookup of \"servfail.test\" (AF_UNSPEC) failed temporarily: EAI_AGAIN"
expect_not_in "$WORK/lookup.diag" "does not resolve"
fault lookup "lookup-failed slow-lookup" silent.test
expect_in "$WORK/lookup.diag" "lookup of \"silent.test\" (AF_UNSPEC) failed temporarily: EAI_AGAIN"

# The same work done right raises nothing, with the same thresholds.
record clean 0 -- "$FAULTS" clean api.test
expect_exit 0 "$WSTRACE" diagnose --fail-on info "${THRESHOLDS[@]}" "$WORK/clean.wst"
expect_in "$WORK/out" "no findings"

# --fail-on: exit 4 at that severity or worse, 0 below it.
expect_exit 4 "$WSTRACE" diagnose --fail-on error "$WORK/refused.wst"
expect_exit 0 "$WSTRACE" diagnose --fail-on error "$WORK/gap.wst"
expect_exit 4 "$WSTRACE" diagnose --fail-on info "${THRESHOLDS[@]}" "$WORK/gap.wst"

# record prints the findings of its run at the end, unless -q.
expect_exit 0 "$WSTRACE" record -o "$WORK/loud.wst" -- "$FAULTS" refused
expect_in "$WORK/err" "wstrace: findings (wstrace diagnose $WORK/loud.wst)"
expect_in "$WORK/err" "error   connect-failed: 3 connects to 127.0.0.1:"
expect_not_in "$WORK/refused.err" "connect-failed"

# Outcomes are not failures: the EAGAINs of `faults busy` (and the EINPROGRESS of nb-refused)
# count as no failed call in record's summary, info and stats.
expect_exit 0 "$WSTRACE" record -o "$WORK/busy-loud.wst" -- "$FAULTS" busy
expect_in "$WORK/err" " calls (0 failed), "
expect_exit 0 "$WSTRACE" info "$WORK/busy-loud.wst"
expect_in "$WORK/out" "(0 calls failed)"
expect_exit 0 "$WSTRACE" stats --json "$WORK/busy-loud.wst"
checks=$((checks + 1))
python3 -c '
import json, sys
f = json.load(open(sys.argv[1]))["functions"]
assert f["recv"]["failed"] == 0 and f["recv"]["errors"] == {}, f["recv"]
assert f["recv"]["outcomes"]["EAGAIN"] >= 300, f["recv"]
' "$WORK/out" || fail "stats counts EAGAIN as an outcome"
expect_exit 0 "$WSTRACE" stats "$WORK/busy-loud.wst"
expect_in "$WORK/out" "(outcome)"
expect_exit 0 "$WSTRACE" info "$WORK/nb-refused.wst"
expect_in "$WORK/out" "(0 calls failed)"

# record's summary and info count every connection conns lists, by kind: gap-busy has a client,
# the connection its server thread accepted, the listener and a UDP socket talking to itself.
expect_exit 0 "$WSTRACE" record -o "$WORK/kinds.wst" -- "$FAULTS" gap-busy
expect_in "$WORK/err" " calls (0 failed), 4 connections (1 tcp out, 1 tcp in, 1 listening, 1 udp), "
expect_exit 0 "$WSTRACE" info "$WORK/kinds.wst"
expect_in "$WORK/out" "conns      4 connections (1 tcp out, 1 tcp in, 1 listening, 1 udp)"
expect_exit 0 "$WSTRACE" info --json "$WORK/kinds.wst"
cp "$WORK/out" "$WORK/kinds.info.json"
expect_exit 0 "$WSTRACE" conns --json "$WORK/kinds.wst"
checks=$((checks + 1))
python3 -c '
import json, sys
info = json.load(open(sys.argv[1]))
rows = [json.loads(l) for l in open(sys.argv[2])]
assert info["connections"] == len(rows) == 4, (info["connections"], rows)
assert info["connections_by_kind"] == {"tcp out": 1, "tcp in": 1, "listening": 1, "udp": 1}, info
' "$WORK/kinds.info.json" "$WORK/out" || fail "info counts what conns lists"

exec 9>&-
done_testing
