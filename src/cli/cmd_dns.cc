// `wstrace dns`: every name lookup — resolver calls, and DNS messages seen in payloads to or
// from port 53 (or a UDP flow on another port that starts with a DNS query) — in the order they
// completed.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "inspector.h"
#include "lookup_table.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

struct DnsOptions {
  std::string file;
  bool json = false, relative = false;
};

int run_dns(const DnsOptions& o) {
  auto engine = open_trace(o.file);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  present::TextOptions text;
  text.time = o.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  inspect::Inspector inspector;
  const inspect::Tracker& tracker = inspector.tracker();
  if (!o.json) fmt::print("{}\n", present::lookup_header());
  inspect::Callbacks cb;
  cb.lookup = [&](const inspect::Lookup& l) {
    if (o.json)
      fmt::print("{}\n", present::json_dump(present::lookup_json(l, tracker, h)));
    else
      print_line(stdout, present::lookup_row(l, tracker, h, text, inspector.first_ts()));
  };
  inspector.subscribe(cb);
  inspector.run(*engine);
  return finish(*engine);
}

}  // namespace

void add_dns_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<DnsOptions>();
  auto* cmd = app.add_subcommand(
      "dns", "Every name lookup: resolver calls and DNS messages in payloads (port 53)");
  cmd->add_option("FILE", o->file, "trace file (.wst)")->required();
  cmd->add_flag("--json", o->json, "JSON Lines, one object per lookup (docs/cli.md)");
  cmd->add_flag("--relative", o->relative, "times in seconds since the first call");
  cmd->callback([o, &exit_code] { exit_code = run_dns(*o); });
}

}  // namespace ws::cli
