// `wstrace diagnose`: the findings of a trace — what went wrong and what to check — most severe
// first (docs/findings.md). `--fail-on` turns findings into an exit status for CI pipelines.
#include <cstdio>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "inspector.h"
#include "findings/registry.h"
#include "safe_text.h"

namespace ws::cli {
namespace {

// diagnose --fail-on: a finding of that severity or worse was found (docs/cli.md).
constexpr int kExitFindings = 4;

struct DiagnoseArgs {
  std::string file, fail_on;
  bool json = false;
  std::map<std::string, std::string> thresholds;  // option name → text given
};

std::string rel_time(int64_t ts, int64_t first_ts) {
  return fmt::format("+{:.6f}s", static_cast<double>(ts - first_ts) / 1e9);
}

std::string conns_text(const inspect::Finding& f) {
  std::string s;
  for (uint64_t id : f.conns) s += fmt::format("{}#{}", s.empty() ? "" : " ", id);
  if (f.more_conns) s += fmt::format(" and {} more", f.more_conns);
  return s;
}

void print_text(std::FILE* out, const std::vector<inspect::Finding>& findings, int64_t first_ts) {
  for (const auto& f : findings) {
    print_line(out, fmt::format("{:<7} {}: {}", inspect::severity_name(f.severity), f.rule,
                                f.title));
    if (!f.conns.empty()) print_line(out, fmt::format("  connections: {}", conns_text(f)));
    if (!f.counts.empty()) {
      std::string c;
      for (const auto& [k, v] : f.counts) c += fmt::format("{}{} {}", c.empty() ? "" : "; ", k, v);
      print_line(out, fmt::format("  counts: {}", c));
    }
    for (const auto& call : f.calls) {
      // An HTTP exchange is no single call: it has neither a seq nor a thread.
      const std::string where = call.seq || call.tid
                                    ? fmt::format("seq {} [{}/{}]", call.seq, call.pid, call.tid)
                                    : fmt::format("[{}]", call.pid);
      print_line(out, fmt::format("  {} {} {}{}", rel_time(call.ts, first_ts), where,
                                  call.conn ? fmt::format("#{} ", call.conn) : "", call.text));
    }
    print_line(out, fmt::format("  means: {}", f.meaning));
    print_line(out, fmt::format("  check: {}", f.next));
    fmt::print(out, "\n");
  }
  size_t n[3] = {0, 0, 0};
  for (const auto& f : findings) ++n[static_cast<size_t>(f.severity)];
  if (findings.empty()) fmt::print(out, "no findings\n");
  else
    fmt::print(out, "{} finding{}: {} error{}, {} warning{}, {} info\n", findings.size(),
               findings.size() == 1 ? "" : "s", n[2], n[2] == 1 ? "" : "s", n[1],
               n[1] == 1 ? "" : "s", n[0]);
}

void print_json(const std::vector<inspect::Finding>& findings, const trace::TraceHeader& h,
                int64_t first_ts) {
  for (const auto& f : findings) {
    nlohmann::ordered_json j;
    j["severity"] = inspect::severity_name(f.severity);
    j["rule"] = f.rule;
    j["title"] = f.title;
    j["conns"] = f.conns;
    if (f.more_conns) j["more_conns"] = f.more_conns;
    nlohmann::ordered_json counts = nlohmann::ordered_json::object();
    for (const auto& [k, v] : f.counts) counts[k] = v;
    j["counts"] = counts;
    j["calls"] = nlohmann::ordered_json::array();
    for (const auto& c : f.calls) {
      nlohmann::ordered_json x;
      x["seq"] = c.seq;
      x["time"] = present::utc_text(h.wall_ns(c.ts));
      x["ts_ns"] = c.ts;
      x["rel_ns"] = c.ts - first_ts;
      x["pid"] = c.pid;
      x["tid"] = c.tid;
      if (c.conn) x["conn"] = c.conn;
      x["call"] = c.text;
      j["calls"].push_back(x);
    }
    j["meaning"] = f.meaning;
    j["next"] = f.next;
    fmt::print("{}\n", present::json_dump(j));
  }
}

bool parse_thresholds(const DiagnoseArgs& a, inspect::DiagnoseOptions& o) {
  for (const auto& t : inspect::thresholds()) {
    auto it = a.thresholds.find(std::string(t.name));
    if (it == a.thresholds.end() || it->second.empty()) continue;
    if (t.duration) {
      auto v = inspect::parse_duration(it->second);
      if (!v) {
        report(fmt::format("--{} takes a duration like 40ms, 1.5s or 200us, not '{}'", t.name,
                           it->second));
        return false;
      }
      o.*(t.field) = *v;
    } else {
      try {
        size_t used = 0;
        const unsigned long long v = std::stoull(it->second, &used);
        if (used != it->second.size()) throw std::invalid_argument("");
        o.*(t.field) = v;
      } catch (...) {
        report(fmt::format("--{} takes a whole number, not '{}'", t.name, it->second));
        return false;
      }
    }
  }
  return true;
}

// The inspection `diagnose` runs: the rules, and the watchers they read.
inspect::InspectOptions diagnose_options(const inspect::DiagnoseOptions& opt) {
  inspect::InspectOptions io;
  io.http = true;
  io.findings = opt;
  return io;
}

int run_diagnose(const DiagnoseArgs& a) {
  std::optional<inspect::Severity> fail_on;
  if (!a.fail_on.empty()) {
    fail_on = inspect::parse_severity(a.fail_on);
    if (!fail_on) {
      report(fmt::format("--fail-on takes error, warning or info, not '{}'", a.fail_on));
      return kExitUsage;
    }
  }
  inspect::DiagnoseOptions opt;
  if (!parse_thresholds(a, opt)) return kExitUsage;
  auto engine = open_trace(a.file);
  if (!engine) return kExitError;
  inspect::Inspector inspector(diagnose_options(opt));
  inspector.run(*engine);
  const std::vector<inspect::Finding>& findings = inspector.findings();
  if (a.json) print_json(findings, engine->header(), inspector.first_ts());
  else print_text(stdout, findings, inspector.first_ts());
  std::fflush(stdout);
  const int done = finish(*engine);
  if (fail_on)
    for (const auto& f : findings)
      if (f.severity >= *fail_on) return kExitFindings;
  return done;
}

}  // namespace

void print_findings(const std::vector<inspect::Finding>& findings, int64_t first_ts,
                    const std::string& path, std::FILE* out) {
  if (findings.empty()) return;
  fmt::print(out, "\nwstrace: findings (wstrace diagnose {}):\n\n", path);
  print_text(out, findings, first_ts);
}

void add_diagnose_command(CLI::App& app, int& exit_code) {
  auto a = std::make_shared<DiagnoseArgs>();
  auto* cmd = app.add_subcommand(
      "diagnose", "What went wrong and what to check: the findings of a trace (docs/findings.md)");
  cmd->add_option("FILE", a->file, "trace file (.wst)")->required();
  cmd->add_flag("--json", a->json, "JSON Lines, one object per finding (docs/cli.md)");
  cmd->add_option("--fail-on", a->fail_on,
                  "exit 4 when a finding of this severity or worse exists: error, warning, info");
  for (const auto& t : inspect::thresholds())
    cmd->add_option(fmt::format("--{}", t.name), a->thresholds[std::string(t.name)],
                    fmt::format("{} (default {})", t.help,
                                inspect::threshold_text(t, inspect::DiagnoseOptions{})))
        ->group("Thresholds");
  cmd->callback([a, &exit_code] { exit_code = run_diagnose(*a); });
}

}  // namespace ws::cli
