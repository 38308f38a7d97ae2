#!/usr/bin/env python3
"""Writes the seed inputs of the decoder fuzz targets (fuzz_dns, fuzz_http, fuzz_tls) and of the
rings' drain (fuzz_ring_drain) into dns/, http/, tls/ and ring/ beside this script: a few valid messages of each protocol, built byte by
byte. The files are committed; run this again only to change them."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(folder, name, data):
    os.makedirs(os.path.join(HERE, folder), exist_ok=True)
    with open(os.path.join(HERE, folder, name), "wb") as f:
        f.write(data)


# ---- DNS ----
def name(dotted):
    out = b""
    for label in dotted.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def header(id_, flags, qd, an, ns, ar):
    return struct.pack(">HHHHHH", id_, flags, qd, an, ns, ar)


def rr(owner, type_, ttl, rdata, klass=1):
    return owner + struct.pack(">HHIH", type_, klass, ttl, len(rdata)) + rdata


def dns_seeds():
    q = header(0x1234, 0x0100, 1, 0, 0, 1) + name("www.example.com") + struct.pack(">HH", 1, 1)
    q += rr(b"\0", 41, 0x8000, b"", klass=1232)
    write("dns", "query_a_opt.bin", q)
    ptr = lambda off: struct.pack(">H", 0xC000 | off)
    r = header(0xBEEF, 0x8180, 1, 3, 0, 0) + name("www.example.com") + struct.pack(">HH", 1, 1)
    r += rr(ptr(12), 5, 300, b"\x03web" + ptr(16))
    r += rr(ptr(45), 1, 60, bytes([93, 184, 216, 34]))
    r += rr(ptr(45), 28, 60, bytes.fromhex("20010db8000000000000000000000001"))
    write("dns", "cname_a_aaaa.bin", r)
    soa = name("ns1.example.com") + name("hostmaster.example.com") + struct.pack(">5I", 1, 2, 3, 4, 5)
    nx = header(7, 0x8183, 1, 0, 1, 0) + name("nope.example.com") + struct.pack(">HH", 1, 1)
    nx += rr(ptr(17), 6, 900, soa)
    write("dns", "nxdomain_soa.bin", nx)
    mixed = header(9, 0x8180, 0, 5, 0, 0) + rr(name("example.com"), 15, 1, b"\0\x0a" + name("mx.example.com"))
    mixed += rr(ptr(12), 16, 1, b"\x0bv=spf1 -all\x02hi")
    mixed += rr(ptr(12), 33, 1, struct.pack(">HHH", 10, 5, 5060) + name("sip.example.com"))
    mixed += rr(ptr(12), 65, 1, b"\0\x01\0" + b"\0\x01\0\x06\x02h2\x02h3" + b"\0\x03\0\x02\x01\xbb")
    mixed += rr(ptr(12), 4711, 1, b"\xde\xad")
    write("dns", "mx_txt_srv_https.bin", mixed)
    write("dns", "tcp_two.bin", struct.pack(">H", len(q)) + q + struct.pack(">H", len(r)) + r)


# ---- HTTP (8 bytes of split sizes and uncaptured counts, then the stream) ----
def http_seeds():
    get = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n"
    ok = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world"
    chunked = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;x=1\r\nhello\r\n6\r\n world\r\n0\r\nX-T: 1\r\n\r\n")
    post = b"POST /api HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nabcd"
    write("http", "get_pipelined.txt", bytes([30, 10, 0, 0, 0, 0, 0, 0]) + get + post + get)
    write("http", "response_200.txt", bytes([20, 40, 5, 0, 0, 0, 0, 0]) + ok + ok)
    write("http", "chunked.txt", bytes([50, 7, 3, 0, 0, 0, 0, 0]) + chunked)
    write("http", "continue_close.txt", bytes([0, 0, 0, 0, 0, 0, 0, 0]) +
          b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\nServer: x\r\n\r\nuntil close")
    write("http", "cut_body.txt", bytes([80, 0, 0, 0, 3, 0, 0, 0]) +
          b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 40)
    write("http", "upgrade.txt", bytes([0] * 8) +
          b"GET /chat HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n\x81\x85mask")


# ---- TLS ----
def vec(n, data):
    return len(data).to_bytes(n, "big") + data


def ext(type_, data):
    return struct.pack(">H", type_) + vec(2, data)


def record(hs, size=16384):
    out = b""
    for i in range(0, len(hs), size):
        out += b"\x16\x03\x01" + vec(2, hs[i:i + size])
    return out


def tls_seeds():
    exts = ext(0x0A0A, b"") + ext(0, vec(2, b"\0" + vec(2, b"example.com")))
    exts += ext(16, vec(2, vec(1, b"h2") + vec(1, b"http/1.1")))
    exts += ext(43, vec(1, bytes.fromhex("2a2a03040303")))
    exts += ext(51, vec(2, struct.pack(">H", 29) + vec(2, b"k" * 32)))
    body = b"\x03\x03" + b"r" * 32 + vec(1, b"s" * 32) + vec(2, bytes.fromhex("13011302c02f")) + b"\x01\x00"
    hello = b"\x01" + vec(3, body + vec(2, exts))
    write("tls", "client_hello.bin", record(hello))
    write("tls", "client_hello_records.bin", record(hello, 60))
    sh = b"\x03\x03" + b"r" * 32 + vec(1, b"") + b"\x13\x01\x00" + vec(2, ext(43, b"\x03\x04"))
    write("tls", "server_hello_13.bin", record(b"\x02" + vec(3, sh)))
    sh12 = b"\x03\x03" + b"r" * 32 + vec(1, b"") + b"\xc0\x2f\x00" + vec(2, ext(16, vec(2, vec(1, b"h2"))))
    write("tls", "server_hello_12.bin", record(b"\x02" + vec(3, sh12)))


# ---- The rings' drain: steps as tests/fuzz/ring_drain_fuzz.cc reads them ----
def raw_record(func, tid, args=b"", nargs=0):
    """A record as the agents queue it: RawHead (raw_record.h), then its arguments."""
    return struct.pack("<BBHIqQqiB3x", func, nargs, 0, tid, 1000, 5, 0, 0, 0) + args


def u64_arg(field, value):
    return struct.pack("<BBHIQ", field, 1, 0, 8, value)


def push(slot, rec):
    return bytes([0, slot]) + struct.pack("<H", len(rec)) + rec


def poke64(offset, value):
    return bytes([2]) + struct.pack("<IQ", offset, value)


def ring_seeds():
    claim = bytes([4, 0, 0, 4, 1, 1])  # slot 0 by pid 100, slot 1 by pid 101
    start = raw_record(0, 100, u64_arg(31, 1), 1)   # process_start with its ppid
    call = raw_record(6, 100)                       # socket
    write("ring", "claim_push_drain.bin", claim + push(0, start) + push(0, call) + push(1, call) +
          bytes([3, 5, 0, 3, 7, 0, 3]))
    # The geometry, a head running away, then a drain (header fields at 12, 16, 24).
    write("ring", "header_and_head.bin", claim + push(0, call) + poke64(16, 1 << 40) +
          poke64(24, 1 << 44) + bytes([3]) + push(1, call) + bytes([3]))
    write("ring", "no_ring.bin", bytes([6, 0, 6, 0, 6, 1, 3, 6, 2, 7, 0, 3]))


if __name__ == "__main__":
    ring_seeds()
    dns_seeds()
    http_seeds()
    tls_seeds()
