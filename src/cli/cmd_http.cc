// `wstrace http`: HTTP/1.x requests and responses decoded from payloads — connection, method,
// target, host, status, headers, body sizes, time to first byte — and, for encrypted
// connections, the TLS hellos' server name, ALPN and version.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "inspector.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

struct HttpOptions {
  std::string file, filter;
  bool json = false, relative = false, headers = false, show_secrets = false;
};

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

int run_http(const HttpOptions& o) {
  inspect::InspectOptions io;
  if (!parse_filter(o.filter, io.filter)) return kExitUsage;
  io.http = true;
  auto engine = open_trace(o.file, false, o.show_secrets);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  present::TextOptions text;
  text.time = o.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  inspect::Inspector inspector(std::move(io));
  const inspect::Tracker& tracker = inspector.tracker();
  // A connection is listed when any of its calls passes the filter.
  if (!o.json)
    fmt::print("{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {:<16} {:>9} {:>9} {:>8} {:>8}\n",
               "time", "conn", "process", "method", "host", "target", "status", "req body",
               "resp body", "ttfb", "total");
  inspect::Callbacks cb;
  cb.exchange = [&](const inspect::HttpExchange& x) {
    if (!x.matched) return;
    const int64_t start = x.has_request ? x.request_start : x.response_start;
    if (o.json) {
      nlohmann::ordered_json j;
      j["type"] = "http";
      j["conn"] = x.conn;
      j["pid"] = x.pid;
      j["time"] = present::utc_text(h.wall_ns(start));
      j["host"] = x.host;
      if (x.has_request) j["request"] = message_json(x.request);
      if (x.has_response) j["response"] = message_json(x.response);
      if (x.ttfb() >= 0) j["ttfb_ns"] = x.ttfb();
      if (x.has_request && x.has_response) j["total_ns"] = x.response_end - x.request_start;
      fmt::print("{}\n", present::json_dump(j));
      return;
    }
    const auto& rq = x.request;
    std::string line = fmt::format(
        "{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {:<16} {:>9} {:>9} {:>8} {:>8}",
        present::time_text(h.wall_ns(start), text, start - inspector.first_ts()), fmt::format("#{}", x.conn),
        proc_text(tracker, x.pid), x.has_request ? rq.method : "-", x.host,
        x.has_request ? rq.target : "-", status_text(x),
        x.has_request ? std::to_string(rq.body_size) : "-",
        x.has_response ? std::to_string(x.response.body_size) : "-",
        x.ttfb() >= 0 ? present::duration_text(static_cast<uint64_t>(x.ttfb())) : "-",
        x.has_request && x.has_response
            ? present::duration_text(static_cast<uint64_t>(x.response_end - x.request_start))
            : "-");
    while (!line.empty() && line.back() == ' ') line.pop_back();
    print_line(stdout, line);
    if (!o.headers) return;
    if (x.has_request) {
      if (rq.end != decode::HttpEnd::Complete) fmt::print("    > ({})\n", decode::end_text(rq));
      for (const auto& hd : rq.headers)
        print_line(stdout, fmt::format("    > {}: {}", hd.name, hd.value));
    }
    if (x.has_response) {
      if (x.response.end != decode::HttpEnd::Complete)
        fmt::print("    < ({})\n", decode::end_text(x.response));
      for (const auto& hd : x.response.headers)
        print_line(stdout, fmt::format("    < {}: {}", hd.name, hd.value));
    }
  };
  cb.tls = [&](const inspect::TlsInfo& t) {
    if (!t.matched) return;
    const std::string version = t.has_server && t.server.ok()
                                    ? decode::tls_version_name(t.server.version)
                                    : decode::tls_version_name(t.client.version) + " offered";
    if (o.json) {
      nlohmann::ordered_json j;
      j["type"] = "tls";
      j["conn"] = t.conn;
      j["pid"] = t.pid;
      j["time"] = present::utc_text(h.wall_ns(t.ts));
      j["server_name"] = t.client.server_name;
      j["alpn"] = t.client.alpn;
      j["client_version"] = decode::tls_version_name(t.client.version);
      j["cipher_suites_offered"] = t.client.cipher_suites;
      if (!t.client.ok())
        j["client_hello_problem"] = t.client.problem.empty() ? "cut" : t.client.problem;
      if (t.has_server && t.server.ok()) {
        j["version"] = decode::tls_version_name(t.server.version);
        if (!t.server.alpn.empty()) j["alpn_chosen"] = t.server.alpn[0];
      }
      fmt::print("{}\n", present::json_dump(j));
      return;
    }
    std::string line = fmt::format(
        "{:<15} {:>5} {:<20} {:<7} {:<24} {:<32} {}",
        present::time_text(h.wall_ns(t.ts), text, t.ts - inspector.first_ts()), fmt::format("#{}", t.conn),
        proc_text(tracker, t.pid), "TLS",
        t.client.server_name.empty() ? "-" : t.client.server_name,
        t.client.alpn.empty() ? "-" : "ALPN " + fmt::to_string(fmt::join(t.client.alpn, ",")),
        version);
    print_line(stdout, line);
  };
  inspector.subscribe(cb);
  inspector.run(*engine);
  return finish(*engine);
}

}  // namespace

void add_http_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<HttpOptions>();
  auto* cmd = app.add_subcommand(
      "http", "HTTP/1.x exchanges decoded from payloads, and TLS server names (SNI)");
  cmd->add_option("FILE", o->file, "trace file (.wst)")->required();
  cmd->add_option("--filter", o->filter,
                  "only connections with a call that matches (docs/filters.md)");
  cmd->add_flag("-H,--headers", o->headers, "print the headers under each exchange");
  cmd->add_flag("--json", o->json, "JSON Lines, one object per exchange or TLS connection");
  cmd->add_flag("--relative", o->relative, "times in seconds since the first call");
  add_show_secrets_flag(*cmd, o->show_secrets);
  cmd->callback([o, &exit_code] { exit_code = run_http(*o); });
}

}  // namespace ws::cli
