/* wpingpong ROUNDS: a TCP client and server thread on 127.0.0.1 exchange 32-byte messages, one
 * round trip at a time (the Windows twin of tests/programs/pingpong.c, for the benchmark). */
#include <winsock2.h>
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>

static long rounds;
static SOCKET listener;

static void full(SOCKET s, char* buf, int n, int sending) {
  int done = 0;
  while (done < n) {
    int r = sending ? send(s, buf + done, n - done, 0) : recv(s, buf + done, n - done, 0);
    if (r <= 0) exit(1);
    done += r;
  }
}

static DWORD WINAPI server(LPVOID arg) {
  (void)arg;
  SOCKET c = accept(listener, NULL, NULL);
  BOOL one = TRUE;
  setsockopt(c, IPPROTO_TCP, TCP_NODELAY, (const char*)&one, sizeof one);
  char buf[32];
  for (long i = 0; i < rounds; ++i) {
    full(c, buf, 32, 0);
    full(c, buf, 32, 1);
  }
  closesocket(c);
  return 0;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  rounds = atol(argv[1]);
  WSADATA d;
  WSAStartup(MAKEWORD(2, 2), &d);
  listener = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int len = sizeof a;
  bind(listener, (struct sockaddr*)&a, sizeof a);
  listen(listener, 1);
  getsockname(listener, (struct sockaddr*)&a, &len);
  HANDLE t = CreateThread(NULL, 0, server, NULL, 0, NULL);
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return 1;
  BOOL one = TRUE;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, (const char*)&one, sizeof one);
  char buf[32] = "ping";
  for (long i = 0; i < rounds; ++i) {
    full(s, buf, 32, 1);
    full(s, buf, 32, 0);
  }
  closesocket(s);
  WaitForSingleObject(t, INFINITE);
  closesocket(listener);
  WSACleanup();
  return 0;
}
