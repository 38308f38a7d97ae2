#include <pthread.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>

#include "server_platform.h"

namespace ws::ui {

bool random_bytes(unsigned char* out, size_t n) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = getrandom(out + got, n - got, 0);
    if (r <= 0) return false;
    got += static_cast<size_t>(r);
  }
  return true;
}

bool listen_alone(uintptr_t socket) {
  const int one = 1;
  return setsockopt(static_cast<int>(socket), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
}

std::thread quiet_thread(std::function<void()> body) {
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, &old);
  std::thread t(std::move(body));  // (inherits the mask)
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
}

}  // namespace ws::ui
