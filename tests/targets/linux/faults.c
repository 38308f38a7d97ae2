/* faults: a target program for the findings tests (tests/integration/capture_findings.sh). Each
 * subcommand provokes one fault on loopback that `wstrace diagnose` should name; `clean` does
 * the same kinds of work correctly and should raise nothing. Threads wait on sockets and pipes,
 * never on timers; the only sleeps are the faults themselves (a gap, a slow answer), ≤ 150 ms.
 *
 *   faults refused          3 blocking connects to a loopback port where nothing listens
 *   faults unreachable      a connect to 10.255.255.1 (run where no route leaves the host)
 *   faults timeout ADDR     a connect to ADDR:80 that nobody answers (the test routes ADDR where
 *                           its packets vanish) gives up after ~1 s: TCP_USER_TIMEOUT 200 ms
 *   faults reset            the peer closes without reading what we sent: ECONNRESET
 *   faults send-after-close the peer closes; recv returns 0; we keep sending
 *   faults eof-loop         recv returns 0 and the program keeps calling recv
 *   faults close-wait       recv returns 0; the socket is never closed before exit
 *   faults lookup NAME      getaddrinfo(NAME) (NAME must fail or be slow: the test's resolver)
 *   faults ipv6-first       connect to [::1]:P (refused), then 127.0.0.1:P (listening)
 *   faults gap              120 ms of silence between two sends on one connection
 *   faults gap-busy         the same gap, the thread meanwhile busy with a UDP socket of its own
 *                           (3 sendto/recvfrom, then a poll that waits 120 ms for nothing)
 *   faults slow-reply       6 requests of 8 bytes on one connection (not HTTP); the server
 *                           answers the 4th after 150 ms, the others at once
 *   faults slow-once        one request of 8 bytes, answered after 150 ms: the only reply
 *   faults nagle            4 rounds of two small writes then a read, Nagle on (~40 ms each)
 *   faults slow-response    6 HTTP requests on one connection; the server answers one of them
 *                           after 150 ms, the others at once
 *   faults busy             non-blocking recv retried 300 times on EAGAIN without waiting
 *   faults nb-refused       non-blocking connect, poll, getsockopt(SO_ERROR) = ECONNREFUSED
 *   faults nb-unchecked     non-blocking connect, poll, then send without reading SO_ERROR
 *   faults not-closed       exits with a connected socket and a listener still open
 *   faults clean [NAME]     all of the above done right (TCP_NODELAY, one write per message,
 *                           poll before retrying, SO_ERROR read, recv 0 ends the loop, closes)
 * Exit status 0 when the calls behaved as the fault needs, 1 with a message otherwise.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "faults: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(1);
}

static long ok(long r, const char* what) {
  if (r < 0) die("%s failed: %s", what, strerror(errno));
  return r;
}

static void pause_ms(long ms) { /* the fault itself: a gap or a slow answer */
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&t, NULL);
}

static struct sockaddr_in v4(uint16_t port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

/* A listener on 127.0.0.1 (port chosen by the system); its port in *port. */
static int listener(uint16_t* port) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct sockaddr_in a = v4(0);
  ok(bind(s, (struct sockaddr*)&a, sizeof a), "bind");
  ok(listen(s, 8), "listen");
  socklen_t len = sizeof a;
  ok(getsockname(s, (struct sockaddr*)&a, &len), "getsockname");
  *port = ntohs(a.sin_port);
  return s;
}

/* A loopback port where nothing listens: bound, then closed without listening. */
static uint16_t closed_port(void) {
  uint16_t port;
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct sockaddr_in a = v4(0);
  ok(bind(s, (struct sockaddr*)&a, sizeof a), "bind");
  socklen_t len = sizeof a;
  ok(getsockname(s, (struct sockaddr*)&a, &len), "getsockname");
  port = ntohs(a.sin_port);
  close(s);
  return port;
}

static int connect_to(uint16_t port) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct sockaddr_in a = v4(port);
  ok(connect(s, (struct sockaddr*)&a, sizeof a), "connect");
  return s;
}

static void send_all(int s, const char* p, size_t n) {
  while (n) {
    ssize_t r = ok(send(s, p, n, MSG_NOSIGNAL), "send");
    p += r;
    n -= (size_t)r;
  }
}

static size_t recv_n(int s, char* buf, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = ok(recv(s, buf + got, n - got, 0), "recv");
    if (r == 0) break;
    got += (size_t)r;
  }
  return got;
}

/* ---- a server thread with a job -------------------------------------------------------- */

enum job { kClose, kCloseUnread, kEcho8, kSlowEcho8, kSlowOnce, kHttp, kByeClose, kLateSend };
struct server {
  int lsock;
  enum job job;
  int pipe_in;  /* kLateSend: sends once a byte arrives here; kCloseUnread: closes then writes */
  int pipe_out;
  int rounds;
};

static void* serve(void* arg) {
  struct server* sv = arg;
  int c = (int)ok(accept(sv->lsock, NULL, NULL), "accept");
  char buf[512];
  char one = 'x';
  switch (sv->job) {
    case kClose: break;
    case kCloseUnread: /* wait for the client's data, leave it unread: close sends a reset */
      ok(recv(c, buf, 1, MSG_PEEK), "peek");
      break;
    case kEcho8:
    case kSlowEcho8: /* the 4th answer after 150 ms */
    case kSlowOnce:  /* the first answer after 150 ms */
      for (int i = 0; i < sv->rounds; i++) {
        if (recv_n(c, buf, 8) != 8) die("server: short request");
        if ((sv->job == kSlowEcho8 && i == 3) || (sv->job == kSlowOnce && i == 0)) pause_ms(150);
        send_all(c, "answer!!", 8);
      }
      break;
    case kHttp:
      for (int i = 0; i < sv->rounds; i++) {
        size_t got = 0;
        while (got < 4 || memcmp(buf + got - 4, "\r\n\r\n", 4) != 0) {
          ssize_t r = ok(recv(c, buf + got, 1, 0), "recv");
          if (r == 0) die("server: request cut");
          got++;
        }
        if (i == 3) pause_ms(150);
        static const char kResp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
        send_all(c, kResp, sizeof kResp - 1);
      }
      break;
    case kByeClose: send_all(c, "bye", 3); break;
    case kLateSend:
      ok(read(sv->pipe_in, &one, 1), "read pipe");
      send_all(c, "late", 4);
      break;
  }
  if (sv->job == kCloseUnread) {
    close(c);
    ok(write(sv->pipe_out, &one, 1), "write pipe");
  } else {
    /* wait for the client to close first where it must see our end (EOF cases) */
    if (sv->job == kByeClose) shutdown(c, SHUT_WR), recv(c, buf, sizeof buf, 0);
    close(c);
  }
  return NULL;
}

static pthread_t start_server(struct server* sv, uint16_t* port, enum job job) {
  pthread_t t;
  sv->lsock = listener(port);
  sv->job = job;
  if (pthread_create(&t, NULL, serve, sv) != 0) die("pthread_create");
  return t;
}

/* ---- the faults ---------------------------------------------------------------------------- */

static int f_refused(void) {
  uint16_t port = closed_port();
  for (int i = 0; i < 3; i++) {
    int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
    struct sockaddr_in a = v4(port);
    if (connect(s, (struct sockaddr*)&a, sizeof a) == 0 || errno != ECONNREFUSED)
      die("connect to a closed port: %s", strerror(errno));
    close(s);
  }
  return 0;
}

static int f_unreachable(void) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  struct sockaddr_in a = v4(80);
  a.sin_addr.s_addr = inet_addr("10.255.255.1");
  if (connect(s, (struct sockaddr*)&a, sizeof a) == 0) die("connect to 10.255.255.1 worked");
  if (errno != ENETUNREACH && errno != EHOSTUNREACH) die("unreachable: %s", strerror(errno));
  close(s);
  return 0;
}

static int f_timeout(const char* addr) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM, 0), "socket");
  int syns = 1, user_timeout_ms = 200; /* the first retransmission (after 1 s) gives up */
  ok(setsockopt(s, IPPROTO_TCP, TCP_SYNCNT, &syns, sizeof syns), "TCP_SYNCNT");
  ok(setsockopt(s, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout_ms, sizeof user_timeout_ms),
     "TCP_USER_TIMEOUT");
  struct sockaddr_in a = v4(80);
  if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) die("not an IPv4 address: %s", addr);
  if (connect(s, (struct sockaddr*)&a, sizeof a) == 0) die("connect to %s worked", addr);
  if (errno != ETIMEDOUT) die("timeout: %s", strerror(errno));
  close(s);
  return 0;
}

static int f_reset(void) {
  struct server sv = {0};
  int p[2];
  ok(pipe(p), "pipe");
  sv.pipe_out = p[1];
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kCloseUnread);
  int s = connect_to(port);
  send_all(s, "request nobody reads", 20);
  char one;
  ok(read(p[0], &one, 1), "read pipe"); /* the server has closed */
  char buf[16];
  struct pollfd pf = {s, POLLIN, 0};
  ok(poll(&pf, 1, 5000), "poll");
  if (recv(s, buf, sizeof buf, 0) >= 0 || errno != ECONNRESET) die("expected ECONNRESET");
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_send_after_close(void) {
  struct server sv = {0};
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kClose);
  int s = connect_to(port);
  pthread_join(t, NULL); /* the server has closed */
  char buf[16];
  if (recv(s, buf, sizeof buf, 0) != 0) die("expected end-of-stream");
  int failed = 0;
  for (int i = 0; i < 5 && !failed; i++) {
    if (send(s, "more", 4, MSG_NOSIGNAL) < 0) {
      if (errno != EPIPE && errno != ECONNRESET) die("send: %s", strerror(errno));
      failed = 1;
    } else {
      struct pollfd pf = {s, POLLERR, 0}; /* wait for the peer's reset */
      poll(&pf, 1, 1000);
    }
  }
  if (!failed) die("sends after the peer closed kept working");
  close(s);
  close(sv.lsock);
  return 0;
}

/* mode 0: recv returns 0, close (right); 1: recv again after 0; 2: never closed (exits) */
static int f_eof(int mode) {
  struct server sv = {0};
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kByeClose);
  int s = connect_to(port);
  char buf[16];
  if (recv_n(s, buf, 3) != 3) die("no bye");
  const int want = mode == 1 ? 4 : 1;
  for (int i = 0; i < want; i++)
    if (ok(recv(s, buf, sizeof buf, 0), "recv") != 0) die("expected end-of-stream");
  if (mode == 2) exit(0); /* the socket stays open; the server thread still waits on it */
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_lookup(const char* name) {
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo(name, "80", &hints, &res);
  printf("lookup %s %d\n", name, r);
  if (res) freeaddrinfo(res);
  return 0;
}

static int f_ipv6_first(void) {
  struct server sv = {0};
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kClose);
  int s6 = (int)ok(socket(AF_INET6, SOCK_STREAM, 0), "socket6");
  struct sockaddr_in6 a6;
  memset(&a6, 0, sizeof a6);
  a6.sin6_family = AF_INET6;
  a6.sin6_port = htons(port);
  a6.sin6_addr = in6addr_loopback;
  if (connect(s6, (struct sockaddr*)&a6, sizeof a6) == 0 || errno != ECONNREFUSED)
    die("connect to [::1]: %s", strerror(errno));
  close(s6);
  int s = connect_to(port);
  pthread_join(t, NULL);
  close(s);
  close(sv.lsock);
  return 0;
}

/* The thread's work during a gap: a UDP socket talking to itself, then a wait of 120 ms. */
static void udp_meanwhile(void) {
  int u = (int)ok(socket(AF_INET, SOCK_DGRAM, 0), "udp socket");
  struct sockaddr_in a = v4(0);
  ok(bind(u, (struct sockaddr*)&a, sizeof a), "bind");
  socklen_t len = sizeof a;
  ok(getsockname(u, (struct sockaddr*)&a, &len), "getsockname");
  char buf[4];
  for (int i = 0; i < 3; i++) {
    ok(sendto(u, "udp", 3, 0, (struct sockaddr*)&a, sizeof a), "sendto");
    ok(recvfrom(u, buf, sizeof buf, 0, NULL, NULL), "recvfrom");
  }
  struct pollfd pf = {u, POLLIN, 0};
  if (ok(poll(&pf, 1, 120), "poll") != 0) die("poll: unexpected data");
  close(u);
}

/* Rounds of an 8-byte request and its answer from a `job` server. Before the second request,
 * mode 0: nothing; 1: 120 ms of nothing (a gap); 2: the same gap, busy with UDP. */
static int f_echo(enum job job, int rounds, int mode) {
  struct server sv = {0};
  sv.rounds = rounds;
  uint16_t port;
  pthread_t t = start_server(&sv, &port, job);
  int s = connect_to(port);
  char buf[8];
  for (int i = 0; i < rounds; i++) {
    if (i == 1 && mode == 1) pause_ms(120);
    if (i == 1 && mode == 2) udp_meanwhile();
    send_all(s, "12345678", 8);
    if (recv_n(s, buf, 8) != 8) die("short answer");
  }
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_nagle(int clean) {
  struct server sv = {0};
  sv.rounds = 4;
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kEcho8);
  int s = connect_to(port);
  if (clean) {
    int one = 1;
    ok(setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one), "TCP_NODELAY");
  }
  char buf[8];
  for (int i = 0; i < sv.rounds; i++) {
    send_all(s, "1234", 4);
    send_all(s, "5678", 4);
    if (recv_n(s, buf, 8) != 8) die("short answer");
  }
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_slow_response(int clean) {
  struct server sv = {0};
  sv.rounds = clean ? 3 : 6;  /* the clean run stops before the slow answer (the 4th) */
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kHttp);
  int s = connect_to(port);
  for (int i = 0; i < sv.rounds; i++) {
    static const char kReq[] = "GET /item HTTP/1.1\r\nHost: faults.test\r\n\r\n";
    send_all(s, kReq, sizeof kReq - 1);
    char buf[64];
    static const size_t kRespLen = 40; /* "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok" */
    if (recv_n(s, buf, kRespLen) != kRespLen) die("short response");
  }
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_busy(int clean) {
  struct server sv = {0};
  int p[2];
  ok(pipe(p), "pipe");
  sv.pipe_in = p[0];
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kLateSend);
  int s = connect_to(port);
  ok(fcntl(s, F_SETFL, fcntl(s, F_GETFL) | O_NONBLOCK), "O_NONBLOCK");
  char buf[8];
  int spins = 0;
  for (;;) {
    ssize_t r = recv(s, buf, sizeof buf, 0);
    if (r > 0) break;
    if (r == 0) die("unexpected end-of-stream");
    if (errno != EAGAIN && errno != EWOULDBLOCK) die("recv: %s", strerror(errno));
    if (++spins == (clean ? 1 : 300)) ok(write(p[1], "x", 1), "write pipe");
    if (clean) {
      struct pollfd pf = {s, POLLIN, 0};
      ok(poll(&pf, 1, 5000), "poll");
    }
  }
  close(s);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

static int f_nb_connect(int check, uint16_t port, int want_ok) {
  int s = (int)ok(socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), "socket");
  struct sockaddr_in a = v4(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a) == 0 || errno != EINPROGRESS)
    die("non-blocking connect: %s", strerror(errno));
  struct pollfd pf = {s, POLLOUT, 0};
  ok(poll(&pf, 1, 5000), "poll");
  if (check) {
    int err = 0;
    socklen_t len = sizeof err;
    ok(getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len), "getsockopt");
    if ((err == 0) != want_ok) die("SO_ERROR = %d", err);
    if (want_ok) send_all(s, "hi", 2);
  } else if (send(s, "hi", 2, MSG_NOSIGNAL) >= 0) {
    die("send after a refused connect worked");
  }
  close(s);
  return 0;
}

static int f_not_closed(void) {
  struct server sv = {0};
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kClose);
  int s = connect_to(port);
  pthread_join(t, NULL);
  (void)s;
  return 0;  /* s and the listener stay open */
}

static int f_clean(const char* name) {
  if (name) f_lookup(name);
  f_echo(kEcho8, 2, 0);
  f_nagle(1);
  f_slow_response(1);
  f_busy(1);
  f_eof(0);
  struct server sv = {0};
  uint16_t port;
  pthread_t t = start_server(&sv, &port, kClose);
  f_nb_connect(1, port, 1);
  pthread_join(t, NULL);
  close(sv.lsock);
  return 0;
}

int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  if (argc < 2) die("usage: faults FAULT (see the source)");
  const char* f = argv[1];
  if (!strcmp(f, "refused")) return f_refused();
  if (!strcmp(f, "unreachable")) return f_unreachable();
  if (!strcmp(f, "timeout") && argc > 2) return f_timeout(argv[2]);
  if (!strcmp(f, "reset")) return f_reset();
  if (!strcmp(f, "send-after-close")) return f_send_after_close();
  if (!strcmp(f, "eof-loop")) return f_eof(1);
  if (!strcmp(f, "close-wait")) return f_eof(2);
  if (!strcmp(f, "lookup") && argc > 2) return f_lookup(argv[2]);
  if (!strcmp(f, "ipv6-first")) return f_ipv6_first();
  if (!strcmp(f, "gap")) return f_echo(kEcho8, 2, 1);
  if (!strcmp(f, "gap-busy")) return f_echo(kEcho8, 2, 2);
  if (!strcmp(f, "slow-reply")) return f_echo(kSlowEcho8, 6, 0);
  if (!strcmp(f, "slow-once")) return f_echo(kSlowOnce, 1, 0);
  if (!strcmp(f, "nagle")) return f_nagle(0);
  if (!strcmp(f, "slow-response")) return f_slow_response(0);
  if (!strcmp(f, "busy")) return f_busy(0);
  if (!strcmp(f, "nb-refused")) return f_nb_connect(1, closed_port(), 0);
  if (!strcmp(f, "nb-unchecked")) return f_nb_connect(0, closed_port(), 0);
  if (!strcmp(f, "not-closed")) return f_not_closed();
  if (!strcmp(f, "clean")) return f_clean(argc > 2 ? argv[2] : NULL);
  die("unknown fault '%s'", f);
  return 1;
}
