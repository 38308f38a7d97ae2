"""The truth harness's comparison: what the wire carried against what a wstrace trace says.

The wire is tcpdump's capture of loopback, read by tshark. The trace is read through wstrace's
own outputs: `conns --json`, `http --json`, `info --json` and `export --format pcapng` (read by
the same tshark). Each TCP connection and UDP flow is matched by its two ends and compared by
these checks, each passing or failing for the whole case:

  conns     every connection on the wire is a row of `conns`, and `conns` has no row that is not
            on the wire (a TCP/UDP row with a remote end, or a socket of unknown kind)
  bytes     the bytes each way of each row equal the wire's
  pcapng    the export has the wire's connections, and its byte streams (tshark follow, each
            direction) equal the wire's, byte for byte
  http      the HTTP exchanges of each connection (`http`) equal the requests on the wire
  declared  the limitations the case expects the trace to declare are declared (`info`)

A check listed for the case in known_gaps.txt is reported as a known gap (XFAIL) when it fails
and fails the case when it passes (the list must shrink as fixes land). A mismatch of a
connection whose process declares a limitation that covers it is accepted as declared, but only
when the case expects that declaration (the `declared` check proves it is there).

Run alone on the files of a finished case (tests/README.md, "The truth harness"):
  compare.py --wstrace BIN --case NAME --capture wire.pcap --trace trace.wst [--http-port P]
"""
import argparse
import collections
import dataclasses
import json
import os
import re
import subprocess
import sys

END_MARKER_PORT = 9  # harness.py's datagram that closes a capture, not part of a case
CHECKS = ("conns", "bytes", "pcapng", "http", "declared")


@dataclasses.dataclass
class Flow:
    """One TCP connection or UDP flow as tshark follows it."""
    proto: str                      # "tcp" or "udp"
    ends: tuple                     # ("ip:port", "ip:port"), the first sender first
    data: dict                      # end -> the bytes it sent, in order
    requests: int = 0               # HTTP requests tshark decoded on it

    def key(self):
        return (self.proto, frozenset(self.ends))


@dataclasses.dataclass
class Row:
    """One row of `wstrace conns --json`, with the HTTP exchanges `http --json` gave it."""
    raw: dict
    exchanges: int = 0

    def key(self):
        kind = self.raw.get("kind", "?").rstrip("6")
        return (kind, frozenset((self.raw.get("local"), self.raw.get("remote"))))

    def label(self):
        r = self.raw
        return (f"#{r['id']} {r.get('process', '?')}[{r['pid']}] {r.get('kind')} "
                f"{r.get('role')} {r.get('local', '-')} -> {r.get('remote', '-')}")


# --- reading the wire and the export with tshark ------------------------------------------

def tshark(*args):
    """tshark's standard output; exits the program with its error when tshark fails."""
    p = subprocess.run(["tshark", "-n", *args], capture_output=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"harness error: tshark {' '.join(args)}: {p.stderr.decode(errors='replace')}")
    return p.stdout.decode(errors="replace")


def endpoint(ip, port):
    """ip:port as wstrace's conns writes it ([::1]:80 for IPv6)."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


def read_flows(pcap, http_ports=()):
    """Every TCP connection and UDP flow of a capture, with its bytes each way."""
    shown = f"(tcp or udp) and not icmp and not icmpv6 and not udp.port == {END_MARKER_PORT}"
    fields = ["tcp.stream", "udp.stream", "ip.src", "ipv6.src", "tcp.srcport", "udp.srcport",
              "ip.dst", "ipv6.dst", "tcp.dstport", "udp.dstport"]
    out = tshark("-r", pcap, "-Y", shown, "-T", "fields", "-E", "separator=|",
                 *sum((["-e", f] for f in fields), []))
    flows = {}  # (proto, stream number) -> Flow, ends from its first packet
    for line in out.splitlines():
        tcp, udp, ip4, ip6, tsport, usport, dip4, dip6, tdport, udport = line.split("|")
        proto, n = ("tcp", int(tcp)) if tcp else ("udp", int(udp))
        if (proto, n) not in flows:
            ends = (endpoint(ip4 or ip6, tsport or usport), endpoint(dip4 or dip6,
                                                                     tdport or udport))
            flows[(proto, n)] = Flow(proto, ends, {ends[0]: b"", ends[1]: b""})
    for proto in ("tcp", "udp"):
        numbers = sorted(n for p, n in flows if p == proto)
        if numbers:
            zs = sum((["-z", f"follow,{proto},raw,{n}"] for n in numbers), [])
            for n, data in parse_follow(tshark("-r", pcap, "-q", *zs)):
                flows[(proto, n)].data.update(data)
    for port in http_ports:
        out = tshark("-r", pcap, "-d", f"tcp.port=={port},http", "-Y", "http.request", "-T",
                     "fields", "-e", "tcp.stream")
        for n in out.split():
            flows[("tcp", int(n))].requests += 1
    return list(flows.values())


def parse_follow(text):
    """(stream number, {end: bytes it sent}) of each block of tshark's `-z follow,P,raw,N`
    (a stream that carried no byte may name no ends: it gives no bytes)."""
    for block in text.split("=" * 67)[1:]:
        number = re.search(r"^Filter: \w+\.stream eq (\d+)$", block, re.M)
        nodes = re.findall(r"^Node [01]: (.*)$", block, re.M)
        if not number or len(nodes) != 2:
            continue
        ends = [normal_endpoint(addr) for addr in nodes]
        data = {ends[0]: bytearray(), ends[1]: bytearray()}
        for line in block.splitlines():
            if re.fullmatch(r"\t?[0-9a-f]+", line):
                data[ends[1] if line.startswith("\t") else ends[0]] += bytes.fromhex(line.strip())
        yield int(number[1]), {e: bytes(b) for e, b in data.items() if b}


def normal_endpoint(text):
    """tshark writes an IPv6 end as [::1]:80 or ::1:80; conns as [::1]:80."""
    text = text.strip()
    if text.startswith("["):
        return text
    ip, _, port = text.rpartition(":")
    return endpoint(ip, port)


# --- reading the trace through wstrace ------------------------------------------------------

def wstrace_out(wstrace, *args):
    """What wstrace printed; exits the program with its error when it fails."""
    p = subprocess.run([wstrace, *args], capture_output=True, timeout=120)
    if p.returncode != 0:
        sys.exit(f"harness error: wstrace {' '.join(args)} exited {p.returncode}: "
                 f"{p.stderr.decode(errors='replace')}")
    return p.stdout.decode()


def wstrace_lines(wstrace, *args):
    """The JSON objects wstrace printed, one a line."""
    return [json.loads(line) for line in wstrace_out(wstrace, *args).splitlines() if line]


def read_rows(wstrace, trace):
    """The rows of `conns` that are, or claim to be, connections on the wire (listeners,
    Unix sockets and sockets that never connected nor moved a byte are not)."""
    rows = {}
    for r in wstrace_lines(wstrace, "conns", "--json", trace):
        if r.get("kind") in ("unix",) or r.get("role") == "listener":
            continue
        moved = r.get("bytes_out", 0) or r.get("bytes_in", 0)
        if r.get("kind") != "?" and not r.get("remote") and not moved:
            continue
        rows[r["id"]] = Row(r)
    for x in wstrace_lines(wstrace, "http", "--json", trace):
        if x.get("type") == "http" and x.get("conn") in rows:
            rows[x["conn"]].exchanges += 1
    return list(rows.values())


def declared_limitations(info):
    """What the trace declares it could not see, as {(pid, what)}.

    Read from `info --json`: each entry of `processes[].unseen` names what was not seen (such as
    `raw-syscalls`) — the form the "what LD_PRELOAD cannot see" declarations of issue 16 are
    to take; until a trace carries it, the cases that expect one fail `declared` (a known gap).
    """
    found = set()
    for proc in info.get("processes", []) if isinstance(info, dict) else []:
        for entry in proc.get("unseen", []) or []:
            what = entry.get("what") if isinstance(entry, dict) else entry
            found.add((proc.get("pid"), what))
    return found


# --- the comparison -------------------------------------------------------------------------

class Report:
    """The mismatches of one case, by check, each a list of lines naming one connection."""

    def __init__(self):
        self.mismatches = {c: [] for c in CHECKS}
        self.declared = {c: [] for c in CHECKS}


def pair(flows, rows, both_ends=False):
    """Wire flows matched with conns rows by protocol and both ends, in order of appearance;
    with BOTH_ENDS (both ends traced) a flow has a row from each end."""
    by_key = collections.defaultdict(list)
    for row in rows:
        by_key[row.key()].append(row)
    matched, missing = [], []
    for flow in flows:
        candidates = by_key.get(flow.key())
        if not candidates:
            missing.append(flow)
            continue
        first = candidates.pop(0)
        matched.append((flow, first))
        if not both_ends:
            continue
        twin = next((r for r in candidates if r.raw.get("local") != first.raw.get("local")), None)
        if twin is None:
            missing.append(flow)  # (listed as missing: the other end has no row)
        else:
            candidates.remove(twin)
            matched.append((flow, twin))
    extra = [row for rest in by_key.values() for row in rest]
    return matched, missing, extra


def flow_label(flow):
    a, b = flow.ends
    return (f"{flow.proto} {a} <-> {b} (wire: {len(flow.data[a])} B from {a}, "
            f"{len(flow.data[b])} B from {b})")


def stream_diff(a, b):
    """Where two byte strings first differ, with a few bytes of each around it."""
    n = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, n - 8)
    return (f"{len(a)} B on the wire, {len(b)} B in the export; first difference at byte {n}: "
            f"wire {a[start:n + 16].hex(' ')} | export {b[start:n + 16].hex(' ')}")


def compare(flows, rows, exported, info, expects, both_ends=False):
    """The Report of one case: wire flows against conns rows, export flows and declarations.

    expects: the limitations the case expects declared, {what: [checks it covers]}."""
    report = Report()
    declared = declared_limitations(info)
    for what in expects:
        if not any(w == what for _, w in declared):
            report.mismatches["declared"].append(
                f"no process declares '{what}' (info --json processes[].unseen); declared: "
                f"{sorted(declared) or 'nothing'}")

    def add(check, text, pid=None):
        covering = {(p, w) for p, w in declared if p == pid and check in expects.get(w, ())}
        (report.declared if covering else report.mismatches)[check].append(text)

    matched, missing, extra = pair(flows, rows, both_ends)
    for flow in missing:
        add("conns", f"missing from conns: {flow_label(flow)}")
    for row in extra:
        add("conns", f"not on the wire: {row.label()} ({row.raw.get('bytes_out', 0)} B out, "
            f"{row.raw.get('bytes_in', 0)} B in, end {row.raw.get('end')})", row.raw["pid"])
    for flow, row in matched:
        compare_row(flow, row, add)
    compare_export(flows, exported, add, {id(flow): row.raw["pid"] for flow, row in matched})
    return report


def compare_row(flow, row, add):
    """bytes and http of one connection both sides know."""
    r, pid = row.raw, row.raw["pid"]
    out_wire, in_wire = len(flow.data[r["local"]]), len(flow.data[r["remote"]])
    if (r.get("bytes_out", 0), r.get("bytes_in", 0)) != (out_wire, in_wire):
        add("bytes", f"{row.label()}: conns {r.get('bytes_out', 0)} B out, "
            f"{r.get('bytes_in', 0)} B in; wire {out_wire} B out, {in_wire} B in", pid)
    if row.exchanges != flow.requests:
        add("http", f"{row.label()}: http lists {row.exchanges} exchanges, "
            f"the wire has {flow.requests} requests", pid)


def compare_export(flows, exported, add, pids):
    """pcapng: the export's flows and byte streams against the wire's (pids: id(flow) -> the
    traced process of its conns row)."""
    by_key = collections.defaultdict(list)
    for flow in exported:
        by_key[flow.key()].append(flow)
    for flow in flows:
        twins = by_key.get(flow.key())
        if not twins:
            add("pcapng", f"missing from the export: {flow_label(flow)}")
            continue
        twin = twins.pop(0)
        for end in flow.ends:
            if flow.data[end] != twin.data[end]:
                add("pcapng", f"{flow.proto} {end} -> {other(flow, end)}: "
                    f"{stream_diff(flow.data[end], twin.data[end])}", pids.get(id(flow)))
    for rest in by_key.values():
        for flow in rest:
            add("pcapng", f"in the export, not on the wire: {flow_label(flow)}")


def other(flow, end):
    return flow.ends[1] if end == flow.ends[0] else flow.ends[0]


# --- known gaps and the verdict -------------------------------------------------------------

def read_known_gaps(path):
    """{(case, check): reason} from known_gaps.txt: `CASE CHECK REASON…` lines, # comments."""
    gaps = {}
    with open(path) as f:
        for number, line in enumerate(f, 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            parts = line.split(None, 2)
            if len(parts) < 3 or parts[1] not in CHECKS:
                sys.exit(f"harness error: {path}:{number}: want `CASE CHECK REASON`, CHECK one "
                         f"of {', '.join(CHECKS)}: {line}")
            gaps[(parts[0], parts[1])] = parts[2]
    return gaps


def verdict(case, report, gaps, out=sys.stdout):
    """Prints each check's outcome and the per-connection diff; True when the case passes."""
    ok = True
    for check in CHECKS:
        lines, reason = report.mismatches[check], gaps.get((case, check))
        if lines and reason:
            state = f"KNOWN GAP (XFAIL) — {reason}"
        elif lines:
            state, ok = "FAIL", False
        elif reason and reason.startswith("sometimes:"):
            state = f"ok (a gap that comes and goes with timing did not happen: {reason})"
        elif reason:
            state, ok = (f"FAIL — listed in known_gaps.txt ({reason}) but it no longer happens:"
                         " remove the line"), False
        else:
            state = "ok"
        print(f"{case}: {check}: {state}", file=out)
        for line in lines:
            print(f"    {line}", file=out)
        for line in report.declared[check]:
            print(f"    declared by the trace (accepted): {line}", file=out)
    print(f"{case}: {'PASS' if ok else 'FAIL'}", file=out)
    return ok


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wstrace", required=True)
    ap.add_argument("--case", required=True)
    ap.add_argument("--capture", required=True, help="tcpdump's pcap of loopback")
    ap.add_argument("--trace", required=True, help="wstrace's .wst of the same run")
    ap.add_argument("--http-port", type=int, action="append", default=[])
    ap.add_argument("--expect-declared", action="append", default=[],
                    help="WHAT=CHECK,CHECK: a limitation the trace must declare, and the checks"
                         " whose mismatches on its process it excuses")
    ap.add_argument("--both-ends", action="store_true",
                    help="both ends of each connection are traced: each has its own row")
    ap.add_argument("--client-requests", type=int,
                    help="the HTTP requests the client made: the wire must hold as many")
    ap.add_argument("--known-gaps", default=os.path.join(os.path.dirname(__file__),
                                                          "known_gaps.txt"))
    args = ap.parse_args(argv)
    return 0 if run(args) else 1


def run(args):
    """Compares one finished case's files; prints the verdict; True when it passes."""
    expects = {}
    for item in args.expect_declared:
        what, _, checks = item.partition("=")
        expects[what] = checks.split(",") if checks else []
    exported_path = os.path.splitext(args.trace)[0] + ".export.pcapng"
    subprocess.run([args.wstrace, "export", args.trace, "--format", "pcapng", "-o",
                    exported_path], check=True, capture_output=True, timeout=120)
    flows = read_flows(args.capture, args.http_port)
    exported = read_flows(exported_path)
    rows = read_rows(args.wstrace, args.trace)
    info = json.loads(wstrace_out(args.wstrace, "info", "--json", args.trace))
    wire_requests = sum(flow.requests for flow in flows)
    if args.client_requests is not None and wire_requests != args.client_requests:
        print(f"{args.case}: FAIL (harness): the client made {args.client_requests} HTTP "
              f"requests, tshark decoded {wire_requests} on the wire")
        return False
    report = compare(flows, rows, exported, info, expects, args.both_ends)
    print(f"{args.case}: the wire has {len(flows)} connections and flows, conns "
          f"{len(rows)} rows, the export {len(exported)}")
    for flow in flows:
        print(f"    {flow_label(flow)}; {flow.requests} HTTP requests")
    return verdict(args.case, report, read_known_gaps(args.known_gaps))


if __name__ == "__main__":
    sys.exit(main())
