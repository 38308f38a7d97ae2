// wstrace's knowledge of platform constants: error codes with their meaning and a hint, and the
// value tables (address families, socket types, protocols, flags, options, ioctl codes).
//
// The tables are data files in data/ (each with its provenance), generated into code by
// tools/gen_constants.py. Capture translates a platform's numbers into wstrace's own stable
// codes with these functions; inspection and presentation print them without knowing which
// platform recorded them.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ws {

enum class Platform : uint8_t { Unknown = 0, Linux = 1, Windows = 2 };

// ---- Errors -------------------------------------------------------------------------------
// An error is recorded as the platform's own number in one of these domains, so the trace keeps
// exactly what the program saw (WSAECONNRESET stays WSAECONNRESET).
enum class ErrDomain : uint8_t {
  None = 0,
  Errno = 1,   // Linux errno
  Win = 2,     // WSAGetLastError()/GetLastError(): WSA* codes and the Win32 codes beside them
  Eai = 3,     // getaddrinfo() results on Linux (EAI_*, negative numbers)
  HErrno = 4,  // h_errno of gethostbyname() and friends on Linux
};

struct ErrorCode {
  ErrDomain domain = ErrDomain::None;
  int32_t value = 0;

  bool ok() const { return domain == ErrDomain::None; }
  // Packs into one unsigned integer for the trace file; 0 is "no error".
  uint64_t pack() const;
  // Inverse of pack(); an unknown domain number yields domain None.
  static ErrorCode unpack(uint64_t packed);
  bool operator==(const ErrorCode&) const = default;
};

struct ErrorInfo {
  ErrDomain domain;
  int32_t value;
  std::string_view name;     // "WSAECONNRESET"
  std::string_view meaning;  // one line, plain words
  std::string_view hint;     // what a sysadmin can check or do
  std::string_view posix;    // for Win errors the errno with the same sense ("ECONNRESET"), else ""
};

std::span<const ErrorInfo> all_errors();
// The entry for a recorded code; nullptr when wstrace does not know it.
const ErrorInfo* find_error(ErrorCode code);
// The entry with this exact name, ignoring case ("wsaeconnreset" finds WSAECONNRESET).
const ErrorInfo* find_error(std::string_view name);
// The other names find_error(name) knows: aliases such as EWOULDBLOCK (for EAGAIN), each with
// the entry it names.
struct ErrorAlias {
  std::string_view name;
  const ErrorInfo* error;
};
std::vector<ErrorAlias> error_aliases();
// Every entry whose number is `value`, in any domain (10060 → WSAETIMEDOUT; 2 → ENOENT,
// HOST_NOT_FOUND, ERROR_FILE_NOT_FOUND…). EAI codes match both -2 and 2.
std::vector<const ErrorInfo*> find_errors_by_value(int64_t value);
// The name of a code; an unknown one prints as "E???(123)" / "WSA???(12345)" / "EAI_???(-99)".
std::string error_name(ErrorCode code);
std::string_view domain_name(ErrDomain domain);  // "errno", "Winsock/Win32", "getaddrinfo", "h_errno"

// ---- Value tables -------------------------------------------------------------------------
enum class ConstTable : uint8_t {
  None = 0,
  AddrFamily,    // AF_*            (enum)
  SockType,      // SOCK_*          (enum; SOCK_NONBLOCK/SOCK_CLOEXEC are in SockTypeFlags)
  SockTypeFlags, // SOCK_NONBLOCK, SOCK_CLOEXEC (flags, Linux)
  Protocol,      // IPPROTO_*       (enum)
  MsgFlags,      // MSG_*           (flags)
  SockOptLevel,  // SOL_SOCKET, IPPROTO_TCP … as option levels (enum)
  SockOpt,       // SO_*, TCP_*, IP_*, IPV6_* (enum; the platform value depends on the level)
  Ioctl,         // FIONBIO, FIONREAD, SIO_* … (enum)
  ShutdownHow,   // SHUT_RD / SD_RECEIVE … (enum)
  AiFlags,       // AI_* (flags)
  PollEvents,    // POLLIN … (flags)
  FdEvents,      // FD_READ … of WSAEventSelect/WSAAsyncSelect (flags, Windows)
  TcpState,      // ESTABLISHED … of the TCP statistics (enum)
  EpollOp,       // EPOLL_CTL_ADD … of epoll_ctl (enum, Linux)
  EpollEvents,   // EPOLLIN … of epoll_ctl's event (flags, Linux)
};

inline constexpr int64_t kAbsent = INT64_MIN;  // the constant does not exist on that platform

struct ConstInfo {
  uint32_t code;          // wstrace's stable code (enum) or bit number (flags)
  std::string_view name;  // "AF_INET6"
  int64_t linux_value;    // kAbsent when Linux has no such constant
  int64_t windows_value;  // kAbsent when Windows has no such constant
  std::string_view meaning;
  uint32_t level;         // SockOpt only: the SockOptLevel code the option belongs to
};

std::span<const ConstInfo> table_entries(ConstTable table);
std::string_view table_name(ConstTable table);   // "address family"
bool is_flags(ConstTable table);

// Enum tables. A platform value with no entry is kept as kUnknownCode | (uint32_t)raw so that it
// still prints with its number.
inline constexpr uint64_t kUnknownCode = 1ull << 32;
uint64_t to_code(ConstTable table, Platform platform, int64_t raw);
// "AF_INET6"; an unknown code prints as "AF_???(99)" using the table's prefix.
std::string code_name(ConstTable table, uint64_t code);
// The platform's number for a code; kAbsent when that platform has none.
int64_t to_platform(ConstTable table, Platform platform, uint64_t code);

// Flag tables. Bit `code` of the low 32 bits stands for the entry with that code; platform bits
// with no entry are kept, unchanged, in the high 32 bits.
uint64_t to_flags(ConstTable table, Platform platform, uint64_t raw);
// "MSG_PEEK|MSG_WAITALL"; "0" when empty; leftover platform bits as "MSG_???(0x40000)".
std::string flags_name(ConstTable table, uint64_t flags);
uint64_t flags_to_platform(ConstTable table, Platform platform, uint64_t flags);

// Socket options: the option's platform number only means something together with its level.
uint64_t sockopt_to_code(Platform platform, int64_t level_raw, int64_t name_raw);

}  // namespace ws

// Named codes for use in C++ (ws::af::kInet6, ws::sockopt::kSoReuseaddr, ws::msgflag::kPeek…).
#include "constants_generated.h"
