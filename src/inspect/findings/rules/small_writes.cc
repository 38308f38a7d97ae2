// small-writes: the Nagle / delayed-ACK stall. Several sends, a small one among them, then a
// receive whose answer comes --nagle-wait-min … --nagle-wait-max after the last send: Nagle's
// algorithm held the small segment back until the peer acknowledged the earlier one, and the
// peer delayed that acknowledgement (40 ms on Linux, up to 200 ms on Windows).
#include <fmt/format.h>

#include <unordered_map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct WritesState {
  bool nodelay = false;
  uint64_t sends = 0, small = 0;  // since the last receive that returned data
  int64_t last_send_end = 0;
  uint64_t stalls = 0, small_total = 0, waited = 0;
  CallRef stall_recv;
};

class SmallWrites : public Rule {
 public:
  explicit SmallWrites(const DiagnoseOptions& o)
      : small_(o.small_write), min_(o.nagle_wait_min_ns), max_(o.nagle_wait_max_ns),
        rounds_(o.nagle_rounds) {}
  std::string_view id() const override { return "small-writes"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr || !is_tcp(*c)) return;
    if (ev.func == FuncId::setsockopt && ev.error.ok() &&
        field_or(ev, FieldId::optname, 0) == sockopt::kTcpNodelay) {
      states_[c->id].nodelay = field_or(ev, FieldId::optval, 0) != 0;
      return;
    }
    if (f.moved == 0) return;
    const int64_t end = ev.ts + static_cast<int64_t>(ev.dur);
    if (f.dir == Tracker::Dir::Out) {
      WritesState& s = states_[c->id];
      ++s.sends;
      if (f.moved <= small_) ++s.small;
      s.last_send_end = end;
      return;
    }
    if (f.dir != Tracker::Dir::In) return;
    auto it = states_.find(c->id);
    if (it == states_.end()) return;
    WritesState& s = it->second;
    if (!s.nodelay && s.sends >= 2 && s.small >= 1 && end > s.last_send_end) {
      const auto wait = static_cast<uint64_t>(end - s.last_send_end);
      if (wait >= min_ && wait <= max_) {
        if (s.stalls++ == 0) s.stall_recv = call_ref(ev, c->id);
        s.small_total += s.small;
        s.waited += wait;
      }
    }
    s.sends = s.small = 0;
  }

  void on_connection_end(const Connection& c) override {
    auto it = states_.find(c.id);
    if (it == states_.end()) return;
    WritesState s = std::move(it->second);
    states_.erase(it);
    if (s.stalls < rounds_) return;
    if (conns_ == 0) f_.first_ts = s.stall_recv.ts;
    ++conns_;
    stalls_ += s.stalls;
    small_sends_ += s.small_total;
    waited_ += s.waited;
    add_conn(f_, c.id);
    add_call(f_.calls, std::move(s.stall_recv));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (conns_ == 0) return;
    f_.rule = "small-writes";
    f_.severity = Severity::Warning;
    f_.title = fmt::format("{} stall{} of ~{} after small sends (Nagle + delayed ACK)", stalls_,
                           stalls_ == 1 ? "" : "s", duration_str(waited_ / stalls_));
    f_.counts = {{"connections", fmt::format("{}", conns_)},
                 {"stalls", fmt::format("{}", stalls_)},
                 {"small sends before them", fmt::format("{}", small_sends_)},
                 {"time lost", duration_str(waited_)}};
    f_.meaning = "The program writes a message in several small pieces and then waits for the "
                 "answer. Nagle's algorithm holds the last small piece until the peer "
                 "acknowledges the previous one, and the peer delays its acknowledgement "
                 "(delayed ACK, ~40 ms on Linux, up to 200 ms on Windows): each exchange waits "
                 "for the timer.";
    f_.next = "Write each message with one call (build it in a buffer, or use writev/sendmsg / "
              "WSASend with several buffers), or set TCP_NODELAY on the socket for "
              "request/response traffic.";
    out.push_back(f_);
  }

 private:
  uint64_t small_, min_, max_, rounds_;
  std::unordered_map<uint64_t, WritesState> states_;
  Finding f_;
  uint64_t conns_ = 0, stalls_ = 0, small_sends_ = 0, waited_ = 0;
};

}  // namespace

std::unique_ptr<Rule> make_small_writes(const DiagnoseOptions& o) {
  return std::make_unique<SmallWrites>(o);
}

}  // namespace ws::inspect::rules
