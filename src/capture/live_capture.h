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
  bool empty() const { return next_ == size_; }
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
  // Collects what the rings hold now, without waiting, reaping or ending anything: next() calls
  // it while the consumer works through a long backlog, so that a slow consumer (the inspection
  // on a busy machine) delays the rings' draining by kCatchUpNs at most, not by the backlog.
  virtual void catch_up() {}
  // The clock next() looks at to catch up (steady; a test's own).
  virtual int64_t steady_ns();
  // Keeps `ev` (as the collector wrote it) for the consumer, numbered as the file numbers it.
  void take(const Event& ev);

  trace::TraceHeader header_;
  RecordSummary summary_;

 private:
  static constexpr int64_t kCatchUpNs = 2'000'000;
  static constexpr uint32_t kCatchUpLook = 256;  // events handed out between looks at the clock
  // The consumer pops from `out_` while collection (step() or catch_up()) pushes into `in_`:
  // the events handed out stay where they are until `out_` is used up and the two swap.
  EventQueue out_, in_;
  uint64_t seq_ = 0;
  uint32_t since_look_ = 0;
  int64_t collected_ns_ = 0;  // when the rings were last collected
  bool over_ = false;
  trace::ReadProblem end_;
};

}  // namespace ws::capture
