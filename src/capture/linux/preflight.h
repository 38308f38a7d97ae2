// Checks made before a program is started under the agent, so that a program the agent cannot
// reach is reported in one clear message instead of being silently missed.
#pragma once

#include <string>

namespace ws::capture {

struct Preflight {
  enum class Verdict { Ok, NotFound, NotExecutable, Unreachable };
  Verdict verdict = Verdict::Ok;
  std::string path;     // the program file that will run
  std::string message;  // for anything but Ok; for Ok, an optional warning
  bool calls_without_libc = false;  // static or Go: the kernel engine sees what the agent cannot
};

// Resolves `program` like execvp would and checks that LD_PRELOAD can reach it: a dynamically
// linked 64-bit ELF (or a script whose interpreter is one), not setuid/setgid to someone else,
// no file capabilities (unless wstrace runs as root).
Preflight preflight(const std::string& program);

}  // namespace ws::capture
