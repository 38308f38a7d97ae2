#!/usr/bin/env bash
# `make demo`: the main job on a bundled example. Until capture lands, the example is the
# built-in "demo" scenario: a client's lookups, an HTTP exchange, refused connects, a UDP DNS
# query and a reset, written to a trace file and read back.
set -euo pipefail
cd "$(dirname "$0")/.."
out=build/demo
mkdir -p "$out"
w=build/bin/wstrace
echo "\$ wstrace synth demo -o $out/demo.wst"
$w synth demo -o "$out/demo.wst"
echo
echo "\$ wstrace info $out/demo.wst"
$w info "$out/demo.wst"
echo
echo "\$ wstrace show $out/demo.wst"
$w show "$out/demo.wst"
echo
echo "\$ wstrace errors ECONNREFUSED"
$w errors ECONNREFUSED
