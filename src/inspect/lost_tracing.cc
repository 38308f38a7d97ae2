#include "lost_tracing.h"

#include <fmt/format.h>

namespace ws::inspect {

uint32_t lost_pid(const Event& ev) {
  const Value* child = ev.get(FieldId::child);
  return child ? static_cast<uint32_t>(child->num) : ev.pid;
}

// The drops event's reason field (DropReason), 0 when it gives none or one we do not know.
static uint32_t drop_reason(const Event& ev) {
  const Value* why = ev.get(FieldId::reason);
  return why && why->num <= 4 ? static_cast<uint32_t>(why->num) : 0;
}

std::string drop_cause(const Event& ev) {
  switch (drop_reason(ev)) {
    case 1: return "its ring was full";
    case 2: {
      const Value* rings = ev.get(FieldId::rings);
      return rings ? fmt::format("no free ring: all {} rings taken by other threads", rings->num)
                   : std::string("no free ring: more threads recorded at once than wstrace has "
                                 "rings");
    }
    case 3: return "ring damaged by the program: its records are ignored from here on";
    case 4: return "the kernel engine's ring buffer was full (wstrace fell behind)";
    default: break;
  }
  // Traces written before drops gave their reason: records lost because every ring was taken
  // came without a process.
  if (ev.pid == 0) return "no free ring: more threads recorded at once than wstrace has rings";
  return "its ring was full";
}

uint64_t LostTracing::dropped_for(uint32_t reason) const {
  uint64_t n = 0;
  for (const auto& [key, d] : drops_)
    if (d.reason == reason) n += d.records;
  return n;
}

bool LostTracing::observe(const Event& ev) {
  if (ev.type() == EventType::drops) {
    const Value* n = ev.get(FieldId::dropped);
    const uint64_t records = n ? n->num : 0;
    std::string cause = drop_cause(ev);
    auto [it, added] = drops_.try_emplace({ev.pid, cause});
    DroppedRecords& d = it->second;
    if (added) d = {ev.pid, ev.ts, ev.seq, 0, drop_reason(ev), std::move(cause)};
    d.records += records;
    dropped_ += records;
    return true;
  }
  if (ev.type() == EventType::unseen) {
    std::string what = std::string(ev.text(FieldId::what));
    if (what.empty()) what = "calls";
    // The first declaration of each kind counts. Bounded (the records come from the program):
    // kMaxProcesses processes, 16 kinds each.
    if (!unseen_.count(ev.pid) && unseen_.size() >= kMaxProcesses) return true;
    auto& kinds = unseen_[ev.pid];
    if (kinds.size() < 16)
      kinds.try_emplace(what, UnseenPart{ev.pid, ev.ts, ev.seq, what, std::string(ev.text(FieldId::cause))});
    return true;
  }
  if (ev.type() == EventType::process_start) {
    // Another program the agent entered; the lost one itself starting means the agent is in
    // but sees little of it (a Go program).
    auto it = lost_.find(ev.pid);
    if (it != lost_.end() && !it->second.resumed_ts &&
        std::string(ev.text(FieldId::image)) != it->second.image)
      it->second.resumed_ts = ev.ts;
    return false;
  }
  if (ev.type() != EventType::tracing_lost) return false;
  const uint32_t pid = lost_pid(ev);
  if (!ev.error.ok()) {  // the exec failed: the process is still traced
    lost_.erase(pid);
    return true;
  }
  if (lost_.count(pid) || lost_.size() < kMaxProcesses)
    lost_[pid] = {pid, ev.pid, ev.ts, ev.seq, 0, std::string(ev.text(FieldId::image)),
                  std::string(ev.text(FieldId::cause))};
  return true;
}

}  // namespace ws::inspect
