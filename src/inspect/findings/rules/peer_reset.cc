// peer-reset: connections the peer reset (ECONNRESET/WSAECONNRESET on a send or receive), with
// the bytes we had sent since the last data we received: a peer that closes while data it never
// read sits in its receive buffer answers with a reset instead of a normal close.
#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct ResetState {
  uint64_t since_in = 0;     // bytes sent after the last bytes received
  bool reset = false;
  bool after_eof = false;    // on a send after end-of-stream: send-after-peer-close's story
  uint64_t unread = 0;       // since_in when the reset showed
  CallRef call;
};

struct Group {
  Finding f;
  SockAddr addr;
  std::string host;
  uint64_t resets = 0, with_unread = 0, unread = 0, during_send = 0;
};

class PeerReset : public Rule {
 public:
  std::string_view id() const override { return "peer-reset"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr) return;
    const bool ok = f.moved > 0;
    if (f.dir == Tracker::Dir::Out && ok) {
      states_[c->id].since_in += f.moved;
    } else if (f.dir == Tracker::Dir::In && ok) {
      auto it = states_.find(c->id);
      if (it != states_.end()) it->second.since_in = 0;
    } else if (!ev.error.ok() && f.error == ErrorClass::Reset) {
      ResetState& s = states_[c->id];
      if (s.reset) return;
      s.reset = true;
      s.after_eof = c->peer_eof && ev.type() == EventType::send;
      s.unread = s.since_in;
      s.call = call_ref(ev, c->id);
    }
  }

  void on_connection_end(const Connection& c) override {
    auto it = states_.find(c.id);
    if (it == states_.end()) return;
    ResetState s = std::move(it->second);
    states_.erase(it);
    if (!s.reset || s.after_eof) return;
    const std::string key = c.remote ? to_string(*c.remote) : std::string("?");
    if (!groups_.count(key) && groups_.size() >= kMaxEndpoints) return;
    Group& g = groups_[key];
    if (g.resets++ == 0) {
      g.addr = c.remote.value_or(SockAddr{});
      g.host = c.host;
      g.f.first_ts = s.call.ts;
    }
    if (s.unread) ++g.with_unread, g.unread += s.unread;
    if (s.call.text.rfind("send", 0) == 0 || s.call.text.rfind("write", 0) == 0 ||
        s.call.text.rfind("WSASend", 0) == 0)
      ++g.during_send;
    add_conn(g.f, c.id);
    add_call(g.f.calls, std::move(s.call));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& entry : groups_) {
      Group& g = entry.second;
      Finding f = g.f;
      f.rule = "peer-reset";
      f.severity = Severity::Error;
      const std::string ep = entry.first == "?" ? "the peer" : endpoint_str(g.addr, g.host);
      f.title = g.resets == 1 ? fmt::format("a connection to {} was reset by the peer", ep)
                              : fmt::format("{} connections to {} were reset by the peer",
                                            g.resets, ep);
      f.counts = {{"resets", fmt::format("{}", g.resets)},
                  {"on a send", fmt::format("{}", g.during_send)}};
      if (g.with_unread) {
        f.counts.emplace_back("with data sent since our last receive",
                              fmt::format("{} ({} bytes)", g.with_unread, g.unread));
        f.meaning = "The peer closed the connection abortively. We had sent data after the last "
                    "data we received: a peer that closes with unread data in its receive buffer "
                    "sends a reset instead of a normal close, so it most likely never read what "
                    "we sent last (it gave up, crashed, or did not expect that data).";
        f.next = "Check the peer's logs for why it closed: a request it rejected, a size or time "
                 "limit, a protocol mismatch (e.g. plain text to a TLS port, or a request after "
                 "it answered 'Connection: close').";
      } else {
        f.meaning = "The peer closed the connection abortively (SO_LINGER 0, a crash, a "
                    "firewall or load balancer dropping an idle connection).";
        f.next = "Check the peer's logs and any proxy, load balancer or firewall idle timeouts "
                 "between; if the connection was idle, use keep-alives or reconnect on reset.";
      }
      out.push_back(std::move(f));
    }
  }

 private:
  std::unordered_map<uint64_t, ResetState> states_;  // open connections that moved data or failed
  std::map<std::string, Group> groups_;
};

}  // namespace

std::unique_ptr<Rule> make_peer_reset(const DiagnoseOptions&) {
  return std::make_unique<PeerReset>();
}

}  // namespace ws::inspect::rules
