// The live view of wstrace.exe under Wine, in Debian's Chromium on the host side (Wine's loopback
// is the host's); run by win_live.sh:
//   node win_live_test.js NODE_DIR CHROMIUM WINE_RUN WSTRACE_EXE LINUX_WSTRACE WORK_DIR TARGETS_DIR
// `wstrace.exe record --ui` on wsteps.exe, a client that works in steps when told through a
// control connection to this test, checked between the steps, never sleeping: the server's
// refusals (wrong or no token, wrong Host, another origin); calls appear on the page while the
// program runs; the filter box narrows the calls that arrive; a paused page stays as it was while
// the recording goes on, and catches up when resumed; a finding while the program runs; the page
// learns that the recording is over, holding every call of the trace. `--open` reaches a fake
// xdg-open first on the host's PATH (ShellExecute, then Wine's winebrowser) with the URL printed;
// Ctrl+C (SIGINT to the Wine process: CTRL_C_EVENT) ends wstrace.exe with the program's status 3,
// the trace complete. Then `wstrace.exe ui` plays that trace back: paused at the start, a seek,
// played at speed 10 to the end with every call. Then `wstrace.exe attach --ui` to a running
// wnetops.exe: the page opens with the token, and the event stream carries the calls made after
// the attach, every one of the trace. Each ends by Ctrl+C.
"use strict";
const path = require("path");
const fs = require("fs");
const net = require("net");
const http = require("http");
const { spawn, execFileSync } = require("child_process");

const [nodeDir, chromiumPath, wineRun, wstraceExe, wstrace, work, targets] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));

const checks = require("./checks.js");
const check = checks.check;
const { get, eventsUntil, printedUrl, urlParts, checkRefusals, checkCookie, checkCrossOrigin, openLivePage,
  checkArrivals, checkPause, checkPlayback } = require("./live_lib.js");

const started = [];  // wine processes, ended on failure too

// Has `server` listen on 127.0.0.1; resolves to its port.
function listen(server) {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)));
}

// The first line `stream` gives.
function firstLine(stream) {
  let buf = "";
  return new Promise((resolve, reject) => {
    stream.on("data", (d) => {
      buf += d;
      if (buf.includes("\n")) resolve(buf.slice(0, buf.indexOf("\n")).trim());
    });
    stream.on("end", () => reject(new Error("no line: " + buf)));
  });
}

// The lines of `wstrace show` of a trace (the Linux build reads what wstrace.exe wrote).
function traceLines(trace) {
  return execFileSync(wstrace, ["show", trace], { encoding: "utf8" }).split("\n").filter((l) => l);
}

function wine(args, stdio, env) {
  const child = spawn(wineRun, args, { stdio, env: { ...process.env, ...(env || {}) } });
  started.push(child);
  child.ended = new Promise((resolve) => child.on("exit", (code, sig) => resolve({ code, sig })));
  return child;
}

// The servers the program works with: an HTTP server with /hello.txt, a port where nothing
// listens, and the control port it connects to; {data, dataPort, deadPort, controlServer,
// controlPort, controlled (resolves to the program's control connection)}.
async function servers() {
  const data = http.createServer((req, res) => {
    res.writeHead(req.url === "/hello.txt" ? 200 : 404, { Connection: "close" });
    res.end("hello from wstrace\n");
  });
  const dataPort = await listen(data);
  const closed = net.createServer();
  const deadPort = await listen(closed);
  await new Promise((resolve) => closed.close(resolve));
  const controlServer = net.createServer();
  const controlPort = await listen(controlServer);
  const controlled = new Promise((resolve) => controlServer.once("connection", resolve));
  return { data, dataPort, deadPort, controlServer, controlPort, controlled };
}

// The steps of the program on its control connection: step(command) sends one and resolves
// when the program answers "done".
function stepper(control) {
  let answers = "";
  control.setEncoding("utf8");
  control.on("data", (d) => (answers += d));
  return (command) => new Promise((resolve, reject) => {
    const seen = answers.length;
    const look = () => {
      const line = answers.slice(seen);
      if (!line.includes("\n")) return;
      control.off("data", look);
      return line.startsWith("done") ? resolve() : reject(new Error(`step ${command}: ${line}`));
    };
    control.on("data", look);
    control.write(command + "\n");
  });
}

// A fake xdg-open first on PATH (Wine's winebrowser runs the host's xdg-open): {env (the PATH
// to give), opened (resolves to the first argument it was started with)}.
function fakeXdgOpen() {
  const bin = path.join(work, "bin"), fifo = path.join(work, "opened.fifo");
  fs.mkdirSync(bin, { recursive: true });
  execFileSync("mkfifo", [fifo]);
  fs.writeFileSync(path.join(bin, "xdg-open"), `#!/bin/sh\nprintf '%s\\n' "$1" >"${fifo}"\n`, { mode: 0o755 });
  const opened = firstLine(fs.createReadStream(fifo, { encoding: "utf8" }));
  return { env: { PATH: `${bin}:${process.env.PATH}` }, opened };
}

// `promise`, or a failure named `what` when it has not settled within 60 s.
function within(promise, what) {
  let timer;
  const late = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within 60 s`)), 60000);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

// The end of a wstrace.exe `child` by Ctrl+C: SIGINT to its Wine process, which Wine turns into
// CTRL_C_EVENT for the console control handlers; resolves to {code, sig}.
async function ctrlC(child) {
  child.kill("SIGINT");
  return within(child.ended, "wstrace.exe ending on Ctrl+C");
}

async function record(browser) {
  const { data, dataPort, deadPort, controlServer, controlPort, controlled } = await servers();
  const trace = path.join(work, "live.wst");
  const fake = fakeXdgOpen();
  const rec = wine([wstraceExe, "record", "-q", "--ui", "--open", "-o", trace, "--",
    path.join(targets, "wsteps.exe"), String(controlPort), String(dataPort), String(deadPort)],
  ["ignore", "inherit", "pipe"], fake.env);
  const { url, stderr } = await printedUrl(rec, /live view at (http:\/\/\S+)/);
  const opened = await within(fake.opened, "xdg-open started by wstrace.exe --open").catch((e) => e.message);
  check(opened === url, `--open: ShellExecute reached the host's xdg-open (through winebrowser) with the URL printed (${opened})`);
  const control = await controlled;
  const step = stepper(control);

  await checkRefusals(url);
  await checkCookie(url);
  await checkCrossOrigin(browser, `http://127.0.0.1:${dataPort}/hello.txt`, url);
  const { page, W, problems } = await openLivePage(browser, url);
  await checkArrivals(page, W, step, dataPort);
  await checkPause(page, W, step, url);

  await step("refused");
  await W(() => window.__wstrace.findings().includes("connect-failed"));
  check(await page.evaluate(() => !window.__wstrace.live.over()), "connect-failed shows while the program runs");

  control.write("quit 3\n");
  await W(() => window.__wstrace.live.over());
  await new Promise((resolve) => {
    const look = () => /recording over/.test(stderr()) && resolve();
    rec.stderr.on("data", look);
    look();
  });
  const shown = await page.evaluate(() => window.__wstrace.calls());
  const inTrace = traceLines(trace).length;
  check(shown === inTrace, `the page holds every event of the trace (${shown} of ${inTrace})`);
  check(problems.length === 0, `no console errors (${problems.join("; ")})`);
  await page.screenshot({ path: path.join(work, "win_live.png") });
  const end = await ctrlC(rec);
  check(end.code === 3, `Ctrl+C ends wstrace.exe record --ui with the program's status 3 (${JSON.stringify(end)})`);
  const info = JSON.parse(execFileSync(wstrace, ["info", "--json", trace], { encoding: "utf8" }));
  check(info.complete && JSON.stringify(info.processes.map((p) => p.exit_code)) === "[3]",
        `the trace is complete, with the program's status 3 (${JSON.stringify(info.processes)})`);
  data.close();
  controlServer.close();
  return { trace, inTrace };
}

// `wstrace.exe ui` on the trace just recorded, played back in the page (checkPlayback).
async function playback(browser, trace, inTrace) {
  const ui = wine([wstraceExe, "ui", trace], ["ignore", "ignore", "pipe"]);
  const { url } = await printedUrl(ui, / at (http:\/\/\S+)/);
  await checkPlayback(browser, url, wstrace, trace, inTrace, work);
  const end = await ctrlC(ui);
  check(end.code === 0, `Ctrl+C ends wstrace.exe ui with 0 (${JSON.stringify(end)})`);
}

async function attach() {
  const target = wine([path.join(targets, "wnetops.exe"), "waitstdin"], ["pipe", "pipe", "ignore"]);
  const pid = (await firstLine(target.stdout)).replace("pid=", "");
  const trace = path.join(work, "attach.wst");
  const att = wine([wstraceExe, "attach", "-q", "--ui", "-o", trace, pid], ["ignore", "ignore", "pipe"]);
  const { url } = await printedUrl(att, /live view at (http:\/\/\S+)/);
  const { base, token } = urlParts(url);
  const page = await get(url);
  check(page.status === 200 && page.body.includes("__wstrace"), `attach --ui serves the page (${page.status})`);
  check((await get(`${base}/events?token=bad&at=0,0,0,0,0,0,0,0`)).status === 403,
        "attach --ui's event stream refuses a wrong token");
  // Every part from the start until the recording is over (the program ends after its exchange).
  let calls = 0;
  const parts = eventsUntil(base, token, (part) => {
    calls += part.calls.n;
    return part.live.over;
  });
  target.stdin.end("go\n");
  await parts;
  const lines = traceLines(trace);
  check(lines.some((l) => / connect\(/.test(l)), "the attach recorded the program's connect");
  check(calls === lines.length, `the event stream carried every call of the trace (${calls} of ${lines.length})`);
  await target.ended;
  const end = await ctrlC(att);
  check(end.code === 0, `Ctrl+C ends wstrace.exe attach --ui with 0 (${JSON.stringify(end)})`);
}

async function main() {
  const browser = await chromium.launch({ executablePath: chromiumPath,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"] });
  const { trace, inTrace } = await record(browser);
  await playback(browser, trace, inTrace);
  await browser.close();
  await attach();
}

main().then(() => {
  console.log(checks.failures ? `${checks.failures} failed` : "all passed");
  process.exit(checks.failures ? 1 : 0);
}, (e) => {
  console.error("FAIL: " + (e.stack || e));
  for (const child of started) child.kill("SIGKILL");
  process.exit(1);
});
