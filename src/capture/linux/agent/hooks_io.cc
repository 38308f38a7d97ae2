// Hooks for data: send and receive in all their forms, and read/write/readv/writev on sockets.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

using namespace ws;
using namespace ws::agent;

#define REAL(name) real(#name, real_##name)
#define DECLARE_REAL(name, ret, ...) static ret (*real_##name)(__VA_ARGS__) = nullptr

namespace {

void io_args(Call& c, int fd, size_t len, int flags, bool with_flags) {
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.u64(FieldId::len, len);
  if (with_flags && flags) c.platform_const(FieldId::flags, flags);
}

size_t iov_total(const iovec* iov, size_t n) {
  size_t t = 0;
  for (size_t i = 0; i < n; ++i) t += iov[i].iov_len;
  return t;
}

}  // namespace

DECLARE_REAL(send, ssize_t, int, const void*, size_t, int);
WS_EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
  Call c(FuncId::send);
  ssize_t r = REAL(send)(fd, buf, len, flags);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  c.payload(buf, r);
  return r;
}

DECLARE_REAL(sendto, ssize_t, int, const void*, size_t, int, const sockaddr*, socklen_t);
WS_EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                         socklen_t tolen) {
  Call c(FuncId::sendto);
  ssize_t r = REAL(sendto)(fd, buf, len, flags, to, tolen);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  c.sockaddr(FieldId::addr, to, tolen);
  c.payload(buf, r);
  return r;
}

DECLARE_REAL(sendmsg, ssize_t, int, const msghdr*, int);
WS_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  Call c(FuncId::sendmsg);
  ssize_t r = REAL(sendmsg)(fd, msg, flags);
  c.done_errno(r);
  io_args(c, fd, msg ? iov_total(msg->msg_iov, msg->msg_iovlen) : 0, flags, true);
  if (msg) {
    c.u64(FieldId::count, msg->msg_iovlen);
    c.sockaddr(FieldId::addr, static_cast<const sockaddr*>(msg->msg_name), msg->msg_namelen);
    payload_iov(c, msg->msg_iov, msg->msg_iovlen, r);
  }
  return r;
}

// sendmmsg/recvmmsg: the result counts messages; the payload and address are the first
// message's, `len` the first message's bytes.
DECLARE_REAL(sendmmsg, int, int, mmsghdr*, unsigned, int);
WS_EXPORT int sendmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags) {
  Call c(FuncId::sendmmsg);
  int r = REAL(sendmmsg)(fd, vec, vlen, flags);
  c.done_errno(r);
  io_args(c, fd, vec && vlen ? iov_total(vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen) : 0,
          flags, true);
  c.u64(FieldId::count, vlen);
  if (r > 0) {
    c.sockaddr(FieldId::addr, static_cast<const sockaddr*>(vec[0].msg_hdr.msg_name),
               vec[0].msg_hdr.msg_namelen);
    payload_iov(c, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen, vec[0].msg_len);
  }
  return r;
}

DECLARE_REAL(write, ssize_t, int, const void*, size_t);
WS_EXPORT ssize_t write(int fd, const void* buf, size_t len) {
  if (!is_socket(fd)) return REAL(write)(fd, buf, len);
  Call c(FuncId::write);
  ssize_t r = REAL(write)(fd, buf, len);
  c.done_errno(r);
  io_args(c, fd, len, 0, false);
  c.payload(buf, r);
  return r;
}

DECLARE_REAL(writev, ssize_t, int, const iovec*, int);
WS_EXPORT ssize_t writev(int fd, const iovec* iov, int n) {
  if (!is_socket(fd)) return REAL(writev)(fd, iov, n);
  Call c(FuncId::writev);
  ssize_t r = REAL(writev)(fd, iov, n);
  c.done_errno(r);
  io_args(c, fd, n > 0 ? iov_total(iov, static_cast<size_t>(n)) : 0, 0, false);
  c.u64(FieldId::count, static_cast<uint64_t>(n));
  if (n > 0) payload_iov(c, iov, static_cast<size_t>(n), r);
  return r;
}

namespace {

ssize_t traced_recv(FuncId f, ssize_t (*real_fn)(int, void*, size_t, int), int fd, void* buf,
                    size_t len, int flags) {
  Call c(f);
  ssize_t r = real_fn(fd, buf, len, flags);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  c.payload(buf, r);
  return r;
}

// recvfrom: when the program passes no address buffer, wstrace passes its own so that a
// datagram's sender is known (the kernel fills it; nothing else about the call changes).
ssize_t traced_recvfrom(ssize_t (*real_fn)(int, void*, size_t, int, sockaddr*, socklen_t*),
                        int fd, void* buf, size_t len, int flags, sockaddr* from,
                        socklen_t* fromlen) {
  sockaddr_storage mine;  // (outlives c)
  Call c(FuncId::recvfrom);
  socklen_t mine_len = sizeof mine;
  sockaddr* a = from ? from : reinterpret_cast<sockaddr*>(&mine);
  socklen_t* l = from ? fromlen : &mine_len;
  socklen_t given = l ? *l : 0;
  ssize_t r = real_fn(fd, buf, len, flags, a, l);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  if (r >= 0 && l && *l > 0) c.sockaddr(FieldId::peer, a, *l < given ? *l : given);
  c.payload(buf, r);
  return r;
}

}  // namespace

DECLARE_REAL(recv, ssize_t, int, void*, size_t, int);
WS_EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return traced_recv(FuncId::recv, REAL(recv), fd, buf, len, flags);
}

// Programs built with _FORTIFY_SOURCE call the checking variants.
DECLARE_REAL(__recv_chk, ssize_t, int, void*, size_t, size_t, int);
WS_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) return REAL(__recv_chk)(fd, buf, len, buflen, flags);  // let libc abort
  return traced_recv(FuncId::recv, REAL(recv), fd, buf, len, flags);
}

DECLARE_REAL(recvfrom, ssize_t, int, void*, size_t, int, sockaddr*, socklen_t*);
WS_EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                           socklen_t* fromlen) {
  return traced_recvfrom(REAL(recvfrom), fd, buf, len, flags, from, fromlen);
}

DECLARE_REAL(__recvfrom_chk, ssize_t, int, void*, size_t, size_t, int, sockaddr*, socklen_t*);
WS_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                                 sockaddr* from, socklen_t* fromlen) {
  if (len > buflen) return REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, from, fromlen);
  return traced_recvfrom(REAL(recvfrom), fd, buf, len, flags, from, fromlen);
}

DECLARE_REAL(recvmsg, ssize_t, int, msghdr*, int);
WS_EXPORT ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  // Without an address buffer, wstrace lends one for the call so that a datagram's sender is
  // known, and puts the program's msghdr back as it was.
  sockaddr_storage mine;  // (outlives c)
  Call c(FuncId::recvmsg);
  const bool lend = c.active() && msg && !msg->msg_name;
  if (lend) {
    msg->msg_name = &mine;
    msg->msg_namelen = sizeof mine;
  }
  // The kernel writes back the address's whole length, which may exceed the buffer given (a
  // Unix path of 108 bytes is 111): only what the buffer holds is read.
  const socklen_t given = msg ? msg->msg_namelen : 0;
  ssize_t r = REAL(recvmsg)(fd, msg, flags);
  c.done_errno(r);
  socklen_t lent_len = lend ? msg->msg_namelen : 0;
  if (lend) {
    msg->msg_name = nullptr;
    msg->msg_namelen = 0;
  }
  if (lend && r >= 0 && lent_len > 0)
    c.sockaddr(FieldId::peer, &mine, lent_len < given ? lent_len : given);
  // Descriptors passed with SCM_RIGHTS take numbers that may have been something else.
  if (r >= 0 && msg && msg->msg_control)
    for (cmsghdr* cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm))
      if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
        const int* fds = reinterpret_cast<const int*>(CMSG_DATA(cm));
        size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (size_t i = 0; i < n; ++i) forget_fd(fds[i]);
      }
  io_args(c, fd, msg ? iov_total(msg->msg_iov, msg->msg_iovlen) : 0, flags, true);
  if (msg) {
    c.u64(FieldId::count, msg->msg_iovlen);
    if (r >= 0 && msg->msg_name)
      c.sockaddr(FieldId::peer, static_cast<const sockaddr*>(msg->msg_name),
                 msg->msg_namelen < given ? msg->msg_namelen : given);
    payload_iov(c, msg->msg_iov, msg->msg_iovlen, r);
  }
  return r;
}

DECLARE_REAL(recvmmsg, int, int, mmsghdr*, unsigned, int, struct timespec*);
WS_EXPORT int recvmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags, struct timespec* tmo) {
  Call c(FuncId::recvmmsg);
  const socklen_t given = vec && vlen ? vec[0].msg_hdr.msg_namelen : 0;  // as in recvmsg
  int r = REAL(recvmmsg)(fd, vec, vlen, flags, tmo);
  c.done_errno(r);
  io_args(c, fd, vec && vlen ? iov_total(vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen) : 0,
          flags, true);
  c.u64(FieldId::count, vlen);
  if (r > 0) {
    c.sockaddr(FieldId::peer, static_cast<const sockaddr*>(vec[0].msg_hdr.msg_name),
               vec[0].msg_hdr.msg_namelen < given ? vec[0].msg_hdr.msg_namelen : given);
    payload_iov(c, vec[0].msg_hdr.msg_iov, vec[0].msg_hdr.msg_iovlen, vec[0].msg_len);
  }
  return r;
}

DECLARE_REAL(read, ssize_t, int, void*, size_t);
WS_EXPORT ssize_t read(int fd, void* buf, size_t len) {
  if (!is_socket(fd)) return REAL(read)(fd, buf, len);
  Call c(FuncId::read);
  ssize_t r = REAL(read)(fd, buf, len);
  c.done_errno(r);
  io_args(c, fd, len, 0, false);
  c.payload(buf, r);
  return r;
}

DECLARE_REAL(__read_chk, ssize_t, int, void*, size_t, size_t);
WS_EXPORT ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  if (len > buflen || !is_socket(fd)) return REAL(__read_chk)(fd, buf, len, buflen);
  return read(fd, buf, len);
}

DECLARE_REAL(readv, ssize_t, int, const iovec*, int);
WS_EXPORT ssize_t readv(int fd, const iovec* iov, int n) {
  if (!is_socket(fd)) return REAL(readv)(fd, iov, n);
  Call c(FuncId::readv);
  ssize_t r = REAL(readv)(fd, iov, n);
  c.done_errno(r);
  io_args(c, fd, n > 0 ? iov_total(iov, static_cast<size_t>(n)) : 0, 0, false);
  c.u64(FieldId::count, static_cast<uint64_t>(n));
  if (n > 0) payload_iov(c, iov, static_cast<size_t>(n), r);
  return r;
}
