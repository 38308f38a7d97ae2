// The gate in front of each body-hooked function (body_hook.h): the jump written over the
// function leads here, and the gate decides whether this call is the program's (run the hook)
// or the hooked DLL's own work (run the function as it was). A call is the DLL's own work when
// it comes from the agent, or from a module whose functions are hooked while a hook already
// runs on this thread: Wine's WSASend calls WSASendTo, socket calls WSASocketW, WSAAccept calls
// accept — traced once, as the program called them. A DLL function the agent does not hook
// that calls a hooked one (WSASendDisconnect calling shutdown) is the program's call: traced.
#pragma once

#include <windows.h>

#include "body_hook.h"

namespace ws::agent {

// Whether a call returning to `caller` is the hooked DLLs' (or the agent's) own work.
bool own_work(const void* caller);

// While a hook runs on this thread (nests). Leaves the last error as it was.
class HookDepth {
 public:
  HookDepth();
  ~HookDepth();
  HookDepth(const HookDepth&) = delete;
  HookDepth& operator=(const HookDepth&) = delete;
};

// Gate<&hook_X>::fn: the code the hooked function X jumps to; `real` is its trampoline.
template <auto Hook>
struct Gate;
template <typename R, typename... A, R (*Hook)(A...)>
struct Gate<Hook> {
  static inline R (*real)(A...) = nullptr;
  // (noinline: __builtin_return_address(0) must be the hooked function's caller)
  [[gnu::noinline]] static R fn(A... a) {
    if (own_work(__builtin_return_address(0))) return real(a...);
    HookDepth depth;
    return Hook(a...);
  }
};

// Why the last body hook of a function was refused (nullptr: none was), for the trace.
void note_refused(const char* function, const char* why);

// Body-hooks the function at `target` (through its import jumps) with `Hook`; `real` gets the
// trampoline. When refused, `real` stays `target` (the hook, never reached, would call it) and
// the trace says so.
template <auto Hook, typename Fn>
void hook_body(PatchBatch& batch, const char* name, void* target, Fn& real) {
  if (!target) return;
  using G = Gate<Hook>;
  real = reinterpret_cast<Fn>(target);  // (until the trampoline is in: the gate passes it on)
  // The gate's trampoline is set before the jump to it is written.
  const char* why = batch.hook(function_body(target), reinterpret_cast<void*>(&G::fn),
                               reinterpret_cast<void**>(&G::real));
  if (!why) {
    real = reinterpret_cast<Fn>(reinterpret_cast<void*>(G::real));
    return;
  }
  note_refused(name, why);
}

}  // namespace ws::agent
