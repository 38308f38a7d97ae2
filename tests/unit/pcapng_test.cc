// pcapng export: the bytes of the blocks, and the packets synthesized from calls — handshake,
// sequence and acknowledgement numbers, segmentation, IPv4-mapped addresses, payloads cut by the
// snap length, connections traced at both ends, UDP peers, FIN and RST, checksums.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "constants.h"
#include "event_builder.h"
#include "test_units.h"
#include "pcapng.h"
#include "tracker.h"

namespace {

using ws::EventBuilder;
using ws::FieldId;
using ws::FuncId;
using ws::SockAddr;
namespace pc = ws::exporter::pcapng;

uint32_t le32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<uint8_t>(s[at + static_cast<size_t>(i)]);
  return v;
}
uint16_t le16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) | static_cast<uint8_t>(s[at + 1]) << 8);
}
uint32_t be32(const std::string& s, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[at + i]);
  return v;
}
uint16_t be16(const std::string& s, size_t at) {
  return static_cast<uint16_t>(static_cast<uint8_t>(s[at]) << 8 | static_cast<uint8_t>(s[at + 1]));
}

// The reference RFC 1071 checksum, a 16-bit word at a time.
uint16_t inet_sum(const std::string& data) {
  uint32_t sum = 0;
  for (size_t i = 0; i + 1 < data.size(); i += 2) sum += be16(data, i);
  if (data.size() % 2) sum += static_cast<uint32_t>(static_cast<uint8_t>(data.back()) << 8);
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum);
}

// One Enhanced Packet Block, read back.
struct Pkt {
  uint64_t ts = 0;
  uint32_t caplen = 0, origlen = 0;
  std::string data;  // the captured bytes
  std::string comment;
  uint32_t flags = 0;
  // IP and transport fields
  int version = 0;
  int proto = 0;
  std::string src, dst;  // raw address bytes
  uint16_t sport = 0, dport = 0;
  uint32_t seq = 0, ack = 0;
  uint8_t tcp_flags = 0;
  std::string payload;  // captured payload
  size_t l4 = 0;        // offset of the transport header in data

  bool is(uint8_t f) const { return tcp_flags == f; }
};

struct Block {
  uint32_t type = 0;
  std::string body;  // between the leading length and the trailing one
};

std::vector<Block> blocks(const std::string& file) {
  std::vector<Block> out;
  size_t at = 0;
  while (at + 12 <= file.size()) {
    const uint32_t len = le32(file, at + 4);
    EXPECT_EQ(len % 4, 0u);
    EXPECT_LE(at + len, file.size());
    if (len < 12 || at + len > file.size()) break;
    EXPECT_EQ(le32(file, at + len - 4), len) << "the trailing length at " << at;
    out.push_back({le32(file, at), file.substr(at + 8, len - 12)});
    at += len;
  }
  EXPECT_EQ(at, file.size());
  return out;
}

// Options from `at` in `body`: code → value.
std::vector<std::pair<uint16_t, std::string>> options(const std::string& body, size_t at) {
  std::vector<std::pair<uint16_t, std::string>> out;
  while (at + 4 <= body.size()) {
    const uint16_t code = le16(body, at), len = le16(body, at + 2);
    if (code == 0) break;
    out.emplace_back(code, body.substr(at + 4, len));
    at += 4 + ((len + 3u) & ~3u);
  }
  return out;
}

Pkt parse_epb(const std::string& b) {
  Pkt p;
  p.ts = (uint64_t{le32(b, 4)} << 32) | le32(b, 8);
  p.caplen = le32(b, 12);
  p.origlen = le32(b, 16);
  p.data = b.substr(20, p.caplen);
  for (auto& [code, value] : options(b, 20 + ((p.caplen + 3u) & ~3u))) {
    if (code == 1) p.comment = value;
    if (code == 2) p.flags = le32(value, 0);
  }
  const std::string& d = p.data;
  p.version = static_cast<uint8_t>(d[0]) >> 4;
  size_t ip = p.version == 4 ? 20 : 40;
  p.proto = static_cast<uint8_t>(p.version == 4 ? d[9] : d[6]);
  p.src = p.version == 4 ? d.substr(12, 4) : d.substr(8, 16);
  p.dst = p.version == 4 ? d.substr(16, 4) : d.substr(24, 16);
  p.l4 = ip;
  p.sport = be16(d, ip);
  p.dport = be16(d, ip + 2);
  if (p.proto == 6) {
    p.seq = be32(d, ip + 4);
    p.ack = be32(d, ip + 8);
    p.tcp_flags = static_cast<uint8_t>(d[ip + 13]);
    p.payload = d.substr(ip + (static_cast<uint8_t>(d[ip + 12]) >> 4) * 4u);
  } else {
    p.payload = d.substr(ip + 8);
  }
  return p;
}

constexpr uint8_t kSyn = pc::tcpflag::kSyn, kAck = pc::tcpflag::kAck, kFin = pc::tcpflag::kFin,
                  kRst = pc::tcpflag::kRst, kPsh = pc::tcpflag::kPsh;
using ws::test::kLoop;
const std::string kLoopBytes("\x7f\0\0\x01", 4);

class PcapngTest : public ::testing::Test {
 protected:
  PcapngTest() : synth_(out_) {
    // Every call passes the filter: the inspector's facts of each go to the synthesizer.
    cb_.event = [this](const ws::inspect::Facts& f) { synth_.add(f); };
    cb_.connection_end = [this](const ws::inspect::Connection& c) { synth_.connection_ended(c); };
    inspector_.subscribe(cb_);
    ws::trace::TraceHeader h;
    h.os = "Linux (test)";
    h.wstrace_version = "test";
    h.wall_anchor_ns = 1'000'000'000'000'000'000;
    h.mono_anchor_ns = 0;
    synth_.begin(h);
    start(100, "/usr/bin/client");
    start(200, "/usr/sbin/server");
  }
  EventBuilder& call(FuncId f, uint32_t pid = 100) {
    ts_ += 1000;
    return b_.begin(f, pid, pid + 1, ts_, 10);
  }
  void feed() {
    ws::Event& ev = b_.event();
    ev.seq = seq_++;
    inspector_.observe(ev);
  }
  void start(uint32_t pid, const char* image) {
    call(FuncId::process_start, pid).num(FieldId::ppid, 1).str(FieldId::image, image).result(0);
    feed();
  }
  void socket(uint64_t fd, uint64_t family, uint64_t type, uint32_t pid = 100) {
    call(FuncId::socket, pid)
        .num(FieldId::family, family)
        .num(FieldId::type, type)
        .num(FieldId::protocol, type == ws::socktype::kStream ? ws::proto::kTcp : ws::proto::kUdp)
        .result(static_cast<int64_t>(fd));
    feed();
  }
  void connect(uint64_t fd, const SockAddr& to, const SockAddr& local, uint32_t pid = 100) {
    call(FuncId::connect, pid).num(FieldId::sock, fd).addr(FieldId::addr, to)
        .addr(FieldId::local, local).result(0);
    feed();
  }
  // A call moving `total` bytes of which `kept` are in the trace.
  void io_cut(FuncId f, uint64_t fd, const std::string& kept, uint64_t total, uint32_t pid = 100) {
    call(f, pid).num(FieldId::sock, fd).num(FieldId::len, total).payload(kept, total)
        .result(static_cast<int64_t>(total));
    feed();
  }
  void io(FuncId f, uint64_t fd, const std::string& data, uint32_t pid = 100) {
    io_cut(f, fd, data, data.size(), pid);
  }
  // The completion of overlapped operation `op` on `sock`, through a completion port.
  EventBuilder& completion(uint64_t op, uint64_t len, uint64_t sock) {
    return call(FuncId::GetQueuedCompletionStatus).num(FieldId::op, op).num(FieldId::len, len)
        .num(FieldId::sock, sock).result(1);
  }
  void eof(uint64_t fd, uint32_t pid = 100) {
    call(FuncId::recv, pid).num(FieldId::sock, fd).num(FieldId::len, 4096).result(0);
    feed();
  }
  void close(uint64_t fd, uint32_t pid = 100) {
    call(FuncId::close, pid).num(FieldId::sock, fd).result(0);
    feed();
  }
  // Every packet written so far (after the tracker finished).
  std::vector<Pkt> packets() {
    inspector_.finish();
    synth_.finish();
    std::vector<Pkt> out;
    for (const Block& b : blocks(out_))
      if (b.type == 6) out.push_back(parse_epb(b.body));
    return out;
  }
  void tcp_client(uint64_t fd = 3) {
    socket(fd, ws::af::kInet, ws::socktype::kStream);
    connect(fd, SockAddr::ipv4(kLoop, 8080), SockAddr::ipv4(kLoop, 40000));
  }

  std::string out_;
  pc::PacketSynth synth_;
  ws::inspect::Inspector inspector_;
  ws::inspect::Callbacks cb_;
  EventBuilder b_;
  int64_t ts_ = 0;
  uint64_t seq_ = 0;
};

TEST(PcapngBlocks, SectionAndInterface) {
  std::string out;
  pc::append_section_header(out, "Linux", "wstrace 1", "hi");
  pc::append_interface(out, "wstrace", "calls");
  auto b = blocks(out);
  ASSERT_EQ(b.size(), 2u);
  EXPECT_EQ(b[0].type, 0x0A0D0D0Au);
  EXPECT_EQ(le32(b[0].body, 0), 0x1A2B3C4Du);
  EXPECT_EQ(le16(b[0].body, 4), 1);  // version 1.0
  EXPECT_EQ(le16(b[0].body, 6), 0);
  EXPECT_EQ(b[0].body.substr(8, 8), std::string(8, '\xff'));  // section length unknown
  auto so = options(b[0].body, 16);
  ASSERT_EQ(so.size(), 3u);
  EXPECT_EQ(so[0], (std::pair<uint16_t, std::string>{1, "hi"}));
  EXPECT_EQ(so[1], (std::pair<uint16_t, std::string>{3, "Linux"}));
  EXPECT_EQ(so[2], (std::pair<uint16_t, std::string>{4, "wstrace 1"}));
  EXPECT_EQ(b[1].type, 1u);
  EXPECT_EQ(le16(b[1].body, 0), 101);  // LINKTYPE_RAW
  EXPECT_EQ(le32(b[1].body, 4), 65535u);
  auto io = options(b[1].body, 8);
  ASSERT_EQ(io.size(), 3u);
  EXPECT_EQ(io[2].first, 9);  // if_tsresol: 10^-9
  EXPECT_EQ(io[2].second, std::string(1, '\x09'));
}

TEST(PcapngBlocks, PacketBytesAndChecksums) {
  pc::Packet p;
  SockAddr a = SockAddr::ipv4(kLoop, 40000), b = SockAddr::ipv4(0x0a000001, 80);
  ASSERT_TRUE(pc::endpoint_of(a, p.src));
  ASSERT_TRUE(pc::endpoint_of(b, p.dst));
  p.seq = 0x01020304;
  p.ack = 0xa0b0c0d0;
  p.flags = kAck | kPsh;
  p.kept = "hello";  // odd length: the checksum pads it
  p.length = 5;
  p.wall_ns = 0x0000000112345678;
  p.outbound = true;
  p.comment = "c";
  p.ip_id = 7;
  std::string out;
  pc::append_packet(out, p);
  auto bl = blocks(out);
  ASSERT_EQ(bl.size(), 1u);
  EXPECT_EQ(bl[0].type, 6u);
  EXPECT_EQ(le32(bl[0].body, 0), 0u);  // interface 0
  Pkt k = parse_epb(bl[0].body);
  EXPECT_EQ(k.ts, 0x0000000112345678u);
  EXPECT_EQ(k.caplen, 45u);
  EXPECT_EQ(k.origlen, 45u);
  EXPECT_EQ(k.comment, "c");
  EXPECT_EQ(k.flags, 2u);  // outbound
  EXPECT_EQ(k.version, 4);
  EXPECT_EQ(be16(k.data, 2), 45);  // IPv4 total length
  EXPECT_EQ(be16(k.data, 4), 7);
  EXPECT_EQ(inet_sum(k.data.substr(0, 20)), 0) << "IPv4 header checksum";
  EXPECT_EQ((std::pair{k.sport, k.dport}), (std::pair<uint16_t, uint16_t>{40000, 80}));
  EXPECT_EQ((std::pair{k.seq, k.ack}), (std::pair<uint32_t, uint32_t>{0x01020304, 0xa0b0c0d0}));
  EXPECT_EQ(k.payload, "hello");
  std::string pseudo = k.src + k.dst + std::string("\0\x06\0\x19", 4);
  EXPECT_EQ(inet_sum(pseudo + k.data.substr(20)), 0) << "TCP checksum";

  // UDP over IPv6, payload cut: no checksum can be computed, and 0 is illegal there.
  pc::Packet u;
  u.udp = true;
  ASSERT_TRUE(pc::endpoint_of(SockAddr::ipv6({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 53), u.src));
  u.dst = u.src;
  u.dst.port = 5353;
  u.kept = "abc";
  u.length = 10;
  out.clear();
  pc::append_packet(out, u);
  Pkt v = parse_epb(blocks(out)[0].body);
  EXPECT_EQ((std::pair{v.caplen, v.origlen}), (std::pair<uint32_t, uint32_t>{51, 58}));
  EXPECT_EQ(v.version, 6);
  EXPECT_EQ(be16(v.data, 4), 18);  // payload length: UDP header + 10
  EXPECT_EQ(be16(v.data, 44), 18);
  EXPECT_EQ(be16(v.data, 46), 0xffff);
  EXPECT_EQ(v.flags, 1u);  // inbound
}

TEST(PcapngBlocks, MappedAddressesAreIpv4) {
  std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 1, 2, 3};
  pc::Endpoint e;
  ASSERT_TRUE(pc::endpoint_of(SockAddr::ipv6(mapped, 443), e));
  EXPECT_FALSE(e.v6);
  EXPECT_EQ(std::string(e.ip.begin(), e.ip.begin() + 4), std::string("\x0a\x01\x02\x03"));
  EXPECT_EQ(e.port, 443);
  EXPECT_FALSE(pc::endpoint_of(SockAddr::unix_path("/run/x"), e));
}

TEST_F(PcapngTest, HandshakeDataAndCloseByPeer) {
  tcp_client();
  io(FuncId::send, 3, "GET / HTTP/1.0\r\n\r\n");
  io(FuncId::recv, 3, "HTTP/1.0 200 OK\r\n\r\n");
  eof(3);
  close(3);
  auto p = packets();
  ASSERT_EQ(p.size(), 8u);
  EXPECT_TRUE(p[0].is(kSyn));
  EXPECT_TRUE(p[1].is(kSyn | kAck));
  EXPECT_TRUE(p[2].is(kAck));
  EXPECT_TRUE(p[3].is(kAck | kPsh));
  EXPECT_TRUE(p[4].is(kAck | kPsh));
  EXPECT_TRUE(p[5].is(kFin | kAck));  // the peer's, at the end of stream
  EXPECT_TRUE(p[6].is(kFin | kAck));  // ours, at close
  EXPECT_TRUE(p[7].is(kAck));         // the peer acknowledges it
  const uint32_t c = p[0].seq, s = p[1].seq;
  EXPECT_EQ(p[1].ack, c + 1);
  EXPECT_EQ((std::pair{p[2].seq, p[2].ack}), (std::pair{c + 1, s + 1}));
  EXPECT_EQ((std::pair{p[3].seq, p[3].ack}), (std::pair{c + 1, s + 1}));
  EXPECT_EQ((std::pair{p[4].seq, p[4].ack}), (std::pair{s + 1, c + 19}));
  EXPECT_EQ((std::pair{p[5].seq, p[5].ack}), (std::pair{s + 20, c + 19}));
  EXPECT_EQ((std::pair{p[6].seq, p[6].ack}), (std::pair{c + 19, s + 21}));
  EXPECT_EQ((std::pair{p[7].seq, p[7].ack}), (std::pair{s + 21, c + 20}));
  EXPECT_EQ(p[3].payload, "GET / HTTP/1.0\r\n\r\n");
  EXPECT_EQ(p[4].payload, "HTTP/1.0 200 OK\r\n\r\n");
  for (int i : {0, 2, 3, 6}) {
    EXPECT_EQ(p[i].flags, 2u) << "packet " << i << " leaves the client";
    EXPECT_EQ((std::pair{p[i].sport, p[i].dport}), (std::pair<uint16_t, uint16_t>{40000, 8080}));
    EXPECT_EQ(p[i].src, kLoopBytes);
  }
  for (int i : {1, 4, 5, 7}) EXPECT_EQ(p[i].flags, 1u) << "packet " << i << " reaches it";
  EXPECT_EQ(p[3].comment, "proc=client pid=100 tid=101 func=send call=4");
  EXPECT_EQ(p[4].comment, "proc=client pid=100 tid=101 func=recv call=5");
  EXPECT_NE(p[0].comment.find("func=connect call=3 synthetic SYN"), std::string::npos);
  EXPECT_NE(p[6].comment.find("(closed by peer)"), std::string::npos);
  // Nanoseconds since 1970: the anchor plus the call's time; received data at the call's end.
  EXPECT_EQ(p[3].ts, 1'000'000'000'000'000'000u + 5000);
  EXPECT_EQ(p[4].ts, 1'000'000'000'000'000'000u + 6010);
  EXPECT_EQ(synth_.stats().connections, 1u);
}

// A peek (MSG_PEEK, as wget does) leaves the bytes queued: they are written once, when the
// receive that takes them returns, and the peek is neither data nor the end of the stream.
TEST_F(PcapngTest, PeekedBytesAreWrittenOnceWhenReceived) {
  tcp_client();
  io(FuncId::send, 3, "GET / HTTP/1.0\r\n\r\n");
  const std::string resp = "HTTP/1.0 200 OK\r\n\r\n";
  call(FuncId::recv).num(FieldId::sock, 3).num(FieldId::len, 4096)
      .num(FieldId::flags, ws::msgflag::kPeek).payload(resp, resp.size())
      .result(static_cast<int64_t>(resp.size()));
  feed();
  io(FuncId::recv, 3, resp);
  auto p = packets();
  ASSERT_GE(p.size(), 5u);
  EXPECT_TRUE(p[3].is(kAck | kPsh));
  EXPECT_TRUE(p[4].is(kAck | kPsh));
  EXPECT_EQ(p[4].payload, resp);
  EXPECT_EQ(p[4].seq, p[1].seq + 1) << "no FIN before the data";
  EXPECT_NE(p[4].comment.find("call=6"), std::string::npos) << "the receive, not the peek";
  size_t data = 0;
  for (const Pkt& k : p) data += k.payload.size();
  EXPECT_EQ(data, 18u + resp.size());
}

TEST_F(PcapngTest, LargeSendsAreSegmented) {
  tcp_client();
  std::string big(200000, 'a');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  io(FuncId::send, 3, big);
  close(3);
  auto p = packets();
  ASSERT_EQ(p.size(), 3u + 4u + 1u);  // handshake, four segments, our FIN at the end
  const uint32_t most = 65535 - 40;
  std::string joined;
  for (int i = 3; i < 7; ++i) {
    EXPECT_LE(p[i].caplen, 65535u);
    EXPECT_EQ(p[i].caplen, p[i].origlen);
    EXPECT_EQ(p[i].seq, p[0].seq + 1 + (i - 3) * most);
    EXPECT_EQ(p[i].tcp_flags, i == 6 ? (kAck | kPsh) : kAck);
    joined += p[i].payload;
  }
  EXPECT_EQ(p[3].payload.size(), most);
  EXPECT_EQ(joined, big);
  EXPECT_TRUE(p[7].is(kFin | kAck));
  EXPECT_EQ(p[7].seq, p[0].seq + 1 + 200000);
}

TEST_F(PcapngTest, SnaplenCutsThePacketNotTheSequence) {
  tcp_client();
  io_cut(FuncId::send, 3, std::string(64, 'x'), 1000);
  io(FuncId::send, 3, "next");
  auto p = packets();
  ASSERT_GE(p.size(), 5u);
  EXPECT_EQ(p[3].caplen, 40u + 64);
  EXPECT_EQ(p[3].origlen, 40u + 1000);
  EXPECT_EQ(be16(p[3].data, 2), 40 + 1000) << "the IP length is the real one";
  EXPECT_EQ(p[3].payload, std::string(64, 'x'));
  EXPECT_NE(p[3].comment.find("snaplen: 936 of 1000 bytes not kept"), std::string::npos) << p[3].comment;
  EXPECT_EQ(p[4].seq, p[3].seq + 1000);
  EXPECT_EQ(p[4].payload, "next");
  EXPECT_EQ(p[4].comment.find("not kept"), std::string::npos);
  EXPECT_EQ(synth_.stats().bytes_not_kept, 936u);
}

TEST_F(PcapngTest, MappedIpv6ConnectionIsWrittenAsIpv4) {
  std::array<uint8_t, 16> mapped{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
  socket(3, ws::af::kInet6, ws::socktype::kStream);
  connect(3, SockAddr::ipv6(mapped, 8080), SockAddr::ipv6(mapped, 40001));
  io(FuncId::send, 3, "x");
  auto p = packets();
  ASSERT_GE(p.size(), 4u);
  for (const Pkt& k : p) {
    EXPECT_EQ(k.version, 4);
    EXPECT_EQ(k.src.size(), 4u);
  }
  EXPECT_EQ(p[3].dst, kLoopBytes);
}

TEST_F(PcapngTest, ConnectionTracedAtBothEndsIsWrittenOnce) {
  socket(5, ws::af::kInet, ws::socktype::kStream, 200);
  call(FuncId::bind, 200).num(FieldId::sock, 5).addr(FieldId::addr, SockAddr::ipv4(kLoop, 8080)).result(0);
  feed();
  call(FuncId::listen, 200).num(FieldId::sock, 5).num(FieldId::backlog, 5).result(0);
  feed();
  tcp_client();
  call(FuncId::accept, 200).num(FieldId::sock, 5).num(FieldId::new_sock, 6)
      .addr(FieldId::peer, SockAddr::ipv4(kLoop, 40000)).addr(FieldId::local, SockAddr::ipv4(kLoop, 8080))
      .result(6);
  feed();
  io(FuncId::send, 3, "ping");
  io(FuncId::recv, 6, "pi", 200);  // the server reads in two pieces
  io(FuncId::recv, 6, "ng", 200);
  io(FuncId::send, 6, "pong", 200);
  io(FuncId::recv, 3, "pong");
  close(3);
  eof(6, 200);
  close(6, 200);
  auto p = packets();
  ASSERT_EQ(p.size(), 8u);
  EXPECT_TRUE(p[0].is(kSyn));
  EXPECT_TRUE(p[1].is(kSyn | kAck));
  EXPECT_TRUE(p[2].is(kAck));
  EXPECT_EQ(p[3].payload, "ping");
  EXPECT_EQ(p[4].payload, "pong");
  EXPECT_NE(p[4].comment.find("proc=server pid=200"), std::string::npos) << p[4].comment;
  EXPECT_EQ(p[4].flags, 2u) << "outbound for the server";
  EXPECT_EQ(p[4].sport, 8080);
  EXPECT_TRUE(p[5].is(kFin | kAck));  // the client's close
  EXPECT_EQ(p[5].sport, 40000);
  EXPECT_TRUE(p[6].is(kFin | kAck));  // the server's
  EXPECT_EQ(p[6].sport, 8080);
  EXPECT_TRUE(p[7].is(kAck));
  EXPECT_EQ(p[7].ack, p[6].seq + 1);
  EXPECT_EQ(synth_.stats().shared_ends, 1u);
  EXPECT_EQ(synth_.stats().connections, 1u);
}

TEST_F(PcapngTest, UdpDatagramsWithTheirOwnPeers) {
  socket(7, ws::af::kInet, ws::socktype::kDgram);
  const SockAddr dns = SockAddr::ipv4(kLoop, 53), other = SockAddr::ipv4(kLoop, 5353);
  for (const SockAddr* to : {&dns, &other}) {
    call(FuncId::sendto).num(FieldId::sock, 7).addr(FieldId::addr, *to).payload("q", 1).result(1);
    feed();
  }
  call(FuncId::recvfrom).num(FieldId::sock, 7).addr(FieldId::peer, dns).payload("", 0).result(0);
  feed();  // an empty datagram is a datagram
  call(FuncId::socketpair).num(FieldId::family, ws::af::kUnix).num(FieldId::type, ws::socktype::kStream)
      .num(FieldId::sock, 8).num(FieldId::new_sock, 9).result(0);
  feed();
  io(FuncId::send, 8, "unix");
  auto p = packets();
  ASSERT_EQ(p.size(), 3u) << "one packet a datagram; the Unix socket pair is left out";
  EXPECT_EQ(p[0].proto, 17);
  EXPECT_EQ(p[0].dport, 53);
  EXPECT_EQ(p[1].dport, 5353);
  EXPECT_EQ(p[0].sport, p[1].sport);
  EXPECT_EQ(p[2].sport, 53);
  EXPECT_EQ(p[2].flags, 1u);
  EXPECT_EQ(p[2].payload, "");
  EXPECT_EQ(be16(p[2].data, 24), 8);
  EXPECT_EQ(synth_.stats().skipped_no_address, 1u);
}

TEST_F(PcapngTest, ResetAndRefused) {
  tcp_client();
  io(FuncId::send, 3, "data");
  call(FuncId::recv).num(FieldId::sock, 3).num(FieldId::len, 4096).result(-1, ws::errcode::kEconnreset);
  feed();
  close(3);
  socket(4, ws::af::kInet, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 4).addr(FieldId::addr, SockAddr::ipv4(kLoop, 9))
      .result(-1, ws::errcode::kEconnrefused);
  feed();
  close(4);
  auto p = packets();
  ASSERT_EQ(p.size(), 7u);
  EXPECT_TRUE(p[4].is(kRst | kAck));
  EXPECT_EQ(p[4].sport, 8080) << "the peer reset it";
  EXPECT_EQ(p[4].seq, p[1].seq + 1);
  EXPECT_TRUE(p[5].is(kSyn));
  EXPECT_EQ(p[5].dport, 9);
  EXPECT_TRUE(p[6].is(kRst | kAck));
  EXPECT_EQ(p[6].ack, p[5].seq + 1);
}

TEST_F(PcapngTest, NonBlockingConnectsSynWhenTheyBegin) {
  for (uint64_t fd : {3, 4}) {
    socket(fd, ws::af::kInet, ws::socktype::kStream);
    call(FuncId::connect).num(FieldId::sock, fd).addr(FieldId::addr, SockAddr::ipv4(kLoop, 8080))
        .result(-1, ws::errcode::kEinprogress);
    feed();
    call(FuncId::getsockopt).num(FieldId::sock, fd).num(FieldId::level, ws::solevel::kSolSocket)
        .num(FieldId::optname, ws::sockopt::kSoError).num(FieldId::optval, fd == 3 ? 0 : 111)
        .result(0);
    feed();  // 3 connected, 4 refused
    close(fd);
  }
  auto p = packets();
  ASSERT_EQ(p.size(), 3u + 1u + 2u);  // handshake, our FIN; SYN and RST of the refused one
  const uint64_t anchor = 1'000'000'000'000'000'000u;
  EXPECT_EQ(p[0].ts, anchor + 4000) << "the SYN when connect began";
  EXPECT_NE(p[0].comment.find("func=connect call=3"), std::string::npos) << p[0].comment;
  EXPECT_EQ(p[1].ts, anchor + 5010) << "the SYN-ACK when getsockopt said it was connected";
  EXPECT_TRUE(p[3].is(kFin | kAck));
  EXPECT_TRUE(p[4].is(kSyn));
  EXPECT_EQ(p[4].ts, anchor + 8000);
  EXPECT_TRUE(p[5].is(kRst | kAck));
  EXPECT_EQ(p[5].ack, p[4].seq + 1);
}

// A receive that began first and returned late (its data is stamped then) does not hold back
// another connection's packets, nor make the file's times go backwards; a non-blocking connect
// whose first send tells it connected has its handshake before that send's data.
TEST_F(PcapngTest, TimesNeverGoBackwards) {
  tcp_client(3);
  ts_ += 1000;
  b_.begin(FuncId::recv, 100, 102, ts_, 50'000).num(FieldId::sock, 3).num(FieldId::len, 64)
      .payload("late", 4).result(4);
  feed();
  const int64_t recv_end = ts_ + 50'000;
  socket(4, ws::af::kInet, ws::socktype::kStream);
  call(FuncId::connect).num(FieldId::sock, 4).addr(FieldId::addr, SockAddr::ipv4(kLoop, 9090))
      .addr(FieldId::local, SockAddr::ipv4(kLoop, 40001)).result(-1, ws::errcode::kEinprogress);
  feed();
  const int64_t send_ts = ts_ + 1000;
  io(FuncId::send, 4, "early");
  auto p = packets();
  const uint64_t anchor = 1'000'000'000'000'000'000;
  for (size_t i = 1; i < p.size(); ++i) EXPECT_LE(p[i - 1].ts, p[i].ts) << "packet " << i;
  bool saw_late = false, saw_early = false;
  for (const Pkt& k : p) {
    if (k.payload == "late") {
      saw_late = true;
      EXPECT_EQ(k.ts, anchor + static_cast<uint64_t>(recv_end));
    }
    if (k.payload == "early") {
      saw_early = true;
      EXPECT_EQ(k.ts, anchor + static_cast<uint64_t>(send_ts)) << "not held back by the receive";
      EXPECT_FALSE(saw_late) << "written before the later packet";
    }
  }
  EXPECT_TRUE(saw_late && saw_early);
}

TEST_F(PcapngTest, OverlappedCallsAreWrittenWhenTheyComplete) {
  socket(0x10c, ws::af::kInet, ws::socktype::kStream);
  call(FuncId::ConnectEx).num(FieldId::sock, 0x10c).num(FieldId::op, 0xE0)
      .addr(FieldId::addr, SockAddr::ipv4(kLoop, 80)).payload("hello", 5)
      .result(0, ws::errcode::kWsaIoPending);
  feed();
  completion(0xE0, 5, 0x10c);
  feed();
  call(FuncId::WSASend).num(FieldId::sock, 0x10c).num(FieldId::op, 0xF0).payload("abc", 3)
      .result(-1, ws::errcode::kWsaIoPending);
  feed();
  call(FuncId::WSARecv).num(FieldId::sock, 0x10c).num(FieldId::op, 0xF8)
      .result(-1, ws::errcode::kWsaIoPending);
  feed();
  completion(0xF0, 3, 0x10c);
  feed();
  completion(0xF8, 4, 0x10c).payload("pong", 4);
  feed();
  auto p = packets();
  ASSERT_EQ(p.size(), 6u);
  EXPECT_TRUE(p[0].is(kSyn));
  EXPECT_EQ(p[3].payload, "hello") << "ConnectEx's data, at its completion";
  EXPECT_EQ(p[4].payload, "abc");
  EXPECT_EQ(p[4].seq, p[3].seq + 5);
  EXPECT_NE(p[4].comment.find("func=GetQueuedCompletionStatus"), std::string::npos);
  EXPECT_EQ(p[5].payload, "pong");
  EXPECT_EQ(p[5].flags, 1u);
}

TEST_F(PcapngTest, UdpTracedAtBothEndsIsWrittenOnce) {
  const SockAddr a = SockAddr::ipv4(kLoop, 5000), b = SockAddr::ipv4(kLoop, 6000);
  socket(3, ws::af::kInet, ws::socktype::kDgram);
  call(FuncId::bind).num(FieldId::sock, 3).addr(FieldId::addr, a).result(0);
  feed();
  socket(4, ws::af::kInet, ws::socktype::kDgram, 200);
  call(FuncId::bind, 200).num(FieldId::sock, 4).addr(FieldId::addr, b).result(0);
  feed();
  for (int i = 0; i < 2; ++i) {
    call(FuncId::sendto).num(FieldId::sock, 3).addr(FieldId::addr, b).payload("q", 1).result(1);
    feed();
    call(FuncId::recvfrom, 200).num(FieldId::sock, 4).addr(FieldId::peer, a).payload("q", 1).result(1);
    feed();
  }
  call(FuncId::sendto, 200).num(FieldId::sock, 4).addr(FieldId::addr, a).payload("r", 1).result(1);
  feed();
  auto p = packets();
  ASSERT_EQ(p.size(), 3u) << "two datagrams one way, one back, each once";
  EXPECT_EQ((std::pair{p[0].sport, p[0].dport}), (std::pair<uint16_t, uint16_t>{5000, 6000}));
  EXPECT_EQ((std::pair{p[2].sport, p[2].dport}), (std::pair<uint16_t, uint16_t>{6000, 5000}));
  EXPECT_NE(p[2].comment.find("pid=200"), std::string::npos);
  EXPECT_EQ(synth_.stats().shared_ends, 1u);
}

}  // namespace

namespace {

// A retransmission as the kernel engine records it, `at` ns after the last call began.
void retransmit(EventBuilder& b, ws::inspect::Inspector& in, uint64_t& seq, int64_t at,
                uint64_t off, uint64_t len, uint64_t state = ws::tcpstate::kEstablished) {
  b.begin(FuncId::tcp_retransmit, 100, 100, at, 0)
      .num(FieldId::sock, 3)
      .num(FieldId::tcp_state, state)
      .num(FieldId::stream_offset, off)
      .num(FieldId::len, len)
      .num(FieldId::count, 1);
  ws::Event& ev = b.event();
  ev.seq = seq++;
  in.observe(ev);
}

}  // namespace

// A retransmission is the range again, same sequence numbers and bytes, at its own time — also
// when it comes before the call that sent the bytes (a call is written when it returns).
TEST_F(PcapngTest, RetransmittedRangesAreWrittenAgain) {
  tcp_client();
  std::string data(20000, 'a');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>('a' + i % 26);
  const int64_t sent_at = ts_ + 1000;
  retransmit(b_, inspector_, seq_, sent_at + 500'000, 1000, 2000);  // during the send
  EXPECT_EQ(out_.find("sent again"), std::string::npos);
  io(FuncId::send, 3, data);
  retransmit(b_, inspector_, seq_, ts_ + 900'000, 18000, 2000);
  close(3);
  auto p = packets();
  ASSERT_EQ(p.size(), 3u + 1u + 2u + 1u);  // handshake, the data, two again, our FIN
  const uint32_t isn = p[0].seq;
  EXPECT_EQ(p[3].payload, data);
  EXPECT_TRUE(p[4].is(kAck | kPsh));
  EXPECT_EQ(p[4].seq, isn + 1 + 1000);
  EXPECT_EQ(p[4].payload, data.substr(1000, 2000));
  EXPECT_NE(p[4].comment.find("func=tcp_retransmit"), std::string::npos) << p[4].comment;
  EXPECT_NE(p[4].comment.find("sent again"), std::string::npos) << p[4].comment;
  EXPECT_GT(p[4].ts, p[3].ts);
  EXPECT_EQ(p[5].seq, isn + 1 + 18000);
  EXPECT_EQ(p[5].payload, data.substr(18000, 2000));
  EXPECT_EQ(p[6].seq, isn + 1 + 20000) << "the retransmissions do not move the stream on";
  EXPECT_TRUE(p[6].is(kFin | kAck));
  EXPECT_EQ(synth_.stats().retransmissions, 2u);
}

// SYNs sent again while the connect waited: between the SYN and the answer.
TEST_F(PcapngTest, RetransmittedSynsComeBeforeTheAnswer) {
  socket(3, ws::af::kInet, ws::socktype::kStream);
  retransmit(b_, inspector_, seq_, ts_ + 1500, 0, 0, ws::tcpstate::kSynSent);
  call(FuncId::connect).num(FieldId::sock, 3).addr(FieldId::addr, SockAddr::ipv4(kLoop, 8080))
      .addr(FieldId::local, SockAddr::ipv4(kLoop, 40000)).result(0);
  b_.event().dur = 1'000'000;
  feed();
  auto p = packets();
  ASSERT_GE(p.size(), 4u);
  EXPECT_TRUE(p[0].is(kSyn));
  EXPECT_TRUE(p[1].is(kSyn));
  EXPECT_EQ(p[1].seq, p[0].seq);
  EXPECT_NE(p[1].comment.find("SYN sent again"), std::string::npos) << p[1].comment;
  EXPECT_TRUE(p[2].is(kSyn | kAck));
}
