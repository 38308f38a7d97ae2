// slow-call: connects, and HTTP first bytes (request sent → first byte of the response), that
// took at least --slow-factor times the trace's own median for that kind and at least --slow-min.
// The distribution is a fixed histogram; only the slowest few calls are kept as evidence.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

// Durations in buckets of a quarter power of two: about 19% wide, 256 buckets for 2^64 ns.
class Histogram {
 public:
  void add(uint64_t ns) {
    ++buckets_[bucket(ns)];
    ++n_;
  }
  uint64_t count() const { return n_; }
  // The lower edge of the bucket holding the median.
  uint64_t median() const {
    uint64_t seen = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      seen += buckets_[i];
      if (seen * 2 >= n_) return lower(i);
    }
    return 0;
  }

 private:
  static size_t bucket(uint64_t ns) {
    if (ns < 4) return static_cast<size_t>(ns);
    const int top = 63 - std::countl_zero(ns);
    return static_cast<size_t>(top) * 4 + static_cast<size_t>((ns >> (top - 2)) & 3);
  }
  static uint64_t lower(size_t i) {
    if (i < 4) return i;
    const size_t top = i / 4;
    return (uint64_t{4} | (i & 3)) << (top - 2);
  }
  std::array<uint64_t, 256> buckets_{};
  uint64_t n_ = 0;
};

struct Sample {
  uint64_t dur = 0;
  CallRef call;
};

struct Kind {
  std::string_view name;  // "connect", "first byte"
  Histogram hist;
  std::vector<Sample> slowest;  // at most kMaxEvidence, slowest first

  void add(uint64_t dur, CallRef call) {
    hist.add(dur);
    if (slowest.size() == kMaxEvidence && slowest.back().dur >= dur) return;
    Sample s{dur, std::move(call)};
    auto at = std::upper_bound(slowest.begin(), slowest.end(), s,
                               [](const Sample& a, const Sample& b) { return a.dur > b.dur; });
    slowest.insert(at, std::move(s));
    if (slowest.size() > kMaxEvidence) slowest.pop_back();
  }
};

struct Pending {
  int64_t start = 0;
  CallRef call;
};

class SlowCall : public Rule {
 public:
  explicit SlowCall(const DiagnoseOptions& o) : factor_(o.slow_factor), min_(o.slow_min_ns) {
    connect_.name = "connect";
    ttfb_.name = "first byte";
  }
  std::string_view id() const override { return "slow-call"; }

  void observe(const Event& ev, const Tracker& t) override {
    const Connection* c = t.connection();
    if (c == nullptr) return;
    if (ev.type() == EventType::connect) {
      const ErrorClass cls = classify(ev.error);
      if (ev.error.ok()) connect_.add(ev.dur, call_ref(ev, c->id));
      else if (is_transient(cls) && !pending_.count(c->id))
        pending_[c->id] = Pending{ev.ts, call_ref(ev, c->id)};
      else if (!is_transient(cls)) pending_.erase(c->id);
      return;
    }
    auto it = pending_.find(c->id);
    if (it == pending_.end()) return;
    // A non-blocking connect is done when SO_ERROR or a completion said so, or data moved.
    int64_t done = c->connected_ts;
    if (done == 0 && t.direction() != Tracker::Dir::None && ev.error.ok() && ev.result > 0)
      done = ev.ts;
    if (done == 0) {
      if (c->end == ConnEnd::Error) pending_.erase(it);
      return;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    const auto dur = static_cast<uint64_t>(std::max<int64_t>(0, done - p.start));
    p.call.text += fmt::format(" … connected after {}", duration_str(dur));
    connect_.add(dur, std::move(p.call));
  }

  void on_connection_end(const Connection& c) override { pending_.erase(c.id); }

  void on_exchange(const HttpExchange& x) override {
    const int64_t ttfb = x.ttfb();
    if (ttfb < 0) return;
    CallRef r;
    r.ts = x.request_end;
    r.pid = x.pid;
    r.conn = x.conn;
    r.text = fmt::format("{} {} (host {}) → first response byte after {}", x.request.method,
                         x.request.target.substr(0, 80), x.host,
                         duration_str(static_cast<uint64_t>(ttfb)));
    ttfb_.add(static_cast<uint64_t>(ttfb), std::move(r));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (Kind* k : {&connect_, &ttfb_}) report(*k, out);
  }

 private:
  void report(Kind& k, std::vector<Finding>& out) const {
    const uint64_t median = k.hist.median();
    const uint64_t limit = std::max(min_, median * factor_);
    Finding f;
    uint64_t slow = 0, worst = 0;
    for (Sample& s : k.slowest) {
      if (s.dur < limit) continue;
      if (slow++ == 0) f.first_ts = s.call.ts, worst = s.dur;
      f.first_ts = std::min(f.first_ts, s.call.ts);
      if (s.call.conn) add_conn(f, s.call.conn);
      f.calls.push_back(std::move(s.call));
    }
    if (slow == 0) return;
    f.rule = "slow-call";
    f.severity = Severity::Warning;
    const bool conn = k.name == "connect";
    f.title = fmt::format("{} {} took up to {} (median {} over {} {}s)", slow,
                          conn ? (slow == 1 ? "connect" : "connects")
                               : (slow == 1 ? "response" : "responses"),
                          duration_str(worst), duration_str(median), k.hist.count(), k.name);
    f.counts = {{"slow", fmt::format("{}{}", slow, slow == kMaxEvidence ? "+" : "")},
                {"median", duration_str(median)},
                {"threshold", duration_str(limit)},
                {"samples", fmt::format("{}", k.hist.count())}};
    if (conn) {
      f.meaning = "These connects waited much longer than the others in this trace: the SYN or "
                  "its answer was lost and retransmitted (1 s, 3 s steps), the server's accept "
                  "queue was full, or the path to that host is slow.";
      f.next = "Compare the endpoints of the slow ones with the fast ones ('wstrace conns'); "
               "check the server's listen backlog and load, and packet loss on the path.";
    } else {
      f.meaning = "The server took much longer than usual between receiving the request and "
                  "sending the first byte of its answer: time spent in the server (or in "
                  "something it waits on), not in the network.";
      f.next = "Look at those requests in the server's logs and at what the server waits on "
               "(database, upstream services, locks).";
    }
    out.push_back(std::move(f));
  }

  uint64_t factor_, min_;
  Kind connect_, ttfb_;
  std::unordered_map<uint64_t, Pending> pending_;  // open connections with a connect under way
};

}  // namespace

std::unique_ptr<Rule> make_slow_call(const DiagnoseOptions& o) {
  return std::make_unique<SlowCall>(o);
}

}  // namespace ws::inspect::rules
