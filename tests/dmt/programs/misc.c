// Spin locks, pthread_once, sleeps in logical time (wake order follows the deadlines), timed
// waits that expire, futexes through syscall(), trylock and sched_yield. Also covers the idle
// mechanism: at times every thread waits on a timer.
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum { kThreads = 5 };

static pthread_spinlock_t spin;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static sem_t empty_sem;
static _Atomic unsigned futex_word;
static char logbuf[1 << 15];
static int loglen;
static int once_runs;

static void note(const char* what, int id) {
  pthread_spin_lock(&spin);
  loglen += snprintf(logbuf + loglen, sizeof logbuf - (size_t)loglen, "%s%d ", what, id);
  pthread_spin_unlock(&spin);
}

static void init_once(void) { ++once_runs; }

static void deadline_in(struct timespec* ts, clockid_t c, long ns) {
  clock_gettime(c, ts);
  ts->tv_nsec += ns;
  while (ts->tv_nsec >= 1000000000) {
    ts->tv_sec++;
    ts->tv_nsec -= 1000000000;
  }
}

static void* worker(void* arg) {
  int id = (int)(long)arg;
  pthread_once(&once, init_once);
  // Sleep lengths in reverse of id: under the runtime the wake order is by deadline.
  usleep((useconds_t)(kThreads - id) * 1000);
  note("usleep", id);
  struct timespec ts = {0, (long)(id + 1) * 300000};
  nanosleep(&ts, NULL);
  note("nanosleep", id);
  deadline_in(&ts, CLOCK_MONOTONIC, 200000);
  clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
  note("abs", id);

  pthread_mutex_lock(&lock);
  deadline_in(&ts, CLOCK_REALTIME, 100000 * (id + 1));
  int rc = pthread_cond_timedwait(&never, &lock, &ts);
  pthread_mutex_unlock(&lock);
  note(rc == ETIMEDOUT ? "condtimeout" : "condwoke", id);

  deadline_in(&ts, CLOCK_REALTIME, 50000);
  rc = pthread_mutex_timedlock(&held, &ts);
  note(rc == ETIMEDOUT ? "locktimeout" : "locked", id);
  if (rc == 0) pthread_mutex_unlock(&held);

  deadline_in(&ts, CLOCK_REALTIME, 70000);
  rc = sem_timedwait(&empty_sem, &ts);
  note(rc == -1 && errno == ETIMEDOUT ? "semtimeout" : "semok", id);

  if (pthread_mutex_trylock(&lock) == 0) {
    note("trylock", id);
    pthread_mutex_unlock(&lock);
  }
  sched_yield();

  // Futex hand-off chain: thread id waits for the word to reach id, then passes it on.
  for (;;) {
    unsigned v = atomic_load(&futex_word);
    if (v == (unsigned)id) break;
    syscall(SYS_futex, &futex_word, FUTEX_WAIT_PRIVATE, v, NULL, NULL, 0);
  }
  note("futex", id);
  atomic_store(&futex_word, (unsigned)id + 1);
  syscall(SYS_futex, &futex_word, FUTEX_WAKE_PRIVATE, 1 << 30, NULL, NULL, 0);
  return NULL;
}

int main(void) {
  pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
  sem_init(&empty_sem, 0, 0);
  pthread_mutex_lock(&held);
  pthread_t th[kThreads];
  for (long i = 0; i < kThreads; ++i) pthread_create(&th[i], NULL, worker, (void*)i);
  sleep(1);  // all workers and main wait on timers here: the idle mechanism advances time
  pthread_mutex_unlock(&held);
  for (int i = 0; i < kThreads; ++i) pthread_join(th[i], NULL);
  fwrite(logbuf, 1, (size_t)loglen, stdout);
  printf("\nonce %d\n", once_runs);
  return once_runs == 1 ? 0 : 1;
}
