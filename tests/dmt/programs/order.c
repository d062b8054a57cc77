// Prints the order in which threads enter a critical section. Natively the order depends on
// timing; under the DMT runtime it must be identical on every run.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { kThreads = 8, kRounds = 200 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int order[kThreads * kRounds];
static int next_slot;
static volatile unsigned long sink;

static void* worker(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id * 7919u + 1u;
  for (int r = 0; r < kRounds; ++r) {
    // Uneven work between entries so that native runs interleave differently.
    int spin = rand_r(&seed) % 20000;
    for (int i = 0; i < spin; ++i) sink += (unsigned long)i;
    pthread_mutex_lock(&lock);
    order[next_slot++] = id;
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(void) {
  pthread_t th[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&th[i], NULL, worker, (void*)i);
  for (int i = 0; i < kThreads; ++i) pthread_join(th[i], NULL);
  for (int i = 0; i < next_slot; ++i) printf("%d%c", order[i], (i + 1) % 40 == 0 ? '\n' : ' ');
  printf("\n");
  return 0;
}
