// The Windows agent: a DLL that wstrace.exe loads into the traced program. It hooks the bodies
// of ws2_32's functions (and of LoadLibrary, so that modules loaded later are hooked too;
// body_hook.h) with hooks that record each call into the thread's ring (agent/call.h). No decoding, no allocation, no locks, no blocking; GetLastError() and
// WSAGetLastError() are left exactly as the real call set them.
#pragma once

#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>

#include <type_traits>

#include "call.h"
#include "pending_table.h"
#include "tcp_schedule.h"

struct _DnsRecordA;
struct _DnsRecordW;

namespace ws::agent {

// The real function behind a hook (filled in when the hooks are installed).
struct RealFunctions {
#define WS_REAL(name, ret, params) ret(WSAAPI* name) params = nullptr;
#include "hook_list.h"
#undef WS_REAL
};
extern RealFunctions g_real;

// The hooks (hooks_winsock.cc), one per real function.
#define WS_REAL(name, ret, params) ret WSAAPI hook_##name params;
#include "hook_list.h"
#undef WS_REAL

// Overlapped I/O (hooks_overlapped.cc). Every operation that may complete later is noted in
// one table (pending_table.h) so that its completion is recorded once, with its data, however
// the program learns of it.
extern PendingTable g_pending;

// An overlapped call in a hook: noted before the real call (with the buffers its data will be
// in, `bound` the socket whose completion port gets its completion), settled after it.
// Constructed before the hook's Call, so that a completion already seen when it is settled is
// recorded after the call itself. With a completion routine, the real call gets wstrace's
// (routine()), which records the completion and calls the program's.
class OverlappedCall {
 public:
  OverlappedCall(LPOVERLAPPED ov, SOCKET s, SOCKET bound, const WSABUF* bufs, DWORD count,
                 LPWSAOVERLAPPED_COMPLETION_ROUTINE routine, const PendingOp::Ends& ends = {});
  ~OverlappedCall();
  OverlappedCall(const OverlappedCall&) = delete;
  OverlappedCall& operator=(const OverlappedCall&) = delete;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine() const { return pass_; }
  // After the real call: whether it failed (WSA_IO_PENDING, read from the last error, is a
  // failure that runs on).
  void settle(bool failed);

 private:
  void note(const PendingOp& op);
  LPOVERLAPPED ov_;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE pass_;
  bool noted_ = false, wrapped_ = false, noticed_ = false;
  Noticed found_{};
};

// Before a call on socket `s`: records the completions of its operations that have finished
// without the program being told through a hooked function.
void notice_socket(SOCKET s);
// The extension functions WSAIoctl(SIO_GET_EXTENSION_FUNCTION_POINTER) hands out
// (hooks_overlapped.cc): X(name, pointer type, GUID).
#define WS_EXTENSION_HOOKS(X)                        \
  X(ConnectEx, LPFN_CONNECTEX, WSAID_CONNECTEX)       \
  X(AcceptEx, LPFN_ACCEPTEX, WSAID_ACCEPTEX)          \
  X(DisconnectEx, LPFN_DISCONNECTEX, WSAID_DISCONNECTEX) \
  X(TransmitFile, LPFN_TRANSMITFILE, WSAID_TRANSMITFILE) \
  X(WSARecvMsg, LPFN_WSARECVMSG, WSAID_WSARECVMSG)    \
  X(WSASendMsg, LPFN_WSASENDMSG, WSAID_WSASENDMSG)
#define WS_EXTENSION_DECLARE(name, type, guid) \
  extern type real_##name;                     \
  std::remove_pointer_t<type> hook_##name;
WS_EXTENSION_HOOKS(WS_EXTENSION_DECLARE)
#undef WS_EXTENSION_DECLARE

// TCP statistics (tcp_stats.cc; when, in tcp_schedule.h), recorded as tcp_info events. What a
// socket is, as its maker said: made (socket, WSASocket), accepted (of its listener's kind),
// inherited (`connected`: it has a peer already); closed.
void tcp_socket_made(SOCKET s, int af, int type, int protocol);
void tcp_socket_accepted(SOCKET s, SOCKET listener);  // and read: it is set up
void tcp_socket_inherited(SOCKET s, int af, int type, int protocol, bool connected);
void tcp_socket_closed(SOCKET s);
// Whether `s` is known to be a TCP stream (made, accepted or inherited as one). Winsock writes
// no sender into recvfrom's and WSARecvFrom's buffer on such a socket: what is there is stale.
bool tcp_known(SOCKET s);
// Readings: a connection set up now (connect, a ConnectEx completion …); before shutdown or
// close; around a send or receive (TcpWatch). None changes the last error.
void tcp_setup(SOCKET s);
void tcp_end(SOCKET s, TcpAt at);
void tcp_io(SOCKET s, bool before);
// Around a send or receive hook's call: declared before its Call, so that a reading made after
// the call is recorded after it.
class TcpWatch {
 public:
  explicit TcpWatch(SOCKET s) : s_(s) { tcp_io(s, true); }
  ~TcpWatch() { tcp_io(s_, false); }
  TcpWatch(const TcpWatch&) = delete;
  TcpWatch& operator=(const TcpWatch&) = delete;

 private:
  SOCKET s_;
};

// After closesocket(s) succeeded.
void socket_closed(SOCKET s);
// An extension function pointer handed out by WSAIoctl: swapped for its hook.
void extension_pointer(const void* in, DWORD inlen, void* out, DWORD outlen);
// One completion the program was handed (a port, GetOverlappedResult …): recorded unless it was
// already.
void record_completion(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err);
// The error a program sees for a failed operation whose OVERLAPPED holds NTSTATUS `status`:
// the Winsock code where Winsock has one, else the Win32 code.
int winsock_error(ULONG_PTR status);
// The result of an asynchronous GetAddrInfoExW (hooks_dns.cc).
void record_lookup_done(LPOVERLAPPED ov, int err, const PendingOp& op);

#include "kernel_hook_list.h"
// user32 functions hooked for waits, the same way (once user32.dll is in the process).
#define WS_USER32_HOOKS(X)                                                                   \
  X(MsgWaitForMultipleObjects, DWORD, (DWORD, const HANDLE*, BOOL, DWORD, DWORD))            \
  X(MsgWaitForMultipleObjectsEx, DWORD, (DWORD, const HANDLE*, DWORD, DWORD, DWORD))
#define WS_KERNEL_DECLARE(name, ret, params) \
  extern ret(WINAPI* real_##name) params;    \
  ret WINAPI hook_##name params;
WS_KERNEL_HOOKS(WS_KERNEL_DECLARE)
WS_USER32_HOOKS(WS_KERNEL_DECLARE)
#undef WS_KERNEL_DECLARE

// DnsQuery_* of dnsapi.dll (hooks_dns.cc).
using DnsQueryAFn = LONG(WINAPI*)(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);
using DnsQueryWFn = LONG(WINAPI*)(PCWSTR, WORD, DWORD, PVOID, struct _DnsRecordW**, PVOID*);
extern DnsQueryAFn real_DnsQuery_A;
extern DnsQueryWFn real_DnsQuery_W;
extern DnsQueryAFn real_DnsQuery_UTF8;
LONG WINAPI hook_DnsQuery_A(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);
LONG WINAPI hook_DnsQuery_W(PCWSTR, WORD, DWORD, PVOID, struct _DnsRecordW**, PVOID*);
LONG WINAPI hook_DnsQuery_UTF8(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);

// The hooks' installation (hooks_install.cc): body hooks (body_hook.h).
void init_install(HMODULE self);  // first, in DllMain
void install_winsock();     // ws2_32's functions, once it is loaded
void install_extensions();  // the extension functions, after install_winsock (not in DllMain:
                            // it makes a socket)
void install_dnsapi();      // DnsQuery_*, once dnsapi.dll is loaded
void install_user32();      // MsgWaitForMultipleObjects(Ex), once user32.dll is loaded
// One `inherited` event for each socket the process has when the agent starts in it
// (inherited.cc): not in DllMain, it calls into ws2_32.
void record_inherited_sockets();

}  // namespace ws::agent
