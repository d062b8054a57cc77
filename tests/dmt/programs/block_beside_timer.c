// One thread waits on a condition variable with a 30 s timeout while the main thread blocks in
// read() on stdin, which the test writes to after a moment. The runtime must let the main thread
// enter read() at once: the idle period (every scheduled thread waiting) belongs to the timer,
// but it must not be spent by the thread that is entering the blocking call (that thread would
// reach read() only when the 30 s timer expires). Prints "ok" and the time taken.
#include <pthread.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int done;

static void* waiter(void* arg) {
  (void)arg;
  pthread_mutex_lock(&m);
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += 30;
  while (!done) {
    if (pthread_cond_timedwait(&c, &m, &until) != 0) break;
  }
  pthread_mutex_unlock(&m);
  return NULL;
}

// The runtime makes clock_gettime logical; the raw system call reads the real clock.
static double real_now(void) {
  struct timespec ts;
  syscall(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(void) {
  const double start = real_now();
  pthread_t t;
  pthread_create(&t, NULL, waiter, NULL);
  usleep(1000);  // let the waiter start its timed wait first
  char buf[16];
  if (read(0, buf, sizeof buf) <= 0) return 2;
  pthread_mutex_lock(&m);
  done = 1;
  pthread_cond_signal(&c);
  pthread_mutex_unlock(&m);
  pthread_join(t, NULL);
  printf("ok %.1f s\n", real_now() - start);
  return 0;
}
