#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "view.h"

namespace ws::cli {
namespace {

struct ProcessFacts {
  uint32_t pid = 0;
  uint64_t ppid = 0;
  std::string image, cmdline;
  bool exited = false;
  bool exit_known = false;
  int64_t exit_code = 0;
  uint64_t calls = 0, errors = 0, dropped = 0;
};

// Records lost, by the reason their drops events give (0: a trace that gives none).
struct DropFacts {
  uint64_t by_reason[4] = {};
  uint64_t rings = 0;                        // as the last "no free ring" drops said
  std::map<uint32_t, uint64_t> threads_of;   // pid → its threads that found no free ring

  void add(const Event& ev, uint64_t n) {
    const Value* why = ev.get(FieldId::reason);
    by_reason[why && why->num < 4 ? why->num : 0] += n;
    if (why && why->num == 2) {
      if (const Value* t = ev.get(FieldId::threads)) threads_of[ev.pid] = t->num;
      if (const Value* r = ev.get(FieldId::rings)) rings = r->num;
    }
  }
  // "12 records (10 ring full, 2 no free ring: 3 threads found all 256 rings taken)"
  std::string text(uint64_t total) const {
    std::string parts;
    auto part = [&](uint64_t n, const std::string& what) {
      if (n) parts += fmt::format("{}{} {}", parts.empty() ? "" : ", ", n, what);
    };
    uint64_t threads_total = 0;
    for (const auto& [pid, n] : threads_of) threads_total += n;
    part(by_reason[1], "ring full");
    part(by_reason[2], fmt::format("no free ring: {} thread{} found all {} rings taken",
                                   threads_total, threads_total == 1 ? "" : "s", rings));
    part(by_reason[3], "ring damaged by the program");
    part(by_reason[0], "the agent's ring was full");
    return fmt::format("{} records ({})", total, parts);
  }
};

std::string str_of(const Event& ev, FieldId id) {
  const Value* v = ev.get(id);
  return v ? std::string(v->bytes()) : std::string();
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
  std::map<uint32_t, ProcessFacts> procs;
  std::map<std::string_view, uint64_t> per_func;
  uint64_t events = 0, errors = 0, dropped = 0;
  DropFacts drops;
  int64_t first = 0, last = 0;
  Event ev;
  while (engine->next(ev)) {
    if (events++ == 0) first = ev.ts;
    last = std::max(last, ev.ts + static_cast<int64_t>(ev.dur));
    auto& p = procs[ev.pid];
    p.pid = ev.pid;
    switch (ev.type()) {
      case EventType::process_start:
        if (const Value* v = ev.get(FieldId::ppid)) p.ppid = v->num;
        p.image = str_of(ev, FieldId::image);
        p.cmdline = str_of(ev, FieldId::cmdline);
        continue;
      case EventType::process_exit:
        p.exited = true;
        if (const Value* v = ev.get(FieldId::exit_code)) {
          p.exit_code = static_cast<int64_t>(v->num);
          p.exit_known = true;
        }
        continue;
      case EventType::drops:
        if (const Value* v = ev.get(FieldId::dropped)) {
          p.dropped += v->num, dropped += v->num;
          drops.add(ev, v->num);
        }
        continue;
      case EventType::thread_name: continue;
      default: break;
    }
    ++p.calls;
    ++per_func[ev.func < FuncId::kCount ? func_def(ev.func).name : "<unknown>"];
    if (!ev.error.ok()) ++p.errors, ++errors;
  }

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
    j["span_ns"] = last - first;
    j["events"] = events;
    j["failed"] = errors;
    j["dropped"] = dropped;
    j["dropped_ring_full"] = drops.by_reason[1];
    j["dropped_no_free_ring"] = drops.by_reason[2];
    j["dropped_ring_damaged"] = drops.by_reason[3];
    j["complete"] = complete;
    j["processes"] = nlohmann::ordered_json::array();
    for (const auto& [pid, p] : procs) {
      nlohmann::ordered_json o;
      o["pid"] = pid;
      o["ppid"] = p.ppid;
      o["image"] = p.image;
      o["cmdline"] = p.cmdline;
      o["calls"] = p.calls;
      o["failed"] = p.errors;
      o["dropped"] = p.dropped;
      o["exited"] = p.exited;
      if (p.exit_known) o["exit_code"] = p.exit_code;
      j["processes"].push_back(o);
    }
    j["calls_by_function"] = per_func;
    fmt::print("{}\n", j.dump(2));
    return finish(*engine);
  }
  fmt::print("trace      {}\n", file);
  fmt::print("recorded   {} on {} ({}, {} {})\n", present::utc_text(h.wall_ns(first)), h.host,
             h.os, platform_name(h.platform), h.arch);
  fmt::print("by         wstrace {}: {}\n", h.wstrace_version, h.command);
  fmt::print("capture    snaplen {} bytes, {} child processes\n", h.snaplen,
             h.follow_children ? "following" : "not following");
  fmt::print("span       {}\n", present::duration_text(static_cast<uint64_t>(last - first)));
  fmt::print("events     {} ({} calls failed)\n", events, errors);
  fmt::print("dropped    {}\n", dropped ? drops.text(dropped) : std::string("none"));
  fmt::print("complete   {}\n", complete ? "yes" : "no");
  fmt::print("\nprocesses\n");
  for (const auto& [pid, p] : procs)
    fmt::print("  {:>7} parent {:<7} {:>6} calls {:>5} errors {:>5} dropped  {}  {}\n", pid,
               p.ppid, p.calls, p.errors, p.dropped,
               !p.exited       ? std::string("running at end")
               : p.exit_known  ? fmt::format("exit {}", p.exit_code)
                               : std::string("ended, status unknown"),
               p.cmdline.empty() ? p.image : p.cmdline);
  fmt::print("\ncalls by function\n");
  for (const auto& [name, n] : per_func) fmt::print("  {:<28} {:>10}\n", name, n);
  return finish(*engine);
}

}  // namespace

void add_info_command(CLI::App& app, int& exit_code) {
  auto file = std::make_shared<std::string>();
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("info", "Summarise a trace: where, when, processes, counts");
  cmd->add_option("FILE", *file, "trace file (.wst)")->required();
  cmd->add_flag("--json", *json, "as one JSON object");
  cmd->callback([file, json, &exit_code] { exit_code = run_info(*file, *json); });
}

}  // namespace ws::cli
