// Hooks for socket life: create, name, connect, accept, options, shutdown, close, dup.
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>

#include "agent.h"

using namespace ws;
using namespace ws::agent;


namespace {

// The local end of a socket that just connected or was accepted.
void note_local(Call& c, int fd) {
  sockaddr_storage ss;
  socklen_t len = sizeof ss;
  if (REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::local, reinterpret_cast<sockaddr*>(&ss), len, Mem::Proven);
}

void socket_args(Call& c, int domain, int type, int protocol) {
  c.platform_const(FieldId::family, domain);
  c.platform_const(FieldId::type, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (type & (SOCK_NONBLOCK | SOCK_CLOEXEC))
    c.platform_const(FieldId::type_flags, type & (SOCK_NONBLOCK | SOCK_CLOEXEC));
  c.platform_const(FieldId::protocol, protocol);
}

}  // namespace

WS_EXPORT int socket(int domain, int type, int protocol) {
  Call c(FuncId::socket);
  int r = REAL(socket)(domain, type, protocol);
  c.done_errno(r);
  if (r >= 0) new_fd(r, true);
  socket_args(c, domain, type, protocol);
  return r;
}

WS_EXPORT int socketpair(int domain, int type, int protocol, int sv[2]) {
  Call c(FuncId::socketpair);
  int r = REAL(socketpair)(domain, type, protocol, sv);
  c.done_errno(r);
  socket_args(c, domain, type, protocol);
  if (r == 0) {
    new_fd(sv[0], true);
    new_fd(sv[1], true);
    c.u64(FieldId::sock, static_cast<uint64_t>(sv[0]));
    c.u64(FieldId::new_sock, static_cast<uint64_t>(sv[1]));
  }
  return r;
}

WS_EXPORT int bind(int fd, const sockaddr* addr, socklen_t len) {
  Call c(FuncId::bind);
  int r = REAL(bind)(fd, addr, len);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.sockaddr(FieldId::addr, addr, len);
  return r;
}

WS_EXPORT int listen(int fd, int backlog) {
  Call c(FuncId::listen);
  int r = REAL(listen)(fd, backlog);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.i64(FieldId::backlog, backlog);
  return r;
}

WS_EXPORT int connect(int fd, const sockaddr* addr, socklen_t len) {
  int r;
  {
    Call c(FuncId::connect);
    r = REAL(connect)(fd, addr, len);
    c.done_errno(r);
    c.u64(FieldId::sock, static_cast<uint64_t>(fd));
    c.sockaddr(FieldId::addr, addr, len);
    if (r == 0 || c.saved_error() == EINPROGRESS) note_local(c, fd);
  }  // recorded before the connection's first statistics
  if (r == 0) tcp_stats(fd, TcpAt::Connected);
  return r;
}

namespace {

// accept and accept4: when the program does not ask for the peer, wstrace asks in its place
// (the kernel fills our buffer instead of none; the call is otherwise the same).
int traced_accept(FuncId f, int fd, sockaddr* addr, socklen_t* len, int flags) {
  Call c(f);
  sockaddr_storage mine;
  socklen_t mine_len = sizeof mine;
  sockaddr* a = addr ? addr : reinterpret_cast<sockaddr*>(&mine);
  socklen_t* l = addr ? len : &mine_len;
  socklen_t given = 0;  // the program's buffer size, read before the kernel overwrites it
  if (c.active() && !read_safely(given, l)) given = 0;
  int r = f == FuncId::accept4 ? REAL(accept4)(fd, a, l, flags) : REAL(accept)(fd, a, l);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  if (r >= 0) {
    new_fd(r, true);
    c.u64(FieldId::new_sock, static_cast<uint64_t>(r));
    // The kernel wrote *l (the full length) and min(*l, given) bytes of the address.
    if (l) c.sockaddr(FieldId::peer, a, *l < given ? *l : given, Mem::Proven);
    note_local(c, r);
  }
  return r;
}

}  // namespace

WS_EXPORT int accept(int fd, sockaddr* addr, socklen_t* len) {
  const int r = traced_accept(FuncId::accept, fd, addr, len, 0);
  if (r >= 0) tcp_stats(r, TcpAt::Connected);
  return r;
}
WS_EXPORT int accept4(int fd, sockaddr* addr, socklen_t* len, int flags) {
  const int r = traced_accept(FuncId::accept4, fd, addr, len, flags);
  if (r >= 0) tcp_stats(r, TcpAt::Connected);
  return r;
}

WS_EXPORT int shutdown(int fd, int how) {
  tcp_stats(fd, TcpAt::Shutdown);  // what the connection went through up to here
  Call c(FuncId::shutdown);
  int r = REAL(shutdown)(fd, how);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.platform_const(FieldId::how, how);
  return r;
}

namespace {

int traced_close(int fd, int (*real_fn)(int)) {
  if (!is_socket(fd) || !enabled()) {
    forget_fd(fd);
    return real_fn(fd);
  }
  tcp_stats(fd, TcpAt::Close);  // the connection's final figures, while it still has them
  Call c(FuncId::close);
  forget_fd(fd);
  int r = real_fn(fd);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  return r;
}

int close_syscall(int fd) { return static_cast<int>(REAL(syscall)(SYS_close, fd)); }

}  // namespace

WS_EXPORT int close(int fd) { return traced_close(fd, REAL(close)); }

int ws::agent::close_by_number(int fd) { return traced_close(fd, close_syscall); }

// close_range() and closefrom() close many numbers at once: none of them is a socket after.
// (Their sockets' closes are not recorded one by one: the tracker ends them with the process
// or when their number comes back.)
WS_EXPORT int close_range(unsigned first, unsigned last, int flags) {
  int r = REAL(close_range)(first, last, flags);
  constexpr int kCloseRangeCloexec = 4;  // CLOSE_RANGE_CLOEXEC: only marks them
  if (r == 0 && !(flags & kCloseRangeCloexec))
    for (unsigned fd = first; fd <= last && fd < (1u << 16); ++fd) forget_fd(static_cast<int>(fd));
  return r;
}

WS_EXPORT void closefrom(int first) {
  REAL(closefrom)(first);
  for (int fd = first < 0 ? 0 : first; fd < (1 << 16); ++fd) forget_fd(fd);
}

namespace {

int traced_dup(FuncId f, int oldfd, int result_of_real, Call& c) {
  c.done_errno(result_of_real);
  c.u64(FieldId::sock, static_cast<uint64_t>(oldfd));
  if (result_of_real >= 0) {
    mark_socket(result_of_real);
    c.u64(FieldId::new_sock, static_cast<uint64_t>(result_of_real));
  }
  (void)f;
  return result_of_real;
}

}  // namespace

WS_EXPORT int dup(int oldfd) {
  if (!is_socket(oldfd)) return REAL(dup)(oldfd);
  Call c(FuncId::dup);
  return traced_dup(FuncId::dup, oldfd, REAL(dup)(oldfd), c);
}

WS_EXPORT int dup2(int oldfd, int newfd) {
  if (!is_socket(oldfd)) {
    int r = REAL(dup2)(oldfd, newfd);
    if (r >= 0) forget_fd(newfd);
    return r;
  }
  Call c(FuncId::dup2);
  return traced_dup(FuncId::dup2, oldfd, REAL(dup2)(oldfd, newfd), c);
}

WS_EXPORT int dup3(int oldfd, int newfd, int flags) {
  if (!is_socket(oldfd)) {
    int r = REAL(dup3)(oldfd, newfd, flags);
    if (r >= 0) forget_fd(newfd);
    return r;
  }
  Call c(FuncId::dup3);
  return traced_dup(FuncId::dup3, oldfd, REAL(dup3)(oldfd, newfd, flags), c);
}

namespace {

// fcntl's third argument is an int or a pointer; both travel in one register on x86-64 and
// aarch64, so passing it on as a long is exact.
int traced_fcntl(int (*real_fn)(int, int, ...), int fd, int cmd, long arg) {
  if (!is_socket(fd)) return real_fn(fd, cmd, arg);
  if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
    Call c(FuncId::fcntl_dupfd);
    return traced_dup(FuncId::fcntl_dupfd, fd, real_fn(fd, cmd, arg), c);
  }
  if (cmd != F_SETFL && cmd != F_GETFL) return real_fn(fd, cmd, arg);
  Call c(FuncId::fcntl);
  int r = real_fn(fd, cmd, arg);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.platform_const(FieldId::request, cmd);
  if (cmd == F_SETFL) c.u64(FieldId::arg, static_cast<uint64_t>(arg));
  return r;
}

}  // namespace

WS_EXPORT int fcntl(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  return traced_fcntl(REAL(fcntl), fd, cmd, arg);
}

WS_EXPORT int fcntl64(int fd, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  long arg = va_arg(ap, long);
  va_end(ap);
  return traced_fcntl(REAL(fcntl64), fd, cmd, arg);
}

WS_EXPORT int ioctl(int fd, unsigned long request, ...) {
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  if (!is_socket(fd)) return REAL(ioctl)(fd, request, arg);
  Call c(FuncId::ioctl);
  int r = REAL(ioctl)(fd, request, arg);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.platform_const(FieldId::request, static_cast<int64_t>(request));
  // FIONBIO, FIONREAD, SIOCOUTQ … take or give an int (read safely: a failed call's may not be
  // readable).
  int v = 0;
  if ((request == FIONBIO || (r == 0 && (request == FIONREAD || request == TIOCOUTQ))) &&
      read_safely(v, arg))
    c.u64(FieldId::arg, static_cast<uint64_t>(v));
  return r;
}

namespace {

// The option value is read safely: the kernel may not have read it (every option is not an int,
// a failed call may have been refused it).
void sockopt_args(Call& c, int fd, int level, int name, const void* val, socklen_t len) {
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.sockopt(level, name);
  int v = 0;
  if (len == sizeof(int) && read_safely(v, val)) c.i64(FieldId::optval, v);
  c.u64(FieldId::optlen, len);
}

}  // namespace

WS_EXPORT int setsockopt(int fd, int level, int name, const void* val, socklen_t len) {
  Call c(FuncId::setsockopt);
  int r = REAL(setsockopt)(fd, level, name, val, len);
  c.done_errno(r);
  sockopt_args(c, fd, level, name, val, len);
  return r;
}

WS_EXPORT int getsockopt(int fd, int level, int name, void* val, socklen_t* len) {
  Call c(FuncId::getsockopt);
  int r = REAL(getsockopt)(fd, level, name, val, len);
  c.done_errno(r);
  socklen_t got = 0;  // what the kernel left in *len
  if (!read_safely(got, len)) got = 0;
  sockopt_args(c, fd, level, name, r == 0 ? val : nullptr, got);
  return r;
}

namespace {

// getsockname/getpeername: the buffer size is read before the kernel overwrites it; on success
// the kernel wrote min(*len, given) bytes of the address.
int traced_sockname(Call& c, int (*real_fn)(int, sockaddr*, socklen_t*), int fd, sockaddr* addr,
                    socklen_t* len) {
  socklen_t given = 0;
  if (c.active() && !read_safely(given, len)) given = 0;
  int r = real_fn(fd, addr, len);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  if (r == 0 && len) c.sockaddr(FieldId::addr, addr, *len < given ? *len : given, Mem::Proven);
  return r;
}

}  // namespace

WS_EXPORT int getsockname(int fd, sockaddr* addr, socklen_t* len) {
  Call c(FuncId::getsockname);
  return traced_sockname(c, REAL(getsockname), fd, addr, len);
}

WS_EXPORT int getpeername(int fd, sockaddr* addr, socklen_t* len) {
  Call c(FuncId::getpeername);
  return traced_sockname(c, REAL(getpeername), fd, addr, len);
}
