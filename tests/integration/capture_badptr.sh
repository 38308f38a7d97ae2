#!/usr/bin/env bash
# Calls with pointers the kernel refuses (tests/targets/linux/badptr.c): under `wstrace record`
# each returns exactly what it returns untraced (EFAULT, or EBADF where the kernel never looked
# at the pointer) and the program never dies of the agent reading that memory; the trace holds
# each call with its error and nothing read from the refused memory. Also recvmsg without an
# address buffer leaves msg_namelen as the kernel leaves it, a string ending just before an
# unreadable page is read whole, and a seccomp filter forbidding the agent's safe read only
# costs the argument.
# Run as: capture_badptr.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
BADPTR=$TARGETS/badptr

expect_exit 0 "$BADPTR"
cp "$WORK/out" "$WORK/untraced.out"
record badptr 0 -- "$BADPTR"
for run in untraced badptr; do
  sed 's/ pid=[0-9]*//' "$WORK/$run.out" >"$WORK/$run.cmp"
done
# The untraced run is the kernel's (and libc's) answer; the traced run must print the same.
expect_in "$WORK/untraced.cmp" "case connect func=connect result=-1 errno=EFAULT"
expect_in "$WORK/untraced.cmp" "namelen result=5 namelen=12345"
expect_same "$WORK/untraced.cmp" "$WORK/badptr.cmp"

trace_checks badptr <<'PY'
from tracecheck import *
t = load("badptr")
cases = 0
for line in output("badptr"):
    w = line.split()
    if not w or w[0] != "case":
        continue
    f = dict(x.split("=", 1) for x in w[2:])
    if "signal" in f:  # libc itself read the memory: the same crash untraced
        continue
    context(w[1])
    cases += 1
    pid = int(f["pid"])
    evs = t.all(f["func"], pid=pid)
    if not eq(len(evs), 1, f"{f['func']} events in pid {pid}"):
        continue
    e = evs[0]
    want_err = None if f["errno"] == "0" else f["errno"]
    eq((e["result"], error_name(e)), (int(f["result"]), want_err), "result and error")
    if w[1] == "recv_trunc":  # 5 bytes received, the 2 written kept (not 5 read from 2)
        eq((payload(e), payload_len(e)), (b"dg", 5), "payload of a truncated datagram")
        continue
    fields = ["addr", "peer", "optval", "payload", "fds", "events", "data"]
    if w[1] in ("sendto_buf", "sendmsg_iov", "sendmsg_base"):
        # the address was readable: a failed call's memory is read (safely) when it can be
        eq((e["args"].get("addr") or {}).get("ip"), "127.0.0.1", "the readable address")
        fields.remove("addr")
    # Nothing was read from the refused memory: no address, option value or payload.
    for field in fields:
        a = e["args"].get(field)
        check(not a, f"{field} recorded from refused memory: {a!r}")
context("")
check(cases >= 45, f"cases that returned: {cases}")

# The sender of the datagram read without an address buffer is still recorded.
main = t.pids()[0]
o = output_fields("badptr", "namelen")
rm = t.all("recvmsg", pid=main)
if eq(len(rm), 1, "recvmsg of the main process"):
    eq((rm[0]["result"], rm[0]["args"].get("peer", {}).get("ip")), (5, "127.0.0.1"),
       "recvmsg without an address buffer: result and sender")
ga = t.all("getaddrinfo", pid=main)
if eq(len(ga), 1, "getaddrinfo of the main process"):
    eq(ga[0]["args"].get("host"), "127.0.0.7", "a host name ending before an unreadable page")
finish()
PY
done_testing
