#!/usr/bin/env bash
# `make demo`: record the bundled example program (examples/demo_client.c: an HTTP exchange
# with a server of its own on loopback, a refused connect, a lookup that fails, a datagram),
# then look at the trace, ending with its findings and its HTML report.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/demo
mkdir -p "$out"
w=build/bin/wstrace
run() {
  echo "\$ $*"
  "$@"
  echo
}
run $w record -o "$out/demo.wst" -- build/bin/demo_client
run $w info "$out/demo.wst"
run $w conns "$out/demo.wst"
run $w dns "$out/demo.wst"
run $w http "$out/demo.wst"
run $w errors ECONNREFUSED
run $w diagnose "$out/demo.wst"
run $w report "$out/demo.wst" -o "$out/demo.html"
echo "The HTML report of this run: $(pwd)/$out/demo.html (open it in a browser)"
