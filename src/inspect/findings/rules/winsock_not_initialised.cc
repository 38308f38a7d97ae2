// winsock-not-initialised: Winsock calls that failed with WSANOTINITIALISED, told apart by
// whether the process had called WSAStartup yet, or had already cleaned up.
#include <fmt/format.h>

#include <map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct WsaProc {
  int64_t started = 0;   // successful WSAStartup calls minus WSACleanup calls
  bool ever_started = false;
  uint64_t before = 0, after = 0;
  Finding f;
};

class WinsockNotInitialised : public Rule {
 public:
  std::string_view id() const override { return "winsock-not-initialised"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    if (ev.func == FuncId::WSAStartup && ev.result == 0 && ev.error.ok()) {
      WsaProc& p = procs_[ev.pid];
      ++p.started;
      p.ever_started = true;
      return;
    }
    if (ev.func == FuncId::WSACleanup && ev.result == 0) {
      auto it = procs_.find(ev.pid);
      if (it != procs_.end()) --it->second.started;
      return;
    }
    if (ev.error != errcode::kWsanotinitialised) return;
    WsaProc& p = procs_[ev.pid];
    if (p.before + p.after == 0) p.f.first_ts = ev.ts;
    (p.ever_started ? p.after : p.before) += 1;
    add_call(p.f.calls, call_ref(ev));
  }

  void finish(const Tracker& t, std::vector<Finding>& out) override {
    for (auto& [pid, p] : procs_) {
      const uint64_t n = p.before + p.after;
      if (n == 0) continue;
      Finding f = p.f;
      f.rule = "winsock-not-initialised";
      f.severity = Severity::Error;
      const Process* proc = t.process(pid);
      const std::string name = proc ? proc->name() : fmt::format("pid {}", pid);
      const std::string when = p.before && p.after ? "before WSAStartup and after WSACleanup"
                               : p.before         ? "before WSAStartup"
                                                  : "after WSACleanup";
      f.title = fmt::format("{}[{}] used Winsock {}: {} call{} failed with WSANOTINITIALISED",
                            name, pid, when, n, n == 1 ? "" : "s");
      f.counts = {{"calls", fmt::format("{}", n)},
                  {"before WSAStartup", fmt::format("{}", p.before)},
                  {"after WSACleanup", fmt::format("{}", p.after)}};
      f.meaning = p.before ? "Winsock functions were called before the process (or the module) "
                             "called WSAStartup: every call fails at once."
                           : "WSACleanup was called (as often as WSAStartup) while sockets were "
                             "still being used — often a DLL or a destructor running during "
                             "process exit, or two modules sharing one WSAStartup.";
      f.next = "Call WSAStartup once per module before any other Winsock call and WSACleanup "
               "once for each successful WSAStartup, after the last socket call; look for "
               "static constructors/destructors that use sockets.";
      out.push_back(std::move(f));
    }
  }

 private:
  std::map<uint32_t, WsaProc> procs_;
};

}  // namespace

std::unique_ptr<Rule> make_winsock_not_initialised(const DiagnoseOptions&) {
  return std::make_unique<WinsockNotInitialised>();
}

}  // namespace ws::inspect::rules
