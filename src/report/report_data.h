// What the HTML report shows, gathered in one pass over a trace: the calls as columns (one
// vector per field, so a million calls stay compact), the connections, lookups, HTTP exchanges
// and findings, and the summary of the run. An Inspector does the inspecting; this only collects
// what it hands over (docs/report.md).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "event.h"
#include "filter.h"
#include "inspector.h"
#include "http_watch.h"
#include "lookups.h"
#include "trace_format.h"
#include "tracker.h"

namespace ws::report {

// Texts the report holds many times (argument lists, host names, error names) are kept once.
class StringTable {
 public:
  StringTable() { id(""); }
  // The index of `s`, adding it when new; "" is 0.
  uint32_t id(const std::string& s);
  const std::vector<std::string>& strings() const { return list_; }

 private:
  std::unordered_map<std::string, uint32_t> index_;
  std::vector<std::string> list_;
};

// The calls kept in the report, in trace order, one entry per call in each vector.
struct CallColumns {
  std::vector<uint64_t> seq;
  std::vector<int64_t> ts;       // ns since the trace's first event
  std::vector<uint64_t> dur;
  std::vector<uint32_t> thread;  // index into ReportData::threads
  std::vector<uint16_t> func;    // FuncId
  std::vector<uint64_t> conn;    // 0 = none
  std::vector<int64_t> result;
  std::vector<uint32_t> error;   // index into ReportData::errors; 0 = did not fail
  std::vector<int64_t> bytes;    // bytes moved (the filter's `bytes`); -1 = unknown
  std::vector<int64_t> sock;     // the socket used, else the one created; -1 = none
  std::vector<int64_t> sock2;    // the socket created when `sock` is the one used; -1 = none
  std::vector<uint32_t> args;    // string: the arguments as `show` prints them, payload left out
  std::vector<uint32_t> facts;   // index into ReportData::facts
  std::vector<uint32_t> kept;    // payload bytes in ReportData::payload (at most the cap)
  std::vector<uint64_t> total;   // the payload's original length
  // An overlapped call and its completion point at each other: the other one's seq; 0 = none.
  std::vector<uint64_t> link;
  // The event table's fields that the filter can name (len, flags, optname …), by FieldId:
  // the calls that have the field (indices into the columns above) and its values (numbers;
  // texts as indices into the string table).
  struct Raw {
    std::vector<uint32_t> at;
    std::vector<uint64_t> v;
  };
  std::vector<Raw> raw;
  size_t size() const { return seq.size(); }
};

// What the filter sees of a call beyond its own fields (inspect::FilterFacts), as the page's
// filter box needs it; many calls share one.
struct FactsRow {
  int64_t family = -1;  // ws::af code; -1 = unknown
  uint64_t proto = 0;   // 0 = unknown
  std::string lip, rip; // IP ends ("" = none)
  int32_t lport = -1, rport = -1;
  std::string host, proc;
};

struct ThreadRow {
  uint32_t pid = 0, tid = 0;
  std::string name;  // thread_name, "" when never named
};

struct ErrorRow {
  std::string name;     // "ECONNREFUSED"
  std::string posix;    // the errno of the same sense for a Windows error, else ""
  ErrDomain domain = ErrDomain::None;
  int32_t value = 0;
  std::string meaning;
  bool outcome = false;  // would-block, in progress, pending…: not a failure (error_class.h)
};

struct ConnRow {
  inspect::Connection c;
  uint32_t tid = 0;        // the thread of its first call
  bool in_report = false;  // a call of it passed the filter
};

struct Summary {
  uint64_t events = 0, calls = 0, failed = 0, drops = 0;
  uint64_t connections = 0, lookups = 0, http = 0, tls = 0;
  int64_t first_ts = 0, last_ts = 0;  // monotonic ns: first entry, last exit
  bool truncated = false;             // calls beyond max_calls were left out
};

// A kept call's columns that take no formatting, as the inspection hands the call over (its
// thread and error already rows of ReportData's tables). The texts come from the event (CallRows).
struct CallHead {
  uint64_t seq = 0;
  int64_t ts = 0;  // ns since the trace's first event
  uint64_t dur = 0;
  uint32_t thread = 0, error = 0;
  uint16_t func = 0;
  uint64_t conn = 0;
  int64_t result = 0;
  int64_t bytes = -1, sock = -1, sock2 = -1;
  uint64_t link = 0;
};

struct ReportOptions {
  inspect::Filter filter;        // calls kept; the empty filter keeps all
  uint32_t payload_cap = 512;    // payload bytes kept per call
  uint64_t max_calls = 0;        // 0 = no limit
};

struct ReportData {
  trace::TraceHeader header;
  std::string filter_text;
  uint32_t payload_cap = 0;
  Summary summary;
  CallColumns calls;
  std::string payload;  // the kept payload bytes of every call, one after the other
  StringTable strings;
  std::vector<ThreadRow> threads;
  std::vector<ErrorRow> errors;  // [0] is "no error"
  std::vector<FactsRow> facts;
  std::vector<inspect::Process> processes;  // by pid
  std::vector<ConnRow> conns;               // by id
  std::vector<inspect::Lookup> lookups;     // in the order they completed
  std::vector<inspect::HttpExchange> http;
  std::vector<inspect::TlsInfo> tls;  // the hellos of TLS connections
  std::vector<inspect::Finding> findings;
  std::string problem;  // how the trace ended when not cleanly ("" = complete)
};

struct ReportData;
class CallTape;

// Appends kept calls to a ReportData's call columns, payload, string and facts tables: what the
// call's event and the filter's facts about it make (the arguments as `show` prints them, the
// raw fields, the payload). The report and the live view (on a page's thread) share it.
class CallRows {
 public:
  explicit CallRows(uint32_t payload_cap);
  void add(ReportData& d, const CallHead& head, const Event& ev,
           const inspect::FilterFacts& facts);
  // Renumbers the string and facts tables of `d` (whose rows this made) to hold only what its
  // calls name: a live view's window of calls moves on, and its tables would grow with every
  // distinct text of the run otherwise.
  void compact(ReportData& d);

 private:
  uint32_t facts_index(ReportData& d, const inspect::FilterFacts& f);

  uint32_t payload_cap_;
  std::unordered_map<std::string, uint32_t> facts_ids_;  // FactsRow as text → index
  std::vector<bool> raw_usable_;                         // by FieldId: the filter names it
};

// Points the overlapped calls of `k` at their completions held there (the completions already
// point back): what finish() does; calls formatted after it (CallRows) want it too.
void link_overlapped(CallColumns& k);

// Forgets the first `n` calls of `d` (their payloads too): a live view keeps a window.
void forget_calls(ReportData& d, size_t n);

// Follows a trace event by event and fills a ReportData: a subscriber of an Inspector of its own
// (with the report's filter, the HTTP/TLS watchers and the findings).
class ReportBuilder final : public inspect::Subscriber {
 public:
  explicit ReportBuilder(ReportOptions options);
  // Follows `shared` instead of an inspection of its own (the live view: one more subscriber of
  // record's inspection): the caller subscribes the builder to it, observes and finishes it.
  // The options' filter is the shared inspection's.
  ReportBuilder(ReportOptions options, inspect::Inspector& shared);
  ~ReportBuilder() override;
  void observe(const Event& ev) { inspector_->observe(ev); }
  // What was gathered so far (finish() hands it over).
  const ReportData& data() const { return *data_; }
  // The row of connection `c` as it is now, open or not.
  ConnRow row_of(const inspect::Connection& c) const;
  // The calls kept go to `tape` from now on, as they came, instead of into data()'s columns
  // (the live view formats them when a page asks: CallRows). `tape` outlives the builder.
  void defer_calls(CallTape& tape) { tape_ = &tape; }
  // Forgets the oldest ended connections, lookups, HTTP exchanges and TLS hellos of each table
  // that holds more than `keep` rows, down to `keep`; adds how many went to `gone`'s counts
  // (a live view keeps a window of them, as of calls).
  struct Gone {
    size_t conns = 0, lookups = 0, http = 0, tls = 0;
  };
  void forget_rows(size_t keep, Gone& gone);
  // Forgets everything gathered and follows `shared` from its start (a playback seeking back);
  // the calls still go to the tape given, if any.
  void restart(inspect::Inspector& shared);
  // Ends the trace (`problem`: how it ended, "" when cleanly) and hands over the data.
  std::unique_ptr<ReportData> finish(const trace::TraceHeader& header, std::string problem);

  void on_event(const inspect::Facts& f) override;
  void on_connection_end(const inspect::Connection& c) override;
  void on_lookup(const inspect::Lookup& l) override { data_->lookups.push_back(l); }
  void on_exchange(const inspect::HttpExchange& x) override { data_->http.push_back(x); }
  void on_tls(const inspect::TlsInfo& t) override { data_->tls.push_back(t); }

 private:
  void start();
  void count(const inspect::Facts& f);
  void keep(const inspect::Facts& f);
  uint32_t thread_index(uint32_t pid, uint32_t tid);
  uint32_t error_index(const ErrorCode& e, inspect::ErrorClass cls);  // (cls: as inspected)

  ReportOptions options_;
  std::unique_ptr<ReportData> data_;
  CallRows rows_;
  CallTape* tape_ = nullptr;  // defer_calls()
  std::unique_ptr<inspect::Inspector> own_;  // unless shared
  inspect::Inspector* inspector_;
  std::unordered_map<uint64_t, uint32_t> thread_ids_;        // pid << 32 | tid → index
  std::unordered_map<uint64_t, uint32_t> error_ids_;         // packed code, outcome → index
  std::unordered_map<uint64_t, uint32_t> conn_tid_;          // open connections' first thread
  // Open connections with a call in the report (not only matched: --max-calls may cut it).
  std::unordered_set<uint64_t> conn_kept_;
};

}  // namespace ws::report
