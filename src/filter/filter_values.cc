// Constants of the filter language, read once at parse time into what the evaluator compares:
// numbers, durations in nanoseconds, IP blocks as bytes, names as codes, error names as sets of
// error codes (with their equivalents on the other platform).
#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "constants.h"
#include "filter_internal.h"

namespace ws::inspect::detail {
namespace {

std::string shown(std::string_view s) {
  std::string out = "'";
  out += s.size() > 40 ? std::string(s.substr(0, 37)) + "..." : std::string(s);
  out += "'";
  return out;
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  const char l = lower(c);
  if (l >= 'a' && l <= 'f') return l - 'a' + 10;
  return -1;
}

// Decimal or 0x hex, no sign. False when `s` is not such a number or does not fit.
bool parse_unsigned(std::string_view s, uint64_t& out, bool& overflow) {
  overflow = false;
  out = 0;
  unsigned base = 10;
  if (s.size() > 2 && s[0] == '0' && lower(s[1]) == 'x') {
    base = 16;
    s.remove_prefix(2);
  }
  if (s.empty()) return false;
  for (char c : s) {
    const int d = base == 16 ? hex_value(c) : (is_digit(c) ? c - '0' : -1);
    if (d < 0) return false;
    if (out > (UINT64_MAX - static_cast<uint64_t>(d)) / base) overflow = true;
    out = out * base + static_cast<uint64_t>(d);
  }
  return !overflow;
}

using Named = FilterName;

std::string_view brief_of(std::string_view name) {
  const size_t u = name.find('_');
  return u == std::string_view::npos || u + 1 == name.size() ? name : name.substr(u + 1);
}

void add_table(ConstTable table, std::vector<Named>& out) {
  for (const ConstInfo& e : table_entries(table)) out.push_back({e.code, e.name, brief_of(e.name)});
}

bool name_matches(const Named& n, Op op, std::string_view v) {
  switch (op) {
    case Op::Contains: return icontains(n.name, v);
    case Op::StartsWith: return istarts(n.name, v) || istarts(n.brief, v);
    case Op::EndsWith: return iends(n.name, v);
    default: return ieq(n.name, v) || ieq(n.brief, v);
  }
}

std::string_view match_phrase(Op op) {
  switch (op) {
    case Op::Contains: return "contains";
    case Op::StartsWith: return "starts with";
    case Op::EndsWith: return "ends with";
    default: return "is";
  }
}

std::string unknown_name(std::string_view noun, std::string_view s,
                         const std::vector<std::string_view>& candidates) {
  std::string msg = "unknown " + std::string(noun) + " " + shown(s);
  if (std::string_view near = closest(s, candidates); !near.empty())
    msg += " (did you mean '" + std::string(near) + "'?)";
  return msg;
}

// "unknown socket type 'strem' (did you mean 'stream'?)": suggested in the style the user wrote,
// "inet6" for "inet5" and "AF_INET6" for "AF_INET5".
std::string unknown_code_name(const FieldSpec& f, std::string_view noun,
                              const std::vector<Named>& names, std::string_view s) {
  const bool full =
      s.find('_') != std::string_view::npos || f.key == Key::Func || f.key == Key::Event;
  std::vector<std::string> lowered;
  lowered.reserve(names.size());
  std::vector<std::string_view> candidates;
  for (const Named& n : names) {
    if (full) {
      candidates.push_back(n.name);
    } else {
      lowered.push_back(to_lower(n.brief));
      candidates.push_back(lowered.back());
    }
  }
  return unknown_name(noun, s, candidates);
}

// The codes an error name stands for: its own, and the same error under the other platform's
// name, through the posix column of the Windows table (WSAECONNRESET ↔ ECONNRESET).
void add_equivalents(const ErrorInfo& e, std::vector<uint64_t>& out) {
  out.push_back(ErrorCode{e.domain, e.value}.pack());
  if (e.domain == ErrDomain::Win) {
    if (const ErrorInfo* p = e.posix.empty() ? nullptr : find_error(e.posix))
      out.push_back(ErrorCode{p->domain, p->value}.pack());
    return;
  }
  for (const ErrorInfo& w : all_errors()) {
    if (w.domain == ErrDomain::Win && !w.posix.empty() && find_error(w.posix) == &e)
      out.push_back(ErrorCode{w.domain, w.value}.pack());
  }
}

}  // namespace

std::vector<FilterName> names_of(const FieldSpec& f, std::string& noun) {
  std::vector<Named> out;
  switch (f.key) {
    case Key::Func:
      noun = "function";
      for (const FuncDef& d : all_funcs())
        out.push_back({static_cast<uint64_t>(d.id), d.name, d.name});
      break;
    case Key::Event:
      noun = "event type";
      for (const EventDef& d : all_events())
        out.push_back({static_cast<uint64_t>(d.id), d.name, d.name});
      break;
    case Key::Family:
      noun = "address family";
      add_table(ConstTable::AddrFamily, out);
      out.push_back({af::kInet, "ipv4", "ipv4"});
      out.push_back({af::kInet6, "ipv6", "ipv6"});
      out.push_back({af::kUnix, "local", "local"});
      break;
    case Key::Proto:
      noun = "protocol";
      add_table(ConstTable::Protocol, out);
      out.push_back({kProtoUnix, "unix", "unix"});
      break;
    default: {
      const ConstTable table = field_def(f.raw).table;
      noun = table_name(table);
      add_table(table, out);
      break;
    }
  }
  return out;
}

bool Cidr::contains(const std::array<uint8_t, 16>& addr) const {
  const unsigned whole = bits / 8u, rest = bits % 8u;
  if (std::memcmp(addr.data(), ip.data(), whole) != 0) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<uint8_t>(0xff00u >> rest);
  return (addr[whole] & mask) == (ip[whole] & mask);
}

Status read_number(const FieldSpec& f, std::string_view s, uint64_t& out) {
  const bool negative = s.starts_with('-');
  uint64_t mag = 0;
  bool overflow = false;
  const bool ok = parse_unsigned(negative ? s.substr(1) : s, mag, overflow);
  if (!ok && !overflow)
    return Status::error("expected " + std::string(f.value_desc) + ", found " + shown(s));
  if (negative && !f.is_signed) {
    return Status::error("expected " + std::string(f.value_desc) + ", found " + shown(s) + ": '" +
                         std::string(f.name) + "' is never negative");
  }
  const uint64_t limit = f.is_signed ? (negative ? uint64_t{1} << 63 : uint64_t{INT64_MAX}) : f.max;
  if (overflow || mag > limit) {
    std::string msg = shown(s) + " is out of range for '" + std::string(f.name) + "'";
    if (!f.is_signed) msg += " (0 to " + std::to_string(f.max) + ")";
    return Status::error(msg);
  }
  out = negative ? ~mag + 1 : mag;  // two's complement: the int64 bits of -mag
  return {};
}

Status read_duration(std::string_view s, uint64_t& out) {
  static constexpr std::string_view kExpected =
      "expected a duration such as 50ms, 1.5s or 200us, found ";
  size_t i = 0;
  uint64_t whole = 0;
  bool digits = false, overflow = false;
  for (; i < s.size() && is_digit(s[i]); ++i, digits = true) {
    if (whole > (UINT64_MAX - 9) / 10) overflow = true;
    whole = whole * 10 + static_cast<uint64_t>(s[i] - '0');
  }
  std::string_view frac;
  if (i < s.size() && s[i] == '.') {
    const size_t start = ++i;
    while (i < s.size() && is_digit(s[i])) ++i;
    frac = s.substr(start, i - start);
    digits = digits || !frac.empty();
  }
  if (!digits) return Status::error(std::string(kExpected) + shown(s));
  const std::string_view unit = s.substr(i);
  struct Unit {
    std::string_view name;
    uint64_t ns;
  };
  static constexpr Unit kUnits[] = {
      {"ns", 1},         {"us", 1'000},        {"\xc2\xb5s", 1'000},
      {"ms", 1'000'000}, {"s", 1'000'000'000}, {"min", 60'000'000'000}};
  uint64_t mult = 0;
  for (const Unit& u : kUnits)
    if (ieq(unit, u.name)) mult = u.ns;
  if (unit.empty()) {
    if (whole == 0 && frac.find_first_not_of('0') == std::string_view::npos) {
      out = 0;
      return {};
    }
    return Status::error(shown(s) + " needs a unit: ns, us, ms, s or min, as in " + std::string(s) +
                         "ms");
  }
  if (mult == 0) {
    return Status::error("unknown duration unit '" + std::string(unit) + "' in " + shown(s) +
                         ": use ns, us, ms, s or min");
  }
  // Fractions are added digit by digit so that 1.5s is exactly 1500000000ns; what is finer than
  // a nanosecond is dropped.
  uint64_t part = 0, scale = mult;
  for (char c : frac) {
    scale /= 10;
    part += static_cast<uint64_t>(c - '0') * scale;
  }
  if (overflow || whole > (UINT64_MAX - part) / mult)
    return Status::error(shown(s) + " is too long a duration");
  out = whole * mult + part;
  return {};
}

Status read_cidr(std::string_view s, Cidr& out) {
  const std::string expected =
      "expected an IP address or CIDR block such as 10.0.0.0/8 or ::1 (names go with 'host'), "
      "found " +
      shown(s);
  std::string_view addr = s, prefix;
  bool has_prefix = false;
  if (const size_t slash = s.find('/'); slash != std::string_view::npos) {
    addr = s.substr(0, slash);
    prefix = s.substr(slash + 1);
    has_prefix = true;
  }
  if (addr.size() > 2 && addr.front() == '[' && addr.back() == ']')
    addr = addr.substr(1, addr.size() - 2);
  if (addr.find('%') != std::string_view::npos)
    return Status::error(shown(s) + ": IPv6 zone ids (%...) are not supported in filters");
  const bool v6 = addr.find(':') != std::string_view::npos;
  std::array<uint8_t, 16> ip{};
  if (v6 ? !parse_ipv6_text(addr, ip) : !parse_ipv4_text(addr, ip.data()))
    return Status::error(has_prefix ? "bad CIDR block " + shown(s) + ": " + shown(addr) +
                                          " is not an IP address"
                                    : expected);
  const unsigned max_bits = v6 ? 128 : 32;
  unsigned bits = max_bits;
  if (has_prefix) {
    uint64_t n = 0;
    bool overflow = false;
    const bool digits_only = !prefix.empty() && prefix.size() <= 3 &&
                             std::all_of(prefix.begin(), prefix.end(), is_digit);
    if (!digits_only || !parse_unsigned(prefix, n, overflow) || n > max_bits) {
      return Status::error("bad CIDR block " + shown(s) + ": the prefix length of an " +
                           (v6 ? "IPv6 block is 0 to 128" : "IPv4 block is 0 to 32"));
    }
    bits = static_cast<unsigned>(n);
  }
  SockAddr block;
  block.family = v6 ? af::kInet6 : af::kInet;
  block.ip = ip;
  out.ip = as_ipv6(block);
  out.bits = static_cast<uint8_t>(v6 ? bits : bits + 96);
  return {};
}

Status read_codes(const FieldSpec& f, Op op, std::string_view s, std::vector<uint64_t>& out) {
  std::string noun;
  const std::vector<Named> names = names_of(f, noun);
  const size_t before = out.size();
  for (const Named& n : names)
    if (name_matches(n, op, s)) out.push_back(n.code);
  if (out.size() > before) return {};
  if (s.empty()) return Status::error("expected " + std::string(f.value_desc) + ", found ''");
  if (op != Op::Eq && op != Op::Ne) {
    return Status::error("no " + noun + " name " + std::string(match_phrase(op)) + " " + shown(s));
  }
  return Status::error(unknown_code_name(f, noun, names, s));
}

Status read_flags(const FieldSpec& f, std::string_view s, uint64_t& out) {
  uint64_t n = 0;
  bool overflow = false;
  if (parse_unsigned(s, n, overflow) && n == 0) {
    out = 0;
    return {};
  }
  std::string noun;
  const std::vector<Named> names = names_of(f, noun);
  for (const Named& nm : names) {
    if (nm.code < 32 && name_matches(nm, Op::Eq, s)) {
      out = uint64_t{1} << nm.code;
      return {};
    }
  }
  return Status::error(unknown_code_name(f, noun, names, s));
}

Status read_errors(Op op, std::string_view s, std::vector<uint64_t>& out) {
  // A number stands for that value in every domain (getaddrinfo codes with either sign).
  const bool negative = s.starts_with('-');
  uint64_t mag = 0;
  bool overflow = false;
  if (parse_unsigned(negative ? s.substr(1) : s, mag, overflow) || overflow) {
    if (op != Op::Eq && op != Op::Ne)
      return Status::error("expected an error name, found " + shown(s));
    if (overflow || mag > INT32_MAX) return Status::error(shown(s) + " is not an error number");
    const auto v =
        static_cast<int32_t>(negative ? -static_cast<int64_t>(mag) : static_cast<int64_t>(mag));
    for (ErrDomain d : {ErrDomain::Errno, ErrDomain::Win, ErrDomain::Eai, ErrDomain::HErrno})
      out.push_back(ErrorCode{d, v}.pack());
    out.push_back(ErrorCode{ErrDomain::Eai, -v}.pack());
    return {};
  }
  // `!=` and `not in` name the same errors as `==` and `in`.
  if (op == Op::Eq || op == Op::Ne) {
    const ErrorInfo* e = find_error(s);
    if (e == nullptr) {
      std::vector<std::string_view> names;
      for (const ErrorInfo& i : all_errors()) names.push_back(i.name);
      return Status::error(unknown_name("error name", s, names));
    }
    add_equivalents(*e, out);
    return {};
  }
  const size_t before = out.size();
  for (const ErrorInfo& e : all_errors()) {
    const bool hit = op == Op::Contains     ? icontains(e.name, s)
                     : op == Op::StartsWith ? istarts(e.name, s)
                                            : iends(e.name, s);
    if (hit) add_equivalents(e, out);
  }
  if (out.size() == before)
    return Status::error("no error name " + std::string(match_phrase(op)) + " " + shown(s));
  return {};
}

Status read_bool(std::string_view s, uint64_t& out) {
  for (std::string_view t : {"true", "yes", "1"})
    if (ieq(s, t)) {
      out = 1;
      return {};
    }
  for (std::string_view t : {"false", "no", "0"})
    if (ieq(s, t)) {
      out = 0;
      return {};
    }
  return Status::error("expected true or false, found " + shown(s));
}

Status read_payload(std::string_view s, bool quoted, std::string& out) {
  out.clear();
  if (quoted || s.size() < 3 || s[0] != '0' || lower(s[1]) != 'x') {
    out = s;
    return {};
  }
  const std::string_view hex = s.substr(2);
  if (!std::all_of(hex.begin(), hex.end(), [](char c) { return hex_value(c) >= 0; })) {
    out = s;  // not hex after all: plain text such as "0xff-ish"
    return {};
  }
  if (hex.size() % 2 != 0) {
    return Status::error(shown(s) +
                         " has an odd number of hex digits: write whole bytes, as in "
                         "0x1603 (or quote it to mean the text)");
  }
  for (size_t i = 0; i < hex.size(); i += 2)
    out += static_cast<char>(hex_value(hex[i]) * 16 + hex_value(hex[i + 1]));
  return {};
}

}  // namespace ws::inspect::detail
