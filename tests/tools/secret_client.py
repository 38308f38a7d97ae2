"""A real python3 client for the secrets test, two exchanges with cookie_server.py:

1. http.client with an absolute-form target that carries user:password@, Authorization:
   Bearer, a Cookie and a Referer with a password of its own;
2. a raw socket that sends its request in two calls cut inside the bearer token, the way a
   program writing headers piece by piece does.

  SECRET_TOKEN=… SECRET_COOKIE=… SECRET_PASSWORD=… secret_client.py PORT
(from the environment, so that the values are not in the recorded command line)
Prints the two status lines and the Set-Cookie the server sent.
"""
import http.client
import os
import socket
import sys

port = int(sys.argv[1])
token, cookie = os.environ["SECRET_TOKEN"], os.environ["SECRET_COOKIE"]
password = os.environ["SECRET_PASSWORD"]
base = f"http://bob:{password}@127.0.0.1:{port}"

c = http.client.HTTPConnection("127.0.0.1", port)
c.request("GET", base + "/first", headers={
    "Authorization": f"Bearer {token}",
    "Cookie": f"session={cookie}; theme=dark",
    "Referer": base + "/from",
})
r = c.getresponse()
r.read()
print(r.status, r.getheader("Set-Cookie"))
c.close()

s = socket.create_connection(("127.0.0.1", port))
head = (f"GET /second HTTP/1.1\r\nHost: 127.0.0.1\r\nauthorization: Bearer {token}\r\n"
        f"cookie: session={cookie}\r\nConnection: close\r\n\r\n").encode()
cut = head.index(token.encode()) + len(token) // 2
s.sendall(head[:cut])
s.sendall(head[cut:])
with s.makefile("rb") as f:  # reads to the end of the stream
    data = f.read()
s.close()
print(data.split(b"\r\n")[0].decode())
