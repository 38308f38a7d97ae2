#include "ebpf_records.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include <fmt/format.h>

#include "event.h"

namespace ws::capture {
namespace {

// The numbers the BPF side uses are this machine's system call numbers.
static_assert(WS_NR_READ == SYS_read && WS_NR_WRITE == SYS_write && WS_NR_CLOSE == SYS_close &&
              WS_NR_READV == SYS_readv && WS_NR_WRITEV == SYS_writev &&
              WS_NR_SENDFILE == SYS_sendfile && WS_NR_SOCKET == SYS_socket &&
              WS_NR_CONNECT == SYS_connect && WS_NR_ACCEPT == SYS_accept &&
              WS_NR_SENDTO == SYS_sendto && WS_NR_RECVFROM == SYS_recvfrom &&
              WS_NR_SENDMSG == SYS_sendmsg && WS_NR_RECVMSG == SYS_recvmsg &&
              WS_NR_SHUTDOWN == SYS_shutdown && WS_NR_BIND == SYS_bind &&
              WS_NR_LISTEN == SYS_listen && WS_NR_GETSOCKNAME == SYS_getsockname &&
              WS_NR_GETPEERNAME == SYS_getpeername && WS_NR_SOCKETPAIR == SYS_socketpair &&
              WS_NR_SETSOCKOPT == SYS_setsockopt && WS_NR_GETSOCKOPT == SYS_getsockopt &&
              WS_NR_ACCEPT4 == SYS_accept4 && WS_NR_RECVMMSG == SYS_recvmmsg &&
              WS_NR_SENDMMSG == SYS_sendmmsg && WS_NR_DUP == SYS_dup && WS_NR_DUP2 == SYS_dup2 &&
              WS_NR_DUP3 == SYS_dup3 && WS_NR_FCNTL == SYS_fcntl && WS_F_DUPFD == F_DUPFD &&
              WS_F_GETFL == F_GETFL && WS_F_SETFL == F_SETFL &&
              WS_F_DUPFD_CLOEXEC == F_DUPFD_CLOEXEC,
              "ebpf_event.h's system call numbers are not this platform's");
static_assert(WS_NR_POLL == SYS_poll && WS_NR_PPOLL == SYS_ppoll && WS_NR_SELECT == SYS_select &&
                  WS_NR_PSELECT6 == SYS_pselect6 && WS_NR_EPOLL_WAIT == SYS_epoll_wait &&
                  WS_NR_EPOLL_PWAIT == SYS_epoll_pwait && WS_NR_EPOLL_PWAIT2 == 441 &&
                  WS_NR_EPOLL_CTL == SYS_epoll_ctl && WS_EPOLL_CTL_DEL == EPOLL_CTL_DEL &&
                  WS_NR_SPLICE == SYS_splice && WS_NR_IO_URING_SETUP == SYS_io_uring_setup &&
                  WS_NR_COPY_FILE_RANGE == SYS_copy_file_range &&
                  sizeof(ws_ebpf_poll) == sizeof(RawPoll),
              "ebpf_event.h's system call numbers are not this platform's");

// One raw record being written, as agent/call.cc lays it out.
class RawWriter {
 public:
  RawWriter(FuncId f, int64_t ts, uint64_t dur) {
    head_.func = static_cast<uint8_t>(f);
    head_.ts = ts;
    head_.dur = dur;
  }
  // The kernel's return value as libc gives it: -1 and errno on failure.
  void kernel_result(int64_t ret) {
    if (ret < 0 && ret >= -4095) {
      head_.result = -1;
      head_.err = static_cast<int32_t>(-ret);
      head_.err_domain = static_cast<uint8_t>(ErrDomain::Errno);
    } else {
      head_.result = ret;
    }
  }
  void result(int64_t r) { head_.result = r; }
  void error(ErrDomain d, int32_t v) {
    head_.err = v;
    head_.err_domain = static_cast<uint8_t>(v ? d : ErrDomain::None);
  }
  // Addresses of `count` slots of 28 bytes, each as long as its family's sockaddr.
  void addr_list(FieldId f, const uint8_t (*slots)[28], size_t count) {
    std::vector<uint8_t> b;
    for (size_t i = 0; i < count; ++i) {
      uint16_t family;
      std::memcpy(&family, slots[i], 2);
      const uint16_t len = family == AF_INET ? sizeof(sockaddr_in)
                           : family == AF_INET6 ? sizeof(sockaddr_in6) : 0;
      if (!len) continue;
      b.insert(b.end(), reinterpret_cast<const uint8_t*>(&len),
               reinterpret_cast<const uint8_t*>(&len) + 2);
      b.insert(b.end(), slots[i], slots[i] + len);
    }
    arg(f, kRawAddrList, b.data(), b.size());
  }
  void u64(FieldId f, uint64_t v) { arg(f, kRawU64, &v, 8); }
  void i64(FieldId f, int64_t v) { arg(f, kRawI64, &v, 8); }
  void platform_const(FieldId f, int64_t v) { arg(f, kRawPlatformConst, &v, 8); }
  void sockopt(int64_t level, int64_t name) {
    const int64_t both[2] = {level, name};
    arg(FieldId::optname, kRawSockopt, both, 16);
  }
  void sockaddr(FieldId f, const uint8_t* p, uint32_t len) {
    if (len) arg(f, kRawSockaddr, p, len);
  }
  void str(FieldId f, std::string_view s) { arg(f, kRawString, s.data(), s.size()); }
  void poll_list(const uint8_t* p, size_t n) { arg(FieldId::fds, kRawPollList, p, n); }
  void payload(const uint8_t* p, uint32_t kept, uint64_t total) {
    if (!total) return;
    std::vector<uint8_t> b(8 + kept);
    std::memcpy(b.data(), &total, 8);
    if (kept) std::memcpy(b.data() + 8, p, kept);
    arg(FieldId::payload, kRawBytes, b.data(), b.size());
  }
  EbpfRecord done(uint32_t pid, uint32_t tid) {
    head_.tid = tid;
    EbpfRecord r{pid, tid, std::vector<uint8_t>(sizeof head_ + args_.size())};
    std::memcpy(r.bytes.data(), &head_, sizeof head_);
    if (!args_.empty()) std::memcpy(r.bytes.data() + sizeof head_, args_.data(), args_.size());
    return r;
  }

 private:
  void arg(FieldId f, RawKind kind, const void* p, size_t size) {
    RawArg a{static_cast<uint8_t>(f), kind, 0, static_cast<uint32_t>(size)};
    const auto* ab = reinterpret_cast<const uint8_t*>(&a);
    args_.insert(args_.end(), ab, ab + sizeof a);
    const auto* pb = static_cast<const uint8_t*>(p);
    args_.insert(args_.end(), pb, pb + size);
    args_.resize(args_.size() + (raw_pad(static_cast<uint32_t>(size)) - size), 0);
    ++head_.nargs;
  }

  RawHead head_{};
  std::vector<uint8_t> args_;
};

// An `unseen` declaration of the process of `e`: what the engine does not record, and why.
RawWriter unseen(const ws_ebpf_event& e, std::string_view what, std::string_view cause) {
  RawWriter u(FuncId::unseen, static_cast<int64_t>(e.ts), 0);
  u.str(FieldId::what, what);
  u.str(FieldId::cause, cause);
  return u;
}

FuncId func_of(uint32_t nr, bool mmsg_msg, uint64_t fcntl_cmd) {
  switch (nr) {
    case WS_NR_DUP: return FuncId::dup;
    case WS_NR_DUP2: return FuncId::dup2;
    case WS_NR_DUP3: return FuncId::dup3;
    case WS_NR_FCNTL:
      return fcntl_cmd == F_DUPFD || fcntl_cmd == F_DUPFD_CLOEXEC ? FuncId::fcntl_dupfd
                                                                  : FuncId::fcntl;
    case WS_NR_READ: return FuncId::read;
    case WS_NR_WRITE: return FuncId::write;
    case WS_NR_CLOSE: return FuncId::close;
    case WS_NR_READV: return FuncId::readv;
    case WS_NR_WRITEV: return FuncId::writev;
    case WS_NR_SENDFILE: return FuncId::sendfile;
    case WS_NR_SOCKET: return FuncId::socket;
    case WS_NR_CONNECT: return FuncId::connect;
    case WS_NR_ACCEPT: return FuncId::accept;
    case WS_NR_SENDTO: return FuncId::sendto;
    case WS_NR_RECVFROM: return FuncId::recvfrom;
    case WS_NR_SENDMSG: return FuncId::sendmsg;
    case WS_NR_RECVMSG: return FuncId::recvmsg;
    case WS_NR_SHUTDOWN: return FuncId::shutdown;
    case WS_NR_BIND: return FuncId::bind;
    case WS_NR_LISTEN: return FuncId::listen;
    case WS_NR_GETSOCKNAME: return FuncId::getsockname;
    case WS_NR_GETPEERNAME: return FuncId::getpeername;
    case WS_NR_SOCKETPAIR: return FuncId::socketpair;
    case WS_NR_SETSOCKOPT: return FuncId::setsockopt;
    case WS_NR_GETSOCKOPT: return FuncId::getsockopt;
    case WS_NR_ACCEPT4: return FuncId::accept4;
    case WS_NR_RECVMMSG: return mmsg_msg ? FuncId::recvmmsg_msg : FuncId::recvmmsg;
    case WS_NR_SENDMMSG: return mmsg_msg ? FuncId::sendmmsg_msg : FuncId::sendmmsg;
    case WS_NR_POLL: return FuncId::poll;
    case WS_NR_PPOLL: return FuncId::ppoll;
    case WS_NR_SELECT:
    case WS_NR_PSELECT6: return FuncId::select;
    case WS_NR_EPOLL_WAIT: return FuncId::epoll_wait;
    case WS_NR_EPOLL_PWAIT: return FuncId::epoll_pwait;
    case WS_NR_EPOLL_PWAIT2: return FuncId::epoll_pwait2;
    case WS_NR_EPOLL_CTL: return FuncId::epoll_ctl;
    case WS_NR_COPY_FILE_RANGE: return FuncId::copy_file_range;
  }
  return FuncId::kCount;
}

bool is_receive(uint32_t nr) {
  return nr == WS_NR_RECVFROM || nr == WS_NR_RECVMSG || nr == WS_NR_RECVMMSG;
}

// The address kept, no longer than the event's room (the kernel said how long it is).
uint32_t kept_len(uint32_t len, size_t room) { return len <= room ? len : 0; }

void socket_args(RawWriter& w, const __u64* a) {
  const int64_t type = static_cast<int>(a[1]);
  w.platform_const(FieldId::family, static_cast<int>(a[0]));
  w.platform_const(FieldId::type, type & ~(SOCK_NONBLOCK | SOCK_CLOEXEC));
  if (type & (SOCK_NONBLOCK | SOCK_CLOEXEC))
    w.platform_const(FieldId::type_flags, type & (SOCK_NONBLOCK | SOCK_CLOEXEC));
  w.platform_const(FieldId::protocol, static_cast<int>(a[2]));
}

// A wait's arguments (agent/hooks_wait.cc); false for another call.
bool wait_args(RawWriter& w, const ws_ebpf_event& e, const uint8_t* payload) {
  switch (e.nr) {
    case WS_NR_POLL:
    case WS_NR_PPOLL:
    case WS_NR_SELECT:
    case WS_NR_PSELECT6: {
      const size_t kept = e.payload_len / sizeof(ws_ebpf_poll);
      w.poll_list(payload, kept * sizeof(ws_ebpf_poll));
      if (e.aux[WS_AUX_COUNT] > kept) w.u64(FieldId::count, e.aux[WS_AUX_COUNT]);
      break;
    }
    case WS_NR_EPOLL_WAIT:
    case WS_NR_EPOLL_PWAIT:
    case WS_NR_EPOLL_PWAIT2: {  // (the sockets returned ready: wstrace_epoll.bpf.h)
      w.u64(FieldId::sock, static_cast<uint32_t>(e.args[0]));
      w.u64(FieldId::count, static_cast<uint32_t>(e.args[2]));
      if (e.flags & WS_F_HAVE_A) w.u64(FieldId::timeout, e.aux[WS_AUX_A]);
      // (the first events returned, each with its socket or fd -1: the sockets are kept)
      if (e.ret <= 0) return true;
      const size_t n = std::min<size_t>(e.payload_len / sizeof(ws_ebpf_poll), WS_EBPF_MAX_POLLED);
      ws_ebpf_poll ready[WS_EBPF_MAX_POLLED];
      size_t kept = 0;
      for (size_t i = 0; i < n; ++i) {
        ws_ebpf_poll p;
        std::memcpy(&p, payload + i * sizeof p, sizeof p);
        if (p.fd >= 0) ready[kept++] = p;
      }
      w.poll_list(reinterpret_cast<const uint8_t*>(ready), kept * sizeof(ws_ebpf_poll));
      return true;
    }
    default: return false;
  }
  if (e.flags & WS_F_HAVE_A) w.u64(FieldId::timeout, e.aux[WS_AUX_A]);
  return true;
}

// The arguments of one call, as the agent's hook for it records them (agent/hooks_*.cc).
void call_args(RawWriter& w, const ws_ebpf_event& e, const uint8_t* payload) {
  const __u64* a = e.args;
  const uint64_t fd = static_cast<uint32_t>(a[0]);
  const uint32_t addr_len = kept_len(e.addr_len, sizeof e.addr);
  const uint32_t local_len = kept_len(e.local_len, sizeof e.local);
  const bool ok = e.ret >= 0;
  const FieldId addr_field = is_receive(e.nr) ? FieldId::peer : FieldId::addr;
  auto flags = [&](int64_t f) {
    if (f) w.platform_const(FieldId::flags, static_cast<int>(f));
  };
  if (wait_args(w, e, payload)) return;
  if (e.nr == WS_NR_EPOLL_CTL) w.u64(FieldId::sock, static_cast<uint32_t>(a[2]));
  if (e.nr != WS_NR_SOCKET && e.nr != WS_NR_SOCKETPAIR && e.nr != WS_NR_SPLICE &&
      e.nr != WS_NR_COPY_FILE_RANGE && e.nr != WS_NR_EPOLL_CTL)
    w.u64(FieldId::sock, fd);
  switch (e.nr) {
    case WS_NR_SOCKET: socket_args(w, a); return;
    case WS_NR_SOCKETPAIR:
      socket_args(w, a);
      if (ok && (e.flags & WS_F_HAVE_A) && (e.flags & WS_F_HAVE_B)) {
        w.u64(FieldId::sock, static_cast<uint32_t>(e.aux[WS_AUX_A]));
        w.u64(FieldId::new_sock, static_cast<uint32_t>(e.aux[WS_AUX_B]));
      }
      return;
    case WS_NR_BIND: w.sockaddr(FieldId::addr, e.addr, addr_len); return;
    case WS_NR_CONNECT:
      w.sockaddr(FieldId::addr, e.addr, addr_len);
      w.sockaddr(FieldId::local, e.local, local_len);
      return;
    case WS_NR_LISTEN: w.i64(FieldId::backlog, static_cast<int>(a[1])); return;
    case WS_NR_ACCEPT:
    case WS_NR_ACCEPT4:
      if (!ok) return;
      w.u64(FieldId::new_sock, static_cast<uint64_t>(e.ret));
      w.sockaddr(FieldId::peer, e.addr, addr_len);
      w.sockaddr(FieldId::local, e.local, local_len);
      return;
    case WS_NR_SHUTDOWN: w.platform_const(FieldId::how, static_cast<int>(a[1])); return;
    case WS_NR_EPOLL_CTL:  // (epfd, op, fd, event): the socket is the third argument
      w.u64(FieldId::epfd, fd);
      w.platform_const(FieldId::epoll_op, static_cast<int>(a[1]));
      if (e.flags & WS_F_HAVE_A) w.platform_const(FieldId::events, e.aux[WS_AUX_A] & 0xffffffff);
      if (e.flags & WS_F_HAVE_B) w.u64(FieldId::data, e.aux[WS_AUX_B]);
      return;
    case WS_NR_CLOSE: return;
    case WS_NR_DUP:
    case WS_NR_DUP2:
    case WS_NR_DUP3:
      if (ok) w.u64(FieldId::new_sock, static_cast<uint64_t>(e.ret));
      return;
    case WS_NR_FCNTL: {
      const int cmd = static_cast<int>(a[1]);
      if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
        if (ok) w.u64(FieldId::new_sock, static_cast<uint64_t>(e.ret));
        return;
      }
      w.platform_const(FieldId::request, cmd);
      if (cmd == F_SETFL) w.u64(FieldId::arg, a[2]);
      return;
    }
    case WS_NR_SETSOCKOPT:
    case WS_NR_GETSOCKOPT: {
      w.sockopt(static_cast<int>(a[1]), static_cast<int>(a[2]));
      if (e.flags & WS_F_HAVE_B) w.i64(FieldId::optval, static_cast<int64_t>(e.aux[WS_AUX_B]));
      const uint64_t len = e.nr == WS_NR_GETSOCKOPT
                               ? ((e.flags & WS_F_HAVE_A) ? e.aux[WS_AUX_A] : 0)
                               : static_cast<uint32_t>(a[4]);
      w.u64(FieldId::optlen, len);
      return;
    }
    case WS_NR_GETSOCKNAME:
    case WS_NR_GETPEERNAME:
      if (e.ret == 0) w.sockaddr(FieldId::addr, e.addr, addr_len);
      return;
    case WS_NR_SENDFILE:
      // The file's bytes, as the kernel's page cache held them (wstrace_zerocopy.bpf.h).
      w.u64(FieldId::len, a[3]);
      if (e.ret > 0) w.payload(payload, e.payload_len, static_cast<uint64_t>(e.ret));
      return;
    case WS_NR_SPLICE:
      // Into a socket: the bytes the pipe held. Out of one: the bytes went into a pipe, not
      // read (none kept); the payload says how many moved.
      w.u64(FieldId::sock, static_cast<uint32_t>((e.flags & WS_F_TO_SOCKET) ? a[2] : a[0]));
      w.u64(FieldId::len, a[4]);
      if (e.ret > 0)
        w.payload(payload, (e.flags & WS_F_TO_SOCKET) ? e.payload_len : 0,
                  static_cast<uint64_t>(e.ret));
      return;
    case WS_NR_COPY_FILE_RANGE:
      // Into a socket, which the kernel refuses (EINVAL): the failed send the agent records.
      w.u64(FieldId::sock, static_cast<uint32_t>(a[2]));
      w.u64(FieldId::len, a[4]);
      if (e.ret > 0) w.payload(nullptr, 0, static_cast<uint64_t>(e.ret));
      return;
    case WS_NR_READ:
    case WS_NR_WRITE: w.u64(FieldId::len, a[2]); break;
    case WS_NR_READV:
    case WS_NR_WRITEV:
      w.u64(FieldId::len, e.aux[WS_AUX_LEN]);
      w.u64(FieldId::count, a[2]);
      break;
    case WS_NR_SENDTO:
    case WS_NR_RECVFROM:
      w.u64(FieldId::len, a[2]);
      flags(static_cast<int>(a[3]));
      w.sockaddr(addr_field, e.addr, addr_len);
      break;
    case WS_NR_SENDMSG:
    case WS_NR_RECVMSG:
      w.u64(FieldId::len, e.aux[WS_AUX_LEN]);
      flags(static_cast<int>(a[2]));
      w.u64(FieldId::count, e.aux[WS_AUX_COUNT]);
      w.sockaddr(addr_field, e.addr, addr_len);
      break;
    case WS_NR_SENDMMSG:
    case WS_NR_RECVMMSG:
      if (e.flags & WS_F_MMSG_MSG) {
        w.u64(FieldId::len, e.aux[WS_AUX_A]);
      } else {
        w.u64(FieldId::len, e.aux[WS_AUX_LEN]);
        flags(static_cast<int>(a[3]));
        w.u64(FieldId::count, static_cast<uint32_t>(a[2]));
      }
      w.sockaddr(addr_field, e.addr, addr_len);
      break;
  }
  w.payload(payload, e.payload_len, e.payload_total);
}

// The text of a command line kept by the kernel: its arguments joined by spaces, as the
// agent reads /proc/self/cmdline.
std::string joined_args(const uint8_t* p, size_t n) {
  std::string s(reinterpret_cast<const char*>(p), n);
  while (!s.empty() && s.back() == '\0') s.pop_back();
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

// The program's path made absolute against its working directory, as the agent names it.
std::string absolute_image(uint32_t pid, std::string name) {
  if (name.empty() || name[0] == '/') return name;
  char cwd[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/cwd";
  const ssize_t r = readlink(link.c_str(), cwd, sizeof cwd - 1);
  if (r <= 0) return name;
  return std::string(cwd, static_cast<size_t>(r)) + "/" + name;
}

}  // namespace

int exit_status_of(uint64_t code) {
  const int sig = static_cast<int>(code & 0x7f);
  return sig ? 128 + sig : static_cast<int>((code >> 8) & 0xff);
}

void EbpfRecords::name_process(uint32_t pid, std::string image, std::string cmdline) {
  processes_[pid] = Process{std::move(image), std::move(cmdline)};
}

bool ebpf_records_as(uint32_t nr, FuncId f) {
  return func_of(nr, false, F_GETFL) == f || func_of(nr, false, F_DUPFD) == f ||
         func_of(nr, true, 0) == f;
}

namespace {

std::string read_small_file(const std::string& path) {
  std::string text;
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return text;
  char buf[4096];
  ssize_t n;
  while (text.size() < 64 * 1024 && (n = read(fd, buf, sizeof buf)) > 0)
    text.append(buf, static_cast<size_t>(n));
  close(fd);
  return text;
}

// The program a running process was started as: its first argument when that names it (a path
// made absolute, or a bare name beside the file it runs, as PATH found it), else the file
// itself. (A process that rewrote its arguments — nginx's titles — is named by its file.)
std::string running_image(uint32_t pid, const std::string& argv0) {
  char exe[4096];
  const std::string link = "/proc/" + std::to_string(pid) + "/exe";
  const ssize_t r = readlink(link.c_str(), exe, sizeof exe - 1);
  const std::string file = r > 0 ? std::string(exe, static_cast<size_t>(r)) : std::string();
  std::string comm = read_small_file("/proc/" + std::to_string(pid) + "/comm");
  while (!comm.empty() && comm.back() == '\n') comm.pop_back();
  const std::string_view base = std::string_view(argv0).substr(argv0.rfind('/') + 1);
  const bool names_it = !base.empty() && !comm.empty() &&
                        base.substr(0, comm.size()) == comm;
  if (!names_it) return file.empty() ? comm : file;
  if (argv0.find('/') != std::string::npos) return absolute_image(pid, argv0);
  return file.empty() ? argv0 : file.substr(0, file.rfind('/') + 1) + argv0;
}

}  // namespace

void EbpfRecords::adopt(uint32_t pid, int64_t ts, std::vector<EbpfRecord>& out) {
  const std::string dir = "/proc/" + std::to_string(pid);
  const std::string args = read_small_file(dir + "/cmdline");
  const std::string stat = read_small_file(dir + "/stat");
  uint64_t ppid = 0;  // the field after the state, after the name in parentheses
  if (const size_t close = stat.rfind(')'); close != std::string::npos && close + 4 < stat.size())
    ppid = std::strtoull(stat.c_str() + close + 4, nullptr, 10);
  Process& p = processes_[pid];
  p.image = running_image(pid, args.substr(0, args.find('\0')));
  p.cmdline = joined_args(reinterpret_cast<const uint8_t*>(args.data()), args.size());
  started(pid, ts, ppid, out);
}

void EbpfRecords::started(uint32_t pid, int64_t ts, uint64_t ppid, std::vector<EbpfRecord>& out) {
  const Process& p = processes_[pid];
  RawWriter w(FuncId::process_start, ts, 0);
  w.u64(FieldId::ppid, ppid);
  w.str(FieldId::image, p.image);
  w.str(FieldId::cmdline, p.cmdline);
  w.u64(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
  out.push_back(w.done(pid, pid));
}

// (system-wide) A process met first by a call: named from /proc while it runs, else from what
// the kernel said of it (its name and command line, a relative name as it was given).
void EbpfRecords::seen(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
                       std::vector<EbpfRecord>& out) {
  if (processes_.count(e.pid) || n < 16 || e.aux[2] > n - 16) return;
  const auto ts = static_cast<int64_t>(e.ts);
  if (!read_small_file("/proc/" + std::to_string(e.pid) + "/cmdline").empty())
    return adopt(e.pid, ts, out);
  const std::string comm(reinterpret_cast<const char*>(payload), strnlen(reinterpret_cast<const char*>(payload), 16));
  Process& p = processes_[e.pid];
  p.cmdline = joined_args(payload + 16, e.aux[2]);
  const std::string argv0(reinterpret_cast<const char*>(payload + 16),
                          strnlen(reinterpret_cast<const char*>(payload + 16), e.aux[2]));
  const std::string_view base = std::string_view(argv0).substr(argv0.rfind('/') + 1);
  p.image = !comm.empty() && base.substr(0, comm.size()) == comm ? argv0 : comm;
  started(e.pid, ts, e.aux[0], out);
}

EbpfOutcome EbpfRecords::convert(const uint8_t* data, size_t len, std::vector<EbpfRecord>& out) {
  ws_ebpf_event e;
  if (len < sizeof e) return {};
  std::memcpy(&e, data, sizeof e);
  const uint8_t* payload = data + sizeof e;
  const size_t n = len - sizeof e;
  if (e.payload_len > n) return {};
  // A process met first by a call (--system, or a child of an attached process forked before
  // the attach) is named as it runs now, just before it.
  if (adopt_unknown_ && (e.kind == WS_EV_CALL || e.kind == WS_EV_INHERITED || e.kind == WS_EV_UNSEEN_COMPAT) &&
      !processes_.count(e.pid))
    adopt(e.pid, static_cast<int64_t>(e.ts) - 1, out);
  switch (e.kind) {
    case WS_EV_CALL: call(e, payload, out); break;
    case WS_EV_EXEC: exec(e, payload, n, out); break;
    case WS_EV_FORK: fork(e, out); break;
    case WS_EV_EXIT: return exit(e, out);
    case WS_EV_INHERITED: inherited(e, out); break;
    case WS_EV_UNSEEN_COMPAT: unseen_compat(e, out); break;
    case WS_EV_SEEN: seen(e, payload, n, out); break;
    case WS_EV_TCP_INFO:
    case WS_EV_TCP_STATE:
    case WS_EV_TCP_RETRANS: tcp_event(e, out); break;
    case WS_EV_LOOKUP: lookup(e, payload, n, out); break;
    case WS_EV_URING_SOCKET_OP: uring_socket_op(e, out); break;
    case WS_EV_ZC_PIECE: zc_piece(e, payload); break;
  }
  return {};
}

// A piece of the payload of the thread's next call (a sendfile's, longer than an event holds;
// the call's start says which): kept while the pieces follow one another (one the ring lost
// leaves those before it).
void EbpfRecords::zc_piece(const ws_ebpf_event& e, const uint8_t* payload) {
  Pieces& p = zc_pieces_[e.tid];
  if (p.ts != e.ts || e.aux[WS_AUX_LEN] == 0) p = Pieces{e.ts, {}};
  if (e.aux[WS_AUX_LEN] == p.bytes.size())
    p.bytes.insert(p.bytes.end(), payload, payload + e.payload_len);
}

void EbpfRecords::call(const ws_ebpf_event& event, const uint8_t* payload,
                       std::vector<EbpfRecord>& out) {
  ws_ebpf_event e = event;
  // A sendfile's payload: its pieces, then the call's own bytes when none is missing.
  std::vector<uint8_t> joined;
  if (const auto it = zc_pieces_.find(e.tid); it != zc_pieces_.end()) {
    if (it->second.ts == e.ts) joined = std::move(it->second.bytes);
    zc_pieces_.erase(it);
  }
  if (e.nr == WS_NR_SENDFILE && e.aux[WS_AUX_LEN]) {
    if (joined.size() == e.aux[WS_AUX_LEN]) {
      joined.insert(joined.end(), payload, payload + e.payload_len);
    } else {
      e.flags |= WS_F_ZC_UNSEEN;
    }
    e.payload_len = static_cast<uint32_t>(joined.size());
    payload = joined.data();
  }
  FuncId f = func_of(e.nr, e.flags & WS_F_MMSG_MSG, static_cast<int>(e.args[1]));
  if (e.nr == WS_NR_SPLICE) f = (e.flags & WS_F_TO_SOCKET) ? FuncId::splice : FuncId::splice_recv;
  if (e.nr == WS_NR_IO_URING_SETUP) return uring_setup(e, out);
  if (f == FuncId::kCount) return;
  RawWriter w(f, static_cast<int64_t>(e.ts), e.dur);
  if (e.flags & WS_F_MMSG_MSG) w.result(static_cast<int64_t>(e.aux[WS_AUX_A]));
  else w.kernel_result(e.ret);
  call_args(w, e, payload);
  if (e.flags & WS_F_IN_LOOKUP) w.u64(FieldId::nested, 1);
  out.push_back(w.done(e.pid, e.tid));
  zero_copy_unseen(e, out);
  // The BPF programs keep the first WS_EBPF_MAX_MMSG messages of a call: said once per process.
  const bool mmsg = e.nr == WS_NR_SENDMMSG || e.nr == WS_NR_RECVMMSG;
  if (mmsg && !(e.flags & WS_F_MMSG_MSG) && e.ret > WS_EBPF_MAX_MMSG) {
    Process& p = processes_[e.pid];
    if (p.mmsg_said) return;
    p.mmsg_said = true;
    RawWriter u(FuncId::unseen, static_cast<int64_t>(e.ts), 0);
    u.str(FieldId::what, "mmsg-messages");
    u.str(FieldId::cause, fmt::format("a {} moved {} messages: the kernel engine records the "
                                      "first {} of each call, the others are missing",
                                      e.nr == WS_NR_SENDMMSG ? "sendmmsg" : "recvmmsg", e.ret,
                                      WS_EBPF_MAX_MMSG));
    u.u64(FieldId::sock, static_cast<uint32_t>(e.args[0]));
    out.push_back(u.done(e.pid, e.tid));
  }
}

// Bytes a sendfile or a splice moved that the kernel engine could not read (wstrace_zerocopy.bpf.h:
// a page not in the page cache, a file whose data is not there, bytes a pipe got while the
// splice waited; and a splice out of a socket, whose bytes went into a pipe): the trace says
// once per process that such payloads are missing (the calls still say how many moved).
void EbpfRecords::zero_copy_unseen(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  const bool cfr = e.nr == WS_NR_COPY_FILE_RANGE;  // (never read: a socket refuses it today)
  if ((e.nr != WS_NR_SENDFILE && e.nr != WS_NR_SPLICE && !cfr) || e.ret <= 0) return;
  const bool recv = e.nr == WS_NR_SPLICE && !(e.flags & WS_F_TO_SOCKET);
  if (!recv && !cfr && !(e.flags & WS_F_ZC_UNSEEN)) return;
  Process& p = processes_[e.pid];
  if (p.zero_copy_said) return;
  p.zero_copy_said = true;
  RawWriter u = unseen(
      e, "zero-copy-payload",
      recv ? std::string("a splice out of a socket moved bytes into a pipe, which the kernel "
                         "engine does not read: the payload of such calls is missing, their "
                         "length is recorded")
           : fmt::format("a {} moved bytes the kernel engine could not read (not in the page "
                         "cache, or not yet in the pipe when the call began): such payloads "
                         "are missing from there on, their length is recorded",
                         e.nr == WS_NR_SENDFILE ? "sendfile"
                         : cfr                  ? "copy_file_range"
                                                : "splice"));
  u.u64(FieldId::sock, static_cast<uint32_t>(recv                              ? e.args[0]
                                             : e.nr == WS_NR_SPLICE || cfr ? e.args[2]
                                                                             : e.args[0]));
  out.push_back(u.done(e.pid, e.tid));
}

// io_uring set up: declared as the preload agent declares it. What the program submits there
// is counted in the kernel: the first socket operation is said at once, the count at its end.
void EbpfRecords::uring_setup(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  Process& p = processes_[e.pid];
  if (e.ret < 0 || p.uring_said) return;
  p.uring_said = true;
  RawWriter u = unseen(e, "io_uring",
                       "the program set up io_uring: socket operations submitted through it are "
                       "not seen (the kernel engine counts them)");
  out.push_back(u.done(e.pid, e.tid));
}

void EbpfRecords::uring_socket_op(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  RawWriter u = unseen(e, "io_uring-sockets",
                       fmt::format("the program submitted a socket operation through io_uring "
                                   "(opcode {}): such operations are counted, not recorded",
                                   e.args[0]));
  if (static_cast<int64_t>(e.args[1]) >= 0) u.u64(FieldId::sock, e.args[1]);
  out.push_back(u.done(e.pid, e.tid));
}

void EbpfRecords::exec(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
                       std::vector<EbpfRecord>& out) {
  if (n < WS_EBPF_PATH_MAX || e.aux[1] >= WS_EBPF_PATH_MAX ||
      e.aux[2] > n - WS_EBPF_PATH_MAX)
    return;
  Process& p = processes_[e.pid];
  p.image = absolute_image(e.pid, std::string(reinterpret_cast<const char*>(payload), e.aux[1]));
  p.cmdline = joined_args(payload + WS_EBPF_PATH_MAX, e.aux[2]);
  RawWriter w(FuncId::process_start, static_cast<int64_t>(e.ts), 0);
  w.u64(FieldId::ppid, e.aux[0]);
  w.str(FieldId::image, p.image);
  w.str(FieldId::cmdline, p.cmdline);
  w.u64(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
  out.push_back(w.done(e.pid, e.tid));
}

// The parent's fork (its result the child's pid), then the child's start: the same program.
void EbpfRecords::fork(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  const auto parent = static_cast<uint32_t>(e.aux[0]);
  RawWriter f(FuncId::fork, static_cast<int64_t>(e.ts), 0);
  f.result(e.pid);
  out.push_back(f.done(parent, static_cast<uint32_t>(e.aux[1])));
  const Process p = processes_[parent];
  if (e.flags & WS_F_NOT_TRACED) {
    RawWriter lost(FuncId::tracing_lost, static_cast<int64_t>(e.ts), 0);
    lost.str(FieldId::image, p.image);
    lost.str(FieldId::cause, fmt::format("the kernel engine's table of traced processes is full "
                                         "({} processes): this child is not traced",
                                         WS_EBPF_MAX_PROCS));
    lost.u64(FieldId::child, e.pid);
    out.push_back(lost.done(parent, static_cast<uint32_t>(e.aux[1])));
    return;
  }
  processes_[e.pid] = p;
  RawWriter w(FuncId::process_start, static_cast<int64_t>(e.ts), 0);
  w.u64(FieldId::ppid, parent);
  w.str(FieldId::image, p.image);
  w.str(FieldId::cmdline, p.cmdline);
  w.u64(FieldId::platform, static_cast<uint64_t>(Platform::Linux));
  out.push_back(w.done(e.pid, e.tid));
}

// A socket the new program has (the agent records the same when it starts in a program).
void EbpfRecords::inherited(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  RawWriter w(FuncId::inherited, static_cast<int64_t>(e.ts), 0);
  w.u64(FieldId::sock, e.args[0]);
  w.platform_const(FieldId::family, static_cast<int64_t>(e.args[1]));
  w.platform_const(FieldId::type, static_cast<int64_t>(e.args[2]));
  w.platform_const(FieldId::protocol, static_cast<int64_t>(e.args[3]));
  w.sockaddr(FieldId::local, e.local, kept_len(e.local_len, sizeof e.local));
  w.sockaddr(FieldId::peer, e.addr, kept_len(e.addr_len, sizeof e.addr));
  w.u64(FieldId::listening, e.args[4] ? 1 : 0);
  out.push_back(w.done(e.pid, e.tid));
}

void EbpfRecords::unseen_compat(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  RawWriter w = unseen(e, "32-bit-syscalls",
                       "the process makes 32-bit system calls (int 0x80), which the kernel "
                       "engine does not record yet: its socket calls through them are missing");
  out.push_back(w.done(e.pid, e.tid));
}

// What TCP did (wstrace_tcp.bpf.h): a reading as the agent's tcp_info (its figures one by one
// rather than the struct tcp_info the agent copies), a state change, a retransmission.
void EbpfRecords::tcp_event(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  constexpr uint64_t kUs = 1000;
  const __u64* a = e.args;
  switch (e.kind) {
    case WS_EV_TCP_INFO: {
      RawWriter w(FuncId::tcp_info, static_cast<int64_t>(e.ts), 0);
      w.u64(FieldId::sock, static_cast<uint32_t>(a[0]));
      w.u64(FieldId::tcp_at, e.nr);
      w.platform_const(FieldId::tcp_state, static_cast<int64_t>(a[1]));
      w.u64(FieldId::rtt, a[2] * kUs);
      w.u64(FieldId::rtt_var, a[3] * kUs);
      if (a[4] != UINT32_MAX) w.u64(FieldId::min_rtt, a[4] * kUs);  // (~0: no sample yet)
      w.u64(FieldId::retrans, a[5]);
      w.u64(FieldId::retrans_bytes, e.aux[0]);
      // Read when the connection was set up, every retransmission so far was of the SYN.
      if (e.nr == WS_TCP_AT_CONNECTED) w.u64(FieldId::syn_retrans, a[5]);
      w.u64(FieldId::bytes_sent, e.aux[1]);
      w.u64(FieldId::bytes_recvd, e.aux[2]);
      out.push_back(w.done(e.pid, e.tid));
      return;
    }
    case WS_EV_TCP_STATE: {
      RawWriter w(FuncId::tcp_state_change, static_cast<int64_t>(e.ts), 0);
      w.u64(FieldId::sock, static_cast<uint32_t>(a[0]));
      w.platform_const(FieldId::old_state, static_cast<int64_t>(a[1]));
      w.platform_const(FieldId::tcp_state, static_cast<int64_t>(a[2]));
      out.push_back(w.done(e.pid, e.tid));
      return;
    }
    case WS_EV_TCP_RETRANS: {
      RawWriter w(FuncId::tcp_retransmit, static_cast<int64_t>(e.ts), 0);
      w.u64(FieldId::sock, static_cast<uint32_t>(a[0]));
      w.platform_const(FieldId::tcp_state, static_cast<int64_t>(a[1]));
      w.u64(FieldId::stream_offset, a[2]);
      w.u64(FieldId::len, a[3]);
      w.u64(FieldId::count, a[4]);
      w.u64(FieldId::retrans, a[5]);
      out.push_back(w.done(e.pid, e.tid));
      return;
    }
  }
}

EbpfOutcome EbpfRecords::exit(const ws_ebpf_event& e, std::vector<EbpfRecord>& out) {
  EbpfOutcome o{e.tid, 0};
  if (!(e.flags & WS_F_LAST_THREAD)) return o;
  if (e.aux[1]) {
    RawWriter u = unseen(e, "io_uring-sockets",
                         fmt::format("{} socket operation{} submitted through io_uring went "
                                     "unrecorded",
                                     e.aux[1], e.aux[1] == 1 ? " was" : "s were"));
    u.u64(FieldId::count, e.aux[1]);
    out.push_back(u.done(e.pid, e.tid));
  }
  RawWriter w(FuncId::process_exit, static_cast<int64_t>(e.ts), 0);
  w.i64(FieldId::exit_code, exit_status_of(e.aux[0]));
  out.push_back(w.done(e.pid, e.tid));
  processes_.erase(e.pid);
  o.ended_pid = e.pid;
  return o;
}

// A name lookup the uprobes saw, as the preload agent's hook for its function records it
// (agent/hooks_resolve.cc).
void EbpfRecords::lookup(const ws_ebpf_event& e, const uint8_t* payload, size_t n,
                         std::vector<EbpfRecord>& out) {
  ws_ebpf_lookup l;
  if (n < sizeof l) return;
  std::memcpy(&l, payload, sizeof l);
  l.host[sizeof l.host - 1] = l.serv[sizeof l.serv - 1] = l.canon[sizeof l.canon - 1] = 0;
  const size_t naddrs = l.naddrs <= WS_LK_ADDRS_MAX ? l.naddrs : 0;
  static constexpr FuncId kFunc[WS_LK_COUNT] = {
      FuncId::getaddrinfo,      FuncId::gethostbyname, FuncId::gethostbyname2,
      FuncId::gethostbyname_r,  FuncId::gethostbyname2_r, FuncId::gethostbyaddr,
      FuncId::getnameinfo};
  if (l.fn >= WS_LK_COUNT) return;
  RawWriter w(kFunc[l.fn], static_cast<int64_t>(e.ts), e.dur);
  const std::string_view host = l.host, serv = l.serv, canon = l.canon;
  auto eai = [&](int r) {
    // (EAI_SYSTEM's errno is the thread's, out of the probes' reach: the EAI code stays.)
    w.result(r);
    if (r != 0) w.error(ErrDomain::Eai, r);
  };
  auto herr = [&] {
    if (l.have_herr) w.error(ErrDomain::HErrno, l.herr);
  };
  switch (l.fn) {
    case WS_LK_GETADDRINFO:
      eai(l.ret);
      w.str(FieldId::host, host);
      if (!serv.empty()) w.str(FieldId::service, serv);
      if (l.have_hints) {
        w.platform_const(FieldId::hint_family, l.hint_family);
        if (l.hint_type) w.platform_const(FieldId::hint_type, l.hint_type);
        if (l.hint_flags) w.platform_const(FieldId::hint_flags, l.hint_flags);
      }
      if (l.ret == 0) {
        w.addr_list(FieldId::addrs, l.addrs, naddrs);
        if (!canon.empty()) w.str(FieldId::canon, canon);
      }
      break;
    case WS_LK_GETHOSTBYNAME:
    case WS_LK_GETHOSTBYNAME2:
    case WS_LK_GETHOSTBYNAME_R:
    case WS_LK_GETHOSTBYNAME2_R: {
      const bool r = l.fn == WS_LK_GETHOSTBYNAME_R || l.fn == WS_LK_GETHOSTBYNAME2_R;
      const bool found = l.ret == 0;
      w.result(found ? 0 : -1);
      if (r && l.ret > 0) w.error(ErrDomain::Errno, l.ret);  // (ERANGE: the buffer was short)
      else if (!found) herr();
      w.str(FieldId::host, host);
      if (l.fn == WS_LK_GETHOSTBYNAME2 || l.fn == WS_LK_GETHOSTBYNAME2_R)
        w.platform_const(FieldId::hint_family, l.af);
      if (found) {
        w.addr_list(FieldId::addrs, l.addrs, naddrs);
        if (!canon.empty()) w.str(FieldId::canon, canon);
      }
      break;
    }
    case WS_LK_GETHOSTBYADDR:
      w.result(l.ret);
      if (l.ret != 0) herr();
      if (l.addr_len) {
        const uint8_t(*one)[28] = &l.addr;
        uint16_t family;
        std::memcpy(&family, *one, 2);
        w.sockaddr(FieldId::addr, *one, family == AF_INET ? sizeof(sockaddr_in)
                                                           : sizeof(sockaddr_in6));
      }
      if (l.ret == 0 && !host.empty()) w.str(FieldId::host, host);
      break;
    case WS_LK_GETNAMEINFO:
      eai(l.ret);
      w.sockaddr(FieldId::addr, l.addr, l.addr_len <= sizeof l.addr ? l.addr_len : 0);
      if (l.ret == 0 && !host.empty()) w.str(FieldId::host, host);
      if (l.ret == 0 && !serv.empty()) w.str(FieldId::service, serv);
      break;
  }
  out.push_back(w.done(e.pid, e.tid));
}

}  // namespace ws::capture
