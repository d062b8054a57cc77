// Barriers (phases) and counting semaphores (a pool of 2 slots) with many threads; prints the
// order of slot use within each phase.
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>

enum { kThreads = 6, kPhases = 30 };

static pthread_barrier_t barrier;
static sem_t slots;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int order[kPhases][kThreads * 2];
static int n_in_phase[kPhases];
static int serial_count;
static volatile unsigned long sink;

static void* worker(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id * 31u + 7u;
  for (int ph = 0; ph < kPhases; ++ph) {
    for (int k = 0; k < 2; ++k) {
      int n = rand_r(&seed) % 8000;
      for (int i = 0; i < n; ++i) sink += (unsigned long)i;
      sem_wait(&slots);
      pthread_mutex_lock(&lock);
      order[ph][n_in_phase[ph]++] = id;
      pthread_mutex_unlock(&lock);
      sem_post(&slots);
    }
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) {
      pthread_mutex_lock(&lock);
      ++serial_count;
      pthread_mutex_unlock(&lock);
    }
  }
  return NULL;
}

int main(void) {
  pthread_barrier_init(&barrier, NULL, kThreads);
  sem_init(&slots, 0, 2);
  pthread_t th[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&th[i], NULL, worker, (void*)i);
  for (int i = 0; i < kThreads; ++i) pthread_join(th[i], NULL);
  for (int ph = 0; ph < kPhases; ++ph) {
    printf("phase %2d:", ph);
    for (int i = 0; i < n_in_phase[ph]; ++i) printf(" %d", order[ph][i]);
    printf("\n");
  }
  printf("serial %d\n", serial_count);
  pthread_barrier_destroy(&barrier);
  sem_destroy(&slots);
  return serial_count == kPhases ? 0 : 1;
}
