"""What the truth harness's cases share: the processes of one case (started, synchronised
and ended by pid, every wait bounded) and tcpdump's capture of loopback."""
import os
import re
import select
import signal
import socket
import subprocess
import sys
import time

# The datagram that closes a capture (compare.py leaves its flow out).
END_MARKER = b"wstrace truth harness: end of capture"
END_MARKER_PORT = 9


class HarnessError(Exception):
    """The case could not be run as meant (a peer did not start, the client failed): the case
    fails, with this message, before anything is compared."""


class Run:
    """One case's processes and files. Every process it starts is kept by pid and ended by
    `close()`; every wait is bounded."""

    def __init__(self, wstrace, src, work, case, engine=None):
        self.wstrace, self.src, self.work, self.case = wstrace, src, work, case
        self.engine = engine  # `record --engine`; None: record's default
        self.procs = []
        self.trace = os.path.join(work, "trace.wst")
        self.capture_path = os.path.join(work, "wire.pcap")
        self.tcpdump = None
        self.wine = None  # wine.Wine, for a case of Windows programs


    def path(self, name):
        return os.path.join(self.work, name)

    def start(self, argv, name, **kw):
        """Starts a process with its stdout and stderr in WORK/NAME.out and .err (unless kw
        says otherwise)."""
        kw.setdefault("stdout", open(self.path(name + ".out"), "wb"))
        kw.setdefault("stderr", open(self.path(name + ".err"), "wb"))
        kw.setdefault("stdin", subprocess.DEVNULL)
        try:
            proc = subprocess.Popen(argv, **kw)
        except FileNotFoundError:
            raise HarnessError(f"{argv[0]} is missing (scripts/deps.sh installs it)")
        proc.name = name
        self.procs.append(proc)
        return proc

    def peer(self, kind, port=0):
        """An untraced peer of peers.py (`http` or `sink`) on a port of its own (PORT, or one
        the kernel picks): the port. Its process is the last of self.procs."""
        proc = self.start([sys.executable, os.path.join(os.path.dirname(__file__), "peers.py"),
                           kind, str(port)], "peer-" + kind, stdout=subprocess.PIPE)
        line = read_line_matching(proc, proc.stdout, rb"^ready (\d+)", 10)
        return int(line.split()[1])

    def start_capture(self):
        """tcpdump on loopback, capturing when this returns (it said "listening on")."""
        # The kernel's ring holds -B KiB in slots of the snap length each: with -s 0 (256 KiB
        # slots) 16 MiB held 64 packets, and redis-benchmark's burst on a busy machine lost some.
        # A loopback packet is at most 65,535 bytes of IP and 14 of Ethernet: -s 65600 loses
        # nothing, and 128 MiB hold about 2,000 of them.
        self.tcpdump = self.start(["tcpdump", "-i", "lo", "-n", "-U", "--immediate-mode",
                                   "-Z", "root", "-s", "65600", "-B", "131072", "-w",
                                   self.capture_path], "tcpdump", stderr=subprocess.PIPE)
        read_line_matching(self.tcpdump, self.tcpdump.stderr, rb"listening on", 10)

    def stop_capture(self):
        """Stops tcpdump once it wrote everything: a marker datagram is sent after the case's
        traffic and tcpdump gets SIGINT only when the marker is in its file (packets it had
        not read yet would be lost); fails when packets were dropped (the wire would not be
        the truth)."""
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(END_MARKER, ("127.0.0.1", END_MARKER_PORT))
        deadline = time.monotonic() + 10
        while END_MARKER not in open(self.capture_path, "rb").read():
            if time.monotonic() > deadline:
                raise HarnessError("tcpdump did not write the end marker within 10 s")
            time.sleep(0.02)
        self.tcpdump.send_signal(signal.SIGINT)
        try:
            _, err = self.tcpdump.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            raise HarnessError("tcpdump did not stop within 20 s of SIGINT")
        text = err.decode(errors="replace")
        with open(self.path("tcpdump.err"), "w") as f:
            f.write(text)
        # (On loopback "received by filter" counts each packet twice, going out and coming in.)
        # Under load tcpdump sometimes ends before printing its counts: the capture is still
        # whole up to the end marker, and a kernel drop could only make the wire look short of
        # what wstrace saw (a failure, never a pass), so only a drop it reports fails here.
        dropped = re.search(r"(\d+) packets dropped by kernel", text)
        if dropped and int(dropped[1]):
            raise HarnessError(f"tcpdump dropped packets: {text.strip()}")
        if not dropped:
            print(f"note: tcpdump did not print its drop count ({text.strip()!r})")

    def record_argv(self, argv):
        if self.wine:
            return self.wine.record_argv(argv)
        engine = ["--engine", self.engine] if self.engine else []
        return [self.wstrace, "record", "-q", "-s", "max", *engine, "-o", self.trace, "--",
                *argv]

    def test_program(self, name):
        """A program of the build's tests/programs (beside bin/, where wstrace is)."""
        path = os.path.join(os.path.dirname(self.wstrace), "..", "tests", "programs", name)
        if not os.access(path, os.X_OK):
            raise HarnessError(f"{path} is missing: build the tests (cmake --build)")
        return os.path.abspath(path)

    def traced(self, argv, timeout=60, expect=None, stdin=None):
        """Runs a client under `wstrace record` until it ends; its stdout when it exited 0 and
        printed EXPECT (a regex)."""
        return self.client(self.record_argv(argv), "traced", timeout, expect, stdin)

    def client(self, argv, name, timeout=60, expect=None, stdin=None):
        """Runs an untraced program until it ends: its stdout when it exited 0 (and matched
        EXPECT). STDIN: bytes for its standard input (else none)."""
        kw = {}
        if stdin is not None:
            with open(self.path(name + ".in"), "wb") as f:
                f.write(stdin)
            kw["stdin"] = open(self.path(name + ".in"), "rb")
        proc = self.start(argv, name, **kw)
        try:
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise HarnessError(f"{argv[0]} ({name}) did not end within {timeout} s")
        out = open(self.path(name + ".out"), "rb").read().decode(errors="replace")
        err = open(self.path(name + ".err"), "rb").read().decode(errors="replace")
        if code != 0 or (expect and not re.search(expect, out)):
            raise HarnessError(f"{name}: {' '.join(argv)} exited {code}; stdout: {out[:400]!r};"
                               f" stderr: {err[:600]!r}")
        return out

    def traced_server(self, argv, port, proto="tcp"):
        """Starts a server under `wstrace record`; returns once it listens on PORT."""
        rec = self.start(self.record_argv(argv), "traced")
        try:
            wait_listening(rec, port, proto, 20)
        except HarnessError as e:
            err = open(self.path("traced.err"), "rb").read()[-600:].decode(errors="replace")
            raise HarnessError(f"{e}; its stderr: {err}")
        return rec

    def stop_traced_server(self, rec, sig=signal.SIGTERM):
        """Ends a traced server: SIG to the program `record` started (its child), then waits
        for `record` to write the trace and exit."""
        children = open(f"/proc/{rec.pid}/task/{rec.pid}/children").read().split()
        if not children:
            raise HarnessError(f"the traced server has ended early (record exited "
                               f"{rec.poll()}): see {self.path('traced.err')}")
        for pid in children:
            os.kill(int(pid), sig)
        try:
            rec.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise HarnessError("wstrace record did not end within 30 s of stopping the server")

    def close(self):
        """Ends what is still running, newest first: SIGTERM, then SIGKILL after 5 s; then the
        case's wineserver."""
        for proc in reversed(self.procs):
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(timeout=5)
        if self.wine:
            self.wine.stop()


def read_line_matching(proc, stream, pattern, timeout):
    """Reads STREAM until a line matches PATTERN (bytes regex): that line. Raises HarnessError
    after TIMEOUT seconds or when the process ends first."""
    deadline, buf, seen = time.monotonic() + timeout, b"", b""
    fd = stream.fileno()
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buf += chunk
        while b"\n" in buf:
            line, buf = buf.split(b"\n", 1)
            seen += line + b"\n"
            if re.search(pattern, line):
                return line.decode()
    raise HarnessError(f"{proc.name} did not print {pattern!r} within {timeout} s "
                       f"(exit {proc.poll()}): {seen[-400:]!r}")


def listening(port, proto):
    """Whether a socket of this namespace listens on (TCP) or is bound to (UDP) PORT."""
    for table in (f"/proc/net/{proto}", f"/proc/net/{proto}6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, state = fields[1], fields[3]
                if int(local.rsplit(":", 1)[1], 16) == port and \
                        state == ("0A" if proto == "tcp" else "07"):
                    return True
    return False


def wait_listening(proc, port, proto, timeout):
    """Waits (polling the kernel's socket table, bounded) until PORT listens; no connection is
    made, so nothing but the case's own traffic reaches the capture."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if listening(port, proto):
            return
        if proc.poll() is not None:
            raise HarnessError(f"{proc.name} exited {proc.returncode} before listening on "
                               f"{proto} port {port}")
        time.sleep(0.02)
    raise HarnessError(f"nothing listened on {proto} port {port} within {timeout} s")
