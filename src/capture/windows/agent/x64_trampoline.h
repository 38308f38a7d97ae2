// A trampoline: a function's first instructions moved to another address, followed by a jump
// back to the rest of the function, so that the jump a body hook writes over them (body_hook.cc)
// does not lose them. RIP-relative operands are re-based, relative branches rewritten; what
// cannot move safely is refused with the reason. Portable C++ (no platform headers): the
// planning is pure arithmetic on bytes and addresses, unit-tested on Linux.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ws::x64 {

constexpr size_t kJmpRel32 = 5;   // E9 rel32
constexpr size_t kJmpAbs = 14;    // FF 25 00000000, then the 8-byte address
constexpr size_t kMaxTrampoline = 240;
constexpr size_t kMaxMoved = 15;  // instructions (the jump is at most 14 bytes)

struct Trampoline {
  uint8_t code[kMaxTrampoline];
  size_t size = 0;     // bytes of code
  size_t patched = 0;  // bytes of the function the caller may overwrite (≥ the jump it writes)
  // Where each moved instruction starts, in the function and in the trampoline: a thread
  // stopped at from[i] continues at to[i], and back.
  size_t moved = 0;
  uint8_t from[kMaxMoved], to[kMaxMoved];
};

// Plans the trampoline at address `at` for the function at address `target`, whose first bytes
// are `code` (`avail` of them readable), so that its first `need` bytes may be overwritten.
// `body`: how many bytes from `target` are known to belong to the function (its unwind entry;
// 0 when unknown); branches in them into the moved instructions are looked for. Returns
// nullptr, or why the function cannot be hooked.
const char* plan_trampoline(const uint8_t* code, size_t avail, uint64_t target, uint64_t at,
                            size_t need, size_t body, Trampoline& out);

// Writes a jump from address `from` to address `to` into `out`: 5 bytes (rel32) when in reach
// and `prefer_short`, else 14 (absolute). Returns its size, or 0 when `room` is too small.
size_t write_jump(uint8_t* out, size_t room, uint64_t from, uint64_t to, bool prefer_short = true);

// Whether `to` is within a rel32 displacement of an instruction ending at `end`.
bool in_rel32_reach(uint64_t end, uint64_t to);

}  // namespace ws::x64
