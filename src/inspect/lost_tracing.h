// Tracing a trace says it lost: processes the agent could not follow into a new program or a
// child (tracing_lost events) and records it had to drop (drops events). Worked out once here for
// `info`, the tracing-lost finding and whoever else shows it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "event.h"

namespace ws::inspect {

// A process that is not traced from `ts` on (until `resumed_ts`, when it exec'd again into a
// program the agent entered).
struct LostProcess {
  uint32_t pid = 0;
  uint32_t by_pid = 0;  // the process whose agent said so (the parent, for a child)
  int64_t ts = 0;
  uint64_t seq = 0;
  int64_t resumed_ts = 0;
  std::string image, cause;
};

// Records dropped of one process for one cause.
struct DroppedRecords {
  uint32_t pid = 0;  // 0: no process named (records lost because every ring was taken)
  int64_t first_ts = 0;
  uint64_t first_seq = 0;
  uint64_t records = 0;
  uint32_t reason = 0;  // the drops event's reason (DropReason: 1 ring full, 2 no free ring,
                        // 3 ring damaged, 4 kernel ring buffer full); 0 in traces
                        // that give none
  std::string cause;
};

// Something the agent declared it cannot see in a process (an `unseen` event): "raw-syscalls",
// "io_uring" — the process's trace is incomplete there.
struct UnseenPart {
  uint32_t pid = 0;
  int64_t ts = 0;
  uint64_t seq = 0;
  std::string what, cause;
};

class LostTracing {
 public:
  // Follows one event; true when it said something lost (a tracing_lost, drops or unseen
  // event).
  bool observe(const Event& ev);
  // Processes whose tracing is lost at the end (an exec that failed gave it back), by pid.
  const std::map<uint32_t, LostProcess>& processes() const { return lost_; }
  // Drops by process and cause.
  const std::map<std::pair<uint32_t, std::string>, DroppedRecords>& drops() const {
    return drops_;
  }
  uint64_t dropped() const { return dropped_; }
  // What each process was declared not to show, by pid then what (the first declaration).
  const std::map<uint32_t, std::map<std::string, UnseenPart>>& unseen() const { return unseen_; }
  // Records dropped for `reason` (0: drops events that give none).
  uint64_t dropped_for(uint32_t reason) const;

 private:
  static constexpr size_t kMaxProcesses = 4096;  // beyond: the first ones are kept
  std::map<uint32_t, LostProcess> lost_;
  std::map<std::pair<uint32_t, std::string>, DroppedRecords> drops_;
  std::map<uint32_t, std::map<std::string, UnseenPart>> unseen_;
  uint64_t dropped_ = 0;
};

// The process a tracing_lost event is about: the child it names, else its own.
uint32_t lost_pid(const Event& ev);
// Why a drops event's records were lost, in words.
std::string drop_cause(const Event& ev);

}  // namespace ws::inspect
