// The factories of the finding rules, one file each (registry.cc lists them).
#pragma once

#include <memory>

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

// Helpers the rules share.
// The value of a numeric field, or `dflt` when the event lacks it.
uint64_t field_or(const Event& ev, FieldId id, uint64_t dflt);
// Whether `c` is a stream connection over IP (where TCP behaviour applies).
bool is_tcp(const Connection& c);
// The evidence line of a lookup: 'getaddrinfo("name", AF_UNSPEC) = EAI_NONAME [30.0 ms]'.
CallRef lookup_ref(const Lookup& l);

}  // namespace ws::inspect::rules
