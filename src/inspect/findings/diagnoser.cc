#include "diagnoser.h"

#include "registry.h"

namespace ws::inspect {

Diagnoser::Diagnoser(const DiagnoseOptions& options)
    : lookups_(tracker_), http_(tracker_), rules_(make_rules(options)) {
  tracker_.on_end = [this](const Connection& c) {
    for (auto& r : rules_) r->on_connection_end(c);
  };
  lookups_.on_lookup = [this](const Lookup& l) {
    for (auto& r : rules_) r->on_lookup(l);
  };
  http_.on_exchange = [this](const HttpExchange& x) {
    for (auto& r : rules_) r->on_exchange(x);
  };
}

Diagnoser::~Diagnoser() = default;

void Diagnoser::observe(const Event& ev) {
  if (!seen_) first_ts_ = ev.ts, seen_ = true;
  tracker_.observe(ev);
  lookups_.observe(ev);
  http_.observe(ev);
  for (auto& r : rules_) r->observe(ev, tracker_);
}

std::vector<Finding> Diagnoser::finish() {
  lookups_.finish();
  http_.finish();
  tracker_.finish();
  std::vector<Finding> out;
  for (auto& r : rules_) r->finish(tracker_, out);
  sort_findings(out);
  return out;
}

}  // namespace ws::inspect
