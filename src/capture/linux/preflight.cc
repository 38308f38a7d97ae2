#include "preflight.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

#include <fmt/format.h>

namespace ws::capture {
namespace {

std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) && access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

struct ElfFacts {
  bool elf = false;
  bool dynamic = false;  // has an interpreter (PT_INTERP)
  bool go = false;       // has a .go.buildinfo section
};

ElfFacts read_elf(const std::string& path) {
  ElfFacts f;
  std::ifstream in(path, std::ios::binary);
  Elf64_Ehdr eh{};
  if (!in.read(reinterpret_cast<char*>(&eh), sizeof eh)) return f;
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64) return f;
  f.elf = true;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph{};
    in.seekg(static_cast<std::streamoff>(eh.e_phoff + i * eh.e_phentsize));
    if (!in.read(reinterpret_cast<char*>(&ph), sizeof ph)) break;
    if (ph.p_type == PT_INTERP) f.dynamic = true;
  }
  if (eh.e_shoff && eh.e_shstrndx < eh.e_shnum && eh.e_shnum < 4096) {
    std::vector<Elf64_Shdr> sh(eh.e_shnum);
    in.clear();
    in.seekg(static_cast<std::streamoff>(eh.e_shoff));
    if (in.read(reinterpret_cast<char*>(sh.data()),
                static_cast<std::streamsize>(sh.size() * sizeof(Elf64_Shdr)))) {
      const Elf64_Shdr& strtab = sh[eh.e_shstrndx];
      std::string names(std::min<size_t>(strtab.sh_size, 1 << 20), '\0');
      in.seekg(static_cast<std::streamoff>(strtab.sh_offset));
      if (in.read(names.data(), static_cast<std::streamsize>(names.size())))
        for (const auto& s : sh)
          if (s.sh_name < names.size() && std::strcmp(names.c_str() + s.sh_name, ".go.buildinfo") == 0)
            f.go = true;
    }
  }
  return f;
}

}  // namespace

Preflight preflight(const std::string& program) {
  Preflight p;
  p.path = resolve(program);
  struct stat st {};
  if (p.path.empty() || stat(p.path.c_str(), &st) != 0) {
    p.verdict = Preflight::Verdict::NotFound;
    p.message = fmt::format("{}: program not found{}", program,
                            program.find('/') == std::string::npos ? " in PATH" : "");
    return p;
  }
  if (S_ISDIR(st.st_mode) || access(p.path.c_str(), X_OK) != 0) {
    p.verdict = Preflight::Verdict::NotExecutable;
    p.message = fmt::format("{}: {}", p.path, S_ISDIR(st.st_mode) ? "is a directory" : "is not executable");
    return p;
  }
  if (((st.st_mode & S_ISUID) && st.st_uid != geteuid()) ||
      ((st.st_mode & S_ISGID) && st.st_gid != getegid())) {
    p.verdict = Preflight::Verdict::Unreachable;
    p.message = fmt::format(
        "{} is setuid/setgid: the loader ignores LD_PRELOAD for it, so wstrace cannot trace it "
        "(run wstrace as the user it switches to)",
        p.path);
    return p;
  }
  std::string target = p.path;
  {
    std::ifstream in(p.path, std::ios::binary);
    std::string first;
    std::getline(in, first);
    if (first.rfind("#!", 0) == 0) {  // a script: what matters is its interpreter
      std::istringstream words(first.substr(2));
      words >> target;
    }
  }
  ElfFacts elf = read_elf(target);
  if (!elf.elf) return p;  // not ELF: let exec decide (binfmt handlers, shell fallbacks)
  if (!elf.dynamic) {
    p.verdict = Preflight::Verdict::Unreachable;
    p.message = fmt::format(
        "{} is statically linked: it has no dynamic loader to preload the wstrace agent, so its "
        "socket calls cannot be traced (not supported yet)",
        target);
    return p;
  }
  if (elf.go)
    p.message = fmt::format(
        "{} is a Go program: Go makes most socket calls itself, not through libc, so wstrace "
        "sees only what goes through libc (such as cgo name lookups)",
        target);
  return p;
}

}  // namespace ws::capture
