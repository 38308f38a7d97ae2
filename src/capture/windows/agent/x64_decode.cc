// x86-64 instruction lengths (x64_decode.h), from the opcode maps of the Intel SDM volume 2,
// appendix A. 64-bit mode only.
#include "x64_decode.h"

namespace ws::x64 {
namespace {

constexpr size_t kMaxLen = 15;  // the architecture's limit

// Immediate operand of an opcode.
enum Imm : uint8_t {
  kNone,
  kI8,
  kI16,
  kIz,     // 16 bits with 66h, else 32 (REX.W leaves it at 32, sign-extended)
  kIv,     // MOV r, imm: 64 bits with REX.W, 16 with 66h, else 32
  kEnter,  // ENTER imm16, imm8
  kMoffs,  // MOV AL/rAX <-> moffs: an address, 8 bytes (4 with 67h)
};

struct Shape {
  bool valid = true;
  bool modrm = false;
  Imm imm = kNone;
};

Shape one_byte(uint8_t op) {
  const uint8_t lo = op & 7;
  if (op < 0x40) {
    if (lo <= 3) return {true, true, kNone};   // ALU r/m forms
    if (lo == 4) return {true, false, kI8};    // ALU AL, imm8
    if (lo == 5) return {true, false, kIz};    // ALU eAX, imm
    return {false};  // PUSH/POP seg, DAA …: invalid in 64-bit mode (prefixes handled before)
  }
  if (op >= 0x50 && op <= 0x5F) return {};  // PUSH/POP reg
  if (op >= 0x70 && op <= 0x7F) return {true, false, kI8};  // Jcc rel8
  if (op >= 0x84 && op <= 0x8F) return {true, true, kNone};
  if (op >= 0x90 && op <= 0x99) return {};
  if (op >= 0x9B && op <= 0x9F) return {};
  if (op >= 0xA0 && op <= 0xA3) return {true, false, kMoffs};
  if (op >= 0xA4 && op <= 0xA7) return {};
  if (op >= 0xAA && op <= 0xAF) return {};
  if (op >= 0xB0 && op <= 0xB7) return {true, false, kI8};
  if (op >= 0xB8 && op <= 0xBF) return {true, false, kIv};
  if (op >= 0xD8 && op <= 0xDF) return {true, true, kNone};  // x87
  if (op >= 0xD0 && op <= 0xD3) return {true, true, kNone};
  if (op >= 0xE0 && op <= 0xE7) return {true, false, kI8};  // LOOP/JrCXZ rel8, IN/OUT imm8
  if (op >= 0xEC && op <= 0xEF) return {};
  if (op >= 0xF8 && op <= 0xFD) return {};
  switch (op) {
    case 0x63: return {true, true, kNone};   // MOVSXD
    case 0x68: return {true, false, kIz};    // PUSH imm
    case 0x69: return {true, true, kIz};     // IMUL r, r/m, imm
    case 0x6A: return {true, false, kI8};
    case 0x6B: return {true, true, kI8};
    case 0x6C: case 0x6D: case 0x6E: case 0x6F: return {};
    case 0x80: case 0x83: return {true, true, kI8};
    case 0x81: return {true, true, kIz};
    case 0xA8: return {true, false, kI8};
    case 0xA9: return {true, false, kIz};
    case 0xC0: case 0xC1: return {true, true, kI8};
    case 0xC2: return {true, false, kI16};   // RET imm16
    case 0xC3: return {};
    case 0xC6: return {true, true, kI8};
    case 0xC7: return {true, true, kIz};
    case 0xC8: return {true, false, kEnter};
    case 0xC9: case 0xCB: case 0xCC: case 0xF1: case 0xF4: case 0xF5: case 0xD7: return {};
    case 0xCA: return {true, false, kI16};
    case 0xCD: return {true, false, kI8};
    case 0xCF: return {};
    case 0xE8: case 0xE9: return {true, false, kIz};  // CALL/JMP rel32 (66h refused)
    case 0xEB: return {true, false, kI8};
    case 0xF6: case 0xF7: case 0xFE: case 0xFF: return {true, true, kNone};  // (F6/F7 /0 /1: +imm)
    default: return {false};
  }
}

Shape two_byte(uint8_t op, uint8_t mandatory) {
  if (op >= 0x80 && op <= 0x8F) return {true, false, kIz};  // Jcc rel32
  if (op >= 0xC8 && op <= 0xCF) return {};                   // BSWAP
  if ((op >= 0x10 && op <= 0x1F) || (op >= 0x28 && op <= 0x2F) || (op >= 0x40 && op <= 0x6F) ||
      (op >= 0x74 && op <= 0x76) || (op >= 0x7C && op <= 0x7F) || (op >= 0x90 && op <= 0x9F) ||
      (op >= 0xB0 && op <= 0xB9) || (op >= 0xBB && op <= 0xC1) || op == 0xC3 || op == 0xC7 ||
      op >= 0xD0)
    return {true, true, kNone};
  if (op >= 0x20 && op <= 0x23) return {true, true, kNone};  // MOV CR/DR
  if (op >= 0x70 && op <= 0x73) return {true, true, kI8};    // PSHUF*, shift groups
  switch (op) {
    case 0x00: case 0x01: case 0x02: case 0x03: case 0x0D: case 0xA3: case 0xA5: case 0xAB:
    case 0xAD: case 0xAE: case 0xAF:
      return {true, true, kNone};
    case 0x05: case 0x06: case 0x07: case 0x08: case 0x09: case 0x0B: case 0x0E: case 0x30:
    case 0x31: case 0x32: case 0x33: case 0x34: case 0x35: case 0x37: case 0x77: case 0xA0:
    case 0xA1: case 0xA2: case 0xA8: case 0xA9: case 0xAA:
      return {};
    case 0x78: case 0x79:  // VMREAD/VMWRITE; with 66h/F2h EXTRQ/INSERTQ, two immediates
      return mandatory ? Shape{false} : Shape{true, true, kNone};
    case 0xA4: case 0xAC: case 0xBA: case 0xC2: case 0xC4: case 0xC5: case 0xC6:
      return {true, true, kI8};
    default: return {false};  // 0F 0F (3DNow!) among them
  }
}

// The immediate of a VEX/EVEX-encoded instruction of opcode map `map` (1: 0F, 2: 0F38, 3: 0F3A).
Imm vex_imm(uint8_t map, uint8_t op) {
  if (map == 3) return kI8;
  if (map == 1 && ((op >= 0x70 && op <= 0x73) || op == 0xC2 || (op >= 0xC4 && op <= 0xC6)))
    return kI8;
  return kNone;
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t avail) : p_(p), avail_(avail < kMaxLen ? avail : kMaxLen) {}
  bool get(uint8_t& b) {
    if (at_ >= avail_) return false;
    b = p_[at_++];
    return true;
  }
  bool skip(size_t n) {
    if (at_ + n > avail_) return false;
    at_ += n;
    return true;
  }
  int32_t s32(size_t at) const {
    return static_cast<int32_t>(static_cast<uint32_t>(p_[at]) | uint32_t{p_[at + 1]} << 8 |
                                uint32_t{p_[at + 2]} << 16 | uint32_t{p_[at + 3]} << 24);
  }
  bool peek(uint8_t& b) const {
    if (at_ >= avail_) return false;
    b = p_[at_];
    return true;
  }
  int32_t s8(size_t at) const { return static_cast<int8_t>(p_[at]); }
  size_t at() const { return at_; }

 private:
  const uint8_t* p_;
  size_t avail_;
  size_t at_ = 0;
};

// Reads ModRM, SIB and displacement; notes a RIP-relative operand. `reg` gets ModRM.reg.
bool modrm(Reader& r, bool addr32, Insn& out, uint8_t& reg, uint8_t& mod) {
  uint8_t m;
  if (!r.get(m)) return false;
  mod = m >> 6;
  reg = (m >> 3) & 7;
  const uint8_t rm = m & 7;
  if (mod == 3) return true;
  size_t disp = mod == 1 ? 1 : mod == 2 ? 4 : 0;
  if (rm == 4) {
    uint8_t sib;
    if (!r.get(sib)) return false;
    if (mod == 0 && (sib & 7) == 5) disp = 4;  // no base: disp32
  } else if (mod == 0 && rm == 5) {
    if (addr32) return false;  // EIP-relative: never seen in code worth hooking
    out.rip_relative = true;
    out.disp_at = static_cast<uint8_t>(r.at());
    if (!r.skip(4)) return false;
    out.rip_disp = r.s32(out.disp_at);
    return true;
  }
  return r.skip(disp);
}

bool immediate(Reader& r, Imm imm, bool opsize16, bool rex_w, bool addr32) {
  switch (imm) {
    case kNone: return true;
    case kI8: return r.skip(1);
    case kI16: return r.skip(2);
    case kIz: return r.skip(opsize16 ? 2 : 4);
    case kIv: return r.skip(rex_w ? 8 : opsize16 ? 2 : 4);
    case kEnter: return r.skip(3);
    case kMoffs: return r.skip(addr32 ? 4 : 8);
  }
  return false;
}

// VEX (C4/C5) and EVEX (62): the prefix, then opcode, ModRM and the map's immediate.
bool vex(Reader& r, uint8_t first, Insn& out) {
  uint8_t b1, map = 1;
  if (!r.get(b1)) return false;
  if (first == 0xC5) {
    // two-byte VEX: map 0F
  } else if (first == 0xC4) {
    map = b1 & 0x1F;
    if (!r.skip(1)) return false;
  } else {  // EVEX: P0 P1 P2; P0's bits 2-3 must be zero, P1's bit 2 one
    map = b1 & 7;
    uint8_t p1;
    if ((b1 & 0x0C) || !r.get(p1) || !(p1 & 0x04) || !r.skip(1)) return false;
  }
  if (map < 1 || map > 3) return false;
  uint8_t op, reg, mod;
  if (!r.get(op)) return false;
  out.opcode = op;
  if (map == 1 && op == 0x77) return first != 0x62;  // VZEROUPPER/VZEROALL: no ModRM
  return modrm(r, false, out, reg, mod) && immediate(r, vex_imm(map, op), false, false, false);
}

}  // namespace

bool decode(const uint8_t* p, size_t avail, Insn& out) {
  out = Insn{};
  Reader r(p, avail);
  bool opsize16 = false, addr32 = false, rex_w = false;
  uint8_t mandatory = 0;  // the last of 66h/F2h/F3h
  uint8_t op;
  for (;;) {
    if (!r.get(op)) return false;
    if (op == 0x66) {
      opsize16 = true;
      mandatory = op;
    } else if (op == 0x67) {
      addr32 = true;
    } else if (op == 0xF2 || op == 0xF3) {
      mandatory = op;
    } else if (op == 0xF0 || op == 0x2E || op == 0x36 || op == 0x3E || op == 0x26 ||
               op == 0x64 || op == 0x65) {
      // LOCK and segment overrides: no effect on the length
    } else {
      break;
    }
  }
  if ((op & 0xF0) == 0x40) {  // REX: it must come right before the opcode
    rex_w = (op & 8) != 0;
    if (!r.get(op)) return false;
    if ((op & 0xF0) == 0x40 || op == 0x66 || op == 0x67 || op == 0xF0 || op == 0xF2 ||
        op == 0xF3 || op == 0xC4 || op == 0xC5 || op == 0x62)
      return false;  // legal in part, but never emitted by compilers: refuse
  }
  if (op == 0xC4 || op == 0xC5 || op == 0x62) {
    if (opsize16 || mandatory || rex_w) return false;  // #UD before VEX/EVEX
    if (!vex(r, op, out)) return false;
    out.len = static_cast<uint8_t>(r.at());
    return true;
  }
  uint8_t reg = 0, mod = 0;
  if (op == 0x0F) {
    uint8_t op2;
    if (!r.get(op2)) return false;
    out.opcode = op2;
    if (op2 == 0x38 || op2 == 0x3A) {  // three-byte maps: all ModRM; 0F3A has imm8
      uint8_t op3;
      if (!r.get(op3)) return false;
      out.opcode = op3;
      if (!modrm(r, addr32, out, reg, mod)) return false;
      if (op2 == 0x3A && !r.skip(1)) return false;
      out.len = static_cast<uint8_t>(r.at());
      return true;
    }
    const Shape s = two_byte(op2, mandatory == 0x66 || mandatory == 0xF2 ? mandatory : 0);
    if (!s.valid) return false;
    if (op2 >= 0x80 && op2 <= 0x8F) {
      if (opsize16) return false;  // rel16 on some processors: refuse
      out.flow = Flow::Jcc;
      out.rel_at = static_cast<uint8_t>(r.at());
      out.rel_size = 4;
    }
    if (s.modrm && !modrm(r, addr32, out, reg, mod)) return false;
    if (!immediate(r, s.imm, opsize16, rex_w, addr32)) return false;
    if (op2 == 0x0B) out.flow = Flow::Stop;  // UD2
    if (op2 == 0x1F && reg == 0) out.nop = true;
    out.len = static_cast<uint8_t>(r.at());
    if (out.rel_size) out.rel = r.s32(out.rel_at);
    return true;
  }
  out.opcode = op;
  const Shape s = one_byte(op);
  if (!s.valid) return false;
  if (op == 0x8F && (!r.peek(reg) || ((reg >> 3) & 7) != 0))
    return false;  // POP r/m is /0; anything else is AMD's XOP
  if ((op == 0xE8 || op == 0xE9) && opsize16) return false;
  if (op >= 0x70 && op <= 0x7F) out.flow = Flow::Jcc;
  if (op == 0xEB || op == 0xE9) out.flow = Flow::Jmp;
  if (op == 0xE8) out.flow = Flow::Call;
  if (op >= 0xE0 && op <= 0xE3) out.flow = Flow::Loop;
  if (op == 0xC3 || op == 0xC2) out.flow = Flow::Return;
  if (op == 0xCC || op == 0xF4) out.flow = Flow::Stop;
  if (out.flow == Flow::Jcc || out.flow == Flow::Jmp || out.flow == Flow::Call ||
      out.flow == Flow::Loop) {
    out.rel_at = static_cast<uint8_t>(r.at());
    out.rel_size = (op == 0xE8 || op == 0xE9) ? 4 : 1;
  }
  Imm imm = s.imm;
  if (s.modrm) {
    if (!modrm(r, addr32, out, reg, mod)) return false;
    if ((op == 0xF6 || op == 0xF7) && reg <= 1) imm = op == 0xF6 ? kI8 : kIz;
    if (op == 0xFF && (reg == 4 || reg == 5)) out.flow = Flow::Indirect;
    if (op == 0xFF && reg == 7) return false;
    if (op == 0xFE && reg > 1) return false;
    if (op == 0xC7 && reg == 7) {  // XBEGIN rel32: relative, and never moved
      if (mod != 3) return false;
      out.flow = Flow::Loop;
      out.rel_at = static_cast<uint8_t>(r.at());
      out.rel_size = 4;
    }
    if (op == 0xC6 && reg == 7 && mod != 3) return false;
  }
  if (!immediate(r, imm, opsize16, rex_w, addr32)) return false;
  out.len = static_cast<uint8_t>(r.at());
  if (out.rel_size == 4) out.rel = r.s32(out.rel_at);
  if (out.rel_size == 1) out.rel = r.s8(out.rel_at);
  if (op == 0x90 || op == 0xCC) out.nop = true;
  return true;
}

}  // namespace ws::x64
