#include "collector_core.h"

#include <algorithm>

namespace ws::capture {

RingCollector::RingCollector(const RecordOptions& opt, RegionHeader* region,
                             trace::TraceWriter& writer, const trace::TraceHeader& header,
                             RecordSummary& summary, TranslateFn translate, ClockFn now)
    : opt_(opt), region_(region), writer_(writer), header_(header), summary_(summary),
      translate_(translate), now_(now), scratch_(region->ring_bytes / 2) {}

double RingCollector::drain() {
  size_t used = 0;
  double fullest = 0;
  Slot* slots = slots_of(region_);
  for (uint32_t i = 0; i < region_->slot_count; ++i) {
    uint32_t state = slots[i].state.load(std::memory_order_acquire);
    if (state == kSlotFree) continue;
    uint32_t pid = slots[i].pid.load(std::memory_order_relaxed);
    uint64_t queued = slots[i].head.load(std::memory_order_acquire) -
                      slots[i].tail.load(std::memory_order_relaxed);
    fullest = std::max(fullest, static_cast<double>(queued) /
                                    static_cast<double>(region_->ring_bytes));
    ring_drain(region_, i, scratch_.data(), [&](const uint8_t* rec, size_t len) {
      if (used == pool_.size()) pool_.push_back(std::make_unique<EventBuilder>());
      if (translate_(rec, len, pid, *pool_[used])) ++used;
    });
    uint64_t dropped = slots[i].dropped.load(std::memory_order_relaxed);
    uint64_t& seen = drops_seen_[i];
    if (dropped != seen) {
      add_drops(used, pid, slots[i].tid.load(std::memory_order_relaxed), dropped - seen);
      seen = dropped;
    }
    if (state == kSlotReleased) free_slot(i);
  }
  uint64_t lost = region_->no_slot_drops.load(std::memory_order_relaxed);
  if (lost != no_slot_seen_) {
    add_drops(used, 0, 0, lost - no_slot_seen_);
    no_slot_seen_ = lost;
  }
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

void RingCollector::flush() {
  if (problem_.empty()) {
    if (Status s = writer_.flush(); !s.ok()) problem_ = s.message();
  }
}

void RingCollector::process_ended(uint32_t pid, int exit_code) {
  drain();
  Slot* slots = slots_of(region_);
  for (uint32_t i = 0; i < region_->slot_count; ++i)
    if (slots[i].state.load(std::memory_order_acquire) != kSlotFree &&
        slots[i].pid.load(std::memory_order_relaxed) == pid)
      free_slot(i);
  auto it = processes_.find(pid);
  if (it != processes_.end() && it->second) return;  // the agent saw it exit
  EventBuilder b;
  b.begin(FuncId::process_exit, pid, pid, now_()).result(0).snum(FieldId::exit_code, exit_code);
  emit(b.event());
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

void RingCollector::free_slot(uint32_t i) {
  Slot& s = slots_of(region_)[i];
  s.tail.store(s.head.load(std::memory_order_acquire), std::memory_order_release);
  drops_seen_[i] = s.dropped.load(std::memory_order_relaxed);
  s.state.store(kSlotFree, std::memory_order_release);
}

void RingCollector::add_drops(size_t& used, uint32_t pid, uint32_t tid, uint64_t n) {
  if (used == pool_.size()) pool_.push_back(std::make_unique<EventBuilder>());
  pool_[used]->begin(FuncId::drops, pid, tid, now_()).result(0).num(FieldId::dropped, n);
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
      if (const Value* v = ev.get(FieldId::dropped)) summary_.dropped += v->num;
      break;
    case EventType::process_exit:
      processes_[ev.pid] = true;
      break;
    case EventType::thread_name: break;
    case EventType::tracing_lost: ++summary_.lost; break;
    case EventType::connect:
      ++summary_.calls;
      // Connected, or a non-blocking connect under way.
      if (ev.result == 0 || ev.error == errcode::kEinprogress ||
          ev.error == errcode::kWsaewouldblock)
        ++summary_.connections;
      break;
    case EventType::accept:
      ++summary_.calls;
      if (ev.error.ok()) ++summary_.connections;
      break;
    default: ++summary_.calls;
  }
  if (!ev.error.ok()) ++summary_.errors;
  if (problem_.empty()) {
    if (Status s = writer_.write(ev); !s.ok()) problem_ = s.message();
  }
  if (opt_.on_event) opt_.on_event(ev, header_);
}

}  // namespace ws::capture
