#!/usr/bin/env bash
# The live view of wstrace.exe under Wine (`record --ui`, `attach --ui`), in Debian's Chromium
# driven by Playwright on the host side (win_live_test.js): Wine's loopback is the host's.
# Run as: win_live.sh WINE_RUN WSTRACE_EXE LINUX_WSTRACE SOURCE_DIR WORK_DIR TARGETS_DIR NODE_DIR
set -uo pipefail
WINE_RUN=$1 WIN_WSTRACE=$2 WSTRACE=$3 SRC=$4 WORK=$5 TARGETS=$6
rm -rf "$WORK" && mkdir -p "$WORK"
. "$SRC/tests/report/lib_node.sh"
need_browser_tools
install_playwright "$7"
node "$SRC/tests/report/win_live_test.js" "$7" "$CHROMIUM" "$WINE_RUN" "$WIN_WSTRACE" "$WSTRACE" \
     "$WORK" "$TARGETS"
