/* Windows target for the overlapped/IOCP tests (win_iocp.sh, run under Wine). Loopback only;
 * every wait is bounded. Each subcommand prints what the program itself saw (ports, bytes), for
 * the test to hold the trace against.
 *   wiocp accept     an IOCP server: AcceptEx without first data, SO_UPDATE_ACCEPT_CONTEXT,
 *                    overlapped WSARecv/WSASend; a blocking client
 *   wiocp connect    ConnectEx on a completion port, SO_UPDATE_CONNECT_CONTEXT, then data
 *   wiocp zeroread   a zero-byte overlapped WSARecv (a readiness poll) before each real one;
 *                    we close first
 *   wiocp recvfrom   overlapped WSARecvFrom of datagrams from two senders, then an overlapped
 *                    WSARecvMsg, then an overlapped WSARecvFrom on a connected TCP socket
 *   wiocp immediate  an overlapped WSARecv that completes at once (no byte count asked), its
 *                    completion packet taken from the port
 *   wiocp closed     an overlapped WSARecv aborted by closesocket, then calls on the closed handle
 *   wiocp timeout    a blocking recv that times out under SO_RCVTIMEO, then one that gets data
 *   wiocp late       replies whose completion the program learns of without a completion port:
 *                    MsgWaitForMultipleObjects on the event, then a look at the OVERLAPPED
 *                    (HasOverlappedIoCompleted); each time busy for 1.3 s after
 *   wiocp posted     PostQueuedCompletionStatus wake-ups taken with GetQueuedCompletionStatus(Ex)
 *   wiocp nbconnect  a non-blocking connect whose first data goes out at once
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windows.h>
#include <stdio.h>
#include <string.h>

#define WAIT_MS 10000

static void die(const char* what) {
  printf("FAILED %s: %d/%lu\n", what, WSAGetLastError(), GetLastError());
  fflush(stdout);
  ExitProcess(2);
}

static struct sockaddr_in loopback(unsigned short port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

static unsigned short port_of(SOCKET s) {
  struct sockaddr_in a;
  int len = sizeof a;
  if (getsockname(s, (struct sockaddr*)&a, &len)) die("getsockname");
  return ntohs(a.sin_port);
}

static SOCKET tcp_socket(void) {
  SOCKET s = WSASocketW(AF_INET, SOCK_STREAM, IPPROTO_TCP, NULL, 0, WSA_FLAG_OVERLAPPED);
  if (s == INVALID_SOCKET) die("socket");
  return s;
}

static SOCKET bound(int type) {
  SOCKET s = WSASocketW(AF_INET, type, type == SOCK_STREAM ? IPPROTO_TCP : IPPROTO_UDP, NULL, 0,
                        WSA_FLAG_OVERLAPPED);
  struct sockaddr_in a = loopback(0);
  if (s == INVALID_SOCKET || bind(s, (struct sockaddr*)&a, sizeof a)) die("bind");
  return s;
}

static SOCKET listening(void) {
  SOCKET s = bound(SOCK_STREAM);
  if (listen(s, 4)) die("listen");
  return s;
}

static SOCKET connected_to(unsigned short port) {
  SOCKET s = tcp_socket();
  struct sockaddr_in a = loopback(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a)) die("connect");
  return s;
}

/* A connected pair: *client made with connect, the return value accepted. */
static SOCKET pair(SOCKET* client) {
  SOCKET l = listening();
  *client = connected_to(port_of(l));
  SOCKET a = accept(l, NULL, NULL);
  if (a == INVALID_SOCKET) die("accept");
  closesocket(l);
  return a;
}

static void* extension(SOCKET s, GUID id) {
  void* fn = NULL;
  DWORD got = 0;
  if (WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &fn, sizeof fn, &got, NULL,
               NULL))
    die("extension");
  return fn;
}

static void pending_ok(int failed) {
  if (failed && WSAGetLastError() != WSA_IO_PENDING) die("overlapped call");
}

/* The next completion from `port`: its OVERLAPPED and bytes. */
static LPOVERLAPPED next_done(HANDLE port, DWORD* bytes) {
  ULONG_PTR key;
  LPOVERLAPPED ov = NULL;
  if (!GetQueuedCompletionStatus(port, bytes, &key, &ov, WAIT_MS) && !ov) die("completion");
  return ov;
}

static int accept_server(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET l = listening();
  CreateIoCompletionPort((HANDLE)l, port, 1, 0);
  LPFN_ACCEPTEX accept_ex = (LPFN_ACCEPTEX)extension(l, (GUID)WSAID_ACCEPTEX);
  SOCKET a = tcp_socket();
  char addrs[2 * (sizeof(struct sockaddr_in6) + 16)];
  OVERLAPPED ov = {0};
  DWORD n = 0;
  pending_ok(!accept_ex(l, a, addrs, 0, sizeof(struct sockaddr_in6) + 16,
                        sizeof(struct sockaddr_in6) + 16, &n, &ov));
  SOCKET c = connected_to(port_of(l));
  if (next_done(port, &n) != &ov) die("accept completion");
  setsockopt(a, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char*)&l, sizeof l);
  CreateIoCompletionPort((HANDLE)a, port, 2, 0);
  printf("server=%u client=%u\n", port_of(l), port_of(c));
  char in[64];
  WSABUF rb = {sizeof in, in};
  DWORD flags = 0;
  OVERLAPPED ovr = {0}, ovs = {0};
  pending_ok(WSARecv(a, &rb, 1, NULL, &flags, &ovr, NULL) == SOCKET_ERROR);
  send(c, "hello-iocp", 10, 0);
  if (next_done(port, &n) != &ovr) die("recv completion");
  printf("received=%lu\n", n);
  WSABUF sb = {5, "reply"};
  pending_ok(WSASend(a, &sb, 1, NULL, 0, &ovs, NULL) == SOCKET_ERROR);
  if (next_done(port, &n) != &ovs) die("send completion");
  printf("got=%d\n", recv(c, in, sizeof in, 0));
  closesocket(c);
  closesocket(a);
  closesocket(l);
  CloseHandle(port);
  return 0;
}

static int connect_client(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET l = listening();
  SOCKET c = bound(SOCK_STREAM);
  /* (bound to 127.0.0.1 port 0: its port is chosen by the connect) */
  CreateIoCompletionPort((HANDLE)c, port, 1, 0);
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(c, (GUID)WSAID_CONNECTEX);
  struct sockaddr_in to = loopback(port_of(l));
  OVERLAPPED ov = {0};
  DWORD n = 0;
  pending_ok(!connect_ex(c, (struct sockaddr*)&to, sizeof to, NULL, 0, &n, &ov));
  if (next_done(port, &n) != &ov) die("connect completion");
  setsockopt(c, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
  SOCKET a = accept(l, NULL, NULL);
  printf("server=%u client=%u\n", port_of(l), port_of(c));
  send(c, "hello-connectex", 15, 0);
  char in[32];
  printf("got=%d\n", recv(a, in, sizeof in, 0));
  closesocket(c);
  closesocket(a);
  closesocket(l);
  CloseHandle(port);
  return 0;
}

/* libuv's way: a zero-byte read says "data is there", then the data is read. */
static int zeroread(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET c, a = pair(&c);
  CreateIoCompletionPort((HANDLE)a, port, 1, 0);
  int total = 0;
  for (int round = 0; round < 2; ++round) {
    OVERLAPPED ov = {0};
    WSABUF none = {0, NULL};
    DWORD flags = 0, n = 0;
    pending_ok(WSARecv(a, &none, 1, NULL, &flags, &ov, NULL) == SOCKET_ERROR);
    send(c, round ? "second" : "first", round ? 6 : 5, 0);
    if (next_done(port, &n) != &ov) die("zero-byte completion");
    printf("ready=%lu\n", n);
    char buf[32];
    /* A zero-length recv that is not overlapped asks for nothing too. */
    recv(a, buf, 0, 0);
    int got = recv(a, buf, sizeof buf, 0);
    if (got <= 0) die("recv");
    total += got;
  }
  printf("total=%d\n", total);
  closesocket(a);  /* we close first: the peer never did */
  closesocket(c);
  CloseHandle(port);
  return 0;
}

static int recvfrom_two(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET r = bound(SOCK_DGRAM);
  CreateIoCompletionPort((HANDLE)r, port, 1, 0);
  SOCKET s1 = bound(SOCK_DGRAM), s2 = bound(SOCK_DGRAM);
  struct sockaddr_in to = loopback(port_of(r));
  printf("receiver=%u sender1=%u sender2=%u\n", port_of(r), port_of(s1), port_of(s2));
  SOCKET senders[2] = {s1, s2};
  const char* text[2] = {"from-one", "from-two"};
  for (int i = 0; i < 2; ++i) {
    char buf[32];
    WSABUF b = {sizeof buf, buf};
    struct sockaddr_storage from;
    int fromlen = sizeof from;
    DWORD flags = 0, n = 0;
    OVERLAPPED ov = {0};
    pending_ok(WSARecvFrom(r, &b, 1, NULL, &flags, (struct sockaddr*)&from, &fromlen, &ov,
                           NULL) == SOCKET_ERROR);
    sendto(senders[i], text[i], 8, 0, (struct sockaddr*)&to, sizeof to);
    if (next_done(port, &n) != &ov) die("recvfrom completion");
    printf("datagram=%lu from=%u\n", n, ntohs(((struct sockaddr_in*)&from)->sin_port));
  }
  /* An overlapped WSARecvMsg: its sender is written into the message's name at completion. */
  LPFN_WSARECVMSG recv_msg = (LPFN_WSARECVMSG)extension(r, (GUID)WSAID_WSARECVMSG);
  char buf[32];
  WSABUF b = {sizeof buf, buf};
  struct sockaddr_storage from;
  WSAMSG msg = {(struct sockaddr*)&from, sizeof from, &b, 1, {0, NULL}, 0};
  DWORD n = 0;
  OVERLAPPED ov = {0};
  pending_ok(recv_msg(r, &msg, NULL, &ov, NULL) == SOCKET_ERROR);
  sendto(s2, "from-msg", 8, 0, (struct sockaddr*)&to, sizeof to);
  if (next_done(port, &n) != &ov) die("recvmsg completion");
  printf("message=%lu from=%u\n", n, ntohs(((struct sockaddr_in*)&from)->sin_port));
  /* An overlapped WSARecvFrom on a connected TCP socket: Winsock ignores lpFrom there, so the
     decoy sender left in the buffer (192.0.2.1:9, never contacted) must not be recorded. */
  SOCKET c, a = pair(&c);
  CreateIoCompletionPort((HANDLE)a, port, 2, 0);
  struct sockaddr_in decoy = {0};
  decoy.sin_family = AF_INET;
  decoy.sin_addr.s_addr = htonl(0xC0000201);
  decoy.sin_port = htons(9);
  struct sockaddr_storage stale;
  memset(&stale, 0, sizeof stale);
  memcpy(&stale, &decoy, sizeof decoy);
  int stale_len = sizeof decoy;
  DWORD flags = 0;
  OVERLAPPED tov = {0};
  pending_ok(WSARecvFrom(a, &b, 1, NULL, &flags, (struct sockaddr*)&stale, &stale_len, &tov,
                         NULL) == SOCKET_ERROR);
  send(c, "tcp-data", 8, 0);
  if (next_done(port, &n) != &tov) die("tcp recvfrom completion");
  printf("tcp=%lu fromlen=%d\n", n, stale_len);
  closesocket(a);
  closesocket(c);
  closesocket(s1);
  closesocket(s2);
  closesocket(r);
  CloseHandle(port);
  return 0;
}

static int immediate(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET c, a = pair(&c);
  CreateIoCompletionPort((HANDLE)a, port, 1, 0);
  send(c, "ready-data", 10, 0);
  fd_set rd;
  FD_ZERO(&rd);
  FD_SET(a, &rd);
  TIMEVAL tmo = {10, 0};
  if (select(0, &rd, NULL, NULL, &tmo) != 1) die("select");
  char buf[32];
  WSABUF b = {sizeof buf, buf};
  DWORD flags = 0, n = 0;
  OVERLAPPED ov = {0};
  int r = WSARecv(a, &b, 1, NULL, &flags, &ov, NULL);
  printf("at-once=%d bytes=%lu\n", r, (unsigned long)ov.InternalHigh);
  if (r == 0 && next_done(port, &n) != &ov) die("packet");
  printf("packet=%lu\n", n);
  closesocket(a);
  closesocket(c);
  CloseHandle(port);
  return 0;
}

static int closed(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET c, a = pair(&c);
  CreateIoCompletionPort((HANDLE)a, port, 1, 0);
  char buf[32];
  WSABUF b = {sizeof buf, buf};
  DWORD flags = 0, n = 0;
  OVERLAPPED ov = {0};
  pending_ok(WSARecv(a, &b, 1, NULL, &flags, &ov, NULL) == SOCKET_ERROR);
  closesocket(a);
  ULONG_PTR key;
  LPOVERLAPPED got = NULL;
  BOOL ok = GetQueuedCompletionStatus(port, &n, &key, &got, WAIT_MS);
  printf("aborted ok=%d err=%lu same=%d\n", ok, GetLastError(), got == &ov);
  int r = send(a, "late", 4, 0);
  printf("send-closed=%d err=%d\n", r, WSAGetLastError());
  int v, len = sizeof v;
  r = getsockopt(a, SOL_SOCKET, SO_RCVBUF, (char*)&v, &len);
  printf("getsockopt-closed=%d err=%d\n", r, WSAGetLastError());
  closesocket(c);
  CloseHandle(port);
  return 0;
}

static int timeout(void) {
  SOCKET c, a = pair(&c);
  DWORD ms = 200;
  setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, (char*)&ms, sizeof ms);
  char buf[32];
  int r = recv(c, buf, sizeof buf, 0);
  printf("timedout=%d err=%d\n", r, WSAGetLastError());
  send(a, "after", 5, 0);
  r = recv(c, buf, sizeof buf, 0);
  printf("got=%d\n", r);
  closesocket(c);
  closesocket(a);
  return 0;
}

/* A client that sends a request, then waits for the reply with an overlapped WSARecv whose
 * completion it learns of without a port: first through MsgWaitForMultipleObjects on the event,
 * then by looking at the OVERLAPPED until it says done. Each time it is then busy for longer
 * than a slow reply before its next socket call: the reply was not slow. */
static int late(void) {
  SOCKET c, a = pair(&c);
  for (int way = 0; way < 2; ++way) {
    char req[8], reply[8];
    send(c, "ask", 3, 0);
    if (recv(a, req, sizeof req, 0) != 3) die("request");
    WSABUF b = {sizeof reply, reply};
    DWORD flags = 0;
    OVERLAPPED ov = {0};
    ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
    pending_ok(WSARecv(c, &b, 1, NULL, &flags, &ov, NULL) == SOCKET_ERROR);
    send(a, "answer", 6, 0);
    if (way == 0) {
      if (MsgWaitForMultipleObjects(1, &ov.hEvent, FALSE, WAIT_MS, QS_ALLINPUT) != WAIT_OBJECT_0)
        die("MsgWaitForMultipleObjects");
      printf("waited\n");
    } else {
      for (int i = 0; i < 1000 && !HasOverlappedIoCompleted(&ov); ++i) Sleep(10);
      printf("looked=%lu\n", (unsigned long)ov.InternalHigh);
    }
    fflush(stdout);
    Sleep(1300); /* longer than a slow reply: the program was busy, the reply was not slow */
    CloseHandle(ov.hEvent);
  }
  send(c, "bye", 3, 0); /* (the next call on the socket) */
  closesocket(c);
  closesocket(a);
  return 0;
}

static int posted(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  static OVERLAPPED wake;
  PostQueuedCompletionStatus(port, 7, 42, &wake);
  PostQueuedCompletionStatus(port, 0, 43, NULL);
  PostQueuedCompletionStatus(port, 3, 44, &wake);
  DWORD n;
  ULONG_PTR key;
  LPOVERLAPPED ov;
  int woke = 0;
  for (int i = 0; i < 2; ++i)
    if (GetQueuedCompletionStatus(port, &n, &key, &ov, WAIT_MS)) ++woke;
  OVERLAPPED_ENTRY e[4];
  ULONG got = 0;
  if (GetQueuedCompletionStatusEx(port, e, 4, &got, WAIT_MS, FALSE)) woke += (int)got;
  printf("woke=%d\n", woke);
  CloseHandle(port);
  return 0;
}

static int nbconnect(void) {
  SOCKET l = listening();
  SOCKET c = tcp_socket();
  u_long on = 1;
  ioctlsocket(c, FIONBIO, &on);
  struct sockaddr_in to = loopback(port_of(l));
  if (connect(c, (struct sockaddr*)&to, sizeof to) == 0 || WSAGetLastError() != WSAEWOULDBLOCK)
    die("non-blocking connect");
  fd_set wr;
  FD_ZERO(&wr);
  FD_SET(c, &wr);
  TIMEVAL tmo = {10, 0};
  if (select(0, NULL, &wr, NULL, &tmo) != 1) die("select");
  send(c, "first-data", 10, 0);
  SOCKET a = accept(l, NULL, NULL);
  char buf[32];
  printf("got=%d\n", recv(a, buf, sizeof buf, 0));
  closesocket(c);
  closesocket(a);
  closesocket(l);
  return 0;
}

int main(int argc, char** argv) {
  WSADATA wsa;
  if (WSAStartup(MAKEWORD(2, 2), &wsa)) return 1;
  const char* what = argc > 1 ? argv[1] : "";
  int r = 1;
  if (!strcmp(what, "accept")) r = accept_server();
  else if (!strcmp(what, "connect")) r = connect_client();
  else if (!strcmp(what, "zeroread")) r = zeroread();
  else if (!strcmp(what, "recvfrom")) r = recvfrom_two();
  else if (!strcmp(what, "immediate")) r = immediate();
  else if (!strcmp(what, "closed")) r = closed();
  else if (!strcmp(what, "timeout")) r = timeout();
  else if (!strcmp(what, "late")) r = late();
  else if (!strcmp(what, "posted")) r = posted();
  else if (!strcmp(what, "nbconnect")) r = nbconnect();
  else printf("usage: wiocp accept|connect|zeroread|recvfrom|immediate|closed|timeout|late|posted|nbconnect\n");
  WSACleanup();
  return r;
}
