// Hooks for waiting: poll, ppoll, select, epoll_wait/epoll_pwait/epoll_pwait2, and epoll_ctl,
// which says what the epoll waits watch. A wait is recorded when it involves a socket
// (poll/select), or always (the epoll waits: their interest list is made of the epoll_ctl calls
// before them, recorded when their descriptor is a socket). An epoll wait lists the sockets it
// returned ready, found from each event's data word through the epoll_ctl calls seen (EpollMap).
#include <poll.h>
#include <sched.h>
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

// What the epoll_ctl calls seen registered: (epfd, data word) -> the socket and the events asked
// for, and (epfd, fd) -> the data word, to undo a registration changed or removed. A data word
// registered for any other descriptor removes the mapping of that word (it is never attributed
// to a socket). Open addressing with linear probing and backward-shift removal, under a tiny
// lock that is never waited for by the thread holding it (a signal handler's call) nor forever
// (a child forked while another thread held it): an update that cannot be made empties the table
// at the next chance (a ready socket is then not listed, never listed wrongly).
class EpollMap {
 public:
  static constexpr size_t kSlots = 2048;  // each of the two tables (a power of two)

  void ctl(int epfd, int op, int fd, bool socket, uint32_t events, uint64_t data) {
    Hold h(*this);
    if (!h.held) {
      stale_.store(true, std::memory_order_relaxed);
      return;
    }
    update(epfd, op, fd, socket, events, data);
    any_.store(by_data_.used != 0, std::memory_order_relaxed);
  }

  // Whether some socket may be registered (a wait of a program without any reads nothing).
  bool any() const { return any_.load(std::memory_order_relaxed); }

  // The sockets of `n` returned events (n <= kMaxPolled).
  void ready(PollCapture& pc, int epfd, const epoll_event* ev, size_t n) {
    Hold h(*this);
    if (!h.held) return;
    for (size_t i = 0; i < n && pc.n < kMaxPolled; ++i) {
      Target t;
      if (!by_data_.find(key(epfd, ev[i].data.u64), t)) continue;
      pc.entries[pc.n++] = RawPoll{t.fd, t.events, ev[i].events};
    }
  }

  // A registration whose event could not be read (safe reads refused): nothing is trusted.
  void forget_all() { stale_.store(true, std::memory_order_relaxed); }

  // In a forked child: the lock may be held by a thread that is not there.
  void after_fork() {
    lock_.store(0, std::memory_order_relaxed);
    stale_.store(true, std::memory_order_relaxed);
  }

 private:
  void update(int epfd, int op, int fd, bool socket, uint32_t events, uint64_t data) {
    uint64_t old;
    if (by_fd_.find(key(epfd, static_cast<uint64_t>(fd)), old)) {
      Target t;
      if (by_data_.find(key(epfd, old), t) && t.fd == fd) by_data_.erase(key(epfd, old));
      by_fd_.erase(key(epfd, static_cast<uint64_t>(fd)));
    }
    if (op == EPOLL_CTL_DEL) return;
    if (!socket) {
      by_data_.erase(key(epfd, data));
      return;
    }
    // (a full table: the previous mapping of the word is gone, the new one not kept)
    // (the events asked for, without the input flags: EPOLLET, EPOLLONESHOT, EPOLLWAKEUP,
    // EPOLLEXCLUSIVE are not events)
    const uint32_t asked = events & ~(EPOLLET | EPOLLONESHOT | EPOLLWAKEUP | EPOLLEXCLUSIVE);
    if (!by_data_.put(key(epfd, data), Target{fd, asked}) ||
        !by_fd_.put(key(epfd, static_cast<uint64_t>(fd)), data))
      by_data_.erase(key(epfd, data));
  }

  struct Key {
    int32_t epfd;
    uint64_t v;  // data word or fd
    bool operator==(const Key& o) const { return epfd == o.epfd && v == o.v; }
  };
  static Key key(int epfd, uint64_t v) { return Key{epfd, v}; }
  struct Target {
    int32_t fd;
    uint32_t events;
  };

  template <typename V>
  struct Table {
    struct Slot {
      Key k;
      V v;
      bool used;
    };
    Slot slots[kSlots] = {};
    size_t used = 0;

    static size_t home(const Key& k) {
      uint64_t h = (k.v ^ (static_cast<uint64_t>(static_cast<uint32_t>(k.epfd)) << 32)) *
                   0x9e3779b97f4a7c15ull;
      return static_cast<size_t>(h >> 40) & (kSlots - 1);
    }
    bool find(const Key& k, V& out) const {
      for (size_t i = home(k);; i = (i + 1) & (kSlots - 1)) {
        if (!slots[i].used) return false;
        if (slots[i].k == k) {
          out = slots[i].v;
          return true;
        }
      }
    }
    bool put(const Key& k, const V& v) {
      for (size_t i = home(k);; i = (i + 1) & (kSlots - 1)) {
        if (slots[i].used && !(slots[i].k == k)) continue;
        if (!slots[i].used) {
          if (used + 1 >= kSlots * 3 / 4) return false;
          ++used;
        }
        slots[i] = Slot{k, v, true};
        return true;
      }
    }
    void erase(const Key& k) {
      size_t i = home(k);
      for (;; i = (i + 1) & (kSlots - 1)) {
        if (!slots[i].used) return;
        if (slots[i].k == k) break;
      }
      // Backward shift: an entry after the hole moves into it when its home is not between.
      for (size_t j = (i + 1) & (kSlots - 1); slots[j].used; j = (j + 1) & (kSlots - 1)) {
        const size_t h = home(slots[j].k);
        if (((j - h) & (kSlots - 1)) >= ((j - i) & (kSlots - 1))) {
          slots[i] = slots[j];
          i = j;
        }
      }
      slots[i].used = false;
      --used;
    }
    void clear() {
      for (Slot& s : slots) s.used = false;
      used = 0;
    }
  };

  // The lock, held for a scope: not taken by a thread already in it, nor after a while.
  struct Hold {
    EpollMap& m;
    bool held = false;
    explicit Hold(EpollMap& map) : m(map) {
      if (t_inside) return;
      for (int tries = 0; tries < 100000; ++tries) {
        if (m.lock_.exchange(1, std::memory_order_acquire) == 0) {
          held = true;
          break;
        }
        if (tries > 100) sched_yield();
      }
      if (!held) return;
      t_inside = true;
      if (m.stale_.exchange(false, std::memory_order_relaxed)) {
        m.by_data_.clear();
        m.by_fd_.clear();
      }
    }
    ~Hold() {
      if (!held) return;
      t_inside = false;
      m.lock_.store(0, std::memory_order_release);
    }
  };
  static thread_local bool t_inside __attribute__((tls_model("initial-exec")));

  std::atomic<int> lock_{0};
  std::atomic<bool> stale_{false};
  std::atomic<bool> any_{false};
  Table<Target> by_data_;
  Table<uint64_t> by_fd_;
};

thread_local bool EpollMap::t_inside __attribute__((tls_model("initial-exec"))) = false;

constinit EpollMap g_epoll_map;  // (zero at load: no constructor runs)

// An epoll wait: the epoll descriptor, the room for events, the timeout (-1: none), and the
// sockets among the first kMaxPolled of the `r` events returned, as the kernel engine lists them
// (wstrace_epoll.bpf.h). The events are read directly: the kernel has just written those `r`
// (as a successful poll's array, capture_pollfds).
void epoll_args(Call& c, int epfd, const epoll_event* events, int maxevents, int r,
                int64_t timeout_ns) {
  c.u64(FieldId::sock, static_cast<uint64_t>(epfd));
  c.u64(FieldId::count, static_cast<uint64_t>(maxevents));
  if (timeout_ns >= 0) c.u64(FieldId::timeout, static_cast<uint64_t>(timeout_ns));
  if (r <= 0 || !c.active()) return;
  PollCapture pc;
  if (!g_epoll_map.any()) {
    c.blob(FieldId::fds, kRawPollList, pc.entries, 0);
    return;
  }
  const size_t n = static_cast<size_t>(r) < kMaxPolled ? static_cast<size_t>(r) : kMaxPolled;
  g_epoll_map.ready(pc, epfd, events, n);
  c.blob(FieldId::fds, kRawPollList, pc.entries, pc.n * sizeof(RawPoll));
}

int64_t ms_ns(int timeout) { return timeout < 0 ? -1 : int64_t{timeout} * 1'000'000; }

}  // namespace

WS_EXPORT int epoll_wait(int epfd, epoll_event* events, int maxevents, int timeout) {
  Call c(FuncId::epoll_wait);
  int r = REAL(epoll_wait)(epfd, events, maxevents, timeout);
  c.done_errno(r);
  epoll_args(c, epfd, events, maxevents, r, ms_ns(timeout));
  return r;
}

WS_EXPORT int epoll_pwait(int epfd, epoll_event* events, int maxevents, int timeout,
                          const sigset_t* mask) {
  Call c(FuncId::epoll_pwait);
  int r = REAL(epoll_pwait)(epfd, events, maxevents, timeout, mask);
  c.done_errno(r);
  epoll_args(c, epfd, events, maxevents, r, ms_ns(timeout));
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
  epoll_args(c, epfd, events, maxevents, r, timed ? timespec_ns(&t) : -1);
  return r;
}

WS_EXPORT int epoll_ctl(int epfd, int op, int fd, epoll_event* event) {
  if (!enabled()) return REAL(epoll_ctl)(epfd, op, fd, event);
  if (!is_socket(fd)) {  // not recorded, but its data word is no socket's any more
    int r = REAL(epoll_ctl)(epfd, op, fd, event);
    // (the kernel has just read the event of a successful ADD/MOD: it is read directly, with
    // no system call, as poll's array after a successful poll)
    if (r == 0) {
      const epoll_event ev = op == EPOLL_CTL_DEL ? epoll_event{} : *event;
      g_epoll_map.ctl(epfd, op, fd, false, ev.events, ev.data.u64);
    }
    return r;
  }
  // The event is read before the call, safely (the kernel answers EFAULT for one it cannot
  // read, and a removal may give none): nothing is recorded of one that is not there.
  epoll_event ev{};
  const bool given = event && op != EPOLL_CTL_DEL && read_safely(ev, event);
  Call c(FuncId::epoll_ctl);
  int r = REAL(epoll_ctl)(epfd, op, fd, event);
  if (r == 0) {
    // (a registration made without its data word seen: the table is emptied)
    if (op != EPOLL_CTL_DEL && !given) g_epoll_map.forget_all();
    else g_epoll_map.ctl(epfd, op, fd, true, ev.events, ev.data.u64);
  }
  c.done_errno(r);
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.u64(FieldId::epfd, static_cast<uint64_t>(epfd));
  c.platform_const(FieldId::epoll_op, op);
  if (given) {
    c.platform_const(FieldId::events, ev.events);
    c.u64(FieldId::data, ev.data.u64);
  }
  return r;
}

void ws::agent::epoll_map_after_fork() { g_epoll_map.after_fork(); }
