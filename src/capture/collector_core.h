// What every platform's collector does the same way: drain the rings, turn records into events,
// write them in time order, count what the summary reports.
#pragma once

#include <functional>
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
// Whether thread `tid` of process `pid` still runs (a zombie does not).
using AliveFn = bool (*)(uint32_t pid, uint32_t tid);
// Receives each event as it was written (the live engine), its blob values valid during the call.
using EventSink = std::function<void(const Event&)>;

// The region to try when memory for `g` ran short: rings halve down to `min_ring` bytes and the
// ring count halves down to kMinSlots, in turn. False when `g` is already the smallest.
inline constexpr uint32_t kMinSlots = 4;
inline constexpr uint64_t kMinShrunkRing = 64 * 1024;
bool shrink_geometry(RingGeometry& g, uint64_t min_ring);
// What `record` prints when it had to shrink `wanted` to `got` because of `why`.
std::string shrunk_warning(const RingGeometry& wanted, const RingGeometry& got,
                           const std::string& why);

// The build of an agent that found the region made by another build and refused it (only its
// printable ASCII: the program could have written it), or "" when none did (ring.h, same_build).
std::string refused_by(const RegionHeader* r);
// What record says when the agent at `agent_path` is of build `theirs`, not of this one.
std::string other_build_message(const std::string& agent_path, const std::string& theirs);

class RingCollector {
 public:
  // `geometry` is the region's shape as its creator made it: the collector never reads it back
  // from the shared memory, which the traced programs can write.
  // Every event written is given to `sink` too, when there is one.
  RingCollector(const RecordOptions& opt, RegionHeader* region, const RingGeometry& geometry,
                trace::TraceWriter& writer, RecordSummary& summary, TranslateFn translate,
                ClockFn now, EventSink sink = {});

  // Drains every ring once, writing what it found in time order. Returns the highest fill of
  // any ring before draining, as a fraction of its size: a caller sleeps less when it is high.
  // A ring holding impossible values is counted as drops of its process and not read again;
  // the work done is bounded by the region's size whatever the rings hold.
  double drain();
  // A process ended with `exit_code`: its rings are drained and freed, and its exit recorded
  // unless its agent already recorded it.
  void process_ended(uint32_t pid, int exit_code);
  // Process `pid` ended, or is about to, and its agent never said it started (the loader did
  // not load the agent): a tracing_lost event naming `image` and `cause`, so that the trace
  // says nothing was seen of it rather than that it made no calls. False when it was seen.
  bool never_started(uint32_t pid, const std::string& image, const std::string& cause);
  // At the end: processes that were seen to start but whose end nobody recorded (reaped by a
  // traced parent after a signal) get an exit without a status.
  void close_unended();
  // Frees the rings of threads that ended without giving theirs back (a process that exited,
  // reaped by a traced parent rather than by wstrace, or a thread that never ran its exit
  // handlers), after draining what they wrote, and the no-ring entries of ended processes.
  // Returns drain()'s fill.
  double reclaim(AliveFn alive);
  // `n` records of process `pid` (0: unknown) were lost before they reached a ring (the kernel
  // engine's ring buffer was full): a drops event now.
  void lost_before_ring(uint32_t pid, uint64_t n, DropReason reason);
  // Processes seen to start whose end is not recorded yet.
  std::vector<uint32_t> running() const;
  // Writes the open block so that readers see everything so far.
  void flush();
  // Set once writing failed (disk full …); the program runs on untraced.
  const std::string& problem() const { return problem_; }

 private:
  // What the collector knows of one ring, kept apart from the shared memory.
  struct SlotView {
    bool active = false;    // seen Active since it was last freed
    bool damaged = false;   // impossible values seen: only its drop counter is read
    bool retired = false;   // damaged and its process ended: never looked at again
    uint32_t pid = 0, tid = 0;
    uint64_t tail = 0;      // bytes consumed
    uint64_t dropped_seen = 0;
  };
  // What the collector has reported of one entry of the no-ring table.
  struct NoRingView {
    uint32_t pid = 0;
    uint64_t records_seen = 0;
  };

  void drain_slot(uint32_t i, size_t& used, double& fullest);
  void damaged(uint32_t i, size_t& used, uint64_t head);
  void watch_damaged(uint32_t i, size_t& used);
  void drain_no_ring(size_t& used);
  void report_no_ring(uint32_t k, size_t& used);
  void free_slot(uint32_t i);
  // Reports a last time and frees process `pid`'s entry of the no-ring table.
  void release_no_ring(uint32_t pid, size_t& used);
  void add_drops(size_t& used, uint32_t pid, uint32_t tid, uint64_t n, DropReason reason,
                 uint64_t threads = 0);
  void emit(const Event& raw);
  // `ev`, or with record --redact its copy with the payload's credentials masked.
  const Event& redacted(const Event& ev);

  const RecordOptions& opt_;
  RegionHeader* region_;
  const RingGeometry geometry_;
  trace::TraceWriter& writer_;
  RecordSummary& summary_;
  TranslateFn translate_;
  ClockFn now_;
  EventSink sink_;
  std::vector<uint8_t> scratch_;
  std::vector<std::unique_ptr<EventBuilder>> pool_;
  std::vector<size_t> order_;
  std::vector<SlotView> views_;
  std::vector<NoRingView> no_ring_views_;
  std::unordered_map<uint32_t, bool> processes_;  // pid → its exit was recorded
  uint64_t no_ring_total_seen_ = 0, no_ring_unnamed_seen_ = 0;
  int64_t last_flush_ = 0;
  static constexpr int64_t kFlushEvery = 100'000'000;  // ns
  std::string problem_;
  decode::PayloadRedactor redactor_;
  Event masked_;
};

}  // namespace ws::capture
