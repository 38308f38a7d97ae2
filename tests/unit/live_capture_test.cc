// Live engines: a capture hands back the events its collector wrote, numbered and valued as a
// file engine reads them back from the trace, and `record --engine` takes only known names.
#include <cstring>
#include <filesystem>
#include <new>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "collector_core.h"
#include "engine.h"
#include "live_capture.h"
#include "raw_record.h"
#include "translate.h"

namespace ws::capture {
namespace {

constexpr uint32_t kPid = 4242;
constexpr RingGeometry kGeometry{4, 8192};

// A send of `payload` on socket 7, laid out as the Linux agent writes it into its ring.
std::string send_record(int64_t ts, const std::string& payload) {
  RawHead h{};
  h.func = static_cast<uint8_t>(FuncId::send);
  h.nargs = 2;
  h.tid = kPid;
  h.ts = ts;
  h.dur = 10;
  h.result = static_cast<int64_t>(payload.size());
  std::string r(reinterpret_cast<const char*>(&h), sizeof h);
  auto arg = [&r](FieldId f, RawKind kind, const std::string& bytes) {
    RawArg a{static_cast<uint8_t>(f), kind, 0, static_cast<uint32_t>(bytes.size())};
    r.append(reinterpret_cast<const char*>(&a), sizeof a);
    r += bytes;
    r.append(raw_pad(a.size) - a.size, '\0');
  };
  const uint64_t sock = 7, len = payload.size();
  arg(FieldId::sock, kRawU64, std::string(reinterpret_cast<const char*>(&sock), 8));
  arg(FieldId::payload, kRawBytes, std::string(reinterpret_cast<const char*>(&len), 8) + payload);
  return r;
}

// A capture of one thread whose ring is in memory: each step pushes one round of records and
// drains them; after the last round the process ends and the file is closed. Each catch_up()
// pushes the next of `meanwhile` (what the program wrote while the consumer worked) and drains
// it. Its clock moves two milliseconds each time it is read.
class MemoryCapture final : public LiveCapture {
 public:
  size_t catch_ups = 0;
  MemoryCapture(const std::string& path, std::vector<std::vector<std::string>> rounds,
                std::vector<std::vector<std::string>> meanwhile = {})
      : mem_(static_cast<uint8_t*>(::operator new(kGeometry.region_bytes(), kAlign))),
        rounds_(std::move(rounds)),
        meanwhile_(std::move(meanwhile)) {
    std::memset(mem_, 0, kGeometry.region_bytes());
    init_region(mem_, kGeometry, 1024, true, 0);
    Slot& s = slots_of(region())[0];
    s.pid.store(kPid);
    s.tid.store(kPid);
    s.state.store(kSlotActive);
    opt_.redact = true;  // the redactor's masked copies live only until its next event
    writer_ = std::move(trace::TraceWriter::create(path, header_).value());
    collector_ = std::make_unique<RingCollector>(
        opt_, region(), kGeometry, *writer_, summary_, translate_linux_record,
        [] { return int64_t{5'000}; }, [this](const Event& ev) { take(ev); });
  }
  ~MemoryCapture() override {
    collector_.reset();
    ::operator delete(mem_, kAlign);
  }

 private:
  static constexpr std::align_val_t kAlign{64};
  RegionHeader* region() { return reinterpret_cast<RegionHeader*>(mem_); }
  bool step() override {
    if (round_ == rounds_.size()) {
      collector_->process_ended(kPid, 0);
      collector_->flush();
      EXPECT_TRUE(writer_->close(6'000).ok());
      return false;
    }
    push(rounds_[round_++]);
    return true;
  }
  void catch_up() override {
    ++catch_ups;
    if (caught_up_ < meanwhile_.size()) push(meanwhile_[caught_up_++]);
  }
  int64_t steady_ns() override { return clock_ += 2'000'000; }
  // Into the ring and out to the consumer's queue, drained every 50 records (the ring holds
  // about 90 of this test's).
  void push(const std::vector<std::string>& records) {
    for (size_t i = 0; i < records.size(); ++i) {
      Part part{records[i].data(), records[i].size()};
      EXPECT_TRUE(ring_push(region(), kGeometry, 0, &part, 1));
      if (i % 50 == 49) collector_->drain();
    }
    collector_->drain();
  }

  uint8_t* mem_;
  std::vector<std::vector<std::string>> rounds_, meanwhile_;
  size_t round_ = 0, caught_up_ = 0;
  int64_t clock_ = 0;
  RecordOptions opt_;
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<RingCollector> collector_;
};

// Everything an event says, blob values included, as one string.
std::string describe(const Event& ev) {
  std::string d = fmt::format("seq {} pid {} tid {} {} ts {} dur {} = {} err {}", ev.seq, ev.pid,
                              ev.tid, func_def(ev.func).name, ev.ts, ev.dur, ev.result,
                              ev.error.pack());
  for (FieldId f : event_def(ev.type()).fields)
    if (const Value* v = ev.get(f))
      d += fmt::format(" {}={}:{}", field_def(f).name, v->num, v->bytes());
  return d;
}

TEST(LiveCapture, HandsBackWhatTheFileReadsBack) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "ws_live_capture_test.wst").string();
  std::filesystem::remove(path);
  // The secret spans two sends (masked by --redact in both); builders and the redactor's
  // buffer are reused from one event and one drain to the next.
  const std::string secret = "GET / HTTP/1.1\r\nAuthorization: Bearer s3cr";
  std::vector<std::vector<std::string>> rounds = {
      {send_record(100, secret), send_record(200, "et-token\r\n\r\n"), send_record(300, "abc")},
      {},
      {send_record(400, std::string(3000, 'x')), send_record(500, "Cookie: id=42\r\n")},
  };
  std::vector<std::string> live;
  {
    MemoryCapture capture(path, rounds);
    Event ev;
    while (capture.next(ev)) live.push_back(describe(ev));
    EXPECT_FALSE(capture.next(ev)) << "an ended capture stays ended";
    EXPECT_EQ(capture.summary().calls, 5u);
    EXPECT_EQ(capture.end().kind, trace::ReadProblem::Kind::None);
  }
  auto file = open_file_engine(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  std::vector<std::string> read;
  Event ev;
  while (file.value()->next(ev)) read.push_back(describe(ev));
  EXPECT_EQ(file.value()->end().kind, trace::ReadProblem::Kind::None);
  EXPECT_EQ(live, read);
  ASSERT_EQ(live.size(), 6u) << "five sends and the process's exit";
  EXPECT_NE(live[0].find("Bearer "), std::string::npos) << live[0];
  EXPECT_EQ(live[0].find("s3cr"), std::string::npos) << "masked: " << live[0];
  EXPECT_NE(live[2].find("payload=3:abc"), std::string::npos) << live[2];
  std::filesystem::remove(path);
}

// A consumer working through a long backlog has the rings collected again meanwhile (a
// program writing faster than it is inspected fills its ring otherwise), and the events it was
// handed stay whole while the newer ones come in behind them.
TEST(LiveCapture, CollectsAgainWhileTheConsumerWorksThroughABacklog) {
  const std::string path =
      (std::filesystem::temp_directory_path() / "ws_live_capture_catch_up.wst").string();
  std::filesystem::remove(path);
  std::vector<std::string> backlog, later, last;
  for (int i = 0; i < 600; ++i) backlog.push_back(send_record(100 + i, fmt::format("b{}", i)));
  for (int i = 0; i < 300; ++i) later.push_back(send_record(1000 + i, fmt::format("l{}", i)));
  for (int i = 0; i < 50; ++i) last.push_back(send_record(2000 + i, fmt::format("z{}", i)));
  std::vector<std::string> live;
  size_t catch_ups = 0, caught_up_by = 0;
  {
    MemoryCapture capture(path, {backlog, last}, {later});
    Event ev;
    while (capture.next(ev)) {
      live.push_back(describe(ev));
      if (capture.catch_ups && !caught_up_by) caught_up_by = live.size();
    }
    catch_ups = capture.catch_ups;
    EXPECT_EQ(capture.summary().calls, 950u);
  }
  // Once per 256 events handed out at most (the clock moves two milliseconds a look).
  EXPECT_GE(catch_ups, 3u);
  EXPECT_LE(catch_ups, 950u / 256);
  EXPECT_EQ(caught_up_by, 256u) << "collected again in the middle of the first backlog";
  auto file = open_file_engine(path);
  ASSERT_TRUE(file.ok()) << file.status().message();
  std::vector<std::string> read;
  Event ev;
  while (file.value()->next(ev)) read.push_back(describe(ev));
  EXPECT_EQ(live, read);
  ASSERT_EQ(live.size(), 951u);
  EXPECT_NE(live[599].find("payload=4:b599"), std::string::npos) << live[599];
  EXPECT_NE(live[600].find("payload=2:l0"), std::string::npos) << live[600];
  EXPECT_NE(live[949].find("payload=3:z49"), std::string::npos) << live[949];
  std::filesystem::remove(path);
}

TEST(LiveEngines, ChosenByName) {
  const std::vector<std::string> names = live_engine_names();
  ASSERT_GE(names.size(), 2u);
  EXPECT_EQ(names[0], "auto");
  EXPECT_EQ(names[1], "preload");
  RecordOptions opt;  // no program: each engine refuses it before doing anything
  std::string warning;
  for (const std::string& name : names) {
    std::unique_ptr<LiveEngine> engine;
    RecordError err = start_record(name, opt, engine, warning);
    EXPECT_EQ(err.exit_code, 2) << name;
    EXPECT_NE(err.message.find("needs a program"), std::string::npos) << err.message;
    EXPECT_FALSE(engine);
  }
  std::unique_ptr<LiveEngine> engine;
  RecordError err = start_record("kernel", opt, engine, warning);
  EXPECT_EQ(err.exit_code, 2);
  std::string listed;
  for (const std::string& name : names) listed += (listed.empty() ? "" : ", ") + name;
  EXPECT_EQ(err.message, "unknown engine 'kernel': the engines of this build are " + listed);
  EXPECT_FALSE(engine);
}

}  // namespace
}  // namespace ws::capture
