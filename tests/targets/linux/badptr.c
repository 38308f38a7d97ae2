/* badptr: a target program for tests/integration/capture_badptr.sh. It calls every hooked
 * function that takes memory with a pointer the kernel refuses ((void *)16, a PROT_NONE page),
 * each case in a child process of its own, and prints one line per case:
 *
 *   case NAME pid=PID func=FUNC result=R errno=ENAME     the call returned (errno after it)
 *   case NAME pid=PID signal=N                           the child died of signal N
 *
 * so that a run under `wstrace record` can be compared line for line (pids left out) with an
 * untraced run. Cases where libc itself reads the memory (and crashes untraced) print the
 * signal both ways. Then:
 *
 *   namelen V         recvmsg with msg_name == NULL and msg_namelen 12345: what the program
 *                     sees afterwards (the kernel leaves it alone)
 *   guard-string R    getaddrinfo of a numeric host whose terminating zero is the last byte
 *                     before a PROT_NONE page
 *   seccomp …         a connect refused EBADF with a bad address, process_vm_readv forbidden
 *                     by a seccomp filter (the agent's safe read then records no address)
 * Exit status 0. Everything runs on loopback.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <resolv.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

/* volatile: the compiler would see through a constant and refuse to build the calls */
static void* volatile bad_pointer = (void*)16;
#define BAD (bad_pointer)

static void* none_page;  /* PROT_NONE */
static char* guard_end;  /* the end of a readable page followed by a PROT_NONE one */
static int udp;          /* bound to 127.0.0.1, a datagram to itself queued before each case */
static int tcp[2];       /* a connected loopback pair, bytes queued on tcp[0] */
static int lsn;          /* a listener */
static struct sockaddr_in udp_addr, lsn_addr;

static void die(const char* what) {
  perror(what);
  exit(2);
}

static void queue_datagram(void) {
  if (sendto(udp, "dgram", 5, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr) != 5)
    die("sendto self");
}

static void setup(void) {
  none_page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  char* two = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (none_page == MAP_FAILED || two == MAP_FAILED || mprotect(two + 4096, 4096, PROT_NONE))
    die("mmap");
  guard_end = two + 4096;
  udp = socket(AF_INET, SOCK_DGRAM, 0);
  udp_addr.sin_family = AF_INET;
  udp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof udp_addr;
  if (udp < 0 || bind(udp, (struct sockaddr*)&udp_addr, sizeof udp_addr) ||
      getsockname(udp, (struct sockaddr*)&udp_addr, &len))
    die("udp");
  lsn = socket(AF_INET, SOCK_STREAM, 0);
  lsn_addr = udp_addr;
  lsn_addr.sin_port = 0;
  len = sizeof lsn_addr;
  if (lsn < 0 || bind(lsn, (struct sockaddr*)&lsn_addr, sizeof lsn_addr) || listen(lsn, 8) ||
      getsockname(lsn, (struct sockaddr*)&lsn_addr, &len))
    die("listener");
  tcp[1] = socket(AF_INET, SOCK_STREAM, 0);
  if (tcp[1] < 0 || connect(tcp[1], (struct sockaddr*)&lsn_addr, sizeof lsn_addr)) die("connect");
  tcp[0] = accept(lsn, NULL, NULL);
  if (tcp[0] < 0 || send(tcp[1], "queued", 6, 0) != 6) die("pair");
}

/* A connection waiting in the listener's queue (made in the case's child), so that accept
 * returns at once; the kernel refuses the address pointers only after taking it. */
static void pending(void) {
  int c = socket(AF_INET, SOCK_STREAM, 0);
  if (c < 0 || connect(c, (struct sockaddr*)&lsn_addr, sizeof lsn_addr)) die("pending");
}

/* One case: in a child, so that a crash ends only the case. */
typedef long (*case_fn)(void);
static void run(const char* name, const char* func, case_fn fn) {
  fflush(stdout);
  queue_datagram();
  pid_t pid = fork();
  if (pid < 0) die("fork");
  if (pid == 0) {
    errno = 0;
    long r = fn();
    int e = errno;
    printf("case %s pid=%d func=%s result=%ld errno=%s\n", name, (int)getpid(), func, r,
           e ? strerrorname_np(e) : "0");
    fflush(stdout);
    _exit(0);
  }
  int status;
  if (waitpid(pid, &status, 0) != pid) die("waitpid");
  if (WIFSIGNALED(status)) printf("case %s pid=%d signal=%d\n", name, (int)pid, WTERMSIG(status));
  /* the datagram a case did not take is read here, so that each case finds exactly one */
  char drain[16];
  while (recv(udp, drain, sizeof drain, MSG_DONTWAIT) > 0) {
  }
}

static socklen_t len16 = 16;
static struct sockaddr_storage ss;
static char buf[64];

static long c_connect(void) { return connect(udp, BAD, 16); }
static long c_connect_ebadf(void) { return connect(9999, BAD, 16); }
static long c_connect_none(void) { return connect(9999, none_page, 16); }
static long c_bind(void) { return bind(udp, BAD, 16); }
static long c_accept_addr(void) {
  pending();
  return accept(lsn, BAD, &len16);
}
static long c_accept_len(void) {
  pending();
  return accept(lsn, (struct sockaddr*)&ss, BAD);
}
static long c_accept4_len(void) {
  pending();
  return accept4(lsn, (struct sockaddr*)&ss, BAD, 0);
}
static long c_socketpair(void) { return socketpair(AF_UNIX, SOCK_STREAM, 0, BAD); }
static long c_getsockname(void) { return getsockname(udp, BAD, &len16); }
static long c_getsockname_len(void) { return getsockname(udp, (struct sockaddr*)&ss, BAD); }
static long c_getpeername_len(void) { return getpeername(tcp[0], (struct sockaddr*)&ss, BAD); }
static long c_setsockopt(void) { return setsockopt(udp, SOL_SOCKET, SO_RCVBUF, BAD, 4); }
static long c_setsockopt_ebadf(void) { return setsockopt(9999, SOL_SOCKET, SO_RCVBUF, BAD, 4); }
static long c_getsockopt(void) {
  socklen_t l = 4;
  return getsockopt(udp, SOL_SOCKET, SO_RCVBUF, BAD, &l);
}
static long c_getsockopt_len(void) {
  int v;
  return getsockopt(udp, SOL_SOCKET, SO_RCVBUF, &v, BAD);
}
static long c_ioctl(void) { return ioctl(udp, FIONBIO, BAD); }
static long c_ioctl_fionread(void) { return ioctl(udp, FIONREAD, BAD); }
static long c_send(void) { return send(tcp[1], BAD, 10, 0); }
static long c_sendto_buf(void) {
  return sendto(udp, BAD, 10, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr);
}
static long c_sendto_addr(void) { return sendto(udp, "x", 1, 0, BAD, 16); }
static long c_sendto_addr_ebadf(void) { return sendto(9999, "x", 1, 0, BAD, 16); }
static long c_sendmsg(void) { return sendmsg(udp, BAD, 0); }
static long c_sendmsg_iov(void) {
  struct msghdr m = {.msg_name = &udp_addr, .msg_namelen = sizeof udp_addr, .msg_iov = BAD,
                     .msg_iovlen = 1};
  return sendmsg(udp, &m, 0);
}
static long c_sendmsg_base(void) {
  struct iovec v = {BAD, 10};
  struct msghdr m = {.msg_name = &udp_addr, .msg_namelen = sizeof udp_addr, .msg_iov = &v,
                     .msg_iovlen = 1};
  return sendmsg(udp, &m, 0);
}
static long c_sendmsg_name(void) {
  struct iovec v = {"x", 1};
  struct msghdr m = {.msg_name = BAD, .msg_namelen = 16, .msg_iov = &v, .msg_iovlen = 1};
  return sendmsg(udp, &m, 0);
}
static long c_sendmmsg(void) { return sendmmsg(udp, BAD, 1, 0); }
static long c_sendmmsg_iov(void) {
  struct mmsghdr m = {.msg_hdr = {.msg_name = &udp_addr, .msg_namelen = sizeof udp_addr,
                                  .msg_iov = BAD, .msg_iovlen = 1}};
  return sendmmsg(udp, &m, 1, 0);
}
static long c_write(void) { return write(tcp[1], BAD, 10); }
static long c_writev(void) { return writev(tcp[1], BAD, 1); }
static long c_writev_base(void) {
  struct iovec v = {BAD, 10};
  return writev(tcp[1], &v, 1);
}
static long c_recv(void) { return recv(tcp[0], BAD, 10, MSG_DONTWAIT); }
/* MSG_TRUNC: the result is the datagram's 5 bytes, but only 2 were written (before a PROT_NONE
 * page): a success whose payload is those 2 */
static long c_recv_trunc(void) { return recv(udp, guard_end - 2, 2, MSG_TRUNC | MSG_DONTWAIT); }
static long c_recvfrom_buf(void) { return recvfrom(udp, BAD, 10, MSG_DONTWAIT, NULL, NULL); }
static long c_recvfrom_addr(void) {
  socklen_t l = sizeof ss;
  return recvfrom(udp, buf, sizeof buf, MSG_DONTWAIT, BAD, &l);
}
static long c_recvfrom_len(void) {
  return recvfrom(udp, buf, sizeof buf, MSG_DONTWAIT, (struct sockaddr*)&ss, BAD);
}
static long c_recvmsg(void) { return recvmsg(udp, BAD, MSG_DONTWAIT); }
static long c_recvmsg_iov(void) {
  struct msghdr m = {.msg_iov = BAD, .msg_iovlen = 1};
  return recvmsg(udp, &m, MSG_DONTWAIT);
}
static long c_recvmsg_base(void) {
  struct iovec v = {BAD, 10};
  struct msghdr m = {.msg_iov = &v, .msg_iovlen = 1};
  return recvmsg(udp, &m, MSG_DONTWAIT);
}
static long c_recvmsg_name(void) {
  struct iovec v = {buf, sizeof buf};
  struct msghdr m = {.msg_name = BAD, .msg_namelen = 16, .msg_iov = &v, .msg_iovlen = 1};
  return recvmsg(udp, &m, MSG_DONTWAIT);
}
static long c_recvmsg_readonly(void) {
  /* a msghdr the kernel can read but not write back to (its flags): EFAULT */
  struct iovec v = {buf, sizeof buf};
  struct msghdr* m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (m == MAP_FAILED) return -2;
  m->msg_iov = &v;
  m->msg_iovlen = 1;
  if (mprotect(m, 4096, PROT_READ)) return -2;
  return recvmsg(udp, m, MSG_DONTWAIT);
}
static long c_recvmmsg(void) { return recvmmsg(udp, BAD, 1, MSG_DONTWAIT, NULL); }
static long c_recvmmsg_iov(void) {
  struct mmsghdr m = {.msg_hdr = {.msg_iov = BAD, .msg_iovlen = 1}};
  return recvmmsg(udp, &m, 1, MSG_DONTWAIT, NULL);
}
static long c_read(void) { return read(tcp[0], BAD, 10); }
static long c_readv(void) { return readv(tcp[0], BAD, 1); }
static long c_poll(void) { return poll(BAD, 1, 0); }
static long c_poll_none(void) { return poll(none_page, 2, 0); }
static long c_ppoll(void) {
  struct timespec ts = {0, 0};
  return ppoll(BAD, 1, &ts, NULL);
}
static long c_select(void) {
  struct timeval tv = {0, 0};
  return select(udp + 1, BAD, NULL, NULL, &tv);
}
static long c_select_wr(void) {
  struct timeval tv = {0, 0};
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(udp, &rd);
  return select(udp + 1, &rd, none_page, NULL, &tv);
}
static long c_epoll_wait(void) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = udp}};
  if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev)) return -2;
  return epoll_wait(ep, BAD, 1, 0);
}
/* Zero-copy sends from a regular file (this program) with offsets the kernel refuses. */
int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo, const sigset_t* ss,
                size_t fdslen);  /* what a fortified ppoll calls */
static int self_file(void) { return open("/proc/self/exe", O_RDONLY); }
static long c_sendfile_off(void) { return sendfile(tcp[0], self_file(), BAD, 10); }
static long c_sendfile_none(void) { return sendfile(tcp[0], self_file(), none_page, 10); }
static long c_copy_file_range_off(void) {
  return copy_file_range(self_file(), BAD, tcp[0], NULL, 10, 0);
}
static int udp_epoll(void) {
  int ep = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN, .data = {.fd = udp}};
  return ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, udp, &ev) ? -1 : ep;
}
static long c_epoll_ctl_event(void) {
  int ep = epoll_create1(0);
  return ep < 0 ? -2 : epoll_ctl(ep, EPOLL_CTL_ADD, udp, BAD);
}
static long c_epoll_pwait(void) {
  int ep = udp_epoll();
  return ep < 0 ? -2 : epoll_pwait(ep, BAD, 1, 0, NULL);
}
static long c_epoll_pwait2_tmo(void) {
  struct epoll_event evs[1];
  int ep = udp_epoll();
  return ep < 0 ? -2 : epoll_pwait2(ep, evs, 1, BAD, NULL);
}
static long c_ppoll_chk(void) {
  struct timespec ts = {0, 0};
  return __ppoll_chk(BAD, 1, &ts, NULL, sizeof(struct pollfd));
}
static long c_getaddrinfo_host(void) {
  struct addrinfo* res;
  return getaddrinfo(BAD, "80", NULL, &res);
}
static long c_getaddrinfo_hints(void) {
  struct addrinfo* res;
  return getaddrinfo("127.0.0.1", "80", BAD, &res);
}
static long c_getnameinfo(void) {
  char host[64];
  return getnameinfo(BAD, 16, host, sizeof host, NULL, 0, NI_NUMERICHOST);
}
static long c_gethostbyname(void) { return gethostbyname(BAD) ? 0 : -1; }
static long c_gethostbyaddr(void) { return gethostbyaddr(BAD, 4, AF_INET) ? 0 : -1; }
static long c_res_query(void) {
  unsigned char ans[512];
  return res_query(BAD, C_IN, T_A, ans, sizeof ans);
}

/* recvmsg with msg_name == NULL: msg_namelen as the kernel leaves it (untouched). */
static void namelen_case(void) {
  queue_datagram();
  struct iovec v = {buf, sizeof buf};
  struct msghdr m = {.msg_name = NULL, .msg_namelen = 12345, .msg_iov = &v, .msg_iovlen = 1};
  ssize_t r = recvmsg(udp, &m, MSG_DONTWAIT);
  printf("namelen result=%zd namelen=%u flags=%d controllen=%zu\n", r, m.msg_namelen, m.msg_flags,
         (size_t)m.msg_controllen);
}

/* A string that ends right before an unreadable page: read whole, not refused. */
static void guard_string_case(void) {
  const char host[] = "127.0.0.7";
  char* s = guard_end - sizeof host;
  memcpy(s, host, sizeof host);
  struct addrinfo hints = {.ai_flags = AI_NUMERICHOST, .ai_socktype = SOCK_STREAM};
  struct addrinfo* res = NULL;
  int r = getaddrinfo(s, NULL, &hints, &res);
  printf("guard-string result=%d\n", r);
  if (res) freeaddrinfo(res);
}

/* With process_vm_readv forbidden (ENOSYS) by a seccomp filter: the call still answers EBADF. */
static long seccomp_connect(void) {
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_process_vm_readv, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  struct sock_fprog prog = {.len = sizeof f / sizeof f[0], .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog))
    return -2;
  errno = 0;
  return connect(9999, BAD, 16);
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  setup();
#define CASE(name, func) run(#name, #func, c_##name)
  CASE(connect, connect);
  CASE(connect_ebadf, connect);
  CASE(connect_none, connect);
  CASE(bind, bind);
  CASE(accept_addr, accept);
  CASE(accept_len, accept);
  CASE(accept4_len, accept4);
  CASE(socketpair, socketpair);
  CASE(getsockname, getsockname);
  CASE(getsockname_len, getsockname);
  CASE(getpeername_len, getpeername);
  CASE(setsockopt, setsockopt);
  CASE(setsockopt_ebadf, setsockopt);
  CASE(getsockopt, getsockopt);
  CASE(getsockopt_len, getsockopt);
  CASE(ioctl, ioctl);
  CASE(ioctl_fionread, ioctl);
  CASE(send, send);
  CASE(sendto_buf, sendto);
  CASE(sendto_addr, sendto);
  CASE(sendto_addr_ebadf, sendto);
  CASE(sendmsg, sendmsg);
  CASE(sendmsg_iov, sendmsg);
  CASE(sendmsg_base, sendmsg);
  CASE(sendmsg_name, sendmsg);
  CASE(sendmmsg, sendmmsg);
  CASE(sendmmsg_iov, sendmmsg);
  CASE(write, write);
  CASE(writev, writev);
  CASE(writev_base, writev);
  CASE(recv, recv);
  CASE(recv_trunc, recv);
  CASE(recvfrom_buf, recvfrom);
  CASE(recvfrom_addr, recvfrom);
  CASE(recvfrom_len, recvfrom);
  CASE(recvmsg, recvmsg);
  CASE(recvmsg_iov, recvmsg);
  CASE(recvmsg_base, recvmsg);
  CASE(recvmsg_name, recvmsg);
  CASE(recvmsg_readonly, recvmsg);
  CASE(recvmmsg, recvmmsg);
  CASE(recvmmsg_iov, recvmmsg);
  CASE(read, read);
  CASE(readv, readv);
  CASE(poll, poll);
  CASE(poll_none, poll);
  CASE(ppoll, ppoll);
  CASE(select, select);
  CASE(select_wr, select);
  CASE(epoll_wait, epoll_wait);
  CASE(epoll_pwait, epoll_pwait);
  CASE(epoll_ctl_event, epoll_ctl);
  CASE(epoll_pwait2_tmo, epoll_pwait2);
  CASE(ppoll_chk, ppoll);
  CASE(sendfile_off, sendfile);
  CASE(sendfile_none, sendfile);
  CASE(copy_file_range_off, copy_file_range);
  CASE(getaddrinfo_host, getaddrinfo);
  CASE(getaddrinfo_hints, getaddrinfo);
  CASE(getnameinfo, getnameinfo);
  CASE(gethostbyname, gethostbyname);
  CASE(gethostbyaddr, gethostbyaddr);
  CASE(res_query, res_query);
  run("seccomp_connect", "connect", seccomp_connect);
  namelen_case();
  guard_string_case();
  return 0;
}
