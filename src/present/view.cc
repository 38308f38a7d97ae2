#include "view.h"

#include <chrono>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "event_builder.h"
#include "safe_text.h"
#include "sockaddr.h"

namespace ws::present {

std::string error_text(const ErrorCode& e) {
  std::string s = error_name(e);
  if (const ErrorInfo* info = find_error(e)) {
    std::string_view m = info->meaning;
    if (!m.empty() && m.back() == '.') m.remove_suffix(1);
    s += fmt::format(" ({})", m);
  }
  return s;
}

namespace {

std::string addr_text(const Value& v) {
  SockAddr a;
  return decode_addr(v.bytes(), a) ? printable(to_string(a)) : "<malformed address>";
}

std::string hex(std::string_view b) {
  std::string s;
  s.reserve(b.size() * 2);
  for (unsigned char c : b) s += fmt::format("{:02x}", c);
  return s;
}

nlohmann::json addr_json(const SockAddr& a) {
  nlohmann::json j;
  j["family"] = code_name(ConstTable::AddrFamily, a.family);
  if (a.is_inet()) {
    j["ip"] = ip_string(a);
    j["port"] = a.port;
  } else if (a.family == af::kUnix) {
    j["path"] = escape(a.path);
  }
  j["text"] = to_string(a);
  return j;
}

// select()'s sets, from the poll flags its sockets were recorded with (Linux: POLLIN, POLLOUT,
// POLLPRI; Windows: POLLRDNORM, POLLWRNORM, POLLRDBAND): "read|except", "-" for none. Shown
// as sets because a Windows exceptfds answer is also how a failed non-blocking connect is told,
// which "POLLRDBAND" (priority data) would misname.
std::string select_sets(uint64_t flags) {
  std::string s;
  auto add = [&](uint64_t bits, const char* name) {
    if (flags & bits) s += (s.empty() ? "" : "|") + std::string(name);
  };
  add(pollev::kIn | pollev::kRdnorm, "read");
  add(pollev::kOut | pollev::kWrnorm, "write");
  add(pollev::kPri | pollev::kRdband, "except");
  return s.empty() ? "-" : s;
}

// The value of a field in JSON: numbers stay numbers, constants get their names.
nlohmann::json value_json(const FieldDef& def, const Value& v, FuncId func = FuncId::kCount) {
  switch (def.type) {
    case FieldType::Int: return static_cast<int64_t>(v.num);
    case FieldType::UInt:
    case FieldType::Sock:
    case FieldType::Duration: return v.num;
    case FieldType::Enum: return code_name(def.table, v.num);
    case FieldType::Flags: return flags_name(def.table, v.num);
    case FieldType::Str: return escape(v.bytes());
    case FieldType::Addr: {
      SockAddr a;
      if (!decode_addr(v.bytes(), a)) return "<malformed>";
      return addr_json(a);
    }
    case FieldType::Bytes:
      return nlohmann::json{{"len", v.num}, {"kept", v.size}, {"hex", hex(v.bytes())}};
    case FieldType::AddrList: {
      std::vector<SockAddr> list;
      nlohmann::json arr = nlohmann::json::array();
      if (decode_addr_list(v.bytes(), list))
        for (const auto& a : list) arr.push_back(addr_json(a));
      return arr;
    }
    case FieldType::PollList: {
      std::vector<PollEntry> list;
      nlohmann::json arr = nlohmann::json::array();
      if (decode_poll_list(v.bytes(), list))
        for (const auto& p : list) {
          nlohmann::json e = {{"sock", p.sock},
                              {"events", flags_name(ConstTable::PollEvents, p.events)},
                              {"revents", flags_name(ConstTable::PollEvents, p.revents)}};
          if (func == FuncId::select) {
            e["sets"] = select_sets(p.events);
            e["ready"] = select_sets(p.revents);
          }
          arr.push_back(std::move(e));
        }
      return arr;
    }
  }
  return nullptr;
}

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) {
    if (c == '"') o += '"';
    o += c;
  }
  return o + "\"";
}

}  // namespace

std::string time_text(int64_t wall_ns, const TextOptions& opt, int64_t rel_ns) {
  if (opt.time == TimeMode::Relative)
    return fmt::format("{:+.6f}", static_cast<double>(rel_ns) / 1e9);
  if (opt.time == TimeMode::Local) wall_ns += opt.utc_offset_ns;
  // "12:00:00.001240", written by hand: every line of show and replay has one.
  constexpr int64_t kDay = 86'400'000'000'000;
  int64_t of_day = wall_ns % kDay;
  if (of_day < 0) of_day += kDay;
  const int64_t us = of_day / 1000;
  char buf[16];
  auto two = [&](int at, int64_t v) {
    buf[at] = static_cast<char>('0' + v / 10);
    buf[at + 1] = static_cast<char>('0' + v % 10);
  };
  two(0, us / 3'600'000'000);
  buf[2] = ':';
  two(3, us / 60'000'000 % 60);
  buf[5] = ':';
  two(6, us / 1'000'000 % 60);
  buf[8] = '.';
  for (int i = 14, v = static_cast<int>(us % 1'000'000); i >= 9; --i, v /= 10)
    buf[i] = static_cast<char>('0' + v % 10);
  return std::string(buf, 15);
}

namespace {

struct Paint {
  bool on;
  std::string operator()(const char* code, const std::string& s) const {
    return on ? fmt::format("\x1b[{}m{}\x1b[0m", code, s) : s;
  }
};

}  // namespace

std::string escape(std::string_view bytes) {
  std::string s;
  for (unsigned char c : bytes) {
    switch (c) {
      case '\r': s += "\\r"; break;
      case '\n': s += "\\n"; break;
      case '\t': s += "\\t"; break;
      case '\\': s += "\\\\"; break;
      case '"': s += "\\\""; break;
      default:
        if (c >= 0x20 && c < 0x7f) s += static_cast<char>(c);
        else s += fmt::format("\\x{:02x}", c);
    }
  }
  return s;
}

std::string duration_text(uint64_t ns) {
  if (ns < 1'000) return fmt::format("{}ns", ns);
  if (ns < 1'000'000) return fmt::format("{}us", (ns + 500) / 1000);
  if (ns < 1'000'000'000) return fmt::format("{:.1f}ms", static_cast<double>(ns) / 1e6);
  return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9);
}

std::string utc_text(int64_t wall_ns) {
  using namespace std::chrono;
  sys_time<nanoseconds> t{nanoseconds{wall_ns}};
  auto day = floor<days>(t);
  year_month_day ymd{day};
  hh_mm_ss<nanoseconds> tod{t - day};
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}Z", static_cast<int>(ymd.year()),
                     static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                     tod.hours().count(), tod.minutes().count(), tod.seconds().count(),
                     tod.subseconds().count());
}

std::string hex_dump(std::string_view b, const std::string& indent) {
  std::string out;
  for (size_t off = 0; off < b.size(); off += 16) {
    std::string hexpart, ascii;
    for (size_t i = 0; i < 16; ++i) {
      if (off + i < b.size()) {
        auto c = static_cast<unsigned char>(b[off + i]);
        hexpart += fmt::format("{:02x} ", c);
        ascii += (c >= 0x20 && c < 0x7f) ? static_cast<char>(c) : '.';
      } else {
        hexpart += "   ";
      }
      if (i == 7) hexpart += ' ';
    }
    out += fmt::format("{}{:08x}  {} |{}|\n", indent, off, hexpart, ascii);
  }
  return out;
}

std::string value_text(const FieldDef& def, const Value& v, size_t preview, FuncId func) {
  switch (def.type) {
    case FieldType::Int: return std::to_string(static_cast<int64_t>(v.num));
    case FieldType::UInt:
      // WSAStartup's version word: MAKEWORD(major, minor).
      if (def.id == FieldId::version) return fmt::format("{}.{}", v.num & 0xff, (v.num >> 8) & 0xff);
      // A word recorded as the platform gives it whose bits are its table's codes (FD_* masks).
      if (def.table != ConstTable::None && is_flags(def.table)) return flags_name(def.table, v.num);
      return std::to_string(v.num);
    case FieldType::Sock: return std::to_string(v.num);
    case FieldType::Duration: return duration_text(v.num);
    case FieldType::Enum: return code_name(def.table, v.num);
    case FieldType::Flags: return flags_name(def.table, v.num);
    case FieldType::Str: return fmt::format("\"{}\"", escape(v.bytes()));
    case FieldType::Addr: return addr_text(v);
    case FieldType::Bytes: {
      std::string_view b = v.bytes();
      bool cut = b.size() > preview;
      std::string s = fmt::format("\"{}\"{}", escape(b.substr(0, preview)), cut ? "..." : "");
      if (v.num != v.size) s += fmt::format(" ({} of {} bytes kept)", v.size, v.num);
      return s;
    }
    case FieldType::AddrList: {
      std::vector<SockAddr> list;
      if (!decode_addr_list(v.bytes(), list)) return "<malformed>";
      std::string s = "[";
      for (size_t i = 0; i < list.size(); ++i)
        s += (i ? ", " : "") + printable(to_string(list[i]));
      return s + "]";
    }
    case FieldType::PollList: {
      std::vector<PollEntry> list;
      if (!decode_poll_list(v.bytes(), list)) return "<malformed>";
      std::string s = "[";
      for (size_t i = 0; i < list.size(); ++i) {
        const PollEntry& p = list[i];
        const bool sets = func == FuncId::select;
        s += fmt::format("{}{}:{}->{}", i ? ", " : "", p.sock,
                         sets ? select_sets(p.events) : flags_name(ConstTable::PollEvents, p.events),
                         sets ? select_sets(p.revents)
                              : flags_name(ConstTable::PollEvents, p.revents));
      }
      return s + "]";
    }
  }
  return "?";
}

std::string event_line(const Event& ev, const trace::TraceHeader& h, const TextOptions& opt,
                       int64_t first_ts, const LineNotes& notes) {
  Paint paint{opt.color};
  std::string s = time_text(h.wall_ns(ev.ts), opt, ev.ts - first_ts);
  if (notes.process.empty()) s += fmt::format(" {}/{} ", ev.pid, ev.tid);
  else s += fmt::format(" {}[{}/{}] ", printable(notes.process), ev.pid, ev.tid);
  if (notes.conn) s += fmt::format("#{} ", notes.conn);
  s += paint("1;36", ev.func < FuncId::kCount ? std::string(func_def(ev.func).name)
                                              : "<unknown function>");
  s += '(';
  const Value* payload = nullptr;
  bool first = true;
  if (ev.type() != EventType::Unknown) {
    for (FieldId id : event_def(ev.type()).fields) {
      const Value* v = ev.get(id);
      if (!v) continue;
      if (id == FieldId::payload) payload = v;
      s += fmt::format("{}{}={}", first ? "" : ", ", field_def(id).name,
                       value_text(field_def(id), *v, opt.preview, ev.func));
      first = false;
    }
  }
  s += fmt::format(") = {}", ev.result);
  if (!ev.error.ok()) s += " " + paint("1;31", error_text(ev.error));
  if (ev.dur) s += " " + paint("2", fmt::format("<{}>", duration_text(ev.dur)));
  if (opt.hex && payload && payload->size) s += "\n" + hex_dump(payload->bytes(), "    ");
  if (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::vector<std::string> csv_columns() {
  std::vector<std::string> cols = {"seq",   "time_utc", "ts_ns", "pid",    "tid",
                                   "process", "conn",   "func",  "event",  "result",
                                   "error", "error_domain", "dur_ns"};
  for (const auto& f : all_fields()) {
    if (f.type == FieldType::Bytes) {
      cols.push_back(std::string(f.name) + "_len");
      cols.push_back(std::string(f.name) + "_hex");
    } else {
      cols.emplace_back(f.name);
    }
  }
  return cols;
}

std::string csv_header() {
  std::string s;
  for (const auto& c : csv_columns()) s += (s.empty() ? "" : ",") + c;
  return s;
}

std::string csv_row(const Event& ev, const trace::TraceHeader& h, const LineNotes& notes) {
  std::vector<std::string> cells = {
      std::to_string(ev.seq),
      utc_text(h.wall_ns(ev.ts)),
      std::to_string(ev.ts),
      std::to_string(ev.pid),
      std::to_string(ev.tid),
      csv_text(printable(notes.process)),
      notes.conn ? std::to_string(notes.conn) : "",
      ev.func < FuncId::kCount ? std::string(func_def(ev.func).name) : "",
      ev.type() != EventType::Unknown ? std::string(event_def(ev.type()).name) : "",
      std::to_string(ev.result),
      ev.error.ok() ? "" : error_name(ev.error),
      ev.error.ok() ? "" : std::string(domain_name(ev.error.domain)),
      std::to_string(ev.dur)};
  for (const auto& f : all_fields()) {
    const Value* v = ev.get(f.id);
    if (f.type == FieldType::Bytes) {
      cells.push_back(v ? std::to_string(v->num) : "");
      cells.push_back(v ? hex(v->bytes()) : "");
    } else if (!v) {
      cells.emplace_back();
    } else if (f.type == FieldType::AddrList || f.type == FieldType::PollList) {
      cells.push_back(json_dump(value_json(f, *v, ev.func)));
    } else if (f.type == FieldType::Str) {
      cells.push_back(csv_text(escape(v->bytes())));
    } else {
      cells.push_back(value_text(f, *v, 40, ev.func));
    }
  }
  std::string s;
  for (size_t i = 0; i < cells.size(); ++i) s += (i ? "," : "") + csv_escape(cells[i]);
  return s;
}

nlohmann::ordered_json call_json(uint64_t seq, int64_t ts, uint32_t pid, uint32_t tid,
                                 std::string_view process, const trace::TraceHeader& h) {
  nlohmann::ordered_json j;
  j["seq"] = seq;
  j["time"] = utc_text(h.wall_ns(ts));
  j["ts_ns"] = ts;
  j["pid"] = pid;
  j["tid"] = tid;
  if (!process.empty()) j["process"] = std::string(process);
  return j;
}

std::string json_line(const Event& ev, const trace::TraceHeader& h, const LineNotes& notes) {
  nlohmann::ordered_json j = call_json(ev.seq, ev.ts, ev.pid, ev.tid, notes.process, h);
  if (notes.conn) j["conn"] = notes.conn;
  j["func"] = ev.func < FuncId::kCount ? func_def(ev.func).name : "";
  j["event"] = ev.type() != EventType::Unknown ? event_def(ev.type()).name : "";
  j["result"] = ev.result;
  if (!ev.error.ok()) {
    nlohmann::ordered_json e;
    e["name"] = error_name(ev.error);
    e["domain"] = domain_name(ev.error.domain);
    e["code"] = ev.error.value;
    if (const ErrorInfo* info = find_error(ev.error)) e["meaning"] = info->meaning;
    j["error"] = e;
  }
  j["dur_ns"] = ev.dur;
  nlohmann::ordered_json args = nlohmann::ordered_json::object();
  for (uint8_t i = 0; i < ev.nvalues; ++i) {
    const FieldDef& f = field_def(ev.values[i].id);
    args[std::string(f.name)] = value_json(f, ev.values[i], ev.func);
  }
  j["args"] = args;
  return json_dump(j);
}

}  // namespace ws::present
