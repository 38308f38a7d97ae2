// What the loader will make of a program file, read from an open descriptor with pread (a 4 KiB
// block at a time, on the stack): no allocation, no exceptions, no change to the file offset. Shared by the preflight check of the
// program wstrace starts and by the agent, which asks it about an image a traced process is
// about to exec (maybe from a vfork child, where allocating is not safe).
#pragma once

#include <elf.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>

namespace ws::capture {

struct ElfFacts {
  bool elf = false;      // an ELF file
  bool wide = false;     // 64-bit (ELFCLASS64): the agent's own class
  bool dynamic = false;  // has an interpreter (PT_INTERP): the loader can preload the agent
  bool go = false;       // has a .go.buildinfo section
};

namespace elf_detail {
inline bool read_at(int fd, void* buf, size_t n, uint64_t off) {
  return pread(fd, buf, n, static_cast<off_t>(off)) == static_cast<ssize_t>(n);
}

// The file's bytes [off, off + n) a block at a time: a few reads, not one per entry.
class Blocks {
 public:
  explicit Blocks(int fd) : fd_(fd) {}
  bool read(void* out, size_t n, uint64_t off) {
    if (n > sizeof buf_) return read_at(fd_, out, n, off);
    if (off < start_ || off + n > start_ + len_) {
      const ssize_t got = pread(fd_, buf_, sizeof buf_, static_cast<off_t>(off));
      start_ = off;
      len_ = got > 0 ? static_cast<size_t>(got) : 0;
      if (n > len_) return false;
    }
    std::memcpy(out, buf_ + (off - start_), n);
    return true;
  }

 private:
  int fd_;
  uint64_t start_ = 0;
  size_t len_ = 0;
  char buf_[4096];
};
}  // namespace elf_detail

// The facts of the file open as `fd`; all false when it is not ELF or cannot be read. Of a
// 32-bit file only `elf` is told (the 64-bit agent cannot enter it whatever it links).
inline ElfFacts read_elf_facts(int fd) {
  ElfFacts f;
  elf_detail::Blocks file(fd);
  Elf64_Ehdr eh{};
  if (!file.read(&eh, sizeof eh, 0) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0) return f;
  f.elf = true;
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return f;
  f.wide = true;
  for (unsigned i = 0; i < eh.e_phnum && !f.dynamic; ++i) {
    Elf64_Phdr ph{};
    if (!file.read(&ph, sizeof ph, eh.e_phoff + uint64_t{i} * eh.e_phentsize)) break;
    f.dynamic = ph.p_type == PT_INTERP;
  }
  if (!eh.e_shoff || eh.e_shstrndx >= eh.e_shnum || eh.e_shnum >= 4096) return f;
  Elf64_Shdr names{};
  if (!elf_detail::read_at(fd, &names, sizeof names,
                           eh.e_shoff + uint64_t{eh.e_shstrndx} * sizeof names))
    return f;
  elf_detail::Blocks strings(fd);
  static constexpr char kGo[] = ".go.buildinfo";
  for (unsigned i = 0; i < eh.e_shnum && !f.go; ++i) {
    Elf64_Shdr sh{};
    char name[sizeof kGo] = {};
    if (!file.read(&sh, sizeof sh, eh.e_shoff + uint64_t{i} * sizeof sh)) break;
    if (sh.sh_name + sizeof kGo > names.sh_size) continue;
    f.go = strings.read(name, sizeof name, names.sh_offset + sh.sh_name) &&
           std::memcmp(name, kGo, sizeof kGo) == 0;
  }
  return f;
}

// When the file open as `fd` is a "#!" script: its interpreter's path, copied into `out`
// (NUL-terminated). False when it is not a script or the path does not fit.
inline bool script_interpreter(int fd, char* out, size_t cap) {
  char head[256];
  const ssize_t n = pread(fd, head, sizeof head - 1, 0);
  if (n < 2 || head[0] != '#' || head[1] != '!') return false;
  head[n] = '\0';
  size_t i = 2;
  while (head[i] == ' ' || head[i] == '\t') ++i;
  size_t len = 0;
  while (head[i + len] && !std::strchr(" \t\n", head[i + len])) ++len;
  if (len == 0 || len + 1 > cap) return false;
  std::memcpy(out, head + i, len);
  out[len] = '\0';
  return true;
}

}  // namespace ws::capture
