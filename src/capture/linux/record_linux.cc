#include "record.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>

#include <fmt/format.h>

#include "collector_core.h"
#include "engines.h"
#include "live_capture.h"
#include "preflight.h"
#include "record_ebpf.h"
#include "record_common.h"
#include "ring.h"
#include "translate.h"
#include "writer.h"

namespace ws::capture {
namespace {

// A name for the region that a neighbour cannot guess: it could otherwise create it first (and
// stop `record`, or read the trace).
std::string random_region_name() {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != sizeof r)  // (kernels before 3.17: a weaker mix)
    r = static_cast<uint64_t>(clock_ns(CLOCK_MONOTONIC)) * 0x9e3779b97f4a7c15ull ^
        static_cast<uint64_t>(clock_ns(CLOCK_REALTIME));
  return fmt::format("/wstrace-{}-{:016x}", getpid(), r);
}

// The shared region, removed from /dev/shm when the collector is done with it. Its pages are
// reserved when it is made: a /dev/shm too small for them is found here, not by a SIGBUS in
// the traced program when it first writes a page.
class SharedRegion {
 public:
  ~SharedRegion() {
    if (mem_) munmap(mem_, geometry_.region_bytes());
    if (!name_.empty()) shm_unlink(name_.c_str());
  }
  // Makes a region of `want`, or a smaller one (said in `warning`) when /dev/shm is short of
  // room; false with `err` when not even the smallest fits.
  bool create(RingGeometry want, uint32_t snaplen, bool follow, uint32_t tcp_info_ms, std::string& err,
              std::string& warning) {
    int fd = -1;
    for (int attempt = 0; attempt < 8 && fd < 0; ++attempt) {
      name_ = random_region_name();
      fd = shm_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
      if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
      err = fmt::format("cannot create shared memory {}: {}", name_, strerror(errno));
      name_.clear();
      return false;
    }
    geometry_ = want;
    const bool ok = reserve(fd, want, err, warning);
    if (ok) mem_ = mmap(nullptr, geometry_.region_bytes(), PROT_READ | PROT_WRITE, MAP_SHARED,
                        fd, 0);
    close(fd);
    if (!ok) return false;
    if (mem_ == MAP_FAILED) {
      mem_ = nullptr;
      err = fmt::format("cannot map shared memory: {}", strerror(errno));
      return false;
    }
    init_region(mem_, geometry_, snaplen, follow, 0, tcp_info_ms);
    return true;
  }
  RegionHeader* region() { return static_cast<RegionHeader*>(mem_); }
  const RingGeometry& geometry() const { return geometry_; }
  const std::string& name() const { return name_; }

 private:
  // Sizes the region at `fd` to the largest geometry up to `want` whose pages can be reserved,
  // leaving half of what /dev/shm has free to the program (which may use /dev/shm itself).
  bool reserve(int fd, const RingGeometry& want, std::string& err, std::string& warning) {
    const uint64_t min_ring = std::min<uint64_t>(want.ring_bytes, kMinShrunkRing);
    struct statvfs vfs {};
    uint64_t budget = UINT64_MAX;  // a tmpfs without a size limit says 0 blocks
    if (fstatvfs(fd, &vfs) == 0 && vfs.f_blocks != 0)
      budget = static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize / 2;
    while (geometry_.region_bytes() > budget && shrink_geometry(geometry_, min_ring)) {
    }
    for (;;) {
      int e = geometry_.region_bytes() > budget ? ENOSPC
                                                : posix_fallocate(fd, 0, static_cast<off_t>(
                                                                             geometry_.region_bytes()));
      if (e == 0) break;
      if (e == EINVAL || e == EOPNOTSUPP) {  // a file system that cannot reserve: size only
        if (ftruncate(fd, static_cast<off_t>(geometry_.region_bytes())) == 0) break;
        e = errno;
      }
      if ((e != ENOSPC && e != ENOMEM && e != EFBIG) || !shrink_geometry(geometry_, min_ring)) {
        err = e == ENOSPC || e == ENOMEM || e == EFBIG
                  ? fmt::format("not enough shared memory for the rings: /dev/shm has {} KiB "
                                "free and recording needs {} KiB at least ({} rings of {} KiB) "
                                "besides room for the program; free some or mount a larger "
                                "/dev/shm (docker: --shm-size)",
                                budget == UINT64_MAX ? 0 : budget * 2 / 1024,
                                geometry_.region_bytes() / 1024, geometry_.slots,
                                geometry_.ring_bytes / 1024)
                  : fmt::format("cannot reserve shared memory: {}", strerror(e));
        return false;
      }
      (void)!ftruncate(fd, 0);  // (what a failed attempt reserved is given back)
    }
    if (geometry_.slots != want.slots || geometry_.ring_bytes != want.ring_bytes)
      warning = shrunk_warning(want, geometry_,
                               fmt::format("/dev/shm has {} KiB free", budget == UINT64_MAX
                                                                           ? 0
                                                                           : budget * 2 / 1024));
    return true;
  }

  std::string name_;
  void* mem_ = nullptr;
  RingGeometry geometry_;
};

// LD_PRELOAD splits its value at spaces and colons and has no quoting: an agent whose path has
// either (an archive unpacked into "My Tools") is preloaded through a symbolic link to it, in a
// directory of record's own in /dev/shm (beside the rings, and removed with them).
class AgentLink {
 public:
  ~AgentLink() { remove(); }
  // The path LD_PRELOAD can name for `agent` (absolute): itself, or a link made to it; "" with
  // `err` when no link could be made.
  std::string make(const std::string& agent, std::string& err) {
    if (agent.find_first_of(" :\t\n") == std::string::npos) return agent;
    char dir[] = "/dev/shm/wstrace-agent-XXXXXX";
    if (!mkdtemp(dir)) {
      err = fmt::format("cannot make a folder in /dev/shm for a link to the agent (its path {} "
                        "has a space or colon, which LD_PRELOAD cannot hold): {}",
                        agent, strerror(errno));
      return "";
    }
    dir_ = dir;
    chmod(dir, 0755);  // (the traced program may change its user: the loader follows the link)
    const std::string link = dir_ + "/libwstrace-agent.so";
    if (symlink(agent.c_str(), link.c_str()) != 0) {
      err = fmt::format("cannot link {} to the agent {}: {}", link, agent, strerror(errno));
      return "";
    }
    link_ = link;
    return link_;
  }
  void remove() {
    if (!link_.empty()) unlink(link_.c_str());
    if (!dir_.empty()) rmdir(dir_.c_str());
    link_.clear();
    dir_.clear();
  }

 private:
  std::string dir_, link_;
};

std::string joined_preload(const std::string& agent) {
  const char* old = getenv("LD_PRELOAD");
  return old && *old ? agent + ":" + old : agent;
}

// The preload engine: the agent preloaded into the program (and its children, through the
// environment), its rings drained while the program runs.
class PreloadEngine final : public LiveCapture {
 public:
  explicit PreloadEngine(const RecordOptions& opt) : opt_(opt) {}
  // Everything up to the program running; an error when it did not start.
  RecordError start(std::string& warning);

 private:
  bool step() override;
  void catch_up() override { collector_->drain(); }
  // Notes the processes that ended; false when every process of the tree has.
  bool reap();
  // The last drain, exits nobody recorded, the file closed.
  void finish();
  // The program has exited and left traced processes running: `record` returns the program's
  // status now, and a copy of the collector goes on in the background, detached, until they
  // have all ended or it is sent SIGTERM/SIGINT; it then completes the trace and exits.
  void go_background();
  bool traced_alive() const;  // (in the background) a traced process still runs
  [[noreturn]] void end_background();

  RecordOptions opt_;
  SharedRegion shm_;
  AgentLink agent_link_;
  std::string image_;  // the program file started
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<RingCollector> collector_;
  pid_t child_ = -1;
  int64_t last_reclaim_ = 0;
  bool nap_ = false;
  bool root_ended_ = false, background_ = false;
  std::vector<uint32_t> watched_;  // (in the background) the children record left behind
};

RecordError PreloadEngine::start(std::string& warning) {
  const RecordOptions& opt = opt_;
  if (opt.argv.empty())
    return {2, "record needs a program to run: wstrace record -- PROGRAM [ARGS…]"};
  Preflight pre = preflight(opt.argv[0]);
  image_ = pre.path;
  switch (pre.verdict) {
    case Preflight::Verdict::NotFound: return {127, pre.message};
    case Preflight::Verdict::NotExecutable: return {126, pre.message};
    case Preflight::Verdict::Unreachable: return {1, pre.message};
    case Preflight::Verdict::Ok: warning = pre.message; break;
  }
  if (access(opt.agent_path.c_str(), R_OK) != 0)
    return {1, fmt::format("the agent {} is missing (wstrace looks for it in ../lib beside its "
                           "own bin folder, or beside itself): unpack the whole archive again, "
                           "or rebuild",
                           opt.agent_path)};

  // The rings first: when there is no room for them, nothing is written and nothing runs.
  std::string err, shrunk;
  if (!shm_.create(RingGeometry{opt.slots, opt.ring_bytes}, opt.snaplen, opt.follow,
                   opt.tcp_info_ms, err, shrunk))
    return {1, err};
  if (!shrunk.empty() && opt.on_warning) opt.on_warning(shrunk);
  else if (!shrunk.empty()) warning += (warning.empty() ? "" : "\nwstrace: warning: ") + shrunk;
  summary_.rings = shm_.geometry().slots;

  summary_.output = opt.output.empty() ? default_output() : opt.output;
  header_ = make_linux_header(opt, "preload");
  auto writer = trace::TraceWriter::create(summary_.output, header_);
  if (!writer.ok()) return {1, writer.status().message()};
  writer_ = std::move(writer.value());

  prctl(PR_SET_CHILD_SUBREAPER, 1);
  int exec_pipe[2];
  if (pipe2(exec_pipe, O_CLOEXEC) != 0) return {1, fmt::format("pipe: {}", strerror(errno))};
  const std::string agent = agent_link_.make(opt.agent_path, err);
  if (agent.empty()) return {1, err};
  std::string preload = joined_preload(agent);
  std::vector<char*> argv;
  for (const auto& a : opt.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  forward_signals_to_program();  // (the program's exec resets them to their defaults)

  pid_t child = child_ = fork();
  if (child < 0) return {1, fmt::format("cannot start {}: {}", opt.argv[0], strerror(errno))};
  if (child == 0) {
    close(exec_pipe[0]);
    setenv("LD_PRELOAD", preload.c_str(), 1);
    setenv("WSTRACE_SHM", shm_.name().c_str(), 1);
    // Before the agent starts in the program, so that --no-follow knows which process is it.
    shm_.region()->root_pid = static_cast<uint32_t>(getpid());
    execv(pre.path.c_str(), argv.data());
    int e = errno;
    (void)!write(exec_pipe[1], &e, sizeof e);
    _exit(127);
  }
  close(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  if (got == sizeof exec_errno) {
    waitpid(child, nullptr, 0);
    remove_unused_trace(summary_.output);
    return {exec_errno == ENOENT ? 127 : 126,
            fmt::format("cannot run {}: {}", pre.path, strerror(exec_errno))};
  }


  collector_ = std::make_unique<RingCollector>(
      opt, shm_.region(), shm_.geometry(), *writer_, summary_, translate_linux_record,
      monotonic_ns, [this](const Event& ev) { take(ev); });
  return {0, ""};
}

// Rings of threads that ended without giving them back are looked for every kReclaimEvery.
constexpr int64_t kReclaimEvery = 20'000'000;

bool PreloadEngine::step() {
  // Rings hold ~10k records per thread: draining every few milliseconds keeps up with busy
  // programs without a collector that spins beside them. A ring filling up is drained again at
  // once.
  if (nap_) {
    struct timespec nap = {0, 5'000'000};
    nanosleep(&nap, nullptr);
  }
  if (const int sig = take_forwarded_signal()) {
    if (background_ && sig != SIGHUP) end_background();  // stop tracing, leave them running
    if (!background_) kill(child_, sig);
  }
  const int64_t now = clock_ns(CLOCK_MONOTONIC);
  double fullest;
  if (now - last_reclaim_ >= kReclaimEvery) {
    fullest = collector_->reclaim(task_alive);
    last_reclaim_ = now;
  } else {
    fullest = collector_->drain();
  }
  if (background_) {
    if (!traced_alive()) end_background();
  } else if (!reap()) {
    finish();
    return false;
  } else if (root_ended_ && !opt_.follow) {  // what is left is not traced: nothing to wait for
    finish();
    return false;
  } else if (root_ended_) {
    go_background();
  }
  nap_ = fullest < 0.25;
  return true;
}

// The processes `record` is the parent of now (its program's children that outlived it, and
// orphans given to it as subreaper): some may not have recorded their start yet.
std::vector<uint32_t> own_children() {
  std::vector<uint32_t> pids;
  char path[64];
  snprintf(path, sizeof path, "/proc/self/task/%d/children", getpid());
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return pids;
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) text.append(buf, static_cast<size_t>(n));
  close(fd);
  for (size_t i = 0; i < text.size();) {
    size_t j = text.find(' ', i);
    if (j == std::string::npos) j = text.size();
    if (j > i) pids.push_back(static_cast<uint32_t>(std::strtoul(text.c_str() + i, nullptr, 10)));
    i = j + 1;
  }
  return pids;
}

bool PreloadEngine::traced_alive() const {
  auto alive = [](uint32_t pid) { return kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM; };
  for (uint32_t pid : collector_->running())
    if (alive(pid)) return true;
  for (uint32_t pid : watched_)
    if (alive(pid)) return true;
  return false;
}

void PreloadEngine::go_background() {
  watched_ = own_children();
  std::vector<uint32_t> left = collector_->running();
  left.insert(left.end(), watched_.begin(), watched_.end());
  std::sort(left.begin(), left.end());
  left.erase(std::unique(left.begin(), left.end()), left.end());
  std::string pids;
  for (uint32_t pid : left) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t bg = left.empty() ? -1 : fork();
  if (bg < 0) {  // nothing is left (or no fork): wait for the rest as before
    root_ended_ = false;
    return;
  }
  if (bg > 0) {
    // The foreground: the program's status, now. (Its destructors would remove the rings and
    // close the trace that the background copy goes on writing.)
    fmt::print(stderr,
               "wstrace: {} exited ({}); {} background process{} ({}) still traced into {} by "
               "wstrace {} until they end (kill {} stops it; they go on)\n",
               opt_.argv[0], summary_.exit_status, left.size(), left.size() == 1 ? "" : "es",
               pids, summary_.output, bg, bg);
    std::fflush(stderr);
    _exit(summary_.exit_status);
  }
  // The background copy: out of the terminal's session (its Ctrl+C is for the shell now), its
  // standard streams let go so that whoever reads record's output sees it end.
  background_ = true;
  setsid();
  const int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  for (int fd = 0; fd <= 2; ++fd) {
    if (null_fd >= 0) dup2(null_fd, fd);
    else close(fd);
  }
  if (null_fd > 2) close(null_fd);
}

void PreloadEngine::end_background() {
  finish();
  shm_unlink(shm_.name().c_str());
  agent_link_.remove();
  _exit(summary_.problem.empty() ? 0 : 1);
}

bool PreloadEngine::reap() {
  return reap_children([this](pid_t pid, int code) {
    if (pid == child_) {
      summary_.exit_status = code, root_ended_ = true;
      collector_->never_started(
          static_cast<uint32_t>(pid), image_,
          "the agent never started in the program: the loader refused to preload it (its "
          "message, if any, is on the program's standard error: a library the agent needs is "
          "missing or of another build, or its folder is on a noexec mount) or the program "
          "ended before the agent could start; nothing it did was seen");
    }
    collector_->process_ended(static_cast<uint32_t>(pid), code);
  });
}

void PreloadEngine::finish() {
  collector_->drain();
  finish_trace(*collector_, *writer_, summary_);
}

RecordError record_preload(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out,
                           std::string& warning) {
  auto engine = std::make_unique<PreloadEngine>(opt);
  RecordError err = engine->start(warning);
  if (!err.exit_code) out = std::move(engine);
  return err;
}

// The preload agent cannot be put into a running program: attach and system-wide capture are the
// kernel engine's.
constexpr EngineEntry kEngines[] = {{"preload", record_preload, nullptr, nullptr},
                                    {"ebpf", record_ebpf, attach_ebpf, system_ebpf}};

}  // namespace

std::span<const EngineEntry> platform_engines() { return kEngines; }

// The preload engine, unless the program makes its calls without libc (static, Go) and the
// kernel engine can run here.
const EngineEntry& platform_auto_engine(const RecordOptions& opt, std::string& why) {
  if (opt.argv.empty()) return kEngines[0];
  const Preflight pre = preflight(opt.argv[0]);
  if (!pre.calls_without_libc || !ebpf_unavailable().empty()) return kEngines[0];
  why = fmt::format("{} makes its socket calls without libc (statically linked or Go), out of the "
                    "preload agent's reach: recording with the kernel engine (--engine ebpf)",
                    pre.path);
  return kEngines[1];
}

}  // namespace ws::capture
