"""The truth harness's cases of Windows programs under Wine (wine.py): Asio's own examples, built
from Debian's libasio-doc by the win64 build, and WinHTTP through cscript, each traced by
`wstrace.exe record` (or `attach`) while tcpdump captures loopback. Servers traced with their
clients untraced, and clients traced against untraced servers.
"""
import os
import re
import signal
import subprocess

from cases import Spec, url
from harness import HarnessError, read_line_matching, wait_listening

# Messages of the echo cases: distinct lengths and bytes, so that a shifted or doubled stream
# differs. (Asio's blocking clients read one line of at most 1023 bytes from their input.)
MESSAGES = [b"hello from the truth harness", bytes(48 + i % 75 for i in range(700)),
            b"the third and last exchange"]


def asio(run, name):
    return run.wine.program(os.path.join("asio", name + ".exe"))


def echo_client(run, proto, port, message, traced=False, name="client"):
    """Asio's blocking_PROTO_echo_client sends MESSAGE (its standard input) and prints the
    reply; fails the case unless the reply is MESSAGE."""
    argv = [asio(run, f"blocking_{proto}_echo_client"), "127.0.0.1", str(port)]
    expect = re.escape("Reply is: " + message.decode())
    if traced:
        return run.traced(argv, expect=expect, stdin=message + b"\n")
    return run.client(["wine", *argv], name, expect=expect, stdin=message + b"\n")


def untraced_server(run, image, args, port, proto):
    server = run.start(["wine", asio(run, image), *args], image)
    wait_listening(server, port, proto, 30)
    return server


def stop_traced(run, rec, image):
    """Ends a traced Windows server (its Linux process: Wine has no gentler way in from
    outside) and waits for REC, `wstrace.exe record` or `attach`, to write the trace and
    exit."""
    pids = run.wine.linux_pids(image + ".exe")
    if not pids:
        raise HarnessError(f"the traced {image} has ended early (record exited {rec.poll()}): "
                           f"see {run.path('traced.err')}")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    try:
        rec.wait(timeout=30)
    except subprocess.TimeoutExpired:
        raise HarnessError("wstrace.exe did not end within 30 s of the server's end")


def traced_echo_server(run, proto, port):
    """Asio's async_PROTO_echo_server traced, with three exchanges of its blocking client,
    untraced (each a connection, or a flow from a port, of its own)."""
    image = f"async_{proto}_echo_server"
    run.start_capture()
    rec = run.traced_server([asio(run, image), str(port)], port, proto)
    for n, message in enumerate(MESSAGES):
        echo_client(run, proto, port, message, name=f"client{n}")
    stop_traced(run, rec, image)
    run.stop_capture()
    return Spec()


def traced_echo_client(run, proto, port, message):
    """Asio's blocking_PROTO_echo_client traced against its untraced async_PROTO_echo_server."""
    untraced_server(run, f"async_{proto}_echo_server", [str(port)], port, proto)
    run.start_capture()
    echo_client(run, proto, port, message, traced=True)
    run.stop_capture()
    return Spec()


def asio_tcp_echo_server(run):
    """The TCP echo server traced: AcceptEx, overlapped WSARecv/WSASend through a completion
    port."""
    return traced_echo_server(run, "tcp", 7101)


def asio_tcp_echo_client(run):
    """The blocking TCP client traced: connect, send, recv."""
    return traced_echo_client(run, "tcp", 7102, MESSAGES[1])


def asio_async_tcp_client(run):
    """Asio's timeouts/async_tcp_client (traced: ConnectEx, overlapped reads until the end of
    the stream) against a server that sends three lines, reads the heartbeat and closes."""
    port = run.peer("lines")
    run.start_capture()
    run.traced([asio(run, "async_tcp_client"), "127.0.0.1", str(port)],
               expect=r"Received: line 3 of the truth harness")
    run.stop_capture()
    return Spec()


def asio_udp_echo_server(run):
    """The UDP echo server traced: overlapped WSARecvFrom/WSASendTo."""
    return traced_echo_server(run, "udp", 7104)


def asio_udp_echo_client(run):
    """The blocking UDP client traced: sendto, recvfrom."""
    return traced_echo_client(run, "udp", 7105, MESSAGES[0])


def asio_http_server(run):
    """Asio's http/server example (traced) serving a 200 kB file and a small one to an untraced
    curl (the server closes each connection after its reply: two connections)."""
    port = 7106
    www = run.path("www")
    os.makedirs(www)
    with open(os.path.join(www, "big.bin"), "wb") as f:
        f.write(bytes((i * 7) % 253 for i in range(200_000)))
    with open(os.path.join(www, "small.txt"), "w") as f:
        f.write("small file\n")
    run.start_capture()
    rec = run.traced_server([asio(run, "http_server"), "127.0.0.1", str(port), www], port)
    run.client(["curl", "-sS", "--max-time", "20", "-o", run.path("big.got"),
                url(port, "/big.bin"), url(port, "/small.txt")], "curl", expect=r"small file")
    stop_traced(run, rec, "http_server")
    run.stop_capture()
    if os.path.getsize(run.path("big.got")) != 200_000:
        raise HarnessError("curl did not get the 200000 bytes of big.bin from Asio's server")
    return Spec([port], 2)


WINHTTP_JS = r"""
var base = WScript.Arguments(0);
function fetch(method, path, body) {
  var r = new ActiveXObject("WinHttp.WinHttpRequest.5.1");
  r.Open(method, base + path, false);
  r.Send(body);
  return r.Status + " " + r.ResponseText.length + " " + r.ResponseText.substring(0, 20);
}
WScript.Echo(fetch("GET", "/a", ""));
WScript.Echo(fetch("GET", "/chunked", ""));
var body = "";
for (var i = 0; i < 900; i++) body += String.fromCharCode(33 + i % 90);
WScript.Echo(fetch("POST", "/echo", body));
"""


def winhttp_cscript(run):
    """WinHTTP's scripting object (WinHttp.WinHttpRequest.5.1) in Wine's cscript (traced): two
    GETs (one chunked) and a POST to the untraced HTTP peer."""
    port = run.peer("http")
    script = run.path("fetch.js")
    with open(script, "w") as f:
        f.write(WINHTTP_JS)
    run.start_capture()
    run.traced(["cscript.exe", "//nologo", windows_path(script), url(port, "")],
               expect=r"200 14 got 900 bytes")
    run.stop_capture()
    return Spec([port], 3)


def asio_attach(run):
    """`wstrace.exe attach` to Asio's async_tcp_echo_server once it accepts connections (one
    served before the attach, so that an accept is pending in it), then two connections of its
    untraced client."""
    port = 7108
    untraced_server(run, "async_tcp_echo_server", [str(port)], port, "tcp")
    echo_client(run, "tcp", port, b"before the attach", name="before")
    pid = run.wine.windows_pid("async_tcp_echo_server.exe")
    run.start_capture()
    attach = run.start(["wine", run.wine.wstrace_exe, "attach", "-o", run.trace, str(pid)],
                       "attach", stderr=subprocess.PIPE)
    read_line_matching(attach, attach.stderr, rb"attached to process", 30)
    for n, message in enumerate(MESSAGES[:2]):
        echo_client(run, "tcp", port, message, name=f"client{n}")
    stop_traced(run, attach, "async_tcp_echo_server")
    run.stop_capture()
    return Spec()


def windows_path(path):
    """An absolute Linux path as Wine's Z: drive names it."""
    return "Z:" + path.replace("/", "\\")


CASES = {"wine_" + f.__name__: f for f in (asio_tcp_echo_server, asio_tcp_echo_client,
                                           asio_async_tcp_client, asio_udp_echo_server,
                                           asio_udp_echo_client, asio_http_server,
                                           winhttp_cscript, asio_attach)}
