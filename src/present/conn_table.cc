#include "conn_table.h"

#include <charconv>
#include <cstdio>

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
