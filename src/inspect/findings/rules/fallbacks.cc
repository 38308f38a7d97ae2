// What the connect rules share about alternatives: the addresses a client tries for one name
// (IPv6 then IPv4, the next address of a lookup) and whether another of them worked.
#include <fmt/format.h>

#include <algorithm>
#include <array>

#include "rules.h"

namespace ws::inspect::rules {
namespace {

constexpr size_t kMaxKeys = 1024;
constexpr size_t kMaxAddrs = 16;  // per key: the addresses of one name

bool is_loopback(const SockAddr& a) {
  if (a.family == af::kInet) return a.ip[0] == 127;
  static constexpr std::array<uint8_t, 16> kV6Loop = {0, 0, 0, 0, 0, 0, 0, 0,
                                                      0, 0, 0, 0, 0, 0, 0, 1};
  return a.family == af::kInet6 && a.ip == kV6Loop;
}

}  // namespace

std::string target_of(const Connection& c) {
  if (!c.host.empty()) return c.host;
  if (is_loopback(*c.remote)) return "(loopback)";
  return ip_string(*c.remote);
}

std::string fallback_key(const Connection& c) {
  return fmt::format("{}|{}|{}", c.pid, target_of(c), c.remote->port);
}

bool connect_worked(const Connection& c) {
  return c.connected_ts != 0 || c.bytes_in || c.bytes_out;
}

void WorkedConnects::add(const Connection& c) {
  if (c.role != ConnRole::Client || !c.remote || !connect_worked(c)) return;
  const std::string key = fallback_key(c);
  if (!by_key_.count(key) && by_key_.size() >= kMaxKeys) return;
  auto& addrs = by_key_[key];
  const std::string addr = to_string(*c.remote);
  if (!addrs.count(addr) && addrs.size() >= kMaxAddrs) return;
  int64_t& latest = addrs[addr];
  latest = std::max(latest, c.opened_ts);
}

void FailedUnder::note(const Connection& c) {
  const std::string key = fallback_key(c);
  if (!keys.count(key) && keys.size() >= kMaxAddrs) {
    overflow = true;
    return;
  }
  int64_t& latest = keys[key];
  latest = std::max(latest, c.opened_ts);
}

std::optional<std::string> WorkedConnects::instead(const FailedUnder& under,
                                                   const SockAddr& failed) const {
  if (under.overflow || under.keys.empty()) return std::nullopt;
  const std::string self = to_string(failed);
  std::optional<std::string> found;
  for (const auto& [key, ts] : under.keys) {
    auto it = by_key_.find(key);
    if (it == by_key_.end()) return std::nullopt;
    std::optional<std::string> here;
    for (const auto& [addr, latest] : it->second)
      if (addr != self && latest >= ts) here = addr;
    if (!here) return std::nullopt;
    if (!found) found = here;
  }
  return found;
}

}  // namespace ws::inspect::rules
