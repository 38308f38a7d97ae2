# What the browser tests of tests/report/ share (sourced after lib_capture.sh).
CHROMIUM=${WSTRACE_CHROMIUM:-/usr/bin/chromium}

# need_browser_tools [MORE…]: fails the test when node, npm, python3, Chromium or MORE is missing.
need_browser_tools() {
  local tool
  for tool in node npm python3 "$CHROMIUM" "$@"; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing (scripts/deps.sh installs it)" >&2; exit 1; }
  done
}

# install_playwright NODE_DIR: playwright-core, exactly as package-lock.json says, into NODE_DIR;
# again only when the lock changed. No browser is downloaded.
install_playwright() {
  mkdir -p "$1"
  if ! cmp -s "$SRC/tests/report/package-lock.json" "$1/package-lock.json" ||
     [ ! -f "$1/node_modules/playwright-core/package.json" ]; then
    cp "$SRC/tests/report/package.json" "$SRC/tests/report/package-lock.json" "$1/"
    (cd "$1" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error) ||
      { echo "FAIL: npm ci of playwright-core in $1" >&2; exit 1; }
  fi
}
