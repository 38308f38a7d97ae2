// Exports: format names, the loop's call order and filter, the rows of show byte for byte, the
// chrome trace's structure, and outputs that exist only once complete.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine.h"
#include "exporter.h"
#include "output.h"

namespace {

using ws::exporter::Format;
namespace fs = std::filesystem;

std::unique_ptr<ws::Engine> demo() {
  auto e = ws::make_synthetic_engine("demo", ws::Platform::Linux);
  EXPECT_TRUE(e.ok());
  return std::move(e.value());
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class ExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("ws_export_test_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Exports the demo scenario in `f` to a file and returns its bytes.
  std::string run(Format f, const std::string& filter_text = "") {
    ws::inspect::Filter filter;
    if (!filter_text.empty()) {
      auto parsed = ws::inspect::Filter::parse(filter_text);
      EXPECT_TRUE(parsed.ok());
      filter = std::move(parsed.value());
    }
    ws::exporter::ExportOptions opt;
    opt.out_path = (dir_ / "out").string();
    auto exp = ws::exporter::make_exporter(f, opt);
    EXPECT_TRUE(exp.ok()) << exp.status().message();
    auto engine = demo();
    ws::Status s = ws::exporter::export_events(*engine, filter, *exp.value());
    EXPECT_TRUE(s.ok()) << s.message();
    EXPECT_FALSE(fs::exists(opt.out_path + ".part"));
    return slurp(opt.out_path);
  }

  fs::path dir_;
};

TEST(ExportFormat, NamesRoundTrip) {
  for (Format f : {Format::Pcapng, Format::Csv, Format::Jsonl, Format::Text, Format::Sqlite,
                   Format::Chrome}) {
    Format back;
    ASSERT_TRUE(ws::exporter::parse_format(ws::exporter::format_name(f), back));
    EXPECT_EQ(back, f);
  }
  Format out;
  EXPECT_FALSE(ws::exporter::parse_format("pcap", out));
  EXPECT_FALSE(ws::exporter::parse_format("", out));
}

// Records what the loop calls, to check the order exporter.h promises.
class Recorder final : public ws::exporter::Exporter {
 public:
  std::vector<std::string> calls;
  ws::Status begin(const ws::trace::TraceHeader&, const ws::inspect::Inspector&) override {
    calls.push_back("begin");
    return {};
  }
  void on_event(const ws::inspect::Facts& f) override {
    // The facts are those of the event: its connection as the tracker answers for it.
    if (f.tracker.connection_id(f.ev) != (f.conn ? f.conn->id : 0)) ADD_FAILURE() << f.ev.seq;
    calls.push_back("event " + std::to_string(f.ev.seq) + (f.matched ? " matched" : ""));
  }
  void on_connection_end(const ws::inspect::Connection& c) override {
    calls.push_back("ended " + std::to_string(c.id) + (c.matched ? " matched" : ""));
  }
  ws::Status finish() override {
    calls.push_back("finish");
    return {};
  }
};

TEST(ExportLoop, GetsEveryEventWithItsMatchAndMarksTheirConnections) {
  auto parsed = ws::inspect::Filter::parse("conn == 2");
  ASSERT_TRUE(parsed.ok());
  Recorder r;
  auto engine = demo();
  ASSERT_TRUE(ws::exporter::export_events(*engine, parsed.value(), r).ok());
  ASSERT_GE(r.calls.size(), 3u);
  EXPECT_EQ(r.calls.front(), "begin");
  EXPECT_EQ(r.calls.back(), "finish");
  size_t events = 0, matched = 0;
  uint64_t last = 0;
  for (const auto& c : r.calls) {
    if (c.rfind("event ", 0) != 0) continue;
    const uint64_t seq = std::stoull(c.substr(6));
    if (events++ > 0) {
      EXPECT_EQ(seq, last + 1) << "every event, in order";
    }
    last = seq;
    matched += c.find(" matched") != std::string::npos;
  }
  EXPECT_GT(events, matched);
  EXPECT_GT(matched, 0u);
  int ended_matched = 0;
  for (const auto& c : r.calls)
    ended_matched += c.rfind("ended ", 0) == 0 && c.find(" matched") != std::string::npos;
  EXPECT_EQ(ended_matched, 1) << "only connection 2 had a call that passed";
  EXPECT_NE(std::find(r.calls.begin(), r.calls.end(), "ended 2 matched"), r.calls.end());
}

TEST_F(ExportTest, RowsAreThoseOfPresent) {
  // The same rows present makes, with the tracker's notes: what show prints.
  ws::inspect::Tracker t;
  std::string csv = ws::present::csv_header() + "\n", jsonl, text;
  auto engine = demo();
  ws::Event ev;
  bool first = true;
  int64_t first_ts = 0;
  while (engine->next(ev)) {
    if (first) first_ts = ev.ts, first = false;
    t.observe(ev);
    const ws::inspect::Process* p = t.process(ev.pid);
    const std::string name = p && !p->image.empty() ? p->name() : "";
    const ws::present::LineNotes notes{name, t.connection_id(ev)};
    csv += ws::present::csv_row(ev, engine->header(), notes) + "\n";
    jsonl += ws::present::json_line(ev, engine->header(), notes) + "\n";
    text += ws::present::event_line(ev, engine->header(), {}, first_ts, notes) + "\n";
  }
  EXPECT_EQ(run(Format::Csv), csv);
  EXPECT_EQ(run(Format::Jsonl), jsonl);
  EXPECT_EQ(run(Format::Text), text);
  EXPECT_NE(text.find("demo-client[4242/4242] #1 connect("), std::string::npos);
}

TEST_F(ExportTest, ChromeTraceIsWellFormed) {
  const auto j = nlohmann::json::parse(run(Format::Chrome));
  const auto& evs = j.at("traceEvents");
  std::map<uint64_t, int> open;  // connection id → b minus e
  std::map<std::pair<int, int>, double> last_ts;
  std::set<std::pair<int, int>> named_threads, slice_threads;
  int slices = 0, failed = 0;
  for (const auto& e : evs) {
    const std::string ph = e.at("ph");
    if (ph == "X") {
      ++slices;
      const std::pair<int, int> track{e.at("pid").get<int>(), e.at("tid").get<int>()};
      slice_threads.insert(track);
      const double ts = e.at("ts");
      EXPECT_GE(ts, last_ts[track]) << e.dump();
      last_ts[track] = ts;
      EXPECT_GE(e.at("dur").get<double>(), 0.0);
      EXPECT_TRUE(e.at("args").contains("seq"));
      if (e.at("args").contains("error")) {
        ++failed;
        EXPECT_EQ(e.at("args").at("failed"), true);
      }
    } else if (ph == "b" || ph == "e") {
      EXPECT_EQ(e.at("cat"), "connection");
      open[e.at("id").get<uint64_t>()] += ph == "b" ? 1 : -1;
    } else if (ph == "M") {
      if (e.at("name") == "thread_name")
        named_threads.insert({e.at("pid").get<int>(), e.at("tid").get<int>()});
    } else {
      ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  EXPECT_GT(slices, 20);
  EXPECT_GE(failed, 3);  // the refused connects
  EXPECT_GE(open.size(), 5u);
  for (const auto& [id, n] : open) EXPECT_EQ(n, 0) << "connection " << id;
  EXPECT_EQ(named_threads, slice_threads);
}

TEST_F(ExportTest, AFailedExportLeavesNoFile) {
  ws::exporter::ExportOptions opt;
  opt.out_path = (dir_ / "no-such-folder" / "out.csv").string();
  auto exp = ws::exporter::make_exporter(Format::Csv, opt);
  ASSERT_TRUE(exp.ok());
  auto engine = demo();
  ws::Status s = ws::exporter::export_events(*engine, {}, *exp.value());
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("cannot write"), std::string::npos) << s.message();
  {
    // Written but never committed: neither OUT nor its temporary file remains.
    ws::exporter::Output out;
    ASSERT_TRUE(out.open((dir_ / "half").string()).ok());
    out.write("half of it");
    EXPECT_TRUE(fs::exists(out.temp_path()));
    EXPECT_EQ(fs::path(out.temp_path()).parent_path(), dir_);
    EXPECT_TRUE(out.temp_path().ends_with(".part")) << out.temp_path();
  }
  EXPECT_TRUE(fs::is_empty(dir_));
  // Committed: OUT replaces an older file, the temporary name is gone.
  std::ofstream(dir_ / "whole") << "old";
  ws::exporter::Output out;
  ASSERT_TRUE(out.open((dir_ / "whole").string()).ok());
  out.write("new");
  ASSERT_TRUE(out.commit().ok());
  EXPECT_EQ(slurp(dir_ / "whole"), "new");
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1);
}

}  // namespace
