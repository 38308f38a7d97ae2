#include "report_data.h"

#include <algorithm>

#include <fmt/format.h>

#include "call_tape.h"
#include "view.h"

namespace ws::report {
namespace {

// The arguments as `show` prints them, without the payload (the viewer shows it whole).
std::string args_text(const Event& ev) {
  std::string s;
  if (ev.type() == EventType::Unknown) return s;
  for (FieldId id : event_def(ev.type()).fields) {
    const Value* v = ev.get(id);
    if (!v || id == FieldId::payload) continue;
    if (!s.empty()) s += ", ";
    s += field_def(id).name;
    s += '=';
    s += present::value_text(field_def(id), *v, 40, ev.func);
  }
  return s;
}

}  // namespace

uint32_t StringTable::id(const std::string& s) {
  auto [it, added] = index_.try_emplace(s, static_cast<uint32_t>(list_.size()));
  if (added) list_.push_back(s);
  return it->second;
}

CallRows::CallRows(uint32_t payload_cap) : payload_cap_(payload_cap) {
  raw_usable_.assign(static_cast<size_t>(FieldId::kCount), false);
  for (const inspect::FilterField& f : inspect::filter_fields())
    if (f.raw != FieldId::Unknown && f.refused.empty())
      raw_usable_[static_cast<size_t>(f.raw)] = true;
}

void CallRows::add(ReportData& d, const CallHead& h, const Event& ev,
                   const inspect::FilterFacts& facts) {
  CallColumns& k = d.calls;
  if (k.raw.empty()) k.raw.resize(static_cast<size_t>(FieldId::kCount));
  k.seq.push_back(h.seq);
  k.ts.push_back(h.ts);
  k.dur.push_back(h.dur);
  k.thread.push_back(h.thread);
  k.func.push_back(h.func);
  k.conn.push_back(h.conn);
  k.result.push_back(h.result);
  k.error.push_back(h.error);
  k.bytes.push_back(h.bytes);
  k.sock.push_back(h.sock);
  k.sock2.push_back(h.sock2);
  k.facts.push_back(facts_index(d, facts));
  k.args.push_back(d.strings.id(args_text(ev)));
  const auto index = static_cast<uint32_t>(k.seq.size() - 1);
  if (ev.type() != EventType::Unknown) {
    for (FieldId id : event_def(ev.type()).fields) {
      const Value* v = ev.get(id);
      if (v == nullptr || !raw_usable_[static_cast<size_t>(id)]) continue;
      CallColumns::Raw& col = k.raw[static_cast<size_t>(id)];
      col.at.push_back(index);
      col.v.push_back(field_def(id).type == FieldType::Str ? d.strings.id(std::string(v->bytes()))
                                                           : v->num);
    }
  }
  const Value* p = ev.get(FieldId::payload);
  const uint32_t kept = p ? std::min<uint32_t>(p->size, payload_cap_) : 0;
  if (kept) d.payload.append(reinterpret_cast<const char*>(p->data), kept);
  k.kept.push_back(kept);
  k.total.push_back(p ? p->num : 0);
  k.link.push_back(h.link);
}

namespace {
// A facts row as one text, its parts apart by NULs, which none of them holds.
std::string facts_key(const FactsRow& row) {
  std::string key = fmt::format("{} {} {} {} ", row.family, row.proto, row.lport, row.rport);
  for (const std::string* part : {&row.lip, &row.rip, &row.host, &row.proc}) {
    key += *part;
    key += '\0';
  }
  return key;
}
}  // namespace

uint32_t CallRows::facts_index(ReportData& d, const inspect::FilterFacts& f) {
  FactsRow row;
  if (f.has_family) row.family = static_cast<int64_t>(f.family);
  row.proto = f.proto;
  if (f.local) row.lip = ip_string(*f.local), row.lport = f.local->port;
  if (f.remote) row.rip = ip_string(*f.remote), row.rport = f.remote->port;
  row.host = f.host;
  row.proc = f.proc;
  auto [it, added] = facts_ids_.try_emplace(facts_key(row), static_cast<uint32_t>(d.facts.size()));
  if (added) d.facts.push_back(std::move(row));
  return it->second;
}

void CallRows::compact(ReportData& d) {
  CallColumns& k = d.calls;
  StringTable strings;
  const std::vector<std::string>& was = d.strings.strings();
  for (uint32_t& a : k.args) a = strings.id(was[a]);
  for (size_t f = 0; f < k.raw.size(); ++f)
    if (field_def(static_cast<FieldId>(f)).type == FieldType::Str)
      for (auto& v : k.raw[f].v) v = strings.id(was[static_cast<size_t>(v)]);
  std::vector<FactsRow> facts;
  std::unordered_map<uint32_t, uint32_t> moved;  // old index → new
  facts_ids_.clear();
  for (uint32_t& x : k.facts) {
    auto [it, added] = moved.try_emplace(x, static_cast<uint32_t>(facts.size()));
    if (added) {
      facts_ids_.emplace(facts_key(d.facts[x]), it->second);
      facts.push_back(d.facts[x]);
    }
    x = it->second;
  }
  d.strings = std::move(strings);
  d.facts = std::move(facts);
}

void link_overlapped(CallColumns& k) {
  for (size_t i = 0; i < k.size(); ++i) {
    if (k.link[i] == 0 || k.link[i] >= k.seq[i]) continue;
    auto at = std::lower_bound(k.seq.begin(), k.seq.end(), k.link[i]);
    if (at != k.seq.end() && *at == k.link[i])
      k.link[static_cast<size_t>(at - k.seq.begin())] = k.seq[i];
  }
}

void forget_calls(ReportData& d, size_t n) {
  CallColumns& k = d.calls;
  n = std::min(n, k.size());
  if (n == 0) return;
  size_t bytes = 0;
  for (size_t i = 0; i < n; ++i) bytes += k.kept[i];
  d.payload.erase(0, bytes);
  auto cut = [n](auto& v) { v.erase(v.begin(), v.begin() + static_cast<ptrdiff_t>(n)); };
  cut(k.seq), cut(k.ts), cut(k.dur), cut(k.thread), cut(k.func), cut(k.conn), cut(k.result);
  cut(k.error), cut(k.bytes), cut(k.sock), cut(k.sock2), cut(k.args), cut(k.facts);
  cut(k.kept), cut(k.total), cut(k.link);
  for (CallColumns::Raw& col : k.raw) {
    const auto first = std::lower_bound(col.at.begin(), col.at.end(), static_cast<uint32_t>(n));
    const auto gone = first - col.at.begin();
    col.at.erase(col.at.begin(), first);
    col.v.erase(col.v.begin(), col.v.begin() + gone);
    for (uint32_t& at : col.at) at -= static_cast<uint32_t>(n);
  }
}

namespace {

inspect::InspectOptions inspect_options(const ReportOptions& o) {
  inspect::InspectOptions io;
  io.filter = o.filter;
  io.http = true;
  io.findings = inspect::DiagnoseOptions{};
  return io;
}

}  // namespace

ReportBuilder::ReportBuilder(ReportOptions options)
    : options_(std::move(options)),
      data_(std::make_unique<ReportData>()),
      rows_(options_.payload_cap),
      own_(std::make_unique<inspect::Inspector>(inspect_options(options_))),
      inspector_(own_.get()) {
  start();
  inspector_->subscribe(*this);
}

ReportBuilder::ReportBuilder(ReportOptions options, inspect::Inspector& shared)
    : options_(std::move(options)),
      data_(std::make_unique<ReportData>()),
      rows_(options_.payload_cap),
      inspector_(&shared) {
  start();
}

void ReportBuilder::start() {
  data_->errors.push_back(ErrorRow{});
  data_->filter_text = options_.filter.text();
  data_->calls.raw.resize(static_cast<size_t>(FieldId::kCount));
  data_->payload_cap = options_.payload_cap;
}

void ReportBuilder::restart(inspect::Inspector& shared) {
  data_ = std::make_unique<ReportData>();
  rows_ = CallRows(options_.payload_cap);
  own_.reset();
  inspector_ = &shared;
  thread_ids_.clear(), error_ids_.clear(), conn_tid_.clear(), conn_kept_.clear();
  start();
}

void ReportBuilder::forget_rows(size_t keep, Gone& gone) {
  auto trim = [keep](auto& rows, size_t& count) {
    if (rows.size() <= keep) return;
    const size_t n = rows.size() - keep;
    rows.erase(rows.begin(), rows.begin() + static_cast<ptrdiff_t>(n));
    count += n;
  };
  trim(data_->conns, gone.conns);
  trim(data_->lookups, gone.lookups);
  trim(data_->http, gone.http);
  trim(data_->tls, gone.tls);
}

ConnRow ReportBuilder::row_of(const inspect::Connection& c) const {
  ConnRow row{c, 0, conn_kept_.count(c.id) > 0};
  if (auto it = conn_tid_.find(c.id); it != conn_tid_.end()) row.tid = it->second;
  return row;
}

void ReportBuilder::on_connection_end(const inspect::Connection& c) {
  ConnRow row{c, 0, conn_kept_.erase(c.id) > 0};
  if (auto it = conn_tid_.find(c.id); it != conn_tid_.end()) {
    row.tid = it->second;
    conn_tid_.erase(it);
  }
  data_->conns.push_back(std::move(row));
}

ReportBuilder::~ReportBuilder() = default;

uint32_t ReportBuilder::thread_index(uint32_t pid, uint32_t tid) {
  const uint64_t key = (uint64_t{pid} << 32) | tid;
  auto [it, added] = thread_ids_.try_emplace(key, static_cast<uint32_t>(data_->threads.size()));
  if (added) data_->threads.push_back(ThreadRow{pid, tid, ""});
  return it->second;
}

uint32_t ReportBuilder::error_index(const ErrorCode& e, inspect::ErrorClass cls) {
  if (e.ok()) return 0;
  // One row per code and meaning: WSAETIMEDOUT of a receive under the timeout the program set
  // is an outcome, that of a connect a failure.
  const bool outcome = inspect::is_transient(cls);
  auto [it, added] = error_ids_.try_emplace(e.pack() << 1 | (outcome ? 1 : 0),
                                            static_cast<uint32_t>(data_->errors.size()));
  if (added) {
    ErrorRow row{error_name(e), "", e.domain, e.value, "", outcome};
    if (const ErrorInfo* info = find_error(e)) {
      row.posix = std::string(info->posix);
      row.meaning = std::string(info->meaning);
    }
    data_->errors.push_back(std::move(row));
  }
  return it->second;
}

// The summary's counts, from every event whether kept or not.
void ReportBuilder::count(const inspect::Facts& f) {
  const Event& ev = f.ev;
  Summary& s = data_->summary;
  if (s.events == 0) s.first_ts = ev.ts;
  s.last_ts = std::max(s.last_ts, ev.ts + static_cast<int64_t>(ev.dur));
  ++s.events;
  const EventType type = ev.type();
  if (!is_process_fact(type)) {
    ++s.calls;
    // (As the inspection classed it: a timeout the program set is an outcome.)
    if (f.error != inspect::ErrorClass::None && !inspect::is_transient(f.error)) ++s.failed;
  }
  if (type == EventType::drops)
    if (const Value* d = ev.get(FieldId::dropped)) s.drops += d->num;
  if (type == EventType::thread_name)
    if (const Value* n = ev.get(FieldId::name))
      data_->threads[thread_index(ev.pid, ev.tid)].name = std::string(n->bytes());
}

void ReportBuilder::on_event(const inspect::Facts& f) {
  count(f);
  if (f.conn) conn_tid_.try_emplace(f.conn->id, f.ev.tid);
  if (!f.matched) return;
  if (options_.max_calls && data_->calls.size() >= options_.max_calls) {
    data_->summary.truncated = true;
    return;
  }
  if (f.conn) conn_kept_.insert(f.conn->id);
  keep(f);
}

void ReportBuilder::keep(const inspect::Facts& f) {
  const Event& ev = f.ev;
  // What the filter sees beyond the event, from the same functions the filter uses.
  const inspect::FilterFacts facts = inspect::filter_facts(ev, f.tracker);
  CallHead h;
  h.seq = ev.seq;
  h.ts = ev.ts - data_->summary.first_ts;
  h.dur = ev.dur;
  h.thread = thread_index(ev.pid, ev.tid);
  h.func = static_cast<uint16_t>(ev.func);
  h.conn = f.conn ? f.conn->id : 0;
  h.result = ev.result;
  h.error = error_index(ev.error, f.error);
  h.bytes = facts.has_bytes ? static_cast<int64_t>(facts.bytes) : -1;
  h.sock = facts.sock_count > 0 ? static_cast<int64_t>(facts.socks[0]) : -1;
  h.sock2 = facts.sock_count > 1 ? static_cast<int64_t>(facts.socks[1]) : -1;
  h.link = f.completed_seq;
  if (tape_)
    tape_->append(h, ev, facts, options_.payload_cap);
  else
    rows_.add(*data_, h, ev, facts);
}

std::unique_ptr<ReportData> ReportBuilder::finish(const trace::TraceHeader& header,
                                                  std::string problem) {
  if (own_) own_->finish();
  ReportData& d = *data_;
  d.header = header;
  d.problem = std::move(problem);
  d.findings = inspector_->findings();
  for (const auto& [pid, p] : inspector_->tracker().processes()) d.processes.push_back(p);
  std::sort(d.processes.begin(), d.processes.end(),
            [](const auto& a, const auto& b) { return a.pid < b.pid; });
  std::sort(d.conns.begin(), d.conns.end(),
            [](const ConnRow& a, const ConnRow& b) { return a.c.id < b.c.id; });
  d.summary.connections = d.conns.size();
  d.summary.lookups = d.lookups.size();
  link_overlapped(d.calls);
  d.summary.http = d.http.size();
  d.summary.tls = d.tls.size();
  if (!d.filter_text.empty()) {
    // A filtered report lists the lookups whose call it kept and the exchanges of its
    // connections.
    const auto& seqs = d.calls.seq;
    std::erase_if(d.lookups, [&](const inspect::Lookup& l) {
      return !std::binary_search(seqs.begin(), seqs.end(), l.seq);
    });
    auto left_out = [&](uint64_t conn) {
      auto it = std::lower_bound(d.conns.begin(), d.conns.end(), conn,
                                 [](const ConnRow& r, uint64_t id) { return r.c.id < id; });
      return it == d.conns.end() || it->c.id != conn || !it->in_report;
    };
    std::erase_if(d.http, [&](const inspect::HttpExchange& x) { return left_out(x.conn); });
    std::erase_if(d.tls, [&](const inspect::TlsInfo& t) { return left_out(t.conn); });
  } else {
    for (auto& r : d.conns) r.in_report = true;
  }
  return std::move(data_);
}

}  // namespace ws::report
