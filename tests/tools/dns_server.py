#!/usr/bin/env python3
"""A tiny DNS server for the capture tests (standard library only).

    dns_server.py [--addr 127.0.0.1] [--port 53] [--slow NAME=SECONDS]... [--servfail NAME]...
                  [--silent NAME]... NAME=IP...

Answers A and AAAA queries, over UDP and TCP, for the names given (a name may be given several
times, with IPv4 and IPv6 addresses); a known name without a record of the asked type gets an
empty answer (NODATA); PTR queries of 127.0.0.1 and ::1 get "localhost"; every other name gets
NXDOMAIN. --slow delays the answers for NAME (to measure lookup durations); --servfail answers
SERVFAIL for NAME, --silent never answers for NAME (temporary failures). Prints "ready" and
the port once bound. Ends on SIGTERM or SIGINT, or when its standard input, if it is a pipe,
reaches its end (so a test that holds the other end of the pipe cannot leave it behind). Every
query is logged to standard error as "query NAME TYPE".
"""
import argparse
import ipaddress
import os
import signal
import socket
import stat
import struct
import sys
import threading
import time

QTYPE_A, QTYPE_PTR, QTYPE_AAAA = 1, 12, 28
TYPE_NAMES = {1: "A", 12: "PTR", 28: "AAAA"}
_log_lock = threading.Lock()


def log(text):
    with _log_lock:
        print(text, file=sys.stderr, flush=True)


def parse_name(msg, pos):
    """The name at pos (no compression in queries) and the position after it."""
    labels = []
    while True:
        n = msg[pos]
        pos += 1
        if n == 0:
            return ".".join(labels), pos
        if n & 0xC0:
            raise ValueError("compressed name in a query")
        labels.append(msg[pos:pos + n].decode("ascii", "replace"))
        pos += n


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        raw = label.encode("ascii")
        out += bytes([len(raw)]) + raw
    return out + b"\0"


class Zone:
    def __init__(self, records, slow, servfail=(), silent=()):
        self.servfail = {n.lower().rstrip(".") for n in servfail}
        self.silent = {n.lower().rstrip(".") for n in silent}
        self.records = {}  # name -> list of (qtype, rdata)
        for spec in records:
            name, _, value = spec.partition("=")
            ip = ipaddress.ip_address(value)
            qtype = QTYPE_A if ip.version == 4 else QTYPE_AAAA
            self.records.setdefault(name.lower().rstrip("."), []).append((qtype, ip.packed))
        self.ptr = {
            "1.0.0.127.in-addr.arpa": "localhost",
            ".".join(reversed(ipaddress.ip_address("::1").exploded.replace(":", ""))) + ".ip6.arpa":
            "localhost",
        }
        self.slow = {}
        for spec in slow:
            name, _, secs = spec.partition("=")
            self.slow[name.lower().rstrip(".")] = float(secs)

    def answer(self, query):
        """The reply to one query message; None for something that is not a query, or a --silent name."""
        if len(query) < 12:
            return None
        qid, flags, qdcount = struct.unpack("!HHH", query[:6])
        if flags & 0x8000 or qdcount != 1:
            return None
        name, pos = parse_name(query, 12)
        qtype, qclass = struct.unpack("!HH", query[pos:pos + 4])
        question = query[12:pos + 4]
        key = name.lower().rstrip(".")
        log(f"query {key} {TYPE_NAMES.get(qtype, qtype)}")
        if key in self.slow:
            time.sleep(self.slow[key])
        if key in self.silent:
            return None
        answers = []
        rcode = 0
        if key in self.servfail:
            rcode = 2  # SERVFAIL
        elif key in self.records:
            answers = [(t, d) for t, d in self.records[key] if t == qtype]
        elif qtype == QTYPE_PTR and key in self.ptr:
            answers = [(QTYPE_PTR, encode_name(self.ptr[key]))]
        else:
            rcode = 3  # NXDOMAIN
        # QR, opcode copied, AA, RD copied, RA
        rflags = 0x8000 | (flags & 0x7800) | 0x0400 | (flags & 0x0100) | 0x0080 | rcode
        out = struct.pack("!HHHHHH", qid, rflags, 1, len(answers), 0, 0) + question
        for t, data in answers:
            out += struct.pack("!HHHIH", 0xC00C, t, qclass, 60, len(data)) + data
        return out


def serve_udp(sock, zone):
    while True:
        try:
            msg, peer = sock.recvfrom(4096)
        except OSError:
            return
        def reply(msg=msg, peer=peer):
            try:
                out = zone.answer(msg)
                if out:
                    sock.sendto(out, peer)
            except (ValueError, struct.error, OSError) as e:
                log(f"bad query from {peer}: {e}")
        threading.Thread(target=reply, daemon=True).start()


def serve_tcp_client(conn, zone):
    with conn:
        try:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (n,) = struct.unpack("!H", head)
                msg = b""
                while len(msg) < n:
                    chunk = conn.recv(n - len(msg))
                    if not chunk:
                        return
                    msg += chunk
                out = zone.answer(msg)
                if out:
                    conn.sendall(struct.pack("!H", len(out)) + out)
        except (ValueError, struct.error, OSError) as e:
            log(f"bad TCP query: {e}")


def serve_tcp(sock, zone):
    while True:
        try:
            conn, _ = sock.accept()
        except OSError:
            return
        threading.Thread(target=serve_tcp_client, args=(conn, zone), daemon=True).start()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--addr", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=53)
    ap.add_argument("--slow", action="append", default=[], metavar="NAME=SECONDS")
    ap.add_argument("--servfail", action="append", default=[], metavar="NAME")
    ap.add_argument("--silent", action="append", default=[], metavar="NAME")
    ap.add_argument("records", nargs="*", metavar="NAME=IP")
    args = ap.parse_args()
    zone = Zone(args.records, args.slow, args.servfail, args.silent)
    family = socket.AF_INET6 if ":" in args.addr else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    udp.bind((args.addr, args.port))
    port = udp.getsockname()[1]
    tcp = socket.socket(family, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind((args.addr, port))
    tcp.listen(16)
    # SIGTERM and SIGINT end the process at once (no handler: a handler that takes locks can
    # deadlock with the main thread).
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    for target, sock in ((serve_udp, udp), (serve_tcp, tcp)):
        threading.Thread(target=target, args=(sock, zone), daemon=True).start()
    try:
        stdin_is_pipe = stat.S_ISFIFO(os.fstat(0).st_mode)
    except OSError:
        stdin_is_pipe = False
    print(f"ready {port}", flush=True)
    if stdin_is_pipe:
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)  # the other end of the pipe is gone: so is the test
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
