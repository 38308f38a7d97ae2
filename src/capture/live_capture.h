// What every live engine shares: the events the collector wrote, held until the consumer pulls
// them, and the pull loop itself. A platform's engine derives from LiveCapture and says what
// one round of collection is (step()).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "record.h"

namespace ws::capture {

// Events with their own copies of their blob values (the collector's builders and redactor
// reuse theirs at the next drain), handed back in the order they came.
class EventQueue {
 public:
  void push(const Event& ev);
  // The next event into `ev`, its blob values valid until clear(); false when none is left.
  bool pop(Event& ev);
  // Forgets every event, keeping the storage for the next ones (no allocation once warm).
  void clear() { size_ = next_ = 0; }

 private:
  struct Held {
    Event ev;
    std::string bytes;                       // every blob value, one after another
    std::array<uint32_t, kMaxFields> at{};   // per value: where its bytes start in `bytes`
    uint32_t blobs = 0;                      // per value: a bit when it has bytes
  };
  std::vector<Held> held_;
  size_t size_ = 0, next_ = 0;
};

class LiveCapture : public LiveEngine {
 public:
  const trace::TraceHeader& header() const override { return header_; }
  bool next(Event& ev) override;
  const trace::ReadProblem& end() const override { return end_; }
  const RecordSummary& summary() const override { return summary_; }

 protected:
  // One round of collection, its events given to take(). False once the recording is over:
  // the last events taken, the file closed.
  virtual bool step() = 0;
  // Keeps `ev` (as the collector wrote it) for the consumer, numbered as the file numbers it.
  void take(const Event& ev);

  trace::TraceHeader header_;
  RecordSummary summary_;

 private:
  EventQueue queue_;
  uint64_t seq_ = 0;
  bool over_ = false;
  trace::ReadProblem end_;
};

}  // namespace ws::capture
