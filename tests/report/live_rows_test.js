// The live page's tables are a window too (run by live.sh):
//   node live_rows_test.js NODE_DIR CHROMIUM WSTRACE WORK_DIR
// `wstrace ui` plays a trace of many short connections (`wstrace synth conns:N`) to its end into
// a page that holds 50 rows of each table (&rows=50): the page holds the last connections that
// ended (and the open ones), a lane each, says how many older ones it does not hold, and still
// counts every connection of the run; the connections it holds are the latest, whole.
"use strict";
const path = require("path");
const { spawn, execFileSync } = require("child_process");

const [nodeDir, chromiumPath, wstrace, work] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const checks = require("./checks.js");
const check = checks.check;
const { printedUrl } = require("./live_lib.js");

let ui = null;  // wstrace ui, ended on failure too

async function main() {
  const trace = path.join(work, "conns.wst");
  execFileSync(wstrace, ["synth", "conns:20000", "-o", trace]);
  const conns = execFileSync(wstrace, ["conns", "--json", trace], { encoding: "utf8" })
    .split("\n").filter((l) => l).map((l) => JSON.parse(l));  // (a connection a line)
  const open = conns.filter((c) => c.end === "open at end").length;
  ui = spawn(wstrace, ["ui", trace], { stdio: ["ignore", "inherit", "pipe"] });
  const exited = new Promise((resolve) => ui.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(ui, / at (http:\/\/\S+)/);
  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${url}&rows=50`);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live &&
    window.__wstrace.live.playback(), null, { timeout: 60000 });
  const end = await page.evaluate(() => window.__wstrace.live.playback().end);
  await page.evaluate((e) => window.__wstrace.live.control("seek", e), end);
  await page.waitForFunction(() => window.__wstrace.live.over(), null, { timeout: 120000 });
  const h = await page.evaluate(() => ({
    rows: window.__wstrace.live.rows, held: window.__wstrace.live.connsHeld(),
    gone: window.__wstrace.live.rowsNotHeld(), lanes: window.__wstrace.lanes(),
    state: document.getElementById("live-state").textContent,
  }));
  const connLanes = h.lanes.filter((l) => l.kind === "conn");
  check(conns.length > 1000, `the trace has many connections (${conns.length})`);
  check(h.rows === 50, `the page holds 50 rows of each table (${h.rows})`);
  // (the connections open at the end of the trace are open at every moment of it: held)
  check(h.held >= 50 && h.held <= 50 + Math.ceil(50 / 4) + open,
        `the page holds the last 50 to 63 connections that ended, and the ${open} open ones (${h.held})`);
  check(connLanes.length <= h.held, `a lane for each connection held at most (${connLanes.length})`);
  check(h.gone.conns > 0 && h.gone.conns + h.held >= conns.length - 1,
        `the connections not held are counted (${h.gone.conns} + ${h.held} of ${conns.length})`);
  check(new RegExp(`not held: ${h.gone.conns.toLocaleString("en")} connections`).test(h.state),
        `the page says how many connections it does not hold (${h.state})`);
  // The latest connections, as the trace has them.
  const ids = new Set(conns.map((c) => c.id));
  const latest = Math.max(...ids);
  check(connLanes.some((l) => l.id === latest), `the latest connection has its lane (#${latest})`);
  const openIds = new Set(conns.filter((c) => c.end === "open at end").map((c) => c.id));
  check(connLanes.every((l) => ids.has(l.id) && (l.id > latest - 200 || openIds.has(l.id))),
        `the lanes are of the latest connections and the open ones (${connLanes.slice(0, 3).map((l) => l.id)})`);
  check(connLanes.every((l) => l.calls > 0), "each lane held has its calls");
  check(problems.length === 0, `no page errors (${problems.join("; ")})`);
  await browser.close();
  ui.kill("SIGTERM");
  const how = await exited;
  check(how.code === 0, `wstrace ui ends on SIGTERM (${JSON.stringify(how)})`);
}

main().then(() => {
  console.log(checks.failures ? `${checks.failures} failed` : "all passed");
  process.exit(checks.failures ? 1 : 0);
}, (e) => {
  console.error("FAIL: " + (e.stack || e));
  if (ui) ui.kill("SIGKILL");
  process.exit(1);
});
