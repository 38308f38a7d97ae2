#include "agent.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/auxv.h>
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
RingGeometry g_geometry;     // read once when the region is mapped: the program may rewrite it
std::atomic<int32_t> g_no_ring_entry{-1};  // this process's entry of the region's no-ring table
uint32_t g_pid = 0;
bool g_enabled = false;
pthread_key_t g_thread_key;

// Per-thread state, in static TLS (initial-exec: no allocation, no lock on first use).
struct ThreadState {
  int32_t slot = -1;   // ring this thread owns, or -1
  uint32_t tid = 0;
  bool pushing = false;  // inside ring_push: a call from a signal handler now must not push
  bool no_ring = false;  // every ring was taken when this thread asked: look again only
  uint32_t frees_seen = 0;  // … once the collector has freed a ring since (region->frees)
};
__attribute__((tls_model("initial-exec"))) thread_local ThreadState t_state;

constexpr int kFdTableSize = 1 << 16;
// What each descriptor number is: 0 unknown, 1 a socket a hooked call made (or the start-up
// scan found), 2 something else, 3 a socket found by asking (fstat). Only a number marked 1
// coming back from a new descriptor proves a close the agent did not see: a probe may store
// what was true a moment before another thread closed it. Beyond the table: fstat each time.
uint8_t g_fd_kind[kFdTableSize];
constexpr uint8_t kMadeSocket = 1, kNotSocket = 2, kProbedSocket = 3;

uint32_t current_tid() {
  if (!t_state.tid) t_state.tid = static_cast<uint32_t>(gettid());  // (not through syscall())
  return t_state.tid;
}

void release_slot(void*) {
  if (t_state.slot >= 0 && g_region)
    slots_of(g_region)[t_state.slot].state.store(kSlotReleased, std::memory_order_release);
  t_state.slot = -1;
}

// Claims a free ring for this thread; -1 when all are taken (the record is then counted in the
// region's no-ring table). A thread that found none scans again only after a ring was freed.
int32_t claim_thread_slot() {
  if (t_state.slot >= 0) return t_state.slot;
  const uint32_t frees = g_region->frees.load(std::memory_order_acquire);
  if (t_state.no_ring && t_state.frees_seen == frees) return -1;
  Slot* slots = slots_of(g_region);
  const uint32_t n = g_geometry.slots;
  const uint32_t tid = current_tid();
  for (uint32_t i = 0; i < n; ++i) {
    uint32_t k = (tid + i) % n;
    uint32_t expected = kSlotFree;
    if (slots[k].state.compare_exchange_strong(expected, kSlotClaiming,
                                               std::memory_order_acq_rel)) {
      // Owner facts first: the collector reads them once it sees the slot Active.
      slots[k].pid.store(g_pid, std::memory_order_relaxed);
      slots[k].tid.store(tid, std::memory_order_relaxed);
      slots[k].state.store(kSlotActive, std::memory_order_release);
      t_state.slot = static_cast<int32_t>(k);
      pthread_setspecific(g_thread_key, &t_state);  // release_slot runs at thread exit
      return t_state.slot;
    }
  }
  t_state.frees_seen = frees;
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

// The process's command line as it is now (a program may rewrite it: nginx's "worker process"),
// its arguments joined by spaces, into `out` (static: no allocation).
void read_cmdline(char (&out)[4096]) {
  size_t len = 0;
  read_file("/proc/self/cmdline", out, sizeof out - 1, &len);
  while (len > 0 && out[len - 1] == '\0') --len;  // (a rewritten title ends in padding)
  for (size_t i = 0; i < len; ++i)
    if (out[i] == '\0') out[i] = ' ';
  out[len] = '\0';
}

// The program as it was started: the path given to exec (AT_EXECFN), made absolute — so that a
// program started through a symbolic link is named as the user named it (redis-server, not
// redis-check-rdb). /proc/self/exe (the file itself) when that path is not known.
void program_path(char (&out)[4096]) {
  const auto* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  size_t n = 0;
  if (execfn && *execfn && execfn[0] != '/' && getcwd(out, sizeof out - 2)) {
    n = strlen(out);
    if (n > 1) out[n++] = '/';
  }
  if (execfn && *execfn && strlen(execfn) < sizeof out - n) {
    memcpy(out + n, execfn, strlen(execfn) + 1);
    return;
  }
  ssize_t r = readlink("/proc/self/exe", out, sizeof out - 1);
  out[r > 0 ? r : 0] = '\0';
}

// Where the strings exec put on the stack end (after the program's path, AT_EXECFN): the
// command line, which a program may rewrite in place, lies below. Noted at start.
const char* g_args_end = nullptr;

void note_args_end() {
  const auto* execfn = reinterpret_cast<const char*>(getauxval(AT_EXECFN));
  g_args_end = execfn ? execfn + strlen(execfn) + 1 : nullptr;
}

void record_process_start() {
  static char exe[4096], cmdline[4096];
  program_path(exe);
  read_cmdline(cmdline);
  Call c(FuncId::process_start);
  c.done(0, false);  // a fact, not a call: no duration
  c.u64(FieldId::ppid, static_cast<uint64_t>(getppid()));
  c.str(FieldId::image, exe);
  c.str(FieldId::cmdline, cmdline);
  c.u64(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
}

bool should_record_here() {
  return g_region->follow || g_region->root_pid == g_pid;
}

// What this process was declared not to show (Unseen bits): each is said once per process.
std::atomic<uint32_t> g_unseen_said{0};

// After fork, the table is the parent's memory at one moment and the descriptors another: a
// socket another thread made just then may be marked here but not be open in the child. The
// child keeps the marks of the sockets it has.
void check_fd_marks_after_fork() {
  const int saved = errno;
  for (int fd = 0; fd < kFdTableSize; ++fd) {
    if (__atomic_load_n(&g_fd_kind[fd], __ATOMIC_RELAXED) != kMadeSocket) continue;
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode))
      __atomic_store_n(&g_fd_kind[fd], 0, __ATOMIC_RELAXED);
  }
  errno = saved;
}

void after_fork_in_child() {
  g_unseen_said.store(0, std::memory_order_relaxed);
  check_fd_marks_after_fork();
  epoll_map_after_fork();
  // The child must not write into the parent's rings: it gets rings of its own on first use.
  t_state.slot = -1;
  t_state.tid = 0;
  t_state.no_ring = false;
  g_no_ring_entry.store(-1, std::memory_order_relaxed);
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
  if (!same_build(r, static_cast<size_t>(st.st_size), kBuildId) ||
      !read_geometry(r, static_cast<size_t>(st.st_size), g_geometry)) {
    munmap(mem, static_cast<size_t>(st.st_size));
    return;
  }
  g_region = r;
  g_pid = static_cast<uint32_t>(getpid());
  note_args_end();
  pthread_key_create(&g_thread_key, release_slot);
  pthread_atfork(nullptr, nullptr, after_fork_in_child);
  // Runs at exit() and after main returns, with the status; registered first, so it runs after
  // the program's own exit handlers (and their socket calls).
  on_exit([](int status, void*) { record_process_exit(status); }, nullptr);
  g_enabled = should_record_here();
  if (g_enabled) {
    record_process_start();
    record_inherited_sockets();
    note_seccomp_at_start();
  }
}

}  // namespace

// The first string of the command line as it is now (its title), cut at `out`'s size: false when
// it is not where exec put it.
bool process_title(char (&out)[Call::kMaxString]) {
  const char* start = program_invocation_name;
  if (!start || !g_args_end || start >= g_args_end || g_args_end - start > 1 << 20) return false;
  const size_t room = static_cast<size_t>(g_args_end - start);
  const size_t n = strnlen(start, room < sizeof out - 1 ? room : sizeof out - 1);
  memcpy(out, start, n);
  out[n] = '\0';
  return n > 0;
}

// The exit of a process that ends through exit()/_exit(): its status, recorded by the process
// itself because its parent (not wstrace) may be the one that reaps it.
void record_process_exit(int status) {
  if (!g_enabled) return;
  Call c(FuncId::process_exit);
  c.done(0, false);
  c.i64(FieldId::exit_code, status);
  // Its title as it leaves: servers rewrite their command line in place (nginx's "nginx: worker
  // process"). Read from memory, never from /proc: a sandboxed process (sshd's privilege-
  // separated child) may be killed for any system call its filter does not expect.
  char title[Call::kMaxString];
  if (process_title(title)) c.str(FieldId::cmdline, title, Mem::Proven);
}

void* real_symbol(const char* name) { return dlsym(RTLD_NEXT, name); }
RealFunctions g_real;

bool enabled() { return g_enabled && !t_state.pushing; }

int64_t now_ns() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

bool is_socket(int fd) {
  if (fd < 0) return false;
  if (fd < kFdTableSize) {
    uint8_t k = __atomic_load_n(&g_fd_kind[fd], __ATOMIC_RELAXED);
    if (k) return k != kNotSocket;
  }
  // Probing must not disturb errno: hooks ask before the real call runs.
  const int saved = errno;
  struct stat st {};
  const bool known = fstat(fd, &st) == 0;
  const bool sock = known && S_ISSOCK(st.st_mode);
  // A number that is not open now is not remembered: a socket may arrive under it later.
  if (known && fd < kFdTableSize)
    __atomic_store_n(&g_fd_kind[fd], sock ? kProbedSocket : kNotSocket, __ATOMIC_RELAXED);
  errno = saved;
  return sock;
}

void mark_not_socket(int fd) {
  if (fd >= 0 && fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], kNotSocket, __ATOMIC_RELAXED);
}

void mark_socket(int fd) {
  tcp_stats_forget(fd);
  if (fd >= 0 && fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], kMadeSocket, __ATOMIC_RELAXED);
}

void forget_fd(int fd) {
  tcp_stats_forget(fd);
  if (fd >= 0 && fd < kFdTableSize) __atomic_store_n(&g_fd_kind[fd], 0, __ATOMIC_RELAXED);
}

void new_fd(int fd, bool socket) {
  tcp_stats_forget(fd);
  if (fd < 0 || fd >= kFdTableSize) return;
  if (__atomic_exchange_n(&g_fd_kind[fd], socket ? kMadeSocket : kNotSocket, __ATOMIC_RELAXED) ==
      kMadeSocket)
    unseen(Unseen::RawSyscalls, fd);
}

void unseen(Unseen what, int fd) {
  const uint32_t bit = 1u << static_cast<unsigned>(what);
  if (!g_enabled || (g_unseen_said.fetch_or(bit, std::memory_order_relaxed) & bit)) return;
  Call c(FuncId::unseen);
  c.done(0, false);  // a fact, not a call
  if (what == Unseen::IoUring) {
    c.str(FieldId::what, "io_uring");
    c.str(FieldId::cause, "the program set up io_uring: socket operations submitted through it "
                          "are not seen");
  } else {
    c.str(FieldId::what, "raw-syscalls");
    c.str(FieldId::cause, "a socket was closed by a call the agent does not see (a system call "
                          "made without libc): other socket calls may be missing too");
    c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  }
}

namespace {

// One inherited socket: what it is and both its ends, asked of the kernel directly (not through
// the hooks: these are not the program's calls).
void record_inherited(int fd) {
  int domain = 0, type = 0, protocol = 0, listening = 0;
  socklen_t len = sizeof(int);
  if (REAL(getsockopt)(fd, SOL_SOCKET, SO_DOMAIN, &domain, &len) != 0) return;
  len = sizeof(int);
  (void)REAL(getsockopt)(fd, SOL_SOCKET, SO_TYPE, &type, &len);
  len = sizeof(int);
  (void)REAL(getsockopt)(fd, SOL_SOCKET, SO_PROTOCOL, &protocol, &len);
  len = sizeof(int);
  (void)REAL(getsockopt)(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len);
  Call c(FuncId::inherited);
  c.done(0, false);  // a fact, not a call
  c.u64(FieldId::sock, static_cast<uint64_t>(fd));
  c.platform_const(FieldId::family, domain);
  c.platform_const(FieldId::type, type);
  c.platform_const(FieldId::protocol, protocol);
  sockaddr_storage ss;
  len = sizeof ss;
  if (REAL(getsockname)(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::local, &ss, len < sizeof ss ? len : sizeof ss, Mem::Proven);
  len = sizeof ss;
  if (!listening && REAL(getpeername)(fd, reinterpret_cast<sockaddr*>(&ss), &len) == 0)
    c.sockaddr(FieldId::peer, &ss, len < sizeof ss ? len : sizeof ss, Mem::Proven);
  c.u64(FieldId::listening, listening ? 1 : 0);
}

}  // namespace

namespace {
std::atomic<bool> g_sandboxed{false};
}  // namespace

bool sandboxed() { return g_sandboxed.load(std::memory_order_relaxed); }
void note_sandboxed() { g_sandboxed.store(true, std::memory_order_relaxed); }

void note_seccomp_at_start() {
  char status[4096];
  size_t len = 0;
  read_file("/proc/self/status", status, sizeof status - 1, &len);
  status[len] = '\0';
  const char* p = strstr(status, "\nSeccomp:");
  if (p == nullptr) return;
  p += strlen("\nSeccomp:");
  while (*p == ' ' || *p == '\t') ++p;
  if (*p >= '1' && *p <= '9') note_sandboxed();
}

void record_inherited_sockets() {
  const int saved = errno;
  int dir = static_cast<int>(REAL(syscall)(SYS_openat, AT_FDCWD, "/proc/self/fd",
                                           O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0));
  if (dir < 0) {
    errno = saved;
    return;
  }
  // getdents64 into a buffer on the stack: no allocation, no opendir().
  alignas(8) char buf[4096];
  constexpr int kMaxScanned = 1 << 16;
  int scanned = 0;
  long n;
  while (scanned < kMaxScanned &&
         (n = REAL(syscall)(SYS_getdents64, dir, buf, sizeof buf, 0, 0, 0)) > 0) {
    for (long off = 0; off < n;) {
      struct Dirent64 {
        uint64_t ino;
        int64_t off;
        unsigned short reclen;
        unsigned char type;
        char name[1];
      };
      const auto* d = reinterpret_cast<const Dirent64*>(buf + off);
      off += d->reclen;
      if (d->reclen == 0) break;
      int fd = 0;
      const char* p = d->name;
      if (*p < '0' || *p > '9') continue;
      for (; *p >= '0' && *p <= '9' && fd < kFdTableSize; ++p) fd = fd * 10 + (*p - '0');
      if (*p || fd == dir) continue;
      ++scanned;
      struct stat st {};
      if (fstat(fd, &st) != 0) continue;
      if (!S_ISSOCK(st.st_mode)) {
        mark_not_socket(fd);
        continue;
      }
      mark_socket(fd);
      record_inherited(fd);
    }
  }
  REAL(syscall)(SYS_close, dir);
  errno = saved;
}

void payload_iov(Call& c, const struct iovec* iov, size_t iovcnt, int64_t total) {
  Part parts[16];
  size_t n = iovcnt < 16 ? iovcnt : 16;
  for (size_t i = 0; i < n; ++i) parts[i] = Part{iov[i].iov_base, iov[i].iov_len};
  c.payload_parts(parts, n, total);
}

// ---- What agent/call.cc needs from the platform -----------------------------------------------
RegionHeader* region() { return g_region; }
const RingGeometry& geometry() { return g_geometry; }
void count_no_ring_record() {
  int32_t entry = g_no_ring_entry.load(std::memory_order_relaxed);
  count_no_ring(g_region, g_pid, entry, !t_state.no_ring);
  g_no_ring_entry.store(entry, std::memory_order_relaxed);
  t_state.no_ring = true;
}
bool recording() { return g_enabled; }
int32_t claim_slot() { return claim_thread_slot(); }
int32_t owned_slot() { return t_state.slot; }
bool is_pushing() { return t_state.pushing; }
void set_pushing(bool on) { t_state.pushing = on; }
uint32_t thread_id() { return current_tid(); }
int last_error() { return errno; }
void set_last_error(int e) { errno = e; }
ErrDomain last_error_domain() { return ErrDomain::Errno; }

}  // namespace ws::agent
