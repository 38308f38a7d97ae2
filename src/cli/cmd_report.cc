// `wstrace report`: one self-contained HTML file of a trace — summary, findings, timeline,
// connections, lookups, HTTP exchanges, calls with the filter language and a payload viewer —
// that opens from disk in a browser with no network (docs/report.md).
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "commands.h"
#include "common.h"
#include "report_data.h"
#include "report_html.h"

namespace ws::cli {
namespace {

struct ReportArgs {
  std::string file, out, filter;
  uint32_t payload_cap = 512;
  uint64_t max_calls = 0;
  bool quiet = false, show_secrets = false;
};

int run_report(const ReportArgs& a) {
  report::ReportOptions opt;
  if (!parse_filter(a.filter, opt.filter)) return kExitUsage;
  opt.payload_cap = a.payload_cap;
  opt.max_calls = a.max_calls;
  auto engine = open_trace(a.file, false, a.show_secrets);
  if (!engine) return kExitError;
  report::ReportBuilder builder(std::move(opt));
  Event ev;
  while (engine->next(ev)) builder.observe(ev);
  auto data = builder.finish(engine->header(), engine->end().message);
  if (Status s = report::write_report(a.out, *data); !s.ok()) {
    report(s.message());
    return kExitError;
  }
  if (!a.quiet)
    fmt::print(stderr, "wstrace: report of {} calls{} in {}\n", data->calls.size(),
               data->summary.truncated ? fmt::format(" (the first {}: --max-calls)", a.max_calls)
                                       : "",
               a.out);
  return finish(*engine);
}

}  // namespace

void add_report_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<ReportArgs>();
  auto* cmd = app.add_subcommand(
      "report", "One self-contained HTML file of a trace, to open in a browser (docs/report.md)");
  cmd->add_option("FILE", a->file, "trace file (.wst)")->required();
  cmd->add_option("-o,--output", a->out, "the HTML file to write")->required();
  cmd->add_option("--filter", a->filter,
                  "only the calls that match (and their connections), e.g. 'rport == 443' "
                  "(docs/filters.md)");
  cmd->add_option("--payload-cap", a->payload_cap,
                  "payload bytes kept per call in the report (default 512; 0 none)")
      ->check(CLI::Range(0u, 1u << 20));
  cmd->add_option("--max-calls", a->max_calls,
                  "keep at most this many calls in the report (default: all)");
  cmd->add_flag("-q,--quiet", a->quiet, "no summary line on stderr");
  add_show_secrets_flag(*cmd, a->show_secrets);
  cmd->callback([a, &exit_code] { exit_code = run_report(*a); });
}

}  // namespace ws::cli
