// The overlapped operations in flight that the agent knows of, by OVERLAPPED address: what their
// completion needs (the data buffers, the program's completion routine, the event that tells it
// completed, where a lookup's results go). A fixed open-addressed table: no allocation, no
// system lock; a slot is locked by swapping its key for kLocked for the few loads and stores it
// takes to read or change it. Each operation's completion is handed out once, whichever way it
// is seen: a completion port, (WSA)GetOverlappedResult, a completion routine, a wait on its
// event, or a later call on its socket.
#pragma once

#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>

#include <atomic>
#include <cstdint>

#include "ring.h"

namespace ws::agent {

using ws::capture::Part;

// What is noted of one operation when it starts.
struct PendingOp {
  enum Kind : uint8_t { kSocket, kLookup };
  Kind kind = kSocket;
  bool by_socket = false;   // may be noticed at a later call on `sock`
  uint8_t nbufs = 0;
  SOCKET sock = 0;
  HANDLE event = nullptr;   // may be noticed after a wait on this event
  void* routine = nullptr;  // the program's completion routine (wstrace's runs in its place)
  Part bufs[4]{};           // where the data is, read at completion (the WSABUF array may be gone)
  // What its completion tells of the socket's addresses (read at completion, safely):
  // AcceptEx's accepted socket and its output buffer (the addresses follow `accept_data` bytes of
  // data), ConnectEx's now bound socket, WSARecvFrom's lpFrom/lpFromlen.
  struct Ends {
    enum Kind : uint8_t { kNone, kAccepted, kConnected, kFrom };
    Kind kind = kNone;
    void* at = nullptr;    // kFrom: lpFrom; kAccepted: the output buffer
    INT* len = nullptr;    // kFrom: lpFromlen
    DWORD data = 0, local = 0, remote = 0;  // kAccepted: AcceptEx's three sizes
  } ends;
  // GetAddrInfoExW: where the results are put, and the hints asked for.
  PADDRINFOEXW* results = nullptr;
  bool has_hints = false;
  int hint_family = 0, hint_type = 0, hint_flags = 0;
};

// A completion the table noticed itself: the OVERLAPPED no longer says pending.
struct Noticed {
  LPOVERLAPPED ov;
  PendingOp op;
  ULONG_PTR status;  // OVERLAPPED.Internal: an NTSTATUS (a Winsock error for lookups)
  ULONG_PTR bytes;   // OVERLAPPED.InternalHigh
};

// What take() found: nothing, an operation whose completion is news, one recorded already, or
// one that finished at once (recorded with its call: its completion packet only names it).
enum class Took { kNone, kFresh, kRecorded, kAtOnce };

class PendingTable {
 public:
  // Notes an operation about to start: before the real call, so that a completion taken on
  // another thread at once finds it. False when there is no room.
  bool begin(LPOVERLAPPED ov, const PendingOp& op) {
    const auto key = reinterpret_cast<uintptr_t>(ov);
    size_t k = lock(key, kSpinBounded);
    if (k != kNone) {
      if (slots_[k].state == kArmed) unwatch(k);
    } else if ((k = claim(key)) == kNone) {
      return false;
    }
    Slot& s = slots_[k];
    s.op = op;
    s.state = kArming;
    s.owner = GetCurrentThreadId();
    ++s.gen;
    keys_[k].store(key, std::memory_order_release);
    return true;
  }

  // After the real call: `keep` (it is pending, or a routine will run) arms the operation; one
  // that finished at once (`at_once`) stays, so that the completion packet it may still queue
  // is known as its own (take() says kAtOnce); else it is forgotten. An operation that can only
  // be noticed by wstrace and has completed already is handed back in `out` (true), marked
  // recorded.
  bool settle(LPOVERLAPPED ov, bool keep, Noticed& out, bool at_once = false) {
    const auto key = reinterpret_cast<uintptr_t>(ov);
    const size_t k = lock(key, kSpinBounded);
    if (k == kNone) return false;
    Slot& s = slots_[k];
    // Recorded meanwhile: a completion was handed to the program already.
    if (s.state != kArming || s.owner != GetCurrentThreadId()) {
      keys_[k].store(key, std::memory_order_release);
      return false;
    }
    if (!keep) {
      if (at_once) s.state = kAtOnce;
      keys_[k].store(at_once ? key : 0, std::memory_order_release);
      return false;
    }
    s.state = kArmed;
    bool done = false;
    if (watched(s.op)) {
      // A waiter that woke before this point could not see it armed: look now.
      const ULONG_PTR st = status_of(key);
      done = !still_pending(s.op.kind, st);
      if (done) {
        out = Noticed{ov, s.op, st, bytes_of(key)};
        s.state = kRecorded;
      } else {
        watch(k);
      }
    }
    keys_[k].store(key, std::memory_order_release);
    return done;
  }

  // The operation of a completion the program was handed. It stays, marked recorded, so that
  // asking again (GetOverlappedResult after the port, …) records nothing, until the OVERLAPPED
  // is used again or its slot is needed; wstrace's routine (`from_routine`) frees it.
  Took take(LPOVERLAPPED ov, PendingOp& out, bool from_routine) {
    const auto key = reinterpret_cast<uintptr_t>(ov);
    const size_t k = lock(key, from_routine ? kSpinLong : kSpinBounded);
    if (k == kNone) return Took::kNone;
    Slot& s = slots_[k];
    out = s.op;
    const Took took = s.state == kRecorded ? Took::kRecorded
                      : s.state == kAtOnce ? Took::kAtOnce
                                           : Took::kFresh;
    if (s.state == kArmed) unwatch(k);
    s.state = kRecorded;
    keys_[k].store(from_routine ? 0 : key, std::memory_order_release);
    return took;
  }

  // Whether `n` bytes at `p` are mapped and readable: memory of the program that wstrace reads
  // after the call that handed it over may have been freed since (a system call).
  static bool readable(const void* p, size_t n) {
    MEMORY_BASIC_INFORMATION m;
    if (!VirtualQuery(p, &m, sizeof m) || m.State != MEM_COMMIT) return false;
    const DWORD ok = PAGE_READONLY | PAGE_READWRITE | PAGE_WRITECOPY | PAGE_EXECUTE_READ |
                     PAGE_EXECUTE_READWRITE | PAGE_EXECUTE_WRITECOPY;
    const char* end = static_cast<const char*>(m.BaseAddress) + m.RegionSize;
    return (m.Protect & ok) && !(m.Protect & PAGE_GUARD) && end >= static_cast<const char*>(p) + n;
  }

  bool watching_events() const { return by_event_.load(std::memory_order_relaxed) != 0; }
  bool watching_sockets() const { return by_socket_.load(std::memory_order_relaxed) != 0; }

  // Armed operations that have completed and whose event is one of `handles` / whose socket is
  // `sock`: each is marked recorded and handed back once. Returns how many (at most `max`).
  size_t completed_by_event(const HANDLE* handles, DWORD n, Noticed* out, size_t max) {
    return completed(out, max, [&](const PendingOp& op) {
      if (!op.event) return false;
      for (DWORD i = 0; i < n; ++i)
        if (handles[i] == op.event) return true;
      return false;
    });
  }
  size_t completed_on_socket(SOCKET sock, Noticed* out, size_t max) {
    return completed(out, max,
                     [&](const PendingOp& op) { return op.by_socket && op.sock == sock; });
  }

 private:
  static constexpr size_t kSlots = 4096, kWords = kSlots / 64, kProbe = 64;
  static constexpr size_t kNone = ~size_t{0};
  static constexpr uintptr_t kLocked = 1;
  // Spins before giving up on a locked slot: a routine waits longer (it needs the program's).
  static constexpr int kSpinBounded = 10'000, kSpinLong = 1'000'000;
  enum State : uint8_t { kArming, kArmed, kRecorded, kAtOnce };
  struct Slot {
    State state = kArming;
    DWORD owner = 0;   // the thread that started the operation
    uint32_t gen = 0;  // changes with each operation noted here
    PendingOp op;
  };

  static size_t home(uintptr_t key) { return (key >> 4) * 0x9E3779B97F4A7C15ull >> 52; }
  static bool watched(const PendingOp& op) { return op.event || op.by_socket; }
  static ULONG_PTR status_of(uintptr_t ov) {
    return reinterpret_cast<volatile OVERLAPPED*>(ov)->Internal;
  }
  static ULONG_PTR bytes_of(uintptr_t ov) {
    return reinterpret_cast<volatile OVERLAPPED*>(ov)->InternalHigh;
  }
  // A lookup's OVERLAPPED holds WSAEINPROGRESS while it runs; other operations STATUS_PENDING.
  static bool still_pending(PendingOp::Kind kind, ULONG_PTR st) {
    if (kind == PendingOp::kLookup) return st == WSAEINPROGRESS || st == WSA_IO_PENDING;
    return st == 0x103;  // STATUS_PENDING
  }

  // Locks the slot of `key`, waiting out other holders (they hold it for a few stores); kNone
  // when there is none. A bounded wait gives up rather than stall the program.
  size_t lock(uintptr_t key, int spins) {
    for (size_t i = 0, k = home(key); i < kProbe; ++i, k = (k + 1) % kSlots) {
      for (int n = 0;; ++n) {
        uintptr_t v = keys_[k].load(std::memory_order_acquire);
        if (v == kLocked) {
          if (n > spins) return kNone;
          if (n > 64) SwitchToThread();
          else YieldProcessor();
          continue;
        }
        if (v != key) break;
        if (keys_[k].compare_exchange_weak(v, kLocked, std::memory_order_acquire)) return k;
      }
    }
    return kNone;
  }

  // Locks a free slot for `key`, or one whose operation was recorded and has no routine to run.
  size_t claim(uintptr_t key) {
    for (size_t i = 0, k = home(key); i < kProbe; ++i, k = (k + 1) % kSlots) {
      uintptr_t v = keys_[k].load(std::memory_order_acquire);
      if (v == kLocked || !keys_[k].compare_exchange_strong(v, kLocked, std::memory_order_acquire))
        continue;
      if (v == 0 || ((slots_[k].state == kRecorded || slots_[k].state == kAtOnce) &&
                     !slots_[k].op.routine))
        return k;
      keys_[k].store(v, std::memory_order_release);
    }
    return kNone;
  }

  void watch(size_t k) {
    const PendingOp& op = slots_[k].op;
    if (op.event) by_event_.fetch_add(1, std::memory_order_relaxed);
    if (op.by_socket) by_socket_.fetch_add(1, std::memory_order_relaxed);
    if (watched(op)) watching_[k / 64].fetch_or(uint64_t{1} << k % 64, std::memory_order_release);
  }
  void unwatch(size_t k) {
    const PendingOp& op = slots_[k].op;
    if (!watched(op)) return;
    watching_[k / 64].fetch_and(~(uint64_t{1} << k % 64), std::memory_order_release);
    if (op.event) by_event_.fetch_sub(1, std::memory_order_relaxed);
    if (op.by_socket) by_socket_.fetch_sub(1, std::memory_order_relaxed);
  }

  // Locks slot `k` if it still holds `key`, without waiting (a holder is seeing to it).
  bool try_lock(size_t k, uintptr_t key) {
    return keys_[k].compare_exchange_strong(key, kLocked, std::memory_order_acquire);
  }

  template <typename Match>
  size_t completed(Noticed* out, size_t max, Match match) {
    size_t n = 0;
    for (size_t w = 0; w < kWords && n < max; ++w) {
      for (uint64_t bits = watching_[w].load(std::memory_order_acquire); bits && n < max;
           bits &= bits - 1) {
        const size_t k = w * 64 + static_cast<size_t>(__builtin_ctzll(bits));
        Slot& s = slots_[k];
        const uintptr_t key = keys_[k].load(std::memory_order_acquire);
        if (key <= kLocked || !try_lock(k, key)) continue;
        const bool wanted = s.state == kArmed && match(s.op);
        const uint32_t gen = s.gen;
        keys_[k].store(key, std::memory_order_release);
        // (The check of the memory is a system call: not under the slot's lock.)
        if (!wanted || !readable(reinterpret_cast<void*>(key), sizeof(OVERLAPPED)) ||
            !try_lock(k, key))
          continue;
        if (s.state == kArmed && s.gen == gen) {
          const ULONG_PTR st = status_of(key);
          if (!still_pending(s.op.kind, st)) {
            out[n++] = Noticed{reinterpret_cast<LPOVERLAPPED>(key), s.op, st, bytes_of(key)};
            unwatch(k);
            s.state = kRecorded;
          }
        }
        keys_[k].store(key, std::memory_order_release);
      }
    }
    return n;
  }

  // The OVERLAPPED addresses (0: free, kLocked: being read or changed), apart from the rest so
  // that a probe reads few cache lines.
  std::atomic<uintptr_t> keys_[kSlots]{};
  Slot slots_[kSlots];
  std::atomic<uint64_t> watching_[kWords]{};  // slots whose operation is armed and watched
  std::atomic<uint32_t> by_event_{0}, by_socket_{0};
};

// Sockets bound to a completion port with CreateIoCompletionPort: their completions are taken
// from the port, so a later call on the socket need not look for them.
class HandleSet {
 public:
  void add(HANDLE h) {
    const auto v = reinterpret_cast<uintptr_t>(h);
    for (size_t i = 0, k = home(v); i < kProbe; ++i, k = (k + 1) % kSize) {
      uintptr_t cur = set_[k].load(std::memory_order_relaxed);
      if (cur == v) return;
      if ((cur == 0 || cur == kGone) &&
          set_[k].compare_exchange_strong(cur, v, std::memory_order_relaxed))
        return;
    }
  }
  void remove(HANDLE h) {
    const auto v = reinterpret_cast<uintptr_t>(h);
    for (size_t i = 0, k = home(v); i < kProbe; ++i, k = (k + 1) % kSize) {
      uintptr_t cur = set_[k].load(std::memory_order_relaxed);
      if (cur == 0) return;
      if (cur == v) set_[k].compare_exchange_strong(cur, kGone, std::memory_order_relaxed);
    }
  }
  bool has(HANDLE h) const {
    const auto v = reinterpret_cast<uintptr_t>(h);
    for (size_t i = 0, k = home(v); i < kProbe; ++i, k = (k + 1) % kSize) {
      uintptr_t cur = set_[k].load(std::memory_order_relaxed);
      if (cur == v) return true;
      if (cur == 0) return false;
    }
    return false;
  }

 private:
  static constexpr size_t kSize = 1024, kProbe = 32;
  static constexpr uintptr_t kGone = 1;
  static size_t home(uintptr_t v) { return (v >> 2) * 0x9E3779B97F4A7C15ull >> 54; }
  std::atomic<uintptr_t> set_[kSize]{};
};

}  // namespace ws::agent
