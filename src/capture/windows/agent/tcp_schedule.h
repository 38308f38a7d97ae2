// When the Windows agent reads a connection's TCP statistics (SIO_TCP_INFO): once it is set up
// (connect, accept, a ConnectEx or AcceptEx completion the program is handed), at a send or
// receive at most every `tcp_info_ms`, and before shutdown and close — and only on sockets that
// are TCP streams, and not at all once the system refused the ioctl (Wine 8 and Windows before
// 10 1703 have none). The decisions only: the platform's side (asking what a socket is, the
// ioctl, the clock) is the `Env` each call is given, so that the rules run in the unit tests on
// any system (tests/unit/tcp_schedule_test.cc).
//
// Per socket, one fixed open-addressed table of (handle, state): no allocation, no lock; a state
// changes by compare-and-swap, so that two threads at the same socket read it once.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace ws::agent {

// FieldId::tcp_at: when a reading was made.
enum class TcpAt : uint8_t { Connected = 1, Interval = 2, Shutdown = 3, Close = 4 };

// What one SIO_TCP_INFO reading did.
enum class TcpRead : uint8_t {
  Recorded,     // a tcp_info event was recorded
  NotYet,       // the connection is not set up yet (SYN sent): nothing recorded
  Failed,       // this socket's ioctl failed (reset, closed …): nothing recorded
  Unsupported,  // the system has no SIO_TCP_INFO: never asked again in this process
};

// What the agent knows of a socket: made as a TCP stream (AF_INET/AF_INET6, SOCK_STREAM, TCP),
// anything else, or not known (asked of the system once, the first time it matters).
enum class TcpKind : uint8_t { Unknown, NotTcp, Tcp };

// `Env` provides: uint32_t interval() — RegionHeader::tcp_info_ms (0: never, kEnds: only when
// set up and before the end); uint32_t now() — a millisecond clock; TcpKind ask(uintptr_t) — the
// socket's kind asked of the system (Unknown when it will not say); TcpRead read(uintptr_t,
// TcpAt) — one reading, recorded.
class TcpSchedule {
 public:
  static constexpr uint32_t kEnds = UINT32_MAX;  // capture::kTcpInfoEnds

  // A socket made, inherited or accepted, of the kind its maker said (Unknown: asked when it
  // matters). A socket already connected (inherited) is read at its next send or receive and
  // before it ends.
  void mark(uintptr_t s, TcpKind kind, bool connected = false, uint32_t now = 0) {
    const size_t k = claim(s);
    if (k == kNone) return;
    state_[k].store(kind == TcpKind::NotTcp ? kNotTcp
                    : kind == TcpKind::Unknown ? kUnknown
                    : connected                ? due(now)
                                               : kUnread,
                    std::memory_order_relaxed);
  }
  // The kind the agent knows (Unknown: not asked yet or no room to keep it).
  TcpKind kind(uintptr_t s) const {
    const size_t k = find(s);
    if (k == kNone) return TcpKind::Unknown;
    const uint32_t st = state_[k].load(std::memory_order_relaxed);
    return st == kNotTcp ? TcpKind::NotTcp : st == kUnknown || st == kAsking ? TcpKind::Unknown
                                                                              : TcpKind::Tcp;
  }
  // The socket was closed: a socket made later with the same handle starts anew.
  void forget(uintptr_t s) {
    const size_t k = find(s);
    if (k != kNone) keys_[k].store(kGone, std::memory_order_relaxed);
  }
  // Whether the system refused the ioctl (then nothing more is asked in this process).
  bool unsupported() const { return unsupported_.load(std::memory_order_relaxed); }

  // A connection set up now (connect, accept, a ConnectEx or AcceptEx completion): its first
  // reading, after which it is read at sends and receives and before it ends.
  template <class Env>
  void setup(Env& env, uintptr_t s) {
    if (off(env)) return;
    const size_t k = tcp_slot(env, s);
    if (k != kNone) connected_reading(env, s, k);
  }

  // Before shutdown or close: only a connection that had its first reading (a listener, or a
  // socket that never connected, has no figures worth a record).
  template <class Env>
  void end(Env& env, uintptr_t s, TcpAt at) {
    if (off(env)) return;
    const size_t k = find(s);
    if (k == kNone || !is_due_time(state_[k].load(std::memory_order_relaxed))) return;
    done(env.read(s, at));
  }

  // Around a send or receive (`before` the real call, then after it): the first reading of a
  // connection set up without the program waiting (a non-blocking connect), before its data;
  // then one every interval, after the call.
  template <class Env>
  void io(Env& env, uintptr_t s, bool before) {
    if (off(env)) return;
    const size_t k = before ? tcp_slot(env, s) : find(s);
    if (k == kNone) return;
    uint32_t st = state_[k].load(std::memory_order_relaxed);
    if (st == kUnread) {
      if (before) connected_reading(env, s, k);
      return;
    }
    const uint32_t every = env.interval();
    if (before || !is_due_time(st) || every == kEnds) return;
    const uint32_t now = env.now();
    if (static_cast<int32_t>(now - st) < 0) return;
    // One thread reads (another at the same socket finds the next due time).
    if (!state_[k].compare_exchange_strong(st, due(now + every), std::memory_order_relaxed))
      return;
    done(env.read(s, TcpAt::Interval));
  }

 private:
  static constexpr size_t kSize = 4096, kProbe = 64, kNone = ~size_t{0};
  static constexpr uintptr_t kFree = 0, kGone = 1, kClaiming = 2;
  // States: kUnread — a TCP stream without its first reading; kUnknown — not known yet;
  // kAsking — a thread is asking the system; kNotTcp — never read; anything else — the
  // millisecond from which its next reading at a send or receive is due.
  static constexpr uint32_t kUnread = 0, kUnknown = UINT32_MAX - 2, kAsking = UINT32_MAX - 1,
                            kNotTcp = UINT32_MAX;
  static bool is_due_time(uint32_t st) { return st != kUnread && st < kUnknown; }
  // A due time that is none of the other states (the clock wraps after 49 days).
  static uint32_t due(uint32_t at) { return at == kUnread || at >= kUnknown ? 1 : at; }

  template <class Env>
  bool off(Env& env) const {
    return unsupported() || env.interval() == 0;
  }
  void done(TcpRead r) {
    if (r == TcpRead::Unsupported) unsupported_.store(true, std::memory_order_relaxed);
  }

  // The first reading of connection `s` (slot `k`, a TCP stream).
  template <class Env>
  void connected_reading(Env& env, uintptr_t s, size_t k) {
    const TcpRead r = env.read(s, TcpAt::Connected);
    done(r);
    if (r == TcpRead::Recorded)
      state_[k].store(due(env.now() + env.interval()), std::memory_order_relaxed);
  }

  // The slot of `s` when it is a TCP stream: its kind asked of the system once when unknown
  // (a slot claimed first, so that no room means no asking); kNone otherwise.
  template <class Env>
  size_t tcp_slot(Env& env, uintptr_t s) {
    size_t k = find(s);
    if (k == kNone) {
      if ((k = claim(s)) == kNone) return kNone;
      state_[k].store(kUnknown, std::memory_order_relaxed);
    }
    uint32_t st = state_[k].load(std::memory_order_relaxed);
    if (st == kUnknown) {
      if (!state_[k].compare_exchange_strong(st, kAsking, std::memory_order_relaxed))
        return kNone;  // another thread asks
      st = env.ask(s) == TcpKind::Tcp ? kUnread : kNotTcp;  // (asked once, whatever it says)
      state_[k].store(st, std::memory_order_relaxed);
    }
    return st == kNotTcp || st == kAsking ? kNone : k;
  }

  static size_t home(uintptr_t v) { return (v >> 2) * 0x9E3779B97F4A7C15ull >> 52; }
  size_t find(uintptr_t s) const {
    for (size_t i = 0, k = home(s); i < kProbe; ++i, k = (k + 1) % kSize) {
      const uintptr_t cur = keys_[k].load(std::memory_order_acquire);
      if (cur == s) return k;
      if (cur == kFree) return kNone;
    }
    return kNone;
  }
  // The slot of `s`, taken when it has none (its state then for the caller to set); kNone when
  // the table has no room near its place.
  size_t claim(uintptr_t s) {
    if (s <= kClaiming) return kNone;
    const size_t have = find(s);
    if (have != kNone) return have;
    for (size_t i = 0, k = home(s); i < kProbe; ++i, k = (k + 1) % kSize) {
      uintptr_t cur = keys_[k].load(std::memory_order_relaxed);
      if (cur == s) return k;  // (another thread took it meanwhile)
      if ((cur == kFree || cur == kGone) &&
          keys_[k].compare_exchange_strong(cur, kClaiming, std::memory_order_acquire)) {
        state_[k].store(kUnknown, std::memory_order_relaxed);
        keys_[k].store(s, std::memory_order_release);
        return k;
      }
    }
    return kNone;
  }

  std::atomic<uintptr_t> keys_[kSize]{};
  std::atomic<uint32_t> state_[kSize]{};
  std::atomic<bool> unsupported_{false};
};

}  // namespace ws::agent
