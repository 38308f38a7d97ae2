// When the Windows agent reads TCP statistics (capture/windows/agent/tcp_schedule.h), with the
// system played by a fake: which sockets are read, at which moments, how often the system is
// asked what a socket is, and nothing more once it refused the ioctl.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "tcp_schedule.h"

namespace {

using ws::agent::TcpAt;
using ws::agent::TcpKind;
using ws::agent::TcpRead;
using ws::agent::TcpSchedule;

struct FakeSystem {
  uint32_t every = 1000, clock = 5000;
  std::map<uintptr_t, TcpKind> kinds;     // what the system says a socket is
  std::map<uintptr_t, TcpRead> answers;   // what a reading of it does (Recorded when unnamed)
  std::map<uintptr_t, int> asked;         // how often it was asked what a socket is
  std::vector<std::pair<uintptr_t, TcpAt>> reads;

  uint32_t interval() { return every; }
  uint32_t now() { return clock; }
  TcpKind ask(uintptr_t s) {
    ++asked[s];
    auto it = kinds.find(s);
    return it == kinds.end() ? TcpKind::Unknown : it->second;
  }
  TcpRead read(uintptr_t s, TcpAt at) {
    reads.emplace_back(s, at);
    auto it = answers.find(s);
    return it == answers.end() ? TcpRead::Recorded : it->second;
  }
  size_t reads_of(uintptr_t s) const {
    size_t n = 0;
    for (const auto& r : reads) n += r.first == s;
    return n;
  }
};

// A whole connection: set up, sends and receives, shutdown, close.
void converse(TcpSchedule& t, FakeSystem& sys, uintptr_t s, int ios) {
  t.setup(sys, s);
  for (int i = 0; i < ios; ++i) {
    t.io(sys, s, true);
    t.io(sys, s, false);
    sys.clock += 10;
  }
  t.end(sys, s, TcpAt::Shutdown);
  t.end(sys, s, TcpAt::Close);
  t.forget(s);
}

TEST(TcpSchedule, AConnectionIsReadWhenSetUpAtIntervalsAndBeforeItEnds) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x104, TcpKind::Tcp);
  converse(*t, sys, 0x104, 250);  // 2.5 s of calls 10 ms apart
  const std::vector<std::pair<uintptr_t, TcpAt>> want = {
      {0x104, TcpAt::Connected}, {0x104, TcpAt::Interval}, {0x104, TcpAt::Interval},
      {0x104, TcpAt::Shutdown},  {0x104, TcpAt::Close}};
  EXPECT_EQ(sys.reads, want);
  EXPECT_TRUE(sys.asked.empty());  // its maker said what it is
}

TEST(TcpSchedule, SocketsThatAreNotTcpAreNeverRead) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x108, TcpKind::NotTcp);  // a UDP socket
  converse(*t, sys, 0x108, 300);
  EXPECT_TRUE(sys.reads.empty());
  EXPECT_TRUE(sys.asked.empty());
}

TEST(TcpSchedule, AnUnknownSocketIsAskedAboutOnce) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  sys.kinds = {{0x200, TcpKind::NotTcp}, {0x204, TcpKind::Tcp}, {0x208, TcpKind::Unknown}};
  for (uintptr_t s : {0x200, 0x204, 0x208}) {  // made by a call the agent did not see
    for (int i = 0; i < 50; ++i) {
      t->io(sys, s, true);
      t->io(sys, s, false);
    }
    t->end(sys, s, TcpAt::Close);
  }
  EXPECT_EQ(sys.asked, (std::map<uintptr_t, int>{{0x200, 1}, {0x204, 1}, {0x208, 1}}));
  EXPECT_EQ(sys.reads_of(0x200), 0u);
  EXPECT_EQ(sys.reads_of(0x208), 0u);  // (the system would not say: never asked again)
  // The TCP one: read before its first data (set up unseen), and before it ends.
  EXPECT_EQ(sys.reads, (std::vector<std::pair<uintptr_t, TcpAt>>{{0x204, TcpAt::Connected},
                                                                  {0x204, TcpAt::Close}}));
  EXPECT_EQ(t->kind(0x200), TcpKind::NotTcp);
  EXPECT_EQ(t->kind(0x204), TcpKind::Tcp);
}

TEST(TcpSchedule, AListenerAndASocketThatNeverConnectedAreNotReadAtTheirEnd) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x10, TcpKind::Tcp);
  t->end(sys, 0x10, TcpAt::Close);
  t->end(sys, 0x14, TcpAt::Close);  // unknown: not asked at its end
  EXPECT_TRUE(sys.reads.empty());
  EXPECT_TRUE(sys.asked.empty());
}

TEST(TcpSchedule, ANonBlockingConnectIsReadAtItsFirstSendOnceSetUp) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x20, TcpKind::Tcp);
  sys.answers[0x20] = TcpRead::NotYet;  // SYN sent: not set up at the first try
  t->io(sys, 0x20, true);
  t->io(sys, 0x20, false);
  sys.answers.erase(0x20);
  t->io(sys, 0x20, true);
  t->io(sys, 0x20, false);
  t->io(sys, 0x20, true);  // set up and read: the next is due in a second
  t->io(sys, 0x20, false);
  EXPECT_EQ(sys.reads, (std::vector<std::pair<uintptr_t, TcpAt>>{{0x20, TcpAt::Connected},
                                                                  {0x20, TcpAt::Connected}}));
}

TEST(TcpSchedule, OnlyWhenSetUpAndBeforeTheEndWithIntervalZero) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  sys.every = TcpSchedule::kEnds;  // --tcp-info-interval 0
  t->mark(0x30, TcpKind::Tcp);
  converse(*t, sys, 0x30, 1000);
  EXPECT_EQ(sys.reads, (std::vector<std::pair<uintptr_t, TcpAt>>{{0x30, TcpAt::Connected},
                                                                  {0x30, TcpAt::Shutdown},
                                                                  {0x30, TcpAt::Close}}));
}

TEST(TcpSchedule, NeverWithNoTcpInfo) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  sys.every = 0;  // --no-tcp-info
  t->mark(0x40, TcpKind::Tcp);
  converse(*t, sys, 0x40, 300);
  converse(*t, sys, 0x44, 300);  // unknown: not even asked
  EXPECT_TRUE(sys.reads.empty());
  EXPECT_TRUE(sys.asked.empty());
}

TEST(TcpSchedule, NothingMoreOnceTheSystemRefusedTheIoctl) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  sys.answers[0x50] = TcpRead::Unsupported;  // Wine 8: the first reading is refused
  t->mark(0x50, TcpKind::Tcp);
  t->mark(0x54, TcpKind::Tcp);
  converse(*t, sys, 0x50, 300);
  converse(*t, sys, 0x54, 300);
  converse(*t, sys, 0x58, 300);
  EXPECT_EQ(sys.reads, (std::vector<std::pair<uintptr_t, TcpAt>>{{0x50, TcpAt::Connected}}));
  EXPECT_TRUE(sys.asked.empty());
  EXPECT_TRUE(t->unsupported());
}

TEST(TcpSchedule, AFailedReadingOfOneSocketStopsNoOther) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  sys.answers[0x60] = TcpRead::Failed;  // reset meanwhile, say
  t->mark(0x60, TcpKind::Tcp);
  t->mark(0x64, TcpKind::Tcp);
  t->setup(sys, 0x60);
  t->setup(sys, 0x64);
  EXPECT_FALSE(t->unsupported());
  EXPECT_EQ(sys.reads_of(0x64), 1u);
}

TEST(TcpSchedule, AnInheritedConnectionIsReadAtItsNextCallAndBeforeItsEnd) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x70, TcpKind::Tcp, true, sys.clock);
  t->io(sys, 0x70, true);
  t->io(sys, 0x70, false);
  t->end(sys, 0x70, TcpAt::Close);
  EXPECT_EQ(sys.reads, (std::vector<std::pair<uintptr_t, TcpAt>>{{0x70, TcpAt::Interval},
                                                                  {0x70, TcpAt::Close}}));
}

TEST(TcpSchedule, AHandleMadeAgainAfterACloseStartsAnew) {
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  t->mark(0x80, TcpKind::Tcp);
  t->setup(sys, 0x80);
  t->forget(0x80);
  t->mark(0x80, TcpKind::NotTcp);  // the number handed out again, to a UDP socket
  t->io(sys, 0x80, true);
  t->io(sys, 0x80, false);
  t->end(sys, 0x80, TcpAt::Close);
  EXPECT_EQ(sys.reads.size(), 1u);
  EXPECT_EQ(t->kind(0x80), TcpKind::NotTcp);
}

TEST(TcpSchedule, ManySocketsOverTime) {
  // Thousands of sockets made and closed: closed ones make room for new ones, and each is still
  // asked about at most once.
  auto t = std::make_unique<TcpSchedule>();
  FakeSystem sys;
  for (uintptr_t s = 0x1000; s < 0x1000 + 4 * 20000; s += 4) {
    sys.kinds[s] = s % 8 ? TcpKind::Tcp : TcpKind::NotTcp;
    for (int i = 0; i < 3; ++i) t->io(sys, s, true);
    t->end(sys, s, TcpAt::Close);
    t->forget(s);
  }
  for (const auto& [s, n] : sys.asked) ASSERT_EQ(n, 1) << s;
  EXPECT_EQ(sys.asked.size(), 20000u);
  EXPECT_EQ(sys.reads.size(), 2 * 10000u);  // the TCP ones: set up, close
}

}  // namespace
