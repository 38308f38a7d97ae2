#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "counts.h"
#include "lost_tracing.h"
#include "safe_text.h"
#include "view.h"

namespace ws::cli {
namespace {

// When: the UTC time and the offset from the trace's first event.
std::string when(const trace::TraceHeader& h, int64_t ts, int64_t first) {
  return fmt::format("{} (+{})", present::utc_text(h.wall_ns(ts)),
                     present::duration_text(static_cast<uint64_t>(ts - first)));
}

std::string dropped_text(const inspect::LostTracing& lost, const trace::TraceHeader& h,
                         int64_t first) {
  if (!lost.dropped()) return "none";
  // The first few by process and cause; a trace of many processes says how many more.
  constexpr size_t kShown = 4;
  std::string parts;
  size_t shown = 0;
  uint64_t rest = 0;
  for (const auto& [key, d] : lost.drops()) {
    if (shown++ >= kShown) {
      rest += d.records;
      continue;
    }
    parts += fmt::format("{}{} {} from {}: {}", parts.empty() ? "" : "; ", d.records,
                         d.pid ? fmt::format("of process {}", d.pid) : std::string("records"),
                         when(h, d.first_ts, first), d.cause);
  }
  if (shown > kShown)
    parts += fmt::format("; and {} more, of {} other processes or causes (info --json has all)",
                         rest, shown - kShown);
  return fmt::format("{} records ({})", lost.dropped(), parts);
}

// The "tracing lost" line of a process, or "" when it was traced to its end.
std::string lost_text(const inspect::LostTracing& lost, uint32_t pid, const trace::TraceHeader& h,
                      int64_t first) {
  auto it = lost.processes().find(pid);
  if (it == lost.processes().end()) return {};
  const inspect::LostProcess& p = it->second;
  std::string s = fmt::format("not traced from {}: exec of {}: {}", when(h, p.ts, first), p.image,
                              p.cause);
  if (p.resumed_ts) s += fmt::format("; traced again from {}", when(h, p.resumed_ts, first));
  return s;
}

// The "not seen" lines of a process: what its agent said it cannot see.
std::vector<std::string> unseen_texts(const inspect::LostTracing& lost, uint32_t pid,
                                      const trace::TraceHeader& h, int64_t first) {
  std::vector<std::string> lines;
  auto it = lost.unseen().find(pid);
  if (it == lost.unseen().end()) return lines;
  for (const auto& [what, u] : it->second)
    lines.push_back(fmt::format("not seen from {}: {}: {}", when(h, u.ts, first), what, u.cause));
  return lines;
}

nlohmann::ordered_json unseen_json(const inspect::LostTracing& lost, uint32_t pid,
                                   const trace::TraceHeader& h) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  auto it = lost.unseen().find(pid);
  if (it == lost.unseen().end()) return a;
  for (const auto& [what, u] : it->second) {
    nlohmann::ordered_json o;
    o["what"] = what;
    o["cause"] = u.cause;
    o["from"] = present::utc_text(h.wall_ns(u.ts));
    o["seq"] = u.seq;
    a.push_back(o);
  }
  return a;
}

nlohmann::ordered_json lost_json(const inspect::LostProcess& p, const trace::TraceHeader& h) {
  nlohmann::ordered_json o;
  o["from"] = present::utc_text(h.wall_ns(p.ts));
  o["seq"] = p.seq;
  o["image"] = p.image;
  o["cause"] = p.cause;
  if (p.by_pid != p.pid) o["recorded_by"] = p.by_pid;
  if (p.resumed_ts) o["traced_again"] = present::utc_text(h.wall_ns(p.resumed_ts));
  return o;
}

nlohmann::ordered_json drops_json(const inspect::LostTracing& lost, const trace::TraceHeader& h) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (const auto& [key, d] : lost.drops()) {
    nlohmann::ordered_json o;
    if (d.pid) o["pid"] = d.pid;
    o["records"] = d.records;
    o["from"] = present::utc_text(h.wall_ns(d.first_ts));
    o["cause"] = d.cause;
    a.push_back(o);
  }
  return a;
}

std::string_view platform_name(Platform p) {
  switch (p) {
    case Platform::Linux: return "Linux";
    case Platform::Windows: return "Windows";
    case Platform::Unknown: break;
  }
  return "unknown";
}

int run_info(const std::string& file, bool json) {
  auto engine = open_trace(file);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  inspect::Inspector inspector;
  inspect::TraceSummary sum;
  inspector.subscribe(sum);
  inspector.run(*engine);
  const auto& procs = sum.processes();
  const auto& lost = sum.lost();
  const int64_t first = sum.first_ts(), last = sum.last_ts();

  const bool complete = engine->end().kind == trace::ReadProblem::Kind::None;
  if (json) {
    nlohmann::ordered_json j;
    j["trace"] = file;
    j["recorded"] = present::utc_text(h.wall_ns(first));
    j["host"] = h.host;
    j["os"] = h.os;
    j["platform"] = platform_name(h.platform);
    j["arch"] = h.arch;
    j["wstrace_version"] = h.wstrace_version;
    j["command"] = h.command;
    j["snaplen"] = h.snaplen;
    j["follow_children"] = h.follow_children;
    j["redacted"] = h.redacted;
    if (!h.engine.empty()) j["engine"] = h.engine;
    if (!h.mode.empty()) j["mode"] = h.mode;
    j["span_ns"] = last - first;
    j["events"] = sum.events();
    j["failed"] = sum.failed();
    j["connections"] = sum.connections();
    j["connections_by_kind"] = nlohmann::ordered_json::object();
    for (std::string_view k : inspect::connection_kinds())
      if (auto it = sum.connections_by_kind().find(k); it != sum.connections_by_kind().end())
        j["connections_by_kind"][std::string(k)] = it->second;
    j["dropped"] = sum.dropped();
    j["drops"] = drops_json(lost, h);
    j["dropped_ring_full"] = lost.dropped_for(1);
    j["dropped_no_free_ring"] = lost.dropped_for(2);
    j["dropped_ring_damaged"] = lost.dropped_for(3);
    j["dropped_kernel_ring_full"] = lost.dropped_for(4);
    j["complete"] = complete;
    j["processes"] = nlohmann::ordered_json::array();
    for (const auto& [pid, p] : procs) {
      nlohmann::ordered_json o;
      o["pid"] = pid;
      o["ppid"] = p.ppid;
      o["image"] = p.image;
      o["cmdline"] = p.cmdline;
      if (!p.title.empty()) o["title"] = p.title;
      o["calls"] = p.calls;
      o["failed"] = p.errors;
      o["dropped"] = p.dropped;
      o["exited"] = p.exited;
      if (p.exit_known) o["exit_code"] = p.exit_code;
      if (auto it = lost.processes().find(pid); it != lost.processes().end())
        o["tracing_lost"] = lost_json(it->second, h);
      if (lost.unseen().count(pid)) o["unseen"] = unseen_json(lost, pid, h);
      j["processes"].push_back(o);
    }
    j["calls_by_function"] = sum.calls_by_function();
    fmt::print("{}\n", present::json_dump(j, 2));
    return finish(*engine);
  }
  // The header's texts and the command lines come from the recording machine and program.
  using present::printable;
  fmt::print("trace      {}\n", printable(file));
  fmt::print("recorded   {} on {} ({}, {} {})\n", present::utc_text(h.wall_ns(first)),
             printable(h.host), printable(h.os), platform_name(h.platform), printable(h.arch));
  fmt::print("by         wstrace {}: {}\n", printable(h.wstrace_version), printable(h.command));
  fmt::print("capture    {}{}snaplen {} bytes, {} child processes{}\n",
             h.engine.empty() ? "" : fmt::format("engine {}, ", printable(h.engine)),
             h.mode.empty() || h.mode == "program"
                 ? ""
                 : fmt::format("{}, ", h.mode == "system"   ? std::string("every process (system-wide)")
                                       : h.mode == "attach" ? std::string("attached to running processes")
                                                            : printable(h.mode)),
             h.snaplen,
             h.follow_children ? "following" : "not following",
             h.redacted ? ", credentials masked when recorded (--redact)" : "");
  fmt::print("span       {}\n", present::duration_text(static_cast<uint64_t>(last - first)));
  fmt::print("events     {} ({} calls failed)\n", sum.events(), sum.failed());
  fmt::print("conns      {}\n", sum.connections_text());
  fmt::print("dropped    {}\n", dropped_text(lost, h, first));
  if (!lost.processes().empty())
    fmt::print("lost       tracing of {} process{} (below)\n", lost.processes().size(),
               lost.processes().size() == 1 ? "" : "es");
  fmt::print("complete   {}\n", complete ? "yes" : "no");
  fmt::print("\nprocesses\n");
  for (const auto& [pid, p] : procs) {
    fmt::print("  {:>7} parent {:<7} {:>6} calls {:>5} errors {:>5} dropped  {}  {}\n", pid,
               p.ppid, p.calls, p.errors, p.dropped,
               !p.exited && lost.processes().count(pid) ? std::string("end not seen")
               : !p.exited     ? std::string("running at end")
               : p.exit_known  ? fmt::format("exit {}", p.exit_code)
                               : std::string("ended, status unknown"),
               printable(p.title.empty() ? (p.cmdline.empty() ? p.image : p.cmdline)
                                         : fmt::format("{}  (started as {})", p.title,
                                                       p.cmdline.empty() ? p.image : p.cmdline)));
    if (std::string l = lost_text(lost, pid, h, first); !l.empty()) fmt::print("{:>11}{}\n", "", l);
    for (const std::string& l : unseen_texts(lost, pid, h, first))
      fmt::print("{:>11}{}\n", "", printable(l));
  }
  fmt::print("\ncalls by function\n");
  for (const auto& [name, n] : sum.calls_by_function()) fmt::print("  {:<28} {:>10}\n", name, n);
  return finish(*engine);
}

}  // namespace

void print_lost_tracing(const inspect::LostTracing& lost, const trace::TraceHeader& h,
                        int64_t first, std::FILE* out) {
  for (const auto& [pid, p] : lost.processes())
    fmt::print(out, "wstrace: process {} {}\n", pid, lost_text(lost, pid, h, first));
  for (const auto& [pid, parts] : lost.unseen())
    for (const std::string& l : unseen_texts(lost, pid, h, first))
      fmt::print(out, "wstrace: process {} {}\n", pid, present::printable(l));
}

void add_info_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "Summarise a trace: where, when, processes, counts");
  cmd->add_option("FILE", *file, "trace file (.wst)")->required();
  cmd->add_flag("--json", *json, "as one JSON object");
  cmd->callback([file, json, &exit_code] { exit_code = run_info(*file, *json); });
}

}  // namespace ws::cli
