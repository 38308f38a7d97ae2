// ipv6-fallback: a program tried the IPv6 address of a name first, that failed, and the IPv4
// address of the same name then worked — every connect pays for the failed attempt. A warning
// when that adds up to --slow-min; below, worth knowing (info): a refusal on loopback costs
// microseconds.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxKeys = 1024;

struct Failure {
  int64_t first_ts = 0;
  uint64_t count = 0;
  std::vector<uint64_t> conns;
  std::string v6;
  std::string error;
};

class Ipv6Fallback : public Rule {
 public:
  explicit Ipv6Fallback(const DiagnoseOptions& o) : costly_(o.slow_min_ns) {}
  std::string_view id() const override { return "ipv6-fallback"; }

  void on_connection_end(const Connection& c) override {
    if (c.role != ConnRole::Client || !c.remote) return;
    const std::string key = fallback_key(c);
    const bool ok = connect_worked(c);
    if (c.remote->family == af::kInet6 && !ok && c.end == ConnEnd::Error) {
      if (!fails_.count(key) && fails_.size() >= kMaxKeys) return;
      Failure& f = fails_[key];
      if (f.count++ == 0) {
        f.first_ts = c.opened_ts;
        f.v6 = to_string(*c.remote);
        f.error = error_name(c.end_error);
      }
      if (f.conns.size() < kMaxEvidence) f.conns.push_back(c.id);
      return;
    }
    if (c.remote->family != af::kInet || !ok) return;
    auto it = fails_.find(key);
    if (it == fails_.end() || it->second.first_ts > c.opened_ts) return;
    Failure& f = it->second;
    if (!found_.count(key) && found_.size() >= kMaxKeys) return;
    Found& x = found_[key];
    Finding& out = x.f;
    if (x.times++ == 0) {
      out.rule = "ipv6-fallback";
      out.first_ts = f.first_ts;
      out.title = fmt::format("{}: IPv6 {} failed ({}) before IPv4 {} worked", target_of(c), f.v6,
                              f.error, to_string(*c.remote));
      out.meaning = "The name has an IPv6 address (or the client prefers IPv6) but the service "
                    "does not answer on it; every connection first waits for the IPv6 attempt "
                    "to fail.";
      out.next = "Make the server listen on IPv6 too (e.g. [::]:port), or remove the AAAA record "
                 "/ the ::1 entry for the name, or have the client ask for AF_INET.";
    }
    x.failed += f.count;
    const int64_t worked = c.connected_ts ? c.connected_ts : c.opened_ts;
    x.lost += static_cast<uint64_t>(std::max<int64_t>(0, worked - f.first_ts));
    for (uint64_t id : f.conns) add_conn(out, id);
    add_conn(out, c.id);
    fails_.erase(it);
  }

  void finish(const Tracker&, std::vector<Finding>& out) override {
    for (auto& entry : found_) {
      Found& x = entry.second;
      x.f.severity = x.lost >= costly_ ? Severity::Warning : Severity::Info;
      x.f.counts = {{"IPv6 attempts failed", fmt::format("{}", x.failed)},
                    {"fallbacks", fmt::format("{}", x.times)},
                    {"time lost", duration_str(x.lost)}};
      out.push_back(x.f);
    }
  }

 private:
  uint64_t costly_;
  std::map<std::string, Failure> fails_;
  struct Found {
    Finding f;
    uint64_t times = 0, failed = 0, lost = 0;
  };
  std::map<std::string, Found> found_;
};

}  // namespace

std::unique_ptr<Rule> make_ipv6_fallback(const DiagnoseOptions& o) {
  return std::make_unique<Ipv6Fallback>(o);
}

}  // namespace ws::inspect::rules
