#include "record_ebpf.h"

#include <bpf/bpf.h>
#include <bpf/btf.h>
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
#include "filter.h"
#include "preflight.h"
#include "prefilter.h"
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

// Why the engine cannot run here and what to do; `then` ends the message (", or …": what else
// there is; attach and --system have nothing else).
std::string unavailable(std::string_view then) {
  const uint64_t caps = effective_caps();
  auto has = [&](int cap) { return (caps >> cap) & 1; };
  if (!has(kCapSysAdmin) && !(has(kCapBpf) && has(kCapPerfmon)))
    return fmt::format("the kernel engine (eBPF) needs root, or the capabilities CAP_BPF and "
                       "CAP_PERFMON: run wstrace with sudo, or give it them (sudo setcap "
                       "cap_bpf,cap_perfmon+ep {}){}",
                       "$(command -v wstrace)", then);
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0)
    return fmt::format("the kernel engine (eBPF) needs a kernel with BTF type information "
                       "(/sys/kernel/btf/vmlinux is missing: a kernel built with "
                       "CONFIG_DEBUG_INFO_BTF=y, as Debian's and most distributions' are){}",
                       then);
  return {};
}

}  // namespace

std::string ebpf_unavailable() { return unavailable(fmt::format(", {}", kTryPreload)); }

namespace {

// Whether the kernel's tcp_retransmit_skb tracepoint passes the retransmission's error (from
// 6.13): its BTF typedef points to a prototype with four arguments then (the context first).
bool retransmit_has_err() {
  btf* vmlinux = btf__load_vmlinux_btf();
  if (!vmlinux) return false;
  bool err = false;
  const int id = btf__find_by_name_kind(vmlinux, "btf_trace_tcp_retransmit_skb", BTF_KIND_TYPEDEF);
  const btf_type* t = id > 0 ? btf__type_by_id(vmlinux, static_cast<uint32_t>(id)) : nullptr;
  if (t) t = btf__type_by_id(vmlinux, t->type);
  if (t && btf_is_ptr(t)) t = btf__type_by_id(vmlinux, t->type);
  if (t && btf_is_func_proto(t)) err = btf_vlen(t) >= 4;
  btf__free(vmlinux);
  return err;
}

// The TCP programs (wstrace_tcp.bpf.h): readings unless --no-tcp-info, and the retransmission
// program written for this kernel's tracepoint.
void configure_tcp(wstrace_bpf* skel, const RecordOptions& opt) {
  skel->rodata->tcp_readings = opt.tcp_info_ms ? 1 : 0;
  const bool err = retransmit_has_err();
  bpf_program__set_autoload(skel->progs.tcp_retransmit, !err);
  bpf_program__set_autoload(skel->progs.tcp_retransmit_err, err);
}

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
constexpr uint32_t kRingBytes = 1u << 20;  // (a sendfile's record may hold 256 KiB)
static_assert(WS_EBPF_ZC_SNAP_MAX <= kRingBytes / 2);
constexpr uint32_t kNoSlot = UINT32_MAX;
constexpr int kPollMs = 5;
constexpr int64_t kReclaimEvery = 20'000'000;

class EbpfEngine final : public LiveCapture {
 public:
  explicit EbpfEngine(const RecordOptions& opt) : opt_(opt) {}
  ~EbpfEngine() override;
  RecordError start(std::string& warning);
  RecordError start_attach();
  RecordError start_system();

 private:
  bool step() override;
  void catch_up() override {
    ring_buffer__consume(rb_);
    collector_->drain();
  }
  RecordError load(std::string& warning);
  RecordError set_prefilter(const inspect::PreFilter& pre);
  RecordError fill_prefilter_maps();
  RecordError open_output();
  RecordError walk_sockets(uint32_t pid);
  bool attached_alive() const;
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
  // attach and --system: stopped by a signal (the processes run on: no end is made up for
  // them), or by --duration at `deadline_`.
  bool detached_ = false;
  int64_t deadline_ = 0;
  inspect::PreFilter prefilter_;  // (--system) what the kernel is told to keep
  std::vector<std::pair<uint32_t, uint32_t>> pf_pids_;   // pid → clauses, for the map
  std::vector<std::pair<uint16_t, uint32_t>> pf_ports_;  // port → clauses
  int64_t last_alive_check_ = 0;
};

EbpfEngine::~EbpfEngine() {
  ring_buffer__free(rb_);
  detach_all(lookups_);
  wstrace_bpf__destroy(skel_);  // (detaches the programs)
  if (region_mem_) munmap(region_mem_, geometry_.region_bytes());
}

RecordError EbpfEngine::load(std::string& warning) {
  // (The preload engine is the way out for a program wstrace starts, not for the others.)
  const std::string or_preload =
      opt_.mode == RecordOptions::Mode::Program ? fmt::format("; {}", kTryPreload) : "";
  const bool program = opt_.mode == RecordOptions::Mode::Program;
  if (std::string why = unavailable(program ? fmt::format(", {}", kTryPreload) : ""); !why.empty())
    return {1, why};
  libbpf_set_print(keep_libbpf_message);
  skel_ = wstrace_bpf__open();
  if (!skel_) return {1, fmt::format("cannot open the kernel engine's BPF object: {}",
                                     strerror(errno))};
  uint32_t snap = opt_.snaplen;
  // (a sendfile's payload, read from the page cache in pieces, may be longer: up to
  // WS_EBPF_ZC_SNAP_MAX)
  skel_->rodata->zc_snaplen = std::min<uint32_t>(snap, WS_EBPF_ZC_SNAP_MAX);
  if (snap > WS_EBPF_SNAP_MAX) {
    snap = WS_EBPF_SNAP_MAX;
    warning = fmt::format("the kernel engine keeps at most {} payload bytes per call ({} of a "
                          "sendfile): -s {} recorded as -s {}",
                          WS_EBPF_SNAP_MAX, skel_->rodata->zc_snaplen,
                          opt_.snaplen == UINT32_MAX ? std::string("max")
                                                     : std::to_string(opt_.snaplen),
                          WS_EBPF_SNAP_MAX);
    opt_.snaplen = snap;
  }
  skel_->rodata->snaplen = snap;
  skel_->rodata->follow = opt_.follow ? 1 : 0;
  skel_->rodata->self_tgid = static_cast<uint32_t>(getpid());
  if (opt_.mode == RecordOptions::Mode::System) {
    skel_->rodata->trace_all = 1;
    if (RecordError e = set_prefilter(prefilter_); e.exit_code) return e;
  }
  bpf_program__set_autoattach(skel_->progs.attach_sockets, false);  // (run by attach alone)
  configure_tcp(skel_, opt_);
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
    return {1, fmt::format("the kernel refused the kernel engine's BPF programs ({}): {}{}",
                           strerror(-err), libbpf_tail(), or_preload)};
  if (RecordError e = fill_prefilter_maps(); e.exit_code) return e;
  if (int err = wstrace_bpf__attach(skel_))
    return {1, fmt::format("cannot attach the kernel engine to the system call tracepoints "
                           "({}): {}{}",
                           strerror(-err), libbpf_tail(), or_preload)};
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
  if (RecordError e = open_output(); e.exit_code) return e;
  // (Named by an absolute path, as the preload agent names it: exec passes the name on.)
  std::string path = pre.path;
  char cwd[4096];
  if (path[0] != '/' && getcwd(cwd, sizeof cwd)) path = std::string(cwd) + "/" + path;
  return start_program(path);
}

// The collector's rings, the trace file (its header saying what is traced) and the collector.
RecordError EbpfEngine::open_output() {
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
  if (opt_.mode != RecordOptions::Mode::Program) records_.adopt_unknown();
  if (opt_.mode == RecordOptions::Mode::Attach) {
    header_.mode = "attach";
    header_.command = "attach";
    for (uint32_t pid : opt_.pids) header_.command += fmt::format(" {}", pid);
  } else if (opt_.mode == RecordOptions::Mode::System) {
    header_.mode = "system";
    header_.command = "record --system";
    if (!opt_.filter.empty()) header_.command += fmt::format(" --filter '{}'", opt_.filter);
  }
  auto writer = trace::TraceWriter::create(summary_.output, header_);
  if (!writer.ok()) return {1, writer.status().message()};
  writer_ = std::move(writer.value());
  collector_ = std::make_unique<RingCollector>(
      opt_, region(), geometry_, *writer_, summary_, translate_linux_record, monotonic_ns,
      [this](const Event& ev) { take(ev); });
  return {};
}

// Why the processes the kernel names cannot be those wstrace sees: it runs in a PID namespace
// of its own (a container's), where /proc and its own pid are not the kernel's. Empty when not.
std::string own_pid_namespace() {
  FILE* f = fopen("/proc/self/status", "re");
  if (!f) return {};
  char line[256];
  bool nested = false;  // ("NSpid:\t4242\t7": a pid in each namespace, the host's first)
  while (fgets(line, sizeof line, f))
    if (std::strncmp(line, "NSpid:", 6) == 0)
      nested = std::count(line + 6, line + std::strlen(line), '\t') > 1;
  fclose(f);
  return nested ? "wstrace runs in a PID namespace of its own (a container?), where the kernel "
                  "engine cannot name processes: run it in the host's"
                : "";
}

// The thread group of `pid` (0 when it is not running): a thread's id names its process.
uint32_t tgid_of(uint32_t pid) {
  FILE* f = fopen(fmt::format("/proc/{}/status", pid).c_str(), "re");
  if (!f) return 0;
  char line[256];
  uint32_t tgid = 0;
  while (fgets(line, sizeof line, f))
    if (std::strncmp(line, "Tgid:", 5) == 0) tgid = static_cast<uint32_t>(std::strtoul(line + 5, nullptr, 10));
  fclose(f);
  return tgid;
}

RecordError EbpfEngine::start_attach() {
  if (opt_.pids.empty()) return {2, "attach needs the id of a running process: wstrace attach PID…"};
  const auto self = static_cast<uint32_t>(getpid());
  for (uint32_t& pid : opt_.pids) {
    if (pid == self) return {1, fmt::format("process {} is this wstrace itself", pid)};
    const uint32_t tgid = pid ? tgid_of(pid) : 0;
    if (!tgid || !task_alive(tgid, pid))
      return {1, fmt::format("no process {} is running here", pid)};
    if (tgid == self) return {1, fmt::format("{} is a thread of this wstrace itself", pid)};
    pid = tgid;  // (a thread's id: its process is traced)
  }
  std::sort(opt_.pids.begin(), opt_.pids.end());
  opt_.pids.erase(std::unique(opt_.pids.begin(), opt_.pids.end()), opt_.pids.end());
  if (std::string why = own_pid_namespace(); !why.empty()) return {1, why};
  std::string warning;
  if (RecordError e = load(warning); e.exit_code) return e;
  if (!warning.empty() && opt_.on_warning) opt_.on_warning(warning);
  if (RecordError e = open_output(); e.exit_code) return e;
  forward_signals_to_program();  // (here: they end the attach, the processes run on)
  // Each process is named before its first call can be seen (the same time orders them), then
  // its sockets are walked: a socket made meanwhile is seen both ways, none is missed.
  const int64_t now = monotonic_ns();
  const uint8_t yes = 1;
  for (uint32_t pid : opt_.pids) {
    converted_.clear();
    records_.adopt(pid, now, converted_);
    for (const EbpfRecord& r : converted_) push(r);
    if (int err = bpf_map__update_elem(skel_->maps.traced, &pid, sizeof pid, &yes, sizeof yes,
                                       BPF_ANY))
      return {1, fmt::format("cannot tell the kernel engine to trace process {}: {}", pid,
                             strerror(-err))};
  }
  for (uint32_t pid : opt_.pids)
    if (RecordError e = walk_sockets(pid); e.exit_code) return e;
  return {};
}

// The sockets process `pid` has now, as inherited events (the BPF iterator attach_sockets).
RecordError EbpfEngine::walk_sockets(uint32_t pid) {
  skel_->bss->iter_tgid = pid;
  bpf_link* link = bpf_program__attach_iter(skel_->progs.attach_sockets, nullptr);
  if (!link)
    return {1, fmt::format("the kernel refused the iterator over process {}'s sockets: {}", pid,
                           strerror(errno))};
  const int fd = bpf_iter_create(bpf_link__fd(link));
  char buf[64];
  ssize_t n = fd < 0 ? -1 : 0;
  while (fd >= 0 && ((n = read(fd, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR))) {
  }
  const int e = errno;
  if (fd >= 0) close(fd);
  bpf_link__destroy(link);
  if (n < 0)
    return {1, fmt::format("cannot walk process {}'s sockets: {}", pid, strerror(e))};
  ring_buffer__consume(rb_);
  return {};
}

RecordError EbpfEngine::start_system() {
  if (!opt_.filter.empty()) {
    auto f = inspect::Filter::parse(opt_.filter);
    if (!f.ok()) return {2, f.status().message()};
    prefilter_ = inspect::derive_prefilter(f.value());
  } else {
    prefilter_ = inspect::derive_prefilter(inspect::Filter());
  }
  if (std::string why = own_pid_namespace(); !why.empty()) return {1, why};
  std::string warning;
  if (RecordError e = load(warning); e.exit_code) return e;
  if (!warning.empty() && opt_.on_warning) opt_.on_warning(warning);
  if (RecordError e = open_output(); e.exit_code) return e;
  forward_signals_to_program();  // (here: they end the capture)
  if (opt_.duration_ns > 0) deadline_ = monotonic_ns() + opt_.duration_ns;
  return {};
}

// The pre-filter into the BPF programs' read-only data (before load); its pid and port sets
// go to their maps after load (fill_prefilter_maps). A set too big for the room the BPF side
// has leaves its dimension free for that clause: wider, never narrower.
RecordError EbpfEngine::set_prefilter(const inspect::PreFilter& pre) {
  auto& pf = skel_->rodata->pf;
  if (pre.all()) return {};  // (pf.active 0: every call)
  if (pre.clauses.empty()) {  // the filter keeps nothing: a clause no call meets
    pf.active = pf.c_func = 1;
    return {};
  }
  std::unordered_map<uint32_t, uint32_t> pids;
  std::unordered_map<uint16_t, uint32_t> ports;
  for (size_t i = 0; i < pre.clauses.size() && i < inspect::kPreMaxClauses; ++i) {
    const inspect::PreClause& c = pre.clauses[i];
    const uint32_t bit = 1u << i;
    pf.active |= bit;
    if (c.pids && pids.size() + c.pids->size() <= WS_PF_MAX_PIDS) {
      pf.c_pid |= bit;
      for (uint32_t pid : *c.pids) pids[pid] |= bit;
    }
    if (c.names && pf.nnames + c.names->size() <= WS_PF_MAX_NAMES) {
      pf.c_name |= bit;
      for (const std::string& name : *c.names) {
        auto& n = pf.names[pf.nnames++];
        const size_t len = std::min(name.size(), sizeof n.prefix - 1);
        for (size_t k = 0; k < len; ++k) n.prefix[k] = name[k];
        n.len = static_cast<uint32_t>(len);
        n.clauses = bit;
      }
    }
    if (c.ports && ports.size() + c.ports->size() <= WS_PF_MAX_PORTS) {
      pf.c_port |= bit;
      for (uint16_t port : *c.ports) ports[port] |= bit;
    }
    if (c.addrs && pf.ncidrs + c.addrs->size() <= WS_PF_MAX_CIDRS) {
      pf.c_addr |= bit;
      for (const inspect::PreCidr& a : *c.addrs) {
        auto& b = pf.cidrs[pf.ncidrs++];
        for (size_t k = 0; k < 16; ++k) b.ip[k] = a.ip[k];
        b.bits = a.bits;
        b.clauses = bit;
      }
    }
    if (c.funcs) {
      pf.c_func |= bit;
      for (uint32_t nr = 0; nr < WS_PF_MAX_NR; ++nr)
        for (FuncId f : *c.funcs)
          if (ebpf_records_as(nr, f)) pf.funcs[nr] |= bit;
    }
  }
  pf_pids_.assign(pids.begin(), pids.end());
  pf_ports_.assign(ports.begin(), ports.end());
  return {};
}

RecordError EbpfEngine::fill_prefilter_maps() {
  for (const auto& [pid, bits] : pf_pids_)
    if (int err = bpf_map__update_elem(skel_->maps.pf_pids, &pid, sizeof pid, &bits, sizeof bits,
                                       BPF_ANY))
      return {1, fmt::format("cannot give the kernel engine the filter's pids: {}",
                             strerror(-err))};
  for (const auto& [port, bits] : pf_ports_)
    if (int err = bpf_map__update_elem(skel_->maps.pf_ports, &port, sizeof port, &bits,
                                       sizeof bits, BPF_ANY))
      return {1, fmt::format("cannot give the kernel engine the filter's ports: {}",
                             strerror(-err))};
  return {};
}

// attach: whether a process traced from the attach on still runs (its end may have been lost
// with a full ring).
bool EbpfEngine::attached_alive() const {
  for (uint32_t pid : collector_->running())
    if (task_alive(pid, pid)) return true;
  return false;
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
  const bool program = opt_.mode == RecordOptions::Mode::Program;
  if (const int sig = take_forwarded_signal()) {
    if (program) {
      kill(child_, sig);
    } else {  // attach, --system: stop tracing, the processes run on
      detached_ = true;
      finish();
      return false;
    }
  }
  ring_buffer__poll(rb_, kPollMs);
  const int64_t now = monotonic_ns();
  if (!program) {
    if (now - last_reclaim_ >= kReclaimEvery) {
      collector_->reclaim(task_alive);
      read_drops(false);
      last_reclaim_ = now;
    } else {
      collector_->drain();
    }
    if (deadline_ && now >= deadline_) {
      detached_ = true;
      finish();
      return false;
    }
    // attach ends with the last traced process (its exit, or a look at /proc every 100 ms
    // for one whose exit record was lost).
    if (opt_.mode == RecordOptions::Mode::Attach && now - last_alive_check_ >= 100'000'000) {
      last_alive_check_ = now;
      ring_buffer__consume(rb_);
      collector_->drain();
      if (!attached_alive()) {
        finish();
        return false;
      }
    }
    return true;
  }
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
  // The programs are taken out first: a detached process runs untraced from here on.
  if (detached_) wstrace_bpf__detach(skel_);
  ring_buffer__consume(rb_);
  collector_->drain();
  read_drops(true);
  finish_trace(*collector_, *writer_, summary_, !detached_);
  if (opt_.mode != RecordOptions::Mode::Program) return;
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

namespace {

RecordError start_in_mode(const RecordOptions& opt, RecordOptions::Mode mode,
                          RecordError (EbpfEngine::*start)(), std::unique_ptr<LiveEngine>& out) {
  RecordOptions o = opt;
  o.mode = mode;
  auto engine = std::make_unique<EbpfEngine>(o);
  RecordError err = (engine.get()->*start)();
  if (!err.exit_code) out = std::move(engine);
  return err;
}

}  // namespace

RecordError attach_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) {
  return start_in_mode(opt, RecordOptions::Mode::Attach, &EbpfEngine::start_attach, out);
}

RecordError system_ebpf(const RecordOptions& opt, std::unique_ptr<LiveEngine>& out) {
  return start_in_mode(opt, RecordOptions::Mode::System, &EbpfEngine::start_system, out);
}

bool ebpf_built() { return true; }

}  // namespace ws::capture
