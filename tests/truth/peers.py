"""Untraced peers of the truth harness's cases: a keep-alive HTTP/1.1 server, a sink, and a
server of lines.

Run as `python3 peers.py http`, `sink` or `lines` [PORT]: binds 127.0.0.1 on PORT or a port
the kernel picks, prints `ready PORT` once listening (the harness waits for that line), then serves
until killed. Standard library only.
"""
import http.server
import socketserver
import sys

# Bodies with distinct bytes, so that a byte stream that is shifted or doubled differs.
ALPHA = bytes(65 + i % 26 for i in range(3000))
BETA = bytes(97 + (i * 7) % 26 for i in range(5000))
CHUNKS = [bytes(48 + (i + n) % 10 for i in range(700 + 300 * n)) for n in range(4)]


class Handler(http.server.BaseHTTPRequestHandler):
    """GET /a, /b (Content-Length), /chunked (Transfer-Encoding: chunked), /redirect (302 to
    /a); POST /echo answers the body's length. Keep-alive (HTTP/1.1)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path == "/a":
            self.reply(200, ALPHA)
        elif self.path == "/b":
            self.reply(200, BETA)
        elif self.path == "/redirect":
            self.reply(302, b"moved\n", [("Location", "/a")])
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in CHUNKS:
                self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.reply(404, b"no such page\n")

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.reply(200, b"got %d bytes\n" % len(body))

    def reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Sink(socketserver.BaseRequestHandler):
    """Reads until the end of the stream, then answers `got N` and closes."""

    def handle(self):
        n = 0
        while chunk := self.request.recv(65536):
            n += len(chunk)
        self.request.sendall(b"got %d\n" % n)


class Lines(socketserver.BaseRequestHandler):
    """Sends LINES, reads until a newline came back (Asio's timeouts/async_tcp_client sends an
    empty line as its heartbeat), then closes: that client then ends at the end of the stream."""

    LINES = b"".join(b"line %d of the truth harness\n" % n for n in range(1, 4))

    def handle(self):
        self.request.sendall(self.LINES)
        got = b""
        while b"\n" not in got and (chunk := self.request.recv(100)):
            got += chunk


def main():
    handler = {"http": Handler, "sink": Sink, "lines": Lines}[sys.argv[1]]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), handler)
    server.daemon_threads = True
    print("ready", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
