#!/usr/bin/env bash
# The kernel engine (`record --engine ebpf`): a refusal that says what to do where BPF cannot be
# loaded; where it can, a static program the preload engine cannot enter, children followed
# through fork and exec, exit statuses, the TCP events of a connection found at an attach, and
# every call accounted for when its ring buffer is
# too small (drops events, charged to the process). The comparison with the wire is the truth
# harness's (ebpf_truth_*). Exit 77 (skipped, with the reason) where BPF cannot be loaded.
# Run as: SCRIPT WSTRACE SRC WORK PROGRAMS_DIR
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_record.sh"
PROGRAMS=$4

skip() {
  echo "SKIP: $*"
  exit 77
}

# 1. Without the privileges: one message that says what to do, exit 1, nothing run or written.
#    (As root, the unprivileged user is made with setpriv; otherwise wstrace is that user.)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
  unprivileged=(setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all
                --bounding-set=-all)
  chmod o+rwx "$WORK"
else
  unprivileged=()
fi
expect_exit 1 "${unprivileged[@]}" "$WSTRACE" record --engine ebpf -o "$WORK/refused.wst" -- \
  touch "$WORK/ran"
if grep -q "built without the kernel engine" "$WORK/err"; then
  skip "$(cat "$WORK/err")"
fi
expect_in "$WORK/err" "wstrace: the kernel engine (eBPF) needs root, or the capabilities CAP_BPF and CAP_PERFMON"
expect_in "$WORK/err" "--engine preload"
expect_lines "$WORK/err" 1
checks=$((checks + 1))
[ ! -e "$WORK/ran" ] && [ ! -e "$WORK/refused.wst" ] ||
  fail "a refused engine must run and write nothing"
[ ${#unprivileged[@]} -gt 0 ] || skip "not root: the kernel engine cannot be loaded here"

# 1c. attach and record --system refuse the same way, pointing to no preload engine (it cannot
#     attach); a pid that is not running, or wstrace's own, is refused before anything loads.
sleep 120 &
sleeper=$!
expect_exit 1 "${unprivileged[@]}" "$WSTRACE" attach -o "$WORK/attach-refused.wst" "$sleeper"
expect_in "$WORK/err" "wstrace: the kernel engine (eBPF) needs root"
expect_not_in "$WORK/err" "--engine preload"
expect_lines "$WORK/err" 1
expect_exit 1 "${unprivileged[@]}" "$WSTRACE" record --system -o "$WORK/system-refused.wst"
expect_in "$WORK/err" "wstrace: the kernel engine (eBPF) needs root"
expect_lines "$WORK/err" 1
checks=$((checks + 1))
[ ! -e "$WORK/attach-refused.wst" ] && [ ! -e "$WORK/system-refused.wst" ] ||
  fail "a refused attach or --system must write nothing"
kill "$sleeper"
wait "$sleeper" 2>/dev/null
expect_exit 1 "$WSTRACE" attach "$sleeper"  # (ended: no longer running)
expect_in "$WORK/err" "wstrace: no process $sleeper is running here"
expect_exit 1 sh -c "exec '$WSTRACE' attach \$\$"
expect_in "$WORK/err" "is this wstrace itself"
expect_exit 2 "$WSTRACE" record --system -- true
expect_in "$WORK/err" "record --system traces every process: it takes no program"

# 1b. With CAP_BPF and CAP_PERFMON on its file (setcap) instead of root, an unprivileged user
#     records; the program does not get them (exec drops file capabilities).
cp "$WSTRACE" "$WORK/wstrace-caps"
if setcap cap_bpf,cap_perfmon+ep "$WORK/wstrace-caps" 2>/dev/null; then
  expect_exit 0 setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
    "$WORK/wstrace-caps" record -q --engine ebpf \
    -o "$WORK/caps.wst" -- sh -c 'grep CapEff /proc/self/status'
  expect_in "$WORK/out" "CapEff:	0000000000000000"
  expect_exit 0 "$WSTRACE" info "$WORK/caps.wst"
  expect_in "$WORK/out" "capture    engine ebpf"
else
  echo "note: setcap is refused on $WORK: the capabilities-only run is left out"
fi

# Root may still be refused (a container without CAP_BPF, a kernel without BTF): skipped, with
# wstrace's reason.
if ! "$WSTRACE" record -q --engine ebpf -o /dev/null -- true 2>"$WORK/probe.err"; then
  skip "the kernel engine cannot run here: $(cat "$WORK/probe.err")"
fi

# 2. A statically linked program: its start, the engine named in the trace, its exit.
expect_exit 0 "$WSTRACE" record -q --engine ebpf -o "$WORK/static.wst" -- \
  "$PROGRAMS/static_hello"
expect_in "$WORK/out" "hello from a static program"
expect_exit 0 "$WSTRACE" info "$WORK/static.wst"
expect_in "$WORK/out" "capture    engine ebpf, snaplen 1024 bytes"
expect_in "$WORK/out" "exit 0  $PROGRAMS/static_hello"
expect_exit 0 "$WSTRACE" info --json "$WORK/static.wst"
expect_in "$WORK/out" '"engine": "ebpf"'

#    `auto` picks the kernel engine for it, saying so in one line (the preload agent refuses it).
expect_exit 0 "$WSTRACE" record --engine auto -o "$WORK/auto.wst" -- "$PROGRAMS/static_hello"
expect_in "$WORK/err" "wstrace: $PROGRAMS/static_hello makes its socket calls without libc (statically linked or Go), out of the preload agent's reach: recording with the kernel engine (--engine ebpf)"
expect_exit 0 "$WSTRACE" info "$WORK/auto.wst"
expect_in "$WORK/out" "capture    engine ebpf"

# 3. Children through fork and exec (python3 started by sh), each named, its socket calls its
#    own; the program's exit status is record's.
expect_exit 3 "$WSTRACE" record -q --engine ebpf -o "$WORK/tree.wst" -- sh -c \
  '/usr/bin/python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); s.listen(4)"; exit 3'
expect_exit 0 "$WSTRACE" show "$WORK/tree.wst"
expect_in "$WORK/out" "process_start(ppid="
expect_in "$WORK/out" 'image="/usr/bin/python3"'
expect_in "$WORK/out" "fork() = "
checks=$((checks + 1))
grep -E 'python3\[[0-9]+/[0-9]+\] #1 listen\(sock=[0-9]+, backlog=4\) = 0' "$WORK/out" >/dev/null ||
  fail "python3's listen should be in the trace under its own pid: $(grep listen "$WORK/out")"
expect_exit 0 "$WSTRACE" info "$WORK/tree.wst"
expect_in "$WORK/out" "exit 3  sh -c"

# 4. Sockets a program inherits across exec are named when it starts: a listener and a
#    connection with both ends (the kernel's view, as the preload agent records them).
cat >"$WORK/inherit.py" <<'PY'
import os, socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(2)
c = socket.create_connection(s.getsockname())
os.set_inheritable(s.fileno(), True)
os.set_inheritable(c.fileno(), True)
print(s.fileno(), c.fileno(), s.getsockname()[1], c.getsockname()[1], flush=True)
os.execv("/usr/bin/python3", ["python3", "-c", "pass"])
PY
expect_exit 0 "$WSTRACE" record -q --engine ebpf -o "$WORK/inherit.wst" -- /usr/bin/python3 \
  "$WORK/inherit.py"
read -r lfd cfd lport cport <"$WORK/out"
expect_exit 0 "$WSTRACE" show "$WORK/inherit.wst"
expect_in "$WORK/out" "inherited(sock=$lfd, family=AF_INET, type=SOCK_STREAM, protocol=IPPROTO_TCP, local=127.0.0.1:$lport, listening=1) = 0"
expect_in "$WORK/out" "inherited(sock=$cfd, family=AF_INET, type=SOCK_STREAM, protocol=IPPROTO_TCP, local=127.0.0.1:$cport, peer=127.0.0.1:$lport, listening=0) = 0"

# 5. A program making 32-bit (i386) system calls: none is read as the 64-bit call of the same
#    number (its dup, 41, would be a socket), and the trace says they are not seen.
if [ -x "$PROGRAMS/i386_calls" ]; then
  expect_exit 0 "$WSTRACE" record -q --engine ebpf -o "$WORK/i386.wst" -- "$PROGRAMS/i386_calls"
  expect_exit 0 "$WSTRACE" show "$WORK/i386.wst"
  expect_in "$WORK/out" 'unseen(what="32-bit-syscalls"'
  expect_not_in "$WORK/out" "socket("
  expect_exit 0 "$WSTRACE" info "$WORK/i386.wst"
  expect_in "$WORK/out" "not seen from"
else
  echo "note: the compiler cannot build an i386 program: the 32-bit part is left out"
fi

# 6. A kernel ring buffer far too small for 4 busy threads: records are lost, and every one is
#    counted as drops of the process (reason 4), so that calls + drops == the calls made.
expect_exit 0 "$WSTRACE" record -q --engine ebpf --ring-kib 8 -o "$WORK/small.wst" -- \
  "$PROGRAMS/stress" 4 20000
made=$(cat "$WORK/out")
checks=$((checks + 1))
[ "$made" -gt 160000 ] 2>/dev/null || fail "stress should print the calls it made, not '$made'"
accounted "$WORK/small.wst" "$made"
expect_exit 0 "$WSTRACE" info --json "$WORK/small.wst"
checks=$((checks + 1))
python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
assert j["dropped_kernel_ring_full"] > 0, j
stress = [p for p in j["processes"] if "stress" in p["cmdline"]]
assert len(stress) == 1 and stress[0]["dropped"] > 0, j["processes"]
' "$WORK/out" || fail "the drops should be charged to stress, reason 4: $(head -c 600 "$WORK/out")"

# 7. wstrace in a PID namespace of its own (a container's): the engine sees nothing of the
#    program and says so, rather than writing an empty trace as if the program were quiet.
if unshare --pid --fork --mount-proc true 2>/dev/null; then
  expect_exit 0 unshare --pid --fork --mount-proc "$WSTRACE" record -q --engine ebpf \
    -o "$WORK/pidns.wst" -- sh -c 'exec true'
  expect_in "$WORK/err" "wstrace: the kernel engine saw nothing of the program: wstrace runs in a PID namespace of its own"
fi

# 8. attach to a process that holds a TCP connection already (both its ends): the connection,
#    found at the attach, is followed by the TCP programs like one seen made — its state changes
#    and the reading before its close are recorded. The program waits on a fifo, never a clock.
mkfifo "$WORK/go"
python3 -c '
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
print("ready", flush=True)
open(sys.argv[1]).read()
c.sendall(b"x" * 100000); got = 0
while got < 100000: got += len(a.recv(65536))
a.close(); c.close()
print("done", flush=True)
' "$WORK/go" >"$WORK/held.out" &
held=$!
until grep -q ready "$WORK/held.out" 2>/dev/null; do kill -0 "$held" || break; done
exec 5< <(exec "$WSTRACE" attach -o "$WORK/held.wst" "$held" 2>&1 >/dev/null)
attacher=$!
read -r -u 5 line
checks=$((checks + 1))
case "$line" in *"attached to process $held"*) ;; *) fail "attach said '$line'" ;; esac
echo go >"$WORK/go"
wait "$held"
kill -INT "$attacher"
cat <&5 >/dev/null
exec 5<&-
expect_exit 0 "$WSTRACE" show "$WORK/held.wst"
expect_in "$WORK/out" "listening=0"
expect_in "$WORK/out" "old_state=ESTABLISHED, tcp_state=CLOSE_WAIT)"  # (one end, at the FIN)
expect_in "$WORK/out" "tcp_at=4, tcp_state=ESTABLISHED"  # (the other, read before its close)

# 8b. attach --ui: the live view of the attached process, read as a page would
#     (tests/tools/live_events.py): the page with the token, the event stream refusing a wrong
#     one and carrying every call of the trace until the process exits.
mkfifo "$WORK/go-ui"
python3 -c '
import socket, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen()
print("ready", flush=True)
open(sys.argv[1]).read()
c = socket.create_connection(l.getsockname()); a, _ = l.accept()
c.sendall(b"ping"); a.recv(4)
a.close(); c.close()
' "$WORK/go-ui" >"$WORK/ui.out" &
uiheld=$!
until grep -q ready "$WORK/ui.out" 2>/dev/null; do kill -0 "$uiheld" || break; done
exec 5< <(exec "$WSTRACE" attach -q --ui -o "$WORK/ui.wst" "$uiheld" 2>&1 >/dev/null)
attacher=$!
url=""
while [ -z "$url" ] && read -r -u 5 line; do
  case "$line" in *"live view at "*) url=${line##*live view at } ;; esac
done
checks=$((checks + 1))
streamed=$(python3 "$SRC/tests/tools/live_events.py" "$url" "$WORK/go-ui") || {
  fail "attach --ui ($url): $streamed"
  kill "$uiheld"  # (never told to go on)
}
wait "$uiheld"
kill -INT "$attacher"
cat <&5 >/dev/null
exec 5<&-
expect_exit 0 "$WSTRACE" show "$WORK/ui.wst"
expect_in "$WORK/out" " connect("
checks=$((checks + 1))
[ "$streamed" = "calls $(wc -l <"$WORK/out")" ] ||
  fail "attach --ui: the event stream carried $streamed, the trace has $(wc -l <"$WORK/out")"

# 9. A program that is not there: refused before anything is loaded or written.
expect_exit 127 "$WSTRACE" record --engine ebpf -o "$WORK/none.wst" -- "$WORK/no-such-program"
checks=$((checks + 1))
[ ! -e "$WORK/none.wst" ] || fail "a missing program must leave no trace file"

echo "$checks checks, $failures failed"
[ "$failures" -eq 0 ]
