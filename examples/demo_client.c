/* The bundled example that `make demo` records: a small client that talks to a server of its
 * own on loopback. It makes an HTTP/1.1 request, is refused by a port where nothing listens,
 * fails a name lookup and sends a datagram. It never sends anything off this machine: the
 * lookup that fails is a numeric-only lookup of a name, which fails without asking DNS. */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int listener;

static void* http_server(void* arg) {
  (void)arg;
  int fd = accept(listener, NULL, NULL);
  if (fd < 0) return NULL;
  char req[2048];
  ssize_t n = recv(fd, req, sizeof req - 1, 0);
  if (n > 0) {
    const char* body = "hello from the demo server\n";
    char resp[256];
    int len = snprintf(resp, sizeof resp,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
                       "Connection: close\r\n\r\n%s",
                       strlen(body), body);
    send(fd, resp, (size_t)len, 0);
  }
  close(fd);
  return NULL;
}

static unsigned short bound_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  getsockname(fd, (struct sockaddr*)&a, &len);
  return ntohs(a.sin_port);
}

int main(void) {
  struct sockaddr_in any = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  listener = socket(AF_INET, SOCK_STREAM, 0);
  if (bind(listener, (struct sockaddr*)&any, sizeof any) || listen(listener, 4)) return 1;
  char port[16];
  snprintf(port, sizeof port, "%u", bound_port(listener));
  pthread_t server;
  pthread_create(&server, NULL, http_server, NULL);

  /* 1. Look the server up (from /etc/hosts) and fetch a page. */
  struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;
  if (getaddrinfo("localhost", port, &hints, &res) != 0) return 1;
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) return 1;
  freeaddrinfo(res);
  const char* request = "GET /status HTTP/1.1\r\nHost: localhost\r\nUser-Agent: wstrace-demo\r\n\r\n";
  send(fd, request, strlen(request), 0);
  char buf[1024];
  ssize_t got;
  size_t total = 0;
  while ((got = recv(fd, buf, sizeof buf, 0)) > 0) total += (size_t)got;
  close(fd);
  pthread_join(server, NULL);
  printf("demo: fetched %zu bytes over HTTP\n", total);

  /* 2. A port where nothing listens: connection refused, three times. */
  int probe = socket(AF_INET, SOCK_STREAM, 0);
  bind(probe, (struct sockaddr*)&any, sizeof any);
  struct sockaddr_in closed = any;
  closed.sin_port = htons(bound_port(probe));
  close(probe);
  for (int attempt = 0; attempt < 3; ++attempt) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(c, (struct sockaddr*)&closed, sizeof closed) != 0) perror("demo: connect");
    close(c);
  }

  /* 3. A lookup that fails. */
  struct addrinfo numeric = {.ai_flags = AI_NUMERICHOST, .ai_family = AF_UNSPEC};
  int rc = getaddrinfo("api.example.invalid", "443", &numeric, &res);
  printf("demo: lookup of api.example.invalid: %s\n", gai_strerror(rc));

  /* 4. A datagram to ourselves. */
  int u = socket(AF_INET, SOCK_DGRAM, 0);
  bind(u, (struct sockaddr*)&any, sizeof any);
  struct sockaddr_in self = any;
  self.sin_port = htons(bound_port(u));
  sendto(u, "ping", 4, 0, (struct sockaddr*)&self, sizeof self);
  struct sockaddr_in from;
  socklen_t fromlen = sizeof from;
  recvfrom(u, buf, sizeof buf, 0, (struct sockaddr*)&from, &fromlen);
  close(u);
  close(listener);
  return 0;
}
