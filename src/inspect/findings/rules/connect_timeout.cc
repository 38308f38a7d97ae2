// connect-timeout: a connect that did not finish at once (EINPROGRESS, WSAEWOULDBLOCK, a pending
// ConnectEx) and that the program gave up on: the socket was closed, or its process ended, with
// no sign that the connect ever completed — no data moved, no getsockopt(SO_ERROR), no
// completion, no poll/select reporting the socket writable or in error. That is the program's
// own connect timeout (curl --connect-timeout, a socket timeout in python) running out while
// nothing answered; the kernel's ETIMEDOUT is connect-failed's. One closed within a millisecond
// was not waited for.
#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <unordered_map>

#include "error_class.h"
#include "event_builder.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

// A connect closed sooner than this after it started was not waited for: the program dropped
// it (a race another attempt won, a cancelled request), no timeout ran out.
constexpr int64_t kMinWait = 1'000'000;

// poll/select results that say a connect is over (writable: connected; error or hang-up: failed).
constexpr uint64_t kDone = pollev::kOut | pollev::kWrnorm | pollev::kErr | pollev::kHup;

struct Attempt {
  CallRef connect;
  std::optional<CallRef> close;  // the call that gave it up
};

struct Endpoint {
  SockAddr addr;
  std::string host;
  Finding f;
  uint64_t given_up = 0, connected = 0, longest = 0;
  FailedUnder under;
};

class ConnectTimeout : public Rule {
 public:
  std::string_view id() const override { return "connect-timeout"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    if (ev.type() == EventType::poll) {
      if (!attempts_.empty()) on_poll(ev);
      return;
    }
    const Connection* c = f.conn;
    if (c == nullptr) return;
    auto it = attempts_.find(c->id);
    if (ev.type() == EventType::connect && it == attempts_.end()) {
      const ErrorClass cls = f.error;
      if ((cls == ErrorClass::InProgress || cls == ErrorClass::WouldBlock ||
           cls == ErrorClass::Pending) &&
          is_tcp(*c)) {
        attempts_[c->id].connect = call_ref(ev, c->id);
        socks_[{ev.pid, c->sock}] = c->id;
      }
      return;
    }
    if (it == attempts_.end()) return;
    if (ev.type() == EventType::close) {
      it->second.close = call_ref(ev, c->id);
      return;
    }
    // Any word on the outcome: the connect asked again and answered, SO_ERROR read, a
    // completion, data moved, an error met.
    const bool outcome =
        (ev.type() == EventType::connect && !is_transient(f.error)) ||
        (ev.func == FuncId::getsockopt && ev.error.ok() &&
         field_or(ev, FieldId::optname, 0) == sockopt::kSoError) ||
        c->connected_ts != 0 || f.moved > 0 || (!ev.error.ok() && !is_transient(f.error));
    if (outcome) forget(it);
  }

  void on_connection_end(const Connection& c) override {
    works_.add(c);
    auto it = attempts_.find(c.id);
    if (it == attempts_.end()) {
      if (c.remote && connect_worked(c))
        if (auto e = eps_.find(to_string(*c.remote)); e != eps_.end()) ++e->second.connected;
      return;
    }
    Attempt a = std::move(it->second);
    forget(it);
    // Still waiting when the trace ended, or failed with an error of its own: not given up.
    if (c.role != ConnRole::Client || !c.remote || connect_worked(c) || c.end == ConnEnd::Open ||
        c.end == ConnEnd::Error || c.end == ConnEnd::Reset)
      return;
    if (c.closed_ts - a.connect.ts < kMinWait) return;
    const std::string ep = to_string(*c.remote);
    if (!eps_.count(ep) && eps_.size() >= kMaxEndpoints) return;
    Endpoint& e = eps_[ep];
    if (e.given_up++ == 0) {
      e.addr = *c.remote;
      e.host = c.host;
      e.f.first_ts = a.connect.ts;
    }
    const auto waited = static_cast<uint64_t>(std::max<int64_t>(0, c.closed_ts - a.connect.ts));
    e.longest = std::max(e.longest, waited);
    e.under.note(c);
    add_conn(e.f, c.id);
    if (e.f.calls.size() + 2 <= kMaxEvidence + 1) {
      CallRef end = a.close ? std::move(*a.close) : CallRef{};
      if (!a.close) {
        end.ts = c.closed_ts, end.pid = c.pid, end.conn = c.id;
        end.text = "(its process ended)";
      }
      end.text += fmt::format(" … given up {} after the connect", duration_str(waited));
      e.f.calls.push_back(std::move(a.connect));
      e.f.calls.push_back(std::move(end));
    }
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& [ep, e] : eps_) {
      const std::optional<std::string> fallback = works_.instead(e.under, e.addr);
      Finding f = e.f;
      f.rule = "connect-timeout";
      f.over_gaps = true;  // a completion, a writable poll that was dropped
      f.severity = fallback ? Severity::Info : e.connected ? Severity::Warning : Severity::Error;
      const std::string where = endpoint_str(e.addr, e.host);
      const std::string n =
          e.given_up == 1 ? "a connect" : fmt::format("{} connects", e.given_up);
      f.title = fmt::format("{} to {} given up after {}{}: no answer (connect timeout)", n, where,
                            e.given_up == 1 ? "" : "up to ", duration_str(e.longest));
      if (fallback) f.title += fmt::format("; {} of the same name worked", *fallback);
      f.counts = {{"given up", fmt::format("{}", e.given_up)},
                  {"longest wait", duration_str(e.longest)}};
      if (e.connected) f.counts.emplace_back("connected later", fmt::format("{}", e.connected));
      if (fallback) f.counts.emplace_back("worked instead", *fallback);
      f.meaning = fallback
                      ? "The program tried this address and, while nothing answered, another "
                        "address of the same name (IPv4 after IPv6, the next address of a lookup) "
                        "and used that one: not a failure of the program, but this address does "
                        "not answer."
                      : "connect() returned 'in progress' and nothing came back — no answer, no "
                        "refusal — until the program's own connect timeout ran out and it closed "
                        "the socket: the host is down, a firewall drops the packets silently, or "
                        "the route to it is broken.";
      f.next = "Check that the host is up and listening on that port, the route and any "
               "firewall between (a silent drop looks exactly like this), the address the name "
               "resolved to, and whether the program's connect timeout is too short for the path.";
      out.push_back(std::move(f));
    }
  }

 private:
  void forget(std::unordered_map<uint64_t, Attempt>::iterator it) {
    const uint64_t id = it->first;
    attempts_.erase(it);
    std::erase_if(socks_, [id](const auto& s) { return s.second == id; });
  }

  // A wait that reported a socket under connect as writable or in error: the connect is over.
  void on_poll(const Event& ev) {
    const Value* fds = ev.get(FieldId::fds);
    if (fds == nullptr || !ev.error.ok() || ev.result <= 0 || !decode_poll_list(fds->bytes(), polls_))
      return;
    for (const PollEntry& p : polls_) {
      // (A Windows select answers a failed connect in its except set: POLLRDBAND.)
      const uint64_t done = kDone | (ev.func == FuncId::select ? pollev::kRdband : 0);
      if (!(p.revents & done)) continue;
      auto s = socks_.find({ev.pid, p.sock});
      if (s == socks_.end()) continue;
      if (auto it = attempts_.find(s->second); it != attempts_.end()) forget(it);
    }
  }

  std::unordered_map<uint64_t, Attempt> attempts_;  // open connections with a connect under way
  std::map<std::pair<uint32_t, uint64_t>, uint64_t> socks_;  // (pid, socket) of those → their id
  std::vector<PollEntry> polls_;
  std::map<std::string, Endpoint> eps_;
  WorkedConnects works_;
};

}  // namespace

std::unique_ptr<Rule> make_connect_timeout(const DiagnoseOptions&) {
  return std::make_unique<ConnectTimeout>();
}

}  // namespace ws::inspect::rules
