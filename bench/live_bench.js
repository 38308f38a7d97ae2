// The live view under load (run by live_bench.sh): `wstrace record --ui` on the loopback
// ping-pong with a Chromium page following it, against the same recording without --ui.
// Prints calls recorded per second each way (the run without --ui twice, before and after the
// live one: the machine's load moves; their mean is the ratio's base), the records dropped,
// the CPU time of wstrace's recording thread and of its other threads (the page's server), the
// page's frame times while the calls stream (median, 99th percentile, worst) and the event
// latency — how long after a call happened the page held it (median, 99th percentile) — and
// the page's JS heap at the end. A recorder that falls behind fills its rings and drops calls:
// the calls/s count the calls recorded.
// RATE (calls a second, 0 = as fast as it goes) paces the program: the budget is a page that
// keeps up with 100,000 calls a second, without drops.
//   node live_bench.js NODE_DIR CHROMIUM WSTRACE PINGPONG ROUNDS [RATE]
"use strict";
const path = require("path");
const { spawn, execFileSync } = require("child_process");
const os = require("os");
const fs = require("fs");

const [nodeDir, chromiumPath, wstrace, pingpong, rounds, rate = "0"] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "wstrace-live-bench-"));

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const callsIn = (trace) => {  // (events: calls and the process facts)
  const out = JSON.parse(execFileSync(wstrace, ["info", "--json", trace], { encoding: "utf8" }));
  return { calls: out.events, dropped: out.dropped };
};
const ring = [];  // (the default rings: larger ones cost the run without --ui their teardown)
// CPU ms of each thread of `pid` so far: [the main one (the recording), the others summed].
const cpuMs = (pid) => {
  const tick = 1000 / Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }));
  let main = 0, others = 0;
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ms = (Number(f[11]) + Number(f[12])) * tick;  // utime + stime
    if (Number(tid) === pid) main += ms; else others += ms;
  }
  return [main, others];
};

async function main() {
  // Each run's program waits for a fifo, so that both are timed from its start (the live one
  // once the page follows) to the end of the recording.
  const gated = (gate) => ["/bin/sh", "-c", `read x < "${gate}" && exec "${pingpong}" ${Number(rounds)} 32 ${Number(rate)}`];
  const plainRun = async (name) => {
    const plainGate = path.join(tmp, name + "-gate");
    execFileSync("mkfifo", [plainGate]);
    const plain = spawn(wstrace, ["record", "-q", "-s", "0", ...ring, "-o", path.join(tmp, name + ".wst"), "--",
      ...gated(plainGate)], { stdio: "ignore" });
    const plainEnd = new Promise((resolve) => plain.on("exit", () => resolve(Date.now())));
    fs.writeFileSync(plainGate, "go\n");  // (returns once the program opened it: wstrace is set up)
    const start = Date.now();
    const ms = (await plainEnd) - start;
    return { ms, ...callsIn(path.join(tmp, name + ".wst")) };
  };
  const plainBefore = await plainRun("plain1");
  let t0;

  // With it, a page following.
  const trace = path.join(tmp, "live.wst");
  // The program waits for the page: it starts when the fifo is written.
  const gate = path.join(tmp, "gate");
  execFileSync("mkfifo", [gate]);
  const rec = spawn(wstrace, ["record", "-q", "-s", "0", ...ring, "--ui", "-o", trace, "--", ...gated(gate)],
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
  await page.evaluate((t) => (window.__bench.gate = t), Date.now());
  fs.writeFileSync(gate, "go\n");
  t0 = Date.now();
  const recordedAt = await overSeen;
  const liveMs = recordedAt - t0;
  const [recCpu, serverCpu] = cpuMs(rec.pid);
  await page.waitForFunction(() => window.__wstrace.live.over(), null, { timeout: 600000 });
  const b = await page.evaluate(() => ({ ...window.__bench, calls: window.__wstrace.calls(),
    skipped: window.__wstrace.live.skipped(),
    heap: performance.memory ? performance.memory.usedJSHeapSize : 0 }));
  await browser.close();
  rec.kill("SIGTERM");
  await new Promise((resolve) => rec.on("exit", resolve));
  const live = callsIn(trace);
  const plainAfter = await plainRun("plain2");
  const perS = (r) => Math.round(r.calls / r.ms * 1000);
  const plainRate = (perS(plainBefore) + perS(plainAfter)) / 2;
  const dropped = (r) => (r.dropped ? `, ${r.dropped} dropped` : "");
  const paced = Number(rate) ? `, paced at ${Number(rate)} calls/s` : "";
  console.log(`ping-pong ${rounds} rounds${paced}, record -q -s 0 (${os.cpus().length} CPUs, load ${os.loadavg()[0].toFixed(1)}):`);
  console.log(`  without --ui: ${plainBefore.calls} calls in ${plainBefore.ms} ms, ${perS(plainBefore)} calls/s${dropped(plainBefore)}; ` +
              `again after: ${plainAfter.calls} in ${plainAfter.ms} ms, ${perS(plainAfter)} calls/s${dropped(plainAfter)}`);
  console.log(`  with --ui and a page: ${live.calls} calls recorded in ${liveMs} ms, ` +
              `${perS({ ...live, ms: liveMs })} calls/s${dropped(live)} (ratio to without: ${(perS({ ...live, ms: liveMs }) / plainRate).toFixed(2)}); ` +
              `wstrace CPU: recording thread ${Math.round(recCpu)} ms (${(recCpu * 1000 / live.calls).toFixed(1)} µs a call), ` +
              `other threads ${Math.round(serverCpu)} ms`);
  console.log(`  page: ${b.calls} events held, ${b.skipped} skipped; frame ms median ` +
              `${pct(b.frames, 50).toFixed(1)}, p99 ${pct(b.frames, 99).toFixed(1)}, worst ${Math.max(...b.frames).toFixed(1)}; ` +
              `event latency ms median ${Math.round(pct(b.latency, 50))}, p99 ${Math.round(pct(b.latency, 99))}; JS heap ${(b.heap / 1048576).toFixed(0)} MiB`);
  if (process.env.WSTRACE_BENCH_KEEP) console.log(`  traces kept in ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

main().catch((e) => {
  console.error(e.stack || e);
  process.exit(1);
});
