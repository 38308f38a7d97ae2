#include "sockaddr.h"

#include <fmt/format.h>

#include "constants.h"
#include "wire.h"

namespace ws {

SockAddr SockAddr::ipv4(uint32_t ip, uint16_t port) {
  SockAddr a;
  a.family = af::kInet;
  for (int i = 0; i < 4; ++i) a.ip[i] = static_cast<uint8_t>(ip >> (24 - 8 * i));
  a.port = port;
  return a;
}

SockAddr SockAddr::ipv6(const std::array<uint8_t, 16>& ip, uint16_t port, uint32_t scope) {
  SockAddr a;
  a.family = af::kInet6;
  a.ip = ip;
  a.port = port;
  a.scope_id = scope;
  return a;
}

SockAddr SockAddr::unix_path(std::string_view path) {
  SockAddr a;
  a.family = af::kUnix;
  a.path = path;
  return a;
}

bool SockAddr::is_inet() const { return family == af::kInet || family == af::kInet6; }

void encode_addr(const SockAddr& a, std::string& out) {
  wire::Out o(out);
  o.varint(a.family);
  if (a.family == af::kInet) {
    o.bytes(a.ip.data(), 4);
    o.u16(a.port);
  } else if (a.family == af::kInet6) {
    o.bytes(a.ip.data(), 16);
    o.u16(a.port);
    o.varint(a.scope_id);
    o.varint(a.flowinfo);
  } else {
    o.bytes(a.path.data(), a.path.size());
  }
}

bool decode_addr(std::string_view blob, SockAddr& a) {
  wire::In in(blob);
  a = SockAddr{};
  a.family = in.varint();
  if (a.family == af::kInet) {
    auto ip = in.take(4);
    std::copy(ip.begin(), ip.end(), a.ip.begin());
    a.port = in.u16();
  } else if (a.family == af::kInet6) {
    auto ip = in.take(16);
    std::copy(ip.begin(), ip.end(), a.ip.begin());
    a.port = in.u16();
    a.scope_id = static_cast<uint32_t>(in.varint());
    a.flowinfo = static_cast<uint32_t>(in.varint());
  } else {
    a.path = in.take(in.remaining());
  }
  return in.ok();
}

namespace {

std::string ipv6_string(const std::array<uint8_t, 16>& ip) {
  uint16_t w[8];
  for (int i = 0; i < 8; ++i) w[i] = static_cast<uint16_t>(ip[2 * i] << 8 | ip[2 * i + 1]);
  bool mapped = w[0] == 0 && w[1] == 0 && w[2] == 0 && w[3] == 0 && w[4] == 0 && w[5] == 0xffff;
  if (mapped) return fmt::format("::ffff:{}.{}.{}.{}", ip[12], ip[13], ip[14], ip[15]);
  // RFC 5952: the longest run (first one on ties) of two or more zero words becomes "::".
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    int j = i;
    while (j < 8 && w[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j == i ? i + 1 : j;
  }
  std::string s;
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      s += "::";
      i += best_len - 1;
      continue;
    }
    if (!s.empty() && s.back() != ':') s += ':';
    s += fmt::format("{:x}", w[i]);
  }
  return s;
}

}  // namespace

std::string ip_string(const SockAddr& a) {
  if (a.family == af::kInet) return fmt::format("{}.{}.{}.{}", a.ip[0], a.ip[1], a.ip[2], a.ip[3]);
  if (a.family == af::kInet6) {
    std::string s = ipv6_string(a.ip);
    if (a.scope_id) s += fmt::format("%{}", a.scope_id);
    return s;
  }
  return {};
}

std::string to_string(const SockAddr& a) {
  if (a.family == af::kInet) return fmt::format("{}:{}", ip_string(a), a.port);
  if (a.family == af::kInet6) return fmt::format("[{}]:{}", ip_string(a), a.port);
  if (a.family == af::kUnix) {
    if (a.path.empty()) return "unix:(unnamed)";
    if (a.path[0] == '\0') return "unix:@" + a.path.substr(1);
    return "unix:" + a.path;
  }
  std::string s = code_name(ConstTable::AddrFamily, a.family);
  if (!a.path.empty()) {
    s += ":";
    for (unsigned char c : a.path) s += fmt::format("{:02x}", c);
  }
  return s;
}

}  // namespace ws
