// long-gap: silence of at least --gap between two calls on one connection (the end of one call
// to the start of the next), with what the thread of the earlier call did meanwhile: its first
// and last calls in the gap, the functions it called most, and how long it waited in poll/select.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <unordered_map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

// Calls per function of one thread, in the order the functions first showed; functions beyond
// the first kSlots share the last slot. Entries never move, so two copies compare slot by slot.
class FuncCounts {
 public:
  static constexpr size_t kSlots = 16;
  void add(FuncId f) {
    size_t i = 0;
    while (i < used_ && slots_[i].func != f && i + 1 < kSlots) ++i;
    if (i == used_) slots_[used_++].func = i + 1 < kSlots ? f : FuncId::Unknown;
    ++slots_[i].calls;
  }
  // "recv ×6, send ×4, poll ×2": the most called since `before` (an earlier copy), at most 4.
  std::string since(const FuncCounts& before) const {
    std::array<std::pair<uint64_t, FuncId>, kSlots> d{};
    for (size_t i = 0; i < used_; ++i) {
      const uint64_t was = i < before.used_ ? before.slots_[i].calls : 0;
      d[i] = {slots_[i].calls - std::min(slots_[i].calls, was), slots_[i].func};
    }
    std::stable_sort(d.begin(), d.begin() + static_cast<long>(used_),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::string s;
    for (size_t i = 0; i < std::min<size_t>(used_, 4) && d[i].first; ++i)
      s += fmt::format("{}{} ×{}", s.empty() ? "" : ", ",
                       d[i].second == FuncId::Unknown ? "other" : func_def(d[i].second).name,
                       d[i].first);
    return s;
  }

 private:
  struct Slot {
    FuncId func = FuncId::Unknown;
    uint64_t calls = 0;
  };
  std::array<Slot, kSlots> slots_{};
  size_t used_ = 0;
};

// One call, as much as evidence needs.
struct Call {
  uint64_t seq = 0;
  int64_t ts = 0, end = 0;  // end = ts + dur
  uint32_t pid = 0, tid = 0;
  FuncId func = FuncId::Unknown;
  uint64_t sock = 0;
  bool has_sock = false;
};

struct Thread {
  uint64_t calls = 0;
  uint64_t waited = 0;  // ns spent in poll/select/epoll calls
  FuncCounts funcs;
  Call last;            // its latest call
  uint64_t last_conn = 0;  // the connection of that call (0: none, or not followed)
};

struct Last {
  Call call;
  uint64_t calls = 0, waited = 0;  // the thread's counters after that call
  FuncCounts funcs;
  Call next;  // the thread's first call after it on another connection or none (seq 0: none yet)
};

Call call_of(const Event& ev) {
  Call c{ev.seq, ev.ts, ev.ts + static_cast<int64_t>(ev.dur), ev.pid, ev.tid, ev.func, 0, false};
  if (const Value* v = ev.get(FieldId::sock)) c.sock = v->num, c.has_sock = true;
  return c;
}

CallRef ref_of(const Call& l, uint64_t conn, std::string_view note = {}) {
  return call_at(l.seq, l.ts, l.pid, l.tid, conn,
                 fmt::format("{}({}){}", func_def(l.func).name,
                             l.has_sock ? fmt::format("sock={}", l.sock) : "", note));
}

class LongGap : public Rule {
 public:
  explicit LongGap(const DiagnoseOptions& o) : limit_(o.gap_ns) {}
  std::string_view id() const override { return "long-gap"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    if (ev.type() == EventType::process_exit) {
      std::erase_if(threads_, [&](const auto& e) { return e.first >> 32 == ev.pid; });
      return;
    }
    if (is_fact(ev.type())) return;  // (the agent's TCP statistics are no call of the thread)
    Thread& th = threads_[key(ev.pid, ev.tid)];
    const Connection* c = f.conn;
    const bool followed = c && c->role != ConnRole::Listener && ev.type() != EventType::close;
    // The thread's first call after its last call on another connection.
    if (th.last_conn && (!followed || th.last_conn != c->id))
      if (auto it = conns_.find(th.last_conn); it != conns_.end() && it->second.next.seq == 0)
        it->second.next = call_of(ev);
    if (!followed) {
      if (c) conns_.erase(c->id);
      count(th, ev, 0);
      return;
    }
    Last& l = conns_[c->id];
    if (l.call.end != 0 && ev.ts > l.call.end &&
        static_cast<uint64_t>(ev.ts - l.call.end) >= limit_)
      gap(l, ev, c->id);
    count(th, ev, c->id);
    l.call = th.last;
    l.calls = th.calls;
    l.waited = th.waited;
    l.funcs = th.funcs;
    l.next = Call{};
  }

  void on_connection_end(const Connection& c) override { conns_.erase(c.id); }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (gaps_ == 0) return;
    f_.rule = "long-gap";
    f_.severity = Severity::Info;
    f_.over_gaps = true;  // calls in the gap that were dropped
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
    out.push_back(f_);
  }

 private:
  static uint64_t key(uint32_t pid, uint32_t tid) { return (uint64_t{pid} << 32) | tid; }

  static void count(Thread& th, const Event& ev, uint64_t conn) {
    ++th.calls;
    th.funcs.add(ev.func);
    if (ev.type() == EventType::poll) th.waited += ev.dur;
    th.last = call_of(ev);
    th.last_conn = conn;
  }

  // A gap on connection `conn` from its last call `l` to `ev` (not counted in its thread yet).
  void gap(const Last& l, const Event& ev, uint64_t conn) {
    const auto gap = static_cast<uint64_t>(ev.ts - l.call.end);
    ++gaps_;
    add_conn(f_, conn);
    if (gap <= biggest_) return;
    biggest_ = gap;
    f_.first_ts = l.call.ts;
    f_.calls = {ref_of(l.call, conn)};
    // (The thread is gone, or is another of the same ids, when its process ended meanwhile.)
    auto it = threads_.find(key(l.call.pid, l.call.tid));
    const uint64_t others =
        it == threads_.end() || it->second.calls < l.calls ? 0 : it->second.calls - l.calls;
    if (others == 0 || l.next.seq == 0) {
      meanwhile_ = fmt::format("thread {} made no traced call in between (busy elsewhere, or "
                               "blocked outside the socket API)", l.call.tid);
    } else {
      const Thread& was = it->second;
      meanwhile_ = fmt::format(
          "thread {} made {} other call{} in between ({}), {} of it waiting in poll/select; the "
          "first {} after the gap began, the last {} before it ended",
          l.call.tid, others, others == 1 ? "" : "s", was.funcs.since(l.funcs),
          duration_str(was.waited - std::min(was.waited, l.waited)),
          duration_str(static_cast<uint64_t>(std::max<int64_t>(0, l.next.ts - l.call.end))),
          duration_str(static_cast<uint64_t>(std::max<int64_t>(0, ev.ts - was.last.end))));
      f_.calls.push_back(ref_of(l.next, 0, " (first call meanwhile)"));
      if (was.last.seq != l.next.seq)
        f_.calls.push_back(ref_of(was.last, 0, " (last call meanwhile)"));
    }
    f_.calls.push_back(call_ref(ev, conn));
  }

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
