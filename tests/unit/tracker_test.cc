// The tracker: connection ids, ends, bytes, how connections end, UDP flows, dup and fork,
// overlapped completions, names from lookups — and the filter fields that rely on it.
#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <vector>

#include "constants.h"
#include "event_builder.h"
#include "test_units.h"
#include "filter.h"
#include "tracker.h"

namespace {

using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;
using ws::inspect::ConnEnd;
using ws::inspect::ConnRole;
using ws::inspect::Connection;
using ws::inspect::Tracker;

SockAddr v4(uint32_t ip, uint16_t port) { return SockAddr::ipv4(ip, port); }
using ws::test::kLoop;

class TrackerTest : public ::testing::Test {
 protected:
  TrackerTest() {
    t_.on_end = [this](const Connection& c) {
      ended_[c.id] = c;
      order_.push_back(c.id);
    };
  }
  // Starts an event of `pid` at the next time step.
  EventBuilder& call(FuncId f, uint32_t pid = 100) {
    ts_ += 1000;
    return b_.begin(f, pid, pid, ts_, 10);
  }
  // Feeds the event built last.
  const Connection* feed() {
    ws::Event& ev = b_.event();
    ev.seq = seq_++;
    t_.observe(ev);
    return t_.connection();
  }
  uint64_t tcp_socket(uint64_t fd, uint32_t pid = 100) {
    call(FuncId::socket, pid)
        .num(FieldId::family, ws::af::kInet)
        .num(FieldId::type, ws::socktype::kStream)
        .num(FieldId::protocol, ws::proto::kTcp)
        .result(static_cast<int64_t>(fd));
    return feed()->id;
  }
  void start(uint32_t pid, uint32_t ppid, const char* image) {
    call(FuncId::process_start, pid)
        .num(FieldId::ppid, ppid)
        .str(FieldId::image, image)
        .num(FieldId::platform, 1)
        .result(0);
    feed();
  }
  // An `inherited` event: a TCP socket the process had when the agent started in it.
  const Connection* inherited(uint64_t fd, uint32_t pid, SockAddr local,
                              std::optional<SockAddr> peer, bool listening) {
    EventBuilder& b = call(FuncId::inherited, pid).num(FieldId::sock, fd)
                          .num(FieldId::family, ws::af::kInet)
                          .num(FieldId::type, ws::socktype::kStream)
                          .num(FieldId::protocol, ws::proto::kTcp).addr(FieldId::local, local);
    if (peer) b.addr(FieldId::peer, *peer);
    b.num(FieldId::listening, listening ? 1 : 0).result(0);
    return feed();
  }
  void close(uint64_t fd, uint32_t pid = 100) {
    call(FuncId::close, pid).num(FieldId::sock, fd).result(0);
    feed();
  }
  void io(FuncId f, uint64_t fd, int64_t r, ws::ErrorCode e = {}, uint32_t pid = 100) {
    call(f, pid).num(FieldId::sock, fd).num(FieldId::len, 4096).result(r, e);
    feed();
  }
  bool match(const char* expr) {
    auto f = ws::inspect::Filter::parse(expr);
    EXPECT_TRUE(f.ok()) << expr;
    return f.value().matches(b_.event(), t_);
  }

  Tracker t_;
  EventBuilder b_;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
  std::map<uint64_t, Connection> ended_;
  std::vector<uint64_t> order_;
};

TEST_F(TrackerTest, TcpClientBytesAndPeerClose) {
  start(100, 1, "/usr/bin/client");
  const uint64_t id = tcp_socket(3);
  EXPECT_EQ(id, 1u);
  call(FuncId::connect).num(FieldId::sock, 3).addr(FieldId::addr, v4(kLoop, 8080))
      .addr(FieldId::local, v4(kLoop, 40000)).result(0);
  EXPECT_EQ(feed()->id, id);
  io(FuncId::send, 3, 75);
  io(FuncId::recv, 3, 67);
  io(FuncId::recv, 3, 0);
  EXPECT_TRUE(ended_.empty());
  close(3);
  EXPECT_EQ(t_.connection()->id, id) << "the close still belongs to its connection";
  call(FuncId::socket).result(-1, ws::errcode::kEmfile);  // frees what ended
  feed();
  ASSERT_EQ(ended_.count(id), 1u);
  const Connection& c = ended_[id];
  EXPECT_EQ(c.role, ConnRole::Client);
  EXPECT_EQ(c.kind(), "tcp");
  EXPECT_EQ(ws::to_string(*c.remote), "127.0.0.1:8080");
  EXPECT_EQ(ws::to_string(*c.local), "127.0.0.1:40000");
  EXPECT_EQ(c.bytes_out, 75u);
  EXPECT_EQ(c.bytes_in, 67u);
  EXPECT_EQ(c.calls_out, 1u);
  EXPECT_EQ(c.calls_in, 2u);
  EXPECT_EQ(c.end, ConnEnd::ClosedByPeer);
  EXPECT_EQ(c.errors, 0u);
  EXPECT_EQ(c.closed_ts - c.opened_ts, 5000);
  EXPECT_EQ(t_.process(100)->name(), "client");
  EXPECT_EQ(t_.process(100)->bytes_out, 75u);
}

TEST_F(TrackerTest, WeCloseFirstResetAndRefused) {
  tcp_socket(3);
  call(FuncId::connect).num(FieldId::sock, 3).addr(FieldId::addr, v4(kLoop, 80)).result(0);
  feed();
  call(FuncId::shutdown).num(FieldId::sock, 3).num(FieldId::how, ws::shut::kWr).result(0);
  feed();
  io(FuncId::recv, 3, 0);
  close(3);
  const uint64_t reset = tcp_socket(3);
  io(FuncId::recv, 3, -1, ws::errcode::kEconnreset);
  close(3);
  const uint64_t refused = tcp_socket(3);
  call(FuncId::WSAConnect).num(FieldId::sock, 3).addr(FieldId::addr, v4(kLoop, 9))
      .result(-1, ws::errcode::kWsaeconnrefused);
  feed();
  close(3);
  t_.finish();
  EXPECT_EQ(ended_[1].end, ConnEnd::ClosedByUs);
  EXPECT_EQ(ended_[reset].end, ConnEnd::Reset);
  EXPECT_EQ(ended_[reset].end_error, ws::errcode::kEconnreset);
  EXPECT_EQ(ended_[refused].end, ConnEnd::Error);
  EXPECT_EQ(ended_[refused].end_error, ws::errcode::kWsaeconnrefused);
  EXPECT_EQ(ended_[refused].errors, 1u);
  EXPECT_EQ(order_, (std::vector<uint64_t>{1, reset, refused}));
}

TEST_F(TrackerTest, NonBlockingConnectFailureShowsInSoError) {
  start(100, 1, "/bin/nb");
  const uint64_t id = tcp_socket(5);
  call(FuncId::connect).num(FieldId::sock, 5).addr(FieldId::addr, v4(kLoop, 9))
      .result(-1, ws::errcode::kEinprogress);
  feed();
  call(FuncId::getsockopt).num(FieldId::sock, 5).num(FieldId::level, ws::solevel::kSolSocket)
      .num(FieldId::optname, ws::sockopt::kSoError).num(FieldId::optval, 111).result(0);
  feed();
  close(5);
  t_.finish();
  EXPECT_EQ(ended_[id].end, ConnEnd::Error);
  EXPECT_EQ(ws::error_name(ended_[id].end_error), "ECONNREFUSED");
  EXPECT_EQ(ended_[id].errors, 1u) << "EINPROGRESS is not an error";
  EXPECT_EQ(ended_[id].connected_ts, 0);
}

TEST_F(TrackerTest, UdpPeersAreFlowsOfTheirOwn) {
  call(FuncId::socket).num(FieldId::family, ws::af::kInet).num(FieldId::type, ws::socktype::kDgram)
      .result(7);
  const uint64_t base = feed()->id;
  call(FuncId::sendto).num(FieldId::sock, 7).addr(FieldId::addr, v4(kLoop, 53)).result(34);
  EXPECT_EQ(feed()->id, base);
  call(FuncId::sendto).num(FieldId::sock, 7).addr(FieldId::addr, v4(kLoop + 1, 53)).result(30);
  const uint64_t second = feed()->id;
  EXPECT_NE(second, base);
  EXPECT_TRUE(match("rip == 127.0.0.2 and conn == 2"));
  call(FuncId::recvfrom).num(FieldId::sock, 7).addr(FieldId::peer, v4(kLoop, 53)).result(50);
  EXPECT_EQ(feed()->id, base);
  call(FuncId::recvfrom).num(FieldId::sock, 7).addr(FieldId::peer, v4(kLoop + 1, 53)).result(40);
  EXPECT_EQ(feed()->id, second);
  io(FuncId::recvfrom, 7, 0);  // an empty datagram is not end-of-stream
  close(7);
  t_.finish();
  ASSERT_EQ(ended_.size(), 2u);
  EXPECT_EQ(ended_[base].kind(), "udp");
  EXPECT_EQ(ended_[base].role, ConnRole::Flow);
  EXPECT_EQ(ended_[base].bytes_out, 34u);
  EXPECT_EQ(ended_[base].bytes_in, 50u);
  EXPECT_EQ(ended_[second].bytes_out, 30u);
  EXPECT_EQ(ended_[second].bytes_in, 40u);
  EXPECT_EQ(ended_[base].end, ConnEnd::ClosedByUs);
  EXPECT_EQ(ended_[second].end, ConnEnd::ClosedByUs);
}

// A datagram socket's first send names the address it was bound to (Windows: the port the
// system chose); bound to the wildcard address, its flows to loopback peers leave from the
// loopback address, a flow to any other peer keeps the wildcard.
TEST_F(TrackerTest, WildcardDatagramSocketsTakeTheLoopbackSource) {
  call(FuncId::socket).num(FieldId::family, ws::af::kInet).num(FieldId::type, ws::socktype::kDgram)
      .result(7);
  const uint64_t base = feed()->id;
  call(FuncId::WSASendTo).num(FieldId::sock, 7).addr(FieldId::addr, v4(kLoop + 4, 53))
      .addr(FieldId::local, v4(0, 40000)).result(10);
  feed();
  call(FuncId::sendto).num(FieldId::sock, 7).addr(FieldId::addr, v4(0x0a000001, 53)).result(10);
  const uint64_t other = feed()->id;
  close(7);
  t_.finish();
  ASSERT_EQ(ended_.size(), 2u);
  EXPECT_EQ(*ended_[base].local, v4(kLoop, 40000));
  EXPECT_TRUE(ended_[base].local_inferred);
  EXPECT_EQ(*ended_[other].local, v4(0, 40000));
  EXPECT_FALSE(ended_[other].local_inferred);
}

TEST_F(TrackerTest, EpollWaitsAndMmsgMessages) {
  // An epoll wait's `sock` is the epoll descriptor: no connection. A further message of a
  // sendmmsg is a datagram of its flow but no call of the process.
  for (FuncId f : {FuncId::epoll_wait, FuncId::epoll_pwait, FuncId::epoll_pwait2}) {
    call(f).num(FieldId::sock, 9).num(FieldId::count, 8).result(1);
    EXPECT_EQ(feed(), nullptr);
  }
  call(FuncId::socket).num(FieldId::family, ws::af::kInet).num(FieldId::type, ws::socktype::kDgram)
      .result(7);
  const uint64_t base = feed()->id;
  call(FuncId::sendmmsg).num(FieldId::sock, 7).addr(FieldId::addr, v4(kLoop, 53)).num(FieldId::len, 3)
      .payload("one", 3).result(2);
  EXPECT_EQ(feed()->id, base);
  call(FuncId::sendmmsg_msg).num(FieldId::sock, 7).addr(FieldId::addr, v4(kLoop + 1, 53))
      .num(FieldId::len, 5).payload("two!!", 5).result(5);
  const uint64_t second = feed()->id;
  EXPECT_NE(second, base);
  close(7);
  t_.finish();
  EXPECT_EQ(ended_.size(), 2u);
  EXPECT_EQ(ended_[base].bytes_out, 3u);
  EXPECT_EQ(ended_[second].bytes_out, 5u);
  EXPECT_EQ(ended_[second].calls_out, 1u);
  EXPECT_EQ(t_.process(100)->calls, 6u);  // 3 waits, socket, sendmmsg, close
}

TEST_F(TrackerTest, AcceptedConnectionsKnowTheirListener) {
  const uint64_t listener = tcp_socket(3);
  call(FuncId::bind).num(FieldId::sock, 3).addr(FieldId::addr, v4(kLoop, 8080)).result(0);
  feed();
  call(FuncId::listen).num(FieldId::sock, 3).num(FieldId::backlog, 5).result(0);
  feed();
  call(FuncId::accept).num(FieldId::sock, 3).addr(FieldId::peer, v4(kLoop, 50000)).result(4);
  const uint64_t accepted = feed()->id;
  EXPECT_NE(accepted, listener);
  EXPECT_TRUE(match("lport == 8080 and rport == 50000"));
  io(FuncId::recv, 4, 10);
  close(4);
  t_.finish();
  EXPECT_EQ(ended_[listener].role, ConnRole::Listener);
  EXPECT_EQ(ended_[listener].end, ConnEnd::Open);
  EXPECT_EQ(ended_[accepted].role, ConnRole::Accepted);
  EXPECT_EQ(ended_[accepted].listener, listener);
  EXPECT_EQ(ws::to_string(*ended_[accepted].local), "127.0.0.1:8080");
  EXPECT_EQ(ended_[accepted].bytes_in, 10u);
  EXPECT_EQ(ended_[accepted].kind(), "tcp");
}

TEST_F(TrackerTest, DupAndForkShareTheConnection) {
  start(100, 1, "/bin/parent");
  const uint64_t id = tcp_socket(3);
  call(FuncId::dup).num(FieldId::sock, 3).result(9);
  feed();
  close(3);
  io(FuncId::send, 9, 5);
  EXPECT_EQ(t_.connection()->id, id);
  start(200, 100, "/bin/child");
  io(FuncId::send, 9, 7, {}, 200);  // inherited across fork
  EXPECT_EQ(t_.connection()->id, id);
  close(9);
  io(FuncId::send, 3, -1, ws::errcode::kEbadf);  // a handle wstrace never saw
  EXPECT_EQ(t_.connection(), nullptr) << "a call refused for a bad handle makes no connection";
  EXPECT_EQ(ended_.count(id), 0u) << "the child still holds it";
  call(FuncId::process_exit, 200).num(FieldId::exit_code, 0).result(0);
  feed();
  call(FuncId::socket).result(-1, ws::errcode::kEmfile);
  feed();
  ASSERT_EQ(ended_.count(id), 1u);
  EXPECT_EQ(ended_[id].bytes_out, 12u);
  EXPECT_EQ(ended_[id].end, ConnEnd::NotClosed) << "the child ended without closing it";
}

// sshd's pattern: the parent forks, closes its copy at once, and the child uses the socket
// later (dup2 onto 0, exec, then reads): one connection, with the child's bytes.
TEST_F(TrackerTest, ForkGivesTheChildItsParentsSocketsEvenWhenTheParentClosesFirst) {
  start(100, 1, "/usr/sbin/sshd");
  const uint64_t id = tcp_socket(4);
  call(FuncId::fork).result(200);
  feed();
  close(4);
  EXPECT_EQ(ended_.count(id), 0u) << "the child still holds it";
  start(200, 100, "/usr/sbin/sshd");
  call(FuncId::dup2, 200).num(FieldId::sock, 4).num(FieldId::new_sock, 0).result(0);
  feed();
  close(4, 200);
  start(200, 100, "/usr/sbin/sshd");  // the exec: it keeps descriptor 0
  EXPECT_EQ(inherited(0, 200, v4(kLoop, 22), v4(kLoop, 50000), false)->id, id)
      << "the inherited socket is the connection it already was";
  io(FuncId::read, 0, 40, {}, 200);
  EXPECT_EQ(t_.connection()->id, id);
  t_.finish();
  EXPECT_EQ(t_.connections_seen(), 1u);
  ASSERT_EQ(ended_.count(id), 1u);
  EXPECT_EQ(ended_[id].bytes_in, 40u);
  ASSERT_TRUE(ended_[id].remote);
  EXPECT_EQ(*ended_[id].remote, v4(kLoop, 50000)) << "the peer from the inherited event";
}

// A child that never touches what it got at fork does not keep a connection open past its last
// real user: the connection ends when and as the parent closed it.
TEST_F(TrackerTest, AChildsUnusedCopyEndsTheConnectionAsItsLastUserLeftIt) {
  start(100, 1, "/usr/sbin/nginx");
  const uint64_t id = tcp_socket(7);
  call(FuncId::fork).result(300);
  feed();
  close(7);
  const int64_t closed_at = ts_;
  start(300, 100, "/usr/sbin/nginx");
  call(FuncId::process_exit, 300).num(FieldId::exit_code, 0).result(0);
  feed();
  t_.finish();
  ASSERT_EQ(ended_.count(id), 1u);
  EXPECT_EQ(ended_[id].end, ConnEnd::ClosedByUs) << "not 'not closed' by the child";
  EXPECT_EQ(ended_[id].closed_ts, closed_at);
}

TEST_F(TrackerTest, AnInheritedSocketIsKnownFromItsFirstCall) {
  const Connection* l = inherited(3, 100, v4(kLoop, 8080), std::nullopt, true);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->role, ConnRole::Listener);
  EXPECT_EQ(l->kind(), "tcp");
  EXPECT_TRUE(l->inherited);
  call(FuncId::accept).num(FieldId::sock, 3).num(FieldId::new_sock, 5)
      .addr(FieldId::peer, v4(kLoop, 40000)).result(5);
  const Connection* a = feed();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->role, ConnRole::Accepted);
  EXPECT_EQ(a->listener, l->id);
  EXPECT_EQ(t_.processes().at(100).calls, 1u) << "the inherited socket is a fact, not a call";
}

// epoll_wait names its epoll descriptor, and a call refused with ENOTSOCK names a file: neither
// is a connection.
TEST_F(TrackerTest, WaitsAndNonSocketsMakeNoConnection) {
  call(FuncId::epoll_wait).num(FieldId::sock, 6).result(0);
  EXPECT_EQ(feed(), nullptr);
  call(FuncId::setsockopt).num(FieldId::sock, 7).result(-1, ws::errcode::kEnotsock);
  EXPECT_EQ(feed(), nullptr);
  EXPECT_EQ(t_.connections_seen(), 0u);
}

TEST_F(TrackerTest, HandleReusedWithoutASeenCloseStartsANewConnection) {
  const uint64_t first = tcp_socket(4);
  const uint64_t second = tcp_socket(4);
  EXPECT_NE(first, second);
  t_.finish();
  EXPECT_EQ(order_, (std::vector<uint64_t>{first, second}));
}

TEST_F(TrackerTest, OverlappedCompletionsCountOnce) {
  const uint64_t listener = tcp_socket(0x100);
  call(FuncId::listen).num(FieldId::sock, 0x100).result(0);
  feed();
  const uint64_t acc = tcp_socket(0x104);
  call(FuncId::AcceptEx).num(FieldId::sock, 0x100).num(FieldId::new_sock, 0x104)
      .num(FieldId::op, 0xA0).result(0, ws::errcode::kWsaIoPending);
  feed();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xA0).num(FieldId::len, 0)
      .num(FieldId::sock, 0x100).result(0);
  feed();
  call(FuncId::WSARecv).num(FieldId::sock, 0x104).num(FieldId::op, 0xB0)
      .result(-1, ws::errcode::kWsaIoPending);
  feed();
  const uint64_t recv_seq = seq_ - 1;
  EXPECT_EQ(t_.completed_seq(), 0u);
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xB0).num(FieldId::len, 12)
      .num(FieldId::sock, 0x104).result(12);
  EXPECT_EQ(feed()->id, acc);
  EXPECT_EQ(t_.completed_seq(), recv_seq) << "the completion names the call it completed";
  // A completion of an operation that finished at once adds nothing more, but names it.
  call(FuncId::WSASend).num(FieldId::sock, 0x104).num(FieldId::op, 0xC0).result(0);
  feed();
  const uint64_t send_seq = seq_ - 1;
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xC0).num(FieldId::len, 3)
      .num(FieldId::sock, 0x104).result(3);
  feed();
  EXPECT_EQ(t_.completed_seq(), send_seq);
  // … also when the packet names no socket (the recorder knows the socket of pending calls).
  call(FuncId::WSASend).num(FieldId::sock, 0x104).num(FieldId::op, 0xC8).result(0);
  feed();
  const uint64_t send2_seq = seq_ - 1;
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xC8).num(FieldId::len, 3).result(3);
  feed();
  EXPECT_EQ(t_.completed_seq(), send2_seq);
  // AcceptEx whose completion names the accepted socket, and ConnectEx with data to send.
  const uint64_t acc2 = tcp_socket(0x108);
  call(FuncId::AcceptEx).num(FieldId::sock, 0x100).num(FieldId::new_sock, 0x108)
      .num(FieldId::op, 0xD0).result(0, ws::errcode::kWsaIoPending);
  feed();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xD0).num(FieldId::len, 5)
      .num(FieldId::sock, 0x108).result(5);
  EXPECT_EQ(feed()->id, acc2);
  const uint64_t cli = tcp_socket(0x10c);
  call(FuncId::ConnectEx).num(FieldId::sock, 0x10c).num(FieldId::op, 0xE0)
      .addr(FieldId::addr, v4(kLoop, 80)).result(0, ws::errcode::kWsaIoPending);
  feed();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xE0).num(FieldId::len, 15)
      .num(FieldId::sock, 0x10c).result(15);
  feed();
  t_.finish();
  EXPECT_EQ(ended_[acc2].listener, listener);
  EXPECT_EQ(ended_[acc2].bytes_in, 5u);
  EXPECT_EQ(ended_[cli].bytes_out, 15u);
  EXPECT_NE(ended_[cli].connected_ts, 0);
  EXPECT_EQ(ended_[acc].role, ConnRole::Accepted);
  EXPECT_EQ(ended_[acc].listener, listener);
  EXPECT_EQ(ended_[acc].bytes_in, 12u);
  EXPECT_EQ(ended_[acc].errors, 0u) << "WSA_IO_PENDING is not an error";
}

// What IOCP programs do that looks like something else: a zero-byte read completing (data is
// ready, not the end), a completion after the socket was closed, a call on a closed handle, a
// receive timing out under SO_RCVTIMEO, AcceptEx's and WSARecvFrom's completions with their
// addresses.
TEST_F(TrackerTest, OverlappedCompletionsTellTheTruth) {
  using ws::errcode::kWsaIoPending;
  const uint64_t listener = tcp_socket(0x100);
  call(FuncId::bind).num(FieldId::sock, 0x100).addr(FieldId::addr, v4(kLoop, 8080)).result(0);
  feed();
  call(FuncId::listen).num(FieldId::sock, 0x100).result(0);
  feed();
  const uint64_t acc = tcp_socket(0x104);
  call(FuncId::AcceptEx).num(FieldId::sock, 0x100).num(FieldId::new_sock, 0x104)
      .num(FieldId::op, 0xA0).result(-1, kWsaIoPending);
  feed();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xA0).num(FieldId::len, 0)
      .num(FieldId::sock, 0x104).addr(FieldId::local, v4(kLoop, 8080))
      .addr(FieldId::peer, v4(kLoop, 50000)).result(0);
  const Connection* a = feed();
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->id, acc);
  EXPECT_EQ(a->listener, listener);
  ASSERT_TRUE(a->remote && a->local);
  EXPECT_EQ(*a->remote, v4(kLoop, 50000));
  EXPECT_EQ(*a->local, v4(kLoop, 8080));
  EXPECT_EQ(a->opened_ts, ts_) << "the connection opens when the accept completes";
  // A zero-byte read that completes with 0: data is ready.
  call(FuncId::WSARecv).num(FieldId::sock, 0x104).num(FieldId::len, 0).num(FieldId::op, 0xB0)
      .result(-1, kWsaIoPending);
  feed();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xB0).num(FieldId::len, 0)
      .num(FieldId::sock, 0x104).result(0);
  feed();
  EXPECT_FALSE(t_.end_of_stream());
  EXPECT_FALSE(t_.connection()->peer_eof);
  // A receive pending when the socket is closed: its aborted completion, and a send on the
  // closed handle, make no connection.
  call(FuncId::WSARecv).num(FieldId::sock, 0x104).num(FieldId::len, 64).num(FieldId::op, 0xB8)
      .result(-1, kWsaIoPending);
  feed();
  call(FuncId::closesocket).num(FieldId::sock, 0x104).result(0);
  feed();
  const size_t open = t_.open_connections();
  call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xB8).num(FieldId::len, 0)
      .num(FieldId::sock, 0x104).result(-1, ws::errcode::kWsaOperationAborted);
  EXPECT_EQ(feed(), nullptr);
  io(FuncId::send, 0x104, -1, ws::errcode::kWsaenotsock);
  EXPECT_EQ(t_.connection(), nullptr);
  EXPECT_EQ(t_.open_connections(), open);
  EXPECT_EQ(ended_[acc].end, ConnEnd::ClosedByUs);
  EXPECT_EQ(ended_[acc].errors, 0u);
  // A receive that times out under SO_RCVTIMEO: an outcome.
  const uint64_t cli = tcp_socket(0x108);
  call(FuncId::connect).num(FieldId::sock, 0x108).addr(FieldId::addr, v4(kLoop, 8080)).result(0);
  feed();
  call(FuncId::setsockopt).num(FieldId::sock, 0x108).num(FieldId::level, ws::solevel::kSolSocket)
      .num(FieldId::optname, ws::sockopt::kSoRcvtimeo).num(FieldId::optval, 200).result(0);
  feed();
  io(FuncId::recv, 0x108, -1, ws::errcode::kWsaetimedout);
  EXPECT_EQ(t_.error_class(), ws::inspect::ErrorClass::WouldBlock) << "as Linux's EAGAIN";
  io(FuncId::recv, 0x108, 5);
  call(FuncId::closesocket).num(FieldId::sock, 0x108).result(0);
  feed();
  // WSARecvFrom's completions name their senders: one flow each.
  call(FuncId::socket).num(FieldId::family, ws::af::kInet).num(FieldId::type, ws::socktype::kDgram)
      .num(FieldId::protocol, ws::proto::kUdp).result(0x10c);
  feed();
  for (const uint16_t port : {uint16_t{7001}, uint16_t{7002}}) {
    call(FuncId::WSARecvFrom).num(FieldId::sock, 0x10c).num(FieldId::len, 64)
        .num(FieldId::op, 0xC0).result(-1, kWsaIoPending);
    feed();
    call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, 0xC0).num(FieldId::len, 8)
        .num(FieldId::sock, 0x10c).addr(FieldId::peer, v4(kLoop, port)).result(8);
    const Connection* f = feed();
    ASSERT_NE(f, nullptr);
    ASSERT_TRUE(f->remote);
    EXPECT_EQ(*f->remote, v4(kLoop, port));
    EXPECT_EQ(f->bytes_in, 8u);
  }
  t_.finish();
  EXPECT_EQ(ended_[cli].end, ConnEnd::ClosedByUs);
  EXPECT_EQ(ended_[cli].errors, 0u);
}

TEST_F(TrackerTest, NamesFromLookupsAndFilterFields) {
  start(100, 1, "C:\\tools\\client.exe");
  call(FuncId::getaddrinfo).str(FieldId::host, "api.example.test")
      .addrs(FieldId::addrs, {v4(0x0a000005, 0)}).result(0);
  feed();
  EXPECT_EQ(t_.connection(), nullptr);
  tcp_socket(3);
  call(FuncId::connect).num(FieldId::sock, 3).addr(FieldId::addr, v4(0x0a000005, 443)).result(0);
  feed();
  EXPECT_EQ(t_.connection()->host, "api.example.test");
  EXPECT_TRUE(match("proc == client and conn == 1 and host == \"api.example.test\""));
  EXPECT_TRUE(match("proto == tcp and rip in 10.0.0.0/8"));
  io(FuncId::send, 3, 10);
  EXPECT_TRUE(match("host == \"api.example.test\" and rport == 443")) << "known from connect";
  EXPECT_FALSE(match("conn == 2 or proc == curl"));
}

TEST_F(TrackerTest, ProcessExitEndsItsConnections) {
  start(100, 1, "/bin/leaky");
  const uint64_t id = tcp_socket(3);
  call(FuncId::process_exit).num(FieldId::exit_code, 1).result(0);
  feed();
  call(FuncId::socket, 300).result(-1, ws::errcode::kEmfile);
  feed();
  ASSERT_EQ(ended_.count(id), 1u);
  EXPECT_EQ(ended_[id].end, ConnEnd::NotClosed);
  EXPECT_TRUE(t_.process(100)->exited);
  EXPECT_EQ(t_.open_connections(), 0u);
}

}  // namespace

// What the kernel engine saw TCP do is counted with the connection; one on a socket the trace
// does not know (closed already, never seen) makes no connection.
TEST_F(TrackerTest, TcpStateChangesAndRetransmissionsAreCounted) {
  const uint64_t id = tcp_socket(3);
  call(FuncId::tcp_state_change).num(FieldId::sock, 3).num(FieldId::old_state, ws::tcpstate::kClosed)
      .num(FieldId::tcp_state, ws::tcpstate::kSynSent).result(0);
  feed();
  for (uint64_t len : {1448u, 2896u}) {
    call(FuncId::tcp_retransmit).num(FieldId::sock, 3).num(FieldId::stream_offset, 100)
        .num(FieldId::len, len).num(FieldId::count, len / 1448).result(0);
    EXPECT_EQ(feed()->id, id);
  }
  close(3);
  call(FuncId::tcp_state_change).num(FieldId::sock, 3).num(FieldId::old_state, ws::tcpstate::kFinWait1)
      .num(FieldId::tcp_state, ws::tcpstate::kFinWait2).result(0);
  EXPECT_EQ(feed(), nullptr);
  EXPECT_EQ(t_.connections_seen(), 1u);
  ASSERT_EQ(ended_.count(id), 1u);
  const ws::inspect::TcpStats& t = ended_[id].tcp;
  EXPECT_EQ(t.state_changes, 1u);
  EXPECT_EQ(t.state, ws::tcpstate::kSynSent);
  EXPECT_EQ(t.retransmits, 2u);
  EXPECT_EQ(t.retrans_segments, 3u);
  EXPECT_EQ(t.retrans_stream_bytes, 4344u);
  EXPECT_TRUE(t.seen());
  EXPECT_EQ(t.readings, 0u);
  EXPECT_EQ(ended_[id].calls_out, 0u) << "no call";
}
