#include "finding.h"

#include <algorithm>

#include <fmt/format.h>

#include "constants.h"

namespace ws::inspect {

std::string_view severity_name(Severity s) {
  switch (s) {
    case Severity::Error: return "error";
    case Severity::Warning: return "warning";
    case Severity::Info: return "info";
  }
  return "info";
}

std::optional<Severity> parse_severity(std::string_view text) {
  for (Severity s : {Severity::Info, Severity::Warning, Severity::Error})
    if (severity_name(s) == text) return s;
  return std::nullopt;
}

std::string duration_str(uint64_t ns) {
  if (ns >= 1'000'000'000) return fmt::format("{:.2f} s", static_cast<double>(ns) / 1e9);
  if (ns >= 1'000'000) return fmt::format("{:.1f} ms", static_cast<double>(ns) / 1e6);
  if (ns >= 1'000) return fmt::format("{} µs", ns / 1000);
  return fmt::format("{} ns", ns);
}

std::string endpoint_str(const SockAddr& a, std::string_view host) {
  std::string s = to_string(a);
  if (!host.empty()) s += fmt::format(" ({})", host);
  return s;
}

namespace {

// The arguments worth showing in evidence: the socket and an address.
std::string args_text(const Event& ev) {
  std::string s;
  if (const Value* v = ev.get(FieldId::sock)) s = fmt::format("sock={}", v->num);
  for (FieldId id : {FieldId::addr, FieldId::peer}) {
    const Value* v = ev.get(id);
    SockAddr a;
    if (v == nullptr || !decode_addr(v->bytes(), a)) continue;
    s += (s.empty() ? "" : ", ") + to_string(a);
    break;
  }
  if (const Value* v = ev.get(FieldId::host))
    s += fmt::format("{}\"{}\"", s.empty() ? "" : ", ", v->bytes().substr(0, 80));
  if (const Value* v = ev.get(FieldId::len); v && ev.type() != EventType::lookup)
    s += fmt::format(", len={}", v->num);
  if (ev.func == FuncId::getsockopt || ev.func == FuncId::setsockopt) {
    if (const Value* v = ev.get(FieldId::optname))
      s += ", " + code_name(ConstTable::SockOpt, v->num);
    if (const Value* v = ev.get(FieldId::optval))
      s += fmt::format(", val={}", static_cast<int64_t>(v->num));
  }
  return s;
}

}  // namespace

CallRef call_ref(const Event& ev, uint64_t conn) {
  CallRef r;
  r.seq = ev.seq;
  r.ts = ev.ts;
  r.pid = ev.pid;
  r.tid = ev.tid;
  r.conn = conn;
  r.text = fmt::format("{}({}) = {}", func_def(ev.func).name, args_text(ev), ev.result);
  if (!ev.error.ok()) r.text += " " + error_name(ev.error);
  if (ev.dur >= 1000) r.text += fmt::format(" [{}]", duration_str(ev.dur));
  return r;
}

void add_conn(Finding& f, uint64_t id) {
  if (std::find(f.conns.begin(), f.conns.end(), id) != f.conns.end()) return;
  if (f.conns.size() < kMaxEvidence) f.conns.push_back(id);
  else ++f.more_conns;
}

void add_call(std::vector<CallRef>& calls, CallRef c) {
  if (calls.size() < kMaxEvidence) calls.push_back(std::move(c));
}

void sort_findings(std::vector<Finding>& findings) {
  std::stable_sort(findings.begin(), findings.end(), [](const Finding& a, const Finding& b) {
    if (a.severity != b.severity) return a.severity > b.severity;
    if (a.first_ts != b.first_ts) return a.first_ts < b.first_ts;
    return a.rule < b.rule;
  });
}

}  // namespace ws::inspect
