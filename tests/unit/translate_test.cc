// The collector's translation of raw agent records (capture/translate.cc): each platform's numbers
// into wstrace's codes, its sockaddr layouts, UTF-16 text, and every bound a record is checked
// against. The platform numbers here are the ones of the real headers (Linux glibc, mingw-w64).
#include <gtest/gtest.h>

#ifdef __linux__
#include <linux/tcp.h>  // the kernel's whole struct tcp_info (glibc's copy stops at 2.6's fields)
#endif

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "constants.h"
#include "event_builder.h"
#include "raw_record.h"
#include "translate.h"

namespace {

using namespace ws;
using namespace ws::capture;

// A raw record as an agent queues it: RawHead, then RawArg + bytes padded to 8 for each argument.
class RawRecord {
 public:
  explicit RawRecord(FuncId f, int64_t result = 0) {
    RawHead h{};
    h.func = static_cast<uint8_t>(f);
    h.tid = 7;
    h.ts = 1'000;
    h.dur = 50;
    h.result = result;
    put(&h, sizeof h);
  }
  RawRecord& error(ErrDomain d, int32_t v) {
    RawHead h;
    std::memcpy(&h, bytes_.data(), sizeof h);
    h.err = v;
    h.err_domain = static_cast<uint8_t>(d);
    std::memcpy(bytes_.data(), &h, sizeof h);
    return *this;
  }
  RawRecord& arg(FieldId f, RawKind kind, const void* data, size_t size, bool padded = true) {
    RawArg a{static_cast<uint8_t>(f), kind, 0, static_cast<uint32_t>(size)};
    put(&a, sizeof a);
    put(data, size);
    if (padded) bytes_.resize(bytes_.size() + raw_pad(static_cast<uint32_t>(size)) - size);
    set_nargs(++nargs_);
    return *this;
  }
  RawRecord& u64(FieldId f, uint64_t v, RawKind kind = kRawU64) {
    return arg(f, kind, &v, 8);
  }
  RawRecord& sockopt(int64_t level, int64_t name) {
    int64_t both[2] = {level, name};
    return arg(FieldId::optname, kRawSockopt, both, 16);
  }
  void set_nargs(uint8_t n) { bytes_[offsetof(RawHead, nargs)] = n; }
  std::vector<uint8_t>& bytes() { return bytes_; }

 private:
  void put(const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    bytes_.insert(bytes_.end(), b, b + n);
  }
  std::vector<uint8_t> bytes_;
  uint8_t nargs_ = 0;
};

bool translate(Platform p, std::vector<uint8_t>& rec, EventBuilder& out, size_t len = SIZE_MAX) {
  return translate_record(p, rec.data(), len == SIZE_MAX ? rec.size() : len, 100, out);
}

// sockaddr_in / sockaddr_in6 as both platforms lay them out, with the family number given.
std::vector<uint8_t> sin(uint16_t family, uint16_t port, uint8_t a, uint8_t b, uint8_t c,
                         uint8_t d) {
  return {static_cast<uint8_t>(family), static_cast<uint8_t>(family >> 8),
          static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port), a, b, c, d,
          0, 0, 0, 0, 0, 0, 0, 0};
}
std::vector<uint8_t> sin6(uint16_t family, uint16_t port, uint32_t scope) {
  std::vector<uint8_t> v(28, 0);
  v[0] = static_cast<uint8_t>(family);
  v[1] = static_cast<uint8_t>(family >> 8);
  v[2] = static_cast<uint8_t>(port >> 8);
  v[3] = static_cast<uint8_t>(port);
  v[7] = 5;    // flowinfo 5 (network order)
  v[23] = 1;   // ::1
  std::memcpy(v.data() + 24, &scope, 4);  // host order
  return v;
}

SockAddr parse(Platform p, const std::vector<uint8_t>& sa, size_t len = SIZE_MAX) {
  return platform_sockaddr(p, sa.data(), len == SIZE_MAX ? sa.size() : len);
}

TEST(Translate, FamiliesOfEachPlatform) {
  // AF_INET 2 on both; AF_INET6 10 on Linux, 23 on Windows; AF_UNIX 1 on both.
  for (Platform p : {Platform::Linux, Platform::Windows}) {
    const SockAddr a = parse(p, sin(2, 8080, 127, 0, 0, 1));
    EXPECT_EQ(a, SockAddr::ipv4(0x7f000001, 8080));
  }
  std::array<uint8_t, 16> loop6{};
  loop6[15] = 1;
  SockAddr want6 = SockAddr::ipv6(loop6, 443, 3);
  want6.flowinfo = 5;
  EXPECT_EQ(parse(Platform::Linux, sin6(10, 443, 3)), want6);
  EXPECT_EQ(parse(Platform::Windows, sin6(23, 443, 3)), want6);
  // The other platform's IPv6 number is another family there (AF_IRDA on Linux): its bytes kept.
  const SockAddr irda = parse(Platform::Linux, sin6(23, 443, 3));
  EXPECT_EQ(code_name(ConstTable::AddrFamily, irda.family), "AF_IRDA");
  EXPECT_EQ(irda.path.size(), 26u);
  EXPECT_NE(parse(Platform::Windows, sin6(10, 443, 3)).family, af::kInet6);
  // A family no table knows keeps its number.
  EXPECT_EQ(parse(Platform::Linux, sin(200, 1, 1, 2, 3, 4)).family, kUnknownCode | 200);
}

TEST(Translate, SockaddrLengths) {
  // sockaddr_in6 without its scope (24 bytes) still decodes; shorter is not IPv6.
  const SockAddr no_scope = parse(Platform::Linux, sin6(10, 443, 3), 24);
  EXPECT_EQ(no_scope.family, af::kInet6);
  EXPECT_EQ(no_scope.scope_id, 0u);
  const SockAddr short6 = parse(Platform::Linux, sin6(10, 443, 3), 23);  // bytes kept, undecoded
  EXPECT_EQ(short6.port, 0);
  EXPECT_EQ(short6.path.size(), 21u);
  EXPECT_EQ(parse(Platform::Linux, sin(2, 80, 1, 2, 3, 4), 8).port, 80);
  EXPECT_EQ(parse(Platform::Linux, sin(2, 80, 1, 2, 3, 4), 7).port, 0);
  EXPECT_EQ(parse(Platform::Linux, sin(2, 80, 1, 2, 3, 4), 1).family, 0u);
  // Unix: a path ends at its first NUL; an abstract name (leading NUL) is all its bytes.
  const std::vector<uint8_t> path = {1, 0, '/', 't', 'm', 'p', 0, 'x'};
  EXPECT_EQ(parse(Platform::Linux, path), SockAddr::unix_path("/tmp"));
  const std::vector<uint8_t> abstract = {1, 0, 0, 'a', 0, 'b'};
  EXPECT_EQ(parse(Platform::Windows, abstract).path, std::string("\0a\0b", 4));
}

TEST(Translate, Utf16) {
  const uint8_t text[] = {'h', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0x00, 0xd8, 'x', 0};
  // h, é, U+1F600 (a surrogate pair), an unpaired high surrogate, x
  EXPECT_EQ(utf16_to_utf8(text, sizeof text), "h\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
  EXPECT_EQ(utf16_to_utf8(text, 3), "h");  // an odd last byte is no unit
}

TEST(Translate, ConstantsOfEachPlatform) {
  struct Case {
    Platform p;
    int64_t family, type, flags, level, opt;
  };
  // AF_INET6, SOCK_DGRAM, MSG_PEEK|MSG_WAITALL, SOL_SOCKET, SO_REUSEADDR
  for (const Case& k : {Case{Platform::Linux, 10, 2, 0x2 | 0x100, 1, 2},
                        Case{Platform::Windows, 23, 2, 0x2 | 0x8, 0xffff, 4}}) {
    RawRecord r(FuncId::socket, 3);
    r.u64(FieldId::family, static_cast<uint64_t>(k.family), kRawPlatformConst)
        .u64(FieldId::type, static_cast<uint64_t>(k.type), kRawPlatformConst)
        .u64(FieldId::flags, static_cast<uint64_t>(k.flags), kRawPlatformConst)
        .sockopt(k.level, k.opt)
        .u64(FieldId::sock, 77);
    EventBuilder b;
    ASSERT_TRUE(translate(k.p, r.bytes(), b));
    const Event& ev = b.event();
    EXPECT_EQ(ev.func, FuncId::socket);
    EXPECT_EQ(ev.pid, 100u);
    EXPECT_EQ(ev.tid, 7u);
    EXPECT_EQ(ev.result, 3);
    EXPECT_EQ(code_name(ConstTable::AddrFamily, ev.get(FieldId::family)->num), "AF_INET6");
    EXPECT_EQ(code_name(ConstTable::SockType, ev.get(FieldId::type)->num), "SOCK_DGRAM");
    EXPECT_EQ(flags_name(ConstTable::MsgFlags, ev.get(FieldId::flags)->num),
              "MSG_PEEK|MSG_WAITALL");
    EXPECT_EQ(code_name(ConstTable::SockOptLevel, ev.get(FieldId::level)->num), "SOL_SOCKET");
    EXPECT_EQ(code_name(ConstTable::SockOpt, ev.get(FieldId::optname)->num), "SO_REUSEADDR");
    EXPECT_EQ(ev.get(FieldId::sock)->num, 77u);  // a plain number stays as it is
  }
}

TEST(Translate, EveryKindOfArgument) {
  const std::vector<uint8_t> peer = sin(2, 53, 10, 0, 0, 1);
  std::vector<uint8_t> list;
  for (const auto& sa : {sin(2, 0, 1, 1, 1, 1), sin6(10, 0, 0)}) {
    list.push_back(static_cast<uint8_t>(sa.size()));
    list.push_back(0);
    list.insert(list.end(), sa.begin(), sa.end());
  }
  const RawPoll polls[2] = {{4, 0x1 | 0x4, 0x4}, {9, 0x1, 0x10}};  // POLLIN|POLLOUT; POLLHUP
  std::vector<uint8_t> payload(8 + 3);
  const uint64_t moved = 100;
  std::memcpy(payload.data(), &moved, 8);
  std::memcpy(payload.data() + 8, "abc", 3);
  const uint8_t wide[] = {'n', 0, 0xe9, 0};
  RawRecord r(FuncId::recvfrom, 100);
  r.arg(FieldId::peer, kRawSockaddr, peer.data(), peer.size())
      .arg(FieldId::addrs, kRawAddrList, list.data(), list.size())
      .arg(FieldId::fds, kRawPollList, polls, sizeof polls)
      .arg(FieldId::host, kRawString, "example.org", 11)
      .arg(FieldId::name, kRawWString, wide, sizeof wide)
      .arg(FieldId::payload, kRawBytes, payload.data(), payload.size());
  EventBuilder b;
  ASSERT_TRUE(translate(Platform::Linux, r.bytes(), b));
  const Event& ev = b.event();
  SockAddr a;
  ASSERT_TRUE(decode_addr(ev.get(FieldId::peer)->bytes(), a));
  EXPECT_EQ(a, SockAddr::ipv4(0x0a000001, 53));
  std::vector<SockAddr> addrs;
  ASSERT_TRUE(decode_addr_list(ev.get(FieldId::addrs)->bytes(), addrs));
  ASSERT_EQ(addrs.size(), 2u);
  EXPECT_EQ(addrs[0], SockAddr::ipv4(0x01010101, 0));
  EXPECT_EQ(addrs[1].family, af::kInet6);
  std::vector<PollEntry> p;
  ASSERT_TRUE(decode_poll_list(ev.get(FieldId::fds)->bytes(), p));
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[0].sock, 4u);
  EXPECT_EQ(flags_name(ConstTable::PollEvents, p[0].events), "POLLIN|POLLOUT");
  EXPECT_EQ(flags_name(ConstTable::PollEvents, p[1].revents), "POLLHUP");
  EXPECT_EQ(ev.get(FieldId::host)->bytes(), "example.org");
  EXPECT_EQ(ev.get(FieldId::name)->bytes(), "n\xc3\xa9");
  EXPECT_EQ(ev.get(FieldId::payload)->bytes(), "abc");
  EXPECT_EQ(ev.get(FieldId::payload)->num, moved);
  EXPECT_TRUE(ev.error.ok());
}

// TCP statistics: Linux's struct tcp_info as the kernel fills it (the real header's layout), and
// Windows' TCP_INFO_v0/v1 as mstcpip.h documents them, byte by byte.
uint64_t num(const Event& ev, FieldId f) {
  const Value* v = ev.get(f);
  return v ? v->num : UINT64_MAX;
}

#ifdef __linux__
TEST(Translate, LinuxTcpInfo) {
  struct tcp_info ti{};
  ti.tcpi_state = 1;  // TCP_ESTABLISHED
  ti.tcpi_rtt = 1500;
  ti.tcpi_rttvar = 250;
  ti.tcpi_min_rtt = 900;
  ti.tcpi_total_retrans = 7;
  ti.tcpi_bytes_retrans = 9000;
  ti.tcpi_bytes_sent = 4'000'000;
  ti.tcpi_bytes_received = 1234;
  for (uint64_t at : {1, 4}) {
    RawRecord r(FuncId::tcp_info);
    r.u64(FieldId::sock, 5).u64(FieldId::tcp_at, at).arg(FieldId::tcp_state, kRawTcpInfo, &ti,
                                                          sizeof ti);
    EventBuilder b;
    ASSERT_TRUE(translate(Platform::Linux, r.bytes(), b));
    const Event& ev = b.event();
    EXPECT_EQ(num(ev, FieldId::tcp_state), tcpstate::kEstablished);
    EXPECT_EQ(num(ev, FieldId::rtt), 1'500'000u);
    EXPECT_EQ(num(ev, FieldId::rtt_var), 250'000u);
    EXPECT_EQ(num(ev, FieldId::min_rtt), 900'000u);
    EXPECT_EQ(num(ev, FieldId::retrans), 7u);
    EXPECT_EQ(num(ev, FieldId::retrans_bytes), 9000u);
    EXPECT_EQ(num(ev, FieldId::bytes_sent), 4'000'000u);
    EXPECT_EQ(num(ev, FieldId::bytes_recvd), 1234u);
    EXPECT_EQ(num(ev, FieldId::tcp_at), at);
    // Only a reading taken as the connect completed counts its retransmissions as the SYN's.
    EXPECT_EQ(num(ev, FieldId::syn_retrans), at == 1 ? 7u : UINT64_MAX);
  }
  // An older kernel's shorter struct: what it lacks is left out, not read past.
  RawRecord r(FuncId::tcp_info);
  r.u64(FieldId::tcp_at, 2).arg(FieldId::tcp_state, kRawTcpInfo, &ti,
                                offsetof(struct tcp_info, tcpi_pacing_rate));
  EventBuilder b;
  ASSERT_TRUE(translate(Platform::Linux, r.bytes(), b));
  EXPECT_EQ(num(b.event(), FieldId::retrans), 7u);
  EXPECT_EQ(num(b.event(), FieldId::min_rtt), UINT64_MAX);
  EXPECT_EQ(num(b.event(), FieldId::bytes_sent), UINT64_MAX);
}
#endif

TEST(Translate, WindowsTcpInfoV0AndV1) {
  // TCP_INFO_v0: TCPSTATE State; ULONG Mss; ULONG64 ConnectionTimeMs; BOOLEAN TimestampsEnabled;
  // ULONG RttUs, MinRttUs, BytesInFlight, Cwnd, SndWnd, RcvWnd, RcvBuf; ULONG64 BytesOut,
  // BytesIn; ULONG BytesReordered, BytesRetrans, FastRetrans, DupAcksIn, TimeoutEpisodes;
  // UCHAR SynRetrans — 88 bytes with padding. v1 appends the SndLim* figures (136 bytes).
  std::vector<uint8_t> v(136, 0);
  auto put32 = [&](size_t off, uint32_t x) { std::memcpy(v.data() + off, &x, 4); };
  auto put64 = [&](size_t off, uint64_t x) { std::memcpy(v.data() + off, &x, 8); };
  put32(0, 4);  // TCPSTATE_ESTABLISHED
  put32(4, 1460);
  put64(8, 5000);
  put32(20, 2200);  // RttUs
  put32(24, 800);   // MinRttUs
  put64(48, 70'000);
  put64(56, 3'000);
  put32(68, 2920);  // BytesRetrans
  put32(72, 2);     // FastRetrans
  put32(76, 6);     // DupAcksIn
  put32(80, 1);     // TimeoutEpisodes
  v[84] = 3;        // SynRetrans
  put32(88, 99);    // v1: SndLimTransRwin
  for (size_t size : {size_t{88}, size_t{136}}) {
    RawRecord r(FuncId::tcp_info);
    r.u64(FieldId::tcp_at, 4).arg(FieldId::tcp_state, kRawTcpInfo, v.data(), size);
    EventBuilder b;
    ASSERT_TRUE(translate(Platform::Windows, r.bytes(), b));
    const Event& ev = b.event();
    EXPECT_EQ(num(ev, FieldId::tcp_state), tcpstate::kEstablished);
    EXPECT_EQ(num(ev, FieldId::rtt), 2'200'000u);
    EXPECT_EQ(num(ev, FieldId::min_rtt), 800'000u);
    EXPECT_EQ(num(ev, FieldId::rtt_var), UINT64_MAX);
    EXPECT_EQ(num(ev, FieldId::retrans), 2u);
    EXPECT_EQ(num(ev, FieldId::retrans_bytes), 2920u);
    EXPECT_EQ(num(ev, FieldId::timeouts), 1u);
    EXPECT_EQ(num(ev, FieldId::syn_retrans), 3u);
    EXPECT_EQ(num(ev, FieldId::bytes_sent), 70'000u);
    EXPECT_EQ(num(ev, FieldId::bytes_recvd), 3'000u);
  }
  // Shorter than v0: nothing is made up.
  RawRecord r(FuncId::tcp_info);
  r.arg(FieldId::tcp_state, kRawTcpInfo, v.data(), 40);
  EventBuilder b;
  ASSERT_TRUE(translate(Platform::Windows, r.bytes(), b));
  EXPECT_EQ(b.event().get(FieldId::rtt), nullptr);
}

TEST(Translate, Errors) {
  RawRecord r(FuncId::connect, -1);
  r.error(ErrDomain::Errno, 111);
  EventBuilder b;
  ASSERT_TRUE(translate(Platform::Linux, r.bytes(), b));
  EXPECT_EQ(b.event().error, (ErrorCode{ErrDomain::Errno, 111}));
}

TEST(Translate, RecordsThatDoNotHold) {
  EventBuilder b;
  {  // shorter than its head
    RawRecord r(FuncId::socket);
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b, sizeof(RawHead) - 1));
    EXPECT_TRUE(translate(Platform::Linux, r.bytes(), b, sizeof(RawHead)));
  }
  {  // a function wstrace does not know
    RawRecord r(FuncId::kCount);
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b));
  }
  {  // an argument whose last byte is the record's last byte holds; one byte short does not
    RawRecord r(FuncId::getaddrinfo);
    r.arg(FieldId::host, kRawString, "abc", 3, false);
    EXPECT_TRUE(translate(Platform::Linux, r.bytes(), b));
    EXPECT_EQ(b.event().get(FieldId::host)->bytes(), "abc");
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b, r.bytes().size() - 1));
    r.set_nargs(2);  // a second argument header past the end
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b));
  }
  {  // a field wstrace does not know
    RawRecord r(FuncId::socket);
    r.u64(FieldId::kCount, 1);
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b));
  }
  {  // numbers are 8 bytes, payloads at least their 8-byte length, options 16, kinds known
    const uint8_t four[16] = {};
    for (RawKind k : {kRawU64, kRawI64, kRawPlatformConst, kRawBytes, kRawSockopt}) {
      RawRecord r(FuncId::send);
      r.arg(k == kRawBytes ? FieldId::payload : FieldId::len, k, four, k == kRawBytes ? 7 : 4);
      EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b)) << int{k};
    }
    RawRecord r(FuncId::send);
    r.arg(FieldId::len, static_cast<RawKind>(99), four, 8);
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b));
  }
  {  // an address list entry longer than its list
    const uint8_t list[6] = {5, 0, 2, 0, 0, 80};
    RawRecord r(FuncId::getaddrinfo);
    r.arg(FieldId::addrs, kRawAddrList, list, sizeof list);
    EXPECT_FALSE(translate(Platform::Linux, r.bytes(), b));
    const uint8_t fits[6] = {4, 0, 2, 0, 0, 80};
    RawRecord ok(FuncId::getaddrinfo);
    ok.arg(FieldId::addrs, kRawAddrList, fits, sizeof fits);
    EXPECT_TRUE(translate(Platform::Linux, ok.bytes(), b));
  }
}

}  // namespace
