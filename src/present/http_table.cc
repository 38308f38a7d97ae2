#include "http_table.h"

#include <fmt/format.h>

#include "safe_text.h"

namespace ws::present {
namespace {

std::string status_text(const inspect::HttpExchange& x) {
  if (!x.has_response) return "-";
  const auto& r = x.response;
  std::string s = fmt::format("{} {}", r.status, r.reason);
  if (r.end != decode::HttpEnd::Complete) s += " (cut)";
  return s;
}

nlohmann::ordered_json message_json(const decode::HttpMessage& m) {
  nlohmann::ordered_json j;
  if (m.request) {
    j["method"] = m.method;
    j["target"] = m.target;
  } else {
    j["status"] = m.status;
    j["reason"] = m.reason;
  }
  j["version"] = fmt::format("HTTP/{}.{}", m.version_major, m.version_minor);
  auto hs = nlohmann::ordered_json::array();
  for (const auto& h : m.headers) hs.push_back({h.name, h.value});
  j["headers"] = hs;
  j["header_bytes"] = m.header_size;
  j["body_bytes"] = m.body_size;
  j["body_wire_bytes"] = m.body_wire_size;
  j["body_uncaptured_bytes"] = m.body_uncaptured;
  j["end"] = decode::end_text(m);
  return j;
}

std::string proc_text(const inspect::Tracker& t, uint32_t pid) {
  const inspect::Process* p = t.process(pid);
  return fmt::format("{}[{}]", p && !p->image.empty() ? p->name() : "pid", pid);
}

std::string tls_version(const inspect::TlsInfo& t) {
  return t.has_server && t.server.ok() ? decode::tls_version_name(t.server.version)
                                       : decode::tls_version_name(t.client.version) + " offered";
}

}  // namespace

std::string http_header() {
  return fmt::format("{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {:<16} {:>9} {:>9} {:>8} {:>8}",
                     "time", "conn", "process", "method", "host", "target", "status",
                     "req body", "resp body", "ttfb", "total");
}

std::string exchange_row(const inspect::HttpExchange& x, const inspect::Tracker& t,
                         const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts) {
  const int64_t start = x.has_request ? x.request_start : x.response_start;
  const auto& rq = x.request;
  std::string line = fmt::format(
      "{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {:<16} {:>9} {:>9} {:>8} {:>8}",
      time_text(h.wall_ns(start), text, start - first_ts), fmt::format("#{}", x.conn),
      proc_text(t, x.pid), x.has_request ? rq.method : "-", x.host,
      x.has_request ? rq.target : "-", status_text(x),
      x.has_request ? std::to_string(rq.body_size) : "-",
      x.has_response ? std::to_string(x.response.body_size) : "-",
      x.ttfb() >= 0 ? duration_text(static_cast<uint64_t>(x.ttfb())) : "-",
      x.has_request && x.has_response
          ? duration_text(static_cast<uint64_t>(x.response_end - x.request_start))
          : "-");
  while (!line.empty() && line.back() == ' ') line.pop_back();
  return line;
}

std::vector<std::string> exchange_header_lines(const inspect::HttpExchange& x) {
  std::vector<std::string> out;
  auto add = [&out](const decode::HttpMessage& m, char mark) {
    if (m.end != decode::HttpEnd::Complete)
      out.push_back(fmt::format("    {} ({})", mark, decode::end_text(m)));
    for (const auto& hd : m.headers)
      out.push_back(fmt::format("    {} {}: {}", mark, hd.name, hd.value));
  };
  if (x.has_request) add(x.request, '>');
  if (x.has_response) add(x.response, '<');
  return out;
}

nlohmann::ordered_json exchange_json(const inspect::HttpExchange& x, const trace::TraceHeader& h) {
  const int64_t start = x.has_request ? x.request_start : x.response_start;
  nlohmann::ordered_json j;
  j["type"] = "http";
  j["conn"] = x.conn;
  j["pid"] = x.pid;
  j["time"] = utc_text(h.wall_ns(start));
  j["host"] = x.host;
  if (x.has_request) j["request"] = message_json(x.request);
  if (x.has_response) j["response"] = message_json(x.response);
  if (x.ttfb() >= 0) j["ttfb_ns"] = x.ttfb();
  if (x.has_request && x.has_response) j["total_ns"] = x.response_end - x.request_start;
  return j;
}

std::string tls_row(const inspect::TlsInfo& t, const inspect::Tracker& tracker,
                    const trace::TraceHeader& h, const TextOptions& text, int64_t first_ts) {
  return fmt::format(
      "{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {}",
      time_text(h.wall_ns(t.ts), text, t.ts - first_ts), fmt::format("#{}", t.conn),
      proc_text(tracker, t.pid), "TLS", t.client.server_name.empty() ? "-" : t.client.server_name,
      t.client.alpn.empty() ? "-" : "ALPN " + fmt::to_string(fmt::join(t.client.alpn, ",")),
      tls_version(t));
}

nlohmann::ordered_json tls_json(const inspect::TlsInfo& t, const trace::TraceHeader& h) {
  nlohmann::ordered_json j;
  j["type"] = "tls";
  j["conn"] = t.conn;
  j["pid"] = t.pid;
  j["time"] = utc_text(h.wall_ns(t.ts));
  j["server_name"] = t.client.server_name;
  j["alpn"] = t.client.alpn;
  j["client_version"] = decode::tls_version_name(t.client.version);
  j["cipher_suites_offered"] = t.client.cipher_suites;
  if (!t.client.ok()) j["client_hello_problem"] = t.client.problem.empty() ? "cut" : t.client.problem;
  if (t.has_server && t.server.ok()) {
    j["version"] = decode::tls_version_name(t.server.version);
    if (!t.server.alpn.empty()) j["alpn_chosen"] = t.server.alpn[0];
  }
  return j;
}

}  // namespace ws::present
