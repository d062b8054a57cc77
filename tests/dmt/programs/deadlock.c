// Two threads take two mutexes in opposite orders: a guaranteed deadlock under the runtime
// (the barrier makes both hold their first lock). The runtime must abort and print the trace
// tail instead of hanging.
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER, b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t bar;

static void* t1(void* arg) {
  (void)arg;
  pthread_mutex_lock(&a);
  pthread_barrier_wait(&bar);
  pthread_mutex_lock(&b);
  return NULL;
}

static void* t2(void* arg) {
  (void)arg;
  pthread_mutex_lock(&b);
  pthread_barrier_wait(&bar);
  pthread_mutex_lock(&a);
  return NULL;
}

int main(void) {
  pthread_barrier_init(&bar, NULL, 2);
  pthread_t x, y;
  pthread_create(&x, NULL, t1, NULL);
  pthread_create(&y, NULL, t2, NULL);
  pthread_join(x, NULL);
  pthread_join(y, NULL);
  puts("not reached");
  return 0;
}
