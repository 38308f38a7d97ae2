#include "translate.h"

#include <cstring>
#include <vector>

#include "raw_record.h"

namespace ws::capture {
namespace {

uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>(p[0] << 8 | p[1]); }
uint32_t le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0] | p[1] << 8 | p[2] << 16) | static_cast<uint32_t>(p[3]) << 24;
}
uint32_t be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1] << 16 | p[2] << 8 | p[3]);
}
uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

// The TCP statistics the agent copied as the system gave them, as the tcp_info event's fields;
// a field the layout (or the length the system returned) lacks is left out. `at` is when they
// were read (FieldId::tcp_at). The offsets are the documented layouts, written out because a
// trace recorded on one platform is read on the other (and checked against the system headers
// in tests/unit/translate_test.cc where they exist).
void tcp_info_fields(Platform p, const uint8_t* d, size_t n, uint64_t at, EventBuilder& out) {
  constexpr uint64_t kUs = 1000;
  auto u32_at = [&](size_t off, FieldId f, uint64_t scale = 1) {
    if (off + 4 <= n) out.num(f, uint64_t{le32(d + off)} * scale);
  };
  auto u64_at = [&](size_t off, FieldId f) {
    if (off + 8 <= n) out.num(f, read_u64(d + off));
  };
  if (p == Platform::Linux) {
    // struct tcp_info (linux/tcp.h): tcpi_state, …, tcpi_rtt/rttvar (µs) at 68/72,
    // tcpi_total_retrans at 100, tcpi_bytes_received at 128, tcpi_min_rtt at 148,
    // tcpi_bytes_sent/bytes_retrans at 200/208.
    if (n >= 1) out.num(FieldId::tcp_state, to_code(ConstTable::TcpState, p, d[0]));
    u32_at(68, FieldId::rtt, kUs);
    u32_at(72, FieldId::rtt_var, kUs);
    u32_at(148, FieldId::min_rtt, kUs);
    u32_at(100, FieldId::retrans);
    u64_at(208, FieldId::retrans_bytes);
    // Read when the connect completed, every retransmission so far was of the SYN.
    if (at == 1) u32_at(100, FieldId::syn_retrans);
    u64_at(200, FieldId::bytes_sent);
    u64_at(128, FieldId::bytes_recvd);
  } else {
    // TCP_INFO_v0 (mstcpip.h; v1 only adds send-limit figures after it): State at 0, RttUs and
    // MinRttUs at 20/24, BytesOut/BytesIn at 48/56, BytesRetrans at 68, FastRetrans at 72,
    // TimeoutEpisodes at 80, SynRetrans (a byte) at 84.
    if (n < 85) return;
    out.num(FieldId::tcp_state, to_code(ConstTable::TcpState, p, le32(d)));
    u32_at(20, FieldId::rtt, kUs);
    u32_at(24, FieldId::min_rtt, kUs);
    u32_at(72, FieldId::retrans);
    u32_at(68, FieldId::retrans_bytes);
    out.num(FieldId::syn_retrans, d[84]);
    u32_at(80, FieldId::timeouts);
    u64_at(48, FieldId::bytes_sent);
    u64_at(56, FieldId::bytes_recvd);
  }
}

// The platform numbers of the families whose layout wstrace decodes, from the constant table
// (looked up once per platform: every address of every record needs them).
struct Families {
  int64_t inet, inet6, unix_;
};
Families lookup_families(Platform p) {
  return {to_platform(ConstTable::AddrFamily, p, af::kInet),
          to_platform(ConstTable::AddrFamily, p, af::kInet6),
          to_platform(ConstTable::AddrFamily, p, af::kUnix)};
}
const Families& families_of(Platform p) {
  static const Families linux_families = lookup_families(Platform::Linux);
  static const Families windows_families = lookup_families(Platform::Windows);
  return p == Platform::Windows ? windows_families : linux_families;
}

uint64_t translate_const(Platform p, FieldId f, int64_t raw) {
  ConstTable t = field_def(f).table;
  if (t == ConstTable::None) return static_cast<uint64_t>(raw);
  if (is_flags(t)) return to_flags(t, p, static_cast<uint64_t>(raw));
  return to_code(t, p, raw);
}

}  // namespace

// sockaddr_in: family(2) port(2, network order) addr(4); sockaddr_in6: family(2) port(2)
// flowinfo(4, network order) addr(16) scope_id(4, host order); sockaddr_un: family(2) path.
// The same on Linux and Windows but for the family numbers.
SockAddr platform_sockaddr(Platform platform, const void* p, size_t len) {
  SockAddr a;
  if (len < 2) return a;
  const auto* b = static_cast<const uint8_t*>(p);
  const uint16_t fam = le16(b);
  const Families& f = families_of(platform);
  if (fam == f.inet && len >= 8) {
    a.family = af::kInet;
    a.port = be16(b + 2);
    std::memcpy(a.ip.data(), b + 4, 4);
  } else if (fam == f.inet6 && len >= 24) {
    a.family = af::kInet6;
    a.port = be16(b + 2);
    a.flowinfo = be32(b + 4);
    std::memcpy(a.ip.data(), b + 8, 16);
    if (len >= 28) a.scope_id = le32(b + 24);
  } else if (fam == f.unix_) {
    a.family = af::kUnix;
    std::string path(reinterpret_cast<const char*>(b + 2), len - 2);
    // A pathname ends at its first NUL; an abstract name (leading NUL) is all its bytes.
    if (!path.empty() && path[0] != '\0') path = path.substr(0, path.find('\0'));
    a.path = path;
  } else {
    a.family = to_code(ConstTable::AddrFamily, platform, fam);
    a.path.assign(reinterpret_cast<const char*>(b + 2), len - 2);
  }
  return a;
}

std::string utf16_to_utf8(const void* data, size_t bytes) {
  const auto* b = static_cast<const uint8_t*>(data);
  const size_t n = bytes / 2;
  std::string out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    uint32_t c = le16(b + 2 * i);
    if (c >= 0xd800 && c < 0xdc00 && i + 1 < n) {
      uint32_t lo = le16(b + 2 * (i + 1));
      if (lo >= 0xdc00 && lo < 0xe000) {
        c = 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00);
        ++i;
      } else {
        c = 0xfffd;
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      c = 0xfffd;
    }
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xc0 | c >> 6);
      out += static_cast<char>(0x80 | (c & 0x3f));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xe0 | c >> 12);
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (c & 0x3f));
    } else {
      out += static_cast<char>(0xf0 | c >> 18);
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3f));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3f));
      out += static_cast<char>(0x80 | (c & 0x3f));
    }
  }
  return out;
}

bool translate_record(Platform platform, const uint8_t* rec, size_t len, uint32_t pid,
                      EventBuilder& out) {
  RawHead h;
  if (len < sizeof h) return false;
  std::memcpy(&h, rec, sizeof h);
  if (h.func >= static_cast<uint8_t>(FuncId::kCount)) return false;
  out.begin(static_cast<FuncId>(h.func), pid, h.tid, h.ts, h.dur);
  ErrorCode err;
  if (h.err_domain != 0) err = ErrorCode{static_cast<ErrDomain>(h.err_domain), h.err};
  out.result(h.result, err);
  size_t pos = sizeof h;
  std::vector<SockAddr> addrs;
  std::vector<PollEntry> polls;
  uint64_t tcp_at = 0;  // (noted before the statistics it qualifies)
  for (uint8_t i = 0; i < h.nargs; ++i) {
    RawArg a;
    if (pos + sizeof a > len) return false;
    std::memcpy(&a, rec + pos, sizeof a);
    pos += sizeof a;
    if (a.size > len - pos || a.field >= static_cast<uint8_t>(FieldId::kCount)) return false;
    const uint8_t* d = rec + pos;
    auto f = static_cast<FieldId>(a.field);
    switch (a.kind) {
      case kRawU64:
      case kRawI64:
        if (a.size != 8) return false;
        out.num(f, read_u64(d));
        if (f == FieldId::tcp_at) tcp_at = read_u64(d);
        break;
      case kRawTcpInfo:
        tcp_info_fields(platform, d, a.size, tcp_at, out);
        break;
      case kRawPlatformConst:
        if (a.size != 8) return false;
        out.num(f, translate_const(platform, f, static_cast<int64_t>(read_u64(d))));
        break;
      case kRawSockopt: {
        if (a.size != 16) return false;
        auto level = static_cast<int64_t>(read_u64(d));
        auto name = static_cast<int64_t>(read_u64(d + 8));
        out.num(FieldId::level, to_code(ConstTable::SockOptLevel, platform, level));
        out.num(FieldId::optname, sockopt_to_code(platform, level, name));
        break;
      }
      case kRawSockaddr:
        out.addr(f, platform_sockaddr(platform, d, a.size));
        break;
      case kRawString:
        out.str(f, std::string_view(reinterpret_cast<const char*>(d), a.size));
        break;
      case kRawWString:
        out.str(f, utf16_to_utf8(d, a.size));
        break;
      case kRawBytes:
        if (a.size < 8) return false;
        out.payload(std::string_view(reinterpret_cast<const char*>(d + 8), a.size - 8),
                    read_u64(d));
        break;
      case kRawAddrList: {
        addrs.clear();
        for (size_t k = 0; k + 2 <= a.size;) {
          uint16_t l = le16(d + k);
          if (k + 2 + l > a.size) return false;
          addrs.push_back(platform_sockaddr(platform, d + k + 2, l));
          k += 2 + l;
        }
        out.addrs(f, addrs);
        break;
      }
      case kRawPollList: {
        polls.clear();
        for (size_t k = 0; k + sizeof(RawPoll) <= a.size; k += sizeof(RawPoll)) {
          RawPoll p;
          std::memcpy(&p, d + k, sizeof p);
          polls.push_back({static_cast<uint64_t>(p.fd),
                           to_flags(ConstTable::PollEvents, platform, p.events),
                           to_flags(ConstTable::PollEvents, platform, p.revents)});
        }
        out.polls(f, polls);
        break;
      }
      default:
        return false;
    }
    pos += raw_pad(a.size);
  }
  return true;
}

bool translate_linux_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out) {
  return translate_record(Platform::Linux, rec, len, pid, out);
}

bool translate_windows_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out) {
  return translate_record(Platform::Windows, rec, len, pid, out);
}

}  // namespace ws::capture
