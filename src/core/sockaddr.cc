#include "sockaddr.h"

#include <algorithm>
#include <cstring>

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

bool SockAddr::is_v4_mapped() const {
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return family == af::kInet6 && std::equal(kMapped, kMapped + 12, ip.begin());
}

SockAddr wire_addr(const SockAddr& a) {
  if (!a.is_v4_mapped()) return a;
  SockAddr v4 = a;
  v4.family = af::kInet;
  v4.ip = {};
  std::copy_n(a.ip.begin() + 12, 4, v4.ip.begin());
  v4.scope_id = v4.flowinfo = 0;
  return v4;
}

std::array<uint8_t, 16> as_ipv6(const SockAddr& a) {
  if (a.family != af::kInet) return a.ip;
  std::array<uint8_t, 16> out{};
  out[10] = out[11] = 0xff;
  std::copy_n(a.ip.begin(), 4, out.begin() + 12);
  return out;
}

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
  if (a.family == af::kInet) {  // by hand: inspection prints millions of these
    std::string s;
    s.reserve(15);
    for (int i = 0; i < 4; ++i) {
      if (i) s += '.';
      s += std::to_string(a.ip[i]);
    }
    return s;
  }
  if (a.family == af::kInet6) {
    std::string s = ipv6_string(a.ip);
    if (a.scope_id) s += fmt::format("%{}", a.scope_id);
    return s;
  }
  return {};
}

std::string to_string(const SockAddr& a) {
  if (a.family == af::kInet) return ip_string(a) + ':' + std::to_string(a.port);
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

namespace {
bool is_digit(char c) { return c >= '0' && c <= '9'; }
int hex_value(char c) {
  if (is_digit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

bool parse_ipv4_text(std::string_view s, uint8_t* out) {
  for (int part = 0; part < 4; ++part) {
    size_t n = 0;
    unsigned v = 0;
    while (n < s.size() && n < 4 && is_digit(s[n]))
      v = v * 10 + static_cast<unsigned>(s[n++] - '0');
    if (n == 0 || n > 3 || v > 255) return false;
    out[part] = static_cast<uint8_t>(v);
    s.remove_prefix(n);
    if (part < 3) {
      if (s.empty() || s[0] != '.') return false;
      s.remove_prefix(1);
    }
  }
  return s.empty();
}

bool parse_ipv6_text(std::string_view s, std::array<uint8_t, 16>& out) {
  out = {};
  uint16_t head[8], tail[8];
  int nhead = 0, ntail = 0;
  bool gap = false;
  if (s.starts_with("::")) {
    gap = true;
    s.remove_prefix(2);
  } else if (s.starts_with(":")) {
    return false;
  }
  uint8_t v4[4];
  bool has_v4 = false;
  while (!s.empty()) {
    size_t n = 0;
    while (n < s.size() && s[n] != ':') ++n;
    std::string_view group = s.substr(0, n);
    const bool last = n == s.size();
    if (last && group.find('.') != std::string_view::npos) {
      if (!parse_ipv4_text(group, v4)) return false;
      has_v4 = true;
      s = {};
      break;
    }
    if (group.empty() || group.size() > 4) return false;
    unsigned v = 0;
    for (char c : group) {
      const int d = hex_value(c);
      if (d < 0) return false;
      v = v * 16 + static_cast<unsigned>(d);
    }
    uint16_t* dst = gap ? tail : head;
    int& count = gap ? ntail : nhead;
    if (count == 8) return false;
    dst[count++] = static_cast<uint16_t>(v);
    s.remove_prefix(n);
    if (s.starts_with("::")) {
      if (gap) return false;
      gap = true;
      s.remove_prefix(2);
    } else if (s.starts_with(":")) {
      s.remove_prefix(1);
      if (s.empty()) return false;  // a trailing single ':'
    }
  }
  const int words = nhead + ntail + (has_v4 ? 2 : 0);
  if (gap ? words > 7 : words != 8) return false;
  int w = 0;
  for (int i = 0; i < nhead; ++i, ++w) {
    out[2 * w] = static_cast<uint8_t>(head[i] >> 8);
    out[2 * w + 1] = static_cast<uint8_t>(head[i]);
  }
  w = 8 - ntail - (has_v4 ? 2 : 0);
  for (int i = 0; i < ntail; ++i, ++w) {
    out[2 * w] = static_cast<uint8_t>(tail[i] >> 8);
    out[2 * w + 1] = static_cast<uint8_t>(tail[i]);
  }
  if (has_v4) std::memcpy(out.data() + 12, v4, 4);
  return true;
}

bool parse_ip(std::string_view text, SockAddr& out) {
  out = SockAddr();
  if (text.find(':') != std::string_view::npos) {
    if (!parse_ipv6_text(text, out.ip)) return false;
    out.family = af::kInet6;
    return true;
  }
  if (!parse_ipv4_text(text, out.ip.data())) return false;
  out.family = af::kInet;
  return true;
}

}  // namespace ws
