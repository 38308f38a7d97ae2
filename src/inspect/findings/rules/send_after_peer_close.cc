// send-after-peer-close: a send failed because the peer had gone (EPIPE, ESHUTDOWN,
// ECONNABORTED/WSAECONNABORTED) — often after a receive had already returned 0, which the
// program did not act on.
#include <fmt/format.h>

#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct AfterCloseState {
  bool eof = false, reported = false;
  bool reset_first = false;  // reset before any end-of-stream: peer-reset tells that story
  CallRef eof_call;
};

class SendAfterPeerClose : public Rule {
 public:
  std::string_view id() const override { return "send-after-peer-close"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr) return;
    const EventType type = ev.type();
    if (type == EventType::recv && ev.error.ok() && ev.result == 0 && c->peer_eof) {
      AfterCloseState& s = states_[c->id];
      if (!s.eof) s.eof = true, s.eof_call = call_ref(ev, c->id);
      return;
    }
    if (ev.error.ok()) return;
    const ErrorClass cls = f.error;
    if (cls == ErrorClass::Reset && type != EventType::send) {
      AfterCloseState& s = states_[c->id];
      if (!s.eof) s.reset_first = true;
      return;
    }
    if (type != EventType::send) return;
    // EPIPE and aborts; a reset too once the peer's end-of-stream was seen (our data after it
    // drew the reset).
    AfterCloseState& s = states_[c->id];
    if (cls == ErrorClass::Reset && !s.eof) s.reset_first = true;
    const bool gone = cls == ErrorClass::PeerGone || cls == ErrorClass::Aborted ||
                      (cls == ErrorClass::Reset && s.eof);
    if (!gone || s.reset_first || s.reported) return;
    s.reported = true;
    ++count_;
    if (s.eof) ++after_eof_;
    add_conn(f_, c->id);
    if (f_.calls.empty()) f_.first_ts = ev.ts;
    if (s.eof) add_call(f_.calls, s.eof_call);
    add_call(f_.calls, call_ref(ev, c->id));
  }

  void on_connection_end(const Connection& c) override { states_.erase(c.id); }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (count_ == 0) return;
    f_.rule = "send-after-peer-close";
    f_.severity = Severity::Error;
    f_.title = fmt::format("sent on {} after the peer had closed it",
                           count_ == 1 ? std::string("a connection")
                                       : fmt::format("{} connections", count_));
    f_.counts = {{"connections", fmt::format("{}", count_)},
                 {"after a receive returned 0", fmt::format("{}", after_eof_)}};
    f_.meaning = after_eof_
                     ? "A receive had already returned 0 (the peer's end-of-stream), yet the "
                       "program kept sending; the peer had closed and the send failed."
                     : "The peer closed its end while we were still sending; the send failed "
                       "with broken pipe / connection aborted.";
    f_.next = "Treat recv() == 0 as 'peer closed': stop sending and close. Check why the peer "
              "closed early (its logs, a request it rejected, an idle or request timeout). On "
              "Linux, a process without MSG_NOSIGNAL or SIGPIPE ignored dies of SIGPIPE here.";
    out.push_back(f_);
  }

 private:
  std::unordered_map<uint64_t, AfterCloseState> states_;
  Finding f_;
  uint64_t count_ = 0, after_eof_ = 0;
};

}  // namespace

std::unique_ptr<Rule> make_send_after_peer_close(const DiagnoseOptions&) {
  return std::make_unique<SendAfterPeerClose>();
}

}  // namespace ws::inspect::rules
