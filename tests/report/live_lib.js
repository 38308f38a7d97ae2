// What the live view's browser tests share (live_test.js, win_live_test.js): requests to the
// server, its URL as wstrace prints it, the security refusals every live server must make, and
// the checks of the page both make (arrivals, pause, playback).
"use strict";
const http = require("http");
const path = require("path");
const { execFileSync } = require("child_process");
const { check } = require("./checks.js");

// A GET of `url` with the headers given; resolves to {status, body, headers}.
function get(url, headers) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: headers || {} }, (res) => {
      let body = "";
      res.on("data", (d) => (body += d));
      res.on("end", () => resolve({ status: res.statusCode, body, headers: res.headers }));
    });
    req.on("error", reject);
  });
}

// The parts of a fresh event stream from the start, each given to `keep` (the part, its JSON)
// until it returns true; resolves to that part. With `headers` (a cookie) and no token, the
// stream is asked for without a token in its URL.
function eventsUntil(base, token, keep, headers) {
  return new Promise((resolve, reject) => {
    const query = token ? `token=${token}&` : "";
    const req = http.get(`${base}/events?${query}at=0,0,0,0,0,0,0,0`, { headers: headers || {} }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`the event stream answered ${res.statusCode}`));
      let buf = "";
      res.on("data", (d) => {
        buf += d;
        for (let end; (end = buf.indexOf("\n\n")) >= 0; buf = buf.slice(end + 2)) {
          if (!buf.startsWith("data: ")) continue;  // (a comment: ": still here")
          const json = buf.slice(6, end);
          const part = JSON.parse(json);
          if (keep(part, json)) {
            req.destroy();
            return resolve(part);
          }
        }
      });
    });
    req.on("error", (e) => (e.code === "ECONNRESET" ? null : reject(e)));
  });
}

// What the server holds right now: the first part of a fresh event stream (calls, findings).
async function serverHolds(base, token) {
  const part = await eventsUntil(base, token, () => true);
  return { calls: part.calls.n, findings: part.findings.map((f) => f.rule) };
}

// The live view's URL, once `child` (a wstrace) prints it on stderr matching `pattern`;
// `stderr()` gives what it printed so far.
function printedUrl(child, pattern) {
  let stderr = "";
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      stderr += d;
      const m = stderr.match(pattern);
      if (m) resolve({ url: m[1], stderr: () => stderr });
    });
    child.on("exit", () => reject(new Error("wstrace ended before printing its URL: " + stderr)));
  });
}

// The parts of `url` (http://127.0.0.1:PORT/?token=T): {base, token, port}.
function urlParts(url) {
  const base = url.slice(0, url.indexOf("/?"));
  return { base, token: url.slice(url.indexOf("token=") + 6), port: base.slice(base.lastIndexOf(":") + 1) };
}

// The refusals of a live server at `url`: a wrong or missing token (the page and the event
// stream), a wrong Host header, another origin; the URL itself opens with the page's CSP and no
// CORS headers.
async function checkRefusals(url) {
  const { base, port } = urlParts(url);
  check(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{64}$/.test(url), `one URL printed: ${url}`);
  check((await get(`${base}/?token=${"0".repeat(64)}`)).status === 403, "a wrong token is refused");
  check((await get(`${base}/`)).status === 403, "no token is refused");
  check((await get(`${base}/events?token=bad&at=0,0,0,0,0,0,0,0`)).status === 403,
        "the event stream with a wrong token is refused");
  check((await get(url, { Host: `rebind.test:${port}` })).status === 403,
        "a wrong Host header is refused (DNS rebinding)");
  check((await get(url, { Origin: "http://evil.test" })).status === 403,
        "a request naming another origin is refused");
  const ok = await get(url);
  check(ok.status === 200, "the URL printed opens");
  const csp = ok.headers["content-security-policy"] || "";
  check(csp.includes("frame-ancestors 'none'") && csp.includes("default-src 'none'"),
        `the page's CSP forbids framing and everything not allowed: ${csp}`);
  check(!Object.keys(ok.headers).some((h) => h.startsWith("access-control-")),
        "no CORS headers");
}

// The token in a cookie only, as a page without the token in its URL sends it: the page sets
// `wstrace_token_PORT` (HttpOnly, SameSite=Strict, for every path); the page, the event stream
// and /calls take the token from it alone; a wrong token in it, or the right one under the name
// of another port's cookie, is refused.
async function checkCookie(url) {
  const { base, token, port } = urlParts(url);
  const name = `wstrace_token_${port}`;
  const set = [].concat((await get(url)).headers["set-cookie"] || []);
  check(set.length === 1 && set[0] === `${name}=${token}; Path=/; HttpOnly; SameSite=Strict`,
        `the page sets the token as the cookie ${name}, HttpOnly and SameSite=Strict (${set})`);
  const cookie = { Cookie: `other=1; ${name}=${token}` };
  const page = await get(`${base}/`, cookie);
  check(page.status === 200 && page.body.includes("__wstrace"), `the page opens with the cookie alone (${page.status})`);
  const part = await eventsUntil(base, "", () => true, cookie);
  check(part.calls && part.live, "the event stream opens with the cookie alone");
  const older = await get(`${base}/calls?before=1000000000&count=1`, cookie);
  check(older.status === 200 && JSON.parse(older.body).live.older.count <= 1,
        `/calls answers with the cookie alone (${older.status})`);
  const wrong = [{ Cookie: `${name}=${"0".repeat(64)}` }, { Cookie: `wstrace_token_${Number(port) + 1}=${token}` }];
  for (const [i, headers] of wrong.entries()) {
    const what = i ? "the token under another port's cookie name" : "a wrong token in the cookie";
    const statuses = [];
    for (const p of ["/", "/events?at=0,0,0,0,0,0,0,0", "/calls?before=1000000000&count=1"])
      statuses.push((await get(base + p, headers)).status);
    check(statuses.every((s) => s === 403), `${what} is refused: the page, the event stream, /calls (${statuses})`);
  }
}

// A page of another origin (`otherUrl`) cannot read the live view at `url`, token or not.
async function checkCrossOrigin(browser, otherUrl, url) {
  const other = await browser.newPage();
  await other.goto(otherUrl);
  const result = await other.evaluate(async (u) => {
    try {
      const r = await fetch(u);
      return "read " + (await r.text()).length + " bytes";
    } catch (e) {
      return "refused: " + e.message;
    }
  }, url);
  check(result.startsWith("refused"), `a cross-origin fetch cannot read the page (${result})`);
  await other.close();
}

// The live view at `url` in a page of `browser`: {page, W (waits for a function of the page to
// hold, saying the page's state when it does not), problems (its console errors)}.
async function openLivePage(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("console", (m) => m.type() === "error" && problems.push("console error: " + m.text()));
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  await page.goto(url);
  await page.waitForFunction(() => window.__wstrace && window.__wstrace.live, null, { timeout: 20000 });
  const W = async (expr, arg) => {
    try {
      await page.waitForFunction(expr, arg, { timeout: 20000 });
    } catch (e) {
      const state = await page.evaluate(() => JSON.stringify({ calls: window.__wstrace.calls(),
        lanes: window.__wstrace.lanes(), live: document.getElementById("live-state").textContent }));
      throw new Error(`${e.message}\nwaiting for ${expr}\npage: ${state}\n${problems.join("\n")}`);
    }
  };
  return { page, W, problems };
}

// Calls appear on the live page while the program runs, and the filter box narrows those that
// arrive: `step("fetch")` has the program fetch from the HTTP server on `port` (and waits until
// it did). Leaves the filter empty.
async function checkArrivals(page, W, step, port) {
  const t = Date.now();
  await step("fetch");
  await W((p) => window.__wstrace.lanes().some((l) => l.kind === "conn" && l.label.includes(":" + p) && l.calls >= 3), port);
  console.log(`the fetch showed ${Date.now() - t} ms after it was done`);
  check(true, "the fetch's connection has its lane while the program runs");
  check(await page.evaluate(() => !window.__wstrace.live.over()), "the page knows the program still runs");

  await page.evaluate((p) => window.__wstrace.applyFilter(`rport == ${p}`), port);
  // (The lane may have shown before the fetch's last calls came, and its socket() has no remote
  // port: the calls that come after the filter was applied are listed as they arrive.)
  await W(() => window.__wstrace.listed() >= 3);
  const listed1 = await page.evaluate(() => window.__wstrace.listed());
  check(listed1 >= 3, `the filter lists the fetch's calls (${listed1})`);
  await step("fetch");
  await W((n) => window.__wstrace.listed() > n, listed1);
  const [listed2, all2] = await page.evaluate(() => [window.__wstrace.listed(), window.__wstrace.calls()]);
  check(listed2 < all2, `arriving calls are filtered: ${listed2} of ${all2} listed`);
  const funcs = await page.evaluate(() => window.__wstrace.listedSeqs(1000).map((s) => window.__wstrace.funcOf(s)));
  check(!funcs.includes("process_start") && funcs.includes("connect"),
        `the listed calls are the connections' (${[...new Set(funcs)].join(",")})`);
  await page.evaluate(() => window.__wstrace.applyFilter(""));
}

// A paused page stays as it was while the recording goes on (`step("fetch")`, the server at
// `url` receiving more); resumed, it catches up.
async function checkPause(page, W, step, url) {
  const { base, token } = urlParts(url);
  const calls = () => page.evaluate(() => window.__wstrace.calls());
  await page.evaluate(() => window.__wstrace.live.pause(true));
  const before = await calls();
  await step("fetch");
  let held;
  do held = await serverHolds(base, token); while (held.calls <= before);
  check((await calls()) === before, `paused, the page stays at ${before} calls while the server has ${held.calls}`);
  await page.evaluate(() => window.__wstrace.live.pause(false));
  await W((n) => window.__wstrace.calls() >= n, held.calls);
  check(true, `resumed, the page caught up (${await calls()} calls)`);
}

// A slow `GET /calls` (the last 1,000 calls of `trace`, a big one, served by the `wstrace ui` at
// `url`) does not stop the server's event streams: with the playback going slowly (speed 0.01:
// a part every 100 ms), parts keep coming while it is read (the server's one connection thread
// would have been taken by it). Then the same page asking again cancels its first read.
async function checkStreamDuringCalls(url, events) {
  const { base, token } = urlParts(url);
  const post = (target) => new Promise((resolve, reject) => {
    const req = http.request(`${base}${target}`, { method: "POST" }, (r) => r.resume().on("end", resolve));
    req.on("error", reject);
    req.end();
  });
  await post(`/control?token=${token}&op=speed&value=0.01`);
  await post(`/control?token=${token}&op=play`);
  let parts = 0, asking = false, answered = false, during = 0, flowing;
  const flows = new Promise((resolve) => (flowing = resolve));
  eventsUntil(base, token, () => {
    if (++parts === 2) flowing();
    if (asking && !answered) during++;
    return false;
  }).catch(() => {});
  await flows;
  const t = Date.now();
  asking = true;
  const calls = (page) => get(`${base}/calls?token=${token}&page=${page}&before=${events + 10}&count=1000`);
  const answer = await calls("p1");
  answered = true;
  const older = JSON.parse(answer.body).live.older;
  console.log(`GET /calls on ${events} events took ${Date.now() - t} ms; ${during} parts of the event stream came meanwhile`);
  check(older.count === 1000 && older.before === events - 1000, `/calls answered the last 1,000 calls (${JSON.stringify(older)})`);
  check(during >= 2, `the event stream kept delivering while /calls was read (${during} parts)`);
  // The same page asking twice at once: the read that came first is cancelled (its scan stops).
  const both = (await Promise.all([calls("p2"), calls("p2")])).map((a) => JSON.parse(a.body));
  const cancelled = both.filter((b) => /^cancelled/.test(b.error || "")).length;
  const whole = both.filter((b) => b.live && b.live.older.count === 1000).length;
  check(cancelled === 1 && whole === 1, `a page asking again cancels its earlier read (${cancelled} cancelled, ${whole} answered)`);
}

// The calls of `trace` as `wstrace` (a Linux build) exports them (--format jsonl, its own
// filter): [seq, func, ts_ns] each.
function traceCalls(wstrace, trace, filter) {
  return execFileSync(wstrace, ["export", "--format", "jsonl", "-o", "-", trace,
    ...(filter ? ["--filter", filter] : [])], { encoding: "utf8" }).split("\n").filter((l) => l)
    .map((l) => JSON.parse(l)).map((e) => [e.seq, e.func, e.ts_ns]);
}

// The playback of `trace` (`wstrace ui`) at `url`, read with the Linux `wstrace`: paused at the
// start, a seek to half-way shows the calls up to there and none after, then played at speed 10
// to the end, every one of the trace's `inTrace` calls; a seek back to three quarters loads the
// page again with the calls up to there. Leaves a screenshot in `work`.
async function checkPlayback(browser, url, wstrace, trace, inTrace, work) {
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
  // Seeking back to the time of the call three quarters in: the server plays from the start
  // again, the page loads again and holds the calls up to there, as the trace has them.
  const all = traceCalls(wstrace, trace);
  const quarter = all[Math.floor(all.length * 0.75)][2] - all[0][2];
  const upTo = all.filter((c) => c[2] - all[0][2] <= quarter);
  // (The seek's answer makes the page load again: the evaluate does not wait for it, or the
  // navigation may destroy its context before its result comes back.)
  await Promise.all([page.waitForEvent("load"),
    page.evaluate((t) => { window.__wstrace.live.control("seek", t); }, quarter)]);
  await page.waitForFunction((n) => window.__wstrace && window.__wstrace.calls &&
    window.__wstrace.calls() >= n, upTo.length, { timeout: 20000 });
  const back = await page.evaluate(() => ({ held: window.__wstrace.held(), last: window.__wstrace.lastTs(),
    state: window.__wstrace.live.playback() }));
  check(JSON.stringify(back.held.map((c) => c[0])) === JSON.stringify(upTo.map((c) => c[0])) &&
        back.last <= quarter && !back.state.done,
        `a seek back to ${quarter} ns shows the ${upTo.length} calls up to there and none after (${back.held.length} held, the last at ${back.last} ns)`);
  check(problems.length === 0, `no page errors in playback (${problems.join("; ")})`);
  await page.screenshot({ path: path.join(work, "playback.png") });
  await page.close();
}

module.exports = { get, eventsUntil, serverHolds, printedUrl, urlParts, checkRefusals, checkCookie, checkCrossOrigin,
  openLivePage, checkArrivals, checkPause, traceCalls, checkPlayback, checkStreamDuringCalls };
