#include "agent.h"

#include <psapi.h>
#include <winternl.h>

#include "gate.h"

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

// Per thread, in one TLS value: slot + 1 in the low 30 bits, the "pushing" flag in bit 31, and
// in bit 30 "this thread was counted as one that found no free ring".
uintptr_t tls_value() { return reinterpret_cast<uintptr_t>(TlsGetValue(g_tls)); }
void set_tls_value(uintptr_t v) { TlsSetValue(g_tls, reinterpret_cast<void*>(v)); }
constexpr uintptr_t kPushingBit = uintptr_t{1} << 31;
constexpr uintptr_t kNoRingBit = uintptr_t{1} << 30;
constexpr uintptr_t kSlotBits = kNoRingBit - 1;

// kernel32 functions whose callers must be steered to the hooks too.
HMODULE(WINAPI* real_LoadLibraryA)(LPCSTR) = nullptr;
HMODULE(WINAPI* real_LoadLibraryW)(LPCWSTR) = nullptr;
HMODULE(WINAPI* real_LoadLibraryExA)(LPCSTR, HANDLE, DWORD) = nullptr;
HMODULE(WINAPI* real_LoadLibraryExW)(LPCWSTR, HANDLE, DWORD) = nullptr;

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
  if (m) {
    install_winsock();  // (nothing when it is in already)
    install_extensions();
    install_dnsapi();
    install_user32();
  }
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

// Body-hooks kernel32's functions: completions, waits, thread names, and those that bring
// modules and children in (LoadLibrary installs the hooks of a module loaded later).
void install_kernel32() {
  HMODULE k32 = GetModuleHandleW(L"kernel32.dll");
  auto proc = [k32](const char* name) {
    return reinterpret_cast<void*>(GetProcAddress(k32, name));
  };
  PatchBatch batch;
#define WS_KERNEL_HOOK(name, ...) \
  hook_body<&hook_##name>(batch, #name, proc(#name), real_##name);
  WS_KERNEL_HOOK(LoadLibraryA)
  WS_KERNEL_HOOK(LoadLibraryW)
  WS_KERNEL_HOOK(LoadLibraryExA)
  WS_KERNEL_HOOK(LoadLibraryExW)
  WS_KERNEL_HOOK(CreateProcessW)
  WS_KERNEL_HOOK(CreateProcessA)
  WS_KERNEL_HOOKS(WS_KERNEL_HOOK)
#undef WS_KERNEL_HOOK
}

// wstrace detaching (Ctrl+C) sets this process's detach event: the functions get their own
// first bytes back (remove_body_hooks), from a thread-pool thread. (Import slots pointed at
// hooks stay: those hooks only pass the calls on once the collector is gone.)
VOID CALLBACK on_detach(PVOID, BOOLEAN) { remove_body_hooks(); }
void watch_for_detach() {
  wchar_t name[64];
  swprintf(name, 64, L"Local\\wstrace-detach-%lu", GetCurrentProcessId());
  HANDLE ev = CreateEventW(nullptr, TRUE, FALSE, name);
  if (ev && GetLastError() == ERROR_ALREADY_EXISTS) {  // not ours: a neighbour made it first
    CloseHandle(ev);
    return;
  }
  HANDLE wait = nullptr;
  if (ev && !RegisterWaitForSingleObject(&wait, ev, on_detach, nullptr, INFINITE,
                                         WT_EXECUTEONLYONCE))
    CloseHandle(ev);
}

// What the agent does once it is in, outside the loader lock (a thread of its own, started in
// DllMain): the extension functions' hooks (they take a socket to find, so in a program that
// has not started Winsock yet they go in when it does), the sockets the process already has,
// then wstrace told (an attach waits for it).
void say_ready() {
  wchar_t name[64];
  swprintf(name, 64, L"Local\\wstrace-ready-%lu", GetCurrentProcessId());
  if (HANDLE ready = OpenEventW(EVENT_MODIFY_STATE, FALSE, name)) {
    SetEvent(ready);
    CloseHandle(ready);
  }
}

DWORD WINAPI after_load_done(LPVOID) {
  HookDepth own;  // (what ws2_32 does for the agent's own calls is not the program's)
  install_extensions();
  record_inherited_sockets();
  watch_for_detach();
  say_ready();
  return 0;
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
  if (!same_build(r, mbi.RegionSize, kBuildId) || !read_geometry(r, mbi.RegionSize, g_geometry)) {
    UnmapViewOfFile(mem);
    return false;
  }
  g_region = r;
  return true;
}

}  // namespace

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

// Everything here runs under the loader lock, so it only maps memory and writes hooks (what
// needs more runs in after_load_done's thread); ws2_32 is already loaded when wstrace injects
// (it loads the agent into a started, suspended program after the loader has resolved the
// program's imports).
BOOL WINAPI DllMain(HINSTANCE self, DWORD reason, LPVOID) {
  if (reason == DLL_PROCESS_ATTACH) {
    g_self = self;
    init_install(self);
    QueryPerformanceFrequency(&g_qpc_freq);
    g_tls = TlsAlloc();
    if (g_tls == TLS_OUT_OF_INDEXES || !map_region()) {  // loaded, but inert
      say_ready();  // (there is nothing to wait for)
      return TRUE;
    }
    g_enabled = true;
    record_process_start();  // first: a hook refused is said after it
    install_kernel32();
    install_winsock();
    install_dnsapi();
    install_user32();
    if (HANDLE t = CreateThread(nullptr, 0, after_load_done, nullptr, 0, nullptr))
      CloseHandle(t);
    else
      say_ready();
  } else if (reason == DLL_THREAD_DETACH && g_region && g_tls != TLS_OUT_OF_INDEXES) {
    int32_t slot = owned_slot();
    if (slot >= 0)
      slots_of(g_region)[slot].state.store(kSlotReleased, std::memory_order_release);
    set_tls_value(tls_value() & ~kSlotBits);  // a call made later in this thread claims anew
  }
  return TRUE;
}
