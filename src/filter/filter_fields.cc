// The filter's fields and operators, name lookups and suggestions for misspelt names.
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "filter_internal.h"

namespace ws::inspect::detail {
namespace {

constexpr uint64_t kU32 = UINT32_MAX;
constexpr uint64_t kPortMax = 65535;

// The language's own fields. Fields of the event table that are not shadowed by these are
// available too, by their table names (see find_field).
constexpr FieldSpec kFields[] = {
    {"pid", Key::Pid, Kind::Number, FieldId::Unknown, false, kU32, "a process id"},
    {"tid", Key::Tid, Kind::Number, FieldId::Unknown, false, kU32, "a thread id"},
    {"proc", Key::Proc, Kind::Text, FieldId::Unknown, false, 0,
     "a program name such as curl or client.exe"},
    {"func", Key::Func, Kind::Code, FieldId::Unknown, false, 0,
     "a function name such as connect or WSARecv"},
    {"event", Key::Event, Kind::Code, FieldId::Unknown, false, 0,
     "an event type such as connect, send or lookup"},
    {"sock", Key::Sock, Kind::Number, FieldId::Unknown, false, UINT64_MAX, "a socket number"},
    {"conn", Key::Conn, Kind::Number, FieldId::Unknown, false, UINT64_MAX, "a connection id"},
    {"family", Key::Family, Kind::Code, FieldId::Unknown, false, 0,
     "an address family such as inet, inet6 or unix"},
    {"proto", Key::Proto, Kind::Code, FieldId::Unknown, false, 0,
     "a protocol such as tcp, udp or unix"},
    {"ip", Key::Ip, Kind::Ip, FieldId::Unknown, false, 0,
     "an IP address or CIDR block such as 10.0.0.0/8 or ::1"},
    {"lip", Key::Lip, Kind::Ip, FieldId::Unknown, false, 0,
     "an IP address or CIDR block such as 10.0.0.0/8 or ::1"},
    {"rip", Key::Rip, Kind::Ip, FieldId::Unknown, false, 0,
     "an IP address or CIDR block such as 10.0.0.0/8 or ::1"},
    {"port", Key::Port, Kind::Number, FieldId::Unknown, false, kPortMax, "a port number"},
    {"lport", Key::Lport, Kind::Number, FieldId::Unknown, false, kPortMax, "a port number"},
    {"rport", Key::Rport, Kind::Number, FieldId::Unknown, false, kPortMax, "a port number"},
    {"host", Key::Host, Kind::Text, FieldId::Unknown, false, 0, "a host name such as example.com"},
    {"err", Key::Err, Kind::Error, FieldId::Unknown, false, 0,
     "an error name such as ECONNREFUSED or WSAETIMEDOUT"},
    {"failed", Key::Failed, Kind::Bool, FieldId::Unknown, false, 0, "true or false"},
    {"ret", Key::Ret, Kind::Number, FieldId::Unknown, true, UINT64_MAX, "a number"},
    {"dur", Key::Dur, Kind::Duration, FieldId::Unknown, false, 0,
     "a duration such as 50ms, 1.5s or 200us"},
    {"bytes", Key::Bytes, Kind::Number, FieldId::Unknown, false, UINT64_MAX, "a byte count"},
    {"payload", Key::Payload, Kind::Bytes, FieldId::Unknown, false, 0, "a quoted string"},
};

const FieldSpec* own_field(std::string_view name) {
  for (const FieldSpec& f : kFields)
    if (ieq(f.name, name)) return &f;
  return nullptr;
}

// A field of the event table as a filter field; false for the blob fields that ip/port/payload
// stand for.
bool raw_field(const FieldDef& def, FieldSpec& out) {
  out = FieldSpec{};
  out.name = def.name;
  out.key = Key::Raw;
  out.raw = def.id;
  switch (def.type) {
    case FieldType::UInt:
    case FieldType::Sock:
      out.kind = Kind::Number;
      out.value_desc = "a number";
      return true;
    case FieldType::Int:
      out.kind = Kind::Number;
      out.is_signed = true;
      out.value_desc = "a number";
      return true;
    case FieldType::Duration:
      out.kind = Kind::Duration;
      out.value_desc = "a duration such as 50ms, 1.5s or 200us";
      return true;
    case FieldType::Enum:
      out.kind = Kind::Code;
      out.value_desc = "a constant name";
      return true;
    case FieldType::Flags:
      out.kind = Kind::Flags;
      out.value_desc = "a flag name";
      return true;
    case FieldType::Str:
      out.kind = Kind::Text;
      out.value_desc = "a word or a quoted string";
      return true;
    case FieldType::Addr:
    case FieldType::Bytes:
    case FieldType::AddrList:
    case FieldType::PollList: break;
  }
  return false;
}

std::vector<std::string_view> all_field_names() {
  std::vector<std::string_view> names;
  for (const FieldSpec& f : kFields) names.push_back(f.name);
  FieldSpec spec;
  for (const FieldDef& d : all_fields())
    if (!own_field(d.name) && raw_field(d, spec)) names.push_back(d.name);
  return names;
}

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case.
size_t distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev2(b.size() + 1), prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1]))
        cur[j] = std::min(cur[j], prev2[j - 2] + 1);
    }
    std::swap(prev2, prev);
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i])) return false;
  return true;
}

bool istarts(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && ieq(s.substr(0, prefix.size()), prefix);
}

bool iends(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && ieq(s.substr(s.size() - suffix.size()), suffix);
}

bool icontains(std::string_view s, std::string_view needle) {
  if (needle.empty()) return true;
  for (size_t i = 0; i + needle.size() <= s.size(); ++i)
    if (ieq(s.substr(i, needle.size()), needle)) return true;
  return false;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower(c);
  return out;
}

std::string_view closest(std::string_view word, const std::vector<std::string_view>& candidates) {
  // Long words are not typos of short names; this also bounds the work on hostile input.
  if (word.empty() || word.size() > 64) return {};
  const size_t allowed = word.size() <= 3 ? 1 : word.size() <= 6 ? 2 : 3;
  std::string_view best;
  size_t best_d = allowed + 1, best_gap = 0;
  for (std::string_view c : candidates) {
    const size_t d = distance(word, c);
    // On a tie, the name closest in length: "inet5" is likelier "inet6" than "inet".
    const size_t gap = c.size() > word.size() ? c.size() - word.size() : word.size() - c.size();
    if (d < c.size() && (d < best_d || (d == best_d && gap < best_gap))) {
      best = c;
      best_d = d;
      best_gap = gap;
    }
  }
  return best;
}

bool find_field(std::string_view name, FieldSpec& out, std::string& why) {
  if (const FieldSpec* f = own_field(name)) {
    out = *f;
    return true;
  }
  for (const FieldDef& d : all_fields()) {
    if (!ieq(d.name, name)) continue;
    if (raw_field(d, out)) return true;
    why = "'" + std::string(name) + "' is " +
          (d.type == FieldType::Bytes ? "a byte field: use 'payload'"
                                      : "an address field: filter addresses with ip, lip, rip, "
                                        "port, lport or rport");
    return false;
  }
  why = "unknown field '" + std::string(name) + "'";
  if (std::string_view near = closest(name, all_field_names()); !near.empty())
    why += " (did you mean '" + std::string(near) + "'?)";
  else
    why += ": fields are " + field_list() + " (see docs/filters.md)";
  return false;
}

std::string field_list() {
  std::string out;
  for (const FieldSpec& f : kFields) {
    if (!out.empty()) out += ", ";
    out += f.name;
  }
  return out;
}

std::string_view op_name(Op op) {
  switch (op) {
    case Op::Exists: return "";
    case Op::Eq: return "==";
    case Op::Ne: return "!=";
    case Op::Lt: return "<";
    case Op::Le: return "<=";
    case Op::Gt: return ">";
    case Op::Ge: return ">=";
    case Op::Contains: return "contains";
    case Op::StartsWith: return "startswith";
    case Op::EndsWith: return "endswith";
  }
  return "?";
}

bool op_fits(Kind kind, Op op) {
  const bool order = op == Op::Lt || op == Op::Le || op == Op::Gt || op == Op::Ge;
  const bool text = op == Op::Contains || op == Op::StartsWith || op == Op::EndsWith;
  if (op == Op::Exists || op == Op::Eq || op == Op::Ne) return true;
  switch (kind) {
    case Kind::Number:
    case Kind::Duration: return order;
    case Kind::Text:
    case Kind::Code:
    case Kind::Error:
    case Kind::Bytes: return text;
    case Kind::Flags: return op == Op::Contains;
    case Kind::Ip:
    case Kind::Bool: return false;
  }
  return false;
}

std::string_view kind_desc(Kind kind) {
  switch (kind) {
    case Kind::Number: return "a number";
    case Kind::Duration: return "a duration";
    case Kind::Text: return "text";
    case Kind::Code: return "a name";
    case Kind::Flags: return "a set of flags";
    case Kind::Error: return "an error";
    case Kind::Ip: return "an IP address";
    case Kind::Bytes: return "bytes";
    case Kind::Bool: return "true or false";
  }
  return "?";
}

std::string_view ops_for(Kind kind) {
  switch (kind) {
    case Kind::Number:
    case Kind::Duration: return "==, !=, <, <=, >, >= or in";
    case Kind::Text:
    case Kind::Code:
    case Kind::Error: return "==, !=, in, contains, startswith or endswith";
    case Kind::Flags: return "==, != or contains";
    case Kind::Ip: return "==, != or in";
    case Kind::Bytes: return "==, !=, contains, startswith or endswith";
    case Kind::Bool: return "== or != (or the field alone)";
  }
  return "?";
}

}  // namespace ws::inspect::detail

namespace ws::inspect {
namespace {

std::string_view kind_word(detail::Kind kind) {
  switch (kind) {
    case detail::Kind::Number: return "number";
    case detail::Kind::Duration: return "duration";
    case detail::Kind::Text: return "text";
    case detail::Kind::Code: return "code";
    case detail::Kind::Flags: return "flags";
    case detail::Kind::Error: return "error";
    case detail::Kind::Ip: return "ip";
    case detail::Kind::Bytes: return "bytes";
    case detail::Kind::Bool: return "bool";
  }
  return "?";
}

FilterField described(const detail::FieldSpec& f) {
  FilterField out;
  out.name = f.name;
  out.kind = kind_word(f.kind);
  out.is_signed = f.is_signed;
  out.max = f.max;
  out.value_desc = f.value_desc;
  out.raw = f.raw;
  if (f.kind == detail::Kind::Code || f.kind == detail::Kind::Flags)
    out.names = detail::names_of(f, out.noun);
  return out;
}

// Every kind and every operator (but a field alone), for filter_kinds().
constexpr detail::Kind kKinds[] = {
    detail::Kind::Number, detail::Kind::Duration, detail::Kind::Text,
    detail::Kind::Code,   detail::Kind::Flags,    detail::Kind::Error,
    detail::Kind::Ip,     detail::Kind::Bytes,    detail::Kind::Bool,
};
constexpr detail::Op kOps[] = {detail::Op::Eq,       detail::Op::Ne,         detail::Op::Lt,
                               detail::Op::Le,       detail::Op::Gt,         detail::Op::Ge,
                               detail::Op::Contains, detail::Op::StartsWith, detail::Op::EndsWith};

}  // namespace

std::vector<FilterKind> filter_kinds() {
  std::vector<FilterKind> out;
  for (detail::Kind k : kKinds) {
    FilterKind kind{kind_word(k), detail::kind_desc(k), detail::ops_for(k), {}};
    for (detail::Op op : kOps)
      if (detail::op_fits(k, op)) kind.fits.push_back(detail::op_name(op));
    out.push_back(std::move(kind));
  }
  return out;
}

std::vector<FilterField> filter_fields() {
  std::vector<FilterField> out;
  for (const detail::FieldSpec& f : detail::kFields) out.push_back(described(f));
  detail::FieldSpec spec;
  std::string why;
  for (const FieldDef& d : all_fields()) {
    if (detail::own_field(d.name)) continue;
    if (detail::find_field(d.name, spec, why)) {
      out.push_back(described(spec));
    } else {
      FilterField refused;
      refused.name = d.name;
      refused.raw = d.id;
      refused.refused = why;
      out.push_back(std::move(refused));
    }
  }
  return out;
}

}  // namespace ws::inspect
