// The trace file: round trips, damage at every offset, following a growing file, and readers
// coping with what newer writers add.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#ifndef _WIN32
#include <sys/stat.h>
#endif

#include "engine.h"
#include "event_builder.h"
#include "reader.h"
#include "wire.h"
#include "writer.h"

namespace ws::trace {
namespace {

// An OutputFile that keeps what it is given, and fails once it holds `limit` bytes.
class MemoryOutput final : public OutputFile {
 public:
  MemoryOutput(std::string& sink, size_t limit = SIZE_MAX) : sink_(sink), limit_(limit) {}
  Status write(std::string_view d) override {
    if (sink_.size() + d.size() > limit_) return Status::error("disk full (test)");
    sink_.append(d);
    return {};
  }
  uint64_t written() const override { return sink_.size(); }
  Status commit() override { return {}; }
  const std::string& temp_path() const override { return name_; }

 private:
  std::string name_ = "memory";
  std::string& sink_;
  size_t limit_;
};

TraceHeader test_header() {
  TraceHeader h;
  h.wstrace_version = "test";
  h.host = "host-ü";
  h.os = "TestOS 1";
  h.platform = Platform::Windows;
  h.arch = "x86_64";
  h.command = "prog --flag";
  h.snaplen = 256;
  h.follow_children = false;
  h.wall_anchor_ns = 1'795'780'800'000'000'000;
  h.mono_anchor_ns = 5'000;
  h.extra = {{"custom", "value"}};
  return h;
}

// All events of the demo scenario, written to memory.
std::string demo_bytes(Platform p = Platform::Linux, bool close = true) {
  std::string out;
  auto engine = make_synthetic_engine("demo", p);
  EXPECT_TRUE(engine.ok());
  auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out), engine.value()->header());
  EXPECT_TRUE(w.ok());
  Event ev;
  while (engine.value()->next(ev)) EXPECT_TRUE(w.value()->write(ev).ok());
  if (close) EXPECT_TRUE(w.value()->close(123).ok());
  else EXPECT_TRUE(w.value()->flush().ok());
  return out;
}

// Reads every event; returns their count and leaves the reader's verdict in `problem`.
size_t read_all(const std::string& bytes, ReadProblem* problem = nullptr,
                std::string* open_error = nullptr) {
  auto r = TraceReader::open(memory_input(bytes), "t.wst");
  if (!r.ok()) {
    if (open_error) *open_error = r.status().message();
    return SIZE_MAX;
  }
  size_t n = 0;
  Event ev;
  while (r.value()->next(ev)) ++n;
  if (problem) *problem = r.value()->problem();
  return n;
}

TEST(Trace, HeaderRoundTrips) {
  std::string out;
  auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out), test_header());
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(w.value()->close(9).ok());
  auto r = TraceReader::open(memory_input(out), "t.wst");
  ASSERT_TRUE(r.ok()) << r.status().message();
  const TraceHeader& h = r.value()->header();
  EXPECT_EQ(h.host, "host-ü");
  EXPECT_EQ(h.platform, Platform::Windows);
  EXPECT_EQ(h.snaplen, 256u);
  EXPECT_FALSE(h.follow_children);
  EXPECT_EQ(h.wall_anchor_ns, 1'795'780'800'000'000'000);
  EXPECT_EQ(h.mono_anchor_ns, 5'000);
  EXPECT_EQ(h.wall_ns(6'000), 1'795'780'800'000'001'000);
  ASSERT_EQ(h.extra.size(), 1u);
  EXPECT_EQ(h.extra[0].second, "value");
  Event ev;
  EXPECT_FALSE(r.value()->next(ev));
  EXPECT_TRUE(r.value()->complete());
  EXPECT_EQ(r.value()->footer()->end_ts, 9);
}

TEST(Trace, EveryFieldTypeRoundTrips) {
  std::string out;
  auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out), test_header());
  ASSERT_TRUE(w.ok());
  EventBuilder b;
  auto v6 = SockAddr::ipv6({0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 443, 7);
  b.begin(FuncId::WSARecvFrom, 77, 78, -5, 12345)
      .result(-1, ErrorCode{ErrDomain::Win, 10054})
      .num(FieldId::sock, 0xffffffffffffull)
      .num(FieldId::len, 4096)
      .num(FieldId::flags, msgflag::kPeek)
      .addr(FieldId::peer, v6)
      .payload(std::string("\0\1abc", 5), 70000);
  ASSERT_TRUE(w.value()->write(b.event()).ok());
  b.begin(FuncId::getaddrinfo, 77, 78, 10)
      .str(FieldId::host, "example.test")
      .addrs(FieldId::addrs, {SockAddr::ipv4(0x0a000005, 80), v6, SockAddr::unix_path("/x")})
      .result(0);
  ASSERT_TRUE(w.value()->write(b.event()).ok());
  b.begin(FuncId::poll, 78, 1, 20)
      .polls(FieldId::fds, {{3, pollev::kIn, pollev::kIn}, {9, pollev::kOut, 0}})
      .num(FieldId::timeout, 250'000'000)
      .result(1);
  ASSERT_TRUE(w.value()->write(b.event()).ok());
  b.begin(FuncId::setsockopt, 78, 1, 30).snum(FieldId::optval, -42).result(0);
  ASSERT_TRUE(w.value()->write(b.event()).ok());
  ASSERT_TRUE(w.value()->close(40).ok());

  auto r = TraceReader::open(memory_input(out), "t.wst");
  ASSERT_TRUE(r.ok());
  Event ev;
  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(ev.seq, 0u);
  EXPECT_EQ(ev.func, FuncId::WSARecvFrom);
  EXPECT_EQ(ev.type(), EventType::recv);
  EXPECT_EQ(ev.pid, 77u);
  EXPECT_EQ(ev.tid, 78u);
  EXPECT_EQ(ev.ts, -5);
  EXPECT_EQ(ev.dur, 12345u);
  EXPECT_EQ(ev.result, -1);
  EXPECT_EQ(ev.error, (ErrorCode{ErrDomain::Win, 10054}));
  EXPECT_EQ(ev.get(FieldId::sock)->num, 0xffffffffffffull);
  EXPECT_EQ(ev.get(FieldId::flags)->num, msgflag::kPeek);
  SockAddr a;
  ASSERT_TRUE(decode_addr(ev.get(FieldId::peer)->bytes(), a));
  EXPECT_EQ(a, v6);
  EXPECT_EQ(ev.get(FieldId::payload)->num, 70000u);
  EXPECT_EQ(ev.get(FieldId::payload)->bytes(), std::string("\0\1abc", 5));
  EXPECT_EQ(ev.get(FieldId::addr), nullptr);

  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(ev.seq, 1u);
  EXPECT_EQ(ev.ts, 10);
  std::vector<SockAddr> list;
  ASSERT_TRUE(decode_addr_list(ev.get(FieldId::addrs)->bytes(), list));
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0], SockAddr::ipv4(0x0a000005, 80));
  EXPECT_EQ(list[2].path, "/x");

  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(ev.pid, 78u);  // a new block for another process
  std::vector<PollEntry> polls;
  ASSERT_TRUE(decode_poll_list(ev.get(FieldId::fds)->bytes(), polls));
  ASSERT_EQ(polls.size(), 2u);
  EXPECT_EQ(polls[1], (PollEntry{9, pollev::kOut, 0}));
  EXPECT_EQ(ev.get(FieldId::timeout)->num, 250'000'000u);

  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(static_cast<int64_t>(ev.get(FieldId::optval)->num), -42);
  EXPECT_FALSE(r.value()->next(ev));
  EXPECT_EQ(r.value()->problem().kind, ReadProblem::Kind::None);
}

TEST(Trace, ManyEventsSpanBlocksAndKeepOrder) {
  std::string out;
  auto engine = make_synthetic_engine("bench:200000", Platform::Linux);
  ASSERT_TRUE(engine.ok());
  auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out), engine.value()->header());
  ASSERT_TRUE(w.ok());
  Event ev;
  while (engine.value()->next(ev)) ASSERT_TRUE(w.value()->write(ev).ok());
  ASSERT_TRUE(w.value()->close(0).ok());
  EXPECT_LT(static_cast<double>(out.size()) / 200000.0, 32.0) << "bytes per payload-less event";

  auto again = make_synthetic_engine("bench:200000", Platform::Linux);
  auto r = TraceReader::open(memory_input(out), "t.wst");
  ASSERT_TRUE(r.ok());
  Event want, got;
  size_t n = 0;
  while (again.value()->next(want)) {
    ASSERT_TRUE(r.value()->next(got)) << "at " << n;
    ASSERT_EQ(got.seq, want.seq);
    ASSERT_EQ(got.ts, want.ts);
    ASSERT_EQ(got.tid, want.tid);
    ASSERT_EQ(got.func, want.func);
    ASSERT_EQ(got.get(FieldId::sock)->num, want.get(FieldId::sock)->num);
    ++n;
  }
  EXPECT_FALSE(r.value()->next(got));
  EXPECT_TRUE(r.value()->complete());
  EXPECT_EQ(r.value()->footer()->events, 200000u);
}

TEST(Trace, BadFilesGiveOneClearMessage) {
  std::string err;
  EXPECT_EQ(read_all("", nullptr, &err), SIZE_MAX);
  EXPECT_NE(err.find("is empty"), std::string::npos) << err;
  EXPECT_EQ(read_all("GET / HTTP/1.1\r\n\r\nhello there, not a trace", nullptr, &err), SIZE_MAX);
  EXPECT_NE(err.find("not a wstrace trace"), std::string::npos) << err;
  std::string newer = demo_bytes();
  newer[8] = 7;  // format major 7
  EXPECT_EQ(read_all(newer, nullptr, &err), SIZE_MAX);
  EXPECT_NE(err.find("format 7.0"), std::string::npos) << err;
  EXPECT_NE(err.find("newer"), std::string::npos) << err;
}

TEST(Trace, TruncationAtEveryOffsetKeepsWhatCameBefore) {
  const std::string full = demo_bytes();
  const size_t total = read_all(full);
  ASSERT_GT(total, 20u);
  size_t last = 0;
  for (size_t cut = 0; cut < full.size(); ++cut) {
    ReadProblem p;
    std::string err;
    size_t n = read_all(full.substr(0, cut), &p, &err);
    if (n == SIZE_MAX) {
      EXPECT_FALSE(err.empty());
      continue;  // cut inside the preamble, header or schema: nothing to read
    }
    EXPECT_GE(n, last) << "a longer prefix never yields fewer events (cut " << cut << ")";
    EXPECT_LE(n, total);
    last = n;
    EXPECT_NE(p.kind, ReadProblem::Kind::None) << "cut " << cut << " must be reported";
    if (p.kind == ReadProblem::Kind::Truncated) {
      EXPECT_LE(p.offset, cut);
      EXPECT_NE(p.message.find(std::to_string(p.offset)), std::string::npos);
    }
  }
  EXPECT_EQ(last, total) << "a file cut just before its footer still yields every event";
}

TEST(Trace, DamageAnywhereIsReportedNeverCrashes) {
  const std::string full = demo_bytes();
  const size_t total = read_all(full);
  for (size_t i = kPreambleSize; i < full.size(); i += 3) {
    std::string bad = full;
    bad[i] = static_cast<char>(bad[i] ^ 0x5a);
    ReadProblem p;
    std::string err;
    size_t n = read_all(bad, &p, &err);
    if (n == SIZE_MAX) continue;
    EXPECT_LE(n, total);
    EXPECT_NE(p.kind, ReadProblem::Kind::None) << "flipped byte " << i << " went unnoticed";
  }
}

TEST(Trace, UnclosedTraceIsUnfinishedButComplete) {
  ReadProblem p;
  size_t n = read_all(demo_bytes(Platform::Linux, /*close=*/false), &p);
  EXPECT_EQ(n, read_all(demo_bytes()));
  EXPECT_EQ(p.kind, ReadProblem::Kind::Unfinished);
  EXPECT_NE(p.message.find("no end marker"), std::string::npos);
}

TEST(Trace, WriteFailureKeepsEarlierBlocksReadable) {
  std::string head;
  ASSERT_TRUE(TraceWriter::create(std::make_unique<MemoryOutput>(head), test_header()).ok());
  std::string out;
  const size_t limit = head.size() + 600;  // room for the header, schema and a few blocks
  auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out, limit), test_header());
  ASSERT_TRUE(w.ok());
  EventBuilder b;
  Status failed;
  int written = 0;
  for (int i = 0; i < 100000 && failed.ok(); ++i) {
    b.begin(FuncId::send, 1, 1, i).num(FieldId::sock, 3).result(10);
    failed = w.value()->write(b.event());
    if (failed.ok() && i % 10 == 9) failed = w.value()->flush();
    if (failed.ok()) ++written;
  }
  EXPECT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("disk full"), std::string::npos);
  EXPECT_FALSE(w.value()->write(b.event()).ok()) << "a failed writer stays failed";
  ReadProblem p;
  size_t n = read_all(out, &p);
  EXPECT_GT(n, 0u);
  EXPECT_EQ(n % 10, 0u) << "whole blocks only";
  EXPECT_LE(n, static_cast<size_t>(written));
  EXPECT_EQ(p.kind, ReadProblem::Kind::Unfinished);
}

TEST(Trace, FollowsAGrowingFile) {
  auto path = std::filesystem::temp_directory_path() /
              ("wstrace-follow-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + ".wst");
  auto w = TraceWriter::create(path.string(), test_header());
  ASSERT_TRUE(w.ok());
  constexpr int kBlocks = 20, kPerBlock = 50;
  std::atomic<int> seen{0};
  std::thread follower([&] {
    TraceReader::Options opt;
    opt.follow = true;
    auto r = TraceReader::open(path.string(), opt);
    ASSERT_TRUE(r.ok()) << r.status().message();
    Event ev;
    while (r.value()->next(ev)) {
      EXPECT_EQ(ev.seq, static_cast<uint64_t>(seen.load()));
      ++seen;
    }
    EXPECT_TRUE(r.value()->complete());
  });
  EventBuilder b;
  for (int blk = 0; blk < kBlocks; ++blk) {
    for (int i = 0; i < kPerBlock; ++i) {
      b.begin(FuncId::recv, 1, 1, blk * kPerBlock + i).num(FieldId::sock, 3).result(1);
      ASSERT_TRUE(w.value()->write(b.event()).ok());
    }
    ASSERT_TRUE(w.value()->flush().ok());
    // Let the follower catch up with this block before the next one: it must read a file whose
    // end moves, not one that is already whole.
    while (seen.load() < (blk + 1) * kPerBlock) std::this_thread::yield();
  }
  ASSERT_TRUE(w.value()->close(0).ok());
  follower.join();
  EXPECT_EQ(seen.load(), kBlocks * kPerBlock);
  std::filesystem::remove(path);
}

#ifndef _WIN32
TEST(Trace, FilesAreOwnerOnly) {
  auto path = std::filesystem::temp_directory_path() / "wstrace-mode-test.wst";
  {
    std::ofstream(path) << "old";
    std::filesystem::permissions(path, std::filesystem::perms::all);
  }
  auto w = TraceWriter::create(path.string(), test_header());
  ASSERT_TRUE(w.ok());
  auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(perms, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  std::filesystem::remove(path);
}

// A symlink at the destination is replaced, never followed; what it pointed to is untouched.
TEST(Trace, OutputsNeverFollowASymlink) {
  const auto dir = std::filesystem::temp_directory_path() / "wstrace-symlink-test";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "victim") << "keep me";
  std::filesystem::create_symlink(dir / "victim", dir / "out.wst");
  std::filesystem::create_symlink(dir / "victim", dir / "out.html");
  auto w = TraceWriter::create((dir / "out.wst").string(), test_header());
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_FALSE(std::filesystem::is_symlink(dir / "out.wst"));
  auto later = OutputFile::create((dir / "out.html").string(), OutputFile::Publish::OnCommit);
  ASSERT_TRUE(later.ok()) << later.status().message();
  ASSERT_TRUE(later.value()->write("page").ok());
  EXPECT_TRUE(std::filesystem::is_symlink(dir / "out.html"));  // not yet committed
  ASSERT_TRUE(later.value()->commit().ok());
  EXPECT_FALSE(std::filesystem::is_symlink(dir / "out.html"));
  std::ifstream in(dir / "victim");
  std::string victim((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(victim, "keep me");
  std::filesystem::remove_all(dir);
}

// Readers refuse what is no regular file instead of blocking on it.
TEST(Trace, ReadersRefuseFifosAndDevices) {
  const auto fifo = std::filesystem::temp_directory_path() / "wstrace-fifo-test";
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto r = TraceReader::open(fifo.string());  // would wait for a writer forever
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("is a FIFO"), std::string::npos) << r.status().message();
  std::filesystem::remove(fifo);
  auto z = TraceReader::open("/dev/zero");
  ASSERT_FALSE(z.ok());
  EXPECT_NE(z.status().message().find("is a device"), std::string::npos) << z.status().message();
}
#endif

// A newer writer may append fields to an event, add events and functions, and add block types.
// This reader must decode what it knows and skip the rest.
TEST(Trace, ReadsWhatANewerWriterAdded) {
  std::string file;
  wire::Out o(file);
  o.bytes(kSignature.data(), kSignature.size());
  o.u16(kFormatMajor);
  o.u16(kFormatMinor + 5);
  o.u32(0);
  auto block = [&](uint32_t type, const std::string& body) {
    std::string b;
    wire::Out ob(b);
    ob.u32(type);
    ob.u32(static_cast<uint32_t>(body.size() + kBlockOverhead));
    ob.bytes(body.data(), body.size());
    ob.u32(block_crc(b));
    file += b;
  };
  block(static_cast<uint32_t>(BlockType::Header), encode_header(test_header()));
  // Schema: fields sock, len, a future "qos" string, and "payload"; events: send with all four,
  // a future "teleport" event; functions: send and a future one.
  std::string schema;
  wire::Out s(schema);
  s.varint(4);
  s.blob("sock"), s.u8(static_cast<uint8_t>(FieldType::Sock));
  s.blob("len"), s.u8(static_cast<uint8_t>(FieldType::UInt));
  s.blob("qos"), s.u8(99);  // a field type this reader has never heard of: a blob (>= 16)
  s.blob("payload"), s.u8(static_cast<uint8_t>(FieldType::Bytes));
  s.varint(2);
  s.blob("send"), s.varint(4), s.varint(0), s.varint(1), s.varint(2), s.varint(3);
  s.blob("teleport"), s.varint(1), s.varint(1);
  s.varint(2);
  s.blob("send"), s.varint(0);
  s.blob("beam_me_up"), s.varint(1);
  block(static_cast<uint32_t>(BlockType::Schema), schema);
  block(77, "a block type from the future");
  std::string events;
  wire::Out e(events);
  e.varint(10), e.varint(0), e.svarint(1000);  // pid, first seq, base ts
  auto record = [&](const std::string& r) { e.blob(r); };
  std::string r1;
  wire::Out o1(r1);
  o1.varint(0), o1.varint(11), o1.svarint(0), o1.varint(5), o1.svarint(3), o1.varint(0);
  o1.varint(0b1111), o1.varint(42), o1.varint(3), o1.blob("gold"), o1.blob(std::string("\x03" "abc"));
  o1.bytes("trailing future bytes", 21);
  record(r1);
  std::string r2;
  wire::Out o2(r2);
  o2.varint(1), o2.varint(11), o2.svarint(7), o2.varint(0), o2.svarint(0), o2.varint(0);
  o2.varint(1), o2.varint(9);
  record(r2);
  block(static_cast<uint32_t>(BlockType::Events), events);
  std::string footer;
  wire::Out f(footer);
  f.varint(2), f.svarint(2000);
  block(static_cast<uint32_t>(BlockType::Footer), footer);

  auto r = TraceReader::open(memory_input(file), "future.wst");
  ASSERT_TRUE(r.ok()) << r.status().message();
  Event ev;
  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(ev.func, FuncId::send);
  EXPECT_EQ(ev.pid, 10u);
  EXPECT_EQ(ev.ts, 1000);
  EXPECT_EQ(ev.result, 3);
  EXPECT_EQ(ev.get(FieldId::sock)->num, 42u);
  EXPECT_EQ(ev.get(FieldId::len)->num, 3u);
  EXPECT_EQ(ev.get(FieldId::payload)->bytes(), "abc");
  EXPECT_EQ(ev.nvalues, 3);
  ASSERT_TRUE(r.value()->next(ev));
  EXPECT_EQ(ev.func, FuncId::Unknown);
  EXPECT_EQ(ev.ts, 1007);
  EXPECT_FALSE(r.value()->next(ev));
  EXPECT_TRUE(r.value()->complete());
}

// record --redact's mark: written only when set, read back; absent in other traces.
TEST(Trace, RedactedMarkRoundTrips) {
  for (bool redacted : {true, false}) {
    std::string out;
    TraceHeader written = test_header();
    written.redacted = redacted;
    auto w = TraceWriter::create(std::make_unique<MemoryOutput>(out), written);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE(w.value()->close(9).ok());
    auto r = TraceReader::open(memory_input(out), "t.wst");
    ASSERT_TRUE(r.ok()) << r.status().message();
    EXPECT_EQ(r.value()->header().redacted, redacted);
    EXPECT_EQ(out.find("redacted") != std::string::npos, redacted);
    EXPECT_EQ(r.value()->header().extra.size(), 1u);  // not kept as an unknown key
  }
}

}  // namespace
}  // namespace ws::trace
