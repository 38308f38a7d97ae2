// The report page: reads the data inline in the page (report_html.cc writes it), then draws
// the overview, the timeline (canvas), the tables (virtualised: only the rows in view exist)
// and the call list with its filter box and payload viewer. No network, no libraries.
"use strict";

const T0 = performance.now();
const timings = [];  // [step, ms since the script started]: how the page spent its opening
const mark = (step) => timings.push([step, Math.round(performance.now() - T0)]);
const D = JSON.parse(document.getElementById("wstrace-data").textContent);
mark("parse");

// The positions of a table's columns in its rows, by name: the data lists every table's columns
// ("columns": report_html.cc writes them with the rows, from one list). A name the data lacks
// throws as the page opens, so that a column renamed or dropped on one side cannot go unseen.
function columnsOf(table, names) {
  const cols = (D.columns || {})[table];
  if (!cols) throw new Error(`the report's data has no table '${table}'`);
  const at = {};
  for (const n of names) {
    at[n] = cols.indexOf(n);
    if (at[n] < 0) throw new Error(`the report's data has no column '${n}' in '${table}'`);
  }
  return at;
}
// The rows of a small table as objects with the named columns.
function records(table, names, rows) {
  const at = columnsOf(table, names);
  return rows.map((r) => Object.fromEntries(names.map((n) => [n, r[at[n]]])));
}

// Positions in a connection's array (write_conns), a lookup's (write_lookups), an HTTP
// exchange's (write_http), a TLS connection's hellos (write_tls) and a thread's.
const C = columnsOf("conns", ["id", "pid", "tid", "kind", "role", "local", "remote", "host",
  "opened", "closed", "last", "bytes_out", "bytes_in", "calls_out", "calls_in", "errors", "end",
  "end_error", "in_report", "rtt", "min_rtt", "retrans", "retrans_bytes", "tcp_final"]);
const L = columnsOf("lookups", ["seq", "ts", "dur", "pid", "tid", "via", "name", "asked",
  "answers", "ok", "result"]);
const H = columnsOf("http", ["conn", "host", "method", "target", "status", "reason", "req_body",
  "resp_body", "start", "ttfb", "total", "req_version", "req_end", "req_headers",
  "resp_version", "resp_end", "resp_headers"]);
const TL = columnsOf("tls", ["conn", "pid", "ts", "sni", "alpn", "offered", "suites", "version",
  "alpn_chosen", "cipher", "problem"]);
const TH = columnsOf("threads", ["pid", "tid", "name"]);

// ---------------------------------------------------------------- the calls, as typed columns
// The columns grow as a live view's parts come (appendCalls); `n` calls are in use, `cap` made.
const CALL_COLUMNS = { seq: Float64Array, ts: Float64Array, dur: Float64Array, thread: Int32Array,
  func: Int32Array, conn: Float64Array, result: Float64Array, error: Int32Array,
  bytes: Float64Array, sock: Float64Array, sock2: Float64Array, args: Int32Array,
  facts: Int32Array, kept: Int32Array, total: Float64Array, link: Float64Array };
const calls = { n: 0, cap: 0, payOff: new Float64Array(1), payload: new Uint8Array(0), payLen: 0 };
for (const [name, Type] of Object.entries(CALL_COLUMNS)) calls[name] = new Type(0);
// The event table's fields, as written (write_calls), over every call held; read when filtered.
// Per field: the positions of the calls that have it (ascending) and its values.
const rawColumns = {};
// Texts of calls read again from the trace (a live view's older calls) that the data's string
// table has not: string id -1 - k is extraStrings[k].
const extraStrings = [], extraStringId = new Map();
const textOf = (id) => (id >= 0 ? S[id] : extraStrings[-1 - id]);
function reserveCalls(n) {
  if (n <= calls.cap) return;
  const cap = Math.max(n, calls.cap * 2, 1024);
  for (const [name, Type] of Object.entries(CALL_COLUMNS)) {
    const col = new Type(cap);
    col.set(calls[name].subarray(0, calls.n));
    calls[name] = col;
  }
  const off = new Float64Array(cap + 1);
  off.set(calls.payOff.subarray(0, calls.n + 1));
  calls.payOff = off;
  calls.cap = cap;
}
// Adds the calls of `c` (write_calls' layout) and their payloads (base64) after those held, or
// before them when `front`. `remap` (calls read again from the trace: their own tables) turns
// their table indices into the page's: {strings(id), error(e), facts(f), thread(t), texts: the
// raw fields holding string ids}.
function addCalls(c, payload64, front, remap) {
  const m = c.n, held = calls.n, n = held + m;
  reserveCalls(n);
  const base = front ? 0 : held;
  if (front && m) {
    for (const name of Object.keys(CALL_COLUMNS)) calls[name].copyWithin(m, 0, held);
    for (const r of Object.values(rawColumns)) for (let k = 0; k < r.at.length; k++) r.at[k] += m;
    if (callsTable.selected >= 0) callsTable.selected += m;  // (the same call stays selected)
  }
  const undelta = (a, col) => {
    let acc = 0;
    for (let i = 0; i < m; i++) col[base + i] = acc += a[i];
  };
  // A column is an array, or {d, at, v}: the usual value d, and the others at positions
  // given as differences (write_calls in report_html.cc).
  const fill = (a, col) => {
    if (Array.isArray(a)) {
      for (let i = 0; i < m; i++) col[base + i] = a[i];
      return;
    }
    col.fill(a.d, base, base + m);
    let at = 0;
    for (let k = 0; k < a.at.length; k++) col[base + (at += a.at[k])] = a.v[k];
  };
  undelta(c.seq, calls.seq);
  undelta(c.ts, calls.ts);
  for (const name of Object.keys(CALL_COLUMNS))
    if (name !== "seq" && name !== "ts") fill(c[name], calls[name]);
  for (const [name, r] of Object.entries(c.raw)) {
    const dst = rawColumns[name] || (rawColumns[name] = { at: [], v: [] });
    const at = [], v = r.v;
    let pos = base;
    for (let k = 0; k < r.at.length; k++) at.push((pos += r.at[k]));
    if (remap && remap.texts.has(name)) for (let k = 0; k < v.length; k++) v[k] = remap.strings(v[k]);
    if (front) dst.at = at.concat(dst.at), dst.v = v.concat(dst.v);
    else for (let k = 0; k < at.length; k++) dst.at.push(at[k]), dst.v.push(v[k]);
  }
  if (remap) {
    for (let i = base; i < base + m; i++) {
      calls.args[i] = remap.strings(calls.args[i]);
      calls.error[i] = remap.error(calls.error[i]);
      calls.facts[i] = remap.facts(calls.facts[i]);
      calls.thread[i] = remap.thread(calls.thread[i]);
    }
  }
  const bin = atob(payload64);
  if (calls.payLen + bin.length > calls.payload.length) {
    const bytes = new Uint8Array(Math.max(calls.payLen + bin.length, calls.payload.length * 2));
    bytes.set(calls.payload.subarray(0, calls.payLen));
    calls.payload = bytes;
  }
  const payAt = front ? 0 : calls.payLen;
  if (front) calls.payload.copyWithin(bin.length, 0, calls.payLen);
  for (let i = 0; i < bin.length; i++) calls.payload[payAt + i] = bin.charCodeAt(i);
  calls.payLen += bin.length;
  calls.n = n;
  for (let i = base; i < n; i++) calls.payOff[i + 1] = calls.payOff[i] + calls.kept[i];
}
const appendCalls = (c, payload64) => addCalls(c, payload64, false, null);
// Forgets `k` of the calls held: the first ones, or the last ones unless `front`.
function dropCalls(k, front) {
  k = Math.min(k, calls.n);
  const n = calls.n - k;
  if (front) {
    for (const name of Object.keys(CALL_COLUMNS)) calls[name].copyWithin(0, k, calls.n);
    const cut = calls.payOff[k];
    calls.payload.copyWithin(0, cut, calls.payLen);
    calls.payLen -= cut;
    for (let i = 0; i <= n; i++) calls.payOff[i] = calls.payOff[i + k] - cut;
  } else {
    calls.payLen = calls.payOff[n];
  }
  for (const r of Object.values(rawColumns)) {
    const at = [], v = [];
    for (let j = 0; j < r.at.length; j++) {
      const p = r.at[j];
      if (front ? p >= k : p < n) at.push(front ? p - k : p), v.push(r.v[j]);
    }
    r.at = at, r.v = v;
  }
  calls.n = n;
  const sel = callsTable.selected - (front ? k : 0);  // (the same call stays selected, if held)
  callsTable.selected = sel >= 0 && sel < n ? sel : -1;
}
appendCalls(D.calls, D.payload);
D.calls = null;
D.payload = null;
mark("columns");

const funcEvent = D.func_events;
let procs = records("procs", ["pid", "ppid", "name", "image", "cmdline", "exit_code", "calls",
  "failed"], D.procs);
let procByPid = new Map(procs.map((p) => [p.pid, p]));
const connById = new Map(D.conns.map((c) => [c[C.id], c]));
const errorRows = records("errors", ["name", "posix", "value", "meaning", "domain", "outcome"],
  D.errors);
// A call failed when its error is not an outcome (would-block, in progress, pending: the
// report_data's ErrorRow says which, from inspect's one classification); only failures are red.
// Errors of calls read again from the trace (a live view's older calls): error -1 - k is
// extraErrors[k] (the data's table stays as the live view's parts number it).
const extraErrors = [];
const errorOf = (e) => (e >= 0 ? errorRows[e] : extraErrors[-1 - e]);
const failedCall = (i) => calls.error[i] !== 0 && !errorOf(calls.error[i]).outcome;
const S = D.strings;

// ---------------------------------------------------------------- text helpers
function esc(s) {
  return String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
}
function fmtDur(ns) {
  if (ns < 0) return "";
  if (ns < 1e3) return ns + "ns";
  if (ns < 1e6) return (ns / 1e3).toFixed(ns < 1e4 ? 1 : 0) + "us";
  if (ns < 1e9) return (ns / 1e6).toFixed(ns < 1e7 ? 2 : 1) + "ms";
  return (ns / 1e9).toFixed(3) + "s";
}
function fmtRel(ns) { return ns < 0 ? "" : "+" + (ns / 1e9).toFixed(6); }
function fmtClock(ns) {
  if (ns < 0) return "";
  const ms = D.meta.start_ms + Math.floor((D.meta.start_ns_in_ms + ns) / 1e6);
  const us = Math.floor((D.meta.start_ns_in_ms + ns) / 1e3) % 1000;
  const d = new Date(ms);
  return d.toISOString().slice(11, 23) + String(us).padStart(3, "0");
}
function fmtBytes(b) {
  if (b < 1024) return b + " B";
  if (b < 1 << 20) return (b / 1024).toFixed(1) + " KiB";
  return (b / 1048576).toFixed(1) + " MiB";
}
function threadText(t) {
  const th = D.threads[t], pid = th[TH.pid], name = th[TH.name];
  const p = procByPid.get(pid);
  return `${p ? p.name : "pid"}[${pid}/${th[TH.tid]}]${name ? " " + name : ""}`;
}
function callText(i) {
  return `${D.funcs[calls.func[i]]}(${textOf(calls.args[i])}) = ${calls.result[i]}`;
}
function seqToIndex(seq) {
  let lo = 0, hi = calls.n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (calls.seq[mid] < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo < calls.n && calls.seq[lo] === seq ? lo : -1;
}
function el(tag, attrs, html) {
  const e = document.createElement(tag);
  Object.assign(e, attrs || {});
  if (html !== undefined) e.innerHTML = html;
  return e;
}

function connEnd(c) { return c[C.closed] >= 0 ? c[C.closed] : Math.max(c[C.last], c[C.opened]); }
const threadIndex = new Map(D.threads.map((th, k) => [th[TH.pid] * 4294967296 + th[TH.tid], k]));
function threadIndexOf(pid, tid) {
  const k = threadIndex.get(pid * 4294967296 + tid);
  if (k !== undefined) return k;
  const th = [];
  th[TH.pid] = pid, th[TH.tid] = tid, th[TH.name] = "";
  D.threads.push(th);
  threadIndex.set(pid * 4294967296 + tid, D.threads.length - 1);
  return D.threads.length - 1;
}

// ---------------------------------------------------------------- the filter's view of a call
// filter.js compiles the language; these give it each call's values (see compileFilter).
const filterCtx = (() => {
  const fl = D.filter;
  // The language as wstrace describes it (write_filter): fields, the names of their constants,
  // the kinds of values and the operators each takes.
  const fields = records("filter_fields", ["name", "kind", "signed", "max", "desc", "noun", "names",
    "refused", "own"], fl.fields);
  for (const f of fields) f.names = records("filter_names", ["code", "name", "brief"], f.names);
  const kinds = new Map(records("filter_kinds", ["name", "desc", "ops", "fits"], fl.kinds)
    .map((k) => [k.name, k]));
  // What the filter sees beyond a call's own fields, shared by many calls (write_facts).
  const facts = [], extraFacts = [];  // (facts -1 - k: extraFacts[k], as errors and strings)
  const factKeys = [], extraFactKeys = [];  // each row as the data had it (JSON), to match it
  const addFacts = (rows, into = facts, keys = factKeys) => {
    for (const r of rows) keys.push(JSON.stringify(r));
    for (const { family, proto, lip, lport, rip, rport, host, proc } of records("facts",
      ["family", "proto", "lip", "lport", "rip", "rport", "host", "proc"], rows)) {
      const l = lip ? parseIpBytes(lip) : null, r = rip ? parseIpBytes(rip) : null;
      into.push({
        family: family < 0 ? null : family, proto: proto || null,
        lip: l ? [l] : null, rip: r ? [r] : null, ip: l || r ? [l, r].filter((x) => x) : null,
        lport: l ? [lport] : [], rport: r ? [rport] : [],
        port: [...(l ? [lport] : []), ...(r ? [rport] : [])],
        host: host ? lowerAscii(host) : null, proc: proc ? lowerAscii(proc) : null,
      });
    }
  };
  addFacts(D.facts);
  const factsOf = (i) => (calls.facts[i] >= 0 ? facts[calls.facts[i]] : extraFacts[-1 - calls.facts[i]]);
  // The event a function belongs to, by code (func_events names it).
  const eventCode = new Map(fields.find((f) => f.name === "event").names
    .map((n) => [n.name, n.code]));
  const funcEventCode = Int32Array.from(funcEvent, (name) => eventCode.get(name));
  const errorKey = [], extraErrorKey = [];
  const addErrors = (rows, into = errorKey) => {
    for (const e of rows) into.push(e.name ? e.domain + ":" + e.value : null);
  };
  addErrors(errorRows);
  // Texts compared without regard to ASCII case: each string of the table lowered once.
  const lowered = new Map();
  const lowerString = (id) => {
    let v = lowered.get(id);
    if (v === undefined) lowered.set(id, (v = lowerAscii(textOf(id))));
    return v;
  };
  const nums = (list) => (i, out) => {
    const xs = list(i);
    for (let a = 0; a < xs.length; a++) out[a] = xs[a];
    return xs.length;
  };
  const own = {
    pid: (i, out) => ((out[0] = D.threads[calls.thread[i]][TH.pid]), 1),
    tid: (i, out) => ((out[0] = D.threads[calls.thread[i]][TH.tid]), 1),
    sock: (i, out) => {
      if (calls.sock[i] < 0) return 0;
      out[0] = calls.sock[i];
      if (calls.sock2[i] < 0) return 1;
      out[1] = calls.sock2[i];
      return 2;
    },
    conn: (i, out) => (calls.conn[i] ? ((out[0] = calls.conn[i]), 1) : 0),
    ret: (i, out) => ((out[0] = calls.result[i]), 1),
    bytes: (i, out) => (calls.bytes[i] < 0 ? 0 : ((out[0] = calls.bytes[i]), 1)),
    dur: (i, out) => ((out[0] = calls.dur[i]), 1),
    port: nums((i) => factsOf(i).port),
    lport: nums((i) => factsOf(i).lport),
    rport: nums((i) => factsOf(i).rport),
    failed: (i) => calls.error[i] !== 0,
    func: (i) => calls.func[i],
    event: (i) => funcEventCode[calls.func[i]],
    family: (i) => factsOf(i).family,
    proto: (i) => factsOf(i).proto,
    proc: (i) => factsOf(i).proc,
    host: (i) => factsOf(i).host,
    err: (i) => (calls.error[i] >= 0 ? errorKey[calls.error[i]] : extraErrorKey[-1 - calls.error[i]]),
    ip: (i) => factsOf(i).ip,
    lip: (i) => factsOf(i).lip,
    rip: (i) => factsOf(i).rip,
    payload: (i) => {
      if (!calls.total[i] && !calls.kept[i]) return null;
      const bytes = calls.payload.subarray(calls.payOff[i], calls.payOff[i + 1]);
      return { bytes, whole: calls.kept[i] === calls.total[i] };
    },
  };
  // The event table's fields: a value per call that has it (write_calls' "raw").
  // Built when a filter first names the field: NaN where a call does not have it.
  const rawColumn = new Map();
  const raw = (name, kind) => {
    let col = rawColumn.get(name);
    if (col === undefined) {
      col = null;
      const r = rawColumns[name];
      if (r) {
        col = new Float64Array(calls.n).fill(NaN);
        for (let k = 0; k < r.at.length; k++) col[r.at[k]] = r.v[k];
      }
      rawColumn.set(name, col);
    }
    if (kind === "number" || kind === "duration") {
      if (col === null) return () => 0;
      return (i, out) => {
        const v = col[i];
        if (v !== v) return 0;  // NaN: the call does not have it
        out[0] = v;
        return 1;
      };
    }
    if (col === null) return () => null;
    if (kind === "text") return (i) => (col[i] !== col[i] ? null : lowerString(col[i]));
    return (i) => (col[i] !== col[i] ? null : col[i]);
  };
  return {
    fields,
    kinds,
    errors: records("all_errors", ["name", "posix", "domain", "value"], D.all_errors),
    errorAliases: records("error_aliases", ["alias", "name"], D.error_aliases),
    errorDomains: fl.error_domains,
    getter: (name, kind) => own[name] || raw(name, kind),
    // A live view's part came: its interned rows, and more calls (the field columns built so
    // far are short of them).
    addFacts,
    // Those of calls read again from the trace: where they start among the extra ones.
    addExtraFacts: (rows) => {
      const base = extraFacts.length;
      addFacts(rows, extraFacts, extraFactKeys);
      return base;
    },
    // A live view's facts table starts again as `rows`: empties the tables and gives how an old
    // index becomes a new one — the new table's row of the same facts, else an extra row (the
    // extra rows made again from those asked for).
    restartFacts: (rows) => {
      const at = new Map(rows.map((r, k) => [JSON.stringify(r), k]));
      const was = { facts: facts.slice(), keys: factKeys.slice(), extra: extraFacts.slice(),
        extraKeys: extraFactKeys.slice() };
      facts.length = factKeys.length = extraFacts.length = extraFactKeys.length = 0;
      const extraAt = new Map();
      return (id) => {
        const key = id >= 0 ? was.keys[id] : was.extraKeys[-1 - id];
        const k = at.get(key);
        if (k !== undefined) return k;
        let e = extraAt.get(key);
        if (e === undefined) {
          extraFacts.push(id >= 0 ? was.facts[id] : was.extra[-1 - id]);
          extraFactKeys.push(key);
          extraAt.set(key, (e = -extraFacts.length));
        }
        return e;
      };
    },
    forgetTexts: () => lowered.clear(),  // (string ids renumbered)
    factsOf,
    addExtraErrors: (rows) => addErrors(rows, extraErrorKey),
    // The raw fields whose values are string ids.
    textFields: new Set(fields.filter((f) => f.kind === "text").map((f) => f.name)),
    addErrors,
    forgetRaw: () => rawColumn.clear(),
  };
})();

// ---------------------------------------------------------------- virtualised tables
// columns: [{title, width, num, text(row), key(row) for sorting (absent: not sortable)}]
class VirtualTable {
  constructor(box, columns, opts) {
    this.box = box;
    this.columns = columns;
    this.rowH = 18;
    this.rows = new Int32Array(0);  // what each line shows (an index into the source)
    this.selected = -1;
    this.onSelect = opts.onSelect || (() => {});
    this.rowClass = opts.rowClass || (() => "");
    this.head = el("div", { className: "head" });
    this.spacer = el("div");
    this.layer = el("div");
    box.append(this.head, this.spacer, this.layer);
    this.width = columns.reduce((w, c) => w + c.width, 0);
    this.head.style.width = this.width + "px";
    this.sortCol = -1;
    this.sortDir = 1;
    columns.forEach((c, k) => {
      const h = el("div", { textContent: c.title, title: c.key ? "sort" : "" });
      h.style.width = c.width + "px";
      if (c.num) h.style.textAlign = "right";
      if (c.key) h.addEventListener("click", () => this.sortBy(k));
      this.head.append(h);
    });
    this.pool = [];
    box.addEventListener("scroll", () => this.render());
    this.layer.addEventListener("click", (e) => {
      const r = e.target.closest(".row");
      if (r && r.dataset.at !== undefined) this.select(Number(r.dataset.at), false);
    });
  }
  setRows(rows) {
    this.rows = rows;
    if (this.sortCol >= 0) this.applySort();
    this.spacer.style.height = rows.length * this.rowH + "px";
    this.spacer.style.width = this.width + "px";
    this.render();
  }
  sortBy(k) {
    this.sortDir = this.sortCol === k ? -this.sortDir : 1;
    this.sortCol = k;
    this.applySort();
    [...this.head.children].forEach((h, j) => {
      h.textContent = this.columns[j].title + (j === k ? (this.sortDir > 0 ? " ▲" : " ▼") : "");
    });
    this.render();
  }
  // Sorts the rows by the column's key, ties in source order; numeric keys go through a typed
  // array, so that a million calls sort in well under a second.
  applySort() {
    const key = this.columns[this.sortCol].key, dir = this.sortDir;
    const rows = this.rows, n = rows.length;
    const numeric = n === 0 || typeof key(rows[0]) === "number";
    const keys = numeric ? new Float64Array(n) : new Array(n);
    for (let p = 0; p < n; p++) keys[p] = key(rows[p]);
    const order = new Int32Array(n);
    for (let p = 0; p < n; p++) order[p] = p;
    order.sort((a, b) => {
      const x = keys[a], y = keys[b];
      return x < y ? -dir : x > y ? dir : rows[a] - rows[b];
    });
    this.rows = Int32Array.from(order, (p) => rows[p]);
  }
  // The line that shows source row `row`, or -1.
  lineOf(row) { return this.rows.indexOf(row); }
  select(line, scroll) {
    if (line < 0 || line >= this.rows.length) return;
    this.selected = this.rows[line];
    if (scroll) {
      const top = line * this.rowH;
      if (top < this.box.scrollTop || top > this.box.scrollTop + this.box.clientHeight - 2 * this.rowH)
        scrolledAt = performance.now(), this.box.scrollTop = Math.max(0, top - this.box.clientHeight / 2);
    }
    this.render();
    this.onSelect(this.selected);
  }
  render() {
    const headH = this.head.offsetHeight;
    const first = Math.max(0, Math.floor((this.box.scrollTop) / this.rowH) - 2);
    const count = Math.ceil(this.box.clientHeight / this.rowH) + 4;
    const last = Math.min(this.rows.length, first + count);
    while (this.pool.length < count) {
      const r = el("div", { className: "row" });
      r.style.width = this.width + "px";
      for (const c of this.columns) {
        const cell = el("div", { className: "cell" + (c.num ? " num" : "") });
        cell.style.width = c.width + "px";
        r.append(cell);
      }
      this.layer.append(r);
      this.pool.push(r);
    }
    this.pool.forEach((r, k) => {
      const line = first + k;
      if (line >= last) {
        r.style.display = "none";
        return;
      }
      const row = this.rows[line];
      r.style.display = "";
      r.style.top = headH + line * this.rowH + "px";
      r.dataset.at = line;
      r.className = "row " + this.rowClass(row) + (row === this.selected ? " sel" : "");
      this.columns.forEach((c, j) => {
        const t = c.text(row);
        const cell = r.children[j];
        if (cell.textContent !== t) cell.textContent = t;
        cell.title = t.length > 30 ? t : "";
      });
    });
  }
  // The lines drawn right now (the test hook counts them).
  visibleLines() {
    return this.pool.filter((r) => r.style.display !== "none").length;
  }
}

const range = (n) => {
  const a = new Int32Array(n);
  for (let i = 0; i < n; i++) a[i] = i;
  return a;
};

// ---------------------------------------------------------------- tabs
function showTab(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("on", b.dataset.tab === name));
  document.querySelectorAll(".tab").forEach((t) => t.classList.toggle("on", t.id === "tab-" + name));
  const t = tables[name];
  if (t) t.render();
}
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showTab(b.dataset.tab)));

// ---------------------------------------------------------------- the call list and its viewer
const callsTable = new VirtualTable(document.getElementById("calls-table"), [
  { title: "seq", width: 70, num: true, text: (i) => String(calls.seq[i]), key: (i) => calls.seq[i] },
  { title: "time", width: 90, text: (i) => fmtRel(calls.ts[i]), key: (i) => calls.ts[i] },
  { title: "thread", width: 140, text: (i) => threadText(calls.thread[i]), key: (i) => calls.thread[i] },
  { title: "conn", width: 50, num: true, text: (i) => (calls.conn[i] ? "#" + calls.conn[i] : ""), key: (i) => calls.conn[i] },
  { title: "error", width: 110, text: (i) => (calls.error[i] ? errorOf(calls.error[i]).name : ""), key: (i) => errorOf(calls.error[i]).name },
  { title: "dur", width: 60, num: true, text: (i) => fmtDur(calls.dur[i]), key: (i) => calls.dur[i] },
  { title: "call", width: 900, text: callText, key: (i) => D.funcs[calls.func[i]] },
], { onSelect: showCall, rowClass: (i) => (failedCall(i) ? "failed" : "") });

function hexDump(bytes) {
  let out = "";
  for (let off = 0; off < bytes.length; off += 16) {
    const row = bytes.subarray(off, off + 16);
    let hex = "", asc = "";
    for (let j = 0; j < 16; j++) {
      hex += j < row.length ? row[j].toString(16).padStart(2, "0") + " " : "   ";
      if (j === 7) hex += " ";
      if (j < row.length) asc += row[j] >= 32 && row[j] < 127 ? String.fromCharCode(row[j]) : ".";
    }
    out += off.toString(16).padStart(8, "0") + "  " + hex + " |" + asc + "|\n";
  }
  return out;
}

// An overlapped call and its completion, each a link to the other.
function linkText(i) {
  const seq = calls.link[i];
  if (!seq) return "";
  const done = funcEvent[calls.func[i]] === "io_complete";
  const j = seqToIndex(seq);
  const other = j < 0 ? `seq ${seq} (not in this report)`
    : `<a class="call" data-seq="${seq}">seq ${seq}</a> ${esc(D.funcs[calls.func[j]])}, ${fmtDur(Math.abs(calls.ts[i] - calls.ts[j]))} ${done ? "earlier" : "later"}`;
  return `<dt>${done ? "completes" : "completed by"}</dt><dd>${other}</dd>`;
}

function showCall(i) {
  const v = document.getElementById("viewer");
  const e = calls.error[i] ? errorOf(calls.error[i]) : null;
  const bytes = calls.payload.subarray(calls.payOff[i], calls.payOff[i + 1]);
  const total = calls.total[i];
  let html = `<div class="mono"><b>${esc(D.funcs[calls.func[i]])}</b>(${esc(textOf(calls.args[i]))}) = ${calls.result[i]}</div>
    <dl class="kv">
    <dt>seq</dt><dd>${calls.seq[i]}</dd>
    <dt>time</dt><dd>${fmtClock(calls.ts[i])} UTC (${fmtRel(calls.ts[i])}s)</dd>
    <dt>thread</dt><dd>${esc(threadText(calls.thread[i]))}</dd>
    <dt>connection</dt><dd>${calls.conn[i] ? `<a class="conn" data-conn="${calls.conn[i]}">#${calls.conn[i]}</a> ${esc(connText(calls.conn[i]))}` : "none"}</dd>
    <dt>duration</dt><dd>${fmtDur(calls.dur[i])}</dd>
    ${linkText(i)}
    ${e ? `<dt>${e.outcome ? "outcome" : "error"}</dt><dd${e.outcome ? "" : ' style="color:var(--err)"'}>${esc(e.name)}${e.meaning ? ": " + esc(e.meaning) : ""}</dd>` : ""}
    </dl>`;
  if (total || bytes.length) {
    const cut = bytes.length < total ? ` (${bytes.length} of ${total} bytes kept)` : ` (${total} bytes)`;
    const text = Array.from(bytes, (b) => (b === 10 || b === 9 || (b >= 32 && b < 127) ? String.fromCharCode(b) : b === 13 ? "" : "·")).join("");
    html += `<h2>Payload${cut}</h2><pre id="hex">${esc(hexDump(bytes))}</pre><h2>As text</h2><pre class="text" id="payload-text">${esc(text)}</pre>`;
  } else {
    html += `<p class="muted">No payload.</p>`;
  }
  v.innerHTML = html;
}

function connText(id) {
  const c = connById.get(id);
  if (!c) return "";
  return `${c[C.kind]} ${c[C.role]} ${c[C.local] || "-"} → ${c[C.remote] || "-"}${c[C.host] ? " (" + c[C.host] + ")" : ""}`;
}

const filterBox = document.getElementById("filter");
let filtered = range(calls.n);
let filterFn = null;  // the filter applied, for the calls a live view's parts bring
let onFilter = null;  // the live view's: a filter was applied (it may fetch older calls)
function applyFilter(text) {
  filterBox.value = text;
  const errBox = document.getElementById("filter-error");
  const t = performance.now();
  if (text.trim() === "") {
    filtered = range(calls.n);
    filterFn = null;
  } else {
    let fn;
    try {
      fn = compileFilter(text, filterCtx);
    } catch (e) {
      if (!(e instanceof FilterError)) throw e;
      errBox.textContent = e.message;
      errBox.hidden = false;
      filterBox.classList.add("bad");
      return false;
    }
    const out = new Int32Array(calls.n);
    let m = 0;
    for (let i = 0; i < calls.n; i++) if (fn(i)) out[m++] = i;
    filtered = out.slice(0, m);
    filterFn = text;
  }
  errBox.hidden = true;
  filterBox.classList.remove("bad");
  scrolledAt = performance.now();
  callsTable.box.scrollTop = 0;
  callsTable.setRows(filtered);
  countText(t);
  if (onFilter) onFilter(filterFn === null ? "" : filterFn);
  return true;
}
// The calls held changed (a live view dropped or fetched some; `first` calls were added at the
// front): listed again under the filter, the list staying on the calls it showed.
let scrolledAt = 0;  // when the page last moved the list itself (not the user)
function relist(first) {
  const fn = filterFn === null ? null : compileFilter(filterFn, filterCtx);
  const out = new Int32Array(calls.n);
  let m = 0, before = 0;
  for (let i = 0; i < calls.n; i++) {
    if (fn !== null && !fn(i)) continue;
    out[m++] = i;
    if (i < first) before++;
  }
  filtered = out.slice(0, m);
  const box = callsTable.box;
  const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 2 * callsTable.rowH;
  callsTable.setRows(filtered);
  scrolledAt = performance.now();
  if (before) box.scrollTop += before * callsTable.rowH;
  else if (atEnd) box.scrollTop = box.scrollHeight;
  countText();
}
function countText(t) {
  document.getElementById("filter-count").textContent = filterFn === null
    ? `${calls.n.toLocaleString()} calls`
    : `${filtered.length.toLocaleString()} of ${calls.n.toLocaleString()} calls` +
      (t === undefined ? "" : ` (${Math.round(performance.now() - t)} ms)`);
}
// The calls from `from` on came (a live view's part): listed when they pass the filter.
function listMore(from) {
  let fn = null;
  if (filterFn !== null) fn = compileFilter(filterFn, filterCtx);  // (its columns grew)
  const more = new Int32Array(calls.n - from);
  let m = 0;
  for (let i = from; i < calls.n; i++) if (fn === null || fn(i)) more[m++] = i;
  const rows = new Int32Array(filtered.length + m);
  rows.set(filtered);
  rows.set(more.subarray(0, m), filtered.length);
  filtered = rows;
  const box = callsTable.box;
  const atEnd = box.scrollTop + box.clientHeight >= box.scrollHeight - 2 * callsTable.rowH;
  callsTable.setRows(filtered);
  if (atEnd && m) scrolledAt = performance.now(), box.scrollTop = box.scrollHeight;
  countText();
}
filterBox.addEventListener("keydown", (e) => { if (e.key === "Enter") applyFilter(filterBox.value); });
document.getElementById("filter-clear").addEventListener("click", () => applyFilter(""));

// Shows the call with this seq in the list (clearing a filter that hides it).
function goToSeq(seq) {
  const i = seqToIndex(seq);
  if (i < 0) return false;
  showTab("calls");
  let line = callsTable.lineOf(i);
  if (line < 0) {
    applyFilter("");
    line = callsTable.lineOf(i);
  }
  callsTable.select(line, true);
  return true;
}
function showConnCalls(id) {
  showTab("calls");
  applyFilter(`conn == ${id}`);
  if (filtered.length) callsTable.select(0, true);
}
document.body.addEventListener("click", (e) => {
  const a = e.target.closest("a.call, a.conn");
  if (!a) return;
  if (a.dataset.seq !== undefined) goToSeq(Number(a.dataset.seq));
  else showConnCalls(Number(a.dataset.conn));
});

// ---------------------------------------------------------------- connections, lookups, HTTP
let inReport = D.conns.filter((c) => c[C.in_report]);
const rttText = (c) => (c[C.rtt] === null ? "" : fmtDur(c[C.rtt]) + (c[C.min_rtt] === null ? "" : ` (${fmtDur(c[C.min_rtt])})`));
const retransText = (c) => (c[C.retrans] === null ? "" : String(c[C.retrans]) + (c[C.tcp_final] === 0 ? " partial" : ""));
const connTable = new VirtualTable(document.getElementById("conns-table"), [
  { title: "id", width: 50, num: true, text: (r) => "#" + inReport[r][C.id], key: (r) => inReport[r][C.id] },
  { title: "process", width: 140, text: (r) => threadText(threadIndexOf(inReport[r][C.pid], inReport[r][C.tid])), key: (r) => inReport[r][C.pid] },
  { title: "kind", width: 50, text: (r) => inReport[r][C.kind], key: (r) => inReport[r][C.kind] },
  { title: "role", width: 70, text: (r) => inReport[r][C.role], key: (r) => inReport[r][C.role] },
  { title: "local", width: 150, text: (r) => inReport[r][C.local], key: (r) => inReport[r][C.local] },
  { title: "remote", width: 150, text: (r) => inReport[r][C.remote], key: (r) => inReport[r][C.remote] },
  { title: "host", width: 130, text: (r) => inReport[r][C.host], key: (r) => inReport[r][C.host] },
  { title: "opened", width: 90, text: (r) => fmtRel(inReport[r][C.opened]), key: (r) => inReport[r][C.opened] },
  { title: "duration", width: 70, num: true, text: (r) => fmtDur(connEnd(inReport[r]) - inReport[r][C.opened]), key: (r) => connEnd(inReport[r]) - inReport[r][C.opened] },
  { title: "sent", width: 110, num: true, text: (r) => `${inReport[r][C.bytes_out]}/${inReport[r][C.calls_out]}`, key: (r) => inReport[r][C.bytes_out] },
  { title: "received", width: 110, num: true, text: (r) => `${inReport[r][C.bytes_in]}/${inReport[r][C.calls_in]}`, key: (r) => inReport[r][C.bytes_in] },
  { title: "end", width: 150, text: (r) => inReport[r][C.end] + (inReport[r][C.end_error] ? ` (${inReport[r][C.end_error]})` : ""), key: (r) => inReport[r][C.end] },
  { title: "errors", width: 50, num: true, text: (r) => String(inReport[r][C.errors]), key: (r) => inReport[r][C.errors] },
  // The agent's TCP statistics: smoothed RTT (min), retransmissions; "partial" when not read at close.
  { title: "rtt (min)", width: 110, num: true, text: (r) => rttText(inReport[r]), key: (r) => inReport[r][C.rtt] ?? -1 },
  { title: "retrans", width: 80, num: true, text: (r) => retransText(inReport[r]), key: (r) => inReport[r][C.retrans] ?? -1 },
], { onSelect: (r) => showConnCalls(inReport[r][C.id]), rowClass: (r) => (inReport[r][C.errors] ? "failed" : "") });
connTable.setRows(range(inReport.length));

const lookupTable = new VirtualTable(document.getElementById("lookups-table"), [
  { title: "time", width: 90, text: (r) => fmtRel(D.lookups[r][L.ts]), key: (r) => D.lookups[r][L.ts] },
  { title: "thread", width: 140, text: (r) => threadText(threadIndexOf(D.lookups[r][L.pid], D.lookups[r][L.tid])), key: (r) => D.lookups[r][L.pid] },
  { title: "via", width: 100, text: (r) => D.lookups[r][L.via], key: (r) => D.lookups[r][L.via] },
  { title: "name", width: 200, text: (r) => D.lookups[r][L.name], key: (r) => D.lookups[r][L.name] },
  { title: "asked", width: 80, text: (r) => D.lookups[r][L.asked], key: (r) => D.lookups[r][L.asked] },
  { title: "answers", width: 260, text: (r) => D.lookups[r][L.answers], key: (r) => D.lookups[r][L.answers] },
  { title: "result", width: 120, text: (r) => D.lookups[r][L.result], key: (r) => D.lookups[r][L.result] },
  { title: "dur", width: 70, num: true, text: (r) => fmtDur(D.lookups[r][L.dur]), key: (r) => D.lookups[r][L.dur] },
], { onSelect: (r) => goToSeq(D.lookups[r][L.seq]), rowClass: (r) => (D.lookups[r][L.ok] ? "" : "failed") });
lookupTable.setRows(range(D.lookups.length));

const httpTable = new VirtualTable(document.getElementById("http-table"), [
  { title: "conn", width: 50, num: true, text: (r) => "#" + D.http[r][H.conn], key: (r) => D.http[r][H.conn] },
  { title: "time", width: 90, text: (r) => fmtRel(D.http[r][H.start]), key: (r) => D.http[r][H.start] },
  { title: "method", width: 60, text: (r) => D.http[r][H.method], key: (r) => D.http[r][H.method] },
  { title: "host", width: 150, text: (r) => D.http[r][H.host], key: (r) => D.http[r][H.host] },
  { title: "target", width: 240, text: (r) => D.http[r][H.target], key: (r) => D.http[r][H.target] },
  { title: "status", width: 140, text: (r) => (D.http[r][H.status] === null ? "no response" : `${D.http[r][H.status]} ${D.http[r][H.reason]}`), key: (r) => D.http[r][H.status] || 0 },
  { title: "req body", width: 70, num: true, text: (r) => String(D.http[r][H.req_body]), key: (r) => D.http[r][H.req_body] },
  { title: "resp body", width: 70, num: true, text: (r) => String(D.http[r][H.resp_body]), key: (r) => D.http[r][H.resp_body] },
  { title: "ttfb", width: 70, num: true, text: (r) => fmtDur(D.http[r][H.ttfb]), key: (r) => D.http[r][H.ttfb] },
  { title: "total", width: 70, num: true, text: (r) => fmtDur(D.http[r][H.total]), key: (r) => D.http[r][H.total] },
], { onSelect: (r) => showExchange(r), rowClass: (r) => (D.http[r][H.status] === null || D.http[r][H.status] >= 500 ? "failed" : "") });
httpTable.setRows(range(D.http.length));

// An exchange's request and response: start lines, headers, how each ended, sizes and times.
function showExchange(r) {
  const x = D.http[r];
  const headers = (list) => list.map(([n, v]) => `${esc(n)}: ${esc(v)}`).join("\n");
  const request = x[H.method]
    ? `<h3>Request</h3><pre>${esc(x[H.method])} ${esc(x[H.target])} ${esc(x[H.req_version])}\n${headers(x[H.req_headers])}</pre>
       <div>body ${x[H.req_body].toLocaleString()} bytes · ${esc(x[H.req_end])}</div>`
    : `<h3>Request</h3><p class="muted">not seen</p>`;
  const response = x[H.status] !== null
    ? `<h3>Response</h3><pre>${esc(x[H.resp_version])} ${x[H.status]} ${esc(x[H.reason])}\n${headers(x[H.resp_headers])}</pre>
       <div>body ${x[H.resp_body].toLocaleString()} bytes · ${esc(x[H.resp_end])}</div>`
    : `<h3>Response</h3><p class="muted">none</p>`;
  document.getElementById("http-viewer").innerHTML = `<dl class="kv">
      <dt>connection</dt><dd><a class="conn" data-conn="${x[H.conn]}">#${x[H.conn]}</a> ${esc(connText(x[H.conn]))} (click for its calls)</dd>
      <dt>host</dt><dd>${esc(x[H.host])}</dd>
      <dt>started</dt><dd>${fmtRel(x[H.start])}s (${fmtClock(x[H.start])})</dd>
      <dt>first byte after</dt><dd>${x[H.ttfb] >= 0 ? fmtDur(x[H.ttfb]) : "unknown"}</dd>
      <dt>total</dt><dd>${fmtDur(x[H.total])}</dd></dl>${request}${response}`;
}

const tlsTable = new VirtualTable(document.getElementById("tls-table"), [
  { title: "conn", width: 50, num: true, text: (r) => "#" + D.tls[r][TL.conn], key: (r) => D.tls[r][TL.conn] },
  { title: "time", width: 90, text: (r) => fmtRel(D.tls[r][TL.ts]), key: (r) => D.tls[r][TL.ts] },
  { title: "process", width: 120, text: (r) => { const p = procByPid.get(D.tls[r][TL.pid]); return `${p ? p.name : "pid"}[${D.tls[r][TL.pid]}]`; }, key: (r) => D.tls[r][TL.pid] },
  { title: "server name", width: 180, text: (r) => D.tls[r][TL.sni] || "-", key: (r) => D.tls[r][TL.sni] },
  { title: "ALPN offered", width: 120, text: (r) => D.tls[r][TL.alpn].join(", ") || "-", key: (r) => D.tls[r][TL.alpn].join(",") },
  { title: "offered", width: 70, text: (r) => D.tls[r][TL.offered], key: (r) => D.tls[r][TL.offered] },
  { title: "suites", width: 50, num: true, text: (r) => String(D.tls[r][TL.suites]), key: (r) => D.tls[r][TL.suites] },
  { title: "version", width: 70, text: (r) => D.tls[r][TL.version] || "no answer", key: (r) => D.tls[r][TL.version] },
  { title: "ALPN", width: 70, text: (r) => D.tls[r][TL.alpn_chosen], key: (r) => D.tls[r][TL.alpn_chosen] },
  { title: "cipher", width: 70, text: (r) => D.tls[r][TL.cipher], key: (r) => D.tls[r][TL.cipher] },
  { title: "problem", width: 200, text: (r) => D.tls[r][TL.problem], key: (r) => D.tls[r][TL.problem] },
], { onSelect: (r) => showConnCalls(D.tls[r][TL.conn]), rowClass: (r) => (D.tls[r][TL.problem] || !D.tls[r][TL.version] ? "failed" : "") });
tlsTable.setRows(range(D.tls.length));

const tables = { calls: callsTable, conns: connTable, lookups: lookupTable, http: httpTable, tls: tlsTable };

// ---------------------------------------------------------------- overview
function renderOverview() {
  const m = D.meta, s = D.summary;
  const head = `${esc(m.command || "(unknown command)")} · ${esc(m.host)} · ${esc(m.start_utc)}`;
  document.getElementById("headline").innerHTML = head;
  document.title = `wstrace report: ${m.command || "trace"}`;
  const rows = [
    ["what ran", esc(m.command || "(not recorded)")],
    ["where", `${esc(m.host)} · ${esc(m.os)} · ${esc(m.arch)} (${esc(m.platform)})`],
    ["started", esc(m.start_utc)],
    ["duration", fmtDur(s.duration)],
    ["calls", `${s.calls.toLocaleString()} (${s.failed.toLocaleString()} failed)`],
    ["connections", s.connections.toLocaleString()],
    ["lookups", s.lookups.toLocaleString()],
    ["HTTP exchanges", s.http.toLocaleString()],
    ["TLS handshakes", s.tls.toLocaleString()],
    ["records dropped", s.drops ? `<b style="color:var(--err)">${s.drops.toLocaleString()}</b>` : "0"],
    ["in this report", `${s.kept.toLocaleString()} calls${m.filter ? ` matching <span class="mono">${esc(m.filter)}</span>` : ""}${s.truncated ? " (cut at --max-calls)" : ""}; payloads up to ${m.payload_cap} bytes per call (the trace kept ${m.snaplen})`],
    ["recorded by", "wstrace " + esc(m.wstrace_version)],
  ];
  if (m.problem) rows.push(["trace", `<b style="color:var(--err)">${esc(m.problem)}</b>`]);
  document.getElementById("summary").innerHTML =
    `<dl class="kv">${rows.map(([k, v]) => `<dt>${k}</dt><dd>${v}</dd>`).join("")}</dl>`;

  const f = D.findings.map((x) => {
    const conns = x.conns.map((id) => `<a class="conn" data-conn="${id}">#${id}</a>`).join(" ") +
      (x.more_conns ? ` and ${x.more_conns} more` : "");
    const counts = records("finding_counts", ["name", "value"], x.counts)
      .map(({ name, value }) => `${esc(name)} ${esc(value)}`).join("; ");
    const ev = records("finding_calls", ["seq", "ts", "pid", "tid", "conn", "text"], x.calls)
      .map(({ seq, ts, pid, tid, conn, text }) => {
      const where = seq >= 0 ? (seqToIndex(seq) >= 0 ? `<a class="call" data-seq="${seq}">seq ${seq}</a>` : `seq ${seq} (not in this report)`) : `[${pid}]`;
      return `<div>${fmtRel(ts)}s ${where} [${pid}/${tid}] ${conn ? "#" + conn + " " : ""}${esc(text)}</div>`;
    }).join("");
    return `<div class="finding ${x.severity}"><div><span class="sev">${x.severity}</span><b>${esc(x.rule)}</b>: ${esc(x.title)}</div>
      ${conns ? `<div>connections: ${conns}</div>` : ""}${counts ? `<div>counts: ${counts}</div>` : ""}
      <div class="evidence">${ev}</div><div><b>means:</b> ${esc(x.meaning)}</div><div><b>check:</b> ${esc(x.next)}</div></div>`;
  });
  document.getElementById("findings").innerHTML = f.length ? f.join("") : `<p class="muted">No findings.</p>`;

  document.getElementById("procs").innerHTML = `<table class="plain"><tr><th>pid</th><th>parent</th><th>program</th><th>command line</th><th>calls</th><th>failed</th><th>exit</th></tr>${
    procs.map((p) => `<tr><td>${p.pid}</td><td>${p.ppid}</td><td>${esc(p.name)}</td><td class="mono">${esc(p.cmdline || p.image)}</td><td>${p.calls}</td><td>${p.failed}</td><td>${p.exit_code === null ? "running" : p.exit_code}</td></tr>`).join("")}</table>`;
}

// ---------------------------------------------------------------- the timeline
const timeline = (() => {
  const canvas = document.getElementById("timeline");
  const ctx2 = canvas.getContext("2d");
  const laneH = 16, axisH = 22, labelW = 210;
  const colours = { connect: "#2c6dd2", accept: "#7a4cc2", send: "#1f9d55", recv: "#d98b0b",
    close: "#777", shutdown: "#777", lookup: "#0e9aa7", other: "#9aa3b2", error: "#d22c2c", retrans: "#b35c00" };
  document.getElementById("tl-legend").innerHTML = ["connect", "accept", "send", "recv", "close", "lookup", "other", "error"]
    .map((k) => `<span><i style="background:${colours[k]}"></i>${k}</span>`).join("");
  const funcColour = funcEvent.map((e) => colours[e] || colours.other);

  // Lanes: per process, per thread (of the connection's first call), each connection, then
  // that thread's lookups. Built again when a live view's part comes (build()).
  const lanes = [];
  let nConn = 0, total = 1;
  function build() {
    lanes.length = 0;
    // Each connection's calls, in order: one array of call indices sorted by the position of
    // their connection among those held (a live view holds a window of them: ids are not dense).
    const pos = new Map(D.conns.map((c, k) => [c[C.id], k]));
    const posOf = new Int32Array(calls.n);
    const connStart = new Int32Array(D.conns.length + 1);
    for (let i = 0; i < calls.n; i++) {
      const k = pos.get(calls.conn[i]);
      posOf[i] = k === undefined ? -1 : k;
      if (k !== undefined) connStart[k + 1]++;
    }
    for (let k = 1; k <= D.conns.length; k++) connStart[k] += connStart[k - 1];
    const fill = connStart.slice();
    const byConn = new Int32Array(calls.n);
    for (let i = 0; i < calls.n; i++) if (posOf[i] >= 0) byConn[fill[posOf[i]]++] = i;
    const callsOf = (id) => { const k = pos.get(id); return byConn.subarray(connStart[k], connStart[k + 1]); };
    const groups = new Map();  // "pid/tid" → {pid, tid, conns: [], lookups: []}
    const group = (pid, tid) => {
      const key = pid + "/" + tid;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { pid, tid, conns: [], lookups: [] }));
      return g;
    };
    for (const c of inReport) group(c[C.pid], c[C.tid]).conns.push(c);
    D.lookups.forEach((l, k) => group(l[L.pid], l[L.tid]).lookups.push(k));
    const sorted = [...groups.values()].sort((a, b) => a.pid - b.pid || a.tid - b.tid);
    for (const g of sorted) {
      const tname = threadText(threadIndexOf(g.pid, g.tid));
      lanes.push({ kind: "group", id: g.pid + "/" + g.tid, group: tname, label: tname });
      for (const c of g.conns) {
        const retrans = c[C.retrans] || 0;  // marked on the lane: the network lost some of it
        lanes.push({ kind: "conn", id: c[C.id], group: tname, label: `#${c[C.id]} ${c[C.kind]} ${c[C.remote] || c[C.local] || c[C.role]}` + (retrans ? ` ⟳${retrans}` : ""),
          start: c[C.opened], end: connEnd(c), calls: callsOf(c[C.id]), failed: c[C.errors] > 0, retrans });
      }
      if (g.lookups.length) {
        const ls = g.lookups.slice().sort((a, b) => D.lookups[a][L.ts] - D.lookups[b][L.ts]);
        lanes.push({ kind: "dns", id: g.pid + "/" + g.tid, pid: g.pid, tid: g.tid, group: tname, label: `lookups (${ls.length})`, lookups: ls });
      }
    }
    nConn = lanes.filter((l) => l.kind === "conn").length;
    total = Math.max(1, D.summary.duration);
  }
  build();
  const view = { t0: -total * 0.01, t1: total * 1.01, top: 0, follow: true };
  // A live view's part came: the lanes again and, unless the user moved, the whole run in view.
  function grow() {
    build();
    if (view.follow) view.t0 = -total * 0.01, view.t1 = total * 1.01;
    redraw();
  }
  let drawnLanes = 0;

  // The canvas's size, read once per frame (reading layout per call would cost seconds).
  let cw = 0, ch = 0;
  const measure = () => { cw = canvas.clientWidth; ch = canvas.clientHeight; };
  const width = () => cw;
  const height = () => ch;
  const xOf = (t) => labelW + ((t - view.t0) / (view.t1 - view.t0)) * (width() - labelW);
  const tOf = (x) => view.t0 + ((x - labelW) / (width() - labelW)) * (view.t1 - view.t0);

  function firstAtOrAfter(idx, t) {  // first call in idx ending at or after t (ts sorted)
    let lo = 0, hi = idx.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (calls.ts[idx[mid]] + calls.dur[idx[mid]] < t) lo = mid + 1;
      else hi = mid;
    }
    return Math.max(0, lo - 1);
  }

  function draw() {
    const dpr = window.devicePixelRatio || 1;
    measure();
    const w = width(), h = height();
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = ctx2;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    g.font = "11px system-ui, sans-serif";
    g.textBaseline = "middle";
    // Axis.
    const span = view.t1 - view.t0;
    const raw = span / Math.max(1, (w - labelW) / 110);
    const p10 = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 5, 10].map((m) => m * p10).find((s) => s >= raw);
    g.fillStyle = "#6a7385";
    g.strokeStyle = "#eceff4";
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = xOf(t);
      g.beginPath();
      g.moveTo(x, axisH);
      g.lineTo(x, h);
      g.stroke();
      g.fillText(fmtDur(Math.round(t)), x + 2, axisH / 2);
    }
    // Lanes in view.
    const first = Math.floor(view.top / laneH);
    const count = Math.ceil((h - axisH) / laneH) + 1;
    drawnLanes = 0;
    let lastGroup = null;
    for (let k = first; k < Math.min(lanes.length, first + count); k++) {
      const lane = lanes[k];
      const y = axisH + k * laneH - view.top;
      if (y + laneH < axisH) continue;
      drawnLanes++;
      if (k % 2) { g.fillStyle = "#f7f8fa"; g.fillRect(0, y, w, laneH); }
      if (lane.group !== lastGroup && (k === 0 || lanes[k - 1].group !== lane.group)) {
        g.fillStyle = "#c5cad3";
        g.fillRect(0, y, w, 1);
      }
      lastGroup = lane.group;
      g.save();
      g.beginPath();
      g.rect(labelW, y, w - labelW, laneH);
      g.clip();
      if (lane.kind === "conn") drawConn(g, lane, y);
      else if (lane.kind === "dns") drawDns(g, lane, y);
      g.restore();
      g.fillStyle = lane.selected ? "#dbe8ff" : "#ffffff";
      g.fillRect(0, y, labelW - 2, laneH);
      g.fillStyle = lane.kind === "dns" ? colours.lookup : lane.failed ? colours.error : lane.retrans ? colours.retrans : "#1d2330";
      g.font = lane.kind === "group" ? "bold 11px system-ui, sans-serif" : "11px system-ui, sans-serif";
      g.fillText(lane.kind === "group" ? lane.label : "  " + lane.label, 4, y + laneH / 2, labelW - 8);
      g.font = "11px system-ui, sans-serif";
    }
    g.fillStyle = "#ffffff";
    g.fillRect(0, 0, w, axisH);
    g.fillStyle = "#6a7385";
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) g.fillText(fmtDur(Math.round(t)), xOf(t) + 2, axisH / 2);
    g.fillText(lanes.length ? `${nConn.toLocaleString()} connections` : "no connections or lookups", 4, axisH / 2);
  }

  function drawConn(g, lane, y) {
    const x0 = Math.max(labelW, xOf(lane.start)), x1 = Math.min(width(), xOf(lane.end));
    g.fillStyle = "#e3e7ee";
    if (x1 >= x0) g.fillRect(x0, y + 5, Math.max(1, x1 - x0), laneH - 10);
    const idx = lane.calls;
    let lastX = -1;
    const drawnAtX = new Set();  // the colours drawn at pixel column lastX (each once there)
    const failed = [];  // drawn last, so that no neighbour hides an error (one per pixel)
    let lastFailX = -1;
    for (let j = firstAtOrAfter(idx, view.t0); j < idx.length; j++) {
      const i = idx[j];
      const t = calls.ts[i];
      if (t > view.t1) break;
      const x = Math.floor(xOf(t));
      const wpx = Math.max(1, (calls.dur[i] / (view.t1 - view.t0)) * (width() - labelW));
      if (failedCall(i)) {
        if (x !== lastFailX || wpx >= 2) failed.push(x, wpx);
        lastFailX = x;
        continue;
      }
      const colour = funcColour[calls.func[i]];
      if (x !== lastX) lastX = x, drawnAtX.clear();
      if (wpx < 2 && drawnAtX.has(colour)) continue;
      drawnAtX.add(colour);
      g.fillStyle = colour;
      g.fillRect(x, y + 2, Math.max(2, wpx), laneH - 4);
    }
    g.fillStyle = colours.error;
    for (let k = 0; k < failed.length; k += 2) g.fillRect(failed[k], y + 2, Math.max(2, failed[k + 1]), laneH - 4);
  }

  function drawDns(g, lane, y) {
    for (const k of lane.lookups) {
      const l = D.lookups[k];
      if (l[L.ts] > view.t1 || l[L.ts] + l[L.dur] < view.t0) continue;
      const x = xOf(l[L.ts]);
      const wpx = Math.max(2, (l[L.dur] / (view.t1 - view.t0)) * (width() - labelW));
      g.fillStyle = l[L.ok] ? colours.lookup : colours.error;
      g.fillRect(x, y + 2, wpx, laneH - 4);
    }
  }

  let frame = 0;
  const redraw = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; draw(); });
  };
  const zoom = (factor, x) => {
    view.follow = false;
    const t = tOf(x);
    const span = Math.max(1000, (view.t1 - view.t0) * factor);
    const f = (x - labelW) / (width() - labelW);
    view.t0 = t - span * f;
    view.t1 = view.t0 + span;
    redraw();
  };
  const maxTop = () => Math.max(0, lanes.length * laneH - (height() - axisH) + laneH);
  canvas.addEventListener("wheel", (e) => {
    e.preventDefault();
    measure();
    if (e.shiftKey || Math.abs(e.deltaX) > Math.abs(e.deltaY)) {
      view.top = Math.min(maxTop(), Math.max(0, view.top + (e.shiftKey ? e.deltaY : e.deltaX)));
      redraw();
    } else {
      zoom(Math.pow(1.0015, e.deltaY), Math.max(labelW, e.offsetX));
    }
  }, { passive: false });
  let drag = null;
  canvas.addEventListener("mousedown", (e) => { drag = { x: e.clientX, y: e.clientY, t0: view.t0, t1: view.t1, top: view.top, moved: false }; });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
    const dt = (dx / (width() - labelW)) * (drag.t1 - drag.t0);
    if (dx) view.follow = false;
    view.t0 = drag.t0 - dt;
    view.t1 = drag.t1 - dt;
    view.top = Math.min(maxTop(), Math.max(0, drag.top - dy));
    redraw();
  });
  window.addEventListener("mouseup", (e) => {
    if (drag && !drag.moved) click(e.offsetX, e.offsetY, e.target === canvas);
    drag = null;
  });
  function click(x, y, onCanvas) {
    if (!onCanvas || y < axisH) return;
    measure();
    const k = Math.floor((y - axisH + view.top) / laneH);
    const lane = lanes[k];
    if (!lane || lane.kind === "group") return;
    lanes.forEach((l) => (l.selected = false));
    lane.selected = true;
    redraw();
    if (lane.kind === "conn") {
      showConnCalls(lane.id);
      // The call under the pointer, if there is one.
      const t = tOf(x), slack = (4 / (width() - labelW)) * (view.t1 - view.t0);
      for (let j = firstAtOrAfter(lane.calls, t - slack); j < lane.calls.length; j++) {
        const i = lane.calls[j];
        if (calls.ts[i] > t + slack) break;
        if (calls.ts[i] + calls.dur[i] >= t - slack) { goToSeq(calls.seq[i]); break; }
      }
    } else {
      showTab("calls");
      applyFilter(`event == lookup and pid == ${lane.pid} and tid == ${lane.tid}`);
    }
  }
  document.getElementById("tl-fit").addEventListener("click", () => { view.t0 = -total * 0.01; view.t1 = total * 1.01; view.follow = true; redraw(); });
  document.getElementById("tl-in").addEventListener("click", () => zoom(0.5, (labelW + width()) / 2));
  document.getElementById("tl-out").addEventListener("click", () => zoom(2, (labelW + width()) / 2));
  window.addEventListener("resize", redraw);
  // Where lane `k` is on the canvas (test hook).
  const laneBox = (k) => ({ x: labelW + 1, y: axisH + k * laneH - view.top + laneH / 2 });
  return { draw, lanes, laneBox, drawnLanes: () => drawnLanes, view, grow };
})();

// ---------------------------------------------------------------- start
mark("tables and lanes");
renderOverview();
callsTable.setRows(filtered);
document.getElementById("filter-count").textContent = `${calls.n.toLocaleString()} calls`;
timeline.draw();
mark("drawn");
if (D.meta.filter) filterBox.placeholder = `the report holds the calls matching ${D.meta.filter}; filter further here`;

// ---------------------------------------------------------------- the live view
// Served by `record --ui` (D.live is set): the run's parts come as Server-Sent Events, each from
// where the page got to (its cursor: a page that reconnects or resumes gets what it has not
// had), and are added to what the page holds. Pause closes the stream; the recording goes on.
// The page holds at most HOLD calls (?hold=N in its URL; 100,000 by default): following the run,
// it forgets the oldest ones, counted as not held. Scrolling up past the first call held, or a
// filter while older calls are not held, reads older calls again from the trace (GET /calls,
// with wstrace's own filter, read on the server's scan threads; a newer read cancels the page's
// older one): the page then browses back and stops adding the calls that come (counted as newer,
// not held). Scrolling down past the last call held reads the calls after it, until they meet
// those the stream brought: the page follows the run again (as with "Back to live").
const HOLD = Math.max(1, Math.floor(Number(new URLSearchParams(location.search).get("hold"))) || 100000);
// Of the connections that ended, the lookups, the HTTP exchanges and the TLS hellos, it holds the
// last ROWS of each (?rows=N; 10,000 by default), the older ones counted as not held (the
// report of the trace has them all). Open connections are always held.
const ROWS = Math.max(1, Math.floor(Number(new URLSearchParams(location.search).get("rows"))) || 10000);
const live = (() => {
  if (!D.live) return null;
  const state = document.getElementById("live-state");
  const pauseButton = document.getElementById("live-pause");
  const liveButton = document.getElementById("live-back");
  document.getElementById("live").hidden = false;
  let cursor = D.live.cursor, skipped = D.live.skipped, over = false, paused = false;
  let source = null, parts = 0;
  // Held calls: following the run's tail, or browsing back (older calls read from the trace).
  let following = true, notHeld = 0, notHeldMatch = "", newer = 0, rewound = false;
  let fetching = null, fetchProblem = "", lastSeq = -1;
  let asked = 0, abort = null, browseEnd = -1;
  const token = new URLSearchParams(location.search).get("token") || "";
  // (the server cancels this page's unfinished read when it asks again)
  const pageKey = Array.from(crypto.getRandomValues(new Uint8Array(8)), (b) => b.toString(16).padStart(2, "0")).join("");
  let connPos = new Map(D.conns.map((c, k) => [c[C.id], k]));
  const rowsGone = { conns: 0, lookups: 0, http: 0, tls: 0 };
  // Beyond ROWS and a quarter, the oldest rows go (at once: the tables move rarely).
  function forgetRows() {
    const over = (n) => n > ROWS + Math.ceil(ROWS / 4);
    if (over(D.conns.length)) {
      let drop = D.conns.length - ROWS;
      D.conns = D.conns.filter((c) => {
        if (drop <= 0 || c[C.end] === "open at end") return true;
        drop--, rowsGone.conns++;
        connById.delete(c[C.id]);
        return false;
      });
      connPos = new Map(D.conns.map((c, k) => [c[C.id], k]));
    }
    for (const name of ["lookups", "http", "tls"]) {
      if (!over(D[name].length)) continue;
      const n = D[name].length - ROWS;
      D[name].splice(0, n);
      rowsGone[name] += n;
    }
  }
  const rowsText = () => {
    const parts = [["conns", "connections"], ["lookups", "lookups"], ["http", "HTTP exchanges"], ["tls", "TLS hellos"]]
      .filter(([k]) => rowsGone[k]).map(([k, what]) => `${rowsGone[k].toLocaleString()} ${what}`);
    return parts.length ? ` · not held: ${parts.join(", ")} (older; the trace has them)` : "";
  };
  const show = () => {
    state.textContent = `${over ? "recording over" : paused ? "paused" : following ? "live" : "browsing back"} · ` +
      `${calls.n.toLocaleString()} calls held · ${D.summary.drops.toLocaleString()} dropped` +
      (notHeld ? ` · not held: ${notHeld.toLocaleString()} older calls${notHeldMatch ? " matching " + notHeldMatch : ""} (scroll up for them)` : "") +
      (newer ? ` · ${newer.toLocaleString()} newer calls not held` : "") + rowsText() +
      (skipped ? ` · ${skipped.toLocaleString()} calls not shown (the page fell behind; the trace has them)` : "") +
      (fetchProblem ? ` · ${fetchProblem}` : "");
    state.classList.toggle("bad", D.summary.drops > 0 || fetchProblem !== "");
    liveButton.hidden = following;
  };
  // The calls held changed: the list, the counts and the lanes again.
  const changed = (first) => {
    filterCtx.forgetRaw();
    relist(first || 0);
    timeline.grow();
    show();
  };
  // The server's string and facts tables started again (they hold what its window of calls
  // names, not every text of the run): the calls held are renumbered onto the new tables, by
  // text; what only older calls name goes to the extra tables, made again from the calls held.
  let texts = D.live.texts || 0, textRestarts = 0;
  function restartTexts(P) {
    textRestarts++;
    const was = S.slice(), wasExtra = extraStrings.slice();
    const textWas = (id) => (id >= 0 ? was[id] : wasExtra[-1 - id]);
    const at = new Map(P.strings.map((t, k) => [t, k]));
    S.length = 0;
    extraStrings.length = 0;
    extraStringId.clear();
    const idOf = (text) => {
      const k = at.get(text);
      if (k !== undefined) return k;
      let id = extraStringId.get(text);
      if (id === undefined) extraStringId.set(text, (id = -extraStrings.push(text)));
      return id;
    };
    for (let i = 0; i < calls.n; i++) calls.args[i] = idOf(textWas(calls.args[i]));
    for (const name of filterCtx.textFields) {
      const r = rawColumns[name];
      if (r) for (let k = 0; k < r.v.length; k++) r.v[k] = idOf(textWas(r.v[k]));
    }
    const factOf = filterCtx.restartFacts(P.facts);
    for (let i = 0; i < calls.n; i++) calls.facts[i] = factOf(calls.facts[i]);
    filterCtx.forgetTexts();
    texts = P.live.texts;
  }
  function apply(P) {
    parts++;
    if (P.live.texts !== undefined && P.live.texts !== texts) restartTexts(P);
    for (const text of P.strings) S.push(text);
    const errs = records("errors", ["name", "posix", "value", "meaning", "domain", "outcome"], P.errors);
    errorRows.push(...errs);
    filterCtx.addErrors(errs);
    filterCtx.addFacts(P.facts);
    D.threads = P.threads;
    threadIndex.clear();
    D.threads.forEach((th, k) => threadIndex.set(th[TH.pid] * 4294967296 + th[TH.tid], k));
    D.meta = P.meta;
    D.summary = P.summary;
    D.findings = P.findings;
    procs = records("procs", ["pid", "ppid", "name", "image", "cmdline", "exit_code", "calls", "failed"], P.procs);
    procByPid = new Map(procs.map((p) => [p.pid, p]));
    for (const c of P.conns) {
      const id = c[C.id];
      if (connPos.has(id)) D.conns[connPos.get(id)] = c;
      else connPos.set(id, D.conns.push(c) - 1);
      connById.set(id, c);
    }
    forgetRows();
    inReport = D.conns.filter((c) => c[C.in_report]);
    D.lookups.push(...P.lookups);
    D.http.push(...P.http);
    D.tls.push(...P.tls);
    cursor = P.live.cursor;
    // (calls skipped right after going back to live are older than those then held)
    if (rewound) notHeld += P.live.skipped;
    else if (following) skipped += P.live.skipped;
    else newer += P.live.skipped;
    rewound = false;
    if (P.calls.n) {
      let seq = 0;
      for (const d of P.calls.seq) seq += d;
      lastSeq = seq;
    }
    if (following) {
      const from = calls.n;
      appendCalls(P.calls, P.payload);
      const extra = calls.n - HOLD;
      if (extra > 0) {
        dropCalls(extra, true);
        notHeld += extra;
        changed();
      } else {
        filterCtx.forgetRaw();
        listMore(from);
        timeline.grow();
      }
    } else {
      newer += P.calls.n;
      timeline.grow();
    }
    over = P.live.over && !P.live.more;
    if (P.live.playback) showPlayback(P.live.playback);
    connTable.setRows(range(inReport.length));
    lookupTable.setRows(range(D.lookups.length));
    httpTable.setRows(range(D.http.length));
    tlsTable.setRows(range(D.tls.length));
    renderOverview();
    show();
    if (over) stop();
  }
  function stop() {
    if (source) source.close();
    source = null;
  }
  function connect() {
    if (over || paused || source) return;
    source = new EventSource(`/events?token=${encodeURIComponent(token)}&at=${cursor}`);
    source.onmessage = (e) => apply(JSON.parse(e.data));
    // (EventSource would reconnect from the URL's cursor, an old one: this does from the latest)
    source.onerror = () => {
      stop();
      if (!over && !paused) setTimeout(connect, 1000);
    };
  }
  function pause(on) {
    paused = on;
    pauseButton.textContent = paused ? "Resume" : "Pause";
    if (paused) stop();
    else connect();
    show();
  }
  pauseButton.addEventListener("click", () => pause(!paused));

  // The tables of calls read again from the trace (their own string, error, facts and thread
  // rows), added to the page's: how their indices become the page's.
  function adopt(P) {
    const strings = P.strings.map((text) => {
      let id = extraStringId.get(text);
      if (id === undefined) extraStringId.set(text, (id = -extraStrings.push(text)));  // (-1 - k)
      return id;
    });
    // (row 0 is "no error")
    const errs = records("errors", ["name", "posix", "value", "meaning", "domain", "outcome"], P.errors).slice(1);
    const errorBase = extraErrors.length;
    extraErrors.push(...errs);
    filterCtx.addExtraErrors(errs);
    const factsBase = filterCtx.addExtraFacts(P.facts);
    // (the threads of older calls are among those the parts list)
    const threads = P.threads.map((th) => threadIndexOf(th[TH.pid], th[TH.tid]));
    return { strings: (id) => strings[id], error: (e) => (e === 0 ? 0 : -1 - (errorBase + e - 1)),
      facts: (f) => -1 - (factsBase + f), thread: (t) => threads[t], texts: filterCtx.textFields };
  }
  // Reads calls again from the trace (GET /calls with `query` and the filter `text`) and hands
  // the answer to `use`; a newer read cancels this one (here, and on the server). Resolves when
  // done.
  function readCalls(query, text, use) {
    if (abort) abort.abort();
    const mine = ++asked, ctl = abort = new AbortController();
    const url = `/calls?token=${encodeURIComponent(token)}&page=${pageKey}&${query}` +
      `&filter=${encodeURIComponent(text)}`;
    const over = (problem) => {
      if (mine !== asked) return false;
      fetching = abort = null;
      fetchProblem = problem;
      show();
      return true;
    };
    fetching = fetch(url, { signal: ctl.signal }).then((r) => r.json()).then((P) => {
      if (over(P.error ? "older calls: " + P.error : "") && !P.error) use(P);
    }, (e) => over("older calls: " + e.message));
    return fetching;
  }
  const readCount = () => Math.max(1, Math.min(Math.floor(HOLD / 2), 10000));
  // Reads the calls before seq `before` that pass the filter `text` from the trace, and holds
  // them ahead of those held.
  function fetchOlder(before, text) {
    return readCalls(`before=${before}&count=${readCount()}`, text, (P) => {
      following = false;
      browseEnd = -1;
      addCalls(P.calls, P.payload, true, adopt(P));
      notHeld = P.live.older.before;
      notHeldMatch = text;
      const extra = calls.n - HOLD;
      if (extra > 0) {
        dropCalls(extra, false);
        newer += extra;
      }
      changed(P.calls.n);
    });
  }
  // Browsing back, the user reached the last call held: the calls after it that pass the
  // filter, held after the others (the oldest held dropped to stay within the bound), up to
  // the last one the stream brought. Once the trace was read past that one, they met: the page
  // follows the run again — in place without a filter, else as "Back to live" does.
  const forward = () => {
    if (following || fetching || !calls.n) return fetching;
    return readCalls(`from=${calls.seq[calls.n - 1] + 1}&count=${readCount()}`, notHeldMatch, (P) => {
      const held = calls.n;
      addCalls(P.calls, P.payload, false, adopt(P));
      let beyond = 0;  // (calls the stream has not brought yet: it will)
      while (beyond < calls.n - held && calls.seq[calls.n - 1 - beyond] > lastSeq) beyond++;
      dropCalls(beyond, false);
      newer = Math.max(0, newer - (calls.n - held));
      const extra = calls.n - HOLD;
      if (extra > 0) {
        dropCalls(extra, true);
        notHeld += extra;
      }
      const met = beyond > 0 || P.live.older.end > lastSeq;
      if (met && notHeldMatch !== "") return backToLive();
      if (met) following = true, newer = 0;
      changed();
    });
  };
  // The user reached the first call held: older ones, when some are not held.
  const older = () => {
    if (fetching || !notHeld) return fetching;
    return fetchOlder(calls.n ? calls.seq[0] : lastSeq + 1, filterFn === null ? "" : filterFn);
  };
  // A filter was applied: the calls it matches among those not held are read from the trace.
  // Browsing back with calls fetched for another filter, the held ones are read again for this
  // one (up to where the page was).
  onFilter = (text) => {
    if (following) {
      if (text !== "" && notHeld) older();
      return;
    }
    if (text === notHeldMatch && browseEnd < 0) return;
    // (up to where the page was, also when a read for another filter was under way)
    const end = browseEnd >= 0 ? browseEnd : calls.n ? calls.seq[calls.n - 1] + 1 : lastSeq + 1;
    dropCalls(calls.n, true);
    browseEnd = end;
    changed();
    fetchOlder(end, text);
  };
  const box = callsTable.box;
  const atBottom = () => box.scrollTop + box.clientHeight >= box.scrollHeight - 1;
  box.addEventListener("wheel", (e) => {
    if (e.deltaY < 0 && box.scrollTop === 0) older();
    if (e.deltaY > 0 && atBottom()) forward();
  });
  box.addEventListener("scroll", () => {
    if (performance.now() - scrolledAt <= 200) return;
    if (box.scrollTop === 0) older();
    else if (atBottom()) forward();
  });
  // Back to the run's tail: the calls held are dropped and the stream starts again HOLD calls
  // before where it got to.
  function backToLive() {
    if (abort) abort.abort();
    fetching = abort = null;
    asked++;
    browseEnd = -1;
    following = true;
    newer = 0;
    notHeldMatch = "";
    dropCalls(calls.n, true);
    const at = cursor.split(",");
    const from = Math.max(0, Number(at[0]) - HOLD);
    at[0] = String(from);
    cursor = at.join(",");
    notHeld = from;
    rewound = true;
    over = false;  // (until the stream says so again)
    stop();
    changed();
    connect();
  }
  liveButton.addEventListener("click", backToLive);

  // `wstrace ui`: the server plays a saved trace; these ask it to play, pause, change speed or
  // seek (back: the server plays from the start again; the page loads again), and show where it
  // is (each part says so too).
  let playback = D.live.playback || null;
  const run = playback ? playback.run : 0;
  const playButton = document.getElementById("pb-play");
  const slider = document.getElementById("pb-time");
  const showPlayback = (state) => {
    playback = state;
    if (state.run !== run) {
      stop();
      location.reload();
      return;
    }
    playButton.textContent = state.playing ? "Pause" : "Play";
    playButton.disabled = state.done;
    slider.value = state.end ? Math.round((state.position / state.end) * 1000) : 0;
    document.getElementById("pb-clock").textContent = `${fmtDur(state.position)} of ${fmtDur(state.end)}`;
  };
  const control = (op, value) =>
    fetch(`/control?token=${encodeURIComponent(token)}&op=${op}&value=${value === undefined ? "" : value}`,
      { method: "POST" }).then((r) => r.json()).then((state) => (showPlayback(state), state));
  if (playback) {
    document.getElementById("playback").hidden = false;
    pauseButton.hidden = true;
    playButton.addEventListener("click", () => control(playback.playing ? "pause" : "play"));
    document.getElementById("pb-speed").addEventListener("change", (e) => control("speed", e.target.value));
    slider.addEventListener("change", () => control("seek", Math.round((slider.value / 1000) * playback.end)));
    showPlayback(playback);
  }
  show();
  connect();
  return { parts: () => parts, paused: () => paused, over: () => over, skipped: () => skipped, pause,
    playback: () => playback, control, showPlayback, hold: HOLD, notHeld: () => notHeld,
    rows: ROWS, rowsNotHeld: () => ({ ...rowsGone }), connsHeld: () => D.conns.length,
    texts: () => ({ restarts: textRestarts, strings: S.length, extra: extraStrings.length }),
    newer: () => newer, following: () => following, older, forward, backToLive,
    fetching: () => fetching !== null };
})();

// For tests and for the curious: what the page holds and draws.
window.__wstrace = {
  loadMs: performance.now() - T0,
  timings,
  calls: () => calls.n,
  listed: () => filtered.length,
  visibleRows: () => callsTable.visibleLines(),
  // A connection's TCP statistics cells, as the connections table shows them.
  tcp: (id) => { const c = D.conns.find((x) => x[C.id] === id); return c ? { rtt: rttText(c), retrans: retransText(c) } : null; },
  lanes: () => timeline.lanes.map((l) => ({ kind: l.kind, id: l.id, label: l.label, calls: l.kind === "conn" ? l.calls.length : l.kind === "dns" ? l.lookups.length : 0, retrans: l.retrans || 0 })),
  drawnLanes: () => timeline.drawnLanes(),
  laneBox: timeline.laneBox,
  applyFilter,
  redrawNow: () => timeline.draw(),
  goToSeq,
  selected: () => (callsTable.selected >= 0 ? calls.seq[callsTable.selected] : -1),
  // The calls listed, as the list shows them (sorted or not): their seqs and durations.
  listedOrder: (max) => Array.from(callsTable.rows.subarray(0, max || 50), (i) => [calls.seq[i], calls.dur[i]]),
  showExchange,
  httpViewer: () => document.getElementById("http-viewer").innerText,
  tlsRows: () => D.tls.length,
  listedSeqs: (max) => Array.from(filtered.subarray(0, max || 50), (i) => calls.seq[i]),
  // Every call held: its seq and the call as the list shows it.
  held: () => Array.from(calls.seq.subarray(0, calls.n), (seq, i) => [seq, callText(i)]),
  filterError: () => { const e = document.getElementById("filter-error"); return e.hidden ? "" : e.textContent; },
  funcOf: (seq) => { const i = seqToIndex(seq); return i < 0 ? null : D.funcs[calls.func[i]]; },
  // The ports the filter sees for a call held (its facts).
  portsOf: (seq) => {
    const i = seqToIndex(seq);
    if (i < 0) return null;
    const { lport, rport } = filterCtx.factsOf(i);
    return { lport, rport };
  },
  live,
  findings: () => D.findings.map((f) => f.rule),
  lastTs: () => (calls.n ? calls.ts[calls.n - 1] : -1),
  runCalls: () => D.summary.calls,
  // Wall-clock ms of the first event (the live view's latency is measured against it).
  startMs: () => D.meta.start_ms + D.meta.start_ns_in_ms / 1e6,
};
