/* wbadptr: Winsock calls with pointers Winsock refuses ((void *)16), for
 * tests/integration/win_badptr.sh. Each case runs in a child process of its own (`wbadptr
 * NAME`), which prints
 *
 *   case NAME pid=PID func=FUNC result=R error=E     (E: WSAGetLastError() after the call)
 *
 * and the parent prints `exit NAME CODE` after it, so that a crash ends one case only and
 * shows. A run under `wstrace.exe record` is compared line for line with an untraced run.
 * The cases are those Wine 8 answers with an error: it crashes itself on others (connect, bind,
 * accept, getsockopt, getpeername with a bad length, select, WSAPoll, an overlapped WSARecv with
 * a bad OVERLAPPED, getaddrinfo with bad hints). Loopback only; exit status 0.
 */
#include <winsock2.h>
#include <ws2tcpip.h>
#include <windows.h>
#include <stdio.h>
#include <string.h>

/* volatile: the compiler would see through a constant and refuse to build the calls */
static void* volatile bad_pointer = (void*)16;
#define BAD (bad_pointer)

static SOCKET udp, tcp, lsn;  /* UDP bound to 127.0.0.1; TCP connected to lsn */
static struct sockaddr_in udp_addr;

static void report(const char* name, const char* func, long long r) {
  int e = WSAGetLastError();
  printf("case %s pid=%lu func=%s result=%lld error=%d\n", name, GetCurrentProcessId(), func, r,
         e);
  fflush(stdout);
}

static void setup(void) {
  WSADATA d;
  if (WSAStartup(MAKEWORD(2, 2), &d)) exit(2);
  udp = socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP);
  udp_addr.sin_family = AF_INET;
  udp_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof udp_addr;
  if (bind(udp, (struct sockaddr*)&udp_addr, sizeof udp_addr) ||
      getsockname(udp, (struct sockaddr*)&udp_addr, &len))
    exit(2);
  lsn = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in la = udp_addr;
  la.sin_port = 0;
  len = sizeof la;
  if (bind(lsn, (struct sockaddr*)&la, sizeof la) || listen(lsn, 4) ||
      getsockname(lsn, (struct sockaddr*)&la, &len))
    exit(2);
  tcp = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (connect(tcp, (struct sockaddr*)&la, sizeof la)) exit(2);
}


static char buf[64];
static WSABUF wb = {sizeof buf, buf};
static DWORD n, flags;

static long long c_getsockname(void) {
  int len = sizeof(struct sockaddr_storage);
  return getsockname(udp, BAD, &len);
}
static long long c_setsockopt(void) { return setsockopt(udp, SOL_SOCKET, SO_RCVBUF, BAD, 4); }
static long long c_ioctlsocket(void) { return ioctlsocket(udp, FIONBIO, BAD); }
static long long c_sendto_addr(void) { return sendto(udp, "x", 1, 0, BAD, 16); }
static long long c_WSASend_bufs(void) { return WSASend(tcp, BAD, 1, &n, 0, NULL, NULL); }
static long long c_WSASendTo_addr(void) {
  return WSASendTo(udp, &wb, 1, &n, 0, BAD, 16, NULL, NULL);
}
static long long c_WSASendTo_bufs(void) {
  return WSASendTo(udp, BAD, 1, &n, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr, NULL, NULL);
}
static long long c_WSARecv_flags(void) { return WSARecv(udp, &wb, 1, &n, BAD, NULL, NULL); }
static long long c_WSARecv_bufs(void) { return WSARecv(udp, BAD, 1, &n, &flags, NULL, NULL); }
static long long c_WSARecvFrom_len(void) {
  struct sockaddr_storage ss;
  return WSARecvFrom(udp, &wb, 1, &n, &flags, (struct sockaddr*)&ss, BAD, NULL, NULL);
}
static long long c_recvfrom_len(void) {
  struct sockaddr_storage ss;
  return recvfrom(udp, buf, sizeof buf, 0, (struct sockaddr*)&ss, BAD);
}
static long long c_WSAIoctl(void) {
  return WSAIoctl(udp, FIONBIO, BAD, 4, NULL, 0, &n, NULL, NULL);
}

static const struct {
  const char* name;
  const char* func;
  long long (*fn)(void);
} cases[] = {
#define CASE(name, func) {#name, #func, c_##name}
    CASE(getsockname, getsockname),      CASE(setsockopt, setsockopt),
    CASE(ioctlsocket, ioctlsocket),      CASE(sendto_addr, sendto),
    CASE(WSASend_bufs, WSASend),         CASE(WSASendTo_addr, WSASendTo),
    CASE(WSASendTo_bufs, WSASendTo),     CASE(WSARecv_flags, WSARecv),
    CASE(WSARecv_bufs, WSARecv),         CASE(WSARecvFrom_len, WSARecvFrom),
    CASE(recvfrom_len, recvfrom),        CASE(WSAIoctl, WSAIoctl),
};
#define NCASES (sizeof cases / sizeof cases[0])

/* The child: one case, after a datagram to itself (for the receives). */
static int run_case(const char* name) {
  SetErrorMode(SEM_NOGPFAULTERRORBOX);  /* a crash ends the process without a debugger */
  setup();
  sendto(udp, "dgram", 5, 0, (struct sockaddr*)&udp_addr, sizeof udp_addr);
  for (size_t i = 0; i < NCASES; ++i) {
    if (strcmp(cases[i].name, name)) continue;
    WSASetLastError(0);
    long long r = cases[i].fn();
    report(cases[i].name, cases[i].func, r);
    return 0;
  }
  return 3;
}

int main(int argc, char** argv) {
  if (argc > 1) return run_case(argv[1]);
  char self[MAX_PATH], cmd[MAX_PATH + 64];
  GetModuleFileNameA(NULL, self, MAX_PATH);
  for (size_t i = 0; i < NCASES; ++i) {
    snprintf(cmd, sizeof cmd, "\"%s\" %s", self, cases[i].name);
    STARTUPINFOA si;
    memset(&si, 0, sizeof si);
    si.cb = sizeof si;
    PROCESS_INFORMATION pi;
    if (!CreateProcessA(self, cmd, NULL, NULL, FALSE, 0, NULL, NULL, &si, &pi)) return 1;
    WaitForSingleObject(pi.hProcess, INFINITE);
    DWORD code = 1;
    GetExitCodeProcess(pi.hProcess, &code);
    printf("exit %s %lx\n", cases[i].name, code);
    fflush(stdout);
  }
  return 0;
}
