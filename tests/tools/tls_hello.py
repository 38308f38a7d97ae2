"""A real program for the capture and report tests: python3's ssl module as a TLS client of a
listener of its own on 127.0.0.1, offering the server name sni.wstrace.test and ALPN h2 and
http/1.1.

  tls_hello.py                    the listener reads the ClientHello and closes: the handshake
                                  fails ("handshake failed as expected")
  tls_hello.py --cert C --key K   the listener is a TLS server with that certificate: the
                                  handshake completes ("handshake done TLSv1.3"); the client
                                  does not check the certificate
"""
import argparse
import socket
import ssl
import threading

ap = argparse.ArgumentParser()
ap.add_argument("--cert")
ap.add_argument("--key")
args = ap.parse_args()

srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)


def serve():
    c, _ = srv.accept()
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        ctx.set_alpn_protocols(["http/1.1"])
        with ctx.wrap_socket(c, server_side=True) as t:
            t.recv(1)  # the client's close_notify or end of stream
    else:
        c.recv(65536)
        c.close()


t = threading.Thread(target=serve)
t.start()
ctx = ssl.create_default_context()
ctx.set_alpn_protocols(["h2", "http/1.1"])
if args.cert:
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
s = socket.create_connection(srv.getsockname())
try:
    with ctx.wrap_socket(s, server_hostname="sni.wstrace.test") as tls:
        print("handshake done " + tls.version())
except (ssl.SSLError, OSError):
    print("handshake failed as expected")
t.join()
