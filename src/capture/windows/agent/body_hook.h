// Hooks on the function bodies: the first instructions of a function are moved to a trampoline
// near it (x64_trampoline.h) and a jump to the hook written in their place, so every caller is
// seen — any module, a pointer fetched before the agent came, the DLL calling itself. Written
// with the process's other threads suspended (none may run the bytes being changed; one
// stopped inside them is moved to the trampoline). Trampolines are never freed: a thread may
// be inside one whatever is undone.
#pragma once

#include <windows.h>

#include <cstddef>
#include <cstdint>

namespace ws::agent {

// A set of hooks written at once. hook() prepares each one (its trampoline, its jump) while the
// process runs on; the destructor suspends every other thread, writes the jumps, moves a
// thread stopped inside the overwritten bytes into the trampoline, and resumes them. While
// they are suspended nothing is called that may wait for a lock one of them holds (the heap,
// the loader lock).
class PatchBatch {
 public:
  PatchBatch();
  ~PatchBatch();
  PatchBatch(const PatchBatch&) = delete;
  PatchBatch& operator=(const PatchBatch&) = delete;
  // Hooks the function at `target`: its callers reach `gate`; `*real` becomes the address that
  // runs the function as it was (the trampoline), at once. Returns nullptr, or why not: then
  // nothing is changed and `*real` is untouched. A function hooked already keeps its first
  // hook (`*real` gets its trampoline).
  const char* hook(void* target, void* gate, void** real);

 private:
  static constexpr size_t kMaxThreads = 1024;
  DWORD tids_[kMaxThreads];  // the other threads, listed when the batch began
  size_t ntids_ = 0;
  size_t first_hook_ = 0;  // the hooks this batch prepared: from here on in the hook table
  bool listed_ = false;    // all of them fit in tids_
};

// The function that `p` leads to, through the import jumps (JMP [rip+x]) of forwarding stubs:
// kernel32's WaitForSingleObject, say, is such a jump into kernelbase.
void* function_body(void* p);

// Whether `target` has a body hook (its callers reach the hook whatever pointer they hold).
bool body_hooked(const void* target);

// Whether `addr` is in a module whose functions were body-hooked (or in the agent): a call from
// there, made while a hook runs on this thread, is the hooked function's own work.
bool in_hooked_module(const void* addr);

// Puts every hooked function's first bytes back, the other threads suspended. The trampolines
// and the hooks stay in memory: a thread may be in one of them.
void remove_body_hooks();

}  // namespace ws::agent
