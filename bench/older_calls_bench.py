#!/usr/bin/env python3
"""The live view's older calls (GET /calls) on big traces (run by older_calls_bench.sh).

For each size: `wstrace synth bench:N`, served by `wstrace ui` and played slowly (speed 0.01, so
that its event stream has news every 100 ms); a client follows the event stream while another
asks /calls for the last 1,000 calls before the end of the trace (twice, then with a filter),
and for 1,000 calls from the middle. Printed: each answer's time, and the longest gap between
two parts of the event stream while the answer was being read (how long the stream stalled).

  older_calls_bench.py WSTRACE SIZE...   (SIZE: N for bench:N, or SCENARIO:N such as conns:N)
"""
import http.client
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time


def start_ui(wstrace, trace):
    ui = subprocess.Popen([wstrace, "ui", trace], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True)
    line = ""
    while True:
        line = ui.stderr.readline()
        if not line:
            sys.exit("older_calls_bench: wstrace ui ended before printing its URL")
        m = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([0-9a-f]+)", line)
        if m:
            return ui, int(m.group(1)), m.group(2)


def request(port, method, target):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    conn.request(method, target)
    res = conn.getresponse()
    body = res.read()
    conn.close()
    return res.status, body


class Stream(threading.Thread):
    """Follows /events and notes when each part came."""

    def __init__(self, port, token):
        super().__init__(daemon=True)
        self.port, self.token, self.times = port, token, []
        self.lock = threading.Lock()

    def run(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        conn.request("GET", f"/events?token={self.token}&at=0,0,0,0,0,0,0,0")
        res = conn.getresponse()
        while True:
            line = res.fp.readline()
            if not line:
                return
            if line.startswith(b"data: "):
                with self.lock:
                    self.times.append(time.monotonic())

    def longest_gap(self, t0, t1):
        """The longest time without a part within [t0, t1]."""
        with self.lock:
            marks = [t0] + [t for t in self.times if t0 < t < t1] + [t1]
        return max(b - a for a, b in zip(marks, marks[1:]))

    def parts(self):
        with self.lock:
            return len(self.times)


def main():
    wstrace = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="wstrace-older-bench-") as tmp:
        for size in sys.argv[2:]:
            scenario = size if ":" in size else f"bench:{size}"
            n = int(scenario.split(":")[1])
            trace = os.path.join(tmp, "big.wst")
            subprocess.run([wstrace, "synth", scenario, "-o", trace], check=True)
            ui, port, token = start_ui(wstrace, trace)
            try:
                request(port, "POST", f"/control?token={token}&op=speed&value=0.01")
                request(port, "POST", f"/control?token={token}&op=play")
                stream = Stream(port, token)
                stream.start()
                while stream.parts() < 3:
                    time.sleep(0.05)  # (a benchmark waits for the stream to flow)
                asks = [("the last 1,000 before the end", f"before={n + 10}&count=1000"),
                        ("the same again", f"before={n + 10}&count=1000"),
                        ("the last 1,000 sends before the end",
                         f"before={n + 10}&count=1000&filter=event%20%3D%3D%20send"),
                        ("1,000 from the middle", f"from={n // 2}&count=1000")]
                for what, query in asks:
                    t0 = time.monotonic()
                    status, body = request(port, "GET", f"/calls?token={token}&{query}")
                    t1 = time.monotonic()
                    answer = json.loads(body)
                    if status != 200 or "error" in answer:
                        sys.exit(f"older_calls_bench: /calls?{query}: {status} {body[:200]}")
                    got = answer["live"]["older"]["count"]
                    print(f"older_calls_bench: {scenario.split(':')[0]}:{n:,}: {what}: {got} calls in "
                          f"{(t1 - t0) * 1000:,.0f} ms; the event stream's longest gap meanwhile "
                          f"{stream.longest_gap(t0, t1) * 1000:,.0f} ms", flush=True)
            finally:
                ui.terminate()
                ui.wait()


main()
