// Name lookups, from two sources: the resolver calls the program made (getaddrinfo,
// GetAddrInfoW, gethostbyname, DnsQuery_*, res_query …) and DNS messages seen in the payloads of
// UDP or TCP port 53 (programs with their own resolver, or the resolver library's own packets).
// A query and its response (same connection, same DNS id) make one lookup.
//
// The names found also teach the tracker what remote addresses are called (Tracker::learn_host).
// Memory: queries waiting for their response, at most kMaxWaiting (oldest dropped, reported as
// unanswered), and per TCP connection to port 53 the unfinished frame.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <span>
#include <string>
#include <vector>

#include "event.h"
#include "tracker.h"

namespace ws::decode {
struct DnsMessage;
}

namespace ws::inspect {

struct Lookup {
  bool packet = false;       // from DNS messages in payloads, not a resolver call
  uint64_t seq = 0;          // the call (or the query's send)
  int64_t ts = 0;
  uint64_t dur = 0;          // call duration, or query-to-response time
  uint32_t pid = 0, tid = 0;
  uint64_t conn = 0;         // packets: the connection that carried them
  std::string via;           // "getaddrinfo", "DnsQuery_W", "udp", "tcp"
  std::string name;          // the name asked (or the address, for reverse lookups)
  std::string service;
  std::string asked;         // "AF_UNSPEC", "AF_INET6", "A", "AAAA" …
  std::vector<std::string> answers;  // "127.0.0.1", "2001:db8::1", "CNAME x.example"
  bool ok = false;
  std::string result;        // "ok", the error name, or the DNS rcode ("NXDOMAIN")
  std::string meaning;       // what the error means, when there is one
  uint16_t dns_id = 0;       // packets
  bool answered = true;      // packets: false when no response was seen
};

class LookupWatcher {
 public:
  static constexpr size_t kMaxWaiting = 4096;
  explicit LookupWatcher(Tracker& tracker) : tracker_(tracker) {}
  // Each lookup as it completes (a call at once; a query when its response arrives).
  std::function<void(const Lookup&)> on_lookup;
  // Call after tracker.observe(ev) for every event.
  void observe(const Event& ev);
  // Queries never answered, as lookups with answered = false.
  void finish();

 private:
  void from_call(const Event& ev);
  // `p`: the event's payload; `by_content`: a UDP flow off port 53 taken for DNS by what it
  // carries (is_dns_flow).
  void from_payload(const Event& ev, const Connection& c, const Value& p, bool out,
                    bool by_content);
  void message(const Event& ev, const Connection& c, std::span<const uint8_t> bytes, bool whole,
               bool tcp, bool by_content);
  bool is_dns_flow(const Connection& c, const Value& payload);
  void learn(const decode::DnsMessage& m, const std::string& name);
  Tracker& tracker_;
  struct WaitKey {
    uint64_t conn;
    uint16_t id;
    auto operator<=>(const WaitKey&) const = default;
  };
  std::map<WaitKey, Lookup> waiting_;
  std::map<uint64_t, std::string> tcp_buf_;  // per connection and direction: unfinished frame
  // UDP flows off port 53: whether each carries DNS, as its first datagram with data says.
  std::unordered_map<uint64_t, bool> by_content_;
};

}  // namespace ws::inspect
