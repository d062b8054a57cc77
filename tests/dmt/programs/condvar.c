// Producer/consumer on a bounded buffer with one mutex and two condition variables; prints
// which consumer took which item.
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

enum { kProducers = 3, kConsumers = 4, kItems = 300, kCapacity = 4 };

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER;
static pthread_cond_t not_empty = PTHREAD_COND_INITIALIZER;
static int buffer[kCapacity];
static int count, head, produced_done;
static int log_item[kProducers * kItems], log_consumer[kProducers * kItems], nlog;
static volatile unsigned long sink;

static void work(unsigned* seed) {
  int n = rand_r(seed) % 5000;
  for (int i = 0; i < n; ++i) sink += (unsigned long)i;
}

static void* producer(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id + 11u;
  for (int i = 0; i < kItems; ++i) {
    work(&seed);
    pthread_mutex_lock(&lock);
    while (count == kCapacity) pthread_cond_wait(&not_full, &lock);
    buffer[(head + count) % kCapacity] = id * 1000 + i;
    ++count;
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  ++produced_done;
  pthread_cond_broadcast(&not_empty);
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void* consumer(void* arg) {
  int id = (int)(long)arg;
  unsigned seed = (unsigned)id + 101u;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (count == 0 && produced_done < kProducers) pthread_cond_wait(&not_empty, &lock);
    if (count == 0) {
      pthread_mutex_unlock(&lock);
      return NULL;
    }
    int item = buffer[head];
    head = (head + 1) % kCapacity;
    --count;
    log_item[nlog] = item;
    log_consumer[nlog++] = id;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
    work(&seed);
  }
}

int main(void) {
  pthread_t p[kProducers], c[kConsumers];
  for (long i = 0; i < kConsumers; ++i) pthread_create(&c[i], NULL, consumer, (void*)i);
  for (long i = 0; i < kProducers; ++i) pthread_create(&p[i], NULL, producer, (void*)i);
  for (int i = 0; i < kProducers; ++i) pthread_join(p[i], NULL);
  for (int i = 0; i < kConsumers; ++i) pthread_join(c[i], NULL);
  for (int i = 0; i < nlog; ++i) printf("%d:%d%c", log_consumer[i], log_item[i], (i + 1) % 16 == 0 ? '\n' : ' ');
  printf("\ntotal %d\n", nlog);
  return nlog == kProducers * kItems ? 0 : 1;
}
