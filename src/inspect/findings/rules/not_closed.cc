// not-closed: sockets a process still held when it ended (the operating system closed them).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxProcesses = 4096;

struct OpenProc {
  Finding f;
  uint64_t count = 0, listeners = 0, connected = 0;
};

class NotClosed : public Rule {
 public:
  explicit NotClosed(const DiagnoseOptions& o) : min_(o.not_closed_min) {}
  std::string_view id() const override { return "not-closed"; }

  void on_connection_end(const Connection& c) override {
    if (c.end != ConnEnd::NotClosed) return;
    if (!procs_.count(c.pid) && procs_.size() >= kMaxProcesses) return;
    OpenProc& p = procs_[c.pid];
    if (p.count++ == 0) p.f.first_ts = c.closed_ts;
    if (c.role == ConnRole::Listener) ++p.listeners;
    if (c.connected_ts) ++p.connected;
    add_conn(p.f, c.id);
  }

  void finish(const Tracker& t, std::vector<Finding>& out) override {
    for (auto& [pid, p] : procs_) {
      if (p.count < min_) continue;
      Finding f = p.f;
      std::sort(f.conns.begin(), f.conns.end());
      f.rule = "not-closed";
      f.severity = Severity::Info;
      f.over_gaps = true;  // a close that was dropped
      f.pid = pid;
      const Process* proc = t.process(pid);
      const std::string name = proc ? proc->name() : fmt::format("pid {}", pid);
      f.title = fmt::format("{}[{}] ended with {} socket{} still open", name, pid, p.count,
                            p.count == 1 ? "" : "s");
      f.counts = {{"sockets", fmt::format("{}", p.count)},
                  {"connected", fmt::format("{}", p.connected)},
                  {"listening", fmt::format("{}", p.listeners)}};
      f.meaning = "The program exited without closing these sockets; the system closed them. "
                  "Harmless at exit, but in a long-running program the same code path leaks a "
                  "descriptor per call, and unsent data may be lost (a reset instead of a close).";
      f.next = "Close (closesocket) every socket when done with it, also on error paths; check "
               "that data is flushed (shutdown, then read to the end) before exiting.";
      out.push_back(std::move(f));
    }
  }

 private:
  uint64_t min_;
  std::map<uint32_t, OpenProc> procs_;
};

}  // namespace

std::unique_ptr<Rule> make_not_closed(const DiagnoseOptions& o) {
  return std::make_unique<NotClosed>(o);
}

}  // namespace ws::inspect::rules
