#!/usr/bin/env bash
# The archives of `make dist` (scripts/dist.sh), as a user gets them: packed twice from the
# same builds they are the same bytes; each unpacks into a fresh folder whose name has spaces
# and non-ASCII letters — the Windows one into a fresh Wine prefix's C:\Program Files — and
# records a real program from there with no install step and no environment variable (Linux:
# curl fetching from a loopback server; Windows: wpingpong.exe); each trace is read by the
# other platform's unpacked wstrace. A missing agent and an agent of another build each get one
# clear message. The Windows binaries import system DLLs only, carry no link time, and their
# version resource says what `wstrace.exe --version` says.
# Run as: dist.sh LINUX_WSTRACE SOURCE_DIR WORK_DIR WIN64_BUILD TARGETS_DIR
. "$(dirname "$0")/lib.sh"
WIN_BUILD=$4 TARGETS=$5
LINUX_BUILD=$(dirname "$(dirname "$WSTRACE")")
unset WSTRACE_SHM LD_PRELOAD

# --- packed twice, the same bytes --------------------------------------------------------------
expect_exit 0 "$SRC/scripts/dist.sh" "$LINUX_BUILD" "$WIN_BUILD" "$WORK/dist1"
expect_exit 0 "$SRC/scripts/dist.sh" "$LINUX_BUILD" "$WIN_BUILD" "$WORK/dist2"
id=$(sed -n 's/^const char kBuildId\[\] = "\(.*\)";$/\1/p' "$LINUX_BUILD/generated/build_id.cc")
version=${id%%+*} commit=${id#*+}
LX=wstrace-$version-linux-x64 WX=wstrace-$version-windows-x64
for f in "$LX.tar.gz" "$WX.zip" SHA256SUMS; do
  checks=$((checks + 1))
  cmp "$WORK/dist1/$f" "$WORK/dist2/$f" || fail "$f differs between two runs of dist.sh"
done
# Entries sorted, owned by 0/0, dated at the commit.
tar -tvzf "$WORK/dist1/$LX.tar.gz" --full-time >"$WORK/tar.list"
expect_in "$WORK/tar.list" "-rwxr-xr-x 0/0"
expect_in "$WORK/tar.list" "$LX/bin/wstrace"
expect_in "$WORK/tar.list" "$LX/lib/libwstrace-agent.so"
expect_in "$WORK/tar.list" "$LX/docs/trace-format.md"
checks=$((checks + 1))
awk '{print $2}' "$WORK/tar.list" | sort -u | grep -qvx '0/0' && fail "an entry of the tarball is not owned by 0/0"
tar -tzf "$WORK/dist1/$LX.tar.gz" >"$WORK/tar.names"
LC_ALL=C sort -c "$WORK/tar.names" 2>/dev/null || { checks=$((checks + 1)); fail "tarball entries not sorted"; }
python3 -c 'import sys, zipfile; [print(i.filename, i.date_time) for i in zipfile.ZipFile(sys.argv[1]).infolist()]' \
  "$WORK/dist1/$WX.zip" >"$WORK/zip.list"
for f in wstrace.exe wstrace-agent.dll README-windows.txt README.md docs/findings.md; do
  expect_in "$WORK/zip.list" "$WX/$f"
done

# --- Linux: unpacked anywhere, it records --------------------------------------------------------
LDIR="$WORK/Get it ü 中/tools: here"
mkdir -p "$LDIR"
tar -xzf "$WORK/dist1/$LX.tar.gz" -C "$LDIR"
LW="$LDIR/$LX/bin/wstrace"
expect_exit 0 "$LW" --version
expect_in "$WORK/out" "wstrace $version (commit $commit)"
# Debian's libraries beyond the C and C++ runtimes come from the archive's lib/.
ldd "$LW" >"$WORK/ldd"
for lib in libfmt.so.9 libbpf.so.1 libelf.so.1 libsqlite3.so.0; do
  expect_in "$WORK/ldd" "$lib => $LDIR/$LX/bin/../lib/$lib"
done
python3 - "$WORK/port" >/dev/null 2>&1 <<'PY' &
import http.server, sys
class Quiet(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"hello from the loopback\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a): pass
s = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
open(sys.argv[1] + ".part", "w").write(str(s.server_port))
import os; os.rename(sys.argv[1] + ".part", sys.argv[1])
s.serve_forever()
PY
server=$!
wine_started=
trap 'kill $server 2>/dev/null; [ -z "$wine_started" ] || wineserver -k 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$WORK/port" ] && break; sleep 0.05; done
port=$(cat "$WORK/port")
expect_exit 0 "$LW" record -q -o "$LDIR/curl ü 中.wst" -- curl -s -o /dev/null "http://127.0.0.1:$port/"
expect_exit 0 "$LW" http "$LDIR/curl ü 中.wst"
expect_in "$WORK/out" "200"

# A missing agent, then one of another build (its identity bytes changed): one line each.
mismatch() {  # FILE: the build identity in FILE made another's, of the same length
  python3 - "$1" "$id" <<'PY'
import sys
path, mine = sys.argv[1], sys.argv[2].encode()
data = open(path, "rb").read()
theirs = mine.split(b"+")[0] + b"+" + b"0" * (len(mine) - len(mine.split(b"+")[0]) - 1)
assert data.count(mine) >= 1, "no build identity in " + path
open(path, "wb").write(data.replace(mine, theirs))
PY
}
cp -a "$LDIR/$LX" "$LDIR/other"
rm "$LDIR/other/lib/libwstrace-agent.so"
expect_exit 1 "$LDIR/other/bin/wstrace" record -q -o "$WORK/none.wst" -- curl -s -o /dev/null "http://127.0.0.1:$port/"
expect_lines "$WORK/err" 1
expect_in "$WORK/err" "lib/libwstrace-agent.so is missing"
cp "$LDIR/$LX/lib/libwstrace-agent.so" "$LDIR/other/lib/"
mismatch "$LDIR/other/lib/libwstrace-agent.so"
expect_exit 1 "$LDIR/other/bin/wstrace" record -q -o "$WORK/other.wst" -- curl -s -o /dev/null "http://127.0.0.1:$port/"
expect_lines "$WORK/err" 1
expect_in "$WORK/err" "is of another wstrace build ($version+0"
expect_in "$WORK/err" "than this wstrace ($id)"

# --- Windows: a fresh prefix, C:\Program Files\… -------------------------------------------------
export WINEPREFIX=$WORK/prefix WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
wine_started=1
wine wineboot --init >/dev/null 2>&1 || { echo "cannot start a Wine prefix in $WINEPREFIX" >&2; exit 1; }
wineserver -p  # (until the end: an idle one exits, and the next program would race its end)
WDIR_UNIX="$WINEPREFIX/drive_c/Program Files/wstrace ü 中 tools"
WDIR='C:\Program Files\wstrace ü 中 tools'
mkdir -p "$WDIR_UNIX/app"
python3 -m zipfile -e "$WORK/dist1/$WX.zip" "$WDIR_UNIX"
cp "$TARGETS/wpingpong.exe" "$WDIR_UNIX/app/"
cp "$LDIR/curl ü 中.wst" "$WDIR_UNIX/app/"
WW="$WDIR\\$WX\\wstrace.exe"
cd "$WDIR_UNIX"
expect_exit 0 wine "$WW" --version
expect_in "$WORK/out" "wstrace $version (commit $commit)"
expect_exit 0 wine "$WW" record -q -o "$WDIR\\app\\ping ü 中.wst" -- "$WDIR\\app\\wpingpong.exe" 3
# … read by the unpacked Linux wstrace; the Linux trace read by wstrace.exe.
expect_exit 0 "$LW" conns "$WDIR_UNIX/app/ping ü 中.wst"
expect_in "$WORK/out" "wpingpong.exe"
expect_in "$WORK/out" "127.0.0.1"
expect_exit 0 "$LW" stats --json "$WDIR_UNIX/app/ping ü 中.wst"
expect_in "$WORK/out" '"recv"'
expect_exit 0 wine "$WW" conns "$WDIR\\app\\curl ü 中.wst"
expect_in "$WORK/out" "127.0.0.1:$port"
expect_in "$WORK/out" "curl"

# Missing and mismatched agent: one line, and the program does not run (no trace left).
mv "$WDIR_UNIX/$WX/wstrace-agent.dll" "$WDIR_UNIX/agent.dll"
expect_exit 1 wine "$WW" record -q -o "$WDIR\\app\\none.wst" -- "$WDIR\\app\\wpingpong.exe" 3
tr -d '\r' <"$WORK/err" >"$WORK/err.txt"
expect_lines "$WORK/err.txt" 1
expect_in "$WORK/err.txt" "wstrace-agent.dll is missing"
mismatch "$WDIR_UNIX/agent.dll"
mv "$WDIR_UNIX/agent.dll" "$WDIR_UNIX/$WX/wstrace-agent.dll"
expect_exit 1 wine "$WW" record -q -o "$WDIR\\app\\other.wst" -- "$WDIR\\app\\wpingpong.exe" 3
tr -d '\r' <"$WORK/err" >"$WORK/err.txt"
expect_lines "$WORK/err.txt" 1
expect_in "$WORK/err.txt" "is of another wstrace build ($version+0"
checks=$((checks + 1))
[ ! -e "$WDIR_UNIX/app/other.wst" ] || fail "a refused record left its trace file"

# --- The Windows binaries as shipped --------------------------------------------------------------
python3 -m zipfile -e "$WORK/dist1/$WX.zip" "$WORK/zip"
for f in wstrace.exe wstrace-agent.dll; do
  x86_64-w64-mingw32-objdump -p "$WORK/zip/$WX/$f" >"$WORK/$f.pe"
  sed -n 's/^\tDLL Name: //p' "$WORK/$f.pe" >"$WORK/$f.dlls"
  checks=$((checks + 1))
  [ -s "$WORK/$f.dlls" ] || fail "no imports read from $f"
  bad=$(grep -viE '^(kernel32|msvcrt|ws2_32|mswsock|advapi32|user32|ntdll|dnsapi)\.dll$' "$WORK/$f.dlls")
  [ -z "$bad" ] || fail "$f imports DLLs that are not Windows' own: $bad"
  expect_in "$WORK/$f.pe" "Time/Date		Thu Jan  1 00:00:00 1970"
done
python3 - "$WORK/zip/$WX/wstrace.exe" "$version" "$commit" <<'PY' || fail "the version resource of wstrace.exe"
# The VS_VERSIONINFO resource: its fixed file version and its FileVersion/ProductVersion strings.
import struct, sys
data, version, commit = open(sys.argv[1], "rb").read(), sys.argv[2], sys.argv[3]
at = data.find("VS_VERSION_INFO".encode("utf-16-le"))
assert at > 0, "no VS_VERSION_INFO"
fixed = (at + 32 + 3) & ~3  # after the key and its NUL, 32-bit aligned
sig, _, ms, ls = struct.unpack_from("<IIII", data, fixed)
assert sig == 0xFEEF04BD, hex(sig)
want = [int(x) for x in version.split(".")] + [0]
assert [ms >> 16, ms & 0xFFFF, ls >> 16, ls & 0xFFFF] == want, (ms, ls)
for key in ("FileVersion", "ProductVersion"):
    k = data.find((key + "\0").encode("utf-16-le"), at)
    assert k > 0, key
    v = (k + len(key) * 2 + 2 + 3) & ~3
    end = data.find(b"\0\0", v)
    end += (end - v) % 2
    got = data[v:end].decode("utf-16-le")
    assert got == f"{version} (commit {commit})", (key, got)
PY
done_testing
