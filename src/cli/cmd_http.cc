// `wstrace http`: HTTP/1.x requests and responses decoded from payloads — connection, method,
// target, host, status, headers, body sizes, time to first byte — and, for encrypted
// connections, the TLS hellos' server name, ALPN and version.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "http_table.h"
#include "inspector.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

struct HttpOptions {
  std::string file, filter;
  bool json = false, relative = false, headers = false, show_secrets = false;
};

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
  if (!o.json) fmt::print("{}\n", present::http_header());
  inspect::Callbacks cb;
  cb.exchange = [&](const inspect::HttpExchange& x) {
    if (!x.matched) return;
    if (o.json) {
      fmt::print("{}\n", present::json_dump(present::exchange_json(x, h)));
      return;
    }
    print_line(stdout, present::exchange_row(x, tracker, h, text, inspector.first_ts()));
    if (o.headers)
      for (const std::string& line : present::exchange_header_lines(x)) print_line(stdout, line);
  };
  cb.tls = [&](const inspect::TlsInfo& t) {
    if (!t.matched) return;
    if (o.json)
      fmt::print("{}\n", present::json_dump(present::tls_json(t, h)));
    else
      print_line(stdout, present::tls_row(t, tracker, h, text, inspector.first_ts()));
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
