#!/usr/bin/env python3
"""Generate wstrace's constant tables (src/consts) from the data files in data/*.tsv.

Usage: gen_constants.py --out DIR FILE.tsv...

Reads every table file, checks it (columns, numbers, names, duplicates, cross references) and
writes DIR/constants_generated.h (named codes for C++) and DIR/constants_generated.inc (the
arrays that src/consts/constants.cc includes). Any problem is reported as FILE:LINE: message
and the exit status is 1; nothing is written then. Python 3 standard library only.

File format (see docs/constants.md): UTF-8/ASCII text, one row per line, fields separated by a
single TAB. Lines starting with '#' are comments; the header must contain a '# From:' line (the
provenance of the numbers) and a '# columns:' line naming the columns in order. Empty fields are
not allowed; write '-' for "none".
"""

import argparse
import os
import re
import sys

# ---- What the files are ---------------------------------------------------------------------

ERROR_COLUMNS = ["name", "value", "meaning", "hint", "posix"]
VALUE_COLUMNS = ["code", "name", "linux", "windows", "meaning"]
SOCKOPT_COLUMNS = ["code", "name", "level", "linux", "windows", "meaning"]

# Error domains: file -> (ErrDomain enumerator, order). Order is the ErrDomain value.
ERROR_FILES = {
    "errors_errno.tsv": ("Errno", 1),
    "errors_win.tsv": ("Win", 2),
    "errors_eai.tsv": ("Eai", 3),
    "errors_herrno.tsv": ("HErrno", 4),
}
# Domains whose names may appear in the posix column of another row.
POSIX_DOMAINS = ("Errno", "Eai", "HErrno")


class TableSpec:
    def __init__(self, file, enum, namespace, title, kind, strip, unknown_prefix):
        self.file = file                      # data file name
        self.enum = enum                      # ConstTable enumerator
        self.namespace = namespace            # C++ namespace of the named codes
        self.title = title                    # table_name()
        self.kind = kind                      # "enum" or "flags"
        self.strip = strip                    # prefix removed for identifiers ("" = keep)
        self.unknown_prefix = unknown_prefix  # how unknown values print: PREFIX???(n)


# In ConstTable order (ConstTable::None = 0 is not a file).
TABLES = [
    TableSpec("addr_family.tsv", "AddrFamily", "af", "address family", "enum", "AF_", "AF_"),
    TableSpec("sock_type.tsv", "SockType", "socktype", "socket type", "enum", "SOCK_", "SOCK_"),
    TableSpec("sock_type_flags.tsv", "SockTypeFlags", "sockflag", "socket type flag", "flags",
              "SOCK_", "SOCK_"),
    TableSpec("protocol.tsv", "Protocol", "proto", "protocol", "enum", "IPPROTO_", "IPPROTO_"),
    TableSpec("msg_flags.tsv", "MsgFlags", "msgflag", "message flag", "flags", "MSG_", "MSG_"),
    TableSpec("sockopt_level.tsv", "SockOptLevel", "solevel", "socket option level", "enum", "",
              "SOL_"),
    TableSpec("sockopt.tsv", "SockOpt", "sockopt", "socket option", "enum", "", "SOCKOPT_"),
    TableSpec("ioctl.tsv", "Ioctl", "ioctl", "ioctl request", "enum", "", "IOCTL_"),
    TableSpec("shutdown_how.tsv", "ShutdownHow", "shut", "shutdown direction", "enum", "SHUT_",
              "SHUT_"),
    TableSpec("ai_flags.tsv", "AiFlags", "aiflag", "getaddrinfo flag", "flags", "AI_", "AI_"),
    TableSpec("poll_events.tsv", "PollEvents", "pollev", "poll event", "flags", "POLL", "POLL"),
    TableSpec("fd_events.tsv", "FdEvents", "fdev", "network event", "flags", "FD_", "FD_"),
    TableSpec("tcp_states.tsv", "TcpState", "tcpstate", "TCP state", "enum", "", "TCP_"),
    TableSpec("epoll_op.tsv", "EpollOp", "epollop", "epoll_ctl operation", "enum", "EPOLL_CTL_",
              "EPOLL_CTL_"),
    TableSpec("epoll_events.tsv", "EpollEvents", "epollev", "epoll event", "flags", "EPOLL",
              "EPOLL"),
]
TABLE_BY_FILE = {t.file: t for t in TABLES}

ERROR_NAMESPACE = "errcode"

NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ERROR_NAME_RE = re.compile(r"^[A-Z_][A-Z0-9_]*$")
NUMBER_RE = re.compile(r"^-?(0[xX][0-9a-fA-F]+|[0-9]+)$")
INT32_MIN = -(1 << 31)
UINT32_MAX = (1 << 32) - 1


class Problems:
    """Collects every problem so that one run reports all of them."""

    def __init__(self):
        self.items = []

    def add(self, where, message):
        self.items.append(f"{where}: {message}")


# ---- Reading -----------------------------------------------------------------------------------

class Row:
    def __init__(self, path, line, fields):
        self.path = path
        self.line = line
        self.fields = fields

    @property
    def where(self):
        return f"{self.path}:{self.line}"


def read_table(path, expected_columns, problems):
    """Returns the rows of one file, checking its header and the shape of every row."""
    try:
        with open(path, "r", encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except OSError as e:
        problems.add(path, f"cannot read: {e.strerror}")
        return []
    except UnicodeDecodeError as e:
        problems.add(path, f"not valid UTF-8 ({e.reason} at byte {e.start})")
        return []

    problems_before = len(problems.items)
    rows = []
    have_from = False
    columns = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw[:-1] if raw.endswith("\r") else raw
        where = f"{path}:{number}"
        if line.strip() == "":
            continue
        if line.startswith("#"):
            body = line[1:].strip()
            if body.lower().startswith("from:"):
                have_from = True
            elif body.lower().startswith("columns:"):
                columns = body[len("columns:"):].split()
                if columns != expected_columns:
                    problems.add(where, "the columns line must read '# columns: "
                                 + " ".join(expected_columns) + "' (tab- or space-separated), "
                                 "found '" + " ".join(columns) + "'")
            continue
        if columns is None:
            problems.add(where, "data before the '# columns:' header line")
            columns = expected_columns  # report the rest against the expected shape
        fields = line.split("\t")
        if len(fields) != len(expected_columns):
            problems.add(where, f"expected {len(expected_columns)} tab-separated fields "
                         f"({', '.join(expected_columns)}), found {len(fields)}")
            continue
        bad = False
        for name, value in zip(expected_columns, fields):
            if value == "":
                problems.add(where, f"empty {name} field (write '-' for none)")
                bad = True
            elif value != value.strip():
                problems.add(where, f"{name} field has leading or trailing spaces: '{value}'")
                bad = True
            elif any(ord(c) < 0x20 or ord(c) > 0x7E for c in value):
                problems.add(where, f"{name} field must be printable ASCII: '{value}'")
                bad = True
        if not bad:
            rows.append(Row(path, number, dict(zip(expected_columns, fields))))
    if not have_from:
        problems.add(path, "the header needs a '# From:' line that says where the numbers come "
                     "from")
    if columns is None:
        problems.add(path, "the header needs a '# columns:' line")
    if not rows and len(problems.items) == problems_before:
        problems.add(path, "the table has no rows")
    return rows


def parse_number(text, where, what, problems):
    if not NUMBER_RE.match(text):
        problems.add(where, f"{what} '{text}' is not a number (decimal, or hex with 0x)")
        return None
    return int(text, 0)


def parse_platform_value(text, where, what, problems):
    """'-' means absent (None); otherwise a number that fits in 32 bits."""
    if text == "-":
        return None
    value = parse_number(text, where, what, problems)
    if value is None:
        return None
    if value < INT32_MIN or value > UINT32_MAX:
        problems.add(where, f"{what} {text} does not fit in 32 bits")
        return None
    return value


# ---- Checking ----------------------------------------------------------------------------------

def identifier(name, strip):
    """k + CamelCase of the constant name without the table's prefix: AF_INET6 -> kInet6."""
    rest = name[len(strip):] if strip and name.startswith(strip) else name
    parts = [p for p in rest.split("_") if p]
    return "k" + "".join(p[0].upper() + p[1:].lower() for p in parts)


def check_text(row, column, problems):
    text = row.fields[column]
    if text == "-":
        problems.add(row.where, f"the {column} must not be empty")


def load_errors(paths, problems):
    """Returns (errors, aliases). errors: list of dicts; aliases: list of (name, target, where)."""
    errors = []
    aliases = []
    for path, domain in paths:
        by_value = {}
        for row in read_table(path, ERROR_COLUMNS, problems):
            f = row.fields
            name = f["name"]
            if not ERROR_NAME_RE.match(name):
                problems.add(row.where, f"error name '{name}' must be upper-case letters, digits "
                             "and '_'")
                continue
            if f["value"].startswith("="):
                target = f["value"][1:]
                if f["hint"] != "-" or f["posix"] != "-":
                    problems.add(row.where, "an alias row ('=NAME') takes its hint and posix "
                                 "from NAME: write '-' in both")
                aliases.append({"name": name, "target": target, "domain": domain,
                                "where": row.where})
                continue
            value = parse_number(f["value"], row.where, "value", problems)
            if value is None:
                continue
            if value < INT32_MIN or value > (1 << 31) - 1:
                problems.add(row.where, f"value {value} does not fit in a signed 32-bit number")
                continue
            check_text(row, "meaning", problems)
            check_text(row, "hint", problems)
            if value in by_value:
                problems.add(row.where, f"value {value} is already used by {by_value[value]} "
                             "(make one of them an alias row: '=NAME')")
                continue
            by_value[value] = name
            errors.append({"domain": domain, "value": value, "name": name,
                           "meaning": f["meaning"], "hint": f["hint"],
                           "posix": "" if f["posix"] == "-" else f["posix"],
                           "where": row.where})
    return errors, aliases


def check_errors(errors, aliases, problems):
    names = {}
    for e in errors:
        if e["name"] in names:
            problems.add(e["where"], f"name {e['name']} is already used at {names[e['name']]}")
        else:
            names[e["name"]] = e["where"]
    canonical = {e["name"]: e for e in errors}
    for a in aliases:
        if a["name"] in names:
            problems.add(a["where"], f"name {a['name']} is already used at {names[a['name']]}")
            continue
        names[a["name"]] = a["where"]
        target = canonical.get(a["target"])
        if target is None:
            problems.add(a["where"], f"alias target {a['target']} is not a row of its own in "
                         "this file")
        elif target["domain"] != a["domain"]:
            problems.add(a["where"], f"alias target {a['target']} is in another domain")
        else:
            a["entry"] = target
    idents = {}
    for item in errors + [a for a in aliases if "entry" in a]:
        ident = identifier(item["name"], "")
        if ident in idents:
            problems.add(item["where"], f"{item['name']} and {idents[ident]} both become "
                         f"ws::{ERROR_NAMESPACE}::{ident}")
        idents[ident] = item["name"]
    posix_names = {e["name"] for e in errors if e["domain"] in POSIX_DOMAINS}
    posix_names |= {a["name"] for a in aliases if a["domain"] in POSIX_DOMAINS}
    for e in errors:
        if e["posix"] and e["posix"] not in posix_names:
            problems.add(e["where"], f"posix '{e['posix']}' is not a Linux errno, EAI_ or "
                         "h_errno name from the data files")
        if e["posix"] and e["domain"] in POSIX_DOMAINS:
            problems.add(e["where"], "only Windows rows have a posix equivalent; write '-'")


def load_table(spec, path, levels, problems):
    columns = SOCKOPT_COLUMNS if spec.enum == "SockOpt" else VALUE_COLUMNS
    entries = []
    by_code, by_name, by_ident = {}, {}, {}
    by_value = {"linux": {}, "windows": {}}
    for row in read_table(path, columns, problems):
        f = row.fields
        code = parse_number(f["code"], row.where, "code", problems)
        name = f["name"]
        ok = code is not None
        if ok and spec.kind == "flags" and not 0 <= code <= 31:
            problems.add(row.where, f"code {code} of a flags table must be a bit number 0-31")
            ok = False
        if ok and spec.kind == "enum" and not 0 <= code <= (1 << 31) - 1:
            problems.add(row.where, f"code {code} must be between 0 and 2147483647")
            ok = False
        if not NAME_RE.match(name):
            problems.add(row.where, f"name '{name}' is not a C identifier")
            ok = False
        elif spec.strip and not name.startswith(spec.strip):
            problems.add(row.where, f"name '{name}' must start with {spec.strip}")
            ok = False
        linux = parse_platform_value(f["linux"], row.where, "linux value", problems)
        windows = parse_platform_value(f["windows"], row.where, "windows value", problems)
        if f["linux"] == "-" and f["windows"] == "-":
            problems.add(row.where, "the constant needs a value on at least one platform")
            ok = False
        check_text(row, "meaning", problems)
        level = 0
        if spec.enum == "SockOpt":
            if f["level"] not in levels:
                problems.add(row.where, f"level '{f['level']}' is not a name in "
                             "sockopt_level.tsv")
                ok = False
            else:
                level = levels[f["level"]]
        if not ok:
            continue
        if code in by_code:
            problems.add(row.where, f"code {code} is already used by {by_code[code]}")
            continue
        if name in by_name:
            problems.add(row.where, f"name {name} is already used on line {by_name[name]}")
            continue
        ident = identifier(name, spec.strip)
        if ident in by_ident:
            problems.add(row.where, f"{name} and {by_ident[ident]} both become "
                         f"ws::{spec.namespace}::{ident}")
            continue
        for plat, value in (("linux", linux), ("windows", windows)):
            if value is None:
                continue
            if spec.kind == "flags":
                if value == 0:
                    problems.add(row.where, f"{plat} value of a flag must not be 0")
                    ok = False
                continue  # flags may share bits (Windows POLLOUT == POLLWRNORM)
            key = (level, value & UINT32_MAX)
            if key in by_value[plat]:
                scope = f" at level {f['level']}" if spec.enum == "SockOpt" else ""
                problems.add(row.where, f"{plat} value {f[plat]}{scope} is already used by "
                             f"{by_value[plat][key]}")
                ok = False
            else:
                by_value[plat][key] = name
        if not ok:
            continue
        by_code[code] = name
        by_name[name] = row.line
        by_ident[ident] = name
        entries.append({"code": code, "name": name, "linux": linux, "windows": windows,
                        "meaning": f["meaning"], "level": level, "ident": ident,
                        "level_name": f.get("level", "")})
    entries.sort(key=lambda e: e["code"])
    return entries


def sockopt_prefixes(levels_entries, opts):
    """Per level code: the common NAME_ prefix of its options (SO_, TCP_ ...), or ''."""
    result = {}
    for lv in levels_entries:
        names = [o["name"] for o in opts if o["level"] == lv["code"]]
        firsts = {n.split("_", 1)[0] + "_" for n in names}
        result[lv["code"]] = firsts.pop() if len(firsts) == 1 else ""
    return result


# ---- Writing -----------------------------------------------------------------------------------

def cxx_string(text):
    out = []
    prev = ""
    for c in text:
        if c in "\\\"":
            out.append("\\" + c)
        elif c == "?" and prev == "?":
            out.append("\\?")  # never form a trigraph
        else:
            out.append(c)
        prev = c
    return '"' + "".join(out) + '"'


def cxx_value(value):
    if value is None:
        return "kAbsent"
    return str(value)


BANNER = ("// DO NOT EDIT: generated by tools/gen_constants.py from data/*.tsv.\n"
          "// Change the data files (see docs/constants.md) and rebuild.\n")


def render_header(tables, errors, aliases):
    out = [BANNER, "// Named codes of wstrace's constant tables; included by constants.h.\n",
           "#pragma once\n\n#include <cstdint>\n\nnamespace ws {\n"]
    for spec, entries in tables:
        out.append(f"\n// {spec.title} ({spec.file})\nnamespace {spec.namespace} {{\n")
        for e in entries:
            if spec.kind == "flags":
                value = f"uint64_t{{1}} << {e['code']}"
            else:
                value = str(e["code"])
            out.append(f"inline constexpr uint64_t {e['ident']} = {value};  // {e['name']}\n")
        out.append(f"}}  // namespace {spec.namespace}\n")
    out.append(f"\n// error codes (errors_*.tsv)\nnamespace {ERROR_NAMESPACE} {{\n")
    for e in errors:
        ident = identifier(e["name"], "")
        out.append(f"inline constexpr ErrorCode {ident}{{ErrDomain::{e['domain']}, "
                   f"{e['value']}}};  // {e['name']}\n")
    for a in aliases:
        ident = identifier(a["name"], "")
        t = a["entry"]
        out.append(f"inline constexpr ErrorCode {ident}{{ErrDomain::{t['domain']}, "
                   f"{t['value']}}};  // {a['name']} = {t['name']}\n")
    out.append(f"}}  // namespace {ERROR_NAMESPACE}\n\n}}  // namespace ws\n")
    return "".join(out)


def render_inc(tables, errors, aliases, prefixes):
    out = [BANNER, "// The tables behind src/consts/constants.cc; included there once.\n\n"]
    out.append(f"// Every error, sorted by domain and value ({len(errors)} entries).\n")
    out.append("constexpr ErrorInfo kErrors[] = {\n")
    for e in errors:
        out.append(f"    {{ErrDomain::{e['domain']}, {e['value']}, {cxx_string(e['name'])},\n"
                   f"     {cxx_string(e['meaning'])},\n"
                   f"     {cxx_string(e['hint'])},\n"
                   f"     {cxx_string(e['posix'])}}},\n")
    out.append("};\n\n")
    index = {id(e): i for i, e in enumerate(errors)}
    names = [(e["name"], index[id(e)]) for e in errors]
    names += [(a["name"], index[id(a["entry"])]) for a in aliases]
    names.sort()
    out.append("// Every error name and alias (upper case, sorted) -> index in kErrors.\n")
    out.append("constexpr ErrorName kErrorNames[] = {\n")
    for name, i in names:
        out.append(f"    {{{cxx_string(name)}, {i}}},\n")
    out.append("};\n")

    for spec, entries in tables:
        out.append(f"\n// {spec.title}: {spec.file} ({len(entries)} entries, sorted by code)\n")
        out.append(f"constexpr ConstInfo kTable{spec.enum}[] = {{\n")
        for e in entries:
            out.append(f"    {{{e['code']}, {cxx_string(e['name'])}, {cxx_value(e['linux'])}, "
                       f"{cxx_value(e['windows'])},\n     {cxx_string(e['meaning'])}, "
                       f"{e['level']}}},\n")
        out.append("};\n")

    out.append("\n// Indexed by ConstTable.\nconstexpr TableDesc kTables[] = {\n")
    out.append('    {"", "", false, {}},\n')
    for spec, _ in tables:
        flags = "true" if spec.kind == "flags" else "false"
        out.append(f"    {{{cxx_string(spec.title)}, {cxx_string(spec.unknown_prefix)}, {flags}, "
                   f"kTable{spec.enum}}},\n")
    out.append("};\n")
    out.append(f"static_assert(sizeof(kTables) / sizeof(kTables[0]) == {len(tables) + 1});\n")

    out.append("\n// Per socket option level code: how its unknown options print (SO_???(n)).\n")
    out.append("constexpr LevelPrefix kLevelPrefixes[] = {\n")
    for code in sorted(prefixes):
        out.append(f"    {{{code}, {cxx_string(prefixes[code])}}},\n")
    out.append("};\n")
    return "".join(out)


def write_if_changed(path, text):
    try:
        with open(path, "r", encoding="utf-8", newline="") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)
    os.replace(tmp, path)


# ---- Main --------------------------------------------------------------------------------------

def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, help="folder for the generated files")
    parser.add_argument("files", nargs="+", help="the data/*.tsv files")
    args = parser.parse_args(argv)

    problems = Problems()
    by_name = {}
    for path in args.files:
        base = os.path.basename(path)
        if base in by_name and os.path.abspath(by_name[base]) != os.path.abspath(path):
            problems.add(path, f"a second file named {base} (the other is {by_name[base]})")
        elif base not in ERROR_FILES and base not in TABLE_BY_FILE:
            known = sorted(list(ERROR_FILES) + list(TABLE_BY_FILE))
            problems.add(path, "unknown data file; expected one of " + ", ".join(known)
                         + " (new tables need a TableSpec in tools/gen_constants.py)")
        by_name[base] = path
    for base in list(ERROR_FILES) + list(TABLE_BY_FILE):
        if base not in by_name:
            problems.add(base, "missing: pass every data/*.tsv file to the generator")
    if problems.items:
        return report(problems)

    error_paths = sorted(((by_name[b], d) for b, (d, _) in ERROR_FILES.items()),
                         key=lambda p: ERROR_FILES[os.path.basename(p[0])][1])
    errors, aliases = load_errors(error_paths, problems)
    check_errors(errors, aliases, problems)
    order = {d: o for d, o in ERROR_FILES.values()}
    errors.sort(key=lambda e: (order[e["domain"]], e["value"]))

    tables = []
    levels = {}
    level_entries = []
    for spec in TABLES:
        entries = load_table(spec, by_name[spec.file], levels, problems)
        if spec.enum == "SockOptLevel":
            levels = {e["name"]: e["code"] for e in entries}
            level_entries = entries
        tables.append((spec, entries))
    sockopts = next(entries for spec, entries in tables if spec.enum == "SockOpt")
    prefixes = sockopt_prefixes(level_entries, sockopts)

    if problems.items:
        return report(problems)

    os.makedirs(args.out, exist_ok=True)
    write_if_changed(os.path.join(args.out, "constants_generated.h"),
                     render_header(tables, errors, aliases))
    write_if_changed(os.path.join(args.out, "constants_generated.inc"),
                     render_inc(tables, errors, aliases, prefixes))
    return 0


def report(problems):
    for item in problems.items:
        print(f"gen_constants: {item}", file=sys.stderr)
    print(f"gen_constants: {len(problems.items)} problem(s); nothing was generated",
          file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
