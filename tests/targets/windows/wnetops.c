/* Windows target program for the capture tests (run under Wine here). Loopback only.
 *   wnetops tcp        blocking TCP client and server threads: connect/accept, send/recv,
 *                      WSASend/WSARecv, shutdown, closesocket; prints the ports it used
 *   wnetops udp        sendto/recvfrom and WSASendTo/WSARecvFrom on 127.0.0.1
 *   wnetops errors     refused connect (WSAECONNREFUSED), a name that is not found
 *                      (WSAHOST_NOT_FOUND)
 *   wnetops reset PORT a peer that aborts the connection (WSAECONNRESET)
 *   wnetops dynamic    connect/send/recv obtained through GetProcAddress, and a DLL loaded
 *                      after start (wnetdll.dll) that sends on its own
 *   wnetops apc        WSARecv/WSASend finished by completion routines (an alertable wait)
 *   wnetops dnsquery NAME  DnsQuery_A, DnsQuery_W and getaddrinfo of NAME
 *   wnetops lookups    GetAddrInfoW, GetAddrInfoExW, GetNameInfoW, gethostbyname of localhost
 *   wnetops threads    eight client threads at once against one server thread
 *   wnetops iocp       AcceptEx, ConnectEx, overlapped WSARecv/WSASend on a completion port
 *   wnetops child      starts itself as a child process that does the UDP exchange
 *   wnetops waitstdin  prints its pid, waits for a line on stdin, then does the TCP exchange
 *   wnetops prefetch   before waiting on stdin as waitstdin does: a listener, a connection to
 *                      it, and pointers to send, recv (GetProcAddress), ConnectEx (WSAIoctl) and
 *                      GetQueuedCompletionStatusEx; after: uses those pointers, and ends the
 *                      connection with WSASendDisconnect (Wine's calls shutdown)
 *   wnetops lasterror  calls that fail and succeed with the last error set to a sentinel
 *                      first; prints the last error after each call (compared traced/untraced);
 *                      with overlapped calls, extension functions, completions, waits, lookups
 *   wnetops lasterror-dns NAME  the same for DnsQuery_A/W/UTF8 of NAME (a private DNS server)
 *   wnetops evented    overlapped calls whose completion the program learns from the OVERLAPPED
 *                      only: after a wait on its event, or by looking at it (then a socket call)
 *   wnetops iocpfail   ConnectEx to a closed port, its failure taken with GetQueuedCompletionStatusEx
 *   wnetops asynclookup  GetAddrInfoExW started asynchronously: an event, a completion routine,
 *                      GetAddrInfoExOverlappedResult asked until done (numeric hosts only)
 *   wnetops childenv   children started with environment blocks of their own (ANSI and wide)
 *                      that lack WSTRACE_SHM, each doing the UDP exchange (wnetops envudp)
 *   wnetops names      names its thread and another (SetThreadDescription)
 *   wnetops busy       as waitstdin, with four threads calling ioctlsocket in a loop meanwhile (the
 *                      attach writes its hooks while they run through them)
 *   wnetops tcpinfo [udp]  UDP sockets (one of a kind the agent must ask), then a TCP connection
 *                      with 50 exchanges, the last error printed after each call
 *   wnetops unhook     sends "before", then sets its own detach event as wstrace's Ctrl+C would,
 *                      waits until send's first byte is no jump any more, then sends "after"
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <mswsock.h>
#include <windns.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

static SOCKET listener;
static unsigned short port_of(SOCKET s) {
  struct sockaddr_in a;
  int len = sizeof a;
  getsockname(s, (struct sockaddr*)&a, &len);
  return ntohs(a.sin_port);
}

static SOCKET listen_loopback(void) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(s, (struct sockaddr*)&a, sizeof a) || listen(s, 4)) {
    printf("listen failed %d\n", WSAGetLastError());
    exit(1);
  }
  return s;
}

static DWORD WINAPI echo_server(LPVOID arg) {
  (void)arg;
  struct sockaddr_in peer;
  int len = sizeof peer;
  SOCKET c = accept(listener, (struct sockaddr*)&peer, &len);
  char buf[256];
  int n;
  while ((n = recv(c, buf, sizeof buf, 0)) > 0) send(c, buf, n, 0);
  closesocket(c);
  return 0;
}

static SOCKET connect_to(unsigned short port) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) {
    closesocket(s);
    return INVALID_SOCKET;
  }
  return s;
}

/* A port on 127.0.0.1 where nothing listens (it just stopped). */
static unsigned short closed_port(void) {
  SOCKET probe = listen_loopback();
  unsigned short closed = port_of(probe);
  closesocket(probe);
  return closed;
}

static struct sockaddr_in loopback(unsigned short port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  return a;
}

/* A TCP socket bound to 127.0.0.1 (ConnectEx wants one), on completion port `port` if given. */
static SOCKET bound_tcp(HANDLE port, ULONG_PTR key) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = loopback(0);
  bind(s, (struct sockaddr*)&a, sizeof a);
  if (port) CreateIoCompletionPort((HANDLE)s, port, key, 0);
  return s;
}

static int tcp(void) {
  listener = listen_loopback();
  HANDLE t = CreateThread(NULL, 0, echo_server, NULL, 0, NULL);
  SOCKET s = connect_to(port_of(listener));
  if (s == INVALID_SOCKET) return 1;
  char buf[64];
  send(s, "ping-1", 6, 0);
  int n = recv(s, buf, sizeof buf, MSG_WAITALL == 0 ? 0 : 0);
  WSABUF wb = {6, "ping-2"};
  DWORD sent = 0, got = 0, flags = 0;
  WSASend(s, &wb, 1, &sent, 0, NULL, NULL);
  char in[64];
  WSABUF rb = {sizeof in, in};
  WSARecv(s, &rb, 1, &got, &flags, NULL, NULL);
  shutdown(s, SD_SEND);
  while (recv(s, buf, sizeof buf, 0) > 0) {
  }
  /* The agent reads TCP statistics before close (an ioctl Wine refuses): the last error the
     program set stays (Wine's own shutdown resets it, so that one cannot tell). */
  WSASetLastError(4322);
  closesocket(s);
  int after_close = WSAGetLastError();
  WaitForSingleObject(t, INFINITE);
  printf("tcp port=%u first=%d second=%lu lasterr=%d\n", port_of(listener), n, got,
         after_close);
  closesocket(listener);
  return 0;
}

static int udp(void) {
  SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(u, (struct sockaddr*)&a, sizeof a);
  a.sin_port = htons(port_of(u));
  sendto(u, "dgram-1", 7, 0, (struct sockaddr*)&a, sizeof a);
  char buf[64];
  struct sockaddr_in from;
  int fromlen = sizeof from;
  int n = recvfrom(u, buf, sizeof buf, 0, (struct sockaddr*)&from, &fromlen);
  WSABUF wb = {7, "dgram-2"};
  DWORD sent = 0, got = 0, flags = 0;
  WSASendTo(u, &wb, 1, &sent, 0, (struct sockaddr*)&a, sizeof a, NULL, NULL);
  WSABUF rb = {sizeof buf, buf};
  fromlen = sizeof from;
  WSARecvFrom(u, &rb, 1, &got, &flags, (struct sockaddr*)&from, &fromlen, NULL, NULL);
  printf("udp port=%u first=%d second=%lu\n", port_of(u), n, got);
  closesocket(u);
  return 0;
}

static int errors(void) {
  /* A port where nothing listens. */
  SOCKET s = connect_to(closed_port());
  printf("refused=%d\n", s == INVALID_SOCKET ? WSAGetLastError() : 0);
  /* A name that is not found: a numeric-only lookup of a name asks no DNS server. */
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_flags = AI_NUMERICHOST;
  hints.ai_family = AF_UNSPEC;
  int rc = getaddrinfo("missing.example.invalid", "80", &hints, &res);
  printf("lookup=%d\n", rc);
  return 0;
}

/* A reset: the peer (a Linux program started by the test on PORT) aborts the connection. */
static int reset(unsigned short port) {
  SOCKET c = connect_to(port);
  if (c == INVALID_SOCKET) return 1;
  send(c, "hello", 5, 0);
  char buf[16];
  int n = recv(c, buf, sizeof buf, 0);
  printf("reset=%d\n", n < 0 ? WSAGetLastError() : n);
  closesocket(c);
  return 0;
}

typedef int(WSAAPI* connect_fn)(SOCKET, const struct sockaddr*, int);
typedef int(WSAAPI* send_fn)(SOCKET, const char*, int, int);
typedef int(__cdecl* dll_send_fn)(unsigned short);

static int dynamic(void) {
  listener = listen_loopback();
  HANDLE t = CreateThread(NULL, 0, echo_server, NULL, 0, NULL);
  HMODULE ws2 = GetModuleHandleA("ws2_32.dll");
  connect_fn my_connect = (connect_fn)(void*)GetProcAddress(ws2, "connect");
  send_fn my_send = (send_fn)(void*)GetProcAddress(ws2, "send");
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port_of(listener));
  if (my_connect(s, (struct sockaddr*)&a, sizeof a) != 0) return 1;
  my_send(s, "via-getprocaddress", 18, 0);
  char buf[64];
  recv(s, buf, sizeof buf, 0);
  closesocket(s);
  WaitForSingleObject(t, INFINITE);
  /* A DLL loaded now, which makes its own Winsock calls. */
  HMODULE dll = LoadLibraryA("wnetdll.dll");
  if (!dll) return 2;
  dll_send_fn dll_send = (dll_send_fn)(void*)GetProcAddress(dll, "wnetdll_send");
  t = CreateThread(NULL, 0, echo_server, NULL, 0, NULL);
  int r = dll_send(port_of(listener));
  WaitForSingleObject(t, INFINITE);
  printf("dynamic dll=%d\n", r);
  closesocket(listener);
  return 0;
}

/* The last error after each call, with a sentinel set before it. */
#define AFTER(call)                                          \
  do {                                                       \
    WSASetLastError(4242);                                   \
    long long r_ = (long long)(call);                        \
    printf("%-40s %lld %d\n", #call, r_, WSAGetLastError()); \
  } while (0)

static void lasterror_overlapped(void);

static int lasterror(void) {
  SOCKET bad = (SOCKET)0x7777;
  char buf[8];
  struct sockaddr_in a = {0};
  int alen = sizeof a;
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  AFTER(send(bad, "x", 1, 0));
  AFTER(recv(bad, buf, 1, 0));
  AFTER(closesocket(bad));
  AFTER(bind(bad, (struct sockaddr*)&a, sizeof a));
  AFTER(listen(bad, 1));
  AFTER(connect(bad, (struct sockaddr*)&a, sizeof a));
  AFTER(getsockname(bad, (struct sockaddr*)&a, &alen));
  AFTER(shutdown(bad, SD_BOTH));
  AFTER(ioctlsocket(bad, FIONBIO, &(u_long){1}));
  AFTER(setsockopt(bad, SOL_SOCKET, SO_REUSEADDR, "\1\0\0\0", 4));
  int optlen = 4;
  AFTER(getsockopt(bad, SOL_SOCKET, SO_TYPE, buf, &optlen));
  alen = sizeof a;
  AFTER(getpeername(bad, (struct sockaddr*)&a, &alen));
  AFTER(accept(bad, NULL, NULL) == INVALID_SOCKET);
  AFTER(WSAConnect(bad, (struct sockaddr*)&a, sizeof a, NULL, NULL, NULL, NULL));
  WSABUF wb = {1, buf};
  DWORD done = 0, flags = 0;
  AFTER(WSASend(bad, &wb, 1, &done, 0, NULL, NULL));
  AFTER(WSARecv(bad, &wb, 1, &done, &flags, NULL, NULL));
  AFTER(WSASendTo(bad, &wb, 1, &done, 0, (struct sockaddr*)&a, sizeof a, NULL, NULL));
  AFTER(WSARecvFrom(bad, &wb, 1, &done, &flags, NULL, NULL, NULL, NULL));
  AFTER(sendto(bad, "x", 1, 0, (struct sockaddr*)&a, sizeof a));
  AFTER(recvfrom(bad, buf, 1, 0, NULL, NULL));
  WSAPOLLFD pfd = {bad, POLLRDNORM, 0};
  AFTER(WSAPoll(&pfd, 1, 0));
  fd_set rs;
  FD_ZERO(&rs);
  FD_SET(bad, &rs);
  TIMEVAL zero = {0, 0};
  AFTER(select(0, &rs, NULL, NULL, &zero));
  AFTER(WSAIoctl(bad, FIONBIO, &done, sizeof done, NULL, 0, &done, NULL, NULL));
  AFTER(WSAEventSelect(bad, NULL, 0));
  AFTER(socket(AF_INET, 12345, 0) == INVALID_SOCKET);
  AFTER(WSASocketW(AF_INET, SOCK_STREAM, 9999, NULL, 0, 0) == INVALID_SOCKET);
  struct addrinfo nh = {0}, *res = NULL;
  nh.ai_flags = AI_NUMERICHOST;
  AFTER(getaddrinfo("not-numeric.invalid", "80", &nh, &res));
  SOCKET s = socket(AF_INET, SOCK_DGRAM, 0);
  AFTER(bind(s, (struct sockaddr*)&a, sizeof a));
  alen = sizeof a;
  AFTER(getsockname(s, (struct sockaddr*)&a, &alen) == 0);
  AFTER(sendto(s, "y", 1, 0, (struct sockaddr*)&a, sizeof a));
  AFTER(recvfrom(s, buf, sizeof buf, 0, NULL, NULL));
  AFTER(setsockopt(s, SOL_SOCKET, SO_RCVBUF, "\0\0\1\0", 4));
  AFTER(closesocket(s));
  lasterror_overlapped();
  return 0;
}

/* The moments the agent reads TCP statistics (SIO_TCP_INFO), each call with the last error set
 * to a sentinel first and printed after it (compared traced/untraced): UDP sockets — one made by
 * socket(), one from a protocol description (its kind unknown to the agent until it asks) — and,
 * unless only "udp" is asked for, a TCP connection: connect, accept, 50 exchanges both ways,
 * shutdown, close. */
static int tcpinfo(int udp_only) {
  char buf[16];
  struct sockaddr_in a = loopback(0);
  int alen = sizeof a;
  SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  WSAPROTOCOL_INFOW info;
  int ilen = sizeof info;
  AFTER(getsockopt(u, SOL_SOCKET, SO_PROTOCOL_INFOW, (char*)&info, &ilen));
  SOCKET v = WSASocketW(FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, FROM_PROTOCOL_INFO, &info, 0, 0);
  AFTER(bind(u, (struct sockaddr*)&a, sizeof a));
  AFTER(getsockname(u, (struct sockaddr*)&a, &alen));
  for (int i = 0; i < 3; ++i) {
    AFTER(sendto(v, "udp", 3, 0, (struct sockaddr*)&a, sizeof a));
    AFTER(recvfrom(u, buf, sizeof buf, 0, NULL, NULL));
  }
  AFTER(closesocket(v));
  AFTER(closesocket(u));
  if (udp_only) return 0;
  SOCKET l = listen_loopback();
  SOCKET c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in to = loopback(port_of(l));
  AFTER(connect(c, (struct sockaddr*)&to, sizeof to));
  SOCKET s;
  AFTER((s = accept(l, NULL, NULL)) != INVALID_SOCKET);
  for (int i = 0; i < 50; ++i) {
    AFTER(send(c, "ping", 4, 0));
    AFTER(recv(s, buf, 4, 0));
    AFTER(send(s, "pong", 4, 0));
    AFTER(recv(c, buf, 4, 0));
  }
  AFTER(shutdown(c, SD_SEND));
  AFTER(recv(s, buf, sizeof buf, 0));
  AFTER(closesocket(s));
  AFTER(closesocket(c));
  AFTER(closesocket(l));
  return 0;
}

/* IOCP: a server with AcceptEx and overlapped WSARecv, a client with ConnectEx and overlapped
 * WSASend, all completions taken from one completion port. */
static void* extension(SOCKET s, GUID id) {
  void* fn = NULL;
  DWORD got = 0;
  WSAIoctl(s, SIO_GET_EXTENSION_FUNCTION_POINTER, &id, sizeof id, &fn, sizeof fn, &got, NULL, NULL);
  return fn;
}

static int iocp(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  listener = listen_loopback();
  CreateIoCompletionPort((HANDLE)listener, port, 1, 0);
  GUID accept_id = WSAID_ACCEPTEX, connect_id = WSAID_CONNECTEX;
  LPFN_ACCEPTEX accept_ex = (LPFN_ACCEPTEX)extension(listener, accept_id);
  SOCKET acc = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  char accept_buf[64 + 2 * (sizeof(struct sockaddr_in6) + 16)];
  OVERLAPPED ov_accept = {0}, ov_connect = {0}, ov_recv = {0}, ov_send = {0};
  DWORD n = 0;
  if (!accept_ex || (!accept_ex(listener, acc, accept_buf, 15, sizeof(struct sockaddr_in6) + 16,
                                sizeof(struct sockaddr_in6) + 16, &n, &ov_accept) &&
                     WSAGetLastError() != ERROR_IO_PENDING))
    return 1;
  SOCKET cl = bound_tcp(port, 2);
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(cl, connect_id);
  /* (Under wstrace, a body hook's jump: the pointer is Winsock's own, not swapped.) */
  if (connect_ex) printf("connectex first=%02x\n", *(const unsigned char*)(void*)connect_ex);
  struct sockaddr_in to = loopback(port_of(listener));
  if (!connect_ex || (!connect_ex(cl, (struct sockaddr*)&to, sizeof to, "hello-connectex", 15, &n,
                                  &ov_connect) &&
                      WSAGetLastError() != ERROR_IO_PENDING))
    return 2;
  int done = 0;
  while (done < 2) {
    DWORD bytes;
    ULONG_PTR key;
    LPOVERLAPPED ov;
    if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, 10000)) return 3;
    if (ov == &ov_accept) printf("accepted=%lu:%.*s\n", bytes, (int)bytes, accept_buf), ++done;
    if (ov == &ov_connect) printf("connected=%lu\n", bytes), ++done;
  }
  setsockopt(acc, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char*)&listener, sizeof listener);
  setsockopt(cl, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
  CreateIoCompletionPort((HANDLE)acc, port, 3, 0);
  char in[32];
  WSABUF rb = {sizeof in, in};
  DWORD flags = 0;
  if (WSARecv(acc, &rb, 1, NULL, &flags, &ov_recv, NULL) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING)
    return 4;
  WSABUF sb = {6, "second"};
  if (WSASend(cl, &sb, 1, NULL, 0, &ov_send, NULL) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING)
    return 5;
  for (done = 0; done < 2;) {
    DWORD bytes;
    ULONG_PTR key;
    LPOVERLAPPED ov;
    if (!GetQueuedCompletionStatus(port, &bytes, &key, &ov, 10000)) return 6;
    if (ov == &ov_recv) printf("received=%lu:%.*s\n", bytes, (int)bytes, in), ++done;
    if (ov == &ov_send) printf("sent=%lu\n", bytes), ++done;
  }
  closesocket(cl);
  closesocket(acc);
  closesocket(listener);
  CloseHandle(port);
  return 0;
}

/* Name lookups of localhost (from the hosts file: no DNS server is asked). */
static int lookups(void) {
  ADDRINFOW hints = {0}, *res = NULL;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  int a = GetAddrInfoW(L"localhost", L"80", &hints, &res);
  if (a == 0) FreeAddrInfoW(res);
  ADDRINFOEXW hx = {0}, *rx = NULL;
  hx.ai_family = AF_INET;
  int b = GetAddrInfoExW(L"localhost", L"443", NS_ALL, NULL, &hx, &rx, NULL, NULL, NULL, NULL);
  if (b == 0) FreeAddrInfoExW(rx);
  struct sockaddr_in lo = {0};
  lo.sin_family = AF_INET;
  lo.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  lo.sin_port = htons(80);
  wchar_t host[256], serv[64];
  int c = GetNameInfoW((struct sockaddr*)&lo, sizeof lo, host, 256, serv, 64, NI_NUMERICSERV);
  struct hostent* h = gethostbyname("localhost");
  printf("lookups %d %d %d %d\n", a, b, c, h != NULL);
  return 0;
}

/* Eight client threads at once against one server thread. */
#define CLIENTS 8
static DWORD WINAPI serve_many(LPVOID arg) {
  (void)arg;
  for (int i = 0; i < CLIENTS; ++i) {
    SOCKET c = accept(listener, NULL, NULL);
    char buf[64];
    int n = recv(c, buf, sizeof buf, 0);
    if (n > 0) send(c, buf, n, 0);
    closesocket(c);
  }
  return 0;
}

static DWORD WINAPI client(LPVOID arg) {
  int id = (int)(INT_PTR)arg;
  SOCKET s = connect_to(port_of(listener));
  if (s == INVALID_SOCKET) return 1;
  char msg[32], buf[32];
  int len = snprintf(msg, sizeof msg, "client-%d", id);
  send(s, msg, len, 0);
  recv(s, buf, sizeof buf, 0);
  closesocket(s);
  return 0;
}

static int threads(void) {
  listener = listen_loopback();
  HANDLE server = CreateThread(NULL, 0, serve_many, NULL, 0, NULL);
  HANDLE t[CLIENTS];
  for (int i = 0; i < CLIENTS; ++i) t[i] = CreateThread(NULL, 0, client, (LPVOID)(INT_PTR)i, 0, NULL);
  WaitForMultipleObjects(CLIENTS, t, TRUE, INFINITE);
  WaitForSingleObject(server, INFINITE);
  printf("threads done\n");
  closesocket(listener);
  return 0;
}

/* Overlapped receive and send finished by completion routines, run in an alertable wait. */
static int apc_bytes = -1;
static void CALLBACK on_received(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  (void)ov, (void)flags;
  apc_bytes = err ? -(int)err : (int)bytes;
}
static void CALLBACK on_sent(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  (void)err, (void)bytes, (void)ov, (void)flags;
}

static int apc(void) {
  listener = listen_loopback();
  SOCKET cl = connect_to(port_of(listener));
  SOCKET sv = accept(listener, NULL, NULL);
  char in[32];
  WSABUF rb = {sizeof in, in};
  DWORD flags = 0;
  WSAOVERLAPPED ov_recv = {0}, ov_send = {0};
  if (WSARecv(sv, &rb, 1, NULL, &flags, &ov_recv, on_received) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING)
    return 1;
  WSABUF sb = {8, "apc-data"};
  if (WSASend(cl, &sb, 1, NULL, 0, &ov_send, on_sent) == SOCKET_ERROR &&
      WSAGetLastError() != WSA_IO_PENDING)
    return 2;
  for (int i = 0; i < 100 && apc_bytes < 0; ++i) SleepEx(100, TRUE);
  printf("apc received=%d:%.*s\n", apc_bytes, apc_bytes > 0 ? apc_bytes : 0, in);
  closesocket(cl);
  closesocket(sv);
  closesocket(listener);
  return apc_bytes == 8 ? 0 : 3;
}

/* Overlapped calls whose completion the program learns from the OVERLAPPED only. */
static void pending_or_exit(int failed, int code) {
  if (!failed || WSAGetLastError() != WSA_IO_PENDING) {
    printf("not pending: %d (%d)\n", code, WSAGetLastError());
    exit(code);
  }
}

static int evented(void) {
  listener = listen_loopback();
  unsigned short port = port_of(listener);
  SOCKET cl = connect_to(port), sv = accept(listener, NULL, NULL);
  char in1[32], in2[32], in3[32], in4[32], in7[32];
  WSABUF b1 = {sizeof in1, in1}, b2 = {sizeof in2, in2}, b3 = {sizeof in3, in3},
         b4 = {sizeof in4, in4}, b7 = {sizeof in7, in7};
  DWORD flags = 0, n1 = 0;
  WSAOVERLAPPED o1 = {0}, o2 = {0}, o3 = {0}, o4 = {0}, o5 = {0}, o6 = {0}, o7 = {0};
  /* 1: WSAWaitForMultipleEvents, then GetOverlappedResult (which must not record it again) */
  o1.hEvent = WSACreateEvent();
  pending_or_exit(WSARecv(sv, &b1, 1, NULL, &flags, &o1, NULL) == SOCKET_ERROR, 11);
  send(cl, "event-one", 9, 0);
  WSAWaitForMultipleEvents(1, &o1.hEvent, TRUE, 5000, FALSE);
  GetOverlappedResult((HANDLE)sv, &o1, &n1, FALSE);
  /* 2: WaitForSingleObject, then the OVERLAPPED read directly */
  o2.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  pending_or_exit(WSARecv(sv, &b2, 1, NULL, &flags, &o2, NULL) == SOCKET_ERROR, 12);
  send(cl, "event-two", 9, 0);
  WaitForSingleObject(o2.hEvent, 5000);
  /* 3 and 4: one receive each way, both waited for with WaitForMultipleObjects */
  o3.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  o4.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  pending_or_exit(WSARecv(sv, &b3, 1, NULL, &flags, &o3, NULL) == SOCKET_ERROR, 13);
  pending_or_exit(WSARecv(cl, &b4, 1, NULL, &flags, &o4, NULL) == SOCKET_ERROR, 14);
  send(cl, "three", 5, 0);
  send(sv, "four", 4, 0);
  HANDLE both[2] = {o3.hEvent, o4.hEvent};
  WaitForMultipleObjects(2, both, TRUE, 5000);
  /* 5: ConnectEx with data, WaitForSingleObjectEx */
  GUID connect_id = WSAID_CONNECTEX, accept_id = WSAID_ACCEPTEX;
  SOCKET cx = bound_tcp(NULL, 0);
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(cx, connect_id);
  struct sockaddr_in to = loopback(port);
  o5.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  DWORD n = 0;
  pending_or_exit(!connect_ex(cx, (struct sockaddr*)&to, sizeof to, "connect-data", 12, &n, &o5), 15);
  WaitForSingleObjectEx(o5.hEvent, 5000, FALSE);
  SOCKET sx = accept(listener, NULL, NULL);
  /* 6: AcceptEx with its first data, WaitForMultipleObjectsEx */
  LPFN_ACCEPTEX accept_ex = (LPFN_ACCEPTEX)extension(listener, accept_id);
  SOCKET acc = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  char abuf[10 + 2 * (sizeof(struct sockaddr_in6) + 16)];
  o6.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  pending_or_exit(!accept_ex(listener, acc, abuf, 10, sizeof(struct sockaddr_in6) + 16,
                             sizeof(struct sockaddr_in6) + 16, &n, &o6), 16);
  SOCKET c6 = connect_to(port);
  send(c6, "accept-10b", 10, 0);
  WaitForMultipleObjectsEx(1, &o6.hEvent, FALSE, 5000, FALSE);
  /* 7: no event: the program looks at the OVERLAPPED until done, then uses the socket */
  pending_or_exit(WSARecv(sv, &b7, 1, NULL, &flags, &o7, NULL) == SOCKET_ERROR, 17);
  send(cl, "polled", 6, 0);
  for (int i = 0; i < 500 && !HasOverlappedIoCompleted(&o7); ++i) Sleep(10);
  int soerr = 0, soerr_len = sizeof soerr;
  getsockopt(sv, SOL_SOCKET, SO_ERROR, (char*)&soerr, &soerr_len);
  printf("evented one=%lu:%.*s two=%d:%.*s three=%d:%.*s four=%d:%.*s connect=%d accept=%d:%.*s "
         "polled=%d:%.*s\n",
         n1, (int)n1, in1, (int)o2.InternalHigh, (int)o2.InternalHigh, in2, (int)o3.InternalHigh,
         (int)o3.InternalHigh, in3, (int)o4.InternalHigh, (int)o4.InternalHigh, in4,
         (int)o5.Internal, (int)o6.InternalHigh, (int)o6.InternalHigh, abuf, (int)o7.InternalHigh,
         (int)o7.InternalHigh, in7);
  closesocket(c6), closesocket(acc), closesocket(sx), closesocket(cx);
  closesocket(cl), closesocket(sv), closesocket(listener);
  return 0;
}

/* ConnectEx to a port where nothing listens: the failure comes through the completion port. */
static int iocpfail(void) {
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET cx = bound_tcp(port, 7);
  GUID connect_id = WSAID_CONNECTEX;
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(cx, connect_id);
  struct sockaddr_in a = loopback(closed_port());
  OVERLAPPED ov = {0};
  DWORD n = 0;
  pending_or_exit(!connect_ex(cx, (struct sockaddr*)&a, sizeof a, NULL, 0, &n, &ov), 21);
  OVERLAPPED_ENTRY e[4];
  ULONG removed = 0;
  if (!GetQueuedCompletionStatusEx(port, e, 4, &removed, 10000, FALSE) || removed != 1) return 22;
  DWORD bytes = 0, flags = 0;
  WSAGetOverlappedResult(cx, &ov, &bytes, FALSE, &flags);
  printf("iocpfail status=%#lx wsa=%d\n", (unsigned long)e[0].Internal, WSAGetLastError());
  closesocket(cx);
  CloseHandle(port);
  return 0;
}

/* GetAddrInfoExW started asynchronously, of numeric hosts (no DNS server is asked). */
typedef INT(WSAAPI* lookup_result_fn)(LPOVERLAPPED);
static volatile LONG lookup_err = -1;
static void CALLBACK on_lookup(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov) {
  (void)bytes, (void)ov;
  InterlockedExchange(&lookup_err, (LONG)err);
}

static int asynclookup(void) {
  lookup_result_fn result_of = (lookup_result_fn)(void*)GetProcAddress(
      GetModuleHandleA("ws2_32.dll"), "GetAddrInfoExOverlappedResult");
  if (!result_of) return 31;
  ADDRINFOEXW hints = {0}, *r1 = NULL, *r2 = NULL, *r3 = NULL;
  hints.ai_family = AF_INET;
  hints.ai_socktype = SOCK_STREAM;
  HANDLE cancel = NULL;
  /* 1: an event, waited for; then GetAddrInfoExOverlappedResult (not a second result) */
  OVERLAPPED o1 = {0}, o2 = {0}, o3 = {0};
  o1.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  int a = GetAddrInfoExW(L"127.0.0.1", L"80", NS_ALL, NULL, &hints, &r1, NULL, &o1, NULL, &cancel);
  if (a == WSA_IO_PENDING) WaitForSingleObject(o1.hEvent, 10000);
  int a_end = result_of(&o1);
  /* 2: a completion routine */
  int b = GetAddrInfoExW(L"127.0.0.2", L"81", NS_ALL, NULL, &hints, &r2, NULL, &o2, on_lookup, &cancel);
  for (int i = 0; i < 200 && lookup_err < 0; ++i) Sleep(10);
  /* 3: no event, no routine: GetAddrInfoExOverlappedResult asked until it is done; fails */
  hints.ai_flags = AI_NUMERICHOST;
  int c = GetAddrInfoExW(L"not-numeric.invalid", L"80", NS_ALL, NULL, &hints, &r3, NULL, &o3, NULL,
                         &cancel);
  int c_end = WSAEINPROGRESS;
  for (int i = 0; i < 1000 && (c_end = result_of(&o3)) == WSAEINPROGRESS; ++i) Sleep(10);
  printf("asynclookup %d %d %d %ld %d %d\n", a, a_end, b, (long)lookup_err, c, c_end);
  if (r1) FreeAddrInfoExW(r1);
  if (r2) FreeAddrInfoExW(r2);
  return 0;
}

/* Children started with environment blocks of their own, without WSTRACE_SHM. */
static int envudp(void) {
  wchar_t v[8];
  if (GetEnvironmentVariableW(L"WSTRACE_SHM", v, 8)) return 3;
  if (!GetEnvironmentVariableW(L"WNETOPS_ENV", v, 8)) return 4;
  return udp();
}

static int childenv(void) {
  /* The program's environment without WSTRACE_SHM, plus WNETOPS_ENV=custom, in both widths. */
  static wchar_t wide[32768];
  static char narrow[32768];
  size_t w = 0, a = 0;
  wchar_t* all = GetEnvironmentStringsW();
  for (wchar_t* e = all; *e; e += wcslen(e) + 1) {
    if (!_wcsnicmp(e, L"WSTRACE_SHM=", 12)) continue;
    size_t len = wcslen(e) + 1;
    if (w + len + 64 > 32768) break;
    wmemcpy(wide + w, e, len);
    w += len;
    a += (size_t)WideCharToMultiByte(CP_ACP, 0, e, -1, narrow + a, (int)(sizeof narrow - a - 64),
                                     NULL, NULL);
  }
  FreeEnvironmentStringsW(all);
  wmemcpy(wide + w, L"WNETOPS_ENV=custom\0", 20);
  memcpy(narrow + a, "WNETOPS_ENV=custom\0", 20);
  char self[MAX_PATH], cmd[MAX_PATH + 16];
  GetModuleFileNameA(NULL, self, MAX_PATH);
  snprintf(cmd, sizeof cmd, "\"%s\" envudp", self);
  STARTUPINFOA si = {sizeof si};
  PROCESS_INFORMATION pa, pw;
  if (!CreateProcessA(self, cmd, NULL, NULL, FALSE, 0, narrow, NULL, &si, &pa)) return 1;
  WaitForSingleObject(pa.hProcess, INFINITE);
  wchar_t wself[MAX_PATH], wcmd[MAX_PATH + 16];
  GetModuleFileNameW(NULL, wself, MAX_PATH);
  swprintf(wcmd, MAX_PATH + 16, L"\"%ls\" envudp", wself);
  STARTUPINFOW siw = {sizeof siw};
  if (!CreateProcessW(wself, wcmd, NULL, NULL, FALSE, CREATE_UNICODE_ENVIRONMENT, wide, NULL, &siw,
                      &pw))
    return 2;
  WaitForSingleObject(pw.hProcess, INFINITE);
  DWORD ca = 1, cw = 1;
  GetExitCodeProcess(pa.hProcess, &ca);
  GetExitCodeProcess(pw.hProcess, &cw);
  printf("childenv A pid=%lu exit=%lu W pid=%lu exit=%lu\n", pa.dwProcessId, ca, pw.dwProcessId, cw);
  return (int)(ca | cw);
}

/* Names this thread, and another thread through its handle. */
typedef HRESULT(WINAPI* set_description_fn)(HANDLE, PCWSTR);
static DWORD WINAPI idle(LPVOID ev) {
  WaitForSingleObject((HANDLE)ev, 10000);
  return 0;
}

static int names(void) {
  set_description_fn set_description = (set_description_fn)(void*)GetProcAddress(
      GetModuleHandleA("kernel32.dll"), "SetThreadDescription");
  if (!set_description) return 41;
  HANDLE go = CreateEventW(NULL, TRUE, FALSE, NULL);
  DWORD tid = 0;
  HANDLE t = CreateThread(NULL, 0, idle, go, 0, &tid);
  HRESULT a = set_description(GetCurrentThread(), L"wnetops-main");
  HRESULT b = set_description(t, L"worker-\u00e9");
  SetEvent(go);
  WaitForSingleObject(t, INFINITE);
  printf("names main=%lu worker=%lu %ld %ld\n", GetCurrentThreadId(), tid, (long)a, (long)b);
  return 0;
}

/* The last error around overlapped calls, extension functions, completions, waits, lookups. */
static volatile LONG routine_ran = 0, routine_saw = -1;
static void CALLBACK note_routine(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov, DWORD flags) {
  (void)err, (void)bytes, (void)ov, (void)flags;
  routine_saw = WSAGetLastError();
  routine_ran = 1;
}
static void CALLBACK note_lookup(DWORD err, DWORD bytes, LPWSAOVERLAPPED ov) {
  (void)err, (void)bytes, (void)ov;
  routine_ran = 1;
}

static void lasterror_overlapped(void) {
  SOCKET bad = (SOCKET)0x7777;
  listener = listen_loopback();
  unsigned short lport = port_of(listener);
  SOCKET cl = connect_to(lport), sv = accept(listener, NULL, NULL);
  char in[16], in2[16];
  WSABUF rb = {sizeof in, in}, rb2 = {sizeof in2, in2}, sb = {3, "abc"};
  DWORD flags = 0, n = 0;
  WSAOVERLAPPED o1 = {0}, o2 = {0}, o3 = {0}, o4 = {0};
  o1.hEvent = WSACreateEvent();
  o2.hEvent = WSACreateEvent();
  o3.hEvent = WSACreateEvent();
  /* A receive that stays pending for a while: the waits have an operation to look at. */
  AFTER(WSARecv(cl, &rb2, 1, NULL, &flags, &o3, NULL));
  AFTER(WSARecv(sv, &rb, 1, NULL, &flags, &o1, NULL));
  AFTER(WSAGetOverlappedResult(sv, &o1, &n, FALSE, &flags));
  AFTER(GetOverlappedResult((HANDLE)sv, &o1, &n, FALSE));
  AFTER(send(cl, "abc", 3, 0));
  AFTER(WaitForSingleObject(o1.hEvent, 5000));
  AFTER(GetOverlappedResult((HANDLE)sv, &o1, &n, FALSE));
  AFTER(WSAGetOverlappedResult(sv, &o1, &n, FALSE, &flags));
  AFTER(WSASend(sv, &sb, 1, NULL, 0, &o2, NULL));
  AFTER(WaitForSingleObjectEx(o2.hEvent, 5000, FALSE));
  AFTER(WaitForMultipleObjects(1, &o3.hEvent, TRUE, 5000));
  AFTER(WSARecv(cl, &rb2, 1, NULL, &flags, &o3, NULL));
  AFTER(WaitForMultipleObjectsEx(1, &o2.hEvent, FALSE, 0, FALSE));
  AFTER(WSAWaitForMultipleEvents(1, &o2.hEvent, FALSE, 0, FALSE));
  AFTER(WaitForSingleObject(o3.hEvent, 0));
  AFTER(getsockopt(cl, SOL_SOCKET, SO_RCVBUF, in, &(int){4}));
  AFTER(WSARecv(bad, &rb, 1, NULL, &flags, &o4, NULL));
  AFTER(WSASend(bad, &sb, 1, NULL, 0, &o4, NULL));
  AFTER(WSARecv(sv, &rb, 1, NULL, &flags, &o4, note_routine));
  AFTER(send(cl, "xyz", 3, 0));
  for (int i = 0; i < 100 && !routine_ran; ++i) SleepEx(50, TRUE);
  AFTER(routine_saw);
  AFTER(send(sv, "end", 3, 0));
  AFTER(WaitForSingleObject(o3.hEvent, 5000));

  /* The extension functions, on a completion port. */
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  AFTER(CreateIoCompletionPort((HANDLE)listener, port, 1, 0) != NULL);
  GUID accept_id = WSAID_ACCEPTEX, connect_id = WSAID_CONNECTEX, disconnect_id = WSAID_DISCONNECTEX,
       transmit_id = WSAID_TRANSMITFILE, recvmsg_id = WSAID_WSARECVMSG, sendmsg_id = WSAID_WSASENDMSG;
  LPFN_ACCEPTEX accept_ex = (LPFN_ACCEPTEX)extension(listener, accept_id);
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(listener, connect_id);
  LPFN_DISCONNECTEX disconnect_ex = (LPFN_DISCONNECTEX)extension(listener, disconnect_id);
  LPFN_TRANSMITFILE transmit_file = (LPFN_TRANSMITFILE)extension(listener, transmit_id);
  LPFN_WSARECVMSG recv_msg = (LPFN_WSARECVMSG)extension(listener, recvmsg_id);
  LPFN_WSASENDMSG send_msg = (LPFN_WSASENDMSG)extension(listener, sendmsg_id);
  const DWORD alen = sizeof(struct sockaddr_in6) + 16;
  char abuf[2 * (sizeof(struct sockaddr_in6) + 16)];
  SOCKET acc = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  OVERLAPPED oa = {0}, oc = {0}, od = {0}, of = {0}, og = {0};
  AFTER(accept_ex(listener, acc, abuf, 0, alen, alen, &n, &oa));
  SOCKET c2 = bound_tcp(port, 2);
  struct sockaddr_in to = loopback(lport);
  AFTER(connect_ex(c2, (struct sockaddr*)&to, sizeof to, NULL, 0, &n, &oc));
  DWORD bytes;
  ULONG_PTR key;
  LPOVERLAPPED got;
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 5000));
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 5000));
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 0));
  AFTER(connect_ex(bad, (struct sockaddr*)&to, sizeof to, NULL, 0, &n, &oc));
  AFTER(accept_ex(bad, acc, abuf, 0, alen, alen, &n, &oa));
  AFTER(disconnect_ex(bad, &od, 0, 0));
  AFTER(transmit_file(bad, NULL, 0, 0, &od, NULL, 0));
  /* TransmitFile of the start of this program's file, then DisconnectEx, each through the port. */
  setsockopt(acc, SOL_SOCKET, SO_UPDATE_ACCEPT_CONTEXT, (char*)&listener, sizeof listener);
  setsockopt(c2, SOL_SOCKET, SO_UPDATE_CONNECT_CONTEXT, NULL, 0);
  wchar_t self_path[MAX_PATH];
  GetModuleFileNameW(NULL, self_path, MAX_PATH);
  HANDLE file = CreateFileW(self_path, GENERIC_READ, FILE_SHARE_READ, NULL, OPEN_EXISTING, 0, NULL);
  OVERLAPPED ot = {0};
  AFTER(transmit_file(c2, file, 64, 0, &ot, NULL, 0) || WSAGetLastError() == WSA_IO_PENDING);
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 5000));
  AFTER(recv(acc, in, sizeof in, MSG_WAITALL));
  CloseHandle(file);
  OVERLAPPED ox = {0};
  AFTER(disconnect_ex(c2, &ox, 0, 0) || WSAGetLastError() == WSA_IO_PENDING);
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 5000));
  /* Two connects refused: one failure taken with GetQueuedCompletionStatus, one with …Ex. */
  struct sockaddr_in closed = loopback(closed_port());
  SOCKET r1 = bound_tcp(port, 3), r2 = bound_tcp(port, 4);
  AFTER(connect_ex(r1, (struct sockaddr*)&closed, sizeof closed, NULL, 0, &n, &of));
  AFTER(GetQueuedCompletionStatus(port, &bytes, &key, &got, 5000));
  AFTER(connect_ex(r2, (struct sockaddr*)&closed, sizeof closed, NULL, 0, &n, &og));
  OVERLAPPED_ENTRY entries[4];
  ULONG removed = 0;
  AFTER(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 5000, FALSE));
  AFTER(GetQueuedCompletionStatusEx(port, entries, 4, &removed, 0, FALSE));
  AFTER(GetOverlappedResult((HANDLE)r2, &og, &n, FALSE));
  AFTER(WSAGetOverlappedResult(r2, &og, &n, FALSE, &flags));
  /* WSASendMsg and WSARecvMsg on a UDP socket, and on a bad one. */
  SOCKET u = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  struct sockaddr_in self = loopback(0);
  bind(u, (struct sockaddr*)&self, sizeof self);
  self.sin_port = htons(port_of(u));
  WSABUF mb = {3, "msg"}, mr = {sizeof in, in};
  WSAMSG sm = {(struct sockaddr*)&self, sizeof self, &mb, 1, {0, NULL}, 0};
  struct sockaddr_in from;
  WSAMSG rm = {(struct sockaddr*)&from, sizeof from, &mr, 1, {0, NULL}, 0};
  AFTER(send_msg(u, &sm, 0, &n, NULL, NULL));
  AFTER(recv_msg(u, &rm, &n, NULL, NULL));
  AFTER(send_msg(bad, &sm, 0, &n, NULL, NULL));
  AFTER(recv_msg(bad, &rm, &n, NULL, NULL));

  /* GetAddrInfoExW: at once, and started asynchronously (numeric hosts only). */
  lookup_result_fn result_of = (lookup_result_fn)(void*)GetProcAddress(
      GetModuleHandleA("ws2_32.dll"), "GetAddrInfoExOverlappedResult");
  ADDRINFOEXW hx = {0}, *rx = NULL;
  hx.ai_family = AF_INET;
  HANDLE cancel = NULL;
  AFTER(GetAddrInfoExW(L"127.0.0.1", L"80", NS_ALL, NULL, &hx, &rx, NULL, NULL, NULL, NULL));
  OVERLAPPED ol = {0}, ol2 = {0};
  ol.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  AFTER(GetAddrInfoExW(L"127.0.0.1", L"80", NS_ALL, NULL, &hx, &rx, NULL, &ol, NULL, &cancel));
  AFTER(WaitForSingleObject(ol.hEvent, 5000));
  AFTER(result_of(&ol));
  routine_ran = 0;
  AFTER(GetAddrInfoExW(L"127.0.0.1", L"80", NS_ALL, NULL, &hx, &rx, NULL, &ol2, note_lookup, &cancel));
  for (int i = 0; i < 200 && !routine_ran; ++i) Sleep(10);
  AFTER(routine_ran);
  hx.ai_flags = AI_NUMERICHOST;
  AFTER(GetAddrInfoExW(L"not-numeric.invalid", L"80", NS_ALL, NULL, &hx, &rx, NULL, NULL, NULL, NULL));

  /* Thread names. */
  set_description_fn set_description = (set_description_fn)(void*)GetProcAddress(
      GetModuleHandleA("kernel32.dll"), "SetThreadDescription");
  if (set_description) AFTER(set_description(GetCurrentThread(), L"lasterror"));
  closesocket(u), closesocket(r1), closesocket(r2), closesocket(c2), closesocket(acc);
  closesocket(cl), closesocket(sv), closesocket(listener);
  CloseHandle(port);
}

/* DnsQuery_A, DnsQuery_W and getaddrinfo of NAME (the test runs its own DNS server). */
static int dnsquery(const char* name) {
  PDNS_RECORDA rec = NULL;
  DNS_STATUS a = DnsQuery_A(name, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, &rec, NULL);
  if (rec) DnsRecordListFree(rec, DnsFreeRecordList);
  wchar_t wname[256];
  MultiByteToWideChar(CP_ACP, 0, name, -1, wname, 256);
  PDNS_RECORDW wrec = NULL;
  DNS_STATUS w = DnsQuery_W(wname, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, (PDNS_RECORD*)&wrec, NULL);
  if (wrec) DnsRecordListFree((PDNS_RECORD)wrec, DnsFreeRecordList);
  struct addrinfo hints = {0}, *res = NULL;
  hints.ai_family = AF_INET;
  int g = getaddrinfo(name, "80", &hints, &res);
  if (g == 0) freeaddrinfo(res);
  /* GetAddrInfoExW asynchronously, its end waited for on the OVERLAPPED's event. */
  ADDRINFOEXW hx = {0}, *rx = NULL;
  hx.ai_family = AF_INET;
  OVERLAPPED ov = {0};
  ov.hEvent = CreateEventW(NULL, TRUE, FALSE, NULL);
  HANDLE cancel = NULL;
  int x = GetAddrInfoExW(wname, L"443", NS_ALL, NULL, &hx, &rx, NULL, &ov, NULL, &cancel);
  if (x == WSA_IO_PENDING && WaitForSingleObject(ov.hEvent, 10000) == WAIT_OBJECT_0) x = (int)ov.Internal;
  if (rx) FreeAddrInfoExW(rx);
  printf("dnsquery %s a=%ld w=%ld gai=%d gaix=%d\n", name, (long)a, (long)w, g, x);
  return 0;
}

/* The last error after DnsQuery_A/W/UTF8 of NAME that is found, and of one that is not. */
static int lasterror_dns(const char* name) {
  wchar_t wname[256];
  MultiByteToWideChar(CP_ACP, 0, name, -1, wname, 256);
  PDNS_RECORDA rec = NULL;
  AFTER(DnsQuery_A(name, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, &rec, NULL));
  if (rec) DnsRecordListFree(rec, DnsFreeRecordList);
  rec = NULL;
  AFTER(DnsQuery_W(wname, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, (PDNS_RECORD*)&rec, NULL));
  if (rec) DnsRecordListFree(rec, DnsFreeRecordList);
  rec = NULL;
  AFTER(DnsQuery_UTF8(name, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, &rec, NULL));
  if (rec) DnsRecordListFree(rec, DnsFreeRecordList);
  rec = NULL;
  AFTER(DnsQuery_A("missing.test", DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, &rec, NULL));
  AFTER(DnsQuery_W(L"missing.test", DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, (PDNS_RECORD*)&rec, NULL));
  AFTER(DnsQuery_A(NULL, DNS_TYPE_A, DNS_QUERY_STANDARD, NULL, &rec, NULL));
  return 0;
}

/* A parent that starts itself as a child doing the UDP exchange. */
static int child(void) {
  wchar_t self[MAX_PATH];
  GetModuleFileNameW(NULL, self, MAX_PATH);
  wchar_t cmd[MAX_PATH + 16];
  swprintf(cmd, MAX_PATH + 16, L"\"%ls\" udp", self);
  STARTUPINFOW si = {sizeof si};
  PROCESS_INFORMATION pi;
  if (!CreateProcessW(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 1;
  WaitForSingleObject(pi.hProcess, INFINITE);
  DWORD code = 1;
  GetExitCodeProcess(pi.hProcess, &code);
  printf("child pid=%lu exit=%lu\n", pi.dwProcessId, code);
  return (int)code;
}

/* Says its pid, waits for a line on stdin (the test attaches meanwhile), then talks TCP. */
static int waitstdin(void) {
  printf("pid=%lu\n", GetCurrentProcessId());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  return tcp();
}

/* Pointers fetched before wstrace attaches, used after it has. */
typedef int(WSAAPI* send_fn)(SOCKET, const char*, int, int);
typedef int(WSAAPI* recv_fn)(SOCKET, char*, int, int);
typedef BOOL(WINAPI* gqcsex_fn)(HANDLE, LPOVERLAPPED_ENTRY, ULONG, PULONG, DWORD, BOOL);
static int prefetch(void) {
  listener = listen_loopback();
  SOCKET c = connect_to(port_of(listener));
  SOCKET a = accept(listener, NULL, NULL);
  HMODULE ws2 = GetModuleHandleA("ws2_32.dll");
  send_fn send_p = (send_fn)(void*)GetProcAddress(ws2, "send");
  recv_fn recv_p = (recv_fn)(void*)GetProcAddress(ws2, "recv");
  gqcsex_fn gqcsex_p = (gqcsex_fn)(void*)GetProcAddress(GetModuleHandleA("kernel32.dll"),
                                                        "GetQueuedCompletionStatusEx");
  SOCKET probe = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  GUID connect_id = WSAID_CONNECTEX;
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(probe, connect_id);
  closesocket(probe);
  if (c == INVALID_SOCKET || a == INVALID_SOCKET || !send_p || !recv_p || !gqcsex_p || !connect_ex)
    return 1;
  printf("pid=%lu\n", GetCurrentProcessId());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  /* (The port is made after the attach: the agent cannot tell which sockets a port made before
   * it came has, and would record this completion as noticed on the OVERLAPPED.) */
  HANDLE port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
  SOCKET cx = bound_tcp(port, 7);

  char buf[64];
  send_p(c, "prefetched-send", 15, 0);
  int got = recv_p(a, buf, sizeof buf, 0);
  struct sockaddr_in to = loopback(port_of(listener));
  OVERLAPPED ov = {0};
  DWORD n = 0;
  if (!connect_ex(cx, (struct sockaddr*)&to, sizeof to, "prefetched-connectex", 20, &n, &ov) &&
      WSAGetLastError() != ERROR_IO_PENDING)
    return 2;
  OVERLAPPED_ENTRY done;
  ULONG removed = 0;
  if (!gqcsex_p(port, &done, 1, &removed, 10000, FALSE) || removed != 1 || done.lpOverlapped != &ov)
    return 3;
  SOCKET a2 = accept(listener, NULL, NULL);
  int got2 = recv(a2, buf, sizeof buf, 0);
  WSASendDisconnect(c, NULL);
  int end = recv(a, buf, sizeof buf, 0);
  printf("prefetch port=%u client=%u got=%d connectex=%lu got2=%d end=%d\n", port_of(listener),
         port_of(c), got, done.dwNumberOfBytesTransferred, got2, end);
  closesocket(a2);
  closesocket(cx);
  closesocket(a);
  closesocket(c);
  closesocket(listener);
  CloseHandle(port);
  return 0;
}

/* Threads busy in a hooked function while the agent writes its hooks. */
static volatile LONG busy_stop = 0;
static DWORD WINAPI busy_loop(LPVOID arg) {
  SOCKET s = (SOCKET)arg;
  LONG n = 0;
  u_long avail;
  while (!busy_stop) {
    if (ioctlsocket(s, FIONREAD, &avail) != 0) return 1;
    ++n;
  }
  return n > 0 ? 0 : 2;
}
static int busy(void) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  HANDLE t[4];
  for (int i = 0; i < 4; ++i) t[i] = CreateThread(NULL, 0, busy_loop, (LPVOID)s, 0, NULL);
  printf("pid=%lu\n", GetCurrentProcessId());
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1;
  InterlockedExchange(&busy_stop, 1);
  DWORD ok = 0;
  for (int i = 0; i < 4; ++i) {
    DWORD code = 9;
    WaitForSingleObject(t[i], INFINITE);
    GetExitCodeThread(t[i], &code);
    ok += code == 0;
  }
  closesocket(s);
  printf("busy threads=%lu\n", ok);
  return 0;
}

/* The agent takes its body hooks out when wstrace detaches (it sets this event). */
static int unhook(void) {
  listener = listen_loopback();
  HANDLE t = CreateThread(NULL, 0, echo_server, NULL, 0, NULL);
  SOCKET s = connect_to(port_of(listener));
  char buf[64];
  send(s, "before", 6, 0);
  recv(s, buf, sizeof buf, 0);
  char name[64];
  snprintf(name, sizeof name, "Local\\wstrace-detach-%lu", GetCurrentProcessId());
  HANDLE ev = NULL;  /* (the agent makes it in a thread of its own, maybe not yet) */
  for (int tries = 0; !ev && tries < 1000; ++tries)
    if (!(ev = OpenEventA(EVENT_MODIFY_STATE, FALSE, name))) Sleep(10);
  if (!ev || !SetEvent(ev)) return 1;
  CloseHandle(ev);
  const unsigned char* first =
      (const unsigned char*)(void*)GetProcAddress(GetModuleHandleA("ws2_32.dll"), "send");
  int waited = 0;
  while (*first == 0xE9 && waited < 10000) Sleep(10), waited += 10;
  send(s, "after", 5, 0);
  int n = recv(s, buf, sizeof buf, 0);
  shutdown(s, SD_SEND);
  closesocket(s);
  WaitForSingleObject(t, INFINITE);
  closesocket(listener);
  printf("unhook first=%02x echoed=%d\n", *first, n);
  return 0;
}

int main(int argc, char** argv) {
  WSADATA d;
  if (WSAStartup(MAKEWORD(2, 2), &d) != 0) return 1;
  int r = 2;
  if (argc > 1 && !strcmp(argv[1], "tcp")) r = tcp();
  else if (argc > 1 && !strcmp(argv[1], "udp")) r = udp();
  else if (argc > 1 && !strcmp(argv[1], "errors")) r = errors();
  else if (argc > 2 && !strcmp(argv[1], "reset")) r = reset((unsigned short)atoi(argv[2]));
  else if (argc > 1 && !strcmp(argv[1], "dynamic")) r = dynamic();
  else if (argc > 1 && !strcmp(argv[1], "lasterror")) r = lasterror();
  else if (argc > 1 && !strcmp(argv[1], "child")) r = child();
  else if (argc > 1 && !strcmp(argv[1], "iocp")) r = iocp();
  else if (argc > 1 && !strcmp(argv[1], "apc")) r = apc();
  else if (argc > 2 && !strcmp(argv[1], "dnsquery")) r = dnsquery(argv[2]);
  else if (argc > 1 && !strcmp(argv[1], "lookups")) r = lookups();
  else if (argc > 1 && !strcmp(argv[1], "threads")) r = threads();
  else if (argc > 1 && !strcmp(argv[1], "waitstdin")) r = waitstdin();
  else if (argc > 1 && !strcmp(argv[1], "prefetch")) r = prefetch();
  else if (argc > 1 && !strcmp(argv[1], "unhook")) r = unhook();
  else if (argc > 1 && !strcmp(argv[1], "busy")) r = busy();
  else if (argc > 2 && !strcmp(argv[1], "lasterror-dns")) r = lasterror_dns(argv[2]);
  else if (argc > 1 && !strcmp(argv[1], "evented")) r = evented();
  else if (argc > 1 && !strcmp(argv[1], "iocpfail")) r = iocpfail();
  else if (argc > 1 && !strcmp(argv[1], "asynclookup")) r = asynclookup();
  else if (argc > 1 && !strcmp(argv[1], "childenv")) r = childenv();
  else if (argc > 1 && !strcmp(argv[1], "envudp")) r = envudp();
  else if (argc > 1 && !strcmp(argv[1], "names")) r = names();
  else if (argc > 1 && !strcmp(argv[1], "tcpinfo")) r = tcpinfo(argc > 2 && !strcmp(argv[2], "udp"));
  WSACleanup();
  return r;
}
