// The Linux agent: a shared library preloaded into the traced program (LD_PRELOAD). It copies
// raw facts of each socket call into this thread's ring (agent/call.h) and nothing else: no
// decoding, no allocation, no locks, no blocking, errno left exactly as the real call set it.
#pragma once

#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>

#include "call.h"

#define WS_EXPORT extern "C" __attribute__((visibility("default")))

namespace ws::agent {

// True when this process records (and this thread is not in the middle of queueing a record).
bool enabled();

// What wstrace knows of a descriptor: 0 not yet known, 1 socket, 2 something else.
bool is_socket(int fd);
void mark_socket(int fd);
void mark_not_socket(int fd);  // a file, pipe … was just opened under this number
void forget_fd(int fd);
void epoll_map_after_fork();  // (hooks_wait.cc) a forked child's table of epoll data words
// A call just gave the program descriptor `fd` (a socket when `socket`). When the agent still
// believed `fd` an open socket, that socket was closed by a call it did not see: unseen().
void new_fd(int fd, bool socket);
void record_process_exit(int status);
bool process_title(char (&out)[Call::kMaxString]);

// What the agent cannot see in this process, declared once per process (an `unseen` event) so
// that the trace says it is incomplete: socket calls made by system call instruction rather than
// through libc (`fd`: the socket that showed it), and io_uring, whose submissions it never sees.
enum class Unseen : uint8_t { RawSyscalls, IoUring };
void unseen(Unseen what, int fd);

// close() made with syscall(SYS_close): recorded like close(), made by number (no cancellation
// point, as the program asked).
int close_by_number(int fd);

// The sockets the process has when the agent starts in it (inherited across exec or from a
// parent wstrace did not trace): an `inherited` event each, so that their first calls find them
// known; every other descriptor found is marked as no socket.
void record_inherited_sockets();

// A seccomp filter is on this process (set by it through prctl or seccomp(), or inherited
// across exec: `note_seccomp_at_start` reads /proc/self/status once). Such a filter may kill
// the process for a system call it does not expect (sshd's pre-authentication child does), so
// the agent then makes none beyond those of the program's own calls (no TCP statistics).
bool sandboxed();
void note_sandboxed();
void note_seccomp_at_start();

// TCP statistics (tcp_stats.cc), recorded as tcp_info events: `tcp_stats` reads them now (at a
// connect or accept that completed, before shutdown or close); `tcp_stats_due` at a send or
// receive (`before` the real call, then after it): the first one of a connection set up without
// waiting, and then one every interval. Neither changes errno.
enum class TcpAt : uint8_t { Connected = 1, Interval = 2, Shutdown = 3, Close = 4 };
void tcp_stats(int fd, TcpAt at);
void tcp_stats_due(int fd, bool before);
void tcp_stats_forget(int fd);  // the number was closed or reused
// Around a send or receive hook's call: declared before its Call, so that a reading made after
// the call is recorded after it.
class TcpWatch {
 public:
  explicit TcpWatch(int fd) : fd_(fd) { tcp_stats_due(fd, true); }
  ~TcpWatch() { tcp_stats_due(fd_, false); }
  TcpWatch(const TcpWatch&) = delete;
  TcpWatch& operator=(const TcpWatch&) = delete;

 private:
  int fd_;
};

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

// The real functions of every hook of hook_list.h, each found on first use (null until then;
// constant-initialized, so a hook called before the agent's constructors finds them null too).
struct RealFunctions {
#define WS_HOOK(name, ret, params) ret(*name) params = nullptr;
#include "hook_list.h"
#undef WS_HOOK
};
extern RealFunctions g_real;
// The real function `name` of hook_list.h.
#define REAL(name) ::ws::agent::real(#name, ::ws::agent::g_real.name)

// Writes `n` bytes to this process's memory at `dst` as the kernel would (process_vm_writev on
// itself): false, and nothing raised, when any of it is not writable. errno is left as it was.
bool safe_write(void* dst, const void* src, size_t n);

// A scatter/gather call's payload.
void payload_iov(Call& c, const struct iovec* iov, size_t iovcnt, int64_t total);

}  // namespace ws::agent
