// The live page's tables are a window too (run by live.sh):
//   node live_rows_test.js NODE_DIR CHROMIUM WSTRACE WORK_DIR
// `wstrace ui` plays a trace of many short connections (`wstrace synth conns:N`) to its end into
// a page that holds 50 rows of each table (&rows=50): the page holds the last connections that
// ended (and the open ones), a lane each, says how many older ones it does not hold, and still
// counts every connection of the run; the connections it holds are the latest, whole. Then a
// trace whose every connection goes to a port of its own (`synth ports:N`), played with a
// server window of 1,000 calls (--ui-window): the server's tables of texts start again many
// times, the page's follow, bounded, and every call held still reads its own port, in its
// arguments and in the facts the filter sees.
"use strict";
const path = require("path");
const { spawn, execFileSync } = require("child_process");

const [nodeDir, chromiumPath, wstrace, work] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const checks = require("./checks.js");
const check = checks.check;
const { printedUrl } = require("./live_lib.js");

let ui = null;  // wstrace ui, ended on failure too

// `wstrace ui ARGS… TRACE` and a page on it (URL query `query`), played to the end (a seek to
// it, or at `speed`): the page.
async function playToEnd(browser, trace, args, query, speed) {
  ui = spawn(wstrace, ["ui", ...args, trace], { stdio: ["ignore", "inherit", "pipe"] });
  const child = ui;
  const exited = new Promise((resolve) => child.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(child, / at (http:\/\/\S+)/);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push(e.message));
  await page.goto(`${url}${query}`);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live &&
    window.__wstrace.live.playback(), null, { timeout: 60000 });
  if (speed) {
    await page.evaluate((x) => window.__wstrace.live.control("speed", x)
      .then(() => window.__wstrace.live.control("play")), speed);
  } else {
    const end = await page.evaluate(() => window.__wstrace.live.playback().end);
    await page.evaluate((e) => window.__wstrace.live.control("seek", e), end);
  }
  await page.waitForFunction(() => window.__wstrace.live.over(), null, { timeout: 120000 });
  const close = async () => {
    check(problems.length === 0, `no page errors (${problems.join("; ")})`);
    await page.close();
    child.kill("SIGTERM");
    const how = await exited;
    check(how.code === 0, `wstrace ui ends on SIGTERM (${JSON.stringify(how)})`);
  };
  return { page, close };
}

// The texts: every call held reads the port of its connection (synth's: 1024 + its number).
async function texts(browser) {
  const trace = path.join(work, "ports.wst");
  execFileSync(wstrace, ["synth", "ports:120000", "-o", trace]);
  // (180 ms of calls played in 9 s: the page gets parts all along, each up to the window)
  const { page, close } = await playToEnd(browser, trace, ["--ui-window", "1000"], "&hold=600&rows=50", 0.02);
  const t = await page.evaluate(() => window.__wstrace.live.texts());
  const held = await page.evaluate(() => window.__wstrace.held().map(([seq, text]) =>
    [seq, text, window.__wstrace.portsOf(seq)]));
  check(t.restarts >= 3, `the tables of texts started again (${t.restarts} times)`);
  check(t.strings <= 2 * 2000 + 1000 && t.extra <= 2 * 600,
        `the page's tables stay small (${t.strings} strings, ${t.extra} extra)`);
  check(held.length === 600, `the page holds 600 calls (${held.length})`);
  const portOf = (seq) => 1024 + (Math.floor(seq / 768) * 64 + (seq % 64)) % 64512;  // (synth's)
  // (a socket before its connect, and a close that ended the connection, have no ports)
  const portless = (text) => text.startsWith("socket(") || text.startsWith("close(");
  const wrong = held.filter(([seq, text, ports]) => !ports ||
    (ports.rport.length ? ports.rport[0] !== portOf(seq) : !portless(text)) ||
    (text.startsWith("connect(") && !text.endsWith(`:${portOf(seq)}) = 0`)));
  check(held.some(([, text]) => text.startsWith("connect(")), "connects among the calls held");
  check(wrong.length === 0, `each call held has its own port, in its text and facts (${JSON.stringify(wrong.slice(0, 2))})`);
  await close();
}

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
  await page.close();
  ui.kill("SIGTERM");
  const how = await exited;
  check(how.code === 0, `wstrace ui ends on SIGTERM (${JSON.stringify(how)})`);
  await texts(browser);
  await browser.close();
}

main().then(() => {
  console.log(checks.failures ? `${checks.failures} failed` : "all passed");
  process.exit(checks.failures ? 1 : 0);
}, (e) => {
  console.error("FAIL: " + (e.stack || e));
  if (ui) ui.kill("SIGKILL");
  process.exit(1);
});
