// Overlapped I/O: the extension functions that WSAIoctl hands out (ConnectEx, AcceptEx, …) and
// the completions (GetQueuedCompletionStatus(Ex), GetOverlappedResult, WSAGetOverlappedResult).
// A call that returns pending carries its OVERLAPPED address as `op`; its completion is an
// io_complete event with the same `op`, the bytes moved and, for receives, the data.
#include <mswsock.h>

#include "agent.h"

namespace ws::agent {
namespace {

// Receive buffers of pending operations, by OVERLAPPED address, so that the completion can
// record what arrived. A fixed open-addressed table: no allocation, no lock; when it is full a
// completion is recorded without its payload.
struct Pending {
  std::atomic<uintptr_t> ov{0};
  const WSABUF* bufs = nullptr;  // the program's WSABUF array …
  DWORD count = 0;
  char* single = nullptr;        // … or one buffer (AcceptEx)
  DWORD single_len = 0;
  SOCKET sock = 0;
  LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr;  // the program's, when wstrace wraps it
};
constexpr size_t kPending = 4096;
Pending g_pending[kPending];

size_t slot_of(uintptr_t ov) { return (ov >> 4) * 0x9E3779B97F4A7C15ull >> 52; }  // 12 bits

bool remember(LPOVERLAPPED ov, SOCKET s, const WSABUF* bufs, DWORD count, char* single,
              DWORD single_len, LPWSAOVERLAPPED_COMPLETION_ROUTINE routine = nullptr) {
  const auto key = reinterpret_cast<uintptr_t>(ov);
  for (size_t i = 0, k = slot_of(key); i < 64; ++i, k = (k + 1) % kPending) {
    uintptr_t expected = 0;
    const bool again = g_pending[k].ov.load(std::memory_order_relaxed) == key;
    if (again || g_pending[k].ov.compare_exchange_strong(expected, key)) {
      g_pending[k].bufs = bufs;
      g_pending[k].count = count;
      g_pending[k].single = single;
      g_pending[k].single_len = single_len;
      g_pending[k].sock = s;
      // Noted again after the call: keep the program's routine noted before it.
      if (!again || routine) g_pending[k].routine = routine;
      return true;
    }
  }
  return false;
}

// Takes the entry of `ov` out of the table; false when there is none.
bool take(LPOVERLAPPED ov, Pending& out) {
  const auto key = reinterpret_cast<uintptr_t>(ov);
  for (size_t i = 0, k = slot_of(key); i < 64; ++i, k = (k + 1) % kPending) {
    if (g_pending[k].ov.load(std::memory_order_acquire) != key) continue;
    out.bufs = g_pending[k].bufs;
    out.count = g_pending[k].count;
    out.single = g_pending[k].single;
    out.single_len = g_pending[k].single_len;
    out.sock = g_pending[k].sock;
    out.routine = g_pending[k].routine;
    g_pending[k].ov.store(0, std::memory_order_release);
    return true;
  }
  return false;
}

}  // namespace

// One completion, as its own event; `p` is what was remembered of the call (known == true).
void record_taken(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err, bool known,
                  const Pending& p);

void record_completion(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err) {
  if (!ov) return;
  Pending p;
  bool known = take(ov, p);
  record_taken(f, ov, bytes, ok, err, known, p);
}

namespace {

// Runs in the program's thread during an alertable wait, in place of its completion routine:
// records the completion, then calls the program's routine.
void CALLBACK routine_trampoline(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  Pending p;
  bool known = take(ov, p);
  record_taken(FuncId::completion_routine, ov, bytes, err == 0, static_cast<int>(err), known, p);
  if (known && p.routine) p.routine(err, bytes, ov, flags);
}

}  // namespace

LPWSAOVERLAPPED_COMPLETION_ROUTINE wrap_routine(LPWSAOVERLAPPED ov, SOCKET s, const WSABUF* bufs,
                                                DWORD count,
                                                LPWSAOVERLAPPED_COMPLETION_ROUTINE routine) {
  if (!ov || !routine || !recording()) return routine;
  // Without a place in the table the program's routine is passed on as it is (never lost).
  return remember(ov, s, bufs, count, nullptr, 0, routine) ? routine_trampoline : routine;
}

void unwrap_failed(LPWSAOVERLAPPED ov) {
  Pending p;
  take(ov, p);
}

void record_taken(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err, bool known,
                  const Pending& p) {
  Call c(f);
  c.done(ok ? static_cast<int64_t>(bytes) : -1, false);
  if (!ok) c.error(ErrDomain::Win, err);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  c.u64(FieldId::len, bytes);
  if (known) c.u64(FieldId::sock, p.sock);
  if (known && ok && bytes) {
    if (p.single) {
      c.payload(p.single, bytes < p.single_len ? bytes : p.single_len);
    } else if (p.bufs) {
      Part parts[16];
      size_t n = p.count < 16 ? p.count : 16;
      for (size_t i = 0; i < n; ++i) parts[i] = Part{p.bufs[i].buf, p.bufs[i].len};
      c.payload_parts(parts, n, bytes);
    }
  }
}

namespace {

bool pending_now(int r) { return r == SOCKET_ERROR && WSAGetLastError() == WSA_IO_PENDING; }

LPFN_CONNECTEX real_ConnectEx = nullptr;
LPFN_ACCEPTEX real_AcceptEx = nullptr;
LPFN_DISCONNECTEX real_DisconnectEx = nullptr;
LPFN_TRANSMITFILE real_TransmitFile = nullptr;
LPFN_WSARECVMSG real_WSARecvMsg = nullptr;
LPFN_WSASENDMSG real_WSASendMsg = nullptr;

BOOL WINAPI hook_ConnectEx(SOCKET s, const sockaddr* name, int namelen, PVOID send_buf,
                           DWORD send_len, LPDWORD sent, LPOVERLAPPED ov) {
  Call c(FuncId::ConnectEx);
  BOOL ok = real_ConnectEx(s, name, namelen, send_buf, send_len, sent, ov);
  int e = WSAGetLastError();
  c.done(ok ? 0 : -1, !ok);
  if (!ok && e == WSA_IO_PENDING && send_len)  // the data sent on connecting, at completion
    remember(ov, s, nullptr, 0, static_cast<char*>(send_buf), send_len);
  c.u64(FieldId::sock, s);
  c.sockaddr(FieldId::addr, name, static_cast<size_t>(namelen));
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  return ok;
}

BOOL WINAPI hook_AcceptEx(SOCKET l, SOCKET a, PVOID buf, DWORD recv_len, DWORD local_len,
                          DWORD remote_len, LPDWORD got, LPOVERLAPPED ov) {
  Call c(FuncId::AcceptEx);
  BOOL ok = real_AcceptEx(l, a, buf, recv_len, local_len, remote_len, got, ov);
  int e = WSAGetLastError();
  c.done(ok ? 0 : -1, !ok);
  c.u64(FieldId::sock, l);
  c.u64(FieldId::new_sock, a);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  if (!ok && e == WSA_IO_PENDING && recv_len) remember(ov, a, nullptr, 0, static_cast<char*>(buf), recv_len);
  return ok;
}

BOOL WINAPI hook_DisconnectEx(SOCKET s, LPOVERLAPPED ov, DWORD flags, DWORD reserved) {
  Call c(FuncId::DisconnectEx);
  BOOL ok = real_DisconnectEx(s, ov, flags, reserved);
  c.done(ok ? 0 : -1, !ok);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  return ok;
}

BOOL WINAPI hook_TransmitFile(SOCKET s, HANDLE file, DWORD n, DWORD per_send, LPOVERLAPPED ov,
                              LPTRANSMIT_FILE_BUFFERS bufs, DWORD flags) {
  Call c(FuncId::TransmitFile);
  BOOL ok = real_TransmitFile(s, file, n, per_send, ov, bufs, flags);
  c.done(ok ? 0 : -1, !ok);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::len, n);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  return ok;
}

INT WINAPI hook_WSARecvMsg(SOCKET s, LPWSAMSG msg, LPDWORD got, LPWSAOVERLAPPED ov,
                           LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  Call c(FuncId::WSARecvMsg);
  INT r = real_WSARecvMsg(s, msg, got, ov, done);
  bool pending = pending_now(r);
  c.done(r == 0 && got ? static_cast<int64_t>(*got) : r, r == SOCKET_ERROR);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  if (msg && r == 0 && got) {
    if (msg->name) c.sockaddr(FieldId::peer, msg->name, static_cast<size_t>(msg->namelen));
    Part parts[16];
    size_t n = msg->dwBufferCount < 16 ? msg->dwBufferCount : 16;
    for (size_t i = 0; i < n; ++i) parts[i] = Part{msg->lpBuffers[i].buf, msg->lpBuffers[i].len};
    c.payload_parts(parts, n, *got);
  }
  if (pending && msg) remember(ov, s, msg->lpBuffers, msg->dwBufferCount, nullptr, 0);
  return r;
}

INT WSAAPI hook_WSASendMsg(SOCKET s, LPWSAMSG msg, DWORD flags, LPDWORD sent,
                           LPWSAOVERLAPPED ov, LPWSAOVERLAPPED_COMPLETION_ROUTINE done) {
  Call c(FuncId::WSASendMsg);
  INT r = real_WSASendMsg(s, msg, flags, sent, ov, done);
  c.done(r == 0 && sent ? static_cast<int64_t>(*sent) : r, r == SOCKET_ERROR);
  c.u64(FieldId::sock, s);
  c.u64(FieldId::op, reinterpret_cast<uintptr_t>(ov));
  if (msg && r == 0 && sent) {
    if (msg->name) c.sockaddr(FieldId::addr, msg->name, static_cast<size_t>(msg->namelen));
    Part parts[16];
    size_t n = msg->dwBufferCount < 16 ? msg->dwBufferCount : 16;
    for (size_t i = 0; i < n; ++i) parts[i] = Part{msg->lpBuffers[i].buf, msg->lpBuffers[i].len};
    c.payload_parts(parts, n, *sent);
  }
  return r;
}

bool same_guid(const void* in, DWORD inlen, const GUID& g) {
  return in && inlen >= sizeof(GUID) && memcmp(in, &g, sizeof g) == 0;
}

// Swaps an extension function pointer for its hook, keeping the real one.
template <typename F>
void swap_in(void* out, DWORD outlen, F& real_fn, F hook) {
  if (!out || outlen < sizeof(F)) return;
  F got;
  memcpy(&got, out, sizeof got);
  if (!got || got == hook) return;
  real_fn = got;
  memcpy(out, &hook, sizeof hook);
}

}  // namespace

void remember_pending(LPWSAOVERLAPPED ov, SOCKET s, const WSABUF* bufs, DWORD count) {
  remember(ov, s, bufs, count, nullptr, 0);
}

void extension_pointer(const void* in, DWORD inlen, void* out, DWORD outlen) {
  static const GUID connect_ex = WSAID_CONNECTEX, accept_ex = WSAID_ACCEPTEX,
                    disconnect_ex = WSAID_DISCONNECTEX, transmit_file = WSAID_TRANSMITFILE,
                    recv_msg = WSAID_WSARECVMSG, send_msg = WSAID_WSASENDMSG;
  if (same_guid(in, inlen, connect_ex)) swap_in(out, outlen, real_ConnectEx, &hook_ConnectEx);
  else if (same_guid(in, inlen, accept_ex)) swap_in(out, outlen, real_AcceptEx, &hook_AcceptEx);
  else if (same_guid(in, inlen, disconnect_ex))
    swap_in(out, outlen, real_DisconnectEx, &hook_DisconnectEx);
  else if (same_guid(in, inlen, transmit_file))
    swap_in(out, outlen, real_TransmitFile, &hook_TransmitFile);
  else if (same_guid(in, inlen, recv_msg)) swap_in(out, outlen, real_WSARecvMsg, &hook_WSARecvMsg);
  else if (same_guid(in, inlen, send_msg)) swap_in(out, outlen, real_WSASendMsg, &hook_WSASendMsg);
}

BOOL(WINAPI* real_GetQueuedCompletionStatus)(HANDLE, LPDWORD, PULONG_PTR, LPOVERLAPPED*, DWORD) =
    nullptr;
BOOL(WINAPI* real_GetQueuedCompletionStatusEx)(HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG, DWORD,
                                               BOOL) = nullptr;
BOOL(WINAPI* real_GetOverlappedResult)(HANDLE, LPOVERLAPPED, LPDWORD, BOOL) = nullptr;

BOOL WINAPI hook_GetQueuedCompletionStatus(HANDLE port, LPDWORD bytes, PULONG_PTR key,
                                           LPOVERLAPPED* ov, DWORD ms) {
  BOOL ok = real_GetQueuedCompletionStatus(port, bytes, key, ov, ms);
  DWORD e = GetLastError();
  if (ov && *ov && bytes) record_completion(FuncId::GetQueuedCompletionStatus, *ov, *bytes, ok, static_cast<int>(e));
  SetLastError(e);
  return ok;
}

BOOL WINAPI hook_GetQueuedCompletionStatusEx(HANDLE port, LPOVERLAPPED_ENTRY entries, ULONG n,
                                             PULONG removed, DWORD ms, BOOL alertable) {
  BOOL ok = real_GetQueuedCompletionStatusEx(port, entries, n, removed, ms, alertable);
  DWORD e = GetLastError();
  if (ok && removed)
    for (ULONG i = 0; i < *removed; ++i)
      record_completion(FuncId::GetQueuedCompletionStatusEx, entries[i].lpOverlapped,
                entries[i].dwNumberOfBytesTransferred,
                entries[i].lpOverlapped && entries[i].lpOverlapped->Internal == 0,
                static_cast<int>(entries[i].lpOverlapped ? entries[i].lpOverlapped->Internal : 0));
  SetLastError(e);
  return ok;
}

BOOL WINAPI hook_GetOverlappedResult(HANDLE h, LPOVERLAPPED ov, LPDWORD bytes, BOOL wait) {
  BOOL ok = real_GetOverlappedResult(h, ov, bytes, wait);
  DWORD e = GetLastError();
  if (bytes && (ok || e != ERROR_IO_INCOMPLETE))
    record_completion(FuncId::GetOverlappedResult, ov, *bytes, ok, static_cast<int>(e));
  SetLastError(e);
  return ok;
}

}  // namespace ws::agent
