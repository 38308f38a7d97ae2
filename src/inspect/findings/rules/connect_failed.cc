// connect-failed: connects to one endpoint that failed, told apart by what the failure says:
// refused (the host answered: nothing listens on that port) versus timed out or unreachable
// (the host or the path to it is down). A failure that the program got past by connecting to
// another address of the same name (IPv6 then IPv4, the next address of a lookup: happy
// eyeballs) is told as info: the run went on as it should.
#include <fmt/format.h>

#include <map>
#include <unordered_map>

#include "error_class.h"
#include "rules.h"

namespace ws::inspect::rules {
namespace {

struct Endpoint {
  SockAddr addr;
  std::string host;
  Finding f;
  uint64_t refused = 0, timed_out = 0, unreachable = 0, other = 0, connected = 0;
  FailedUnder under;
};

class ConnectFailed : public Rule {
 public:
  explicit ConnectFailed(const DiagnoseOptions& o) : min_(o.connect_failures) {}
  std::string_view id() const override { return "connect-failed"; }

  void observe(const Facts& f) override {
    const Event& ev = f.ev;
    const Connection* c = f.conn;
    // (The C library's own attempts inside a lookup — nscd's socket where no nscd runs — are
    // its business, not a failure of the program's.)
    if (c == nullptr || c->nested || (ev.error.ok() && ev.func != FuncId::getsockopt)) return;
    // The connect's own failure, or — when the program never asked SO_ERROR — the first call
    // that met it.
    const bool failed_connect = !ev.error.ok() && !is_transient(f.error) &&
                                (ev.type() == EventType::connect ||
                                 (c->role == ConnRole::Client && c->connected_ts == 0));
    const bool so_error = ev.func == FuncId::getsockopt &&
                          field_or(ev, FieldId::optname, 0) == sockopt::kSoError &&
                          field_or(ev, FieldId::optval, 0) != 0;
    if ((failed_connect || so_error) && !last_.count(c->id)) last_[c->id] = call_ref(ev, c->id);
  }

  void on_connection_end(const Connection& c) override {
    works_.add(c);
    auto it = last_.find(c.id);
    std::optional<CallRef> call;
    if (it != last_.end()) call = std::move(it->second), last_.erase(it);
    if (c.role != ConnRole::Client || !c.remote || c.nested) return;
    const std::string key = to_string(*c.remote);
    if (c.connected_ts != 0 || c.bytes_in || c.bytes_out) {
      auto e = eps_.find(key);
      if (e != eps_.end()) ++e->second.connected;
      return;
    }
    if (c.end != ConnEnd::Error) return;
    if (!eps_.count(key) && eps_.size() >= kMaxEndpoints) return;
    Endpoint& e = eps_[key];
    if (e.f.conns.empty() && e.f.more_conns == 0) {
      e.addr = *c.remote;
      e.host = c.host;
      e.f.first_ts = call ? call->ts : c.opened_ts;
    }
    switch (classify(c.end_error)) {
      case ErrorClass::Refused: ++e.refused; break;
      case ErrorClass::TimedOut: ++e.timed_out; break;
      case ErrorClass::Unreachable: ++e.unreachable; break;
      default: ++e.other; break;
    }
    e.under.note(c);
    add_conn(e.f, c.id);
    if (call) add_call(e.f.calls, std::move(*call));
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& entry : eps_) {
      Endpoint& e = entry.second;
      const uint64_t failed = e.refused + e.timed_out + e.unreachable + e.other;
      if (failed < min_) continue;
      Finding f = e.f;
      f.rule = "connect-failed";
      const std::optional<std::string> fallback = works_.instead(e.under, e.addr);
      f.severity = fallback ? Severity::Info : e.connected ? Severity::Warning : Severity::Error;
      const std::string ep = endpoint_str(e.addr, e.host);
      const std::string n = failed == 1 ? "a connect" : fmt::format("{} connects", failed);
      if (e.refused >= e.timed_out + e.unreachable && e.refused) {
        f.title = fmt::format("{} to {} refused: nothing listening there", n, ep);
        f.meaning = "The host answered but no program was listening on that port (or a firewall "
                    "rejected the connection actively). The network path itself works.";
        f.next = "Check that the server is running and listening on this address and port "
                 "('ss -ltnp' / 'netstat -ano'), on this address family (IPv4 vs IPv6), and "
                 "that the client uses the right port.";
      } else if (e.timed_out >= e.unreachable) {
        f.title = fmt::format("{} to {} timed out: host or path down", n, ep);
        f.meaning = "Nothing answered at all: the host is down, or a firewall drops the packets "
                    "silently, or the route to it is broken.";
        f.next = "Check that the host is up ('ping'), the route and any firewall between "
                 "(a silent drop looks exactly like this), and the address the name resolved to.";
      } else {
        f.title = fmt::format("{} to {} failed: host or network unreachable", n, ep);
        f.meaning = "The local stack or a router said there is no route to that host or network.";
        f.next = "Check the address, the routing table and the interface state ('ip route', "
                 "'route print'), and VPN or firewall rules.";
      }
      f.counts = {{"failed", fmt::format("{}", failed)}};
      if (e.refused) f.counts.emplace_back("refused", fmt::format("{}", e.refused));
      if (e.timed_out) f.counts.emplace_back("timed out", fmt::format("{}", e.timed_out));
      if (e.unreachable) f.counts.emplace_back("unreachable", fmt::format("{}", e.unreachable));
      if (e.other) f.counts.emplace_back("other errors", fmt::format("{}", e.other));
      if (e.connected) f.counts.emplace_back("connected later", fmt::format("{}", e.connected));
      if (fallback) {
        f.title += fmt::format("; {} of the same name worked", *fallback);
        f.counts.emplace_back("worked instead", *fallback);
        f.meaning += " The program then connected to another address of the same name (IPv4 "
                     "after IPv6, the next address of a lookup) and that worked: the run went on "
                     "as it should, each connection paying for the failed attempt.";
      }
      out.push_back(std::move(f));
    }
  }

 private:
  uint64_t min_;
  std::unordered_map<uint64_t, CallRef> last_;  // open connections: their first failed call
  std::map<std::string, Endpoint> eps_;
  WorkedConnects works_;
};

}  // namespace

std::unique_ptr<Rule> make_connect_failed(const DiagnoseOptions& o) {
  return std::make_unique<ConnectFailed>(o);
}

}  // namespace ws::inspect::rules
