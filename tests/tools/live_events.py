#!/usr/bin/env python3
"""Reads a live view from its URL as a page would, for tests without a browser:

  live_events.py URL GO

fetches the page (200, the report's page), checks that the event stream refuses a wrong token
(403), then follows the event stream with the token: after its first part it writes a line to
the fifo GO (the traced program's signal to go on), and reads parts until one says the
recording is over. Prints "calls N": the calls the stream carried. Exit 1 on a failed check."""
import http.client
import json
import sys
import urllib.parse

url, go = sys.argv[1], sys.argv[2]
parts = urllib.parse.urlsplit(url)
token = urllib.parse.parse_qs(parts.query)["token"][0]
start = "at=0,0,0,0,0,0,0,0"


def get(path):
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    conn.request("GET", path)
    return conn.getresponse()


page = get("/?token=" + token)
body = page.read().decode()
if page.status != 200 or "__wstrace" not in body:
    sys.exit("FAIL: the page did not open: %d" % page.status)
if get("/events?token=" + "0" * 64 + "&" + start).status != 403:
    sys.exit("FAIL: the event stream took a wrong token")

stream = get("/events?token=" + token + "&" + start)
calls, told = 0, False
while True:
    line = stream.readline().decode()
    if not line:
        sys.exit("FAIL: the event stream ended before the recording was over")
    if not line.startswith("data: "):
        continue
    part = json.loads(line[6:])
    calls += part["calls"]["n"]
    if part["live"]["over"]:
        break
    if not told:
        with open(go, "w") as f:
            f.write("go\n")
        told = True
print("calls", calls)
