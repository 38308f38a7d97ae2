#!/usr/bin/env bash
# Tracing that an exec or a new process can lose (tests/targets/linux/execs.c). Followed: an exec
# with an empty environment, without LD_PRELOAD, through execle, execvpe and posix_spawn with
# environments of their own, and the program itself under --no-follow: the new program's calls
# are in the trace. Not followable: a setuid image of another user (by exec, vfork and
# posix_spawn), a static program, a process that changed its user, file capabilities (wstrace run
# as nobody): a tracing_lost event names the process, the image and the cause, and `info`,
# `diagnose` and record's summary say which process, from when and why. An exec of such an image
# that fails leaves the process traced. `record` refuses a file-capability program as it
# refuses setuid ones.
# Run as: capture_lost.sh WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR
. "$(dirname "$0")/lib_capture.sh"
EXECS=$TARGETS/execs

for mode in empty-env no-preload execle-empty execvpe-path spawn-empty; do
  record "$mode" 0 -- "$EXECS" "$mode" "$EXECS" net
done
record nofollow-empty 0 --no-follow -- "$EXECS" empty-env "$EXECS" net
record static 0 -- "$EXECS" plain "$TARGETS/execs-static" net
# the static program execs a dynamic one, with the environment it kept: traced again
record static-and-back 0 -- "$EXECS" plain "$TARGETS/execs-static" plain "$EXECS" net

as_root=0
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && getent group nogroup >/dev/null; then
  as_root=1
  cp "$EXECS" "$WORK/execs-suid" && chown nobody "$WORK/execs-suid" && chmod 4755 "$WORK/execs-suid"
  printf 'not a program\n' >"$WORK/garbage-suid"
  chown nobody "$WORK/garbage-suid" && chmod 4755 "$WORK/garbage-suid"
  record suid 0 -- "$EXECS" plain "$WORK/execs-suid" net
  record vfork-suid 0 -- "$EXECS" vfork "$WORK/execs-suid" net
  record spawn-suid 0 -- "$EXECS" spawn "$WORK/execs-suid" net
  record fail 0 -- "$EXECS" fail "$WORK/garbage-suid"
  record as-user 0 -- "$EXECS" as-user 65534 "$EXECS" net
else
  echo "not root (or no user nobody): setuid and changed-user cases skipped"
fi

# File capabilities put the loader in secure mode for anyone but root: wstrace runs as nobody.
caps=0
if [ "$as_root" = 1 ] && command -v setcap >/dev/null && command -v setpriv >/dev/null; then
  caps=1
  mkdir -p "$WORK/nobody" && chmod 777 "$WORK/nobody"
  cp "$EXECS" "$WORK/nobody/execs-cap" && setcap cap_net_raw+ep "$WORK/nobody/execs-cap"
  as_nobody=(setpriv --reuid nobody --regid nogroup --clear-groups)
  expect_exit 1 "${as_nobody[@]}" "$WSTRACE" record -q -o "$WORK/nobody/refused.wst" -- \
    "$WORK/nobody/execs-cap" net
  expect_in "$WORK/err" "$WORK/nobody/execs-cap has file capabilities: the loader ignores LD_PRELOAD for it, so wstrace cannot trace it"
  expect_lines "$WORK/err" 1
  expect_exit 0 "${as_nobody[@]}" "$WSTRACE" record -q -o "$WORK/nobody/caps.wst" -- \
    "$EXECS" plain "$WORK/nobody/execs-cap" net
  cp "$WORK/nobody/caps.wst" "$WORK/caps.wst"
  cp "$WORK/out" "$WORK/caps.out" && cp "$WORK/err" "$WORK/caps.err"
  # a setuid image nobody may run but not read (mode 4711, another user's)
  if id daemon >/dev/null 2>&1; then
    cp "$EXECS" "$WORK/nobody/execs-xo" && chown daemon "$WORK/nobody/execs-xo"
    chmod 4711 "$WORK/nobody/execs-xo"
    expect_exit 0 "${as_nobody[@]}" "$WSTRACE" record -q -o "$WORK/nobody/unreadable.wst" -- \
      "$EXECS" plain "$WORK/nobody/execs-xo" net
    cp "$WORK/nobody/unreadable.wst" "$WORK/unreadable.wst"
    cp "$WORK/out" "$WORK/unreadable.out" && cp "$WORK/err" "$WORK/unreadable.err"
  fi
else
  echo "no setcap or setpriv, or not root: the file-capability cases skipped"
fi

# info, diagnose and record's summary of each lost case: the pid, the time, the image, the cause.
lost_cases=(static)
[ "$as_root" = 1 ] && lost_cases+=(suid vfork-suid spawn-suid as-user)
[ "$caps" = 1 ] && lost_cases+=(caps)
[ -e "$WORK/unreadable.wst" ] && lost_cases+=(unreadable)
for name in "${lost_cases[@]}"; do
  "$WSTRACE" info "$WORK/$name.wst" >"$WORK/$name.info" 2>&1 || fail "info $name"
  "$WSTRACE" info --json "$WORK/$name.wst" >"$WORK/$name.info.json" 2>&1 || fail "info --json $name"
  "$WSTRACE" diagnose --json "$WORK/$name.wst" >"$WORK/$name.diag.json" 2>&1 || fail "diagnose $name"
  "$WSTRACE" diagnose "$WORK/$name.wst" >"$WORK/$name.diag" 2>&1 || fail "diagnose $name"
done
for name in fail empty-env static-and-back; do
  "$WSTRACE" info "$WORK/$name.wst" >"$WORK/$name.info" 2>&1 || fail "info $name"
  "$WSTRACE" diagnose "$WORK/$name.wst" >"$WORK/$name.diag" 2>&1 || fail "diagnose $name"
done

LOST_CASES="${lost_cases[*]}" trace_checks lost <<'PY'
import json, os, re
from tracecheck import *

def pid_of(name, key="pid"):
    return int(output_fields(name, "execs").get(key, 0))

def net_calls(t, pid):
    """The calls of `execs net`: socket (its number aside), sendto, close."""
    return [(e["func"], e["result"] if e["func"] != "socket" else e["result"] >= 0)
            for e in t.events if e["pid"] == pid and e["func"] in ("socket", "sendto", "close")]

def read(name):
    with open(work(name)) as f:
        return f.read()

want_net = [("socket", True), ("sendto", 5), ("close", 0)]

# Followed: the exec'd (or spawned) program's own calls are in the trace, and nothing is lost.
for name in ("empty-env", "no-preload", "execle-empty", "execvpe-path", "nofollow-empty",
             "spawn-empty"):
    context(name)
    t = load(name)
    pid = pid_of(name, "child" if name.startswith("spawn") else "pid")
    eq(int(output_fields(name, "net").get("pid", 0)), pid, "the program that ran")
    eq(net_calls(t, pid)[-3:], want_net, "the new program's calls")
    eq(t.all("tracing_lost"), [], "tracing_lost events")
    starts = [e["args"].get("cmdline", "") for e in t.all("process_start", pid=pid)]
    check(starts and starts[-1].endswith("execs net"), f"the new program's process_start: {starts}")

# Not followable: the event before the exec, the new program's calls absent.
lost = {"static": ("plain", "execs-static", "statically linked"),
        "suid": ("plain", "execs-suid", "the image is setuid/setgid"),
        "vfork-suid": ("vfork", "execs-suid", "the image is setuid/setgid"),
        "spawn-suid": ("spawn", "execs-suid", "the image is setuid/setgid"),
        "as-user": ("as-user", "execs", "the process changed its user"),
        "caps": ("plain", "execs-cap", "the image has file capabilities"),
        "unreadable": ("plain", "execs-xo", "the image is setuid/setgid")}
for name in os.environ["LOST_CASES"].split():
    context(name)
    mode, image, cause = lost[name]
    t = load(name)
    parent = pid_of(name)
    child = pid_of(name, "child") if mode in ("vfork", "spawn") else parent
    eq(int(output_fields(name, "net").get("pid", 0)), child, "the program ran (untraced)")
    ev = t.one("tracing_lost")
    eq(ev["pid"], parent, "the process that recorded tracing_lost")
    eq(ev["args"].get("child"), child if child != parent else None, "its child field")
    check(ev["args"].get("image", "").endswith("/" + image), f"its image: {ev['args']}")
    check(ev["args"].get("cause", "").startswith(cause), f"its cause: {ev['args']}")
    eq((ev["result"], "error" in ev), (0, False), "its result")
    eq([e for e in t.events if e["pid"] == child and e["func"] == "sendto"], [],
       "sendto events of the lost program (it was not traced)")
    info = read(name + ".info")
    m = re.search(rf"^ +{child} parent .*\n +not traced from (\S+) \(\+[^)]+\): exec of (\S+): (.*)$",
                  info, re.M)
    check(m and m.group(2).endswith("/" + image) and m.group(3).startswith(cause),
          f"info names the process, from when and why:\n{info}")
    check(re.search(r"^lost +tracing of 1 process \(below\)$", info, re.M), f"info's lost line:\n{info}")
    j = json.loads(read(name + ".info.json"))
    procs = {p["pid"]: p for p in j["processes"]}
    tl = procs.get(child, {}).get("tracing_lost", {})
    eq((tl.get("seq"), tl.get("cause", "")[:len(cause)]), (ev.get("seq"), cause),
       "info --json tracing_lost")
    findings = [json.loads(l) for l in read(name + ".diag.json").splitlines() if l.strip()]
    tf = [f for f in findings if f.get("rule") == "tracing-lost"]
    eq(len(tf), 1, "diagnose: one tracing-lost finding")
    if tf:
        check(f"[{child}]" in tf[0]["title"] and cause in tf[0]["title"] and image in tf[0]["title"],
              f"its title: {tf[0]['title']}")
        eq(tf[0]["severity"], "warning", "its severity")
    check(re.search(rf"^wstrace: process {child} not traced from \S+ \(\+[^)]+\): exec of \S+/{image}: {re.escape(cause)}",
                    read(name + ".err"), re.M), f"record's summary:\n{read(name + '.err')}")
    check(re.search(r"^wstrace: \d+ process", read(name + ".err"), re.M),
          "record's summary line (printed with -q when tracing was lost)")
    check("tracing-lost" in read(name + ".diag"), "diagnose's text")

if "suid" in os.environ["LOST_CASES"]:
    # The exec of a lost image failed: the process is still traced, and not lost.
    context("fail")
    t = load("fail")
    pid = pid_of("fail")
    eq([(e["result"], error_name(e)) for e in t.all("tracing_lost", pid=pid)],
       [(0, None), (-1, "ENOEXEC")],
       "tracing_lost before the exec, and after it with the exec's error")
    eq(net_calls(t, pid), want_net, "the calls after the failed exec")
    check("not traced" not in read("fail.info") and "lost " not in read("fail.info"),
          f"info lists nothing lost:\n{read('fail.info')}")
    check("tracing-lost" not in read("fail.diag"), "no tracing-lost finding")
    check("not traced" not in read("fail.err"), "record's summary names nothing lost")
context("static and back")
t = load("static-and-back")
pid = pid_of("static-and-back")
eq([e["args"].get("cause", "")[:18] for e in t.all("tracing_lost", pid=pid)], ["statically linked:"],
   "tracing_lost at the exec of the static program")
eq(net_calls(t, pid), want_net, "the calls of the dynamic program it exec'd")
check(re.search(rf"^ +not traced from \S+ \(\+[^)]+\): exec of \S+/execs-static: statically linked.*"
                rf"; traced again from \S+ \(\+[^)]+\)$", read("static-and-back.info"), re.M),
      f"info: lost, then traced again:\n{read('static-and-back.info')}")
check("traced again after" in read("static-and-back.diag"), "diagnose counts when it was traced again")
context("followed")
check("tracing-lost" not in read("empty-env.diag") and "not traced" not in read("empty-env.info"),
      "nothing lost where the agent followed")
finish()
PY

done_testing
