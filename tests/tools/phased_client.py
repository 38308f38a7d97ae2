#!/usr/bin/env python3
"""A client that works in steps, each when told, so that a test can watch a live view between
them without sleeping: it reads a command a line from the fifo CONTROL, does it and writes
"done COMMAND" to the fifo ACK.

  phased_client.py CONTROL ACK PORT DEAD_PORT
  fetch     GET /hello.txt from 127.0.0.1:PORT (HTTP/1.0)
  refused   connect to 127.0.0.1:DEAD_PORT (refused), close, then open and close another
            socket (the tracker hands a connection's end on at the next call)
  burst     20,000 datagrams of 1,000 bytes to a socket of its own on loopback, as fast as it
            can (more than small rings hold: a recording with them drops calls)
  quit      exit 0
"""
import socket
import sys

control, ack, port, dead = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


def fetch():
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /hello.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")
        while s.recv(4096):
            pass


def refused():
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", dead))
    except ConnectionRefusedError:
        pass
    s.close()
    socket.socket().close()


def burst():
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        data = b"x" * 1000
        for _ in range(20000):
            s.sendto(data, sink.getsockname())
    sink.close()


with open(control) as commands, open(ack, "w") as done:
    for line in commands:
        command = line.strip()
        if command == "fetch":
            fetch()
        elif command == "refused":
            refused()
        elif command == "burst":
            burst()
        elif command != "quit":
            print(f"phased_client: unknown command {command!r}", file=sys.stderr)
            sys.exit(2)
        done.write(f"done {command}\n")
        done.flush()
        if command == "quit":
            break
