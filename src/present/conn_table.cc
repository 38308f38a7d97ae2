#include "conn_table.h"

#include <charconv>
#include <cstdio>
#include <vector>

#include <fmt/format.h>

#include "safe_text.h"

namespace ws::present {
namespace {

std::string process_text(const inspect::Connection& c, const inspect::Tracker& t) {
  const inspect::Process* p = t.process(c.pid);
  if (p == nullptr || p->image.empty()) return std::to_string(c.pid);
  return p->name() + '[' + std::to_string(c.pid) + ']';
}

std::string end_text(const inspect::Connection& c) {
  std::string s(inspect::end_name(c.end));
  if (!c.end_error.ok()) s += fmt::format(" ({})", error_name(c.end_error));
  return s;
}

std::string errors_text(const inspect::Connection& c) {
  if (c.errors == 0) return {};
  std::string s = fmt::format("{}:", c.errors);
  for (const auto& e : c.error_codes) s += " " + error_name(e);
  return s;
}

int64_t duration(const inspect::Connection& c) {
  return c.closed_ts ? c.closed_ts - c.opened_ts : -1;
}

// Columns: width (negative = left-aligned). Padding counts bytes, not display width: the
// fields are ASCII but for image names, and fmt's width handling (which decodes UTF-8) was
// half of `conns`' time on a trace of many short connections.
constexpr int kWidths[] = {4, -22, -5, -8, -22, -22, -20, -15, 9, 14, 14};

void cell(std::string& out, std::string_view s, int width) {
  const size_t w = static_cast<size_t>(width < 0 ? -width : width);
  const size_t fill = s.size() < w ? w - s.size() : 0;
  if (!out.empty()) out += ' ';
  if (width > 0) out.append(fill, ' ');
  out += s;
  if (width < 0) out.append(fill, ' ');
}

std::string cells(std::initializer_list<std::string_view> values) {
  std::string out;
  out.reserve(200);
  size_t i = 0;
  for (std::string_view v : values) cell(out, v, kWidths[i++]);
  return out;
}

}  // namespace

namespace {

// A connection's TCP statistics in words, after its end and errors: "tcp: rtt 1.2ms (min 300us),
// 5 retransmitted (7300 B), final"; with the kernel engine's events, what it saw happen too
// ("3 retransmissions seen (3 segments, 4344 B), 4 state changes (last FIN_WAIT1)"); empty when
// there is none of either.
std::string tcp_text(const inspect::TcpStats& t) {
  if (!t.seen()) return "";
  std::vector<std::string> parts;
  if (t.rtt) {
    parts.push_back("rtt " + present::duration_text(*t.rtt));
    if (t.min_rtt) parts.back() += " (min " + present::duration_text(*t.min_rtt) + ")";
  }
  if (t.retrans || t.retrans_bytes) {
    parts.push_back(fmt::format("{} retransmitted", t.retrans ? *t.retrans : 0));
    if (t.retrans_bytes) parts.back() += fmt::format(" ({} B)", *t.retrans_bytes);
  }
  if (t.syn_retrans && *t.syn_retrans)
    parts.push_back(fmt::format("{} SYN retransmitted", *t.syn_retrans));
  if (t.timeouts && *t.timeouts) parts.push_back(fmt::format("{} timeouts", *t.timeouts));
  if (t.retransmits)
    parts.push_back(fmt::format("{} retransmission{} seen ({} segments, {} B)", t.retransmits,
                                t.retransmits == 1 ? "" : "s", t.retrans_segments,
                                t.retrans_stream_bytes));
  if (t.state_changes) {
    parts.push_back(
        fmt::format("{} state change{}", t.state_changes, t.state_changes == 1 ? "" : "s"));
    if (t.state) parts.back() += fmt::format(" (last {})", code_name(ConstTable::TcpState, *t.state));
  }
  if (t.readings) parts.push_back(t.final ? "final" : "partial");
  std::string s = "tcp:";
  for (size_t i = 0; i < parts.size(); ++i) s += (i ? ", " : " ") + parts[i];
  return s;
}

nlohmann::ordered_json tcp_json(const inspect::TcpStats& t) {
  nlohmann::ordered_json j;
  j["readings"] = t.readings;
  j["final"] = t.final;
  if (t.state) j["state"] = code_name(ConstTable::TcpState, *t.state);
  auto put = [&j](const char* name, const std::optional<uint64_t>& v) {
    if (v) j[name] = *v;
  };
  put("rtt_ns", t.rtt);
  put("rtt_var_ns", t.rtt_var);
  put("min_rtt_ns", t.min_rtt);
  if (t.max_rtt) j["max_rtt_ns"] = t.max_rtt;
  put("retrans", t.retrans);
  put("retrans_bytes", t.retrans_bytes);
  put("syn_retrans", t.syn_retrans);
  put("timeouts", t.timeouts);
  put("bytes_sent", t.bytes_sent);
  put("bytes_recvd", t.bytes_recvd);
  if (t.state_changes) j["state_changes"] = t.state_changes;
  if (t.retransmits) {
    j["retransmits_seen"] = t.retransmits;
    j["retransmitted_segments_seen"] = t.retrans_segments;
    j["retransmitted_bytes_seen"] = t.retrans_stream_bytes;
  }
  return j;
}

}  // namespace

std::string conn_header() {
  return cells({"id", "process", "kind", "role", "local", "remote", "host", "opened", "duration",
                "sent B/calls", "recvd B/calls"}) +
         "  end  errors";
}

std::string conn_row(const inspect::Connection& c, const inspect::Tracker& t,
                     const trace::TraceHeader& h, const TextOptions& text,
                     int64_t first_ts) {
  // Appended cell by cell into one string: conns prints a row per connection, millions of
  // them in a long trace.
  const int64_t d = duration(c);
  std::string row;
  row.reserve(220);
  char num[48];
  auto count = [&](uint64_t bytes, uint64_t calls) {  // at most 20 + 1 + 20 characters
    const char* end = fmt::format_to(num, "{}/{}", bytes, calls);
    return std::string_view(num, static_cast<size_t>(end - num));
  };
  int i = 0;
  cell(row, std::string_view(num, static_cast<size_t>(std::to_chars(num, num + sizeof num, c.id).ptr - num)), kWidths[i++]);
  // Names and paths come from the traced program: their control characters are escaped.
  cell(row, printable(process_text(c, t)), kWidths[i++]);
  cell(row, c.kind(), kWidths[i++]);
  cell(row, inspect::role_name(c.role), kWidths[i++]);
  cell(row, c.local ? printable(to_string(*c.local)) : "-", kWidths[i++]);
  cell(row, c.remote ? printable(to_string(*c.remote)) : "-", kWidths[i++]);
  cell(row, c.host.empty() ? "-" : printable(c.host), kWidths[i++]);
  cell(row, present::time_text(h.wall_ns(c.opened_ts), text, c.opened_ts - first_ts), kWidths[i++]);
  cell(row, d >= 0 ? present::duration_text(static_cast<uint64_t>(d)) : "-", kWidths[i++]);
  cell(row, count(c.bytes_out, c.calls_out), kWidths[i++]);
  cell(row, count(c.bytes_in, c.calls_in), kWidths[i++]);
  row += "  ";
  row += end_text(c);
  if (const std::string e = errors_text(c); !e.empty()) row += "  errors " + e;
  if (const std::string tcp = tcp_text(c.tcp); !tcp.empty()) row += "  " + tcp;
  return row;
}

nlohmann::ordered_json conn_json(const inspect::Connection& c, const inspect::Tracker& t,
                                 const trace::TraceHeader& h) {
  nlohmann::ordered_json j;
  j["id"] = c.id;
  j["pid"] = c.pid;
  if (const inspect::Process* p = t.process(c.pid); p && !p->image.empty()) j["process"] = p->name();
  j["sock"] = c.sock;
  j["kind"] = c.kind();
  j["role"] = inspect::role_name(c.role);
  if (c.role == inspect::ConnRole::Accepted) j["listener"] = c.listener;
  if (c.local) j["local"] = to_string(*c.local);
  if (c.remote) j["remote"] = to_string(*c.remote);
  if (!c.host.empty()) j["host"] = c.host;
  j["opened"] = present::utc_text(h.wall_ns(c.opened_ts));
  j["opened_ts_ns"] = c.opened_ts;
  if (c.connected_ts) j["connected_ts_ns"] = c.connected_ts;
  if (c.closed_ts) {
    j["closed"] = present::utc_text(h.wall_ns(c.closed_ts));
    j["closed_ts_ns"] = c.closed_ts;
    j["duration_ns"] = duration(c);
  }
  j["bytes_out"] = c.bytes_out;
  j["bytes_in"] = c.bytes_in;
  j["calls_out"] = c.calls_out;
  j["calls_in"] = c.calls_in;
  j["end"] = inspect::end_name(c.end);
  if (!c.end_error.ok()) j["end_error"] = error_name(c.end_error);
  j["errors"] = c.errors;
  auto names = nlohmann::ordered_json::array();
  for (const auto& e : c.error_codes) names.push_back(error_name(e));
  j["error_names"] = names;
  if (c.tcp.seen()) j["tcp"] = tcp_json(c.tcp);
  return j;
}

void InOrder::put(uint64_t id, std::string row) {
  if (id != next_) {
    waiting_.emplace(id, std::move(row));
    return;
  }
  emit(row);
  ++next_;
  for (auto it = waiting_.begin(); it != waiting_.end() && it->first == next_;
       it = waiting_.erase(it), ++next_)
    emit(it->second);
}

void InOrder::emit(const std::string& row) {
  if (row.empty()) return;
  out_ += row;
  out_ += '\n';
  if (out_.size() >= 1 << 16) flush();
}

void InOrder::flush() {
  std::fwrite(out_.data(), 1, out_.size(), stdout);
  out_.clear();
}

InOrder::~InOrder() { flush(); }

}  // namespace ws::present
