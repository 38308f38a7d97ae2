/* waiter CONTROL_FIFO REPORT_FILE N: does a first socket exchange, says "ready" on stdout, waits
 * for a line on CONTROL_FIFO, then does N more exchanges and writes "done N" to REPORT_FILE.
 * The test kills the collector while the program waits: the program must finish all the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int exchange(int a, int b) {
  char msg[8] = "ping", got[8];
  return send(a, msg, sizeof msg, 0) == (ssize_t)sizeof msg &&
         recv(b, got, sizeof got, MSG_WAITALL) == (ssize_t)sizeof got && memcmp(msg, got, 8) == 0;
}

int main(int argc, char** argv) {
  if (argc != 4) { fprintf(stderr, "usage: waiter CONTROL_FIFO REPORT_FILE N\n"); return 2; }
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0 || !exchange(sv[0], sv[1])) return 1;
  printf("ready\n");
  fflush(stdout);
  FILE* control = fopen(argv[1], "r");
  char line[64];
  if (!control || !fgets(line, sizeof line, control)) return 1;
  long n = atol(argv[3]), ok = 0;
  for (long i = 0; i < n; ++i) ok += exchange(sv[0], sv[1]);
  FILE* report = fopen(argv[2], "w");
  if (!report) return 1;
  fprintf(report, "done %ld\n", ok);
  fclose(report);
  return ok == n ? 0 : 1;
}
