// The HTML report's data: what ReportBuilder gathers from the synthetic demo trace (calls as
// columns, connections, lookups, HTTP exchanges, findings), a filter and the payload cap, and
// the JSON and page written from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <nlohmann/json.hpp>
#include <string>

#include "constants.h"
#include "engine.h"
#include "event_builder.h"
#include "filter.h"
#include "json_out.h"
#include "report_data.h"
#include "report_html.h"

namespace {

using ws::report::ReportData;
using ws::report::ReportOptions;

std::unique_ptr<ReportData> gather(ReportOptions opt) {
  auto engine = ws::make_synthetic_engine("demo", ws::Platform::Linux);
  EXPECT_TRUE(engine.ok());
  ws::report::ReportBuilder builder(std::move(opt));
  ws::Event ev;
  while (engine.value()->next(ev)) builder.observe(ev);
  return builder.finish(engine.value()->header(), "");
}

ReportOptions with_filter(const std::string& text) {
  ReportOptions opt;
  auto f = ws::inspect::Filter::parse(text);
  EXPECT_TRUE(f.ok()) << f.status().message();
  opt.filter = f.value();
  return opt;
}

// The index of the first kept call of function `name`.
size_t first_call(const ReportData& d, std::string_view name) {
  const auto id = static_cast<uint16_t>(ws::func_by_name(name));
  return static_cast<size_t>(std::find(d.calls.func.begin(), d.calls.func.end(), id) -
                             d.calls.func.begin());
}

TEST(Report, GathersEveryCallAsColumns) {
  auto d = gather({});
  const auto& k = d->calls;
  EXPECT_EQ(k.size(), d->summary.events);
  EXPECT_EQ(k.ts.size(), k.size());
  EXPECT_EQ(k.args.size(), k.size());
  EXPECT_EQ(k.ts.front(), 0);
  EXPECT_TRUE(std::is_sorted(k.seq.begin(), k.seq.end()));
  // The refused connect: its connection, its error, its arguments.
  const size_t c = first_call(*d, "connect");
  ASSERT_LT(c, k.size());
  EXPECT_EQ(k.conn[c], 1u);
  EXPECT_EQ(k.error[c], 0u);
  EXPECT_EQ(d->strings.strings()[k.args[c]], "sock=3, addr=127.0.0.1:8080");
  size_t refused = c + 1;
  while (refused < k.size() && k.error[refused] == 0) ++refused;
  ASSERT_LT(refused, k.size());
  EXPECT_EQ(d->errors[k.error[refused]].name, "ECONNREFUSED");
  EXPECT_EQ(k.conn[refused], 2u);
  // Bytes moved: the send's original length; unknown for a connect.
  const size_t s = first_call(*d, "send");
  EXPECT_EQ(k.bytes[s], 75);
  EXPECT_EQ(k.total[s], 75u);
  EXPECT_EQ(k.kept[s], 64u);  // what the trace kept, under the report's cap
  EXPECT_EQ(k.bytes[c], -1);
  // A lookup's host.
  const size_t l = first_call(*d, "getaddrinfo");
  EXPECT_EQ(d->facts[k.facts[l]].host, "api.example.test");
  // Threads and their names.
  ASSERT_EQ(d->threads.size(), 2u);
  EXPECT_EQ(d->threads[0].name, "main");
  EXPECT_EQ(d->threads[1].name, "resolver");
  EXPECT_EQ(d->threads[k.thread[l]].tid, 4242u);
}

// What the page's filter box compares: the filter's view of each call beyond its own fields,
// and the event table's fields.
TEST(Report, GathersWhatTheFilterSees) {
  auto d = gather({});
  const auto& k = d->calls;
  ASSERT_EQ(k.facts.size(), k.size());
  ASSERT_EQ(k.sock2.size(), k.size());
  // The connect to the server: both ends from the tracker, its family and protocol.
  const size_t c = first_call(*d, "connect");
  const ws::report::FactsRow& f = d->facts[k.facts[c]];
  EXPECT_EQ(f.rip, "127.0.0.1");
  EXPECT_EQ(f.rport, 8080);
  EXPECT_EQ(f.family, static_cast<int64_t>(ws::af::kInet));
  EXPECT_EQ(f.proto, static_cast<uint64_t>(ws::proto::kTcp));
  EXPECT_EQ(f.host, "api.example.test");  // the name that resolved to its address
  EXPECT_EQ(f.proc, "demo-client");
  // socket(): no socket used, the one it made.
  const size_t so = first_call(*d, "socket");
  EXPECT_EQ(k.sock[so], 3);
  EXPECT_EQ(k.sock2[so], -1);
  // A lookup has no ends.
  const size_t l = first_call(*d, "getaddrinfo");
  EXPECT_TRUE(d->facts[k.facts[l]].rip.empty());
  EXPECT_EQ(d->facts[k.facts[l]].rport, -1);
  // The event table: the send's len, the socket()'s type, the lookup's service (a text).
  const auto& len = k.raw[static_cast<size_t>(ws::FieldId::len)];
  const size_t s = first_call(*d, "send");
  const auto at = std::find(len.at.begin(), len.at.end(), s);
  ASSERT_NE(at, len.at.end());
  EXPECT_EQ(len.v[static_cast<size_t>(at - len.at.begin())], 75u);
  const auto& type = k.raw[static_cast<size_t>(ws::FieldId::type)];
  ASSERT_FALSE(type.at.empty());
  EXPECT_EQ(type.at.front(), so);
  EXPECT_EQ(ws::code_name(ws::ConstTable::SockType, type.v.front()), "SOCK_STREAM");
  const auto& service = k.raw[static_cast<size_t>(ws::FieldId::service)];
  ASSERT_FALSE(service.at.empty());
  EXPECT_EQ(d->strings.strings()[service.v.front()], "8080");
  // Fields the language's own fields stand for are not repeated: sock, addr, payload, host.
  for (ws::FieldId id : {ws::FieldId::sock, ws::FieldId::addr, ws::FieldId::payload,
                         ws::FieldId::host, ws::FieldId::family})
    EXPECT_TRUE(k.raw[static_cast<size_t>(id)].at.empty()) << ws::field_def(id).name;
}

TEST(Report, GathersConnectionsLookupsExchangesFindings) {
  auto d = gather({});
  ASSERT_EQ(d->conns.size(), 6u);
  EXPECT_EQ(d->conns[0].c.id, 1u);
  EXPECT_EQ(d->conns[0].c.bytes_out, 75u);
  EXPECT_TRUE(d->conns[0].in_report);
  EXPECT_EQ(d->conns[4].tid, 4243u);  // the UDP flow of the resolver thread
  EXPECT_EQ(d->lookups.size(), 3u);
  ASSERT_EQ(d->http.size(), 1u);
  EXPECT_EQ(d->http[0].request.method, "GET");
  EXPECT_EQ(d->http[0].response.status, 200);
  std::vector<std::string> rules;
  for (const auto& f : d->findings) rules.push_back(f.rule);
  EXPECT_NE(std::find(rules.begin(), rules.end(), "connect-failed"), rules.end());
  EXPECT_EQ(d->summary.connections, 6u);
  EXPECT_GT(d->summary.failed, 3u);
  EXPECT_GT(d->summary.last_ts, d->summary.first_ts);
}

TEST(Report, FilterKeepsMatchingCallsAndTheirConnections) {
  auto d = gather(with_filter("conn == 1"));
  ASSERT_GT(d->calls.size(), 0u);
  for (uint64_t c : d->calls.conn) EXPECT_EQ(c, 1u);
  EXPECT_EQ(d->summary.events, 30u);  // the summary still counts the whole trace
  for (const auto& r : d->conns) EXPECT_EQ(r.in_report, r.c.id == 1) << r.c.id;
  EXPECT_TRUE(d->lookups.empty());  // their calls were not kept
  EXPECT_EQ(d->http.size(), 1u);    // the exchange of connection 1
  EXPECT_FALSE(d->findings.empty());  // findings are of the whole trace
  EXPECT_EQ(d->filter_text, "conn == 1");
}

TEST(Report, PayloadCapAndMaxCalls) {
  ReportOptions opt;
  opt.payload_cap = 8;
  opt.max_calls = 6;
  auto d = gather(std::move(opt));
  EXPECT_EQ(d->calls.size(), 6u);
  EXPECT_TRUE(d->summary.truncated);
  const size_t s = first_call(*d, "send");
  ASSERT_LT(s, d->calls.size());
  EXPECT_EQ(d->calls.kept[s], 8u);
  EXPECT_EQ(d->calls.total[s], 75u);
  EXPECT_EQ(d->payload, "GET /sta");
}

TEST(Report, JsonAndPage) {
  auto d = gather({});
  const std::string json = ws::report::report_json(*d);
  EXPECT_EQ(json.find('<'), std::string::npos);  // safe inside <script>
  const auto j = nlohmann::json::parse(json);
  EXPECT_EQ(j["calls"]["n"], d->calls.size());
  EXPECT_EQ(j["calls"]["ts"].size(), d->calls.size());
  EXPECT_EQ(j["conns"].size(), 6u);
  EXPECT_EQ(j["meta"]["command"], d->header.command);
  EXPECT_EQ(j["strings"][0], "");
  // Deltas: summing the seq column gives the seqs back.
  uint64_t seq = 0;
  for (size_t i = 0; i < d->calls.size(); ++i) {
    seq += j["calls"]["seq"][i].get<uint64_t>();
    EXPECT_EQ(seq, d->calls.seq[i]);
  }
  // The filter language as data: every field, names for the code fields, refusals.
  std::map<std::string, nlohmann::json> fields;
  for (const auto& f : j["filter"]["fields"]) fields[f[0].get<std::string>()] = f;
  EXPECT_EQ(fields["rport"][1], "number");
  EXPECT_EQ(fields["rport"][3], 65535u);
  EXPECT_EQ(fields["optname"][1], "code");
  EXPECT_EQ(fields["flags"][1], "flags");
  EXPECT_EQ(fields["timeout"][1], "duration");
  EXPECT_EQ(fields["cmdline"][1], "text");
  EXPECT_NE(fields["addr"][7].get<std::string>().find("address field"), std::string::npos);
  bool dgram = false;
  for (const auto& n : fields["type"][6])
    dgram = dgram || (n[1] == "SOCK_DGRAM" && n[2] == "DGRAM");
  EXPECT_TRUE(dgram);
  // The raw columns: positions as differences, then the values.
  const auto& len = j["calls"]["raw"]["len"];
  const auto& col = d->calls.raw[static_cast<size_t>(ws::FieldId::len)];
  ASSERT_EQ(len["at"].size(), col.at.size());
  uint64_t at = 0;
  for (size_t i = 0; i < col.at.size(); ++i) {
    at += len["at"][i].get<uint64_t>();
    EXPECT_EQ(at, col.at[i]);
    EXPECT_EQ(len["v"][i].get<uint64_t>(), col.v[i]);
  }
  EXPECT_EQ(j["facts"].size(), d->facts.size());
  const std::string page = ws::report::report_html(*d);
  EXPECT_EQ(page.find("@WSTRACE_"), std::string::npos);
  EXPECT_NE(page.find("compileFilter"), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
  EXPECT_EQ(page.find("http://"), std::string::npos);  // nothing to fetch
  EXPECT_EQ(page.find("https://"), std::string::npos);
}

// The page reads the data's tables by column name ("columns", columnsOf and records in
// report.js): every row has a cell per named column, and every column and table the page names
// is in the data, so that a column dropped or renamed on either side fails here.
TEST(Report, ColumnsNamedOnceForThePage) {
  ReportOptions opt;
  auto d = gather(opt);
  const auto j = nlohmann::json::parse(ws::report::report_json(*d));
  const auto& columns = j["columns"];
  auto width = [&](const std::string& table) { return columns.at(table).size(); };
  for (const std::string table : {"conns", "lookups", "http", "tls", "procs", "threads", "errors",
                                  "facts", "all_errors", "error_aliases"}) {
    // The demo has no TLS: that table's columns are named all the same.
    ASSERT_TRUE(table == "tls" || !j[table].empty()) << table;
    for (const auto& row : j[table]) EXPECT_EQ(row.size(), width(table)) << table;
  }
  for (const auto& f : j["filter"]["fields"]) {
    EXPECT_EQ(f.size(), width("filter_fields"));
    for (const auto& n : f[6]) EXPECT_EQ(n.size(), width("filter_names"));
  }
  for (const auto& k : j["filter"]["kinds"]) EXPECT_EQ(k.size(), width("filter_kinds"));
  ASSERT_FALSE(j["findings"].empty());
  for (const auto& f : j["findings"]) {
    for (const auto& c : f["calls"]) EXPECT_EQ(c.size(), width("finding_calls"));
    for (const auto& c : f["counts"]) EXPECT_EQ(c.size(), width("finding_counts"));
  }
  // A row's values under their names: the refused connection of the demo.
  const auto& conn = j["conns"][0];
  auto at = [&](const std::string& table, const std::string& name) {
    const auto& names = columns.at(table);
    return static_cast<size_t>(std::find(names.begin(), names.end(), name) - names.begin());
  };
  EXPECT_EQ(conn[at("conns", "id")], d->conns[0].c.id);
  EXPECT_EQ(conn[at("conns", "end")], std::string(ws::inspect::end_name(d->conns[0].c.end)));
  EXPECT_EQ(conn[at("conns", "in_report")], 1);
  // Every kind a field has is described.
  std::set<std::string> kinds;
  for (const auto& k : j["filter"]["kinds"])
    kinds.insert(k[at("filter_kinds", "name")].get<std::string>());
  for (const auto& f : j["filter"]["fields"]) {
    if (f[at("filter_fields", "refused")] != "") continue;
    EXPECT_TRUE(kinds.count(f[at("filter_fields", "kind")].get<std::string>())) << f;
  }
  // What the page's script asks for: columnsOf("table", [names]) and records("table", [names]).
  const std::string page = ws::report::report_html(*d);
  const std::regex ask(R"re((?:columnsOf|records)\("(\w+)", \[([^\]]*)\])re");
  const std::regex word(R"re("(\w+)")re");
  size_t asked = 0;
  for (std::sregex_iterator m(page.begin(), page.end(), ask), end; m != end; ++m) {
    const std::string table = (*m)[1], list = (*m)[2];
    ASSERT_TRUE(columns.contains(table)) << "the page reads a table '" << table << "'";
    for (std::sregex_iterator w(list.begin(), list.end(), word); w != end; ++w, ++asked)
      EXPECT_LT(at(table, (*w)[1]), width(table))
          << "the page reads a column '" << (*w)[1] << "' of '" << table << "'";
  }
  EXPECT_GT(asked, 80u);
}

TEST(Report, JsonStringsAreSafe) {
  ws::report::JsonOut o;
  o.str("a\"b\\c\n</script>\x01\xff\xc3\xa9");
  EXPECT_EQ(o.text(), "\"a\\\"b\\\\c\\n\\u003c/script>\\u0001\\u00ff\xc3\xa9\"");
  ws::report::JsonOut sparse;
  sparse.sparse(std::vector<uint32_t>{0, 0, 5, 0, 0, 0, 7, 0, 0}, 0u);
  EXPECT_EQ(sparse.text(), R"({"d":0,"at":[2,4],"v":[5,7]})");
  ws::report::JsonOut dense;
  dense.sparse(std::vector<int64_t>{1, -1, 3}, int64_t{-1});
  EXPECT_EQ(dense.text(), "[1,-1,3]");
  ws::report::JsonOut row;
  row.tuple(uint64_t{18446744073709551615u}, -2, "a\"", std::string("b"), std::optional<int>(),
            std::optional<int>(7), true);
  EXPECT_EQ(row.text(), R"([18446744073709551615,-2,"a\"","b",null,7,true])");
  EXPECT_EQ(ws::report::base64("GET"), "R0VU");
  EXPECT_EQ(ws::report::base64("GE"), "R0U=");
  EXPECT_EQ(ws::report::base64("G"), "Rw==");
}

}  // namespace

namespace {
// Events built one after another into a report.
struct Feed {
  ws::report::ReportBuilder builder{{}};
  ws::EventBuilder b;
  uint64_t seq = 0;
  int64_t ts = 0;
  ws::EventBuilder& call(ws::FuncId f) { return b.begin(f, 1, 1, ts += 1000); }
  void operator()(ws::EventBuilder& e) {
    e.event().seq = seq++;
    builder.observe(e.event());
  }
};
}  // namespace

// Would-block, in-progress and pending are outcomes: not counted as failed, and marked so for
// the page (which draws only failures red).
TEST(Report, OutcomesAreNotFailures) {
  Feed feed;
  auto& builder = feed.builder;
  auto& b = feed.b;
  int64_t& ts = feed.ts;
  feed(b.begin(ws::FuncId::connect, 1, 1, ts += 1000).num(ws::FieldId::sock, 3)
           .addr(ws::FieldId::addr, ws::SockAddr::ipv4(0x7f000001, 80))
           .result(-1, ws::errcode::kEinprogress));
  feed(b.begin(ws::FuncId::WSARecv, 1, 1, ts += 1000).num(ws::FieldId::sock, 3)
           .result(-1, ws::errcode::kWsaIoPending));
  feed(b.begin(ws::FuncId::recv, 1, 1, ts += 1000).num(ws::FieldId::sock, 3)
           .result(-1, ws::errcode::kEagain));
  feed(b.begin(ws::FuncId::send, 1, 1, ts += 1000).num(ws::FieldId::sock, 3)
           .result(-1, ws::errcode::kEconnreset));
  auto d = builder.finish(ws::trace::TraceHeader{}, "");
  EXPECT_EQ(d->summary.calls, 4u);
  EXPECT_EQ(d->summary.failed, 1u);
  std::map<std::string, bool> outcome;
  for (const auto& e : d->errors)
    if (!e.name.empty()) outcome[e.name] = e.outcome;
  EXPECT_EQ(outcome, (std::map<std::string, bool>{{"EAGAIN", true},
                                                   {"ECONNRESET", false},
                                                   {"EINPROGRESS", true},
                                                   {"WSA_IO_PENDING", true}}));
}

// A receive that times out under the SO_RCVTIMEO the program set is an outcome, as stats,
// info and the summary count it: its row in the error table says so, while the same code from
// a connect stays a failure (drawn red).
TEST(Report, ATimeoutTheProgramSetIsAnOutcome) {
  Feed feed;
  using ws::FieldId;
  using ws::FuncId;
  for (const int64_t s : {0x104, 0x108})
    feed(feed.call(FuncId::socket).num(FieldId::family, ws::af::kInet)
             .num(FieldId::type, ws::socktype::kStream).num(FieldId::protocol, ws::proto::kTcp)
             .result(s));
  feed(feed.call(FuncId::connect).num(FieldId::sock, 0x104)
           .addr(FieldId::addr, ws::SockAddr::ipv4(0x7f000001, 80)).result(0));
  feed(feed.call(FuncId::setsockopt).num(FieldId::sock, 0x104)
           .num(FieldId::level, ws::solevel::kSolSocket)
           .num(FieldId::optname, ws::sockopt::kSoRcvtimeo).num(FieldId::optval, 200).result(0));
  feed(feed.call(FuncId::recv).num(FieldId::sock, 0x104).result(-1, ws::errcode::kWsaetimedout));
  feed(feed.call(FuncId::connect).num(FieldId::sock, 0x108)
           .addr(FieldId::addr, ws::SockAddr::ipv4(0xc0000201, 80))
           .result(-1, ws::errcode::kWsaetimedout));
  auto d = feed.builder.finish(ws::trace::TraceHeader{}, "");
  EXPECT_EQ(d->summary.failed, 1u);
  const auto& k = d->calls;
  const size_t recv = first_call(*d, "recv");
  const auto connect_id = static_cast<uint16_t>(ws::func_by_name("connect"));
  const size_t refused = static_cast<size_t>(
      std::find(k.func.rbegin(), k.func.rend(), connect_id).base() - k.func.begin() - 1);
  ASSERT_LT(recv, k.error.size());
  ASSERT_LT(refused, k.error.size());
  const auto& timed_out = d->errors[k.error[recv]];
  const auto& connect_failed = d->errors[k.error[refused]];
  EXPECT_EQ(timed_out.name, "WSAETIMEDOUT");
  EXPECT_TRUE(timed_out.outcome);
  EXPECT_EQ(connect_failed.name, "WSAETIMEDOUT");
  EXPECT_FALSE(connect_failed.outcome);
}

// The live view's feed: a page gets, part after part, every call once in order; one that fell
// behind the window skips the oldest calls and is told how many; a page's cursor round-trips.
#include "live_feed.h"

namespace {

struct FeedRun {
  ws::inspect::Inspector inspection{[] {
    ws::inspect::InspectOptions io;
    io.http = true;
    io.findings = ws::inspect::DiagnoseOptions{};
    return io;
  }()};
  std::unique_ptr<ws::Engine> engine;
  std::unique_ptr<ws::report::LiveFeed> feed;
  uint64_t events = 0;

  FeedRun(const std::string& scenario, size_t window, size_t rows = 50000) {
    auto e = ws::make_synthetic_engine(scenario, ws::Platform::Linux);
    EXPECT_TRUE(e.ok());
    engine = std::move(e.value());
    feed = std::make_unique<ws::report::LiveFeed>(inspection, engine->header(), window, rows);
  }
  // Observes up to `n` more events (all when 0); false once the engine ran dry.
  bool observe(uint64_t n = 0) {
    ws::Event ev;
    for (uint64_t k = 0; n == 0 || k < n; ++k) {
      if (!engine->next(ev)) return false;
      std::lock_guard lock(feed->mutex());
      inspection.observe(ev);
      ++events;
    }
    return true;
  }
};

}  // namespace

TEST(LiveFeed, EveryCallOnceInOrderPartAfterPart) {
  FeedRun run("demo", 1000);
  ws::report::FeedCursor at;
  std::vector<uint64_t> seqs;
  bool running = true;
  for (bool first = true;; first = false) {
    if (running) running = run.observe(7);
    const auto part = nlohmann::json::parse(run.feed->next_part(at, 5, first));
    EXPECT_EQ(part["live"]["skipped"], 0);
    uint64_t seq = 0;  // (each part's seqs are differences from its first)
    for (uint64_t d : part["calls"]["seq"]) seqs.push_back(seq += d);
    if (!running && part["calls"]["n"] == 0) break;
  }
  ASSERT_EQ(seqs.size(), run.events);
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i);
  ws::report::FeedCursor back;
  EXPECT_TRUE(back.parse(at.text()));
  EXPECT_EQ(back.text(), at.text());
  EXPECT_FALSE(back.parse("1,2,x"));
}

TEST(LiveFeed, APageBehindTheWindowSkipsTheOldestAndIsTold) {
  FeedRun run("bench:5000", 1000);
  run.observe();
  ws::report::FeedCursor at;
  const auto part = nlohmann::json::parse(run.feed->next_part(at, 100000, true));
  const uint64_t skipped = part["live"]["skipped"], sent = part["calls"]["n"];
  EXPECT_GT(skipped, 0u);
  EXPECT_LE(sent, 1000u);
  EXPECT_EQ(skipped + sent, run.events);
  // The calls sent are the latest ones.
  uint64_t seq = 0;
  for (uint64_t d : part["calls"]["seq"]) seq += d;
  EXPECT_EQ(seq, run.events - 1);
}

namespace {

// A page that got part of the calls of a run that is over still has news: the rest (nothing
// else moves then to wake it).
TEST(LiveFeed, APageWithCallsStillToGetHasNewsAfterTheRun) {
  FeedRun run("bench:3000", 100000);
  run.observe();
  run.feed->set_over();
  ws::report::FeedCursor at;
  EXPECT_EQ(nlohmann::json::parse(run.feed->next_part(at, 1000, true))["calls"]["n"], 1000);
  EXPECT_TRUE(run.feed->wait_news(at, std::chrono::milliseconds(0)));
  while (nlohmann::json::parse(run.feed->next_part(at, 1000, false))["live"]["more"]) {
  }
  EXPECT_FALSE(run.feed->wait_news(at, std::chrono::milliseconds(0)));
}

// A feed started again (a playback seeking back) on a fresh inspection holds only what that
// one observed, from seq 0.
TEST(LiveFeed, StartedAgainHoldsOnlyTheNewRun) {
  FeedRun run("demo", 1000);
  run.observe();
  ws::inspect::Inspector fresh;
  auto again = ws::make_synthetic_engine("demo", ws::Platform::Linux);
  ASSERT_TRUE(again.ok());
  run.feed->restart(fresh, nullptr);
  {
    std::lock_guard lock(run.feed->mutex());
    ws::Event ev;
    for (int k = 0; k < 5 && again.value()->next(ev); ++k) fresh.observe(ev);
  }
  ws::report::FeedCursor at;
  const auto part = nlohmann::json::parse(run.feed->next_part(at, 1000, true));
  EXPECT_EQ(part["calls"]["n"], 5);
  EXPECT_EQ(part["summary"]["events"], 5);
  EXPECT_EQ(part["calls"]["seq"][0], 0);
  EXPECT_FALSE(part["live"]["over"].get<bool>());
}

}  // namespace

// The feed formats a call's rows when a page asks for it, from the copy the recording side
// made (CallTape): the rows are the report's, byte for byte, whether the page takes them in one
// part or in many small ones while the calls come.
namespace {

const char* const kRowKeys[] = {"calls", "strings", "facts", "payload"};

nlohmann::json eager_rows(const std::string& scenario) {
  auto engine = ws::make_synthetic_engine(scenario, ws::Platform::Linux);
  EXPECT_TRUE(engine.ok());
  ws::report::ReportBuilder builder(ReportOptions{});
  ws::Event ev;
  while (engine.value()->next(ev)) builder.observe(ev);
  auto d = builder.finish(engine.value()->header(), "");
  const auto all = nlohmann::json::parse(ws::report::report_json(*d, {}));
  nlohmann::json rows;
  for (const char* key : kRowKeys) rows[key] = all[key];
  // (the report points an overlapped call at its completion once the run is over; the live
  // view cannot: nothing here overlaps)
  EXPECT_EQ(rows["calls"]["link"]["at"].size(), 0u);
  return rows;
}

}  // namespace

TEST(LiveFeed, OnePartHoldsTheRowsTheReportMakes) {
  for (const char* scenario : {"demo", "bench:3000"}) {
    SCOPED_TRACE(scenario);
    FeedRun run(scenario, 1 << 20);
    run.observe();
    ws::report::FeedCursor at;
    const auto part = nlohmann::json::parse(run.feed->next_part(at, 1 << 20, true));
    const nlohmann::json eager = eager_rows(scenario);
    for (const char* key : kRowKeys) EXPECT_EQ(part[key].dump(), eager[key].dump()) << key;
  }
}

TEST(LiveFeed, SmallPartsWhileTheCallsComeHoldTheSameRows) {
  FeedRun run("demo", 1 << 20);
  ws::report::FeedCursor at;
  std::vector<std::string> strings, args;
  nlohmann::json facts = nlohmann::json::array(), kept = nlohmann::json::array();
  bool running = true;
  for (bool first = true;; first = false) {
    if (running) running = run.observe(3);
    const auto part = nlohmann::json::parse(run.feed->next_part(at, 2, first));
    for (const auto& s : part["strings"]) strings.push_back(s);
    for (const auto& f : part["facts"]) facts.push_back(f);
    for (uint32_t id : part["calls"]["args"]) args.push_back(strings.at(id));
    if (!running && part["calls"]["n"] == 0) break;
  }
  const nlohmann::json eager = eager_rows("demo");
  EXPECT_EQ(nlohmann::json(strings).dump(), eager["strings"].dump());
  EXPECT_EQ(facts.dump(), eager["facts"].dump());
  ASSERT_EQ(args.size(), eager["calls"]["args"].size());
  for (size_t i = 0; i < args.size(); ++i)
    EXPECT_EQ(args[i], eager["strings"][eager["calls"]["args"][i].get<size_t>()]) << i;
}

TEST(LiveFeed, WithoutAPageTheCallsHeldStayWithinTheWindow) {
  FeedRun run("bench:50000", 1000);
  uint64_t most = 0;
  while (run.observe(500)) most = std::max(most, run.feed->held().calls);
  EXPECT_LE(most, 1000u);
  EXPECT_LT(run.feed->held().tape_bytes, size_t{1} << 20);
  // A page that comes then gets the latest calls, told how many it missed.
  ws::report::FeedCursor at;
  const auto part = nlohmann::json::parse(run.feed->next_part(at, 1 << 20, true));
  const uint64_t skipped = part["live"]["skipped"], sent = part["calls"]["n"];
  EXPECT_GT(sent, 0u);
  EXPECT_EQ(skipped + sent, run.events);
}

// The ended connections are a window too: a page that keeps up gets every connection; one
// that comes late gets the latest of those that ended; the feed holds no more than that.
TEST(LiveFeed, EndedConnectionsAreAWindow) {
  FeedRun run("conns:30000", 1 << 20, 100);
  size_t id_at = 0, end_at = 0;
  // The connections of a part: (id, ended).
  auto conns_in = [&](const nlohmann::json& part) {
    if (part.contains("columns")) {
      const auto& cols = part["columns"]["conns"];
      id_at = std::find(cols.begin(), cols.end(), "id") - cols.begin();
      end_at = std::find(cols.begin(), cols.end(), "end") - cols.begin();
    }
    std::vector<std::pair<uint64_t, bool>> out;
    for (const auto& c : part["conns"])
      out.emplace_back(c[id_at].get<uint64_t>(), c[end_at] != "open at end");
    return out;
  };
  ws::report::FeedCursor following;
  std::set<uint64_t> got;
  for (bool first = true;; first = false) {
    const bool more = run.observe(200);
    for (auto [id, ended] : conns_in(nlohmann::json::parse(run.feed->next_part(following, 1 << 20, first))))
      got.insert(id);
    if (!more) break;
  }
  const uint64_t seen = run.inspection.tracker().connections_seen();
  ASSERT_GT(seen, 1000u);
  EXPECT_EQ(got.size(), seen);
  ws::report::FeedCursor late;
  const auto part = nlohmann::json::parse(run.feed->next_part(late, 1 << 20, true));
  uint64_t ended = 0, last = 0;
  for (auto [id, was_ended] : conns_in(part)) ended += was_ended, last = std::max(last, id);
  EXPECT_LE(ended, 100u + run.inspection.tracker().open_list().size());
  EXPECT_GE(ended, 50u);
  EXPECT_EQ(last, *got.rbegin()) << "the latest ones";
  EXPECT_EQ(part["summary"]["connections"], seen);
}

TEST(LiveFeed, APageWithCallsLeftToSendIsNotKeptWaiting) {
  FeedRun run("bench:3000", 1 << 20);
  run.observe();  // (the run is over: no event comes to wake the page)
  ws::report::FeedCursor at;
  uint64_t sent = 0;
  for (int part = 0; part < 100; ++part) {
    if (!run.feed->wait_news(at, std::chrono::milliseconds(0))) break;
    sent += nlohmann::json::parse(run.feed->next_part(at, 500, part == 0))["calls"]["n"]
                .get<uint64_t>();
  }
  EXPECT_EQ(sent, run.events);
}
