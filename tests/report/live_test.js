// The live view in Chromium (run by live.sh):
//   node live_test.js NODE_DIR CHROMIUM WSTRACE WORK_DIR SERVER_PORT DEAD_PORT CLIENT
// Starts `wstrace record --ui` on a client that works in steps when told (phased_client.py,
// through fifos), and checks between the steps, never sleeping: the server refuses a wrong token,
// a wrong Host and a page of another origin; calls appear on the page while the program runs;
// the filter box narrows the calls that arrive; a paused page stays as it was while the
// recording goes on, and catches up when resumed; a finding appears while the program runs; a
// call's payload shows in the viewer; the page learns that the recording is over, holding every
// call of the trace; with rings too small for a burst, the drops show while the program runs. How long a step took to show is printed, not asserted.
"use strict";
const path = require("path");
const fs = require("fs");
const { spawn, execFileSync } = require("child_process");

const [nodeDir, chromiumPath, wstrace, work, serverPort, deadPort, client] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));

const checks = require("./checks.js");
const check = checks.check;
const { printedUrl, urlParts, checkRefusals, checkCookie, checkCrossOrigin, openLivePage, checkArrivals,
  checkPause, traceCalls, checkPlayback, checkStreamDuringCalls } = require("./live_lib.js");

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

  // ---- refusals; the token in the cookie alone
  await checkRefusals(url);
  await checkCookie(url);
  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  await checkCrossOrigin(browser, `http://127.0.0.1:${serverPort}/hello.txt`, url);

  const { page, W, problems } = await openLivePage(browser, url);
  const calls = () => page.evaluate(() => window.__wstrace.calls());
  await checkArrivals(page, W, step, serverPort);

  // ---- pause: the page stays while the recording goes on; resume catches up
  await checkPause(page, W, step, url);

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
  await withoutToken(browser, url, shown);
  await holdAndOlder(browser, url, trace);
  fs.closeSync(controlFd);
  rec.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ends on SIGTERM with the program's status 0 (${JSON.stringify(end)})`);
  await playback(browser, trace, inTrace);
  await streamDuringCalls();
  await dropsLive(browser);
  await browser.close();
}

// The live view opened without the token in its URL: in a browser that opened `url` (with the
// token) once, the page comes and its event stream brings all `shown` calls on the cookie alone,
// which the page's scripts cannot read (HttpOnly); in a browser without the cookie it is refused.
async function withoutToken(browser, url, shown) {
  const { base } = urlParts(url);
  const context = await browser.newContext();
  await (await context.newPage()).goto(url);
  const bare = await context.newPage();
  const opened = await bare.goto(`${base}/`);
  await bare.waitForFunction((n) => window.__wstrace && window.__wstrace.live && window.__wstrace.live.over() &&
    window.__wstrace.calls() === n, shown, { timeout: 20000 });
  check(opened.status() === 200, `a page without the token in its URL holds every call on the cookie alone (${shown})`);
  check(await bare.evaluate(() => document.cookie) === "", "the page's scripts cannot read the cookie");
  await context.close();
  const stranger = await browser.newPage();
  check((await stranger.goto(`${base}/`)).status() === 403, "a browser without the cookie is refused");
  await stranger.close();
}

// `record --ui` with rings of 8 KiB on a burst they cannot hold: the page says that calls were
// dropped while the program still runs, and at the end as many as the trace counts.
async function dropsLive(browser) {
  const control = path.join(work, "control2.fifo"), ack = path.join(work, "ack2.fifo");
  for (const f of [control, ack]) {
    fs.rmSync(f, { force: true });
    execFileSync("mkfifo", [f]);
  }
  const trace = path.join(work, "drops.wst");
  const rec = spawn(wstrace, ["record", "-q", "--ui", "--ring-kib", "8", "-o", trace, "--",
    process.env.WSTRACE_PY || "python3", client, control, ack, serverPort, deadPort],
  { stdio: ["ignore", "inherit", "pipe"] });
  recording = rec;
  const exited = new Promise((resolve) => rec.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(rec, /live view at (http:\/\/\S+)/);
  const controlFd = fs.openSync(control, "w");
  const ackFd = fs.openSync(ack, "r");
  const step = (command) => {  // (the acknowledgement is read whole: one line, a few bytes)
    fs.writeSync(controlFd, command + "\n");
    const buf = Buffer.alloc(64);
    const n = fs.readSync(ackFd, buf, 0, buf.length, null);
    return buf.toString("utf8", 0, n).trim();
  };
  const { page, W, problems } = await openLivePage(browser, url);
  const dropped = () => page.evaluate(() => {
    const m = /([\d,]+) dropped/.exec(document.getElementById("live-state").textContent);
    return m ? Number(m[1].replace(/,/g, "")) : -1;
  });
  check(step("burst") === "done burst", "the burst ran");
  const t = Date.now();
  await W(() => /[1-9][\d,]* dropped/.test(document.getElementById("live-state").textContent));
  console.log(`the drops showed ${Date.now() - t} ms after the burst`);
  const during = await dropped();
  check(await page.evaluate(() => !window.__wstrace.live.over()) && during > 0,
        `the page says ${during} calls were dropped while the program runs`);
  check(step("quit") === "done quit", "the program was told to quit");
  await W(() => window.__wstrace.live.over());
  const info = JSON.parse(execFileSync(wstrace, ["info", "--json", trace], { encoding: "utf8" }));
  const after = await dropped();
  check(info.dropped > 0 && after === info.dropped,
        `at the end the page says ${after} dropped, the trace ${info.dropped}`);
  check(problems.length === 0, `no console errors with drops (${problems.join("; ")})`);
  fs.closeSync(controlFd);
  fs.closeSync(ackFd);
  rec.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ends on SIGTERM after the burst (${JSON.stringify(end)})`);
}

// A page that holds at most 6 calls (&hold=6) of the recording just over: it holds the last 6
// and counts the others as not held; scrolling up reads older ones from the trace, a filter
// reads the matching ones, each as the trace has them; "Back to live" holds the last 6 again;
// scrolled up again, scrolling down reads the newer ones until they meet the live calls.
async function holdAndOlder(browser, url, trace) {
  const all = traceCalls(wstrace, trace);
  const seqs = (list) => JSON.stringify(list.map((c) => c[0]));
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  await page.goto(url + "&hold=6");
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live &&
    window.__wstrace.live.over(), null, { timeout: 20000 });
  const held = () => page.evaluate(() => ({ calls: window.__wstrace.held(),
    notHeld: window.__wstrace.live.notHeld(), state: document.getElementById("live-state").textContent,
    listed: window.__wstrace.listedSeqs(100) }));
  let h = await held();
  check(h.calls.length === 6 && seqs(h.calls) === seqs(all.slice(-6)),
        `with &hold=6 the page holds the last 6 calls of ${all.length} (${seqs(h.calls)})`);
  check(h.notHeld === all.length - 6 && h.state.includes(`not held: ${all.length - 6} older calls`),
        `the page counts the others as not held (${h.state})`);
  // Scrolling up over the first call held: the 3 calls before it, from the trace.
  await page.click('#tabs button[data-tab="calls"]');
  const box = await page.$("#calls-table");
  const b = await box.boundingBox();
  await page.mouse.move(b.x + b.width / 2, b.y + 40);
  await page.mouse.wheel(0, -400);
  await page.waitForFunction((n) => window.__wstrace.live.notHeld() < n && !window.__wstrace.live.fetching(),
    all.length - 6, { timeout: 20000 });
  h = await held();
  check(seqs(h.calls) === seqs(all.slice(-9, -3)) && h.notHeld === all.length - 9,
        `scrolled up, the page holds the 3 calls before from the trace and drops 3 newer (${seqs(h.calls)}, ${h.notHeld} not held)`);
  check(h.calls.every(([seq, text]) => text.startsWith(all.find((c) => c[0] === seq)[1] + "(")),
        "each call read again is the trace's");
  check(await page.evaluate(() => !window.__wstrace.live.following() &&
    !document.getElementById("live-back").hidden), "the page browses back, with Back to live shown");
  // A filter: the matching calls up to where the page was, from the trace with wstrace's filter.
  const before = h.calls[h.calls.length - 1][0] + 1;
  const matching = traceCalls(wstrace, trace, "event == connect and rport > 0").filter((c) => c[0] < before);
  await page.evaluate(() => window.__wstrace.applyFilter("event == connect and rport > 0"));
  await page.waitForFunction(() => !window.__wstrace.live.fetching() && window.__wstrace.listed() > 0,
    null, { timeout: 20000 });
  h = await held();
  check(JSON.stringify(h.listed) === seqs(matching.slice(-3)) && h.notHeld === Math.max(0, matching.length - 3),
        `the filter lists the last 3 of the trace's ${matching.length} connects before seq ${before} (${JSON.stringify(h.listed)}, ${h.notHeld} older not held)`);
  await page.click("#live-back");
  await page.waitForFunction(() => window.__wstrace.live.following() && window.__wstrace.calls() === 6,
    null, { timeout: 20000 });
  await page.evaluate(() => window.__wstrace.applyFilter(""));
  h = await held();
  check(seqs(h.calls) === seqs(all.slice(-6)) && h.notHeld === all.length - 6,
        `back to live: the last 6 calls again (${seqs(h.calls)})`);
  // Browsing forward: up twice (the 6 calls 6 before the last), then down at the last call held:
  // the 3 calls after it, then the last 3, which meet the calls the stream brought: live again.
  const wheel = async (dy, until, arg) => {
    await page.mouse.move(b.x + b.width / 2, b.y + 40);
    await page.mouse.wheel(0, dy);
    await page.waitForFunction(until, arg, { timeout: 20000 });
  };
  await wheel(-400, () => !window.__wstrace.live.following() && !window.__wstrace.live.fetching());
  await wheel(-400, (n) => window.__wstrace.live.notHeld() === n && !window.__wstrace.live.fetching(), all.length - 12);
  h = await held();
  check(seqs(h.calls) === seqs(all.slice(-12, -6)), `up twice: the 6 calls before the last 6 (${seqs(h.calls)})`);
  await wheel(400, (n) => window.__wstrace.live.notHeld() === n && !window.__wstrace.live.fetching(), all.length - 9);
  h = await held();
  check(seqs(h.calls) === seqs(all.slice(-9, -3)) && !(await page.evaluate(() => window.__wstrace.live.following())),
        `down at the last call held: the 3 after it, the 3 oldest dropped, still browsing (${seqs(h.calls)}, ${h.notHeld} not held)`);
  await wheel(400, () => window.__wstrace.live.following() && !window.__wstrace.live.fetching());
  h = await held();
  check(seqs(h.calls) === seqs(all.slice(-6)) && h.notHeld === all.length - 6 &&
        (await page.evaluate(() => document.getElementById("live-back").hidden && window.__wstrace.live.newer() === 0)),
        `down again: the last 6, met the calls the stream brought, live again (${seqs(h.calls)}, ${h.state})`);
  check(problems.length === 0, `no page errors with a small hold (${problems.join("; ")})`);
  await page.close();
}

// `wstrace ui` on the trace just recorded: paused at the start, a seek to half-way shows the
// calls up to there and none after, then played at speed 10 to the end, every call.
async function playback(browser, trace, inTrace) {
  const ui = spawn(wstrace, ["ui", trace], { stdio: ["ignore", "inherit", "pipe"] });
  recording = ui;
  const exited = new Promise((resolve) => ui.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(ui, / at (http:\/\/\S+)/);
  await checkPlayback(browser, url, wstrace, trace, inTrace, work);
  ui.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ui ends on SIGTERM (${JSON.stringify(end)})`);
}

// `wstrace ui` on a synthetic trace of 5 M events: a slow /calls does not stop the event
// stream, and a page's second read cancels its first (checkStreamDuringCalls).
async function streamDuringCalls() {
  const events = 5000000, trace = path.join(work, "big.wst");
  execFileSync(wstrace, ["synth", `bench:${events}`, "-o", trace]);
  const ui = spawn(wstrace, ["ui", trace], { stdio: ["ignore", "inherit", "pipe"] });
  recording = ui;
  const exited = new Promise((resolve) => ui.on("exit", (code, sig) => resolve({ code, sig })));
  const { url } = await printedUrl(ui, / at (http:\/\/\S+)/);
  await checkStreamDuringCalls(url, events);
  ui.kill("SIGTERM");
  const end = await exited;
  check(end.code === 0, `wstrace ui on the big trace ends on SIGTERM (${JSON.stringify(end)})`);
  fs.rmSync(trace);
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
