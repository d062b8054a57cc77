// Readers and writers on a pthread rwlock (plus try and timed variants); prints each reader's
// snapshot and the writers' order.
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { kReaders = 5, kWriters = 3, kRounds = 60 };

static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static int value;
static char logbuf[1 << 16];
static int loglen;
static volatile unsigned long sink;

static void note(const char* kind, int id, int v) {
  pthread_mutex_lock(&log_lock);
  loglen += snprintf(logbuf + loglen, sizeof logbuf - (size_t)loglen, "%s%d=%d ", kind, id, v);
  pthread_mutex_unlock(&log_lock);
}

static void* reader(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id + 3u;
  for (int r = 0; r < kRounds; ++r) {
    int n = rand_r(&seed) % 6000;
    for (int i = 0; i < n; ++i) sink += (unsigned long)i;
    if (r % 3 == 0 && pthread_rwlock_tryrdlock(&rw) != 0) {
      note("busy", id, -1);
      continue;
    }
    if (r % 3 != 0) pthread_rwlock_rdlock(&rw);
    note("r", id, value);
    pthread_rwlock_unlock(&rw);
  }
  return NULL;
}

static void* writer(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id + 5u;
  for (int r = 0; r < kRounds; ++r) {
    int n = rand_r(&seed) % 9000;
    for (int i = 0; i < n; ++i) sink += (unsigned long)i;
    if (r % 4 == 0) {
      struct timespec ts;
      clock_gettime(CLOCK_REALTIME, &ts);
      ts.tv_nsec += 500000;
      if (ts.tv_nsec >= 1000000000) { ts.tv_sec++; ts.tv_nsec -= 1000000000; }
      if (pthread_rwlock_timedwrlock(&rw, &ts) == ETIMEDOUT) {
        note("timeout", id, -1);
        continue;
      }
    } else {
      pthread_rwlock_wrlock(&rw);
    }
    value = value * 31 + id + 1;
    note("w", id, value);
    pthread_rwlock_unlock(&rw);
  }
  return NULL;
}

int main(void) {
  pthread_t th[kReaders + kWriters];
  for (long i = 0; i < kReaders; ++i) pthread_create(&th[i], NULL, reader, (void*)i);
  for (long i = 0; i < kWriters; ++i) pthread_create(&th[kReaders + i], NULL, writer, (void*)i);
  for (int i = 0; i < kReaders + kWriters; ++i) pthread_join(th[i], NULL);
  fwrite(logbuf, 1, (size_t)loglen, stdout);
  printf("\nfinal %d\n", value);
  return 0;
}
