// Hooks for waiting: poll, ppoll, select, epoll_wait/epoll_pwait/epoll_pwait2, and epoll_ctl,
// which says what the epoll waits watch. A wait is recorded when it involves a socket
// (poll/select), or always (the epoll waits: their interest list is made of the epoll_ctl calls
// before them, recorded when their descriptor is a socket).
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>

#include "agent.h"

using namespace ws;
using namespace ws::agent;


namespace {

constexpr size_t kMaxPolled = 64;  // sockets listed per wait; the rest are counted in `len`

struct PollCapture {
  RawPoll entries[kMaxPolled];
  size_t n = 0;
  size_t sockets = 0;
};

void capture_pollfd(PollCapture& pc, const pollfd& p) {
  if (!is_socket(p.fd)) return;
  ++pc.sockets;
  if (pc.n < kMaxPolled)
    pc.entries[pc.n++] =
        RawPoll{p.fd, static_cast<uint16_t>(p.events), static_cast<uint16_t>(p.revents)};
}

// The sockets of the array: read directly when the successful call read and wrote it all,
// else safely, a piece at a time (false when unreadable: the kernel answered EFAULT).
bool capture_pollfds(PollCapture& pc, const pollfd* fds, nfds_t nfds, bool proven) {
  if (proven) {
    for (nfds_t i = 0; i < nfds; ++i) capture_pollfd(pc, fds[i]);
    return true;
  }
  constexpr nfds_t kPiece = 64;  // (on the stack: 512 bytes)
  pollfd piece[kPiece];
  for (nfds_t i = 0; i < nfds; i += kPiece) {
    const nfds_t k = nfds - i < kPiece ? nfds - i : kPiece;
    if (safe_read(piece, fds + i, k * sizeof(pollfd)) != k * sizeof(pollfd)) return false;
    for (nfds_t j = 0; j < k; ++j) capture_pollfd(pc, piece[j]);
  }
  return true;
}

int64_t timespec_ns(const struct timespec* t) {
  return static_cast<int64_t>(t->tv_sec) * 1'000'000'000 + t->tv_nsec;
}

int traced_poll(FuncId f, pollfd* fds, nfds_t nfds, int64_t timeout_ns,
                int (*call)(pollfd*, nfds_t, const void*), const void* ctx) {
  if (!enabled() || !nfds) return call(fds, nfds, ctx);
  // The array is looked at only after the call: before it, it may be unreadable.
  Call c(f);
  int r = call(fds, nfds, ctx);
  c.done_errno(r);
  PollCapture pc;
  const bool readable = capture_pollfds(pc, fds, nfds, r >= 0);
  if (readable && !pc.sockets) {  // no socket among them: not a call wstrace traces
    c.cancel();
    return r;
  }
  c.blob(FieldId::fds, kRawPollList, pc.entries, pc.n * sizeof(RawPoll));
  if (pc.sockets > pc.n) c.u64(FieldId::count, pc.sockets);
  if (timeout_ns >= 0) c.u64(FieldId::timeout, static_cast<uint64_t>(timeout_ns));
  return r;
}

// Copies the first `nfds` descriptors' bits of a set as the kernel reads them (whole longs);
// a null set is empty. False when unreadable.
bool read_set(fd_set& out, const fd_set* set, int nfds) {
  FD_ZERO(&out);
  if (!set) return true;
  constexpr size_t kLongBits = 8 * sizeof(long);
  const size_t bytes = (static_cast<size_t>(nfds) + kLongBits - 1) / kLongBits * sizeof(long);
  return safe_read(&out, set, bytes) == bytes;
}

}  // namespace

WS_EXPORT int poll(pollfd* fds, nfds_t nfds, int timeout) {
  auto call = [](pollfd* f, nfds_t n, const void* ctx) {
    return REAL(poll)(f, n, *static_cast<const int*>(ctx));
  };
  return traced_poll(FuncId::poll, fds, nfds, timeout < 0 ? -1 : int64_t{timeout} * 1'000'000,
                     call, &timeout);
}

WS_EXPORT int __poll_chk(pollfd* fds, nfds_t nfds, int timeout, size_t fdslen) {
  if (fdslen / sizeof(pollfd) < nfds) return REAL(__poll_chk)(fds, nfds, timeout, fdslen);
  return poll(fds, nfds, timeout);
}

WS_EXPORT int __ppoll_chk(pollfd* fds, nfds_t nfds, const struct timespec* tmo,
                          const sigset_t* mask, size_t fdslen) {
  if (fdslen / sizeof(pollfd) < nfds) return REAL(__ppoll_chk)(fds, nfds, tmo, mask, fdslen);
  return ppoll(fds, nfds, tmo, mask);
}

WS_EXPORT int ppoll(pollfd* fds, nfds_t nfds, const struct timespec* tmo, const sigset_t* mask) {
  struct Ctx {
    const struct timespec* tmo;
    const sigset_t* mask;
  } ctx{tmo, mask};
  // glibc itself reads the timeout before the system call, so it is read here as it is.
  auto call = [](pollfd* f, nfds_t n, const void* p) {
    auto* cx = static_cast<const Ctx*>(p);
    return REAL(ppoll)(f, n, cx->tmo, cx->mask);
  };
  return traced_poll(FuncId::ppoll, fds, nfds, tmo ? timespec_ns(tmo) : -1, call, &ctx);
}

WS_EXPORT int select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, struct timeval* tmo) {
  if (!enabled() || nfds <= 0 || nfds > FD_SETSIZE) return REAL(select)(nfds, rd, wr, ex, tmo);
  // The sets are overwritten by the call: keep what was asked. They are read safely (the kernel
  // answers EFAULT for a set it cannot read); a call with an unreadable set is recorded.
  fd_set in_rd, in_wr, in_ex;
  bool readable = read_set(in_rd, rd, nfds) && read_set(in_wr, wr, nfds) &&
                  read_set(in_ex, ex, nfds);
  fd_set ask_rd, ask_wr, ask_ex;
  FD_ZERO(&ask_rd);
  FD_ZERO(&ask_wr);
  FD_ZERO(&ask_ex);
  bool any = !readable;
  for (int fd = 0; readable && fd < nfds; ++fd) {
    bool r = FD_ISSET(fd, &in_rd), w = FD_ISSET(fd, &in_wr), e = FD_ISSET(fd, &in_ex);
    if (!(r || w || e) || !is_socket(fd)) continue;
    any = true;
    if (r) FD_SET(fd, &ask_rd);
    if (w) FD_SET(fd, &ask_wr);
    if (e) FD_SET(fd, &ask_ex);
  }
  if (!any) return REAL(select)(nfds, rd, wr, ex, tmo);
  // glibc itself reads the timeout before the system call, so it is read here as it is.
  int64_t timeout_ns = tmo ? static_cast<int64_t>(tmo->tv_sec) * 1'000'000'000 + tmo->tv_usec * 1000 : -1;
  Call c(FuncId::select);
  int r = REAL(select)(nfds, rd, wr, ex, tmo);
  c.done_errno(r);
  PollCapture pc;
  for (int fd = 0; fd < nfds; ++fd) {
    uint32_t ev = 0, rev = 0;
    if (FD_ISSET(fd, &ask_rd)) ev |= POLLIN, rev |= (r > 0 && FD_ISSET(fd, rd)) ? POLLIN : 0;
    if (FD_ISSET(fd, &ask_wr)) ev |= POLLOUT, rev |= (r > 0 && FD_ISSET(fd, wr)) ? POLLOUT : 0;
    if (FD_ISSET(fd, &ask_ex)) ev |= POLLPRI, rev |= (r > 0 && FD_ISSET(fd, ex)) ? POLLPRI : 0;
    if (!ev) continue;
    ++pc.sockets;
    if (pc.n < kMaxPolled) pc.entries[pc.n++] = RawPoll{fd, ev, rev};
  }
  c.blob(FieldId::fds, kRawPollList, pc.entries, pc.n * sizeof(RawPoll));
  if (pc.sockets > pc.n) c.u64(FieldId::count, pc.sockets);
  if (timeout_ns >= 0) c.u64(FieldId::timeout, static_cast<uint64_t>(timeout_ns));
  return r;
}

namespace {

// An epoll wait: the epoll descriptor, the room for events, the timeout (-1: none).
void epoll_args(Call& c, int epfd, int maxevents, int64_t timeout_ns) {
  c.u64(FieldId::sock, static_cast<uint64_t>(epfd));
  c.u64(FieldId::count, static_cast<uint64_t>(maxevents));
  if (timeout_ns >= 0) c.u64(FieldId::timeout, static_cast<uint64_t>(timeout_ns));
}

int64_t ms_ns(int timeout) { return timeout < 0 ? -1 : int64_t{timeout} * 1'000'000; }

}  // namespace

WS_EXPORT int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
  Call c(FuncId::epoll_wait);
  int r = REAL(epoll_wait)(epfd, events, maxevents, timeout);
  c.done_errno(r);
  epoll_args(c, epfd, maxevents, ms_ns(timeout));
  return r;
}

WS_EXPORT int epoll_pwait(int epfd, epoll_event* events, int maxevents, int timeout,
                          const sigset_t* mask) {
  Call c(FuncId::epoll_pwait);
  int r = REAL(epoll_pwait)(epfd, events, maxevents, timeout, mask);
  c.done_errno(r);
  epoll_args(c, epfd, maxevents, ms_ns(timeout));
  return r;
}

WS_EXPORT int epoll_pwait2(int epfd, epoll_event* events, int maxevents,
                           const struct timespec* tmo, const sigset_t* mask) {
  Call c(FuncId::epoll_pwait2);
  // glibc hands the timeout to the kernel as it is: read safely, before the call (the kernel
  // answers EFAULT for one it cannot read, and no timeout is recorded then).
  struct timespec t {};
  const bool timed = tmo && c.active() && read_safely(t, tmo);
  int r = REAL(epoll_pwait2)(epfd, events, maxevents, tmo, mask);
  c.done_errno(r);
  epoll_args(c, epfd, maxevents, timed ? timespec_ns(&t) : -1);
  return r;
}

WS_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  if (!enabled() || !is_socket(fd)) return REAL(epoll_ctl)(epfd, op, fd, event);
  Call c(FuncId::epoll_ctl);
  // The event is read before the call, safely (the kernel answers EFAULT for one it cannot
  // read, and a removal may give none): nothing is recorded of one that is not there.
  epoll_event ev{};
  const bool given = event && c.active() && read_safely(ev, event);
  int r = REAL(epoll_ctl)(epfd, op, fd, event);
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.u64(FieldId::epfd, static_cast<uint64_t>(epfd));
  c.platform_const(FieldId::epoll_op, op);
  if (given && op != EPOLL_CTL_DEL) {
    c.platform_const(FieldId::events, ev.events);
    c.u64(FieldId::data, ev.data.u64);
  }
  return r;
}
