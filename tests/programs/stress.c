/* stress THREADS CALLS: each thread sends CALLS messages over its own socketpair and receives
 * them. Prints the number of socket calls made in total, which the trace must account for:
 * recorded calls + dropped records == that number. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static long calls_per_thread;

static void* worker(void* arg) {
  (void)arg;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); exit(1); }
  char buf[16] = "0123456789abcdef";
  for (long i = 0; i < calls_per_thread; ++i) {
    if (send(sv[0], buf, sizeof buf, 0) != (ssize_t)sizeof buf) { perror("send"); exit(1); }
    if (recv(sv[1], buf, sizeof buf, MSG_WAITALL) != (ssize_t)sizeof buf) { perror("recv"); exit(1); }
  }
  close(sv[0]);
  close(sv[1]);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc != 3) { fprintf(stderr, "usage: stress THREADS CALLS\n"); return 2; }
  int threads = atoi(argv[1]);
  calls_per_thread = atol(argv[2]);
  pthread_t t[64];
  if (threads < 1 || threads > 64) return 2;
  for (int i = 0; i < threads; ++i) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  /* per thread: socketpair, CALLS sends, CALLS recvs, two closes */
  printf("%ld\n", threads * (1 + 2 * calls_per_thread + 2));
  return 0;
}
