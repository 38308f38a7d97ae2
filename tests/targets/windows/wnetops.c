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
 *   wnetops lasterror  calls that fail and succeed with the last error set to a sentinel
 *                      first; prints the last error after each call (compared traced/untraced)
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
  closesocket(s);
  WaitForSingleObject(t, INFINITE);
  printf("tcp port=%u first=%d second=%lu\n", port_of(listener), n, got);
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
  SOCKET probe = listen_loopback();
  unsigned short closed = port_of(probe);
  closesocket(probe);
  SOCKET s = connect_to(closed);
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
  SOCKET cl = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in any = {0};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(cl, (struct sockaddr*)&any, sizeof any);
  CreateIoCompletionPort((HANDLE)cl, port, 2, 0);
  LPFN_CONNECTEX connect_ex = (LPFN_CONNECTEX)extension(cl, connect_id);
  struct sockaddr_in to = any;
  to.sin_port = htons(port_of(listener));
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
  printf("dnsquery %s a=%ld w=%ld gai=%d\n", name, (long)a, (long)w, g);
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
  WSACleanup();
  return r;
}
