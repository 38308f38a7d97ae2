#!/usr/bin/env bash
# Installs the Debian packages wstrace needs to build, test, demo and benchmark; only the
# missing ones (docs/dependencies.md says why each is here).
set -euo pipefail
packages=(
  # building
  build-essential cmake ninja-build python3 git
  # libraries (header-only ones serve the Windows build too)
  libcli11-dev libfmt-dev nlohmann-json3-dev zlib1g-dev googletest libbenchmark-dev
  # the live view's embedded web server (record --ui, attach --ui, wstrace ui): Boost.Beast and
  # Boost.Asio, header-only, for the Linux and the Windows build alike
  libboost-dev
  # Windows: cross compiler, its zlib, and Wine to run what it builds
  g++-mingw-w64-x86-64-posix libz-mingw-w64-dev wine wine64
  # fuzzing (libFuzzer lives in clang's runtime package)
  clang libclang-rt-14-dev
  # the kernel capture engine (eBPF): libbpf, bpftool for vmlinux.h and the skeleton, clang and
  # llvm for the BPF object; setpriv (util-linux) runs its refusal test as an unprivileged user
  libbpf-dev bpftool llvm pkg-config
  # benchmarks compare against strace; capture tests run real programs and a private mount
  # namespace for their loopback DNS resolver
  strace curl util-linux mount iproute2 binutils time
  # a throwaway certificate for a TLS server on loopback (tests/report)
  openssl
  # exports: Wireshark's tshark checks the pcapng files, sqlite3 queries the database export
  tshark sqlite3 libsqlite3-dev
  # the HTML report is tested in a headless Chromium driven by Playwright (npm, tests/report)
  chromium
  # the truth harness (tests/truth) runs real Debian programs in a private network namespace and
  # compares what wstrace recorded with what tcpdump saw on the wire
  tcpdump nginx-light redis-server redis-tools dnsmasq-base openssh-server openssh-client
  bind9-dnsutils wget nftables python3-requests
  # …and a Go HTTP client built from Go's standard library (static, no libc: the kernel engine's)
  golang-go
  # …and under Wine: Asio's example programs (libasio-doc) built with its standalone headers
  libasio-dev libasio-doc
)
missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done
# Node.js and npm install Playwright for the report tests; any recent Node will do, so they are
# looked for as commands (a machine may have them from elsewhere) and otherwise taken from Debian.
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# The truth harness's servers (nginx, redis, sshd) must not start as services of this machine:
# the tests start their own instances in private network namespaces. Debian's maintainer scripts
# ask /usr/sbin/policy-rc.d whether to start a service; 101 means no. One already there is kept.
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
  $SUDO chmod 755 "$policy"
  trap '$SUDO rm -f "$policy"' EXIT
fi
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
