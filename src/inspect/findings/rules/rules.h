// The factories of the finding rules, one file each (registry.cc lists them).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include "../rule.h"

namespace ws::inspect::rules {

std::unique_ptr<Rule> make_connect_failed(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_ipv6_fallback(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_peer_reset(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_send_after_peer_close(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_eof_not_handled(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_lookup_failed(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_slow_lookup(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_long_gap(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_small_writes(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_slow_call(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_busy_wait(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_nonblocking_connect(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_not_closed(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_winsock_not_initialised(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_tracing_lost(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_connect_timeout(const DiagnoseOptions& o);
std::unique_ptr<Rule> make_retransmissions(const DiagnoseOptions& o);

// Helpers the rules share.
// The endpoints (or groups of them) a rule keeps apart, at most: past it, new ones are not
// counted, so that a trace of many peers cannot make a rule's memory grow without bound.
constexpr size_t kMaxEndpoints = 1024;
// The value of a numeric field, or `dflt` when the event lacks it.
uint64_t field_or(const Event& ev, FieldId id, uint64_t dflt);
// Whether `c` is a stream connection over IP (where TCP behaviour applies).
bool is_tcp(const Connection& c);
// The evidence line of a lookup: 'getaddrinfo("name", AF_UNSPEC) = EAI_NONAME [30.0 ms]'.
CallRef lookup_ref(const Lookup& l);

// Alternatives (fallbacks.cc). A client connection (with a remote address) goes to a name: the
// looked-up host, else "(loopback)", else its own IP.
std::string target_of(const Connection& c);
// "pid|name|port": connects of one process under one key are alternatives of each other — IPv6
// and IPv4 of a name, the addresses of one lookup (happy eyeballs).
std::string fallback_key(const Connection& c);
// The connect was done: SO_ERROR or a completion said so, or data moved.
bool connect_worked(const Connection& c);

// The fallback keys the failed connects to one endpoint went under, with the latest start
// under each (at most 16 keys).
struct FailedUnder {
  std::map<std::string, int64_t> keys;
  bool overflow = false;  // more keys than were kept
  void note(const Connection& c);
};

// The client connections that worked, per fallback key and address (the latest start of each;
// at most 1024 keys of 16 addresses): whether another address of the same name worked after
// one failed.
class WorkedConnects {
 public:
  void add(const Connection& c);  // ignores connections that did not work
  // An address other than `failed` that worked after every failure of `under`, under the same
  // key (a fallback, happy eyeballs); nullopt when some failure had none.
  std::optional<std::string> instead(const FailedUnder& under, const SockAddr& failed) const;

 private:
  std::map<std::string, std::map<std::string, int64_t>> by_key_;
};

}  // namespace ws::inspect::rules
