// Installing the hooks: body hooks (body_hook.h) on ws2_32's functions, on the extension
// functions (their addresses asked of WSAIoctl on a socket of the agent's own, so that pointers
// the program fetched before are covered) and on dnsapi's DnsQuery_*; the gates' test of whose
// call it is; and the import path for a function whose body cannot take a hook.
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
bool g_winsock_done = false, g_extensions_done = false, g_dnsapi_done = false;

// The import path, for functions the body hooks could not take.
struct HookPair {
  FARPROC real;
  FARPROC hook;
};
HookPair g_pairs[64];
std::atomic<size_t> g_npairs{0};

FARPROC as_proc(void* p) { return reinterpret_cast<FARPROC>(p); }
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

// Points every import slot of `m` that holds a function on the import path at its hook.
void patch_module(HMODULE m) {
  auto* base = reinterpret_cast<uint8_t*>(m);
  if (reinterpret_cast<uintptr_t>(base) == g_self_lo) return;
  auto* dos = reinterpret_cast<IMAGE_DOS_HEADER*>(base);
  if (dos->e_magic != IMAGE_DOS_SIGNATURE) return;
  auto* nt = reinterpret_cast<IMAGE_NT_HEADERS64*>(base + dos->e_lfanew);
  if (nt->Signature != IMAGE_NT_SIGNATURE ||
      nt->OptionalHeader.Magic != IMAGE_NT_OPTIONAL_HDR64_MAGIC)
    return;
  const IMAGE_DATA_DIRECTORY& dir =
      nt->OptionalHeader.DataDirectory[IMAGE_DIRECTORY_ENTRY_IMPORT];
  if (!dir.VirtualAddress) return;
  for (auto* d = reinterpret_cast<IMAGE_IMPORT_DESCRIPTOR*>(base + dir.VirtualAddress);
       d->Name; ++d) {
    for (auto* t = reinterpret_cast<IMAGE_THUNK_DATA64*>(base + d->FirstThunk); t->u1.Function;
         ++t) {
      FARPROC h = hook_for(reinterpret_cast<FARPROC>(t->u1.Function));
      if (!h) continue;
      DWORD old;
      if (VirtualProtect(&t->u1.Function, sizeof t->u1.Function, PAGE_READWRITE, &old)) {
        t->u1.Function = reinterpret_cast<ULONGLONG>(h);
        VirtualProtect(&t->u1.Function, sizeof t->u1.Function, old, &old);
      }
    }
  }
}

// The extension functions' addresses, asked of WSAIoctl on a TCP socket of the agent's own.
// False before the program has started Winsock: the agent does not start it (a WSACleanup of
// its own could end the program's sockets — Wine counts starts without a lock).
bool extension_addresses(void* (&out)[6]) {
  static const GUID ids[6] = {WSAID_CONNECTEX,    WSAID_ACCEPTEX,   WSAID_DISCONNECTEX,
                              WSAID_TRANSMITFILE, WSAID_WSARECVMSG, WSAID_WSASENDMSG};
  const DWORD e = GetLastError();
  SOCKET s = g_real.socket ? g_real.socket(AF_INET, SOCK_STREAM, IPPROTO_TCP) : INVALID_SOCKET;
  if (s != INVALID_SOCKET) {
    for (size_t i = 0; i < 6; ++i) {
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
           "%s takes no hook on its body (%s): only its calls through import tables and "
           "GetProcAddress are seen",
           function, why);
  Call c(FuncId::unseen);
  c.done(0, false);  // a fact, not a call
  c.str(FieldId::what, "body-hook");
  c.str(FieldId::cause, cause, Mem::Proven);
}

void add_pair(void* target, void* hook) {
  const size_t n = g_npairs.load(std::memory_order_relaxed);
  if (!target || !hook || n == sizeof g_pairs / sizeof g_pairs[0]) return;
  g_pairs[n] = HookPair{as_proc(target), as_proc(hook)};
  g_npairs.store(n + 1, std::memory_order_release);
}

FARPROC hook_for(FARPROC real_fn) {
  const size_t n = g_npairs.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i)
    if (g_pairs[i].real == real_fn) return g_pairs[i].hook;
  return nullptr;
}

void patch_all_modules() {
  if (!g_npairs.load(std::memory_order_acquire)) return;  // every hook is on a body
  EnterCriticalSection(&g_install_lock);
  HMODULE mods[1024];
  DWORD needed = 0;
  if (K32EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &needed)) {
    DWORD n = needed / sizeof(HMODULE);
    for (DWORD i = 0; i < n && i < 1024; ++i) patch_module(mods[i]);
  }
  LeaveCriticalSection(&g_install_lock);
}

void install_winsock() {
  HMODULE ws2 = GetModuleHandleW(L"ws2_32.dll");
  if (!ws2 || g_winsock_done) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_winsock_done) {
    PatchBatch batch;
#define WS_REAL(name, ret, params) \
  hook_body<kInstalled<&hook_##name>>(batch, #name, proc(ws2, #name), g_real.name, add_pair);
#include "hook_list.h"
#undef WS_REAL
    g_winsock_done = true;
  }
  LeaveCriticalSection(&g_install_lock);
}

void install_extensions() {
  void* fns[6] = {};
  if (!g_winsock_done || g_extensions_done || !extension_addresses(fns)) return;
  EnterCriticalSection(&g_install_lock);
  if (!g_extensions_done) {
    PatchBatch batch;
    size_t i = 0;
    // (No import path for these: WSAIoctl's answers are swapped for the hooks instead.)
#define WS_EXTENSION_HOOK(name, type, guid) \
  hook_body<&hook_##name>(batch, #name, fns[i++], real_##name, nullptr);
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
    hook_body<&hook_DnsQuery_A>(batch, "DnsQuery_A", proc(dns, "DnsQuery_A"), real_DnsQuery_A,
                                add_pair);
    hook_body<&hook_DnsQuery_W>(batch, "DnsQuery_W", proc(dns, "DnsQuery_W"), real_DnsQuery_W,
                                add_pair);
    hook_body<&hook_DnsQuery_UTF8>(batch, "DnsQuery_UTF8", proc(dns, "DnsQuery_UTF8"),
                                   real_DnsQuery_UTF8, add_pair);
    g_dnsapi_done = true;
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
