/* stress THREADS CALLS [signals] [fork]: each thread sends CALLS messages over its own
 * socketpair and receives them. With "signals", a 1 ms timer's handler sends a byte on a socket
 * of its own while the threads work; with "fork", a child forked while the threads run does
 * CALLS round trips too. Prints the number of socket calls made in total (all processes), which
 * the trace must account for: recorded calls + dropped records == that number. The threads
 * start working together (a barrier), so that they all want a ring at once. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static long calls_per_thread;
static pthread_barrier_t start_line;
static int sigpair[2];
static volatile sig_atomic_t signal_sends;

static void on_tick(int sig) {
  (void)sig;
  send(sigpair[0], "s", 1, MSG_DONTWAIT);  /* async-signal-safe, and hooked */
  signal_sends++;
}

static void round_trips(long n) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) { perror("socketpair"); exit(1); }
  char buf[16] = "0123456789abcdef";
  for (long i = 0; i < n; ++i) {
    if (send(sv[0], buf, sizeof buf, 0) != (ssize_t)sizeof buf) { perror("send"); exit(1); }
    if (recv(sv[1], buf, sizeof buf, MSG_WAITALL) != (ssize_t)sizeof buf) { perror("recv"); exit(1); }
  }
  close(sv[0]);
  close(sv[1]);
}

static void* worker(void* arg) {
  (void)arg;
  pthread_barrier_wait(&start_line);
  round_trips(calls_per_thread);
  return NULL;
}

int main(int argc, char** argv) {
  if (argc < 3) { fprintf(stderr, "usage: stress THREADS CALLS [signals] [fork]\n"); return 2; }
  int threads = atoi(argv[1]);
  calls_per_thread = atol(argv[2]);
  int signals = 0, do_fork = 0;
  for (int i = 3; i < argc; ++i) {
    signals |= strcmp(argv[i], "signals") == 0;
    do_fork |= strcmp(argv[i], "fork") == 0;
  }
  if (threads < 1 || threads > 64) return 2;
  long made = threads * (1 + 2 * calls_per_thread + 2);
  if (signals) {
    if (socketpair(AF_UNIX, SOCK_STREAM, 0, sigpair) != 0) return 1;
    made += 1;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every_ms, NULL);
  }
  pthread_t t[64];
  pthread_barrier_init(&start_line, NULL, (unsigned)threads);
  for (int i = 0; i < threads; ++i) pthread_create(&t[i], NULL, worker, NULL);
  pid_t child = -1;
  if (do_fork) {
    child = fork();  /* while the threads are busy inside hooked calls */
    if (child == 0) {
      round_trips(calls_per_thread);
      _exit(0);
    }
    made += 1 + 2 * calls_per_thread + 2;
  }
  for (int i = 0; i < threads; ++i) pthread_join(t[i], NULL);
  if (do_fork) {
    int status;
    if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status)) return 1;
  }
  if (signals) {
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    signal(SIGALRM, SIG_IGN);  /* a tick still pending now is discarded, not counted late */
    made += signal_sends;
  }
  printf("%ld\n", made);
  return 0;
}
