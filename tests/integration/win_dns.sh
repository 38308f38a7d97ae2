#!/usr/bin/env bash
# DnsQuery_A/W and getaddrinfo under wstrace.exe, answered by a DNS server the test starts on
# loopback — inside a network and mount namespace of the test's own (lib_findings.sh), so that no
# query can leave the machine (and /etc/resolv.conf is the test's, bind-mounted there only).
# Exit status 77 (skipped) when no namespace can be made.
# Run as: SCRIPT WSTRACE_EXE LINUX_WSTRACE WORK TARGETS_DIR SOURCE_DIR
WIN_WSTRACE=$1 TARGETS=$4
# lib.sh takes WSTRACE SOURCE_DIR WORK_DIR.
. "$(dirname "$0")/lib.sh" "$2" "$5" "$3"
. "$(dirname "$0")/lib_findings.sh"
enter_private_netns "$@"
private_dns api.test=127.0.0.7
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
trap 'wineserver -k 2>/dev/null' EXIT
wine wineboot --init >/dev/null 2>&1
for name in api.test missing.test; do
  checks=$((checks + 2))
  wine "$WIN_WSTRACE" record -q -o "$WORK/$name.wst" -- "$TARGETS/wnetops.exe" dnsquery "$name" \
    >"$WORK/$name.out" 2>"$WORK/$name.err" || fail "record of dnsquery $name: $(cat "$WORK/$name.err")"
  "$WSTRACE" show --json "$WORK/$name.wst" >"$WORK/$name.jsonl" || fail "$name.wst does not read"
done
# The last error after DnsQuery_A/W/UTF8 is the same traced and untraced.
wine "$TARGETS/wnetops.exe" lasterror-dns api.test >"$WORK/lasterror.plain" 2>/dev/null
checks=$((checks + 2))
wine "$WIN_WSTRACE" record -q -o "$WORK/lasterror.wst" -- "$TARGETS/wnetops.exe" lasterror-dns api.test \
  >"$WORK/lasterror.out" 2>"$WORK/lasterror.err" || fail "record of lasterror-dns: $(cat "$WORK/lasterror.err")"
diff -u "$WORK/lasterror.plain" "$WORK/lasterror.out" >&2 || fail "DnsQuery changed the last error under wstrace"
expect_in "$WORK/lasterror.plain" "DnsQuery_UTF8"
wineserver -k
# the lookups went to the test's DNS server
expect_in "$WORK/dns.err" "query api.test A"
expect_in "$WORK/dns.err" "query missing.test"
exec 9>&-  # the DNS server ends
checks=$((checks + 1))
python3 - "$WORK" <<'PY' || fail "the lookups are not what the program saw"
import json, sys
work = sys.argv[1]
def events(name):
    return [json.loads(l) for l in open(f"{work}/{name}.jsonl")]
def out(name):
    return open(f"{work}/{name}.out").read().replace("\r", "")
ok = events("api.test")
assert "a=0 w=0 gai=0" in out("api.test"), out("api.test")
for f in ("DnsQuery_A", "DnsQuery_W"):
    e = next(e for e in ok if e["func"] == f)
    assert e["args"]["host"] == "api.test" and e["args"]["qtype"] == 1, e
    assert [a["ip"] for a in e["args"]["addrs"]] == ["127.0.0.7"], e
g = next(e for e in ok if e["func"] == "getaddrinfo")
assert any(a["ip"] == "127.0.0.7" for a in g["args"]["addrs"]), g
# GetAddrInfoExW started asynchronously: its start, then its result under the same op.
def async_lookup(events):
    started = next(e for e in events if e["func"] == "GetAddrInfoExW" and "host" in e["args"])
    assert started["error"]["name"] == "WSA_IO_PENDING", started
    ends = [e for e in events if e["func"] == "GetAddrInfoExW" and "host" not in e["args"]
            and e["args"]["op"] == started["args"]["op"]]
    assert len(ends) == 1, ends
    return ends[0]
assert "gaix=0" in out("api.test"), out("api.test")
x = async_lookup(ok)
assert x["result"] == 0 and [(a["ip"], a["port"]) for a in x["args"]["addrs"]] == [("127.0.0.7", 443)], x
bad = events("missing.test")
text = out("missing.test")
a_status = int(text.split("a=")[1].split()[0])
assert a_status != 0, text
e = next(e for e in bad if e["func"] == "DnsQuery_A")
assert e["result"] == a_status and e["error"]["code"] == a_status, e
g = next(e for e in bad if e["func"] == "getaddrinfo")
assert g["error"]["name"] == "WSAHOST_NOT_FOUND", g
x_status = int(text.split("gaix=")[1].split()[0])
x = async_lookup(bad)
assert x_status != 0 and x["result"] == x_status and x["error"]["code"] == x_status, (x_status, x)
PY
done_testing
