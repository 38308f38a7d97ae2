// `wstrace dns`: every name lookup — resolver calls, and DNS messages seen in payloads to or
// from port 53 — in the order they completed.
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "inspector.h"
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
  if (!o.json)
    fmt::print("{:<15} {:<24} {:<14} {:<32} {:<8} {:<10} {:>8}  {:<10} {}\n", "time", "process",
               "via", "name", "service", "asked", "duration", "result", "answers");
  inspect::Callbacks cb;
  cb.lookup = [&](const inspect::Lookup& l) {
    const inspect::Process* p = tracker.process(l.pid);
    const std::string proc = p && !p->image.empty() ? p->name() : std::string();
    const std::string via = l.packet ? fmt::format("{} #{}", l.via, l.conn) : l.via;
    if (o.json) {
      nlohmann::ordered_json j;
      j["seq"] = l.seq;
      j["time"] = present::utc_text(h.wall_ns(l.ts));
      j["ts_ns"] = l.ts;
      j["pid"] = l.pid;
      j["tid"] = l.tid;
      if (!proc.empty()) j["process"] = proc;
      j["source"] = l.packet ? "packet" : "call";
      j["via"] = l.via;
      if (l.packet) j["conn"] = l.conn, j["dns_id"] = l.dns_id, j["answered"] = l.answered;
      j["name"] = l.name;
      if (!l.service.empty()) j["service"] = l.service;
      if (!l.asked.empty()) j["asked"] = l.asked;
      j["answers"] = l.answers;
      j["dur_ns"] = l.dur;
      j["ok"] = l.ok;
      j["result"] = l.result;
      if (!l.meaning.empty()) j["meaning"] = l.meaning;
      fmt::print("{}\n", present::json_dump(j));
      return;
    }
    std::string result = l.result;
    if (!l.meaning.empty()) {
      std::string_view m = l.meaning;
      if (m.back() == '.') m.remove_suffix(1);
      result += fmt::format(" ({})", m);
    }
    std::string line = fmt::format(
        "{:<15} {:<24} {:<14} {:<32} {:<8} {:<10} {:>8}  {:<10} {}",
        present::time_text(h.wall_ns(l.ts), text, l.ts - inspector.first_ts()),
        fmt::format("{}[{}/{}]", proc.empty() ? "pid" : proc, l.pid, l.tid), via,
        l.name.empty() ? "-" : l.name, l.service.empty() ? "-" : l.service,
        l.asked.empty() ? "-" : l.asked,
        l.answered ? present::duration_text(l.dur) : "-", result,
        fmt::to_string(fmt::join(l.answers, ", ")));
    while (!line.empty() && line.back() == ' ') line.pop_back();
    print_line(stdout, line);
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
