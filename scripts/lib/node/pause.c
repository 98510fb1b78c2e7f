/* The pod sandbox's "pause" process, built by scripts/lib/node.sh as a static binary into a
 * FROM-scratch image that containerd uses as its sandbox_image. Same behaviour as Kubernetes'
 * build/pause/linux/pause.c: hold the pod's namespaces, exit 0 on SIGINT/SIGTERM, reap zombies
 * when it is PID 1 of a shared PID namespace, `-v` prints the version. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "sluice-3.10"

static void on_term(int sig) {
  fprintf(stderr, "pause: shutting down, got signal %d\n", sig);
  _exit(0);
}

static void on_child(int sig) {
  (void)sig;
  int saved = errno;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
  errno = saved;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "-v") == 0) {
      printf("pause.c %s\n", VERSION);
      return 0;
    }
  }
  if (getpid() != 1) fprintf(stderr, "pause: warning: not pid 1\n");

  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_term;
  if (sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGTERM, &sa, NULL) < 0) return 1;
  sa.sa_handler = on_child;
  sa.sa_flags = SA_NOCLDSTOP;
  if (sigaction(SIGCHLD, &sa, NULL) < 0) return 2;

  for (;;) pause();
  fprintf(stderr, "pause: error: infinite loop terminated\n");
  return 42;
}
