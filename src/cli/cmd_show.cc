#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "exporter.h"
#include "filter.h"

namespace ws::cli {
namespace {

struct ShowOptions {
  std::string file, filter;
  bool json = false, csv = false, hex = false, utc = false, relative = false, follow = false;
  bool show_secrets = false;
};

int run_show(const ShowOptions& o) {
  inspect::Filter filter;
  if (!parse_filter(o.filter, filter)) return kExitUsage;
  auto engine = open_trace(o.file, o.follow, o.show_secrets);
  if (!engine) return kExitError;
  exporter::ExportOptions opt;
  opt.out_path = "-";
  opt.text.hex = o.hex;
  opt.text.time = o.relative ? present::TimeMode::Relative : present::TimeMode::Utc;
  // show is the text, csv and jsonl exports to standard output: one loop, the same bytes.
  auto exp = exporter::make_exporter(o.json  ? exporter::Format::Jsonl
                                     : o.csv ? exporter::Format::Csv
                                             : exporter::Format::Text,
                                     opt);
  if (Status s = exporter::export_events(*engine, filter, *exp.value()); !s.ok()) {
    report(s.message());
    return kExitError;
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
  add_show_secrets_flag(*cmd, o->show_secrets);
  cmd->callback([o, &exit_code] { exit_code = run_show(*o); });
}

}  // namespace ws::cli
