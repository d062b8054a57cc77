// fork: every process gets its own scheduler and its own report (FILE, FILE.1, FILE.2, ...).
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int counter;
static char order[64];
static int norder;

static void* worker(void* arg) {
  for (int i = 0; i < 8; ++i) {
    pthread_mutex_lock(&lock);
    ++counter;
    if (norder < 63) order[norder++] = (char)('a' + (int)(long)arg);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static void run_threads(const char* who) {
  pthread_t th[3];
  for (long i = 0; i < 3; ++i) pthread_create(&th[i], NULL, worker, (void*)i);
  for (int i = 0; i < 3; ++i) pthread_join(th[i], NULL);
  order[norder] = '\0';
  printf("%s %d %s\n", who, counter, order);
  fflush(stdout);
}

int main(void) {
  fflush(stdout);
  pid_t kids[2];
  for (int k = 0; k < 2; ++k) {
    kids[k] = fork();
    if (kids[k] == 0) {
      char who[16];
      snprintf(who, sizeof who, "child%d", k);
      run_threads(who);
      exit(0);
    }
    int status = 0;
    waitpid(kids[k], &status, 0);  // sequential, so the output order is fixed
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  }
  run_threads("parent");
  return 0;
}
