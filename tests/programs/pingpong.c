/* pingpong ROUNDS [SIZE [RATE]]: a TCP client and server on 127.0.0.1 (two threads of one
 * process) exchange ROUNDS small messages, one round trip at a time. The benchmark times it
 * untraced, under wstrace and under strace. RATE: at most that many socket calls a second
 * (a round is four), the client sleeping whenever it is more than a millisecond ahead. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long rounds;
static size_t size = 32;
static int listener;

static void full(int fd, char* buf, size_t n, int sending) {
  size_t done = 0;
  while (done < n) {
    ssize_t r = sending ? send(fd, buf + done, n - done, 0) : recv(fd, buf + done, n - done, 0);
    if (r <= 0) { perror(sending ? "send" : "recv"); exit(1); }
    done += (size_t)r;
  }
}

static void* server(void* arg) {
  (void)arg;
  int fd = accept(listener, NULL, NULL);
  if (fd < 0) { perror("accept"); exit(1); }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[65536];
  for (long i = 0; i < rounds; ++i) {
    full(fd, buf, size, 0);
    full(fd, buf, size, 1);
  }
  close(fd);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 2) { fprintf(stderr, "usage: pingpong ROUNDS [SIZE [RATE]]\n"); return 2; }
  rounds = atol(argv[1]);
  if (argc > 2) size = (size_t)atol(argv[2]);
  const double rate = argc > 3 ? atof(argv[3]) : 0;
  if (size == 0 || size > 65536) return 2;
  listener = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  if (bind(listener, (struct sockaddr*)&a, sizeof a) || listen(listener, 1) ||
      getsockname(listener, (struct sockaddr*)&a, &len)) { perror("listen"); return 1; }
  pthread_t t;
  pthread_create(&t, NULL, server, NULL);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (connect(fd, (struct sockaddr*)&a, sizeof a)) { perror("connect"); return 1; }
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  char buf[65536];
  memset(buf, 'p', size);
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  const double start_ns = (double)start.tv_sec * 1e9 + (double)start.tv_nsec;
  for (long i = 0; i < rounds; ++i) {
    if (rate > 0) {
      const double due = start_ns + (double)i * 4e9 / rate;
      clock_gettime(CLOCK_MONOTONIC, &now);
      if (due - ((double)now.tv_sec * 1e9 + (double)now.tv_nsec) > 1e6) {
        struct timespec at = {(time_t)(due / 1e9), (long)(due - (double)(time_t)(due / 1e9) * 1e9)};
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL);
      }
    }
    full(fd, buf, size, 1);
    full(fd, buf, size, 0);
  }
  close(fd);
  pthread_join(t, NULL);
  close(listener);
  return 0;
}
