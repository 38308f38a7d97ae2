#include "translate.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <vector>

#include "raw_record.h"

namespace ws::capture {

SockAddr linux_sockaddr(const void* p, size_t len) {
  SockAddr a;
  sa_family_t fam = 0;
  if (len < sizeof fam) return a;
  std::memcpy(&fam, p, sizeof fam);
  const auto* bytes = static_cast<const uint8_t*>(p);
  if (fam == AF_INET && len >= sizeof(sockaddr_in)) {
    sockaddr_in sin;
    std::memcpy(&sin, p, sizeof sin);
    a.family = af::kInet;
    std::memcpy(a.ip.data(), &sin.sin_addr, 4);
    a.port = ntohs(sin.sin_port);
  } else if (fam == AF_INET6 && len >= sizeof(sockaddr_in6)) {
    sockaddr_in6 sin6;
    std::memcpy(&sin6, p, sizeof sin6);
    a.family = af::kInet6;
    std::memcpy(a.ip.data(), &sin6.sin6_addr, 16);
    a.port = ntohs(sin6.sin6_port);
    a.scope_id = sin6.sin6_scope_id;
    a.flowinfo = ntohl(sin6.sin6_flowinfo);
  } else if (fam == AF_UNIX) {
    a.family = af::kUnix;
    size_t off = offsetof(sockaddr_un, sun_path);
    if (len > off) {
      std::string path(reinterpret_cast<const char*>(bytes + off), len - off);
      // A pathname ends at its first NUL; an abstract name (leading NUL) is all its bytes.
      if (!path.empty() && path[0] != '\0') path = path.substr(0, path.find('\0'));
      a.path = path;
    }
  } else {
    a.family = to_code(ConstTable::AddrFamily, Platform::Linux, fam);
    a.path.assign(reinterpret_cast<const char*>(bytes + sizeof fam), len - sizeof fam);
  }
  return a;
}

namespace {

uint64_t read_u64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint64_t translate_const(FieldId f, int64_t raw) {
  ConstTable t = field_def(f).table;
  if (t == ConstTable::None) return static_cast<uint64_t>(raw);
  if (is_flags(t)) return to_flags(t, Platform::Linux, static_cast<uint64_t>(raw));
  return to_code(t, Platform::Linux, raw);
}

}  // namespace

bool translate_record(const uint8_t* rec, size_t len, uint32_t pid, EventBuilder& out) {
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
        break;
      case kRawPlatformConst:
        if (a.size != 8) return false;
        out.num(f, translate_const(f, static_cast<int64_t>(read_u64(d))));
        break;
      case kRawSockopt: {
        if (a.size != 16) return false;
        auto level = static_cast<int64_t>(read_u64(d));
        auto name = static_cast<int64_t>(read_u64(d + 8));
        out.num(FieldId::level, to_code(ConstTable::SockOptLevel, Platform::Linux, level));
        out.num(FieldId::optname, sockopt_to_code(Platform::Linux, level, name));
        break;
      }
      case kRawSockaddr:
        out.addr(f, linux_sockaddr(d, a.size));
        break;
      case kRawString:
        out.str(f, std::string_view(reinterpret_cast<const char*>(d), a.size));
        break;
      case kRawBytes:
        if (a.size < 8) return false;
        out.payload(std::string_view(reinterpret_cast<const char*>(d + 8), a.size - 8),
                    read_u64(d));
        break;
      case kRawAddrList: {
        addrs.clear();
        for (size_t k = 0; k + 2 <= a.size;) {
          uint16_t l;
          std::memcpy(&l, d + k, 2);
          if (k + 2 + l > a.size) return false;
          addrs.push_back(linux_sockaddr(d + k + 2, l));
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
                           to_flags(ConstTable::PollEvents, Platform::Linux, p.events),
                           to_flags(ConstTable::PollEvents, Platform::Linux, p.revents)});
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

}  // namespace ws::capture
