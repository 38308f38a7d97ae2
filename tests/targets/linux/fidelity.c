/* fidelity: a target program for tests/integration/capture_fidelity.sh. Calls whose data or
 * waits the simple hooks would miss, on loopback only, with known bytes:
 *
 *   fidelity zerocopy DIR   sendfile (with an offset and from the file's position), splice of a
 *                           pipe into a socket and of a socket into a pipe, copy_file_range to a
 *                           socket (the kernel refuses it), sendfile between two files
 *   fidelity mmsg           sendmmsg of 3 datagrams of different sizes to 2 receivers on two
 *                           loopback addresses; recvmmsg of 3 datagrams from 2 senders
 *   fidelity waits          epoll_pwait, epoll_pwait2 and __ppoll_chk (what ppoll becomes
 *                           under _FORTIFY_SOURCE) on a loopback socket with a datagram queued
 *
 * Prints one line of key=value facts per subcommand. Exit status 0 when everything behaved as
 * expected, 1 with a message otherwise. No sleeps: each side waits on its socket.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "fidelity: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static long ok(long r, const char* what) {
  if (r < 0) die("%s failed: %s", what, strerror(errno));
  return r;
}

#define CHECK(cond, ...)           \
  do {                             \
    if (!(cond)) die(__VA_ARGS__); \
  } while (0)

static struct sockaddr_in loopback(int port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

static int local_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  ok(getsockname(fd, (struct sockaddr*)&a, &len), "getsockname");
  return ntohs(a.sin_port);
}

/* A connected TCP pair on 127.0.0.1: c[0] the client, c[1] the accepted end. */
static void tcp_pair(int c[2]) {
  int l = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct sockaddr_in a = loopback(0);
  ok(bind(l, (struct sockaddr*)&a, sizeof a), "bind");
  ok(listen(l, 1), "listen");
  a = loopback(local_port(l));
  c[0] = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  ok(connect(c[0], (struct sockaddr*)&a, sizeof a), "connect");
  c[1] = (int)ok(accept(l, NULL, NULL), "accept");
  ok(close(l), "close");
}

/* Reads exactly n bytes of fd into buf. */
static void read_exact(int fd, char* buf, size_t n, const char* what) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, buf + got, n - got);
    CHECK(r > 0, "%s: %zd after %zu of %zu bytes (%s)", what, r, got, n, strerror(errno));
    got += (size_t)r;
  }
}

/* ---- zerocopy ----------------------------------------------------------------------------- */

/* The file's byte at offset i. */
static char file_byte(size_t i) { return (char)('a' + (i * 7) % 26); }

static void expect_file_bytes(int fd, size_t from, size_t n, const char* what) {
  char buf[8192];
  CHECK(n <= sizeof buf, "%s: too long", what);
  read_exact(fd, buf, n, what);
  for (size_t i = 0; i < n; ++i)
    CHECK(buf[i] == file_byte(from + i), "%s: byte %zu differs", what, i);
}

static int cmd_zerocopy(const char* dir) {
  char path[4096], copy[4096];
  snprintf(path, sizeof path, "%s/zerocopy.src", dir);
  snprintf(copy, sizeof copy, "%s/zerocopy.copy", dir);
  int f = (int)ok(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), "open");
  char data[10000];
  for (size_t i = 0; i < sizeof data; ++i) data[i] = file_byte(i);
  CHECK(write(f, data, sizeof data) == (ssize_t)sizeof data, "write the file");

  int c[2];
  tcp_pair(c);
  /* sendfile with an offset: bytes 100..5099; the file's position stays where it was */
  off_t off = 100;
  CHECK(sendfile(c[0], f, &off, 5000) == 5000 && off == 5100, "sendfile with an offset");
  expect_file_bytes(c[1], 100, 5000, "sendfile with an offset");
  /* sendfile from the file's position: bytes 1000..3999 */
  ok(lseek(f, 1000, SEEK_SET), "lseek");
  CHECK(sendfile(c[0], f, NULL, 3000) == 3000, "sendfile from the position");
  CHECK(lseek(f, 0, SEEK_CUR) == 4000, "sendfile moved the position");
  expect_file_bytes(c[1], 1000, 3000, "sendfile from the position");

  /* splice: a pipe into the socket, then the socket into a pipe */
  int p[2];
  ok(pipe(p), "pipe");
  CHECK(write(p[1], "spliced-out", 11) == 11, "write the pipe");
  CHECK(splice(p[0], NULL, c[0], NULL, 11, 0) == 11, "splice into the socket");
  char buf[64];
  read_exact(c[1], buf, 11, "spliced-out");
  CHECK(memcmp(buf, "spliced-out", 11) == 0, "spliced-out bytes");
  CHECK(send(c[1], "spliced-in", 10, 0) == 10, "send spliced-in");
  CHECK(splice(c[0], NULL, p[1], NULL, 10, 0) == 10, "splice out of the socket");
  read_exact(p[0], buf, 10, "spliced-in");
  CHECK(memcmp(buf, "spliced-in", 10) == 0, "spliced-in bytes");

  /* copy_file_range to a socket: the kernel copies between regular files only */
  loff_t coff = 0;
  errno = 0;
  ssize_t cr = copy_file_range(f, &coff, c[0], NULL, 100, 0);
  int cerr = cr < 0 ? errno : 0;
  if (cr > 0) expect_file_bytes(c[1], 0, (size_t)cr, "copy_file_range");

  /* sendfile between two files: nothing for wstrace */
  int g = (int)ok(open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0600), "open");
  off = 0;
  CHECK(sendfile(g, f, &off, 1000) == 1000, "sendfile between files");
  ok(close(g), "close");

  ok(close(p[0]), "close");
  ok(close(p[1]), "close");
  ok(close(f), "close");
  ok(close(c[0]), "close");
  ok(close(c[1]), "close");
  printf("zerocopy client=%d server=%d pipe=%d,%d cfr=%zd cfr_errno=%s\n", c[0], c[1], p[0], p[1],
         cr, cerr ? strerrorname_np(cerr) : "0");
  return 0;
}

/* ---- mmsg --------------------------------------------------------------------------------- */

static int udp_socket(uint32_t ip) {
  int fd = (int)ok(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  struct sockaddr_in a = loopback(0);
  a.sin_addr.s_addr = htonl(ip);
  ok(bind(fd, (struct sockaddr*)&a, sizeof a), "bind");
  return fd;
}

static struct sockaddr_in addr_of(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  ok(getsockname(fd, (struct sockaddr*)&a, &len), "getsockname");
  return a;
}

static int cmd_mmsg(void) {
  int r1 = udp_socket(0x7f000001), r2 = udp_socket(0x7f000002);
  int s = udp_socket(0x7f000001), s2 = udp_socket(0x7f000001);
  struct sockaddr_in a1 = addr_of(r1), a2 = addr_of(r2);

  /* s2's datagram is queued first on r1: r1's recvmmsg gets it, then s's two */
  CHECK(sendto(s2, "from-s2!!", 9, 0, (struct sockaddr*)&a1, sizeof a1) == 9, "sendto");
  static const char* texts[3] = {"one", "second-msg", "third-datagram!!"};
  struct sockaddr_in* to[3] = {&a1, &a2, &a1};
  struct iovec iov[3];
  struct mmsghdr out[3];
  memset(out, 0, sizeof out);
  for (int i = 0; i < 3; ++i) {
    iov[i].iov_base = (void*)texts[i];
    iov[i].iov_len = strlen(texts[i]);
    out[i].msg_hdr.msg_iov = &iov[i];
    out[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_name = to[i];
    out[i].msg_hdr.msg_namelen = sizeof *to[i];
  }
  CHECK(sendmmsg(s, out, 3, 0) == 3, "sendmmsg: %s", strerror(errno));

  char bufs[4][64];
  struct iovec in_iov[4];
  struct sockaddr_in from[4];
  struct mmsghdr in[4];
  memset(in, 0, sizeof in);
  for (int i = 0; i < 4; ++i) {
    in_iov[i].iov_base = bufs[i];
    in_iov[i].iov_len = sizeof bufs[i];
    in[i].msg_hdr.msg_iov = &in_iov[i];
    in[i].msg_hdr.msg_iovlen = 1;
    in[i].msg_hdr.msg_name = &from[i];
    in[i].msg_hdr.msg_namelen = sizeof from[i];
  }
  /* the three datagrams for r1 are queued (loopback delivers at once): no waiting for a fourth */
  int n = (int)ok(recvmmsg(r1, in, 4, MSG_DONTWAIT, NULL), "recvmmsg");
  CHECK(n == 3, "recvmmsg on r1: %d datagrams", n);
  CHECK(in[0].msg_len == 9 && in[1].msg_len == 3 && in[2].msg_len == 16, "recvmmsg lengths");
  CHECK(memcmp(bufs[2], "third-datagram!!", 16) == 0, "recvmmsg third payload");
  n = (int)ok(recvmmsg(r2, in, 4, MSG_DONTWAIT, NULL), "recvmmsg");
  CHECK(n == 1 && in[0].msg_len == 10, "recvmmsg on r2");
  printf("mmsg r1=%d r2=%d s=%d s2=%d p1=%d p2=%d ps=%d ps2=%d\n", r1, r2, s, s2,
         ntohs(a1.sin_port), ntohs(a2.sin_port), ntohs(addr_of(s).sin_port),
         ntohs(addr_of(s2).sin_port));
  ok(close(r1), "close");
  ok(close(r2), "close");
  ok(close(s), "close");
  ok(close(s2), "close");
  return 0;
}

/* ---- waits -------------------------------------------------------------------------------- */

/* What a fortified ppoll calls; called here by name, as the fortified build would. */
int __ppoll_chk(struct pollfd* fds, nfds_t nfds, const struct timespec* tmo, const sigset_t* ss,
                size_t fdslen);

static int cmd_waits(void) {
  int r = udp_socket(0x7f000001), s = udp_socket(0x7f000001);
  struct sockaddr_in a = addr_of(r);
  CHECK(sendto(s, "ready", 5, 0, (struct sockaddr*)&a, sizeof a) == 5, "sendto");
  int ep = (int)ok(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = r};
  ok(epoll_ctl(ep, EPOLL_CTL_ADD, r, &ev), "epoll_ctl");
  struct epoll_event got[3];
  sigset_t mask;
  sigemptyset(&mask);
  CHECK(epoll_pwait(ep, got, 3, 1000, &mask) == 1 && got[0].data.fd == r, "epoll_pwait");
  struct timespec ts = {2, 500};
  int p2 = epoll_pwait2(ep, got, 3, &ts, NULL);
  int p2_err = p2 < 0 ? errno : 0;
  CHECK(p2 == 1 || p2_err == ENOSYS, "epoll_pwait2: %d %s", p2, strerror(p2_err));
  struct pollfd pf = {r, POLLIN, 0};
  struct timespec t3 = {3, 0};
  CHECK(__ppoll_chk(&pf, 1, &t3, NULL, sizeof pf) == 1 && (pf.revents & POLLIN), "__ppoll_chk");
  char buf[16];
  CHECK(recv(r, buf, sizeof buf, 0) == 5, "recv");
  printf("waits r=%d ep=%d pwait2=%d pwait2_errno=%s\n", r, ep, p2,
         p2_err ? strerrorname_np(p2_err) : "0");
  ok(close(ep), "close");
  ok(close(r), "close");
  ok(close(s), "close");
  return 0;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  const char* cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "zerocopy") && argc > 2) return cmd_zerocopy(argv[2]);
  if (!strcmp(cmd, "mmsg")) return cmd_mmsg();
  if (!strcmp(cmd, "waits")) return cmd_waits();
  fprintf(stderr, "usage: fidelity zerocopy DIR | mmsg | waits\n");
  return 2;
}
