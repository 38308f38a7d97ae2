// pcapng blocks (draft-ietf-opsawg-pcapng) and the IPv4/IPv6, TCP and UDP headers inside them,
// written little-endian whatever the host (the section's byte-order magic says so).
#include <algorithm>
#include <bit>
#include <cstring>

#include "pcapng.h"

namespace ws::exporter::pcapng {
namespace {

constexpr uint32_t kShb = 0x0A0D0D0A, kIdb = 1, kEpb = 6;
constexpr uint16_t kOptEnd = 0, kOptComment = 1;
constexpr uint16_t kShbHardware = 2, kShbOs = 3, kShbUserAppl = 4;
constexpr uint16_t kIfName = 2, kIfDescription = 3, kIfTsresol = 9;
constexpr uint16_t kEpbFlags = 2;
constexpr uint32_t kInbound = 1, kOutbound = 2;  // epb_flags bits 0-1
constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17, kTtl = 64;
constexpr size_t kMaxOption = 65532;  // an option's length is 16 bits, padded to 4

uint32_t pad4(size_t n) { return static_cast<uint32_t>((n + 3) & ~size_t{3}); }

void le16(std::string& out, uint16_t v) {
  const char b[2] = {static_cast<char>(v), static_cast<char>(v >> 8)};
  out.append(b, 2);
}
void le32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v), static_cast<char>(v >> 8), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 24)};
  out.append(b, 4);
}
void be16(std::string& out, uint16_t v) {
  const char b[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 2);
}
void be32(std::string& out, uint32_t v) {
  const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                     static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(b, 4);
}
void pad_to4(std::string& out, size_t n) { out.append(pad4(n) - n, '\0'); }

size_t option_size(std::string_view value) {
  return value.empty() ? 0 : 4 + pad4(std::min(value.size(), kMaxOption));
}
void option(std::string& out, uint16_t code, std::string_view value) {
  if (value.empty()) return;
  value = value.substr(0, kMaxOption);
  le16(out, code);
  le16(out, static_cast<uint16_t>(value.size()));
  out.append(value);
  pad_to4(out, value.size());
}

// Patches a block's leading total length and appends the trailing one.
void close_block(std::string& out, size_t start) {
  const auto total = static_cast<uint32_t>(out.size() - start + 4);
  for (int i = 0; i < 4; ++i) out[start + 4 + i] = static_cast<char>(total >> (8 * i));
  le32(out, total);
}
size_t open_block(std::string& out, uint32_t type) {
  const size_t start = out.size();
  le32(out, type);
  le32(out, 0);  // total length, patched by close_block
  return start;
}

// RFC 1071 sum of 16-bit words, computed on little-endian loads (the order does not change a
// one's complement sum, only where its bytes land): 8 bytes at a time with end-around carry.
uint64_t add_sum(uint64_t acc, const uint8_t* p, size_t n) {
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    acc += w;
    acc += acc < w;
    p += 8;
    n -= 8;
  }
  uint64_t tail = 0;
  std::memcpy(&tail, p, n);  // little-endian host assumed, checked below
  acc += tail;
  acc += acc < tail;
  return acc;
}
static_assert(std::endian::native == std::endian::little, "add_sum loads words little-endian");

// The one's complement of the folded sum, stored where the checksum goes (as it was summed:
// little-endian loads give the network-order bytes back when stored little-endian).
void store_checksum(std::string& out, size_t at, uint64_t acc) {
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffffffff) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  const auto sum = static_cast<uint16_t>(~acc);
  out[at] = static_cast<char>(sum & 0xff);
  out[at + 1] = static_cast<char>(sum >> 8);
}

const uint8_t* bytes_at(const std::string& s, size_t at) {
  return reinterpret_cast<const uint8_t*>(s.data()) + at;
}

void ip_header(std::string& out, const Packet& p, uint8_t proto, uint32_t l4_size) {
  const size_t at = out.size();
  if (p.src.v6) {
    be32(out, 0x60000000);
    be16(out, static_cast<uint16_t>(l4_size));
    out.push_back(static_cast<char>(proto));
    out.push_back(static_cast<char>(kTtl));
    out.append(reinterpret_cast<const char*>(p.src.ip.data()), 16);
    out.append(reinterpret_cast<const char*>(p.dst.ip.data()), 16);
    return;
  }
  be16(out, 0x4500);
  be16(out, static_cast<uint16_t>(20 + l4_size));
  be16(out, static_cast<uint16_t>(p.ip_id));
  be16(out, 0x4000);  // don't fragment
  out.push_back(static_cast<char>(kTtl));
  out.push_back(static_cast<char>(proto));
  be16(out, 0);
  out.append(reinterpret_cast<const char*>(p.src.ip.data()), 4);
  out.append(reinterpret_cast<const char*>(p.dst.ip.data()), 4);
  store_checksum(out, at + 10, add_sum(0, bytes_at(out, at), 20));
}

uint64_t pseudo_header_sum(const Packet& p, uint8_t proto, uint32_t l4_size) {
  uint8_t b[40] = {};
  const size_t ip = p.src.v6 ? 16 : 4;
  std::memcpy(b, p.src.ip.data(), ip);
  std::memcpy(b + ip, p.dst.ip.data(), ip);
  const size_t tail = 2 * ip;
  if (p.src.v6) {
    b[tail + 2] = static_cast<uint8_t>(l4_size >> 8);
    b[tail + 3] = static_cast<uint8_t>(l4_size);
    b[tail + 7] = proto;
    return add_sum(0, b, 40);
  }
  b[tail + 1] = proto;
  b[tail + 2] = static_cast<uint8_t>(l4_size >> 8);
  b[tail + 3] = static_cast<uint8_t>(l4_size);
  return add_sum(0, b, 12);
}

// TCP header (with MSS and window scale options on a SYN) or UDP header, then the kept payload;
// the checksum when the whole payload is there.
void transport(std::string& out, const Packet& p, uint32_t header, uint32_t l4_size) {
  const size_t at = out.size();
  be16(out, p.src.port);
  be16(out, p.dst.port);
  size_t sum_at;
  if (p.udp) {
    be16(out, static_cast<uint16_t>(l4_size));
    sum_at = out.size();
    be16(out, 0);
  } else {
    be32(out, p.seq);
    be32(out, p.ack);
    out.push_back(static_cast<char>((header / 4) << 4));
    out.push_back(static_cast<char>(p.flags));
    be16(out, 0xffff);  // window (scaled)
    sum_at = out.size();
    be16(out, 0);
    be16(out, 0);  // urgent pointer
    if (p.flags & tcpflag::kSyn) {
      out.append({2, 4});
      be16(out, static_cast<uint16_t>(max_tcp_payload(p.src.v6)));
      out.append({1, 3, 3, static_cast<char>(kWindowScale)});
    }
  }
  out.append(p.kept);
  const uint8_t proto = p.udp ? kProtoUdp : kProtoTcp;
  if (p.kept.size() == p.length) {
    uint64_t acc = pseudo_header_sum(p, proto, l4_size);
    store_checksum(out, sum_at, add_sum(acc, bytes_at(out, at), out.size() - at));
    if (p.udp && out[sum_at] == 0 && out[sum_at + 1] == 0) out[sum_at] = out[sum_at + 1] = '\xff';
  } else if (p.udp && p.src.v6) {
    out[sum_at] = out[sum_at + 1] = '\xff';
  }
}

}  // namespace

bool endpoint_of(const SockAddr& addr, Endpoint& out) {
  const SockAddr a = wire_addr(addr);
  out = Endpoint{};
  out.port = a.port;
  if (a.family == af::kInet) {
    std::copy_n(a.ip.begin(), 4, out.ip.begin());
    return true;
  }
  if (a.family != af::kInet6) return false;
  out.v6 = true;
  out.ip = a.ip;
  return true;
}

void append_section_header(std::string& out, std::string_view os, std::string_view app,
                           std::string_view comment) {
  const size_t start = open_block(out, kShb);
  le32(out, 0x1A2B3C4D);
  le16(out, 1);
  le16(out, 0);
  le32(out, 0xffffffff);  // section length: not given
  le32(out, 0xffffffff);
  option(out, kOptComment, comment);
  option(out, kShbHardware, "");
  option(out, kShbOs, os);
  option(out, kShbUserAppl, app);
  le32(out, kOptEnd);
  close_block(out, start);
}

void append_interface(std::string& out, std::string_view name, std::string_view description) {
  const size_t start = open_block(out, kIdb);
  le16(out, kLinkTypeRaw);
  le16(out, 0);
  le32(out, kMaxIpPacket);  // snaplen
  option(out, kIfName, name);
  option(out, kIfDescription, description);
  le16(out, kIfTsresol);
  le16(out, 1);
  le32(out, 9);  // 10^-9 s, then 3 bytes of padding
  le32(out, kOptEnd);
  close_block(out, start);
}

void append_packet(std::string& out, const Packet& p) {
  const uint32_t header = p.udp ? kUdpHeader
                                : kTcpHeader + ((p.flags & tcpflag::kSyn) ? 8 : 0);
  const uint32_t l4_size = header + p.length;
  const uint32_t ip_size = ip_header_size(p.src.v6);
  const auto captured = static_cast<uint32_t>(ip_size + header + p.kept.size());
  out.reserve(out.size() + 28 + pad4(captured) + option_size(p.comment) + 16);
  const size_t start = open_block(out, kEpb);
  le32(out, 0);  // interface
  const auto ts = static_cast<uint64_t>(p.wall_ns);
  le32(out, static_cast<uint32_t>(ts >> 32));
  le32(out, static_cast<uint32_t>(ts));
  le32(out, captured);
  le32(out, ip_size + l4_size);
  ip_header(out, p, p.udp ? kProtoUdp : kProtoTcp, l4_size);
  transport(out, p, header, l4_size);
  pad_to4(out, captured);
  option(out, kOptComment, p.comment);
  le16(out, kEpbFlags);
  le16(out, 4);
  le32(out, p.outbound ? kOutbound : kInbound);
  le32(out, kOptEnd);
  close_block(out, start);
}

void set_packet_time(std::string& block, int64_t wall_ns) {
  // (After the block's type, length and interface: the time, high word first.)
  std::string t;
  const auto ts = static_cast<uint64_t>(wall_ns);
  le32(t, static_cast<uint32_t>(ts >> 32));
  le32(t, static_cast<uint32_t>(ts));
  if (block.size() >= 20) block.replace(12, 8, t);
}

}  // namespace ws::exporter::pcapng
