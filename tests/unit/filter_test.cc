// Tests of the filter language (src/filter/filter.h, docs/filters.md): every field on events
// built as the agents record them, operators and precedence, the equivalence of error names
// across platforms, the messages for bad filters, and that matching does not allocate.
#include "filter.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "constants.h"
#include "event_builder.h"
#include "test_units.h"
#include "sockaddr.h"

// Counts allocations made by this thread while `g_count_allocations` is set, to prove that
// Filter::matches does not allocate. Replacing the global operator new is harmless to the other
// tests of the binary: it only counts. Sanitizer builds keep their own allocator (and its checks)
// and skip that test.
#if defined(__SANITIZE_ADDRESS__)
#define WS_COUNT_ALLOCATIONS 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WS_COUNT_ALLOCATIONS 0
#endif
#endif
#ifndef WS_COUNT_ALLOCATIONS
#define WS_COUNT_ALLOCATIONS 1
#endif

namespace {
thread_local bool g_count_allocations = false;
thread_local size_t g_allocations = 0;
}  // namespace

#if WS_COUNT_ALLOCATIONS
// GCC cannot see that these pair malloc with free, and warns where it inlines them.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif
void* operator new(std::size_t n) {
  if (g_count_allocations) ++g_allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_count_allocations) ++g_allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }
#endif

namespace {

using ws::ErrDomain;
using ws::ErrorCode;
using ws::Event;
using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;
using ws::inspect::EventOnlyContext;
using ws::inspect::Filter;
using ws::inspect::FilterContext;
using ws::inspect::FilterField;
using ws::inspect::FilterKind;
using ws::inspect::filter_fields;
using ws::inspect::filter_kinds;

using ws::test::kMs;
using ws::test::kUs;

SockAddr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d, uint16_t port) {
  return SockAddr::ipv4(static_cast<uint32_t>(a) << 24 | static_cast<uint32_t>(b) << 16 |
                            static_cast<uint32_t>(c) << 8 | d,
                        port);
}

SockAddr v6(std::initializer_list<uint16_t> words, uint16_t port) {
  std::array<uint8_t, 16> ip{};
  size_t i = 0;
  for (uint16_t w : words) {
    ip[i++] = static_cast<uint8_t>(w >> 8);
    ip[i++] = static_cast<uint8_t>(w);
  }
  return SockAddr::ipv6(ip, port);
}

ErrorCode errno_code(int v) { return ErrorCode{ErrDomain::Errno, v}; }
ErrorCode win_code(int v) { return ErrorCode{ErrDomain::Win, v}; }

// A context with everything a tracker would know, set by the test.
class FakeContext : public FilterContext {
 public:
  std::string proc;
  uint64_t conn = 0;
  const SockAddr* local = nullptr;
  const SockAddr* remote = nullptr;
  std::string host;
  uint64_t proto = 0;

  std::string_view process_name(uint32_t) const override { return proc; }
  uint64_t connection_id(const Event&) const override { return conn; }
  const SockAddr* local_addr(const Event&) const override { return local; }
  const SockAddr* remote_addr(const Event&) const override { return remote; }
  std::string_view remote_host(const Event&) const override { return host; }
  uint64_t protocol(const Event&) const override { return proto; }
};

Filter parse_ok(std::string_view text) {
  auto r = Filter::parse(text);
  if (!r.ok()) {
    ADD_FAILURE() << "filter '" << text << "' did not parse:\n" << r.status().message();
    return Filter::parse("pid == 4294967295 and not pid == 4294967295").value();  // never
  }
  return r.value();
}

bool match(std::string_view text, const Event& ev, const FilterContext& ctx) {
  return parse_ok(text).matches(ev, ctx);
}

bool match(std::string_view text, const Event& ev) {
  EventOnlyContext ctx;
  return match(text, ev, ctx);
}

std::string error_of(std::string_view text) {
  auto r = Filter::parse(text);
  EXPECT_FALSE(r.ok()) << "filter '" << text << "' parsed";
  return r.ok() ? std::string() : r.status().message();
}

class FilterTest : public ::testing::Test {
 protected:
  // connect(3, 93.184.216.34:443) = -1 ECONNREFUSED <150us>, on Linux.
  Event& refused() {
    return b_[0]
        .begin(FuncId::connect, 100, 101, 0, 150 * kUs)
        .num(FieldId::sock, 3)
        .addr(FieldId::addr, v4(93, 184, 216, 34, 443))
        .result(-1, errno_code(111))
        .event();
  }
  // getaddrinfo("api.example.test", "https") = 0 <1.2ms>
  Event& lookup() {
    return b_[1]
        .begin(FuncId::getaddrinfo, 100, 101, 0, 1200 * kUs)
        .str(FieldId::host, "api.example.test")
        .str(FieldId::service, "https")
        .addrs(FieldId::addrs, {v4(10, 0, 0, 5, 443)})
        .result(0)
        .event();
  }
  // send(3, "GET /status HTTP/1.1\r\n…", 75) = 75, 64 bytes kept
  Event& send_http() {
    const std::string request =
        "GET /status HTTP/1.1\r\nHost: api.example.test:8080\r\nUser-Agent: demo/1.0\r\n\r\n";
    return b_[2]
        .begin(FuncId::send, 100, 101, 0, 20 * kUs)
        .num(FieldId::sock, 3)
        .num(FieldId::len, request.size())
        .payload(request.substr(0, 64), request.size())
        .result(static_cast<int64_t>(request.size()))
        .event();
  }
  // WSARecv on Windows that the peer reset.
  Event& win_reset() {
    return b_[3]
        .begin(FuncId::WSARecv, 7, 8, 0, 5 * kMs)
        .num(FieldId::sock, 0x10c)
        .num(FieldId::len, 4096)
        .result(-1, win_code(10054))
        .event();
  }
  // socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) = 3
  Event& tcp_socket(uint64_t protocol = ws::proto::kTcp) {
    return b_[4]
        .begin(FuncId::socket, 100, 101, 0, 12 * kUs)
        .num(FieldId::family, ws::af::kInet)
        .num(FieldId::type, ws::socktype::kStream)
        .num(FieldId::protocol, protocol)
        .result(3)
        .event();
  }
  EventBuilder& builder(size_t i) { return b_[i]; }

 private:
  EventBuilder b_[9];
};

// ---- the language on real-looking events ------------------------------------------------------

TEST_F(FilterTest, TheExampleOfTheIssue) {
  EXPECT_TRUE(match("rport == 443 and failed", refused()));
  EXPECT_FALSE(match("rport == 443 and failed", lookup()));
  EXPECT_FALSE(match("rport == 443 and not failed", refused()));
  EXPECT_FALSE(match("rport == 80 and failed", refused()));
}

TEST_F(FilterTest, CallFields) {
  const Event& ev = refused();
  EXPECT_TRUE(match("pid == 100", ev));
  EXPECT_FALSE(match("pid == 101", ev));
  EXPECT_TRUE(match("tid == 101", ev));
  EXPECT_TRUE(match("func == connect", ev));
  EXPECT_TRUE(match("func == CONNECT", ev));
  EXPECT_FALSE(match("func == WSAConnect", ev));
  EXPECT_TRUE(match("func in (send, connect)", ev));
  EXPECT_TRUE(match("func startswith conn", ev));
  EXPECT_TRUE(match("event == connect", ev));
  EXPECT_FALSE(match("event == send", ev));
  EXPECT_TRUE(match("sock == 3", ev));
  EXPECT_TRUE(match("sock == 0x3", ev));
  EXPECT_TRUE(match("ret == -1", ev));
  EXPECT_TRUE(match("ret < 0", ev));
  EXPECT_FALSE(match("ret >= 0", ev));
  EXPECT_TRUE(match("failed", ev));
  EXPECT_TRUE(match("failed == true", ev));
  EXPECT_FALSE(match("failed == no", ev));
  EXPECT_FALSE(match("failed", lookup()));
  EXPECT_TRUE(match("!failed", lookup()));
  EXPECT_TRUE(match("func == WSARecv", win_reset()));
  EXPECT_TRUE(match("func == wsarecv", win_reset()));
  EXPECT_TRUE(match("event == recv", win_reset()));
  EXPECT_TRUE(match("func contains recv", win_reset()));
  EXPECT_TRUE(match("sock == 268", win_reset()));
}

TEST_F(FilterTest, AddressesFromTheEvent) {
  const Event& ev = refused();
  EXPECT_TRUE(match("rport == 443", ev));
  EXPECT_TRUE(match("port == 443", ev));
  EXPECT_FALSE(match("lport == 443", ev));  // not known from the event alone
  EXPECT_TRUE(match("rport > 400 and rport <= 443", ev));
  EXPECT_TRUE(match("rip == 93.184.216.34", ev));
  EXPECT_TRUE(match("ip == 93.184.216.34", ev));
  EXPECT_FALSE(match("lip == 93.184.216.34", ev));
  EXPECT_TRUE(match("ip in 93.184.0.0/16", ev));
  EXPECT_FALSE(match("ip in 10.0.0.0/8", ev));
  EXPECT_TRUE(match("ip in (10.0.0.0/8, 93.184.216.0/24, ::1)", ev));
  EXPECT_TRUE(match("ip == 93.184.216.34/32", ev));
  EXPECT_TRUE(match("ip != 10.0.0.1", ev));
  EXPECT_TRUE(match("family == inet", ev));
  EXPECT_TRUE(match("family == AF_INET", ev));
  EXPECT_FALSE(match("family == inet6", ev));
}

TEST_F(FilterTest, AbsentFieldsMakeComparisonsFalse) {
  const Event& ev = lookup();
  EXPECT_FALSE(match("rport == 443", ev));
  EXPECT_FALSE(match("rport != 443", ev));
  EXPECT_TRUE(match("not rport == 443", ev));
  EXPECT_FALSE(match("rport", ev));
  EXPECT_FALSE(match("ip in 10.0.0.0/8", ev));  // a lookup's answers are not its ends
  EXPECT_FALSE(match("sock == 3", ev));
  EXPECT_FALSE(match("err != ECONNRESET", ev));  // no error at all
  EXPECT_FALSE(match("bytes >= 0", ev));
  EXPECT_FALSE(match("payload contains \"x\"", ev));
  EXPECT_FALSE(match("conn == 1", ev));
  EXPECT_FALSE(match("proc == curl", ev));
  EXPECT_TRUE(match("rport == 443 or event == lookup", ev));
}

TEST_F(FilterTest, HostOfLookupsAndOfConnections) {
  EXPECT_TRUE(match("host == api.example.test", lookup()));
  EXPECT_TRUE(match("host == API.Example.Test.", lookup()));
  EXPECT_TRUE(match("host endswith example.test", lookup()));
  EXPECT_TRUE(match("host startswith \"api.\"", lookup()));
  EXPECT_TRUE(match("host contains EXAMPLE", lookup()));
  EXPECT_FALSE(match("host == example.test", lookup()));
  EXPECT_TRUE(match("host in (a.test, api.example.test)", lookup()));
  EXPECT_TRUE(match("service == https", lookup()));  // a field of the event table
  EXPECT_FALSE(match("host", refused()));

  FakeContext ctx;
  ctx.host = "www.example.com";
  EXPECT_TRUE(match("host == www.example.com", refused(), ctx));
  EXPECT_TRUE(match("host == api.example.test", lookup(), ctx));  // the lookup's own name wins
}

TEST_F(FilterTest, ErrorsMatchTheirEquivalentOnTheOtherPlatform) {
  const Event& linux_reset = builder(5)
                                 .begin(FuncId::recv, 1, 1, 0)
                                 .num(FieldId::sock, 6)
                                 .result(-1, errno_code(104))
                                 .event();
  const Event& win = win_reset();
  for (const Event* ev : {&linux_reset, &win}) {
    EXPECT_TRUE(match("err == ECONNRESET", *ev));
    EXPECT_TRUE(match("err == WSAECONNRESET", *ev));
    EXPECT_TRUE(match("err == econnreset", *ev));
    EXPECT_TRUE(match("err in (ETIMEDOUT, ECONNRESET)", *ev));
    EXPECT_TRUE(match("err", *ev));
    EXPECT_FALSE(match("err == ECONNREFUSED", *ev));
    EXPECT_TRUE(match("err != ECONNREFUSED", *ev));
    EXPECT_TRUE(match("err contains CONNRESET", *ev));
  }
  EXPECT_TRUE(match("err == 10054", win));
  EXPECT_TRUE(match("err == 104", linux_reset));
  EXPECT_FALSE(match("err == 104", win));
  EXPECT_TRUE(match("err == ECONNREFUSED", refused()));
  EXPECT_TRUE(match("err == WSAECONNREFUSED", refused()));

  // Aliases: EWOULDBLOCK is EAGAIN, and WSAEWOULDBLOCK's posix twin.
  const Event& again = builder(6).begin(FuncId::recv, 1, 1, 0).result(-1, errno_code(11)).event();
  EXPECT_TRUE(match("err == EWOULDBLOCK", again));
  EXPECT_TRUE(match("err == WSAEWOULDBLOCK", again));
  EXPECT_FALSE(match("err == EINTR", again));
  const Event& win_again =
      builder(7).begin(FuncId::WSARecv, 1, 1, 0).result(-1, win_code(10035)).event();
  EXPECT_TRUE(match("err == EWOULDBLOCK", win_again));
  EXPECT_TRUE(match("err == EAGAIN", win_again));
  EXPECT_FALSE(match("err == EINTR", win_again));

  // Lookups: EAI_NONAME on Linux, WSAHOST_NOT_FOUND on Windows.
  const Event& noname = builder(6)
                            .begin(FuncId::getaddrinfo, 1, 1, 0)
                            .result(-2, ErrorCode{ErrDomain::Eai, -2})
                            .event();
  EXPECT_TRUE(match("err == EAI_NONAME", noname));
  EXPECT_TRUE(match("err == WSAHOST_NOT_FOUND", noname));
  const Event& win_noname =
      builder(7).begin(FuncId::GetAddrInfoW, 1, 1, 0).result(11001, win_code(11001)).event();
  EXPECT_TRUE(match("err == EAI_NONAME", win_noname));

  // A Windows name means that Windows code (and its errno twin), not every code with that twin:
  // WSA_INVALID_HANDLE is also EBADF on Linux, but it is not WSAEBADF.
  const Event& bad_handle =
      builder(7).begin(FuncId::WSARecv, 1, 1, 0).result(-1, win_code(6)).event();
  EXPECT_TRUE(match("err == EBADF", bad_handle));
  EXPECT_TRUE(match("err == WSA_INVALID_HANDLE", bad_handle));
  EXPECT_FALSE(match("err == WSAEBADF", bad_handle));
  const Event& wsaebadf =
      builder(7).begin(FuncId::WSARecv, 1, 1, 0).result(-1, win_code(10009)).event();
  EXPECT_TRUE(match("err == EBADF", wsaebadf));
  EXPECT_TRUE(match("err == WSAEBADF", wsaebadf));
  EXPECT_FALSE(match("err == WSA_INVALID_HANDLE", wsaebadf));

  // `!=` and `not in` name the same errors as `==` and `in`: numbers too, and every code with
  // the same sense (not the names that merely end so).
  const Event& invalid_handle =
      builder(8).begin(FuncId::WSARecv, 1, 1, 0).result(-1, win_code(6)).event();
  EXPECT_FALSE(match("err != EBADF", invalid_handle));
  EXPECT_FALSE(match("err not in (EBADF, 1)", invalid_handle));
  EXPECT_TRUE(match("err != ECONNRESET", invalid_handle));
  EXPECT_FALSE(match("err != 6", invalid_handle));
  EXPECT_TRUE(match("err != 10054", invalid_handle));
  EXPECT_FALSE(match("type != stream", invalid_handle));  // a field it does not have
}

TEST_F(FilterTest, Durations) {
  const Event& ev = builder(0).begin(FuncId::recv, 1, 1, 0, 1'500'000'000).result(0).event();
  EXPECT_TRUE(match("dur == 1.5s", ev));
  EXPECT_TRUE(match("dur == 1500ms", ev));
  EXPECT_TRUE(match("dur == 1500000us", ev));
  EXPECT_TRUE(match("dur == 1500000000ns", ev));
  EXPECT_TRUE(match("dur == 0.025min", ev));
  EXPECT_TRUE(match("dur > 50ms", ev));
  EXPECT_TRUE(match("dur >= 1.5s", ev));
  EXPECT_FALSE(match("dur > 1.5s", ev));
  EXPECT_TRUE(match("dur < 2s", ev));
  EXPECT_TRUE(match("dur > 0", ev));
  EXPECT_TRUE(match("dur > 1.4999999999s", ev));
  const Event& quick = builder(1).begin(FuncId::recv, 1, 1, 0, 10).result(0).event();
  EXPECT_TRUE(match("dur == 10ns", quick));
  EXPECT_TRUE(match("dur < 200us", quick));
  EXPECT_TRUE(match("dur < 1\xc2\xb5s", quick));
}

TEST_F(FilterTest, PayloadIsCaseSensitiveAndTakesEscapes) {
  const Event& ev = send_http();
  EXPECT_TRUE(match("payload contains \"GET /status\"", ev));
  EXPECT_FALSE(match("payload contains \"get /status\"", ev));
  EXPECT_TRUE(match("payload contains \"HTTP/1.1\\r\\nHost\"", ev));
  EXPECT_TRUE(match("payload contains 'HTTP/1.1\\x0d\\x0a'", ev));
  EXPECT_TRUE(match("payload startswith GET", ev));
  EXPECT_FALSE(match("payload startswith POST", ev));
  EXPECT_TRUE(match("payload contains (\"POST\", \"GET\")", ev));
  // Only 64 of 78 bytes were kept: the end is unknown.
  EXPECT_FALSE(match("payload endswith \"\\r\\n\\r\\n\"", ev));
  EXPECT_TRUE(match("payload", ev));
  EXPECT_FALSE(match("payload", refused()));

  const Event& whole = builder(5).begin(FuncId::recv, 1, 1, 0).payload("ok\n", 3).result(3).event();
  EXPECT_TRUE(match("payload == \"ok\\n\"", whole));
  EXPECT_TRUE(match("payload endswith \"\\n\"", whole));
  EXPECT_TRUE(match("payload != \"no\"", whole));
  const Event& binary = builder(6)
                            .begin(FuncId::send, 1, 1, 0)
                            .payload(std::string("\x16\x03\x01\x00", 4), 4)
                            .result(4)
                            .event();
  EXPECT_TRUE(match("payload startswith \"\\x16\\x03\"", binary));
  EXPECT_TRUE(match("payload contains \"\\x01\\0\"", binary));
  EXPECT_TRUE(match("payload startswith 0x1603", binary));  // an unquoted 0x word is bytes
  EXPECT_TRUE(match("payload == 0x16030100", binary));
  EXPECT_FALSE(match("payload contains \"0x1603\"", binary));  // quoted, it is text
  EXPECT_FALSE(match("payload contains 0x1604", binary));
}

TEST_F(FilterTest, BytesMoved) {
  EXPECT_TRUE(match("bytes == 75", send_http()));  // the original length, not the kept 64
  EXPECT_TRUE(match("bytes > 64", send_http()));
  const Event& eof = builder(5).begin(FuncId::recv, 1, 1, 0).result(0).event();
  EXPECT_TRUE(match("bytes == 0", eof));
  const Event& plain = builder(6).begin(FuncId::sendto, 1, 1, 0).result(512).event();
  EXPECT_TRUE(match("bytes >= 512", plain));
  EXPECT_FALSE(match("bytes == 0", win_reset()));  // failed: nothing moved, nothing known
  EXPECT_TRUE(match("not bytes == 0", win_reset()));
  EXPECT_FALSE(match("bytes == 0", tcp_socket()));  // not a send or recv
  // The Windows agent records the bytes WSASend moved as its result.
  const Event& wsasend = builder(7).begin(FuncId::WSASend, 1, 1, 0).result(300).event();
  EXPECT_TRUE(match("bytes == 300", wsasend));
  // sendmmsg's result counts messages: without a payload the byte count is unknown.
  const Event& mmsg = builder(7).begin(FuncId::sendmmsg, 1, 1, 0).result(2).event();
  EXPECT_FALSE(match("bytes == 2", mmsg));
  EXPECT_FALSE(match("bytes", mmsg));
  // A peek leaves its bytes queued: it moves none, whatever its payload (wget peeks).
  const Event& peek = builder(8)
                          .begin(FuncId::recv, 1, 1, 0)
                          .num(FieldId::flags, ws::msgflag::kPeek)
                          .payload("HTTP/1.1 200 OK\r\n", 17)
                          .result(17)
                          .event();
  EXPECT_TRUE(match("bytes == 0", peek));
  uint64_t moved = 99;
  EXPECT_TRUE(bytes_moved(peek, moved));
  EXPECT_EQ(moved, 0u);
}

TEST_F(FilterTest, IPv6AndMappedAddresses) {
  const Event& ev = builder(5)
                        .begin(FuncId::connect, 1, 1, 0)
                        .num(FieldId::sock, 4)
                        .addr(FieldId::addr, v6({0x2001, 0xdb8, 0, 0, 0, 0, 0, 1}, 443))
                        .result(0)
                        .event();
  EXPECT_TRUE(match("ip == 2001:db8::1", ev));
  EXPECT_TRUE(match("ip == 2001:DB8:0:0:0:0:0:1", ev));
  EXPECT_TRUE(match("ip == [2001:db8::1]", ev));
  EXPECT_TRUE(match("rip in 2001:db8::/32", ev));
  EXPECT_FALSE(match("rip in 2001:db9::/32", ev));
  EXPECT_TRUE(match("ip in 2001:db8::/127", ev));
  EXPECT_FALSE(match("ip in 10.0.0.0/8", ev));
  EXPECT_TRUE(match("family == inet6", ev));
  EXPECT_TRUE(match("rport == 443", ev));

  const Event& loop6 = builder(6)
                           .begin(FuncId::connect, 1, 1, 0)
                           .addr(FieldId::addr, v6({0, 0, 0, 0, 0, 0, 0, 1}, 80))
                           .result(0)
                           .event();
  EXPECT_TRUE(match("ip in (10.0.0.0/8, ::1)", loop6));
  EXPECT_TRUE(match("ip == 0:0:0:0:0:0:0:1", loop6));

  // An IPv4-mapped IPv6 peer is the IPv4 address, both ways.
  const Event& mapped = builder(7)
                            .begin(FuncId::connect, 1, 1, 0)
                            .addr(FieldId::addr, v6({0, 0, 0, 0, 0, 0xffff, 0x0a01, 0x0203}, 80))
                            .result(0)
                            .event();
  EXPECT_TRUE(match("ip in 10.0.0.0/8", mapped));
  EXPECT_TRUE(match("ip == 10.1.2.3", mapped));
  EXPECT_TRUE(match("ip == ::ffff:10.1.2.3", mapped));
  EXPECT_TRUE(match("ip == ::ffff:10.1.2.3", refused()) == false);
  const Event& plain4 = builder(0)
                            .begin(FuncId::connect, 1, 1, 0)
                            .addr(FieldId::addr, v4(10, 1, 2, 3, 80))
                            .result(0)
                            .event();
  EXPECT_TRUE(match("ip == ::ffff:10.1.2.3", plain4));
  EXPECT_TRUE(match("ip in ::ffff:0:0/96", plain4));
  EXPECT_TRUE(match("ip in 0.0.0.0/0", plain4));
  EXPECT_TRUE(match("ip in 10.1.2.0/23", plain4));
  EXPECT_FALSE(match("ip in 10.1.4.0/23", plain4));
  EXPECT_TRUE(match("ip in 10.1.2.3/31", plain4));
}

TEST(FilterSyntax, IpAddressForms) {
  for (const char* ok : {"::", "::1", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "fe80::1:2",
                         "1:2:3:4:5:6:7:8", "::ffff:1.2.3.4", "1:2:3:4:5:6:1.2.3.4", "[::1]",
                         "0.0.0.0", "255.255.255.255", "10.0.0.0/8", "::/0", "2001:db8::/128"}) {
    EXPECT_TRUE(Filter::parse(std::string("ip == ") + ok).ok()) << ok;
  }
  for (const char* bad : {"1:2:3:4:5:6:7:8:9", "12345::", "1:::2", "1::2::3", ":1::", "1:",
                          "::1.2.3.4.5", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/", "1.2.3.4/x",
                          "::1/-1", "1:2:3:4:5:6:7:1.2.3.4", "g::1", "fe80::1%eth0", "[::1"}) {
    EXPECT_FALSE(Filter::parse(std::string("ip == ") + bad).ok()) << bad;
  }
}

TEST_F(FilterTest, SocketsProtocolsAndFamilies) {
  EXPECT_TRUE(match("proto == tcp", tcp_socket()));
  EXPECT_TRUE(match("proto == IPPROTO_TCP", tcp_socket()));
  EXPECT_FALSE(match("proto == udp", tcp_socket()));
  EXPECT_TRUE(match("proto == tcp", tcp_socket(ws::proto::kIp)));  // 0: the type's default
  EXPECT_TRUE(match("family == inet and type == SOCK_STREAM", tcp_socket()));
  EXPECT_TRUE(match("type == stream", tcp_socket()));
  EXPECT_TRUE(match("sock == 3", tcp_socket()));   // the socket it created
  EXPECT_FALSE(match("proto == tcp", refused()));  // unknown from the event alone

  const Event& unix_sock =
      builder(5)
          .begin(FuncId::connect, 1, 1, 0)
          .num(FieldId::sock, 9)
          .addr(FieldId::addr, SockAddr::unix_path("/run/a-rather-long-socket-path.sock"))
          .result(0)
          .event();
  EXPECT_TRUE(match("family == unix", unix_sock));
  EXPECT_TRUE(match("family == AF_UNIX", unix_sock));
  EXPECT_TRUE(match("proto == unix", unix_sock));
  EXPECT_FALSE(match("proto == tcp", unix_sock));
  EXPECT_FALSE(match("ip == 0.0.0.0/0", unix_sock));
  EXPECT_FALSE(match("port == 0", unix_sock));
  EXPECT_TRUE(match("family != inet", unix_sock));

  const Event& accepted = builder(6)
                              .begin(FuncId::accept4, 1, 1, 0)
                              .num(FieldId::sock, 5)
                              .num(FieldId::new_sock, 7)
                              .addr(FieldId::peer, v4(192, 168, 1, 20, 50000))
                              .addr(FieldId::local, v4(192, 168, 1, 2, 8080))
                              .result(7)
                              .event();
  EXPECT_TRUE(match("sock == 5", accepted));
  EXPECT_TRUE(match("sock == 7", accepted));
  EXPECT_FALSE(match("sock != 7", accepted));
  EXPECT_TRUE(match("sock not in (1, 2)", accepted));
  EXPECT_TRUE(match("lport == 8080 and rport == 50000", accepted));
  EXPECT_TRUE(match("lip == 192.168.1.2 and rip == 192.168.1.20", accepted));
  EXPECT_TRUE(match("port == 8080 and port == 50000", accepted));
  EXPECT_FALSE(match("port != 8080", accepted));  // either end: neither may be 8080
  EXPECT_TRUE(match("port != 9", accepted));
  EXPECT_TRUE(match("ip in 192.168.1.0/24", accepted));
}

TEST_F(FilterTest, ContextFields) {
  FakeContext ctx;
  ctx.proc = "/usr/bin/curl";
  ctx.conn = 17;
  const SockAddr local = v4(10, 0, 0, 2, 40000), remote = v4(10, 0, 0, 9, 8443);
  ctx.local = &local;
  ctx.remote = &remote;
  ctx.proto = ws::proto::kTcp;
  const Event& ev = send_http();  // no address of its own: the tracker knows them
  EXPECT_TRUE(match("proc == curl", ev, ctx));
  EXPECT_TRUE(match("proc == CURL", ev, ctx));
  EXPECT_FALSE(match("proc == cur", ev, ctx));
  EXPECT_TRUE(match("proc startswith cu", ev, ctx));
  EXPECT_TRUE(match("conn == 17", ev, ctx));
  EXPECT_TRUE(match("conn", ev, ctx));
  EXPECT_TRUE(match("lport == 40000 and rport == 8443 and rip == 10.0.0.9", ev, ctx));
  EXPECT_TRUE(match("proto == tcp and family == inet", ev, ctx));
  EXPECT_FALSE(match("rport == 8443", ev));  // without the tracker

  ctx.proc = "C:\\Program Files\\App\\client.exe";
  EXPECT_TRUE(match("proc == client.exe", ev, ctx));
  EXPECT_TRUE(match("proc == client", ev, ctx));
  EXPECT_TRUE(match("proc == Client.EXE", ev, ctx));
  EXPECT_FALSE(match("proc == app", ev, ctx));
}

TEST_F(FilterTest, EventOnlyContextReadsTheEventsOwnAddresses) {
  EventOnlyContext ctx;
  const Event& bound = builder(5)
                           .begin(FuncId::bind, 1, 1, 0)
                           .num(FieldId::sock, 3)
                           .addr(FieldId::addr, v4(0, 0, 0, 0, 80))
                           .result(0)
                           .event();
  ASSERT_NE(ctx.local_addr(bound), nullptr);
  EXPECT_EQ(ctx.local_addr(bound)->port, 80);
  EXPECT_EQ(ctx.remote_addr(bound), nullptr);
  EXPECT_TRUE(match("lport == 80", bound));

  const Event& name = builder(6)
                          .begin(FuncId::getsockname, 1, 1, 0)
                          .addr(FieldId::addr, v4(127, 0, 0, 1, 5555))
                          .result(0)
                          .event();
  EXPECT_TRUE(match("lport == 5555 and not rport == 5555", name));
  const Event& peer = builder(7)
                          .begin(FuncId::getpeername, 1, 1, 0)
                          .addr(FieldId::addr, v4(127, 0, 0, 1, 5555))
                          .result(0)
                          .event();
  EXPECT_TRUE(match("rport == 5555 and not lport == 5555", peer));
  const Event& from = builder(0)
                          .begin(FuncId::recvfrom, 1, 1, 0)
                          .addr(FieldId::peer, v4(8, 8, 8, 8, 53))
                          .payload("x", 1)
                          .result(1)
                          .event();
  EXPECT_TRUE(match("rip == 8.8.8.8 and rport == 53", from));
  EXPECT_EQ(ctx.protocol(from), 0u);
  EXPECT_EQ(ctx.protocol(tcp_socket()), ws::proto::kTcp);
}

// ---- operators, precedence, syntax ------------------------------------------------------------

TEST_F(FilterTest, PrecedenceNotThenAndThenOr) {
  const Event& ev = refused();  // pid 100, func connect, failed
  // a or b and c  ==  a or (b and c)
  EXPECT_TRUE(match("pid == 100 or func == send and failed", ev));
  EXPECT_FALSE(match("(pid == 100 or func == send) and not failed", ev));
  EXPECT_TRUE(match("pid == 100 or func == send and not failed", ev));
  // not binds tighter than and
  EXPECT_TRUE(match("not pid == 1 and failed", ev));
  EXPECT_FALSE(match("not (pid == 100 and failed)", ev));
  EXPECT_TRUE(match("not not failed", ev));
  // symbols
  EXPECT_TRUE(match("!(pid == 1) && failed || pid == 2", ev));
  EXPECT_FALSE(match("pid == 1 || pid == 2 && failed", ev));
  EXPECT_TRUE(match("pid == 1 || (pid == 100 && failed)", ev));
  // keywords and field names in any case
  EXPECT_TRUE(match("RPORT == 443 AND Failed OR Pid == 1", ev));
  EXPECT_TRUE(match("NOT pid == 1", ev));
  // spaces are optional around operators
  EXPECT_TRUE(match("rport==443&&failed", ev));
  EXPECT_TRUE(match("(rport>=443)and(pid!=1)", ev));
  EXPECT_TRUE(match("pid = 100", ev));  // a single '=' is '=='
}

TEST_F(FilterTest, NotIsTheOppositeOfEveryFilter) {
  const char* filters[] = {"rport == 443",      "rport != 443",         "failed",
                           "err == ECONNRESET", "host endswith test",   "ip in 10.0.0.0/8",
                           "bytes > 10",        "payload contains GET", "func contains recv",
                           "proto == tcp"};
  const Event* events[] = {&refused(), &lookup(), &send_http(), &win_reset(), &tcp_socket()};
  EventOnlyContext ctx;
  for (const char* f : filters) {
    const Filter yes = parse_ok(f);
    const Filter no = parse_ok(std::string("not (") + f + ")");
    for (const Event* ev : events) EXPECT_NE(yes.matches(*ev, ctx), no.matches(*ev, ctx)) << f;
  }
}

TEST_F(FilterTest, ListsAndMembership) {
  const Event& ev = refused();
  EXPECT_TRUE(match("rport in (80, 443)", ev));
  EXPECT_TRUE(match("rport in 443", ev));
  EXPECT_FALSE(match("rport in (80, 8080)", ev));
  EXPECT_TRUE(match("rport not in (80, 8080)", ev));
  EXPECT_FALSE(match("rport not in (80, 443)", ev));
  EXPECT_TRUE(match("rport == (80, 443)", ev));
  EXPECT_FALSE(match("rport != (80, 443)", ev));
  EXPECT_TRUE(match("func in (\"connect\", send)", ev));
  EXPECT_TRUE(match("event not in (send, recv)", ev));
}

TEST_F(FilterTest, FieldsOfTheEventTable) {
  const Event& peek = builder(6)
                          .begin(FuncId::recv, 1, 1, 0)
                          .num(FieldId::sock, 3)
                          .num(FieldId::flags, ws::msgflag::kPeek | ws::msgflag::kWaitall)
                          .num(FieldId::len, 4096)
                          .result(10)
                          .event();
  EXPECT_TRUE(match("flags contains MSG_PEEK", peek));
  EXPECT_TRUE(match("flags contains peek", peek));
  EXPECT_FALSE(match("flags contains MSG_OOB", peek));
  EXPECT_FALSE(match("flags == MSG_PEEK", peek));
  EXPECT_TRUE(match("len == 4096", peek));
  EXPECT_TRUE(match("len > 100 and bytes == 0", peek));  // a peek moves nothing

  const Event& start = builder(7)
                           .begin(FuncId::process_start, 1, 1, 0)
                           .num(FieldId::ppid, 1)
                           .str(FieldId::image, "/usr/bin/demo-client")
                           .event();
  EXPECT_TRUE(match("image contains demo and ppid == 1", start));
  EXPECT_TRUE(match("event == process_start", start));
  const Event& opt = builder(0)
                         .begin(FuncId::setsockopt, 1, 1, 0)
                         .num(FieldId::sock, 3)
                         .num(FieldId::level, ws::solevel::kSolSocket)
                         .num(FieldId::optname, ws::sockopt::kSoKeepalive)
                         .snum(FieldId::optval, 1)
                         .result(0)
                         .event();
  EXPECT_TRUE(match("optname == SO_KEEPALIVE and level == socket and optval == 1", opt));
  EXPECT_TRUE(match("optname == keepalive", opt));
  EXPECT_FALSE(match("optname == SO_REUSEADDR", opt));
  EXPECT_TRUE(match("optname startswith SO_", opt));
  const Event& shut =
      builder(0).begin(FuncId::shutdown, 1, 1, 0).num(FieldId::how, ws::shut::kWr).event();
  EXPECT_TRUE(match("how == SHUT_WR", shut));
  EXPECT_TRUE(match("how == wr", shut));
  EXPECT_FALSE(match("how == rdwr", shut));
  const Event& nonblock = builder(0)
                              .begin(FuncId::socket, 1, 1, 0)
                              .num(FieldId::family, ws::af::kInet)
                              .num(FieldId::type, ws::socktype::kDgram)
                              .num(FieldId::type_flags, ws::sockflag::kNonblock)
                              .result(4)
                              .event();
  EXPECT_TRUE(match("type_flags contains nonblock and proto == udp", nonblock));
  EXPECT_FALSE(match("type_flags contains cloexec", nonblock));
  const Event& exit =
      builder(0).begin(FuncId::process_exit, 1, 1, 0).snum(FieldId::exit_code, -3).event();
  EXPECT_TRUE(match("exit_code != 0", exit));
  EXPECT_TRUE(match("exit_code == -3", exit));
}

TEST_F(FilterTest, TextAndCopies) {
  const Filter f = parse_ok("  rport == 443 and failed ");
  EXPECT_EQ(f.text(), "  rport == 443 and failed ");
  const Filter copy = f;
  EventOnlyContext ctx;
  EXPECT_TRUE(copy.matches(refused(), ctx));
  EXPECT_FALSE(copy.matches(lookup(), ctx));
  const Filter everything;
  EXPECT_EQ(everything.text(), "");
  EXPECT_TRUE(everything.matches(lookup(), ctx));
}

// ---- messages for bad filters -----------------------------------------------------------------

TEST(FilterErrors, OneMessageWithACaret) {
  EXPECT_EQ(error_of("rport == 443 andd failed"),
            "rport == 443 andd failed\n"
            "             ^ expected 'and', 'or' or the end of the filter, found 'andd'");
  EXPECT_EQ(error_of("rprot == 443"),
            "rprot == 443\n"
            "^ unknown field 'rprot' (did you mean 'rport'?)");
  EXPECT_EQ(error_of("rport == 443 and (failed or dur > 5ms"),
            "rport == 443 and (failed or dur > 5ms\n"
            "                 ^ unclosed '(': expected ')' before the end of the filter");
  EXPECT_EQ(
      error_of("payload contains \"GET"),
      "payload contains \"GET\n"
      "                 ^ unclosed string: expected a closing \" before the end of the filter");
  EXPECT_EQ(
      error_of("dur contains \"x\""),
      "dur contains \"x\"\n"
      "    ^ 'contains' does not apply to 'dur' (a duration): use ==, !=, <, <=, >, >= or in");
  EXPECT_EQ(error_of("dur > 5sec"),
            "dur > 5sec\n"
            "      ^ unknown duration unit 'sec' in '5sec': use ns, us, ms, s or min");
  EXPECT_EQ(error_of("ip in 10.0.0.0/33"),
            "ip in 10.0.0.0/33\n"
            "      ^ bad CIDR block '10.0.0.0/33': the prefix length of an IPv4 block is 0 to 32");
  EXPECT_EQ(error_of("func == conect"),
            "func == conect\n"
            "        ^ unknown function 'conect' (did you mean 'connect'?)");
}

TEST(FilterErrors, SaysWhatWasExpected) {
  auto second_line = [](const std::string& m) { return m.substr(m.find('\n') + 1); };
  EXPECT_EQ(second_line(error_of("rport ==")),
            "        ^ expected a port number, found the end of the filter");
  EXPECT_EQ(
      second_line(error_of("rport == 443)")),
      "            ^ expected 'and', 'or' or the end of the filter, found ')' (no '(' is open)");
  EXPECT_EQ(second_line(error_of("(rport == 443 failed)")),
            "              ^ expected 'and', 'or' or ')', found 'failed'");
  EXPECT_EQ(
      second_line(error_of("rport 443")),
      "      ^ expected an operator such as '==', '<', 'in' or 'contains' after 'rport', found '443'");
  EXPECT_EQ(
      second_line(error_of("rport == 443 and")),
      "                ^ expected a condition (a field such as 'rport' or 'failed', 'not' or '('), found the end of the filter");
  EXPECT_EQ(
      second_line(error_of("== 443")),
      "^ expected a condition (a field such as 'rport' or 'failed', 'not' or '('), found '=='");
  EXPECT_EQ(second_line(error_of("rport == http")),
            "         ^ expected a port number, found 'http'");
  EXPECT_EQ(second_line(error_of("rport == 70000")),
            "         ^ '70000' is out of range for 'rport' (0 to 65535)");
  EXPECT_EQ(second_line(error_of("pid == -1")),
            "       ^ expected a process id, found '-1': 'pid' is never negative");
  EXPECT_EQ(second_line(error_of("dur > 50")),
            "      ^ '50' needs a unit: ns, us, ms, s or min, as in 50ms");
  EXPECT_EQ(second_line(error_of("dur > fast")),
            "      ^ expected a duration such as 50ms, 1.5s or 200us, found 'fast'");
  EXPECT_EQ(
      second_line(error_of("ip == localhost")),
      "      ^ expected an IP address or CIDR block such as 10.0.0.0/8 or ::1 (names go with 'host'), found 'localhost'");
  EXPECT_EQ(
      second_line(error_of("ip in (10.0.0.0/8, 1::2::3)")),
      "                   ^ expected an IP address or CIDR block such as 10.0.0.0/8 or ::1 (names go with 'host'), found '1::2::3'");
  EXPECT_EQ(second_line(error_of("ip in ::1/129")),
            "      ^ bad CIDR block '::1/129': the prefix length of an IPv6 block is 0 to 128");
  EXPECT_EQ(second_line(error_of("ip in 10.0.0/8")),
            "      ^ bad CIDR block '10.0.0/8': '10.0.0' is not an IP address");
  EXPECT_EQ(second_line(error_of("rport < (1, 2)")),
            "        ^ '<' compares with one value, not a list");
  EXPECT_EQ(second_line(error_of("rport in (80, 443")),
            "         ^ unclosed '(': expected ')' to close the list");
  EXPECT_EQ(second_line(error_of("rport in (80 443)")),
            "             ^ expected ',' or ')' in the list, found '443'");
  EXPECT_EQ(second_line(error_of("err == ECONNREFUSD")),
            "       ^ unknown error name 'ECONNREFUSD' (did you mean 'ECONNREFUSED'?)");
  EXPECT_EQ(second_line(error_of("family == inet5")),
            "          ^ unknown address family 'inet5' (did you mean 'inet6'?)");
  EXPECT_EQ(second_line(error_of("proto == tpc")),
            "         ^ unknown protocol 'tpc' (did you mean 'tcp'?)");
  EXPECT_EQ(second_line(error_of("event == lokup")),
            "         ^ unknown event type 'lokup' (did you mean 'lookup'?)");
  EXPECT_EQ(second_line(error_of("func contains zzz")),
            "              ^ no function name contains 'zzz'");
  EXPECT_EQ(second_line(error_of("ip contains 10")),
            "   ^ 'contains' does not apply to 'ip' (an IP address): use ==, != or in");
  EXPECT_EQ(
      second_line(error_of("failed > 1")),
      "       ^ '>' does not apply to 'failed' (true or false): use == or != (or the field alone)");
  EXPECT_EQ(
      second_line(error_of("payload < \"a\"")),
      "        ^ '<' does not apply to 'payload' (bytes): use ==, !=, contains, startswith or endswith");
  EXPECT_EQ(second_line(error_of("rport == 443 & failed")),
            "             ^ unexpected '&': write '&&' or 'and'");
  EXPECT_EQ(
      second_line(error_of("payload contains \"a\\qb\"")),
      "                   ^ unknown escape '\\q' in a string: use \\\\, \\\", \\', \\n, \\r, \\t, \\0 or \\xNN");
  EXPECT_EQ(second_line(error_of("payload contains \"\\x1\"")),
            "                  ^ '\\x' needs two hex digits, as in \\x0d");
  EXPECT_EQ(
      second_line(error_of("payload contains 0x160")),
      "                 ^ '0x160' has an odd number of hex digits: write whole bytes, as in 0x1603 (or quote it to mean the text)");
  EXPECT_EQ(second_line(error_of("flags contains peeek")),
            "               ^ unknown message flag 'peeek' (did you mean 'peek'?)");
  EXPECT_EQ(second_line(error_of("type == strem")),
            "        ^ unknown socket type 'strem' (did you mean 'stream'?)");
  EXPECT_EQ(
      second_line(error_of("addr == 1")),
      "^ 'addr' is an address field: filter addresses with ip, lip, rip, port, lport or rport");
  EXPECT_EQ(second_line(error_of("host == and")),
            "        ^ expected a host name such as example.com, found 'and'");
}

TEST(FilterErrors, UnknownFieldsWithoutACloseNameListTheFields) {
  const std::string m = error_of("zzzzzzzz == 1");
  EXPECT_NE(m.find("unknown field 'zzzzzzzz': fields are pid, tid, proc, func"), std::string::npos)
      << m;
}

// The kinds as data (filter_kinds, which the report's filter box reads) say what the parser
// does: every field's kind is described, and an operator is listed for it exactly when the
// parser takes it there.
TEST(FilterErrors, KindsAsDataMatchTheParser) {
  const std::vector<FilterKind> kinds = filter_kinds();
  auto kind_of = [&](std::string_view name) -> const FilterKind* {
    for (const FilterKind& k : kinds)
      if (k.name == name) return &k;
    return nullptr;
  };
  size_t checked = 0;
  for (const FilterField& f : filter_fields()) {
    if (!f.refused.empty()) continue;
    const FilterKind* kind = kind_of(f.kind);
    ASSERT_NE(kind, nullptr) << f.name << " is of kind '" << f.kind << "', which is not described";
    for (std::string_view op : {"==", "!=", "<", "<=", ">", ">=", "contains", "startswith",
                                "endswith"}) {
      const std::string text = std::string(f.name) + " " + std::string(op) + " x";
      const bool listed = std::find(kind->fits.begin(), kind->fits.end(), op) != kind->fits.end();
      const auto parsed = Filter::parse(text);
      const bool refused =
          !parsed.ok() && parsed.status().message().find("does not apply to") != std::string::npos;
      EXPECT_EQ(listed, !refused) << text;
      if (refused) {
        EXPECT_NE(parsed.status().message().find("(" + std::string(kind->desc) + "): use " +
                                                 std::string(kind->ops)),
                  std::string::npos)
            << parsed.status().message();
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 9u * 20);
}

TEST(FilterErrors, EmptyAndOddInput) {
  EXPECT_EQ(
      error_of(""),
      "empty filter: write a condition such as 'rport == 443 and failed' (see docs/filters.md)");
  EXPECT_EQ(error_of("  \t "), error_of(""));
  // Control characters show as spaces so that the caret stays under its column; UTF-8 counts
  // as one column per character.
  EXPECT_EQ(error_of("host == \"\xc3\xa9t\xc3\xa9\" andd"),
            "host == \"\xc3\xa9t\xc3\xa9\" andd\n"
            "              ^ expected 'and', 'or' or the end of the filter, found 'andd'");
  EXPECT_EQ(error_of("pid\t== 1 x"),
            "pid == 1 x\n         ^ expected 'and', 'or' or the end of the filter, found 'x'");
  EXPECT_EQ(
      error_of("pid == \x01"),
      "pid ==  \n       ^ unexpected control character 0x01 (write it as \\x.. inside a quoted string)");
}

TEST(FilterErrors, DeepNestingIsRefusedNotAStackOverflow) {
  const std::string deep = std::string(5000, '(') + "failed" + std::string(5000, ')');
  EXPECT_NE(error_of(deep).find("nests more than 200 levels"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(error_of(nots + "failed").find("nests more than 200 levels"), std::string::npos);
  // Long flat chains are fine.
  std::string chain = "pid == 0";
  for (int i = 1; i < 5000; ++i) chain += " or pid == " + std::to_string(i);
  EventOnlyContext ctx;
  Event ev;
  ev.pid = 4999;
  EXPECT_TRUE(parse_ok(chain).matches(ev, ctx));
  ev.pid = 5000;
  EXPECT_FALSE(parse_ok(chain).matches(ev, ctx));
}

// ---- speed ------------------------------------------------------------------------------------

TEST_F(FilterTest, MatchingDoesNotAllocate) {
  if (!WS_COUNT_ALLOCATIONS) GTEST_SKIP() << "a sanitizer owns operator new in this build";
  const Filter filters[] = {
      parse_ok("rport == 443 and failed"),
      parse_ok("ip in (10.0.0.0/8, ::1) or host endswith example.test"),
      parse_ok("err == ECONNRESET or err startswith WSAE or func contains recv"),
      parse_ok("payload contains \"HTTP/1.1\" and bytes > 10 and dur < 1.5s"),
      parse_ok("proto == tcp and family == inet and lport != 0 and sock not in (1, 2)"),
      parse_ok("not (proc == curl or conn == 3) and type == stream and flags contains peek"),
  };
  const Event* events[] = {&refused(), &lookup(), &send_http(), &win_reset(), &tcp_socket()};
  const Event& unix_sock =
      builder(5)
          .begin(FuncId::connect, 1, 1, 0)
          .addr(FieldId::addr, SockAddr::unix_path("/run/a-long-path-that-is-not-short.sock"))
          .result(0)
          .event();
  EventOnlyContext ctx;
  size_t matched = 0;
  (void)filters[1].matches(unix_sock, ctx);  // the context's path buffer grows once
  g_allocations = 0;
  g_count_allocations = true;
  for (int round = 0; round < 100; ++round) {
    for (const Filter& f : filters) {
      for (const Event* ev : events) matched += f.matches(*ev, ctx) ? 1 : 0;
      matched += f.matches(unix_sock, ctx) ? 1 : 0;
    }
  }
  g_count_allocations = false;
  EXPECT_EQ(g_allocations, 0u);
  EXPECT_GT(matched, 0u);
}

}  // namespace
