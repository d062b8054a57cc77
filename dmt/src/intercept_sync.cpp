// Mutexes, spin locks, rwlocks, condition variables, barriers and semaphores.
//
// Scheduled threads only ever *try* the real lock, under the turn; when it is busy they wait in
// the object's queue until an unlock (also under the turn) moves them back to the run queue.
// Lock words therefore stay glibc's own, and the outcome of every try is deterministic.
// Condition variables and barriers are implemented entirely by the scheduler. Process-shared
// objects are synchronized with other processes, so their blocking calls leave the run queue
// like I/O does.
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

using namespace lockstep::dmt;

namespace {

constexpr int kMutexPshared = 128;  // glibc PTHREAD_MUTEX_PSHARED_BIT
constexpr int kMutexKindMask = 3;   // glibc PTHREAD_MUTEX_KIND_MASK_NP

bool pshared(const pthread_mutex_t* m) { return (m->__data.__kind & kMutexPshared) != 0; }
bool pshared(const pthread_rwlock_t* r) { return r->__data.__shared != 0; }
bool pshared(const pthread_cond_t* c) { return (c->__data.__wrefs & 1) != 0; }
bool pshared(const sem_t* s) { return reinterpret_cast<const int*>(s)[2] != 0; }  // new_sem.private
bool pshared(const pthread_barrier_t* b) { return reinterpret_cast<const int*>(b)[3] != 0; }
unsigned barrier_count(const pthread_barrier_t* b) { return reinterpret_cast<const unsigned*>(b)[2]; }
clockid_t cond_clock(const pthread_cond_t* c) {
  return (c->__data.__wrefs & 2) != 0 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
}

int my_tid() { return static_cast<int>(gettid()); }

// A blocking call on a process-shared object: outside the run queue.
template <typename F>
int shared_block(Thread* t, Kind kind, const void* obj, F call) {
  begin_op(t);
  const uint64_t id = object_id(obj, kind);
  end_op(t);
  if (!ext_begin(t, Op::io_pshared, kind, id)) return call();
  int rc = call();
  const int saved = errno;
  ext_end(t, kind, id);
  errno = saved;
  return rc;
}

// Object lifetime: a re-initialized address is a new object (new trace identity).
template <typename F>
int lifetime_op(const void* obj, Kind kind, Op op, F call) {
  Thread* t = current_scheduled();
  if (!t) return call();
  begin_op(t);
  int rc;
  if (op == Op::object_init) {
    forget_object(obj);  // a re-initialized address is a new object
    rc = call();
    record(t, op, kind, object_id(obj, kind));
  } else {
    record(t, op, kind, object_id(obj, kind));
    rc = call();
    forget_object(obj);
  }
  end_op(t);
  return rc;
}

// Under the turn: TRY until it stops returning EBUSY, waiting in OBJ's queue in between.
// Returns the last result, or ETIMEDOUT.
template <typename Try, typename Deadlock>
int acquire(Thread* t, const void* obj, uint64_t deadline, Try attempt, Deadlock self_deadlock) {
  for (;;) {
    int rc = attempt();
    if (rc != EBUSY) return rc;
    if (self_deadlock()) return EDEADLK;
    if (wait_on(t, obj, deadline)) {
      rc = attempt();
      return rc == EBUSY ? ETIMEDOUT : rc;
    }
  }
}

int mutex_lock(pthread_mutex_t* m, Op op, uint64_t deadline_or_none, bool has_deadline) {
  Thread* t = current_scheduled();
  begin_op(t);
  const uint64_t id = object_id(m, Kind::mutex);
  const uint64_t deadline = has_deadline ? deadline_or_none : kNoDeadline;
  int rc = acquire(
      t, m, deadline, [&] { return real.pthread_mutex_trylock(m); },
      [&] {
        return (m->__data.__kind & kMutexKindMask) == PTHREAD_MUTEX_ERRORCHECK && m->__data.__owner == my_tid();
      });
  record(t, rc == 0 ? op : Op::timeout, Kind::mutex, id);
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

template <typename F>
int unlock_and_wake(const void* obj, Kind kind, Op op, int n, F call) {
  Thread* t = current_scheduled();
  if (!t) {
    int rc = call();
    if (rc == 0) kick(obj);
    return rc;
  }
  begin_op(t);
  int rc = call();
  record(t, op, kind, object_id(obj, kind));
  if (rc == 0) {
    wake(obj, n);
    lock_released(t);
  }
  end_op(t);
  return rc;
}

// Condition wait: release the mutex, wait for a signal (or the logical deadline), re-acquire.
int cond_wait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime, clockid_t clock) {
  Thread* t = current_scheduled();
  begin_op(t);
  const uint64_t cid = object_id(c, Kind::cond);
  const uint64_t mid = object_id(m, Kind::mutex);
  record(t, abstime ? Op::cond_timedwait : Op::cond_wait, Kind::cond, cid);
  const uint64_t deadline = abstime ? deadline_at(clock, abstime) : kNoDeadline;
  int rc = real.pthread_mutex_unlock(m);
  if (rc != 0) {
    end_op(t);
    return rc;
  }
  wake(m, 1);
  const bool timed_out = wait_on(t, c, deadline);
  record(t, timed_out ? Op::timeout : Op::cond_wake, Kind::cond, cid);
  acquire(
      t, m, kNoDeadline, [&] { return real.pthread_mutex_trylock(m); }, [] { return false; });
  record(t, Op::mutex_lock, Kind::mutex, mid);
  end_op(t);
  return timed_out ? ETIMEDOUT : 0;
}

bool valid_timespec(const struct timespec* ts) { return ts && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000; }

}  // namespace

// ---- mutex ----

LOCKSTEP_DMT_EXPORT int pthread_mutex_init(pthread_mutex_t* m, const pthread_mutexattr_t* a) {
  return lifetime_op(m, Kind::mutex, Op::object_init, [&] { return real.pthread_mutex_init(m, a); });
}
LOCKSTEP_DMT_EXPORT int pthread_mutex_destroy(pthread_mutex_t* m) {
  return lifetime_op(m, Kind::mutex, Op::object_destroy, [&] { return real.pthread_mutex_destroy(m); });
}

LOCKSTEP_DMT_EXPORT int pthread_mutex_lock(pthread_mutex_t* m) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_mutex_lock(m);
  if (pshared(m)) return shared_block(t, Kind::mutex, m, [&] { return real.pthread_mutex_lock(m); });
  return mutex_lock(m, Op::mutex_lock, 0, false);
}

LOCKSTEP_DMT_EXPORT int pthread_mutex_trylock(pthread_mutex_t* m) {
  Thread* t = current_scheduled();
  if (!t || pshared(m)) return real.pthread_mutex_trylock(m);
  begin_op(t);
  int rc = real.pthread_mutex_trylock(m);
  record(t, Op::mutex_trylock, Kind::mutex, object_id(m, Kind::mutex));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_mutex_clocklock(pthread_mutex_t* m, clockid_t clock, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_mutex_clocklock(m, clock, abstime);
  if (pshared(m)) {
    return shared_block(t, Kind::mutex, m, [&] { return real.pthread_mutex_clocklock(m, clock, abstime); });
  }
  if (!valid_timespec(abstime)) return EINVAL;
  begin_op(t);
  const uint64_t deadline = deadline_at(clock, abstime);
  int rc = mutex_lock(m, Op::mutex_timedlock, deadline, true);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  return pthread_mutex_clocklock(m, CLOCK_REALTIME, abstime);
}

LOCKSTEP_DMT_EXPORT int pthread_mutex_unlock(pthread_mutex_t* m) {
  if (pshared(m)) return real.pthread_mutex_unlock(m);
  return unlock_and_wake(m, Kind::mutex, Op::mutex_unlock, 1, [&] { return real.pthread_mutex_unlock(m); });
}

// ---- spin locks ----

LOCKSTEP_DMT_EXPORT int pthread_spin_init(pthread_spinlock_t* s, int shared) {
  return lifetime_op(const_cast<int*>(s), Kind::spin, Op::object_init, [&] { return real.pthread_spin_init(s, shared); });
}
LOCKSTEP_DMT_EXPORT int pthread_spin_destroy(pthread_spinlock_t* s) {
  return lifetime_op(const_cast<int*>(s), Kind::spin, Op::object_destroy, [&] { return real.pthread_spin_destroy(s); });
}

LOCKSTEP_DMT_EXPORT int pthread_spin_lock(pthread_spinlock_t* s) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_spin_lock(s);
  begin_op(t);
  const void* obj = const_cast<int*>(s);
  int rc = acquire(
      t, obj, kNoDeadline, [&] { return real.pthread_spin_trylock(s); }, [] { return false; });
  record(t, Op::spin_lock, Kind::spin, object_id(obj, Kind::spin));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_spin_trylock(pthread_spinlock_t* s) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_spin_trylock(s);
  begin_op(t);
  int rc = real.pthread_spin_trylock(s);
  record(t, Op::spin_trylock, Kind::spin, object_id(const_cast<int*>(s), Kind::spin));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_spin_unlock(pthread_spinlock_t* s) {
  return unlock_and_wake(const_cast<int*>(s), Kind::spin, Op::spin_unlock, 1, [&] { return real.pthread_spin_unlock(s); });
}

// ---- rwlocks ----

namespace {

int rwlock_acquire(pthread_rwlock_t* r, bool write, Op op, const clockid_t* clock, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (pshared(r)) {
    return shared_block(t, Kind::rwlock, r, [&] {
      if (abstime) {
        return write ? real.pthread_rwlock_clockwrlock(r, *clock, abstime) : real.pthread_rwlock_clockrdlock(r, *clock, abstime);
      }
      return write ? real.pthread_rwlock_wrlock(r) : real.pthread_rwlock_rdlock(r);
    });
  }
  if (abstime && !valid_timespec(abstime)) return EINVAL;
  begin_op(t);
  const uint64_t deadline = abstime ? deadline_at(*clock, abstime) : kNoDeadline;
  int rc = acquire(
      t, r, deadline,
      [&] { return write ? real.pthread_rwlock_trywrlock(r) : real.pthread_rwlock_tryrdlock(r); },
      [&] { return r->__data.__cur_writer == my_tid(); });
  record(t, rc == 0 ? op : Op::timeout, Kind::rwlock, object_id(r, Kind::rwlock));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int pthread_rwlock_init(pthread_rwlock_t* r, const pthread_rwlockattr_t* a) {
  return lifetime_op(r, Kind::rwlock, Op::object_init, [&] { return real.pthread_rwlock_init(r, a); });
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_destroy(pthread_rwlock_t* r) {
  return lifetime_op(r, Kind::rwlock, Op::object_destroy, [&] { return real.pthread_rwlock_destroy(r); });
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_rdlock(pthread_rwlock_t* r) {
  if (!current_scheduled()) return real.pthread_rwlock_rdlock(r);
  return rwlock_acquire(r, false, Op::rwlock_rdlock, nullptr, nullptr);
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_wrlock(pthread_rwlock_t* r) {
  if (!current_scheduled()) return real.pthread_rwlock_wrlock(r);
  return rwlock_acquire(r, true, Op::rwlock_wrlock, nullptr, nullptr);
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_clockrdlock(pthread_rwlock_t* r, clockid_t clock, const struct timespec* abstime) {
  if (!current_scheduled()) return real.pthread_rwlock_clockrdlock(r, clock, abstime);
  return rwlock_acquire(r, false, Op::rwlock_timedrdlock, &clock, abstime);
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_clockwrlock(pthread_rwlock_t* r, clockid_t clock, const struct timespec* abstime) {
  if (!current_scheduled()) return real.pthread_rwlock_clockwrlock(r, clock, abstime);
  return rwlock_acquire(r, true, Op::rwlock_timedwrlock, &clock, abstime);
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_timedrdlock(pthread_rwlock_t* r, const struct timespec* abstime) {
  return pthread_rwlock_clockrdlock(r, CLOCK_REALTIME, abstime);
}
LOCKSTEP_DMT_EXPORT int pthread_rwlock_timedwrlock(pthread_rwlock_t* r, const struct timespec* abstime) {
  return pthread_rwlock_clockwrlock(r, CLOCK_REALTIME, abstime);
}

LOCKSTEP_DMT_EXPORT int pthread_rwlock_tryrdlock(pthread_rwlock_t* r) {
  Thread* t = current_scheduled();
  if (!t || pshared(r)) return real.pthread_rwlock_tryrdlock(r);
  begin_op(t);
  int rc = real.pthread_rwlock_tryrdlock(r);
  record(t, Op::rwlock_tryrdlock, Kind::rwlock, object_id(r, Kind::rwlock));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_rwlock_trywrlock(pthread_rwlock_t* r) {
  Thread* t = current_scheduled();
  if (!t || pshared(r)) return real.pthread_rwlock_trywrlock(r);
  begin_op(t);
  int rc = real.pthread_rwlock_trywrlock(r);
  record(t, Op::rwlock_trywrlock, Kind::rwlock, object_id(r, Kind::rwlock));
  if (rc == 0) lock_acquired(t);
  end_op(t);
  return rc;
}

LOCKSTEP_DMT_EXPORT int pthread_rwlock_unlock(pthread_rwlock_t* r) {
  if (pshared(r)) return real.pthread_rwlock_unlock(r);
  // Readers and writers all retry: the first in run-queue order wins, deterministically.
  return unlock_and_wake(r, Kind::rwlock, Op::rwlock_unlock, INT_MAX, [&] { return real.pthread_rwlock_unlock(r); });
}

// ---- condition variables ----

LOCKSTEP_DMT_EXPORT int pthread_cond_init(pthread_cond_t* c, const pthread_condattr_t* a) {
  return lifetime_op(c, Kind::cond, Op::object_init, [&] { return real.pthread_cond_init(c, a); });
}
LOCKSTEP_DMT_EXPORT int pthread_cond_destroy(pthread_cond_t* c) {
  return lifetime_op(c, Kind::cond, Op::object_destroy, [&] { return real.pthread_cond_destroy(c); });
}

LOCKSTEP_DMT_EXPORT int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_cond_wait(c, m);
  if (pshared(c) || pshared(m)) return shared_block(t, Kind::cond, c, [&] { return real.pthread_cond_wait(c, m); });
  return cond_wait(c, m, nullptr, CLOCK_REALTIME);
}

LOCKSTEP_DMT_EXPORT int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_cond_timedwait(c, m, abstime);
  if (pshared(c) || pshared(m)) {
    return shared_block(t, Kind::cond, c, [&] { return real.pthread_cond_timedwait(c, m, abstime); });
  }
  if (!valid_timespec(abstime)) return EINVAL;
  return cond_wait(c, m, abstime, cond_clock(c));
}

LOCKSTEP_DMT_EXPORT int pthread_cond_clockwait(pthread_cond_t* c, pthread_mutex_t* m, clockid_t clock,
                                               const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_cond_clockwait(c, m, clock, abstime);
  if (pshared(c) || pshared(m)) {
    return shared_block(t, Kind::cond, c, [&] { return real.pthread_cond_clockwait(c, m, clock, abstime); });
  }
  if (!valid_timespec(abstime)) return EINVAL;
  return cond_wait(c, m, abstime, clock);
}

LOCKSTEP_DMT_EXPORT int pthread_cond_signal(pthread_cond_t* c) {
  Thread* t = current_scheduled();
  // The real signal also reaches threads waiting outside scheduling (nondet regions).
  if (!t || pshared(c)) {
    int rc = real.pthread_cond_signal(c);
    if (t == nullptr) kick(c);
    return rc;
  }
  begin_op(t);
  record(t, Op::cond_signal, Kind::cond, object_id(c, Kind::cond));
  wake(c, 1);
  real.pthread_cond_signal(c);
  end_op(t);
  return 0;
}

LOCKSTEP_DMT_EXPORT int pthread_cond_broadcast(pthread_cond_t* c) {
  Thread* t = current_scheduled();
  if (!t || pshared(c)) {
    int rc = real.pthread_cond_broadcast(c);
    if (t == nullptr) kick(c);
    return rc;
  }
  begin_op(t);
  record(t, Op::cond_broadcast, Kind::cond, object_id(c, Kind::cond));
  wake(c, INT_MAX);
  real.pthread_cond_broadcast(c);
  end_op(t);
  return 0;
}

// ---- barriers ----

LOCKSTEP_DMT_EXPORT int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* a, unsigned count) {
  return lifetime_op(b, Kind::barrier, Op::object_init, [&] { return real.pthread_barrier_init(b, a, count); });
}
LOCKSTEP_DMT_EXPORT int pthread_barrier_destroy(pthread_barrier_t* b) {
  return lifetime_op(b, Kind::barrier, Op::object_destroy, [&] { return real.pthread_barrier_destroy(b); });
}

LOCKSTEP_DMT_EXPORT int pthread_barrier_wait(pthread_barrier_t* b) {
  Thread* t = current_scheduled();
  if (!t) return real.pthread_barrier_wait(b);
  if (pshared(b)) return shared_block(t, Kind::barrier, b, [&] { return real.pthread_barrier_wait(b); });
  begin_op(t);
  Object* o = object(b, Kind::barrier);
  record(t, Op::barrier_wait, Kind::barrier, o->id);
  const uint32_t generation = o->generation;
  if (++o->arrived >= barrier_count(b)) {
    o->arrived = 0;
    ++o->generation;
    wake(b, INT_MAX);
    end_op(t);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  while (object(b, Kind::barrier)->generation == generation) wait_on(t, b, kNoDeadline);
  end_op(t);
  return 0;
}

// ---- semaphores ----

namespace {

int sem_acquire(sem_t* s, Op op, const clockid_t* clock, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (abstime && !valid_timespec(abstime)) {
    errno = EINVAL;
    return -1;
  }
  begin_op(t);
  const uint64_t deadline = abstime ? deadline_at(*clock, abstime) : kNoDeadline;
  int rc = acquire(
      t, s, deadline, [&] { return real.sem_trywait(s) == 0 ? 0 : (errno == EAGAIN ? EBUSY : errno); },
      [] { return false; });
  record(t, rc == 0 ? op : Op::timeout, Kind::sem, object_id(s, Kind::sem));
  end_op(t);
  if (rc != 0) {
    errno = rc;
    return -1;
  }
  return 0;
}

}  // namespace

LOCKSTEP_DMT_EXPORT int sem_init(sem_t* s, int shared, unsigned value) {
  return lifetime_op(s, Kind::sem, Op::object_init, [&] { return real.sem_init(s, shared, value); });
}
LOCKSTEP_DMT_EXPORT int sem_destroy(sem_t* s) {
  return lifetime_op(s, Kind::sem, Op::object_destroy, [&] { return real.sem_destroy(s); });
}

LOCKSTEP_DMT_EXPORT int sem_wait(sem_t* s) {
  Thread* t = current_scheduled();
  if (!t) return real.sem_wait(s);
  if (pshared(s)) return shared_block(t, Kind::sem, s, [&] { return real.sem_wait(s); });
  return sem_acquire(s, Op::sem_wait, nullptr, nullptr);
}

LOCKSTEP_DMT_EXPORT int sem_clockwait(sem_t* s, clockid_t clock, const struct timespec* abstime) {
  Thread* t = current_scheduled();
  if (!t) return real.sem_clockwait(s, clock, abstime);
  if (pshared(s)) return shared_block(t, Kind::sem, s, [&] { return real.sem_clockwait(s, clock, abstime); });
  return sem_acquire(s, Op::sem_timedwait, &clock, abstime);
}

LOCKSTEP_DMT_EXPORT int sem_timedwait(sem_t* s, const struct timespec* abstime) {
  return sem_clockwait(s, CLOCK_REALTIME, abstime);
}

LOCKSTEP_DMT_EXPORT int sem_trywait(sem_t* s) {
  Thread* t = current_scheduled();
  if (!t || pshared(s)) return real.sem_trywait(s);
  begin_op(t);
  int rc = real.sem_trywait(s);
  const int saved = errno;
  record(t, Op::sem_trywait, Kind::sem, object_id(s, Kind::sem));
  end_op(t);
  errno = saved;
  return rc;
}

LOCKSTEP_DMT_EXPORT int sem_post(sem_t* s) {
  if (pshared(s)) return real.sem_post(s);
  Thread* t = current_scheduled();
  if (!t) {
    int rc = real.sem_post(s);
    if (rc == 0) kick(s);
    return rc;
  }
  begin_op(t);
  int rc = real.sem_post(s);
  const int saved = errno;
  record(t, Op::sem_post, Kind::sem, object_id(s, Kind::sem));
  if (rc == 0) wake(s, 1);
  end_op(t);
  errno = saved;
  return rc;
}
