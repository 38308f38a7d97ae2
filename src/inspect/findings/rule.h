// A finding rule: it watches the trace go by — each event after the tracker has followed it,
// each connection as it ends, each name lookup, each HTTP exchange — and at the end says what it
// found. A rule keeps only what is bounded by open connections, processes and threads, plus small
// evidence lists; never every event.
#pragma once

#include <string_view>
#include <vector>

#include "facts.h"
#include "finding.h"
#include "http_watch.h"
#include "lookups.h"
#include "options.h"
#include "tracker.h"

namespace ws::inspect {

class Rule {
 public:
  virtual ~Rule() = default;
  // The rule's id, as in findings ("connect-refused").
  virtual std::string_view id() const = 0;
  // An event and what the inspection worked out about it (f.tracker has followed it).
  virtual void observe(const Facts& f) { (void)f; }
  // A connection ended (or the trace did: end = Open). Runs before the next event is observed.
  virtual void on_connection_end(const Connection& c) { (void)c; }
  virtual void on_lookup(const Lookup& l) { (void)l; }
  virtual void on_exchange(const HttpExchange& x) { (void)x; }
  // The trace is over: append what was found. May also be called before the end, more than once
  // (the live view asks for the findings so far): it must leave the rule as it found it.
  virtual void finish(const Tracker& tracker, std::vector<Finding>& out) = 0;
};

}  // namespace ws::inspect
