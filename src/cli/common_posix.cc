#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <time.h>
#include <unistd.h>

#include <filesystem>

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

void open_in_browser(const std::string& url) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::string prog = "xdg-open";
  char* argv[] = {prog.data(), const_cast<char*>(url.c_str()), nullptr};
  pid_t pid = 0;
  if (posix_spawnp(&pid, "xdg-open", &fa, nullptr, argv, environ) != 0)
    report("cannot start a browser (xdg-open): open the URL above yourself");
  posix_spawn_file_actions_destroy(&fa);
  signal(SIGCHLD, SIG_IGN);  // (not waited for: no zombie left)
}

namespace {
int g_interrupt_pipe[2] = {-1, -1};
}  // namespace

void wait_for_interrupt() {
  // (a handler and a pipe: the signal may reach any of wstrace's threads)
  if (pipe(g_interrupt_pipe) != 0) return;
  struct sigaction sa {};
  sa.sa_handler = [](int) { (void)!write(g_interrupt_pipe[1], "x", 1); };
  for (int sig : {SIGINT, SIGTERM}) sigaction(sig, &sa, nullptr);
  char c;
  while (read(g_interrupt_pipe[0], &c, 1) < 0 && errno == EINTR) {
  }
}

}  // namespace ws::cli
