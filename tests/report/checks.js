// What the browser tests of tests/report/ share: a check prints "ok: …" or "FAIL: …" and counts
// the failures.
"use strict";
const checks = { failures: 0 };
checks.check = (ok, what) => {
  if (ok) console.log("ok: " + what);
  else {
    checks.failures++;
    console.error("FAIL: " + what);
  }
};
module.exports = checks;
