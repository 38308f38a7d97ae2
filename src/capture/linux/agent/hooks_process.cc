// Hooks that keep the agent's picture of the process right: how it ends, descriptors that
// libc opens or closes without going through the hooked close(), and the names threads give
// themselves.
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdarg>
#include <cstring>

#include "agent.h"

using namespace ws;
using namespace ws::agent;


// fork(): the parent records the child's pid (a `fork` event), so that the child's sockets are
// known to be the parent's even when the parent closes its copies before the child first uses
// them (sshd, forking servers). The child's own process_start comes from the agent's atfork
// handler; in the child this records nothing.
WS_EXPORT pid_t fork() {
  Call c(FuncId::fork);
  pid_t r = REAL(fork)();
  c.done_errno(r);
  if (r == 0) c.cancel();  // (errno stays as fork left it)
  return r;
}

// exit() and a return from main are seen by the agent's on_exit handler (agent.cc); these two
// end the process without running exit handlers.
WS_EXPORT void _exit(int status) {
  record_process_exit(status);
  REAL(_exit)(status);
  __builtin_unreachable();
}

WS_EXPORT void _Exit(int status) {
  record_process_exit(status);
  REAL(_Exit)(status);
  __builtin_unreachable();
}

// fclose() closes its descriptor inside libc: the number stops being a socket.
WS_EXPORT int fclose(FILE* f) {
  if (f) forget_fd(fileno(f));
  return REAL(fclose)(f);
}

// New files and pipes take numbers that may have been sockets (closed inside libc).
namespace {
int opened(int fd) {
  new_fd(fd, false);
  return fd;
}
mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}
}  // namespace

WS_EXPORT int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(open)(path, flags, mode));
}

WS_EXPORT int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(open64)(path, flags, mode));
}

WS_EXPORT int openat(int dir, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(openat)(dir, path, flags, mode));
}

WS_EXPORT int pipe(int fds[2]) {
  int r = REAL(pipe)(fds);
  if (r == 0) opened(fds[0]), opened(fds[1]);
  return r;
}

WS_EXPORT int pipe2(int fds[2], int flags) {
  int r = REAL(pipe2)(fds, flags);
  if (r == 0) opened(fds[0]), opened(fds[1]);
  return r;
}

// A thread names itself with prctl(PR_SET_NAME) or pthread_setname_np(pthread_self()): a
// thread_name event with the name the kernel keeps (15 bytes). A thread named by another thread
// is not recorded: a pthread_t does not say which kernel thread it is.
namespace {
constexpr int kPrSetName = 15;  // PR_SET_NAME (<sys/prctl.h> would declare prctl again)

void record_thread_name(const char* name) {
  char kept[16];
  const size_t n = strnlen(name, 15);
  memcpy(kept, name, n);
  kept[n] = '\0';
  Call c(FuncId::thread_name);
  c.done(0, false);  // a fact, not a call
  c.str(FieldId::name, kept);
}
}  // namespace

WS_EXPORT int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  unsigned long a2 = va_arg(ap, unsigned long), a3 = va_arg(ap, unsigned long);
  unsigned long a4 = va_arg(ap, unsigned long), a5 = va_arg(ap, unsigned long);
  va_end(ap);
  int r = REAL(prctl)(option, a2, a3, a4, a5);
  if (r == 0 && option == kPrSetName && a2) record_thread_name(reinterpret_cast<const char*>(a2));
  constexpr int kPrSetSeccomp = 22;  // PR_SET_SECCOMP
  if (r == 0 && option == kPrSetSeccomp) note_sandboxed();
  return r;
}

WS_EXPORT int pthread_setname_np(pthread_t thread, const char* name) {
  int r = REAL(pthread_setname_np)(thread, name);
  // (glibc declares `name` never null.)
  if (r == 0 && pthread_equal(thread, pthread_self())) record_thread_name(name);
  return r;
}
