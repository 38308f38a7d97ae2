// The kernel engine's events (ebpf_event.h) as the preload agent's raw records (raw_record.h):
// from here on both engines share one translation (translate_linux_record) and one collector.
// No libbpf and no privileges: the unit tests feed it events by hand.
#pragma once

#include <linux/types.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "ebpf_event.h"
#include "event.h"
#include "raw_record.h"

namespace ws::capture {

// One raw record as the agent would have queued it, in thread `tid`'s ring of process `pid`.
struct EbpfRecord {
  uint32_t pid = 0, tid = 0;
  std::vector<uint8_t> bytes;  // RawHead, then its arguments
};

// What a kernel event did besides its records.
struct EbpfOutcome {
  uint32_t ended_tid = 0;  // a thread that ended: its ring may be given back (0: none)
  uint32_t ended_pid = 0;  // a process that ended (0: none)
};

class EbpfRecords {
 public:
  // Appends to `out` the records the event `e` (`len` bytes, its payload after it) makes; the
  // event was written by the kernel and is checked before use (a short one makes nothing).
  EbpfOutcome convert(const uint8_t* data, size_t len, std::vector<EbpfRecord>& out);
  // The program wstrace started is `image` run as `cmdline`, before its exec is seen (a fork
  // before the exec then names it).
  void name_process(uint32_t pid, std::string image, std::string cmdline);
  // A process that was running before the engine saw it start (attach, --system): its start
  // at `ts` as /proc tells it now.
  void adopt(uint32_t pid, int64_t ts, std::vector<EbpfRecord>& out);
  // From now on, convert() adopts a process it meets first by a call (--system, or a child of
  // an attached process forked before the attach) just before that call.
  void adopt_unknown() { adopt_unknown_ = true; }

 private:
  struct Process {
    std::string image, cmdline;
    bool mmsg_said = false;  // told that messages of a sendmmsg/recvmmsg went unrecorded
    bool zero_copy_said = false;  // told that sendfile/splice payloads went unread
    bool uring_said = false;      // told that it set up io_uring
  };
  void call(const ws_ebpf_event& e, const uint8_t* payload, std::vector<EbpfRecord>& out);
  void exec(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
            std::vector<EbpfRecord>& out);
  void fork(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  EbpfOutcome exit(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  static void inherited(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  void seen(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
            std::vector<EbpfRecord>& out);
  void started(uint32_t pid, int64_t ts, uint64_t ppid, std::vector<EbpfRecord>& out);
  void uring_setup(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  static void uring_socket_op(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  void zero_copy_unseen(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  void zc_piece(const ws_ebpf_event& e, const uint8_t* payload);
  static void lookup(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
                     std::vector<EbpfRecord>& out);
  static void unseen_compat(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);
  static void tcp_event(const ws_ebpf_event& e, std::vector<EbpfRecord>& out);

  std::unordered_map<uint32_t, Process> processes_;
  // Per thread: the pieces of its next call's payload received so far (WS_EV_ZC_PIECE).
  std::unordered_map<uint32_t, std::vector<uint8_t>> zc_pieces_;
  bool adopt_unknown_ = false;
};

// The shell's status of a task's exit_code as the kernel keeps it (128+signal when killed).
int exit_status_of(uint64_t kernel_exit_code);

// Whether system call `nr` (ebpf_event.h's numbers) is recorded as function `f` (for the
// pre-filter: a filter's functions as the system calls the kernel sees).
bool ebpf_records_as(uint32_t nr, FuncId f);

}  // namespace ws::capture
