"""The truth harness's cases: each runs real Debian programs on loopback, one of them under
`wstrace record`, with tcpdump capturing (truth.py's Run), and returns a Spec saying what to
compare. A case fails early (HarnessError) when its programs did not do what it meant.
"""
import dataclasses
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading

from harness import HarnessError, read_line_matching, wait_listening
from wine import SkipCase


@dataclasses.dataclass
class Spec:
    """What compare.py is told about a finished case."""
    http_ports: list = dataclasses.field(default_factory=list)  # decoded as HTTP on the wire
    requests: int = 0                   # the HTTP requests the client made
    declares: dict = dataclasses.field(default_factory=dict)  # {what: [checks it excuses]}
    both_ends: bool = False             # both ends of a connection are traced: a row each


# What LD_PRELOAD cannot see, declared by the trace for the process, excuses mismatches of the
# checks named on its rows (never `conns`: a row that is not a connection is never excused).
# io_uring (libuv's file operations) excuses nothing: the sockets still go through libc, so the
# case proves the declaration is there and the rows still equal the wire.
IO_URING = {"io_uring": []}

PYTHON = "/usr/bin/python3"  # Debian's, which has python3-requests


def url(port, path):
    return f"http://127.0.0.1:{port}{path}"


def curl(run):
    """curl: two URLs on one keep-alive connection (one response chunked), then a POST."""
    port = run.peer("http")
    with open(run.path("post.bin"), "wb") as f:
        f.write(bytes(33 + i % 90 for i in range(900)))
    run.start_capture()
    run.traced(["curl", "-sS", "--max-time", "20", "-o", run.path("a.got"), url(port, "/a"),
                "-o", run.path("chunked.got"), url(port, "/chunked"),
                "--next", "-sS", "--max-time", "20", "--data-binary",
                "@" + run.path("post.bin"), url(port, "/echo")],
               expect=r"got 900 bytes")
    run.stop_capture()
    return Spec([port], 3)


def wget(run):
    """wget following a redirect (302 to /a) on its keep-alive connection."""
    port = run.peer("http")
    run.start_capture()
    run.traced(["wget", "-q", "-O", run.path("wget.body"), "--tries=1", "--timeout=20",
                url(port, "/redirect")])
    run.stop_capture()
    if os.path.getsize(run.path("wget.body")) != 3000:
        raise HarnessError("wget did not save the 3000 bytes of /a")
    return Spec([port], 2)


SENDFILE_PY = """
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
with open(sys.argv[2], "rb") as f:
    s.sendfile(f)
s.shutdown(socket.SHUT_WR)
print(s.recv(100).decode().strip())
s.close()
"""


def python_sendfile(run):
    """python3's socket.sendfile (os.sendfile underneath) of 200 kB to a sink."""
    port = run.peer("sink")
    with open(run.path("file.bin"), "wb") as f:
        f.write(bytes((i * 13) % 251 for i in range(200_000)))
    run.start_capture()
    run.traced([PYTHON, "-c", SENDFILE_PY, str(port), run.path("file.bin")],
               expect=r"got 200000")
    run.stop_capture()
    return Spec()


REQUESTS_PY = """
import requests, sys
base = "http://127.0.0.1:" + sys.argv[1]
with requests.Session() as s:
    print(len(s.get(base + "/a", timeout=20).content))
    print(len(s.get(base + "/chunked", timeout=20).content))
    print(s.post(base + "/echo", data=bytes(900), timeout=20).text.strip())
"""


def python_requests(run):
    """python3-requests: a keep-alive session, a chunked response, a POST."""
    port = run.peer("http")
    run.start_capture()
    run.traced([PYTHON, "-c", REQUESTS_PY, str(port)], expect=r"got 900 bytes")
    run.stop_capture()
    return Spec([port], 3)


NGINX_CONF = """
daemon off;
master_process on;
worker_processes 1;
user root;
pid {work}/nginx.pid;
error_log {work}/nginx.error.log info;
events {{ worker_connections 64; }}
http {{
  access_log {work}/nginx.access.log;
  client_body_temp_path {work}/nginx-body;
  proxy_temp_path {work}/nginx-proxy;
  fastcgi_temp_path {work}/nginx-fastcgi;
  uwsgi_temp_path {work}/nginx-uwsgi;
  scgi_temp_path {work}/nginx-scgi;
  default_type application/octet-stream;
  sendfile on;
  server {{
    listen 127.0.0.1:{port};
    root {work}/www;
  }}
}}
"""


def nginx(run):
    """nginx (master and one worker, traced) with `sendfile on` serving a 200 kB file and a
    small one on one keep-alive connection of an untraced curl."""
    port = 8081
    os.makedirs(run.path("www"))
    with open(run.path("www/big.bin"), "wb") as f:
        f.write(bytes((i * 7) % 253 for i in range(200_000)))
    with open(run.path("www/small.txt"), "w") as f:
        f.write("small file\n")
    with open(run.path("nginx.conf"), "w") as f:
        f.write(NGINX_CONF.format(work=run.work, port=port))
    run.start_capture()
    server = run.traced_server(["nginx", "-c", run.path("nginx.conf"), "-p", run.work], port)
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("big.got"),
                url(port, "/big.bin"), url(port, "/small.txt")], "curl", expect=r"small file")
    run.stop_traced_server(server)
    run.stop_capture()
    if os.path.getsize(run.path("big.got")) != 200_000:
        raise HarnessError("curl did not get the 200000 bytes of big.bin from nginx")
    return Spec([port], 2)


def redis(run):
    """redis-server (traced) under redis-benchmark: 200 SETs and 200 GETs on 2 connections."""
    port = 6390
    run.start_capture()
    server = run.traced_server(["redis-server", "--port", str(port), "--bind", "127.0.0.1",
                                "--save", "", "--appendonly", "no", "--daemonize", "no",
                                "--dir", run.work, "--logfile", run.path("redis.log")], port)
    run.client(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-n", "200", "-c", "2",
                "-t", "set,get", "-q"], "redis-benchmark", timeout=60, expect=r"GET")
    run.stop_traced_server(server)
    run.stop_capture()
    return Spec()


SSHD_CONFIG = """
Port {port}
ListenAddress 127.0.0.1
HostKey {work}/host_key
PidFile {work}/sshd.pid
AuthorizedKeysFile {work}/authorized_keys
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
"""


def sshd(run):
    """sshd (traced; it re-executes itself for each connection, which inherits the socket)
    and a key login of an untraced `ssh … true`. Throwaway keys in the work folder; /run is a
    tmpfs of the case's own mount namespace, for sshd's privilege separation folder."""
    port = 2222
    for key in ("host_key", "user_key"):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", run.path(key)],
                       check=True, capture_output=True, timeout=30)
    with open(run.path("user_key.pub")) as src, open(run.path("authorized_keys"), "w") as dst:
        dst.write(src.read())
    with open(run.path("sshd_config"), "w") as f:
        f.write(SSHD_CONFIG.format(work=run.work, port=port))
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/run"], check=True)
    os.mkdir("/run/sshd", 0o755)
    run.start_capture()
    server = run.traced_server(["/usr/sbin/sshd", "-D", "-e", "-f", run.path("sshd_config")],
                               port)
    open(run.path("ssh_config"), "w").close()  # no user or system ssh configuration
    run.client(["ssh", "-F", run.path("ssh_config"), "-i", run.path("user_key"),
                "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=no",
                "-o", "UserKnownHostsFile=" + run.path("known_hosts"),
                "-o", "LogLevel=ERROR", "-p", str(port), "root@127.0.0.1",
                "echo logged in"], "ssh", timeout=30, expect=r"logged in")
    run.stop_traced_server(server)
    run.stop_capture()
    return Spec()


def dig(run):
    """dig (traced) asking an untraced dnsmasq on 127.0.0.1:5353 (not DNS's port)."""
    port = 5353
    open(run.path("dnsmasq.conf"), "w").close()
    server = run.start(["dnsmasq", "-k", "-C", run.path("dnsmasq.conf"), "--port", str(port),
                        "--listen-address", "127.0.0.1", "--bind-interfaces", "--no-resolv",
                        "--no-hosts", "--address=/truth.test/10.9.8.7", "--user=root",
                        "--pid-file=" + run.path("dnsmasq.pid"), "--log-facility=-"],
                       "dnsmasq")
    wait_listening(server, port, "udp", 10)
    run.start_capture()
    run.traced(["dig", "-p", str(port), "@127.0.0.1", "+tries=1", "+time=5", "+notcp",
                "www.truth.test", "A"], expect=r"10\.9\.8\.7")
    run.stop_capture()
    return Spec()


NODE_JS = """
const http = require('http');
const agent = new http.Agent({ keepAlive: true });
function get(path) {
  return new Promise((ok, fail) => {
    http.get({ host: '127.0.0.1', port: Number(process.argv[1]), path, agent }, (res) => {
      let n = 0;
      res.on('data', (d) => { n += d.length; });
      res.on('end', () => ok(n));
    }).on('error', fail);
  });
}
(async () => {
  console.log('got', await get('/a'), await get('/chunked'));
  agent.destroy();
})();
"""


def node(run):
    """Node.js (libuv) making two requests on one keep-alive connection, then closing it. libuv
    closes with syscall(SYS_close) (and dig's libuv sends with syscall(SYS_sendmmsg)): the agent
    traces those as the calls they are."""
    port = run.peer("http")
    run.start_capture()
    run.traced(["/usr/bin/node", "-e", NODE_JS, str(port)], expect=r"got 3000 4600")
    run.stop_capture()
    return Spec([port], 2)


def node_fs(run):
    """The same, after reading a file asynchronously with UV_USE_IO_URING=1: libuv sets up
    io_uring for file operations, which the agent cannot see into — the trace must declare it
    (the sockets stay exact)."""
    port = run.peer("http")
    script = "require('fs').readFile('/etc/hostname', () => {\n" + NODE_JS + "\n});"
    run.start_capture()
    run.traced(["/usr/bin/env", "UV_USE_IO_URING=1", "/usr/bin/node", "-e", script, str(port)],
               expect=r"got 3000 4600")
    run.stop_capture()
    return Spec([port], 2, declares=IO_URING)


def static_http(run):
    """A statically linked C client (tests/programs/static_http.c): three GETs on one
    keep-alive connection with write/read, writev/readv and sendmsg/recvmsg. No agent can be
    preloaded into it: a case of the kernel engine's."""
    port = run.peer("http")
    program = run.test_program("static_http")
    run.start_capture()
    run.traced([program, str(port), "/a", "/b", "/a"], expect=r"got 3000 5000 3000")
    run.stop_capture()
    return Spec([port], 3)


def go_http(run):
    """A Go HTTP client (tests/programs/go_http_client.go: static, no libc) making two requests
    on one keep-alive connection. Recorded with `--engine auto`, which must give it to the
    kernel engine (the preload agent cannot enter it; record_ebpf.sh checks the line saying
    so, which -q leaves out)."""
    if shutil.which("go") is None:
        raise SkipCase("Go (Debian's golang-go) is not installed: the Go client was not built")
    port = run.peer("http")
    program = run.test_program("go_http_client")
    run.engine = "auto"
    run.start_capture()
    run.traced([program, str(port), "/a", "/chunked"], expect=r"got 3000 4600")
    run.stop_capture()
    info = subprocess.run([run.wstrace, "info", "--json", run.trace], capture_output=True,
                          text=True, check=True).stdout
    if '"engine": "ebpf"' not in info:
        raise HarnessError(f"--engine auto did not give the Go program to the kernel engine: "
                           f"{info[:300]!r}")
    return Spec([port], 2)


CASES = {f.__name__: f for f in (curl, wget, python_sendfile, python_requests, nginx, redis,
                                 sshd, dig, node, node_fs)}
# The cases run again under the kernel engine (`record --engine ebpf`; tests/CMakeLists.txt),
# and those only it can record.
def started_engine(run, argv, name, ready):
    """Starts `wstrace attach` or `record --system` (ARGV) and returns once it printed READY
    (a regex) on stderr: from then on it traces. The rest of its stderr (its live lines) is
    read on, so that it never blocks writing them."""
    proc = run.start(argv, name, stderr=subprocess.PIPE)
    read_line_matching(proc, proc.stderr, ready, 60)
    rest = open(run.path(name + ".err"), "wb")
    threading.Thread(target=lambda: shutil.copyfileobj(proc.stderr, rest), daemon=True).start()
    return proc


def interrupt(proc, name):
    """Ctrl+C to a wstrace that traces running processes: it must end cleanly (0)."""
    proc.send_signal(signal.SIGINT)
    try:
        code = proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise HarnessError(f"{name} did not end within 30 s of SIGINT")
    if code != 0:
        raise HarnessError(f"{name} exited {code} after SIGINT")


def trace_rows(run):
    """The rows of `conns --json` of the case's trace."""
    out = subprocess.run([run.wstrace, "conns", "--json", run.trace], capture_output=True,
                         timeout=60, check=True).stdout.decode()
    return [json.loads(line) for line in out.splitlines() if line]


def attach_python_server(run):
    """`wstrace attach` to a python3 HTTP server (peers.py) started untraced and waiting in
    accept: curl then fetches from it (untraced). The trace has the server's listening socket
    as inherited and the connection it served equal to the wire; after Ctrl+C the server runs
    on, untouched, and serves another curl."""
    port = run.peer("http")
    server = run.procs[-1]
    run.start_capture()
    att = started_engine(run, [run.wstrace, "attach", "-s", "max", "-o", run.trace,
                               str(server.pid)], "attach", rb"attached to process")
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("a.got"), url(port, "/a")],
               "client")
    interrupt(att, "wstrace attach")
    run.stop_capture()
    if server.poll() is not None:
        raise HarnessError(f"the server ended ({server.returncode}) when wstrace detached")
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("b.got"), url(port, "/b")],
               "client-after")
    if os.path.getsize(run.path("b.got")) != 5000:
        raise HarnessError("the server did not serve /b after wstrace detached")
    listeners = [r for r in trace_rows(run) if r.get("role") == "listener"
                 and r.get("local") == f"127.0.0.1:{port}" and r.get("pid") == server.pid]
    if len(listeners) != 1:
        raise HarnessError(f"the trace has no listener row for the server's inherited socket "
                           f"127.0.0.1:{port}")
    return Spec([port], 1)


def system_port_filter(run):
    """`wstrace record --system --filter 'port == P'`: curl, started after wstrace is ready and
    unrelated to it, fetches from an untraced server on P — both ends are recorded, each equal
    to the wire — while a connection to another port, made after the capture's end, is not
    recorded at all. P is outside the ephemeral range, which the whole machine's connections
    (seen by the kernel engine in every network namespace) use."""
    port = run.peer("http", random.randrange(20000, 30000))
    other = run.peer("http")
    run.start_capture()
    rec = started_engine(run, [run.wstrace, "record", "--system", "-s", "max", "--filter",
                               f"port == {port}", "-o", run.trace], "system",
                         rb"recording every process")
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("a.got"), url(port, "/a")],
               "client")
    run.stop_capture()
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("b.got"), url(other, "/b")],
               "client-other")
    interrupt(rec, "wstrace record --system")
    stray = [r for r in trace_rows(run) if str(other) in (r.get("local", "").rsplit(":", 1)[-1],
                                                         r.get("remote", "").rsplit(":", 1)[-1])]
    if stray:
        raise HarnessError(f"the trace has connections on port {other}, which the filter "
                           f"leaves out: {stray}")
    return Spec([port], 1, both_ends=True)


EBPF_CASES = {f.__name__: f for f in (curl, wget, python_sendfile, python_requests, nginx, redis,
                                      sshd, dig, node, node_fs, static_http, go_http,
                                      attach_python_server, system_port_filter)}

if __name__ == "__main__":
    sys.exit("run a case with truth.py")
