// What the agent sees only indirectly (tests/integration/capture_blind.sh): socket calls made by
// number through libc's syscall(), a close made by system call instruction (which no preloaded
// library sees), io_uring being set up, and sockets the process inherited from its parent.
//
//   blind syscalls           UDP to itself and a TCP connection to itself, every call made with
//                            syscall(SYS_…): prints "syscalls ok"
//   blind inline-close       a socket closed by instruction, then a new socket on its number
//   blind io-uring           io_uring_setup by syscall() (prints "io_uring unavailable" when the
//                            kernel refuses it)
//   blind retitle ARGS…      rewrites its command line and names its main thread, as servers do
//   blind daemon FIFO        leaves a child that waits for a line on FIFO, then exchanges once
//   blind wait-signal        says "ready", waits for SIGINT or SIGTERM, says which came
//   blind inherited L C      accepts one connection on inherited listener L and reads 2 bytes
//                            from it; sends "ping" on inherited connection C and reads 4 bytes
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <signal.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

static void die(const char* what) {
  perror(what);
  exit(1);
}

static long sys(long n, long a, long b, long c, long d, long e, long f) {
  return syscall(n, a, b, c, d, e, f);
}

static int by_syscalls(void) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  // UDP: one datagram to ourselves by sendmmsg, received by recvfrom.
  int u = (int)sys(SYS_socket, AF_INET, SOCK_DGRAM, 0, 0, 0, 0);
  if (u < 0) die("socket");
  if (sys(SYS_bind, u, (long)&a, sizeof a, 0, 0, 0) != 0) die("bind");
  if (sys(SYS_getsockname, u, (long)&a, (long)&len, 0, 0, 0) != 0) die("getsockname");
  char msg[] = "datagram-by-number";
  struct iovec iov = {msg, sizeof msg - 1};
  struct mmsghdr m = {.msg_hdr = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = &iov,
                                  .msg_iovlen = 1}};
  if (sys(SYS_sendmmsg, u, (long)&m, 1, 0, 0, 0) != 1) die("sendmmsg");
  char buf[64];
  struct sockaddr_in from;
  socklen_t flen = sizeof from;
  if (sys(SYS_recvfrom, u, (long)buf, sizeof buf, 0, (long)&from, (long)&flen) != 18)
    die("recvfrom");
  if (sys(SYS_close, u, 0, 0, 0, 0, 0) != 0) die("close");
  // TCP: a listener, a connection to it, 5 bytes each way, all closed.
  int l = (int)sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
  a.sin_port = 0;
  len = sizeof a;
  if (sys(SYS_bind, l, (long)&a, sizeof a, 0, 0, 0) != 0) die("bind tcp");
  if (sys(SYS_listen, l, 1, 0, 0, 0, 0) != 0) die("listen");
  if (sys(SYS_getsockname, l, (long)&a, (long)&len, 0, 0, 0) != 0) die("getsockname tcp");
  int c = (int)sys(SYS_socket, AF_INET, SOCK_STREAM, 0, 0, 0, 0);
  if (sys(SYS_connect, c, (long)&a, sizeof a, 0, 0, 0) != 0) die("connect");
  int s = (int)sys(SYS_accept4, l, 0, 0, 0, 0, 0);
  if (s < 0) die("accept4");
  if (sys(SYS_sendto, c, (long)"hello", 5, 0, 0, 0) != 5) die("sendto");
  if (sys(SYS_recvfrom, s, (long)buf, 5, MSG_WAITALL, 0, 0) != 5) die("recv");
  if (sys(SYS_write, s, (long)"world", 5, 0, 0, 0) != 5) die("write");
  if (sys(SYS_read, c, (long)buf, 5, 0, 0, 0) != 5) die("read");
  if (sys(SYS_shutdown, c, SHUT_WR, 0, 0, 0, 0) != 0) die("shutdown");
  sys(SYS_close, c, 0, 0, 0, 0, 0);
  sys(SYS_close, s, 0, 0, 0, 0, 0);
  sys(SYS_close, l, 0, 0, 0, 0, 0);
  puts("syscalls ok");
  return 0;
}

// close(fd) by the syscall instruction itself: no library function is called.
static long close_by_instruction(int fd) {
  long r;
  __asm__ volatile("syscall" : "=a"(r) : "0"((long)SYS_close), "D"((long)fd) : "rcx", "r11",
                   "memory");
  return r;
}

static int inline_close(void) {
  int first = socket(AF_INET, SOCK_STREAM, 0);
  if (first < 0) die("socket");
  if (close_by_instruction(first) != 0) die("close by instruction");
  int second = socket(AF_INET, SOCK_DGRAM, 0);
  if (second != first) {
    fprintf(stderr, "the second socket got %d, not %d\n", second, first);
    return 1;
  }
  close(second);
  printf("reused %d\n", first);
  return 0;
}

static int io_uring(void) {
  unsigned char params[120];  // struct io_uring_params (zeroed: the kernel fills it)
  memset(params, 0, sizeof params);
  long fd = syscall(SYS_io_uring_setup, 4, params);
  if (fd < 0) {
    printf("io_uring unavailable: %s\n", strerror(errno));
    return 0;
  }
  close((int)fd);
  puts("io_uring set up");
  return 0;
}

static int inherited(int l, int c) {
  int s = accept(l, NULL, NULL);
  if (s < 0) die("accept");
  char buf[8];
  if (recv(s, buf, 2, MSG_WAITALL) != 2) die("recv accepted");
  close(s);
  if (send(c, "ping", 4, 0) != 4) die("send");
  if (recv(c, buf, 4, MSG_WAITALL) != 4) die("recv");
  close(c);
  close(l);
  puts("inherited ok");
  return 0;
}

// Renames itself as servers do: its command line rewritten in place (nginx, redis, sshd) to
// "blind: worker process", and its main thread named "blind-worker".
static int retitle(int argc, char** argv) {
  char* end = argv[argc - 1] + strlen(argv[argc - 1]);
  size_t room = (size_t)(end - argv[0]);
  const char title[] = "blind: worker process";
  memset(argv[0], 0, room);
  memcpy(argv[0], title, sizeof title <= room ? sizeof title : room);
  prctl(PR_SET_NAME, "blind-worker");
  int s = socket(AF_INET, SOCK_STREAM, 0);
  close(s);
  puts("retitled");
  return 0;
}

// Leaves a child behind: prints the child's pid and exits; the child waits for a line on FIFO,
// then makes one socket exchange and exits.
static int daemon_child(const char* fifo) {
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child > 0) {
    printf("child %d\n", (int)child);
    return 0;
  }
  FILE* f = fopen(fifo, "r");
  char line[64];
  if (!f || !fgets(line, sizeof line, f)) _exit(1);
  int sv[2];
  char buf[8];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || send(sv[0], "late", 4, 0) != 4 ||
      recv(sv[1], buf, 4, 0) != 4)
    _exit(1);
  close(sv[0]);
  close(sv[1]);
  _exit(0);
}

static volatile sig_atomic_t got_signal = 0;
static void on_signal(int sig) { got_signal = sig; }

// Waits for SIGINT or SIGTERM (after saying "ready"), then says which came and makes one
// socket exchange.
static int wait_signal(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigset_t block, old;
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, &old);
  puts("ready");
  fflush(stdout);
  while (!got_signal) sigsuspend(&old);
  printf("got %s\n", got_signal == SIGINT ? "SIGINT" : "SIGTERM");
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) die("socketpair");
  close(sv[0]);
  close(sv[1]);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "daemon")) return daemon_child(argv[2]);
  if (argc >= 2 && !strcmp(argv[1], "wait-signal")) return wait_signal();
  if (argc >= 2 && !strcmp(argv[1], "retitle")) return retitle(argc, argv);
  if (argc >= 2 && !strcmp(argv[1], "syscalls")) return by_syscalls();
  if (argc >= 2 && !strcmp(argv[1], "inline-close")) return inline_close();
  if (argc >= 2 && !strcmp(argv[1], "io-uring")) return io_uring();
  if (argc >= 4 && !strcmp(argv[1], "inherited")) return inherited(atoi(argv[2]), atoi(argv[3]));
  fprintf(stderr, "usage: blind syscalls|inline-close|io-uring|inherited L C\n");
  return 2;
}
