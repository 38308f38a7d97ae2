// `wstrace stats`: per function — calls, failures by error, bytes, latency percentiles — and per
// process totals. Memory grows with the number of distinct functions and errors, not with the
// trace: latencies go into fixed log-scale histograms.
#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <map>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "common.h"
#include "conn_table.h"
#include "filter.h"
#include "safe_text.h"
#include "view.h"

namespace ws::cli {
namespace {

// Durations in buckets of at most 3.2% width (below 32 ns: exact), up to 2^64 ns: percentiles
// within 3.2%. A bucket is a power of two cut into 32 steps, so finding it takes a
// count-leading-zeros and a shift, no logarithm: stats runs over millions of events a second.
class LatencyHistogram {
 public:
  void add(uint64_t ns) {
    ++counts_[bucket(ns)];
    ++n_;
    max_ = std::max(max_, ns);
  }
  uint64_t count() const { return n_; }
  uint64_t max() const { return max_; }
  // The upper edge of the bucket holding the p-th percentile (0 < p <= 100).
  uint64_t percentile(double p) const {
    if (n_ == 0) return 0;
    const auto rank = static_cast<uint64_t>(std::ceil(p / 100.0 * static_cast<double>(n_)));
    uint64_t seen = 0;
    for (size_t b = 0; b < kBuckets; ++b) {
      seen += counts_[b];
      if (seen >= rank) return std::min(max_, upper(b));
    }
    return max_;
  }

 private:
  static constexpr size_t kSteps = 32;  // per power of two
  static constexpr size_t kBuckets = kSteps + (64 - 5) * kSteps;
  static size_t bucket(uint64_t ns) {
    if (ns < kSteps) return ns;
    const int e = 63 - std::countl_zero(ns);  // 2^e <= ns, e >= 5
    const uint64_t step = (ns >> (e - 5)) & (kSteps - 1);
    return kSteps + static_cast<size_t>(e - 5) * kSteps + step;
  }
  static uint64_t upper(size_t b) {
    if (b < kSteps) return b;
    const size_t e = (b - kSteps) / kSteps + 5, step = (b - kSteps) % kSteps;
    const uint64_t next = (kSteps + step + 1) << (e - 5);  // wraps to 0 only at the very top
    return next == 0 ? UINT64_MAX : next - 1;
  }
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t n_ = 0, max_ = 0;
};

struct FuncStats {
  uint64_t calls = 0, failed = 0, bytes = 0;
  std::map<std::string, uint64_t> errors;
  LatencyHistogram latency;
};

struct ProcStats {
  std::string image;
  uint64_t calls = 0, failed = 0, bytes = 0;
};

constexpr size_t kTopConns = 10;

bool moves_bytes(EventType t) { return t == EventType::send || t == EventType::recv; }

int run_stats(const std::string& file, const std::string& filter_text, bool json) {
  inspect::Filter filter;
  if (!parse_filter(filter_text, filter)) return kExitUsage;
  auto engine = open_trace(file);
  if (!engine) return kExitError;
  const auto& h = engine->header();
  // By function id, the last slot for unknown functions; named and sorted at the end.
  std::vector<FuncStats> by_func(static_cast<size_t>(FuncId::kCount) + 1);
  std::map<uint32_t, ProcStats> procs;
  uint32_t last_pid = 0;
  ProcStats* last_proc = nullptr;
  inspect::Tracker tracker;
  inspect::LookupWatcher lookups(tracker);  // names from DNS answers: the filter's `host`
  // Per connection: the kTopConns that moved the most bytes (memory stays fixed).
  std::vector<inspect::Connection> top;
  uint64_t conns = 0;
  const auto more_bytes = [](const inspect::Connection& a, const inspect::Connection& b) {
    return a.bytes_out + a.bytes_in > b.bytes_out + b.bytes_in ||
           (a.bytes_out + a.bytes_in == b.bytes_out + b.bytes_in && a.id < b.id);
  };
  tracker.on_end = [&](const inspect::Connection& c) {
    if (!c.marked) return;  // no call of it passed the filter
    ++conns;
    if (top.size() == kTopConns && !more_bytes(c, top.front())) return;
    top.push_back(c);
    std::push_heap(top.begin(), top.end(), more_bytes);
    if (top.size() > kTopConns) {
      std::pop_heap(top.begin(), top.end(), more_bytes);
      top.pop_back();
    }
  };
  Event ev;
  while (engine->next(ev)) {
    tracker.observe(ev);
    lookups.observe(ev);
    const bool match = filter.matches(ev, tracker);
    if (const inspect::Connection* c = tracker.connection()) c->marked = c->marked || match;
    const EventType t = ev.type();
    if (t == EventType::process_start) {
      if (const Value* v = ev.get(FieldId::image)) procs[ev.pid].image = std::string(v->bytes());
      continue;
    }
    if (t == EventType::process_exit || t == EventType::thread_name || t == EventType::drops ||
        t == EventType::tracing_lost)
      continue;
    if (!match) continue;
    auto& f = by_func[std::min(static_cast<size_t>(ev.func), by_func.size() - 1)];
    if (last_proc == nullptr || last_pid != ev.pid) last_proc = &procs[ev.pid], last_pid = ev.pid;
    auto& p = *last_proc;
    ++f.calls, ++p.calls;
    f.latency.add(ev.dur);
    if (!ev.error.ok()) {
      ++f.failed, ++p.failed;
      ++f.errors[error_name(ev.error)];
    } else if (moves_bytes(t) && ev.result > 0) {
      f.bytes += static_cast<uint64_t>(ev.result);
      p.bytes += static_cast<uint64_t>(ev.result);
    }
  }
  tracker.finish();
  std::sort(top.begin(), top.end(), more_bytes);
  std::map<std::string, FuncStats> funcs;
  for (size_t i = 0; i < by_func.size(); ++i)
    if (by_func[i].calls)
      funcs[i < static_cast<size_t>(FuncId::kCount)
                ? std::string(func_def(static_cast<FuncId>(i)).name)
                : "<unknown>"] = std::move(by_func[i]);
  if (json) {
    nlohmann::ordered_json j;
    for (const auto& [name, f] : funcs) {
      nlohmann::ordered_json o;
      o["calls"] = f.calls;
      o["failed"] = f.failed;
      o["errors"] = f.errors;
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
    for (const auto& c : top) j["top_connections"].push_back(conn_json(c, tracker, h));
    fmt::print("{}\n", present::json_dump(j, 2));
  } else {
    fmt::print("{:<24} {:>9} {:>7} {:>12} {:>9} {:>9} {:>9} {:>9}  errors\n", "function", "calls",
               "failed", "bytes", "p50", "p90", "p99", "max");
    for (const auto& [name, f] : funcs) {
      std::string errs;
      for (const auto& [e, n] : f.errors) errs += fmt::format("{}{} {}", errs.empty() ? "" : ", ", e, n);
      std::string line = fmt::format(
          "{:<24} {:>9} {:>7} {:>12} {:>9} {:>9} {:>9} {:>9}  {}", name, f.calls, f.failed, f.bytes,
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
      fmt::print("{}\n", conn_header());
      present::TextOptions text;
      for (const auto& c : top) fmt::print("{}\n", conn_row(c, tracker, h, text, 0));
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
