// Installing the hooks: body hooks (body_hook.h) on ws2_32's functions, on the extension
// functions (their addresses asked of WSAIoctl on a socket of the agent's own, so that pointers
// the program fetched before are covered) and on dnsapi's DnsQuery_*; and the gates' test of
// whose call it is.
#include "agent.h"  // (winsock2.h before windows.h)

#include <psapi.h>

#include <cstdio>
#include <cstring>

#include "gate.h"

namespace ws::agent {
namespace {

DWORD g_depth_tls = TLS_OUT_OF_INDEXES;  // per thread: how many hooks run on it
uintptr_t g_self_lo = 0, g_self_hi = 0;  // the agent's own image
CRITICAL_SECTION g_install_lock;         // one installation at a time (LoadLibrary in threads)
bool g_winsock_done = false, g_extensions_done = false, g_dnsapi_done = false,
     g_user32_done = false;

void* proc(HMODULE m, const char* name) {
  return reinterpret_cast<void*>(GetProcAddress(m, name));
}

uintptr_t depth() {
  const DWORD e = GetLastError();  // (TlsGetValue clears it)
  const auto d = reinterpret_cast<uintptr_t>(TlsGetValue(g_depth_tls));
  SetLastError(e);
  return d;
}

void set_depth(uintptr_t d) {
  const DWORD e = GetLastError();
  TlsSetValue(g_depth_tls, reinterpret_cast<void*>(d));
  SetLastError(e);
}

// The extension functions' addresses, asked of WSAIoctl on a TCP socket of the agent's own.
// False before the program has started Winsock: the agent does not start it (a WSACleanup of
// its own could end the program's sockets — Wine counts starts without a lock).
// (In the order of WS_EXTENSION_HOOKS.)
constexpr size_t kExtensions = 6;
bool extension_addresses(void* (&out)[kExtensions]) {
#define WS_EXTENSION_GUID(name, type, guid) guid,
  static const GUID ids[kExtensions] = {WS_EXTENSION_HOOKS(WS_EXTENSION_GUID)};
#undef WS_EXTENSION_GUID
  const DWORD e = GetLastError();
  SOCKET s = g_real.socket ? g_real.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) : INVALID_SOCKET;
  if (s != INVALID_SOCKET) {
    for (size_t i = 0; i < kExtensions; ++i) {
      DWORD got = 0;
      GUID id = ids[i];
      if (g_real.WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &out[i],
                          sizeof out[i], &got, nullptr, nullptr) != 0)
        out[i] = nullptr;
    }
    g_real.closesocket(s);
  }
  SetLastError(e);
  return s != INVALID_SOCKET;
}

// WSAStartup's hook, then the extension functions' hooks once Winsock is started (in the
// thread that started it: no other call of the program waits for it).
int WSAAPI started_then_install(WORD version, LPWSADATA data) {
  const int r = hook_WSAStartup(version, data);
  if (r == 0) {
    const DWORD e = GetLastError();
    install_extensions();
    SetLastError(e);
  }
  return r;
}

// The hook the body of a hook_list.h function leads to: its own, but for WSAStartup.
template <auto Hook>
inline constexpr auto kInstalled = Hook;
template <>
inline constexpr auto kInstalled<&hook_WSAStartup> = &started_then_install;

bool same_guid(const void* in, DWORD inlen, const GUID& g) {
  return in && inlen >= sizeof(GUID) && memcmp(in, &g, sizeof g) == 0;
}

// Swaps an extension function pointer for its hook, keeping the real one — unless the function
// has a body hook, which its callers reach whatever pointer they hold.
template <typename F>
void swap_in(void* out, DWORD outlen, F& real_fn, F hook) {
  if (!out || outlen < sizeof(F)) return;
  F got;
  memcpy(&got, out, sizeof got);
  if (!got || got == hook || body_hooked(function_body(reinterpret_cast<void*>(got)))) return;
  real_fn = got;
  memcpy(out, &hook, sizeof hook);
}

}  // namespace

void init_install(HMODULE self) {
  InitializeCriticalSection(&g_install_lock);
  g_depth_tls = TlsAlloc();
  MODULEINFO mi{};
  if (K32GetModuleInformation(GetCurrentProcess(), self, &mi, sizeof mi)) {
    g_self_lo = reinterpret_cast<uintptr_t>(mi.lpBaseOfDll);
    g_self_hi = g_self_lo + mi.SizeOfImage;
  }
}

bool own_work(const void* caller) {
  const auto a = reinterpret_cast<uintptr_t>(caller);
  if (a >= g_self_lo && a < g_self_hi) return true;
  return in_hooked_module(caller) && depth() > 0;
}

HookDepth::HookDepth() { set_depth(depth() + 1); }
HookDepth::~HookDepth() { set_depth(depth() - 1); }

void note_refused(const char* function, const char* why) {
  if (!recording()) return;
  char cause[256];
  snprintf(cause, sizeof cause,
           "%s takes no hook on its body (%s): its calls are not seen",
           function, why);
  Call c(FuncId::unseen);
  c.done(0, false);  // a fact, not a call
  c.str(FieldId::what, "body-hook");
  c.str(FieldId::cause, cause, Mem::Proven);
}

void install_winsock() {
  HMODULE ws2 = GetModuleHandleW(L"ws2_32.dll");
  if (!ws2 || g_winsock_done) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_winsock_done) {
    PatchBatch batch;
#define WS_REAL(name, ret, params) \
  hook_body<kInstalled<&hook_##name>>(batch, #name, proc(ws2, #name), g_real.name);
#include "hook_list.h"
#undef WS_REAL
    g_winsock_done = true;
  }
  LeaveCriticalSection(&g_install_lock);
}

void install_extensions() {
  void* fns[kExtensions] = {};
  if (!g_winsock_done || g_extensions_done || !extension_addresses(fns)) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_extensions_done) {
    PatchBatch batch;
    size_t i = 0;
    // (One refused is still hooked through WSAIoctl's answers: extension_pointer.)
#define WS_EXTENSION_HOOK(name, type, guid) \
  hook_body<&hook_##name>(batch, #name, fns[i++], real_##name);
    WS_EXTENSION_HOOKS(WS_EXTENSION_HOOK)
#undef WS_EXTENSION_HOOK
    g_extensions_done = true;
  }
  LeaveCriticalSection(&g_install_lock);
}

void install_dnsapi() {
  HMODULE dns = GetModuleHandleW(L"dnsapi.dll");
  if (!dns || g_dnsapi_done) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_dnsapi_done) {
    PatchBatch batch;
    hook_body<&hook_DnsQuery_A>(batch, "DnsQuery_A", proc(dns, "DnsQuery_A"), real_DnsQuery_A);
    hook_body<&hook_DnsQuery_W>(batch, "DnsQuery_W", proc(dns, "DnsQuery_W"), real_DnsQuery_W);
    hook_body<&hook_DnsQuery_UTF8>(batch, "DnsQuery_UTF8", proc(dns, "DnsQuery_UTF8"),
                                   real_DnsQuery_UTF8);
    g_dnsapi_done = true;
  }
  LeaveCriticalSection(&g_install_lock);
}

void install_user32() {
  HMODULE u32 = GetModuleHandleW(L"user32.dll");
  if (!u32 || g_user32_done) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_user32_done) {
    PatchBatch batch;
#define WS_USER32_HOOK(name, ret, params) \
  hook_body<&hook_##name>(batch, #name, proc(u32, #name), real_##name);
    WS_USER32_HOOKS(WS_USER32_HOOK)
#undef WS_USER32_HOOK
    g_user32_done = true;
  }
  LeaveCriticalSection(&g_install_lock);
}

void extension_pointer(const void* in, DWORD inlen, void* out, DWORD outlen) {
#define WS_EXTENSION_SWAP(name, type, guid)                     \
  {                                                             \
    static const GUID id = guid;                                \
    if (same_guid(in, inlen, id)) {                             \
      swap_in(out, outlen, real_##name, &hook_##name);          \
      return;                                                   \
    }                                                           \
  }
  WS_EXTENSION_HOOKS(WS_EXTENSION_SWAP)
#undef WS_EXTENSION_SWAP
}

}  // namespace ws::agent
