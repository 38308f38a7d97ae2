#include "registry.h"

#include <fmt/format.h>

#include "rules/rules.h"

namespace ws::inspect {

std::span<const RuleInfo> all_rules() {
  using namespace rules;
  static const RuleInfo kRules[] = {
      {"connect-failed", "repeated connect failures to one endpoint: refused, timed out, unreachable",
       make_connect_failed},
      {"connect-timeout",
       "non-blocking connects given up (closed) with no answer: the program's own timeout",
       make_connect_timeout},
      {"ipv6-fallback", "an IPv6 address tried first and failing while IPv4 works",
       make_ipv6_fallback},
      {"peer-reset", "connections reset by the peer, and whether data we sent was left unread",
       make_peer_reset},
      {"send-after-peer-close", "sends failing because the peer had closed",
       make_send_after_peer_close},
      {"eof-not-handled", "end-of-stream (recv returning 0) not acted on", make_eof_not_handled},
      {"lookup-failed", "name resolution failures, with the name and the family asked",
       make_lookup_failed},
      {"slow-lookup", "name lookups that took long", make_slow_lookup},
      {"long-gap", "long silences between calls on one connection", make_long_gap},
      {"small-writes", "small sends followed by a read that waits (Nagle and delayed ACK)",
       make_small_writes},
      {"slow-call", "connects, lookups and first bytes much slower than the trace's own median",
       make_slow_call},
      {"busy-wait", "loops retrying on EWOULDBLOCK/EAGAIN without waiting", make_busy_wait},
      {"nonblocking-connect", "non-blocking connects whose failure shows only in SO_ERROR",
       make_nonblocking_connect},
      {"not-closed", "sockets never closed before their process ended", make_not_closed},
      {"winsock-not-initialised", "Winsock used before WSAStartup or after WSACleanup",
       make_winsock_not_initialised},
      {"tracing-lost", "processes wstrace could not follow (exec, child) and records it dropped",
       make_tracing_lost},
  };
  return kRules;
}

std::vector<std::unique_ptr<Rule>> make_rules(const DiagnoseOptions& options) {
  std::vector<std::unique_ptr<Rule>> out;
  for (const RuleInfo& r : all_rules()) out.push_back(r.make(options));
  return out;
}

namespace rules {

uint64_t field_or(const Event& ev, FieldId id, uint64_t dflt) {
  const Value* v = ev.get(id);
  return v ? v->num : dflt;
}

bool is_tcp(const Connection& c) {
  if (c.proto == proto::kTcp) return true;
  return c.type == socktype::kStream && (c.family == af::kInet || c.family == af::kInet6);
}

CallRef lookup_ref(const Lookup& l) {
  CallRef r;
  r.seq = l.seq;
  r.ts = l.ts;
  r.pid = l.pid;
  r.tid = l.tid;
  r.conn = l.conn;
  r.text = fmt::format("{}(\"{}\"{}) = {}", l.via, l.name, l.asked.empty() ? "" : ", " + l.asked,
                       l.result);
  if (l.answered) r.text += fmt::format(" [{}]", duration_str(l.dur));
  return r;
}

}  // namespace rules
}  // namespace ws::inspect
