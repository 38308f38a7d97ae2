"""What `wstrace export --filter` keeps of each trace for each filter of parity_filters.txt: the
cases parity.js checks the report's filter box against (run by run.sh).

  python3 parity_cases.py WSTRACE FILTERS OUT_JSON NAME=TRACE.wst:REPORT.html ...
"""
import json
import subprocess
import sys

wstrace, filters_file, out = sys.argv[1:4]
filters = [l.rstrip("\n") for l in open(filters_file, encoding="utf-8")]
filters = [f for f in filters if f.strip() and not f.lstrip().startswith("#")]
cases = []
for arg in sys.argv[4:]:
    name, rest = arg.split("=", 1)
    trace, html = rest.split(":", 1)
    results = []
    for f in filters:
        p = subprocess.run([wstrace, "export", trace, "--format", "jsonl", "--filter", f, "-o", "-"],
                           capture_output=True, text=True)
        if p.returncode == 0:
            results.append([f, {"seqs": [json.loads(l)["seq"] for l in p.stdout.splitlines() if l]}])
        elif p.returncode == 2 and "bad filter" in p.stderr:
            # "wstrace: bad filter:", the filter, then the caret line.
            results.append([f, {"error": p.stderr.rstrip("\n").split("\n", 2)[2]}])
        else:
            sys.exit(f"wstrace export --filter {f!r} {trace}: exit {p.returncode}: {p.stderr}")
    cases.append({"name": name, "html": html, "results": results})
json.dump(cases, open(out, "w"))
print(f"{len(filters)} filters on {len(cases)} traces")
