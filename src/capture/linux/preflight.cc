#include "preflight.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "elf_facts.h"
#include "record_ebpf.h"

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

ElfFacts elf_facts_of(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  const ElfFacts f = read_elf_facts(fd);
  close(fd);
  return f;
}

// Whether the kernel runs `path` in secure mode for this user because of file capabilities
// (security.capability): it does for anyone but root, whose capabilities they cannot raise.
bool has_file_capabilities(const std::string& path) {
  return getuid() != 0 && getxattr(path.c_str(), "security.capability", nullptr, 0) > 0;
}

Preflight refused(const std::string& path, std::string message) {
  Preflight p;
  p.verdict = Preflight::Verdict::Unreachable;
  p.path = path;
  p.message = std::move(message);
  return p;
}

// A program the loader runs in secure mode, where it ignores LD_PRELOAD.
Preflight secure(const std::string& path, std::string_view what, std::string_view instead) {
  return refused(path, fmt::format("{} {}: the loader ignores LD_PRELOAD for it, so wstrace "
                                   "cannot trace it ({})",
                                   path, what, instead));
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
      ((st.st_mode & S_ISGID) && st.st_gid != getegid()))
    return secure(p.path, "is setuid/setgid", "run wstrace as the user it switches to");
  if (has_file_capabilities(p.path))
    return secure(p.path, "has file capabilities", "run wstrace as root");
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
  ElfFacts elf = elf_facts_of(target);
  if (!elf.elf) return p;  // not ELF: let exec decide (binfmt handlers, shell fallbacks)
  if (!elf.wide)
    return refused(p.path, fmt::format("{} is a 32-bit program: the 64-bit wstrace agent cannot "
                                       "be loaded into it, so its socket calls cannot be traced "
                                       "(not supported yet)",
                                       target));
  // The kernel engine sees what the agent cannot, where the build has it.
  const std::string instead =
      ebpf_built() ? "; the kernel engine can: wstrace record --engine ebpf (as root)" : "";
  if (!elf.dynamic) {
    Preflight r = refused(p.path, fmt::format("{} is statically linked: it has no dynamic loader to "
                                       "preload the wstrace agent, so its socket calls cannot be "
                                       "traced this way{}",
                                       target, instead.empty() ? " (not supported yet)" : instead));
    r.calls_without_libc = true;
    return r;
  }
  p.calls_without_libc = elf.go;
  if (elf.go)
    p.message = fmt::format(
        "{} is a Go program: Go makes most socket calls itself, not through libc, so wstrace "
        "sees only what goes through libc (such as cgo name lookups){}",
        target, instead);
  return p;
}

}  // namespace ws::capture
