// The length and shape of one x86-64 instruction, enough to move a function's first
// instructions elsewhere (body_hook.cc): legacy prefixes, REX, the one-, two- and three-byte
// opcode maps (0F, 0F38, 0F3A), ModRM/SIB/displacement, immediates (with 66h and REX.W), VEX
// and EVEX. What it does not know it refuses (decode() returns false) rather than guesses.
// Portable C++ with no platform headers: unit-tested on Linux and under Wine alike.
#pragma once

#include <cstddef>
#include <cstdint>

namespace ws::x64 {

// What moving an instruction to another address has to take care of.
enum class Flow : uint8_t {
  Plain,    // runs on to the next instruction; moves as it is (unless rip_relative)
  Jcc,      // conditional branch, rel8 or rel32 (70-7F, 0F 80-8F)
  Jmp,      // unconditional relative jump, rel8 or rel32 (EB, E9)
  Call,     // relative call, rel32 (E8)
  Loop,     // LOOP/LOOPcc/JrCXZ rel8 (E0-E3) and XBEGIN rel32: relative, never moved
  Return,   // RET, RET imm16
  Indirect, // JMP through a register or memory (FF /4, FF /5): ends the flow
  Stop,     // INT3, UD2, HLT: the flow ends here
};

struct Insn {
  uint8_t len = 0;          // total bytes
  Flow flow = Flow::Plain;
  bool rip_relative = false;  // a ModRM memory operand addressed from RIP
  uint8_t disp_at = 0;      // offset of the RIP-relative disp32 in the instruction
  uint8_t rel_at = 0;       // offset of a relative branch's displacement
  uint8_t rel_size = 0;     // its size: 1 or 4
  uint8_t opcode = 0;       // the last opcode byte (the condition of a Jcc is its low nibble)
  int32_t rip_disp = 0;     // the RIP-relative displacement
  int32_t rel = 0;          // the relative branch's displacement
  bool nop = false;         // NOP (90, 0F 1F /0) or INT3: padding between functions
};

// Decodes the instruction at `p`, of which `avail` bytes may be read. False when the bytes are
// not an instruction this decoder knows in 64-bit mode (or run past `avail`).
bool decode(const uint8_t* p, size_t avail, Insn& out);

}  // namespace ws::x64
