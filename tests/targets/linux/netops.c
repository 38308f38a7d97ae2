/* netops: a target program for the capture tests. Each subcommand makes real socket and
 * resolver calls on loopback only (127.0.0.1, ::1, unix sockets under a temporary folder) with
 * known payloads, so that a test can compare what wstrace recorded with what really happened.
 * No sleeps: threads and processes wait on the sockets themselves, pipes and barriers.
 *
 *   netops tcp4 | tcp6         server thread + client: accept4, send/recv, sendmsg/recvmsg,
 *                              write/read, writev/readv, getsockname/getpeername, shutdown
 *   netops udp                 sendto/recvfrom, sendmmsg/recvmmsg, sendmsg/recvmsg, connected
 *                              UDP, IPv6, a port where nothing listens (ICMP refusal)
 *   netops unix [DIR]          socketpair, a socket passed with SCM_RIGHTS, named stream and
 *                              datagram sockets
 *   netops refused             blocking and non-blocking connect to a port where nothing listens
 *   netops reset               peer closes with SO_LINGER {1,0}: ECONNRESET, then EPIPE
 *   netops lookup NAME [BAD]   getaddrinfo, gethostbyname(_r), getnameinfo, gethostbyaddr,
 *                              res_query, res_search; BAD must not resolve
 *   netops wait                poll, ppoll, select, epoll_ctl and epoll_wait on sockets
 *   netops dup                 dup, dup2, dup3, fcntl(F_DUPFD), F_SETFL, FIONBIO, FIONREAD;
 *                              socket numbers that become a pipe or a file
 *   netops threads N M         N threads, each M round trips on its own socketpair
 *   netops fork | exec | exec-self | spawn | vfork   child processes
 *   netops errno               every hooked call failing and succeeding, errno after each
 *   netops exit CODE | signal SIG   ends with that status
 *
 * Exit status 0 when everything behaved as expected, 1 with a message otherwise. Built twice
 * (tests/targets/CMakeLists.txt): plain, and with _FORTIFY_SOURCE as distributions build.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <resolv.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

static char g_self[4096]; /* this program, for exec */

/* Lengths the compiler cannot see as constants: built with _FORTIFY_SOURCE, the calls that use
 * them become __recv_chk, __read_chk and __poll_chk. */
size_t g_room = 256; /* not static: the compiler must not fold them */
nfds_t g_two = 2;

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "netops: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

/* A system call that must succeed. */
static long ok(long r, const char* what) {
  if (r < 0) die("%s failed: %s", what, strerror(errno));
  return r;
}

#define CHECK(cond, ...)        \
  do {                          \
    if (!(cond)) die(__VA_ARGS__); \
  } while (0)

/* ---- addresses ---------------------------------------------------------------------------- */

typedef struct {
  struct sockaddr_storage ss;
  socklen_t len;
} addr_t;

static addr_t loopback(int family, int port) {
  addr_t a;
  memset(&a, 0, sizeof a);
  if (family == AF_INET) {
    struct sockaddr_in* s = (struct sockaddr_in*)&a.ss;
    s->sin_family = AF_INET;
    s->sin_port = htons((uint16_t)port);
    s->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.len = sizeof *s;
  } else {
    struct sockaddr_in6* s = (struct sockaddr_in6*)&a.ss;
    s->sin6_family = AF_INET6;
    s->sin6_port = htons((uint16_t)port);
    s->sin6_addr = in6addr_loopback;
    a.len = sizeof *s;
  }
  return a;
}

static addr_t unix_addr(const char* path) {
  addr_t a;
  memset(&a, 0, sizeof a);
  struct sockaddr_un* s = (struct sockaddr_un*)&a.ss;
  s->sun_family = AF_UNIX;
  CHECK(strlen(path) < sizeof s->sun_path, "unix path too long: %s", path);
  strcpy(s->sun_path, path);
  a.len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path) + 1);
  return a;
}

static int port_of(const struct sockaddr_storage* ss) {
  if (ss->ss_family == AF_INET) return ntohs(((const struct sockaddr_in*)ss)->sin_port);
  if (ss->ss_family == AF_INET6) return ntohs(((const struct sockaddr_in6*)ss)->sin6_port);
  return -1;
}

static int local_port(int fd) {
  addr_t a;
  a.len = sizeof a.ss;
  ok(getsockname(fd, (struct sockaddr*)&a.ss, &a.len), "getsockname");
  return port_of(&a.ss);
}

/* A loopback port where nothing listens: bound once, then closed. */
static int dead_port(int family, int type) {
  int fd = (int)ok(socket(family, type, 0), "socket");
  addr_t a = loopback(family, 0);
  ok(bind(fd, (struct sockaddr*)&a.ss, a.len), "bind");
  int port = local_port(fd);
  ok(close(fd), "close");
  return port;
}

static int tcp_listener(int family, int flags) {
  int fd = (int)ok(socket(family, SOCK_STREAM | flags, 0), "socket");
  int one = 1;
  ok(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), "setsockopt");
  addr_t a = loopback(family, 0);
  ok(bind(fd, (struct sockaddr*)&a.ss, a.len), "bind");
  ok(listen(fd, 16), "listen");
  return fd;
}

/* ---- payload helpers -------------------------------------------------------------------- */

static void expect_data(const char* what, ssize_t got, const char* buf, const char* want) {
  size_t n = strlen(want);
  if (got < 0) die("%s: %s", what, strerror(errno));
  if ((size_t)got != n || memcmp(buf, want, n) != 0)
    die("%s: got %zd bytes '%.*s', expected '%s'", what, got, (int)(got > 0 ? got : 0), buf, want);
}

static void send_all(int fd, const char* s) {
  ssize_t n = send(fd, s, strlen(s), 0);
  if (n != (ssize_t)strlen(s)) die("send '%s': %zd %s", s, n, strerror(errno));
}

static void recv_exact(int fd, const char* want) {
  char buf[256];
  size_t n = strlen(want);
  ssize_t r = recv(fd, buf, n, 0);
  expect_data("recv", r, buf, want);
}

/* ---- tcp4 / tcp6 -------------------------------------------------------------------------- */

struct tcp_server {
  int family;
  int port_pipe[2];
};

static void* tcp_server_main(void* p) {
  struct tcp_server* sv = p;
  int lfd = tcp_listener(sv->family, 0);
  int port = local_port(lfd);
  CHECK(write(sv->port_pipe[1], &port, sizeof port) == sizeof port, "pipe write");

  struct sockaddr_storage peer;
  socklen_t plen = sizeof peer;
  int cfd = (int)ok(accept4(lfd, (struct sockaddr*)&peer, &plen, SOCK_CLOEXEC), "accept4");
  char buf[256];

  expect_data("server recv", recv(cfd, buf, sizeof buf, 0), buf, "ping-1");
  CHECK(send(cfd, "pong-1", 6, 0) == 6, "server send");

  struct iovec iv = {buf, sizeof buf};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iv;
  mh.msg_iovlen = 1;
  expect_data("server recvmsg", recvmsg(cfd, &mh, 0), buf, "ping-2");
  struct iovec out[2] = {{"pong", 4}, {"-2", 2}};
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = out;
  mh.msg_iovlen = 2;
  CHECK(sendmsg(cfd, &mh, 0) == 6, "server sendmsg");

  expect_data("server read", read(cfd, buf, sizeof buf), buf, "ping-3");
  CHECK(write(cfd, "pong-3", 6) == 6, "server write");

  char a[3], b[16];
  struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
  ssize_t n = readv(cfd, in, 2);
  CHECK(n == 6 && memcmp(a, "pin", 3) == 0 && memcmp(b, "g-4", 3) == 0, "server readv: %zd", n);
  struct iovec out4[2] = {{"po", 2}, {"ng-4", 4}};
  CHECK(writev(cfd, out4, 2) == 6, "server writev");

  CHECK(recv(cfd, buf, sizeof buf, 0) == 0, "server: expected the client's end of data");
  CHECK(send(cfd, "bye", 3, 0) == 3, "server send bye");
  ok(close(cfd), "close");
  ok(close(lfd), "close");
  return NULL;
}

static int cmd_tcp(int family) {
  struct tcp_server sv = {family, {-1, -1}};
  ok(pipe(sv.port_pipe), "pipe");
  pthread_t th;
  CHECK(pthread_create(&th, NULL, tcp_server_main, &sv) == 0, "pthread_create");
  int port = 0;
  CHECK(read(sv.port_pipe[0], &port, sizeof port) == sizeof port, "pipe read");

  int fd = (int)ok(socket(family, SOCK_STREAM, 0), "socket");
  addr_t to = loopback(family, port);
  ok(connect(fd, (struct sockaddr*)&to.ss, to.len), "connect");
  char buf[256];

  CHECK(send(fd, "ping-1", 6, 0) == 6, "send");
  expect_data("recv", recv(fd, buf, g_room, 0), buf, "pong-1");

  struct iovec out[2] = {{"ping", 4}, {"-2", 2}};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = out;
  mh.msg_iovlen = 2;
  CHECK(sendmsg(fd, &mh, 0) == 6, "sendmsg");
  struct iovec iv = {buf, sizeof buf};
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iv;
  mh.msg_iovlen = 1;
  expect_data("recvmsg", recvmsg(fd, &mh, 0), buf, "pong-2");

  CHECK(write(fd, "ping-3", 6) == 6, "write");
  expect_data("read", read(fd, buf, g_room), buf, "pong-3");

  struct iovec out4[2] = {{"pi", 2}, {"ng-4", 4}};
  CHECK(writev(fd, out4, 2) == 6, "writev");
  char a[4], b[16];
  struct iovec in[2] = {{a, sizeof a}, {b, sizeof b}};
  CHECK(readv(fd, in, 2) == 6 && memcmp(a, "pong", 4) == 0 && memcmp(b, "-4", 2) == 0, "readv");

  addr_t me, peer;
  me.len = sizeof me.ss;
  peer.len = sizeof peer.ss;
  ok(getsockname(fd, (struct sockaddr*)&me.ss, &me.len), "getsockname");
  ok(getpeername(fd, (struct sockaddr*)&peer.ss, &peer.len), "getpeername");
  CHECK(port_of(&peer.ss) == port, "getpeername port %d, expected %d", port_of(&peer.ss), port);
  ok(shutdown(fd, SHUT_WR), "shutdown");
  expect_data("recv bye", recv(fd, buf, sizeof buf, 0), buf, "bye");
  CHECK(recv(fd, buf, sizeof buf, 0) == 0, "recv: expected the server's end of data");
  ok(close(fd), "close");
  CHECK(pthread_join(th, NULL) == 0, "pthread_join");
  printf("%s server=%d client=%d\n", family == AF_INET ? "tcp4" : "tcp6", port,
         port_of(&me.ss));
  return 0;
}

/* ---- udp ---------------------------------------------------------------------------------- */

static int udp_bound(int family) {
  int fd = (int)ok(socket(family, SOCK_DGRAM, 0), "socket");
  addr_t a = loopback(family, 0);
  ok(bind(fd, (struct sockaddr*)&a.ss, a.len), "bind");
  return fd;
}

static int cmd_udp(void) {
  int a = udp_bound(AF_INET), b = udp_bound(AF_INET);
  int pa = local_port(a), pb = local_port(b);
  addr_t ta = loopback(AF_INET, pa), tb = loopback(AF_INET, pb);
  char buf[256];

  /* sendto / recvfrom with the sender's address asked for */
  CHECK(sendto(a, "dgram-1", 7, 0, (struct sockaddr*)&tb.ss, tb.len) == 7, "sendto");
  struct sockaddr_storage from;
  socklen_t flen = sizeof from;
  expect_data("recvfrom", recvfrom(b, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen), buf,
              "dgram-1");
  CHECK(port_of(&from) == pa, "recvfrom: sender port %d, expected %d", port_of(&from), pa);

  /* recvfrom without an address buffer */
  CHECK(sendto(b, "dgram-2", 7, 0, (struct sockaddr*)&ta.ss, ta.len) == 7, "sendto");
  expect_data("recvfrom", recvfrom(a, buf, sizeof buf, 0, NULL, NULL), buf, "dgram-2");

  /* sendmmsg / recvmmsg: two datagrams */
  struct iovec iv[2] = {{"mm-1", 4}, {"mm-22", 5}};
  struct mmsghdr out[2];
  memset(out, 0, sizeof out);
  for (int i = 0; i < 2; ++i) {
    out[i].msg_hdr.msg_iov = &iv[i];
    out[i].msg_hdr.msg_iovlen = 1;
    out[i].msg_hdr.msg_name = &tb.ss;
    out[i].msg_hdr.msg_namelen = tb.len;
  }
  CHECK(sendmmsg(a, out, 2, 0) == 2, "sendmmsg: %s", strerror(errno));
  char rb[2][64];
  struct iovec riv[2] = {{rb[0], sizeof rb[0]}, {rb[1], sizeof rb[1]}};
  struct sockaddr_storage names[2];
  struct mmsghdr in[2];
  memset(in, 0, sizeof in);
  for (int i = 0; i < 2; ++i) {
    in[i].msg_hdr.msg_iov = &riv[i];
    in[i].msg_hdr.msg_iovlen = 1;
    in[i].msg_hdr.msg_name = &names[i];
    in[i].msg_hdr.msg_namelen = sizeof names[i];
  }
  CHECK(recvmmsg(b, in, 2, 0, NULL) == 2, "recvmmsg: %s", strerror(errno));
  CHECK(in[0].msg_len == 4 && memcmp(rb[0], "mm-1", 4) == 0, "recvmmsg first");
  CHECK(in[1].msg_len == 5 && memcmp(rb[1], "mm-22", 5) == 0, "recvmmsg second");
  CHECK(port_of(&names[0]) == pa, "recvmmsg sender");

  /* sendmsg / recvmsg with an address, then recvmsg without an address buffer */
  struct iovec siv = {"dgram-4", 7};
  struct msghdr smh;
  memset(&smh, 0, sizeof smh);
  smh.msg_iov = &siv;
  smh.msg_iovlen = 1;
  smh.msg_name = &tb.ss;
  smh.msg_namelen = tb.len;
  CHECK(sendmsg(a, &smh, 0) == 7, "sendmsg: %s", strerror(errno));
  struct iovec riv1 = {buf, sizeof buf};
  struct msghdr rmh;
  memset(&rmh, 0, sizeof rmh);
  rmh.msg_iov = &riv1;
  rmh.msg_iovlen = 1;
  rmh.msg_name = &from;
  rmh.msg_namelen = sizeof from;
  expect_data("recvmsg", recvmsg(b, &rmh, 0), buf, "dgram-4");
  CHECK(port_of(&from) == pa, "recvmsg: sender port");
  siv.iov_base = "dgram-5";
  CHECK(sendmsg(a, &smh, 0) == 7, "sendmsg: %s", strerror(errno));
  memset(&rmh, 0, sizeof rmh);
  rmh.msg_iov = &riv1;
  rmh.msg_iovlen = 1;
  expect_data("recvmsg", recvmsg(b, &rmh, 0), buf, "dgram-5");

  /* connected UDP: send / recv */
  ok(connect(a, (struct sockaddr*)&tb.ss, tb.len), "connect");
  CHECK(send(a, "dgram-3", 7, 0) == 7, "send");
  expect_data("recv", recv(b, buf, sizeof buf, 0), buf, "dgram-3");

  /* IPv6 */
  int c6 = (int)ok(socket(AF_INET6, SOCK_DGRAM, 0), "socket");
  int d6 = udp_bound(AF_INET6);
  addr_t td6 = loopback(AF_INET6, local_port(d6));
  CHECK(sendto(c6, "dgram-6", 7, 0, (struct sockaddr*)&td6.ss, td6.len) == 7, "sendto ::1");
  flen = sizeof from;
  expect_data("recvfrom ::1", recvfrom(d6, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen),
              buf, "dgram-6");
  int p6 = local_port(c6);
  CHECK(port_of(&from) == p6, "recvfrom ::1 sender port");

  /* a port where nothing listens: the ICMP refusal comes back on the next receive */
  int dead = dead_port(AF_INET, SOCK_DGRAM);
  int u = (int)ok(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  struct timeval tv = {5, 0};
  ok(setsockopt(u, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv), "setsockopt");
  addr_t td = loopback(AF_INET, dead);
  ok(connect(u, (struct sockaddr*)&td.ss, td.len), "connect");
  CHECK(send(u, "hello?", 6, 0) == 6, "send to dead port");
  errno = 0;
  ssize_t r = recv(u, buf, sizeof buf, 0);
  CHECK(r < 0 && errno == ECONNREFUSED, "recv after dead port: %zd %s", r, strerror(errno));

  ok(close(u), "close");
  ok(close(c6), "close");
  ok(close(d6), "close");
  ok(close(a), "close");
  ok(close(b), "close");
  printf("udp a=%d b=%d c6=%d dead=%d\n", pa, pb, p6, dead);
  return 0;
}

/* ---- unix --------------------------------------------------------------------------------- */

static int cmd_unix(const char* dir_arg) {
  int sv[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  send_all(sv[0], "pair-1");
  recv_exact(sv[1], "pair-1");

  /* a socket passed over the pair (SCM_RIGHTS): used through the number it arrives as */
  int inner[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, inner), "socketpair");
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof ctl);
  struct iovec iv = {"fd", 2};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iv;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  struct cmsghdr* cm = CMSG_FIRSTHDR(&mh);
  cm->cmsg_level = SOL_SOCKET;
  cm->cmsg_type = SCM_RIGHTS;
  cm->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(cm), &inner[1], sizeof(int));
  CHECK(sendmsg(sv[0], &mh, 0) == 2, "sendmsg SCM_RIGHTS: %s", strerror(errno));
  ok(close(inner[1]), "close");
  char two[2];
  struct iovec riv = {two, sizeof two};
  memset(&ctl, 0, sizeof ctl);
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &riv;
  mh.msg_iovlen = 1;
  mh.msg_control = ctl.buf;
  mh.msg_controllen = sizeof ctl.buf;
  CHECK(recvmsg(sv[1], &mh, 0) == 2, "recvmsg SCM_RIGHTS");
  cm = CMSG_FIRSTHDR(&mh);
  CHECK(cm && cm->cmsg_type == SCM_RIGHTS, "no descriptor received");
  int passed;
  memcpy(&passed, CMSG_DATA(cm), sizeof passed);
  CHECK(write(passed, "passed", 6) == 6, "write on the passed socket");
  char pbuf[16];
  expect_data("read from the passed socket", read(inner[0], pbuf, sizeof pbuf), pbuf, "passed");
  ok(close(passed), "close");
  ok(close(inner[0]), "close");
  ok(close(sv[0]), "close");
  ok(close(sv[1]), "close");

  char dir[256];
  if (dir_arg) {
    snprintf(dir, sizeof dir, "%s", dir_arg);
  } else {
    snprintf(dir, sizeof dir, "/tmp/netops-XXXXXX");
    CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
  }
  char path[300], dpath[300], vpath[300];
  snprintf(path, sizeof path, "%s/stream.sock", dir);
  snprintf(dpath, sizeof dpath, "%s/dgram.sock", dir);
  snprintf(vpath, sizeof vpath, "%s/sender.sock", dir);
  unlink(path);
  unlink(dpath);
  unlink(vpath);

  addr_t sa = unix_addr(path);
  int l = (int)ok(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  ok(bind(l, (struct sockaddr*)&sa.ss, sa.len), "bind");
  ok(listen(l, 4), "listen");
  int c = (int)ok(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  ok(connect(c, (struct sockaddr*)&sa.ss, sa.len), "connect");
  struct sockaddr_storage peer;
  socklen_t plen = sizeof peer;
  int a = (int)ok(accept(l, (struct sockaddr*)&peer, &plen), "accept");
  send_all(c, "unix-1");
  recv_exact(a, "unix-1");
  send_all(a, "unix-2");
  recv_exact(c, "unix-2");
  ok(close(c), "close");
  ok(close(a), "close");
  ok(close(l), "close");

  addr_t da = unix_addr(dpath), va = unix_addr(vpath);
  int u = (int)ok(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  ok(bind(u, (struct sockaddr*)&da.ss, da.len), "bind");
  int v = (int)ok(socket(AF_UNIX, SOCK_DGRAM, 0), "socket");
  ok(bind(v, (struct sockaddr*)&va.ss, va.len), "bind");
  CHECK(sendto(v, "udg-1", 5, 0, (struct sockaddr*)&da.ss, da.len) == 5, "sendto");
  char buf[64];
  struct sockaddr_un from;
  socklen_t flen = sizeof from;
  expect_data("recvfrom", recvfrom(u, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen), buf,
              "udg-1");
  CHECK(strcmp(from.sun_path, vpath) == 0, "recvfrom: sender %s", from.sun_path);
  ok(close(u), "close");
  ok(close(v), "close");
  unlink(path);
  unlink(dpath);
  unlink(vpath);
  if (!dir_arg) rmdir(dir);
  printf("unix dir=%s passed=%d\n", dir, passed);
  return 0;
}

/* ---- refused / reset ---------------------------------------------------------------------- */

static int cmd_refused(void) {
  int port = dead_port(AF_INET, SOCK_STREAM);
  addr_t to = loopback(AF_INET, port);

  int fd = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  errno = 0;
  int r = connect(fd, (struct sockaddr*)&to.ss, to.len);
  CHECK(r == -1 && errno == ECONNREFUSED, "blocking connect: %d %s", r, strerror(errno));
  ok(close(fd), "close");

  fd = (int)ok(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  errno = 0;
  r = connect(fd, (struct sockaddr*)&to.ss, to.len);
  CHECK(r == -1 && errno == EINPROGRESS, "non-blocking connect: %d %s", r, strerror(errno));
  struct pollfd p = {fd, POLLOUT, 0};
  CHECK(poll(&p, 1, 5000) == 1, "poll: %s", strerror(errno));
  int err = 0;
  socklen_t len = sizeof err;
  ok(getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), "getsockopt");
  CHECK(err == ECONNREFUSED, "SO_ERROR %d, expected ECONNREFUSED", err);
  ok(close(fd), "close");

  int port6 = dead_port(AF_INET6, SOCK_STREAM);
  addr_t to6 = loopback(AF_INET6, port6);
  fd = (int)ok(socket(AF_INET6, SOCK_STREAM, 0), "socket");
  errno = 0;
  r = connect(fd, (struct sockaddr*)&to6.ss, to6.len);
  CHECK(r == -1 && errno == ECONNREFUSED, "blocking connect ::1: %d %s", r, strerror(errno));
  ok(close(fd), "close");
  printf("refused port=%d port6=%d\n", port, port6);
  return 0;
}

static int cmd_reset(void) {
  int l = tcp_listener(AF_INET, 0);
  addr_t to = loopback(AF_INET, local_port(l));
  int c = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  ok(connect(c, (struct sockaddr*)&to.ss, to.len), "connect");
  int s = (int)ok(accept(l, NULL, NULL), "accept");
  send_all(c, "doomed");
  recv_exact(s, "doomed");
  struct linger lg = {1, 0};
  ok(setsockopt(s, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), "setsockopt");
  ok(close(s), "close");
  char buf[64];
  errno = 0;
  ssize_t r = recv(c, buf, sizeof buf, 0);
  CHECK(r == -1 && errno == ECONNRESET, "recv after reset: %zd %s", r, strerror(errno));
  errno = 0;
  r = send(c, "late", 4, MSG_NOSIGNAL);
  CHECK(r == -1 && errno == EPIPE, "send after reset: %zd %s", r, strerror(errno));
  ok(close(c), "close");
  ok(close(l), "close");
  printf("reset port=%d\n", port_of(&to.ss));
  return 0;
}

/* ---- lookup ------------------------------------------------------------------------------- */

static void print_hostent(const char* func, const char* name, const struct hostent* h) {
  if (!h) return;
  char txt[INET6_ADDRSTRLEN];
  for (char** p = h->h_addr_list; p && *p; ++p)
    printf("%s %s addr %s\n", func, name, inet_ntop(h->h_addrtype, *p, txt, sizeof txt));
  printf("%s %s name %s\n", func, name, h->h_name);
}

static void print_hex(const char* func, const char* name, const unsigned char* p, int n) {
  printf("%s %s hex ", func, name);
  for (int i = 0; i < n; ++i) printf("%02x", p[i]);
  printf("\n");
}

static int lookup_good(const char* name) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(name, "80", &hints, &res);
  CHECK(rc == 0, "getaddrinfo %s: %s", name, gai_strerror(rc));
  char txt[INET6_ADDRSTRLEN];
  for (struct addrinfo* ai = res; ai; ai = ai->ai_next) {
    const void* ip = ai->ai_family == AF_INET ? (const void*)&((struct sockaddr_in*)ai->ai_addr)->sin_addr
                                              : (const void*)&((struct sockaddr_in6*)ai->ai_addr)->sin6_addr;
    printf("getaddrinfo %s addr %s port %d\n", name, inet_ntop(ai->ai_family, ip, txt, sizeof txt),
           port_of((struct sockaddr_storage*)ai->ai_addr));
  }
  freeaddrinfo(res);

  struct hostent* h = gethostbyname(name);
  CHECK(h, "gethostbyname %s: h_errno %d", name, h_errno);
  print_hostent("gethostbyname", name, h);

  struct hostent he, *result = NULL;
  char buf[4096];
  int herr = 0;
  rc = gethostbyname_r(name, &he, buf, sizeof buf, &result, &herr);
  CHECK(rc == 0 && result, "gethostbyname_r %s: %d h_errno %d", name, rc, herr);
  print_hostent("gethostbyname_r", name, result);

  addr_t lo = loopback(AF_INET, 80);
  char host[256], serv[64];
  rc = getnameinfo((struct sockaddr*)&lo.ss, lo.len, host, sizeof host, serv, sizeof serv, 0);
  CHECK(rc == 0, "getnameinfo: %s", gai_strerror(rc));
  printf("getnameinfo 127.0.0.1:80 host %s serv %s\n", host, serv);

  struct in_addr ia = {htonl(INADDR_LOOPBACK)};
  h = gethostbyaddr(&ia, sizeof ia, AF_INET);
  CHECK(h, "gethostbyaddr 127.0.0.1: h_errno %d", h_errno);
  printf("gethostbyaddr 127.0.0.1 name %s\n", h->h_name);

  unsigned char ans[1024];
  int n = res_query(name, C_IN, T_A, ans, sizeof ans);
  CHECK(n > 0, "res_query %s: h_errno %d", name, h_errno);
  printf("res_query %s len %d\n", name, n);
  print_hex("res_query", name, ans, n);
  n = res_search(name, C_IN, T_AAAA, ans, sizeof ans);
  CHECK(n > 0, "res_search %s: h_errno %d", name, h_errno);
  printf("res_search %s len %d\n", name, n);
  print_hex("res_search", name, ans, n);
  return 0;
}

static int lookup_bad(const char* name) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int rc = getaddrinfo(name, "80", &hints, &res);
  CHECK(rc != 0, "getaddrinfo %s resolved, expected a failure", name);
  printf("getaddrinfo %s error %d %s\n", name, rc, gai_strerror(rc));
  struct hostent* h = gethostbyname(name);
  CHECK(!h, "gethostbyname %s resolved", name);
  printf("gethostbyname %s h_errno %d\n", name, h_errno);
  struct hostent he, *result = NULL;
  char buf[4096];
  int herr = 0;
  rc = gethostbyname_r(name, &he, buf, sizeof buf, &result, &herr);
  CHECK(!result, "gethostbyname_r %s resolved", name);
  printf("gethostbyname_r %s rc %d h_errno %d\n", name, rc, herr);
  unsigned char ans[1024];
  int n = res_query(name, C_IN, T_A, ans, sizeof ans);
  CHECK(n < 0, "res_query %s answered", name);
  printf("res_query %s h_errno %d\n", name, h_errno);
  return 0;
}

/* ---- wait --------------------------------------------------------------------------------- */

static int cmd_wait(void) {
  int sv[2], p[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  ok(pipe(p), "pipe");

  struct pollfd one = {sv[0], POLLIN, 0};
  CHECK(poll(&one, 1, 0) == 0, "poll on an empty socket");
  send_all(sv[1], "w");

  struct pollfd two[2] = {{sv[0], POLLIN, 0}, {p[0], POLLIN, 0}};
  CHECK(poll(two, g_two, 1000) == 1 && (two[0].revents & POLLIN), "poll");

  struct timespec ts = {1, 0};
  struct pollfd pp = {sv[0], POLLIN, 0};
  CHECK(ppoll(&pp, 1, &ts, NULL) == 1, "ppoll");

  fd_set rd, wr;
  FD_ZERO(&rd);
  FD_ZERO(&wr);
  FD_SET(sv[0], &rd);
  FD_SET(sv[1], &wr);
  int nfds = (sv[0] > sv[1] ? sv[0] : sv[1]) + 1;
  struct timeval tv = {1, 0};
  CHECK(select(nfds, &rd, &wr, NULL, &tv) == 2, "select");

  int ep = (int)ok(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[0]};
  ok(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), "epoll_ctl");
  struct epoll_event got[4];
  CHECK(epoll_wait(ep, got, 4, 1000) == 1 && got[0].data.fd == sv[0], "epoll_wait");
  /* a pipe ready beside the socket: returned, not listed */
  CHECK(write(p[1], "p", 1) == 1, "write to the pipe");
  ev.data.u64 = 7;
  ok(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl pipe");
  CHECK(epoll_wait(ep, got, 4, 1000) == 2, "epoll_wait socket and pipe");
  ok(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), "epoll_ctl DEL pipe");
  /* the interest list changed and emptied; a pipe in it is no socket business, even with the
   * data word the socket had */
  ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
  ev.data.u64 = 0x1122334455667788ULL;
  ok(epoll_ctl(ep, EPOLL_CTL_MOD, sv[0], &ev), "epoll_ctl MOD");
  ok(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL), "epoll_ctl DEL");
  CHECK(epoll_ctl(ep, EPOLL_CTL_DEL, sv[0], NULL) == -1 && errno == ENOENT, "epoll_ctl DEL again");
  ev.events = EPOLLIN;
  ok(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), "epoll_ctl pipe again");
  CHECK(epoll_wait(ep, got, 4, 1000) == 1 && got[0].data.u64 == ev.data.u64, "epoll_wait pipe");
  /* the socket back with that word, then the pipe given it too: neither is listed */
  ok(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), "epoll_ctl ADD again");
  ok(epoll_ctl(ep, EPOLL_CTL_MOD, p[0], &ev), "epoll_ctl MOD pipe");
  CHECK(epoll_wait(ep, got, 4, 1000) == 2, "epoll_wait one word for both");

  /* a wait on a pipe alone is no socket business */
  struct pollfd pipe_only = {p[0], POLLIN, 0};
  CHECK(poll(&pipe_only, 1, 0) == 1, "poll on the pipe");

  recv_exact(sv[0], "w");
  ok(close(ep), "close");
  ok(close(p[0]), "close");
  ok(close(p[1]), "close");
  ok(close(sv[0]), "close");
  ok(close(sv[1]), "close");
  printf("wait sv=%d,%d pipe=%d ep=%d\n", sv[0], sv[1], p[0], ep);
  return 0;
}

/* ---- dup ---------------------------------------------------------------------------------- */

static int cmd_dup(void) {
  int sv[2], p[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  ok(pipe(p), "pipe");

  int d1 = (int)ok(dup(sv[0]), "dup");
  send_all(d1, "dup-1");
  CHECK(dup2(sv[0], 100) == 100, "dup2");
  send_all(100, "dup-2");
  CHECK(dup3(sv[0], 101, O_CLOEXEC) == 101, "dup3");
  send_all(101, "dup-3");
  int d4 = (int)ok(fcntl(sv[0], F_DUPFD, 200), "fcntl F_DUPFD");
  CHECK(d4 >= 200, "F_DUPFD gave %d", d4);
  send_all(d4, "dup-4");
  recv_exact(sv[1], "dup-1");
  recv_exact(sv[1], "dup-2");
  recv_exact(sv[1], "dup-3");
  recv_exact(sv[1], "dup-4");

  int fl = (int)ok(fcntl(sv[1], F_GETFL), "fcntl F_GETFL");
  ok(fcntl(sv[1], F_SETFL, fl | O_NONBLOCK), "fcntl F_SETFL");
  char buf[64];
  errno = 0;
  ssize_t r = recv(sv[1], buf, sizeof buf, 0);
  CHECK(r == -1 && errno == EAGAIN, "recv on an empty non-blocking socket: %zd", r);

  int on = 1;
  ok(ioctl(sv[0], FIONBIO, &on), "ioctl FIONBIO");
  send_all(sv[0], "dup-5");
  int avail = -1;
  ok(ioctl(sv[1], FIONREAD, &avail), "ioctl FIONREAD");
  CHECK(avail == 5, "FIONREAD %d", avail);
  recv_exact(sv[1], "dup-5");

  /* 100 becomes a pipe: its writes and close are no socket business */
  CHECK(dup2(p[1], 100) == 100, "dup2 pipe");
  CHECK(write(100, "pipe", 4) == 4, "write pipe");
  ok(close(100), "close");
  int dp = (int)ok(dup(p[0]), "dup pipe");
  ok(close(dp), "close");

  ok(close(d1), "close");
  ok(close(101), "close");
  ok(close(d4), "close");

  /* a socket's number reused by a file */
  int s = (int)ok(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  ok(close(s), "close");
  int f = (int)ok(open("/dev/null", O_WRONLY | O_CLOEXEC), "open");
  CHECK(write(f, "file", 4) == 4, "write file");
  ok(close(f), "close");

  /* the same when the socket is closed inside libc (fclose of an fdopen'ed socket) */
  int s2 = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  FILE* fp = fdopen(s2, "r+");
  CHECK(fp, "fdopen: %s", strerror(errno));
  CHECK(fclose(fp) == 0, "fclose");
  int f2 = (int)ok(open("/dev/null", O_WRONLY | O_CLOEXEC), "open");
  CHECK(write(f2, "file-2", 6) == 6, "write file");
  ok(close(f2), "close");

  ok(close(p[0]), "close");
  ok(close(p[1]), "close");
  ok(close(sv[0]), "close");
  ok(close(sv[1]), "close");
  printf("dup sv=%d,%d d1=%d d4=%d sock=%d file=%d sock2=%d file2=%d\n", sv[0], sv[1], d1, d4, s, f,
         s2, f2);
  return 0;
}

/* ---- threads ------------------------------------------------------------------------------ */

static pthread_barrier_t g_start, g_end;
static int g_rounds;

static void* round_trips(void* unused) {
  (void)unused;
  int sv[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), "socketpair");
  pthread_barrier_wait(&g_start);
  char c;
  for (int i = 0; i < g_rounds; ++i) {
    CHECK(send(sv[0], "q", 1, 0) == 1, "send");
    CHECK(recv(sv[1], &c, 1, 0) == 1 && c == 'q', "recv");
    CHECK(send(sv[1], "a", 1, 0) == 1, "send");
    CHECK(recv(sv[0], &c, 1, 0) == 1 && c == 'a', "recv");
  }
  pthread_barrier_wait(&g_end); /* every thread is alive at once */
  ok(close(sv[0]), "close");
  ok(close(sv[1]), "close");
  return NULL;
}

static int cmd_threads(int n, int m) {
  CHECK(n > 0 && n <= 2000 && m >= 0, "threads N M: bad numbers");
  g_rounds = m;
  pthread_barrier_init(&g_start, NULL, (unsigned)n);
  pthread_barrier_init(&g_end, NULL, (unsigned)n);
  pthread_t* th = calloc((size_t)n, sizeof *th);
  CHECK(th, "calloc");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, 128 * 1024);
  for (int i = 0; i < n; ++i)
    CHECK(pthread_create(&th[i], &attr, round_trips, NULL) == 0, "pthread_create %d", i);
  for (int i = 0; i < n; ++i) CHECK(pthread_join(th[i], NULL) == 0, "pthread_join");
  free(th);
  printf("threads %d x %d\n", n, m);
  return 0;
}

/* ---- processes ---------------------------------------------------------------------------- */

static int wait_child(pid_t pid, const char* what) {
  int st = 0;
  CHECK(waitpid(pid, &st, 0) == pid, "waitpid %s: %s", what, strerror(errno));
  CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "%s child ended with status %d", what, st);
  return 0;
}

static int cmd_fork(void) {
  int l = tcp_listener(AF_INET, 0);
  int port = local_port(l);
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    close(l);
    int c = socket(AF_INET, SOCK_STREAM, 0);
    addr_t to = loopback(AF_INET, port);
    if (c < 0 || connect(c, (struct sockaddr*)&to.ss, to.len) != 0) _exit(2);
    if (send(c, "child-hello", 11, 0) != 11) _exit(3);
    char buf[64];
    if (recv(c, buf, sizeof buf, 0) != 10 || memcmp(buf, "parent-ack", 10) != 0) _exit(4);
    close(c);
    _exit(0);
  }
  int a = (int)ok(accept(l, NULL, NULL), "accept");
  recv_exact(a, "child-hello");
  send_all(a, "parent-ack");
  ok(close(a), "close");
  ok(close(l), "close");
  wait_child(pid, "fork");
  printf("fork parent=%d child=%d port=%d\n", (int)getpid(), (int)pid, port);
  return 0;
}

static int cmd_exec(void) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  ok(close(s), "close");
  fflush(stdout);
  pid_t pid = fork();
  CHECK(pid >= 0, "fork: %s", strerror(errno));
  if (pid == 0) {
    char* argv[] = {"netops", "unix", NULL};
    execv(g_self, argv);
    _exit(127);
  }
  wait_child(pid, "exec");
  printf("exec parent=%d child=%d\n", (int)getpid(), (int)pid);
  return 0;
}

static int cmd_exec_self(void) {
  int s = (int)ok(socket(AF_INET6, SOCK_DGRAM, 0), "socket");
  ok(close(s), "close");
  printf("exec-self pid=%d\n", (int)getpid());
  fflush(stdout);
  char* argv[] = {"netops", "refused", NULL};
  execv(g_self, argv);
  die("execv %s: %s", g_self, strerror(errno));
  return 1;
}

static int cmd_spawn(void) {
  int s = (int)ok(socket(AF_INET, SOCK_DGRAM, 0), "socket");
  ok(close(s), "close");
  fflush(stdout);
  pid_t pid;
  char* argv[] = {"netops", "udp", NULL};
  int rc = posix_spawn(&pid, g_self, NULL, NULL, argv, environ);
  CHECK(rc == 0, "posix_spawn: %s", strerror(rc));
  wait_child(pid, "posix_spawn");
  printf("spawn parent=%d child=%d\n", (int)getpid(), (int)pid);
  return 0;
}

static int cmd_vfork(void) {
  int s = (int)ok(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
  ok(close(s), "close");
  fflush(stdout);
  char* argv[] = {"netops", "reset", NULL};
  pid_t pid = vfork();
  CHECK(pid >= 0, "vfork: %s", strerror(errno));
  if (pid == 0) {
    execv(g_self, argv);
    _exit(127);
  }
  wait_child(pid, "vfork");
  printf("vfork parent=%d child=%d\n", (int)getpid(), (int)pid);
  return 0;
}

/* ---- errno -------------------------------------------------------------------------------- */

/* Every call between the marker and the end is a hooked call printed by T: the test lines them
 * up with the recorded events one to one. Lines: FUNC RESULT ERRNO [fd=N] [note…]; "nosock"
 * marks a call on something that is not a socket (not recorded). */
#define SENTINEL 9999
#define T(name, var, expr, ...)                                        \
  do {                                                                 \
    errno = SENTINEL;                                                  \
    var = (expr);                                                      \
    int e_ = errno;                                                    \
    printf("%s %ld %d", name, (long)(var), e_);                        \
    printf(" " __VA_ARGS__);                                           \
    printf("\n");                                                      \
  } while (0)

/* T for a call on a descriptor: the line also says which (fd=N). */
#define TF(name, var, fd, expr, ...)                                   \
  do {                                                                 \
    int fd_ = (fd);                                                    \
    errno = SENTINEL;                                                  \
    var = (expr);                                                      \
    int e_ = errno;                                                    \
    printf("%s %ld %d fd=%d", name, (long)(var), e_, fd_);             \
    printf(" " __VA_ARGS__);                                           \
    printf("\n");                                                      \
  } while (0)

static int cmd_errno(void) {
  /* setup: nothing here is measured */
  signal(SIGPIPE, SIG_IGN);
  struct rlimit rl;
  ok(getrlimit(RLIMIT_NOFILE, &rl), "getrlimit");
  if (rl.rlim_cur > 1024) rl.rlim_cur = 1024;
  ok(setrlimit(RLIMIT_NOFILE, &rl), "setrlimit");

  int L = tcp_listener(AF_INET, SOCK_NONBLOCK);
  int lport = local_port(L);
  int U = udp_bound(AF_INET);
  addr_t uaddr = loopback(AF_INET, local_port(U));
  int SP[2], DG[2];
  ok(socketpair(AF_UNIX, SOCK_STREAM, 0, SP), "socketpair");
  ok(socketpair(AF_UNIX, SOCK_DGRAM, 0, DG), "socketpair");
  int dead = dead_port(AF_INET, SOCK_STREAM);
  int EP = (int)ok(epoll_create1(0), "epoll_create1");
  struct epoll_event ev = {.events = EPOLLOUT, .data.fd = SP[0]};
  ok(epoll_ctl(EP, EPOLL_CTL_ADD, SP[0], &ev), "epoll_ctl");
  const int BADFD = 500; /* never opened */
  int magic = 123457;
  ok(setsockopt(SP[0], SOL_SOCKET, SO_SNDBUF, &magic, sizeof magic), "setsockopt marker");
  printf("BEGIN\n");

  long r;
  char buf[256];
  addr_t to_dead = loopback(AF_INET, dead), to_l = loopback(AF_INET, lport);
  struct sockaddr_storage from;
  socklen_t flen;
  int one = 1, val;
  socklen_t vlen;

  T("socket", r, socket(12345, SOCK_STREAM, 0), "fail");
  int S;
  T("socket", S, socket(AF_INET, SOCK_STREAM, 0), "ok");
  int sv2[2];
  T("socketpair", r, socketpair(AF_INET, SOCK_STREAM, 0, sv2), "fail");
  T("socketpair", r, socketpair(AF_UNIX, SOCK_STREAM, 0, sv2), "ok");
  TF("bind", r, S, bind(S, (struct sockaddr*)&to_l.ss, to_l.len), "fail");
  addr_t any = loopback(AF_INET, 0);
  TF("bind", r, S, bind(S, (struct sockaddr*)&any.ss, any.len), "ok");
  TF("listen", r, U, listen(U, 4), "fail");
  TF("listen", r, S, listen(S, 4), "ok");

  int c1, c2, c3;
  T("socket", c1, socket(AF_INET, SOCK_STREAM, 0), "ok");
  TF("connect", r, c1, connect(c1, (struct sockaddr*)&to_dead.ss, to_dead.len), "fail");
  T("socket", c2, socket(AF_INET, SOCK_STREAM, 0), "ok");
  TF("connect", r, c2, connect(c2, (struct sockaddr*)&to_l.ss, to_l.len), "ok");
  struct pollfd lp = {L, POLLIN, 0};
  T("poll", r, poll(&lp, 1, 5000), "ok");
  int a1, a2;
  TF("accept", r, U, accept(U, NULL, NULL), "fail");
  TF("accept", a1, L, accept(L, NULL, NULL), "ok");
  TF("accept4", r, L, accept4(L, NULL, NULL, SOCK_CLOEXEC), "fail");
  T("socket", c3, socket(AF_INET, SOCK_STREAM, 0), "ok");
  TF("connect", r, c3, connect(c3, (struct sockaddr*)&to_l.ss, to_l.len), "ok");
  lp.revents = 0;
  T("poll", r, poll(&lp, 1, 5000), "ok");
  TF("accept4", a2, L, accept4(L, (struct sockaddr*)&from, (flen = sizeof from, &flen), SOCK_CLOEXEC),
    "ok");

  TF("send", r, U, send(U, "x", 1, 0), "fail");
  TF("send", r, SP[0], send(SP[0], "abc", 3, 0), "ok");
  TF("recv", r, L, recv(L, buf, sizeof buf, 0), "fail");
  TF("recv", r, SP[1], recv(SP[1], buf, 3, 0), "ok");
  TF("sendto", r, U, sendto(U, "x", 1, 0, (struct sockaddr*)&uaddr.ss, 3), "fail");
  TF("sendto", r, U, sendto(U, "x", 1, 0, (struct sockaddr*)&uaddr.ss, uaddr.len), "ok");
  TF("recvfrom", r, L, recvfrom(L, buf, sizeof buf, 0, NULL, NULL), "fail");
  flen = sizeof from;
  TF("recvfrom", r, U, recvfrom(U, buf, sizeof buf, 0, (struct sockaddr*)&from, &flen), "ok");

  struct iovec iv = {"defg", 4};
  struct msghdr mh;
  memset(&mh, 0, sizeof mh);
  mh.msg_iov = &iv;
  mh.msg_iovlen = 1;
  TF("sendmsg", r, U, sendmsg(U, &mh, 0), "fail");
  TF("sendmsg", r, SP[0], sendmsg(SP[0], &mh, 0), "ok");
  struct iovec riv = {buf, 4};
  struct msghdr rmh;
  memset(&rmh, 0, sizeof rmh);
  rmh.msg_iov = &riv;
  rmh.msg_iovlen = 1;
  TF("recvmsg", r, L, recvmsg(L, &rmh, 0), "fail");
  TF("recvmsg", r, SP[1], recvmsg(SP[1], &rmh, 0), "ok");

  struct iovec miv[2] = {{"m1", 2}, {"m22", 3}};
  struct mmsghdr mm[2];
  memset(mm, 0, sizeof mm);
  mm[0].msg_hdr.msg_iov = &miv[0];
  mm[0].msg_hdr.msg_iovlen = 1;
  mm[1].msg_hdr.msg_iov = &miv[1];
  mm[1].msg_hdr.msg_iovlen = 1;
  TF("sendmmsg", r, U, sendmmsg(U, mm, 2, 0), "fail");
  TF("sendmmsg", r, DG[0], sendmmsg(DG[0], mm, 2, 0), "ok");
  char rb[2][16];
  struct iovec rmiv[2] = {{rb[0], 16}, {rb[1], 16}};
  struct mmsghdr rmm[2];
  memset(rmm, 0, sizeof rmm);
  rmm[0].msg_hdr.msg_iov = &rmiv[0];
  rmm[0].msg_hdr.msg_iovlen = 1;
  rmm[1].msg_hdr.msg_iov = &rmiv[1];
  rmm[1].msg_hdr.msg_iovlen = 1;
  TF("recvmmsg", r, L, recvmmsg(L, rmm, 2, 0, NULL), "fail");
  TF("recvmmsg", r, DG[1], recvmmsg(DG[1], rmm, 2, 0, NULL), "ok");

  TF("write", r, U, write(U, "hij", 3), "fail");
  TF("write", r, SP[0], write(SP[0], "hij", 3), "ok");
  TF("read", r, L, read(L, buf, sizeof buf), "fail");
  TF("read", r, SP[1], read(SP[1], buf, 3), "ok");
  struct iovec wv[2] = {{"kl", 2}, {"mno", 3}};
  TF("writev", r, U, writev(U, wv, 2), "fail");
  TF("writev", r, SP[0], writev(SP[0], wv, 2), "ok");
  char ra[2], rb2[3];
  struct iovec rv[2] = {{ra, 2}, {rb2, 3}};
  TF("readv", r, L, readv(L, rv, 2), "fail");
  TF("readv", r, SP[1], readv(SP[1], rv, 2), "ok");

  TF("shutdown", r, U, shutdown(U, SHUT_RDWR), "fail");
  TF("shutdown", r, c2, shutdown(c2, SHUT_WR), "ok");

  int d;
  TF("dup", r, BADFD, dup(BADFD), "fail nosock");
  TF("dup", d, SP[0], dup(SP[0]), "ok");
  TF("dup2", r, SP[0], dup2(SP[0], -1), "fail");
  TF("dup2", r, SP[0], dup2(SP[0], 300), "ok");
  TF("dup3", r, SP[0], dup3(SP[0], SP[0], 0), "fail");
  TF("dup3", r, SP[0], dup3(SP[0], 301, O_CLOEXEC), "ok");
  TF("fcntl", r, SP[0], fcntl(SP[0], F_DUPFD, -1), "fail F_DUPFD");
  TF("fcntl", r, SP[0], fcntl(SP[0], F_DUPFD, 400), "ok F_DUPFD");
  TF("fcntl", r, SP[0], fcntl(SP[0], F_SETFL, O_NONBLOCK), "ok F_SETFL");
  TF("close", r, BADFD, close(BADFD), "fail nosock");
  TF("close", r, 300, close(300), "ok");
  TF("close", r, 301, close(301), "ok");
  TF("close", r, 400, close(400), "ok");
  TF("close", r, d, close(d), "ok");

  TF("setsockopt", r, SP[0], setsockopt(SP[0], SOL_SOCKET, 12345, &one, sizeof one), "fail");
  TF("setsockopt", r, SP[0], setsockopt(SP[0], SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one), "ok");
  vlen = sizeof val;
  TF("getsockopt", r, SP[0], getsockopt(SP[0], SOL_SOCKET, 12345, &val, &vlen), "fail");
  vlen = sizeof val;
  TF("getsockopt", r, SP[0], getsockopt(SP[0], SOL_SOCKET, SO_TYPE, &val, &vlen), "ok");
  addr_t na;
  na.len = sizeof na.ss;
  TF("getsockname", r, BADFD, getsockname(BADFD, (struct sockaddr*)&na.ss, &na.len), "fail");
  na.len = sizeof na.ss;
  TF("getsockname", r, S, getsockname(S, (struct sockaddr*)&na.ss, &na.len), "ok");
  na.len = sizeof na.ss;
  TF("getpeername", r, S, getpeername(S, (struct sockaddr*)&na.ss, &na.len), "fail");
  na.len = sizeof na.ss;
  TF("getpeername", r, c2, getpeername(c2, (struct sockaddr*)&na.ss, &na.len), "ok");
  TF("ioctl", r, SP[0], ioctl(SP[0], 0x7fff1234, &val), "fail");
  TF("ioctl", r, SP[0], ioctl(SP[0], FIONREAD, &val), "ok");

  /* waits: too many descriptors, a bad timeout; then ready sockets (and one closed number,
   * which poll reports as POLLNVAL without failing) */
  static struct pollfd many[1100];
  for (int i = 0; i < 1100; ++i) many[i] = (struct pollfd){-1, POLLIN, 0};
  many[0].fd = SP[1];
  T("poll", r, poll(many, 1100, 0), "fail");
  struct pollfd two[2] = {{BADFD, POLLIN, 0}, {SP[1], POLLOUT, 0}};
  T("poll", r, poll(two, 2, 0), "ok nval");
  struct pollfd nval = {BADFD + 1, POLLIN, 0}; /* also never opened, not looked at before */
  T("poll", r, poll(&nval, 1, 0), "ok nval nosock");
  struct timespec bad_ts = {0, -1}, zero_ts = {0, 0};
  struct pollfd pw = {SP[1], POLLOUT, 0};
  T("ppoll", r, ppoll(&pw, 1, &bad_ts, NULL), "fail");
  T("ppoll", r, ppoll(&pw, 1, &zero_ts, NULL), "ok");
  fd_set wr;
  FD_ZERO(&wr);
  FD_SET(SP[1], &wr);
  struct timeval bad_tv = {-1, 0}, zero_tv = {0, 0};
  T("select", r, select(SP[1] + 1, NULL, &wr, NULL, &bad_tv), "fail");
  FD_ZERO(&wr);
  FD_SET(SP[1], &wr);
  T("select", r, select(SP[1] + 1, NULL, &wr, NULL, &zero_tv), "ok");
  struct epoll_event evs[4];
  TF("epoll_wait", r, SP[0], epoll_wait(SP[0], evs, 4, 0), "fail");
  TF("epoll_wait", r, EP, epoll_wait(EP, evs, 4, 0), "ok");

  /* resolver: failures without the network, successes from /etc/hosts and the test's DNS */
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_flags = AI_NUMERICHOST;
  T("getaddrinfo", r, getaddrinfo("not-a-number", "80", &hints, &res), "fail");
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  T("getaddrinfo", r, getaddrinfo("localhost", "80", &hints, &res), "ok");
  errno = SENTINEL;
  freeaddrinfo(res);
  printf("freeaddrinfo 0 %d ok\n", errno);

  struct hostent* h;
  T("gethostbyname", r, (h = gethostbyname("nx.test")) ? 0 : -1, "fail h=%d", h_errno);
  T("gethostbyname", r, (h = gethostbyname("api.test")) ? 0 : -1, "ok h=%d", h ? 0 : h_errno);
  struct hostent he, *result = NULL;
  char hb[4096];
  int herr = 0;
  T("gethostbyname_r", r, gethostbyname_r("nx.test", &he, hb, sizeof hb, &result, &herr),
    "fail found=%d h=%d", result ? 1 : 0, herr);
  herr = 0;
  T("gethostbyname_r", r, gethostbyname_r("localhost", &he, hb, sizeof hb, &result, &herr),
    "ok found=%d h=%d", result ? 1 : 0, herr);
  struct in_addr ia = {htonl(INADDR_LOOPBACK)};
  T("gethostbyaddr", r, (h = gethostbyaddr(&ia, 3, AF_INET)) ? 0 : -1, "fail h=%d", h_errno);
  T("gethostbyaddr", r, (h = gethostbyaddr(&ia, sizeof ia, AF_INET)) ? 0 : -1, "ok h=%d",
    h ? 0 : h_errno);
  char host[256], serv[64];
  addr_t lo80 = loopback(AF_INET, 80);
  T("getnameinfo", r, getnameinfo((struct sockaddr*)&lo80.ss, 1, host, sizeof host, serv, sizeof serv, 0),
    "fail");
  T("getnameinfo", r, getnameinfo((struct sockaddr*)&lo80.ss, lo80.len, host, sizeof host, serv,
                                  sizeof serv, NI_NUMERICSERV),
    "ok");
  unsigned char ans[1024];
  T("res_query", r, res_query("nx.test", C_IN, T_A, ans, sizeof ans), "fail h=%d", h_errno);
  T("res_query", r, res_query("api.test", C_IN, T_A, ans, sizeof ans), "ok");
  T("res_search", r, res_search("nx.test", C_IN, T_A, ans, sizeof ans), "fail h=%d", h_errno);
  T("res_search", r, res_search("api.test", C_IN, T_A, ans, sizeof ans), "ok");

  TF("close", r, a1, close(a1), "ok");
  TF("close", r, a2, close(a2), "ok");
  TF("close", r, c1, close(c1), "ok");
  TF("close", r, c2, close(c2), "ok");
  TF("close", r, c3, close(c3), "ok");
  TF("close", r, S, close(S), "ok");
  printf("END\n");
  return 0;
}

/* ---- main --------------------------------------------------------------------------------- */

static void usage(void) {
  fprintf(stderr,
          "usage: netops tcp4|tcp6|udp|unix [DIR]|refused|reset|lookup NAME [BAD]|wait|dup|\n"
          "              threads N M|fork|exec|exec-self|spawn|vfork|errno|exit CODE|signal SIG\n");
  exit(2);
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  ssize_t n = readlink("/proc/self/exe", g_self, sizeof g_self - 1);
  if (n <= 0) die("readlink /proc/self/exe: %s", strerror(errno));
  g_self[n] = '\0';
  if (argc < 2) usage();
  const char* cmd = argv[1];
  if (!strcmp(cmd, "tcp4")) return cmd_tcp(AF_INET);
  if (!strcmp(cmd, "tcp6")) return cmd_tcp(AF_INET6);
  if (!strcmp(cmd, "udp")) return cmd_udp();
  if (!strcmp(cmd, "unix")) return cmd_unix(argc > 2 ? argv[2] : NULL);
  if (!strcmp(cmd, "refused")) return cmd_refused();
  if (!strcmp(cmd, "reset")) return cmd_reset();
  if (!strcmp(cmd, "lookup") && argc > 2) {
    lookup_good(argv[2]);
    if (argc > 3) lookup_bad(argv[3]);
    return 0;
  }
  if (!strcmp(cmd, "wait")) return cmd_wait();
  if (!strcmp(cmd, "dup")) return cmd_dup();
  if (!strcmp(cmd, "threads") && argc > 3) return cmd_threads(atoi(argv[2]), atoi(argv[3]));
  if (!strcmp(cmd, "fork")) return cmd_fork();
  if (!strcmp(cmd, "exec")) return cmd_exec();
  if (!strcmp(cmd, "exec-self")) return cmd_exec_self();
  if (!strcmp(cmd, "spawn")) return cmd_spawn();
  if (!strcmp(cmd, "vfork")) return cmd_vfork();
  if (!strcmp(cmd, "errno")) return cmd_errno();
  if (!strcmp(cmd, "exit") && argc > 2) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0) close(s);
    return atoi(argv[2]);
  }
  if (!strcmp(cmd, "signal") && argc > 2) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0) close(s);
    signal(atoi(argv[2]), SIG_DFL);
    raise(atoi(argv[2]));
    return 1;
  }
  usage();
  return 2;
}
