// `wstrace stats`: per function — calls, failures by error (would-block, in-progress and pending
// results apart, as outcomes), bytes, latency percentiles — and per
// process totals, and the connections that moved the most bytes (counted by inspect/counts.h).

#include <algorithm>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "conn_table.h"
#include "counts.h"
#include "safe_text.h"
#include "view.h"

namespace ws::cli {
namespace {

int run_stats(const std::string& file, const std::string& filter_text, bool json) {
  inspect::InspectOptions io;
  if (!parse_filter(filter_text, io.filter)) return kExitUsage;
  auto engine = open_trace(file);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  inspect::Inspector inspector(std::move(io));
  inspect::CallCounts counts;
  inspector.subscribe(counts);
  inspector.run(*engine);
  const inspect::Tracker& tracker = inspector.tracker();
  const auto& funcs = counts.functions();
  const auto& procs = counts.processes();
  const auto& top = counts.top_connections();
  const uint64_t conns = counts.connections();
  if (json) {
    nlohmann::ordered_json j;
    for (const auto& [name, f] : funcs) {
      nlohmann::ordered_json o;
      o["calls"] = f.calls;
      o["failed"] = f.failed;
      o["errors"] = f.errors;
      o["outcomes"] = f.outcomes;
      o["bytes"] = f.bytes;
      o["latency_ns"] = {{"p50", f.latency.percentile(50)}, {"p90", f.latency.percentile(90)},
                         {"p99", f.latency.percentile(99)}, {"max", f.latency.max()}};
      j["functions"][name] = o;
    }
    for (const auto& [pid, p] : procs)
      j["processes"][std::to_string(pid)] = {
          {"image", p.image}, {"calls", p.calls}, {"failed", p.failed}, {"bytes", p.bytes}};
    j["connections"] = conns;
    j["top_connections"] = nlohmann::ordered_json::array();
    for (const auto& c : top) j["top_connections"].push_back(present::conn_json(c, tracker, h));
    fmt::print("{}\n", present::json_dump(j, 2));
  } else {
    // The name column as wide as the longest name (GetAddrInfoExOverlappedResult is 29).
    size_t w = 24;
    for (const auto& [name, f] : funcs) w = std::max(w, name.size());
    fmt::print("{:<{}} {:>9} {:>7} {:>12} {:>9} {:>9} {:>9} {:>9}  errors\n", "function", w,
               "calls", "failed", "bytes", "p50", "p90", "p99", "max");
    for (const auto& [name, f] : funcs) {
      std::string errs;
      for (const auto& [e, n] : f.errors) errs += fmt::format("{}{} {}", errs.empty() ? "" : ", ", e, n);
      for (const auto& [e, n] : f.outcomes)
        errs += fmt::format("{}{} {} (outcome)", errs.empty() ? "" : ", ", e, n);
      std::string line = fmt::format(
          "{:<{}} {:>9} {:>7} {:>12} {:>9} {:>9} {:>9} {:>9}  {}", name, w, f.calls, f.failed,
          f.bytes,
          present::duration_text(f.latency.percentile(50)),
          present::duration_text(f.latency.percentile(90)),
          present::duration_text(f.latency.percentile(99)), present::duration_text(f.latency.max()),
          errs);
      while (!line.empty() && line.back() == ' ') line.pop_back();
      fmt::print("{}\n", line);
    }
    fmt::print("\n{:>8} {:>9} {:>7} {:>12}  process\n", "pid", "calls", "failed", "bytes");
    for (const auto& [pid, p] : procs)
      fmt::print("{:>8} {:>9} {:>7} {:>12}  {}\n", pid, p.calls, p.failed, p.bytes,
                 present::printable(p.image));
    if (conns) {
      fmt::print("\n{} connection{}{}\n", conns, conns == 1 ? "" : "s",
                 conns > top.size() ? fmt::format(", the {} that moved the most bytes:", top.size())
                                    : ":");
      fmt::print("{}\n", present::conn_header());
      present::TextOptions text;
      for (const auto& c : top) fmt::print("{}\n", present::conn_row(c, tracker, h, text, 0));
    }
  }
  return finish(*engine);
}

}  // namespace

void add_stats_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto filter = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand(
      "stats", "Per function: calls, failures by error, bytes, latency percentiles; per process");
  cmd->add_option("FILE", *file, "trace file (.wst)")->required();
  cmd->add_option("--filter", *filter, "only the calls that match (docs/filters.md)");
  cmd->add_flag("--json", *json, "as JSON");
  cmd->callback([file, filter, json, &exit_code] { exit_code = run_stats(*file, *filter, *json); });
}

}  // namespace ws::cli
