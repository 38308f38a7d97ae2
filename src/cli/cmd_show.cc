#include <cstdio>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "filter.h"
#include "view.h"

namespace ws::cli {
namespace {

struct ShowOptions {
  std::string file, filter;
  bool json = false, csv = false, hex = false, utc = false, relative = false, follow = false;
};

int run_show(const ShowOptions& o) {
  inspect::Filter filter;
  if (!parse_filter(o.filter, filter)) return kExitUsage;
  auto engine = open_trace(o.file, o.follow);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  present::TextOptions text;
  text.hex = o.hex;
  text.time = o.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  LineWriter lines(std::move(filter), text);
  if (o.csv) fmt::print("{}\n", present::csv_header());
  Event ev;
  bool first = true;
  int64_t first_ts = 0;
  while (engine->next(ev)) {
    if (first) first_ts = ev.ts, first = false;
    if (!lines.accept(ev)) continue;
    if (o.json) fmt::print("{}\n", present::json_line(ev, h, lines.notes(ev)));
    else if (o.csv) fmt::print("{}\n", present::csv_row(ev, h, lines.notes(ev)));
    else fmt::print("{}\n", lines.line(ev, h, first_ts));
  }
  return finish(*engine);
}

}  // namespace

void add_show_command(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<ShowOptions>();
  auto* cmd = app.add_subcommand("show", "Print the calls of a trace in time order, one a line");
  cmd->add_option("FILE", o->file, "trace file (.wst)")->required();
  cmd->add_option("--filter", o->filter,
                  "only the calls that match, e.g. 'rport == 443 and failed' (docs/filters.md)");
  auto* json = cmd->add_flag("--json", o->json, "JSON Lines, one object per call (docs/cli.md)");
  cmd->add_flag("--csv", o->csv, "CSV with a header row (docs/cli.md)")->excludes(json);
  cmd->add_flag("-x,--hex", o->hex, "add a hex+ASCII dump of each payload");
  auto* utc = cmd->add_flag("--utc", o->utc, "wall-clock times in UTC (the default)");
  cmd->add_flag("--relative", o->relative, "seconds since the first call")->excludes(utc);
  cmd->add_flag("-f,--follow", o->follow, "keep reading a trace that is still being recorded");
  cmd->callback([o, &exit_code] { exit_code = run_show(*o); });
}

}  // namespace ws::cli
