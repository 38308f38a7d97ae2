// busy-wait: a connection whose calls returned EWOULDBLOCK/EAGAIN (WSAEWOULDBLOCK) at least
// --busy-wait times in a row while its thread never waited (poll/select/epoll with a timeout)
// in between: a loop burning a CPU instead of waiting for the socket to be ready.
#include <fmt/format.h>

#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct Run {
  uint64_t length = 0;
  uint64_t waits = 0;  // the thread's wait count when the run last grew
  CallMark first;  // (its line made only for a finding)
  int64_t last_ts = 0;
};

class BusyWait : public Rule {
 public:
  explicit BusyWait(const DiagnoseOptions& o) : limit_(o.busy_wait) {}
  std::string_view id() const override { return "busy-wait"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const uint64_t tk = (uint64_t{ev.pid} << 32) | ev.tid;
    if (ev.type() == EventType::poll) {
      const Value* timeout = ev.get(FieldId::timeout);
      if (timeout == nullptr || timeout->num > 0) ++waits_[tk];  // absent = wait forever
      return;
    }
    if (ev.type() == EventType::process_exit) {
      std::erase_if(waits_, [&](const auto& e) { return e.first >> 32 == ev.pid; });
      return;
    }
    const Connection* c = f.conn;
    if (c == nullptr) return;
    if (f.error != ErrorClass::WouldBlock) {
      auto it = runs_.find(c->id);
      if (it != runs_.end()) end_run(c->id, it->second), runs_.erase(it);
      return;
    }
    Run& r = runs_[c->id];
    const uint64_t w = waits_[tk];
    if (r.length && r.waits != w) end_run(c->id, r), r = Run{};
    if (r.length++ == 0) r.first = call_mark(ev, c->id);
    r.waits = w;
    r.last_ts = ev.ts;
  }

  void on_connection_end(const Connection& c) override {
    auto it = runs_.find(c.id);
    if (it == runs_.end()) return;
    end_run(c.id, it->second);
    runs_.erase(it);
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (loops_ == 0) return;
    f_.rule = "busy-wait";
    f_.severity = Severity::Warning;
    f_.over_gaps = true;  // waits between the retries that were dropped
    f_.title = fmt::format("busy loop: {} would-block results in a row without waiting, over {}",
                           longest_, duration_str(longest_span_));
    f_.counts = {{"loops", fmt::format("{}", loops_)},
                 {"longest run", fmt::format("{}", longest_)},
                 {"would-block results in loops", fmt::format("{}", total_)},
                 {"threshold", fmt::format("{}", limit_)}};
    f_.meaning = "A non-blocking socket was asked again and again for data (or room) it did "
                 "not have, with no poll/select/epoll wait in between: the loop spins a CPU "
                 "at 100% while waiting.";
    f_.next = "Wait for readiness before retrying: poll/select/epoll (WSAPoll, WSAEventSelect, "
              "I/O completion ports on Windows), or use a blocking socket with a timeout.";
    out.push_back(f_);
  }

 private:
  void end_run(uint64_t conn, Run& r) {
    if (r.length < limit_) return;
    if (loops_++ == 0) f_.first_ts = r.first.ts;
    total_ += r.length;
    const auto span = static_cast<uint64_t>(std::max<int64_t>(0, r.last_ts - r.first.ts));
    if (r.length > longest_) longest_ = r.length, longest_span_ = span;
    add_conn(f_, conn);
    CallRef first = r.first.ref();
    first.text += fmt::format(" … {} times in a row", r.length);
    add_call(f_.calls, std::move(first));
  }
  uint64_t limit_;
  std::unordered_map<uint64_t, uint64_t> waits_;  // per thread: waits so far
  std::unordered_map<uint64_t, Run> runs_;        // open connections in a would-block run
  Finding f_;
  uint64_t loops_ = 0, total_ = 0, longest_ = 0, longest_span_ = 0;
};

}  // namespace

std::unique_ptr<Rule> make_busy_wait(const DiagnoseOptions& o) {
  return std::make_unique<BusyWait>(o);
}

}  // namespace ws::inspect::rules
