// Hooks on the functions that start a new program: the exec family and posix_spawn. Tracing
// follows into the new image wherever the loader lets it: a program that cleared or edited its
// environment gets LD_PRELOAD and WSTRACE_SHM put back into the new image's environment (as
// strace follows whatever the program does). Where the loader will not load the agent — a
// setuid/setgid image, file capabilities, differing real and effective ids, a static or 32-bit
// program, a user that cannot open wstrace's shared memory — a tracing_lost event says so just
// before the exec, with the image and the cause; if the exec then fails, a second one carries
// its error and the process is still traced. A Go program is declared the same way: the agent
// enters it, but its own socket calls bypass libc.
//
// Everything here runs in a process about to exec, maybe a vfork child sharing its parent's
// memory: no allocation, only the stack and system calls.
#include <dlfcn.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdarg>
#include <cstdlib>
#include <cstring>

#include "agent.h"
#include "../elf_facts.h"

using namespace ws;
using namespace ws::agent;

extern char** environ;


namespace {

constexpr char kPreloadVar[] = "LD_PRELOAD=";
constexpr char kShmVar[] = "WSTRACE_SHM=";

char g_agent_path[PATH_MAX];    // this library, as the loader found it
char g_shm_entry[256];          // "WSTRACE_SHM=<name>"
char g_shm_path[256];           // "/dev/shm/<name>"
uint32_t g_pid_seen = 0;        // this process's pid, kept by fork handlers (not by vfork)

// After the agent itself (constructor 101) has opened the region.
__attribute__((constructor(102))) void exec_hooks_init() {
  const char* name = getenv("WSTRACE_SHM");
  Dl_info self{};
  if (!region() || !name || !dladdr(reinterpret_cast<void*>(&exec_hooks_init), &self) ||
      !self.dli_fname || strlen(self.dli_fname) >= sizeof g_agent_path)
    return;
  if (name[0] == '/') ++name;
  const size_t n = strlen(name);
  if (n + sizeof kShmVar > sizeof g_shm_entry || n + 10 > sizeof g_shm_path) return;
  memcpy(g_agent_path, self.dli_fname, strlen(self.dli_fname) + 1);
  memcpy(g_shm_entry, kShmVar, sizeof kShmVar - 1);
  memcpy(g_shm_entry + sizeof kShmVar - 1, name, n + 1);
  memcpy(g_shm_path, "/dev/shm/", 9);
  memcpy(g_shm_path + 9, name, n + 1);
  g_pid_seen = static_cast<uint32_t>(getpid());
  pthread_atfork(nullptr, nullptr, [] { g_pid_seen = static_cast<uint32_t>(getpid()); });
}

// Whether the image this process is about to exec should be traced: the process records and
// either children are followed or it is the program wstrace started (its pid stays the same).
bool follows_exec() {
  RegionHeader* r = region();
  return r && g_shm_entry[0] && recording() &&
         (r->follow || r->root_pid == static_cast<uint32_t>(getpid()));
}

// The pid to name in a tracing_lost event when it is not the recording process's own: a vfork
// (or raw clone) child writes into its parent's ring, under its parent's pid.
uint32_t other_pid() {
  const auto pid = static_cast<uint32_t>(getpid());
  return pid == g_pid_seen ? 0 : pid;
}

bool has_entry(const char* entry, const char* name, size_t name_len) {
  return strncmp(entry, name, name_len) == 0;
}

// Whether an LD_PRELOAD value names this agent (its entries are separated by ':' or ' ').
bool preloads_agent(const char* value) {
  const size_t n = strlen(g_agent_path);
  for (const char* p = value; *p;) {
    const size_t len = strcspn(p, ": ");
    if (len == n && memcmp(p, g_agent_path, n) == 0) return true;
    p += len + (p[len] ? 1 : 0);
  }
  return false;
}

// An environment with the agent's two variables in it, built on the stack (or, past kOnStack
// entries, in pages of its own: a vfork child's exec that succeeds leaves them in the parent).
class AgentEnv {
 public:
  explicit AgentEnv(char* const* envp) {
    size_t n = 0;
    while (envp && envp[n]) ++n;
    vec_ = n + 3 <= kOnStack ? stack_ : map(n + 3);
    if (!vec_) return;
    size_t k = 0;
    bool preload = false;
    for (size_t i = 0; i < n; ++i) {
      if (has_entry(envp[i], kShmVar, sizeof kShmVar - 1)) continue;
      if (has_entry(envp[i], kPreloadVar, sizeof kPreloadVar - 1)) {
        if (preload) continue;
        preload = true;
        vec_[k++] = with_agent(envp[i] + sizeof kPreloadVar - 1);
        continue;
      }
      vec_[k++] = envp[i];
    }
    if (!preload) vec_[k++] = with_agent("");
    vec_[k++] = g_shm_entry;
    vec_[k] = nullptr;
  }
  ~AgentEnv() {
    if (mapped_) munmap(vec_, mapped_);
  }
  AgentEnv(const AgentEnv&) = delete;
  AgentEnv& operator=(const AgentEnv&) = delete;

  // The environment to exec with; `envp` itself if no room could be found.
  char* const* get(char* const* envp) const { return vec_ ? vec_ : envp; }

 private:
  static constexpr size_t kOnStack = 512;

  char** map(size_t entries) {
    const size_t bytes = entries * sizeof(char*);
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return nullptr;
    mapped_ = bytes;
    return static_cast<char**>(m);
  }
  // "LD_PRELOAD=<agent>[:<value>]", or the program's own entry when the agent is in it already
  // (or the whole would not fit).
  char* with_agent(const char* value) {
    if (preloads_agent(value)) return const_cast<char*>(value - (sizeof kPreloadVar - 1));
    const size_t a = strlen(g_agent_path), v = strlen(value);
    if (sizeof kPreloadVar + a + 1 + v > sizeof preload_) return preload_fallback(value);
    char* p = preload_;
    memcpy(p, kPreloadVar, sizeof kPreloadVar - 1);
    p += sizeof kPreloadVar - 1;
    memcpy(p, g_agent_path, a);
    p += a;
    if (v) *p++ = ':';
    memcpy(p, value, v + 1);
    return preload_;
  }
  char* preload_fallback(const char* value) {
    if (*value) return const_cast<char*>(value - (sizeof kPreloadVar - 1));
    return const_cast<char*>(kPreloadVar);
  }

  char* stack_[kOnStack];
  char** vec_ = nullptr;
  size_t mapped_ = 0;
  char preload_[PATH_MAX + 1024];
};

// Why the loader will not let the agent into `path` (relative to `dir`), or nullptr when it
// will.
const char* lost_cause_of_file(int fd, const struct stat& st, bool interpreter);

const char* lost_cause(int dir, const char* path) {
  // An image this user may run but not read (mode 0711) is still looked at: its mode and ids.
  const int fd = openat(dir, path, O_RDONLY | O_CLOEXEC);
  struct stat st {};
  const char* cause = nullptr;
  if ((fd >= 0 ? fstat(fd, &st) : fstatat(dir, path, &st, 0)) == 0 && S_ISREG(st.st_mode)) {
    char interp[PATH_MAX];
    if (fd >= 0 && script_interpreter(fd, interp, sizeof interp)) {
      // The kernel runs a script's interpreter and ignores its setuid bit: ask about that.
      const int ifd = open(interp, O_RDONLY | O_CLOEXEC);
      struct stat ist {};
      if (ifd >= 0 && fstat(ifd, &ist) == 0) cause = lost_cause_of_file(ifd, ist, true);
      if (ifd >= 0) close(ifd);
    } else {
      cause = lost_cause_of_file(fd, st, false);
    }
  }
  if (fd >= 0) close(fd);
  return cause;
}

const char* lost_cause_of_file(int fd, const struct stat& st, bool interpreter) {
  uid_t ruid, euid, suid;  // two calls for the ids, not four: each system call counts here
  gid_t rgid, egid, sgid;
  getresuid(&ruid, &euid, &suid);
  getresgid(&rgid, &egid, &sgid);
  if (!interpreter) {
    if (((st.st_mode & S_ISUID) && st.st_uid != euid) ||
        ((st.st_mode & S_ISGID) && st.st_gid != egid))
      return "the image is setuid/setgid: the loader ignores LD_PRELOAD for it";
    if (ruid != 0 && fgetxattr(fd, "security.capability", nullptr, 0) > 0)
      return "the image has file capabilities: the loader ignores LD_PRELOAD for it";
  }
  if (ruid != euid || rgid != egid)
    return "the process's real and effective ids differ: the loader ignores LD_PRELOAD";
  if (faccessat(AT_FDCWD, g_shm_path, R_OK | W_OK, AT_EACCESS) != 0 && errno == EACCES)
    return "the process changed its user: the new image cannot open wstrace's shared memory";
  const ElfFacts elf = read_elf_facts(fd);
  if (elf.elf && !elf.wide) return "a 32-bit program: the 64-bit agent cannot be loaded into it";
  if (elf.elf && !elf.dynamic) return "statically linked: no dynamic loader to preload the agent";
  if (elf.go) return "a Go program: its own socket calls bypass libc (only libc's are traced)";
  return nullptr;
}

// `file` found like execvp finds it, into `out`; false when it is not found.
bool search_path(const char* file, char* out, size_t cap) {
  if (strchr(file, '/')) {
    if (strlen(file) >= cap) return false;
    memcpy(out, file, strlen(file) + 1);
    return true;
  }
  const char* dirs = getenv("PATH");
  if (!dirs) dirs = "/bin:/usr/bin";
  const size_t fn = strlen(file);
  for (const char* d = dirs;;) {
    const size_t dn = strcspn(d, ":");
    if (dn + 1 + fn < cap) {
      memcpy(out, dn ? d : ".", dn ? dn : 1);
      size_t k = dn ? dn : 1;
      out[k++] = '/';
      memcpy(out + k, file, fn + 1);
      if (access(out, X_OK) == 0) return true;
    }
    if (!d[dn]) return false;
    d += dn + 1;
  }
}

// The tracing_lost event; `failed_errno` set: the exec failed and tracing goes on.
void record_lost(const char* image, const char* cause, uint32_t pid, int failed_errno) {
  char full[PATH_MAX];
  if (!realpath(image, full)) {
    strncpy(full, image, sizeof full - 1);
    full[sizeof full - 1] = '\0';
  }
  const int saved = errno;
  errno = failed_errno;
  {
    Call c(FuncId::tracing_lost);
    c.done(failed_errno ? -1 : 0, failed_errno != 0);
    c.str(FieldId::image, full);
    c.str(FieldId::cause, cause);
    if (pid) c.u64(FieldId::child, pid);
  }
  errno = saved;
}

// One exec: the cause of losing tracing recorded first, the agent's variables put back
// otherwise, a failure after a recorded loss recorded too. `run` makes the real call with the
// environment it is given.
template <typename Run>
int traced_exec(const char* image, int dir, char* const* envp, Run run) {
  if (!follows_exec()) return run(envp);
  const char* cause = image ? lost_cause(dir, image) : nullptr;
  if (!cause) {
    AgentEnv env(envp);
    return run(env.get(envp));
  }
  const uint32_t pid = other_pid();
  record_lost(image, cause, pid, 0);
  const int r = run(envp);
  record_lost(image, cause, pid, errno);
  return r;
}

// The arguments of execl, execle and execlp as an argv, taken from `*ap` up to and with its
// terminating null (execle's environment comes next), on the stack or, past kOnStack, in pages
// of its own. argv() is null when no room could be found.
class ListArgs {
 public:
  ListArgs(const char* arg0, va_list* ap) {
    va_list count;
    va_copy(count, *ap);
    size_t n = 1;
    while (va_arg(count, char*)) ++n;
    va_end(count);
    if (n + 1 > kOnStack) {
      bytes_ = (n + 1) * sizeof(char*);
      void* m = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      vec_ = m == MAP_FAILED ? nullptr : static_cast<char**>(m);
    }
    for (size_t i = 0; i < n; ++i) {
      char* a = i ? va_arg(*ap, char*) : const_cast<char*>(arg0);
      if (vec_) vec_[i] = a;
    }
    va_arg(*ap, char*);  // the terminating null
    if (vec_) vec_[n] = nullptr;
  }
  ~ListArgs() {
    if (vec_ && bytes_) munmap(vec_, bytes_);
  }
  ListArgs(const ListArgs&) = delete;
  ListArgs& operator=(const ListArgs&) = delete;
  char* const* argv() const { return vec_; }

 private:
  static constexpr size_t kOnStack = 256;
  char* stack_[kOnStack];
  char** vec_ = stack_;
  size_t bytes_ = 0;
};

// execl, execlp and execle: `exec` with the list as an argv (ENOMEM when it found no room).
template <typename Exec>
int exec_list(const ListArgs& args, Exec exec) {
  if (!args.argv()) {
    errno = ENOMEM;
    return -1;
  }
  return exec(args.argv());
}

// posix_spawn and posix_spawnp: the child gets the agent's variables back, or, when the loader
// will not let the agent in, a tracing_lost event names it once it exists.
template <typename Run>
int traced_spawn(const char* image, pid_t* pid, char* const* envp, Run run) {
  RegionHeader* r = region();
  if (!r || !g_shm_entry[0] || !recording() || !r->follow) return run(pid, envp);
  const char* cause = image ? lost_cause(AT_FDCWD, image) : nullptr;
  if (!cause) {
    AgentEnv env(envp);
    return run(pid, env.get(envp));
  }
  pid_t child = 0;
  const int rc = run(&child, envp);
  if (rc == 0) record_lost(image, cause, static_cast<uint32_t>(child), 0);
  if (pid && rc == 0) *pid = child;
  return rc;
}

}  // namespace

WS_EXPORT int execve(const char* path, char* const argv[], char* const envp[]) {
  return traced_exec(path, AT_FDCWD, envp,
                     [&](char* const* e) { return REAL(execve)(path, argv, e); });
}

namespace {
// An image given as a descriptor, by a path that reaches the same file.
struct FdPath {
  explicit FdPath(int fd) { snprintf(path, sizeof path, "/proc/self/fd/%d", fd); }
  char path[32];
};
}  // namespace

WS_EXPORT int execveat(int dir, const char* path, char* const argv[], char* const envp[],
                       int flags) {
  const FdPath by_fd(dir);
  const bool empty = (flags & AT_EMPTY_PATH) && path && !*path;
  return traced_exec(empty ? by_fd.path : path, dir, envp,
                     [&](char* const* e) { return REAL(execveat)(dir, path, argv, e, flags); });
}

WS_EXPORT int fexecve(int fd, char* const argv[], char* const envp[]) {
  const FdPath by_fd(fd);
  return traced_exec(by_fd.path, AT_FDCWD, envp,
                     [&](char* const* e) { return REAL(fexecve)(fd, argv, e); });
}

WS_EXPORT int execv(const char* path, char* const argv[]) { return execve(path, argv, environ); }

WS_EXPORT int execvpe(const char* file, char* const argv[], char* const envp[]) {
  char found[PATH_MAX];
  return traced_exec(search_path(file, found, sizeof found) ? found : nullptr, AT_FDCWD, envp,
                     [&](char* const* e) { return REAL(execvpe)(file, argv, e); });
}

WS_EXPORT int execvp(const char* file, char* const argv[]) {
  return execvpe(file, argv, environ);
}

WS_EXPORT int execl(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ListArgs args(arg, &ap);
  va_end(ap);
  return exec_list(args, [&](char* const* argv) { return execve(path, argv, environ); });
}

WS_EXPORT int execlp(const char* file, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ListArgs args(arg, &ap);
  va_end(ap);
  return exec_list(args, [&](char* const* argv) { return execvpe(file, argv, environ); });
}

WS_EXPORT int execle(const char* path, const char* arg, ...) {
  va_list ap;
  va_start(ap, arg);
  ListArgs args(arg, &ap);
  char* const* envp = va_arg(ap, char* const*);
  va_end(ap);
  return exec_list(args, [&](char* const* argv) { return execve(path, argv, envp); });
}

WS_EXPORT int posix_spawn(pid_t* pid, const char* path, const posix_spawn_file_actions_t* actions,
                          const posix_spawnattr_t* attr, char* const argv[], char* const envp[]) {
  return traced_spawn(path, pid, envp, [&](pid_t* p, char* const* e) {
    return REAL(posix_spawn)(p, path, actions, attr, argv, e);
  });
}

WS_EXPORT int posix_spawnp(pid_t* pid, const char* file, const posix_spawn_file_actions_t* actions,
                           const posix_spawnattr_t* attr, char* const argv[],
                           char* const envp[]) {
  char found[PATH_MAX];
  return traced_spawn(search_path(file, found, sizeof found) ? found : nullptr, pid, envp,
                      [&](pid_t* p, char* const* e) {
                        return REAL(posix_spawnp)(p, file, actions, attr, argv, e);
                      });
}
