#!/usr/bin/env python3
"""Real socket calls whose names are bytes a reader of wstrace's output must survive: invalid
UTF-8 and terminal escape sequences in the thread's name, Unix socket paths (one of 107 bytes,
the longest python3 binds, given without a NUL), looked-up host names (one a spreadsheet
formula) and HTTP headers sent and answered on loopback.
Run as: odd_bytes.py DIR (under wstrace record)."""
import ctypes
import os
import socket
import sys

ODD = b"\xff\xfe\x1b[31m\x07"
d = os.fsencode(sys.argv[1])

# The thread names itself through libc (the agent records pthread_setname_np); 15 bytes at most.
libc = ctypes.CDLL(None)
libc.pthread_self.restype = ctypes.c_ulong
libc.pthread_setname_np.argtypes = [ctypes.c_ulong, ctypes.c_char_p]
assert libc.pthread_setname_np(libc.pthread_self(), b"T" + ODD) == 0

# Datagrams between two Unix sockets: an odd path, and a path that fills sun_path.
odd_path = d + b"/" + ODD + b"\xc0\x80.sock"
full_path = d + b"/" + b"F" * (107 - len(d) - 1)
assert len(full_path) == 107, len(full_path)
for path in (odd_path, full_path):
    rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    rx.bind(path)
    tx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    tx.bind(path[:-1] + b"s" if path is full_path else path + b".tx")
    tx.sendto(b"hi", path)
    data, sender = rx.recvfrom(16)
    print("unix", path == odd_path, len(path), len(sender), flush=True)
    tx.close()
    rx.close()

# A stream connection to the longest path: accept's local end is that path, byte for byte.
lst = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
os.unlink(full_path)
lst.bind(full_path)
lst.listen(1)
cli = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
cli.connect(full_path)
acc, _ = lst.accept()
for s in (acc, cli, lst):
    s.close()

# Lookups of odd names: numeric only, so nothing leaves the machine; each fails.
for name in (b"\xff\xfe\x1b]0;owned\x07.invalid", b"=cmd|' /C calc'!A0"):
    try:
        socket.getaddrinfo(name, None, flags=socket.AI_NUMERICHOST)
    except socket.gaierror as e:
        print("lookup failed", e.errno, flush=True)

# An HTTP exchange on loopback with escape sequences and invalid UTF-8 in its headers.
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
cli = socket.create_connection(srv.getsockname())
conn, _ = srv.accept()
cli.sendall(b"GET / HTTP/1.1\r\nHost: \x1b[31mhost\xff\r\nX-Bell: \x07\x9b1m\r\n\r\n")
conn.recv(4096)
conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Title: \x1b]0;owned\x07\r\n\r\nok")
cli.recv(4096)
for s in (cli, conn, srv):
    s.close()
print("done", flush=True)
