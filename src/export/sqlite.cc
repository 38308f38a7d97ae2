// sqlite: one database file with the trace's processes, calls, connections, lookups, HTTP
// exchanges, TLS hellos and findings (schema in docs/export.md). The calls table has one column
// per field of the event table, like show --csv. Rows go in through prepared statements inside
// one transaction, with no journal: the file is written under a temporary name and renamed
// only once complete, so a crash cannot leave a database that looks whole.
#include <sqlite3.h>

#include <array>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "exporter.h"
#include "http_watch.h"
#include "lookups.h"
#include "output.h"
#include "safe_text.h"

namespace ws::exporter {
namespace {

// One prepared statement: bind the columns in order with add(), then insert().
class Insert {
 public:
  Insert() = default;
  Insert(const Insert&) = delete;
  Insert& operator=(const Insert&) = delete;
  ~Insert() { close(); }
  void close() {
    sqlite3_finalize(stmt_);
    stmt_ = nullptr;
  }

  Status prepare(sqlite3* db, std::string_view table, const std::vector<std::string>& cols) {
    std::string names, marks;
    for (const auto& c : cols) {
      names += fmt::format("{}\"{}\"", names.empty() ? "" : ",", c);
      marks += marks.empty() ? "?" : ",?";
    }
    const std::string sql = fmt::format("INSERT INTO {}({}) VALUES({})", table, names, marks);
    if (sqlite3_prepare_v3(db, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) !=
        SQLITE_OK)
      return Status::error(fmt::format("sqlite: {}", sqlite3_errmsg(db)));
    return Status();
  }
  Insert& add(int64_t v) {
    sqlite3_bind_int64(stmt_, ++col_, v);
    return *this;
  }
  Insert& add(uint64_t v) { return add(static_cast<int64_t>(v)); }
  Insert& add(uint32_t v) { return add(static_cast<int64_t>(v)); }
  Insert& add(bool v) { return add(static_cast<int64_t>(v)); }
  // Text; SQL NULL when empty.
  Insert& add(std::string_view s) {
    if (s.empty()) return null();
    sqlite3_bind_text(stmt_, ++col_, s.data(), static_cast<int>(s.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Insert& add(const char* s) { return add(std::string_view(s)); }
  Insert& add(const std::string& s) { return add(std::string_view(s)); }
  Insert& blob(std::string_view b) {
    sqlite3_bind_blob(stmt_, ++col_, b.data(), static_cast<int>(b.size()), SQLITE_TRANSIENT);
    return *this;
  }
  // Parameters are NULL until bound (insert() clears them): a NULL is a column skipped.
  Insert& null() {
    ++col_;
    return *this;
  }
  // The next add() binds column `col` (1-based, in the order prepare() was given).
  Insert& at(int col) {
    col_ = col - 1;
    return *this;
  }
  // An integer, or NULL when `has` is false.
  template <typename T>
  Insert& add_if(bool has, T v) {
    return has ? add(v) : null();
  }
  Status insert() {
    const int rc = sqlite3_step(stmt_);
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    col_ = 0;
    if (rc != SQLITE_DONE)
      return Status::error(fmt::format("sqlite: {}", sqlite3_errmsg(sqlite3_db_handle(stmt_))));
    return Status();
  }

 private:
  sqlite3_stmt* stmt_ = nullptr;
  int col_ = 0;
};

// A table: its name and its columns with their SQL types.
struct Table {
  std::string name;
  std::vector<std::pair<std::string, std::string>> cols;

  std::string create() const {
    std::string s;
    for (const auto& [c, type] : cols)
      s += fmt::format("{}\"{}\" {}", s.empty() ? "" : ", ", c, type);
    return fmt::format("CREATE TABLE {}({});", name, s);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> v;
    for (const auto& c : cols) v.push_back(c.first);
    return v;
  }
};

const Table kProcesses{"processes",
                       {{"pid", "INTEGER PRIMARY KEY"}, {"ppid", "INTEGER"}, {"name", "TEXT"},
                        {"image", "TEXT"}, {"cmdline", "TEXT"}, {"platform", "TEXT"},
                        {"start_ts_ns", "INTEGER"}, {"end_ts_ns", "INTEGER"},
                        {"exited", "INTEGER"}, {"exit_code", "INTEGER"}, {"calls", "INTEGER"},
                        {"failed", "INTEGER"}, {"bytes_out", "INTEGER"},
                        {"bytes_in", "INTEGER"}}};

const Table kConnections{
    "connections",
    {{"id", "INTEGER PRIMARY KEY"}, {"pid", "INTEGER"}, {"sock", "INTEGER"}, {"kind", "TEXT"},
     {"role", "TEXT"}, {"listener", "INTEGER"}, {"local", "TEXT"}, {"remote", "TEXT"},
     {"host", "TEXT"}, {"opened", "TEXT"}, {"opened_ts_ns", "INTEGER"},
     {"connected_ts_ns", "INTEGER"}, {"closed", "TEXT"}, {"closed_ts_ns", "INTEGER"},
     {"duration_ns", "INTEGER"}, {"bytes_out", "INTEGER"}, {"bytes_in", "INTEGER"},
     {"calls_out", "INTEGER"}, {"calls_in", "INTEGER"}, {"end", "TEXT"}, {"end_error", "TEXT"},
     {"errors", "INTEGER"}, {"error_names", "TEXT"}}};

const Table kLookups{"lookups",
                     {{"seq", "INTEGER"}, {"time", "TEXT"}, {"ts_ns", "INTEGER"},
                      {"pid", "INTEGER"}, {"tid", "INTEGER"}, {"source", "TEXT"},
                      {"via", "TEXT"}, {"conn", "INTEGER"}, {"dns_id", "INTEGER"},
                      {"answered", "INTEGER"}, {"name", "TEXT"}, {"service", "TEXT"},
                      {"asked", "TEXT"}, {"answers", "TEXT"}, {"dur_ns", "INTEGER"},
                      {"ok", "INTEGER"}, {"result", "TEXT"}, {"meaning", "TEXT"}}};

const Table kHttp{"http",
                  {{"conn", "INTEGER"}, {"pid", "INTEGER"}, {"time", "TEXT"},
                   {"ts_ns", "INTEGER"}, {"host", "TEXT"}, {"method", "TEXT"},
                   {"target", "TEXT"}, {"request_version", "TEXT"},
                   {"request_headers", "TEXT"}, {"request_header_bytes", "INTEGER"},
                   {"request_body_bytes", "INTEGER"}, {"request_end", "TEXT"},
                   {"status", "INTEGER"}, {"reason", "TEXT"}, {"response_version", "TEXT"},
                   {"response_headers", "TEXT"}, {"response_header_bytes", "INTEGER"},
                   {"response_body_bytes", "INTEGER"},
                   {"response_body_uncaptured_bytes", "INTEGER"}, {"response_end", "TEXT"},
                   {"ttfb_ns", "INTEGER"}, {"total_ns", "INTEGER"}}};

const Table kTls{"tls",
                 {{"conn", "INTEGER"}, {"pid", "INTEGER"}, {"time", "TEXT"}, {"ts_ns", "INTEGER"},
                  {"server_name", "TEXT"}, {"alpn", "TEXT"}, {"client_version", "TEXT"},
                  {"version", "TEXT"}, {"alpn_chosen", "TEXT"},
                  {"client_hello_problem", "TEXT"}}};

const Table kFindings{"findings",
                      {{"id", "INTEGER PRIMARY KEY"}, {"severity", "TEXT"}, {"rule", "TEXT"},
                       {"title", "TEXT"}, {"conns", "TEXT"}, {"more_conns", "INTEGER"},
                       {"counts", "TEXT"}, {"meaning", "TEXT"}, {"next", "TEXT"}}};

const Table kFindingCalls{"finding_calls",
                          {{"finding", "INTEGER"}, {"seq", "INTEGER"}, {"time", "TEXT"},
                           {"ts_ns", "INTEGER"}, {"pid", "INTEGER"}, {"tid", "INTEGER"},
                           {"conn", "INTEGER"}, {"call", "TEXT"}}};

const Table kMeta{"meta", {{"key", "TEXT PRIMARY KEY"}, {"value", "TEXT"}}};

// The calls table follows the event table: the common columns, then one column per field.
// `field_col` receives each field's (first) column, 1-based.
Table calls_table(std::array<int, static_cast<size_t>(FieldId::kCount)>& field_col) {
  Table t{"calls",
          {{"seq", "INTEGER PRIMARY KEY"}, {"time", "TEXT"}, {"ts_ns", "INTEGER"},
           {"dur_ns", "INTEGER"}, {"pid", "INTEGER"}, {"tid", "INTEGER"}, {"conn", "INTEGER"},
           {"func", "TEXT"}, {"event", "TEXT"}, {"result", "INTEGER"}, {"error", "TEXT"},
           {"error_domain", "TEXT"}, {"error_code", "INTEGER"}}};
  for (const auto& f : all_fields()) {
    const std::string name(f.name);
    field_col[static_cast<size_t>(f.id)] = static_cast<int>(t.cols.size()) + 1;
    switch (f.type) {
      case FieldType::UInt:
      case FieldType::Int:
      case FieldType::Sock:
      case FieldType::Duration: t.cols.emplace_back(name, "INTEGER"); break;
      case FieldType::Bytes:
        t.cols.emplace_back(name + "_len", "INTEGER");
        t.cols.emplace_back(name, "BLOB");
        break;
      default: t.cols.emplace_back(name, "TEXT"); break;
    }
  }
  return t;
}

std::string json_list(const std::vector<std::string>& v) {
  return present::json_dump(nlohmann::json(v));
}

std::string headers_json(const decode::HttpMessage& m) {
  auto a = nlohmann::json::array();
  for (const auto& h : m.headers) a.push_back({h.name, h.value});
  return present::json_dump(a);
}

std::string http_version(const decode::HttpMessage& m) {
  return fmt::format("HTTP/{}.{}", m.version_major, m.version_minor);
}

class SqliteExporter final : public Exporter {
 public:
  explicit SqliteExporter(const ExportOptions& opt)
      : opt_(opt), calls_(calls_table(field_col_)) {}
  ~SqliteExporter() override { sqlite3_close_v2(db_); }  // statements finalize after

  // The whole trace's lookups, HTTP and findings, as `dns`, `http` and `diagnose` see them.
  bool wants_http() const override { return true; }
  bool wants_findings() const override { return true; }

  Status begin(const trace::TraceHeader& header, const inspect::Inspector& in) override {
    header_ = header;
    inspector_ = &in;
    if (Status s = out_.reserve(opt_.out_path); !s.ok()) return s;
    // One thread uses the connection: no mutex around each call.
    if (sqlite3_open_v2(out_.temp_path().c_str(), &db_,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      return Status::error(fmt::format("cannot write {}: {}", opt_.out_path, sqlite3_errmsg(db_)));
    std::string schema =
        "PRAGMA page_size=65536; PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; "
        "PRAGMA locking_mode=EXCLUSIVE; PRAGMA cache_size=-65536; BEGIN;";
    for (const Table* t : tables()) schema += t->create();
    if (Status s = exec(schema); !s.ok()) return s;
    for (auto [ins, t] : inserts())
      if (Status s = ins->prepare(db_, t->name, t->names()); !s.ok()) return s;
    return add_meta();
  }

  void on_lookup(const inspect::Lookup& l) override { keep(add_lookup(l)); }
  void on_exchange(const inspect::HttpExchange& x) override { keep(add_exchange(x)); }
  void on_tls(const inspect::TlsInfo& t) override { keep(add_tls(t)); }
  void on_event(const inspect::Facts& f) override {
    if (f.matched) keep(add_call(f));
  }
  void on_connection_end(const inspect::Connection& c) override {
    if (c.matched) keep(add_connection(c));
  }

  Status finish() override {
    if (Status s = add_findings(inspector_->findings()); !s.ok()) return s;
    for (const auto& [pid, p] : inspector_->tracker().processes()) keep(add_process(p));
    if (!problem().ok()) return problem();
    // One index, for a connection's calls (an index costs a fifth of the export's time).
    if (Status s = exec("CREATE INDEX calls_conn ON calls(conn); COMMIT;"); !s.ok())
      return s;
    for (auto [ins, t] : inserts()) ins->close();
    if (sqlite3_close(db_) != SQLITE_OK)
      return Status::error(fmt::format("sqlite: {}", sqlite3_errmsg(db_)));
    db_ = nullptr;
    return out_.commit();
  }

 private:
  Status add_call(const inspect::Facts& f) {
    const Event& ev = f.ev;
    const bool failed = !ev.error.ok();
    ins_calls_.add(ev.seq)
        .add(present::utc_text(header_.wall_ns(ev.ts)))
        .add(ev.ts)
        .add(ev.dur)
        .add(ev.pid)
        .add(ev.tid);
    const uint64_t conn = f.conn ? f.conn->id : 0;
    ins_calls_.add_if(conn != 0, conn)
        .add(ev.func < FuncId::kCount ? func_def(ev.func).name : std::string_view())
        .add(ev.type() != EventType::Unknown ? event_def(ev.type()).name : std::string_view())
        .add(ev.result);
    if (failed) {
      ins_calls_.add(error_name(ev.error))
          .add(domain_name(ev.error.domain))
          .add(int64_t{ev.error.value});
    } else {
      ins_calls_.null().null().null();
    }
    // The fields the call has; the other columns stay NULL.
    for (uint8_t i = 0; i < ev.nvalues; ++i) {
      const Value& v = ev.values[i];
      if (v.id >= FieldId::kCount) continue;
      ins_calls_.at(field_col_[static_cast<size_t>(v.id)]);
      add_field(field_def(v.id), v, ev.func);
    }
    return ins_calls_.insert();
  }

  std::vector<const Table*> tables() const {
    return {&kMeta, &kProcesses, &calls_, &kConnections, &kLookups, &kHttp, &kTls, &kFindings,
            &kFindingCalls};
  }
  std::vector<std::pair<Insert*, const Table*>> inserts() {
    return {{&ins_meta_, &kMeta},       {&ins_processes_, &kProcesses},
            {&ins_calls_, &calls_},     {&ins_connections_, &kConnections},
            {&ins_lookups_, &kLookups}, {&ins_http_, &kHttp},
            {&ins_tls_, &kTls},         {&ins_findings_, &kFindings},
            {&ins_finding_calls_, &kFindingCalls}};
  }

  Status exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) == SQLITE_OK) return Status();
    Status s = Status::error(fmt::format("sqlite: {}", err ? err : "failed"));
    sqlite3_free(err);
    return s;
  }
  void add_field(const FieldDef& f, const Value& v, FuncId func) {
    switch (f.type) {
      case FieldType::Bytes: ins_calls_.add(v.num).blob(v.bytes()); break;
      case FieldType::Int: ins_calls_.add(static_cast<int64_t>(v.num)); break;
      case FieldType::UInt:
      case FieldType::Sock:
      case FieldType::Duration: ins_calls_.add(v.num); break;
      case FieldType::Str: ins_calls_.add(v.bytes()); break;
      default: ins_calls_.add(present::value_text(f, v, 40, func)); break;
    }
  }

  Status add_meta() {
    const std::pair<std::string_view, std::string> rows[] = {
        {"wstrace_version", header_.wstrace_version},
        {"host", header_.host},
        {"os", header_.os},
        {"arch", header_.arch},
        {"command", header_.command},
        {"snaplen", std::to_string(header_.snaplen)},
        {"wall_anchor_ns", std::to_string(header_.wall_anchor_ns)},
        {"mono_anchor_ns", std::to_string(header_.mono_anchor_ns)},
    };
    for (const auto& [k, v] : rows)
      if (Status s = ins_meta_.add(k).add(v).insert(); !s.ok()) return s;
    return Status();
  }

  Status add_process(const inspect::Process& p) {
    ins_processes_.add(p.pid)
        .add(p.ppid)
        .add(p.image.empty() ? std::string() : p.name())
        .add(p.image)
        .add(p.cmdline)
        .add(p.platform == Platform::Windows ? "windows"
             : p.platform == Platform::Linux ? "linux"
                                             : "")
        .add(p.start_ts)
        .add_if(p.exited, p.end_ts)
        .add(p.exited)
        .add_if(p.exited, p.exit_code)
        .add(p.calls)
        .add(p.failed)
        .add(p.bytes_out)
        .add(p.bytes_in);
    return ins_processes_.insert();
  }

  Status add_connection(const inspect::Connection& c) {
    std::vector<std::string> errors;
    for (const auto& e : c.error_codes) errors.push_back(error_name(e));
    ins_connections_.add(c.id)
        .add(c.pid)
        .add(c.sock)
        .add(c.kind())
        .add(inspect::role_name(c.role))
        .add_if(c.role == inspect::ConnRole::Accepted, c.listener)
        .add(c.local ? to_string(*c.local) : std::string())
        .add(c.remote ? to_string(*c.remote) : std::string())
        .add(c.host)
        .add(present::utc_text(header_.wall_ns(c.opened_ts)))
        .add(c.opened_ts)
        .add_if(c.connected_ts != 0, c.connected_ts)
        .add(c.closed_ts ? present::utc_text(header_.wall_ns(c.closed_ts)) : std::string())
        .add_if(c.closed_ts != 0, c.closed_ts)
        .add_if(c.closed_ts != 0, c.closed_ts - c.opened_ts)
        .add(c.bytes_out)
        .add(c.bytes_in)
        .add(c.calls_out)
        .add(c.calls_in)
        .add(inspect::end_name(c.end))
        .add(c.end_error.ok() ? std::string() : error_name(c.end_error))
        .add(c.errors)
        .add(json_list(errors));
    return ins_connections_.insert();
  }

  Status add_lookup(const inspect::Lookup& l) {
    ins_lookups_.add(l.seq)
        .add(present::utc_text(header_.wall_ns(l.ts)))
        .add(l.ts)
        .add(l.pid)
        .add(l.tid)
        .add(l.packet ? "packet" : "call")
        .add(l.via)
        .add_if(l.packet, l.conn)
        .add_if(l.packet, uint64_t{l.dns_id})
        .add(l.answered)
        .add(l.name)
        .add(l.service)
        .add(l.asked)
        .add(json_list(l.answers))
        .add(l.dur)
        .add(l.ok)
        .add(l.result)
        .add(l.meaning);
    return ins_lookups_.insert();
  }

  Status add_exchange(const inspect::HttpExchange& x) {
    const int64_t start = x.has_request ? x.request_start : x.response_start;
    const auto& rq = x.request;
    const auto& rs = x.response;
    const bool q = x.has_request, r = x.has_response;
    ins_http_.add(x.conn).add(x.pid).add(present::utc_text(header_.wall_ns(start))).add(start);
    ins_http_.add(x.host)
        .add(q ? rq.method : "")
        .add(q ? rq.target : "")
        .add(q ? http_version(rq) : "")
        .add(q ? headers_json(rq) : "")
        .add_if(q, rq.header_size)
        .add_if(q, rq.body_size)
        .add(q ? decode::end_text(rq) : "");
    ins_http_.add_if(r, uint64_t{rs.status})
        .add(r ? rs.reason : "")
        .add(r ? http_version(rs) : "")
        .add(r ? headers_json(rs) : "")
        .add_if(r, rs.header_size)
        .add_if(r, rs.body_size)
        .add_if(r, rs.body_uncaptured)
        .add(r ? decode::end_text(rs) : "")
        .add_if(x.ttfb() >= 0, x.ttfb())
        .add_if(q && r, x.response_end - x.request_start);
    return ins_http_.insert();
  }

  Status add_tls(const inspect::TlsInfo& t) {
    const bool server = t.has_server && t.server.ok();
    ins_tls_.add(t.conn)
        .add(t.pid)
        .add(present::utc_text(header_.wall_ns(t.ts)))
        .add(t.ts)
        .add(t.client.server_name)
        .add(json_list(t.client.alpn))
        .add(decode::tls_version_name(t.client.version))
        .add(server ? decode::tls_version_name(t.server.version) : std::string())
        .add(server && !t.server.alpn.empty() ? t.server.alpn.front() : std::string())
        .add(t.client.ok() ? std::string()
                           : t.client.problem.empty() ? std::string("cut") : t.client.problem);
    return ins_tls_.insert();
  }

  Status add_findings(const std::vector<inspect::Finding>& findings) {
    int64_t id = 0;
    for (const auto& f : findings) {
      ++id;
      nlohmann::ordered_json counts = nlohmann::ordered_json::object();
      for (const auto& [k, v] : f.counts) counts[k] = v;
      ins_findings_.add(id)
          .add(inspect::severity_name(f.severity))
          .add(f.rule)
          .add(f.title)
          .add(present::json_dump(nlohmann::json(f.conns)))
          .add(f.more_conns)
          .add(present::json_dump(counts))
          .add(f.meaning)
          .add(f.next);
      if (Status s = ins_findings_.insert(); !s.ok()) return s;
      for (const auto& c : f.calls) {
        ins_finding_calls_.add(id)
            .add(c.seq)
            .add(present::utc_text(header_.wall_ns(c.ts)))
            .add(c.ts)
            .add(c.pid)
            .add(c.tid)
            .add_if(c.conn != 0, c.conn)
            .add(c.text);
        if (Status s = ins_finding_calls_.insert(); !s.ok()) return s;
      }
    }
    return Status();
  }

  ExportOptions opt_;
  Output out_;
  trace::TraceHeader header_;
  sqlite3* db_ = nullptr;
  std::array<int, static_cast<size_t>(FieldId::kCount)> field_col_{};
  Table calls_;
  Insert ins_meta_, ins_processes_, ins_calls_, ins_connections_, ins_lookups_, ins_http_,
      ins_tls_, ins_findings_, ins_finding_calls_;
  // The whole trace's lookups, HTTP and findings, as `dns`, `http` and `diagnose` see them.
  const inspect::Inspector* inspector_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Exporter>> make_sqlite_exporter(const ExportOptions& opt) {
  return std::unique_ptr<Exporter>(new SqliteExporter(opt));
}

}  // namespace ws::exporter
