/* faults_win: the Windows target program of the findings tests (tests/integration/win_findings.sh),
 * run under Wine here. Each subcommand provokes on loopback one fault that `wstrace diagnose`
 * should name; `clean` does the same kinds of work right and should raise nothing. Threads wait
 * on sockets and events, never on timers; the only sleeps are the faults themselves.
 *
 *   faults_win notinit        socket() before WSAStartup, and again after WSACleanup
 *   faults_win aborted        the peer aborts the connection (linger 0); we keep sending: prints
 *                             the error of each send and of the receive after them
 *   faults_win aborted-local  prints its connection's local port, waits for a line on stdin (the
 *                             test aborts the connection from outside meanwhile: `ss -K`), then
 *                             sends twice and receives: prints each error
 *   faults_win busy           non-blocking recv retried 300 times on WSAEWOULDBLOCK, no wait
 *   faults_win nb-refused     non-blocking connect to a closed port, select, SO_ERROR
 *   faults_win connectex-refused  ConnectEx to a closed port, its failure from the completion
 *   faults_win lookup NAME    getaddrinfo(NAME) (NAME must not resolve: the test's resolver)
 *   faults_win refused        3 blocking connects to a loopback port where nothing listens
 *   faults_win not-closed     exits with a connected socket and a listener still open
 *   faults_win nagle          4 rounds of two small sends then a receive, Nagle on
 *   faults_win clean [NAME]   all of the above done right: WSAStartup first, TCP_NODELAY,
 *                             select before retrying, SO_ERROR of a connect that worked,
 *                             closesocket, WSACleanup; NAME is looked up and must resolve
 * Prints one line "MODE ..." with what it saw; exit status 0 when the calls behaved as the fault
 * needs, non-zero (with a message) otherwise.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "faults_win: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, " (last error %d)\n", WSAGetLastError());
  va_end(ap);
  exit(1);
}

static struct sockaddr_in loopback(unsigned short port) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

static unsigned short port_of(SOCKET s) {
  struct sockaddr_in a;
  int len = sizeof a;
  if (getsockname(s, (struct sockaddr*)&a, &len) != 0) die("getsockname");
  return ntohs(a.sin_port);
}

static SOCKET tcp_socket(void) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (s == INVALID_SOCKET) die("socket");
  return s;
}

/* A listener on 127.0.0.1 (port chosen by the system). */
static SOCKET listener(void) {
  SOCKET s = tcp_socket();
  struct sockaddr_in a = loopback(0);
  if (bind(s, (struct sockaddr*)&a, sizeof a) || listen(s, 8)) die("listen");
  return s;
}

/* A loopback port where nothing listens: bound, then closed without listening. */
static unsigned short closed_port(void) {
  SOCKET s = tcp_socket();
  struct sockaddr_in a = loopback(0);
  if (bind(s, (struct sockaddr*)&a, sizeof a)) die("bind");
  unsigned short port = port_of(s);
  closesocket(s);
  return port;
}

static SOCKET connect_to(unsigned short port) {
  SOCKET s = tcp_socket();
  struct sockaddr_in a = loopback(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a)) die("connect to %u", port);
  return s;
}

static void send_all(SOCKET s, const char* p, int n) {
  while (n > 0) {
    int r = send(s, p, n, 0);
    if (r <= 0) die("send");
    p += r;
    n -= r;
  }
}

static int recv_n(SOCKET s, char* buf, int n) {
  int got = 0;
  while (got < n) {
    int r = recv(s, buf + got, n - got, 0);
    if (r < 0) die("recv");
    if (r == 0) break;
    got += r;
  }
  return got;
}

/* ---- a server thread with a job ------------------------------------------------------------ */

enum job { kAbort, kEcho8, kLateSend, kClose };
struct server {
  SOCKET lsock;
  enum job job;
  int rounds;
  HANDLE go;    /* kLateSend: sends once set; */
  HANDLE done;  /* kAbort: set once the connection is aborted; kClose: once accepted */
};

static DWORD WINAPI serve(LPVOID arg) {
  struct server* sv = arg;
  SOCKET c = accept(sv->lsock, NULL, NULL);
  if (c == INVALID_SOCKET) die("accept");
  char buf[64];
  switch (sv->job) {
    case kAbort: { /* read the first message, then abort: linger 0 makes closesocket reset */
      if (recv_n(c, buf, 5) != 5) die("server: no hello");
      struct linger l = {1, 0};
      setsockopt(c, SOL_SOCKET, SO_LINGER, (const char*)&l, sizeof l);
      closesocket(c);
      SetEvent(sv->done);
      return 0;
    }
    case kEcho8:
      for (int i = 0; i < sv->rounds; i++) {
        if (recv_n(c, buf, 8) != 8) die("server: short request");
        send_all(c, "answer!!", 8);
      }
      break;
    case kLateSend:
      WaitForSingleObject(sv->go, INFINITE);
      send_all(c, "late", 4);
      break;
    case kClose:
      if (sv->done) SetEvent(sv->done);
      break;
  }
  /* wait for the client's close before closing (no reset, no CLOSE_WAIT left behind) */
  while (recv(c, buf, sizeof buf, 0) > 0) {
  }
  closesocket(c);
  return 0;
}

static HANDLE start_server(struct server* sv, enum job job, unsigned short* port) {
  sv->lsock = listener();
  sv->job = job;
  *port = port_of(sv->lsock);
  HANDLE t = CreateThread(NULL, 0, serve, sv, 0, NULL);
  if (!t) die("CreateThread");
  return t;
}

/* A server thread with `job` (its `done` event made), and a connection to it. */
static SOCKET connect_to_server(struct server* sv, enum job job, HANDLE* thread) {
  unsigned short port;
  sv->done = CreateEventA(NULL, TRUE, FALSE, NULL);
  *thread = start_server(sv, job, &port);
  return connect_to(port);
}

static void stop_server(struct server* sv, HANDLE t) {
  WaitForSingleObject(t, INFINITE);
  CloseHandle(t);
  closesocket(sv->lsock);
}

/* ---- the faults ------------------------------------------------------------------------------ */

static int f_notinit(void) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  int before = s == INVALID_SOCKET ? WSAGetLastError() : 0;
  WSADATA d;
  if (WSAStartup(MAKEWORD(2, 2), &d) != 0) die("WSAStartup");
  closesocket(tcp_socket());
  WSACleanup();
  s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  int after = s == INVALID_SOCKET ? WSAGetLastError() : 0;
  printf("notinit before=%d after=%d\n", before, after);
  return before == WSANOTINITIALISED && after == WSANOTINITIALISED ? 0 : 1;
}

static int f_aborted(void) {
  struct server sv = {0};
  HANDLE t;
  SOCKET s = connect_to_server(&sv, kAbort, &t);
  send_all(s, "hello", 5);
  WaitForSingleObject(sv.done, INFINITE); /* the peer has reset the connection */
  printf("aborted sends=");
  int failed = 0;
  for (int i = 0; i < 3 && failed < 2; i++) {
    int r = send(s, "more", 4, 0);
    int e = r < 0 ? WSAGetLastError() : 0;
    printf("%s%d", i ? "," : "", e);
    if (r < 0) failed++;
    else { /* wait for the reset to reach us before the next send */
      fd_set ex;
      FD_ZERO(&ex);
      FD_SET(s, &ex);
      struct timeval tv = {1, 0};
      select(0, NULL, NULL, &ex, &tv);
    }
  }
  char buf[8];
  int r = recv(s, buf, sizeof buf, 0);
  printf(" recv=%d:%d\n", r, r < 0 ? WSAGetLastError() : 0);
  closesocket(s);
  stop_server(&sv, t);
  return failed ? 0 : 1;
}

/* The connection is aborted by this host's own stack (the test runs `ss -K` on it while the
 * program waits for a line on stdin): sends and receives after that fail as Winsock says. */
static int f_aborted_local(void) {
  struct server sv = {0};
  sv.rounds = 1;
  HANDLE t;
  SOCKET s = connect_to_server(&sv, kEcho8, &t);
  char buf[8];
  send_all(s, "12345678", 8);
  if (recv_n(s, buf, 8) != 8) die("no answer");
  printf("port=%u\n", port_of(s));
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) die("no go line");
  int e1 = send(s, "more", 4, 0) < 0 ? WSAGetLastError() : 0;
  int e2 = send(s, "more", 4, 0) < 0 ? WSAGetLastError() : 0;
  int r = recv(s, buf, sizeof buf, 0);
  printf("aborted-local sends=%d,%d recv=%d:%d\n", e1, e2, r, r < 0 ? WSAGetLastError() : 0);
  closesocket(s);
  stop_server(&sv, t);
  return e1 ? 0 : 1;
}

/* clean: select before each retry; otherwise 300 retries without waiting */
static int f_busy(int clean) {
  struct server sv = {0};
  sv.go = CreateEventA(NULL, TRUE, FALSE, NULL);
  unsigned short port;
  HANDLE t = start_server(&sv, kLateSend, &port);
  SOCKET s = connect_to(port);
  u_long on = 1;
  if (ioctlsocket(s, FIONBIO, &on)) die("FIONBIO");
  char buf[8];
  int spins = 0;
  for (;;) {
    int r = recv(s, buf, sizeof buf, 0);
    if (r > 0) break;
    if (r == 0) die("unexpected end-of-stream");
    if (WSAGetLastError() != WSAEWOULDBLOCK) die("recv");
    if (++spins == (clean ? 1 : 300)) SetEvent(sv.go);
    if (clean) {
      fd_set rd;
      FD_ZERO(&rd);
      FD_SET(s, &rd);
      struct timeval tv = {5, 0};
      if (select(0, &rd, NULL, NULL, &tv) != 1) die("select");
    }
  }
  on = 0;
  ioctlsocket(s, FIONBIO, &on);
  closesocket(s);
  stop_server(&sv, t);
  printf("busy spins=%d\n", spins);
  return 0;
}

/* A non-blocking connect to `port`; its outcome from select and getsockopt(SO_ERROR). */
static int f_nb_connect(unsigned short port, int want_ok) {
  SOCKET s = tcp_socket();
  u_long on = 1;
  if (ioctlsocket(s, FIONBIO, &on)) die("FIONBIO");
  struct sockaddr_in a = loopback(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a) == 0 || WSAGetLastError() != WSAEWOULDBLOCK)
    die("non-blocking connect did not return WSAEWOULDBLOCK");
  fd_set wr, ex;
  FD_ZERO(&wr);
  FD_ZERO(&ex);
  FD_SET(s, &wr);
  FD_SET(s, &ex);
  struct timeval tv = {5, 0};
  if (select(0, NULL, &wr, &ex, &tv) != 1) die("select");
  int err = -1, len = sizeof err;
  if (getsockopt(s, SOL_SOCKET, SO_ERROR, (char*)&err, &len)) die("getsockopt");
  printf("nb-connect so_error=%d\n", err);
  if ((err == 0) != want_ok) return 1;
  if (want_ok) {
    on = 0;
    ioctlsocket(s, FIONBIO, &on);
    send_all(s, "hi", 2);
  }
  closesocket(s);
  return 0;
}

static int f_connectex_refused(void) {
  SOCKET s = tcp_socket();
  struct sockaddr_in any = loopback(0);
  if (bind(s, (struct sockaddr*)&any, sizeof any)) die("bind");
  GUID id = WSAID_CONNECTEX;
  LPFN_CONNECTEX connect_ex = NULL;
  DWORD got = 0;
  if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &connect_ex,
               sizeof connect_ex, &got, NULL, NULL))
    die("no ConnectEx");
  OVERLAPPED ov;
  memset(&ov, 0, sizeof ov);
  ov.hEvent = WSACreateEvent();
  struct sockaddr_in a = loopback(closed_port());
  DWORD n = 0;
  if (connect_ex(s, (struct sockaddr*)&a, sizeof a, NULL, 0, &n, &ov) ||
      WSAGetLastError() != ERROR_IO_PENDING)
    die("ConnectEx did not pend");
  WaitForSingleObject(ov.hEvent, 10000);
  DWORD flags = 0;
  BOOL ok = WSAGetOverlappedResult(s, &ov, &n, FALSE, &flags);
  int e = ok ? 0 : WSAGetLastError();
  printf("connectex-refused error=%d\n", e);
  WSACloseEvent(ov.hEvent);
  closesocket(s);
  return e == WSAECONNREFUSED ? 0 : 1;
}

static int f_lookup(const char* name, int must_resolve) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  int r = getaddrinfo(name, "80", &hints, &res);
  printf("lookup %s %d\n", name, r);
  if (res) freeaddrinfo(res);
  return (r == 0) == must_resolve ? 0 : 1;
}

static int f_refused(void) {
  unsigned short port = closed_port();
  for (int i = 0; i < 3; i++) {
    SOCKET s = tcp_socket();
    struct sockaddr_in a = loopback(port);
    if (connect(s, (struct sockaddr*)&a, sizeof a) == 0 || WSAGetLastError() != WSAECONNREFUSED)
      die("connect to a closed port");
    closesocket(s);
  }
  printf("refused port=%u\n", port);
  return 0;
}

static int f_not_closed(void) {
  struct server sv = {0};
  HANDLE t;
  connect_to_server(&sv, kClose, &t); /* its socket stays open */
  WaitForSingleObject(sv.done, INFINITE); /* accepted: three sockets open */
  (void)t;
  printf("not-closed port=%u\n", port_of(sv.lsock));
  fflush(stdout);
  ExitProcess(0); /* the client, the accepted socket and the listener stay open */
}

static int f_nagle(int clean) {
  struct server sv = {0};
  sv.rounds = 4;
  HANDLE t;
  SOCKET s = connect_to_server(&sv, kEcho8, &t);
  if (clean) {
    BOOL one = TRUE;
    if (setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char*)&one, sizeof one)) die("NODELAY");
  }
  char buf[8];
  for (int i = 0; i < sv.rounds; i++) {
    send_all(s, "1234", 4);
    send_all(s, "5678", 4);
    if (recv_n(s, buf, 8) != 8) die("short answer");
  }
  closesocket(s);
  stop_server(&sv, t);
  return 0;
}

static int f_clean(const char* name) {
  int r = 0;
  if (name) r |= f_lookup(name, 1);
  r |= f_busy(1);
  r |= f_nagle(1);
  struct server sv = {0};
  unsigned short port;
  HANDLE t = start_server(&sv, kClose, &port);
  r |= f_nb_connect(port, 1);
  stop_server(&sv, t);
  printf("clean %d\n", r);
  return r;
}

int main(int argc, char** argv) {
  if (argc < 2) die("usage: faults_win FAULT (see the source)");
  const char* f = argv[1];
  if (!strcmp(f, "notinit")) return f_notinit();
  WSADATA d;
  if (WSAStartup(MAKEWORD(2, 2), &d) != 0) die("WSAStartup");
  int r = 2;
  if (!strcmp(f, "aborted")) r = f_aborted();
  else if (!strcmp(f, "aborted-local")) r = f_aborted_local();
  else if (!strcmp(f, "busy")) r = f_busy(0);
  else if (!strcmp(f, "nb-refused")) r = f_nb_connect(closed_port(), 0);
  else if (!strcmp(f, "connectex-refused")) r = f_connectex_refused();
  else if (!strcmp(f, "lookup") && argc > 2) r = f_lookup(argv[2], 0);
  else if (!strcmp(f, "refused")) r = f_refused();
  else if (!strcmp(f, "not-closed")) r = f_not_closed();
  else if (!strcmp(f, "nagle")) r = f_nagle(0);
  else if (!strcmp(f, "clean")) r = f_clean(argc > 2 ? argv[2] : NULL);
  else fprintf(stderr, "faults_win: unknown fault '%s'\n", f);
  WSACleanup();
  return r;
}
