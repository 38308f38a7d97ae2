"""The truth harness under Wine: Windows programs traced by wstrace.exe. Wine's sockets are
Linux sockets, so tcpdump on loopback sees them as it sees any other.

Each case has a Wine prefix of its own in its work folder, copied from a template the first case
makes (wineboot takes about ten seconds; a copy a fraction of one), and its own wineserver,
started inside the case's network namespace: Wine's sockets are made by the wineserver, so one
started outside would put them in the machine's namespace, out of tcpdump's sight. The
wineserver is stopped when the case ends."""
import fcntl
import os
import re
import shutil
import subprocess
import time

from harness import HarnessError

# Wine's chatter off; no Mono/Gecko install prompts.
ENV = {"WINEDEBUG": "-all", "WINEDLLOVERRIDES": "mscoree,mshtml="}


class Wine:
    """The Wine of one case: its prefix and wineserver, wstrace.exe and the Windows programs of
    the build (TARGETS: tests/targets of the win64 build)."""

    def __init__(self, run, wstrace_exe, targets):
        self.run, self.wstrace_exe, self.targets = run, wstrace_exe, targets
        self.prefix = run.path("prefix")
        self.server_started = False

    def program(self, name):
        """The path of a Windows program of the build (asio/NAME.exe, NAME.exe); skips the case
        (SkipCase) when the build could not make it."""
        path = os.path.join(self.targets, name)
        if not os.path.exists(path):
            raise SkipCase(f"{path} was not built (the win64 build makes it when Asio's examples "
                           f"are installed: scripts/deps.sh installs libasio-dev and libasio-doc)")
        return path

    def start(self):
        """The case's prefix, copied from the template, and its wineserver (persistent until
        stop(): an idle one exits after a few seconds, and a program started just then fails)."""
        template = make_template(os.path.dirname(self.run.work))
        # Hard links (a prefix holds ~700 MB of DLLs, which Wine only reads), but copies of the
        # registry files, which the wineserver rewrites in place.
        subprocess.run(["cp", "-al", template, self.prefix], check=True)
        for name in os.listdir(self.prefix):
            if name.endswith(".reg"):
                os.unlink(os.path.join(self.prefix, name))
                shutil.copy2(os.path.join(template, name), os.path.join(self.prefix, name))
        os.environ.update(ENV, WINEPREFIX=self.prefix)
        subprocess.run(["wineserver", "-p"], check=True, timeout=30)
        self.server_started = True

    def stop(self):
        """Ends the case's wineserver and every Wine process of its prefix."""
        if self.server_started:
            subprocess.run(["wineserver", "-k"], capture_output=True, timeout=30)
            subprocess.run(["wineserver", "-w"], capture_output=True, timeout=30)
            self.server_started = False

    def record_argv(self, argv):
        """ARGV (a Windows program and its arguments) under `wstrace.exe record`."""
        return ["wine", self.wstrace_exe, "record", "-q", "-s", "max", "-o", self.run.trace,
                "--", *argv]

    def windows_pid(self, image, timeout=20):
        """The Windows process id of the one running program named IMAGE (such as
        `async_tcp_echo_server.exe`). Wine gives its processes ids of its own, unrelated to the
        Linux pids, and `wstrace.exe attach` wants that one; Wine 8's tasklist prints nothing,
        its debugger lists them (in hex)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            out = subprocess.run(["wine", "winedbg", "--command", "info proc"],
                                 capture_output=True, timeout=30).stdout.decode(errors="replace")
            pids = [int(m[1], 16) for m in re.finditer(r"^.([0-9a-f]{8}) +\d+ +(?:\\_ )*'(.*)'$",
                                                      out, re.M) if m[2].lower() == image.lower()]
            if len(pids) == 1:
                return pids[0]
            if len(pids) > 1:
                raise HarnessError(f"more than one {image} runs: {pids}")
            time.sleep(0.1)
        raise HarnessError(f"winedbg did not list {image} within {timeout} s")

    def linux_pids(self, image):
        """The Linux pids of the Windows programs named IMAGE of this case: the processes of
        this network namespace (the case's own) whose first argument names IMAGE (Wine puts
        the Windows path of the program there)."""
        here, pids = os.readlink("/proc/self/ns/net"), []
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                if os.readlink(f"/proc/{pid}/ns/net") != here:
                    continue
                arg0 = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[0].decode(
                    errors="replace")
            except OSError:
                continue  # ended meanwhile
            if re.split(r"[\\/]", arg0)[-1].lower() == image.lower():
                pids.append(int(pid))
        return pids


class SkipCase(Exception):
    """The machine cannot run this case (a program was not built): exit 77 with the reason."""


def make_template(parent):
    """PARENT/truth_wine_prefix, a Wine prefix booted once (under a lock: cases run in
    parallel); remade when Wine's version changed."""
    template = os.path.join(parent, "truth_wine_prefix")
    version = subprocess.run(["wine", "--version"], capture_output=True,
                             timeout=30).stdout.decode().strip()
    stamp = os.path.join(template, "wstrace-made-by")
    with open(template + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.path.exists(stamp) and open(stamp).read() == version:
            return template
        shutil.rmtree(template, ignore_errors=True)
        env = dict(os.environ, **ENV, WINEPREFIX=template)
        boot = subprocess.run(["wine", "wineboot", "--init"], env=env, capture_output=True,
                              timeout=300)
        subprocess.run(["wineserver", "-w"], env=env, timeout=60)
        if boot.returncode:
            raise HarnessError(f"wineboot --init failed: {boot.stderr.decode()[-400:]}")
        with open(stamp, "w") as f:
            f.write(version)
    return template
