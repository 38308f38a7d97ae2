// The sockets a process already has when the agent starts in it (an attach, or a child given
// its parent's handles): found by asking each handle value whether it is a socket, each one
// recorded as an `inherited` event with both its ends, so that its later calls have addresses.
// The real functions are called directly (trampolines): these are not the program's calls.
#include "agent.h"

namespace ws::agent {
namespace {

constexpr uintptr_t kMaxHandleValue = uintptr_t{1} << 24;

void record_inherited(SOCKET s, int type) {
  WSAPROTOCOL_INFOW info{};
  int len = sizeof info;
  int family = 0, protocol = 0;
  if (g_real.getsockopt(s, SOL_SOCKET, SO_PROTOCOL_INFOW, reinterpret_cast<char*>(&info), &len) ==
      0) {
    family = info.iAddressFamily;
    protocol = info.iProtocol;
  }
  BOOL listening = FALSE;
  len = sizeof listening;
  if (g_real.getsockopt(s, SOL_SOCKET, SO_ACCEPTCONN, reinterpret_cast<char*>(&listening), &len) !=
      0)
    listening = FALSE;
  sockaddr_storage ss{};
  int n = sizeof ss;
  const bool named = g_real.getsockname(s, reinterpret_cast<sockaddr*>(&ss), &n) == 0;
  Call c(FuncId::inherited);
  c.done(0, false);  // a fact, not a call
  c.u64(FieldId::sock, s);
  if (family) c.platform_const(FieldId::family, family);
  c.platform_const(FieldId::type, type);
  if (protocol) c.platform_const(FieldId::protocol, protocol);
  if (named) c.sockaddr(FieldId::local, &ss, static_cast<size_t>(n), Mem::Proven);
  n = sizeof ss;
  const bool connected =
      !listening && g_real.getpeername(s, reinterpret_cast<sockaddr*>(&ss), &n) == 0;
  if (connected) c.sockaddr(FieldId::peer, &ss, static_cast<size_t>(n), Mem::Proven);
  c.u64(FieldId::listening, listening ? 1 : 0);
  tcp_socket_inherited(s, family, type, protocol, connected);
}

}  // namespace

void record_inherited_sockets() {
  if (!recording() || !g_real.getsockopt) return;
  const DWORD saved = GetLastError();  // (WSAGetLastError() is the same value)
  // (Winsock is not started for this: a process that has not started it has no sockets to
  // ask about, and the agent's own WSACleanup could end the program's.)
  // Handle values are multiples of 4, handed out lowest first: past four times the number of
  // handles (and some room for ones closed since), none is in use.
  DWORD count = 0;
  GetProcessHandleCount(GetCurrentProcess(), &count);
  uintptr_t limit = 4 * (uintptr_t{count} + 1024);
  if (limit > kMaxHandleValue) limit = kMaxHandleValue;
  for (uintptr_t h = 4; h < limit; h += 4) {
    int type = 0, len = sizeof type;
    const auto s = static_cast<SOCKET>(h);
    if (g_real.getsockopt(s, SOL_SOCKET, SO_TYPE, reinterpret_cast<char*>(&type), &len) == 0)
      record_inherited(s, type);
  }
  SetLastError(saved);
}

}  // namespace ws::agent
