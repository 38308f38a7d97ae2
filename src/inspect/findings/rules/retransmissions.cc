// retransmissions: what the network did under a connection's calls, from the TCP statistics the
// agent read (tcp_info events): a retransmission rate that means loss on the path, SYNs sent
// again (a connect slowed by whole seconds), or a round-trip time far above its own minimum
// (queueing in a buffer on the way). Grouped per peer; a clean loopback run raises nothing.
// Under the kernel engine each retransmission is an event of its own (tcp_retransmit): then
// those are counted, and the evidence gives their times and the calls that waited over them.
#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <optional>
#include <map>
#include <unordered_map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxPeers = 1024;
// Loss: at least this many retransmissions, and at least 1% of the bytes sent.
constexpr uint64_t kMinRetrans = 3;
constexpr double kMinRate = 0.01;
// Queueing: the largest RTT read this many times the minimum, and at least 50 ms.
constexpr uint64_t kRttFactor = 4;
constexpr uint64_t kMinQueueNs = 50'000'000;

// Retransmission events kept per connection as evidence, and their times looked for under calls.
constexpr size_t kRetransShown = 3, kRetransTimes = 64, kRecentCalls = 8, kWaitedShown = 3;

// (CallMarks: most calls watched are never shown, their lines made only for a finding.)
struct Slowest {
  CallMark call;    // the connection's longest send, receive or wait on it so far
  uint64_t dur = 0;
  std::optional<CallMark> reading;  // its last tcp_info
  // Under the kernel engine: its first retransmissions, their times, and the calls under way
  // then. (A call is written when it returns: a retransmission during it comes first in the
  // trace, so both ways are looked at.)
  std::vector<CallMark> retrans;
  std::vector<int64_t> retrans_ts;
  std::array<CallMark, kRecentCalls> recent;  // the last calls (a ring; dur 0: none yet)
  size_t next_recent = 0;
  std::vector<CallMark> waited;

  static bool under(const CallMark& c, int64_t ts) {
    return c.ts <= ts && ts <= c.ts + static_cast<int64_t>(c.dur);
  }
  void waited_over(const CallMark& c) {
    if (waited.size() >= kWaitedShown) return;
    for (const CallMark& w : waited)
      if (w.seq == c.seq) return;
    waited.push_back(c);
  }
  void retransmitted(CallMark r) {
    for (size_t i = 0; i < recent.size(); ++i) {  // (oldest first)
      const CallMark& c = recent[(next_recent + i) % recent.size()];
      if (c.dur && under(c, r.ts)) waited_over(c);
    }
    if (retrans_ts.size() < kRetransTimes) retrans_ts.push_back(r.ts);
    if (retrans.size() < kRetransShown) retrans.push_back(std::move(r));
  }
  // A call that took time: among the recent ones (for retransmissions seen after it), one under
  // a retransmission seen before it, and the longest so far.
  void called(const Event& ev, uint64_t conn) {
    if (ev.dur == 0) return;
    CallMark& m = recent[next_recent];
    next_recent = (next_recent + 1) % recent.size();
    m = call_mark(ev, conn);
    for (int64_t ts : retrans_ts)
      if (under(m, ts)) {
        waited_over(m);
        break;
      }
    if (ev.dur > dur) dur = ev.dur, call = m;
  }
};

struct Peer {
  Finding f;
  SockAddr addr;
  std::string host;
  uint64_t conns = 0, retrans = 0, retrans_bytes = 0, sent = 0, syn = 0, queued = 0;
  uint64_t timeouts = 0, min_rtt = 0, max_rtt = 0;
  bool loss = false, partial = false, seen = false;  // seen: from retransmission events
  std::vector<std::string> times;  // when they happened (the first few)
};

class Retransmissions : public Rule {
 public:
  std::string_view id() const override { return "retransmissions"; }

  void observe(const Facts& f) override {
    const Connection* c = f.conn;
    if (c == nullptr) return;
    const Event& ev = f.ev;
    if (ev.type() == EventType::tcp_info) {
      slowest_[c->id].reading = call_mark(ev, c->id);
    } else if (ev.type() == EventType::tcp_retransmit) {
      slowest_[c->id].retransmitted(call_mark(ev, c->id));
    } else if (f.dir != Tracker::Dir::None || ev.type() == EventType::connect) {
      slowest_[c->id].called(ev, c->id);
    }
  }

  void on_connection_end(const Connection& c) override {
    Slowest s;
    if (auto it = slowest_.find(c.id); it != slowest_.end()) {
      s = std::move(it->second);
      slowest_.erase(it);
    }
    const TcpStats& t = c.tcp;
    // The kernel engine's events, when there are, count every retransmission at its time.
    const bool seen = t.retransmits != 0;
    if (t.readings == 0 && !seen) return;
    const uint64_t retrans = seen ? t.retrans_segments : t.retrans.value_or(0);
    const uint64_t rbytes = seen ? t.retrans_stream_bytes : t.retrans_bytes.value_or(0);
    const uint64_t sent = t.bytes_sent.value_or(seen ? c.bytes_out : 0);
    const bool loss = retrans >= kMinRetrans &&
                      (sent == 0 || static_cast<double>(rbytes) >= kMinRate * static_cast<double>(sent));
    const bool syn = t.syn_retrans.value_or(0) > 0;
    const uint64_t min_rtt = t.min_rtt.value_or(0);
    const bool queued = min_rtt > 0 && t.max_rtt >= kRttFactor * min_rtt && t.max_rtt >= kMinQueueNs;
    if (!loss && !syn && !queued) return;
    const std::string key = c.remote ? to_string(*c.remote) : std::string("?");
    if (!peers_.count(key) && peers_.size() >= kMaxPeers) return;
    Peer& p = peers_[key];
    if (p.conns++ == 0) {
      p.addr = c.remote.value_or(SockAddr{});
      p.host = c.host;
      p.f.first_ts = c.opened_ts;
      p.min_rtt = min_rtt;
    }
    p.loss |= loss;
    p.seen |= seen;
    p.partial |= !t.final && !seen;
    for (size_t i = 0; i < s.retrans_ts.size() && p.times.size() < kRetransShown; ++i)
      p.times.push_back(fmt::format("+{}", duration_str(static_cast<uint64_t>(
                                               std::max<int64_t>(0, s.retrans_ts[i] - c.opened_ts)))));
    p.retrans += retrans;
    p.retrans_bytes += rbytes;
    p.sent += sent;
    p.syn += t.syn_retrans.value_or(0);
    p.timeouts += t.timeouts.value_or(0);
    if (queued) ++p.queued;
    if (min_rtt && (p.min_rtt == 0 || min_rtt < p.min_rtt)) p.min_rtt = min_rtt;
    p.max_rtt = std::max(p.max_rtt, t.max_rtt);
    add_conn(p.f, c.id);
    if (seen) {
      // The retransmissions themselves, then the calls that waited over them.
      for (const CallMark& r : s.retrans) add_call(p.f.calls, r.ref());
      for (const CallMark& w : s.waited) add_call(p.f.calls, w.ref());
      if (s.waited.empty() && s.dur) add_call(p.f.calls, s.call.ref());
    } else if (s.dur) {
      add_call(p.f.calls, s.call.ref());
    }
    if (s.reading) add_call(p.f.calls, s.reading->ref());
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& [key, p] : peers_) {
      Finding f = p.f;
      f.rule = "retransmissions";
      f.severity = Severity::Warning;
      const std::string ep = key == "?" ? "a peer" : endpoint_str(p.addr, p.host);
      const std::string conns =
          p.conns == 1 ? "a connection" : fmt::format("{} connections", p.conns);
      std::vector<std::string> what;
      if (p.loss) {
        what.push_back(p.sent ? fmt::format("{} retransmissions, {:.1f}% of the bytes sent",
                                            p.retrans, 100.0 * static_cast<double>(p.retrans_bytes) /
                                                           static_cast<double>(p.sent))
                              : fmt::format("{} retransmissions", p.retrans));
      }
      if (p.syn) what.push_back(fmt::format("{} SYN{} sent again", p.syn, p.syn == 1 ? "" : "s"));
      if (p.queued)
        what.push_back(fmt::format("round trips up to {} over a minimum of {}",
                                   duration_str(p.max_rtt), duration_str(p.min_rtt)));
      std::string joined;
      for (size_t i = 0; i < what.size(); ++i) joined += (i ? "; " : "") + what[i];
      f.title = fmt::format("{} to {}: {}", conns, ep, joined);
      f.counts = {{"connections", fmt::format("{}", p.conns)},
                  {"retransmissions", fmt::format("{}", p.retrans)},
                  {"bytes retransmitted", fmt::format("{}", p.retrans_bytes)},
                  {"bytes sent", fmt::format("{}", p.sent)}};
      if (p.syn) f.counts.emplace_back("SYN retransmissions", fmt::format("{}", p.syn));
      if (p.timeouts) f.counts.emplace_back("timeout episodes", fmt::format("{}", p.timeouts));
      if (p.min_rtt) {
        f.counts.emplace_back("min RTT", duration_str(p.min_rtt));
        f.counts.emplace_back("max RTT", duration_str(p.max_rtt));
      }
      if (p.seen) {
        std::string when;
        for (const std::string& t : p.times) when += (when.empty() ? "" : ", ") + t;
        f.counts.emplace_back("first retransmissions",
                              when + " after the connection opened (each seen at its time)");
      }
      if (p.partial)
        f.counts.emplace_back("statistics", "partial: some connections were not read at close");
      if (p.loss) {
        f.meaning = "Segments were lost on the way and sent again: each loss stalls the stream "
                    "for at least a round trip (a timeout: 200 ms or more), which the calls "
                    "listed show as long sends, receives or waits.";
        f.next = "Look for loss on the path: a congested or faulty link, Wi-Fi, a VPN or "
                 "middlebox dropping packets, an MTU black hole (large segments lost, small "
                 "ones not); compare with a capture at both ends.";
      } else if (p.syn) {
        f.meaning = "The connect's first SYN (or its answer) was lost and sent again after a "
                    "timeout: each retransmitted SYN adds one second or more to the connect.";
        f.next = "Check the path to the host and any firewall that drops SYNs (a full SYN "
                 "backlog on a busy server drops them too).";
      } else {
        f.meaning = "The round-trip time rose far above its own minimum: data waited in a queue "
                    "on the way (a saturated link, a deep buffer) rather than being lost.";
        f.next = "Look for a saturated link or a large transfer sharing it, and for a receive "
                 "window too small for the path (the peer's SO_RCVBUF).";
      }
      out.push_back(std::move(f));
    }
  }

 private:
  std::unordered_map<uint64_t, Slowest> slowest_;  // open connections that moved data
  std::map<std::string, Peer> peers_;
};

}  // namespace

std::unique_ptr<Rule> make_retransmissions(const DiagnoseOptions&) {
  return std::make_unique<Retransmissions>();
}

}  // namespace ws::inspect::rules
