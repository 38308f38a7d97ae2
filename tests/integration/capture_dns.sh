#!/usr/bin/env bash
# Capture of name resolution through a resolver the test runs on loopback, and errno
# transparency. The script re-runs itself in private mount and network namespaces (lib_findings.sh),
# where /etc/resolv.conf and /etc/hosts are bind-mounted from the work folder (the real files are
# never touched) and tests/tools/dns_server.py answers on 127.0.0.1:53:
#   - netops lookup: every resolver function, a name that resolves (api.test: 127.0.0.1 and ::1)
#     and one that does not (nx.test: NXDOMAIN), with the addresses and errors recorded;
#   - a slow answer: the lookup's recorded duration covers the resolver's delay;
#   - curl fetching http://api.test:8080/ (its resolver thread, ::1 refused, then 127.0.0.1);
#   - netops errno: every hooked call failing and succeeding, errno after each printed; run
#     untraced and traced, the outputs must be identical, and every call lines up with its event.
# Exit status 77 (skipped) when no namespace can be made (not root, no user namespaces).
# Run as: capture_dns.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
. "$(dirname "$0")/lib_findings.sh"
enter_private_netns "$@"
private_dns --slow slow.test=0.2 api.test=127.0.0.1 api.test=::1 slow.test=127.0.0.1 slow.test=::1
mkdir -p "$WORK/www"
echo "hello from wstrace" >"$WORK/www/hello.txt"
http_server "$WORK/www" 8080

record lookup 0 -- "$NETOPS" lookup api.test nx.test
record slow 0 -- "$NETOPS" lookup slow.test
record curl 0 -- curl -sS --max-time 20 http://api.test:8080/hello.txt
expect_in "$WORK/curl.out" "hello from wstrace"

# errno transparency: the same calls untraced and traced print the same results and errno.
expect_exit 0 "$NETOPS" errno
cp "$WORK/out" "$WORK/errno.plain"
record errno 0 -- "$NETOPS" errno
expect_same "$WORK/errno.plain" "$WORK/errno.out"
expect_in "$WORK/errno.plain" "END"

# the lookups went to our resolver, not elsewhere
for q in "query api.test A" "query api.test AAAA" "query nx.test A" "query slow.test A"; do
  expect_in "$WORK/dns.err" "$q"
done

trace_checks lookup <<'PY'
from tracecheck import *
context("lookup")
t = load("lookup")
out = output("lookup")
def printed(prefix):
    return [l.split()[-1] for l in out if l.startswith(prefix)]

g = t.one("getaddrinfo", host="api.test")
eq((g["result"], g["args"].get("service"), g["args"].get("hint_family"), g["args"].get("hint_type")),
   (0, "80", "AF_UNSPEC", "SOCK_STREAM"), "getaddrinfo api.test")
got = [(a["ip"], a["port"]) for a in g["args"].get("addrs", [])]
want = [(l.split()[3], int(l.split()[5])) for l in out if l.startswith("getaddrinfo api.test addr")]
eq(got, want, "getaddrinfo addresses = what the program got")
eq(sorted(got), [("127.0.0.1", 80), ("::1", 80)], "getaddrinfo addresses")
eq([a["family"] for a in g["args"].get("addrs", []) if a["ip"] == "::1"], ["AF_INET6"], "::1 is AF_INET6")
check(g["dur_ns"] > 0, "getaddrinfo has a duration")
fr = t.all("freeaddrinfo")
check(len(fr) == 1 and fr[0]["seq"] > g["seq"], "freeaddrinfo after getaddrinfo")

for func in ("gethostbyname", "gethostbyname_r"):
    h = t.one(func, host="api.test")
    eq(h["result"], 0, f"{func} result")
    eq([a["ip"] for a in h["args"].get("addrs", [])], printed(f"{func} api.test addr"), f"{func} addresses")
    eq([a["ip"] for a in h["args"].get("addrs", [])], ["127.0.0.1"], f"{func} addresses")
    eq(h["args"].get("canon"), printed(f"{func} api.test name")[0] if printed(f"{func} api.test name") else None,
       f"{func} canonical name")

n = t.one("getnameinfo")
eq((n["result"], addr(n), n["args"].get("host"), n["args"].get("service")),
   (0, ("127.0.0.1", 80), "localhost", "http"), "getnameinfo")
r = t.one("gethostbyaddr")
eq((r["result"], addr(r)[0] if addr(r) else None, r["args"].get("host")), (0, "127.0.0.1", "localhost"), "gethostbyaddr")

q = t.one("res_query", host="api.test")
eq((q["result"], q["args"].get("qtype"), q["args"].get("len")), (int(printed("res_query api.test len")[0]), 1, 1024),
   "res_query api.test")
ans = payload(q)
eq(len(ans), q["result"], "res_query: the whole answer is kept")
eq(ans.hex(), printed("res_query api.test hex")[0] if printed("res_query api.test hex") else None,
   "res_query answer = the bytes the program got")
check(b"\x03api\x04test\x00\x00\x01\x00\x01" in ans, "res_query answer holds the question")
check(ans.endswith(bytes([127, 0, 0, 1])), "res_query answer ends with 127.0.0.1")
eq((ans[3] & 0x0F, int.from_bytes(ans[6:8], "big")), (0, 1), "res_query answer: NOERROR, one answer")
s = t.one("res_search", host="api.test")
eq((s["result"], s["args"].get("qtype")), (int(printed("res_search api.test len")[0]), 28), "res_search api.test AAAA")
check(payload(s).endswith(bytes(15) + b"\x01"), "res_search answer ends with ::1")
eq(payload(s).hex(), printed("res_search api.test hex")[0] if printed("res_search api.test hex") else None,
   "res_search answer = the bytes the program got")

# the name that does not resolve
g = t.one("getaddrinfo", host="nx.test")
code = int([l.split()[3] for l in out if l.startswith("getaddrinfo nx.test error")][0])
eq((g["result"], error_name(g), g["error"]["domain"] if "error" in g else None, g["error"]["code"] if "error" in g else None),
   (code, "EAI_NONAME", "getaddrinfo", code), "getaddrinfo nx.test")
check("addrs" not in g["args"], "no addresses for nx.test")
for func in ("gethostbyname", "gethostbyname_r", "res_query"):
    e = t.one(func, host="nx.test")
    eq((e["result"], error_name(e), e["error"]["domain"] if "error" in e else None), (-1, "HOST_NOT_FOUND", "h_errno"),
       f"{func} nx.test")
    check("addrs" not in e["args"] and "payload" not in e["args"], f"{func} nx.test has no results")
eq([l.split()[-1] for l in out if l.startswith(("gethostbyname nx.test", "res_query nx.test"))], ["1", "1"],
   "the program saw h_errno HOST_NOT_FOUND (1)")

context("slow")
t = load("slow")
for func in ("getaddrinfo", "gethostbyname", "gethostbyname_r", "res_query", "res_search"):
    e = t.one(func, host="slow.test")
    check(e["dur_ns"] >= 200_000_000, f"{func} slow.test took {e['dur_ns']} ns, the resolver waited 200 ms")
    eq(e["result"] >= 0, True, f"{func} slow.test succeeded")
eq(sorted(a["ip"] for a in t.one("getaddrinfo", host="slow.test")["args"].get("addrs", [])), ["127.0.0.1", "::1"],
   "slow.test addresses")
finish()
PY

trace_checks curl <<'PY'
from tracecheck import *
context("curl http://api.test:8080/")
t = load("curl")
pid = t.pids()[0] if t.pids() else None
check(t.one("process_start")["args"].get("image", "").endswith("/curl"), "curl's image")
g = t.one("getaddrinfo", host="api.test")
eq((g["result"], g["args"].get("service")), (0, "8080"), "curl's getaddrinfo")
eq(sorted((a["ip"], a["port"]) for a in g["args"].get("addrs", [])), [("127.0.0.1", 8080), ("::1", 8080)],
   "curl's getaddrinfo addresses")
cons = t.all("connect")
# ::1 first (nothing listens there: refused, seen through SO_ERROR), then 127.0.0.1
v6 = [c for c in cons if addr(c) == ("::1", 8080)]
v4 = [c for c in cons if addr(c) == ("127.0.0.1", 8080)]
check(v4, "a connect to 127.0.0.1:8080")
for c in v6:
    errs = [e["args"].get("optval") for e in t.all("getsockopt", sock=c["args"]["sock"])
            if e["args"].get("optname") == "SO_ERROR" and e["seq"] > c["seq"]]
    check(error_name(c) == "ECONNREFUSED" or 111 in errs, f"the ::1 attempt was refused: {error_name(c)} {errs}")
if v4:
    c = v4[-1]
    fd = c["args"]["sock"]
    check(c["result"] == 0 or error_name(c) == "EINPROGRESS", f"connect: {c['result']} {error_name(c)}")
    check(addr(c, "local") and addr(c, "local")[0] == "127.0.0.1", "connect local address")
    sends = [e for e in t.all(("send", "sendto", "sendmsg", "write", "writev"), sock=fd) if e["seq"] > c["seq"]]
    req = b"".join(payload(e) for e in sends)
    check(req.startswith(b"GET /hello.txt HTTP/1.1\r\n"), f"the request: {req[:60]!r}")
    check(b"\r\nHost: api.test:8080\r\n" in req, "the request's Host header")
    recvs = [e for e in t.all(("recv", "recvfrom", "recvmsg", "read", "readv"), sock=fd) if e["result"] > 0]
    resp = b"".join(payload(e) for e in recvs)
    check(resp.startswith(b"HTTP/1.0 200 OK\r\n"), f"the response: {resp[:40]!r}")
    check(resp.endswith(b"hello from wstrace\n"), "the response body")
finish()
PY

trace_checks errno <<'PY'
from tracecheck import *
context("errno")
lines = output("errno")
rows = [l.split() for l in lines[lines.index("BEGIN") + 1:lines.index("END")]] if "END" in lines else []
check(len(rows) >= 90, f"the errno program printed {len(rows)} calls")
funcs = {r[0] for r in rows}
hooked = ("socket socketpair bind listen connect accept accept4 send sendto sendmsg sendmmsg recv recvfrom recvmsg "
          "recvmmsg read write readv writev shutdown close dup dup2 dup3 fcntl setsockopt getsockopt getsockname "
          "getpeername ioctl poll ppoll select epoll_wait getaddrinfo freeaddrinfo gethostbyname gethostbyname_r "
          "gethostbyaddr getnameinfo res_query res_search").split()
eq(sorted(set(hooked) - funcs), [], "hooked functions the program does not call")
for f in set(hooked) - {"freeaddrinfo"}:
    kinds = {("fail" if "fail" in r[3:] else "ok") for r in rows if r[0] == f}
    eq(kinds, {"fail", "ok"}, f"{f}: a failing and a succeeding call")
# a failing call really failed, a succeeding one really succeeded (as the program saw them)
for r in rows:
    ret, notes = int(r[1]), r[3:]
    if r[0] in ("gethostbyname_r",):
        continue
    if r[0] in ("getaddrinfo", "getnameinfo"):
        check((ret != 0) == ("fail" in notes), f"{' '.join(r)}: result and outcome disagree")
    else:
        check((ret < 0) == ("fail" in notes), f"{' '.join(r)}: result and outcome disagree")

t = load("errno")
marker = [e for e in t.all("setsockopt") if e["args"].get("optval") == 123457]
eq(len(marker), 1, "the marker setsockopt")
after = [e for e in t.events if marker and e["seq"] > marker[0]["seq"] and e["func"] != "process_exit"]
want = [r for r in rows if "nosock" not in r[3:]]
# each message after the first of a sendmmsg/recvmmsg is an event of its own, not a call
MSGS = ("sendmmsg_msg", "recvmmsg_msg")
eq(len([e for e in after if e["func"] in MSGS]),
   sum(max(int(r[1]) - 1, 0) for r in want if r[0] in ("sendmmsg", "recvmmsg")), "further mmsg messages")
after = [e for e in after if e["func"] not in MSGS]
eq(len(after), len(want), "events after the marker = calls on sockets")
H_ERRNO = ("gethostbyname", "gethostbyname_r", "gethostbyaddr", "res_query", "res_search")
for r, ev in zip(want, after):
    func, ret, err, notes = r[0], int(r[1]), int(r[2]), r[3:]
    what = " ".join(r)
    want_func = "fcntl_dupfd" if func == "fcntl" and "F_DUPFD" in notes else func
    if not eq(ev["func"], want_func, f"{what}: event #{ev['seq']}"):
        break
    want_result = ret
    if func == "gethostbyname_r":
        want_result = 0 if "found=1" in notes else -1
    eq(ev["result"], want_result, f"{what}: recorded result")
    fds = [int(n[3:]) for n in notes if n.startswith("fd=")]
    if fds:
        eq(ev["args"].get("sock"), fds[0], f"{what}: recorded socket")
    e = ev.get("error")
    if "fail" not in notes:
        check(e is None, f"{what}: a success recorded with error {e}")
        continue
    if not check(e is not None, f"{what}: a failure recorded without error"):
        continue
    if func in ("getaddrinfo", "getnameinfo"):
        eq((e["domain"], e["code"]), ("getaddrinfo", ret), f"{what}: recorded error")
    elif func in H_ERRNO:
        h = int([n for n in notes if n.startswith("h=")][0][2:])
        eq((e["domain"], e["code"]), ("h_errno", h), f"{what}: recorded error")
    else:
        eq((e["domain"], e["code"]), ("errno", err), f"{what}: recorded error")
finish()
PY

# A name that a DNS answer on the wire gave (res_search's api.test → 127.0.0.1) is the `host`
# of the later calls to that address, for every command that filters.
for cmd in show stats; do
  expect_exit 0 "$WSTRACE" "$cmd" "$WORK/errno.wst" --filter 'host == api.test and func == close'
  cp "$WORK/out" "$WORK/host-$cmd.out"
done
expect_in "$WORK/host-show.out" "close(sock="
expect_in "$WORK/host-stats.out" "close"

exec 9>&-
done_testing
