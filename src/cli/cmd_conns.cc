// `wstrace conns`: one row per connection — TCP connections, listeners, UDP flows, Unix
// sockets — with both ends, the remote host's name, times, bytes and calls each way, how it
// ended and the errors seen. Rows come out in id order as soon as every lower id has ended, so
// memory follows the open connections, not the trace.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "conn_table.h"
#include "inspector.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

struct ConnsOptions {
  std::string file, filter;
  bool json = false, relative = false;
};

int run_conns(const ConnsOptions& o) {
  inspect::InspectOptions io;
  if (!parse_filter(o.filter, io.filter)) return kExitUsage;
  auto engine = open_trace(o.file);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  present::TextOptions text;
  text.time = o.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  inspect::Inspector inspector(std::move(io));
  // A connection is listed when any of its calls passes the filter (Connection::matched).
  present::InOrder rows;
  if (!o.json) fmt::print("{}\n", present::conn_header());
  inspect::Callbacks cb;
  cb.connection_end = [&](const inspect::Connection& c) {
    std::string row;
    // (The library's own sockets inside a lookup are no connection of the program's — `show`
    // has their calls, marked nested — but for the DNS they carried on the wire.)
    const bool library_probe = c.nested && (c.proto == 0 || (c.bytes_in == 0 && c.bytes_out == 0));
    if (c.matched && !library_probe)
      row = o.json ? present::json_dump(present::conn_json(c, inspector.tracker(), h))
                   : present::conn_row(c, inspector.tracker(), h, text, inspector.first_ts());
    rows.put(c.id, std::move(row));
  };
  inspector.subscribe(cb);
  inspector.run(*engine);
  rows.flush();
  return finish(*engine);
}

}  // namespace

void add_conns_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ConnsOptions>();
  auto* cmd = app.add_subcommand(
      "conns", "One row per connection: ends, host, times, bytes each way, how it ended");
  cmd->add_option("FILE", o->file, "trace file (.wst)")->required();
  cmd->add_option("--filter", o->filter,
                  "only connections with a call that matches, e.g. 'rport == 443' "
                  "(docs/filters.md)");
  cmd->add_flag("--json", o->json, "JSON Lines, one object per connection (docs/cli.md)");
  cmd->add_flag("--relative", o->relative, "times in seconds since the first call");
  cmd->callback([o, &exit_code] { exit_code = run_conns(*o); });
}

}  // namespace ws::cli
