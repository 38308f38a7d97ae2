// The Windows agent: a DLL that wstrace.exe loads into the traced program. It redirects the
// program's calls to ws2_32 (and to GetProcAddress/LoadLibrary, so that functions found or
// modules loaded later are caught too) through hooks that record each call into the thread's
// ring (agent/call.h). No decoding, no allocation, no locks, no blocking; GetLastError() and
// WSAGetLastError() are left exactly as the real call set them.
#pragma once

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include "call.h"

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

// Overlapped I/O (hooks_overlapped.cc): receive buffers of a pending call, an extension
// function pointer handed out by WSAIoctl (swapped for its hook), one completion.
void remember_pending(LPWSAOVERLAPPED ov, SOCKET s, const WSABUF* bufs, DWORD count);
void extension_pointer(const void* in, DWORD inlen, void* out, DWORD outlen);
void record_completion(FuncId f, LPOVERLAPPED ov, DWORD bytes, bool ok, int err);
// A call given a completion routine gets wstrace's in its place (which records the completion
// and calls the program's); unwrap_failed() forgets it when the call failed at once.
LPWSAOVERLAPPED_COMPLETION_ROUTINE wrap_routine(LPWSAOVERLAPPED ov, SOCKET s, const WSABUF* bufs,
                                                DWORD count,
                                                LPWSAOVERLAPPED_COMPLETION_ROUTINE routine);
void unwrap_failed(LPWSAOVERLAPPED ov);
extern BOOL(WINAPI* real_GetQueuedCompletionStatus)(HANDLE, LPDWORD, PULONG_PTR, LPOVERLAPPED*,
                                                    DWORD);
extern BOOL(WINAPI* real_GetQueuedCompletionStatusEx)(HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG,
                                                      DWORD, BOOL);
extern BOOL(WINAPI* real_GetOverlappedResult)(HANDLE, LPOVERLAPPED, LPDWORD, BOOL);
BOOL WINAPI hook_GetQueuedCompletionStatus(HANDLE, LPDWORD, PULONG_PTR, LPOVERLAPPED*, DWORD);
BOOL WINAPI hook_GetQueuedCompletionStatusEx(HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG, DWORD,
                                             BOOL);
BOOL WINAPI hook_GetOverlappedResult(HANDLE, LPOVERLAPPED, LPDWORD, BOOL);

// DnsQuery_* of dnsapi.dll (hooks_dns.cc).
using DnsQueryAFn = LONG(WINAPI*)(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);
using DnsQueryWFn = LONG(WINAPI*)(PCWSTR, WORD, DWORD, PVOID, struct _DnsRecordW**, PVOID*);
extern DnsQueryAFn real_DnsQuery_A;
extern DnsQueryWFn real_DnsQuery_W;
extern DnsQueryAFn real_DnsQuery_UTF8;
LONG WINAPI hook_DnsQuery_A(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);
LONG WINAPI hook_DnsQuery_W(PCWSTR, WORD, DWORD, PVOID, struct _DnsRecordW**, PVOID*);
LONG WINAPI hook_DnsQuery_UTF8(PCSTR, WORD, DWORD, PVOID, struct _DnsRecordA**, PVOID*);

// Redirects ws2_32 imports in every loaded module; run again after a module is loaded.
void patch_all_modules();
// The hook standing for a real ws2_32/kernel32 function address, or nullptr.
FARPROC hook_for(FARPROC real_fn);

}  // namespace ws::agent
