// Overlapped I/O: the extension functions that WSAIoctl hands out (ConnectEx, AcceptEx, …) and
// the completions. A call that returns pending carries its OVERLAPPED address as `op`; its
// completion is an io_complete event with the same `op`, the bytes moved and, for receives, the
// data — recorded once, whichever way the program learns of it: GetQueuedCompletionStatus(Ex),
// (WSA)GetOverlappedResult, a completion routine, or, when it only looks at the OVERLAPPED, a
// wait on its event or its next call on the socket.
#include <mswsock.h>

#include "agent.h"

namespace ws::agent {

constinit PendingTable g_pending;

namespace {

HandleSet g_port_sockets;  // sockets bound to a completion port
HandleSet g_posted;        // OVERLAPPED pointers the program posted to a port itself
// The last completion routine wrapped: called if its operation could not be found again (never
// expected; a program's routine must not be lost).
std::atomic<LPWSAOVERLAPPED_COMPLETION_ROUTINE> g_last_routine{nullptr};

// NTSTATUS of socket operations → the Winsock error WSAGetOverlappedResult reports for them.
struct StatusError {
  uint32_t status;
  int error;
};
constexpr StatusError kSocketStatuses[] = {
    {0x80000005, WSAEMSGSIZE},      // STATUS_BUFFER_OVERFLOW
    {0xC0000002, WSAEOPNOTSUPP},    // STATUS_NOT_IMPLEMENTED
    {0xC0000005, WSAEFAULT},        // STATUS_ACCESS_VIOLATION
    {0xC0000008, WSAENOTSOCK},      // STATUS_INVALID_HANDLE
    {0xC0000017, WSAENOBUFS},       // STATUS_NO_MEMORY
    {0xC0000022, WSAEACCES},        // STATUS_ACCESS_DENIED
    {0xC0000023, WSAEFAULT},        // STATUS_BUFFER_TOO_SMALL
    {0xC0000024, WSAENOTSOCK},      // STATUS_OBJECT_TYPE_MISMATCH
    {0xC0000043, WSAEADDRINUSE},    // STATUS_SHARING_VIOLATION
    {0xC000009A, WSAENOBUFS},       // STATUS_INSUFFICIENT_RESOURCES
    {0xC00000A3, WSAEWOULDBLOCK},   // STATUS_DEVICE_NOT_READY
    {0xC00000B0, WSAESHUTDOWN},     // STATUS_PIPE_DISCONNECTED
    {0xC00000B5, WSAETIMEDOUT},     // STATUS_IO_TIMEOUT
    {0xC00000BB, WSAEOPNOTSUPP},    // STATUS_NOT_SUPPORTED
    {0xC00000BC, WSAECONNREFUSED},  // STATUS_REMOTE_NOT_LISTENING
    {0xC00000BE, WSAENETUNREACH},   // STATUS_BAD_NETWORK_PATH
    {0xC00000BF, WSAENETDOWN},      // STATUS_NETWORK_BUSY
    {0xC00000C4, WSAENETDOWN},      // STATUS_UNEXPECTED_NETWORK_ERROR
    {0xC00000D0, WSAEWOULDBLOCK},   // STATUS_REQUEST_NOT_ACCEPTED
    {0xC0000120, WSA_OPERATION_ABORTED},  // STATUS_CANCELLED
    {0xC000013B, WSAECONNABORTED},  // STATUS_LOCAL_DISCONNECT
    {0xC000013C, WSAECONNRESET},    // STATUS_REMOTE_DISCONNECT
    {0xC000013D, WSAENOBUFS},       // STATUS_REMOTE_RESOURCES
    {0xC000013E, WSAECONNRESET},    // STATUS_LINK_FAILED
    {0xC000013F, WSAETIMEDOUT},     // STATUS_LINK_TIMEOUT
    {0xC0000140, WSAENOTCONN},      // STATUS_INVALID_CONNECTION
    {0xC0000141, WSAEADDRNOTAVAIL},  // STATUS_INVALID_ADDRESS
    {0xC0000206, WSAEMSGSIZE},      // STATUS_INVALID_BUFFER_SIZE
    {0xC0000207, WSAEADDRNOTAVAIL},  // STATUS_INVALID_ADDRESS_COMPONENT
    {0xC0000209, WSAENOBUFS},       // STATUS_TOO_MANY_ADDRESSES
    {0xC000020A, WSAEADDRINUSE},    // STATUS_ADDRESS_ALREADY_EXISTS
    {0xC000020C, WSAECONNRESET},    // STATUS_CONNECTION_DISCONNECTED
    {0xC000020D, WSAECONNRESET},    // STATUS_CONNECTION_RESET
    {0xC000020F, WSAECONNABORTED},  // STATUS_TRANSACTION_ABORTED
    {0xC0000236, WSAECONNREFUSED},  // STATUS_CONNECTION_REFUSED
    {0xC0000237, WSAEDISCON},       // STATUS_GRACEFUL_DISCONNECT
    {0xC000023B, WSAEISCONN},       // STATUS_CONNECTION_ACTIVE
    {0xC000023C, WSAENETUNREACH},   // STATUS_NETWORK_UNREACHABLE
    {0xC000023D, WSAEHOSTUNREACH},  // STATUS_HOST_UNREACHABLE
    {0xC000023E, WSAENETUNREACH},   // STATUS_PROTOCOL_UNREACHABLE
    {0xC000023F, WSAECONNRESET},    // STATUS_PORT_UNREACHABLE
    {0xC0000240, WSAEINTR},         // STATUS_REQUEST_ABORTED
    {0xC0000241, WSAECONNABORTED},  // STATUS_CONNECTION_ABORTED
    {0xC0000350, WSAEHOSTDOWN},     // STATUS_HOST_DOWN
};

// The Win32 code of any other status; the NoTeb form leaves the thread's last status alone.
using StatusToDosFn = ULONG(WINAPI*)(LONG);
StatusToDosFn status_to_dos() {
  static std::atomic<StatusToDosFn> fn{nullptr};
  StatusToDosFn f = fn.load(std::memory_order_acquire);
  if (!f) {
    f = reinterpret_cast<StatusToDosFn>(reinterpret_cast<void*>(
        GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "RtlNtStatusToDosErrorNoTeb")));
    fn.store(f, std::memory_order_release);
  }
  return f;
}

}  // namespace

int winsock_error(ULONG_PTR status) {
  const auto st = static_cast<uint32_t>(status);
  if (st == 0) return 0;
  for (const StatusError& e : kSocketStatuses)
    if (e.status == st) return e.error;
  StatusToDosFn f = status_to_dos();
  return f ? static_cast<int>(f(static_cast<LONG>(st))) : static_cast<int>(st);
}

namespace {

using Ends = PendingOp::Ends;

// The socket's own address, asked of the system (after the Call's done(): it puts the last
// error back).
void own_address(Call& c, SOCKET s) {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (g_real.getsockname && g_real.getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::local, &ss, static_cast<size_t>(len), Mem::Proven);
}

// GetAcceptExSockaddrs, as Winsock hands it out (whatever layout this system's AcceptEx writes).
LPFN_GETACCEPTEXSOCKADDRS accept_sockaddrs(SOCKET s) {
  static std::atomic<LPFN_GETACCEPTEXSOCKADDRS> fn{nullptr};
  LPFN_GETACCEPTEXSOCKADDRS f = fn.load(std::memory_order_acquire);
  if (f || !g_real.WSAIoctl) return f;
  GUID id = WSAID_GETACCEPTEXSOCKADDRS;
  DWORD got = 0;
  if (g_real.WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &f, sizeof f, &got,
                      nullptr, nullptr) != 0)
    return nullptr;
  fn.store(f, std::memory_order_release);
  return f;
}

// Both ends of a socket AcceptEx accepted: asked of the system, or, where it does not answer yet
// (Windows, before SO_UPDATE_ACCEPT_CONTEXT), read from AcceptEx's output buffer — copied
// safely first, and read by the system's GetAcceptExSockaddrs in the copy.
void accepted_ends(Call& c, const Ends& e, SOCKET s) {
  sockaddr_storage local, peer;
  int llen = sizeof local, plen = sizeof peer;
  if (g_real.getsockname && g_real.getpeername &&
      g_real.getsockname(s, reinterpret_cast<sockaddr*>(&local), &llen) == 0 &&
      g_real.getpeername(s, reinterpret_cast<sockaddr*>(&peer), &plen) == 0) {
    c.sockaddr(FieldId::local, &local, static_cast<size_t>(llen), Mem::Proven);
    c.sockaddr(FieldId::peer, &peer, static_cast<size_t>(plen), Mem::Proven);
    return;
  }
  alignas(8) char copy[512];
  const size_t n = size_t{e.local} + e.remote;
  LPFN_GETACCEPTEXSOCKADDRS split = accept_sockaddrs(s);
  // (AcceptEx refuses blocks under 16 bytes; GetAcceptExSockaddrs reads a length at the start
  // of each.)
  if (!split || !e.at || e.local < 16 || e.remote < 16 || n > sizeof copy ||
      safe_read(copy, static_cast<const char*>(e.at) + e.data, n) != n)
    return;
  sockaddr *lp = nullptr, *rp = nullptr;
  INT ll = 0, rl = 0;
  split(copy, 0, e.local, e.remote, &lp, &ll, &rp, &rl);
  // Only what lies inside the copy is kept.
  auto inside = [&](const sockaddr* p, INT len) {
    const char* b = reinterpret_cast<const char*>(p);
    return b >= copy && len > 0 && static_cast<size_t>(len) <= n &&
           static_cast<size_t>(b - copy) <= n - static_cast<size_t>(len);
  };
  if (inside(lp, ll)) c.sockaddr(FieldId::local, lp, static_cast<size_t>(ll), Mem::Proven);
  if (inside(rp, rl)) c.sockaddr(FieldId::peer, rp, static_cast<size_t>(rl), Mem::Proven);
}

// What a completion tells of its socket's ends: both of a socket AcceptEx accepted, the own
// address ConnectEx's socket got, the sender of WSARecvFrom's datagram.
void completion_ends(Call& c, const PendingOp& p) {
  switch (p.ends.kind) {
    case Ends::kAccepted: return accepted_ends(c, p.ends, p.sock);
    case Ends::kConnected: return own_address(c, p.sock);
    case Ends::kFrom: {
      // The datagram's sender, written where the call was told (read safely: it may be gone).
      INT len = 0;
      if (read_safely(len, p.ends.len) && len > 0)
        c.sockaddr(FieldId::peer, p.ends.at, static_cast<size_t>(len));
      return;
    }
    case Ends::kNone: return;
  }
}

// One completion, as its own event; `p` is what was noted of the call (when `took` found it).
// One that finished at once was recorded with its call: its packet only names it. `noticed`:
// how wstrace found it itself (FieldId::noticed), 0 when the program was handed it.
void record_taken(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err, Took took,
                  const PendingOp& p, uint8_t noticed = 0) {
  {
    Call c(f);
    c.done(ok ? static_cast<int64_t>(bytes) : -1, false);
    if (!ok) c.error(ErrDomain::Win, err);
    c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
    c.u64(FieldId::len, bytes);
    if (took == Took::kFresh || took == Took::kAtOnce) c.u64(FieldId::sock, p.sock);
    if (noticed) c.u64(FieldId::noticed, noticed);
    if (took != Took::kFresh || !ok) return;
    if (bytes && p.nbufs) c.payload_parts(p.bufs, p.nbufs, bytes);
    completion_ends(c, p);
  }  // recorded before the connection's first statistics
  if (p.ends.kind == Ends::kConnected || p.ends.kind == Ends::kAccepted) tcp_setup(p.sock);
}

// A completion wstrace noticed itself, recorded as what WSAGetOverlappedResult would have said.
void record_noticed(const Noticed& n, uint8_t how) {
  if (n.op.kind == PendingOp::kLookup) {
    record_lookup_done(n.ov, static_cast<int>(n.status), n.op);
    return;
  }
  const bool ok = n.status == 0;
  record_taken(FuncId::WSAGetOverlappedResult, n.ov, static_cast<DWORD>(n.bytes), ok,
               ok ? 0 : winsock_error(n.status), Took::kFresh, n.op, how);
}

// How a completion was noticed (FieldId::noticed).
constexpr uint8_t kAtWait = 1, kAtSocketCall = 2;

// Records what a scan of the table found, leaving the last error as it was.
template <typename Scan>
void record_found(Scan scan, uint8_t how) {
  const DWORD e = GetLastError();
  Noticed found[8];
  for (size_t n = sizeof found / sizeof found[0]; n == sizeof found / sizeof found[0];) {
    n = scan(found, sizeof found / sizeof found[0]);
    for (size_t i = 0; i < n; ++i) record_noticed(found[i], how);
  }
  SetLastError(e);
}

// Runs in the program's thread during an alertable wait, in place of its completion routine:
// records the completion, then calls the program's routine.
void CALLBACK routine_trampoline(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  PendingOp p;
  Took took = g_pending.take(ov, p, true);
  if (took == Took::kFresh)
    record_taken(FuncId::completion_routine, ov, bytes, err == 0, static_cast<int>(err), took, p);
  auto routine = took != Took::kNone && p.routine
                     ? reinterpret_cast<LPWSAOVERLAPPED_COMPLETION_ROUTINE>(p.routine)
                     : g_last_routine.load(std::memory_order_relaxed);
  if (routine) routine(err, bytes, ov, flags);
}

// The buffers' places are kept, not the WSABUF array (it may live on the caller's stack). The
// array is read safely, before the call: false when Winsock will refuse it (WSAEFAULT).
bool wsabuf_parts(const WSABUF* bufs, DWORD count, PendingOp& op) {
  WSABUF first[4];
  const DWORD n = bufs ? (count < 4 ? count : 4) : 0;
  op.nbufs = 0;
  if (safe_read(first, bufs, n * sizeof(WSABUF)) != n * sizeof(WSABUF)) return false;
  for (DWORD i = 0; i < n; ++i) op.bufs[op.nbufs++] = Part{first[i].buf, first[i].len};
  return true;
}

}  // namespace

void record_completion(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err) {
  if (!ov) return;
  PendingOp p;
  Took took = g_pending.take(ov, p, false);
  if (took == Took::kRecorded) return;
  // A packet the program posted itself (PostQueuedCompletionStatus) is a wake-up, no I/O.
  if (took == Took::kNone && g_posted.has(ov)) return;
  record_taken(f, ov, bytes, ok, err, took, p);
}

// ---- OverlappedCall ---------------------------------------------------------------------------

OverlappedCall::OverlappedCall(LPOVERLAPPED ov, SOCKET s, SOCKET bound, const WSABUF* bufs,
                               DWORD count, LPWSAOVERLAPPED_COMPLETION_ROUTINE theirs,
                               const PendingOp::Ends& ends)
    : ov_(ov), pass_(theirs) {
  if (!ov || !recording()) return;
  PendingOp op;
  op.sock = s;
  op.ends = ends;
  if (!wsabuf_parts(bufs, count, op)) return;  // refused: not pending, nothing to note
  if (theirs) {
    op.routine = reinterpret_cast<void*>(theirs);
  } else {
    HANDLE ev;
    if (!read_safely(ev, &ov->hEvent)) return;
    // (The low bit of hEvent only says "not to the completion port".)
    op.event = reinterpret_cast<HANDLE>(reinterpret_cast<uintptr_t>(ev) & ~uintptr_t{1});
    op.by_socket = !g_port_sockets.has(reinterpret_cast<HANDLE>(bound));
  }
  note(op);
}

void OverlappedCall::note(const PendingOp& op) {
  noted_ = g_pending.begin(ov_, op);
  if (noted_ && pass_) {
    g_last_routine.store(pass_, std::memory_order_relaxed);
    pass_ = routine_trampoline;
    wrapped_ = true;
  }
}

void OverlappedCall::settle(bool failed) {
  if (!noted_) return;
  const bool pending = failed && WSAGetLastError() == WSA_IO_PENDING;
  // A routine runs after an immediate success too.
  noticed_ = g_pending.settle(ov_, pending || (wrapped_ && !failed), found_, !failed);
}

OverlappedCall::~OverlappedCall() {
  if (!noticed_) return;
  const DWORD e = GetLastError();
  record_noticed(found_, 0);  // (seen as the call returned)
  SetLastError(e);
}

void notice_socket(SOCKET s) {
  if (!g_pending.watching_sockets() || !recording()) return;
  record_found(
      [s](Noticed* out, size_t max) { return g_pending.completed_on_socket(s, out, max); },
      kAtSocketCall);
}

void socket_closed(SOCKET s) { g_port_sockets.remove(reinterpret_cast<HANDLE>(s)); }

// ---- The extension functions ------------------------------------------------------------------

// (Their hooks are reached through body hooks, or through WSAIoctl's answers: hooks_install.cc.)

LPFN_CONNECTEX real_ConnectEx = nullptr;
LPFN_ACCEPTEX real_AcceptEx = nullptr;
LPFN_DISCONNECTEX real_DisconnectEx = nullptr;
LPFN_TRANSMITFILE real_TransmitFile = nullptr;
LPFN_WSARECVMSG real_WSARecvMsg = nullptr;
LPFN_WSASENDMSG real_WSASendMsg = nullptr;

BOOL WINAPI hook_ConnectEx(SOCKET s, const sockaddr* name, int namelen, PVOID send_buf,
                           DWORD send_len, LPDWORD sent, LPOVERLAPPED ov) {
  notice_socket(s);
  WSABUF data{send_len, static_cast<char*>(send_buf)};  // sent on connecting: kept at completion
  // (Its own address is known once it completes.)
  OverlappedCall oc(ov, s, s, &data, send_buf ? 1 : 0, nullptr, Ends{Ends::kConnected});
  BOOL ok;
  {
    Call c(FuncId::ConnectEx);
    ok = real_ConnectEx(s, name, namelen, send_buf, send_len, sent, ov);
    oc.settle(!ok);
    c.done(ok ? 0 : -1, !ok);
    c.u64(FieldId::sock, s);
    c.sockaddr(FieldId::addr, name, static_cast<size_t>(namelen));
    c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
    if (ok) own_address(c, s);
  }  // recorded before the connection's first statistics
  if (ok) tcp_setup(s);
  return ok;
}

BOOL WINAPI hook_AcceptEx(SOCKET l, SOCKET a, PVOID buf, DWORD recv_len, DWORD local_len,
                          DWORD remote_len, LPDWORD got, LPOVERLAPPED ov) {
  notice_socket(l);
  WSABUF data{recv_len, static_cast<char*>(buf)};  // the first data received
  // (Its completion goes to the listener's port; it is noticed on the accepted socket. Both
  // ends are read when it completes: they follow the data in `buf`.)
  const Ends ends{Ends::kAccepted, buf, nullptr, recv_len, local_len, remote_len};
  OverlappedCall oc(ov, a, l, &data, buf && recv_len ? 1 : 0, nullptr, ends);
  BOOL ok;
  {
    Call c(FuncId::AcceptEx);
    ok = real_AcceptEx(l, a, buf, recv_len, local_len, remote_len, got, ov);
    oc.settle(!ok);
    c.done(ok ? 0 : -1, !ok);
    c.u64(FieldId::sock, l);
    c.u64(FieldId::new_sock, a);
    c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
    if (ok) accepted_ends(c, ends, a);
  }  // recorded before the connection's first statistics
  if (ok) tcp_setup(a);
  return ok;
}

BOOL WINAPI hook_DisconnectEx(SOCKET s, LPOVERLAPPED ov, DWORD flags, DWORD reserved) {
  notice_socket(s);
  OverlappedCall oc(ov, s, s, nullptr, 0, nullptr);
  Call c(FuncId::DisconnectEx);
  BOOL ok = real_DisconnectEx(s, ov, flags, reserved);
  oc.settle(!ok);
  c.done(ok ? 0 : -1, !ok);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  return ok;
}

BOOL WINAPI hook_TransmitFile(SOCKET s, HANDLE file, DWORD n, DWORD per_send, LPOVERLAPPED ov,
                              LPTRANSMIT_FILE_BUFFERS bufs, DWORD flags) {
  notice_socket(s);
  TcpWatch tcp(s);
  OverlappedCall oc(ov, s, s, nullptr, 0, nullptr);
  Call c(FuncId::TransmitFile);
  BOOL ok = real_TransmitFile(s, file, n, per_send, ov, bufs, flags);
  oc.settle(!ok);
  c.done(ok ? 0 : -1, !ok);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::len, n);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  return ok;
}

// WSARecvMsg and WSASendMsg alike: the message's buffers, its address as `addr_field`.
template <typename Real, typename... Flags>
INT traced_msg(FuncId f, FieldId addr_field, Real real_fn, SOCKET s, LPWSAMSG msg, LPDWORD moved,
               LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done, Flags... flags) {
  notice_socket(s);
  TcpWatch tcp(s);
  WSAMSG m{};  // read safely before the call: Winsock answers WSAEFAULT for a refused one
  const bool readable = read_safely(m, msg);
  // A receive's sender is written into the message's name (and namelen) when it completes: read
  // then.
  const bool from = f == FuncId::WSARecvMsg && readable && m.name;
  OverlappedCall oc(ov, s, s, readable ? m.lpBuffers : nullptr, readable ? m.dwBufferCount : 0,
                    done, Ends{from ? Ends::kFrom : Ends::kNone, from ? m.name : nullptr,
                               from ? &msg->namelen : nullptr});
  Call c(f);
  INT r = real_fn(s, msg, flags..., moved, ov, oc.routine());
  oc.settle(r == SOCKET_ERROR);
  c.done(r == 0 && moved ? static_cast<int64_t>(*moved) : r, r == SOCKET_ERROR);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  if (msg && r == 0 && moved) {  // done at once: Winsock read the message and wrote what it says
    if (msg->name)
      c.sockaddr(addr_field, msg->name, static_cast<size_t>(msg->namelen), Mem::Proven);
    Part parts[16];
    size_t n = msg->dwBufferCount < 16 ? msg->dwBufferCount : 16;
    for (size_t i = 0; i < n; ++i) parts[i] = Part{msg->lpBuffers[i].buf, msg->lpBuffers[i].len};
    c.payload_parts(parts, n, *moved);
  }
  return r;
}

INT WINAPI hook_WSARecvMsg(SOCKET s, LPWSAMSG msg, LPDWORD got, LPWSAOVERLAPPED ov,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  return traced_msg(FuncId::WSARecvMsg, FieldId::peer, real_WSARecvMsg, s, msg, got, ov, done);
}

INT WSAAPI hook_WSASendMsg(SOCKET s, LPWSAMSG msg, DWORD flags, LPDWORD sent,
                           LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  return traced_msg(FuncId::WSASendMsg, FieldId::addr, real_WSASendMsg, s, msg, sent, ov, done,
                    flags);
}

// ---- kernel32: completion ports, GetOverlappedResult, waits -----------------------------------

#define WS_KERNEL_DEFINE(name, ret, params) ret(WINAPI* real_##name) params = nullptr;
WS_KERNEL_HOOKS(WS_KERNEL_DEFINE)
WS_USER32_HOOKS(WS_KERNEL_DEFINE)
#undef WS_KERNEL_DEFINE

BOOL WINAPI hook_GetQueuedCompletionStatus(HANDLE port, LPDWORD bytes, PULONG_PTR key,
                                           LPOVERLAPPED* ov, DWORD ms) {
  BOOL ok = real_GetQueuedCompletionStatus(port, bytes, key, ov, ms);
  DWORD e = GetLastError();
  // What the call wrote: read directly after a success (it wrote both), else safely.
  LPOVERLAPPED done = nullptr;
  DWORD n = 0;
  bool have = ok && ov && bytes;
  if (have) {
    done = *ov;
    n = *bytes;
  } else if (!ok) {
    have = read_safely(done, ov) && read_safely(n, bytes);
  }
  if (have && done)
    record_completion(FuncId::GetQueuedCompletionStatus, done, n, ok, static_cast<int>(e));
  SetLastError(e);
  return ok;
}

// Each entry's status is the NTSTATUS of its operation (also for packets a program posted
// itself, whose OVERLAPPED pointer need not point at an OVERLAPPED: it is not read).
BOOL WINAPI hook_GetQueuedCompletionStatusEx(HANDLE port, LPOVERLAPPED_ENTRY entries, ULONG n,
                                             PULONG removed, DWORD ms, BOOL alertable) {
  BOOL ok = real_GetQueuedCompletionStatusEx(port, entries, n, removed, ms, alertable);
  DWORD e = GetLastError();
  if (ok && removed)
    for (ULONG i = 0; i < *removed; ++i)
      record_completion(FuncId::GetQueuedCompletionStatusEx, entries[i].lpOverlapped,
                        entries[i].dwNumberOfBytesTransferred, entries[i].Internal == 0,
                        winsock_error(entries[i].Internal));
  SetLastError(e);
  return ok;
}

BOOL WINAPI hook_GetOverlappedResult(HANDLE h, LPOVERLAPPED ov, LPDWORD bytes, BOOL wait) {
  BOOL ok = real_GetOverlappedResult(h, ov, bytes, wait);
  DWORD e = GetLastError();
  DWORD n = 0;
  if ((ok || e != ERROR_IO_INCOMPLETE) && read_safely(n, bytes))
    record_completion(FuncId::GetOverlappedResult, ov, n, ok, static_cast<int>(e));
  SetLastError(e);
  return ok;
}

HANDLE WINAPI hook_CreateIoCompletionPort(HANDLE file, HANDLE port, ULONG_PTR key, DWORD n) {
  HANDLE r = real_CreateIoCompletionPort(file, port, key, n);
  if (r && file != INVALID_HANDLE_VALUE) g_port_sockets.add(file);
  return r;
}

namespace {
// After a wait that ended because `handles` (or one of them) were signalled.
void after_wait(const HANDLE* handles, DWORD n) {
  if (!recording()) return;
  record_found([handles, n](Noticed* out, size_t max) {
    return g_pending.completed_by_event(handles, n, out, max);
  }, kAtWait);
}
}  // namespace

DWORD WINAPI hook_WaitForSingleObject(HANDLE h, DWORD ms) {
  DWORD r = real_WaitForSingleObject(h, ms);
  if (r == WAIT_OBJECT_0 && g_pending.watching_events()) after_wait(&h, 1);
  return r;
}

DWORD WINAPI hook_WaitForSingleObjectEx(HANDLE h, DWORD ms, BOOL alertable) {
  DWORD r = real_WaitForSingleObjectEx(h, ms, alertable);
  if (r == WAIT_OBJECT_0 && g_pending.watching_events()) after_wait(&h, 1);
  return r;
}

DWORD WINAPI hook_WaitForMultipleObjects(DWORD n, const HANDLE* hs, BOOL all, DWORD ms) {
  DWORD r = real_WaitForMultipleObjects(n, hs, all, ms);
  if (r < WAIT_OBJECT_0 + n && g_pending.watching_events()) after_wait(hs, n);
  return r;
}

DWORD WINAPI hook_WaitForMultipleObjectsEx(DWORD n, const HANDLE* hs, BOOL all, DWORD ms,
                                           BOOL alertable) {
  DWORD r = real_WaitForMultipleObjectsEx(n, hs, all, ms, alertable);
  if (r < WAIT_OBJECT_0 + n && g_pending.watching_events()) after_wait(hs, n);
  return r;
}

DWORD WINAPI hook_SignalObjectAndWait(HANDLE signal, HANDLE h, DWORD ms, BOOL alertable) {
  DWORD r = real_SignalObjectAndWait(signal, h, ms, alertable);
  if (r == WAIT_OBJECT_0 && g_pending.watching_events()) after_wait(&h, 1);
  return r;
}

// (WAIT_OBJECT_0 + n: a message arrived, no handle was signalled.)
DWORD WINAPI hook_MsgWaitForMultipleObjects(DWORD n, const HANDLE* hs, BOOL all, DWORD ms,
                                            DWORD wake) {
  DWORD r = real_MsgWaitForMultipleObjects(n, hs, all, ms, wake);
  if (r < WAIT_OBJECT_0 + n && g_pending.watching_events()) after_wait(hs, n);
  return r;
}

DWORD WINAPI hook_MsgWaitForMultipleObjectsEx(DWORD n, const HANDLE* hs, DWORD ms, DWORD wake,
                                              DWORD flags) {
  DWORD r = real_MsgWaitForMultipleObjectsEx(n, hs, ms, wake, flags);
  if (r < WAIT_OBJECT_0 + n && g_pending.watching_events()) after_wait(hs, n);
  return r;
}

BOOL WINAPI hook_PostQueuedCompletionStatus(HANDLE port, DWORD n, ULONG_PTR key,
                                            LPOVERLAPPED ov) {
  if (ov) g_posted.add(ov);  // before: the packet may be taken at once on another thread
  return real_PostQueuedCompletionStatus(port, n, key, ov);
}

DWORD WSAAPI hook_WSAWaitForMultipleEvents(DWORD n, const WSAEVENT* hs, BOOL all, DWORD ms,
                                           BOOL alertable) {
  DWORD r = g_real.WSAWaitForMultipleEvents(n, hs, all, ms, alertable);
  if (r < WSA_WAIT_EVENT_0 + n && g_pending.watching_events()) after_wait(hs, n);
  return r;
}

}  // namespace ws::agent
