// What every platform's collector does the same way: drain the rings, turn records into events,
// write them in time order, count what the summary reports.
#pragma once

#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "event_builder.h"
#include "record.h"
#include "redact.h"
#include "ring.h"
#include "writer.h"

namespace ws::capture {

// Decodes one raw record of this platform's agent into an event.
using TranslateFn = bool (*)(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out);
// The agents' monotonic clock, in nanoseconds.
using ClockFn = int64_t (*)();

class RingCollector {
 public:
  RingCollector(const RecordOptions& opt, RegionHeader* region, trace::TraceWriter& writer,
                const trace::TraceHeader& header, RecordSummary& summary, TranslateFn translate,
                ClockFn now);

  // Drains every ring once, writing what it found in time order. Returns the highest fill of
  // any ring before draining, as a fraction of its size: a caller sleeps less when it is high.
  double drain();
  // A process ended with `exit_code`: its rings are drained and freed, and its exit recorded
  // unless its agent already recorded it.
  void process_ended(uint32_t pid, int exit_code);
  // At the end: processes that were seen to start but whose end nobody recorded (reaped by a
  // traced parent after a signal) get an exit without a status.
  void close_unended();
  // Processes seen to start whose end is not recorded yet.
  std::vector<uint32_t> running() const;
  // Writes the open block so that readers see everything so far.
  void flush();
  // Set once writing failed (disk full …); the program runs on untraced.
  const std::string& problem() const { return problem_; }

 private:
  void free_slot(uint32_t i);
  void add_drops(size_t& used, uint32_t pid, uint32_t tid, uint64_t n);
  void emit(const Event& raw);
  // `ev`, or with record --redact its copy with the payload's credentials masked.
  const Event& redacted(const Event& ev);

  const RecordOptions& opt_;
  RegionHeader* region_;
  trace::TraceWriter& writer_;
  const trace::TraceHeader& header_;
  RecordSummary& summary_;
  TranslateFn translate_;
  ClockFn now_;
  std::vector<uint8_t> scratch_;
  std::vector<std::unique_ptr<EventBuilder>> pool_;
  std::vector<size_t> order_;
  std::unordered_map<uint32_t, uint64_t> drops_seen_;
  std::unordered_map<uint32_t, bool> processes_;  // pid → its exit was recorded
  uint64_t no_slot_seen_ = 0;
  int64_t last_flush_ = 0;
  static constexpr int64_t kFlushEvery = 100'000'000;  // ns
  std::string problem_;
  decode::PayloadRedactor redactor_;
  Event masked_;
};

}  // namespace ws::capture
