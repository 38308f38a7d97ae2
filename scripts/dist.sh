#!/usr/bin/env bash
# `make dist`: the archives to copy to a machine to trace, from the builds already made.
#   scripts/dist.sh [LINUX_BUILD [WIN64_BUILD [OUT_DIR]]]   (defaults: build build/win64 build/dist)
# Writes OUT_DIR/wstrace-VERSION-linux-x64.tar.gz (bin/wstrace, lib/libwstrace-agent.so and the
# shared libraries wstrace takes from Debian, the docs) and OUT_DIR/wstrace-VERSION-windows-x64.zip (wstrace.exe, wstrace-agent.dll, the docs,
# README-windows.txt), and SHA256SUMS. Both unpack into one folder that runs where it lies.
# Reproducible: the same builds give the same bytes (entries sorted, owners and modes fixed,
# every time the commit's, or SOURCE_DATE_EPOCH's when set).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
linux=$(realpath -m "${1:-$src/build}")
win=$(realpath -m "${2:-$src/build/win64}")
out=$(realpath -m "${3:-$src/build/dist}")

# The version and commit each build was made from (cmake/BuildId.cmake): both must agree.
build_id() {
  local f=$1/generated/build_id.cc
  [ -f "$f" ] || { echo "dist: $1 is not a wstrace build (no $f): run make build" >&2; exit 1; }
  sed -n 's/^const char kBuildId\[\] = "\(.*\)";$/\1/p' "$f"
}
id=$(build_id "$linux")
win_id=$(build_id "$win")
if [ "$id" != "$win_id" ]; then
  echo "dist: the Linux build is of $id and the Windows build of $win_id: build both again (make dist)" >&2
  exit 1
fi
version=${id%%+*}
commit=${id#*+}
for f in "$linux/bin/wstrace" "$linux/lib/libwstrace-agent.so" "$win/bin/wstrace.exe" \
         "$win/bin/wstrace-agent.dll"; do
  [ -f "$f" ] || { echo "dist: $f is missing: run make build" >&2; exit 1; }
done
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 315532800)
fi
# (zip cannot hold a time before 1980)
[ "$SOURCE_DATE_EPOCH" -ge 315532800 ] || SOURCE_DATE_EPOCH=315532800
export SOURCE_DATE_EPOCH

stage=$(mktemp -d "${TMPDIR:-/tmp}/wstrace-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
umask 022
mkdir -p "$out"

# Linux: bin/ and lib/ as an install would lay them out (record finds ../lib/ from bin/).
lx=wstrace-$version-linux-x64
mkdir -p "$stage/$lx/bin" "$stage/$lx/lib" "$stage/$lx/docs"
strip --strip-debug -o "$stage/$lx/bin/wstrace" "$linux/bin/wstrace"
strip --strip-debug -o "$stage/$lx/lib/libwstrace-agent.so" "$linux/lib/libwstrace-agent.so"
chmod 755 "$stage/$lx/bin/wstrace"
# The shared libraries wstrace takes from Debian beyond the C and C++ runtimes (fmt, SQLite,
# zlib, libbpf, libelf): shipped in lib/, where its RPATH ($ORIGIN/../lib) finds them first.
ldd "$linux/bin/wstrace" | awk '$2 == "=>" && $3 ~ /^\// {print $1, $3}' |
  while read -r name path; do
    case $name in
      libc.so.*|libm.so.*|libstdc++.so.*|libgcc_s.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*) ;;
      *) cp "$(realpath "$path")" "$stage/$lx/lib/$name" && chmod 644 "$stage/$lx/lib/$name" ;;
    esac
  done
chmod 644 "$stage/$lx/lib/libwstrace-agent.so"
cp "$src/README.md" "$stage/$lx/"
cp "$src"/docs/*.md "$stage/$lx/docs/"
tar --sort=name --mtime="@$SOURCE_DATE_EPOCH" --owner=0 --group=0 --numeric-owner \
    --format=gnu -C "$stage" -cf - "$lx" | gzip -9n > "$out/$lx.tar.gz.part"
mv "$out/$lx.tar.gz.part" "$out/$lx.tar.gz"

# Windows: one flat folder (record finds wstrace-agent.dll beside wstrace.exe). The docs as
# they are (Markdown is text); the README for Windows with CRLF line ends.
wx=wstrace-$version-windows-x64
mkdir -p "$stage/$wx/docs"
cp "$win/bin/wstrace.exe" "$stage/$wx/"  # (its debug information is left in the build)
# (strip writes SOURCE_DATE_EPOCH into the PE header it rewrites: 0, as the linker left it)
SOURCE_DATE_EPOCH=0 x86_64-w64-mingw32-strip --strip-debug -o "$stage/$wx/wstrace-agent.dll" \
  "$win/bin/wstrace-agent.dll"
cp "$src/README.md" "$stage/$wx/"
cp "$src"/docs/*.md "$stage/$wx/docs/"
sed -e "s/@VERSION@/$version/g" -e "s/@COMMIT@/$commit/g" -e 's/$/\r/' \
    "$src/packaging/README-windows.txt" > "$stage/$wx/README-windows.txt"
python3 - "$stage" "$wx" "$out/$wx.zip.part" <<'PY'
import os, sys, time, zipfile
stage, top, dest = sys.argv[1:]
when = time.gmtime(int(os.environ["SOURCE_DATE_EPOCH"]))[:6]
paths = []
for root, dirs, files in os.walk(os.path.join(stage, top)):
    rel = os.path.relpath(root, stage)
    paths.append(rel + "/")
    paths += [os.path.join(rel, f) for f in files]
with zipfile.ZipFile(dest, "w") as z:
    for p in sorted(paths):
        info = zipfile.ZipInfo(p, date_time=when)
        info.create_system = 3  # (Unix: the modes below mean something)
        if p.endswith("/"):
            info.external_attr = (0o40755 << 16) | 0x10
            z.writestr(info, b"")
        else:
            info.external_attr = (0o100644 << 16)
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(stage, p), "rb") as f:
                z.writestr(info, f.read(), compresslevel=9)
PY
mv "$out/$wx.zip.part" "$out/$wx.zip"
(cd "$out" && sha256sum "$lx.tar.gz" "$wx.zip" > SHA256SUMS)
echo "dist: $out/$lx.tar.gz"
echo "dist: $out/$wx.zip"
