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
std::string args_text(const CallMark& m) {
  std::string s;
  if (m.sock) s = fmt::format("sock={}", *m.sock);
  if (m.addr) s += (s.empty() ? "" : ", ") + to_string(*m.addr);
  if (m.host) s += fmt::format("{}\"{}\"", s.empty() ? "" : ", ", *m.host);
  if (m.len) s += fmt::format(", len={}", *m.len);
  if (m.optname) s += ", " + code_name(ConstTable::SockOpt, *m.optname);
  if (m.optval) s += fmt::format(", val={}", *m.optval);
  return s;
}

}  // namespace

CallMark call_mark(const Event& ev, uint64_t conn) {
  CallMark m;
  m.seq = ev.seq;
  m.ts = ev.ts;
  m.pid = ev.pid;
  m.tid = ev.tid;
  m.conn = conn;
  m.dur = ev.dur;
  m.func = ev.func;
  m.result = ev.result;
  m.error = ev.error;
  if (const Value* v = ev.get(FieldId::sock)) m.sock = v->num;
  for (FieldId id : {FieldId::addr, FieldId::peer}) {
    const Value* v = ev.get(id);
    SockAddr a;
    if (v == nullptr || !decode_addr(v->bytes(), a)) continue;
    m.addr = std::move(a);
    break;
  }
  if (const Value* v = ev.get(FieldId::host)) m.host = std::string(v->bytes().substr(0, 80));
  if (const Value* v = ev.get(FieldId::len); v && ev.type() != EventType::lookup) m.len = v->num;
  if (ev.func == FuncId::getsockopt || ev.func == FuncId::setsockopt) {
    if (const Value* v = ev.get(FieldId::optname)) m.optname = v->num;
    if (const Value* v = ev.get(FieldId::optval)) m.optval = static_cast<int64_t>(v->num);
  }
  return m;
}

CallRef call_at(uint64_t seq, int64_t ts, uint32_t pid, uint32_t tid, uint64_t conn,
                std::string text) {
  CallRef r;
  r.seq = seq;
  r.ts = ts;
  r.pid = pid;
  r.tid = tid;
  r.conn = conn;
  r.text = std::move(text);
  return r;
}

CallRef CallMark::ref() const {
  std::string text = fmt::format("{}({}) = {}", func_def(func).name, args_text(*this), result);
  if (!error.ok()) text += " " + error_name(error);
  if (dur >= 1000) text += fmt::format(" [{}]", duration_str(dur));
  return call_at(seq, ts, pid, tid, conn, std::move(text));
}

CallRef call_ref(const Event& ev, uint64_t conn) { return call_mark(ev, conn).ref(); }

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
