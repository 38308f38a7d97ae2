// Socket addresses in wstrace's portable form: captured on any platform, printed on any other.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace ws {

struct SockAddr {
  uint64_t family = 0;            // ws::af code (af::kInet, af::kInet6, af::kUnix …)
  std::array<uint8_t, 16> ip{};   // network order; IPv4 uses the first 4 bytes
  uint16_t port = 0;              // host order
  uint32_t scope_id = 0;          // IPv6 only
  uint32_t flowinfo = 0;          // IPv6 only
  std::string path;               // AF_UNIX path (abstract names start with '\0'); raw bytes
                                  // of any other family

  static SockAddr ipv4(uint32_t host_order_ip, uint16_t port);
  static SockAddr ipv6(const std::array<uint8_t, 16>& ip, uint16_t port, uint32_t scope = 0);
  static SockAddr unix_path(std::string_view path);
  bool is_inet() const;
  // An IPv6 address of the form ::ffff:a.b.c.d: the IPv4 address a.b.c.d on the wire.
  bool is_v4_mapped() const;
  bool operator==(const SockAddr&) const = default;
};

// IPv4-mapped addresses, the one place they are (un)mapped: the address as it is on the wire
// (an IPv4-mapped IPv6 address becomes its IPv4 address; anything else is returned as it is),
// and the 16 bytes of any IP address as IPv6 (IPv4 becomes ::ffff:a.b.c.d).
SockAddr wire_addr(const SockAddr& a);
std::array<uint8_t, 16> as_ipv6(const SockAddr& a);

// Encodes into the blob stored in an Addr field.
void encode_addr(const SockAddr& a, std::string& out);
// Decodes an Addr blob; false when it is malformed.
bool decode_addr(std::string_view blob, SockAddr& out);

// "127.0.0.1:80", "[::1]:443", "[fe80::1%2]:80", "unix:/run/x.sock", "unix:@abstract",
// "unix:(unnamed)", "AF_???(99)". An IPv4-mapped IPv6 address prints as IPv6 ("[::ffff:1.2.3.4]").
std::string to_string(const SockAddr& a);
// Just the IP ("10.0.0.5", "::1"); empty for non-IP families. RFC 5952 form for IPv6; written
// here rather than with inet_ntop because inspection is platform-neutral and makes no OS calls.
std::string ip_string(const SockAddr& a);

// Text to address, the inverse of ip_string: dotted IPv4 ("10.0.0.5"), RFC 4291 IPv6 forms
// ("2001:db8::1", "::ffff:1.2.3.4"); no port, no zone. Written here for the reason above.
bool parse_ipv4_text(std::string_view s, uint8_t* out);  // 4 bytes, network order
bool parse_ipv6_text(std::string_view s, std::array<uint8_t, 16>& out);
bool parse_ip(std::string_view text, SockAddr& out);  // family kInet or kInet6, port 0

}  // namespace ws
