/* Starts another program in the ways that can lose the agent (tests/integration/capture_lost.sh):
 * with an empty or edited environment, after changing its user, through vfork or posix_spawn.
 *
 *   execs MODE PROGRAM [ARGS...]   prints "execs pid=P" (and "child=C" for a new process) first
 *     plain         execv(PROGRAM)
 *     empty-env     execve(PROGRAM) with an empty environment
 *     no-preload    execve(PROGRAM) with the environment less LD_PRELOAD
 *     execle-empty  execle(PROGRAM) with an empty environment
 *     execvpe-path  execvpe(basename of PROGRAM) found in PATH=its folder, with only HOME=/
 *     spawn-empty   posix_spawn(PROGRAM) with an empty environment, waited for
 *     spawn         posix_spawn(PROGRAM) with this environment, waited for
 *     vfork         vfork, then execv(PROGRAM) in the child, waited for
 *     as-user UID   setresuid(UID) (and its group), then execv(PROGRAM)
 *     fail          execv(PROGRAM), which must fail; then a socket and its close, exit 0
 *   execs net      a UDP socket, a sendto to 127.0.0.1:9, its close
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <netinet/in.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

static void die(const char* what) {
  fprintf(stderr, "execs: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int net(void) {
  int s = socket(AF_INET, SOCK_DGRAM, 0);
  if (s < 0) die("socket");
  struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9)};
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (sendto(s, "lost?", 5, 0, (struct sockaddr*)&to, sizeof to) != 5) die("sendto");
  if (close(s) != 0) die("close");
  printf("net pid=%d\n", (int)getpid());
  return 0;
}

static int wait_for(pid_t pid) {
  printf("execs pid=%d child=%d\n", (int)getpid(), (int)pid);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) die("waitpid");
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* The environment less LD_PRELOAD (at most 255 entries kept). */
static char** without_preload(void) {
  static char* env[256];
  size_t k = 0;
  for (char** e = environ; *e && k < 255; ++e)
    if (strncmp(*e, "LD_PRELOAD=", 11) != 0) env[k++] = *e;
  env[k] = NULL;
  return env;
}

int main(int argc, char** argv) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (argc == 2 && !strcmp(argv[1], "net")) return net();
  int first = 2;
  if (argc > 2 && !strcmp(argv[1], "as-user")) first = 3;
  if (argc <= first) {
    fprintf(stderr, "usage: execs MODE PROGRAM [ARGS...] | execs net\n");
    return 2;
  }
  const char* mode = argv[1];
  const char* prog = argv[first];
  char** args = argv + first;
  char* empty[] = {NULL};
  if (!strcmp(mode, "spawn-empty") || !strcmp(mode, "spawn")) {
    pid_t pid;
    int rc = posix_spawn(&pid, prog, NULL, NULL, args, strcmp(mode, "spawn") ? empty : environ);
    if (rc != 0) errno = rc, die("posix_spawn");
    return wait_for(pid);
  }
  if (!strcmp(mode, "vfork")) {
    pid_t pid = vfork();
    if (pid < 0) die("vfork");
    if (pid == 0) {
      execv(prog, args);
      _exit(127);
    }
    return wait_for(pid);
  }
  printf("execs pid=%d\n", (int)getpid());
  if (!strcmp(mode, "plain")) {
    execv(prog, args);
  } else if (!strcmp(mode, "empty-env")) {
    execve(prog, args, empty);
  } else if (!strcmp(mode, "no-preload")) {
    execve(prog, args, without_preload());
  } else if (!strcmp(mode, "execle-empty")) {
    execle(prog, args[0], args[1], (char*)NULL, empty);
  } else if (!strcmp(mode, "execvpe-path")) {
    /* execvpe searches this process's PATH; the new program gets only what env holds */
    char dir[4096], base[4096];
    snprintf(dir, sizeof dir, "%s", prog);
    snprintf(base, sizeof base, "%s", prog);
    if (setenv("PATH", dirname(dir), 1) != 0) die("setenv");
    char* env[] = {"HOME=/", NULL};
    execvpe(basename(base), args, env);
  } else if (!strcmp(mode, "as-user")) {
    uid_t id = (uid_t)atoi(argv[2]);
    if (setresgid(id, id, id) != 0 || setresuid(id, id, id) != 0) die("setresuid");
    execv(prog, args);
  } else if (!strcmp(mode, "fail")) {
    execv(prog, args);
    printf("exec failed: %s\n", strerror(errno));
    return net();
  } else {
    fprintf(stderr, "execs: unknown mode %s\n", mode);
    return 2;
  }
  die("exec");
  return 1;
}
