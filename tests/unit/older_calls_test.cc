// The live view's older calls (ui/older_calls.h): what `GET /calls` answers from a trace — the
// calls before or from a seq that pass a filter, as the report's JSON, against what a report of
// the whole trace with the same filter holds.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "older_calls.h"
#include "report_data.h"

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

}  // namespace
