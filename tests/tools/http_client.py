"""A real program for the capture and report tests: python3's own socket calls fetching
/hello.txt over HTTP/1.0 from a server on 127.0.0.1 (tests/integration/lib_capture.sh's
http_server), reading to the end of the stream; prints the status line and the body.

  http_client.py PORT [--lookup NAME] [--refused PORT]

--lookup first resolves NAME with getaddrinfo (IPv4, stream); --refused last connects to a
port where nothing listens and prints "refused".
"""
import argparse
import socket

ap = argparse.ArgumentParser()
ap.add_argument("port", type=int)
ap.add_argument("--lookup")
ap.add_argument("--refused", type=int)
args = ap.parse_args()

if args.lookup:
    socket.getaddrinfo(args.lookup, args.port, socket.AF_INET, socket.SOCK_STREAM)
s = socket.create_connection(("127.0.0.1", args.port))
s.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: wstrace.test\r\n\r\n")
data = b""
while True:
    chunk = s.recv(4096)
    if not chunk:
        break
    data += chunk
s.close()
print(data.split(b"\r\n")[0].decode())
print(data.split(b"\r\n\r\n", 1)[1].decode(), end="")
if args.refused:
    try:
        socket.create_connection(("127.0.0.1", args.refused))
    except ConnectionRefusedError:
        print("refused")
