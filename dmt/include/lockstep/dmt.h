/* Hints for the lockstep deterministic-multithreading runtime (liblockstep_dmt.so).
 *
 * A program may call these to make deterministic scheduling cheaper; without the runtime
 * (not preloaded) every hint is a no-op: the runtime's symbols are declared weak and the inline
 * wrappers below call them only when present. Plain C ABI; include from C or C++.
 */
#ifndef LOCKSTEP_DMT_H
#define LOCKSTEP_DMT_H

#ifdef __cplusplus
extern "C" {
#endif

/* Exported by liblockstep_dmt.so. Prefer the lockstep_dmt_hint_* wrappers. */
int lockstep_dmt_active(void) __attribute__((weak));
void lockstep_dmt_soft_barrier_init(const void* key, unsigned count) __attribute__((weak));
void lockstep_dmt_soft_barrier_wait(const void* key) __attribute__((weak));
void lockstep_dmt_nondet_begin(void) __attribute__((weak));
void lockstep_dmt_nondet_end(void) __attribute__((weak));
void lockstep_dmt_detach_thread(void) __attribute__((weak));

/* 1 if the calling process runs under the runtime with scheduling on. */
static inline int lockstep_dmt_hint_active(void) {
  return lockstep_dmt_active ? lockstep_dmt_active() : 0;
}

/* Soft barrier: COUNT threads that reach lockstep_dmt_hint_soft_barrier_wait(KEY) are released
 * together, so they then take their turns back to back instead of waiting on one another's
 * computation. Never blocks for good: a thread that waits LOCKSTEP_DMT_SOFT_BARRIER_TURNS turns
 * goes on alone. KEY is any address that names the barrier. */
static inline void lockstep_dmt_hint_soft_barrier_init(const void* key, unsigned count) {
  if (lockstep_dmt_soft_barrier_init) lockstep_dmt_soft_barrier_init(key, count);
}
static inline void lockstep_dmt_hint_soft_barrier_wait(const void* key) {
  if (lockstep_dmt_soft_barrier_wait) lockstep_dmt_soft_barrier_wait(key);
}

/* Non-deterministic region: between begin and end the calling thread leaves the run queue and
 * its synchronization runs natively (no turns). Use around code whose interleaving does not
 * affect the program's output (logging, statistics). */
static inline void lockstep_dmt_hint_nondet_begin(void) {
  if (lockstep_dmt_nondet_begin) lockstep_dmt_nondet_begin();
}
static inline void lockstep_dmt_hint_nondet_end(void) {
  if (lockstep_dmt_nondet_end) lockstep_dmt_nondet_end();
}

/* Takes the calling thread out of scheduling for the rest of its life (e.g. a housekeeping
 * thread whose timing must not hold up the others). */
static inline void lockstep_dmt_hint_detach_thread(void) {
  if (lockstep_dmt_detach_thread) lockstep_dmt_detach_thread();
}

#ifdef __cplusplus
}
#endif

#endif /* LOCKSTEP_DMT_H */
