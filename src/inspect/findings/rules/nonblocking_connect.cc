// nonblocking-connect: a connect that returned EINPROGRESS (WSAEWOULDBLOCK on Windows) and then
// failed. The failure shows only in getsockopt(SO_ERROR) — or, when the program never asked,
// in the next send or receive, far from its cause — or nowhere at all.
#include <fmt/format.h>

#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct ConnectState {
  CallRef start;
  bool asked = false;  // getsockopt(SO_ERROR) was called
};

class NonblockingConnect : public Rule {
 public:
  std::string_view id() const override { return "nonblocking-connect"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    if (c == nullptr) return;
    if (ev.type() == EventType::connect) {
      const ErrorClass cls = f.error;
      if ((cls == ErrorClass::InProgress || cls == ErrorClass::WouldBlock) &&
          !states_.count(c->id))
        states_[c->id].start = call_ref(ev, c->id);
      return;
    }
    auto it = states_.find(c->id);
    if (it == states_.end()) return;
    ConnectState& s = it->second;
    if (ev.func == FuncId::getsockopt && field_or(ev, FieldId::optname, 0) == sockopt::kSoError &&
        ev.error.ok()) {
      s.asked = true;
      if (field_or(ev, FieldId::optval, 0) != 0) {
        add(so_error_, so_error_n_, s.start, call_ref(ev, c->id), c->id);
        states_.erase(it);
      } else if (c->connected_ts) {
        states_.erase(it);
      }
      return;
    }
    if (ev.type() != EventType::send && ev.type() != EventType::recv) return;
    if (ev.error.ok()) {
      if (ev.result > 0) states_.erase(it);  // it connected
      return;
    }
    const ErrorClass cls = f.error;
    if (is_transient(cls)) return;
    if (!s.asked) add(unchecked_, unchecked_n_, s.start, call_ref(ev, c->id), c->id);
    states_.erase(it);
  }

  void on_connection_end(const Connection& c) override { states_.erase(c.id); }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    if (so_error_n_) {
      Finding& f = so_error_;
      f.rule = "nonblocking-connect";
      f.severity = Severity::Info;
      f.title = fmt::format("{} non-blocking connect{} failed; the error showed only in SO_ERROR",
                            so_error_n_, so_error_n_ == 1 ? "" : "s");
      f.counts = {{"connects", fmt::format("{}", so_error_n_)}};
      f.meaning = "connect() returned 'in progress' and the real outcome (refused, timed out…) "
                  "arrived later, in getsockopt(SO_ERROR): the connect call itself looks fine "
                  "in a trace or a log.";
      f.next = "Look at the SO_ERROR value (shown above) for the real error; make sure the "
               "program reports it rather than a generic 'connection failed'.";
      out.push_back(f);
    }
    if (unchecked_n_) {
      Finding& f = unchecked_;
      f.rule = "nonblocking-connect";
      f.severity = Severity::Warning;
      f.over_gaps = true;  // a getsockopt(SO_ERROR) that was dropped
      f.title = fmt::format("{} non-blocking connect{} failed unnoticed: the program never read "
                            "SO_ERROR and met the error on a later call",
                            unchecked_n_, unchecked_n_ == 1 ? "" : "s");
      f.counts = {{"connects", fmt::format("{}", unchecked_n_)}};
      f.meaning = "After connect() returned 'in progress' the program went on to send or "
                  "receive without checking the outcome; the connect's failure surfaced there, "
                  "as an error that seems to have nothing to do with connecting.";
      f.next = "After poll/select reports the socket writable, read getsockopt(SO_ERROR) and "
               "treat a non-zero value as the connect's failure.";
      out.push_back(f);
    }
  }

 private:
  static void add(Finding& f, uint64_t& n, CallRef start, CallRef seen, uint64_t conn) {
    if (n++ == 0) f.first_ts = start.ts;
    add_conn(f, conn);
    if (f.calls.size() + 2 <= kMaxEvidence + 1) {
      f.calls.push_back(std::move(start));
      f.calls.push_back(std::move(seen));
    }
  }
  std::unordered_map<uint64_t, ConnectState> states_;  // open connections with a connect under way
  Finding so_error_, unchecked_;
  uint64_t so_error_n_ = 0, unchecked_n_ = 0;
};

}  // namespace

std::unique_ptr<Rule> make_nonblocking_connect(const DiagnoseOptions&) {
  return std::make_unique<NonblockingConnect>();
}

}  // namespace ws::inspect::rules
