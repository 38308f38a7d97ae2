// The Inspector: the facts it hands over with each event (connection, direction, bytes moved,
// payload, the call a completion completed, pending, filter match), and the order of its
// callbacks.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "constants.h"
#include "counts.h"
#include "event_builder.h"
#include "test_units.h"
#include "inspector.h"

namespace {

using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;
using ws::inspect::Facts;
using ws::inspect::Inspector;
using ws::inspect::Tracker;

using ws::test::kLoop;

// One event's facts, copied out of the callback.
struct Seen {
  uint64_t seq = 0, conn = 0, moved = 0, completed = 0;
  Tracker::Dir dir = Tracker::Dir::None;
  std::string payload;
  bool pending = false, matched = false;
};

class InspectorTest : public ::testing::Test {
 protected:
  void make(const std::string& filter = "") {
    ws::inspect::InspectOptions io;
    if (!filter.empty()) {
      auto parsed = ws::inspect::Filter::parse(filter);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      io.filter = parsed.value();
    }
    in_ = std::make_unique<Inspector>(std::move(io));
    cb_.event = [this](const Facts& f) {
      Seen s{f.ev.seq, f.conn ? f.conn->id : 0, f.moved, f.completed_seq, f.dir,
             std::string(f.payload), f.pending, f.matched};
      seen_.push_back(s);
      log_.push_back("event " + std::to_string(f.ev.seq));
    };
    cb_.connection_end = [this](const ws::inspect::Connection& c) {
      log_.push_back("end " + std::to_string(c.id) + (c.matched ? " matched" : ""));
    };
    cb_.finish = [this] { log_.push_back("finish"); };
    in_->subscribe(cb_);
  }
  EventBuilder& call(FuncId f) {
    ts_ += 1000;
    return b_.begin(f, 100, 101, ts_, 10);
  }
  const Seen& feed() {
    ws::Event& ev = b_.event();
    ev.seq = seq_++;
    in_->observe(ev);
    return seen_.back();
  }
  void tcp(uint64_t fd) {
    call(FuncId::socket).num(FieldId::family, ws::af::kInet)
        .num(FieldId::type, ws::socktype::kStream).num(FieldId::protocol, ws::proto::kTcp)
        .result(static_cast<int64_t>(fd));
    feed();
    call(FuncId::connect).num(FieldId::sock, fd).addr(FieldId::addr, SockAddr::ipv4(kLoop, 80))
        .result(0);
    feed();
  }

  std::unique_ptr<Inspector> in_;
  ws::inspect::Callbacks cb_;
  std::vector<Seen> seen_;
  std::vector<std::string> log_;
  EventBuilder b_;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
};

TEST_F(InspectorTest, ASendMovesItsBytesOutWithItsPayload) {
  make();
  tcp(3);
  call(FuncId::send).num(FieldId::sock, 3).num(FieldId::len, 5).payload("hel", 5).result(5);
  const Seen& s = feed();
  EXPECT_EQ(s.dir, Tracker::Dir::Out);
  EXPECT_EQ(s.moved, 5u);
  EXPECT_EQ(s.payload, "hel") << "the bytes kept of those moved";
  EXPECT_EQ(s.conn, 1u);
  EXPECT_TRUE(s.matched) << "the empty filter matches everything";
}

TEST_F(InspectorTest, MessagesOfSendmmsgCountTheirBytesNotTheirNumber) {
  make();
  call(FuncId::socket).num(FieldId::family, ws::af::kInet)
      .num(FieldId::type, ws::socktype::kDgram).num(FieldId::protocol, ws::proto::kUdp)
      .result(4);
  feed();
  call(FuncId::connect).num(FieldId::sock, 4).addr(FieldId::addr, SockAddr::ipv4(kLoop, 53))
      .result(0);
  feed();
  // Three datagrams of 28 bytes: the result is 3 (messages), the payload's length 84.
  call(FuncId::sendmmsg).num(FieldId::sock, 4).payload(std::string(28, 'q'), 84).result(3);
  const Seen& s = feed();
  EXPECT_EQ(s.moved, 84u);
  in_->finish();
  EXPECT_EQ(in_->tracker().process(100)->bytes_out, 84u);
}

TEST_F(InspectorTest, AnOverlappedSendMovesWhenItCompletesWithTheBytesItStartedWith) {
  make();
  tcp(0x10c);
  call(FuncId::WSASend).num(FieldId::sock, 0x10c).num(FieldId::op, 0xF0).payload("abc", 3)
      .result(-1, ws::errcode::kWsaIoPending);
  const Seen start = feed();
  EXPECT_TRUE(start.pending);
  EXPECT_EQ(start.dir, Tracker::Dir::None);
  EXPECT_EQ(start.moved, 0u);
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xF0).num(FieldId::len, 3)
      .num(FieldId::sock, 0x10c).result(1);
  const Seen done = feed();
  EXPECT_FALSE(done.pending);
  EXPECT_EQ(done.dir, Tracker::Dir::Out);
  EXPECT_EQ(done.moved, 3u);
  EXPECT_EQ(done.payload, "abc") << "the payload the call carried when it started";
  EXPECT_EQ(done.completed, start.seq);
}

TEST_F(InspectorTest, FilterMatchMarksTheConnectionBeforeItEnds) {
  make("rport == 80 and func == send");
  tcp(3);
  call(FuncId::send).num(FieldId::sock, 3).payload("x", 1).result(1);
  EXPECT_TRUE(feed().matched);
  call(FuncId::close).num(FieldId::sock, 3).result(0);
  EXPECT_FALSE(feed().matched);
  tcp(5);  // connection 2: no call of it matches
  in_->finish();
  // A connection ends before the next event is handed over; the open ones at finish(), then
  // on_finish.
  const std::vector<std::string> tail(log_.end() - 5, log_.end());
  EXPECT_EQ(tail, (std::vector<std::string>{"end 1 matched", "event 4", "event 5", "end 2",
                                            "finish"}));
}

}  // namespace

namespace {

// The summaries of a few synthetic events.
class Counts : public ::testing::Test {
 protected:
  void SetUp() override {
    in_.subscribe(calls_);
    in_.subscribe(summary_);
  }
  EventBuilder& call(FuncId f) { return b_.begin(f, 100, 100, ts_ += 1000); }
  void feed() {
    b_.event().seq = seq_++;
    in_.observe(b_.event());
  }
  void sock(uint64_t fd, uint64_t family, uint64_t type) {
    call(FuncId::socket).num(FieldId::family, family).num(FieldId::type, type)
        .result(static_cast<int64_t>(fd));
    feed();
  }
  Inspector in_;
  ws::inspect::CallCounts calls_;
  ws::inspect::TraceSummary summary_;
  EventBuilder b_;
  uint64_t seq_ = 0;
  int64_t ts_ = 0;
};

// Would-block, in-progress and pending results are outcomes: the counts of stats and info count
// failures only, and name the outcomes apart.
TEST_F(Counts, OutcomesAreNoFailures) {
  sock(3, ws::af::kInet, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 3).addr(FieldId::addr, SockAddr::ipv4(kLoop, 80))
      .result(-1, ws::errcode::kEinprogress);
  feed();
  for (int i = 0; i < 2; ++i) {
    call(FuncId::recv).num(FieldId::sock, 3).num(FieldId::len, 8)
        .result(-1, ws::errcode::kEagain);
    feed();
  }
  call(FuncId::send).num(FieldId::sock, 3).num(FieldId::len, 8).result(-1, ws::errcode::kEpipe);
  feed();
  in_.finish();
  const auto& f = calls_.functions();
  EXPECT_EQ(f.at("connect").failed, 0u);
  EXPECT_EQ(f.at("connect").outcomes.at("EINPROGRESS"), 1u);
  EXPECT_TRUE(f.at("connect").errors.empty());
  EXPECT_EQ(f.at("recv").failed, 0u);
  EXPECT_EQ(f.at("recv").outcomes.at("EAGAIN"), 2u);
  EXPECT_EQ(f.at("send").failed, 1u);
  EXPECT_EQ(f.at("send").errors.at("EPIPE"), 1u);
  EXPECT_EQ(calls_.processes().at(100).failed, 1u);
  EXPECT_EQ(summary_.calls(), 5u);
  EXPECT_EQ(summary_.failed(), 1u);
  EXPECT_EQ(summary_.processes().at(100).errors, 1u);
  EXPECT_EQ(summary_.connections(), 1u);
}

// The summaries count every connection conns lists, by kind.
TEST_F(Counts, ConnectionsByKind) {
  sock(3, ws::af::kInet, ws::socktype::kStream);  // never connected
  sock(4, ws::af::kInet, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 4).addr(FieldId::addr, SockAddr::ipv4(kLoop, 80))
      .result(0);
  feed();
  sock(5, ws::af::kUnix, ws::socktype::kStream);
  in_.finish();
  EXPECT_EQ(summary_.connections(), 3u);
  EXPECT_EQ(summary_.connections_text(), "3 connections (1 tcp out, 1 unix, 1 tcp unused)");
}

}  // namespace
