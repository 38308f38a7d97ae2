#include "agent.h"

#include <psapi.h>
#include <winternl.h>

#include <cstring>
#include <cwchar>

namespace ws::agent {

RealFunctions g_real;

namespace {

RegionHeader* g_region = nullptr;
RingGeometry g_geometry;  // read once when the region is mapped: the program may rewrite it
std::atomic<int32_t> g_no_ring_entry{-1};  // this process's entry of the region's no-ring table
wchar_t g_region_name[128];  // the shared region's name, handed on to child processes
bool g_enabled = false;
HMODULE g_self = nullptr;
DWORD g_tls = TLS_OUT_OF_INDEXES;
LARGE_INTEGER g_qpc_freq;
CRITICAL_SECTION g_patch_lock;

// Per thread, in one TLS value: slot + 1 in the low 30 bits, the "pushing" flag in bit 31, and
// in bit 30 "this thread was counted as one that found no free ring".
uintptr_t tls_value() { return reinterpret_cast<uintptr_t>(TlsGetValue(g_tls)); }
void set_tls_value(uintptr_t v) { TlsSetValue(g_tls, reinterpret_cast<void*>(v)); }
constexpr uintptr_t kPushingBit = uintptr_t{1} << 31;
constexpr uintptr_t kNoRingBit = uintptr_t{1} << 30;
constexpr uintptr_t kSlotBits = kNoRingBit - 1;

// kernel32 functions whose callers must be steered to the hooks too.
FARPROC(WINAPI* real_GetProcAddress)(HMODULE, LPCSTR) = nullptr;
HMODULE(WINAPI* real_LoadLibraryA)(LPCSTR) = nullptr;
HMODULE(WINAPI* real_LoadLibraryW)(LPCWSTR) = nullptr;
HMODULE(WINAPI* real_LoadLibraryExA)(LPCSTR, HANDLE, DWORD) = nullptr;
HMODULE(WINAPI* real_LoadLibraryExW)(LPCWSTR, HANDLE, DWORD) = nullptr;

struct HookPair {
  FARPROC real;
  FARPROC hook;
};
HookPair g_pairs[96];  // (every hooked function: hook_list.h, kernel32, user32, dnsapi)
size_t g_npairs = 0;

void add_pair(FARPROC real_fn, FARPROC hook) {
  if (real_fn && hook && g_npairs < sizeof g_pairs / sizeof g_pairs[0])
    g_pairs[g_npairs++] = HookPair{real_fn, hook};
}

BOOL(WINAPI* real_CreateProcessW)(LPCWSTR, LPWSTR, LPSECURITY_ATTRIBUTES, LPSECURITY_ATTRIBUTES,
                                  BOOL, DWORD, LPVOID, LPCWSTR, LPSTARTUPINFOW,
                                  LPPROCESS_INFORMATION) = nullptr;
BOOL(WINAPI* real_CreateProcessA)(LPCSTR, LPSTR, LPSECURITY_ATTRIBUTES, LPSECURITY_ATTRIBUTES,
                                  BOOL, DWORD, LPVOID, LPCSTR, LPSTARTUPINFOA,
                                  LPPROCESS_INFORMATION) = nullptr;

// A child finds the region under a name made of its own pid, published by its parent while the
// agent loads into it: it does not depend on the environment the child was given.
struct ChildNote {
  static constexpr uint32_t kMagic = 0x77736368;  // "wsch"
  uint32_t magic;
  wchar_t region[128];
};
void child_note_name(wchar_t* out, size_t n, DWORD pid) {
  swprintf(out, n, L"Local\\wstrace-child-%lu", pid);
}

HANDLE publish_for_child(DWORD pid) {
  wchar_t name[64];
  child_note_name(name, 64, pid);
  HANDLE h = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE, 0,
                                sizeof(ChildNote), name);
  if (h && GetLastError() == ERROR_ALREADY_EXISTS) {  // not ours: the region's name stays private
    CloseHandle(h);
    return nullptr;
  }
  if (!h) return nullptr;
  if (auto* note = static_cast<ChildNote*>(MapViewOfFile(h, FILE_MAP_WRITE, 0, 0, 0))) {
    wcsncpy(note->region, g_region_name, 127);
    note->region[127] = L'\0';
    note->magic = ChildNote::kMagic;
    UnmapViewOfFile(note);
  }
  return h;
}

// The region name a parent published for this process; false when there is none.
bool region_from_parent(wchar_t* out, size_t n) {
  wchar_t name[64];
  child_note_name(name, 64, GetCurrentProcessId());
  HANDLE h = OpenFileMappingW(FILE_MAP_READ, FALSE, name);
  if (!h) return false;
  bool ok = false;
  if (auto* note = static_cast<const ChildNote*>(MapViewOfFile(h, FILE_MAP_READ, 0, 0, 0))) {
    if (note->magic == ChildNote::kMagic && wcsnlen(note->region, 128) < n) {
      wcscpy(out, note->region);
      ok = out[0] != L'\0';
    }
    UnmapViewOfFile(note);
  }
  CloseHandle(h);
  return ok;
}

// A child the agent could not enter: a tracing_lost event in this process's ring names it.
void record_child_lost(const PROCESS_INFORMATION* pi, const char* cause) {
  wchar_t image[MAX_PATH * 2];
  DWORD n = MAX_PATH * 2;
  if (!QueryFullProcessImageNameW(pi->hProcess, 0, image, &n)) image[0] = L'\0';
  Call c(FuncId::tracing_lost);
  c.done(0, false);  // a fact, not a call
  c.wstr(FieldId::image, image);
  c.str(FieldId::cause, cause);
  c.u64(FieldId::child, pi->dwProcessId);
}

// Loads this agent into a child that was created suspended; why it could not, or nullptr.
const char* load_agent_into(const PROCESS_INFORMATION* pi) {
  BOOL wow64 = FALSE;
  // The 64-bit LoadLibraryW is not in a 32-bit process: a thread started there would crash it.
  if (IsWow64Process(pi->hProcess, &wow64) && wow64)
    return "a 32-bit program: the 64-bit agent cannot be loaded into it";
  HANDLE note = publish_for_child(pi->dwProcessId);
  wchar_t self[MAX_PATH * 2];
  DWORD n = GetModuleFileNameW(g_self, self, MAX_PATH * 2);
  size_t bytes = (n + 1) * sizeof(wchar_t);
  // The low half of the module handle LoadLibraryW returned in the child: 0 when it failed (or,
  // once in 65536 loads at random 64 KiB-aligned bases, a module at a multiple of 4 GiB).
  DWORD loaded = 0;
  void* remote = VirtualAllocEx(pi->hProcess, nullptr, bytes, MEM_COMMIT | MEM_RESERVE,
                                PAGE_READWRITE);
  if (remote && WriteProcessMemory(pi->hProcess, remote, self, bytes, nullptr)) {
    auto load = reinterpret_cast<LPTHREAD_START_ROUTINE>(reinterpret_cast<void*>(
        GetProcAddress(GetModuleHandleW(L"kernel32.dll"), "LoadLibraryW")));
    if (HANDLE t = CreateRemoteThread(pi->hProcess, nullptr, 0, load, remote, 0, nullptr)) {
      if (WaitForSingleObject(t, 30'000) == WAIT_OBJECT_0) GetExitCodeThread(t, &loaded);
      CloseHandle(t);
    }
    VirtualFreeEx(pi->hProcess, remote, 0, MEM_RELEASE);
  }
  if (note) CloseHandle(note);
  return loaded ? nullptr : "the agent could not be loaded into it";
}

// Loads this agent into a child that was created suspended (or says why it could not); resumes
// it unless its creator asked for it suspended.
void follow_child(const PROCESS_INFORMATION* pi, DWORD flags) {
  if (g_region->follow) {
    if (const char* cause = load_agent_into(pi)) record_child_lost(pi, cause);
  }
  if (!(flags & CREATE_SUSPENDED)) ResumeThread(pi->hThread);
}

// CreateProcessA and W alike: the child starts suspended so that the agent is in before it runs.
template <typename Ch, typename StartupInfo, typename Fn>
BOOL traced_create(Fn real_fn, const Ch* app, Ch* cmd, LPSECURITY_ATTRIBUTES pa,
                   LPSECURITY_ATTRIBUTES ta, BOOL inherit, DWORD flags, LPVOID env, const Ch* dir,
                   StartupInfo si, LPPROCESS_INFORMATION pi) {
  if (!recording()) return real_fn(app, cmd, pa, ta, inherit, flags, env, dir, si, pi);
  BOOL ok = real_fn(app, cmd, pa, ta, inherit, flags | CREATE_SUSPENDED, env, dir, si, pi);
  DWORD e = GetLastError();
  if (ok) follow_child(pi, flags);
  SetLastError(e);
  return ok;
}

BOOL WINAPI hook_CreateProcessW(LPCWSTR app, LPWSTR cmd, LPSECURITY_ATTRIBUTES pa,
                                LPSECURITY_ATTRIBUTES ta, BOOL inherit, DWORD flags, LPVOID env,
                                LPCWSTR dir, LPSTARTUPINFOW si, LPPROCESS_INFORMATION pi) {
  return traced_create(real_CreateProcessW, app, cmd, pa, ta, inherit, flags, env, dir, si, pi);
}

BOOL WINAPI hook_CreateProcessA(LPCSTR app, LPSTR cmd, LPSECURITY_ATTRIBUTES pa,
                                LPSECURITY_ATTRIBUTES ta, BOOL inherit, DWORD flags, LPVOID env,
                                LPCSTR dir, LPSTARTUPINFOA si, LPPROCESS_INFORMATION pi) {
  return traced_create(real_CreateProcessA, app, cmd, pa, ta, inherit, flags, env, dir, si, pi);
}

FARPROC WINAPI hook_GetProcAddress(HMODULE m, LPCSTR name) {
  FARPROC r = real_GetProcAddress(m, name);
  FARPROC h = r ? hook_for(r) : nullptr;
  return h ? h : r;
}

void resolve_winsock();
void resolve_dnsapi();
void resolve_user32();

}  // namespace

// A thread named by the program (of itself or another): a thread_name event under that
// thread's id.
HRESULT WINAPI hook_SetThreadDescription(HANDLE t, PCWSTR desc) {
  HRESULT r = real_SetThreadDescription(t, desc);
  const DWORD e = GetLastError();
  if (SUCCEEDED(r) && desc && recording()) {
    Call c(FuncId::thread_name);
    c.done(0, false);  // a fact, not a call
    c.wstr(FieldId::name, desc);
    c.on_thread(GetThreadId(t));
  }
  SetLastError(e);
  return r;
}

namespace {

HMODULE after_load(HMODULE m) {
  DWORD e = GetLastError();
  if (m && !g_real.socket) resolve_winsock();  // the program loads Winsock only now
  if (m) resolve_dnsapi();
  if (m) resolve_user32();
  if (m) patch_all_modules();
  SetLastError(e);
  return m;
}
HMODULE WINAPI hook_LoadLibraryA(LPCSTR n) { return after_load(real_LoadLibraryA(n)); }
HMODULE WINAPI hook_LoadLibraryW(LPCWSTR n) { return after_load(real_LoadLibraryW(n)); }
HMODULE WINAPI hook_LoadLibraryExA(LPCSTR n, HANDLE f, DWORD fl) {
  return after_load(real_LoadLibraryExA(n, f, fl));
}
HMODULE WINAPI hook_LoadLibraryExW(LPCWSTR n, HANDLE f, DWORD fl) {
  return after_load(real_LoadLibraryExW(n, f, fl));
}

// Points every import slot of `m` that holds a hooked function at its hook.
void patch_module(HMODULE m) {
  if (m == g_self) return;
  auto* base = reinterpret_cast<uint8_t*>(m);
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

uint32_t parent_pid() {
  using QueryFn = NTSTATUS(NTAPI*)(HANDLE, PROCESSINFOCLASS, PVOID, ULONG, PULONG);
  auto query = reinterpret_cast<QueryFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationProcess")));
  PROCESS_BASIC_INFORMATION pbi{};
  if (!query || query(GetCurrentProcess(), ProcessBasicInformation, &pbi, sizeof pbi, nullptr) != 0)
    return 0;
  return static_cast<uint32_t>(pbi.InheritedFromUniqueProcessId);
}

void record_process_start() {
  static wchar_t image[MAX_PATH * 2];
  GetModuleFileNameW(nullptr, image, sizeof image / sizeof image[0]);
  Call c(FuncId::process_start);
  c.done(0, false);  // a fact, not a call: no duration
  c.u64(FieldId::ppid, parent_pid());
  c.wstr(FieldId::image, image);
  c.wstr(FieldId::cmdline, GetCommandLineW());
  c.u64(FieldId::platform, static_cast<uint64_t>(Platform::Windows));
}

// Points `real_fn` at function `name` of `module` (null when it has none) and pairs it with
// `hook`, so that imports of it and GetProcAddress answers get the hook (hook_for).
template <typename Fn>
void resolve(HMODULE module, const char* name, Fn& real_fn, Fn hook) {
  real_fn = reinterpret_cast<Fn>(reinterpret_cast<void*>(GetProcAddress(module, name)));
  add_pair(reinterpret_cast<FARPROC>(reinterpret_cast<void*>(real_fn)),
           reinterpret_cast<FARPROC>(reinterpret_cast<void*>(hook)));
}
// resolve() for the pair real_NAME / hook_NAME.
#define WS_RESOLVE(module, name) resolve(module, #name, real_##name, &hook_##name)

// Finds the real Winsock functions, once ws2_32 is in the process.
void resolve_winsock() {
  HMODULE ws2 = GetModuleHandleW(L"ws2_32.dll");
  if (!ws2) return;
#define WS_REAL(name, ret, params) resolve(ws2, #name, g_real.name, &hook_##name);
#include "hook_list.h"
#undef WS_REAL
}

// Finds DnsQuery_*, once dnsapi.dll is in the process.
void resolve_dnsapi() {
  HMODULE dns = GetModuleHandleW(L"dnsapi.dll");
  if (!dns || real_DnsQuery_A) return;
  WS_RESOLVE(dns, DnsQuery_A);
  WS_RESOLVE(dns, DnsQuery_W);
  WS_RESOLVE(dns, DnsQuery_UTF8);
}

// Finds user32's waits, once user32.dll is in the process.
void resolve_user32() {
  HMODULE u32 = GetModuleHandleW(L"user32.dll");
  if (!u32 || real_MsgWaitForMultipleObjects) return;
#define WS_USER32_HOOK(name, ret, params) WS_RESOLVE(u32, name);
  WS_USER32_HOOKS(WS_USER32_HOOK)
#undef WS_USER32_HOOK
}

void install_hooks() {
  HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
  resolve_winsock();
  resolve_dnsapi();
  resolve_user32();
  WS_RESOLVE(k32, GetProcAddress);
  WS_RESOLVE(k32, LoadLibraryA);
  WS_RESOLVE(k32, LoadLibraryW);
  WS_RESOLVE(k32, LoadLibraryExA);
  WS_RESOLVE(k32, LoadLibraryExW);
  WS_RESOLVE(k32, CreateProcessW);
  WS_RESOLVE(k32, CreateProcessA);
#define WS_KERNEL_HOOK(name, ret, params) WS_RESOLVE(k32, name);
  WS_KERNEL_HOOKS(WS_KERNEL_HOOK)
#undef WS_KERNEL_HOOK
  patch_all_modules();
}

// The region is named in WSTRACE_SHM (a program wstrace started, and children that inherit its
// environment), by the parent that started this process (any child followed), or after this
// process's id (a process wstrace attached to).
bool map_region() {
  wchar_t* name = g_region_name;
  DWORD n = GetEnvironmentVariableW(L"WSTRACE_SHM", name, 128);
  HANDLE h = n > 0 && n < 128 ? OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name) : nullptr;
  if (!h && region_from_parent(name, 128)) h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
  if (!h) {
    swprintf(name, 128, L"Local\\wstrace-attach-%lu", GetCurrentProcessId());
    h = OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE, name);
  }
  if (!h) return false;
  void* mem = MapViewOfFile(h, FILE_MAP_ALL_ACCESS, 0, 0, 0);
  CloseHandle(h);
  if (!mem) return false;
  MEMORY_BASIC_INFORMATION mbi{};
  VirtualQuery(mem, &mbi, sizeof mbi);
  auto* r = static_cast<RegionHeader*>(mem);
  if (!read_geometry(r, mbi.RegionSize, g_geometry)) {
    UnmapViewOfFile(mem);
    return false;
  }
  g_region = r;
  return true;
}

}  // namespace

FARPROC hook_for(FARPROC real_fn) {
  for (size_t i = 0; i < g_npairs; ++i)
    if (g_pairs[i].real == real_fn) return g_pairs[i].hook;
  return nullptr;
}

void patch_all_modules() {
  EnterCriticalSection(&g_patch_lock);
  HMODULE mods[1024];
  DWORD needed = 0;
  if (K32EnumProcessModules(GetCurrentProcess(), mods, sizeof mods, &needed)) {
    DWORD n = needed / sizeof(HMODULE);
    for (DWORD i = 0; i < n && i < 1024; ++i) patch_module(mods[i]);
  }
  LeaveCriticalSection(&g_patch_lock);
}

// ---- What agent/call.cc needs from the platform -----------------------------------------------
RegionHeader* region() { return g_region; }
const RingGeometry& geometry() { return g_geometry; }
void count_no_ring_record() {
  int32_t entry = g_no_ring_entry.load(std::memory_order_relaxed);
  count_no_ring(g_region, GetCurrentProcessId(), entry, !(tls_value() & kNoRingBit));
  g_no_ring_entry.store(entry, std::memory_order_relaxed);
  set_tls_value(tls_value() | kNoRingBit);
}
bool recording() {
  return g_enabled && g_region->collector_alive.load(std::memory_order_relaxed);
}
int32_t owned_slot() { return static_cast<int32_t>(tls_value() & kSlotBits) - 1; }
bool is_pushing() { return (tls_value() & kPushingBit) != 0; }
void set_pushing(bool on) { set_tls_value(on ? tls_value() | kPushingBit : tls_value() & ~kPushingBit); }
uint32_t thread_id() { return GetCurrentThreadId(); }
int last_error() { return static_cast<int>(GetLastError()); }
void set_last_error(int e) { SetLastError(static_cast<DWORD>(e)); }
ErrDomain last_error_domain() { return ErrDomain::Win; }

int64_t now_ns() {
  LARGE_INTEGER c;
  QueryPerformanceCounter(&c);
  const int64_t f = g_qpc_freq.QuadPart;
  return c.QuadPart / f * 1'000'000'000 + c.QuadPart % f * 1'000'000'000 / f;
}

int32_t claim_slot() {
  int32_t mine = owned_slot();
  if (mine >= 0) return mine;
  Slot* slots = slots_of(g_region);
  const uint32_t n = g_geometry.slots, tid = GetCurrentThreadId();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t k = (tid / 4 + i) % n;
    uint32_t expected = kSlotFree;
    if (slots[k].state.compare_exchange_strong(expected, kSlotClaiming,
                                               std::memory_order_acq_rel)) {
      // Owner facts first: the collector reads them once it sees the slot Active.
      slots[k].pid.store(GetCurrentProcessId(), std::memory_order_relaxed);
      slots[k].tid.store(tid, std::memory_order_relaxed);
      slots[k].state.store(kSlotActive, std::memory_order_release);
      set_tls_value((tls_value() & ~kSlotBits) | (k + 1));
      return static_cast<int32_t>(k);
    }
  }
  return -1;
}

}  // namespace ws::agent

using namespace ws::agent;

// Everything here runs under the loader lock, so it only maps memory and patches import
// tables; ws2_32 is already loaded when wstrace injects (it loads the agent into a started,
// suspended program after the loader has resolved the program's imports).
BOOL WINAPI DllMain(HINSTANCE self, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) {
    g_self = self;
    InitializeCriticalSection(&g_patch_lock);
    QueryPerformanceFrequency(&g_qpc_freq);
    g_tls = TlsAlloc();
    if (g_tls == TLS_OUT_OF_INDEXES || !map_region()) return TRUE;  // loaded, but inert
    g_enabled = true;
    install_hooks();
    record_process_start();
  } else if (reason == DLL_THREAD_DETACH && g_region && g_tls != TLS_OUT_OF_INDEXES) {
    int32_t slot = owned_slot();
    if (slot >= 0)
      slots_of(g_region)[slot].state.store(kSlotReleased, std::memory_order_release);
    set_tls_value(tls_value() & ~kSlotBits);  // a call made later in this thread claims anew
  }
  return TRUE;
}
