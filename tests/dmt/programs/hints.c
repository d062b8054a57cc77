// The hints API: soft barrier, detaching a thread from scheduling, a non-deterministic region.
// Also runs (the hints being no-ops) without the runtime. The detached housekeeper and the
// nondet region only touch state the deterministic part does not read, and the region runs when
// main is the only scheduled thread, so the schedule stays deterministic.
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

#include "lockstep/dmt.h"

enum { kThreads = 4, kRounds = 10 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;  // outside scheduling only
static int soft_key;
static int stats;
static char order[256];
static int norder;
static volatile unsigned long sink;

static void* worker(void* arg) {
  int id = (int)(long)arg;
  for (int r = 0; r < kRounds; ++r) {
    for (int i = 0; i < (id + 1) * 3000; ++i) sink = sink + (unsigned long)i;
    lockstep_dmt_hint_soft_barrier_wait(&soft_key);
    pthread_mutex_lock(&lock);
    order[norder++] = (char)('0' + id);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

static void* housekeeper(void* arg) {
  (void)arg;
  lockstep_dmt_hint_detach_thread();
  for (int i = 0; i < 5; ++i) {
    pthread_mutex_lock(&stats_lock);
    ++stats;
    pthread_mutex_unlock(&stats_lock);
    usleep(100);
  }
  return NULL;
}

int main(void) {
  lockstep_dmt_hint_soft_barrier_init(&soft_key, kThreads);
  pthread_t th[kThreads], hk;
  pthread_create(&hk, NULL, housekeeper, NULL);
  for (long i = 0; i < kThreads; ++i) pthread_create(&th[i], NULL, worker, (void*)i);
  for (int i = 0; i < kThreads; ++i) pthread_join(th[i], NULL);
  pthread_join(hk, NULL);
  lockstep_dmt_hint_nondet_begin();
  pthread_mutex_lock(&stats_lock);
  stats += 100;
  pthread_mutex_unlock(&stats_lock);
  lockstep_dmt_hint_nondet_end();
  printf("active %d\norder %s\nstats %d\n", lockstep_dmt_hint_active(), order, stats);
  return stats == 105 ? 0 : 1;
}
