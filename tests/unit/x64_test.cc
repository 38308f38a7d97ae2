// The Windows agent's x86-64 decoder and trampolines (capture/windows/agent/x64_*.h): lengths
// of hand-written instructions, what is refused, trampolines that keep each moved instruction's
// meaning — and, where Wine's DLLs and mingw's objdump are installed, the decoder against
// objdump on the first instructions of every function the agent hooks.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "kernel_hook_list.h"
#include "x64_decode.h"
#include "x64_trampoline.h"

namespace {

using namespace ws::x64;
using Bytes = std::vector<uint8_t>;

struct Case {
  const char* what;
  Bytes code;
  size_t len;  // 0: refused
  Flow flow = Flow::Plain;
  bool rip = false;
};

// Instructions as compilers emit them in function prologues, and a few that must be refused.
const Case kCases[] = {
    {"push rbx", {0x53}, 1},
    {"push r12", {0x41, 0x54}, 2},
    {"sub rsp, 0x28", {0x48, 0x83, 0xEC, 0x28}, 4},
    {"sub rsp, 0x1000", {0x48, 0x81, 0xEC, 0x00, 0x10, 0x00, 0x00}, 7},
    {"mov [rsp+8], rbx", {0x48, 0x89, 0x5C, 0x24, 0x08}, 5},
    {"mov [rsp+0x10], rsi (disp32)", {0x48, 0x89, 0xB4, 0x24, 0x10, 0x00, 0x00, 0x00}, 8},
    {"mov rax, [rip+0x1234]", {0x48, 0x8B, 0x05, 0x34, 0x12, 0x00, 0x00}, 7, Flow::Plain, true},
    {"lea rcx, [rip-16]", {0x48, 0x8D, 0x0D, 0xF0, 0xFF, 0xFF, 0xFF}, 7, Flow::Plain, true},
    {"cmp byte [rip+x], 0 (disp, then imm8)", {0x80, 0x3D, 1, 2, 3, 4, 0x00}, 7, Flow::Plain, true},
    {"mov dword [rip+x], imm32", {0xC7, 0x05, 1, 2, 3, 4, 5, 6, 7, 8}, 10, Flow::Plain, true},
    {"mov word [rip+x], imm16", {0x66, 0xC7, 0x05, 1, 2, 3, 4, 5, 6}, 9, Flow::Plain, true},
    {"jmp [rip+x] (import thunk)", {0xFF, 0x25, 1, 2, 3, 4}, 6, Flow::Indirect, true},
    {"call [rip+x]", {0xFF, 0x15, 1, 2, 3, 4}, 6, Flow::Plain, true},
    {"jmp rel32", {0xE9, 0x10, 0x00, 0x00, 0x00}, 5, Flow::Jmp},
    {"jmp rel8", {0xEB, 0x05}, 2, Flow::Jmp},
    {"call rel32", {0xE8, 0x00, 0x01, 0x00, 0x00}, 5, Flow::Call},
    {"jne rel8", {0x75, 0x71}, 2, Flow::Jcc},
    {"je rel32", {0x0F, 0x84, 0x98, 0x00, 0x00, 0x00}, 6, Flow::Jcc},
    {"loop rel8", {0xE2, 0xFE}, 2, Flow::Loop},
    {"jrcxz rel8", {0xE3, 0x02}, 2, Flow::Loop},
    {"mov rax, imm64 (REX.W B8)", {0x48, 0xB8, 1, 2, 3, 4, 5, 6, 7, 8}, 10},
    {"mov eax, imm32", {0xB8, 1, 2, 3, 4}, 5},
    {"mov ax, imm16", {0x66, 0xB8, 1, 2}, 4},
    {"add ax, imm16 (66h, Iz)", {0x66, 0x05, 1, 2}, 4},
    {"test byte [rcx], 1 (F6 /0 imm8)", {0xF6, 0x01, 0x01}, 3},
    {"test dword [rcx], imm32 (F7 /0)", {0xF7, 0x01, 1, 2, 3, 4}, 6},
    {"neg rax (F7 /3, no imm)", {0x48, 0xF7, 0xD8}, 3},
    {"movzx eax, byte [rcx+rdx*2+8]", {0x0F, 0xB6, 0x44, 0x51, 0x08}, 5},
    {"mov eax, [disp32] (SIB, no base)", {0x8B, 0x04, 0x25, 1, 2, 3, 4}, 7},
    {"xor r8d, r8d", {0x45, 0x31, 0xC0}, 3},
    {"lea rsp, [rsp+0] (hot-patch filler)", {0x48, 0x8D, 0xA4, 0x24, 0, 0, 0, 0}, 8},
    {"nop word cs:[rax+rax+0] (padding)",
     {0x66, 0x66, 0x2E, 0x0F, 0x1F, 0x84, 0, 0, 0, 0, 0},
     11},
    {"xchg ax, ax", {0x66, 0x90}, 2},
    {"ret", {0xC3}, 1, Flow::Return},
    {"ret 8", {0xC2, 0x08, 0x00}, 3, Flow::Return},
    {"int3", {0xCC}, 1, Flow::Stop},
    {"ud2", {0x0F, 0x0B}, 2, Flow::Stop},
    {"enter 16, 0", {0xC8, 0x10, 0x00, 0x00}, 4},
    {"mov al, [moffs64]", {0xA0, 1, 2, 3, 4, 5, 6, 7, 8}, 9},
    {"mov eax, fs:[rax] (segment prefix)", {0x64, 0x8B, 0x00}, 3},
    {"lock cmpxchg [rcx], edx", {0xF0, 0x0F, 0xB1, 0x11}, 4},
    {"movaps [rsp+0x20], xmm6", {0x0F, 0x29, 0x74, 0x24, 0x20}, 5},
    {"movdqu xmm0, [rip+x] (F3 0F 6F)", {0xF3, 0x0F, 0x6F, 0x05, 1, 2, 3, 4}, 8, Flow::Plain, true},
    {"pshufd xmm0, xmm1, 0x1B (0F 70 imm8)", {0x66, 0x0F, 0x70, 0xC1, 0x1B}, 5},
    {"pshufb xmm0, xmm1 (0F 38)", {0x66, 0x0F, 0x38, 0x00, 0xC1}, 5},
    {"palignr xmm0, xmm1, 4 (0F 3A imm8)", {0x66, 0x0F, 0x3A, 0x0F, 0xC1, 0x04}, 6},
    {"shld eax, ecx, 3", {0x0F, 0xA4, 0xC8, 0x03}, 4},
    {"cpuid", {0x0F, 0xA2}, 2},
    {"endbr64", {0xF3, 0x0F, 0x1E, 0xFA}, 4},
    {"vmovdqu ymm0, [rcx] (VEX C5)", {0xC5, 0xFE, 0x6F, 0x01}, 4},
    {"vpxor ymm0, ymm0, [rip+x] (VEX C5)", {0xC5, 0xFD, 0xEF, 0x05, 1, 2, 3, 4}, 8, Flow::Plain,
     true},
    {"vpshufb ymm0, ymm1, ymm2 (VEX C4 0F38)", {0xC4, 0xE2, 0x75, 0x00, 0xC2}, 5},
    {"vpermq ymm0, ymm1, 0x4E (VEX C4 0F3A imm8)", {0xC4, 0xE3, 0xFD, 0x00, 0xC1, 0x4E}, 6},
    {"vzeroupper", {0xC5, 0xF8, 0x77}, 3},
    {"vmovdqu64 zmm0, [rcx+0x40] (EVEX, disp8*N)", {0x62, 0xF1, 0xFE, 0x48, 0x6F, 0x41, 0x01}, 7},
    // Refused: not decoded, so never guessed at.
    {"XOP (8F /1)", {0x8F, 0xE9, 0x78, 0xC2, 0xC1}, 0},
    {"3DNow! (0F 0F)", {0x0F, 0x0F, 0xC1, 0x9E}, 0},
    {"call rel16 (66 E8)", {0x66, 0xE8, 1, 2}, 0},
    {"invalid in 64-bit mode (06: push es)", {0x06}, 0},
    {"EIP-relative (67h)", {0x67, 0x8B, 0x05, 1, 2, 3, 4}, 0},
    {"truncated disp32", {0x48, 0x8B, 0x05, 0x34}, 0},
    {"prefixes past 15 bytes", Bytes(15, 0x66), 0},
};

TEST(X64Decode, HandWrittenInstructions) {
  for (const Case& c : kCases) {
    Insn in;
    const bool ok = ws::x64::decode(c.code.data(), c.code.size(), in);
    if (!c.len) {
      EXPECT_FALSE(ok) << c.what << " decoded as " << int(in.len) << " bytes";
      continue;
    }
    ASSERT_TRUE(ok) << c.what;
    EXPECT_EQ(in.len, c.len) << c.what;
    EXPECT_EQ(in.flow, c.flow) << c.what;
    EXPECT_EQ(in.rip_relative, c.rip) << c.what;
  }
}

TEST(X64Decode, DisplacementsAndBranches) {
  Insn in;
  const uint8_t rip[] = {0x48, 0x8B, 0x05, 0x34, 0x12, 0x00, 0x00};
  ASSERT_TRUE(ws::x64::decode(rip, sizeof rip, in));
  EXPECT_EQ(in.disp_at, 3);
  EXPECT_EQ(in.rip_disp, 0x1234);
  const uint8_t jne[] = {0x75, 0xFE};
  ASSERT_TRUE(ws::x64::decode(jne, sizeof jne, in));
  EXPECT_EQ(in.rel, -2);
  EXPECT_EQ(in.rel_size, 1);
  EXPECT_EQ(in.opcode & 0x0F, 5);
}

// Runs the trampoline's code as far as this test can: instruction by instruction, each decoded,
// with the branch destinations and RIP-relative addresses it computes.
struct Moved {
  std::vector<uint64_t> rip_targets, branch_targets;
};
Moved read_back(const Trampoline& t, uint64_t at) {
  Moved m;
  for (size_t off = 0; off < t.size;) {
    Insn in;
    EXPECT_TRUE(ws::x64::decode(t.code + off, t.size - off, in)) << "at " << off;
    if (!in.len) break;
    const uint64_t end = at + off + in.len;
    if (in.rip_relative && in.flow == Flow::Indirect && in.rip_disp == 0) {
      uint64_t abs = 0;  // FF 25 00000000 followed by the address
      memcpy(&abs, t.code + off + in.len, 8);
      m.branch_targets.push_back(abs);
      off += in.len + 8;
      continue;
    }
    if (in.rip_relative && in.flow == Flow::Plain && in.opcode == 0xFF && in.rip_disp == 2) {
      uint64_t abs = 0;  // CALL [rip+2]; JMP +8; then the address
      memcpy(&abs, t.code + off + in.len + 2, 8);
      m.branch_targets.push_back(abs);
      off += in.len + 2 + 8;
      continue;
    }
    if (in.rip_relative) m.rip_targets.push_back(end + static_cast<uint64_t>(int64_t{in.rip_disp}));
    if (in.rel_size) m.branch_targets.push_back(end + static_cast<uint64_t>(int64_t{in.rel}));
    off += in.len;
  }
  return m;
}

TEST(X64Trampoline, MovesAPrologueAndJumpsBack) {
  // sub rsp,0x28; mov rax,[rip+0x100]; test rax,rax ...
  const uint8_t f[] = {0x48, 0x83, 0xEC, 0x28, 0x48, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00,
                       0x48, 0x85, 0xC0, 0xC3};
  const uint64_t target = 0x7ff800001000, at = 0x7ff7fff00000;
  Trampoline t;
  ASSERT_EQ(plan_trampoline(f, sizeof f, target, at, kJmpRel32, sizeof f, t), nullptr);
  EXPECT_EQ(t.patched, 11u);  // two whole instructions
  ASSERT_EQ(t.moved, 2u);
  EXPECT_EQ(t.from[1], 4);
  EXPECT_EQ(t.to[1], 4);
  Moved m = read_back(t, at);
  ASSERT_EQ(m.rip_targets.size(), 1u);
  EXPECT_EQ(m.rip_targets[0], target + 11 + 0x100) << "the RIP-relative load reads the same";
  ASSERT_EQ(m.branch_targets.size(), 1u);
  EXPECT_EQ(m.branch_targets[0], target + 11) << "back to the first instruction not moved";
}

// No memory near the function: a 14-byte absolute jump, so more of it moves, to anywhere.
TEST(X64Trampoline, MakesRoomForAnAbsoluteJump) {
  // push rbx; sub rsp,0x20; mov rbx,rcx; xor eax,eax; test rbx,rbx; jne +0x10; ...
  const uint8_t f[] = {0x53, 0x48, 0x83, 0xEC, 0x20, 0x48, 0x89, 0xCB, 0x31, 0xC0,
                       0x48, 0x85, 0xDB, 0x75, 0x10, 0x90, 0x90, 0xC3};
  const uint64_t target = 0x7ff800001000, far = 0x10000000;
  Trampoline t;
  ASSERT_EQ(plan_trampoline(f, sizeof f, target, far, kJmpAbs, 0, t), nullptr);
  EXPECT_EQ(t.patched, 15u);  // six whole instructions: the jne among them
  EXPECT_EQ(t.moved, 6u);
  Moved m = read_back(t, far);
  // The jne, out of rel32 reach, is a je over an absolute jump to where jne went.
  ASSERT_EQ(m.branch_targets.size(), 3u);
  EXPECT_GT(m.branch_targets[0], far);
  EXPECT_LT(m.branch_targets[0], far + t.size);
  EXPECT_EQ(m.branch_targets[1], target + 15 + 0x10);
  EXPECT_EQ(m.branch_targets[2], target + 15) << "back to the first instruction not moved";
}

TEST(X64Trampoline, RewritesRelativeBranches) {
  // jne +0x71; call rel32 +0x100; then more
  const uint8_t f[] = {0x75, 0x71, 0xE8, 0x00, 0x01, 0x00, 0x00, 0x90, 0x90, 0xC3};
  const uint64_t target = 0x10000000, near = 0x10800000, far = 0x7ff000000000;
  for (uint64_t at : {near, far}) {
    Trampoline t;
    ASSERT_EQ(plan_trampoline(f, sizeof f, target, at, kJmpRel32, 0, t), nullptr);
    EXPECT_EQ(t.patched, 7u);
    Moved m = read_back(t, at);
    std::set<uint64_t> dests(m.branch_targets.begin(), m.branch_targets.end());
    EXPECT_TRUE(dests.count(target + 2 + 0x71)) << "jne keeps its destination";
    EXPECT_TRUE(dests.count(target + 7)) << "jumps back";
    EXPECT_TRUE(dests.count(target + 7 + 0x100)) << "call keeps its destination";
  }
}

TEST(X64Trampoline, FollowsAFunctionThatIsOnlyAJump) {
  const uint8_t f[] = {0xE9, 0x00, 0x10, 0x00, 0x00, 0xCC, 0xCC};
  Trampoline t;
  ASSERT_EQ(plan_trampoline(f, sizeof f, 0x1000000, 0x1100000, kJmpRel32, 0, t), nullptr);
  EXPECT_EQ(t.patched, 5u);
  Moved m = read_back(t, 0x1100000);
  EXPECT_EQ(m.branch_targets, std::vector<uint64_t>{0x1000000 + 5 + 0x1000});
}

TEST(X64Trampoline, RefusesWhatItCannotMove) {
  Trampoline t;
  // xor eax,eax; ret; then the next function at once: the jump would run into it.
  const uint8_t short_fn[] = {0x31, 0xC0, 0xC3, 0x48, 0x83, 0xEC, 0x28};
  EXPECT_STREQ(plan_trampoline(short_fn, sizeof short_fn, 0x1000, 0x2000, kJmpRel32, 0, t),
               "the function is shorter than the jump");
  // The same followed by INT3 padding: the padding may be overwritten.
  const uint8_t padded[] = {0x31, 0xC0, 0xC3, 0xCC, 0xCC, 0xCC};
  EXPECT_EQ(plan_trampoline(padded, sizeof padded, 0x1000, 0x2000, kJmpRel32, 0, t), nullptr);
  // A loop back to the second instruction: it would land inside the jump.
  const uint8_t loop[] = {0x31, 0xC0, 0xFF, 0xC0, 0x3D, 0x10, 0, 0, 0, 0x75, 0xF7, 0xC3};
  EXPECT_STREQ(plan_trampoline(loop, sizeof loop, 0x1000, 0x2000, kJmpRel32, sizeof loop, t),
               "a branch into the first instructions");
  // A RIP-relative operand that the trampoline, 3 GB away, cannot reach with 32 bits.
  const uint8_t rip[] = {0x48, 0x8B, 0x05, 0x00, 0x01, 0x00, 0x00, 0xC3};
  EXPECT_STREQ(plan_trampoline(rip, sizeof rip, 0x10000000, 0xD0000000, kJmpRel32, 0, t),
               "a RIP-relative operand out of reach of the trampoline");
  const uint8_t loopnz[] = {0xE2, 0xFE, 0x90, 0x90, 0x90, 0xC3};
  EXPECT_STREQ(plan_trampoline(loopnz, sizeof loopnz, 0x1000, 0x2000, kJmpRel32, 0, t),
               "a LOOP, JrCXZ or XBEGIN among the first instructions");
  const uint8_t unknown[] = {0x0F, 0x0F, 0xC1, 0x9E, 0x90, 0x90};
  EXPECT_STREQ(plan_trampoline(unknown, sizeof unknown, 0x1000, 0x2000, kJmpRel32, 0, t),
               "an instruction the decoder does not know");
}

TEST(X64Trampoline, JumpForms) {
  uint8_t buf[16];
  ASSERT_EQ(write_jump(buf, sizeof buf, 0x1000, 0x2000), kJmpRel32);
  EXPECT_EQ(buf[0], 0xE9);
  ASSERT_EQ(write_jump(buf, sizeof buf, 0x1000, 0x7ff000000000), kJmpAbs);
  EXPECT_EQ(buf[0], 0xFF);
  EXPECT_EQ(buf[1], 0x25);
  EXPECT_EQ(write_jump(buf, 10, 0x1000, 0x7ff000000000), 0u);
}

#ifndef _WIN32
// ---- Against objdump, on the DLLs the Wine tests run with ------------------------------------

const char* const kWineDlls = "/usr/lib/x86_64-linux-gnu/wine/x86_64-windows/";

struct Disassembled {
  std::vector<std::pair<uint64_t, Bytes>> insns;  // each instruction's address and bytes
  std::string text;                               // the first ones, as objdump says them
};

// Every function of `dll` objdump labels, with its instructions.
std::map<std::string, Disassembled> disassemble(const std::string& dll) {
  std::map<std::string, Disassembled> out;
  const std::string cmd = "x86_64-w64-mingw32-objdump -d --insn-width=16 '" + dll + "' 2>/dev/null";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[1024];
  Disassembled* cur = nullptr;
  while (fgets(line, sizeof line, p)) {
    unsigned long long addr = 0;
    char name[512];
    if (sscanf(line, "%llx <%511[^>]>:", &addr, name) == 2 && strchr(line, ':') > strchr(line, '>')) {
      cur = &out[name];
      continue;
    }
    if (!cur || sscanf(line, " %llx:", &addr) != 1) continue;
    const char* tab = strchr(line, '\t');
    if (!tab) continue;
    Bytes b;
    const char* q = tab + 1;
    unsigned v;
    int n;
    while (sscanf(q, "%2x%n", &v, &n) == 1 && (q[n] == ' ' || q[n] == '\t')) {
      b.push_back(static_cast<uint8_t>(v));
      q += n + 1;
      if (q[-1] == '\t') break;
    }
    if (b.empty()) continue;
    cur->insns.emplace_back(addr, b);
    if (cur->insns.size() <= 12) cur->text += line;
  }
  pclose(p);
  return out;
}

std::vector<std::string> ws2_names() {
  std::vector<std::string> n = {
#define WS_REAL(name, ret, params) #name,
#include "hook_list.h"
#undef WS_REAL
  };
  // The extension functions WSAIoctl hands out, as Wine's ws2_32 names them.
  for (const char* x : {"WS2_AcceptEx", "WS2_ConnectEx", "WS2_DisconnectEx", "WS2_TransmitFile",
                        "WS2_WSARecvMsg", "WSASendMsg"})
    n.push_back(x);
  return n;
}

std::vector<std::string> kernel_names() {
  std::vector<std::string> n = {
#define WS_NAME(name, ret, params) #name,
      WS_KERNEL_HOOKS(WS_NAME)
#undef WS_NAME
  };
  for (const char* x : {"GetProcAddress", "LoadLibraryA", "LoadLibraryW", "LoadLibraryExA",
                        "LoadLibraryExW", "CreateProcessA", "CreateProcessW"})
    n.push_back(x);
  return n;
}

TEST(X64Decode, AgreesWithObjdumpOnEveryHookedFunction) {
  if (system("x86_64-w64-mingw32-objdump --version >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "no x86_64-w64-mingw32-objdump";
  const std::pair<const char*, std::vector<std::string>> dlls[] = {
      {"ws2_32.dll", ws2_names()},
      {"kernel32.dll", kernel_names()},
      {"kernelbase.dll", kernel_names()},
      {"dnsapi.dll", {"DnsQuery_A", "DnsQuery_W", "DnsQuery_UTF8"}},
      {"mswsock.dll", {"AcceptEx", "TransmitFile"}},
      {"user32.dll", {"MsgWaitForMultipleObjects", "MsgWaitForMultipleObjectsEx"}},  // (agent.h)
  };
  size_t checked = 0;
  std::string refused;
  for (const auto& [dll, names] : dlls) {
    const std::string path = std::string(kWineDlls) + dll;
    if (FILE* f = fopen(path.c_str(), "rb")) {
      fclose(f);
    } else {
      GTEST_SKIP() << "Wine's " << path << " is not installed";
    }
    const auto funcs = disassemble(path);
    ASSERT_FALSE(funcs.empty()) << path;
    for (const std::string& name : names) {
      auto it = funcs.find(name);
      if (it == funcs.end()) continue;  // (kernel32 or kernelbase has it, not both)
      const Disassembled& d = it->second;
      Bytes all;
      for (size_t i = 0; i < d.insns.size(); ++i) {
        const Bytes& b = d.insns[i].second;
        if (i < 16) {
          Insn in;
          Bytes window = b;  // what follows is readable too, as in memory
          for (size_t j = i + 1; j < d.insns.size() && window.size() < 32; ++j)
            window.insert(window.end(), d.insns[j].second.begin(), d.insns[j].second.end());
          ASSERT_TRUE(ws::x64::decode(window.data(), window.size(), in))
              << dll << " " << name << ": instruction " << i << " refused\n" << d.text;
          ASSERT_EQ(in.len, b.size()) << dll << " " << name << ": instruction " << i << "\n" << d.text;
          ++checked;
        }
        all.insert(all.end(), b.begin(), b.end());
      }
      // Hookable with a trampoline 1 GB below (as body_hook.cc allocates near the module).
      Trampoline t;
      const uint64_t target = d.insns[0].first;
      if (const char* why = plan_trampoline(all.data(), all.size(), target, target - (1ull << 30),
                                            kJmpRel32, all.size(), t))
        refused += std::string(dll) + " " + name + ": " + why + "\n";
    }
  }
  EXPECT_GT(checked, 500u);
  // Every hooked function of Wine's DLLs can take a body hook (else the import path is its only
  // cover: body_hook.cc falls back to it).
  EXPECT_EQ(refused, "");
}
#endif

}  // namespace
