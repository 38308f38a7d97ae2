#include "agent.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace ws::agent {
namespace {

RegionHeader* g_region = nullptr;
uint32_t g_pid = 0;
bool g_enabled = false;
pthread_key_t g_thread_key;

// Per-thread state, in static TLS (initial-exec: no allocation, no lock on first use).
struct ThreadState {
  int32_t slot = -1;   // ring this thread owns, or -1
  uint32_t tid = 0;
  bool pushing = false;  // inside ring_push: a call from a signal handler now must not push
  bool no_ring = false;  // every ring was taken when this thread asked: don't scan again
};
__attribute__((tls_model("initial-exec"))) thread_local ThreadState t_state;

constexpr int kFdTableSize = 1 << 16;
uint8_t g_fd_kind[kFdTableSize];  // 0 unknown, 1 socket, 2 other; beyond the table: fstat

const uint8_t kZeros[8] = {};

uint32_t current_tid() {
  if (!t_state.tid) t_state.tid = static_cast<uint32_t>(syscall(SYS_gettid));
  return t_state.tid;
}

void release_slot(void*) {
  if (t_state.slot >= 0 && g_region)
    slots_of(g_region)[t_state.slot].state.store(kSlotReleased, std::memory_order_release);
  t_state.slot = -1;
}

// Claims a free ring for this thread; -1 when all are taken (the record is then counted in
// no_slot_drops).
int32_t claim_slot() {
  if (t_state.slot >= 0) return t_state.slot;
  if (t_state.no_ring) return -1;
  Slot* slots = slots_of(g_region);
  const uint32_t n = g_region->slot_count;
  const uint32_t tid = current_tid();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t k = (tid + i) % n;
    uint32_t expected = kSlotFree;
    if (slots[k].state.compare_exchange_strong(expected, kSlotActive, std::memory_order_acq_rel)) {
      slots[k].pid.store(g_pid, std::memory_order_relaxed);
      slots[k].tid.store(tid, std::memory_order_relaxed);
      t_state.slot = static_cast<int32_t>(k);
      pthread_setspecific(g_thread_key, &t_state);  // release_slot runs at thread exit
      return t_state.slot;
    }
  }
  t_state.no_ring = true;
  return -1;
}

void read_file(const char* path, char* buf, size_t cap, size_t* len) {
  *len = 0;
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n;
  while (*len < cap && (n = ::read(fd, buf + *len, cap - *len)) > 0) *len += static_cast<size_t>(n);
  ::close(fd);
}

void record_process_start() {
  static char exe[4096], cmdline[4096];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  exe[n > 0 ? n : 0] = '\0';
  size_t len = 0;
  read_file("/proc/self/cmdline", cmdline, sizeof cmdline - 1, &len);
  for (size_t i = 0; i + 1 < len; ++i)
    if (cmdline[i] == '\0') cmdline[i] = ' ';
  cmdline[len] = '\0';
  Call c(FuncId::process_start);
  c.done(0, false);
  c.u64(FieldId::ppid, static_cast<uint64_t>(getppid()));
  c.str(FieldId::image, exe);
  c.str(FieldId::cmdline, cmdline);
  c.u64(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
}

bool should_record_here() {
  return g_region->follow || g_region->root_pid == g_pid;
}

void after_fork_in_child() {
  // The child must not write into the parent's rings: it gets rings of its own on first use.
  t_state.slot = -1;
  t_state.tid = 0;
  t_state.no_ring = false;
  g_pid = static_cast<uint32_t>(getpid());
  if (!g_region) return;
  g_enabled = should_record_here();
  if (g_enabled) record_process_start();
}

__attribute__((constructor(101))) void agent_init() {
  const char* name = getenv("WSTRACE_SHM");
  if (!name || !*name) return;
  char path[256];
  size_t n = strlen(name);
  if (n + 9 >= sizeof path) return;
  memcpy(path, "/dev/shm/", 9);
  memcpy(path + 9, name[0] == '/' ? name + 1 : name, n + 1);
  int fd = ::open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  struct stat st {};
  if (fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(sizeof(RegionHeader))) {
    ::close(fd);
    return;
  }
  void* mem = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED,
                   fd, 0);
  ::close(fd);
  if (mem == MAP_FAILED) return;
  auto* r = static_cast<RegionHeader*>(mem);
  if (!region_valid(r, static_cast<size_t>(st.st_size))) {
    munmap(mem, static_cast<size_t>(st.st_size));
    return;
  }
  g_region = r;
  g_pid = static_cast<uint32_t>(getpid());
  pthread_key_create(&g_thread_key, release_slot);
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
  g_enabled = should_record_here();
  if (g_enabled) record_process_start();
}

}  // namespace

void* real_symbol(const char* name) { return dlsym(RTLD_NEXT, name); }

bool enabled() { return g_enabled && !t_state.pushing; }
uint32_t snaplen() { return g_region ? g_region->snaplen : 0; }

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool is_socket(int fd) {
  if (fd < 0) return false;
  if (fd < kFdTableSize) {
    uint8_t k = __atomic_load_n(&g_fd_kind[fd], __ATOMIC_RELAXED);
    if (k) return k == 1;
  }
  struct stat st {};
  bool sock = fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode);
  if (fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], sock ? 1 : 2, __ATOMIC_RELAXED);
  return sock;
}

void mark_socket(int fd) {
  if (fd >= 0 && fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], 1, __ATOMIC_RELAXED);
}

void forget_fd(int fd) {
  if (fd >= 0 && fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], 0, __ATOMIC_RELAXED);
}

// Calls may nest (a signal handler, or a library that makes socket calls inside a lookup):
// each Call keeps its record on its own stack and only touches the ring in its destructor.
Call::Call(FuncId f) : active_(g_enabled) {
  if (!active_) return;
  head_.func = static_cast<uint8_t>(f);
  head_.ts = now_ns();
}

void Call::done(int64_t result, bool failed) {
  errno_ = errno;
  if (!active_) return;
  head_.dur = static_cast<uint64_t>(now_ns() - head_.ts);
  head_.result = result;
  if (failed) {
    head_.err = errno_;
    head_.err_domain = static_cast<uint8_t>(ErrDomain::Errno);
  }
}

void Call::error(ErrDomain d, int32_t v) {
  head_.err = v;
  head_.err_domain = static_cast<uint8_t>(v ? d : ErrDomain::None);
}

void Call::add(const void* p, size_t n) {
  if (nparts_ < kMaxParts) parts_[nparts_++] = Part{p, n};
}

void Call::pad(uint32_t size) {
  if (raw_pad(size) != size) add(kZeros, raw_pad(size) - size);
}

void Call::arg(FieldId f, RawKind kind, uint32_t size) {
  RawArg& a = args_[nargs_];
  a.field = static_cast<uint8_t>(f);
  a.kind = kind;
  a.pad = 0;
  a.size = size;
  add(&a, sizeof a);
}

void Call::u64(FieldId f, uint64_t v) {
  if (!active_ || nargs_ >= kMaxArgs || nparts_ + 2 > kMaxParts) return;
  nums_[nargs_] = v;
  arg(f, kRawU64, 8);
  add(&nums_[nargs_], 8);
  ++nargs_;
}

void Call::i64(FieldId f, int64_t v) {
  u64(f, static_cast<uint64_t>(v));
  if (active_ && nargs_ && args_[nargs_ - 1].field == static_cast<uint8_t>(f))
    args_[nargs_ - 1].kind = kRawI64;
}

void Call::platform_const(FieldId f, int64_t v) {
  u64(f, static_cast<uint64_t>(v));
  if (active_ && nargs_ && args_[nargs_ - 1].field == static_cast<uint8_t>(f))
    args_[nargs_ - 1].kind = kRawPlatformConst;
}

void Call::sockopt(int64_t level, int64_t name) {
  if (!active_ || nargs_ + 1 >= kMaxArgs || nparts_ + 3 > kMaxParts) return;
  // Two numbers under one argument: level, then name.
  nums_[nargs_] = static_cast<uint64_t>(level);
  nums_[nargs_ + 1] = static_cast<uint64_t>(name);
  arg(FieldId::optname, kRawSockopt, 16);
  add(&nums_[nargs_], 16);
  nargs_ += 2;
}

void Call::blob(FieldId f, RawKind kind, const void* data, size_t size) {
  if (!active_ || nargs_ >= kMaxArgs || nparts_ + 3 > kMaxParts || !data) return;
  arg(f, kind, static_cast<uint32_t>(size));
  add(data, size);
  pad(static_cast<uint32_t>(size));
  ++nargs_;
}

void Call::sockaddr(FieldId f, const struct sockaddr* sa, socklen_t len) {
  if (!sa || len < sizeof(sa_family_t)) return;
  if (len > sizeof(sockaddr_storage)) len = sizeof(sockaddr_storage);
  blob(f, kRawSockaddr, sa, len);
}

void Call::str(FieldId f, const char* s) {
  if (s) blob(f, kRawString, s, strlen(s));
}

void Call::payload(const void* buf, int64_t total) {
  if (!active_ || total <= 0 || !buf) return;
  struct iovec one = {const_cast<void*>(buf), static_cast<size_t>(total)};
  payload_iov(&one, 1, total);
}

void Call::payload_iov(const struct iovec* iov, size_t iovcnt, int64_t total) {
  if (!active_ || total <= 0 || nargs_ >= kMaxArgs || nparts_ + 4 > kMaxParts) return;
  const uint64_t limit = g_region->ring_bytes / 4;
  uint64_t want = static_cast<uint64_t>(total);
  if (want > snaplen()) want = snaplen();
  if (want > limit) want = limit;
  nums_[nargs_] = static_cast<uint64_t>(total);
  RawArg& a = args_[nargs_];
  arg(FieldId::payload, kRawBytes, 0);
  add(&nums_[nargs_], 8);
  uint64_t kept = 0;
  for (size_t i = 0; i < iovcnt && kept < want && nparts_ + 2 < kMaxParts; ++i) {
    uint64_t take = iov[i].iov_len < want - kept ? iov[i].iov_len : want - kept;
    if (take) add(iov[i].iov_base, static_cast<size_t>(take));
    kept += take;
  }
  a.size = static_cast<uint32_t>(8 + kept);
  pad(a.size);
  ++nargs_;
}

Call::~Call() {
  if (!active_) return;
  if (!skip_) {
    int32_t slot = t_state.pushing ? t_state.slot : claim_slot();
    if (slot < 0) {
      g_region->no_slot_drops.fetch_add(1, std::memory_order_relaxed);
    } else if (t_state.pushing) {
      // A signal handler interrupted this thread's own push: the ring is mid-write, so this
      // record can only be counted.
      slots_of(g_region)[slot].dropped.fetch_add(1, std::memory_order_relaxed);
    } else {
      t_state.pushing = true;
      head_.tid = current_tid();
      head_.nargs = static_cast<uint8_t>(nargs_);
      // The head goes first: shift the parts by one.
      Part all[kMaxParts + 1];
      all[0] = Part{&head_, sizeof head_};
      memcpy(all + 1, parts_, nparts_ * sizeof(Part));
      ring_push(g_region, static_cast<uint32_t>(slot), all, nparts_ + 1);
      t_state.pushing = false;
    }
  }
  errno = errno_;
}

}  // namespace ws::agent
