// Trampolines (x64_trampoline.h): the moved instructions, each re-encoded for its new address.
#include "x64_trampoline.h"

#include <cstring>

#include "x64_decode.h"

namespace ws::x64 {
namespace {

void put32(uint8_t* p, int32_t v) {
  const auto u = static_cast<uint32_t>(v);
  p[0] = static_cast<uint8_t>(u);
  p[1] = static_cast<uint8_t>(u >> 8);
  p[2] = static_cast<uint8_t>(u >> 16);
  p[3] = static_cast<uint8_t>(u >> 24);
}

void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}

// The destination of relative branch `in` at address `ip`.
uint64_t branch_dest(const Insn& in, uint64_t ip) {
  return ip + in.len + static_cast<uint64_t>(static_cast<int64_t>(in.rel));
}

class Emitter {
 public:
  explicit Emitter(Trampoline& t, uint64_t at) : t_(t), at_(at) {}
  uint64_t here() const { return at_ + t_.size; }
  bool room(size_t n) const { return t_.size + n <= kMaxTrampoline; }
  uint8_t* take(size_t n) {
    uint8_t* p = t_.code + t_.size;
    t_.size += n;
    return p;
  }
  bool jump(uint64_t to) {
    const size_t n = write_jump(t_.code + t_.size, kMaxTrampoline - t_.size, here(), to);
    t_.size += n;
    return n != 0;
  }
  // Jcc to `to`: rel32 when in reach, else the inverted condition over an absolute jump.
  bool jcc(uint8_t cond, uint64_t to) {
    if (in_rel32_reach(here() + 6, to)) {
      if (!room(6)) return false;
      uint8_t* p = take(6);
      p[0] = 0x0F;
      p[1] = static_cast<uint8_t>(0x80 | cond);
      put32(p + 2, static_cast<int32_t>(to - (here())));
      return true;
    }
    if (!room(2 + kJmpAbs)) return false;
    uint8_t* p = take(2);
    p[0] = static_cast<uint8_t>(0x70 | (cond ^ 1));
    p[1] = kJmpAbs;
    return write_jump(take(kJmpAbs), kJmpAbs, here() - kJmpAbs, to, false) == kJmpAbs;
  }
  // CALL `to`: rel32 when in reach, else CALL [rip+2]; JMP +8; the address.
  bool call(uint64_t to) {
    if (in_rel32_reach(here() + 5, to)) {
      if (!room(5)) return false;
      uint8_t* p = take(5);
      p[0] = 0xE8;
      put32(p + 1, static_cast<int32_t>(to - here()));
      return true;
    }
    if (!room(16)) return false;
    static constexpr uint8_t kCallAbs[] = {0xFF, 0x15, 2, 0, 0, 0, 0xEB, 0x08};
    uint8_t* p = take(16);
    memcpy(p, kCallAbs, sizeof kCallAbs);
    put64(p + 8, to);
    return true;
  }

 private:
  Trampoline& t_;
  uint64_t at_;
};

// Moves instruction `in` (its bytes at `src`, address `ip`) to the end of the trampoline.
const char* move(const Insn& in, const uint8_t* src, uint64_t ip, Emitter& e) {
  switch (in.flow) {
    case Flow::Jcc:
      return e.jcc(in.opcode & 0x0F, branch_dest(in, ip)) ? nullptr : "trampoline too long";
    case Flow::Jmp:
      return e.jump(branch_dest(in, ip)) ? nullptr : "trampoline too long";
    case Flow::Call:
      return e.call(branch_dest(in, ip)) ? nullptr : "trampoline too long";
    case Flow::Loop:
      return "a LOOP, JrCXZ or XBEGIN among the first instructions";
    default:
      break;
  }
  if (!e.room(in.len)) return "trampoline too long";
  const uint64_t new_ip = e.here();
  uint8_t* p = e.take(in.len);
  memcpy(p, src, in.len);
  if (in.rip_relative) {
    const uint64_t dest = ip + in.len + static_cast<uint64_t>(static_cast<int64_t>(in.rip_disp));
    if (!in_rel32_reach(new_ip + in.len, dest))
      return "a RIP-relative operand out of reach of the trampoline";
    put32(p + in.disp_at, static_cast<int32_t>(dest - (new_ip + in.len)));
  }
  return nullptr;
}

bool ends_flow(Flow f) {
  return f == Flow::Jmp || f == Flow::Return || f == Flow::Indirect || f == Flow::Stop;
}

// Whether a relative branch in the function's known bytes [from, body) (the moved instructions
// among them) lands strictly inside
// the first `patched` bytes (where the jump will be). Stops where the bytes no longer decode
// (data, or an instruction the decoder refuses): what lies past it is not seen.
bool branch_into(const uint8_t* code, size_t from, size_t body, uint64_t target, size_t patched) {
  Insn in;
  for (size_t off = from; off < body && decode(code + off, body - off, in); off += in.len) {
    if (!in.rel_size) continue;
    const uint64_t dest = branch_dest(in, target + off);
    if (dest > target && dest < target + patched) return true;
  }
  return false;
}

}  // namespace

bool in_rel32_reach(uint64_t end, uint64_t to) {
  const auto d = static_cast<int64_t>(to - end);
  return d >= INT32_MIN && d <= INT32_MAX;
}

size_t write_jump(uint8_t* out, size_t room, uint64_t from, uint64_t to, bool prefer_short) {
  if (prefer_short && room >= kJmpRel32 && in_rel32_reach(from + kJmpRel32, to)) {
    out[0] = 0xE9;
    put32(out + 1, static_cast<int32_t>(to - (from + kJmpRel32)));
    return kJmpRel32;
  }
  if (room < kJmpAbs) return 0;
  static constexpr uint8_t kJmpRipPlus0[] = {0xFF, 0x25, 0, 0, 0, 0};
  memcpy(out, kJmpRipPlus0, sizeof kJmpRipPlus0);
  put64(out + 6, to);
  return kJmpAbs;
}

const char* plan_trampoline(const uint8_t* code, size_t avail, uint64_t target, uint64_t at,
                            size_t need, size_t body, Trampoline& out) {
  out = Trampoline{};
  Emitter e(out, at);
  size_t off = 0;
  bool ended = false;
  Insn in;
  while (off < need && !ended) {
    if (!decode(code + off, avail - off, in)) return "an instruction the decoder does not know";
    if (out.moved == kMaxMoved) return "too many instructions";
    out.from[out.moved] = static_cast<uint8_t>(off);
    out.to[out.moved] = static_cast<uint8_t>(out.size);
    ++out.moved;
    if (const char* why = move(in, code + off, target + off, e)) return why;
    off += in.len;
    ended = ends_flow(in.flow);
  }
  // The function ended before `need` bytes: only padding (NOP, INT3) may be overwritten after
  // it, or a caller of the next function would land in the middle of the jump.
  while (off < need) {
    if (!decode(code + off, avail - off, in) || !in.nop)
      return "the function is shorter than the jump";
    off += in.len;
  }
  out.patched = off;
  if (body > avail) body = avail;
  if (branch_into(code, 0, body > off ? body : off, target, off))
    return "a branch into the first instructions";
  if (!ended && !e.jump(target + off)) return "trampoline too long";
  return nullptr;
}

}  // namespace ws::x64
