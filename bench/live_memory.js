// The live page's memory over a long run (run by live_memory.sh): `wstrace ui` plays a
// synthetic trace of CALLS calls as fast as it can (a seek to its end) into a Chromium page that
// holds at most HOLD calls (&hold=), and prints the page's JS heap (used, and the typed arrays'
// backing stores, from the DevTools protocol after a garbage collection) as the run's calls
// pass 1 M, 2 M, 5 M, 10 M … and at the end, with the resident memory of `wstrace ui` (the feed).
// SCENARIO: synth's, "bench" (one connection's sends and receives) or "conns" (short
// connections, each a row of the page's tables and a lane of its timeline).
//   node live_memory.js NODE_DIR CHROMIUM WSTRACE CALLS HOLD [SCENARIO]
"use strict";
const path = require("path");
const { spawn, execFileSync } = require("child_process");
const os = require("os");
const fs = require("fs");

const [nodeDir, chromiumPath, wstrace, callsArg, holdArg, scenario = "bench"] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const total = Number(callsArg), hold = Number(holdArg);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wstrace-live-memory-"));
const MiB = (b) => (b / 1048576).toFixed(1);

async function main() {
  const trace = path.join(tmp, "big.wst");
  let t0 = Date.now();
  execFileSync(wstrace, ["synth", `${scenario}:${total}`, "-o", trace]);
  console.log(`live_memory: synth ${scenario}:${total} in ${Date.now() - t0} ms (${MiB(fs.statSync(trace).size)} MiB)`);
  const ui = spawn(wstrace, ["ui", trace], { stdio: ["ignore", "ignore", "pipe"] });
  let err = "";
  const url = await new Promise((resolve, reject) => {
    ui.stderr.on("data", (d) => {
      err += d;
      const m = err.match(/ at (http:\/\/\S+)/);
      if (m) resolve(m[1]);
    });
    ui.on("exit", () => reject(new Error("wstrace ui ended: " + err)));
  });
  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${url}&hold=${hold}`);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live &&
    window.__wstrace.live.playback(), null, { timeout: 60000 });
  const cdp = await page.context().newCDPSession(page);
  const measure = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    const heap = await cdp.send("Runtime.getHeapUsage");
    const at = await page.evaluate(() => ({ run: window.__wstrace.runCalls(),
      held: window.__wstrace.calls(), notHeld: window.__wstrace.live.notHeld(),
      skipped: window.__wstrace.live.skipped(), over: window.__wstrace.live.over(),
      conns: window.__wstrace.lanes().length }));
    const status = fs.readFileSync(`/proc/${ui.pid}/status`, "utf8");
    const rss = Number((status.match(/VmRSS:\s+(\d+)/) || [0, 0])[1]) * 1024;
    return { ...at, used: heap.usedSize, backing: heap.backingStorageSize || 0, rss };
  };
  const print = (m, label) => console.log(`live_memory: ${label}: ${m.run.toLocaleString("en")} calls run, ` +
    `${m.held.toLocaleString("en")} held (hold ${hold.toLocaleString("en")}), ` +
    `${m.notHeld.toLocaleString("en")} not held, ${m.skipped.toLocaleString("en")} skipped by the feed, ` +
    `${m.conns.toLocaleString("en")} timeline lanes; ` +
    `JS heap ${MiB(m.used)} MiB used + ${MiB(m.backing)} MiB array buffers; wstrace ui RSS ${MiB(m.rss)} MiB`);
  print(await measure(), "start");
  t0 = Date.now();
  const end = (await page.evaluate(() => window.__wstrace.live.playback())).end;
  await page.evaluate((e) => window.__wstrace.live.control("seek", e), end);
  const marks = [1e6, 2e6, 5e6, 1e7, 2e7, 5e7, 1e8].filter((x) => x <= total);
  let peak = 0;
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));  // (a benchmark samples; tests never sleep)
    const m = await measure();
    peak = Math.max(peak, m.used + m.backing);
    while (marks.length && m.run >= marks[0]) print(m, `past ${(marks.shift() / 1e6)} M`);
    if (m.over) {
      print(m, `the end, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      break;
    }
  }
  console.log(`live_memory: peak page heap ${MiB(peak)} MiB (sampled each second)`);
  await browser.close();
  ui.kill("SIGTERM");
  fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error("live_memory: " + (e.stack || e));
  process.exit(1);
});
