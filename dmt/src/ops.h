// Every operation the scheduler records: its name in the trace and its counter in the report.
#pragma once

#include <cstdint>

namespace lockstep::dmt {

#define LOCKSTEP_DMT_OPS(X)                                                                      \
  X(thread_start) X(thread_create) X(thread_join) X(thread_detach) X(thread_exit) X(thread_kill)  \
  X(mutex_lock) X(mutex_trylock) X(mutex_timedlock) X(mutex_unlock)                              \
  X(rwlock_rdlock) X(rwlock_wrlock) X(rwlock_tryrdlock) X(rwlock_trywrlock)                      \
  X(rwlock_timedrdlock) X(rwlock_timedwrlock) X(rwlock_unlock)                                   \
  X(cond_wait) X(cond_timedwait) X(cond_wake) X(cond_signal) X(cond_broadcast)                   \
  X(barrier_wait) X(sem_wait) X(sem_trywait) X(sem_timedwait) X(sem_post)                        \
  X(spin_lock) X(spin_trylock) X(spin_unlock) X(once)                                            \
  X(sleep) X(yield) X(clock_read) X(futex_wait) X(futex_wake)                                    \
  X(io_accept) X(io_connect) X(io_read) X(io_write) X(io_poll) X(io_select) X(io_epoll)        \
  X(io_sigwait) X(io_waitpid) X(io_pause) X(io_pshared) X(unblock) X(timeout) X(idle_advance)   \
  X(fork) X(fork_child) X(exec) X(process_exit)                                                  \
  X(soft_barrier) X(nondet_begin) X(nondet_end) X(sched_detach) X(object_init) X(object_destroy)

enum class Op : uint16_t {
#define LOCKSTEP_DMT_ENUM(name) name,
  LOCKSTEP_DMT_OPS(LOCKSTEP_DMT_ENUM)
#undef LOCKSTEP_DMT_ENUM
      count
};

inline constexpr const char* kOpNames[] = {
#define LOCKSTEP_DMT_NAME(name) #name,
    LOCKSTEP_DMT_OPS(LOCKSTEP_DMT_NAME)
#undef LOCKSTEP_DMT_NAME
};

inline constexpr int kOpCount = static_cast<int>(Op::count);

// What kind of object an operation touches; the trace prints it as a one-letter prefix.
enum class Kind : uint8_t { none, mutex, cond, rwlock, barrier, sem, once, spin, futex, thread, fd, soft };
inline constexpr char kKindLetters[] = "-mcrbsopftdx";

}  // namespace lockstep::dmt
