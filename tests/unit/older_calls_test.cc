// The live view's older calls (ui/older_calls.h): what `GET /calls` answers from a trace — the
// calls before or from a seq that pass a filter, as the report's JSON, against what a report of
// the whole trace with the same filter holds; one read of the trace per query, the marks an
// earlier query left giving the same calls, a cancelled query stopping early. And the pool of
// threads the server reads them on (ui/scan_pool.h): a page's newer scan cancels its older one,
// a bound on the scans waiting.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "older_calls.h"
#include "report_data.h"
#include "scan_pool.h"

namespace {

using ws::ui::CallsQuery;
using ws::ui::OlderCalls;

std::unique_ptr<ws::Engine> demo() {
  auto e = ws::make_synthetic_engine("conns:3000", ws::Platform::Linux);
  EXPECT_TRUE(e.ok());
  return std::move(e.value());
}

// The seqs of the calls a report of the whole trace keeps with `filter`.
std::vector<uint64_t> all_seqs(const std::string& filter) {
  ws::report::ReportOptions opt;
  if (!filter.empty()) {
    auto f = ws::inspect::Filter::parse(filter);
    EXPECT_TRUE(f.ok());
    opt.filter = f.value();
  }
  ws::report::ReportBuilder b(opt);
  auto engine = demo();
  ws::Event ev;
  while (engine->next(ev)) b.observe(ev);
  return b.data().calls.seq;
}

struct Answer {
  std::vector<uint64_t> seqs;
  std::vector<std::string> args;  // as the page shows them
  nlohmann::json older;
};

Answer ask(const OlderCalls& older, const std::string& query) {
  const auto j = nlohmann::json::parse(older.answer(query));
  EXPECT_FALSE(j.contains("error")) << j.dump();
  Answer a;
  uint64_t seq = 0;
  for (const auto& d : j["calls"]["seq"]) a.seqs.push_back(seq += d.get<uint64_t>());
  for (const auto& s : j["calls"]["args"]) a.args.push_back(j["strings"][s.get<size_t>()]);
  a.older = j["live"]["older"];
  EXPECT_EQ(j["calls"]["n"].get<size_t>(), a.seqs.size());
  return a;
}

std::vector<uint64_t> slice(const std::vector<uint64_t>& v, size_t from, size_t to) {
  return {v.begin() + static_cast<ptrdiff_t>(from), v.begin() + static_cast<ptrdiff_t>(to)};
}

TEST(OlderCalls, TheLastCallsBeforeASeq) {
  const auto all = all_seqs("");
  ASSERT_GT(all.size(), 2500u);
  OlderCalls older(demo);
  const Answer a = ask(older, "token=x&before=" + std::to_string(all[2000]) + "&count=300");
  EXPECT_EQ(a.seqs, slice(all, 1700, 2000));
  EXPECT_EQ(a.older["before"], 1700);
  EXPECT_EQ(a.older["first"], all[1700]);
  EXPECT_EQ(a.older["last"], all[1999]);
  EXPECT_FALSE(a.older["after"].get<bool>());
  // Fewer calls than asked for: all of them.
  EXPECT_EQ(ask(older, "before=" + std::to_string(all[10]) + "&count=300").seqs, slice(all, 0, 10));
}

TEST(OlderCalls, TheFirstCallsFromASeq) {
  const auto all = all_seqs("");
  OlderCalls older(demo);
  const Answer a = ask(older, "from=" + std::to_string(all[500]) + "&count=40");
  EXPECT_EQ(a.seqs, slice(all, 500, 540));
  EXPECT_EQ(a.older["before"], 500);
  EXPECT_TRUE(a.older["after"].get<bool>());
  // The end of the trace: what is left.
  const Answer end = ask(older, "from=" + std::to_string(all[all.size() - 5]) + "&count=40");
  EXPECT_EQ(end.seqs, slice(all, all.size() - 5, all.size()));
}

TEST(OlderCalls, TheFilterIsWstracesOwn) {
  const std::string filter = "event == send and conn > 3";
  const auto matching = all_seqs(filter);
  ASSERT_GT(matching.size(), 100u);
  OlderCalls older(demo);
  // The filter percent-encoded as a page sends it (spaces as %20 and +).
  const Answer a = ask(older, "before=" + std::to_string(matching[90] + 1) +
                                  "&count=50&filter=event%20%3D%3D+send+and+conn+%3E%203");
  EXPECT_EQ(a.seqs, slice(matching, 41, 91));
  EXPECT_EQ(a.older["before"], 41);
  for (const std::string& args : a.args) EXPECT_NE(args.find("sock="), std::string::npos) << args;
  // record -f: the page's filter within it.
  OlderCalls within(demo, "event == send");
  EXPECT_EQ(ask(within, "before=" + std::to_string(matching[90] + 1) +
                            "&count=50&filter=conn%20%3E%203").seqs,
            a.seqs);
}

TEST(OlderCalls, SaysWhatIsWrongWithAQuery) {
  OlderCalls older(demo);
  auto error = [&](const std::string& q) {
    const auto j = nlohmann::json::parse(older.answer(q));
    return j.contains("error") ? j["error"].get<std::string>() : std::string();
  };
  EXPECT_NE(error("before=x").find("before takes a number"), std::string::npos);
  EXPECT_NE(error("count=0").find("count takes 1 to"), std::string::npos);
  EXPECT_NE(error("filter=%zz").find("percent-encoding"), std::string::npos);
  EXPECT_NE(error("filter=rport%20%3D%3D").find("bad filter"), std::string::npos);
  OlderCalls unreadable([] { return std::unique_ptr<ws::Engine>(); });
  EXPECT_NE(nlohmann::json::parse(unreadable.answer("count=5"))["error"].get<std::string>().find(
                "cannot read"),
            std::string::npos);
  const auto q = CallsQuery::parse("?count=7&from=3&token=abc");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q.value().count, 7u);
  EXPECT_EQ(q.value().from, 3u);
  EXPECT_FALSE(q.value().before.has_value());
}

// The events of a synthetic trace, counting the reads of the trace and the events read.
struct Counted {
  std::string scenario;
  int opens = 0;
  uint64_t events = 0;
  std::unique_ptr<ws::Engine> open() {
    ++opens;
    struct Engine final : ws::Engine {
      std::unique_ptr<ws::Engine> inner;
      uint64_t* events;
      const ws::trace::TraceHeader& header() const override { return inner->header(); }
      bool next(ws::Event& ev) override { return inner->next(ev) && ++*events; }
      const ws::trace::ReadProblem& end() const override { return inner->end(); }
    };
    auto e = std::make_unique<Engine>();
    e->inner = std::move(ws::make_synthetic_engine(scenario, ws::Platform::Linux).value());
    e->events = &events;
    return e;
  }
};

TEST(OlderCalls, ReadsTheTraceOncePerQuery) {
  const auto all = all_seqs("");
  Counted trace{"conns:3000"};
  OlderCalls older([&] { return trace.open(); });
  EXPECT_EQ(ask(older, "before=" + std::to_string(all[2000]) + "&count=300").seqs,
            slice(all, 1700, 2000));
  EXPECT_EQ(trace.opens, 1);
  EXPECT_EQ(ask(older, "from=" + std::to_string(all[100]) + "&count=30").seqs, slice(all, 100, 130));
  EXPECT_EQ(trace.opens, 2);
}

// With marks every 7 calls passing, queries after the first start from them: the same calls,
// the same counts, as a query with none — before a mark, on one, after the last, past the end.
TEST(OlderCalls, TheMarksOfEarlierQueriesGiveTheSameCalls) {
  for (const std::string filter : {"", "event == send and conn > 3"}) {
    const auto matching = all_seqs(filter);
    ASSERT_GT(matching.size(), 200u);
    const std::string f = "&filter=" + filter;
    for (uint32_t step : {1u, 7u, 1024u}) {
      OlderCalls older(demo, "", step);
      ask(older, "before=" + std::to_string(matching.back() + 1) + "&count=5" + f);  // (the marks)
      for (size_t at : {size_t{0}, size_t{1}, size_t{6}, size_t{7}, size_t{8}, size_t{50},
                        size_t{141}, matching.size() - 1, matching.size()}) {
        const uint64_t before = at < matching.size() ? matching[at] : matching.back() + 1000;
        for (size_t count : {size_t{1}, size_t{6}, size_t{40}}) {
          const Answer a = ask(older, "before=" + std::to_string(before) + "&count=" +
                                          std::to_string(count) + f);
          const size_t first = at > count ? at - count : 0;
          EXPECT_EQ(a.seqs, slice(matching, first, at)) << filter << " step " << step << " at " << at;
          EXPECT_EQ(a.older["before"], first) << filter << " step " << step << " at " << at;
          EXPECT_EQ(a.args.size(), a.seqs.size());
        }
      }
    }
  }
}

TEST(OlderCalls, ACancelledQueryStopsEarly) {
  Counted trace{"bench:100000"};
  OlderCalls older([&] { return trace.open(); });
  const std::atomic<bool> cancelled{true};
  const auto j = nlohmann::json::parse(older.answer("before=99999&count=10", cancelled));
  EXPECT_NE(j.value("error", "").find("cancelled"), std::string::npos) << j.dump();
  EXPECT_LE(trace.events, 4096u);
  const std::atomic<bool> not_cancelled{false};
  EXPECT_FALSE(nlohmann::json::parse(older.answer("before=99999&count=10", not_cancelled))
                   .contains("error"));
}

// Scans that end when told (released) or cancelled; what each said, in order.
struct Scans {
  std::mutex mu;
  std::condition_variable changed;
  std::vector<std::string> said;
  int running = 0;
  bool released = false;
  ws::ui::ScanPool::Work work(const std::string& name) {
    return [this, name](const std::atomic<bool>& cancelled) {
      std::unique_lock lock(mu);
      ++running;
      changed.notify_all();
      // (the pool only sets the flag, as OlderCalls checks it now and then: so does this)
      while (!changed.wait_for(lock, std::chrono::milliseconds(1),
                               [&] { return released || cancelled.load(); })) {
      }
      --running;
      return name + (cancelled ? " cancelled" : " done");
    };
  }
  ws::ui::ScanPool::Done done() {
    return [this](std::string answer) {
      const std::lock_guard lock(mu);
      said.push_back(std::move(answer));
      changed.notify_all();
    };
  }
  void wait(const std::function<bool()>& until) {
    std::unique_lock lock(mu);
    changed.wait(lock, until);
  }
  // Has `pool` run the scan `name` of page `name`, and waits until it runs.
  void run(ws::ui::ScanPool& pool, const std::string& name) {
    ASSERT_TRUE(pool.submit(name, work(name), done()));
    wait([&] { return running == 1; });
  }
  void release() {
    const std::lock_guard lock(mu);
    released = true;
    changed.notify_all();
  }
};

TEST(ScanPool, APagesNewerScanCancelsItsOlderOne) {
  Scans s;
  ws::ui::ScanPool pool(1, 4);
  s.run(pool, "first");
  // (the pool's one thread is busy: the second waits, and cancels the first)
  ASSERT_TRUE(pool.submit("first", s.work("second"), s.done()));
  s.wait([&] { return s.said.size() == 1 && s.running == 1; });
  EXPECT_EQ(s.said, std::vector<std::string>{"first cancelled"});
  // Another page's scan cancels none.
  ASSERT_TRUE(pool.submit("page2", s.work("other"), s.done()));
  s.release();
  s.wait([&] { return s.said.size() == 3; });
  EXPECT_EQ(s.said, (std::vector<std::string>{"first cancelled", "second done", "other done"}));
}

TEST(ScanPool, RefusesScansBeyondThoseThatMayWait) {
  Scans s;
  ws::ui::ScanPool pool(1, 2);
  s.run(pool, "a");
  EXPECT_TRUE(pool.submit("b", s.work("b"), s.done()));
  EXPECT_TRUE(pool.submit("c", s.work("c"), s.done()));
  EXPECT_FALSE(pool.submit("d", s.work("d"), s.done()));
  EXPECT_EQ(pool.busy(), 3u);
  // A page asking again replaces its waiting scan: it does not count twice.
  EXPECT_TRUE(pool.submit("c", s.work("c2"), s.done()));
  // Stopping cancels the running scan and the waiting ones: each says so once.
  pool.stop();
  EXPECT_EQ(s.said, (std::vector<std::string>{"a cancelled", "b cancelled", "c cancelled",
                                              "c2 cancelled"}));
  EXPECT_FALSE(pool.submit("e", s.work("e"), s.done()));
}

}  // namespace
