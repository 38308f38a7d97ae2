// TCP statistics (SIO_TCP_INFO) on Windows: the system's side of the rules in tcp_schedule.h —
// what a socket is, the ioctl, the clock. Each reading is a tcp_info record holding TCP_INFO_v1
// (or v0) as it came; the collector decodes it (capture/translate.cc). The last error stays the
// program's.
#include "agent.h"

namespace ws::agent {
namespace {

constinit TcpSchedule g_tcp;

// A TCP stream as the system numbers it: only those have SIO_TCP_INFO (a stream of AF_UNIX has
// none, and a refusal on it would stop the readings of the whole process).
TcpKind kind_of(int af, int type, int protocol) {
  const bool inet = af == AF_INET || af == AF_INET6;
  return inet && type == SOCK_STREAM && (protocol == 0 || protocol == IPPROTO_TCP)
             ? TcpKind::Tcp
             : TcpKind::NotTcp;
}

// SIO_TCP_INFO's errors that say the system has no such ioctl (not that this socket has no
// figures): WSAEOPNOTSUPP (Wine 8), WSAEINVAL (a Winsock that does not know the code).
bool no_such_ioctl(int err) { return err == WSAEOPNOTSUPP || err == WSAEINVAL; }

struct SystemTcp {
  uint32_t interval() {
    const RegionHeader* r = region();
    return r && recording() && g_real.WSAIoctl ? r->tcp_info_ms : 0;
  }
  uint32_t now() { return GetTickCount(); }  // (read from shared memory: no system call)

  TcpKind ask(uintptr_t s) {
    if (!g_real.getsockopt) return TcpKind::Unknown;
    const DWORD e = GetLastError();
    WSAPROTOCOL_INFOW info{};
    int len = sizeof info;
    const bool ok = g_real.getsockopt(static_cast<SOCKET>(s), SOL_SOCKET, SO_PROTOCOL_INFOW,
                                      reinterpret_cast<char*>(&info), &len) == 0;
    SetLastError(e);
    return ok ? kind_of(info.iAddressFamily, info.iSocketType, info.iProtocol) : TcpKind::Unknown;
  }

  // TCP_INFO_v1, else v0, recorded as they came; nothing for a socket still setting up.
  TcpRead read(uintptr_t sock, TcpAt at) {
    const auto s = static_cast<SOCKET>(sock);
    const DWORD e = GetLastError();
    constexpr DWORD kV0 = 88, kV1 = 136;  // sizeof TCP_INFO_v0 / v1 (mstcpip.h)
    // _WSAIORW(IOC_VENDOR, 39); mingw's mstcpip.h defines it only for NTDDI_WIN10_RS2 and
    // later, and the agent is built for any Windows 10.
    constexpr DWORD kSioTcpInfo = 0xD8000027;
    alignas(8) uint8_t info[kV1];
    DWORD got = 0;
    bool ok = false;
    int err = 0;
    for (DWORD version = 2; !ok && version-- > 0;) {
      ok = g_real.WSAIoctl(s, kSioTcpInfo, &version, sizeof version, info, version ? kV1 : kV0,
                           &got, nullptr, nullptr) == 0;
      if (!ok) err = WSAGetLastError();
    }
    SetLastError(e);
    if (!ok) return no_such_ioctl(err) ? TcpRead::Unsupported : TcpRead::Failed;
    if (got < 85 || got > kV1) return TcpRead::Failed;
    uint32_t state;
    uint64_t out, in;
    memcpy(&state, info, 4);
    memcpy(&out, info + 48, 8);
    memcpy(&in, info + 56, 8);
    if (state <= 2 && out == 0 && in == 0) return TcpRead::NotYet;  // CLOSED, LISTEN, SYN_SENT
    Call c(FuncId::tcp_info);
    c.done(0, false);  // a fact, not a call
    c.u64(FieldId::sock, s);
    c.u64(FieldId::tcp_at, static_cast<uint64_t>(at));  // (before the statistics it qualifies)
    c.blob(FieldId::tcp_state, kRawTcpInfo, info, got);
    return TcpRead::Recorded;
  }
};

}  // namespace

void tcp_socket_made(SOCKET s, int af, int type, int protocol) {
  if (s != INVALID_SOCKET) g_tcp.mark(s, kind_of(af, type, protocol));
}

void tcp_socket_accepted(SOCKET s, SOCKET listener) {
  if (s == INVALID_SOCKET) return;
  g_tcp.mark(s, g_tcp.kind(listener));  // (a listener's connections are of its kind)
  tcp_setup(s);
}

void tcp_socket_inherited(SOCKET s, int af, int type, int protocol, bool connected) {
  SystemTcp sys;
  g_tcp.mark(s, af ? kind_of(af, type, protocol) : TcpKind::Unknown, connected, sys.now());
}

void tcp_socket_closed(SOCKET s) { g_tcp.forget(s); }

bool tcp_known(SOCKET s) { return g_tcp.kind(s) == TcpKind::Tcp; }

void tcp_setup(SOCKET s) {
  SystemTcp sys;
  g_tcp.setup(sys, s);
}

void tcp_end(SOCKET s, TcpAt at) {
  SystemTcp sys;
  g_tcp.end(sys, s, at);
}

void tcp_io(SOCKET s, bool before) {
  SystemTcp sys;
  g_tcp.io(sys, s, before);
}

}  // namespace ws::agent
