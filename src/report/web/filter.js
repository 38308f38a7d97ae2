// The filter language of docs/filters.md, in the browser: the common subset that the report's
// filter box understands (docs/report.md lists it). compileFilter(text, ctx) returns a function
// of a call's index, or throws a FilterError whose message has the filter, a caret and the
// problem, like wstrace's own.
"use strict";

class FilterError extends Error {
  constructor(text, pos, what) {
    super(text + "\n" + " ".repeat(pos) + "^ " + what);
    this.pos = pos;
    this.what = what;
  }
}

const FILTER_FIELDS = {
  pid: "number", tid: "number", sock: "number", conn: "number", ret: "number",
  bytes: "number", port: "port", lport: "port", rport: "port",
  dur: "duration", proc: "text", host: "text", func: "func", event: "event",
  family: "family", proto: "proto", ip: "ip", lip: "ip", rip: "ip", err: "err",
  failed: "bool", payload: "payload",
};
// Fields of `wstrace show --filter` that the report's box does not evaluate.
const FILTER_UNSUPPORTED = ["len", "count", "backlog", "optval", "optlen", "arg", "version",
  "op", "ppid", "exit_code", "dropped", "platform", "qtype", "mask", "new_sock", "timeout",
  "type", "protocol", "how", "level", "optname", "request", "hint_family", "hint_type", "flags",
  "type_flags", "hint_flags", "service", "canon", "image", "cmdline", "name", "addr", "peer",
  "local", "addrs", "fds"];
const KEYWORDS = ["and", "or", "not", "in", "contains", "startswith", "endswith"];

function lexFilter(text) {
  const toks = [];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    const two = text.substr(i, 2);
    if (["==", "!=", "<=", ">=", "&&", "||"].includes(two)) {
      toks.push({ t: "op", v: two, pos: i });
      i += 2;
      continue;
    }
    if ("()<>,=!".includes(c)) {
      toks.push({ t: "op", v: c === "=" ? "==" : c, pos: i });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1, s = "";
      for (;;) {
        if (j >= n) throw new FilterError(text, i, `unclosed string: expected a closing ${c} before the end of the filter`);
        const d = text[j];
        if (d === c) break;
        if (d === "\\" && j + 1 < n) {
          const e = text[j + 1];
          const map = { n: "\n", r: "\r", t: "\t", "0": "\0", "\\": "\\", '"': '"', "'": "'" };
          if (e in map) { s += map[e]; j += 2; continue; }
          if (e === "x" && /^[0-9a-fA-F]{2}$/.test(text.substr(j + 2, 2))) {
            s += String.fromCharCode(parseInt(text.substr(j + 2, 2), 16));
            j += 4;
            continue;
          }
          throw new FilterError(text, j, `unknown escape '\\${e}'`);
        }
        s += d;
        j++;
      }
      toks.push({ t: "str", v: s, pos: i });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n && !/\s/.test(text[j]) && !"()<>,=!\"'&|".includes(text[j])) j++;
    if (j === i) throw new FilterError(text, i, `unexpected '${c}'`);
    toks.push({ t: "word", v: text.slice(i, j), pos: i });
    i = j;
  }
  toks.push({ t: "end", v: "", pos: n });
  return toks;
}

// IPv4 or IPv6 text to 16 bytes (IPv4 as ::ffff:a.b.c.d) or null.
function parseIpBytes(s) {
  if (s.startsWith("[") && s.endsWith("]")) s = s.slice(1, -1);
  const v4 = (t) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
    if (!m) return null;
    const b = m.slice(1).map(Number);
    return b.every((x) => x < 256) ? b : null;
  };
  const b4 = v4(s);
  if (b4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b4];
  if (!s.includes(":") || s.includes("%")) return null;
  let tail = [];
  const lastColon = s.lastIndexOf(":");
  if (s.slice(lastColon + 1).includes(".")) {
    const t = v4(s.slice(lastColon + 1));
    if (!t) return null;
    tail = t;
    s = s.slice(0, lastColon + 1) + "0:0";
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const groups = (h) => (h === "" ? [] : h.split(":"));
  const a = groups(halves[0]), b = halves.length === 2 ? groups(halves[1]) : [];
  const fill = 8 - a.length - b.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return null;
  const all = [...a, ...Array(halves.length === 2 ? fill : 0).fill("0"), ...b];
  const out = [];
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const x = parseInt(g, 16);
    out.push(x >> 8, x & 255);
  }
  if (tail.length) out.splice(12, 4, ...tail);
  return out;
}

const DURATION_UNITS = { ns: 1, us: 1e3, "µs": 1e3, ms: 1e6, s: 1e9, min: 60e9 };

function compileFilter(text, ctx) {
  const toks = lexFilter(text);
  let k = 0;
  const peek = () => toks[k];
  const isKw = (tok, w) => tok.t === "word" && tok.v.toLowerCase() === w;
  const err = (tok, what) => new FilterError(text, tok.pos, what);
  const found = (tok) => (tok.t === "end" ? "the end of the filter" : `'${tok.v}'`);

  if (toks.length === 1) throw new FilterError(text, 0, "empty filter: write a condition such as 'rport == 443 and failed'");

  function parseOr() {
    let left = parseAnd();
    while (isKw(peek(), "or") || (peek().t === "op" && peek().v === "||")) {
      k++;
      const a = left, b = parseAnd();
      left = (i) => a(i) || b(i);
    }
    return left;
  }
  function parseAnd() {
    let left = parseNot();
    while (isKw(peek(), "and") || (peek().t === "op" && peek().v === "&&")) {
      k++;
      const a = left, b = parseNot();
      left = (i) => a(i) && b(i);
    }
    return left;
  }
  function parseNot() {
    if (isKw(peek(), "not") || (peek().t === "op" && peek().v === "!")) {
      k++;
      const a = parseNot();
      return (i) => !a(i);
    }
    return parsePrimary();
  }
  function parsePrimary() {
    const tok = peek();
    if (tok.t === "op" && tok.v === "(") {
      k++;
      const inner = parseOr();
      if (!(peek().t === "op" && peek().v === ")"))
        throw err(tok, "unclosed '(': expected ')' before " + found(peek()));
      k++;
      return inner;
    }
    if (tok.t !== "word") throw err(tok, "expected a field such as rport, func or err, found " + found(tok));
    const name = tok.v.toLowerCase();
    k++;
    const kind = FILTER_FIELDS[name];
    if (!kind) {
      if (FILTER_UNSUPPORTED.includes(name))
        throw err(tok, `'${name}' is not supported by the report's filter box (wstrace show --filter has it)`);
      const near = Object.keys(FILTER_FIELDS).find((f) => editDistance(f, name) <= 2);
      throw err(tok, `unknown field '${tok.v}'` + (near ? ` (did you mean '${near}'?)` : ""));
    }
    return parseComparison(name, kind, tok);
  }
  function parseValues() {
    const tok = peek();
    if (tok.t === "op" && tok.v === "(") {
      k++;
      const list = [];
      for (;;) {
        const v = peek();
        if (v.t !== "word" && v.t !== "str") throw err(v, "expected a value, found " + found(v));
        list.push(v);
        k++;
        if (peek().t === "op" && peek().v === ",") { k++; continue; }
        if (peek().t === "op" && peek().v === ")") { k++; break; }
        throw err(peek(), "expected ',' or ')' in the list, found " + found(peek()));
      }
      return list;
    }
    if (tok.t !== "word" && tok.t !== "str") throw err(tok, "expected a value, found " + found(tok));
    k++;
    return [tok];
  }
  function parseComparison(name, kind, fieldTok) {
    const tok = peek();
    let op = null;
    if (tok.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(tok.v)) op = tok.v;
    else if (isKw(tok, "in")) op = "in";
    else if (isKw(tok, "contains") || isKw(tok, "startswith") || isKw(tok, "endswith")) op = tok.v.toLowerCase();
    else if (isKw(tok, "not") && isKw(toks[k + 1], "in")) { op = "not in"; k++; }
    if (!op) {
      // A field alone: the event has it.
      if (tok.t === "word" && !KEYWORDS.includes(tok.v.toLowerCase()) || tok.t === "str")
        throw err(tok, `expected an operator such as '==', '<', 'in' or 'contains' after '${name}', found ${found(tok)}`);
      if (kind === "bool") return (i) => ctx.failed(i);
      const get = ctx.getterMany(name);
      return (i) => get(i) !== null;
    }
    k++;
    const values = parseValues();
    if (["<", "<=", ">", ">="].includes(op)) {
      if (!["number", "port", "duration"].includes(kind))
        throw err(tok, `'${op}' does not apply to '${name}': use ==, !=, in` + (kind === "text" || kind === "payload" ? ", contains, startswith or endswith" : ""));
      if (values.length !== 1) throw err(values[1], `'${op}' takes one value`);
    }
    if (["contains", "startswith", "endswith"].includes(op) && ["number", "port", "duration", "ip", "bool"].includes(kind))
      throw err(tok, `'${op}' does not apply to '${name}': use ==, !=, <, <=, >, >= or in`);
    const partial = ["contains", "startswith", "endswith"].includes(op);
    const conv = values.map((v) => convertValue(name, kind, v, partial));
    return buildTest(name, kind, op, conv);
  }
  function convertValue(name, kind, tok, partial) {
    const v = tok.v;
    const bad = (what) => err(tok, what);
    switch (kind) {
      case "number": case "port": {
        if (tok.t !== "word" || !/^-?(0x[0-9a-fA-F]+|\d+)$/.test(v)) throw bad(`expected a number, found '${v}'`);
        const x = v.startsWith("-") ? -Number(v.slice(1)) : Number(v);
        if (kind === "port" && (x < 0 || x > 65535)) throw bad(`'${v}' is out of range for '${name}' (0 to 65535)`);
        return x;
      }
      case "duration": {
        const m = /^(\d+(?:\.\d+)?)([a-zµ]*)$/.exec(v);
        if (!m) throw bad(`expected a duration such as 50ms, found '${v}'`);
        if (m[2] === "") {
          if (Number(m[1]) === 0) return 0;
          throw bad(`'${v}' needs a unit: ns, us, ms, s or min, as in ${v}ms`);
        }
        if (!(m[2] in DURATION_UNITS)) throw bad(`unknown duration unit '${m[2]}' in '${v}': use ns, us, ms, s or min`);
        return Number(m[1]) * DURATION_UNITS[m[2]];
      }
      case "bool": {
        const l = v.toLowerCase();
        if (["true", "yes", "1"].includes(l)) return true;
        if (["false", "no", "0"].includes(l)) return false;
        throw bad(`expected true or false, found '${v}'`);
      }
      case "ip": {
        const [addr, prefix] = v.split("/");
        const bytes = parseIpBytes(addr);
        if (!bytes) throw bad(`expected an IP address or CIDR block such as 10.0.0.0/8 or ::1 (names go with 'host'), found '${v}'`);
        const v4 = !addr.includes(":");
        let bits = 128;
        if (prefix !== undefined) {
          const p = Number(prefix);
          if (!/^\d+$/.test(prefix) || p > (v4 ? 32 : 128))
            throw bad(`bad CIDR block '${v}': the prefix length of an ${v4 ? "IPv4" : "IPv6"} block is 0 to ${v4 ? 32 : 128}`);
          bits = v4 ? 96 + p : p;
        }
        return { bytes, bits };
      }
      case "func": case "event": {
        const list = kind === "func" ? ctx.funcNames : ctx.eventNames;
        const l = v.toLowerCase();
        const hit = list.filter((x) => x.toLowerCase() === l);
        if (!hit.length && tok.t === "word" && !partial) {
          const near = list.find((x) => editDistance(x.toLowerCase(), l) <= 2);
          throw bad(`unknown ${kind === "func" ? "function" : "event"} '${v}'` + (near ? ` (did you mean '${near}'?)` : ""));
        }
        return l;
      }
      case "family": {
        const u = v.toUpperCase();
        return u.startsWith("AF_") ? u : "AF_" + u;
      }
      case "proto": {
        const u = v.toUpperCase();
        return u === "UNIX" ? "UNIX" : u.startsWith("IPPROTO_") ? u : "IPPROTO_" + u;
      }
      case "err": {
        if (/^-?\d+$/.test(v)) return { num: Number(v) };
        const u = v.toUpperCase();
        const known = ctx.errorSense(u);
        if (known === undefined && tok.t === "word" && !partial) {
          const near = ctx.errorNames.find((x) => editDistance(x, u) <= 2);
          throw bad(`unknown error name '${v}'` + (near ? ` (did you mean '${near}'?)` : ""));
        }
        return { name: u, sense: known || "" };
      }
      case "payload": {
        if (tok.t === "word" && /^0x([0-9a-fA-F]{2})+$/.test(v)) {
          const out = [];
          for (let j = 2; j < v.length; j += 2) out.push(parseInt(v.substr(j, 2), 16));
          return Uint8Array.from(out);
        }
        return Uint8Array.from(Array.from(new TextEncoder().encode(v)));
      }
      default: {
        let l = v.toLowerCase();
        if (name === "host" && l.endsWith(".")) l = l.slice(0, -1);
        return l;
      }
    }
  }
  function buildTest(name, kind, op, vals) {
    const any = (get, eq) => (i) => {
      const xs = get(i);
      if (xs === null) return false;
      for (const x of xs) for (const v of vals) if (eq(x, v)) return true;
      return false;
    };
    const none = (get, eq) => (i) => {
      const xs = get(i);
      if (xs === null) return false;
      for (const x of xs) for (const v of vals) if (eq(x, v)) return false;
      return true;
    };
    const many = ctx.getterMany(name);
    const negate = op === "!=" || op === "not in";
    const pick = (eq) => (negate ? none(many, eq) : any(many, eq));
    switch (kind) {
      case "number": case "port": case "duration": {
        const cmp = { "==": (a, b) => a === b, "!=": (a, b) => a === b, in: (a, b) => a === b,
          "not in": (a, b) => a === b, "<": (a, b) => a < b, "<=": (a, b) => a <= b,
          ">": (a, b) => a > b, ">=": (a, b) => a >= b }[op];
        return pick(cmp);
      }
      case "bool":
        return pick((a, b) => a === b);
      case "ip":
        return pick((a, v) => ipInBlock(a, v));
      case "payload": {
        const eq = { "==": (p, v) => p.whole && bytesEqual(p.bytes, v, 0),
          "!=": (p, v) => p.whole && bytesEqual(p.bytes, v, 0),
          in: (p, v) => p.whole && bytesEqual(p.bytes, v, 0),
          "not in": (p, v) => p.whole && bytesEqual(p.bytes, v, 0),
          contains: (p, v) => bytesIndexOf(p.bytes, v) >= 0,
          startswith: (p, v) => v.length <= p.bytes.length && bytesEqual(p.bytes.subarray(0, v.length), v, 0),
          endswith: (p, v) => p.whole && v.length <= p.bytes.length && bytesEqual(p.bytes.subarray(p.bytes.length - v.length), v, 0) }[op];
        return pick(eq);
      }
      case "err": {
        const named = (row, v) => {
          if (v.num !== undefined) return row.value === v.num;
          return row.name === v.name || row.posix === v.name || (v.sense !== "" && row.name === v.sense);
        };
        const text = { contains: (s, t) => s.includes(t), startswith: (s, t) => s.startsWith(t),
          endswith: (s, t) => s.endsWith(t) }[op];
        if (text) return pick((row, v) => v.name !== undefined && text(row.name, v.name));
        return pick(named);
      }
      default: {
        const norm = name === "proc" ? (s) => s.replace(/\.exe$/, "") : (s) => s;
        const text = { "==": (a, b) => a === b || norm(a) === norm(b), "!=": (a, b) => a === b || norm(a) === norm(b),
          in: (a, b) => a === b || norm(a) === norm(b), "not in": (a, b) => a === b || norm(a) === norm(b),
          contains: (a, b) => a.includes(b), startswith: (a, b) => a.startsWith(b),
          endswith: (a, b) => a.endsWith(b) }[op];
        return pick(text);
      }
    }
  }

  const fn = parseOr();
  if (peek().t !== "end") {
    const tok = peek();
    const extra = tok.t === "op" && tok.v === ")" ? " (no '(' is open)" : "";
    throw err(tok, `expected 'and', 'or' or the end of the filter, found ${found(tok)}${extra}`);
  }
  return fn;
}

function ipInBlock(addr, block) {
  let bits = block.bits;
  for (let j = 0; j < 16 && bits > 0; j++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((addr[j] & mask) !== (block.bytes[j] & mask)) return false;
  }
  return true;
}

function bytesEqual(a, b, at) {
  if (a.length - at !== b.length) return false;
  for (let j = 0; j < b.length; j++) if (a[at + j] !== b[j]) return false;
  return true;
}

function bytesIndexOf(hay, needle) {
  if (needle.length === 0) return 0;
  outer: for (let j = 0; j + needle.length <= hay.length; j++) {
    for (let m = 0; m < needle.length; m++) if (hay[j + m] !== needle[m]) continue outer;
    return j;
  }
  return -1;
}

function editDistance(a, b) {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}
