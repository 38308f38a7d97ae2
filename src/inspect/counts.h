// Counting for `stats` (and any view that wants the same totals): per function — calls,
// failures by error, bytes moved, a latency histogram — per process, and the connections that
// moved the most bytes. A subscriber of the Inspector: it counts the calls that passed the
// filter, and the connections with such a call. Memory grows with the number of distinct
// functions, errors and processes, not with the trace: latencies go into fixed log-scale
// histograms.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "inspector.h"
#include "lost_tracing.h"

namespace ws::inspect {

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

// Failures and outcomes are told apart by one classification (error_class.h): EAGAIN,
// EINPROGRESS, WSA_IO_PENDING and the like say how a call went on, not that it failed.
struct FuncStats {
  uint64_t calls = 0, failed = 0, bytes = 0;
  std::map<std::string, uint64_t> errors;    // failures by error name
  std::map<std::string, uint64_t> outcomes;  // would-block, in-progress, pending… by name
  LatencyHistogram latency;
};

struct ProcStats {
  std::string image;
  uint64_t calls = 0, failed = 0, bytes = 0;
};

class CallCounts final : public Subscriber {
 public:
  static constexpr size_t kTopConns = 10;

  void on_event(const Facts& f) override;
  void on_connection_end(const Connection& c) override;
  void on_finish() override;

  // After the inspection: by function name ("<unknown>" for functions this build does not
  // know), by pid, the connections with a matching call, and the kTopConns of them that moved
  // the most bytes, most first.
  const std::map<std::string, FuncStats>& functions() const { return funcs_; }
  const std::map<uint32_t, ProcStats>& processes() const { return procs_; }
  uint64_t connections() const { return conns_; }
  const std::vector<Connection>& top_connections() const { return top_; }

 private:
  // By function id, the last slot for unknown functions; named and sorted at the end.
  std::vector<FuncStats> by_func_ = std::vector<FuncStats>(static_cast<size_t>(FuncId::kCount) + 1);
  std::map<std::string, FuncStats> funcs_;
  std::map<uint32_t, ProcStats> procs_;
  uint32_t last_pid_ = 0;
  ProcStats* last_proc_ = nullptr;
  std::vector<Connection> top_;  // a heap until on_finish
  uint64_t conns_ = 0;
};

// The kind of a connection as the summaries count them: "tcp out" (connected or connecting by
// us), "tcp in" (accepted), "listening", "udp" (a flow or a UDP socket), "unix", "tcp unused"
// (a TCP socket that never connected), "other".
std::string_view connection_kind(const Connection& c);
// Every kind, in the order summaries list them.
std::span<const std::string_view> connection_kinds();

// What `info` and the end of `record` say of a trace: each process (parent, program, command line, how it ended, its
// calls, failures and dropped records), calls by function, the time span, and what tracing lost.
// Counts every event, filtered or not: it describes the trace, not a selection of it.
struct ProcessSummary {
  uint32_t pid = 0;
  uint64_t ppid = 0;
  std::string image, cmdline;
  // The title it gave itself by rewriting its command line (nginx's "nginx: worker process"),
  // as it left; empty when it did not.
  std::string title;
  bool exited = false;
  bool exit_known = false;
  int64_t exit_code = 0;
  uint64_t calls = 0, errors = 0, dropped = 0;
};

class TraceSummary final : public Subscriber {
 public:
  void on_event(const Facts& f) override;
  void on_connection_end(const Connection& c) override;

  uint64_t events() const { return events_; }
  uint64_t calls() const { return calls_; }    // events that are calls (not process facts)
  uint64_t failed() const { return failed_; }  // calls that failed (not outcomes: error_class.h)
  uint64_t dropped() const { return dropped_; }
  // Every connection `conns` lists (after on_finish), and by kind (connection_kind()).
  uint64_t connections() const { return conns_; }
  const std::map<std::string_view, uint64_t>& connections_by_kind() const { return kinds_; }
  // "5 connections (2 tcp out, 2 tcp in, 1 udp)", kinds in connection_kinds() order.
  std::string connections_text() const;
  int64_t first_ts() const { return first_; }
  int64_t last_ts() const { return last_; }  // the end of the last call to end
  // By pid: every process that has an event, or that a tracing_lost event names.
  const std::map<uint32_t, ProcessSummary>& processes() const { return procs_; }
  // Calls by function name ("<unknown>" for functions this build does not know).
  const std::map<std::string, uint64_t>& calls_by_function() const { return per_func_; }
  const LostTracing& lost() const { return lost_; }

 private:
  std::map<uint32_t, ProcessSummary> procs_;
  std::map<std::string, uint64_t> per_func_;
  std::map<std::string_view, uint64_t> kinds_;
  uint64_t events_ = 0, calls_ = 0, failed_ = 0, dropped_ = 0, conns_ = 0;
  int64_t first_ = 0, last_ = 0;
  LostTracing lost_;
};

}  // namespace ws::inspect
