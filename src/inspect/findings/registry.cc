#include "registry.h"

#include <fmt/format.h>

#include <map>
#include <set>

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
      {"retransmissions",
       "lost segments, SYNs sent again, or queueing, from the connections' TCP statistics",
       make_retransmissions},
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

void weaken_over_drops(std::vector<Finding>& findings, const LostTracing& lost,
                       const Tracker& tracker) {
  if (lost.dropped() == 0) return;
  std::map<uint32_t, uint64_t> by_pid;  // 0: records of no process named
  for (const auto& [key, d] : lost.drops()) by_pid[d.pid] += d.records;
  for (Finding& f : findings) {
    if (!f.over_gaps) continue;
    std::set<uint32_t> pids;
    if (f.pid) pids.insert(f.pid);
    for (const CallRef& c : f.calls)
      if (c.pid) pids.insert(c.pid);
    uint64_t n = 0;
    std::string who;
    for (uint32_t pid : pids) {
      auto it = by_pid.find(pid);
      if (it == by_pid.end()) continue;
      n += it->second;
      const Process* p = tracker.process(pid);
      who += fmt::format("{}{}[{}]", who.empty() ? "" : ", ", p ? p->name() : "process", pid);
    }
    if (auto it = by_pid.find(0); it != by_pid.end()) {
      n += it->second;
      who += who.empty() ? "some process" : ", some process";
    }
    if (n == 0) continue;
    f.severity = Severity::Info;
    f.title += fmt::format(" — may be due to dropped records ({} of {})", n, who);
    f.counts.emplace_back("records dropped", fmt::format("{}", n));
    f.meaning = "Records of this process were dropped (calls missing from the trace): what this "
                "finding says did not happen may have happened and not been recorded. " +
                f.meaning;
  }
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
