// libc's syscall(): programs that make socket calls by number rather than through their libc
// function (libuv, so Node.js and dig: sendmmsg, recvmmsg and close) are traced as if they had
// called the function; io_uring being set up is declared (what goes through it is not seen).
// A system call made by instruction (a static or Go program, inline assembly) cannot be seen
// here: the agent notices a socket number reused without its close and says so (unseen()).
#include <fcntl.h>
#include <sys/sendfile.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <type_traits>

#include "agent.h"

using namespace ws;
using namespace ws::agent;

namespace {

template <typename T>
T as(long v) {
  if constexpr (std::is_pointer_v<T>) return reinterpret_cast<T>(v);
  else return static_cast<T>(v);
}

}  // namespace

// Every number is passed on with all six arguments, as glibc's own syscall() reads them; the
// socket calls go through the agent's hooks of their libc functions, which make the same system
// call (glibc's wrappers add only a cancellation point; close, which libuv calls by number to
// avoid one, is made by number here too).
WS_EXPORT long syscall(long number, ...) {
  va_list ap;
  va_start(ap, number);
  long a[6];
  for (long& v : a) v = va_arg(ap, long);
  va_end(ap);
  auto raw = [&] { return REAL(syscall)(number, a[0], a[1], a[2], a[3], a[4], a[5]); };
  if (!enabled()) return raw();
  switch (number) {
    case SYS_socket: return socket(as<int>(a[0]), as<int>(a[1]), as<int>(a[2]));
    case SYS_socketpair:
      return socketpair(as<int>(a[0]), as<int>(a[1]), as<int>(a[2]), as<int*>(a[3]));
    case SYS_bind:
      return bind(as<int>(a[0]), as<const sockaddr*>(a[1]), as<socklen_t>(a[2]));
    case SYS_listen: return listen(as<int>(a[0]), as<int>(a[1]));
    case SYS_connect:
      return connect(as<int>(a[0]), as<const sockaddr*>(a[1]), as<socklen_t>(a[2]));
    case SYS_accept:
      return accept(as<int>(a[0]), as<sockaddr*>(a[1]), as<socklen_t*>(a[2]));
    case SYS_accept4:
      return accept4(as<int>(a[0]), as<sockaddr*>(a[1]), as<socklen_t*>(a[2]), as<int>(a[3]));
    case SYS_shutdown: return shutdown(as<int>(a[0]), as<int>(a[1]));
    case SYS_close: return close_by_number(as<int>(a[0]));
    case SYS_sendto:
      return sendto(as<int>(a[0]), as<const void*>(a[1]), as<size_t>(a[2]), as<int>(a[3]),
                    as<const sockaddr*>(a[4]), as<socklen_t>(a[5]));
    case SYS_recvfrom:
      return recvfrom(as<int>(a[0]), as<void*>(a[1]), as<size_t>(a[2]), as<int>(a[3]),
                      as<sockaddr*>(a[4]), as<socklen_t*>(a[5]));
    case SYS_sendmsg: return sendmsg(as<int>(a[0]), as<const msghdr*>(a[1]), as<int>(a[2]));
    case SYS_recvmsg: return recvmsg(as<int>(a[0]), as<msghdr*>(a[1]), as<int>(a[2]));
    case SYS_sendmmsg:
      return sendmmsg(as<int>(a[0]), as<mmsghdr*>(a[1]), as<unsigned>(a[2]), as<int>(a[3]));
    case SYS_recvmmsg:
      return recvmmsg(as<int>(a[0]), as<mmsghdr*>(a[1]), as<unsigned>(a[2]), as<int>(a[3]),
                      as<struct timespec*>(a[4]));
    case SYS_setsockopt:
      return setsockopt(as<int>(a[0]), as<int>(a[1]), as<int>(a[2]), as<const void*>(a[3]),
                        as<socklen_t>(a[4]));
    case SYS_getsockopt:
      return getsockopt(as<int>(a[0]), as<int>(a[1]), as<int>(a[2]), as<void*>(a[3]),
                        as<socklen_t*>(a[4]));
    case SYS_getsockname:
      return getsockname(as<int>(a[0]), as<sockaddr*>(a[1]), as<socklen_t*>(a[2]));
    case SYS_getpeername:
      return getpeername(as<int>(a[0]), as<sockaddr*>(a[1]), as<socklen_t*>(a[2]));
    case SYS_read:  // read/write/readv/writev: the hooks pass non-sockets straight on
      return read(as<int>(a[0]), as<void*>(a[1]), as<size_t>(a[2]));
    case SYS_write: return write(as<int>(a[0]), as<const void*>(a[1]), as<size_t>(a[2]));
    case SYS_readv: return readv(as<int>(a[0]), as<const iovec*>(a[1]), as<int>(a[2]));
    case SYS_writev: return writev(as<int>(a[0]), as<const iovec*>(a[1]), as<int>(a[2]));
    case SYS_sendfile:
      return sendfile(as<int>(a[0]), as<int>(a[1]), as<off_t*>(a[2]), as<size_t>(a[3]));
    case SYS_splice:
      return splice(as<int>(a[0]), as<loff_t*>(a[1]), as<int>(a[2]), as<loff_t*>(a[3]),
                    as<size_t>(a[4]), as<unsigned>(a[5]));
    case SYS_copy_file_range:
      return copy_file_range(as<int>(a[0]), as<loff_t*>(a[1]), as<int>(a[2]), as<loff_t*>(a[3]),
                             as<size_t>(a[4]), as<unsigned>(a[5]));
    case SYS_epoll_wait:
      return epoll_wait(as<int>(a[0]), as<epoll_event*>(a[1]), as<int>(a[2]), as<int>(a[3]));
    case SYS_epoll_ctl:
      return epoll_ctl(as<int>(a[0]), as<int>(a[1]), as<int>(a[2]), as<epoll_event*>(a[3]));
    case SYS_seccomp: {
      long r = raw();
      if (r == 0) note_sandboxed();
      return r;
    }
    case SYS_io_uring_setup: {
      long r = raw();
      if (r >= 0) {
        mark_not_socket(static_cast<int>(r));
        unseen(Unseen::IoUring, -1);
      }
      return r;
    }
    default: return raw();
  }
}
