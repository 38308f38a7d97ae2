/* A DLL the test program loads after it started; it makes Winsock calls of its own. */
#include <winsock2.h>
#include <windows.h>

__declspec(dllexport) int __cdecl wnetdll_send(unsigned short port) {
  SOCKET s = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  if (connect(s, (struct sockaddr*)&a, sizeof a) != 0) return -1;
  int n = send(s, "from-late-dll", 13, 0);
  char buf[32];
  recv(s, buf, sizeof buf, 0);
  closesocket(s);
  return n;
}
