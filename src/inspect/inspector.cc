#include "inspector.h"

#include "findings/registry.h"
#include "findings/rule.h"

namespace ws::inspect {

Inspector::Inspector(InspectOptions options) : opt_(std::move(options)), lookups_(tracker_) {
  if (opt_.http) http_ = std::make_unique<HttpWatcher>(tracker_);
  if (opt_.findings) rules_ = make_rules(*opt_.findings);
  tracker_.on_end = [this](const Connection& c) {
    for (auto& r : rules_) r->on_connection_end(c);
    for (Subscriber* s : subs_) s->on_connection_end(c);
  };
  lookups_.on_lookup = [this](const Lookup& l) {
    for (auto& r : rules_) r->on_lookup(l);
    for (Subscriber* s : subs_) s->on_lookup(l);
  };
  if (http_) {
    http_->on_exchange = [this](const HttpExchange& x) {
      for (auto& r : rules_) r->on_exchange(x);
      for (Subscriber* s : subs_) s->on_exchange(x);
    };
    http_->on_tls = [this](const TlsInfo& t) {
      for (Subscriber* s : subs_) s->on_tls(t);
    };
  }
}

Inspector::~Inspector() = default;

void Inspector::observe(const Event& ev) {
  if (events_++ == 0) first_ts_ = ev.ts;
  tracker_.observe(ev);
  lookups_.observe(ev);  // before the filter: it teaches the tracker names (`host`)
  const bool matched = opt_.filter.matches_all() || opt_.filter.matches(ev, tracker_);
  if (matched) tracker_.mark_current();
  if (http_) http_->observe(ev);  // after: an exchange knows if its connection matched
  if (rules_.empty() && subs_.empty()) return;
  const Facts facts{ev,
                    tracker_,
                    tracker_.connection(),
                    tracker_.direction(),
                    tracker_.moved(),
                    tracker_.payload(),
                    tracker_.error_class(),
                    tracker_.completed_seq(),
                    tracker_.pending(),
                    matched};
  if (!rules_.empty()) lost_.observe(ev);
  for (auto& r : rules_) r->observe(facts);
  for (Subscriber* s : subs_) s->on_event(facts);
}

void Inspector::finish() {
  lookups_.finish();
  if (http_) http_->finish();
  tracker_.finish();
  for (auto& r : rules_) r->finish(tracker_, findings_);
  weaken_over_drops(findings_, lost_, tracker_);
  sort_findings(findings_);
  for (Subscriber* s : subs_) s->on_finish();
}

std::vector<Finding> Inspector::findings_so_far() const {
  std::vector<Finding> out;
  for (const auto& r : rules_) r->finish(tracker_, out);
  weaken_over_drops(out, lost_, tracker_);
  sort_findings(out);
  return out;
}

void Inspector::run(Engine& engine) {
  Event ev;
  while (engine.next(ev)) observe(ev);
  finish();
}

Status Inspector::run(Engine& engine, const std::function<void()>& progress,
                      const std::function<Status()>& stop) {
  Event ev;
  uint32_t n = 0;
  while (engine.next(ev)) {
    observe(ev);
    if (stop)
      if (Status s = stop(); !s.ok()) return s;
    if (progress && (++n & 4095) == 0) progress();
  }
  finish();
  return Status();
}

}  // namespace ws::inspect
