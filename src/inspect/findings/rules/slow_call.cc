// slow-call: connects, name lookups, HTTP first bytes (request sent → first byte of the
// response) and the first bytes of replies on other TCP connections (our last send → the first
// data back), that took at least --slow-factor times the trace's own median for that kind and at
// least --slow-min. Each kind's distribution is a fixed histogram; only the slowest few are kept
// as evidence. A connect, reply or HTTP response that waited --slow-wait is slow whatever the
// median: a single slow one has no others to stand out from.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <bit>
#include <unordered_map>

#include "error_class.h"
#include "http.h"
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
  std::string_view one, many;  // what is slow: "connect", "connects"
  std::string_view samples;    // what the median is over: "connects", "first bytes"
  uint64_t cap = UINT64_MAX;   // samples this long count in the median only (another rule's)
  uint64_t wait = UINT64_MAX;  // samples this long are slow whatever the median
  Histogram hist;
  std::vector<Sample> slowest;  // at most kMaxEvidence, slowest first

  // A sample; `make` gives its evidence line (CallRef), made only when it is among the slowest.
  template <typename Make>
  void add(uint64_t dur, Make&& make) {
    hist.add(dur);
    if (dur >= cap) return;
    if (slowest.size() == kMaxEvidence && slowest.back().dur >= dur) return;
    Sample s{dur, make()};
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

// A TCP client connection that is not HTTP (the HTTP watcher times those): data we sent that
// waits for the first byte back.
struct Reply {
  bool http = false;
  bool awaiting = false;  // sent since the last data received
  int64_t sent_end = 0;   // when the last send before the answer returned
};

class SlowCall : public Rule {
 public:
  explicit SlowCall(const DiagnoseOptions& o) : factor_(o.slow_factor), min_(o.slow_min_ns) {
    connect_.one = "connect", connect_.many = "connects", connect_.samples = "connects";
    ttfb_.one = "response", ttfb_.many = "responses", ttfb_.samples = "first bytes";
    reply_.one = "reply", reply_.many = "replies", reply_.samples = "replies";
    connect_.wait = ttfb_.wait = reply_.wait = o.slow_wait_ns;
    lookup_.one = "lookup", lookup_.many = "lookups", lookup_.samples = "lookups";
    lookup_.cap = o.slow_lookup_ns;  // those are slow-lookup's
  }
  std::string_view id() const override { return "slow-call"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr) return;
    if (c->role == ConnRole::Client && is_tcp(*c)) observe_reply(f, *c);
    if (ev.type() == EventType::connect) {
      const ErrorClass cls = f.error;
      if (ev.error.ok()) connect_.add(ev.dur, [&] { return call_ref(ev, c->id); });
      else if (is_transient(cls) && !pending_.count(c->id))
        pending_[c->id] = Pending{ev.ts, call_ref(ev, c->id)};
      else if (!is_transient(cls)) pending_.erase(c->id);
      return;
    }
    auto it = pending_.find(c->id);
    if (it == pending_.end()) return;
    // A completion wstrace noticed only at a later call: when the connect finished is not
    // known, only that it had by then.
    if (f.tracker.noticed_late()) {
      pending_.erase(it);
      return;
    }
    // A non-blocking connect is done when SO_ERROR or a completion said so, or data moved.
    int64_t done = c->connected_ts;
    if (done == 0 && f.moved > 0)
      done = ev.ts;
    if (done == 0) {
      if (c->end == ConnEnd::Error) pending_.erase(it);
      return;
    }
    Pending p = std::move(it->second);
    pending_.erase(it);
    const auto dur = static_cast<uint64_t>(std::max<int64_t>(0, done - p.start));
    p.call.text += fmt::format(" … connected after {}", duration_str(dur));
    connect_.add(dur, [&] { return std::move(p.call); });
  }

  void on_connection_end(const Connection& c) override {
    pending_.erase(c.id);
    replies_.erase(c.id);
  }

  void on_lookup(const Lookup& l) override {
    if (l.answered) lookup_.add(l.dur, [&] { return lookup_ref(l); });
  }

  void on_exchange(const HttpExchange& x) override {
    const int64_t ttfb = x.ttfb();
    if (ttfb < 0) return;
    ttfb_.add(static_cast<uint64_t>(ttfb), [&] {
      CallRef r;
      r.ts = x.request_end;
      r.pid = x.pid;
      r.conn = x.conn;
      r.text = fmt::format("{} {} (host {}) → first response byte after {}", x.request.method,
                           x.request.target.substr(0, 80), x.host,
                           duration_str(static_cast<uint64_t>(ttfb)));
      return r;
    });
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (Kind* k : {&connect_, &lookup_, &ttfb_, &reply_}) report(*k, out);
  }

 private:
  // Data out opens a request; the first data in after it is the reply's first byte.
  // The connection's first bytes out (an overlapped send's as it starts) tell HTTP apart.
  void observe_reply(const Facts& f, const Connection& c) {
    const Event& ev = f.ev;
    const bool out = ev.type() == EventType::send || f.dir == Tracker::Dir::Out;
    const bool in = !out && f.dir == Tracker::Dir::In;
    const Value* p = out ? ev.get(FieldId::payload) : nullptr;
    const bool moved = f.moved > 0 && (out || in);
    if (!moved && !(p && ev.get(FieldId::op))) return;
    auto [it, fresh] = replies_.try_emplace(c.id);
    Reply& r = it->second;
    if (fresh) r.http = p && decode::looks_like_http_request({p->data, p->size});
    if (r.http || !moved) return;
    const int64_t end = ev.ts + static_cast<int64_t>(ev.dur);
    if (out) {
      r.awaiting = true;
      r.sent_end = end;
      return;
    }
    if (!r.awaiting) return;
    r.awaiting = false;
    if (f.tracker.noticed_late()) return;  // (when it arrived is not known)
    const auto dur = static_cast<uint64_t>(std::max<int64_t>(0, end - r.sent_end));
    reply_.add(dur, [&] {
      CallRef ref = call_ref(ev, c.id);
      ref.text += fmt::format(" … first byte {} after the request was sent", duration_str(dur));
      return ref;
    });
  }

  void report(Kind& k, std::vector<Finding>& out) const {
    const uint64_t median = k.hist.median();
    const uint64_t limit = std::min(k.wait, std::max(min_, median * factor_));
    Finding f;
    uint64_t slow = 0, worst = 0;
    for (const Sample& s : k.slowest) {
      if (s.dur < limit) continue;
      if (slow++ == 0) f.first_ts = s.call.ts, worst = s.dur;
      f.first_ts = std::min(f.first_ts, s.call.ts);
      if (s.call.conn) add_conn(f, s.call.conn);
      f.calls.push_back(s.call);
    }
    if (slow == 0) return;
    f.rule = "slow-call";
    f.severity = Severity::Warning;
    f.over_gaps = &k == &reply_;  // an earlier receive of the reply that was dropped
    if (k.hist.count() == 1)
      f.title = fmt::format("1 {} took {} (the only one of the trace)", k.one, duration_str(worst));
    else
      f.title = fmt::format("{} {} took up to {} (median {} over {} {})", slow,
                            slow == 1 ? k.one : k.many, duration_str(worst), duration_str(median),
                            k.hist.count(), k.samples);
    f.counts = {{"slow", fmt::format("{}{}", slow, slow == kMaxEvidence ? "+" : "")}};
    if (k.hist.count() > 1) f.counts.emplace_back("median", duration_str(median));
    f.counts.emplace_back("threshold", duration_str(limit));
    f.counts.emplace_back("samples", fmt::format("{}", k.hist.count()));
    if (&k == &connect_) {
      f.meaning = "These connects waited long (--slow-wait), or much longer than the others in "
                  "this trace: the SYN or its answer was lost and retransmitted (1 s, 3 s "
                  "steps), the server's accept queue was full, or the path to that host is slow.";
      f.next = "Compare the endpoints of the slow ones with the fast ones ('wstrace conns'); "
               "check the server's listen backlog and load, and packet loss on the path.";
    } else if (&k == &lookup_) {
      f.meaning = "These name lookups took much longer than the others in this trace: a DNS "
                  "server that answered late or not at all (the resolver then retries or asks "
                  "the next one), or a name whose answer was not cached.";
      f.next = "Compare the names of the slow ones with the fast ones ('wstrace dns'); time "
               "'dig NAME' against each configured DNS server; cache names looked up again "
               "and again.";
    } else {
      f.meaning = "The server took long (--slow-wait), or much longer than for the others in "
                  "this trace, between receiving the request and sending the first byte of its "
                  "answer: time spent in the server (or in "
                  "something it waits on), not in the network.";
      f.next = "Look at those requests in the server's logs and at what the server waits on "
               "(database, upstream services, locks).";
    }
    if (&k == &reply_)
      f.meaning += " (Not HTTP: the request is the data sent before the reply, and the time runs "
                   "to the end of the receive that brought the first byte — a program that "
                   "received late adds its own delay.)";
    out.push_back(std::move(f));
  }

  uint64_t factor_, min_;
  Kind connect_, lookup_, ttfb_, reply_;
  std::unordered_map<uint64_t, Pending> pending_;  // open connections with a connect under way
  std::unordered_map<uint64_t, Reply> replies_;    // open TCP client connections
};

}  // namespace

std::unique_ptr<Rule> make_slow_call(const DiagnoseOptions& o) {
  return std::make_unique<SlowCall>(o);
}

}  // namespace ws::inspect::rules
