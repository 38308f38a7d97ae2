/* A statically linked HTTP/1.1 client (no dynamic loader: the preload agent cannot enter it,
 * the kernel engine can). Three GETs on one keep-alive connection to 127.0.0.1:PORT, each sent
 * and read with a different family of calls — write/read, writev/readv, sendmsg/recvmsg — then
 * shutdown, the end of the stream read, close. Prints `got N N N` (the body sizes).
 * Usage: static_http PORT PATH PATH PATH */
#define _GNU_SOURCE /* memmem */
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

enum { kRoom = 1 << 16 };
static char g_buf[kRoom];

/* Reads with `how` until one whole response (headers, then Content-Length bytes) is in g_buf:
 * the body's size, -1 on error. */
static long read_response(int fd, int how) {
  size_t have = 0;
  for (;;) {
    char* end = memmem(g_buf, have, "\r\n\r\n", 4);
    if (end) {
      const char* cl = memmem(g_buf, (size_t)(end - g_buf), "Content-Length: ", 16);
      if (!cl) return -1;
      const long body = strtol(cl + 16, NULL, 10);
      const size_t want = (size_t)(end + 4 - g_buf) + (size_t)body;
      if (have >= want) return body;
    }
    if (have == kRoom) return -1;
    ssize_t n;
    if (how == 0) {
      n = read(fd, g_buf + have, kRoom - have);
    } else {
      /* two buffers, so that the calls scatter */
      const size_t room = kRoom - have, first = room > 100 ? 100 : room;
      struct iovec iov[2] = {{g_buf + have, first}, {g_buf + have + first, room - first}};
      if (how == 1) {
        n = readv(fd, iov, 2);
      } else {
        struct msghdr m = {0};
        m.msg_iov = iov;
        m.msg_iovlen = 2;
        n = recvmsg(fd, &m, 0);
      }
    }
    if (n <= 0) return -1;
    have += (size_t)n;
  }
}

static int send_request(int fd, const char* path, int how) {
  char req[256];
  const int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path);
  const size_t half = (size_t)n / 2;
  struct iovec iov[2] = {{req, half}, {req + half, (size_t)n - half}};
  if (how == 0) return write(fd, req, (size_t)n) == n ? 0 : -1;
  if (how == 1) return writev(fd, iov, 2) == n ? 0 : -1;
  struct msghdr m = {0};
  m.msg_iov = iov;
  m.msg_iovlen = 2;
  return sendmsg(fd, &m, 0) == n ? 0 : -1;
}

int main(int argc, char** argv) {
  if (argc != 5) {
    fprintf(stderr, "usage: static_http PORT PATH PATH PATH\n");
    return 2;
  }
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((unsigned short)atoi(argv[1]));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr*)&a, sizeof a) != 0) {
    perror("connect");
    return 1;
  }
  struct sockaddr_in local;
  socklen_t len = sizeof local;
  getsockname(fd, (struct sockaddr*)&local, &len);
  long got[3];
  for (int i = 0; i < 3; ++i) {
    if (send_request(fd, argv[2 + i], i) != 0 || (got[i] = read_response(fd, i)) < 0) {
      fprintf(stderr, "request %d failed\n", i + 1);
      return 1;
    }
  }
  shutdown(fd, SHUT_WR);
  char rest[64];
  while (recv(fd, rest, sizeof rest, 0) > 0) {
  }
  close(fd);
  printf("got %ld %ld %ld\n", got[0], got[1], got[2]);
  return 0;
}
