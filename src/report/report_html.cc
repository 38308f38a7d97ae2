#include "report_html.h"

#include <fmt/format.h>

#include "file.h"
#include "json_out.h"
#include "report_assets.h"  // generated from src/report/web/ (embed_web.cmake)
#include "view.h"

namespace ws::report {
namespace {

// Monotonic time as ns since the trace's first event; -1 for "never" (0).
int64_t rel(int64_t ts, int64_t first) { return ts ? ts - first : -1; }

std::string addr_or_empty(const std::optional<SockAddr>& a) { return a ? to_string(*a) : ""; }

// Strings are appended with a comma before every one but the first of a list.
struct List {
  JsonOut& o;
  bool first = true;
  void sep() {
    if (!first) o.raw(",");
    first = false;
  }
};

// ,"key":[…]: one of the page's tables, each item written by `row`.
template <typename Items, typename Row>
void table(JsonOut& o, std::string_view key, const Items& items, Row&& row) {
  o.raw(","), o.key(key), o.raw("[");
  List l{o};
  for (const auto& x : items) l.sep(), row(x);
  o.raw("]");
}

void write_meta(JsonOut& o, const ReportData& d) {
  const auto& h = d.header;
  const Summary& s = d.summary;
  o.raw("\"meta\":{");
  o.key("command"), o.str(h.command), o.raw(",");
  o.key("host"), o.str(h.host), o.raw(",");
  o.key("os"), o.str(h.os), o.raw(",");
  o.key("arch"), o.str(h.arch), o.raw(",");
  o.key("platform"),
      o.str(h.platform == Platform::Windows ? "windows"
                                            : h.platform == Platform::Linux ? "linux" : "unknown"),
      o.raw(",");
  o.key("wstrace_version"), o.str(h.wstrace_version), o.raw(",");
  o.key("snaplen"), o.unum(h.snaplen), o.raw(",");
  o.key("payload_cap"), o.unum(d.payload_cap), o.raw(",");
  o.key("filter"), o.str(d.filter_text), o.raw(",");
  o.key("problem"), o.str(d.problem), o.raw(",");
  o.key("start_utc"), o.str(s.events ? present::utc_text(h.wall_ns(s.first_ts)) : ""), o.raw(",");
  // Wall-clock ms of the first event, for times of day in the page.
  o.key("start_ms"), o.num(s.events ? h.wall_ns(s.first_ts) / 1000000 : 0), o.raw(",");
  o.key("start_ns_in_ms"), o.num(s.events ? h.wall_ns(s.first_ts) % 1000000 : 0);
  o.raw("},\"summary\":{");
  o.key("events"), o.unum(s.events), o.raw(",");
  o.key("calls"), o.unum(s.calls), o.raw(",");
  o.key("failed"), o.unum(s.failed), o.raw(",");
  o.key("drops"), o.unum(s.drops), o.raw(",");
  o.key("connections"), o.unum(s.connections), o.raw(",");
  o.key("lookups"), o.unum(s.lookups), o.raw(",");
  o.key("http"), o.unum(s.http), o.raw(",");
  o.key("tls"), o.unum(s.tls), o.raw(",");
  o.key("duration"), o.num(s.events ? s.last_ts - s.first_ts : 0), o.raw(",");
  o.key("kept"), o.unum(d.calls.size()), o.raw(",");
  o.key("truncated"), o.raw(s.truncated ? "true" : "false");
  o.raw("}");
}

void write_tables(JsonOut& o, const ReportData& d) {
  o.raw(",\"funcs\":[");
  List f{o};
  for (const auto& def : all_funcs()) f.sep(), o.str(def.name);
  o.raw("],\"func_events\":[");
  List fe{o};
  for (const auto& def : all_funcs()) fe.sep(), o.str(event_def(def.event).name);
  o.raw("],\"strings\":[");
  List st{o};
  for (const auto& s : d.strings.strings()) st.sep(), o.str(s);
  o.raw("],\"all_errors\":[");
  List ae{o};
  for (const auto& e : all_errors())
    ae.sep(), o.tuple(e.name, e.posix, static_cast<uint64_t>(e.domain), e.value);
  // Other names of the same errors (EWOULDBLOCK for EAGAIN): [alias, name].
  o.raw("],\"error_aliases\":[");
  List al{o};
  for (const ErrorAlias& a : error_aliases()) al.sep(), o.tuple(a.name, a.error->name);
  o.raw("],\"threads\":[");
  List th{o};
  for (const auto& t : d.threads) th.sep(), o.tuple(t.pid, t.tid, t.name);
  o.raw("],\"errors\":[");
  List er{o};
  for (const auto& e : d.errors)
    er.sep(), o.tuple(e.name, e.posix, e.value, e.meaning, static_cast<uint64_t>(e.domain));
  o.raw("]");
}

// The filter language as data, for the page's filter box (filter.js): every field with its
// kind, for names the names its values may be written as, and whether it is one of the
// language's own fields (the rest come from the event table).
void write_filter(JsonOut& o) {
  o.raw(",\"filter\":{\"error_domains\":{");
  o.key("errno"), o.unum(static_cast<uint64_t>(ErrDomain::Errno)), o.raw(",");
  o.key("win"), o.unum(static_cast<uint64_t>(ErrDomain::Win)), o.raw(",");
  o.key("eai"), o.unum(static_cast<uint64_t>(ErrDomain::Eai)), o.raw(",");
  o.key("herrno"), o.unum(static_cast<uint64_t>(ErrDomain::HErrno)), o.raw("},");
  o.key("fields"), o.raw("[");
  List l{o};
  for (const inspect::FilterField& f : inspect::filter_fields()) {
    l.sep();
    o.raw("["), o.str(f.name), o.raw(","), o.str(f.kind), o.raw(",");
    o.raw(f.is_signed ? "1," : "0,"), o.unum(f.max), o.raw(","), o.str(f.value_desc), o.raw(",");
    o.str(f.noun), o.raw(",[");
    List nl{o};
    for (const inspect::FilterName& n : f.names) nl.sep(), o.tuple(n.code, n.name, n.brief);
    o.raw("],"), o.str(f.refused), o.raw(f.raw == FieldId::Unknown ? ",1]" : ",0]");
  }
  o.raw("]}");
}

// What the filter sees of the calls beyond their own fields (FactsRow).
void write_facts(JsonOut& o, const ReportData& d) {
  table(o, "facts", d.facts, [&](const FactsRow& f) {
    o.tuple(f.family, f.proto, f.lip, f.lport, f.rip, f.rport, f.host, f.proc);
  });
}

void write_procs(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "procs", d.processes, [&](const auto& p) {
    o.tuple(p.pid, p.ppid, p.name(), p.image, p.cmdline, rel(p.start_ts, first),
            rel(p.end_ts, first),
            p.exited ? std::optional<int64_t>(p.exit_code) : std::nullopt, p.calls, p.failed,
            p.bytes_out, p.bytes_in);
  });
}

// One array per connection; the page names the positions (C in report.js).
void write_conns(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "conns", d.conns, [&](const auto& r) {
    const inspect::Connection& c = r.c;
    const bool lip = c.local && c.local->is_inet(), rip = c.remote && c.remote->is_inet();
    o.tuple(c.id, c.pid, r.tid, c.kind(), inspect::role_name(c.role), addr_or_empty(c.local),
            addr_or_empty(c.remote), lip ? ip_string(*c.local) : "",
            lip ? int32_t{c.local->port} : -1, rip ? ip_string(*c.remote) : "",
            rip ? int32_t{c.remote->port} : -1, c.host,
            c.family ? code_name(ConstTable::AddrFamily, c.family) : "",
            c.proto ? code_name(ConstTable::Protocol, c.proto) : "", rel(c.opened_ts, first),
            rel(c.connected_ts, first), rel(c.closed_ts, first), rel(c.last_ts, first),
            c.bytes_out, c.bytes_in, c.calls_out, c.calls_in, c.errors,
            inspect::end_name(c.end), c.end_error.ok() ? "" : error_name(c.end_error),
            r.in_report ? 1 : 0, c.sock);
  });
}

void write_lookups(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "lookups", d.lookups, [&](const auto& k) {
    std::string answers;
    for (const auto& a : k.answers) answers += (answers.empty() ? "" : ", ") + a;
    o.tuple(k.seq, k.ts - first, k.dur, k.pid, k.tid, k.conn, k.via, k.name, k.service, k.asked,
            answers, k.ok ? 1 : 0, k.answered ? k.result : "no response", k.meaning);
  });
}

// A message's headers as [name, value] pairs.
std::vector<std::array<std::string_view, 2>> header_pairs(const decode::HttpMessage& m) {
  std::vector<std::array<std::string_view, 2>> out;
  out.reserve(m.headers.size());
  for (const auto& h : m.headers) out.push_back({h.name, h.value});
  return out;
}

std::string http_version(const decode::HttpMessage& m) {
  return fmt::format("HTTP/{}.{}", m.version_major, m.version_minor);
}

void write_http(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "http", d.http, [&](const auto& x) {
    const int64_t start = x.has_request ? x.request_start : x.response_start;
    const int64_t end = x.has_response ? x.response_end : x.request_end;
    o.tuple(x.conn, x.pid, x.host, x.has_request ? x.request.method : "",
            x.has_request ? x.request.target : "",
            x.has_response ? std::optional<uint64_t>(x.response.status) : std::nullopt,
            x.has_response ? x.response.reason : "",
            x.has_request ? x.request.body_size : uint64_t{0},
            x.has_response ? x.response.body_size : uint64_t{0}, start - first, x.ttfb(),
            end - start, x.has_request ? http_version(x.request) : "",
            x.has_request ? decode::end_text(x.request) : "", header_pairs(x.request),
            x.has_response ? http_version(x.response) : "",
            x.has_response ? decode::end_text(x.response) : "", header_pairs(x.response));
  });
}

void write_tls(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "tls", d.tls, [&](const auto& t) {
    const bool server = t.has_server && t.server.ok();
    auto why = [](const decode::TlsHelloBase& h) { return h.problem.empty() ? "cut" : h.problem; };
    std::string problem;
    if (!t.client.ok()) problem = "client hello: " + why(t.client);
    else if (t.has_server && !t.server.ok()) problem = "server hello: " + why(t.server);
    o.tuple(t.conn, t.pid, t.ts - first, t.client.server_name, t.client.alpn,
            decode::tls_version_name(t.client.version), uint64_t{t.client.cipher_suites},
            server ? decode::tls_version_name(t.server.version) : "",
            server && !t.server.alpn.empty() ? t.server.alpn[0] : "",
            server ? fmt::format("0x{:04x}", t.server.cipher_suite) : "", problem);
  });
}

void write_findings(JsonOut& o, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  table(o, "findings", d.findings, [&](const auto& f) {
    o.raw("{"), o.key("severity"), o.str(inspect::severity_name(f.severity)), o.raw(",");
    o.key("rule"), o.str(f.rule), o.raw(","), o.key("title"), o.str(f.title), o.raw(",");
    o.key("conns"), o.array(f.conns), o.raw(","), o.key("more_conns"), o.unum(f.more_conns);
    o.raw(","), o.key("counts"), o.raw("[");
    List cl{o};
    for (const auto& [k, v] : f.counts) cl.sep(), o.tuple(k, v);
    o.raw("],"), o.key("calls"), o.raw("[");
    List ca{o};
    for (const auto& c : f.calls) {
      ca.sep();
      // An HTTP exchange as evidence is no single call: seq -1.
      o.tuple(c.seq || c.tid ? static_cast<int64_t>(c.seq) : int64_t{-1}, c.ts - first, c.pid,
              c.tid, c.conn, c.text);
    }
    o.raw("],"), o.key("meaning"), o.str(f.meaning), o.raw(","), o.key("next"), o.str(f.next);
    o.raw("}");
  });
}

void write_calls(JsonOut& o, const ReportData& d) {
  const CallColumns& k = d.calls;
  o.raw(",\"calls\":{"), o.key("n"), o.unum(k.size());
  o.raw(","), o.key("seq"), o.array(k.seq, true);
  o.raw(","), o.key("ts"), o.array(k.ts, true);
  o.raw(","), o.key("dur"), o.array(k.dur);
  o.raw(","), o.key("thread"), o.array(k.thread);
  o.raw(","), o.key("func"), o.array(k.func);
  o.raw(","), o.key("conn"), o.array(k.conn);
  o.raw(","), o.key("result"), o.array(k.result);
  o.raw(","), o.key("error"), o.sparse(k.error, 0u);
  o.raw(","), o.key("bytes"), o.sparse(k.bytes, int64_t{-1});
  o.raw(","), o.key("sock"), o.array(k.sock);
  o.raw(","), o.key("sock2"), o.sparse(k.sock2, int64_t{-1});
  o.raw(","), o.key("args"), o.array(k.args);
  o.raw(","), o.key("facts"), o.array(k.facts);
  o.raw(","), o.key("kept"), o.sparse(k.kept, 0u);
  o.raw(","), o.key("total"), o.sparse(k.total, uint64_t{0});
  o.raw(","), o.key("link"), o.sparse(k.link, uint64_t{0});
  // The event table's fields: for each one some call has, the calls that have it (positions as
  // differences) and its values.
  o.raw(","), o.key("raw"), o.raw("{");
  List rl{o};
  for (size_t id = 0; id < k.raw.size(); ++id) {
    const CallColumns::Raw& col = k.raw[id];
    if (col.at.empty()) continue;
    const FieldDef& def = field_def(static_cast<FieldId>(id));
    rl.sep();
    o.key(def.name), o.raw("{"), o.key("at"), o.array(col.at, true), o.raw(","), o.key("v");
    if (def.type == FieldType::Int) {
      std::vector<int64_t> v(col.v.begin(), col.v.end());
      o.array(v);
    } else {
      o.array(col.v);
    }
    o.raw("}");
  }
  o.raw("}},"), o.key("payload"), o.str(base64(d.payload));
}

// 'sha256-…' of a script for the Content-Security-Policy, from its SHA-256 in hex (computed
// when the page's files are built in: embed_web.cmake).
std::string csp_hash(std::string_view hex) {
  std::string digest;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    digest += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return "'sha256-" + base64(digest) + "'";
}

void replace(std::string& s, std::string_view marker, std::string_view with) {
  const size_t at = s.find(marker);
  if (at != std::string::npos) s.replace(at, marker.size(), with);
}

}  // namespace

std::string report_json(const ReportData& d) {
  JsonOut o;
  o.text().reserve(d.calls.size() * 48 + d.payload.size() * 4 / 3 + (1 << 16));
  o.raw("{\"version\":1,");
  write_meta(o, d);
  write_tables(o, d);
  write_filter(o);
  write_facts(o, d);
  write_procs(o, d);
  write_conns(o, d);
  write_lookups(o, d);
  write_http(o, d);
  write_tls(o, d);
  write_findings(o, d);
  write_calls(o, d);
  o.raw("}");
  return std::move(o.text());
}

std::string report_html(const ReportData& d) {
  std::string page(web::kReportHtml);
  // The data first: the page's own text never contains the markers after substitution.
  replace(page, "/*@WSTRACE_CSS@*/", web::kReportCss);
  replace(page, "@WSTRACE_SCRIPT_HASHES@",
          csp_hash(web::kFilterJsSha256) + " " + csp_hash(web::kReportJsSha256));
  replace(page, "/*@WSTRACE_FILTER_JS@*/", web::kFilterJs);
  replace(page, "/*@WSTRACE_REPORT_JS@*/", web::kReportJs);
  replace(page, "@WSTRACE_TITLE@", "");
  replace(page, "/*@WSTRACE_DATA@*/", report_json(d));
  return page;
}

Status write_report(const std::string& path, const ReportData& d) {
  // Owner-only like the trace itself: the report holds payloads too. Only a whole page
  // appears under `path`.
  auto file = trace::OutputFile::create(path, trace::OutputFile::Publish::OnCommit);
  if (!file.ok()) return file.status();
  if (Status s = file.value()->write(report_html(d)); !s.ok()) return s;
  return file.value()->commit();
}

}  // namespace ws::report
