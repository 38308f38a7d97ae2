// The live view under load (run by live_bench.sh): `wstrace record --ui` on the loopback
// ping-pong with a Chromium page following it, against the same recording without --ui.
// Prints calls recorded per second each way, the page's frame times while the calls stream
// (median, 99th percentile, worst) and the event latency — how long after a call happened the
// page held it (median, 99th percentile) — and the page's JS heap at the end.
//   node live_bench.js NODE_DIR CHROMIUM WSTRACE PINGPONG ROUNDS
"use strict";
const path = require("path");
const { spawn, execFileSync } = require("child_process");
const os = require("os");
const fs = require("fs");

const [nodeDir, chromiumPath, wstrace, pingpong, rounds] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wstrace-live-bench-"));

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const callsIn = (trace) => {  // (events: calls and the process facts)
  const out = execFileSync(wstrace, ["info", "--json", trace], { encoding: "utf8" });
  return JSON.parse(out).events;
};

async function main() {
  // Each run's program waits for a fifo, so that both are timed from its start (the live one
  // once the page follows) to the end of the recording.
  const gated = (gate) => ["/bin/sh", "-c", `read x < "${gate}" && exec "${pingpong}" ${Number(rounds)}`];
  const plainGate = path.join(tmp, "plain-gate");
  execFileSync("mkfifo", [plainGate]);
  const plain = spawn(wstrace, ["record", "-q", "-s", "0", "-o", path.join(tmp, "plain.wst"), "--",
    ...gated(plainGate)], { stdio: "ignore" });
  const plainEnd = new Promise((resolve) => plain.on("exit", () => resolve(Date.now())));
  let t0 = Date.now();
  fs.writeFileSync(plainGate, "go\n");
  const plainMs = (await plainEnd) - t0;
  const plainCalls = callsIn(path.join(tmp, "plain.wst"));

  // With it, a page following.
  const trace = path.join(tmp, "live.wst");
  // The program waits for the page: it starts when the fifo is written.
  const gate = path.join(tmp, "gate");
  execFileSync("mkfifo", [gate]);
  const rec = spawn(wstrace, ["record", "-q", "-s", "0", "--ui", "-o", trace, "--", ...gated(gate)],
    { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  let over = null;
  const overSeen = new Promise((resolve) => (over = resolve));
  const url = await new Promise((resolve, reject) => {
    rec.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/live view at (http:\/\/\S+)/);
      if (m) resolve(m[1]);
      if (/recording over/.test(err)) over(Date.now());
    });
    rec.on("exit", () => reject(new Error("wstrace ended: " + err)));
  });
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  page.on("crash", () => console.error("the page crashed"));
  page.on("pageerror", (e) => console.error("page error: " + e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live, null, { timeout: 60000 });
  // Frame times and, whenever the page got more calls, how old its newest call was.
  await page.evaluate(() => {
    const w = window.__wstrace;
    window.__bench = { frames: [], latency: [] };
    let last = performance.now(), seen = -1;
    const tick = () => {
      const now = performance.now();
      window.__bench.frames.push(now - last);
      last = now;
      const ts = w.lastTs();
      if (ts !== seen && ts >= 0) {
        seen = ts;
        const at = w.startMs() + ts / 1e6;  // (the calls before the gate opened do not count)
        if (window.__bench.gate && at >= window.__bench.gate) window.__bench.latency.push(Date.now() - at);
      }
      if (!w.live.over()) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  t0 = Date.now();
  await page.evaluate((t) => (window.__bench.gate = t), t0);
  fs.writeFileSync(gate, "go\n");
  const recordedAt = await overSeen;
  const liveMs = recordedAt - t0;
  await page.waitForFunction(() => window.__wstrace.live.over(), null, { timeout: 600000 });
  const b = await page.evaluate(() => ({ ...window.__bench, calls: window.__wstrace.calls(),
    skipped: window.__wstrace.live.skipped(),
    heap: performance.memory ? performance.memory.usedJSHeapSize : 0 }));
  await browser.close();
  rec.kill("SIGTERM");
  await new Promise((resolve) => rec.on("exit", resolve));
  const liveCalls = callsIn(trace);
  console.log(`ping-pong ${rounds} rounds, record -q -s 0:`);
  console.log(`  without --ui: ${plainCalls} calls in ${plainMs} ms, ${Math.round(plainCalls / plainMs * 1000)} calls/s`);
  console.log(`  with --ui and a page: ${liveCalls} calls recorded in ${liveMs} ms, ` +
              `${Math.round(liveCalls / liveMs * 1000)} calls/s (ratio ${(liveMs / plainMs).toFixed(2)})`);
  console.log(`  page: ${b.calls} events held, ${b.skipped} skipped; frame ms median ` +
              `${pct(b.frames, 50).toFixed(1)}, p99 ${pct(b.frames, 99).toFixed(1)}, worst ${Math.max(...b.frames).toFixed(1)}; ` +
              `event latency ms median ${pct(b.latency, 50)}, p99 ${pct(b.latency, 99)}; JS heap ${(b.heap / 1048576).toFixed(0)} MiB`);
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
