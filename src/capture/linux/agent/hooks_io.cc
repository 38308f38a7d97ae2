// Hooks for data: send and receive in all their forms, and read/write/readv/writev on sockets.
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "agent.h"

using namespace ws;
using namespace ws::agent;


namespace {

void io_args(Call& c, int fd, size_t len, int flags, bool with_flags) {
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.u64(FieldId::len, len);
  if (with_flags && flags) c.platform_const(FieldId::flags, flags);
}

// What a successful call read or wrote is readable (Mem::Proven); a failed call's arguments may
// not be, and are read with safe_read.
Mem proven_if(bool ok) { return ok ? Mem::Proven : Mem::Unproven; }

// The bytes `n` iovecs ask for; 0 when the array cannot be read.
size_t iov_total(const iovec* iov, size_t n, Mem m) {
  size_t t = 0;
  if (!iov) return 0;
  if (m == Mem::Proven) {
    for (size_t i = 0; i < n; ++i) t += iov[i].iov_len;
    return t;
  }
  constexpr size_t kPiece = 32;
  iovec piece[kPiece];
  for (size_t i = 0; i < n && i < UIO_MAXIOV; i += kPiece) {
    const size_t k = n - i < kPiece ? n - i : kPiece;
    if (safe_read(piece, iov + i, k * sizeof(iovec)) != k * sizeof(iovec)) return 0;
    for (size_t j = 0; j < k; ++j) t += piece[j].iov_len;
  }
  return t;
}

// A receive's payload: with MSG_TRUNC the result is the datagram's size, which may be more than
// the kernel wrote into the `len` bytes of `buf`.
void recv_payload(Call& c, const void* buf, size_t len, ssize_t r) {
  if (r <= 0) return;
  const Part written{buf, static_cast<size_t>(r) < len ? static_cast<size_t>(r) : len};
  c.payload_parts(&written, 1, r);
}

// readv/writev: the array was read when the call succeeded.
void iov_args(Call& c, int fd, const iovec* iov, int n, ssize_t r) {
  const size_t count = n > 0 ? static_cast<size_t>(n) : 0;
  io_args(c, fd, iov_total(iov, count, proven_if(r >= 0)), 0, false);
  c.u64(FieldId::count, static_cast<uint64_t>(n));
  if (r > 0) payload_iov(c, iov, count, r);
}

// The program's msghdr as the call saw it; false when it cannot be read.
bool msghdr_of(const msghdr* msg, Mem m, msghdr& out) {
  if (!msg) return false;
  if (m == Mem::Unproven) return read_safely(out, msg);
  out = *msg;
  return true;
}

// A msghdr call's length, count, address and (when the call moved bytes) payload. `name_len` is
// how many bytes of the address the call filled or read.
void msg_args(Call& c, int fd, const msghdr& m, int flags, Mem mem, FieldId addr,
              size_t name_len, int64_t moved) {
  io_args(c, fd, iov_total(m.msg_iov, m.msg_iovlen, mem), flags, true);
  c.u64(FieldId::count, m.msg_iovlen);
  c.sockaddr(addr, m.msg_name, name_len, mem);
  if (moved > 0) payload_iov(c, m.msg_iov, m.msg_iovlen, moved);
}

}  // namespace

WS_EXPORT ssize_t send(int fd, const void* buf, size_t len, int flags) {
  TcpWatch w(fd);
  Call c(FuncId::send);
  ssize_t r = REAL(send)(fd, buf, len, flags);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  c.payload(buf, r);
  return r;
}

WS_EXPORT ssize_t sendto(int fd, const void* buf, size_t len, int flags, const sockaddr* to,
                         socklen_t tolen) {
  TcpWatch w(fd);
  Call c(FuncId::sendto);
  ssize_t r = REAL(sendto)(fd, buf, len, flags, to, tolen);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  c.sockaddr(FieldId::addr, to, tolen, proven_if(r >= 0));
  c.payload(buf, r);
  return r;
}

WS_EXPORT ssize_t sendmsg(int fd, const msghdr* msg, int flags) {
  TcpWatch w(fd);
  Call c(FuncId::sendmsg);
  ssize_t r = REAL(sendmsg)(fd, msg, flags);
  c.done_errno(r);
  msghdr m;
  if (msghdr_of(msg, proven_if(r >= 0), m))
    msg_args(c, fd, m, flags, proven_if(r >= 0), FieldId::addr, m.msg_namelen, r);
  else
    io_args(c, fd, 0, flags, true);
  return r;
}

namespace {

// sendmmsg/recvmmsg: the result counts messages. The call's own event holds the first message
// (`len` its bytes, its address and payload) and `count` the messages given; each further message
// the call moved is an event of its own (mmsg_messages). The first message was used when r > 0;
// its address length the kernel may have raised past what it filled, so the address is read
// safely. `name_cap`: the size of the first message's address buffer (the kernel writes back the
// address's whole length, which may exceed it: a 108-byte Unix path is 111).
void mmsg_args(Call& c, int fd, const mmsghdr* vec, unsigned vlen, int flags, int r, FieldId addr,
               socklen_t name_cap) {
  const Mem mem = proven_if(r > 0);
  mmsghdr first;
  bool have = vec && vlen;
  if (have && mem == Mem::Proven) first = vec[0];
  else if (have) have = read_safely(first, vec);
  if (!have) {
    io_args(c, fd, 0, flags, true);
    c.u64(FieldId::count, vlen);
    return;
  }
  const msghdr& m = first.msg_hdr;
  io_args(c, fd, iov_total(m.msg_iov, m.msg_iovlen, mem), flags, true);
  c.u64(FieldId::count, vlen);
  if (r <= 0) return;
  c.sockaddr(addr, m.msg_name, m.msg_namelen < name_cap ? m.msg_namelen : name_cap,
             Mem::Unproven);
  payload_iov(c, m.msg_iov, m.msg_iovlen, first.msg_len);
}

// The kernel moves at most UIO_MAXIOV messages in one call, so every message is recorded.
constexpr unsigned kMaxMessages = UIO_MAXIOV;

// The address room of each message (msg_namelen before a recvmmsg, which the kernel overwrites
// with the address's whole length): `caps[i]` for i < min(vlen, kMaxMessages), 0 where the
// array cannot be read.
void name_caps(const mmsghdr* vec, unsigned vlen, socklen_t* caps) {
  constexpr unsigned kPiece = 16;
  mmsghdr piece[kPiece];
  const unsigned n = vlen < kMaxMessages ? vlen : kMaxMessages;
  for (unsigned i = 0; i < n; i += kPiece) {
    const unsigned k = n - i < kPiece ? n - i : kPiece;
    const bool ok = vec && safe_read(piece, vec + i, k * sizeof(mmsghdr)) == k * sizeof(mmsghdr);
    for (unsigned j = 0; j < k; ++j) caps[i + j] = ok ? piece[j].msg_hdr.msg_namelen : 0;
  }
}

// Messages 2 … r of a successful sendmmsg/recvmmsg, each an event `f` (a send or receive of
// its own, so that every consumer counts it as the datagram it is): sock, len (its msg_len,
// also the result), its address and payload. The kernel wrote each msg_len and used each
// message's iovecs and address: the successful call proved them readable. `caps`: the address
// room of each message for a receive (nullptr for a send, whose msg_namelen the kernel read).
void mmsg_messages(FuncId f, int fd, const mmsghdr* vec, int r, FieldId addr,
                   const socklen_t* caps) {
  for (int i = 1; i < r && static_cast<unsigned>(i) < kMaxMessages; ++i) {
    const msghdr& m = vec[i].msg_hdr;
    const unsigned len = vec[i].msg_len;
    Call c(f);
    c.done(len, false);
    c.u64(FieldId::sock, static_cast<uint64_t>(fd));
    c.u64(FieldId::len, len);
    socklen_t name_len = m.msg_namelen;
    if (caps && caps[i] < name_len) name_len = caps[i];
    c.sockaddr(addr, m.msg_name, name_len, Mem::Proven);
    payload_iov(c, m.msg_iov, m.msg_iovlen, len);
  }
}

}  // namespace

WS_EXPORT int sendmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags) {
  int r;
  bool active;
  {
    TcpWatch w(fd);
    Call c(FuncId::sendmmsg);
    active = c.active();
    r = REAL(sendmmsg)(fd, vec, vlen, flags);
    c.done_errno(r);
    mmsg_args(c, fd, vec, vlen, flags, r, FieldId::addr, ~socklen_t{0});
  }  // queued before the messages after the first
  if (active) mmsg_messages(FuncId::sendmmsg_msg, fd, vec, r, FieldId::addr, nullptr);
  return r;
}

WS_EXPORT ssize_t write(int fd, const void* buf, size_t len) {
  if (!is_socket(fd)) return REAL(write)(fd, buf, len);
  TcpWatch w(fd);
  Call c(FuncId::write);
  ssize_t r = REAL(write)(fd, buf, len);
  c.done_errno(r);
  io_args(c, fd, len, 0, false);
  c.payload(buf, r);
  return r;
}

WS_EXPORT ssize_t writev(int fd, const iovec* iov, int n) {
  if (!is_socket(fd)) return REAL(writev)(fd, iov, n);
  TcpWatch w(fd);
  Call c(FuncId::writev);
  ssize_t r = REAL(writev)(fd, iov, n);
  c.done_errno(r);
  iov_args(c, fd, iov, n, r);
  return r;
}

namespace {

ssize_t traced_recv(FuncId f, ssize_t (*real_fn)(int, void*, size_t, int), int fd, void* buf,
                    size_t len, int flags) {
  TcpWatch w(fd);
  Call c(f);
  ssize_t r = real_fn(fd, buf, len, flags);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  recv_payload(c, buf, len, r);
  return r;
}

// recvfrom: when the program passes no address buffer, wstrace passes its own so that a
// datagram's sender is known (the kernel fills it; nothing else about the call changes).
ssize_t traced_recvfrom(ssize_t (*real_fn)(int, void*, size_t, int, sockaddr*, socklen_t*),
                        int fd, void* buf, size_t len, int flags, sockaddr* from,
                        socklen_t* fromlen) {
  TcpWatch w(fd);
  Call c(FuncId::recvfrom);
  sockaddr_storage mine;
  socklen_t mine_len = sizeof mine;
  sockaddr* a = from ? from : reinterpret_cast<sockaddr*>(&mine);
  socklen_t* l = from ? fromlen : &mine_len;
  socklen_t given = 0;  // the program's buffer size, read before the kernel overwrites it
  if (c.active() && !read_safely(given, l)) given = 0;
  ssize_t r = real_fn(fd, buf, len, flags, a, l);
  c.done_errno(r);
  io_args(c, fd, len, flags, true);
  // On success the kernel wrote *l (the full length) and min(*l, given) bytes of the address.
  if (r >= 0 && l && *l > 0) c.sockaddr(FieldId::peer, a, *l < given ? *l : given, Mem::Proven);
  recv_payload(c, buf, len, r);
  return r;
}

}  // namespace

WS_EXPORT ssize_t recv(int fd, void* buf, size_t len, int flags) {
  return traced_recv(FuncId::recv, REAL(recv), fd, buf, len, flags);
}

// Programs built with _FORTIFY_SOURCE call the checking variants.
WS_EXPORT ssize_t __recv_chk(int fd, void* buf, size_t len, size_t buflen, int flags) {
  if (len > buflen) return REAL(__recv_chk)(fd, buf, len, buflen, flags);  // let libc abort
  return traced_recv(FuncId::recv, REAL(recv), fd, buf, len, flags);
}

WS_EXPORT ssize_t recvfrom(int fd, void* buf, size_t len, int flags, sockaddr* from,
                           socklen_t* fromlen) {
  return traced_recvfrom(REAL(recvfrom), fd, buf, len, flags, from, fromlen);
}

WS_EXPORT ssize_t __recvfrom_chk(int fd, void* buf, size_t len, size_t buflen, int flags,
                                 sockaddr* from, socklen_t* fromlen) {
  if (len > buflen) return REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, from, fromlen);
  return traced_recvfrom(REAL(recvfrom), fd, buf, len, flags, from, fromlen);
}

namespace {

// After a lent recvmsg: the fields the kernel writes back (flags, control length) go to the
// program's msghdr, as the kernel would write them; false where it would have failed (EFAULT).
bool write_back(msghdr* msg, const msghdr& lent) {
  static_assert(offsetof(msghdr, msg_flags) ==
                offsetof(msghdr, msg_controllen) + sizeof lent.msg_controllen);
  const auto* from = reinterpret_cast<const char*>(&lent) + offsetof(msghdr, msg_controllen);
  auto* to = reinterpret_cast<char*>(msg) + offsetof(msghdr, msg_controllen);
  return safe_write(to, from, sizeof lent.msg_controllen + sizeof lent.msg_flags);
}

// Descriptors passed with SCM_RIGHTS take numbers that may have been something else.
void forget_passed_fds(msghdr& m) {
  if (!m.msg_control) return;
  for (cmsghdr* cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm))
    if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
      const int* fds = reinterpret_cast<const int*>(CMSG_DATA(cm));
      size_t n = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
      for (size_t i = 0; i < n; ++i) forget_fd(fds[i]);
    }
}

}  // namespace

WS_EXPORT ssize_t recvmsg(int fd, msghdr* msg, int flags) {
  TcpWatch w(fd);
  Call c(FuncId::recvmsg);
  sockaddr_storage mine;  // lent to the kernel when the program passes no address buffer
  msghdr asked;
  if (!c.active() || !read_safely(asked, msg)) {  // the kernel answers EFAULT: nothing to lend
    ssize_t r = REAL(recvmsg)(fd, msg, flags);
    c.done_errno(r);
    io_args(c, fd, 0, flags, true);
    return r;
  }
  // Without an address buffer, wstrace passes the kernel a copy of the msghdr with one of its
  // own, so that a datagram's sender is known; the program's msghdr is written only where the
  // kernel would write it (msg_namelen stays as it was).
  msghdr lent = asked;
  const bool lend = !asked.msg_name;
  if (lend) {
    lent.msg_name = &mine;
    lent.msg_namelen = sizeof mine;
  }
  ssize_t r = REAL(recvmsg)(fd, lend ? &lent : msg, flags);
  if (lend && r >= 0 && !write_back(msg, lent)) {
    r = -1;  // the kernel would have failed writing to the program's msghdr
    errno = EFAULT;
  }
  c.done_errno(r);
  msghdr got = asked;
  if (r >= 0) got = lend ? lent : *msg;
  if (r >= 0) forget_passed_fds(got);
  socklen_t name_len = got.msg_namelen;  // the kernel filled at most what it was given
  if (!lend && asked.msg_namelen < name_len) name_len = asked.msg_namelen;
  msg_args(c, fd, got, flags, proven_if(r >= 0), FieldId::peer, r >= 0 ? name_len : 0, r);
  return r;
}

WS_EXPORT int recvmmsg(int fd, mmsghdr* vec, unsigned vlen, int flags, struct timespec* tmo) {
  socklen_t caps[kMaxMessages];
  int r;
  bool active;
  {
    TcpWatch w(fd);
    Call c(FuncId::recvmmsg);
    active = c.active();
    if (active) name_caps(vec, vlen, caps);
    r = REAL(recvmmsg)(fd, vec, vlen, flags, tmo);
    c.done_errno(r);
    mmsg_args(c, fd, vec, vlen, flags, r, FieldId::peer, active && vlen ? caps[0] : 0);
  }  // queued before the messages after the first
  if (active) mmsg_messages(FuncId::recvmmsg_msg, fd, vec, r, FieldId::peer, caps);
  return r;
}

WS_EXPORT ssize_t read(int fd, void* buf, size_t len) {
  if (!is_socket(fd)) return REAL(read)(fd, buf, len);
  TcpWatch w(fd);
  Call c(FuncId::read);
  ssize_t r = REAL(read)(fd, buf, len);
  c.done_errno(r);
  io_args(c, fd, len, 0, false);
  c.payload(buf, r);
  return r;
}

WS_EXPORT ssize_t __read_chk(int fd, void* buf, size_t len, size_t buflen) {
  if (len > buflen || !is_socket(fd)) return REAL(__read_chk)(fd, buf, len, buflen);
  return read(fd, buf, len);
}

WS_EXPORT ssize_t readv(int fd, const iovec* iov, int n) {
  if (!is_socket(fd)) return REAL(readv)(fd, iov, n);
  TcpWatch w(fd);
  Call c(FuncId::readv);
  ssize_t r = REAL(readv)(fd, iov, n);
  c.done_errno(r);
  iov_args(c, fd, iov, n, r);
  return r;
}
