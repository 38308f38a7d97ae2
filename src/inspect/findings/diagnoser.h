// Runs every finding rule over a trace: follows each event with a tracker, a lookup watcher and
// an HTTP watcher, hands the rules what those see, and collects the findings at the end.
#pragma once

#include <memory>
#include <vector>

#include "finding.h"
#include "http_watch.h"
#include "lookups.h"
#include "options.h"
#include "rule.h"
#include "tracker.h"

namespace ws::inspect {

class Diagnoser {
 public:
  explicit Diagnoser(const DiagnoseOptions& options = {});
  ~Diagnoser();
  Diagnoser(const Diagnoser&) = delete;
  Diagnoser& operator=(const Diagnoser&) = delete;

  // Follows one event; call in trace order.
  void observe(const Event& ev);
  // Ends the trace; the findings, most severe first. Call once.
  std::vector<Finding> finish();
  const Tracker& tracker() const { return tracker_; }
  // The time of the first event observed (for relative times in evidence).
  int64_t first_ts() const { return first_ts_; }

 private:
  Tracker tracker_;
  LookupWatcher lookups_;
  HttpWatcher http_;
  std::vector<std::unique_ptr<Rule>> rules_;
  int64_t first_ts_ = 0;
  bool seen_ = false;
};

}  // namespace ws::inspect
