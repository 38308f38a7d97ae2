// The lookup and HTTP watchers over tracked events: DNS over UDP and TCP (frames split across
// calls), HTTP seen from a traced server, TLS hellos.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "constants.h"
#include "event_builder.h"
#include "http_watch.h"
#include "lookups.h"
#include "tracker.h"

namespace {

using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;

// A DNS message: id, flags, one question `name` type A, and, for responses, one A answer.
std::string dns(uint16_t id, bool response, const std::string& name, uint32_t ip = 0) {
  std::string m;
  auto u16 = [&](uint16_t v) { m += static_cast<char>(v >> 8), m += static_cast<char>(v); };
  u16(id);
  u16(response ? 0x8180 : 0x0100);
  u16(1), u16(response ? 1 : 0), u16(0), u16(0);
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    m += static_cast<char>(dot - start);
    m += name.substr(start, dot - start);
    start = dot + 1;
  }
  m += '\0';
  u16(1), u16(1);
  if (response) {
    u16(0xc00c), u16(1), u16(1), u16(0), u16(60), u16(4);
    for (int s = 24; s >= 0; s -= 8) m += static_cast<char>(ip >> s);
  }
  return m;
}

class WatchTest : public ::testing::Test {
 protected:
  WatchTest() : lookups_(tracker_), http_(tracker_) {
    lookups_.on_lookup = [this](const ws::inspect::Lookup& l) { found_.push_back(l); };
    http_.on_exchange = [this](const ws::inspect::HttpExchange& x) { exchanges_.push_back(x); };
    http_.on_tls = [this](const ws::inspect::TlsInfo& t) { tls_.push_back(t); };
  }
  EventBuilder& call(FuncId f) {
    ts_ += 1000;
    return b_.begin(f, 7, 7, ts_, 100);
  }
  void feed() {
    b_.event().seq = seq_++;
    tracker_.observe(b_.event());
    lookups_.observe(b_.event());
    http_.observe(b_.event());
  }
  void sock(uint64_t fd, uint64_t type) {
    call(FuncId::socket).num(FieldId::family, ws::af::kInet).num(FieldId::type, type).result(
        static_cast<int64_t>(fd));
    feed();
  }
  void io(FuncId f, uint64_t fd, const std::string& data, const SockAddr* peer = nullptr) {
    auto& b = call(f).num(FieldId::sock, fd).num(FieldId::len, data.size());
    if (peer) b.addr(f == FuncId::sendto ? FieldId::addr : FieldId::peer, *peer);
    b.payload(data, data.size()).result(static_cast<int64_t>(data.size()));
    feed();
  }
  ws::inspect::Tracker tracker_;
  ws::inspect::LookupWatcher lookups_;
  ws::inspect::HttpWatcher http_;
  EventBuilder b_;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
  std::vector<ws::inspect::Lookup> found_;
  std::vector<ws::inspect::HttpExchange> exchanges_;
  std::vector<ws::inspect::TlsInfo> tls_;
};

TEST_F(WatchTest, DnsOverUdpPairsQueryAndResponseAndNamesTheAddress) {
  const SockAddr server = SockAddr::ipv4(0x7f000035, 53);
  sock(5, ws::socktype::kDgram);
  io(FuncId::sendto, 5, dns(0x1234, false, "api.example.test"), &server);
  EXPECT_TRUE(found_.empty());
  io(FuncId::recvfrom, 5, dns(0x1234, true, "api.example.test", 0x0a000005), &server);
  ASSERT_EQ(found_.size(), 1u);
  EXPECT_TRUE(found_[0].packet);
  EXPECT_EQ(found_[0].name, "api.example.test");
  EXPECT_EQ(found_[0].asked, "A");
  EXPECT_EQ(found_[0].answers, std::vector<std::string>{"10.0.0.5"});
  EXPECT_EQ(found_[0].dur, 1100u);  // query entry to the response's return
  EXPECT_EQ(found_[0].result, "ok");
  EXPECT_EQ(tracker_.host_of(SockAddr::ipv4(0x0a000005, 443)), "api.example.test");
  // A query never answered is reported at the end.
  io(FuncId::sendto, 5, dns(0x9999, false, "slow.example.test"), &server);
  lookups_.finish();
  ASSERT_EQ(found_.size(), 2u);
  EXPECT_FALSE(found_[1].answered);
  EXPECT_EQ(found_[1].name, "slow.example.test");
}

// Off port 53, a UDP flow is DNS when its first datagram is a plain query (dig -p 5353); a
// flow that starts with anything else is never taken for DNS, whatever comes later.
TEST_F(WatchTest, DnsOnAnotherPortIsKnownByItsContent) {
  const SockAddr resolver = SockAddr::ipv4(0x7f000001, 5353);
  sock(5, ws::socktype::kDgram);
  io(FuncId::sendto, 5, dns(0x0101, false, "other.port.test"), &resolver);
  io(FuncId::recvfrom, 5, dns(0x0101, true, "other.port.test", 0x0a000009), &resolver);
  io(FuncId::recvfrom, 5, dns(0x0202, true, "unasked.test", 0x0a00000a), &resolver);
  ASSERT_EQ(found_.size(), 1u) << "the answer to no query seen is not a lookup";
  EXPECT_EQ(found_[0].name, "other.port.test");
  EXPECT_EQ(found_[0].answers, std::vector<std::string>{"10.0.0.9"});

  const SockAddr game = SockAddr::ipv4(0x7f000001, 9999);
  sock(6, ws::socktype::kDgram);
  io(FuncId::sendto, 6, std::string(12, '\0') + "not a question", &game);
  io(FuncId::sendto, 6, dns(0x0303, false, "late.test"), &game);
  io(FuncId::recvfrom, 6, dns(0x0303, true, "late.test", 0x0a00000b), &game);
  lookups_.finish();
  EXPECT_EQ(found_.size(), 1u) << "a flow that did not start as DNS";
}

TEST_F(WatchTest, DnsOverTcpFramesSplitAcrossCalls) {
  sock(6, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 6).addr(FieldId::addr, SockAddr::ipv4(0x7f000001, 53))
      .result(0);
  feed();
  auto framed = [](const std::string& m) {
    return std::string{static_cast<char>(m.size() >> 8), static_cast<char>(m.size())} + m;
  };
  io(FuncId::send, 6, framed(dns(7, false, "tcp.example.test")));
  const std::string resp = framed(dns(7, true, "tcp.example.test", 0x0a000009));
  io(FuncId::recv, 6, resp.substr(0, 5));
  EXPECT_TRUE(found_.empty());
  io(FuncId::recv, 6, resp.substr(5));
  ASSERT_EQ(found_.size(), 1u);
  EXPECT_EQ(found_[0].via, "tcp");
  EXPECT_EQ(found_[0].answers, std::vector<std::string>{"10.0.0.9"});
}

TEST_F(WatchTest, HttpSeenFromATracedServer) {
  sock(3, ws::socktype::kStream);
  call(FuncId::listen).num(FieldId::sock, 3).result(0);
  feed();
  call(FuncId::accept).num(FieldId::sock, 3).addr(FieldId::peer, SockAddr::ipv4(0x7f000001, 5555))
      .result(4);
  feed();
  io(FuncId::recv, 4, "HEAD /x HTTP/1.1\r\nHost: svc\r\n\r\n");
  io(FuncId::send, 4, "HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n");  // HEAD: no body
  ASSERT_EQ(exchanges_.size(), 1u);
  const auto& x = exchanges_[0];
  EXPECT_EQ(x.request.method, "HEAD");
  EXPECT_EQ(x.host, "svc");
  EXPECT_EQ(x.response.status, 200);
  EXPECT_EQ(x.response.body_size, 0u);
  EXPECT_EQ(x.ttfb(), 1000);
}

// A peek (MSG_PEEK, as wget does) leaves the bytes queued: the receive that takes them is the
// one that is decoded and counted.
TEST_F(WatchTest, PeekedBytesAreDecodedAndCountedOnce) {
  sock(4, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 4).addr(FieldId::addr, SockAddr::ipv4(0x7f000001, 80))
      .result(0);
  feed();
  io(FuncId::send, 4, "GET / HTTP/1.1\r\nHost: svc\r\n\r\n");
  const std::string resp = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  call(FuncId::recv).num(FieldId::sock, 4).num(FieldId::len, 4096)
      .num(FieldId::flags, ws::msgflag::kPeek).payload(resp, resp.size())
      .result(static_cast<int64_t>(resp.size()));
  feed();
  io(FuncId::recv, 4, resp);
  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_EQ(exchanges_[0].response.status, 200);
  EXPECT_EQ(exchanges_[0].response.body_size, 2u);
  ASSERT_NE(tracker_.connection(), nullptr);
  EXPECT_EQ(tracker_.connection()->bytes_in, resp.size());
}

TEST_F(WatchTest, UnansweredRequestIsReportedAtClose) {
  sock(3, ws::socktype::kStream);
  io(FuncId::send, 3, "GET /never HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_TRUE(exchanges_.empty());
  call(FuncId::close).num(FieldId::sock, 3).result(0);
  feed();
  ASSERT_EQ(exchanges_.size(), 1u);
  EXPECT_FALSE(exchanges_[0].has_response);
  EXPECT_EQ(exchanges_[0].request.target, "/never");
}

}  // namespace
