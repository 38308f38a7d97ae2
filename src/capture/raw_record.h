// What an agent puts into its ring for one call: raw facts, no decoding. The collector turns
// them into events (translating the platform's constants into wstrace codes on the way).
// Both sides run on the same machine, so the layout is native; it never reaches a file.
#pragma once

#include <cstdint>

namespace ws::capture {

struct RawHead {
  uint8_t func;     // ws::FuncId
  uint8_t nargs;
  uint16_t flags;
  uint32_t tid;
  int64_t ts;       // monotonic ns at entry
  uint64_t dur;     // ns
  int64_t result;
  int32_t err;      // errno (or EAI_*/h_errno per err_domain); 0 on success
  uint8_t err_domain;  // ws::ErrDomain
  uint8_t pad[3];
};
static_assert(sizeof(RawHead) == 40);

// Argument kinds. Every argument starts with a RawArg, then `size` bytes, padded to 8.
enum RawKind : uint8_t {
  kRawU64 = 1,       // u64
  kRawI64 = 2,       // i64
  kRawSockaddr = 3,  // the platform's sockaddr bytes as the call saw them
  kRawBytes = 4,     // u64 original length, then the kept bytes
  kRawString = 5,    // text, no terminator
  kRawAddrList = 6,  // repeated: u16 length, sockaddr bytes
  kRawPollList = 7,  // repeated RawPoll
  kRawPlatformConst = 8,  // i64 platform value of a constant, for the collector to translate
  kRawSockopt = 9,        // i64 level, i64 optname (platform values)
  kRawWString = 10,       // UTF-16 text (Windows), no terminator
  // The platform's TCP statistics as the system returned them: Linux `struct tcp_info` (as
  // many bytes as getsockopt gave), Windows TCP_INFO_v0 or TCP_INFO_v1 (SIO_TCP_INFO).
  kRawTcpInfo = 11,
};

struct RawArg {
  uint8_t field;  // ws::FieldId
  uint8_t kind;   // RawKind
  uint16_t pad;
  uint32_t size;
};
static_assert(sizeof(RawArg) == 8);

struct RawPoll {
  int64_t fd;
  uint32_t events;   // the platform's poll bits
  uint32_t revents;
};

inline constexpr uint32_t raw_pad(uint32_t n) { return (n + 7u) & ~7u; }

}  // namespace ws::capture
