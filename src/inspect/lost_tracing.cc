#include "lost_tracing.h"

namespace ws::inspect {
namespace {

std::string str_of(const Event& ev, FieldId id) {
  const Value* v = ev.get(id);
  return v ? std::string(v->bytes()) : std::string();
}

}  // namespace

uint32_t lost_pid(const Event& ev) {
  const Value* child = ev.get(FieldId::child);
  return child ? static_cast<uint32_t>(child->num) : ev.pid;
}

std::string drop_cause(const Event& ev) {
  // A drops event that names its cause (a field of its own) is told here first; before that,
  // records lost because every ring was taken came without a process.
  if (ev.pid == 0) return "no free ring: more threads recorded at once than wstrace has rings";
  return "its ring was full";
}

bool LostTracing::observe(const Event& ev) {
  if (ev.type() == EventType::drops) {
    const Value* n = ev.get(FieldId::dropped);
    const uint64_t records = n ? n->num : 0;
    std::string cause = drop_cause(ev);
    auto [it, added] = drops_.try_emplace({ev.pid, cause});
    DroppedRecords& d = it->second;
    if (added) d = {ev.pid, ev.ts, ev.seq, 0, std::move(cause)};
    d.records += records;
    dropped_ += records;
    return true;
  }
  if (ev.type() == EventType::process_start) {
    // Another program the agent entered; the lost one itself starting means the agent is in
    // but sees little of it (a Go program).
    auto it = lost_.find(ev.pid);
    if (it != lost_.end() && !it->second.resumed_ts &&
        str_of(ev, FieldId::image) != it->second.image)
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
    lost_[pid] = {pid, ev.pid, ev.ts, ev.seq, 0, str_of(ev, FieldId::image),
                  str_of(ev, FieldId::cause)};
  return true;
}

}  // namespace ws::inspect
