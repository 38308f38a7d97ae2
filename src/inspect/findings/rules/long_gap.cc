// long-gap: silence of at least --gap between two calls on one connection (the end of one call
// to the start of the next), with what the thread of the earlier call did meanwhile.
#include <fmt/format.h>

#include <unordered_map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct Thread {
  uint64_t calls = 0;
  uint64_t waited = 0;  // ns spent in poll/select/epoll calls
};

struct Last {
  uint64_t seq = 0;
  int64_t end = 0;  // ts + dur
  int64_t ts = 0;
  uint32_t pid = 0, tid = 0;
  FuncId func = FuncId::Unknown;
  uint64_t sock = 0;
  Thread thread;  // the thread's counters after that call
};

CallRef ref_of(const Last& l, uint64_t conn) {
  CallRef r;
  r.seq = l.seq;
  r.ts = l.ts;
  r.pid = l.pid;
  r.tid = l.tid;
  r.conn = conn;
  r.text = fmt::format("{}(sock={})", func_def(l.func).name, l.sock);
  return r;
}

class LongGap : public Rule {
 public:
  explicit LongGap(const DiagnoseOptions& o) : limit_(o.gap_ns) {}
  std::string_view id() const override { return "long-gap"; }

  void observe(const Event& ev, const Tracker& t) override {
    if (ev.type() == EventType::process_exit) {
      std::erase_if(threads_, [&](const auto& e) { return e.first >> 32 == ev.pid; });
      return;
    }
    Thread& th = threads_[key(ev.pid, ev.tid)];
    ++th.calls;
    if (ev.type() == EventType::poll) th.waited += ev.dur;
    const Connection* c = t.connection();
    if (c == nullptr || c->role == ConnRole::Listener || ev.type() == EventType::close) {
      if (c) conns_.erase(c->id);
      return;
    }
    Last& l = conns_[c->id];
    if (l.end != 0 && ev.ts > l.end && static_cast<uint64_t>(ev.ts - l.end) >= limit_) {
      const auto gap = static_cast<uint64_t>(ev.ts - l.end);
      ++gaps_;
      add_conn(f_, c->id);
      if (gap > biggest_) {
        biggest_ = gap;
        const Thread& was = threads_[key(l.pid, l.tid)];
        const uint64_t others = was.calls - l.thread.calls - (l.tid == ev.tid ? 1 : 0);
        const uint64_t waited = was.waited - l.thread.waited;
        meanwhile_ = others == 0
                         ? fmt::format("thread {} made no traced call in between (busy elsewhere, "
                                       "or blocked outside the socket API)", l.tid)
                         : fmt::format("thread {} made {} other call{} in between, {} of it "
                                       "waiting in poll/select",
                                       l.tid, others, others == 1 ? "" : "s",
                                       duration_str(waited));
        f_.calls = {ref_of(l, c->id), call_ref(ev, c->id)};
        f_.first_ts = l.ts;
      }
    }
    l.seq = ev.seq;
    l.ts = ev.ts;
    l.end = ev.ts + static_cast<int64_t>(ev.dur);
    l.pid = ev.pid;
    l.tid = ev.tid;
    l.func = ev.func;
    l.sock = field_or(ev, FieldId::sock, 0);
    l.thread = th;
  }

  void on_connection_end(const Connection& c) override { conns_.erase(c.id); }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (gaps_ == 0) return;
    f_.rule = "long-gap";
    f_.severity = Severity::Info;
    f_.title = fmt::format("{} between two calls on connection #{}{}", duration_str(biggest_),
                           f_.calls.empty() ? 0 : f_.calls.front().conn,
                           gaps_ > 1 ? fmt::format(" (and {} more long gaps)", gaps_ - 1) : "");
    f_.counts = {{"gaps", fmt::format("{}", gaps_)},
                 {"longest", duration_str(biggest_)},
                 {"meanwhile", meanwhile_},
                 {"threshold", duration_str(limit_)}};
    f_.meaning = "Nothing happened on the connection for that long. The program was busy "
                 "elsewhere (computing, waiting on a lock, a disk or another connection), or "
                 "idle by design (a pooled keep-alive connection).";
    f_.next = "If this was not intended, look at what the thread did during the gap (the calls "
              "named above, 'wstrace show' between those times); watch for idle timeouts of the "
              "peer or of proxies that would close the connection meanwhile.";
    out.push_back(std::move(f_));
  }

 private:
  static uint64_t key(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }
  uint64_t limit_;
  std::unordered_map<uint64_t, Thread> threads_;
  std::unordered_map<uint64_t, Last> conns_;
  Finding f_;
  uint64_t gaps_ = 0, biggest_ = 0;
  std::string meanwhile_;
};

}  // namespace

std::unique_ptr<Rule> make_long_gap(const DiagnoseOptions& o) {
  return std::make_unique<LongGap>(o);
}

}  // namespace ws::inspect::rules
