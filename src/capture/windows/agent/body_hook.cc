// Body hooks (body_hook.h): trampoline memory near each hooked module, the threads held still
// while a function's first bytes change, and the modules whose functions are hooked.
#include "body_hook.h"

#include <tlhelp32.h>

#include <atomic>
#include <cstring>

#include "agent.h"  // safe_read
#include "x64_trampoline.h"

namespace ws::agent {
namespace {

using x64::kJmpAbs;
using x64::kJmpRel32;
using x64::kMaxTrampoline;
using x64::Trampoline;

constexpr size_t kSlotBytes = 256;  // one hook's trampoline, then its relay to the gate
static_assert(kMaxTrampoline + kJmpAbs <= kSlotBytes);
constexpr size_t kRegionBytes = 64 * 1024;
constexpr uintptr_t kNear = 0x70000000;  // 1.75 GiB: room left for the module's own RIP offsets
constexpr size_t kMaxHooks = 160;
constexpr size_t kMaxRegions = 16;
constexpr size_t kMaxModules = 16;
constexpr size_t kMaxPatched = 32;  // the jump (≤ 14 bytes) rounded up to whole instructions

struct BodyHook {
  uint8_t* target;
  uint8_t* slot;  // trampoline; the relay to the gate is at slot + kMaxTrampoline
  size_t jump;    // the jump written at the target: kJmpRel32, or kJmpAbs from a far slot
  size_t patched;
  uint8_t saved[kMaxPatched];
  Trampoline plan;
  bool removed;
};
BodyHook g_hooks[kMaxHooks];
size_t g_nhooks = 0;

struct Region {
  uint8_t* base;
  size_t used;
  bool close_by;  // made for a module near it (else anywhere: reached by 14-byte jumps)
};
Region g_regions[kMaxRegions];
size_t g_nregions = 0;

struct Range {
  uintptr_t lo, hi;
};
Range g_modules[kMaxModules];
std::atomic<size_t> g_nmodules{0};  // entries below it are complete (read by every gate)

uintptr_t distance(uintptr_t a, uintptr_t b) { return a > b ? a - b : b - a; }

// Reserves and commits kRegionBytes within kNear of `target`, or nullptr.
uint8_t* alloc_near(uintptr_t target) {
  SYSTEM_INFO si;
  GetSystemInfo(&si);
  const uintptr_t gran = si.dwAllocationGranularity;
  const auto min_app = reinterpret_cast<uintptr_t>(si.lpMinimumApplicationAddress);
  const auto max_app = reinterpret_cast<uintptr_t>(si.lpMaximumApplicationAddress);
  const uintptr_t lo = target > min_app + kNear ? target - kNear : min_app;
  const uintptr_t hi = target < max_app - kNear ? target + kNear : max_app;
  MEMORY_BASIC_INFORMATION m;
  auto try_at = [](uintptr_t a) {
    return static_cast<uint8_t*>(VirtualAlloc(reinterpret_cast<void*>(a), kRegionBytes,
                                              MEM_RESERVE | MEM_COMMIT, PAGE_EXECUTE_READWRITE));
  };
  // Below the module first (it is usually free), then above it.
  for (uintptr_t a = target & ~(gran - 1); a >= lo + gran;) {
    a -= gran;
    if (!VirtualQuery(reinterpret_cast<void*>(a), &m, sizeof m)) break;
    if (m.State == MEM_FREE) {
      if (uint8_t* p = try_at(a)) return p;
    } else {
      const auto base = reinterpret_cast<uintptr_t>(m.AllocationBase) & ~(gran - 1);
      if (!base || base >= a + gran) break;
      a = base;
    }
  }
  for (uintptr_t a = (target + gran) & ~(gran - 1); a + kRegionBytes < hi;) {
    if (!VirtualQuery(reinterpret_cast<void*>(a), &m, sizeof m)) break;
    if (m.State == MEM_FREE) {
      if (uint8_t* p = try_at(a)) return p;
      a += gran;
    } else {
      const uintptr_t end = reinterpret_cast<uintptr_t>(m.BaseAddress) + m.RegionSize;
      if (end <= a) break;
      a = (end + gran - 1) & ~(gran - 1);
    }
  }
  return nullptr;
}

// A region with a free slot within kNear of `target` (the slot is taken by the caller), or,
// with `anywhere`, one wherever memory is free.
Region* region_for(uintptr_t target, bool anywhere) {
  for (size_t i = 0; i < g_nregions; ++i) {
    Region& r = g_regions[i];
    if (r.used + kSlotBytes <= kRegionBytes &&
        (anywhere ? !r.close_by : distance(reinterpret_cast<uintptr_t>(r.base), target) < kNear))
      return &r;
  }
  if (g_nregions == kMaxRegions) return nullptr;
  uint8_t* p = anywhere ? static_cast<uint8_t*>(VirtualAlloc(nullptr, kRegionBytes,
                                                             MEM_RESERVE | MEM_COMMIT,
                                                             PAGE_EXECUTE_READWRITE))
                        : alloc_near(target);
  if (!p) return nullptr;
  g_regions[g_nregions] = Region{p, 0, !anywhere};
  return &g_regions[g_nregions++];
}

// Notes the module holding `addr` as one whose functions are hooked.
void note_module(const void* addr) {
  HMODULE m = nullptr;
  if (!GetModuleHandleExW(GET_MODULE_HANDLE_EX_FLAG_FROM_ADDRESS |
                              GET_MODULE_HANDLE_EX_FLAG_UNCHANGED_REFCOUNT,
                          static_cast<LPCWSTR>(addr), &m))
    return;
  const auto base = reinterpret_cast<uintptr_t>(m);
  const auto* dos = reinterpret_cast<const IMAGE_DOS_HEADER*>(m);
  const auto* nt = reinterpret_cast<const IMAGE_NT_HEADERS64*>(base + dos->e_lfanew);
  const size_t n = g_nmodules.load(std::memory_order_relaxed);
  for (size_t i = 0; i < n; ++i)
    if (g_modules[i].lo == base) return;
  if (n == kMaxModules) return;
  g_modules[n] = Range{base, base + nt->OptionalHeader.SizeOfImage};
  g_nmodules.store(n + 1, std::memory_order_release);
}

// How many bytes from `target` belong to its function, by its unwind entry (0: unknown, as for
// a leaf function without one).
size_t function_extent(uint8_t* target) {
  DWORD64 base = 0;
  auto* f = RtlLookupFunctionEntry(reinterpret_cast<DWORD64>(target), &base, nullptr);
  if (!f || base + f->BeginAddress != reinterpret_cast<DWORD64>(target)) return 0;
  return f->EndAddress - f->BeginAddress;
}

// How many bytes at `p` are readable, up to `want`.
size_t readable(const uint8_t* p, size_t want) {
  MEMORY_BASIC_INFORMATION m;
  if (!VirtualQuery(p, &m, sizeof m) || m.State != MEM_COMMIT) return 0;
  const size_t left = static_cast<size_t>(static_cast<const uint8_t*>(m.BaseAddress) +
                                          m.RegionSize - p);
  return left < want ? left : want;
}

// Writes `n` bytes at `dst` in code: in one 8-byte store when they lie in one aligned quadword
// (a thread that was not suspended — one started since — then sees the old bytes or the new).
void write_code(uint8_t* dst, const uint8_t* src, size_t n) {
  DWORD old;
  if (!VirtualProtect(dst, n, PAGE_EXECUTE_READWRITE, &old)) return;
  const auto at = reinterpret_cast<uintptr_t>(dst);
  if ((at & 7) + n <= 8) {
    auto* q = reinterpret_cast<volatile LONG64*>(at & ~uintptr_t{7});
    LONG64 v = *q;
    memcpy(reinterpret_cast<uint8_t*>(&v) + (at & 7), src, n);
    InterlockedExchange64(q, v);
  } else {
    memcpy(dst, src, n);
  }
  VirtualProtect(dst, n, old, &old);
}

// Lists the process's other threads into `tids` (at most `max`, `n` of them). False when they
// did not all fit, or could not be listed. (Listed before any is suspended: the snapshot
// allocates.)
bool list_other_threads(DWORD* tids, size_t max, size_t& n) {
  n = 0;
  const DWORD self = GetCurrentThreadId(), pid = GetCurrentProcessId();
  HANDLE snap = CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
  if (snap == INVALID_HANDLE_VALUE) return false;
  THREADENTRY32 te{};
  te.dwSize = sizeof te;
  bool all = true;
  for (BOOL more = Thread32First(snap, &te); more; more = Thread32Next(snap, &te)) {
    if (te.th32OwnerProcessID != pid || te.th32ThreadID == self) continue;
    if (n == max) {
      all = false;
      break;
    }
    tids[n++] = te.th32ThreadID;
  }
  CloseHandle(snap);
  return all;
}

// SuspendThread may return before the thread has stopped; asking its context waits for it.
void wait_stopped(HANDLE thread) {
  CONTEXT c{};
  c.ContextFlags = CONTEXT_CONTROL;
  GetThreadContext(thread, &c);
}

// Suspends the threads `tids` that still run (their handles into `held`), each stopped on
// return; returns how many.
size_t suspend(const DWORD* tids, size_t n, HANDLE* held) {
  size_t nheld = 0;
  for (size_t t = 0; t < n; ++t) {
    HANDLE h = OpenThread(THREAD_SUSPEND_RESUME | THREAD_GET_CONTEXT | THREAD_SET_CONTEXT, FALSE,
                          tids[t]);
    if (!h) continue;  // it ended meanwhile
    if (SuspendThread(h) == static_cast<DWORD>(-1)) {
      CloseHandle(h);
      continue;
    }
    held[nheld++] = h;
  }
  for (size_t t = 0; t < nheld; ++t) wait_stopped(held[t]);
  return nheld;
}

void resume(HANDLE* held, size_t n) {
  FlushInstructionCache(GetCurrentProcess(), nullptr, 0);
  for (size_t t = 0; t < n; ++t) {
    ResumeThread(held[t]);
    CloseHandle(held[t]);
  }
}

}  // namespace

PatchBatch::PatchBatch() {
  first_hook_ = g_nhooks;
  listed_ = list_other_threads(tids_, kMaxThreads, ntids_);
}

namespace {

// Moves a suspended thread stopped inside the bytes a hook of [first, end) overwrote to the
// same instruction in its trampoline.
void move_into_trampoline(HANDLE thread, size_t first, size_t end) {
  CONTEXT c{};
  c.ContextFlags = CONTEXT_CONTROL;
  if (!GetThreadContext(thread, &c)) return;
  for (size_t i = first; i < end; ++i) {
    const BodyHook& h = g_hooks[i];
    const auto start = reinterpret_cast<DWORD64>(h.target);
    if (c.Rip <= start || c.Rip >= start + h.patched) continue;
    for (size_t k = 0; k < h.plan.moved; ++k)
      if (c.Rip == start + h.plan.from[k]) {
        c.Rip = reinterpret_cast<DWORD64>(h.slot) + h.plan.to[k];
        SetThreadContext(thread, &c);
        return;
      }
  }
}

}  // namespace

PatchBatch::~PatchBatch() {
  if (first_hook_ == g_nhooks) return;
  HANDLE held[kMaxThreads];
  const size_t nheld = suspend(tids_, ntids_, held);
  for (size_t i = first_hook_; i < g_nhooks; ++i) {
    uint8_t jump[kMaxPatched];
    memset(jump, 0xCC, sizeof jump);  // (what follows the jump is never run)
    x64::write_jump(jump, g_hooks[i].jump, reinterpret_cast<uint64_t>(g_hooks[i].target),
                    reinterpret_cast<uint64_t>(g_hooks[i].slot + kMaxTrampoline),
                    g_hooks[i].jump == kJmpRel32);
    write_code(g_hooks[i].target, jump, g_hooks[i].patched);
  }
  for (size_t t = 0; t < nheld; ++t) move_into_trampoline(held[t], first_hook_, g_nhooks);
  resume(held, nheld);
}

const char* PatchBatch::hook(void* target_fn, void* gate, void** real) {
  auto* target = static_cast<uint8_t*>(target_fn);
  for (size_t i = 0; i < g_nhooks; ++i)
    if (g_hooks[i].target == target && !g_hooks[i].removed) {
      *real = g_hooks[i].slot;  // (two names for one function: Wine forwards some)
      return nullptr;
    }
  if (!listed_) return "too many threads to hold still";
  if (g_nhooks == kMaxHooks) return "too many hooks";
  uint8_t code[64];
  const size_t avail = readable(target, sizeof code);
  if (avail < kJmpRel32 || safe_read(code, target, avail) != avail)
    return "its code cannot be read";
  // A trampoline within reach of a 5-byte jump; failing that, anywhere, with a 14-byte jump
  // (which its first instructions must then make room for).
  size_t jump = kJmpRel32;
  Region* region = region_for(reinterpret_cast<uintptr_t>(target), false);
  if (!region) {
    region = region_for(reinterpret_cast<uintptr_t>(target), true);
    jump = kJmpAbs;
  }
  if (!region) return "no memory free for a trampoline";
  uint8_t* slot = region->base + region->used;
  BodyHook& h = g_hooks[g_nhooks];
  if (const char* why = x64::plan_trampoline(code, avail, reinterpret_cast<uint64_t>(target),
                                             reinterpret_cast<uint64_t>(slot), jump,
                                             function_extent(target), h.plan))
    return why;
  if (h.plan.patched > kMaxPatched) return "too many bytes to overwrite";
  region->used += kSlotBytes;
  // The trampoline, and the relay from the jump at the target to the gate (which may be more
  // than 2 GiB away).
  // (Its page holds other slots: executable and readable only, but for these writes.)
  uint8_t* relay = slot + kMaxTrampoline;
  DWORD old;
  if (!VirtualProtect(slot, kSlotBytes, PAGE_EXECUTE_READWRITE, &old))
    return "its trampoline cannot be written";
  memcpy(slot, h.plan.code, h.plan.size);
  x64::write_jump(relay, kJmpAbs, reinterpret_cast<uint64_t>(relay),
                  reinterpret_cast<uint64_t>(gate), false);
  VirtualProtect(slot, kSlotBytes, PAGE_EXECUTE_READ, &old);
  FlushInstructionCache(GetCurrentProcess(), slot, kSlotBytes);
  h.target = target;
  h.slot = slot;
  h.jump = jump;
  h.patched = h.plan.patched;
  h.removed = false;
  memcpy(h.saved, code, h.patched);
  *real = slot;  // before the jump is written: a thread started since the batch began may take
                 // it at once
  note_module(target);
  ++g_nhooks;  // (the jump is written when the batch ends)
  return nullptr;
}

void* function_body(void* p) {
  for (int hops = 0; hops < 4 && p; ++hops) {
    uint8_t b[7];
    if (safe_read(b, p, sizeof b) != sizeof b) break;
    const size_t at = b[0] == 0x48 ? 1 : 0;  // (REX.W JMP [rip+x] is the same jump)
    if (b[at] != 0xFF || b[at + 1] != 0x25) break;
    int32_t disp;
    memcpy(&disp, b + at + 2, 4);
    void* next = nullptr;
    if (!read_safely(next, static_cast<uint8_t*>(p) + at + 6 + disp) || !next) break;
    p = next;
  }
  return p;
}

bool body_hooked(const void* target) {
  for (size_t i = 0; i < g_nhooks; ++i)
    if (g_hooks[i].target == target && !g_hooks[i].removed) return true;
  return false;
}

bool in_hooked_module(const void* addr) {
  const auto a = reinterpret_cast<uintptr_t>(addr);
  const size_t n = g_nmodules.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i)
    if (a >= g_modules[i].lo && a < g_modules[i].hi) return true;
  return false;
}

void remove_body_hooks() {
  // (A thread can only be at a hooked function's first byte, where the old code starts too:
  // none is moved.)
  static DWORD tids[1024];
  static HANDLE held[1024];
  size_t n = 0;
  list_other_threads(tids, 1024, n);
  const size_t nheld = suspend(tids, n, held);
  for (size_t i = 0; i < g_nhooks; ++i) {
    BodyHook& h = g_hooks[i];
    if (h.removed) continue;
    write_code(h.target, h.saved, h.patched);
    h.removed = true;
  }
  resume(held, nheld);
}

}  // namespace ws::agent
