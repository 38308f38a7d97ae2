// The filter language of docs/filters.md in the browser: the same grammar, fields, values and
// messages as wstrace's own (src/filter/filter_*.cc), so that the report's filter box and
// `wstrace show --filter` pick the same calls. The fields, their kinds and the names of their
// constants come from wstrace itself (the report's data, write_filter in report_html.cc);
// what a call says beyond its own fields was gathered by wstrace with the filter's own
// functions (filter_facts). tests/report checks both against each other on real traces.
//
// compileFilter(text, ctx) returns a function of a call's index, or throws a FilterError whose
// message is the filter, a caret and the problem. ctx is given by the page:
//   fields        [{name, kind, signed, max, desc, noun, names: [{code, name, brief}…], refused,
//                 own}…]
//   kinds         Map of kind name → {desc, ops, fits}: how messages word the kind, its
//                 operators as they list them, and those operators one by one (filter_kinds)
//   errors        [{name, posix, domain, value}…] (every error wstrace knows)
//   errorAliases  [{alias, name}…] (EWOULDBLOCK for EAGAIN)
//   errorDomains  {errno, win, eai, herrno}: the domain numbers
//   getter(name, kind)  the value of a field for call i: numbers fill an array and return
//                 how many; code and flags give a number, text a lower-case string, error a
//                 "domain:value" key, ip an array of 16-byte arrays, bytes {bytes, whole},
//                 bool true/false; null (or 0 numbers) when the call does not have the field.
"use strict";

class FilterError extends Error {
  constructor(text, pos, what) {
    super(text.replace(/[\x00-\x1f\x7f]/g, " ") + "\n" + " ".repeat(pos) + "^ " + what);
    this.pos = pos;
    this.what = what;
  }
}

const KEYWORDS = ["and", "or", "not", "in", "contains", "startswith", "endswith"];
const MAX_DEPTH = 200;
const UINT64_MAX = 18446744073709551615n;
const INT64_MAX = 9223372036854775807n;

// ASCII-only case folding, as wstrace compares names and texts.
function lowerAscii(s) {
  return /[A-Z]/.test(s) ? s.replace(/[A-Z]+/g, (m) => m.toLowerCase()) : s;
}
const ieq = (a, b) => a.length === b.length && lowerAscii(a) === lowerAscii(b);
const istarts = (s, p) => s.length >= p.length && ieq(s.slice(0, p.length), p);
const iends = (s, p) => s.length >= p.length && ieq(s.slice(s.length - p.length), p);
const icontains = (s, n) => lowerAscii(s).includes(lowerAscii(n));
const isKeyword = (w) => KEYWORDS.includes(lowerAscii(w));

// UTF-8 bytes of a string as a "binary string" (one char per byte).
function utf8Binary(s) {
  return /^[\x00-\x7f]*$/.test(s) ? s : String.fromCharCode(...new TextEncoder().encode(s));
}
function binaryToBytes(b) {
  const out = new Uint8Array(b.length);
  for (let j = 0; j < b.length; j++) out[j] = b.charCodeAt(j);
  return out;
}
function binaryToText(b) {
  return /^[\x00-\x7f]*$/.test(b) ? b : new TextDecoder().decode(binaryToBytes(b));
}

// Tokens: {t: word|str|op|end|error, v, pos, len}; a str's v is its bytes as a binary string.
// The lexer stops at the first character it cannot read with an error token, which the
// parser reports when it gets there, as wstrace does.
function lexFilter(text) {
  const toks = [];
  const n = text.length;
  const isSpace = (c) => " \t\n\r\f\v".includes(c);
  const isControl = (c) => (c < " " && !isSpace(c)) || c === "\x7f";
  const special = "(),=!<>\"'&|";
  const hexByte = (c) => "0x" + c.charCodeAt(0).toString(16).padStart(2, "0");
  let i = 0;
  const push = (t, v, pos, len) => toks.push({ t, v, pos, len });
  const error = (pos, what) => { push("error", what, pos, 1); return toks; };
  for (;;) {
    while (i < n && isSpace(text[i])) i++;
    if (i === n) {
      push("end", "", n, 0);
      return toks;
    }
    const c = text[i], c2 = text[i + 1];
    const start = i;
    if ("(),".includes(c)) { push("op", c, i, 1); i++; continue; }
    if (c === "=") { const l = c2 === "=" ? 2 : 1; push("op", "==", i, l); i += l; continue; }
    if ("!<>".includes(c)) {
      const l = c2 === "=" ? 2 : 1;
      push("op", text.substr(i, l), i, l);
      i += l;
      continue;
    }
    if (c === "&" || c === "|") {
      if (c2 !== c) return error(i, `unexpected '${c}': write '${c}${c}' or '${c === "&" ? "and" : "or"}'`);
      push("op", c + c, i, 2);
      i += 2;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1, s = "";
      for (;;) {
        if (j >= n) return error(start, `unclosed string: expected a closing ${c} before the end of the filter`);
        const d = text[j];
        if (d === c) break;
        if (d !== "\\") {
          // One code point at a time, as its UTF-8 bytes.
          const cp = text.codePointAt(j);
          const ch = String.fromCodePoint(cp);
          s += utf8Binary(ch);
          j += ch.length;
          continue;
        }
        if (j + 1 >= n) { j = n; continue; }  // a backslash at the very end: unclosed
        const e = text[j + 1];
        const map = { "\\": "\\", '"': '"', "'": "'", n: "\n", r: "\r", t: "\t", "0": "\0" };
        if (e in map) { s += map[e]; j += 2; continue; }
        if (e === "x") {
          if (!/^[0-9a-fA-F]{2}$/.test(text.substr(j + 2, 2))) return error(j, "'\\x' needs two hex digits, as in \\x0d");
          s += String.fromCharCode(parseInt(text.substr(j + 2, 2), 16));
          j += 4;
          continue;
        }
        const shown = e > " " && e < "\x7f" ? e : hexByte(e);
        return error(j, `unknown escape '\\${shown}' in a string: use \\\\, \\", \\', \\n, \\r, \\t, \\0 or \\xNN`);
      }
      push("str", s, start, j + 1 - start);
      i = j + 1;
      continue;
    }
    if (isControl(c)) return error(i, `unexpected control character ${hexByte(c)} (write it as \\x.. inside a quoted string)`);
    while (i < n && !isSpace(text[i]) && !isControl(text[i]) && !special.includes(text[i])) i++;
    push("word", text.slice(start, i), start, i - start);
  }
}

// IPv4 or IPv6 text to 16 bytes (IPv4 as ::ffff:a.b.c.d) or null.
function parseIpBytes(s) {
  const v4 = (t) => {
    const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(t);
    if (!m) return null;
    const b = m.slice(1).map(Number);
    return b.every((x) => x < 256) ? b : null;
  };
  const b4 = v4(s);
  if (b4) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...b4];
  if (!s.includes(":")) return null;
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

// Optimal string alignment distance, ignoring case (closest() in filter_fields.cc).
function editDistance(a, b) {
  a = lowerAscii(a);
  b = lowerAscii(b);
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[a.length][b.length];
}

// The candidate closest to `word` when it is close enough to be a likely typo; "" otherwise.
function closest(word, candidates) {
  if (!word || word.length > 64) return "";
  const allowed = word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3;
  let best = "", bestD = allowed + 1, bestGap = 0;
  for (const c of candidates) {
    const d = editDistance(word, c);
    const gap = Math.abs(c.length - word.length);
    if (d < c.length && (d < bestD || (d === bestD && gap < bestGap))) {
      best = c;
      bestD = d;
      bestGap = gap;
    }
  }
  return best;
}

const shown = (s) => "'" + (s.length > 40 ? s.slice(0, 37) + "..." : s) + "'";
const PHRASE = { contains: "contains", startswith: "starts with", endswith: "ends with" };

// The language compiled for one page: the field table is read once.
function filterLanguage(ctx) {
  const fields = new Map();
  const usable = [];
  for (const { name, kind, signed, max, desc, noun, names, refused } of ctx.fields) {
    // A kind wstrace did not describe would be compiled by guesswork: refuse the page instead.
    if (!refused && !ctx.kinds.has(kind)) throw new Error(`no kind '${kind}' for the field '${name}'`);
    fields.set(name.toLowerCase(), { name, kind, signed: !!signed, max, desc, noun, refused, names });
    if (!refused) usable.push(name);
  }
  const errorByName = new Map();
  for (const e of ctx.errors) if (!errorByName.has(e.name)) errorByName.set(e.name, e);
  const errorNames = [...errorByName.keys()];  // suggestions come from these, as in wstrace
  const errors = [...errorByName.values()];
  for (const { alias, name } of ctx.errorAliases) errorByName.set(alias, errorByName.get(name));
  // The codes an error stands for: its own, and the same error under the other platform's
  // name (add_equivalents in filter_values.cc).
  const win = ctx.errorDomains.win;
  const equivalents = (e, out) => {
    out.add(e.domain + ":" + e.value);
    if (e.domain === win) {
      const p = e.posix ? errorByName.get(e.posix) : undefined;
      if (p) out.add(p.domain + ":" + p.value);
      return;
    }
    for (const w of errors)
      if (w.domain === win && w.posix && errorByName.get(w.posix) === e) out.add(w.domain + ":" + w.value);
  };
  const own = ctx.fields.filter((f) => f.own).map((f) => f.name);
  return { fields, allNames: usable, own, errorByName, errorNames, errors, equivalents };
}

function compileFilter(text, ctx) {
  const lang = ctx.language || (ctx.language = filterLanguage(ctx));
  const toks = lexFilter(text);
  let k = 0, depth = 0;
  const peek = (ahead = 0) => toks[Math.min(k + ahead, toks.length - 1)];
  const atKw = (w, ahead = 0) => peek(ahead).t === "word" && lowerAscii(peek(ahead).v) === w;
  const found = (t) => {
    if (t.t === "end") return "the end of the filter";
    const s = text.substr(t.pos, t.len);
    return s.length > 40 ? "'" + s.slice(0, 37) + "...'" : "'" + s + "'";
  };
  const fail = (pos, what) => new FilterError(text, pos, what);
  const unexpected = (expected) => {
    const t = peek();
    if (t.t === "error") return fail(t.pos, t.v);
    return fail(t.pos, `expected ${expected}, found ${found(t)}`);
  };
  const isOp = (t, v) => t.t === "op" && t.v === v;
  const atAnd = () => isOp(peek(), "&&") || atKw("and");
  const atOr = () => isOp(peek(), "||") || atKw("or");
  const enter = (pos) => {
    if (++depth > MAX_DEPTH) throw fail(pos, `the filter nests more than ${MAX_DEPTH} levels of '(' and 'not'`);
  };

  if (toks[0].t === "end")
    throw fail(0, "empty filter: write a condition such as 'rport == 443 and failed' (see docs/filters.md)");

  function parseOr() {
    const items = [parseAnd()];
    while (atOr()) { k++; items.push(parseAnd()); }
    return items.length === 1 ? items[0] : (i) => items.some((f) => f(i));
  }
  function parseAnd() {
    const items = [parseUnary()];
    while (atAnd()) { k++; items.push(parseUnary()); }
    return items.length === 1 ? items[0] : (i) => items.every((f) => f(i));
  }
  function parseUnary() {
    if (!isOp(peek(), "!") && !atKw("not")) return parsePrimary();
    enter(peek().pos);
    k++;
    const a = parseUnary();
    depth--;
    return (i) => !a(i);
  }
  function parsePrimary() {
    const t = peek();
    if (isOp(t, "(")) {
      enter(t.pos);
      k++;
      const inner = parseOr();
      depth--;
      if (isOp(peek(), ")")) { k++; return inner; }
      if (peek().t === "end") throw fail(t.pos, "unclosed '(': expected ')' before the end of the filter");
      throw unexpected("'and', 'or' or ')'");
    }
    if (t.t === "word" && !isKeyword(t.v)) return parseTest();
    throw unexpected("a condition (a field such as 'rport' or 'failed', 'not' or '(')");
  }

  function findField(t) {
    const f = lang.fields.get(t.v.toLowerCase());
    if (f && !f.refused) return f;
    if (f) throw fail(t.pos, f.refused);
    const near = closest(t.v, lang.allNames);
    throw fail(t.pos, `unknown field '${t.v}'` + (near ? ` (did you mean '${near}'?)`
      : `: fields are ${lang.own.join(", ")} (see docs/filters.md)`));
  }

  function readOperator() {
    const t = peek();
    if (t.t === "op" && ["==", "!=", "<", "<=", ">", ">="].includes(t.v)) return [t.v, 1, t.v];
    for (const w of ["in", "contains", "startswith", "endswith"])
      if (atKw(w)) return [w === "in" ? "==" : w, 1, t.v];
    if (atKw("not") && atKw("in", 1)) return ["!=", 2, "not in"];
    return [null, 0, ""];
  }

  function parseTest() {
    const ft = peek();
    const f = findField(ft);
    k++;
    const ot = peek();
    const [op, ntok, opText] = readOperator();
    if (!op) {
      // A field alone: the event has it (`failed`: the call failed).
      const next = peek();
      const word = next.t === "word" && !atKw("and") && !atKw("or");
      if (f.kind !== "bool" && (word || next.t === "str"))
        throw fail(next.pos, `expected an operator such as '==', '<', 'in' or 'contains' after '${f.name}', found ${found(next)}`);
      return buildTest(f, "exists", []);
    }
    const kind = ctx.kinds.get(f.kind);
    if (!kind.fits.includes(op))
      throw fail(ot.pos, `'${opText}' does not apply to '${f.name}' (${kind.desc}): use ${kind.ops}`);
    k += ntok;
    const ordering = ["<", "<=", ">", ">="].includes(op);
    const values = [];
    if (isOp(peek(), "(")) {
      const open = peek().pos;
      if (ordering) throw fail(open, `'${opText}' compares with one value, not a list`);
      k++;
      for (;;) {
        readValue(f, op, values);
        if (isOp(peek(), ",")) { k++; continue; }
        if (isOp(peek(), ")")) { k++; break; }
        if (peek().t === "end") throw fail(open, "unclosed '(': expected ')' to close the list");
        throw unexpected("',' or ')' in the list");
      }
    } else {
      readValue(f, op, values);
    }
    // contains/startswith/endswith on names became sets of codes.
    let testOp = op;
    if (f.kind === "code" || f.kind === "error") testOp = op === "!=" ? "!=" : "==";
    return buildTest(f, testOp, values);
  }

  function readValue(f, op, out) {
    const t = peek();
    const usable = t.t === "str" || (t.t === "word" && !isKeyword(t.v));
    if (!usable) {
      if (t.t === "error") throw fail(t.pos, t.v);
      const raw = !["func", "event", "family", "proto"].includes(f.name);
      throw unexpected((f.kind === "code" || f.kind === "flags") && raw ? `a ${f.noun} name` : f.desc);
    }
    // A word is text as written; a quoted string's bytes are turned back into text for
    // everything but payloads.
    const s = t.t === "str" ? binaryToText(t.v) : t.v;
    const bad = (what) => fail(t.pos, what);
    switch (f.kind) {
      case "number": out.push(readNumber(f, s, bad)); break;
      case "duration": out.push(readDuration(s, bad)); break;
      case "flags": out.push(readFlags(f, s, bad)); break;
      case "bool": out.push(readBool(s, bad)); break;
      case "code": readCodes(f, op, s, out, bad); break;
      case "error": readErrors(op, s, out, bad); break;
      case "ip": out.push(readCidr(s, bad)); break;
      case "text": {
        let l = lowerAscii(s);
        if (f.name === "host" && l.length > 1 && l.endsWith(".")) l = l.slice(0, -1);
        out.push(l);
        break;
      }
      case "bytes": out.push(readPayload(t.t === "str" ? t.v : utf8Binary(t.v), t.t === "str", bad)); break;
    }
    k++;
  }

  function parseUnsigned(s) {
    let body = s, base = 10;
    if (s.length > 2 && s[0] === "0" && (s[1] === "x" || s[1] === "X")) { body = s.slice(2); base = 16; }
    if (!body || !(base === 16 ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(body)) return null;
    return BigInt((base === 16 ? "0x" : "") + body);
  }
  function readNumber(f, s, bad) {
    const negative = s.startsWith("-");
    const mag = parseUnsigned(negative ? s.slice(1) : s);
    if (mag === null) throw bad(`expected ${f.desc}, found ${shown(s)}`);
    if (negative && !f.signed) throw bad(`expected ${f.desc}, found ${shown(s)}: '${f.name}' is never negative`);
    const max = f.max >= 18446744073709551615 ? UINT64_MAX : BigInt(f.max);
    const limit = f.signed ? (negative ? INT64_MAX + 1n : INT64_MAX) : max;
    if (mag > UINT64_MAX || mag > limit)
      throw bad(`${shown(s)} is out of range for '${f.name}'` + (f.signed ? "" : ` (0 to ${max})`));
    return Number(negative ? -mag : mag);
  }
  function readDuration(s, bad) {
    const m = /^(\d*)(?:\.(\d*))?(.*)$/s.exec(s);
    const expected = "expected a duration such as 50ms, 1.5s or 200us, found " + shown(s);
    if (!m || (m[1] === "" && !m[2])) throw bad(expected);
    const whole = BigInt(m[1] || "0"), frac = m[2] || "", unit = m[3];
    const units = { ns: 1n, us: 1000n, "µs": 1000n, ms: 1000000n, s: 1000000000n, min: 60000000000n };
    if (unit === "") {
      if (whole === 0n && !/[1-9]/.test(frac)) return 0;
      throw bad(`${shown(s)} needs a unit: ns, us, ms, s or min, as in ${s}ms`);
    }
    const key = Object.keys(units).find((u) => ieq(u, unit));
    if (!key) throw bad(`unknown duration unit '${unit}' in ${shown(s)}: use ns, us, ms, s or min`);
    const mult = units[key];
    let part = 0n, scale = mult;
    for (const c of frac) { scale /= 10n; part += BigInt(c) * scale; }
    const total = whole * mult + part;
    if (total > UINT64_MAX) throw bad(`${shown(s)} is too long a duration`);
    return Number(total);
  }
  function nameMatches(n, op, v) {
    switch (op) {
      case "contains": return icontains(n.name, v);
      case "startswith": return istarts(n.name, v) || istarts(n.brief, v);
      case "endswith": return iends(n.name, v);
      default: return ieq(n.name, v) || ieq(n.brief, v);
    }
  }
  // "unknown socket type 'strem' (did you mean 'stream'?)", in the style the user wrote.
  function unknownCodeName(f, s) {
    const full = s.includes("_") || f.name === "func" || f.name === "event";
    const candidates = f.names.map((n) => (full ? n.name : lowerAscii(n.brief)));
    const near = closest(s, candidates);
    return `unknown ${f.noun} ${shown(s)}` + (near ? ` (did you mean '${near}'?)` : "");
  }
  function readCodes(f, op, s, out, bad) {
    const before = out.length;
    for (const n of f.names) if (nameMatches(n, op, s)) out.push(n.code);
    if (out.length > before) return;
    if (s === "") throw bad(`expected ${f.desc}, found ''`);
    if (op !== "==" && op !== "!=") throw bad(`no ${f.noun} name ${PHRASE[op]} ${shown(s)}`);
    throw bad(unknownCodeName(f, s));
  }
  function readFlags(f, s, bad) {
    const v = parseUnsigned(s);
    if (v !== null && v === 0n) return 0;
    for (const n of f.names) if (n.code < 32 && nameMatches(n, "==", s)) return 2 ** n.code;
    throw bad(unknownCodeName(f, s));
  }
  function readErrors(op, s, out, bad) {
    const negative = s.startsWith("-");
    const mag = parseUnsigned(negative ? s.slice(1) : s);
    const d = ctx.errorDomains;
    if (mag !== null) {
      // A number stands for that value in every domain (getaddrinfo codes with either sign).
      if (op !== "==" && op !== "!=") throw bad(`expected an error name, found ${shown(s)}`);
      if (mag > 2147483647n) throw bad(`${shown(s)} is not an error number`);
      const v = Number(negative ? -mag : mag);
      for (const dom of [d.errno, d.win, d.eai, d.herrno]) out.push(dom + ":" + v);
      out.push(d.eai + ":" + -v);
      return;
    }
    const set = new Set();
    if (op === "==" || op === "!=") {
      const e = lang.errorByName.get(s.toUpperCase());
      if (!e) {
        const near = closest(s, lang.errorNames);
        throw bad(`unknown error name ${shown(s)}` + (near ? ` (did you mean '${near}'?)` : ""));
      }
      lang.equivalents(e, set);
    } else {
      const hit = op === "contains" ? icontains : op === "startswith" ? istarts : iends;
      for (const e of lang.errors) if (hit(e.name, s)) lang.equivalents(e, set);
      if (!set.size) throw bad(`no error name ${PHRASE[op]} ${shown(s)}`);
    }
    out.push(...set);
  }
  function readBool(s, bad) {
    if (["true", "yes", "1"].some((x) => ieq(s, x))) return true;
    if (["false", "no", "0"].some((x) => ieq(s, x))) return false;
    throw bad(`expected true or false, found ${shown(s)}`);
  }
  function readCidr(s, bad) {
    const expected = `expected an IP address or CIDR block such as 10.0.0.0/8 or ::1 (names go with 'host'), found ${shown(s)}`;
    const slash = s.indexOf("/");
    let addr = slash < 0 ? s : s.slice(0, slash);
    const prefix = slash < 0 ? null : s.slice(slash + 1);
    if (addr.length > 2 && addr.startsWith("[") && addr.endsWith("]")) addr = addr.slice(1, -1);
    if (addr.includes("%")) throw bad(`${shown(s)}: IPv6 zone ids (%...) are not supported in filters`);
    const v6 = addr.includes(":");
    const bytes = parseIpBytes(addr);
    if (!bytes)
      throw bad(prefix !== null ? `bad CIDR block ${shown(s)}: ${shown(addr)} is not an IP address` : expected);
    const maxBits = v6 ? 128 : 32;
    let bits = maxBits;
    if (prefix !== null) {
      if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > maxBits)
        throw bad(`bad CIDR block ${shown(s)}: the prefix length of an ${v6 ? "IPv6 block is 0 to 128" : "IPv4 block is 0 to 32"}`);
      bits = Number(prefix);
    }
    return { bytes, bits: v6 ? bits : bits + 96 };
  }
  function readPayload(bin, quoted, bad) {
    if (quoted || bin.length < 3 || bin[0] !== "0" || (bin[1] !== "x" && bin[1] !== "X")) return binaryToBytes(bin);
    const hex = bin.slice(2);
    if (!/^[0-9a-fA-F]+$/.test(hex)) return binaryToBytes(bin);  // not hex after all: text
    if (hex.length % 2)
      throw bad(`${shown(bin)} has an odd number of hex digits: write whole bytes, as in 0x1603 (or quote it to mean the text)`);
    const out = new Uint8Array(hex.length / 2);
    for (let j = 0; j < out.length; j++) out[j] = parseInt(hex.substr(2 * j, 2), 16);
    return out;
  }

  // ---- the tests (filter_eval.cc) ----
  function buildTest(f, op, vals) {
    const get = ctx.getter(f.name, f.kind);
    const eqOp = op === "==", neOp = op === "!=", exists = op === "exists";
    switch (f.kind) {
      case "number": case "duration": {
        const buf = [0, 0, 0, 0];
        if (exists) return (i) => get(i, buf) > 0;
        if (eqOp || neOp) {
          return (i) => {
            const count = get(i, buf);
            if (!count) return false;
            let any = false;
            for (let a = 0; a < count && !any; a++) for (const v of vals) if (buf[a] === v) { any = true; break; }
            return any === eqOp;
          };
        }
        const c = vals[0];
        const cmp = { "<": (a) => a < c, "<=": (a) => a <= c, ">": (a) => a > c, ">=": (a) => a >= c }[op];
        return (i) => {
          const count = get(i, buf);
          for (let a = 0; a < count; a++) if (cmp(buf[a])) return true;
          return false;
        };
      }
      case "text": {
        const one = {
          contains: (s, c) => s.includes(c), startswith: (s, c) => s.startsWith(c),
          endswith: (s, c) => s.endsWith(c),
        }[op] || ((s, c) => s === c || (f.name === "proc" && s === c + ".exe"));
        return (i) => {
          const s = get(i);
          if (s === null) return false;
          if (exists) return true;
          let any = false;
          for (const c of vals) if (one(s, c)) { any = true; break; }
          return neOp ? !any : any;
        };
      }
      case "code": case "error": {
        const set = new Set(vals);
        return (i) => {
          const v = get(i);
          if (v === null) return false;
          if (exists) return true;
          return set.has(v) === !neOp;
        };
      }
      case "flags":
        return (i) => {
          const x = get(i);
          if (x === null) return false;
          if (exists) return true;
          let any = false;
          for (const c of vals) {
            // Flags are bits 0 to 31: compare as unsigned 32-bit words.
            if (op === "contains" ? ((x & c) >>> 0) === c : x === c) { any = true; break; }
          }
          return neOp ? !any : any;
        };
      case "bool":
        return (i) => {
          const failed = get(i);
          if (exists) return failed;
          let any = false;
          for (const v of vals) any = any || v === failed;
          return neOp ? !any : any;
        };
      case "ip":
        return (i) => {
          const ends = get(i);
          if (ends === null || !ends.length) return false;
          if (exists) return true;
          let hit = false;
          for (const a of ends) for (const b of vals) if (ipInBlock(a, b)) { hit = true; break; }
          return hit === !neOp;
        };
      case "bytes":
        return (i) => {
          const p = get(i);
          if (p === null) return false;
          if (exists) return true;
          let any = false;
          for (const c of vals) {
            switch (op) {
              case "contains": any = bytesIndexOf(p.bytes, c) >= 0; break;
              case "startswith": any = c.length <= p.bytes.length && bytesEqual(p.bytes.subarray(0, c.length), c); break;
              case "endswith": any = p.whole && c.length <= p.bytes.length && bytesEqual(p.bytes.subarray(p.bytes.length - c.length), c); break;
              default: any = p.whole && bytesEqual(p.bytes, c); break;
            }
            if (any) break;
          }
          return neOp ? !any : any;
        };
    }
    throw new Error("unknown field kind " + f.kind);
  }

  const fn = parseOr();
  if (isOp(peek(), ")")) throw fail(peek().pos, "expected 'and', 'or' or the end of the filter, found ')' (no '(' is open)");
  if (peek().t !== "end") throw unexpected("'and', 'or' or the end of the filter");
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

function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  for (let j = 0; j < b.length; j++) if (a[j] !== b[j]) return false;
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
