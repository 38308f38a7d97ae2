#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include <fmt/format.h>

#include "common.h"

namespace ws::cli {

int64_t local_utc_offset_ns() {
  time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  return static_cast<int64_t>(tm.tm_gmtoff) * 1'000'000'000;
}

std::string agent_path() {
  std::error_code ec;
  auto dir = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path();
  for (auto candidate : {dir / "../lib/libwstrace-agent.so", dir / "libwstrace-agent.so"})
    if (std::filesystem::exists(candidate, ec))
      return std::filesystem::weakly_canonical(candidate, ec).string();
  return (dir / "../lib/libwstrace-agent.so").lexically_normal().string();
}

std::vector<std::string> utf8_args(int argc, char** argv) {
  return std::vector<std::string>(argv, argv + argc);
}

bool stderr_is_terminal() { return isatty(STDERR_FILENO); }
bool stdout_is_terminal() { return isatty(STDOUT_FILENO); }

namespace {

// wstrace's end of the socket pair to the process that starts the browser (prepare_browser).
int g_opener = -1;

// The process that starts the browser, apart from wstrace (its own session; /dev/null as its
// standard streams; no other descriptor of wstrace's, no signal it ignores or blocks): waits
// for the URL and a newline on `sock`, then runs xdg-open on it. `sock` closes with a successful
// exec; a failed one is told as its errno. Only async-signal-safe calls: wstrace may have
// threads.
[[noreturn]] void run_opener(int sock) {
  setsid();
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  for (int sig = 1; sig < NSIG; ++sig) signal(sig, SIG_DFL);
  const int kept = fcntl(sock, F_DUPFD_CLOEXEC, 10);  // (out of the way of what follows)
  const int null_fd = open("/dev/null", O_RDWR);
  for (int fd = 0; fd <= 2; ++fd) dup2(null_fd, fd);
  if (kept < 0 || dup3(kept, 3, O_CLOEXEC) != 3) _exit(1);
  if (close_range(4, ~0U, 0) != 0)
    for (int fd = 4; fd < 1024; ++fd) close(fd);
  static char url[8192];
  size_t n = 0;
  char* end = nullptr;
  while (!end && n < sizeof url) {
    const ssize_t got = read(3, url + n, sizeof url - n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) _exit(0);  // wstrace ended without a URL
    end = static_cast<char*>(memchr(url + n, '\n', static_cast<size_t>(got)));
    n += static_cast<size_t>(got);
  }
  if (!end) _exit(1);
  *end = '\0';
  char prog[] = "xdg-open";
  char* argv[] = {prog, url, nullptr};
  execvp(prog, argv);
  const int e = errno;
  (void)!write(3, &e, sizeof e);
  _exit(127);
}

}  // namespace

void prepare_browser() {
  if (g_opener >= 0) return;
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0) return;
  const pid_t first = fork();
  if (first == 0) {  // (forks the opener and ends: the opener is then no child of wstrace's)
    close(pair[0]);
    if (fork() == 0) run_opener(pair[1]);
    _exit(0);
  }
  close(pair[1]);
  if (first < 0) {
    close(pair[0]);
    return;
  }
  while (waitpid(first, nullptr, 0) < 0 && errno == EINTR) {
  }
  g_opener = pair[0];
}

void open_in_browser(const std::string& url) {
  prepare_browser();
  const std::string line = url + "\n";
  int exec_errno = ECHILD;  // (no opener)
  if (g_opener >= 0 &&
      send(g_opener, line.data(), line.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(line.size())) {
    ssize_t got;
    while ((got = recv(g_opener, &exec_errno, sizeof exec_errno, 0)) < 0 && errno == EINTR) {
    }
    if (got == 0) exec_errno = 0;  // the exec closed the opener's end: xdg-open runs
  }
  if (g_opener >= 0) close(g_opener);
  g_opener = -1;
  if (exec_errno)
    report(fmt::format("cannot start a browser (xdg-open: {}): open the URL above yourself",
                       strerror(exec_errno)));
}

namespace {
int g_interrupt_pipe[2] = {-1, -1};
}  // namespace

void wait_for_interrupt(const std::function<void()>& armed) {
  // (a handler and a pipe: the signal may reach any of wstrace's threads)
  if (pipe2(g_interrupt_pipe, O_CLOEXEC) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = [](int) { (void)!write(g_interrupt_pipe[1], "x", 1); };
  for (int sig : {SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
  armed();
  char c;
  while (read(g_interrupt_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
}

}  // namespace ws::cli
