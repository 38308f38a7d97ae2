// The live view in Chromium (run by live.sh):
//   node live_test.js NODE_DIR CHROMIUM WSTRACE WORK_DIR SERVER_PORT DEAD_PORT CLIENT
// Starts `wstrace record --ui` on a client that works in steps when told (phased_client.py,
// through fifos), and checks between the steps, never sleeping: the server refuses a wrong token,
// a wrong Host and a page of another origin; calls appear on the page while the program runs;
// the filter box narrows the calls that arrive; a paused page stays as it was while the
// recording goes on, and catches up when resumed; a finding appears while the program runs; a
// call's payload shows in the viewer; the page learns that the recording is over, holding every
// call of the trace. How long a step took to show is printed, not asserted.
"use strict";
const path = require("path");
const fs = require("fs");
const { spawn, execFileSync } = require("child_process");

const [nodeDir, chromiumPath, wstrace, work, serverPort, deadPort, client] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));

const checks = require("./checks.js");
const check = checks.check;
const { serverHolds, printedUrl, urlParts, checkRefusals, checkCrossOrigin, openLivePage,
  checkArrivals } = require("./live_lib.js");

async function main() {
  const control = path.join(work, "control.fifo"), ack = path.join(work, "ack.fifo");
  for (const f of [control, ack]) {
    fs.rmSync(f, { force: true });
    execFileSync("mkfifo", [f]);
  }
  const trace = path.join(work, "live.wst");
  const rec = spawn(wstrace, ["record", "-q", "--ui", "-o", trace, "--", process.env.WSTRACE_PY || "python3", client,
    control, ack, serverPort, deadPort], { stdio: ["ignore", "inherit", "pipe"] });
  recording = rec;
  const exited = new Promise((resolve) => rec.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(rec, /live view at (http:\/\/\S+)/);
  const { base, token } = urlParts(url);

  // The steps of the program: each sent, then its acknowledgement awaited.
  const controlFd = fs.openSync(control, "w");
  const acks = fs.createReadStream(ack, { encoding: "utf8" });
  let ackBuf = "", waiting = null;
  acks.on("data", (d) => {
    ackBuf += d;
    if (waiting && ackBuf.includes("\n")) waiting();
  });
  const step = (command) => new Promise((resolve) => {
    const done = () => {
      const line = ackBuf.slice(0, ackBuf.indexOf("\n"));
      ackBuf = ackBuf.slice(ackBuf.indexOf("\n") + 1);
      waiting = null;
      resolve(line);
    };
    waiting = () => done();
    fs.writeSync(controlFd, command + "\n");
    if (ackBuf.includes("\n")) done();
  });

  // ---- refusals
  await checkRefusals(url);
  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  await checkCrossOrigin(browser, `http://127.0.0.1:${serverPort}/hello.txt`, url);

  const { page, W, problems } = await openLivePage(browser, url);
  const calls = () => page.evaluate(() => window.__wstrace.calls());
  await checkArrivals(page, W, step, serverPort);

  // ---- pause: the page stays while the recording goes on; resume catches up
  await page.evaluate(() => window.__wstrace.live.pause(true));
  const before = await calls();
  await step("fetch");
  let held;
  do held = await serverHolds(base, token); while (held.calls <= before);
  check((await calls()) === before, `paused, the page stays at ${before} calls while the server has ${held.calls}`);
  await page.evaluate(() => window.__wstrace.live.pause(false));
  await W((n) => window.__wstrace.calls() >= n, held.calls);
  check(true, `resumed, the page caught up (${await calls()} calls)`);

  // ---- a finding while the program runs
  const t = Date.now();
  await step("refused");
  await W(() => window.__wstrace.findings().includes("connect-failed"));
  console.log(`the finding showed ${Date.now() - t} ms after the refused connect`);
  check(await page.evaluate(() => !window.__wstrace.live.over()), "connect-failed shows while the program runs");
  check((await page.innerText("#findings")).includes("refused"), "the overview lists the finding");

  // ---- a call's details and payload, as in the report
  const sendSeq = await page.evaluate(() => {
    window.__wstrace.applyFilter("event == send");
    return window.__wstrace.listedSeqs(1)[0];
  });
  await page.evaluate((s) => window.__wstrace.goToSeq(s), sendSeq);
  const text = await page.innerText("#viewer");
  check(text.includes("GET /hello.txt"), "a send's payload shows in the viewer");

  // ---- the end
  await step("quit");
  await W(() => window.__wstrace.live.over());
  const shown = await calls();
  const inTrace = execFileSync(wstrace, ["show", trace], { encoding: "utf8" }).split("\n")
    .filter((l) => l).length;
  check(shown === inTrace, `the page holds every event of the trace (${shown} of ${inTrace})`);
  const status = await page.innerText("#live-state");
  check(/recording over/.test(status), `the page says the recording is over (${status})`);
  check(problems.length === 0, `no console errors (${problems.join("; ")})`);
  await page.screenshot({ path: path.join(work, "live.png") });
  fs.closeSync(controlFd);
  rec.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ends on SIGTERM with the program's status 0 (${JSON.stringify(end)})`);
  await playback(browser, trace, inTrace);
  await browser.close();
}

// `wstrace ui` on the trace just recorded: paused at the start, a seek to half-way shows the
// calls up to there and none after, then played at speed 10 to the end, every call.
async function playback(browser, trace, inTrace) {
  const ui = spawn(wstrace, ["ui", trace], { stdio: ["ignore", "inherit", "pipe"] });
  recording = ui;
  const exited = new Promise((resolve) => ui.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(ui, / at (http:\/\/\S+)/);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live &&
    window.__wstrace.live.playback(), null, { timeout: 20000 });
  const state = await page.evaluate(() => window.__wstrace.live.playback());
  check(!state.playing && state.position === 0 && state.end > 0,
        `playback starts paused at the beginning (${JSON.stringify(state)})`);
  check((await page.evaluate(() => window.__wstrace.calls())) === 0, "no call shown before playing");
  const half = Math.round(state.end / 2);
  await page.evaluate((t) => window.__wstrace.live.control("seek", t), half);
  await page.waitForFunction(() => window.__wstrace.calls() > 0, null, { timeout: 20000 });
  const [n, last] = await page.evaluate(() => [window.__wstrace.calls(), window.__wstrace.lastTs()]);
  check(n < inTrace && last <= half, `a seek to half-way shows ${n} of ${inTrace} calls, the last at ${last} <= ${half} ns`);
  const t0 = Date.now();
  await page.evaluate(() => window.__wstrace.live.control("speed", 10).then(() => window.__wstrace.live.control("play")));
  await page.waitForFunction(() => window.__wstrace.live.over(), null, { timeout: 60000 });
  console.log(`the second half (${(state.end - half) / 1e6} ms of trace) played at speed 10 in ${Date.now() - t0} ms`);
  check((await page.evaluate(() => window.__wstrace.calls())) === inTrace, `played to the end: every call (${inTrace})`);
  check(problems.length === 0, `no page errors in playback (${problems.join("; ")})`);
  await page.screenshot({ path: path.join(work, "playback.png") });
  ui.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ui ends on SIGTERM (${JSON.stringify(end)})`);
}

let recording = null;  // wstrace, ended on failure too
main().then(() => {
  console.log(checks.failures ? `${checks.failures} failed` : "all passed");
  process.exit(checks.failures ? 1 : 0);
}, (e) => {
  console.error("FAIL: " + (e.stack || e));
  if (recording) recording.kill("SIGKILL");
  process.exit(1);
});
