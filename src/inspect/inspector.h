// The one inspection pass. An Inspector follows the events of one engine — a trace file, a live
// capture, a synthetic scenario — with the one tracker, the name-lookup and HTTP/TLS watchers and
// the finding rules; it works out each event's facts once (its connection, which way it moved
// data and how many bytes, the payload of those bytes, the overlapped call it completed, whether
// it passed the filter) and hands them to every subscriber: the commands, the exports, the report,
// `diagnose`, record's live lines. No subscriber keeps a tracker of its own or works a fact out
// again.
//
// Order, for each event: the tracker follows it (connections that ended before it are handed
// to on_connection_end first), then the lookup and HTTP watchers (on_lookup, on_exchange,
// on_tls as they complete), the filter and the rules, then on_event. finish() hands over what
// is left — lookups never answered, exchanges cut short, connections still open (in id
// order) — then computes the findings and calls on_finish.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "engine.h"
#include "error_class.h"
#include "event.h"
#include "facts.h"
#include "filter.h"
#include "findings/finding.h"
#include "findings/options.h"
#include "http_watch.h"
#include "lookups.h"
#include "lost_tracing.h"
#include "status.h"
#include "tracker.h"

namespace ws::inspect {

class Rule;


class Subscriber {
 public:
  virtual ~Subscriber() = default;
  virtual void on_event(const Facts&) {}
  // A connection ended (closed, its process ended; from finish(): still open, end = Open).
  virtual void on_connection_end(const Connection&) {}
  virtual void on_lookup(const Lookup&) {}
  virtual void on_exchange(const HttpExchange&) {}
  virtual void on_tls(const TlsInfo&) {}
  // The trace is over: every connection was handed over, findings() is complete.
  virtual void on_finish() {}
};

// A subscriber made of functions, for the commands that need one or two of them.
struct Callbacks final : Subscriber {
  std::function<void(const Facts&)> event;
  std::function<void(const Connection&)> connection_end;
  std::function<void(const Lookup&)> lookup;
  std::function<void(const HttpExchange&)> exchange;
  std::function<void(const TlsInfo&)> tls;
  std::function<void()> finish;

  void on_event(const Facts& f) override {
    if (event) event(f);
  }
  void on_connection_end(const Connection& c) override {
    if (connection_end) connection_end(c);
  }
  void on_lookup(const Lookup& l) override {
    if (lookup) lookup(l);
  }
  void on_exchange(const HttpExchange& x) override {
    if (exchange) exchange(x);
  }
  void on_tls(const TlsInfo& t) override {
    if (tls) tls(t);
  }
  void on_finish() override {
    if (finish) finish();
  }
};

struct InspectOptions {
  Filter filter;                   // what Facts::matched means; empty: every event
  bool http = false;               // decode HTTP/1.x and TLS hellos (on_exchange, on_tls)
  // Run the finding rules with these options (findings() after finish()).
  std::optional<DiagnoseOptions> findings;
};

class Inspector {
 public:
  explicit Inspector(InspectOptions options = {});
  ~Inspector();
  Inspector(const Inspector&) = delete;
  Inspector& operator=(const Inspector&) = delete;

  // Subscribers are called in the order they subscribed; not owned, they must outlive the
  // inspection.
  void subscribe(Subscriber& s) { subs_.push_back(&s); }

  // Follows one event; call in trace order.
  void observe(const Event& ev);
  // Ends the inspection (see above). Call once.
  void finish();
  // Reads `engine` to its end through observe() and then finish().
  void run(Engine& engine);
  // The same; `progress` (if set) is called every few thousand events; `stop` is asked after
  // each event and ends the reading early (without finish()) when it returns an error (a
  // subscriber failed), which is returned.
  Status run(Engine& engine, const std::function<void()>& progress,
             const std::function<Status()>& stop);

  const Tracker& tracker() const { return tracker_; }
  // The findings, most severe first; empty unless InspectOptions::findings was set.
  const std::vector<Finding>& findings() const { return findings_; }
  // The findings of the events observed so far, as finish() would give them were the trace to
  // end here, but with connections still open not yet handed to the rules (a live view's).
  std::vector<Finding> findings_so_far() const;
  // The time of the first event observed, and how many were.
  int64_t first_ts() const { return first_ts_; }
  uint64_t events() const { return events_; }

 private:
  InspectOptions opt_;
  Tracker tracker_;
  LookupWatcher lookups_;
  LostTracing lost_;  // drops, for weaken_over_drops (with the rules only)
  std::unique_ptr<HttpWatcher> http_;
  std::vector<std::unique_ptr<Rule>> rules_;
  std::vector<Subscriber*> subs_;
  std::vector<Finding> findings_;
  int64_t first_ts_ = 0;
  uint64_t events_ = 0;
};

}  // namespace ws::inspect
