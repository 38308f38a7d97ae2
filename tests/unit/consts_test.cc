// Tests of wstrace's constant tables (src/consts): lookups, round trips, unknown values, and the
// data checked against the platform's own headers (Linux headers on Linux, the mingw-w64 copies
// of the Windows SDK headers in the Windows build).
#include "constants.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#if defined(__linux__)
#include <netdb.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/sockios.h>
#include <cerrno>
#elif defined(_WIN32)
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <mstcpip.h>
#include <ws2bth.h>
#include <windows.h>
#endif

namespace {

using ws::ConstTable;
using ws::ErrDomain;
using ws::ErrorCode;
using ws::kAbsent;
using ws::kUnknownCode;
using ws::Platform;

// "???" is kept apart from "(" in these literals: "??(" would be a trigraph.
#define Q "???"

constexpr ConstTable kAllTables[] = {
    ConstTable::AddrFamily,   ConstTable::SockType,    ConstTable::SockTypeFlags,
    ConstTable::Protocol,     ConstTable::MsgFlags,    ConstTable::SockOptLevel,
    ConstTable::SockOpt,      ConstTable::Ioctl,       ConstTable::ShutdownHow,
    ConstTable::AiFlags,      ConstTable::PollEvents,
};

const ws::ConstInfo* entry(ConstTable table, std::string_view name) {
  for (const ws::ConstInfo& e : ws::table_entries(table)) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

int64_t value_on(const ws::ConstInfo& e, Platform p) {
  return p == Platform::Linux ? e.linux_value : e.windows_value;
}

// ---- Value tables --------------------------------------------------------------------------

TEST(Consts, AddressFamilyRoundTrips) {
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Linux, 10), ws::af::kInet6);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Windows, 23), ws::af::kInet6);
  EXPECT_EQ(ws::to_platform(ConstTable::AddrFamily, Platform::Linux, ws::af::kInet6), 10);
  EXPECT_EQ(ws::to_platform(ConstTable::AddrFamily, Platform::Windows, ws::af::kInet6), 23);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Linux, 2), ws::af::kInet);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Windows, 2), ws::af::kInet);
  EXPECT_EQ(ws::af::kUnspec, 0u);
  EXPECT_EQ(ws::code_name(ConstTable::AddrFamily, ws::af::kInet6), "AF_INET6");
  EXPECT_EQ(ws::code_name(ConstTable::AddrFamily, ws::af::kUnspec), "AF_UNSPEC");
  // Bluetooth is 31 on Linux and AF_BTH 32 on Windows; Hyper-V exists only on Windows.
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Linux, 31), ws::af::kBluetooth);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Windows, 32), ws::af::kBluetooth);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Windows, 34), ws::af::kHyperv);
  EXPECT_EQ(ws::to_platform(ConstTable::AddrFamily, Platform::Linux, ws::af::kHyperv), kAbsent);
}

TEST(Consts, UnknownEnumValuesKeepTheirNumber) {
  const uint64_t code = ws::to_code(ConstTable::AddrFamily, Platform::Linux, 99);
  EXPECT_EQ(code, kUnknownCode | 99u);
  EXPECT_EQ(ws::code_name(ConstTable::AddrFamily, code), "AF_" Q "(99)");
  EXPECT_EQ(ws::to_platform(ConstTable::AddrFamily, Platform::Windows, code), 99);
  const uint64_t neg = ws::to_code(ConstTable::SockType, Platform::Linux, -1);
  EXPECT_EQ(ws::code_name(ConstTable::SockType, neg), "SOCK_" Q "(-1)");
  EXPECT_EQ(ws::to_platform(ConstTable::SockType, Platform::Linux, neg), -1);
  EXPECT_EQ(ws::code_name(ConstTable::Protocol, ws::to_code(ConstTable::Protocol,
                                                            Platform::Windows, 262)),
            "IPPROTO_" Q "(262)");
  EXPECT_EQ(ws::code_name(ConstTable::SockOptLevel, ws::to_code(ConstTable::SockOptLevel,
                                                                Platform::Linux, 9999)),
            "SOL_" Q "(9999)");
  EXPECT_EQ(ws::code_name(ConstTable::Ioctl, ws::to_code(ConstTable::Ioctl, Platform::Windows,
                                                         0x98001234)),
            "IOCTL_" Q "(0x98001234)");
  // A code that is neither known nor marked unknown still prints something useful.
  EXPECT_EQ(ws::code_name(ConstTable::AddrFamily, 77777), "AF_" Q "(code 77777)");
  EXPECT_EQ(ws::to_platform(ConstTable::AddrFamily, Platform::Linux, 77777), kAbsent);
  // A platform that is not known maps nothing.
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Unknown, 2), kUnknownCode | 2u);
}

TEST(Consts, EveryEnumValueRoundTripsOnBothPlatforms) {
  for (ConstTable t : kAllTables) {
    if (ws::is_flags(t) || t == ConstTable::SockOpt) continue;
    for (const ws::ConstInfo& e : ws::table_entries(t)) {
      for (Platform p : {Platform::Linux, Platform::Windows}) {
        const int64_t v = value_on(e, p);
        if (v == kAbsent) {
          EXPECT_EQ(ws::to_platform(t, p, e.code), kAbsent) << e.name;
          continue;
        }
        EXPECT_EQ(ws::to_code(t, p, v), e.code) << e.name;
        EXPECT_EQ(ws::to_platform(t, p, e.code), v) << e.name;
      }
      EXPECT_EQ(ws::code_name(t, e.code), e.name);
    }
  }
}

TEST(Consts, TablesAreWellFormed) {
  std::set<std::string_view> seen_titles;
  for (ConstTable t : kAllTables) {
    const auto entries = ws::table_entries(t);
    ASSERT_FALSE(entries.empty()) << ws::table_name(t);
    EXPECT_FALSE(ws::table_name(t).empty());
    EXPECT_TRUE(seen_titles.insert(ws::table_name(t)).second) << ws::table_name(t);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const ws::ConstInfo& e = entries[i];
      EXPECT_FALSE(e.name.empty());
      EXPECT_FALSE(e.meaning.empty()) << e.name;
      EXPECT_TRUE(e.linux_value != kAbsent || e.windows_value != kAbsent) << e.name;
      if (i > 0) {
        EXPECT_LT(entries[i - 1].code, e.code) << e.name;
      }
      if (ws::is_flags(t)) {
        EXPECT_LT(e.code, 32u) << e.name;
      }
      if (t == ConstTable::SockOpt) {  // its level is a known entry
        EXPECT_EQ(ws::code_name(ConstTable::SockOptLevel, e.level).find('?'), std::string::npos)
            << e.name;
      }
    }
  }
  EXPECT_TRUE(ws::table_entries(ConstTable::None).empty());
  EXPECT_EQ(ws::table_name(ConstTable::AddrFamily), "address family");
  EXPECT_TRUE(ws::is_flags(ConstTable::MsgFlags));
  EXPECT_TRUE(ws::is_flags(ConstTable::PollEvents));
  EXPECT_FALSE(ws::is_flags(ConstTable::Ioctl));
}

TEST(Consts, NamedCodes) {
  EXPECT_EQ(ws::code_name(ConstTable::SockType, ws::socktype::kStream), "SOCK_STREAM");
  EXPECT_EQ(ws::code_name(ConstTable::Protocol, ws::proto::kTcp), "IPPROTO_TCP");
  EXPECT_EQ(ws::code_name(ConstTable::SockOptLevel, ws::solevel::kSolSocket), "SOL_SOCKET");
  EXPECT_EQ(ws::code_name(ConstTable::SockOpt, ws::sockopt::kTcpNodelay), "TCP_NODELAY");
  EXPECT_EQ(ws::code_name(ConstTable::Ioctl, ws::ioctl::kSioGetExtensionFunctionPointer),
            "SIO_GET_EXTENSION_FUNCTION_POINTER");
  EXPECT_EQ(ws::code_name(ConstTable::ShutdownHow, ws::shut::kRdwr), "SHUT_RDWR");
  EXPECT_EQ(ws::flags_name(ConstTable::AiFlags, ws::aiflag::kPassive), "AI_PASSIVE");
  EXPECT_EQ(ws::flags_name(ConstTable::PollEvents, ws::pollev::kIn), "POLLIN");
  EXPECT_EQ(ws::flags_name(ConstTable::SockTypeFlags, ws::sockflag::kNonblock), "SOCK_NONBLOCK");
  // Flag constants are bit values, enum constants are codes.
  EXPECT_EQ(ws::msgflag::kOob, 1u);
  EXPECT_EQ(ws::msgflag::kPeek, 2u);
  EXPECT_EQ(ws::errcode::kWsaeconnreset, (ErrorCode{ErrDomain::Win, 10054}));
  EXPECT_EQ(ws::errcode::kEwouldblock, ws::errcode::kEagain);
}

TEST(Consts, MsgFlagsMapToTheSameBitOnBothPlatforms) {
  EXPECT_EQ(ws::to_flags(ConstTable::MsgFlags, Platform::Linux, 0x100), ws::msgflag::kWaitall);
  EXPECT_EQ(ws::to_flags(ConstTable::MsgFlags, Platform::Windows, 0x8), ws::msgflag::kWaitall);
  EXPECT_EQ(ws::flags_to_platform(ConstTable::MsgFlags, Platform::Linux, ws::msgflag::kWaitall),
            0x100u);
  EXPECT_EQ(ws::flags_to_platform(ConstTable::MsgFlags, Platform::Windows, ws::msgflag::kWaitall),
            0x8u);
  const uint64_t f = ws::to_flags(ConstTable::MsgFlags, Platform::Linux, 0x2 | 0x100 | 0x4000);
  EXPECT_EQ(f, ws::msgflag::kPeek | ws::msgflag::kWaitall | ws::msgflag::kNosignal);
  EXPECT_EQ(ws::flags_name(ConstTable::MsgFlags, f), "MSG_PEEK|MSG_WAITALL|MSG_NOSIGNAL");
  EXPECT_EQ(ws::flags_name(ConstTable::MsgFlags, 0), "0");
  // Windows MSG_PARTIAL has no Linux number: it is dropped when writing Linux flags.
  EXPECT_EQ(ws::to_flags(ConstTable::MsgFlags, Platform::Windows, 0x8000), ws::msgflag::kPartial);
  EXPECT_EQ(ws::flags_to_platform(ConstTable::MsgFlags, Platform::Linux, ws::msgflag::kPartial),
            0u);
}

TEST(Consts, UnknownFlagBitsAreKept) {
  const uint64_t f = ws::to_flags(ConstTable::MsgFlags, Platform::Windows, 0x40000000);
  EXPECT_EQ(f, uint64_t{0x40000000} << 32);
  EXPECT_EQ(ws::flags_name(ConstTable::MsgFlags, f), "MSG_" Q "(0x40000000)");
  EXPECT_EQ(ws::flags_to_platform(ConstTable::MsgFlags, Platform::Windows, f), 0x40000000u);
  const uint64_t g = ws::to_flags(ConstTable::MsgFlags, Platform::Linux, 0x2 | 0x80000000u);
  EXPECT_EQ(ws::flags_name(ConstTable::MsgFlags, g), "MSG_PEEK|MSG_" Q "(0x80000000)");
  EXPECT_EQ(ws::flags_to_platform(ConstTable::MsgFlags, Platform::Linux, g), 0x80000002u);
  // A sign-extended int keeps only its 32 bits.
  EXPECT_EQ(ws::to_flags(ConstTable::AiFlags, Platform::Windows,
                         static_cast<uint64_t>(int64_t{-2147483647 - 1})),
            ws::aiflag::kExtended);
  EXPECT_EQ(ws::flags_name(ConstTable::PollEvents, uint64_t{1} << 20), "POLL" Q "(bit 20)");
}

TEST(Consts, WindowsPollEventsWithSeveralBits) {
  // WSAPoll: POLLIN = POLLRDNORM|POLLRDBAND (0x300), POLLOUT = POLLWRNORM (0x10).
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Windows, 0x300), ws::pollev::kIn);
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Windows, 0x100), ws::pollev::kRdnorm);
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Windows, 0x10), ws::pollev::kOut);
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Windows, 0x313),
            ws::pollev::kIn | ws::pollev::kOut | ws::pollev::kErr | ws::pollev::kHup);
  EXPECT_EQ(ws::flags_to_platform(ConstTable::PollEvents, Platform::Windows, ws::pollev::kIn),
            0x300u);
  EXPECT_EQ(ws::flags_to_platform(ConstTable::PollEvents, Platform::Linux, ws::pollev::kIn), 0x1u);
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Linux, 0x2000), ws::pollev::kRdhup);
  EXPECT_EQ(ws::flags_name(ConstTable::PollEvents, ws::pollev::kIn | ws::pollev::kHup),
            "POLLIN|POLLHUP");
}

TEST(Consts, EveryFlagRoundTrips) {
  for (ConstTable t : kAllTables) {
    if (!ws::is_flags(t)) continue;
    for (const ws::ConstInfo& e : ws::table_entries(t)) {
      for (Platform p : {Platform::Linux, Platform::Windows}) {
        const int64_t v = value_on(e, p);
        if (v == kAbsent) continue;
        const uint64_t flags = ws::to_flags(t, p, static_cast<uint64_t>(v));
        EXPECT_EQ(flags >> 32, 0u) << e.name;  // nothing left over
        EXPECT_EQ(ws::flags_to_platform(t, p, flags), static_cast<uint64_t>(v)) << e.name;
        EXPECT_EQ(ws::flags_to_platform(t, p, uint64_t{1} << e.code), static_cast<uint64_t>(v))
            << e.name;
      }
    }
  }
}

TEST(Consts, SocketOptionsDependOnTheLevel) {
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, 1, 2), ws::sockopt::kSoReuseaddr);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 0xffff, 4), ws::sockopt::kSoReuseaddr);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, 6, 1), ws::sockopt::kTcpNodelay);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 6, 1), ws::sockopt::kTcpNodelay);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, 0, 1), ws::sockopt::kIpTos);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 0, 3), ws::sockopt::kIpTos);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, 41, 26), ws::sockopt::kIpv6V6only);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 41, 27), ws::sockopt::kIpv6V6only);
  // SO_EXCLUSIVEADDRUSE is ~SO_REUSEADDR: found whether it comes sign- or zero-extended.
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 0xffff, -5), ws::sockopt::kSoExclusiveaddruse);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, 0xffff, 0xfffffffb),
            ws::sockopt::kSoExclusiveaddruse);
  EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, Platform::Windows,
                            ws::sockopt::kSoExclusiveaddruse),
            -5);
  EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, Platform::Linux, ws::sockopt::kSoReuseaddr), 2);
  EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, Platform::Windows, ws::sockopt::kSoReuseaddr), 4);
  EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, Platform::Linux,
                            ws::sockopt::kSoUpdateAcceptContext),
            kAbsent);
}

TEST(Consts, UnknownSocketOptionsPrintWithTheirLevel) {
  const uint64_t tcp99 = ws::sockopt_to_code(Platform::Linux, 6, 99);
  EXPECT_NE(tcp99 & kUnknownCode, 0u);
  EXPECT_EQ(static_cast<uint32_t>(tcp99), 99u);
  EXPECT_EQ(ws::code_name(ConstTable::SockOpt, tcp99), "TCP_" Q "(99)");
  EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, Platform::Linux, tcp99), 99);
  EXPECT_EQ(ws::code_name(ConstTable::SockOpt, ws::sockopt_to_code(Platform::Windows, 0xffff,
                                                                   0x7777)),
            "SO_" Q "(30583)");
  EXPECT_EQ(ws::code_name(ConstTable::SockOpt, ws::sockopt_to_code(Platform::Linux, 12345, 5)),
            "SOCKOPT_" Q "(5)");
  // Linux SOL_SOCKET (1) is not a level on Windows.
  EXPECT_EQ(ws::code_name(ConstTable::SockOpt, ws::sockopt_to_code(Platform::Windows, 1, 2)),
            "SOCKOPT_" Q "(2)");
  // A bare option number cannot be decoded without its level.
  EXPECT_EQ(ws::to_code(ConstTable::SockOpt, Platform::Linux, 2), kUnknownCode | 2u);
}

TEST(Consts, EverySocketOptionRoundTrips) {
  for (const ws::ConstInfo& e : ws::table_entries(ConstTable::SockOpt)) {
    for (Platform p : {Platform::Linux, Platform::Windows}) {
      const int64_t v = value_on(e, p);
      const int64_t level = ws::to_platform(ConstTable::SockOptLevel, p, e.level);
      if (v == kAbsent) continue;
      ASSERT_NE(level, kAbsent) << e.name << " has a value where its level does not exist";
      EXPECT_EQ(ws::sockopt_to_code(p, level, v), e.code) << e.name;
      EXPECT_EQ(ws::to_platform(ConstTable::SockOpt, p, e.code), v) << e.name;
    }
  }
}

TEST(Consts, IoctlCodes) {
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Windows, 0xC8000006),
            ws::ioctl::kSioGetExtensionFunctionPointer);
  // The same DWORD seen through a signed int.
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Windows, -939524090),
            ws::ioctl::kSioGetExtensionFunctionPointer);
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Linux, 0x5421), ws::ioctl::kFionbio);
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Windows, 0x8004667E), ws::ioctl::kFionbio);
  EXPECT_EQ(ws::to_platform(ConstTable::Ioctl, Platform::Windows, ws::ioctl::kFionbio),
            0x8004667E);
  EXPECT_EQ(ws::to_platform(ConstTable::Ioctl, Platform::Linux, ws::ioctl::kFionread), 0x541B);
  const uint64_t unknown = ws::to_code(ConstTable::Ioctl, Platform::Windows, -1744830209);
  EXPECT_EQ(ws::code_name(ConstTable::Ioctl, unknown), "IOCTL_" Q "(0x980000ff)");
  EXPECT_EQ(ws::to_platform(ConstTable::Ioctl, Platform::Windows, unknown), 0x980000FF);
  // Out of 32-bit range: unknown, never a false match.
  EXPECT_NE(ws::to_code(ConstTable::Ioctl, Platform::Linux, int64_t{0x5421} + (int64_t{1} << 32))
                & kUnknownCode,
            0u);
}

TEST(Consts, ShutdownHow) {
  EXPECT_EQ(ws::to_code(ConstTable::ShutdownHow, Platform::Linux, 1), ws::shut::kWr);
  EXPECT_EQ(ws::to_code(ConstTable::ShutdownHow, Platform::Windows, 2), ws::shut::kRdwr);
  EXPECT_EQ(ws::code_name(ConstTable::ShutdownHow, ws::shut::kRd), "SHUT_RD");
}

// ---- Errors --------------------------------------------------------------------------------

TEST(Errors, FindByName) {
  const ws::ErrorInfo* e = ws::find_error("WSAECONNRESET");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->domain, ErrDomain::Win);
  EXPECT_EQ(e->value, 10054);
  EXPECT_EQ(e->posix, "ECONNRESET");
  EXPECT_EQ(ws::find_error("wsaeconnreset"), e);
  EXPECT_EQ(ws::find_error("WsaEConnReset"), e);

  const ws::ErrorInfo* refused = ws::find_error("ECONNREFUSED");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ(refused->domain, ErrDomain::Errno);
  EXPECT_EQ(refused->value, 111);
  EXPECT_EQ(refused->posix, "");

  const ws::ErrorInfo* eai = ws::find_error("EAI_NONAME");
  ASSERT_NE(eai, nullptr);
  EXPECT_EQ(eai->domain, ErrDomain::Eai);
  EXPECT_EQ(eai->value, -2);
  EXPECT_NE(eai->hint.find("WSAHOST_NOT_FOUND"), std::string_view::npos);

  const ws::ErrorInfo* host = ws::find_error("HOST_NOT_FOUND");
  ASSERT_NE(host, nullptr);
  EXPECT_EQ(host->domain, ErrDomain::HErrno);
  EXPECT_EQ(host->value, 1);

  EXPECT_EQ(ws::find_error(""), nullptr);
  EXPECT_EQ(ws::find_error("NOT_AN_ERROR"), nullptr);
  EXPECT_EQ(ws::find_error(std::string(200, 'E')), nullptr);
}

TEST(Errors, AliasesFindTheCanonicalEntry) {
  const ws::ErrorInfo* again = ws::find_error("EAGAIN");
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(ws::find_error("EWOULDBLOCK"), again);
  EXPECT_EQ(ws::find_error("ewouldblock"), again);
  // The aliases are listed, each with its entry, and no name is listed as its own alias.
  bool listed = false;
  for (const ws::ErrorAlias& a : ws::error_aliases()) {
    EXPECT_NE(a.name, a.error->name);
    EXPECT_EQ(ws::find_error(a.name), a.error) << a.name;
    listed = listed || (a.name == "EWOULDBLOCK" && a.error == again);
  }
  EXPECT_TRUE(listed);
  const ws::ErrorInfo* notsup = ws::find_error("ENOTSUP");
  ASSERT_NE(notsup, nullptr);
  EXPECT_EQ(notsup->name, "EOPNOTSUPP");
  EXPECT_EQ(ws::find_error("EDEADLOCK"), ws::find_error("EDEADLK"));
  const ws::ErrorInfo* pending = ws::find_error("ERROR_IO_PENDING");
  ASSERT_NE(pending, nullptr);
  EXPECT_EQ(pending->name, "WSA_IO_PENDING");
  EXPECT_EQ(pending->value, 997);
  EXPECT_EQ(ws::find_error("ERROR_OPERATION_ABORTED"), ws::find_error("WSA_OPERATION_ABORTED"));
  EXPECT_EQ(ws::find_error("NO_ADDRESS"), ws::find_error("NO_DATA"));
}

TEST(Errors, FindByCode) {
  const ws::ErrorInfo* e = ws::find_error(ErrorCode{ErrDomain::Win, 10060});
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->name, "WSAETIMEDOUT");
  EXPECT_EQ(e->posix, "ETIMEDOUT");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Errno, 110})->name, "ETIMEDOUT");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Eai, -3})->name, "EAI_AGAIN");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::HErrno, 2})->name, "TRY_AGAIN");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Win, 6})->name, "WSA_INVALID_HANDLE");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Win, 1225})->name, "ERROR_CONNECTION_REFUSED");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Errno, 41}), nullptr);  // unused number
  EXPECT_EQ(ws::find_error(ErrorCode{}), nullptr);
  for (const ws::ErrorInfo& info : ws::all_errors()) {
    EXPECT_EQ(ws::find_error(ErrorCode{info.domain, info.value}), &info) << info.name;
    EXPECT_EQ(ws::find_error(info.name), &info) << info.name;
    EXPECT_EQ(ws::error_name(ErrorCode{info.domain, info.value}), info.name);
  }
}

TEST(Errors, FindByValueAcrossDomains) {
  auto names = [](int64_t v) {
    std::vector<std::string> out;
    for (const ws::ErrorInfo* e : ws::find_errors_by_value(v)) out.emplace_back(e->name);
    return out;
  };
  EXPECT_EQ(names(10060), std::vector<std::string>{"WSAETIMEDOUT"});
  EXPECT_EQ(names(2), (std::vector<std::string>{"ENOENT", "ERROR_FILE_NOT_FOUND", "EAI_NONAME",
                                                "TRY_AGAIN"}));
  EXPECT_EQ(names(-2), std::vector<std::string>{"EAI_NONAME"});
  EXPECT_EQ(names(11001), std::vector<std::string>{"WSAHOST_NOT_FOUND"});
  EXPECT_EQ(names(-1), (std::vector<std::string>{"EAI_BADFLAGS", "NETDB_INTERNAL"}));
  EXPECT_TRUE(names(424242).empty());
}

TEST(Errors, UnknownCodesPrintTheirNumber) {
  EXPECT_EQ(ws::error_name(ErrorCode{ErrDomain::Errno, 999}), "E" Q "(999)");
  EXPECT_EQ(ws::error_name(ErrorCode{ErrDomain::Win, 12345}), "WSA" Q "(12345)");
  EXPECT_EQ(ws::error_name(ErrorCode{ErrDomain::Eai, -99}), "EAI_" Q "(-99)");
  EXPECT_EQ(ws::error_name(ErrorCode{ErrDomain::HErrno, 9}), "NETDB_" Q "(9)");
#undef Q
  EXPECT_EQ(ws::error_name(ErrorCode{}), "OK");
  EXPECT_EQ(ws::error_name(ErrorCode{ErrDomain::Win, 10054}), "WSAECONNRESET");
}

TEST(Errors, PackUnpackRoundTrip) {
  EXPECT_EQ(ErrorCode{}.pack(), 0u);
  EXPECT_TRUE(ErrorCode::unpack(0).ok());
  EXPECT_EQ((ErrorCode{ErrDomain::None, 5}.pack()), 0u);
  for (const ws::ErrorInfo& info : ws::all_errors()) {
    const ErrorCode c{info.domain, info.value};
    EXPECT_NE(c.pack(), 0u);
    EXPECT_EQ(ErrorCode::unpack(c.pack()), c) << info.name;
  }
  for (ErrDomain d : {ErrDomain::Errno, ErrDomain::Win, ErrDomain::Eai, ErrDomain::HErrno}) {
    for (int32_t v : {0, 1, -1, 424242, -2147483647 - 1, 2147483647}) {
      const ErrorCode c{d, v};
      EXPECT_EQ(ErrorCode::unpack(c.pack()), c);
    }
  }
  EXPECT_TRUE(ErrorCode::unpack(uint64_t{9} << 32 | 5).ok());
  EXPECT_TRUE(ErrorCode::unpack(~uint64_t{0}).ok());
}

TEST(Errors, EveryErrorIsExplained) {
  std::set<std::string_view> names;
  const auto all = ws::all_errors();
  ASSERT_GT(all.size(), 250u);
  for (std::size_t i = 0; i < all.size(); ++i) {
    const ws::ErrorInfo& e = all[i];
    EXPECT_FALSE(e.name.empty());
    EXPECT_FALSE(e.meaning.empty()) << e.name;
    EXPECT_FALSE(e.hint.empty()) << e.name;
    EXPECT_NE(e.domain, ErrDomain::None) << e.name;
    EXPECT_TRUE(names.insert(e.name).second) << e.name;
    if (i > 0) {
      const ws::ErrorInfo& p = all[i - 1];
      EXPECT_TRUE(p.domain < e.domain || (p.domain == e.domain && p.value < e.value)) << e.name;
    }
    if (!e.posix.empty()) {
      EXPECT_EQ(e.domain, ErrDomain::Win) << e.name;
      const ws::ErrorInfo* posix = ws::find_error(e.posix);
      ASSERT_NE(posix, nullptr) << e.name << " -> " << e.posix;
      EXPECT_NE(posix->domain, ErrDomain::Win) << e.name;
    }
  }
  EXPECT_EQ(ws::domain_name(ErrDomain::Errno), "errno");
  EXPECT_EQ(ws::domain_name(ErrDomain::Win), "Winsock/Win32");
  EXPECT_EQ(ws::domain_name(ErrDomain::Eai), "getaddrinfo");
  EXPECT_EQ(ws::domain_name(ErrDomain::HErrno), "h_errno");
}

TEST(Errors, RequiredEntriesExist) {
  const std::pair<const char*, int32_t> win[] = {
      {"WSAEINTR", 10004},          {"WSAEREFUSED", 10112},       {"WSAHOST_NOT_FOUND", 11001},
      {"WSATRY_AGAIN", 11002},      {"WSANO_RECOVERY", 11003},    {"WSANO_DATA", 11004},
      {"WSA_QOS_RECEIVERS", 11005}, {"WSA_QOS_RESERVED_PETYPE", 11031},
      {"WSA_IO_PENDING", 997},      {"WSA_IO_INCOMPLETE", 996},   {"WSA_INVALID_HANDLE", 6},
      {"WSA_INVALID_PARAMETER", 87}, {"WSA_NOT_ENOUGH_MEMORY", 8}, {"WSA_OPERATION_ABORTED", 995},
      {"ERROR_FILE_NOT_FOUND", 2},  {"ERROR_ACCESS_DENIED", 5},   {"ERROR_NETNAME_DELETED", 64},
      {"ERROR_SEM_TIMEOUT", 121},   {"ERROR_CONNECTION_REFUSED", 1225},
      {"ERROR_CONNECTION_ABORTED", 1236}, {"ERROR_NETWORK_UNREACHABLE", 1231},
      {"ERROR_HOST_UNREACHABLE", 1232}, {"ERROR_PORT_UNREACHABLE", 1234}, {"ERROR_TIMEOUT", 1460},
  };
  for (const auto& [name, value] : win) {
    const ws::ErrorInfo* e = ws::find_error(name);
    ASSERT_NE(e, nullptr) << name;
    EXPECT_EQ(e->domain, ErrDomain::Win) << name;
    EXPECT_EQ(e->value, value) << name;
  }
  for (int32_t v = 11005; v <= 11031; ++v) {
    EXPECT_NE(ws::find_error(ErrorCode{ErrDomain::Win, v}), nullptr) << v;
  }
  for (int32_t v = 1; v <= 133; ++v) {
    if (v == 41 || v == 58) continue;  // numbers Linux never assigned
    EXPECT_NE(ws::find_error(ErrorCode{ErrDomain::Errno, v}), nullptr) << v;
  }
  for (int32_t v = -1; v >= -12; --v) {
    EXPECT_NE(ws::find_error(ErrorCode{ErrDomain::Eai, v}), nullptr) << v;
  }
  for (int32_t v = 1; v <= 4; ++v) {
    EXPECT_NE(ws::find_error(ErrorCode{ErrDomain::HErrno, v}), nullptr) << v;
  }
}

// ---- The data against the platform's own headers ------------------------------------------

struct Expected {
  ConstTable table;
  const char* name;
  long long value;
};

struct ExpectedOpt {
  const char* name;
  long long level;
  long long value;
};

struct ExpectedErr {
  const char* name;
  long long value;
};

#define C(table, name) Expected{ConstTable::table, #name, static_cast<long long>(name)}
#define CN(table, name, macro) Expected{ConstTable::table, #name, static_cast<long long>(macro)}
#define O(level, name) \
  ExpectedOpt{#name, static_cast<long long>(level), static_cast<long long>(name)}
#define E(name) ExpectedErr{#name, static_cast<long long>(name)}

// Checks every expectation, then that no entry with a value on `platform` went unchecked
// (apart from `unchecked`, the names the platform headers here do not define).
void check_against_headers(Platform platform, const std::vector<Expected>& consts,
                           const std::vector<ExpectedOpt>& opts,
                           const std::vector<ExpectedErr>& errs,
                           const std::set<std::string_view>& unchecked,
                           const std::set<ErrDomain>& domains) {
  std::set<std::string_view> checked;
  for (const Expected& x : consts) {
    const ws::ConstInfo* e = entry(x.table, x.name);
    ASSERT_NE(e, nullptr) << x.name;
    EXPECT_EQ(value_on(*e, platform), x.value) << x.name;
    checked.insert(x.name);
  }
  for (const ExpectedOpt& x : opts) {
    const ws::ConstInfo* e = entry(ConstTable::SockOpt, x.name);
    ASSERT_NE(e, nullptr) << x.name;
    EXPECT_EQ(value_on(*e, platform), x.value) << x.name;
    EXPECT_EQ(ws::to_platform(ConstTable::SockOptLevel, platform, e->level), x.level) << x.name;
    EXPECT_EQ(ws::sockopt_to_code(platform, x.level, x.value), e->code) << x.name;
    checked.insert(x.name);
  }
  for (ConstTable t : kAllTables) {
    for (const ws::ConstInfo& e : ws::table_entries(t)) {
      if (value_on(e, platform) == kAbsent || unchecked.count(e.name) != 0) continue;
      EXPECT_EQ(checked.count(e.name), 1u) << e.name << " is not checked against a header";
    }
  }
  std::set<std::string_view> checked_errs;
  for (const ExpectedErr& x : errs) {
    const ws::ErrorInfo* e = ws::find_error(x.name);
    ASSERT_NE(e, nullptr) << x.name;
    EXPECT_EQ(domains.count(e->domain), 1u) << x.name;
    EXPECT_EQ(e->value, x.value) << x.name;
    checked_errs.insert(e->name);
  }
  for (const ws::ErrorInfo& e : ws::all_errors()) {
    if (domains.count(e.domain) == 0) continue;
    EXPECT_EQ(checked_errs.count(e.name), 1u) << e.name << " is not checked against a header";
  }
}

#if defined(__linux__)

TEST(PlatformHeaders, LinuxValuesMatch) {
  const std::vector<Expected> consts = {
    C(AddrFamily, AF_UNSPEC),
    C(AddrFamily, AF_UNIX),
    C(AddrFamily, AF_INET),
    C(AddrFamily, AF_INET6),
    C(AddrFamily, AF_NETLINK),
    C(AddrFamily, AF_PACKET),
    C(AddrFamily, AF_BLUETOOTH),
    C(AddrFamily, AF_IRDA),
    C(AddrFamily, AF_APPLETALK),
    C(AddrFamily, AF_IPX),
    C(AddrFamily, AF_VSOCK),
    C(AddrFamily, AF_SNA),
    C(AddrFamily, AF_DECnet),
    C(AddrFamily, AF_AX25),
    C(AddrFamily, AF_NETROM),
    C(AddrFamily, AF_BRIDGE),
    C(AddrFamily, AF_ATMPVC),
    C(AddrFamily, AF_X25),
    C(AddrFamily, AF_ROSE),
    C(AddrFamily, AF_NETBEUI),
    C(AddrFamily, AF_SECURITY),
    C(AddrFamily, AF_KEY),
    C(AddrFamily, AF_ASH),
    C(AddrFamily, AF_ECONET),
    C(AddrFamily, AF_ATMSVC),
    C(AddrFamily, AF_RDS),
    C(AddrFamily, AF_PPPOX),
    C(AddrFamily, AF_WANPIPE),
    C(AddrFamily, AF_LLC),
    C(AddrFamily, AF_IB),
    C(AddrFamily, AF_MPLS),
    C(AddrFamily, AF_CAN),
    C(AddrFamily, AF_TIPC),
    C(AddrFamily, AF_IUCV),
    C(AddrFamily, AF_RXRPC),
    C(AddrFamily, AF_ISDN),
    C(AddrFamily, AF_PHONET),
    C(AddrFamily, AF_IEEE802154),
    C(AddrFamily, AF_CAIF),
    C(AddrFamily, AF_ALG),
    C(AddrFamily, AF_NFC),
    C(AddrFamily, AF_KCM),
    C(AddrFamily, AF_QIPCRTR),
    C(AddrFamily, AF_SMC),
    C(AddrFamily, AF_XDP),
    C(AddrFamily, AF_MCTP),
    C(SockType, SOCK_STREAM),
    C(SockType, SOCK_DGRAM),
    C(SockType, SOCK_RAW),
    C(SockType, SOCK_RDM),
    C(SockType, SOCK_SEQPACKET),
    C(SockType, SOCK_DCCP),
    C(SockType, SOCK_PACKET),
    C(SockTypeFlags, SOCK_NONBLOCK),
    C(SockTypeFlags, SOCK_CLOEXEC),
    C(Protocol, IPPROTO_IP),
    C(Protocol, IPPROTO_ICMP),
    C(Protocol, IPPROTO_IGMP),
    C(Protocol, IPPROTO_TCP),
    C(Protocol, IPPROTO_UDP),
    C(Protocol, IPPROTO_IPV6),
    C(Protocol, IPPROTO_ICMPV6),
    C(Protocol, IPPROTO_RAW),
    C(Protocol, IPPROTO_SCTP),
    C(Protocol, IPPROTO_UDPLITE),
    C(Protocol, IPPROTO_MPTCP),
    C(Protocol, IPPROTO_IPIP),
    C(Protocol, IPPROTO_EGP),
    C(Protocol, IPPROTO_PUP),
    C(Protocol, IPPROTO_IDP),
    C(Protocol, IPPROTO_TP),
    C(Protocol, IPPROTO_DCCP),
    C(Protocol, IPPROTO_RSVP),
    C(Protocol, IPPROTO_GRE),
    C(Protocol, IPPROTO_ESP),
    C(Protocol, IPPROTO_AH),
    C(Protocol, IPPROTO_ROUTING),
    C(Protocol, IPPROTO_FRAGMENT),
    C(Protocol, IPPROTO_NONE),
    C(Protocol, IPPROTO_DSTOPTS),
    C(Protocol, IPPROTO_MTP),
    C(Protocol, IPPROTO_BEETPH),
    C(Protocol, IPPROTO_ENCAP),
    C(Protocol, IPPROTO_PIM),
    C(Protocol, IPPROTO_COMP),
    C(Protocol, IPPROTO_MH),
    C(Protocol, IPPROTO_MPLS),
    C(Protocol, IPPROTO_ETHERNET),
    C(MsgFlags, MSG_OOB),
    C(MsgFlags, MSG_PEEK),
    C(MsgFlags, MSG_DONTROUTE),
    C(MsgFlags, MSG_CTRUNC),
    C(MsgFlags, MSG_PROXY),
    C(MsgFlags, MSG_TRUNC),
    C(MsgFlags, MSG_DONTWAIT),
    C(MsgFlags, MSG_EOR),
    C(MsgFlags, MSG_WAITALL),
    C(MsgFlags, MSG_FIN),
    C(MsgFlags, MSG_SYN),
    C(MsgFlags, MSG_CONFIRM),
    C(MsgFlags, MSG_RST),
    C(MsgFlags, MSG_ERRQUEUE),
    C(MsgFlags, MSG_NOSIGNAL),
    C(MsgFlags, MSG_MORE),
    C(MsgFlags, MSG_WAITFORONE),
    C(MsgFlags, MSG_BATCH),
    C(MsgFlags, MSG_ZEROCOPY),
    C(MsgFlags, MSG_FASTOPEN),
    C(MsgFlags, MSG_CMSG_CLOEXEC),
    C(SockOptLevel, SOL_SOCKET),
    C(SockOptLevel, IPPROTO_IP),
    C(SockOptLevel, IPPROTO_IPV6),
    C(SockOptLevel, IPPROTO_TCP),
    C(SockOptLevel, IPPROTO_UDP),
    C(SockOptLevel, IPPROTO_ICMPV6),
    C(SockOptLevel, IPPROTO_RAW),
    C(SockOptLevel, IPPROTO_SCTP),
    C(SockOptLevel, IPPROTO_UDPLITE),
    C(SockOptLevel, SOL_PACKET),
    C(SockOptLevel, SOL_NETLINK),
    C(SockOptLevel, SOL_TLS),
    C(SockOptLevel, SOL_ALG),
    C(SockOptLevel, SOL_MPTCP),
    C(ShutdownHow, SHUT_RD),
    C(ShutdownHow, SHUT_WR),
    C(ShutdownHow, SHUT_RDWR),
    C(AiFlags, AI_PASSIVE),
    C(AiFlags, AI_CANONNAME),
    C(AiFlags, AI_NUMERICHOST),
    C(AiFlags, AI_V4MAPPED),
    C(AiFlags, AI_ALL),
    C(AiFlags, AI_ADDRCONFIG),
    C(AiFlags, AI_NUMERICSERV),
    C(AiFlags, AI_IDN),
    C(AiFlags, AI_CANONIDN),
    C(PollEvents, POLLIN),
    C(PollEvents, POLLPRI),
    C(PollEvents, POLLOUT),
    C(PollEvents, POLLERR),
    C(PollEvents, POLLHUP),
    C(PollEvents, POLLNVAL),
    C(PollEvents, POLLRDNORM),
    C(PollEvents, POLLRDBAND),
    C(PollEvents, POLLWRNORM),
    C(PollEvents, POLLWRBAND),
    C(PollEvents, POLLMSG),
    C(PollEvents, POLLREMOVE),
    C(PollEvents, POLLRDHUP),
    C(Ioctl, FIONBIO),
    C(Ioctl, FIONREAD),
    C(Ioctl, FIOASYNC),
    C(Ioctl, SIOCATMARK),
    C(Ioctl, SIOCOUTQ),
    C(Ioctl, F_GETFL),
    C(Ioctl, F_SETFL),
    C(Ioctl, SIOCOUTQNSD),
    C(Ioctl, SIOCGSTAMP),
    C(Ioctl, SIOCGSTAMPNS),
    C(Ioctl, FIOCLEX),
    C(Ioctl, FIONCLEX),
    C(Ioctl, FIOSETOWN),
    C(Ioctl, SIOCSPGRP),
    C(Ioctl, FIOGETOWN),
    C(Ioctl, SIOCGPGRP),
    C(Ioctl, SIOCGIFNAME),
    C(Ioctl, SIOCGIFCONF),
    C(Ioctl, SIOCGIFFLAGS),
    C(Ioctl, SIOCSIFFLAGS),
    C(Ioctl, SIOCGIFADDR),
    C(Ioctl, SIOCGIFDSTADDR),
    C(Ioctl, SIOCGIFBRDADDR),
    C(Ioctl, SIOCGIFNETMASK),
    C(Ioctl, SIOCGIFMTU),
    C(Ioctl, SIOCGIFHWADDR),
    C(Ioctl, SIOCGIFINDEX),
    C(Ioctl, SIOCGIFTXQLEN),
    C(Ioctl, SIOCETHTOOL),
  };
  const std::vector<ExpectedOpt> opts = {
    O(SOL_SOCKET, SO_DEBUG),
    O(SOL_SOCKET, SO_REUSEADDR),
    O(SOL_SOCKET, SO_TYPE),
    O(SOL_SOCKET, SO_ERROR),
    O(SOL_SOCKET, SO_DONTROUTE),
    O(SOL_SOCKET, SO_BROADCAST),
    O(SOL_SOCKET, SO_SNDBUF),
    O(SOL_SOCKET, SO_RCVBUF),
    O(SOL_SOCKET, SO_KEEPALIVE),
    O(SOL_SOCKET, SO_OOBINLINE),
    O(SOL_SOCKET, SO_LINGER),
    O(SOL_SOCKET, SO_REUSEPORT),
    O(SOL_SOCKET, SO_RCVLOWAT),
    O(SOL_SOCKET, SO_SNDLOWAT),
    O(SOL_SOCKET, SO_RCVTIMEO),
    O(SOL_SOCKET, SO_SNDTIMEO),
    O(SOL_SOCKET, SO_ACCEPTCONN),
    O(SOL_SOCKET, SO_NO_CHECK),
    O(SOL_SOCKET, SO_PRIORITY),
    O(SOL_SOCKET, SO_PASSCRED),
    O(SOL_SOCKET, SO_PEERCRED),
    O(SOL_SOCKET, SO_BINDTODEVICE),
    O(SOL_SOCKET, SO_ATTACH_FILTER),
    O(SOL_SOCKET, SO_DETACH_FILTER),
    O(SOL_SOCKET, SO_PEERNAME),
    O(SOL_SOCKET, SO_TIMESTAMP),
    O(SOL_SOCKET, SO_PEERSEC),
    O(SOL_SOCKET, SO_SNDBUFFORCE),
    O(SOL_SOCKET, SO_RCVBUFFORCE),
    O(SOL_SOCKET, SO_PASSSEC),
    O(SOL_SOCKET, SO_TIMESTAMPNS),
    O(SOL_SOCKET, SO_MARK),
    O(SOL_SOCKET, SO_TIMESTAMPING),
    O(SOL_SOCKET, SO_PROTOCOL),
    O(SOL_SOCKET, SO_DOMAIN),
    O(SOL_SOCKET, SO_RXQ_OVFL),
    O(SOL_SOCKET, SO_PEEK_OFF),
    O(SOL_SOCKET, SO_BUSY_POLL),
    O(SOL_SOCKET, SO_MAX_PACING_RATE),
    O(SOL_SOCKET, SO_INCOMING_CPU),
    O(SOL_SOCKET, SO_ATTACH_BPF),
    O(SOL_SOCKET, SO_COOKIE),
    O(SOL_SOCKET, SO_ZEROCOPY),
    O(SOL_SOCKET, SO_TXTIME),
    O(SOL_SOCKET, SO_BINDTOIFINDEX),
    O(SOL_SOCKET, SO_RCVTIMEO_NEW),
    O(SOL_SOCKET, SO_SNDTIMEO_NEW),
    O(IPPROTO_IP, IP_TOS),
    O(IPPROTO_IP, IP_TTL),
    O(IPPROTO_IP, IP_HDRINCL),
    O(IPPROTO_IP, IP_OPTIONS),
    O(IPPROTO_IP, IP_ROUTER_ALERT),
    O(IPPROTO_IP, IP_RECVOPTS),
    O(IPPROTO_IP, IP_RETOPTS),
    O(IPPROTO_IP, IP_PKTINFO),
    O(IPPROTO_IP, IP_MTU_DISCOVER),
    O(IPPROTO_IP, IP_RECVERR),
    O(IPPROTO_IP, IP_RECVTTL),
    O(IPPROTO_IP, IP_RECVTOS),
    O(IPPROTO_IP, IP_MTU),
    O(IPPROTO_IP, IP_FREEBIND),
    O(IPPROTO_IP, IP_TRANSPARENT),
    O(IPPROTO_IP, IP_ORIGDSTADDR),
    O(IPPROTO_IP, IP_MINTTL),
    O(IPPROTO_IP, IP_NODEFRAG),
    O(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT),
    O(IPPROTO_IP, IP_MULTICAST_IF),
    O(IPPROTO_IP, IP_MULTICAST_TTL),
    O(IPPROTO_IP, IP_MULTICAST_LOOP),
    O(IPPROTO_IP, IP_ADD_MEMBERSHIP),
    O(IPPROTO_IP, IP_DROP_MEMBERSHIP),
    O(IPPROTO_IP, IP_UNBLOCK_SOURCE),
    O(IPPROTO_IP, IP_BLOCK_SOURCE),
    O(IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP),
    O(IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP),
    O(IPPROTO_IP, IP_MSFILTER),
    O(IPPROTO_IP, IP_MULTICAST_ALL),
    O(IPPROTO_IP, IP_UNICAST_IF),
    O(IPPROTO_IPV6, IPV6_ADDRFORM),
    O(IPPROTO_IPV6, IPV6_CHECKSUM),
    O(IPPROTO_IPV6, IPV6_UNICAST_HOPS),
    O(IPPROTO_IPV6, IPV6_MULTICAST_IF),
    O(IPPROTO_IPV6, IPV6_MULTICAST_HOPS),
    O(IPPROTO_IPV6, IPV6_MULTICAST_LOOP),
    O(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP),
    O(IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP),
    O(IPPROTO_IPV6, IPV6_ROUTER_ALERT),
    O(IPPROTO_IPV6, IPV6_MTU_DISCOVER),
    O(IPPROTO_IPV6, IPV6_MTU),
    O(IPPROTO_IPV6, IPV6_RECVERR),
    O(IPPROTO_IPV6, IPV6_V6ONLY),
    O(IPPROTO_IPV6, IPV6_JOIN_ANYCAST),
    O(IPPROTO_IPV6, IPV6_LEAVE_ANYCAST),
    O(IPPROTO_IPV6, IPV6_MULTICAST_ALL),
    O(IPPROTO_IPV6, IPV6_HDRINCL),
    O(IPPROTO_IPV6, IPV6_RECVPKTINFO),
    O(IPPROTO_IPV6, IPV6_PKTINFO),
    O(IPPROTO_IPV6, IPV6_RECVHOPLIMIT),
    O(IPPROTO_IPV6, IPV6_HOPLIMIT),
    O(IPPROTO_IPV6, IPV6_HOPOPTS),
    O(IPPROTO_IPV6, IPV6_RECVRTHDR),
    O(IPPROTO_IPV6, IPV6_RTHDR),
    O(IPPROTO_IPV6, IPV6_DONTFRAG),
    O(IPPROTO_IPV6, IPV6_RECVTCLASS),
    O(IPPROTO_IPV6, IPV6_TCLASS),
    O(IPPROTO_IPV6, IPV6_TRANSPARENT),
    O(IPPROTO_IPV6, IPV6_UNICAST_IF),
    O(IPPROTO_IPV6, IPV6_FREEBIND),
    O(IPPROTO_TCP, TCP_NODELAY),
    O(IPPROTO_TCP, TCP_MAXSEG),
    O(IPPROTO_TCP, TCP_CORK),
    O(IPPROTO_TCP, TCP_KEEPIDLE),
    O(IPPROTO_TCP, TCP_KEEPINTVL),
    O(IPPROTO_TCP, TCP_KEEPCNT),
    O(IPPROTO_TCP, TCP_SYNCNT),
    O(IPPROTO_TCP, TCP_LINGER2),
    O(IPPROTO_TCP, TCP_DEFER_ACCEPT),
    O(IPPROTO_TCP, TCP_WINDOW_CLAMP),
    O(IPPROTO_TCP, TCP_INFO),
    O(IPPROTO_TCP, TCP_QUICKACK),
    O(IPPROTO_TCP, TCP_CONGESTION),
    O(IPPROTO_TCP, TCP_MD5SIG),
    O(IPPROTO_TCP, TCP_USER_TIMEOUT),
    O(IPPROTO_TCP, TCP_FASTOPEN),
    O(IPPROTO_TCP, TCP_TIMESTAMP),
    O(IPPROTO_TCP, TCP_NOTSENT_LOWAT),
    O(IPPROTO_TCP, TCP_FASTOPEN_CONNECT),
    O(IPPROTO_TCP, TCP_ULP),
    O(IPPROTO_TCP, TCP_FASTOPEN_NO_COOKIE),
    O(IPPROTO_TCP, TCP_INQ),
    O(IPPROTO_TCP, TCP_TX_DELAY),
    O(IPPROTO_UDP, UDP_CORK),
    O(IPPROTO_UDP, UDP_ENCAP),
    O(IPPROTO_UDP, UDP_NO_CHECK6_TX),
    O(IPPROTO_UDP, UDP_NO_CHECK6_RX),
    O(IPPROTO_UDP, UDP_SEGMENT),
    O(IPPROTO_UDP, UDP_GRO),
    O(IPPROTO_ICMPV6, ICMP6_FILTER),
  };
  const std::vector<ExpectedErr> errs = {
    E(EPERM),
    E(ENOENT),
    E(ESRCH),
    E(EINTR),
    E(EIO),
    E(ENXIO),
    E(E2BIG),
    E(ENOEXEC),
    E(EBADF),
    E(ECHILD),
    E(EAGAIN),
    E(EWOULDBLOCK),
    E(ENOMEM),
    E(EACCES),
    E(EFAULT),
    E(ENOTBLK),
    E(EBUSY),
    E(EEXIST),
    E(EXDEV),
    E(ENODEV),
    E(ENOTDIR),
    E(EISDIR),
    E(EINVAL),
    E(ENFILE),
    E(EMFILE),
    E(ENOTTY),
    E(ETXTBSY),
    E(EFBIG),
    E(ENOSPC),
    E(ESPIPE),
    E(EROFS),
    E(EMLINK),
    E(EPIPE),
    E(EDOM),
    E(ERANGE),
    E(EDEADLK),
    E(EDEADLOCK),
    E(ENAMETOOLONG),
    E(ENOLCK),
    E(ENOSYS),
    E(ENOTEMPTY),
    E(ELOOP),
    E(ENOMSG),
    E(EIDRM),
    E(ECHRNG),
    E(EL2NSYNC),
    E(EL3HLT),
    E(EL3RST),
    E(ELNRNG),
    E(EUNATCH),
    E(ENOCSI),
    E(EL2HLT),
    E(EBADE),
    E(EBADR),
    E(EXFULL),
    E(ENOANO),
    E(EBADRQC),
    E(EBADSLT),
    E(EBFONT),
    E(ENOSTR),
    E(ENODATA),
    E(ETIME),
    E(ENOSR),
    E(ENONET),
    E(ENOPKG),
    E(EREMOTE),
    E(ENOLINK),
    E(EADV),
    E(ESRMNT),
    E(ECOMM),
    E(EPROTO),
    E(EMULTIHOP),
    E(EDOTDOT),
    E(EBADMSG),
    E(EOVERFLOW),
    E(ENOTUNIQ),
    E(EBADFD),
    E(EREMCHG),
    E(ELIBACC),
    E(ELIBBAD),
    E(ELIBSCN),
    E(ELIBMAX),
    E(ELIBEXEC),
    E(EILSEQ),
    E(ERESTART),
    E(ESTRPIPE),
    E(EUSERS),
    E(ENOTSOCK),
    E(EDESTADDRREQ),
    E(EMSGSIZE),
    E(EPROTOTYPE),
    E(ENOPROTOOPT),
    E(EPROTONOSUPPORT),
    E(ESOCKTNOSUPPORT),
    E(EOPNOTSUPP),
    E(ENOTSUP),
    E(EPFNOSUPPORT),
    E(EAFNOSUPPORT),
    E(EADDRINUSE),
    E(EADDRNOTAVAIL),
    E(ENETDOWN),
    E(ENETUNREACH),
    E(ENETRESET),
    E(ECONNABORTED),
    E(ECONNRESET),
    E(ENOBUFS),
    E(EISCONN),
    E(ENOTCONN),
    E(ESHUTDOWN),
    E(ETOOMANYREFS),
    E(ETIMEDOUT),
    E(ECONNREFUSED),
    E(EHOSTDOWN),
    E(EHOSTUNREACH),
    E(EALREADY),
    E(EINPROGRESS),
    E(ESTALE),
    E(EUCLEAN),
    E(ENOTNAM),
    E(ENAVAIL),
    E(EISNAM),
    E(EREMOTEIO),
    E(EDQUOT),
    E(ENOMEDIUM),
    E(EMEDIUMTYPE),
    E(ECANCELED),
    E(ENOKEY),
    E(EKEYEXPIRED),
    E(EKEYREVOKED),
    E(EKEYREJECTED),
    E(EOWNERDEAD),
    E(ENOTRECOVERABLE),
    E(ERFKILL),
    E(EHWPOISON),
    E(EAI_BADFLAGS),
    E(EAI_NONAME),
    E(EAI_AGAIN),
    E(EAI_FAIL),
    E(EAI_NODATA),
    E(EAI_FAMILY),
    E(EAI_SOCKTYPE),
    E(EAI_SERVICE),
    E(EAI_ADDRFAMILY),
    E(EAI_MEMORY),
    E(EAI_SYSTEM),
    E(EAI_OVERFLOW),
    E(EAI_INPROGRESS),
    E(EAI_CANCELED),
    E(EAI_NOTCANCELED),
    E(EAI_ALLDONE),
    E(EAI_INTR),
    E(EAI_IDN_ENCODE),
    E(NETDB_INTERNAL),
    E(HOST_NOT_FOUND),
    E(TRY_AGAIN),
    E(NO_RECOVERY),
    E(NO_DATA),
    E(NO_ADDRESS),
  };
  // ICMP_FILTER lives in <linux/icmp.h>, which clashes with the libc headers used here.
  check_against_headers(Platform::Linux, consts, opts, errs, {"ICMP_FILTER"},
                        {ErrDomain::Errno, ErrDomain::Eai, ErrDomain::HErrno});
  EXPECT_EQ(entry(ConstTable::SockOpt, "ICMP_FILTER")->linux_value, 1);
}

TEST(PlatformHeaders, LinuxSpotChecks) {
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Linux, AF_INET6), ws::af::kInet6);
  EXPECT_EQ(ws::to_flags(ConstTable::MsgFlags, Platform::Linux, MSG_WAITALL),
            ws::msgflag::kWaitall);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, SOL_SOCKET, SO_REUSEADDR),
            ws::sockopt::kSoReuseaddr);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Linux, IPPROTO_TCP, TCP_NODELAY),
            ws::sockopt::kTcpNodelay);
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Linux, FIONREAD), ws::ioctl::kFionread);
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Eai, EAI_NONAME})->name, "EAI_NONAME");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Errno, ECONNREFUSED})->name, "ECONNREFUSED");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Errno, EWOULDBLOCK})->name, "EAGAIN");
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Linux, POLLRDHUP), ws::pollev::kRdhup);
  EXPECT_EQ(ws::to_flags(ConstTable::SockTypeFlags, Platform::Linux, SOCK_NONBLOCK | SOCK_CLOEXEC),
            ws::sockflag::kNonblock | ws::sockflag::kCloexec);
}

#endif  // __linux__

#if defined(_WIN32)

TEST(PlatformHeaders, WindowsValuesMatch) {
  const std::vector<Expected> consts = {
    C(AddrFamily, AF_UNSPEC),
    C(AddrFamily, AF_UNIX),
    C(AddrFamily, AF_INET),
    C(AddrFamily, AF_INET6),
    CN(AddrFamily, AF_BLUETOOTH, AF_BTH),
    C(AddrFamily, AF_IRDA),
    C(AddrFamily, AF_APPLETALK),
    C(AddrFamily, AF_IPX),
    C(AddrFamily, AF_NETBIOS),
    C(AddrFamily, AF_SNA),
    C(AddrFamily, AF_DECnet),
    C(AddrFamily, AF_IMPLINK),
    C(AddrFamily, AF_PUP),
    C(AddrFamily, AF_CHAOS),
    C(AddrFamily, AF_ISO),
    C(AddrFamily, AF_ECMA),
    C(AddrFamily, AF_DATAKIT),
    C(AddrFamily, AF_CCITT),
    C(AddrFamily, AF_DLI),
    C(AddrFamily, AF_LAT),
    C(AddrFamily, AF_HYLINK),
    C(AddrFamily, AF_VOICEVIEW),
    C(AddrFamily, AF_FIREFOX),
    C(AddrFamily, AF_UNKNOWN1),
    C(AddrFamily, AF_BAN),
    C(AddrFamily, AF_ATM),
    C(AddrFamily, AF_CLUSTER),
    C(AddrFamily, AF_12844),
    C(AddrFamily, AF_NETDES),
    C(AddrFamily, AF_TCNPROCESS),
    C(AddrFamily, AF_TCNMESSAGE),
    C(AddrFamily, AF_ICLFXBM),
    C(SockType, SOCK_STREAM),
    C(SockType, SOCK_DGRAM),
    C(SockType, SOCK_RAW),
    C(SockType, SOCK_RDM),
    C(SockType, SOCK_SEQPACKET),
    C(Protocol, IPPROTO_IP),
    C(Protocol, IPPROTO_ICMP),
    C(Protocol, IPPROTO_IGMP),
    C(Protocol, IPPROTO_TCP),
    C(Protocol, IPPROTO_UDP),
    C(Protocol, IPPROTO_IPV6),
    C(Protocol, IPPROTO_ICMPV6),
    C(Protocol, IPPROTO_RAW),
    C(Protocol, IPPROTO_SCTP),
    CN(Protocol, IPPROTO_IPIP, IPPROTO_IPV4),
    C(Protocol, IPPROTO_EGP),
    C(Protocol, IPPROTO_PUP),
    C(Protocol, IPPROTO_IDP),
    C(Protocol, IPPROTO_ESP),
    C(Protocol, IPPROTO_AH),
    C(Protocol, IPPROTO_ROUTING),
    C(Protocol, IPPROTO_FRAGMENT),
    C(Protocol, IPPROTO_NONE),
    C(Protocol, IPPROTO_DSTOPTS),
    C(Protocol, IPPROTO_PIM),
    C(Protocol, IPPROTO_GGP),
    C(Protocol, IPPROTO_ST),
    C(Protocol, IPPROTO_CBT),
    C(Protocol, IPPROTO_IGP),
    C(Protocol, IPPROTO_RDP),
    C(Protocol, IPPROTO_ND),
    C(Protocol, IPPROTO_ICLFXBM),
    C(Protocol, IPPROTO_PGM),
    C(Protocol, IPPROTO_L2TP),
    C(MsgFlags, MSG_OOB),
    C(MsgFlags, MSG_PEEK),
    C(MsgFlags, MSG_DONTROUTE),
    C(MsgFlags, MSG_CTRUNC),
    C(MsgFlags, MSG_TRUNC),
    C(MsgFlags, MSG_WAITALL),
    C(MsgFlags, MSG_PARTIAL),
    C(MsgFlags, MSG_INTERRUPT),
    C(MsgFlags, MSG_PUSH_IMMEDIATE),
    C(MsgFlags, MSG_BCAST),
    C(MsgFlags, MSG_MCAST),
    C(SockOptLevel, SOL_SOCKET),
    C(SockOptLevel, IPPROTO_IP),
    C(SockOptLevel, IPPROTO_IPV6),
    C(SockOptLevel, IPPROTO_TCP),
    C(SockOptLevel, IPPROTO_UDP),
    C(SockOptLevel, IPPROTO_ICMPV6),
    C(SockOptLevel, IPPROTO_RAW),
    C(SockOptLevel, SOL_RFCOMM),
    C(SockOptLevel, SOL_L2CAP),
    C(SockOptLevel, SOL_SDP),
    CN(ShutdownHow, SHUT_RD, SD_RECEIVE),
    CN(ShutdownHow, SHUT_WR, SD_SEND),
    CN(ShutdownHow, SHUT_RDWR, SD_BOTH),
    C(AiFlags, AI_PASSIVE),
    C(AiFlags, AI_CANONNAME),
    C(AiFlags, AI_NUMERICHOST),
    C(AiFlags, AI_V4MAPPED),
    C(AiFlags, AI_ALL),
    C(AiFlags, AI_ADDRCONFIG),
    C(AiFlags, AI_NUMERICSERV),
    C(AiFlags, AI_NON_AUTHORITATIVE),
    C(AiFlags, AI_SECURE),
    C(AiFlags, AI_RETURN_PREFERRED_NAMES),
    C(AiFlags, AI_FQDN),
    C(AiFlags, AI_FILESERVER),
    C(AiFlags, AI_DISABLE_IDN_ENCODING),
    C(PollEvents, POLLIN),
    C(PollEvents, POLLPRI),
    C(PollEvents, POLLOUT),
    C(PollEvents, POLLERR),
    C(PollEvents, POLLHUP),
    C(PollEvents, POLLNVAL),
    C(PollEvents, POLLRDNORM),
    C(PollEvents, POLLRDBAND),
    C(PollEvents, POLLWRNORM),
    C(PollEvents, POLLWRBAND),
    C(Ioctl, FIONBIO),
    C(Ioctl, FIONREAD),
    C(Ioctl, FIOASYNC),
    C(Ioctl, SIOCATMARK),
    C(Ioctl, SIOCSHIWAT),
    C(Ioctl, SIOCGHIWAT),
    C(Ioctl, SIOCSLOWAT),
    C(Ioctl, SIOCGLOWAT),
    C(Ioctl, SIO_ASSOCIATE_HANDLE),
    C(Ioctl, SIO_ENABLE_CIRCULAR_QUEUEING),
    C(Ioctl, SIO_FIND_ROUTE),
    C(Ioctl, SIO_FLUSH),
    C(Ioctl, SIO_GET_BROADCAST_ADDRESS),
    C(Ioctl, SIO_GET_EXTENSION_FUNCTION_POINTER),
    C(Ioctl, SIO_GET_QOS),
    C(Ioctl, SIO_GET_GROUP_QOS),
    C(Ioctl, SIO_MULTIPOINT_LOOPBACK),
    C(Ioctl, SIO_MULTICAST_SCOPE),
    C(Ioctl, SIO_SET_QOS),
    C(Ioctl, SIO_SET_GROUP_QOS),
    C(Ioctl, SIO_TRANSLATE_HANDLE),
    C(Ioctl, SIO_ROUTING_INTERFACE_QUERY),
    C(Ioctl, SIO_ROUTING_INTERFACE_CHANGE),
    C(Ioctl, SIO_ADDRESS_LIST_QUERY),
    C(Ioctl, SIO_ADDRESS_LIST_CHANGE),
    C(Ioctl, SIO_QUERY_TARGET_PNP_HANDLE),
    C(Ioctl, SIO_ADDRESS_LIST_SORT),
    C(Ioctl, SIO_NSP_NOTIFY_CHANGE),
    C(Ioctl, SIO_BSP_HANDLE),
    C(Ioctl, SIO_BSP_HANDLE_SELECT),
    C(Ioctl, SIO_BSP_HANDLE_POLL),
    C(Ioctl, SIO_EXT_SELECT),
    C(Ioctl, SIO_EXT_POLL),
    C(Ioctl, SIO_EXT_SENDMSG),
    C(Ioctl, SIO_BASE_HANDLE),
    C(Ioctl, SIO_GET_INTERFACE_LIST),
    C(Ioctl, SIO_GET_INTERFACE_LIST_EX),
    C(Ioctl, SIO_SET_MULTICAST_FILTER),
    C(Ioctl, SIO_GET_MULTICAST_FILTER),
    C(Ioctl, SIO_RCVALL),
    C(Ioctl, SIO_RCVALL_MCAST),
    C(Ioctl, SIO_RCVALL_IGMPMCAST),
    C(Ioctl, SIO_KEEPALIVE_VALS),
    C(Ioctl, SIO_ABSORB_RTRALERT),
    C(Ioctl, SIO_UCAST_IF),
    C(Ioctl, SIO_LIMIT_BROADCASTS),
    C(Ioctl, SIO_INDEX_BIND),
    C(Ioctl, SIO_INDEX_MCASTIF),
    C(Ioctl, SIO_INDEX_ADD_MCAST),
    C(Ioctl, SIO_INDEX_DEL_MCAST),
    C(Ioctl, SIO_UDP_CONNRESET),
    C(Ioctl, SIO_RCVALL_MCAST_IF),
    C(Ioctl, SIO_RCVALL_IF),
    C(Ioctl, SIO_LOOPBACK_FAST_PATH),
    C(Ioctl, SIO_TCP_INITIAL_RTO),
    C(Ioctl, SIO_APPLY_TRANSPORT_SETTING),
    C(Ioctl, SIO_QUERY_TRANSPORT_SETTING),
#ifdef SIO_CPU_AFFINITY
    C(Ioctl, SIO_CPU_AFFINITY),
#endif
    C(Ioctl, SIO_TCP_SET_ICW),
    C(Ioctl, SIO_TCP_SET_ACK_FREQUENCY),
#ifdef SIO_SET_PRIORITY_HINT
    C(Ioctl, SIO_SET_PRIORITY_HINT),
#endif
#ifdef SIO_TCP_INFO
    C(Ioctl, SIO_TCP_INFO),
#endif
    C(Ioctl, SIO_ACQUIRE_PORT_RESERVATION),
    C(Ioctl, SIO_RELEASE_PORT_RESERVATION),
    C(Ioctl, SIO_ASSOCIATE_PORT_RESERVATION),
#ifdef SIO_GET_TX_TIMESTAMP
    C(Ioctl, SIO_GET_TX_TIMESTAMP),
#endif
#ifdef SIO_TIMESTAMPING
    C(Ioctl, SIO_TIMESTAMPING),
#endif
  };
  const std::vector<ExpectedOpt> opts = {
    O(SOL_SOCKET, SO_DEBUG),
    O(SOL_SOCKET, SO_REUSEADDR),
    O(SOL_SOCKET, SO_TYPE),
    O(SOL_SOCKET, SO_ERROR),
    O(SOL_SOCKET, SO_DONTROUTE),
    O(SOL_SOCKET, SO_BROADCAST),
    O(SOL_SOCKET, SO_SNDBUF),
    O(SOL_SOCKET, SO_RCVBUF),
    O(SOL_SOCKET, SO_KEEPALIVE),
    O(SOL_SOCKET, SO_OOBINLINE),
    O(SOL_SOCKET, SO_LINGER),
    O(SOL_SOCKET, SO_RCVLOWAT),
    O(SOL_SOCKET, SO_SNDLOWAT),
    O(SOL_SOCKET, SO_RCVTIMEO),
    O(SOL_SOCKET, SO_SNDTIMEO),
    O(SOL_SOCKET, SO_ACCEPTCONN),
#ifdef SO_TIMESTAMP
    O(SOL_SOCKET, SO_TIMESTAMP),
#endif
    O(SOL_SOCKET, SO_USELOOPBACK),
    O(SOL_SOCKET, SO_DONTLINGER),
    O(SOL_SOCKET, SO_EXCLUSIVEADDRUSE),
    O(SOL_SOCKET, SO_GROUP_ID),
    O(SOL_SOCKET, SO_GROUP_PRIORITY),
    O(SOL_SOCKET, SO_MAX_MSG_SIZE),
    O(SOL_SOCKET, SO_PROTOCOL_INFOA),
    O(SOL_SOCKET, SO_PROTOCOL_INFOW),
    O(SOL_SOCKET, SO_CONDITIONAL_ACCEPT),
    O(SOL_SOCKET, SO_OPENTYPE),
    O(SOL_SOCKET, SO_MAXDG),
    O(SOL_SOCKET, SO_MAXPATHDG),
    O(SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT),
    O(SOL_SOCKET, SO_CONNECT_TIME),
    O(SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT),
    O(IPPROTO_IP, IP_TOS),
    O(IPPROTO_IP, IP_TTL),
    O(IPPROTO_IP, IP_HDRINCL),
    O(IPPROTO_IP, IP_OPTIONS),
    O(IPPROTO_IP, IP_PKTINFO),
    O(IPPROTO_IP, IP_MTU_DISCOVER),
    O(IPPROTO_IP, IP_RECVERR),
    O(IPPROTO_IP, IP_RECVTTL),
    O(IPPROTO_IP, IP_RECVTOS),
    O(IPPROTO_IP, IP_MTU),
    O(IPPROTO_IP, IP_MULTICAST_IF),
    O(IPPROTO_IP, IP_MULTICAST_TTL),
    O(IPPROTO_IP, IP_MULTICAST_LOOP),
    O(IPPROTO_IP, IP_ADD_MEMBERSHIP),
    O(IPPROTO_IP, IP_DROP_MEMBERSHIP),
    O(IPPROTO_IP, IP_UNBLOCK_SOURCE),
    O(IPPROTO_IP, IP_BLOCK_SOURCE),
    O(IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP),
    O(IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP),
    O(IPPROTO_IP, IP_UNICAST_IF),
    O(IPPROTO_IP, IP_DONTFRAGMENT),
    O(IPPROTO_IP, IP_RECEIVE_BROADCAST),
    O(IPPROTO_IP, IP_RECVIF),
    O(IPPROTO_IP, IP_RECVDSTADDR),
    O(IPPROTO_IP, IP_ORIGINAL_ARRIVAL_IF),
    O(IPPROTO_IP, IP_ECN),
    O(IPPROTO_IP, IP_PKTINFO_EX),
    O(IPPROTO_IP, IP_USER_MTU),
    O(IPPROTO_IPV6, IPV6_CHECKSUM),
    O(IPPROTO_IPV6, IPV6_UNICAST_HOPS),
    O(IPPROTO_IPV6, IPV6_MULTICAST_IF),
    O(IPPROTO_IPV6, IPV6_MULTICAST_HOPS),
    O(IPPROTO_IPV6, IPV6_MULTICAST_LOOP),
    O(IPPROTO_IPV6, IPV6_ADD_MEMBERSHIP),
    O(IPPROTO_IPV6, IPV6_DROP_MEMBERSHIP),
    O(IPPROTO_IPV6, IPV6_MTU_DISCOVER),
    O(IPPROTO_IPV6, IPV6_MTU),
    O(IPPROTO_IPV6, IPV6_RECVERR),
    O(IPPROTO_IPV6, IPV6_V6ONLY),
    O(IPPROTO_IPV6, IPV6_HDRINCL),
    O(IPPROTO_IPV6, IPV6_PKTINFO),
    O(IPPROTO_IPV6, IPV6_HOPLIMIT),
    O(IPPROTO_IPV6, IPV6_HOPOPTS),
    O(IPPROTO_IPV6, IPV6_RECVRTHDR),
    O(IPPROTO_IPV6, IPV6_RTHDR),
    O(IPPROTO_IPV6, IPV6_DONTFRAG),
    O(IPPROTO_IPV6, IPV6_RECVTCLASS),
    O(IPPROTO_IPV6, IPV6_TCLASS),
    O(IPPROTO_IPV6, IPV6_UNICAST_IF),
    O(IPPROTO_IPV6, IPV6_PROTECTION_LEVEL),
    O(IPPROTO_IPV6, IPV6_RECVIF),
    O(IPPROTO_IPV6, IPV6_ECN),
    O(IPPROTO_IPV6, IPV6_USER_MTU),
    O(IPPROTO_TCP, TCP_NODELAY),
    O(IPPROTO_TCP, TCP_EXPEDITED_1122),
    O(IPPROTO_TCP, TCP_BSDURGENT),
    O(IPPROTO_UDP, UDP_NOCHECKSUM),
    O(IPPROTO_UDP, UDP_CHECKSUM_COVERAGE),
  };
  const std::vector<ExpectedErr> errs = {
    E(ERROR_INVALID_FUNCTION),
    E(ERROR_FILE_NOT_FOUND),
    E(ERROR_TOO_MANY_OPEN_FILES),
    E(ERROR_ACCESS_DENIED),
    E(WSA_INVALID_HANDLE),
    E(ERROR_INVALID_HANDLE),
    E(WSA_NOT_ENOUGH_MEMORY),
    E(ERROR_NOT_ENOUGH_MEMORY),
    E(ERROR_HANDLE_EOF),
    E(ERROR_NOT_SUPPORTED),
    E(ERROR_BAD_NETPATH),
    E(ERROR_UNEXP_NET_ERR),
    E(ERROR_NETNAME_DELETED),
    E(ERROR_NETWORK_ACCESS_DENIED),
    E(WSA_INVALID_PARAMETER),
    E(ERROR_INVALID_PARAMETER),
    E(ERROR_BROKEN_PIPE),
    E(ERROR_SEM_TIMEOUT),
    E(ERROR_INSUFFICIENT_BUFFER),
    E(ERROR_MORE_DATA),
    E(WSA_OPERATION_ABORTED),
    E(ERROR_OPERATION_ABORTED),
    E(WSA_IO_INCOMPLETE),
    E(ERROR_IO_INCOMPLETE),
    E(WSA_IO_PENDING),
    E(ERROR_IO_PENDING),
    E(ERROR_NOACCESS),
    E(ERROR_NOT_FOUND),
    E(ERROR_NO_NETWORK),
    E(ERROR_CANCELLED),
    E(ERROR_CONNECTION_REFUSED),
    E(ERROR_GRACEFUL_DISCONNECT),
    E(ERROR_ADDRESS_ALREADY_ASSOCIATED),
    E(ERROR_ADDRESS_NOT_ASSOCIATED),
    E(ERROR_CONNECTION_INVALID),
    E(ERROR_CONNECTION_ACTIVE),
    E(ERROR_NETWORK_UNREACHABLE),
    E(ERROR_HOST_UNREACHABLE),
    E(ERROR_PROTOCOL_UNREACHABLE),
    E(ERROR_PORT_UNREACHABLE),
    E(ERROR_REQUEST_ABORTED),
    E(ERROR_CONNECTION_ABORTED),
    E(ERROR_RETRY),
    E(ERROR_CONNECTION_COUNT_LIMIT),
    E(ERROR_INCORRECT_ADDRESS),
    E(ERROR_HOST_DOWN),
    E(ERROR_NO_SYSTEM_RESOURCES),
    E(ERROR_TIMEOUT),
    E(WSAEINTR),
    E(WSAEBADF),
    E(WSAEACCES),
    E(WSAEFAULT),
    E(WSAEINVAL),
    E(WSAEMFILE),
    E(WSAEWOULDBLOCK),
    E(WSAEINPROGRESS),
    E(WSAEALREADY),
    E(WSAENOTSOCK),
    E(WSAEDESTADDRREQ),
    E(WSAEMSGSIZE),
    E(WSAEPROTOTYPE),
    E(WSAENOPROTOOPT),
    E(WSAEPROTONOSUPPORT),
    E(WSAESOCKTNOSUPPORT),
    E(WSAEOPNOTSUPP),
    E(WSAEPFNOSUPPORT),
    E(WSAEAFNOSUPPORT),
    E(WSAEADDRINUSE),
    E(WSAEADDRNOTAVAIL),
    E(WSAENETDOWN),
    E(WSAENETUNREACH),
    E(WSAENETRESET),
    E(WSAECONNABORTED),
    E(WSAECONNRESET),
    E(WSAENOBUFS),
    E(WSAEISCONN),
    E(WSAENOTCONN),
    E(WSAESHUTDOWN),
    E(WSAETOOMANYREFS),
    E(WSAETIMEDOUT),
    E(WSAECONNREFUSED),
    E(WSAELOOP),
    E(WSAENAMETOOLONG),
    E(WSAEHOSTDOWN),
    E(WSAEHOSTUNREACH),
    E(WSAENOTEMPTY),
    E(WSAEPROCLIM),
    E(WSAEUSERS),
    E(WSAEDQUOT),
    E(WSAESTALE),
    E(WSAEREMOTE),
    E(WSASYSNOTREADY),
    E(WSAVERNOTSUPPORTED),
    E(WSANOTINITIALISED),
    E(WSAEDISCON),
    E(WSAENOMORE),
    E(WSAECANCELLED),
    E(WSAEINVALIDPROCTABLE),
    E(WSAEINVALIDPROVIDER),
    E(WSAEPROVIDERFAILEDINIT),
    E(WSASYSCALLFAILURE),
    E(WSASERVICE_NOT_FOUND),
    E(WSATYPE_NOT_FOUND),
    E(WSA_E_NO_MORE),
    E(WSA_E_CANCELLED),
    E(WSAEREFUSED),
    E(WSAHOST_NOT_FOUND),
    E(WSATRY_AGAIN),
    E(WSANO_RECOVERY),
    E(WSANO_DATA),
    E(WSA_QOS_RECEIVERS),
    E(WSA_QOS_SENDERS),
    E(WSA_QOS_NO_SENDERS),
    E(WSA_QOS_NO_RECEIVERS),
    E(WSA_QOS_REQUEST_CONFIRMED),
    E(WSA_QOS_ADMISSION_FAILURE),
    E(WSA_QOS_POLICY_FAILURE),
    E(WSA_QOS_BAD_STYLE),
    E(WSA_QOS_BAD_OBJECT),
    E(WSA_QOS_TRAFFIC_CTRL_ERROR),
    E(WSA_QOS_GENERIC_ERROR),
    E(WSA_QOS_ESERVICETYPE),
    E(WSA_QOS_EFLOWSPEC),
    E(WSA_QOS_EPROVSPECBUF),
    E(WSA_QOS_EFILTERSTYLE),
    E(WSA_QOS_EFILTERTYPE),
    E(WSA_QOS_EFILTERCOUNT),
    E(WSA_QOS_EOBJLENGTH),
    E(WSA_QOS_EFLOWCOUNT),
    E(WSA_QOS_EUNKOWNPSOBJ),
    E(WSA_QOS_EUNKNOWNPSOBJ),
    E(WSA_QOS_EPOLICYOBJ),
    E(WSA_QOS_EFLOWDESC),
    E(WSA_QOS_EPSFLOWSPEC),
    E(WSA_QOS_EPSFILTERSPEC),
    E(WSA_QOS_ESDMODEOBJ),
    E(WSA_QOS_ESHAPERATEOBJ),
    E(WSA_QOS_RESERVED_PETYPE),
  };
  // Not in the mingw-w64 headers (or only for newer NTDDI_VERSION): taken from the Windows SDK.
  std::set<std::string_view> unchecked = {
      "AF_HYPERV", "AF_LINK", "MSG_ERRQUEUE", "AI_DNS_ONLY", "AI_FORCE_CLEAR_TEXT",
      "AI_BYPASS_DNS_CACHE", "AI_RETURN_TTL", "AI_RETURN_RESPONSE_FLAGS", "AI_REQUIRE_SECURE",
      "AI_RESOLUTION_HANDLE", "AI_EXTENDED", "SIO_IDEAL_SEND_BACKLOG_QUERY",
      "SIO_IDEAL_SEND_BACKLOG_CHANGE", "SIO_UDP_NETRESET", "SO_BSP_STATE", "SO_PAUSE_ACCEPT",
      "SO_COMPARTMENT_ID", "SO_RANDOMIZE_PORT", "SO_PORT_SCALABILITY", "SO_REUSE_UNICASTPORT",
      "SO_REUSE_MULTICASTPORT", "TCP_MAXSEG", "TCP_KEEPIDLE", "TCP_KEEPINTVL", "TCP_KEEPCNT",
      "TCP_FASTOPEN", "TCP_MAXRT", "TCP_STDURG", "TCP_NOURG", "TCP_ATMARK", "TCP_NOSYNRETRIES",
      "TCP_TIMESTAMPS", "TCP_OFFLOAD_PREFERENCE", "TCP_CONGESTION_ALGORITHM", "TCP_DELAY_FIN_ACK",
      "TCP_MAXRTMS", "TCP_FAIL_CONNECT_ON_ICMP_ERROR", "TCP_ICMP_ERROR_INFO", "UDP_SEND_MSG_SIZE",
      "UDP_RECV_MAX_COALESCED_SIZE",
#ifndef SO_TIMESTAMP
      "SO_TIMESTAMP",
#endif
#ifndef SIO_TCP_INFO
      "SIO_TCP_INFO",
#endif
#ifndef SIO_SET_PRIORITY_HINT
      "SIO_SET_PRIORITY_HINT",
#endif
#ifndef SIO_CPU_AFFINITY
      "SIO_CPU_AFFINITY",
#endif
#ifndef SIO_TIMESTAMPING
      "SIO_TIMESTAMPING",
#endif
#ifndef SIO_GET_TX_TIMESTAMP
      "SIO_GET_TX_TIMESTAMP",
#endif
  };
  check_against_headers(Platform::Windows, consts, opts, errs, unchecked, {ErrDomain::Win});
}

TEST(PlatformHeaders, WindowsSpotChecks) {
  EXPECT_EQ(AF_INET6, 23);
  EXPECT_EQ(ws::to_code(ConstTable::AddrFamily, Platform::Windows, AF_INET6), ws::af::kInet6);
  EXPECT_EQ(ws::to_flags(ConstTable::MsgFlags, Platform::Windows, MSG_WAITALL),
            ws::msgflag::kWaitall);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, SOL_SOCKET, SO_REUSEADDR),
            ws::sockopt::kSoReuseaddr);
  EXPECT_EQ(ws::sockopt_to_code(Platform::Windows, SOL_SOCKET, SO_EXCLUSIVEADDRUSE),
            ws::sockopt::kSoExclusiveaddruse);
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Windows, static_cast<int64_t>(FIONBIO)),
            ws::ioctl::kFionbio);
  EXPECT_EQ(ws::to_code(ConstTable::Ioctl, Platform::Windows,
                        static_cast<int64_t>(SIO_GET_EXTENSION_FUNCTION_POINTER)),
            ws::ioctl::kSioGetExtensionFunctionPointer);
  EXPECT_EQ(ws::to_flags(ConstTable::PollEvents, Platform::Windows, POLLIN), ws::pollev::kIn);
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Win, WSAECONNRESET})->name, "WSAECONNRESET");
  EXPECT_EQ(ws::find_error(ErrorCode{ErrDomain::Win, EAI_NONAME})->name, "WSAHOST_NOT_FOUND");
}

#endif  // _WIN32

#undef C
#undef CN
#undef O
#undef E

}  // namespace
