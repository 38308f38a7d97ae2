// Hooks that keep the agent's picture of the process right: how it ends, and descriptors that
// libc opens or closes without going through the hooked close().
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cstdarg>

#include "agent.h"

using namespace ws;
using namespace ws::agent;

#define REAL(name) real(#name, real_##name)
#define DECLARE_REAL(name, ret, ...) static ret (*real_##name)(__VA_ARGS__) = nullptr

// exit() and a return from main are seen by the agent's on_exit handler (agent.cc); these two
// end the process without running exit handlers.
DECLARE_REAL(_exit, void, int);
WS_EXPORT void _exit(int status) {
  record_process_exit(status);
  REAL(_exit)(status);
  __builtin_unreachable();
}

DECLARE_REAL(_Exit, void, int);
WS_EXPORT void _Exit(int status) {
  record_process_exit(status);
  REAL(_Exit)(status);
  __builtin_unreachable();
}

// fclose() closes its descriptor inside libc: the number stops being a socket.
DECLARE_REAL(fclose, int, FILE*);
WS_EXPORT int fclose(FILE* f) {
  if (f) forget_fd(fileno(f));
  return REAL(fclose)(f);
}

// New files and pipes take numbers that may have been sockets (closed inside libc).
namespace {
int opened(int fd) {
  mark_not_socket(fd);
  return fd;
}
mode_t mode_arg(int flags, va_list ap) {
  return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? static_cast<mode_t>(va_arg(ap, int)) : 0;
}
}  // namespace

DECLARE_REAL(open, int, const char*, int, ...);
WS_EXPORT int open(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(open)(path, flags, mode));
}

DECLARE_REAL(open64, int, const char*, int, ...);
WS_EXPORT int open64(const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(open64)(path, flags, mode));
}

DECLARE_REAL(openat, int, int, const char*, int, ...);
WS_EXPORT int openat(int dir, const char* path, int flags, ...) {
  va_list ap;
  va_start(ap, flags);
  mode_t mode = mode_arg(flags, ap);
  va_end(ap);
  return opened(REAL(openat)(dir, path, flags, mode));
}

DECLARE_REAL(pipe, int, int*);
WS_EXPORT int pipe(int fds[2]) {
  int r = REAL(pipe)(fds);
  if (r == 0) opened(fds[0]), opened(fds[1]);
  return r;
}

DECLARE_REAL(pipe2, int, int*, int);
WS_EXPORT int pipe2(int fds[2], int flags) {
  int r = REAL(pipe2)(fds, flags);
  if (r == 0) opened(fds[0]), opened(fds[1]);
  return r;
}
