// The Winsock hooks: each calls the real function first, then records what it did.
#include <mswsock.h>

#include "agent.h"

namespace ws::agent {
namespace {

bool failed(int r) { return r == SOCKET_ERROR; }

// The extension function a SIO_GET_EXTENSION_FUNCTION_POINTER asks for, by its GUID; another
// GUID as its registry form, written into `text` (no allocation in a hook).
const char* extension_name(const GUID& g, char (&text)[40]) {
  struct Known {
    GUID id;
    const char* name;
  };
  // The hooked ones, and those wstrace names without hooking them.
#define WS_EXTENSION_KNOWN(name, type, guid) {guid, #name},
  static const Known kKnown[] = {
      WS_EXTENSION_HOOKS(WS_EXTENSION_KNOWN)
      {WSAID_GETACCEPTEXSOCKADDRS, "GetAcceptExSockaddrs"},
      {WSAID_TRANSMITPACKETS, "TransmitPackets"},
      {WSAID_WSAPOLL, "WSAPoll"},
  };
#undef WS_EXTENSION_KNOWN
  for (const Known& k : kKnown)
    if (memcmp(&k.id, &g, sizeof g) == 0) return k.name;
  // Written by hand: the C library's formatting may take its locale lock.
  char* o = text;
  auto put = [&o](uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) *o++ = "0123456789abcdef"[(v >> (4 * i)) & 0xf];
  };
  *o++ = '{';
  put(g.Data1, 8), *o++ = '-', put(g.Data2, 4), *o++ = '-', put(g.Data3, 4), *o++ = '-';
  put(g.Data4[0], 2), put(g.Data4[1], 2), *o++ = '-';
  for (int i = 2; i < 8; ++i) put(g.Data4[i], 2);
  *o++ = '}';
  *o = '\0';
  return text;
}

// The socket's own address.
void note_local(Call& c, SOCKET s) {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (g_real.getsockname(s, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::local, &ss, static_cast<size_t>(len), Mem::Proven);
}

// Sockets whose own address a datagram send has noted: the first sendto/WSASendTo of a socket
// binds it implicitly (the system picks the port), so that one asks once; later ones do not.
HandleSet g_sent_from;
void note_local_once(Call& c, SOCKET s) {
  if (g_sent_from.has(reinterpret_cast<HANDLE>(s))) return;
  note_local(c, s);
  g_sent_from.add(reinterpret_cast<HANDLE>(s));
}

void socket_args(Call& c, int af, int type, int protocol) {
  c.platform_const(FieldId::family, af);
  c.platform_const(FieldId::type, type);
  c.platform_const(FieldId::protocol, protocol);
}

void io_args(Call& c, SOCKET s, uint64_t len, int flags) {
  c.u64(FieldId::sock, s);
  c.u64(FieldId::len, len);
  if (flags) c.platform_const(FieldId::flags, flags);
}

void wsabuf_payload(Call& c, const WSABUF* bufs, DWORD n, int64_t total) {
  Part parts[16];
  size_t k = n < 16 ? n : 16;
  for (size_t i = 0; i < k; ++i) parts[i] = Part{bufs[i].buf, bufs[i].len};
  c.payload_parts(parts, k, total);
}

// The bytes `n` WSABUFs ask for: summed directly when the call proved the array readable (it
// succeeded or is pending), else read safely a piece at a time; 0 when unreadable.
uint64_t wsabuf_total(const WSABUF* bufs, DWORD n, Mem m) {
  uint64_t t = 0;
  if (!bufs) return 0;
  if (m == Mem::Proven) {
    for (DWORD i = 0; i < n; ++i) t += bufs[i].len;
    return t;
  }
  constexpr DWORD kPiece = 32;
  WSABUF piece[kPiece];
  for (DWORD i = 0; i < n && i < 1024; i += kPiece) {
    const DWORD k = n - i < kPiece ? n - i : kPiece;
    if (safe_read(piece, bufs + i, k * sizeof(WSABUF)) != k * sizeof(WSABUF)) return 0;
    for (DWORD j = 0; j < k; ++j) t += piece[j].len;
  }
  return t;
}

// A WSABUF call's array was taken by Winsock when it succeeded or is pending.
Mem taken(int r) {
  return r == 0 || WSAGetLastError() == WSA_IO_PENDING ? Mem::Proven : Mem::Unproven;
}

// A value the program passes by pointer, read before the call (which may refuse the pointer):
// 0 when unreadable.
template <typename T>
T value_at(const T* p) {
  T v{};
  if (!read_safely(v, p)) v = T{};
  return v;
}

// An overlapped call that is still pending is one operation with its completion: both carry
// the OVERLAPPED address as `op`.
void overlapped_args(Call& c, LPWSAOVERLAPPED ov) {
  if (ov) c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
}

// What a receive that returned 0 moved: *got, or, when the program asked an overlapped call
// for no count, the count the system put in its OVERLAPPED.
int64_t received(int r, const DWORD* got, LPWSAOVERLAPPED ov) {
  if (r != 0) return r;
  if (got) return static_cast<int64_t>(*got);
  ULONG_PTR n = 0;
  return ov && read_safely(n, &ov->InternalHigh) ? static_cast<int64_t>(n) : 0;
}

}  // namespace

int WSAAPI hook_WSAStartup(WORD version, LPWSADATA data) {
  Call c(FuncId::WSAStartup);
  int r = g_real.WSAStartup(version, data);
  c.done(r, false);
  if (r) c.error(ErrDomain::Win, r);  // returns its error instead of setting it
  c.u64(FieldId::version, version);
  return r;
}

int WSAAPI hook_WSACleanup() {
  Call c(FuncId::WSACleanup);
  int r = g_real.WSACleanup();
  c.done(r, failed(r));
  return r;
}

namespace {
// The result of a call that creates a socket: the socket, or -1 and the error.
SOCKET created(Call& c, SOCKET s) {
  c.done(s == INVALID_SOCKET ? -1 : static_cast<int64_t>(s), s == INVALID_SOCKET);
  return s;
}
}  // namespace

SOCKET WSAAPI hook_socket(int af, int type, int protocol) {
  Call c(FuncId::socket);
  SOCKET s = created(c, g_real.socket(af, type, protocol));
  socket_args(c, af, type, protocol);
  tcp_socket_made(s, af, type, protocol);
  return s;
}

SOCKET WSAAPI hook_WSASocketA(int af, int type, int protocol, LPWSAPROTOCOL_INFOA info, GROUP g,
                              DWORD flags) {
  Call c(FuncId::WSASocketA);
  SOCKET s = created(c, g_real.WSASocketA(af, type, protocol, info, g, flags));
  socket_args(c, af, type, protocol);
  // (Made from a protocol's description, it is asked what it is when that matters.)
  if (!info) tcp_socket_made(s, af, type, protocol);
  return s;
}

SOCKET WSAAPI hook_WSASocketW(int af, int type, int protocol, LPWSAPROTOCOL_INFOW info, GROUP g,
                              DWORD flags) {
  Call c(FuncId::WSASocketW);
  SOCKET s = created(c, g_real.WSASocketW(af, type, protocol, info, g, flags));
  socket_args(c, af, type, protocol);
  // (Made from a protocol's description, it is asked what it is when that matters.)
  if (!info) tcp_socket_made(s, af, type, protocol);
  return s;
}

int WSAAPI hook_bind(SOCKET s, const sockaddr* a, int len) {
  Call c(FuncId::bind);
  int r = g_real.bind(s, a, len);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.sockaddr(FieldId::addr, a, static_cast<size_t>(len));
  return r;
}

int WSAAPI hook_listen(SOCKET s, int backlog) {
  Call c(FuncId::listen);
  int r = g_real.listen(s, backlog);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.i64(FieldId::backlog, backlog);
  return r;
}

namespace {
// connect and WSAConnect alike.
template <typename Real, typename... More>
int traced_connect(FuncId f, Real real_fn, SOCKET s, const sockaddr* a, int len, More... more) {
  notice_socket(s);
  int r;
  {
    Call c(f);
    r = real_fn(s, a, len, more...);
    c.done(r, failed(r));
    c.u64(FieldId::sock, s);
    c.sockaddr(FieldId::addr, a, static_cast<size_t>(len));
    if (r == 0 || c.saved_error() == WSAEWOULDBLOCK) note_local(c, s);
  }  // recorded before the connection's first statistics
  if (r == 0) tcp_setup(s);
  return r;
}
}  // namespace

int WSAAPI hook_connect(SOCKET s, const sockaddr* a, int len) {
  return traced_connect(FuncId::connect, g_real.connect, s, a, len);
}

int WSAAPI hook_WSAConnect(SOCKET s, const sockaddr* a, int len, LPWSABUF out, LPWSABUF in,
                           LPQOS sq, LPQOS gq) {
  return traced_connect(FuncId::WSAConnect, g_real.WSAConnect, s, a, len, out, in, sq, gq);
}

namespace {
// The connection's peer, asked of the system (after the Call's done(): it puts the last error
// back).
void note_peer(Call& c, SOCKET s) {
  sockaddr_storage ss;
  int len = sizeof ss;
  if (g_real.getpeername(s, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::peer, &ss, static_cast<size_t>(len), Mem::Proven);
}

void accepted(Call& c, SOCKET listener, SOCKET s, const sockaddr* a, const int* len,
              int given) {
  created(c, s);
  c.u64(FieldId::sock, listener);
  if (s == INVALID_SOCKET) return;
  c.u64(FieldId::new_sock, s);
  // Winsock wrote *len and that much of the address. When the program does not ask for the
  // peer, wstrace asks in its place, after the call: the real call is the program's own (Wine's
  // accept given an address buffer leaves another last error).
  if (a && len)
    c.sockaddr(FieldId::peer, a, static_cast<size_t>(*len < given ? *len : given), Mem::Proven);
  else
    note_peer(c, s);
  note_local(c, s);
}

// accept and WSAAccept alike.
template <typename Real, typename... More>
SOCKET traced_accept(FuncId f, Real real_fn, SOCKET l, sockaddr* a, int* len, More... more) {
  SOCKET s;
  {
    Call c(f);
    const int given = a ? value_at(len) : 0;
    s = real_fn(l, a, len, more...);
    accepted(c, l, s, a, len, given);
  }  // recorded before the connection's first statistics
  tcp_socket_accepted(s, l);
  return s;
}
}  // namespace

SOCKET WSAAPI hook_accept(SOCKET l, sockaddr* a, int* len) {
  return traced_accept(FuncId::accept, g_real.accept, l, a, len);
}

SOCKET WSAAPI hook_WSAAccept(SOCKET l, sockaddr* a, LPINT len, LPCONDITIONPROC cond,
                             DWORD_PTR data) {
  return traced_accept(FuncId::WSAAccept, g_real.WSAAccept, l, a, len, cond, data);
}

int WSAAPI hook_send(SOCKET s, const char* buf, int len, int flags) {
  notice_socket(s);
  TcpWatch tcp(s);
  Call c(FuncId::send);
  int r = g_real.send(s, buf, len, flags);
  c.done(r, failed(r));
  io_args(c, s, static_cast<uint64_t>(len), flags);
  c.payload(buf, r);
  return r;
}

int WSAAPI hook_sendto(SOCKET s, const char* buf, int len, int flags, const sockaddr* to,
                       int tolen) {
  notice_socket(s);
  TcpWatch tcp(s);
  Call c(FuncId::sendto);
  int r = g_real.sendto(s, buf, len, flags, to, tolen);
  c.done(r, failed(r));
  io_args(c, s, static_cast<uint64_t>(len), flags);
  c.sockaddr(FieldId::addr, to, static_cast<size_t>(tolen));
  c.payload(buf, r);
  if (r >= 0 && to) note_local_once(c, s);
  return r;
}

int WSAAPI hook_WSASend(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD sent, DWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  notice_socket(s);
  TcpWatch tcp(s);
  OverlappedCall oc(ov, s, s, bufs, n, done);
  Call c(FuncId::WSASend);
  int r = g_real.WSASend(s, bufs, n, sent, flags, ov, oc.routine());
  oc.settle(r == SOCKET_ERROR);
  // Done at once: all of it was taken (an overlapped call need not say how much).
  const Mem mem = taken(r);
  const uint64_t total = wsabuf_total(bufs, n, mem);
  int64_t moved = r != 0 ? r : sent ? static_cast<int64_t>(*sent) : static_cast<int64_t>(total);
  c.done(moved, failed(r));
  io_args(c, s, total, static_cast<int>(flags));
  c.u64(FieldId::count, n);
  overlapped_args(c, ov);
  if (r == 0) wsabuf_payload(c, bufs, n, moved);
  return r;
}

int WSAAPI hook_WSASendTo(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD sent, DWORD flags,
                          const sockaddr* to, int tolen, LPWSAOVERLAPPED ov,
                          LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  notice_socket(s);
  TcpWatch tcp(s);
  OverlappedCall oc(ov, s, s, bufs, n, done);
  Call c(FuncId::WSASendTo);
  int r = g_real.WSASendTo(s, bufs, n, sent, flags, to, tolen, ov, oc.routine());
  oc.settle(r == SOCKET_ERROR);
  const Mem mem = taken(r);
  const uint64_t total = wsabuf_total(bufs, n, mem);
  int64_t moved = r != 0 ? r : sent ? static_cast<int64_t>(*sent) : static_cast<int64_t>(total);
  c.done(moved, failed(r));
  io_args(c, s, total, static_cast<int>(flags));
  c.u64(FieldId::count, n);
  c.sockaddr(FieldId::addr, to, static_cast<size_t>(tolen));
  overlapped_args(c, ov);
  if (r == 0) wsabuf_payload(c, bufs, n, moved);
  if ((r == 0 || WSAGetLastError() == WSA_IO_PENDING) && to) note_local_once(c, s);
  return r;
}

int WSAAPI hook_recv(SOCKET s, char* buf, int len, int flags) {
  notice_socket(s);
  TcpWatch tcp(s);
  Call c(FuncId::recv);
  int r = g_real.recv(s, buf, len, flags);
  c.done(r, failed(r));
  io_args(c, s, static_cast<uint64_t>(len), flags);
  c.payload(buf, r);
  return r;
}

int WSAAPI hook_recvfrom(SOCKET s, char* buf, int len, int flags, sockaddr* from, int* fromlen) {
  notice_socket(s);
  TcpWatch tcp(s);
  Call c(FuncId::recvfrom);
  // The sender is asked for with a buffer of the agent's when the program gave none. On a TCP
  // stream Winsock writes none: the buffer then holds stale bytes, never recorded.
  const bool sender = !tcp_known(s);
  sockaddr_storage mine{};  // (family 0 until Winsock writes one)
  int mine_len = sizeof mine;
  sockaddr* pa = from || !sender ? from : reinterpret_cast<sockaddr*>(&mine);
  int* pl = from || !sender ? fromlen : &mine_len;
  const int given = from ? value_at(fromlen) : mine_len;
  int r = g_real.recvfrom(s, buf, len, flags, pa, pl);
  c.done(r, failed(r));
  io_args(c, s, static_cast<uint64_t>(len), flags);
  if (r >= 0 && sender && pl && (pa != reinterpret_cast<sockaddr*>(&mine) || mine.ss_family))
    c.sockaddr(FieldId::peer, pa, static_cast<size_t>(*pl < given ? *pl : given), Mem::Proven);
  c.payload(buf, r);
  return r;
}

int WSAAPI hook_WSARecv(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD got, LPDWORD flags,
                        LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  notice_socket(s);
  TcpWatch tcp(s);
  OverlappedCall oc(ov, s, s, bufs, n, done);
  Call c(FuncId::WSARecv);
  const int in_flags = static_cast<int>(value_at(flags));
  int r = g_real.WSARecv(s, bufs, n, got, flags, ov, oc.routine());
  oc.settle(r == SOCKET_ERROR);
  const Mem mem = taken(r);
  const int64_t moved = received(r, got, ov);
  c.done(moved, failed(r));
  io_args(c, s, wsabuf_total(bufs, n, mem), in_flags);
  c.u64(FieldId::count, n);
  overlapped_args(c, ov);
  if (r == 0) wsabuf_payload(c, bufs, n, moved);
  return r;
}

int WSAAPI hook_WSARecvFrom(SOCKET s, LPWSABUF bufs, DWORD n, LPDWORD got, LPDWORD flags,
                            sockaddr* from, LPINT fromlen, LPWSAOVERLAPPED ov,
                            LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  notice_socket(s);
  TcpWatch tcp(s);
  // (The sender is written where lpFrom points when it completes: read then. Not on a TCP
  // stream, where Winsock ignores lpFrom and the buffer keeps what it held.)
  const bool sender = from && fromlen && !tcp_known(s);
  OverlappedCall oc(ov, s, s, bufs, n, done,
                    PendingOp::Ends{sender ? PendingOp::Ends::kFrom : PendingOp::Ends::kNone,
                                    from, fromlen});
  Call c(FuncId::WSARecvFrom);
  const int in_flags = static_cast<int>(value_at(flags));
  int r = g_real.WSARecvFrom(s, bufs, n, got, flags, from, fromlen, ov, oc.routine());
  oc.settle(r == SOCKET_ERROR);
  const Mem mem = taken(r);
  const int64_t moved = received(r, got, ov);
  c.done(moved, failed(r));
  io_args(c, s, wsabuf_total(bufs, n, mem), in_flags);
  c.u64(FieldId::count, n);
  // Done at once: Winsock wrote *fromlen and the address (WSAEFAULT when it did not fit).
  if (r == 0 && sender)
    c.sockaddr(FieldId::peer, from, static_cast<size_t>(*fromlen), Mem::Proven);
  overlapped_args(c, ov);
  if (r == 0) wsabuf_payload(c, bufs, n, moved);
  return r;
}

int WSAAPI hook_shutdown(SOCKET s, int how) {
  notice_socket(s);
  tcp_end(s, TcpAt::Shutdown);  // what the connection went through up to here
  Call c(FuncId::shutdown);
  int r = g_real.shutdown(s, how);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.platform_const(FieldId::how, how);
  return r;
}

int WSAAPI hook_closesocket(SOCKET s) {
  notice_socket(s);
  tcp_end(s, TcpAt::Close);  // the connection's final figures, while it still has them
  Call c(FuncId::closesocket);
  int r = g_real.closesocket(s);
  c.done(r, failed(r));
  if (r == 0) {
    socket_closed(s);
    g_sent_from.remove(reinterpret_cast<HANDLE>(s));
    tcp_socket_closed(s);
  }
  c.u64(FieldId::sock, s);
  return r;
}

namespace {

// A Winsock fd_set's sockets as the call will read them (count, then that many), read safely:
// false when unreadable (Winsock answers WSAEFAULT).
bool read_fd_set(const fd_set* set, fd_set& out) {
  out.fd_count = 0;
  if (!set) return true;
  if (!read_safely(out.fd_count, &set->fd_count)) return false;
  if (out.fd_count > FD_SETSIZE) out.fd_count = FD_SETSIZE;
  const size_t bytes = out.fd_count * sizeof(SOCKET);
  return safe_read(out.fd_array, set->fd_array, bytes) == bytes;
}

}  // namespace

int WSAAPI hook_select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, const TIMEVAL* tmo) {
  // The sets are overwritten by the call: keep what was asked.
  RawPoll entries[64];
  size_t n = 0;
  auto ask = [&](const fd_set& set, uint32_t bit) {
    for (u_int i = 0; i < set.fd_count; ++i) {
      size_t k = 0;
      while (k < n && entries[k].fd != static_cast<int64_t>(set.fd_array[i])) ++k;
      if (k == n) {
        if (n == 64) continue;
        entries[n++] = RawPoll{static_cast<int64_t>(set.fd_array[i]), 0, 0};
      }
      entries[k].events |= bit;
    }
  };
  fd_set in;
  if (read_fd_set(rd, in)) ask(in, POLLRDNORM);
  if (read_fd_set(wr, in)) ask(in, POLLWRNORM);
  if (read_fd_set(ex, in)) ask(in, POLLRDBAND);
  Call c(FuncId::select);
  int r = g_real.select(nfds, rd, wr, ex, tmo);
  c.done(r, failed(r));
  // Sets Winsock answered in (r > 0) it wrote.
  auto answer = [&](fd_set* set, uint32_t bit) {
    if (!set || r <= 0) return;
    for (u_int i = 0; i < set->fd_count; ++i)
      for (size_t k = 0; k < n; ++k)
        if (entries[k].fd == static_cast<int64_t>(set->fd_array[i])) entries[k].revents |= bit;
  };
  answer(rd, POLLRDNORM);
  answer(wr, POLLWRNORM);
  answer(ex, POLLRDBAND);
  c.blob(FieldId::fds, kRawPollList, entries, n * sizeof(RawPoll));
  TIMEVAL t;
  if (read_safely(t, tmo))
    c.u64(FieldId::timeout, static_cast<uint64_t>(t.tv_sec) * 1'000'000'000 +
                                static_cast<uint64_t>(t.tv_usec) * 1000);
  return r;
}

int WSAAPI hook_WSAPoll(LPWSAPOLLFD fds, ULONG n, INT timeout) {
  Call c(FuncId::WSAPoll);
  int r = g_real.WSAPoll(fds, n, timeout);
  c.done(r, failed(r));
  // The array was read and written by a call that succeeded; else it is read safely.
  WSAPOLLFD seen[64];
  ULONG k = n < 64 ? n : 64;
  const WSAPOLLFD* from = fds;
  if (r < 0) {
    from = seen;
    if (safe_read(seen, fds, k * sizeof(WSAPOLLFD)) != k * sizeof(WSAPOLLFD)) k = 0;
  }
  RawPoll entries[64];
  for (ULONG i = 0; i < k; ++i)
    entries[i] = RawPoll{static_cast<int64_t>(from[i].fd), static_cast<uint16_t>(from[i].events),
                         static_cast<uint16_t>(from[i].revents)};
  c.blob(FieldId::fds, kRawPollList, entries, k * sizeof(RawPoll));
  if (n > 64) c.u64(FieldId::count, n);
  if (timeout >= 0) c.u64(FieldId::timeout, static_cast<uint64_t>(timeout) * 1'000'000);
  return r;
}

int WSAAPI hook_ioctlsocket(SOCKET s, long cmd, u_long* arg) {
  notice_socket(s);
  Call c(FuncId::ioctlsocket);
  int r = g_real.ioctlsocket(s, cmd, arg);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.platform_const(FieldId::request, static_cast<int64_t>(static_cast<uint32_t>(cmd)));
  u_long v;
  if (read_safely(v, arg)) c.u64(FieldId::arg, v);
  return r;
}

int WSAAPI hook_WSAIoctl(SOCKET s, DWORD code, LPVOID in, DWORD inlen, LPVOID out, DWORD outlen,
                         LPDWORD got, LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  notice_socket(s);
  Call c(FuncId::WSAIoctl);
  int r = g_real.WSAIoctl(s, code, in, inlen, out, outlen, got, ov, done);
  c.done(r, failed(r));
  // ConnectEx, AcceptEx … are found through here: the program gets the hooks instead.
  if (r == 0 && code == SIO_GET_EXTENSION_FUNCTION_POINTER) extension_pointer(in, inlen, out, outlen);
  c.u64(FieldId::sock, s);
  c.platform_const(FieldId::request, code);
  u_long v;
  if (inlen == sizeof(u_long) && read_safely(v, in)) c.u64(FieldId::arg, v);
  overlapped_args(c, ov);
  GUID g;
  if (code == SIO_GET_EXTENSION_FUNCTION_POINTER && inlen >= sizeof g && read_safely(g, in)) {
    char text[40];
    c.str(FieldId::extension, extension_name(g, text));
  }
  return r;
}

namespace {
// The value is read safely: a failed call's may be unreadable, and Winsock need not read it.
void sockopt_args(Call& c, SOCKET s, int level, int name, const char* val, int len) {
  c.u64(FieldId::sock, s);
  c.sockopt(level, name);
  int v;
  unsigned char b;
  if (len == sizeof(int) && read_safely(v, val)) c.i64(FieldId::optval, v);
  else if (len == 1 && read_safely(b, val)) c.i64(FieldId::optval, b);
  c.u64(FieldId::optlen, static_cast<uint64_t>(len));
}
}  // namespace

int WSAAPI hook_setsockopt(SOCKET s, int level, int name, const char* val, int len) {
  notice_socket(s);
  Call c(FuncId::setsockopt);
  int r = g_real.setsockopt(s, level, name, val, len);
  c.done(r, failed(r));
  sockopt_args(c, s, level, name, val, len);
  // A socket AcceptEx or ConnectEx made is whole from here on: both its ends are known.
  if (r == 0 && level == SOL_SOCKET &&
      (name == SO_UPDATE_ACCEPT_CONTEXT || name == SO_UPDATE_CONNECT_CONTEXT)) {
    note_local(c, s);
    note_peer(c, s);
  }
  return r;
}

int WSAAPI hook_getsockopt(SOCKET s, int level, int name, char* val, int* len) {
  notice_socket(s);
  Call c(FuncId::getsockopt);
  int r = g_real.getsockopt(s, level, name, val, len);
  c.done(r, failed(r));
  sockopt_args(c, s, level, name, r == 0 ? val : nullptr, value_at(len));
  return r;
}

int WSAAPI hook_getsockname(SOCKET s, sockaddr* a, int* len) {
  notice_socket(s);
  Call c(FuncId::getsockname);
  int r = g_real.getsockname(s, a, len);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  if (r == 0 && len) c.sockaddr(FieldId::addr, a, static_cast<size_t>(*len), Mem::Proven);
  return r;
}

int WSAAPI hook_getpeername(SOCKET s, sockaddr* a, int* len) {
  notice_socket(s);
  Call c(FuncId::getpeername);
  int r = g_real.getpeername(s, a, len);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  if (r == 0 && len) c.sockaddr(FieldId::addr, a, static_cast<size_t>(*len), Mem::Proven);
  return r;
}

int WSAAPI hook_WSAEventSelect(SOCKET s, WSAEVENT ev, long mask) {
  notice_socket(s);
  Call c(FuncId::WSAEventSelect);
  int r = g_real.WSAEventSelect(s, ev, mask);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.u64(FieldId::mask, static_cast<uint64_t>(mask));
  return r;
}

int WSAAPI hook_WSAAsyncSelect(SOCKET s, HWND w, u_int msg, long mask) {
  notice_socket(s);
  Call c(FuncId::WSAAsyncSelect);
  int r = g_real.WSAAsyncSelect(s, w, msg, mask);
  c.done(r, failed(r));
  c.u64(FieldId::sock, s);
  c.u64(FieldId::mask, static_cast<uint64_t>(mask));
  return r;
}

BOOL WSAAPI hook_WSAGetOverlappedResult(SOCKET s, LPWSAOVERLAPPED ov, LPDWORD bytes, BOOL wait,
                                        LPDWORD flags) {
  BOOL ok = g_real.WSAGetOverlappedResult(s, ov, bytes, wait, flags);
  int e = WSAGetLastError();
  DWORD n = 0;
  if ((ok || e != WSA_IO_INCOMPLETE) && read_safely(n, bytes))
    record_completion(FuncId::WSAGetOverlappedResult, ov, n, ok, e);
  WSASetLastError(e);
  return ok;
}

}  // namespace ws::agent
