// The Linux agent: a shared library preloaded into the traced program (LD_PRELOAD). It copies
// raw facts of each socket call into this thread's ring and nothing else: no decoding, no
// allocation, no locks, no blocking, errno left exactly as the real call set it.
#pragma once

#include <sys/socket.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "event.h"
#include "raw_record.h"
#include "ring.h"

#define WS_EXPORT extern "C" __attribute__((visibility("default")))

namespace ws::agent {

using namespace ws::capture;  // the ring and raw record types

// True when this process records (and this thread is not in the middle of queueing a record).
bool enabled();
uint32_t snaplen();
int64_t now_ns();

// What wstrace knows of a descriptor: 0 not yet known, 1 socket, 2 something else.
bool is_socket(int fd);
void mark_socket(int fd);
void forget_fd(int fd);

// The real function behind a hook, found once with dlsym(RTLD_NEXT).
void* real_symbol(const char* name);
template <typename F>
F real(const char* name, F& cache) {
  F f = __atomic_load_n(&cache, __ATOMIC_ACQUIRE);
  if (!f) {
    f = reinterpret_cast<F>(real_symbol(name));
    __atomic_store_n(&cache, f, __ATOMIC_RELEASE);
  }
  return f;
}

// One traced call: the entry time is taken when constructed; done() notes the result and the
// errno of the real call; the destructor queues the record (when there is a ring for it) and
// puts errno back as the real call left it.
class Call {
 public:
  explicit Call(FuncId f);
  ~Call();
  Call(const Call&) = delete;
  Call& operator=(const Call&) = delete;

  // Notes the result; a failure's errno is kept as the call's error.
  void done(int64_t result, bool failed);
  void done_errno(int64_t result) { done(result, result < 0); }
  // Overrides the error (getaddrinfo's EAI_*, h_errno).
  void error(ErrDomain d, int32_t v);
  int saved_errno() const { return errno_; }
  void skip() { skip_ = true; }

  void u64(FieldId f, uint64_t v);
  void i64(FieldId f, int64_t v);
  void platform_const(FieldId f, int64_t v);
  void sockopt(int64_t level, int64_t name);
  void sockaddr(FieldId f, const struct sockaddr* sa, socklen_t len);
  void str(FieldId f, const char* s);
  // Payload: `total` bytes moved, kept from `buf` up to the snap length.
  void payload(const void* buf, int64_t total);
  void payload_iov(const struct iovec* iov, size_t iovcnt, int64_t total);
  // A blob the caller built in its own memory (address and poll lists); must outlive the call.
  void blob(FieldId f, RawKind kind, const void* data, size_t size);

 private:
  void arg(FieldId f, RawKind kind, uint32_t size);
  void add(const void* p, size_t n);
  void pad(uint32_t size);

  static constexpr size_t kMaxParts = 64;
  static constexpr size_t kMaxArgs = 16;
  RawHead head_{};
  RawArg args_[kMaxArgs];
  uint64_t nums_[kMaxArgs];
  Part parts_[kMaxParts];
  size_t nparts_ = 0;
  size_t nargs_ = 0;
  int errno_ = 0;
  bool active_;
  bool skip_ = false;
};

}  // namespace ws::agent
