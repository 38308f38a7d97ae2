#include "record_common.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "build_id.h"

namespace ws::capture {
namespace {

volatile sig_atomic_t g_forward_signal = 0;

// Ctrl+C and Ctrl+\ at the terminal reach the program by themselves (it is in the terminal's
// foreground group): only those a process sent to wstrace (kill) are passed on, so that the
// program never gets one twice.
void on_signal(int sig, siginfo_t* info, void*) {
  if ((sig == SIGINT || sig == SIGQUIT) && info && info->si_code == SI_KERNEL) return;
  g_forward_signal = sig;
}

}  // namespace

int64_t clock_ns(int clock_id) {
  struct timespec ts;
  clock_gettime(static_cast<clockid_t>(clock_id), &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t monotonic_ns() { return clock_ns(CLOCK_MONOTONIC); }

std::string default_output() {
  time_t now = time(nullptr);
  struct tm tm {};
  localtime_r(&now, &tm);
  char buf[64];
  strftime(buf, sizeof buf, "wstrace-%Y%m%d-%H%M%S.wst", &tm);
  return buf;
}

trace::TraceHeader make_linux_header(const RecordOptions& opt, std::string_view engine) {
  trace::TraceHeader h;
  struct utsname u {};
  uname(&u);
  h.wstrace_version = kBuildId;
  h.host = u.nodename;
  h.os = fmt::format("{} {}", u.sysname, u.release);
  h.platform = Platform::Linux;
  h.arch = u.machine;
  for (const auto& a : opt.argv) h.command += (h.command.empty() ? "" : " ") + a;
  h.snaplen = opt.snaplen;
  h.redacted = opt.redact;
  h.follow_children = opt.follow;
  h.engine = engine;
  h.mono_anchor_ns = clock_ns(CLOCK_MONOTONIC);
  h.wall_anchor_ns = clock_ns(CLOCK_REALTIME);
  return h;
}

void forward_signals_to_program() {
  struct sigaction sa {};
  sa.sa_sigaction = on_signal;
  sa.sa_flags = SA_SIGINFO;
  for (int sig : {SIGINT, SIGQUIT, SIGTERM, SIGHUP}) sigaction(sig, &sa, nullptr);
}

int take_forwarded_signal() {
  const int sig = g_forward_signal;
  g_forward_signal = 0;
  return sig;
}

bool task_alive(uint32_t pid, uint32_t tid) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%u/task/%u/stat", pid, tid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno != ENOENT && errno != ESRCH;
  char buf[512];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return true;  // unknown: keep the ring
  buf[n] = 0;
  const char* paren = strrchr(buf, ')');  // the name may hold spaces and parentheses
  if (!paren || paren[1] != ' ') return true;
  return paren[2] != 'Z' && paren[2] != 'X';
}

bool reap_children(const std::function<void(pid_t, int)>& ended) {
  int status = 0;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) != 0) {
    if (pid < 0) {
      if (errno == EINTR) continue;
      return false;  // ECHILD
    }
    ended(pid, WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  }
  return true;
}

void finish_trace(RingCollector& collector, trace::TraceWriter& writer, RecordSummary& summary,
                  bool close_unended) {
  if (close_unended) collector.close_unended();
  collector.flush();
  summary.problem = collector.problem();
  if (summary.problem.empty()) {
    if (Status s = writer.close(monotonic_ns()); !s.ok()) summary.problem = s.message();
  }
}

void remove_unused_trace(const std::string& path) {
  struct stat st {};
  if (lstat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) unlink(path.c_str());
}

}  // namespace ws::capture
