"""TCP under loss, for the TCP health tests (tests/integration/capture_tcp_health*.sh).

Run in a private network namespace (unshare -n):
    tcp_loss.py WSTRACE WORK NAME loss|clean TOTAL SENDER [record options...]
A receiver on loopback takes TOTAL bytes, answers "k" and reads to the end; with "loss", nftables
drops one in four of the data segments arriving for its port (this kernel has no netem). SENDER,
traced by `wstrace record [options] -o WORK/NAME.wst`, is run with the port: it sends TOTAL bytes,
waits for the "k" (nothing is left to retransmit then), prints "ready LOCAL_PORT", and reads a
line before it closes. In between, `ss -ti` is asked about its socket. Written to
WORK/NAME.ss.json: ss's retransmission total and bytes retransmitted, its text, the port, and the
rest of what the sender printed.
"""
import json, re, socket, subprocess, sys, threading

wstrace, work, name, loss, total, sender = sys.argv[1:7]
options, loss, total = sys.argv[7:], loss == "loss", int(total)
subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
lst = socket.socket()
lst.bind(("127.0.0.1", 0))
lst.listen(1)
port = lst.getsockname()[1]
if loss:
    rules = ("table inet wstrace_loss {\n chain in {\n type filter hook input priority 0;\n"
             f" tcp dport {port} meta length > 200 numgen random mod 4 == 0 drop\n }}\n}}\n")
    subprocess.run(["nft", "-f", "-"], input=rules.encode(), check=True)


def receive():
    c, _ = lst.accept()
    got = 0
    while got < total:
        d = c.recv(1 << 16)
        if not d:
            break
        got += len(d)
    c.sendall(b"k")
    while c.recv(1 << 16):
        pass
    c.close()


t = threading.Thread(target=receive)
t.start()
p = subprocess.Popen([wstrace, "record", "-q", "-o", f"{work}/{name}.wst"] + options +
                     ["--", sys.executable, sender, str(port)],
                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
line = p.stdout.readline().split()
assert line[:1] == ["ready"], line
ss = subprocess.run(["ss", "-tinH", "state", "established", f"sport = :{line[1]}"],
                    capture_output=True, text=True, check=True).stdout
m = re.search(r"\bretrans:\d+/(\d+)", ss)
b = re.search(r"\bbytes_retrans:(\d+)", ss)
p.stdin.write("go\n")
p.stdin.flush()
rest = p.stdout.read()
assert p.wait() == 0, rest
t.join()
json.dump({"retrans": int(m.group(1)) if m else 0, "bytes_retrans": int(b.group(1)) if b else 0,
           "ss": ss, "port": port, "sender": rest}, open(f"{work}/{name}.ss.json", "w"))
