// eof-not-handled: a receive returned 0 — the peer closed its side — and the program did not act
// on it: it kept receiving (often a loop spinning on 0), or never closed the socket (which then
// lingers in CLOSE_WAIT).
#include <fmt/format.h>

#include <unordered_map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct EofState {
  CallRef eof_call;
  uint64_t reads_after = 0;
  CallRef first_after;
};

class EofNotHandled : public Rule {
 public:
  std::string_view id() const override { return "eof-not-handled"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr || !c->peer_eof || ev.type() != EventType::recv) return;
    auto it = states_.find(c->id);
    if (it == states_.end()) {
      states_[c->id].eof_call = call_ref(ev, c->id);
      return;
    }
    if (it->second.reads_after++ == 0) it->second.first_after = call_ref(ev, c->id);
  }

  void on_connection_end(const Connection& c) override {
    auto it = states_.find(c.id);
    if (it == states_.end()) return;
    EofState s = std::move(it->second);
    states_.erase(it);
    const bool unclosed = c.end == ConnEnd::NotClosed || c.end == ConnEnd::Open;
    if (s.reads_after == 0 && !unclosed) return;
    if (s.reads_after) {
      if (reads_.calls.empty()) reads_.first_ts = s.eof_call.ts;
      ++read_conns_;
      read_total_ += s.reads_after;
      add_conn(reads_, c.id);
      add_call(reads_.calls, std::move(s.eof_call));
      add_call(reads_.calls, std::move(s.first_after));
    } else {
      if (unclosed_.calls.empty()) unclosed_.first_ts = s.eof_call.ts;
      ++unclosed_conns_;
      add_conn(unclosed_, c.id);
      add_call(unclosed_.calls, std::move(s.eof_call));
    }
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (read_conns_) {
      reads_.rule = "eof-not-handled";
      reads_.severity = Severity::Warning;
      reads_.title = fmt::format("{} kept receiving after the peer closed ({} receives after "
                                 "end-of-stream)",
                                 read_conns_ == 1 ? std::string("a connection")
                                                  : fmt::format("{} connections", read_conns_),
                                 read_total_);
      reads_.counts = {{"connections", fmt::format("{}", read_conns_)},
                       {"receives after end-of-stream", fmt::format("{}", read_total_)}};
      reads_.meaning = "recv() returned 0, which means the peer closed its side for good; every "
                       "further receive returns 0 at once. A loop that does not stop on 0 spins.";
      reads_.next = "Handle recv() == 0 as end-of-stream: stop reading, finish sending if "
                    "needed, then close the socket.";
      out.push_back(reads_);
    }
    if (unclosed_conns_) {
      unclosed_.rule = "eof-not-handled";
      unclosed_.severity = Severity::Warning;
      unclosed_.over_gaps = true;  // a close that was dropped
      unclosed_.title = fmt::format("{} never closed after the peer closed (CLOSE_WAIT)",
                                    unclosed_conns_ == 1
                                        ? std::string("a connection was")
                                        : fmt::format("{} connections were", unclosed_conns_));
      unclosed_.counts = {{"connections", fmt::format("{}", unclosed_conns_)}};
      unclosed_.meaning = "The peer closed, the program saw it (a receive returned 0) but kept "
                          "the socket open: it stays in CLOSE_WAIT and holds a descriptor.";
      unclosed_.next = "Close the socket when a receive returns 0; look for CLOSE_WAIT sockets "
                       "('ss -tan state close-wait', 'netstat -an').";
      out.push_back(unclosed_);
    }
  }

 private:
  std::unordered_map<uint64_t, EofState> states_;  // open connections whose peer closed
  Finding reads_, unclosed_;
  uint64_t read_conns_ = 0, read_total_ = 0, unclosed_conns_ = 0;
};

}  // namespace

std::unique_ptr<Rule> make_eof_not_handled(const DiagnoseOptions&) {
  return std::make_unique<EofNotHandled>();
}

}  // namespace ws::inspect::rules
