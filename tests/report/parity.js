// The report's filter box against wstrace's own filter (run by run.sh):
//   node parity.js NODE_DIR CHROMIUM CASES_JSON
// CASES_JSON lists reports of recorded traces and, for each filter of parity_filters.txt, the
// seqs of the calls `wstrace export --filter` kept, or the caret line of its message when it
// refused the filter. Each report is opened in Chromium and every filter typed into its box
// (window.__wstrace.applyFilter): the calls listed must be exactly those, and a refused filter
// must be refused with the same caret line.
"use strict";
const fs = require("fs");
const path = require("path");

const [nodeDir, chromiumPath, casesFile] = process.argv.slice(2);
const { chromium } = require(path.join(nodeDir, "node_modules", "playwright-core"));
const cases = JSON.parse(fs.readFileSync(casesFile, "utf8"));

function describe(seqs, max = 8) {
  return seqs.length > max ? `${seqs.slice(0, max).join(",")},… (${seqs.length})` : `[${seqs.join(",")}]`;
}

(async () => {
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  let checked = 0, failures = 0, matched = 0, refused = 0;
  try {
    for (const c of cases) {
      const page = await browser.newPage();
      const problems = [];
      page.on("pageerror", (e) => problems.push(e.message));
      page.on("console", (m) => { if (m.type() === "error") problems.push(m.text()); });
      await page.goto("file://" + c.html, { timeout: 60000 });
      await page.waitForFunction(() => window.__wstrace !== undefined, null, { timeout: 60000 });
      const got = await page.evaluate((filters) => filters.map((f) => {
        try {
          return window.__wstrace.applyFilter(f)
            ? { seqs: window.__wstrace.listedSeqs(1e9) }
            : { error: window.__wstrace.filterError() };
        } catch (e) {
          return { crash: String(e && e.stack || e) };
        }
      }), c.results.map((r) => r[0]));
      c.results.forEach(([filter, want], k) => {
        const have = got[k];
        checked++;
        let why = "";
        if (have.crash) why = "the page threw: " + have.crash;
        else if (want.error !== undefined) {
          const caret = have.error === undefined ? null : have.error.split("\n").slice(1).join("\n");
          if (caret !== want.error) why = `wstrace refused it with\n    ${want.error}\n  the box ${caret === null ? "took it" : "said\n    " + caret}`;
          else refused++;
        } else if (have.seqs === undefined) {
          why = `wstrace took it (${want.seqs.length} calls), the box refused it:\n    ${have.error}`;
        } else {
          const a = new Set(want.seqs), b = new Set(have.seqs);
          const missing = want.seqs.filter((s) => !b.has(s)), extra = have.seqs.filter((s) => !a.has(s));
          if (missing.length || extra.length)
            why = `calls wstrace kept and the box did not: ${describe(missing)}; the box's extra: ${describe(extra)}`;
          else if (want.seqs.length) matched++;
        }
        if (why) {
          failures++;
          console.error(`FAIL: ${c.name}: ${filter}\n  ${why}`);
        }
      });
      if (problems.length) {
        failures++;
        console.error(`FAIL: ${c.name}: console errors: ${problems.join("; ")}`);
      }
      await page.close();
    }
  } catch (e) {
    failures++;
    console.error("FAIL: " + (e.stack || e));
  } finally {
    await browser.close();
  }
  console.log(`filter parity: ${checked} filter×trace pairs, ${matched} non-empty matches, ${refused} refusals alike, ${failures} differences`);
  process.exit(failures || !checked ? 1 : 0);
})();
