// Drives two wstrace reports in Chromium (run by run.sh):
//   node report_test.js NODE_DIR CHROMIUM SESSION_HTML BIG_HTML OUT_DIR SERVER_PORT TLS_HTML
//                       IOCP_HTML
// The session report (a real program on loopback) must load without console errors or network
// requests, draw its connections and lookups on the timeline, list a connection's calls when
// its lane is clicked, narrow the list with the filter box and show a send's bytes in the
// payload viewer, and show the HTTP exchange's request and response headers. The TLS report
// (python3's ssl module against a server on loopback) must list the handshake's server name,
// ALPN, version and cipher. In the IOCP report (a Windows program's overlapped calls) a pending
// WSARecv and its completion must link to each other. The million-call report must load and its list scroll; its load
// time is printed. Screenshots go to OUT_DIR.
"use strict";
const path = require("path");

const [nodeDir, chromiumPath, sessionHtml, bigHtml, outDir, serverPort, tlsHtml, iocpHtml,
  retransHtml] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));

let failures = 0;
function check(ok, what) {
  if (ok) console.log("ok: " + what);
  else {
    failures++;
    console.error("FAIL: " + what);
  }
}

// A page that records console errors, uncaught exceptions and any request beyond the file.
async function open(browser, file) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push("console error: " + m.text());
  });
  page.on("pageerror", (e) => problems.push("page error: " + e.message));
  page.on("request", (r) => {
    if (!r.url().startsWith("file://")) problems.push("network request: " + r.url());
  });
  const t0 = Date.now();
  await page.goto("file://" + file, { timeout: 60000 });
  try {
    await page.waitForFunction(() => window.__wstrace !== undefined, null, { timeout: 60000 });
  } catch (e) {
    throw new Error(`${file} did not open: ${problems.join("; ") || e.message}`);
  }
  return { page, problems, loadMs: Date.now() - t0 };
}

// How many pixels of a lane's row (right of the labels) are not background.
async function inkInLane(page, k) {
  return page.evaluate((k) => {
    const c = document.getElementById("timeline");
    const box = window.__wstrace.laneBox(k);
    const dpr = window.devicePixelRatio || 1;
    const g = c.getContext("2d");
    const img = g.getImageData(Math.round(box.x * dpr), Math.round(box.y * dpr), c.width - Math.round(box.x * dpr), 1).data;
    let ink = 0;
    for (let j = 0; j < img.length; j += 4) {
      const [r, gg, b] = [img[j], img[j + 1], img[j + 2]];
      // Background, stripes, the connection's span bar and grid lines are greys.
      const grey = Math.abs(r - gg) < 12 && Math.abs(gg - b) < 16;
      if (!grey) ink++;
    }
    return ink;
  }, k);
}

async function sessionChecks(browser) {
  const { page, problems, loadMs } = await open(browser, sessionHtml);
  console.log(`session report loaded in ${loadMs} ms`);
  const lanes = await page.evaluate(() => window.__wstrace.lanes());
  const conns = lanes.filter((l) => l.kind === "conn");
  const dns = lanes.filter((l) => l.kind === "dns");
  check(conns.length >= 2, `timeline has a lane per connection (${conns.length} connection lanes)`);
  check(dns.length >= 1, `timeline has a lookups lane (${dns.length})`);
  const drawn = await page.evaluate(() => window.__wstrace.drawnLanes());
  check(drawn === lanes.length, `every lane is drawn (${drawn} of ${lanes.length})`);

  // The HTTP connection: the lane whose label names the server's port.
  const k = lanes.findIndex((l) => l.kind === "conn" && l.label.includes(":" + serverPort) && l.calls >= 3);
  check(k >= 0, `a lane for the connection to 127.0.0.1:${serverPort}`);
  if (k < 0) return { page, problems };
  const lane = lanes[k];
  // The agent read its TCP statistics: the connections table has its RTT and retransmissions
  // (none on loopback, so the lane is not marked).
  const tcp = await page.evaluate((id) => window.__wstrace.tcp(id), lane.id);
  check(tcp && /\d/.test(tcp.rtt) && tcp.retrans === "0" && lane.retrans === 0,
    `the connection's TCP statistics in its row (${JSON.stringify(tcp)}, lane retrans ${lane.retrans})`);
  const ink = await inkInLane(page, k);
  check(ink > 0, `the connection's calls are drawn on its lane (${ink} coloured pixels)`);

  // Click the lane: the call list shows that connection's calls.
  const canvasBox = await page.locator("#timeline").boundingBox();
  const at = await page.evaluate((k) => window.__wstrace.laneBox(k), k);
  await page.mouse.click(canvasBox.x + at.x - 60, canvasBox.y + at.y);
  const filter = await page.inputValue("#filter");
  check(filter === `conn == ${lane.id}`, `clicking the lane filters on its connection ('${filter}')`);
  const listed = await page.evaluate(() => window.__wstrace.listed());
  check(listed === lane.calls, `the list holds the connection's ${lane.calls} calls (${listed})`);
  const visible = await page.locator("#tab-calls").isVisible();
  check(visible, "the Calls tab is shown");
  const rowsText = await page.locator("#calls-table .row:visible").allInnerTexts();
  check(rowsText.length === lane.calls && rowsText.every((t) => t.includes("#" + lane.id)),
    `every row shown is of connection #${lane.id}`);

  // The filter box narrows the list.
  const all = await page.evaluate(() => window.__wstrace.calls());
  await page.fill("#filter", 'event == send and payload contains "GET /hello.txt"');
  await page.press("#filter", "Enter");
  const sends = await page.evaluate(() => window.__wstrace.listed());
  check(sends >= 1 && sends < all, `the filter narrows ${all} calls to ${sends}`);
  await page.fill("#filter", "rport == 1 andd failed");
  await page.press("#filter", "Enter");
  const errText = await page.locator("#filter-error").innerText();
  check(errText.includes("^ expected 'and', 'or'"), "a bad filter is shown with a caret and what was expected");
  // A mistake is shown as text: the '<' of a filter stays a '<', never markup or an entity.
  await page.fill("#filter", 'host == "<b>x</b>" andd');
  await page.press("#filter", "Enter");
  const shown = await page.evaluate(() => {
    const e = document.getElementById("filter-error");
    return { text: e.textContent, elements: e.children.length };
  });
  check(shown.text.includes('"<b>x</b>"') && !shown.text.includes("&lt;") && shown.elements === 0,
        `the filter's mistake shows '<' as text (${JSON.stringify(shown.text)})`);
  // Only the page's own scripts may run: named by hash, no 'unsafe-inline', no inline handlers.
  const csp = await page.evaluate(() => ({
    policy: document.querySelector('meta[http-equiv="Content-Security-Policy"]').content,
    handlers: [...document.querySelectorAll("*")].filter((e) =>
      [...e.attributes].some((a) => a.name.startsWith("on"))).length,
  }));
  const scriptSrc = (csp.policy.match(/script-src([^;]*)/) || ["", ""])[1];
  check(!scriptSrc.includes("unsafe-inline") && /'sha256-[A-Za-z0-9+/]+=*'/.test(scriptSrc) &&
        csp.handlers === 0, `the CSP runs only the page's scripts, by hash (${scriptSrc.trim()})`);
  await page.fill("#filter", `func == connect and err == ECONNREFUSED`);
  await page.press("#filter", "Enter");
  const refused = await page.evaluate(() => window.__wstrace.listed());
  check(refused === 1, `err == ECONNREFUSED finds the refused connect (${refused})`);

  // The payload viewer: the send's bytes in hex and as text.
  await page.fill("#filter", 'payload startswith "GET "');
  await page.press("#filter", "Enter");
  await page.locator("#calls-table .row").first().click();
  const hex = await page.locator("#hex").innerText();
  const text = await page.locator("#payload-text").innerText();
  check(hex.includes("47 45 54 20 2f 68 65 6c"), "the payload viewer shows the send's bytes in hex");
  check(text.includes("GET /hello.txt HTTP/1.0"), "… and as text");

  // The HTTP tab: selecting the exchange shows its request and response, headers and all.
  await page.locator("#tabs button[data-tab=http]").click();
  await page.locator("#http-table .row").first().click();
  const exchange = await page.locator("#http-viewer").innerText();
  check(exchange.includes("GET /hello.txt HTTP/1.0") && exchange.includes("Host: wstrace.test"),
    "the HTTP viewer shows the request line and its headers");
  check(/HTTP\/1\.0 200 OK/.test(exchange) && /Content-Length: 19/i.test(exchange),
    "… and the response's status line and headers (Content-Length: 19)");
  const shotHttp = path.join(outDir, "report-http.png");
  await page.screenshot({ path: shotHttp });
  console.log("screenshot: " + shotHttp);

  // A finding's evidence links to its call.
  const links = await page.locator("a.call").count();
  if (links > 0) {
    await page.locator("#tabs button[data-tab=overview]").click();
    const seq = Number(await page.locator("a.call").first().getAttribute("data-seq"));
    await page.locator("a.call").first().click();
    const sel = await page.evaluate(() => window.__wstrace.selected());
    check(sel === seq, `a finding's evidence selects its call (seq ${seq})`);
  }
  check(problems.length === 0, "no console errors or network requests: " + problems.join("; "));
  const shot = path.join(outDir, "report-session.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log("screenshot: " + shot);
  await page.close();
}

async function tlsChecks(browser) {
  const { page, problems } = await open(browser, tlsHtml);
  // One handshake seen from both ends: the client's connection and the server's.
  const rows = await page.evaluate(() => window.__wstrace.tlsRows());
  check(rows === 2, `the TLS report has the handshake from both ends (${rows} rows)`);
  await page.locator("#tabs button[data-tab=tls]").click();
  const row = await page.locator("#tls-table .row").first().innerText();
  check(row.includes("sni.wstrace.test") && row.includes("h2, http/1.1"),
    `the TLS tab shows the server name and the ALPN offered (${row.replace(/\s+/g, " ")})`);
  check(row.includes("TLS 1.3") && /0x130[123]/.test(row), "… and the version and cipher the server chose");
  check(problems.length === 0, "no console errors on the TLS report: " + problems.join("; "));
  const shot = path.join(outDir, "report-tls.png");
  await page.screenshot({ path: shot });
  console.log("screenshot: " + shot);
  await page.close();
}

async function iocpChecks(browser) {
  const { page, problems } = await open(browser, iocpHtml);
  // The pending WSARecv: its details name the completion, a link that selects it.
  const recv = await page.evaluate(() => {
    for (let s = 0; s < 1000; s++) if (window.__wstrace.funcOf(s) === "WSARecv") return s;
    return -1;
  });
  check(recv >= 0, `the IOCP report has a WSARecv (seq ${recv})`);
  await page.evaluate((s) => window.__wstrace.goToSeq(s), recv);
  const pending = await page.locator("#viewer").innerText();
  check(pending.includes("WSA_IO_PENDING") && /completed by\s+seq \d+ GetQueuedCompletionStatus/.test(pending),
    "a pending WSARecv names the completion that finished it");
  // WSA_IO_PENDING is an outcome, not a failure: named so, its row not red.
  const rowClass = await page.locator("#calls-table .row.sel").first().getAttribute("class");
  check(/outcome\s+WSA_IO_PENDING/.test(pending) && !/\bfailed\b/.test(rowClass),
    `a pending call is an outcome, not a failure (row '${rowClass}')`);
  await page.locator("#viewer a.call").first().click();
  const done = await page.evaluate(() => window.__wstrace.selected());
  const completion = await page.locator("#viewer").innerText();
  check(done > recv && new RegExp(`completes\\s+seq ${recv} WSARecv`).test(completion),
    `… and its link selects the completion (seq ${done}), which names the WSARecv back`);
  // WSASend finished at once; the port still queued a completion packet, which names it.
  const send = await page.evaluate(() => {
    for (let s = 0; s < 1000; s++) if (window.__wstrace.funcOf(s) === "WSASend") return s;
    return -1;
  });
  await page.evaluate((s) => window.__wstrace.goToSeq(s), send);
  const sent = await page.locator("#viewer").innerText();
  check(send >= 0 && /completed by\s+seq \d+ GetQueuedCompletionStatus/.test(sent),
    `a WSASend that finished at once names the completion packet queued for it (seq ${send})`);
  check(problems.length === 0, "no console errors on the IOCP report: " + problems.join("; "));
  await page.close();
}

// `synth retransmissions`: an upload whose segments TCP sent again (the kernel engine's events):
// its lane's label is marked with the count, in the retransmissions' colour, and its row says it.
async function retransChecks(browser) {
  const { page, problems } = await open(browser, retransHtml);
  const lanes = await page.evaluate(() => window.__wstrace.lanes());
  const lane = lanes.find((l) => l.kind === "conn");
  check(lane && lane.retrans === 3 && lane.label.endsWith(" ⟳3"),
    `a connection with retransmissions is marked on its lane (${JSON.stringify(lane)})`);
  const tcp = lane ? await page.evaluate((id) => window.__wstrace.tcp(id), lane.id) : null;
  check(tcp && tcp.retrans === "3", `… and its row counts them (${JSON.stringify(tcp)})`);
  check(problems.length === 0, "no console errors on the retransmissions report: " + problems.join("; "));
  await page.close();
}

async function bigChecks(browser) {
  const { page, problems, loadMs } = await open(browser, bigHtml);
  const inPage = await page.evaluate(() => window.__wstrace.loadMs);
  const steps = await page.evaluate(() => window.__wstrace.timings.map(([s, ms]) => `${s} ${ms} ms`).join(", "));
  const n = await page.evaluate(() => window.__wstrace.calls());
  console.log(`1M-call report: ${n} calls, opened in ${loadMs} ms (script ${Math.round(inPage)} ms: ${steps})`);
  check(n >= 999000, `the big report holds its calls (${n})`);
  const lanes = await page.evaluate(() => window.__wstrace.drawnLanes());
  check(lanes > 0, `its timeline draws (${lanes} lanes in view)`);
  await page.locator("#tabs button[data-tab=calls]").click();
  const t0 = Date.now();
  await page.evaluate(() => { document.getElementById("calls-table").scrollTop = 18 * 600000; });
  await page.waitForFunction(() => {
    const rows = [...document.querySelectorAll("#calls-table .row")].filter((r) => r.style.display !== "none");
    return rows.length > 0 && Number(rows[0].firstChild.textContent) > 500000;
  }, null, { timeout: 10000 });
  const firstSeq = await page.evaluate(() => {
    const rows = [...document.querySelectorAll("#calls-table .row")].filter((r) => r.style.display !== "none");
    return Number(rows[0].firstChild.textContent);
  });
  console.log(`scrolled to seq ${firstSeq} in ${Date.now() - t0} ms`);
  check(firstSeq > 500000, "the call list scrolls to the middle of a million calls");
  const f0 = Date.now();
  await page.fill("#filter", "event == recv and bytes > 150 and tid == 4243");
  await page.press("#filter", "Enter");
  const listed = await page.evaluate(() => window.__wstrace.listed());
  console.log(`filter over ${n} calls: ${listed} listed in ${Date.now() - f0} ms`);
  check(listed > 0 && listed < n, "the filter narrows the big list");

  // Sorting all million calls by duration, one way then the other.
  await page.locator("#filter-clear").click();
  const sortBy = async (title) => {
    const t = Date.now();
    await page.locator("#calls-table .head div", { hasText: title }).first().click();
    return Date.now() - t;
  };
  const upMs = await sortBy("dur");
  const up = await page.evaluate(() => window.__wstrace.listedOrder(200));
  check(up.length === 200 && up.every((r, k) => k === 0 || up[k - 1][1] <= r[1]),
    `clicking 'dur' sorts the ${n} calls by duration, shortest first (${upMs} ms)`);
  const downMs = await sortBy("dur");
  const down = await page.evaluate(() => window.__wstrace.listedOrder(200));
  check(down.every((r, k) => k === 0 || down[k - 1][1] >= r[1]) && down[0][1] > up[0][1],
    `… and again, longest first (${downMs} ms)`);
  console.log(`sorted ${n} calls by duration in ${upMs} ms and ${downMs} ms`);
  check(problems.length === 0, "no console errors on the big report: " + problems.join("; "));
  const shot = path.join(outDir, "report-1M.png");
  await page.screenshot({ path: shot });
  console.log("screenshot: " + shot);
  await page.close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  try {
    await sessionChecks(browser);
    await tlsChecks(browser);
    await iocpChecks(browser);
    await retransChecks(browser);
    await bigChecks(browser);
  } catch (e) {
    failures++;
    console.error("FAIL: " + (e.stack || e));
  } finally {
    await browser.close();
  }
  console.log(failures ? `${failures} browser checks failed` : "browser checks passed");
  process.exit(failures ? 1 : 0);
})();
