"""A loopback HTTP/1.1 server for the secrets test: answers every GET with 200, a session
cookie (Set-Cookie) and a short body; prints nothing. Serves until killed.

  cookie_server.py PORT SESSION_VALUE
"""
import http.server
import sys

port, session = int(sys.argv[1]), sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        body = b"ok\n"
        self.send_response(200)
        self.send_header("Set-Cookie", f"sid={session}; Path=/; HttpOnly")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


http.server.HTTPServer(("127.0.0.1", port), Handler).serve_forever()
