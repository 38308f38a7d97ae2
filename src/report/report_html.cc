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

// The page's tables: rows as arrays, each cell given with its column's name (Row), and the
// names of every table's columns gathered for "columns", where the page looks a column's
// position up by its name (columnsOf in report.js): no position is kept by hand on either side.
class Tables {
 public:
  explicit Tables(JsonOut& out) : o(out) {}
  JsonOut& o;

  // Notes the columns of table `name` once: `cells(row, item)` run on an empty item lists
  // them, so a table without rows names its columns too.
  template <typename Item, typename Cells>
  void declare(std::string_view name, Cells&& cells) {
    for (const auto& c : columns_)
      if (c.first == name) return;
    std::vector<std::string_view> names;
    Row listing(names);
    cells(listing, Item{});
    columns_.emplace_back(name, std::move(names));
  }
  // [[…],[…]]: one array per item, its cells given by `cells(row, item)`.
  template <typename Items, typename Cells>
  void rows(std::string_view name, const Items& items, Cells&& cells) {
    declare<typename Items::value_type>(name, cells);
    o.raw("[");
    List l{o};
    for (const auto& x : items) {
      l.sep(), o.raw("[");
      Row row(o);
      cells(row, x);
      o.raw("]");
    }
    o.raw("]");
  }
  // ,"key":[…]: one of the data's top-level tables.
  template <typename Items, typename Cells>
  void table(std::string_view key, const Items& items, Cells&& cells) {
    o.raw(","), o.key(key), rows(key, items, cells);
  }
  // ,"columns":{"table":["column",…],…}
  void write_columns() {
    o.raw(",\"columns\":{");
    List l{o};
    for (const auto& [name, names] : columns_) l.sep(), o.key(name), o.value(names);
    o.raw("}");
  }

 private:
  std::vector<std::pair<std::string_view, std::vector<std::string_view>>> columns_;
};

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

void write_filter(Tables& t);

// The tables that are the same in every report: functions, error names, the filter language.
void write_statics(Tables& t) {
  JsonOut& o = t.o;
  o.raw(",\"funcs\":[");
  List f{o};
  for (const auto& def : all_funcs()) f.sep(), o.str(def.name);
  o.raw("],\"func_events\":[");
  List fe{o};
  for (const auto& def : all_funcs()) fe.sep(), o.str(event_def(def.event).name);
  o.raw("]");
  t.table("all_errors", all_errors(), [](Row& r, const ErrorInfo& e) {
    r("name", e.name)("posix", e.posix)("domain", static_cast<uint64_t>(e.domain))(
        "value", e.value);
  });
  // Other names of the same errors (EWOULDBLOCK for EAGAIN).
  t.table("error_aliases", error_aliases(), [](Row& r, const ErrorAlias& a) {
    r("alias", a.name)("name", a.error ? a.error->name : "");
  });
  write_filter(t);
}

void write_tables(Tables& t, const ReportData& d, const JsonPart& part) {
  JsonOut& o = t.o;
  o.raw(",\"strings\":[");
  List st{o};
  const std::vector<std::string>& strings = part.strings ? *part.strings : d.strings.strings();
  for (size_t i = part.strings_from; i < strings.size(); ++i) st.sep(), o.str(strings[i]);
  o.raw("]");
  t.table("threads", d.threads, [](Row& r, const ThreadRow& th) {
    r("pid", th.pid)("tid", th.tid)("name", th.name);
  });
  t.table("errors", d.errors, [](Row& r, const ErrorRow& e) {
    r("name", e.name)("posix", e.posix)("value", e.value)("meaning", e.meaning)(
        "domain", static_cast<uint64_t>(e.domain))("outcome", e.outcome);
  });
}

// The filter language as data, for the page's filter box (filter.js): every field with its
// kind, for names the names its values may be written as, and whether it is one of the
// language's own fields (the rest come from the event table); and the kinds, with the
// operators each takes.
void write_filter(Tables& t) {
  JsonOut& o = t.o;
  o.raw(",\"filter\":{\"error_domains\":{");
  o.key("errno"), o.unum(static_cast<uint64_t>(ErrDomain::Errno)), o.raw(",");
  o.key("win"), o.unum(static_cast<uint64_t>(ErrDomain::Win)), o.raw(",");
  o.key("eai"), o.unum(static_cast<uint64_t>(ErrDomain::Eai)), o.raw(",");
  o.key("herrno"), o.unum(static_cast<uint64_t>(ErrDomain::HErrno)), o.raw("},");
  o.key("fields");
  t.rows("filter_fields", inspect::filter_fields(), [&](Row& r, const inspect::FilterField& f) {
    r("name", f.name)("kind", f.kind)("signed", f.is_signed ? 1 : 0)("max", f.max);
    r("desc", f.value_desc)("noun", f.noun);
    r("names", [&](JsonOut&) {
      t.rows("filter_names", f.names, [](Row& n, const inspect::FilterName& x) {
        n("code", x.code)("name", x.name)("brief", x.brief);
      });
    });
    r("refused", f.refused)("own", f.raw == FieldId::Unknown ? 1 : 0);
  });
  o.raw(","), o.key("kinds");
  t.rows("filter_kinds", inspect::filter_kinds(), [](Row& r, const inspect::FilterKind& k) {
    r("name", k.name)("desc", k.desc)("ops", k.ops)("fits", k.fits);
  });
  o.raw("}");
}

// What the filter sees of the calls beyond their own fields (FactsRow).
void write_facts(Tables& t, const ReportData& d) {
  t.table("facts", d.facts, [](Row& r, const FactsRow& f) {
    r("family", f.family)("proto", f.proto)("lip", f.lip)("lport", f.lport)("rip", f.rip)(
        "rport", f.rport)("host", f.host)("proc", f.proc);
  });
}

void write_procs(Tables& t, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  t.table("procs", d.processes, [&](Row& r, const inspect::Process& p) {
    r("pid", p.pid)("ppid", p.ppid)("name", p.name())("image", p.image)("cmdline", p.cmdline);
    r("start", rel(p.start_ts, first))("end", rel(p.end_ts, first));
    r("exit_code", p.exited ? std::optional<int64_t>(p.exit_code) : std::nullopt);
    r("calls", p.calls)("failed", p.failed)("bytes_out", p.bytes_out)("bytes_in", p.bytes_in);
  });
}

void write_conns(Tables& t, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  t.table("conns", d.conns, [&](Row& r, const ConnRow& row) {
    const inspect::Connection& c = row.c;
    const bool lip = c.local && c.local->is_inet(), rip = c.remote && c.remote->is_inet();
    r("id", c.id)("pid", c.pid)("tid", row.tid)("kind", c.kind())(
        "role", inspect::role_name(c.role));
    r("local", addr_or_empty(c.local))("remote", addr_or_empty(c.remote));
    r("lip", lip ? ip_string(*c.local) : "")("lport", lip ? int32_t{c.local->port} : -1);
    r("rip", rip ? ip_string(*c.remote) : "")("rport", rip ? int32_t{c.remote->port} : -1);
    r("host", c.host)("family", c.family ? code_name(ConstTable::AddrFamily, c.family) : "");
    r("proto", c.proto ? code_name(ConstTable::Protocol, c.proto) : "");
    r("opened", rel(c.opened_ts, first))("connected", rel(c.connected_ts, first));
    r("closed", rel(c.closed_ts, first))("last", rel(c.last_ts, first));
    r("bytes_out", c.bytes_out)("bytes_in", c.bytes_in)("calls_out", c.calls_out);
    r("calls_in", c.calls_in)("errors", c.errors)("end", inspect::end_name(c.end));
    r("end_error", c.end_error.ok() ? "" : error_name(c.end_error));
    r("in_report", row.in_report ? 1 : 0)("sock", c.sock);
    // The TCP statistics the agent read (empty when none): the latest figures.
    const inspect::TcpStats& tcp = c.tcp;
    auto num = [](const std::optional<uint64_t>& v) {
      return v ? std::optional<int64_t>(static_cast<int64_t>(*v)) : std::nullopt;
    };
    r("rtt", num(tcp.rtt))("min_rtt", num(tcp.min_rtt))("retrans", num(tcp.retrans));
    r("retrans_bytes", num(tcp.retrans_bytes))("tcp_final", tcp.readings ? (tcp.final ? 1 : 0) : -1);
  });
}

void write_lookups(Tables& t, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  t.table("lookups", d.lookups, [&](Row& r, const inspect::Lookup& k) {
    std::string answers;
    for (const auto& a : k.answers) answers += (answers.empty() ? "" : ", ") + a;
    r("seq", k.seq)("ts", k.ts - first)("dur", k.dur)("pid", k.pid)("tid", k.tid)("conn", k.conn);
    r("via", k.via)("name", k.name)("service", k.service)("asked", k.asked)("answers", answers);
    r("ok", k.ok ? 1 : 0)("result", k.answered ? k.result : "no response")("meaning", k.meaning);
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

void write_http(Tables& t, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  t.table("http", d.http, [&](Row& r, const inspect::HttpExchange& x) {
    const int64_t start = x.has_request ? x.request_start : x.response_start;
    const int64_t end = x.has_response ? x.response_end : x.request_end;
    r("conn", x.conn)("pid", x.pid)("host", x.host);
    r("method", x.has_request ? x.request.method : "");
    r("target", x.has_request ? x.request.target : "");
    r("status", x.has_response ? std::optional<uint64_t>(x.response.status) : std::nullopt);
    r("reason", x.has_response ? x.response.reason : "");
    r("req_body", x.has_request ? x.request.body_size : uint64_t{0});
    r("resp_body", x.has_response ? x.response.body_size : uint64_t{0});
    r("start", start - first)("ttfb", x.ttfb())("total", end - start);
    r("req_version", x.has_request ? http_version(x.request) : "");
    r("req_end", x.has_request ? decode::end_text(x.request) : "");
    r("req_headers", header_pairs(x.request));
    r("resp_version", x.has_response ? http_version(x.response) : "");
    r("resp_end", x.has_response ? decode::end_text(x.response) : "");
    r("resp_headers", header_pairs(x.response));
  });
}

void write_tls(Tables& t, const ReportData& d) {
  const int64_t first = d.summary.first_ts;
  t.table("tls", d.tls, [&](Row& r, const inspect::TlsInfo& x) {
    const bool server = x.has_server && x.server.ok();
    auto why = [](const decode::TlsHelloBase& h) { return h.problem.empty() ? "cut" : h.problem; };
    std::string problem;
    if (!x.client.ok()) problem = "client hello: " + why(x.client);
    else if (x.has_server && !x.server.ok()) problem = "server hello: " + why(x.server);
    r("conn", x.conn)("pid", x.pid)("ts", x.ts - first)("sni", x.client.server_name);
    r("alpn", x.client.alpn)("offered", decode::tls_version_name(x.client.version));
    r("suites", uint64_t{x.client.cipher_suites});
    r("version", server ? decode::tls_version_name(x.server.version) : "");
    r("alpn_chosen", server && !x.server.alpn.empty() ? x.server.alpn[0] : "");
    r("cipher", server ? fmt::format("0x{:04x}", x.server.cipher_suite) : "");
    r("problem", problem);
  });
}

void write_findings(Tables& t, const ReportData& d) {
  JsonOut& o = t.o;
  const int64_t first = d.summary.first_ts;
  auto count_cells = [](Row& r, const std::pair<std::string, std::string>& c) {
    r("name", c.first)("value", c.second);
  };
  auto call_cells = [&](Row& r, const inspect::CallRef& c) {
    // An HTTP exchange as evidence is no single call: seq -1.
    r("seq", c.seq || c.tid ? static_cast<int64_t>(c.seq) : int64_t{-1})("ts", c.ts - first);
    r("pid", c.pid)("tid", c.tid)("conn", c.conn)("text", c.text);
  };
  // Named even when no finding has any.
  t.declare<std::pair<std::string, std::string>>("finding_counts", count_cells);
  t.declare<inspect::CallRef>("finding_calls", call_cells);
  o.raw(","), o.key("findings"), o.raw("[");
  List l{o};
  for (const inspect::Finding& f : d.findings) {
    l.sep();
    o.raw("{"), o.key("severity"), o.str(inspect::severity_name(f.severity)), o.raw(",");
    o.key("rule"), o.str(f.rule), o.raw(","), o.key("title"), o.str(f.title), o.raw(",");
    o.key("conns"), o.array(f.conns), o.raw(","), o.key("more_conns"), o.unum(f.more_conns);
    o.raw(","), o.key("counts"), t.rows("finding_counts", f.counts, count_cells);
    o.raw(","), o.key("calls"), t.rows("finding_calls", f.calls, call_cells);
    o.raw(","), o.key("meaning"), o.str(f.meaning), o.raw(","), o.key("next"), o.str(f.next);
    o.raw("}");
  }
  o.raw("]");
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

std::string report_json(const ReportData& d) { return report_json(d, JsonPart{}); }

std::string report_json(const ReportData& d, const JsonPart& part) {
  JsonOut o;
  o.text().reserve(d.calls.size() * 48 + d.payload.size() * 4 / 3 + (1 << 16));
  o.raw("{\"version\":1,");
  write_meta(o, d);
  Tables t(o);
  if (part.statics) write_statics(t);
  write_tables(t, d, part);
  write_facts(t, d);
  write_procs(t, d);
  write_conns(t, d);
  write_lookups(t, d);
  write_http(t, d);
  write_tls(t, d);
  write_findings(t, d);
  write_calls(o, d);
  t.write_columns();
  o.raw(",\"live\":"), o.raw(part.live);
  o.raw("}");
  return std::move(o.text());
}

std::string page_csp(bool served) {
  return fmt::format("default-src 'none'; script-src {} {}; style-src 'unsafe-inline'; "
                     "img-src data:{}",
                     csp_hash(web::kFilterJsSha256), csp_hash(web::kReportJsSha256),
                     served ? "; connect-src 'self'" : "");
}

std::string report_html(const ReportData& d) { return report_page(report_json(d), false); }

std::string report_page(const std::string& json, bool served) {
  std::string page(web::kReportHtml);
  // The data first: the page's own text never contains the markers after substitution.
  replace(page, "/*@WSTRACE_CSS@*/", web::kReportCss);
  replace(page, "@WSTRACE_CSP@", page_csp(served));
  replace(page, "/*@WSTRACE_FILTER_JS@*/", web::kFilterJs);
  replace(page, "/*@WSTRACE_REPORT_JS@*/", web::kReportJs);
  replace(page, "/*@WSTRACE_DATA@*/", json);
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
