// The Linux agent's safe read of its own process's memory (agent/call.h).
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>

#include "agent.h"

namespace ws::agent {

size_t safe_read(void* dst, const void* src, size_t n) {
  if (!n || !src) return 0;
  // process_vm_readv on our own pid answers EFAULT for unreadable memory instead of raising a
  // signal, and never splits one iovec: all `n` bytes or none. getpid() is asked each time (not
  // cached) so that a child made by a raw clone() never reads its parent.
  const int saved = errno;
  iovec local{dst, n};
  iovec remote{const_cast<void*>(src), n};
  const auto pid = getpid();
  const ssize_t r = process_vm_readv(pid, &local, 1, &remote, 1, 0);
  errno = saved;
  return r == static_cast<ssize_t>(n) ? n : 0;
}

bool safe_write(void* dst, const void* src, size_t n) {
  const int saved = errno;
  iovec local{const_cast<void*>(src), n};
  iovec remote{dst, n};
  const auto pid = getpid();
  const ssize_t r = process_vm_writev(pid, &local, 1, &remote, 1, 0);
  errno = saved;
  return r == static_cast<ssize_t>(n);
}

}  // namespace ws::agent
