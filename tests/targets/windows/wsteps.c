/* wsteps CONTROL_PORT DATA_PORT DEAD_PORT: a client that works in steps when told (the Windows
 * twin of tests/tools/phased_client.py, for the live view's test under Wine). It connects to
 * 127.0.0.1:CONTROL_PORT and, for each line read there, does one step and answers "done":
 *   fetch    GET /hello.txt from the HTTP server on 127.0.0.1:DATA_PORT, read to its end
 *   refused  a connect to 127.0.0.1:DEAD_PORT, where nothing listens
 *   quit [N] ends the program (status N, default 0) */
#include <winsock2.h>
#include <windows.h>
#include <stdlib.h>
#include <string.h>

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

static int fetch(unsigned short port) {
  SOCKET s = connect_to(port);
  if (s == INVALID_SOCKET) return 0;
  const char* req = "GET /hello.txt HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (send(s, req, (int)strlen(req), 0) != (int)strlen(req)) return 0;
  char buf[512];
  int n;
  while ((n = recv(s, buf, sizeof buf, 0)) > 0) {
  }
  closesocket(s);
  return n == 0;
}

/* The next line from the control connection into `line` (without its newline); 0 at its end. */
static int read_line(SOCKET c, char* line, int size) {
  int used = 0;
  char ch;
  while (recv(c, &ch, 1, 0) == 1) {
    if (ch == '\n') {
      line[used] = 0;
      return 1;
    }
    if (used < size - 1) line[used++] = ch;
  }
  return 0;
}

int main(int argc, char** argv) {
  if (argc != 4) return 2;
  WSADATA d;
  WSAStartup(MAKEWORD(2, 2), &d);
  const unsigned short data = (unsigned short)atoi(argv[2]), dead = (unsigned short)atoi(argv[3]);
  SOCKET control = connect_to((unsigned short)atoi(argv[1]));
  if (control == INVALID_SOCKET) return 1;
  char line[32];
  int status = 0;
  while (read_line(control, line, sizeof line)) {
    int ok = 1;
    if (strcmp(line, "fetch") == 0) ok = fetch(data);
    else if (strcmp(line, "refused") == 0) ok = connect_to(dead) == INVALID_SOCKET;
    else if (strncmp(line, "quit", 4) == 0) {
      status = atoi(line + 4);
      break;
    }
    const char* answer = ok ? "done\n" : "failed\n";
    send(control, answer, (int)strlen(answer), 0);
  }
  closesocket(control);
  WSACleanup();
  return status;
}
