#include "collector_core.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include <fmt/format.h>

namespace ws::capture {

namespace {
constexpr int64_t kMaxTime = int64_t{1} << 62;  // ns: 146 years
}  // namespace

bool shrink_geometry(RingGeometry& g, uint64_t min_ring) {
  // Ring size and ring count halve in turn, the ring first (a ring of 64 KiB still holds
  // hundreds of records between two drains, while a thread without a ring loses them all).
  const bool ring_can = g.ring_bytes / 2 >= std::max(min_ring, kMinRingBytes);
  const bool slots_can = g.slots / 2 >= kMinSlots;
  if (!ring_can && !slots_can) return false;
  if (ring_can && (!slots_can || g.ring_bytes >= uint64_t{g.slots} * 4096))
    g.ring_bytes /= 2;
  else
    g.slots /= 2;
  return true;
}

std::string shrunk_warning(const RingGeometry& wanted, const RingGeometry& got,
                           const std::string& why) {
  return fmt::format("{}: recording with {} rings of {} KiB instead of {} of {} KiB (a thread "
                     "beyond {} at once loses its records, and smaller rings drop more under "
                     "bursts; see 'info')",
                     why, got.slots, got.ring_bytes / 1024, wanted.slots, wanted.ring_bytes / 1024,
                     got.slots);
}

std::string refused_by(const RegionHeader* r) {
  if (r->refused.load(std::memory_order_acquire) != 2) return "";
  const volatile char* in = r->agent_build;
  std::string out;
  for (size_t i = 0; i + 1 < kBuildIdBytes; ++i) {
    const char c = in[i];
    if (c == '\0') break;
    out += c > ' ' && c < 0x7f ? c : '?';
  }
  return out.empty() ? "?" : out;
}

std::string other_build_message(const std::string& agent_path, const std::string& theirs) {
  return fmt::format("the agent {} is of another wstrace build ({}) than this wstrace ({}), so "
                     "it recorded nothing: use the agent that came with this wstrace (unpack "
                     "the whole archive again, or rebuild both)",
                     agent_path, theirs, kBuildId);
}

RingCollector::RingCollector(const RecordOptions& opt, RegionHeader* region,
                             const RingGeometry& geometry, trace::TraceWriter& writer,
                             RecordSummary& summary, TranslateFn translate, ClockFn now,
                             EventSink sink)
    : opt_(opt), region_(region), geometry_(geometry), writer_(writer), summary_(summary),
      translate_(translate), now_(now), sink_(std::move(sink)),
      scratch_(static_cast<size_t>(geometry.ring_bytes / 2)), views_(geometry.slots),
      no_ring_views_(kNoRingEntries) {}

double RingCollector::drain() {
  size_t used = 0;
  double fullest = 0;
  if (summary_.agent_refused.empty()) summary_.agent_refused = refused_by(region_);
  for (uint32_t i = 0; i < geometry_.slots; ++i) drain_slot(i, used, fullest);
  drain_no_ring(used);
  order_.resize(used);
  for (size_t i = 0; i < used; ++i) order_[i] = i;
  std::stable_sort(order_.begin(), order_.end(), [&](size_t a, size_t b) {
    return pool_[a]->event().ts < pool_[b]->event().ts;
  });
  for (size_t i : order_) emit(pool_[i]->event());
  // Followers of the file see new events within kFlushEvery; a block is written whole.
  int64_t now = now_();
  if (used && problem_.empty() && now - last_flush_ >= kFlushEvery) {
    flush();
    last_flush_ = now;
  }
  return fullest;
}

// Each shared word is read once into a local; what it must be is checked against what the
// collector saw before (the pid stays, the head only moves forward and never laps the tail).
void RingCollector::drain_slot(uint32_t i, size_t& used, double& fullest) {
  SlotView& v = views_[i];
  if (v.retired) return;
  if (v.damaged) return watch_damaged(i, used);
  Slot& s = slots_of(region_)[i];
  const uint32_t state = s.state.load(std::memory_order_acquire);
  if (state != kSlotActive && state != kSlotReleased) {
    // Free or being claimed; a ring the collector was reading cannot go back by itself.
    if (v.active || (state != kSlotFree && state != kSlotClaiming)) damaged(i, used, 0);
    return;
  }
  const uint32_t pid = s.pid.load(std::memory_order_relaxed);
  if (!v.active) {
    if (pid == 0) return damaged(i, used, 0);  // an owner writes its pid before Active
    v.active = true;
    v.pid = pid;
    v.tid = s.tid.load(std::memory_order_relaxed);
  }
  const uint64_t head = s.head.load(std::memory_order_acquire);
  const uint64_t cap = geometry_.ring_bytes;
  if (pid == 0 || pid != v.pid || head - v.tail > cap) return damaged(i, used, head);
  fullest = std::max(fullest, static_cast<double>(head - v.tail) / static_cast<double>(cap));
  bool impossible = false;
  const DrainResult r = ring_drain(ring_data(region_, geometry_, i), cap, v.tail, head,
                                   scratch_.data(), [&](const uint8_t* rec, size_t len) {
    if (used == pool_.size()) pool_.push_back(std::make_unique<EventBuilder>());
    if (!translate_(rec, len, pid, *pool_[used])) return;
    // Times the agents' clock cannot give; within these, sums and differences of times fit.
    const Event& ev = pool_[used]->event();
    if (ev.ts < 0 || ev.ts >= kMaxTime || ev.dur >= static_cast<uint64_t>(kMaxTime))
      impossible = true;
    else
      ++used;
  });
  s.tail.store(v.tail, std::memory_order_release);
  if (r == DrainResult::Damaged || impossible) return damaged(i, used, head);
  const uint64_t dropped = s.dropped.load(std::memory_order_relaxed);
  if (dropped < v.dropped_seen) return damaged(i, used, head);
  if (dropped != v.dropped_seen) {
    add_drops(used, v.pid, v.tid, dropped - v.dropped_seen, DropReason::RingFull);
    v.dropped_seen = dropped;
  }
  if (state == kSlotReleased) free_slot(i);
}

// The records still in the ring are counted as one (their number is unknown); the producer is
// shown a full ring, so that what it writes from now on is counted by its own drop counter.
// A ring the collector had not read yet is charged to the pid it names if that is a process
// seen to start; else nobody is known to have lost anything, and it is only put aside.
void RingCollector::damaged(uint32_t i, size_t& used, uint64_t head) {
  SlotView& v = views_[i];
  Slot& s = slots_of(region_)[i];
  v.damaged = true;
  if (!v.active) {
    v.pid = s.pid.load(std::memory_order_relaxed);
    v.retired = v.pid == 0 || !processes_.count(v.pid);
    if (v.retired) return;
  }
  add_drops(used, v.pid, v.tid, 1, DropReason::RingDamaged);
  s.tail.store(head - geometry_.ring_bytes, std::memory_order_release);
  v.dropped_seen = s.dropped.load(std::memory_order_relaxed);
}

void RingCollector::watch_damaged(uint32_t i, size_t& used) {
  SlotView& v = views_[i];
  const uint64_t dropped = slots_of(region_)[i].dropped.load(std::memory_order_relaxed);
  if (dropped > v.dropped_seen) add_drops(used, v.pid, v.tid, dropped - v.dropped_seen,
                                          DropReason::RingDamaged);
  v.dropped_seen = dropped;
}

// Records lost for want of a ring, per process. The table is read only when the total moved.
void RingCollector::drain_no_ring(size_t& used) {
  const uint64_t total = region_->no_ring_total.load(std::memory_order_acquire);
  if (total == no_ring_total_seen_) return;
  no_ring_total_seen_ = total;
  for (uint32_t k = 0; k < kNoRingEntries; ++k) report_no_ring(k, used);
  const uint64_t unnamed = region_->no_ring_unnamed.load(std::memory_order_relaxed);
  if (unnamed > no_ring_unnamed_seen_)
    add_drops(used, 0, 0, unnamed - no_ring_unnamed_seen_, DropReason::NoFreeRing);
  no_ring_unnamed_seen_ = unnamed;
}

void RingCollector::report_no_ring(uint32_t k, size_t& used) {
  NoRingEntry& e = region_->no_ring[k];
  NoRingView& v = no_ring_views_[k];
  const uint32_t pid = e.pid.load(std::memory_order_acquire);
  if (pid != v.pid) v = NoRingView{pid, 0};
  if (pid == 0) return;
  const uint64_t records = e.records.load(std::memory_order_acquire);
  if (records > v.records_seen)
    add_drops(used, pid, 0, records - v.records_seen, DropReason::NoFreeRing,
              e.threads.load(std::memory_order_relaxed));
  v.records_seen = records;
}

void RingCollector::flush() {
  if (problem_.empty()) {
    if (Status s = writer_.flush(); !s.ok()) problem_ = s.message();
  }
}

void RingCollector::process_ended(uint32_t pid, int exit_code) {
  drain();
  for (uint32_t i = 0; i < geometry_.slots; ++i) {
    SlotView& v = views_[i];
    if (v.pid != pid || v.retired) continue;
    if (v.damaged) v.retired = true;
    else if (v.active) free_slot(i);
  }
  size_t used = 0;
  release_no_ring(pid, used);
  for (size_t i = 0; i < used; ++i) emit(pool_[i]->event());
  auto it = processes_.find(pid);
  if (it != processes_.end() && it->second) return;  // the agent saw it exit
  EventBuilder b;
  b.begin(FuncId::process_exit, pid, pid, now_()).result(0).snum(FieldId::exit_code, exit_code);
  emit(b.event());
}

// Its entry of the no-ring table, read a last time, is free for another process.
void RingCollector::release_no_ring(uint32_t pid, size_t& used) {
  for (uint32_t k = 0; k < kNoRingEntries; ++k) {
    NoRingEntry& e = region_->no_ring[k];
    if (e.pid.load(std::memory_order_acquire) != pid) continue;
    report_no_ring(k, used);
    e.records.store(0, std::memory_order_relaxed);
    e.threads.store(0, std::memory_order_relaxed);
    e.pid.store(0, std::memory_order_release);
    no_ring_views_[k] = NoRingView{};
  }
}

// Liveness is asked before the drain: a thread found gone then wrote its last record before,
// so freeing its ring after the drain loses nothing.
double RingCollector::reclaim(AliveFn alive) {
  std::vector<uint32_t> dead_rings, dead_pids;
  for (uint32_t i = 0; i < geometry_.slots; ++i) {
    const SlotView& v = views_[i];
    if (v.active && !v.damaged && !alive(v.pid, v.tid)) dead_rings.push_back(i);
  }
  for (uint32_t k = 0; k < kNoRingEntries; ++k) {
    const uint32_t pid = region_->no_ring[k].pid.load(std::memory_order_acquire);
    if (pid && !alive(pid, pid)) dead_pids.push_back(pid);
  }
  const double fullest = drain();
  for (uint32_t i : dead_rings)
    if (views_[i].active && !views_[i].damaged) free_slot(i);
  size_t used = 0;
  for (uint32_t pid : dead_pids) release_no_ring(pid, used);
  for (size_t i = 0; i < used; ++i) emit(pool_[i]->event());
  return fullest;
}

void RingCollector::lost_before_ring(uint32_t pid, uint64_t n, DropReason reason) {
  size_t used = 0;
  add_drops(used, pid, 0, n, reason);
  emit(pool_[0]->event());
}

bool RingCollector::never_started(uint32_t pid, const std::string& image,
                                  const std::string& cause) {
  drain();
  if (processes_.count(pid)) return false;
  EventBuilder b;
  b.begin(FuncId::tracing_lost, pid, pid, now_()).result(0);
  b.str(FieldId::image, image).str(FieldId::cause, cause);
  emit(b.event());
  return true;
}

std::vector<uint32_t> RingCollector::running() const {
  std::vector<uint32_t> pids;
  for (const auto& [pid, exited] : processes_)
    if (!exited) pids.push_back(pid);
  return pids;
}

void RingCollector::close_unended() {
  std::vector<uint32_t> open;
  for (const auto& [pid, exited] : processes_)
    if (!exited) open.push_back(pid);
  std::sort(open.begin(), open.end());
  for (uint32_t pid : open) {
    EventBuilder b;
    b.begin(FuncId::process_exit, pid, pid, now_()).result(0);
    emit(b.event());
  }
}

// The next owner starts from an empty ring at position 0; threads without a ring look again.
void RingCollector::free_slot(uint32_t i) {
  Slot& s = slots_of(region_)[i];
  s.head.store(0, std::memory_order_relaxed);
  s.tail.store(0, std::memory_order_relaxed);
  s.dropped.store(0, std::memory_order_relaxed);
  s.pid.store(0, std::memory_order_relaxed);
  s.tid.store(0, std::memory_order_relaxed);
  s.state.store(kSlotFree, std::memory_order_release);
  views_[i] = SlotView{};
  region_->frees.fetch_add(1, std::memory_order_release);
}

void RingCollector::add_drops(size_t& used, uint32_t pid, uint32_t tid, uint64_t n,
                              DropReason reason, uint64_t threads) {
  if (used == pool_.size()) pool_.push_back(std::make_unique<EventBuilder>());
  EventBuilder& b = *pool_[used];
  b.begin(FuncId::drops, pid, tid, now_()).result(0).num(FieldId::dropped, n);
  b.num(FieldId::reason, static_cast<uint64_t>(reason));
  // (the kernel's ring buffer is one, whatever rings the collector has)
  if (reason != DropReason::KernelRingFull) b.num(FieldId::rings, geometry_.slots);
  if (reason == DropReason::NoFreeRing) b.num(FieldId::threads, threads);
  ++used;
}

const Event& RingCollector::redacted(const Event& ev) {
  if (!opt_.redact) return ev;
  masked_ = ev;
  redactor_.redact(masked_);
  return masked_;
}

void RingCollector::emit(const Event& raw) {
  const Event& ev = redacted(raw);  // what the file and the live view get
  switch (ev.type()) {
    case EventType::process_start:
      if (!processes_.count(ev.pid)) ++summary_.processes;  // exec starts a pid again
      processes_[ev.pid] = false;
      break;
    case EventType::drops:
      if (const Value* v = ev.get(FieldId::dropped)) {
        summary_.dropped += v->num;
        const Value* why = ev.get(FieldId::reason);
        if (why && why->num < std::size(summary_.dropped_by_reason))
          summary_.dropped_by_reason[why->num] += v->num;
      }
      break;
    case EventType::process_exit:
      processes_[ev.pid] = true;
      break;
    case EventType::thread_name: break;
    case EventType::tracing_lost: ++summary_.lost; break;
    default:
      if (!is_fact(ev.type())) ++summary_.calls;
  }
  if (problem_.empty()) {
    if (Status s = writer_.write(ev); !s.ok()) problem_ = s.message();
  }
  if (sink_) sink_(ev);
}

}  // namespace ws::capture
