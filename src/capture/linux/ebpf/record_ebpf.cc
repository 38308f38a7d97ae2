#include "record_ebpf.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstring>
#include <unordered_map>

#include <fmt/format.h>

#include "collector_core.h"
#include "ebpf_attach_extra.h"
#include "ebpf_records.h"
#include "live_capture.h"
#include "preflight.h"
#include "record_common.h"
#include "ring.h"
#include "translate.h"
#include "wstrace.skel.h"
#include "writer.h"

namespace ws::capture {
namespace {

// libbpf's messages, kept for the error when loading fails rather than printed on every start.
std::string g_libbpf_log;
int keep_libbpf_message(enum libbpf_print_level level, const char* format, va_list ap) {
  if (level == LIBBPF_DEBUG || g_libbpf_log.size() > 64 * 1024) return 0;
  char buf[1024];
  vsnprintf(buf, sizeof buf, format, ap);
  g_libbpf_log += buf;
  return 0;
}

// The effective capabilities of this process, from /proc/self/status (0 when unreadable).
uint64_t effective_caps() {
  FILE* f = fopen("/proc/self/status", "re");
  if (!f) return 0;
  char line[256];
  uint64_t caps = 0;
  while (fgets(line, sizeof line, f))
    if (std::strncmp(line, "CapEff:", 7) == 0) caps = std::strtoull(line + 7, nullptr, 16);
  fclose(f);
  return caps;
}

constexpr int kCapSysAdmin = 21, kCapPerfmon = 38, kCapBpf = 39;
constexpr char kTryPreload[] =
    "or trace with the preload engine (--engine preload), which needs no privileges";

}  // namespace

std::string ebpf_unavailable() {
  const uint64_t caps = effective_caps();
  auto has = [&](int cap) { return (caps >> cap) & 1; };
  if (!has(kCapSysAdmin) && !(has(kCapBpf) && has(kCapPerfmon)))
    return fmt::format("the kernel engine (eBPF) needs root, or the capabilities CAP_BPF and "
                       "CAP_PERFMON: run wstrace with sudo, or give it them (sudo setcap "
                       "cap_bpf,cap_perfmon+ep {}), {}",
                       "$(command -v wstrace)", kTryPreload);
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return fmt::format("the kernel engine (eBPF) needs a kernel with BTF type information "
                       "(/sys/kernel/btf/vmlinux is missing: a kernel built with "
                       "CONFIG_DEBUG_INFO_BTF=y, as Debian's and most distributions' are), {}",
                       kTryPreload);
  return {};
}

namespace {

// The last lines of libbpf's log, for an error message.
std::string libbpf_tail() {
  std::string log = g_libbpf_log;
  while (!log.empty() && log.back() == '\n') log.pop_back();
  size_t at = log.size();
  for (int lines = 0; lines < 4 && at != std::string::npos && at > 0; ++lines)
    at = log.rfind('\n', at - 1);
  return at == std::string::npos ? log : log.substr(at + 1);
}

// The ring buffer the BPF programs share: every CPU writes into it, wstrace drains it. Its
// size, unless `record --ring-kib` gives one (a power of two of at least a page).
constexpr uint32_t kKernelRingBytes = 16u << 20;
uint32_t kernel_ring_bytes(const RecordOptions& opt) {
  if (opt.ring_bytes == RecordOptions{}.ring_bytes) return kKernelRingBytes;
  const auto page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  return std::max(opt.ring_bytes, page);
}
// The collector's own rings, one per thread seen (kept in wstrace's memory, never shared): the
// kernel's records are queued there as the agent's would be, so one collector serves both.
constexpr uint32_t kSlots = 256;  // (untouched memory until a thread writes)
constexpr uint32_t kRingBytes = 256u << 10;
constexpr uint32_t kNoSlot = UINT32_MAX;
constexpr int kPollMs = 5;
constexpr int64_t kReclaimEvery = 20'000'000;

class EbpfEngine final : public LiveCapture {
 public:
  explicit EbpfEngine(const RecordOptions& opt) : opt_(opt) {}
  ~EbpfEngine() override;
  RecordError start(std::string& warning);

 private:
  bool step() override;
  RecordError load(std::string& warning);
  RecordError start_program(const std::string& path);
  static int on_event(void* self, void* data, size_t len);
  void take_event(const uint8_t* data, size_t len);
  void push(const EbpfRecord& r);
  uint32_t slot_for(uint32_t pid, uint32_t tid);
  void thread_ended(uint32_t tid);
  void read_drops(bool final);
  bool reap();
  void finish();
  RegionHeader* region() { return static_cast<RegionHeader*>(region_mem_); }

  RecordOptions opt_;
  wstrace_bpf* skel_ = nullptr;
  ring_buffer* rb_ = nullptr;
  std::string libc_;                 // where the lookup uprobes go ("" none)
  LookupProbes lookups_;              // (ebpf_attach_extra.h)
  void* region_mem_ = nullptr;
  RingGeometry geometry_{kSlots, kRingBytes};
  std::unique_ptr<trace::TraceWriter> writer_;
  std::unique_ptr<RingCollector> collector_;
  EbpfRecords records_;
  std::vector<EbpfRecord> converted_;
  std::unordered_map<uint32_t, uint32_t> slot_of_tid_;
  std::unordered_map<uint32_t, uint64_t> drops_seen_;  // pid → records reported lost
  uint64_t drops_reported_ = 0;
  pid_t child_ = -1;
  bool root_ended_ = false;
  bool root_seen_ = false;  // the BPF programs saw the program start
  int64_t last_reclaim_ = 0;
};

EbpfEngine::~EbpfEngine() {
  ring_buffer__free(rb_);
  detach_all(lookups_);
  wstrace_bpf__destroy(skel_);  // (detaches the programs)
  if (region_mem_) munmap(region_mem_, geometry_.region_bytes());
}

RecordError EbpfEngine::load(std::string& warning) {
  if (std::string why = ebpf_unavailable(); !why.empty()) return {1, why};
  libbpf_set_print(keep_libbpf_message);
  skel_ = wstrace_bpf__open();
  if (!skel_) return {1, fmt::format("cannot open the kernel engine's BPF object: {}",
                                     strerror(errno))};
  uint32_t snap = opt_.snaplen;
  if (snap > WS_EBPF_SNAP_MAX) {
    snap = WS_EBPF_SNAP_MAX;
    warning = fmt::format("the kernel engine keeps at most {} payload bytes per call: -s {} "
                          "recorded as -s {}",
                          WS_EBPF_SNAP_MAX,
                          opt_.snaplen == UINT32_MAX ? std::string("max")
                                                     : std::to_string(opt_.snaplen),
                          WS_EBPF_SNAP_MAX);
    opt_.snaplen = snap;
  }
  skel_->rodata->snaplen = snap;
  skel_->rodata->follow = opt_.follow ? 1 : 0;
  const int cpus = libbpf_num_possible_cpus();
  if (cpus <= 0) return {1, "cannot count this machine's CPUs for the kernel engine"};
  bpf_map__set_max_entries(skel_->maps.scratch_map, static_cast<uint32_t>(cpus));
  bpf_map__set_max_entries(skel_->maps.events, kernel_ring_bytes(opt_));
  // (A kernel without io_uring, or one naming its tracepoint otherwise: not counted there.)
  if (libbpf_find_vmlinux_btf_id("io_uring_submit_req", BPF_TRACE_RAW_TP) < 0)
    bpf_program__set_autoload(skel_->progs.uring_submit, false);
  libc_ = system_libc_path();
  skel_->rodata->lookups_on = libc_.empty() ? 0 : 1;
  prepare_lookups(skel_, lookups_);
  if (int err = wstrace_bpf__load(skel_))
    return {1, fmt::format("the kernel refused the kernel engine's BPF programs ({}): {}; {}",
                           strerror(-err), libbpf_tail(), kTryPreload)};
  if (int err = wstrace_bpf__attach(skel_))
    return {1, fmt::format("cannot attach the kernel engine to the system call tracepoints "
                           "({}): {}; {}",
                           strerror(-err), libbpf_tail(), kTryPreload)};
  if (!libc_.empty()) {
    if (std::string missing = attach_lookups(skel_, libc_, lookups_); !missing.empty())
      warning += fmt::format("{}the kernel engine cannot watch these lookups in {}: {} (their "
                             "wire DNS is still seen)",
                             warning.empty() ? "" : "; ", libc_, missing);
  }
  rb_ = ring_buffer__new(bpf_map__fd(skel_->maps.events), on_event, this, nullptr);
  if (!rb_) return {1, fmt::format("cannot read the kernel engine's ring buffer: {}",
                                   strerror(errno))};
  return {};
}

RecordError EbpfEngine::start(std::string& warning) {
  if (opt_.argv.empty())
    return {2, "record needs a program to run: wstrace record -- PROGRAM [ARGS…]"};
  // Reaching the program is the kernel engine's point: only a missing program stops it.
  Preflight pre = preflight(opt_.argv[0]);
  if (pre.verdict == Preflight::Verdict::NotFound) return {127, pre.message};
  if (pre.verdict == Preflight::Verdict::NotExecutable) return {126, pre.message};
  if (RecordError e = load(warning); e.exit_code) return e;

  region_mem_ = mmap(nullptr, geometry_.region_bytes(), PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (region_mem_ == MAP_FAILED) {
    region_mem_ = nullptr;
    return {1, fmt::format("cannot allocate the collector's rings: {}", strerror(errno))};
  }
  init_region(region_mem_, geometry_, opt_.snaplen, opt_.follow, 0);
  summary_.rings = geometry_.slots;

  summary_.output = opt_.output.empty() ? default_output() : opt_.output;
  header_ = make_linux_header(opt_, "ebpf");
  auto writer = trace::TraceWriter::create(summary_.output, header_);
  if (!writer.ok()) return {1, writer.status().message()};
  writer_ = std::move(writer.value());
  collector_ = std::make_unique<RingCollector>(
      opt_, region(), geometry_, *writer_, summary_, translate_linux_record, monotonic_ns,
      [this](const Event& ev) { take(ev); });
  // (Named by an absolute path, as the preload agent names it: exec passes the name on.)
  std::string path = pre.path;
  char cwd[4096];
  if (path[0] != '/' && getcwd(cwd, sizeof cwd)) path = std::string(cwd) + "/" + path;
  return start_program(path);
}

// The program starts stopped: its pid goes into the BPF programs' map before it runs, so that
// its first call is seen.
RecordError EbpfEngine::start_program(const std::string& path) {
  prctl(PR_SET_CHILD_SUBREAPER, 1);  // orphans of the tree come back to wstrace, to be waited for
  int go[2], exec_pipe[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(exec_pipe, O_CLOEXEC) != 0)
    return {1, fmt::format("pipe: {}", strerror(errno))};
  std::vector<char*> argv;
  for (const auto& a : opt_.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  forward_signals_to_program();
  child_ = fork();
  if (child_ < 0) return {1, fmt::format("cannot start {}: {}", opt_.argv[0], strerror(errno))};
  if (child_ == 0) {
    close(go[1]);
    close(exec_pipe[0]);
    char byte;
    while (read(go[0], &byte, 1) < 0 && errno == EINTR) {
    }
    execv(path.c_str(), argv.data());
    int e = errno;
    (void)!write(exec_pipe[1], &e, sizeof e);
    _exit(127);
  }
  close(go[0]);
  close(exec_pipe[1]);
  const uint32_t pid = static_cast<uint32_t>(child_);
  const uint8_t yes = 1;
  const int added = bpf_map__update_elem(skel_->maps.traced, &pid, sizeof pid, &yes, sizeof yes,
                                         BPF_ANY);
  if (added == 0) (void)!write(go[1], "g", 1);
  close(go[1]);  // (without the byte the program ends before exec)
  int exec_errno = 0;
  ssize_t got;
  while ((got = read(exec_pipe[0], &exec_errno, sizeof exec_errno)) < 0 && errno == EINTR) {
  }
  close(exec_pipe[0]);
  if (added != 0 || got == sizeof exec_errno) {
    waitpid(child_, nullptr, 0);
    remove_unused_trace(summary_.output);
    if (added != 0)
      return {1, fmt::format("cannot tell the kernel engine which process to trace: {}",
                             strerror(-added))};
    return {exec_errno == ENOENT ? 127 : 126,
            fmt::format("cannot run {}: {}", path, strerror(exec_errno))};
  }
  return {};
}

int EbpfEngine::on_event(void* self, void* data, size_t len) {
  static_cast<EbpfEngine*>(self)->take_event(static_cast<const uint8_t*>(data), len);
  return 0;
}

void EbpfEngine::take_event(const uint8_t* data, size_t len) {
  converted_.clear();
  const EbpfOutcome o = records_.convert(data, len, converted_);
  for (const EbpfRecord& r : converted_) {
    if (r.pid == static_cast<uint32_t>(child_)) root_seen_ = true;
    push(r);
  }
  if (o.ended_tid) thread_ended(o.ended_tid);
}

// A free ring for thread `tid` of `pid` (the one it has when it has one); kNoSlot when every
// ring is taken even after the collector gave back those of ended threads.
uint32_t EbpfEngine::slot_for(uint32_t pid, uint32_t tid) {
  Slot* slots = slots_of(region());
  if (auto it = slot_of_tid_.find(tid); it != slot_of_tid_.end()) {
    Slot& s = slots[it->second];
    if (s.state.load() == kSlotActive && s.pid.load() == pid && s.tid.load() == tid)
      return it->second;
    slot_of_tid_.erase(it);  // freed since (reclaimed, or the tid was reused)
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    for (uint32_t i = 0; i < geometry_.slots; ++i) {
      if (slots[i].state.load() != kSlotFree) continue;
      slots[i].pid.store(pid);
      slots[i].tid.store(tid);
      slots[i].state.store(kSlotActive);
      slot_of_tid_[tid] = i;
      return i;
    }
    collector_->drain();  // frees the rings of threads that ended
  }
  return kNoSlot;
}

void EbpfEngine::push(const EbpfRecord& r) {
  const uint32_t i = slot_for(r.pid, r.tid);
  if (i == kNoSlot) {
    int32_t entry = -1;
    count_no_ring(region(), r.pid, entry, false);
    return;
  }
  const Part part{r.bytes.data(), r.bytes.size()};
  Span spans[2];
  // A full ring is drained first: these records are in wstrace's hands, none need be lost.
  if (!ring_span(region(), geometry_, i, 4 + part.size, 0, 0, spans)) collector_->drain();
  ring_push(region(), geometry_, i, &part, 1);
}

void EbpfEngine::thread_ended(uint32_t tid) {
  auto it = slot_of_tid_.find(tid);
  if (it == slot_of_tid_.end()) return;
  slots_of(region())[it->second].state.store(kSlotReleased);
  slot_of_tid_.erase(it);
}

// Records the BPF programs could not queue, per process, as drops events; with `final`, those
// no process could be charged with too (the per-process map was full).
void EbpfEngine::read_drops(bool final) {
  bpf_map* per_proc = skel_->maps.drops_proc;
  uint32_t key = 0, next = 0;
  const uint32_t* prev = nullptr;
  while (bpf_map__get_next_key(per_proc, prev, &next, sizeof next) == 0) {
    uint64_t n = 0;
    if (bpf_map__lookup_elem(per_proc, &next, sizeof next, &n, sizeof n, 0) == 0) {
      uint64_t& seen = drops_seen_[next];
      if (n > seen) {
        collector_->lost_before_ring(next, n - seen, DropReason::KernelRingFull);
        drops_reported_ += n - seen;
        seen = n;
      }
    }
    key = next;
    prev = &key;
  }
  if (!final) return;
  const int cpus = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(static_cast<size_t>(cpus > 0 ? cpus : 1));
  const uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.drops_cpu, &zero, sizeof zero, per_cpu.data(),
                           per_cpu.size() * sizeof(uint64_t), 0) != 0)
    return;
  uint64_t total = 0;
  for (uint64_t n : per_cpu) total += n;
  if (total > drops_reported_)
    collector_->lost_before_ring(0, total - drops_reported_, DropReason::KernelRingFull);
}

bool EbpfEngine::step() {
  if (const int sig = take_forwarded_signal()) kill(child_, sig);
  ring_buffer__poll(rb_, kPollMs);
  const int64_t now = monotonic_ns();
  if (now - last_reclaim_ >= kReclaimEvery) {
    collector_->reclaim(task_alive);
    read_drops(false);
    last_reclaim_ = now;
  } else {
    collector_->drain();
  }
  if (!reap() || (root_ended_ && !opt_.follow)) {
    finish();
    return false;
  }
  return true;
}

// Notes the processes that ended; false once every process of the tree has. Their last records
// are in the kernel's ring before their parent can wait for them: it is drained first, so that
// the exits the BPF programs saw (with their status) come before wstrace's own.
bool EbpfEngine::reap() {
  return reap_children([this](pid_t pid, int code) {
    ring_buffer__consume(rb_);
    collector_->process_ended(static_cast<uint32_t>(pid), code);
    if (pid == child_) summary_.exit_status = code, root_ended_ = true;
  });
}

void EbpfEngine::finish() {
  ring_buffer__consume(rb_);
  collector_->drain();
  read_drops(true);
  finish_trace(*collector_, *writer_, summary_);
  // The kernel names processes by their pids in its first namespace: wstrace in another (a
  // container's) gave the BPF programs a pid they never see.
  if (!root_seen_ && summary_.problem.empty())
    summary_.problem = "the kernel engine saw nothing of the program: wstrace runs in a PID "
                       "namespace of its own (a container?), which the engine does not support "
                       "yet — run it in the host's, or use --engine preload";
}

}  // namespace

RecordError record_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out,
                        std::string& warning) {
  auto engine = std::make_unique<EbpfEngine>(opt);
  RecordError err = engine->start(warning);
  if (!err.exit_code) out = std::move(engine);
  return err;
}

bool ebpf_built() { return true; }

}  // namespace ws::capture
