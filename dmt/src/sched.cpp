// The turn: run queue, hand-off, wait queues, logical timers and the idle mechanism.
#include <cerrno>
#include <climits>
#include <csignal>

#include <linux/futex.h>
#include <sys/syscall.h>

#include "dmt/src/real.h"
#include "dmt/src/runtime.h"

namespace lockstep::dmt {

namespace {

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

// Inserts T in `at` order, after every thread due at the same time. With every weight 1 each
// insert lands at the tail (every queued thread has at <= vclock + 1): plain round-robin.
void rq_insert(Thread* t, uint64_t at) {
  t->at = at;
  t->rq_next = nullptr;
  ++g.rq_len;
  if (!g.rq_tail || g.rq_tail->at <= at) {
    if (g.rq_tail) {
      g.rq_tail->rq_next = t;
    } else {
      g.rq_head = t;
    }
    g.rq_tail = t;
    return;
  }
  Thread** p = &g.rq_head;
  while ((*p)->at <= at) p = &(*p)->rq_next;
  t->rq_next = *p;
  *p = t;
}

// A thread (re-)entering the run queue is due right after the current turn.
void rq_push(Thread* t) { rq_insert(t, g.vclock + 1); }

Thread* rq_pop() {
  Thread* t = g.rq_head;
  if (!t) return nullptr;
  g.rq_head = t->rq_next;
  if (!g.rq_head) g.rq_tail = nullptr;
  t->rq_next = nullptr;
  --g.rq_len;
  return t;
}

void timer_insert(Thread* t) {
  Thread** p = &g.timers;
  while (*p && ((*p)->deadline < t->deadline ||
                ((*p)->deadline == t->deadline && (*p)->index < t->index))) {
    p = &(*p)->tm_next;
  }
  t->tm_next = *p;
  *p = t;
}

void timer_remove(Thread* t) {
  for (Thread** p = &g.timers; *p; p = &(*p)->tm_next) {
    if (*p == t) {
      *p = t->tm_next;
      t->tm_next = nullptr;
      return;
    }
  }
}

void wq_remove(Object* o, Thread* t) {
  Thread* prev = nullptr;
  for (Thread* w = o->wq_head; w; prev = w, w = w->wq_next) {
    if (w != t) continue;
    if (prev) {
      prev->wq_next = w->wq_next;
    } else {
      o->wq_head = w->wq_next;
    }
    if (o->wq_tail == w) o->wq_tail = prev;
    w->wq_next = nullptr;
    return;
  }
}

// Makes a waiting thread runnable again at the tail of the run queue.
void make_runnable(Thread* t, bool timed_out) {
  if (t->timed) timer_remove(t);
  t->timed = false;
  t->timed_out = timed_out;
  t->wait_addr = 0;
  t->state = TState::runnable;
  rq_push(t);
}

void fire_timers() {
  const uint64_t now = g.clock.load(std::memory_order_relaxed);
  while (g.timers && g.timers->deadline <= now) {
    Thread* t = g.timers;
    g.timers = t->tm_next;
    t->tm_next = nullptr;
    t->timed = false;
    if (t->wait_addr) wq_remove(object(reinterpret_cast<void*>(t->wait_addr), Kind::none), t);
    make_runnable(t, true);
  }
}

// Caller holds g.lock.
void drain_arrivals_locked() {
  while (Thread* t = g.arrivals_head) {
    g.arrivals_head = t->arr_next;
    t->arr_next = nullptr;
    rq_push(t);
  }
  g.arrivals_tail = nullptr;
  g.arrivals_pending.store(false, std::memory_order_relaxed);
}

void wake_every_waiter() {
  for (uint32_t i = 0; i < g.nthreads; ++i) {
    Thread* t = &g.threads[i];
    if (t->state != TState::waiting || t->wait_addr == 0) continue;
    wq_remove(object(reinterpret_cast<void*>(t->wait_addr), Kind::none), t);
    make_runnable(t, false);
  }
}

// Caller holds g.lock.
void drain_kicks_locked() {
  for (uint32_t i = 0; i < g.nkicks; ++i) wake(reinterpret_cast<void*>(g.kicks[i]), INT_MAX);
  g.nkicks = 0;
  if (g.kick_overflow) wake_every_waiter();
  g.kick_overflow = false;
  g.kicks_pending.store(false, std::memory_order_relaxed);
}

// Caller holds g.lock and ends an idle period early (an arrival, a kick). With
// LOCKSTEP_DMT_IDLE=real, the real time spent idle counts as logical time (up to the timer the
// idle period waited for): otherwise a server under steady traffic, never idle for a timer's
// whole length at once, would never see its sleeps and timed waits expire. Arrivals are external
// events in dmt_only mode, so this adds no non-determinism beyond their own; joint mode will take
// arrival times from the input queue instead.
void advance_clock_for_idle_locked() {
  const uint64_t deadline = g.idle_deadline;
  g.idle_deadline = 0;
  if (!g.opt.idle_real || deadline == 0) return;
  struct timespec now;
  real.clock_gettime(CLOCK_MONOTONIC, &now);
  const int64_t elapsed = now.tv_sec * 1000000000ll + now.tv_nsec - g.idle_since_ns;
  if (elapsed <= 0) return;
  const uint64_t clock = g.clock.load(std::memory_order_relaxed);
  uint64_t target = clock + static_cast<uint64_t>(elapsed) / g.opt.ns_per_turn;
  if (target > deadline) target = deadline;
  if (target > clock) g.clock.store(target, std::memory_order_relaxed);
}

// T takes the turn: virtual time moves on to when it was due.
void advance_vclock(const Thread* t) {
  if (t->at > g.vclock) g.vclock = t->at;
}

void give_turn(Thread* t) {
  advance_vclock(t);
  if (t->go.exchange(1, std::memory_order_acq_rel) == 2) futex_wake(&t->go, 1);
}

// Spinning only pays off while a CPU is free for it; with more waiters than CPUs it steals time
// from the threads doing the work, so at most g.max_spinners threads spin at once.
std::atomic<uint32_t> spinners{0};

void wait_for_turn(Thread* t) {
  if (t->go.load(std::memory_order_acquire) == 1) {
    t->go.store(0, std::memory_order_relaxed);
    return;
  }
  if (g.opt.spin > 0 && spinners.fetch_add(1, std::memory_order_relaxed) < g.max_spinners) {
    for (uint32_t i = 0; i < g.opt.spin; ++i) {
      if (t->go.load(std::memory_order_acquire) == 1) {
        spinners.fetch_sub(1, std::memory_order_relaxed);
        t->go.store(0, std::memory_order_relaxed);
        return;
      }
      cpu_relax();
    }
    spinners.fetch_sub(1, std::memory_order_relaxed);
  } else if (g.opt.spin > 0) {
    spinners.fetch_sub(1, std::memory_order_relaxed);
  }
  for (;;) {
    uint32_t v = t->go.load(std::memory_order_acquire);
    if (v == 1) {
      t->go.store(0, std::memory_order_relaxed);
      return;
    }
    if (v == 0 && !t->go.compare_exchange_weak(v, 2, std::memory_order_acq_rel)) continue;
    futex_wait(&t->go, 2, nullptr);
  }
}

[[noreturn]] void deadlock() {
  dump_tail("deadlock: every thread waits and nothing can wake one");
  fatal("deadlock", "no runnable thread, no timer, no thread in a blocking call");
}

void idle_wait(uint32_t epoch, uint64_t deadline);

void* idle_helper_main(void*) {
  // Signals are for the program's threads: one delivered here would run a handler on a thread
  // the program does not know, and end idle waits early for no reason.
  sigset_t all;
  sigfillset(&all);
  pthread_sigmask(SIG_BLOCK, &all, nullptr);
  uint32_t seen = 0;
  for (;;) {
    const uint32_t seq = g.helper_seq.load(std::memory_order_acquire);
    if (seq == seen) {
      futex_wait(&g.helper_seq, seq, nullptr);
      continue;
    }
    seen = seq;
    g.lock.lock();
    const uint32_t epoch = g.helper_epoch;
    const uint64_t deadline = g.helper_deadline;
    g.lock.unlock();
    idle_wait(epoch, deadline);
  }
  return nullptr;
}

// Caller holds g.lock: the helper waits for the current idle period's timer. Returns true if the
// helper thread must be started (by the caller, after unlocking).
bool hand_idle_to_helper_locked(uint32_t epoch, uint64_t deadline) {
  g.helper_epoch = epoch;
  g.helper_deadline = deadline;
  g.helper_seq.fetch_add(1, std::memory_order_release);
  if (g.helper_started) return false;
  g.helper_started = true;
  return true;
}

void wake_idle_helper(bool start) {
  if (start) {
    if (start_runtime_thread(idle_helper_main) != 0) fatal("pthread_create", "cannot start the idle helper thread");
  } else {
    futex_wake(&g.helper_seq, 1);
  }
}

// The holder gives up the turn and the run queue is empty. Caller holds nothing. CALLER_WAITS is
// false when the caller will not wait for the turn next (it enters a blocking call or exits): it
// must not spend the idle period waiting for a timer — the thread entering accept() would
// otherwise reach accept() only when, say, another thread's 30 s timed wait expires — so the
// idle helper thread waits instead.
void go_idle(bool caller_waits) {
  g.lock.lock();
  drain_arrivals_locked();
  if (g.kicks_pending.load(std::memory_order_relaxed)) drain_kicks_locked();
  if (g.rq_head) {
    Thread* h = g.rq_head;
    g.lock.unlock();
    give_turn(h);
    return;
  }
  const bool outside = g.external.load() > 0 || g.unscheduled.load() > 0;
  if (g.timers) {
    if (!outside && !g.opt.idle_real) {
      // Nothing outside can happen first: jump logical time to the next timer. (With
      // LOCKSTEP_DMT_IDLE=real a server's maintenance loop — sleep, poll with WNOHANG, sleep —
      // instead waits in real time below rather than spinning through its sleeps; the logical
      // times are the same either way.)
      g.clock.store(g.timers->deadline, std::memory_order_relaxed);
      fire_timers();
      Thread* h = g.rq_head;
      g.lock.unlock();
      give_turn(h);
      return;
    }
    g.idle = true;
    uint32_t epoch = g.idle_epoch.fetch_add(1) + 1;
    uint64_t deadline = g.timers->deadline;
    if (g.opt.idle_real) {
      struct timespec now;
      real.clock_gettime(CLOCK_MONOTONIC, &now);
      g.idle_since_ns = now.tv_sec * 1000000000ll + now.tv_nsec;
      g.idle_deadline = deadline;
    }
    if (!caller_waits) {
      const bool start = hand_idle_to_helper_locked(epoch, deadline);
      g.lock.unlock();
      wake_idle_helper(start);
      return;
    }
    g.lock.unlock();
    idle_wait(epoch, deadline);
    return;
  }
  if (!outside) {
    g.lock.unlock();
    deadlock();
  }
  g.idle = true;
  g.idle_epoch.fetch_add(1);
  g.lock.unlock();
}

// While idle with a pending timer and threads outside: wait in real time for the timer, unless
// an arrival (or kick) ends the idle period first.
void idle_wait(uint32_t epoch, uint64_t deadline) {
  struct timespec start;
  real.clock_gettime(CLOCK_MONOTONIC, &start);
  const uint64_t now = g.clock.load(std::memory_order_relaxed);
  const uint64_t turns = deadline > now ? deadline - now : 0;
  const __int128 total = static_cast<__int128>(turns) * g.opt.ns_per_turn;
  const int64_t wait_ns = total > INT64_MAX / 2 ? INT64_MAX / 2 : static_cast<int64_t>(total);
  for (;;) {
    struct timespec cur;
    real.clock_gettime(CLOCK_MONOTONIC, &cur);
    int64_t elapsed = (cur.tv_sec - start.tv_sec) * 1000000000ll + (cur.tv_nsec - start.tv_nsec);
    bool interrupted = false;
    if (elapsed < wait_ns) {
      int64_t left = wait_ns - elapsed;
      struct timespec rel{static_cast<time_t>(left / 1000000000ll), static_cast<long>(left % 1000000000ll)};
      interrupted = futex_wait(&g.idle_epoch, epoch, &rel) != 0 && errno == EINTR;
    }
    g.lock.lock();
    if (!g.idle || g.idle_epoch.load() != epoch) {
      g.lock.unlock();
      return;
    }
    real.clock_gettime(CLOCK_MONOTONIC, &cur);
    elapsed = (cur.tv_sec - start.tv_sec) * 1000000000ll + (cur.tv_nsec - start.tv_nsec);
    // A signal handler ran on this thread: natively it would have cut the sleep short (EINTR),
    // and the program (apache's parent after SIGTERM) expects to notice its flag soon. The timer
    // fires now: logical time still jumps to the same deadline, so the schedule is unchanged;
    // only less real time passes.
    if (elapsed >= wait_ns || interrupted) {
      g.idle = false;
      g.idle_deadline = 0;
      g.idle_epoch.fetch_add(1);
      if (g.clock.load(std::memory_order_relaxed) < deadline) g.clock.store(deadline, std::memory_order_relaxed);
      fire_timers();
      drain_arrivals_locked();
      Thread* h = g.rq_head;
      g.lock.unlock();
      if (h) give_turn(h);
      return;
    }
    g.lock.unlock();
  }
}

// The holder has finished its turn (already rotated or removed from the run queue).
void schedule_next(bool caller_waits = true) {
  g.clock.fetch_add(1, std::memory_order_relaxed);
  if (g.arrivals_pending.load(std::memory_order_acquire) || g.kicks_pending.load(std::memory_order_acquire)) {
    g.lock.lock();
    drain_arrivals_locked();
    if (g.kicks_pending.load(std::memory_order_relaxed)) drain_kicks_locked();
    g.lock.unlock();
  }
  if (g.timers) fire_timers();
  if (g.rq_head) {
    give_turn(g.rq_head);
  } else {
    go_idle(caller_waits);
  }
}

}  // namespace

void RawLock::lock() {
  uint32_t c = 0;
  if (word_.compare_exchange_strong(c, 1, std::memory_order_acquire)) return;
  if (c != 2) c = word_.exchange(2, std::memory_order_acquire);
  while (c != 0) {
    futex_wait(&word_, 2, nullptr);
    c = word_.exchange(2, std::memory_order_acquire);
  }
}

void RawLock::unlock() {
  if (word_.exchange(0, std::memory_order_release) == 2) futex_wake(&word_, 1);
}

long futex_wait(std::atomic<uint32_t>* addr, uint32_t val, const struct timespec* rel) {
  return real.syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAIT_PRIVATE, val, rel, nullptr, 0);
}

long futex_wake(std::atomic<uint32_t>* addr, int n) {
  return real.syscall(SYS_futex, reinterpret_cast<uint32_t*>(addr), FUTEX_WAKE_PRIVATE, n, nullptr, nullptr, 0);
}

Thread* current_scheduled() {
  ensure_init();
  Thread* t = self();
  return scheduled(t) ? t : nullptr;
}

void begin_op(Thread* t) {
  if (t->depth++ > 0) return;
  const int saved_errno = errno;
  // Profiling measures the gap up to the arrival here, not the wait for the turn that follows.
  const int64_t arrived_ns = t->gap_key ? profile_now_ns() : 0;
  wait_for_turn(t);
  if (t->gap_key) profile_gap_end(t, arrived_ns);
  if (arrived_ns) t->turn_wait_ns += profile_now_ns() - arrived_ns;
  errno = saved_errno;
  if (g.shutdown) {
    // The process is exiting on another thread, which keeps the last turn: stay parked.
    for (;;) futex_wait(&t->go, t->go.load(), nullptr);
  }
}

void end_op(Thread* t, bool may_keep) {
  if (--t->depth > 0) return;
  if (g.shutdown) return;
  const int saved_errno = errno;
  if (may_keep && g.opt.keep_in_cs && t->held > 0 && t->kept < kMaxKept && g.rq_head == t) {
    // Keep the turn: the same bookkeeping as a hand-off, but to ourselves.
    ++t->kept;
    g.clock.fetch_add(1, std::memory_order_relaxed);
    if (g.arrivals_pending.load(std::memory_order_acquire) || g.kicks_pending.load(std::memory_order_acquire)) {
      g.lock.lock();
      drain_arrivals_locked();
      if (g.kicks_pending.load(std::memory_order_relaxed)) drain_kicks_locked();
      g.lock.unlock();
    }
    if (g.timers) fire_timers();
    t->go.store(1, std::memory_order_relaxed);
    errno = saved_errno;
    return;
  }
  t->kept = 0;
  // The holder is the head; it goes back in at its next due time (the tail when unweighted).
  const uint64_t weight = weight_of(t->last_key);
  if (profiling()) profile_gap_begin(t);
  if (g.rq_head == t) {
    rq_pop();
    rq_insert(t, g.vclock + weight);
  }
  schedule_next();
  errno = saved_errno;
}

bool wait_on(Thread* t, const void* addr, uint64_t deadline, uint32_t bitset) {
  if (g.rq_head != t) fatal("internal error", "a thread waits without holding the turn");
  rq_pop();
  t->state = TState::waiting;
  t->wait_addr = reinterpret_cast<uintptr_t>(addr);
  t->bitset = bitset;
  t->timed_out = false;
  t->deadline = deadline;
  t->timed = deadline != kNoDeadline;
  if (addr) {
    Object* o = object(addr, Kind::none);
    t->wq_next = nullptr;
    if (o->wq_tail) {
      o->wq_tail->wq_next = t;
    } else {
      o->wq_head = t;
    }
    o->wq_tail = t;
  }
  if (t->timed) timer_insert(t);
  const int saved_errno = errno;
  schedule_next();
  wait_for_turn(t);
  errno = saved_errno;
  return t->timed_out;
}

int wake(const void* addr, int n, uint32_t bitset) {
  // Never creates an entry: kicks arrive at non-deterministic times and must not consume ids.
  Object* o = find_object(addr);
  if (!o) return 0;
  int woken = 0;
  Thread* prev = nullptr;
  Thread* w = o->wq_head;
  while (w && woken < n) {
    Thread* next = w->wq_next;
    if (w->bitset & bitset) {
      if (prev) {
        prev->wq_next = next;
      } else {
        o->wq_head = next;
      }
      if (o->wq_tail == w) o->wq_tail = prev;
      w->wq_next = nullptr;
      make_runnable(w, false);
      ++woken;
    } else {
      prev = w;
    }
    w = next;
  }
  return woken;
}

bool ext_begin(Thread* t, Op op, Kind kind, uint64_t id) {
  if (t->depth > 0) return false;
  begin_op(t);
  if (g.shutdown) return false;
  record(t, op, kind, id);
  rq_pop();
  t->state = TState::external;
  g.external.fetch_add(1);
  t->depth = 0;
  const int saved_errno = errno;
  schedule_next(false);
  errno = saved_errno;
  return true;
}

void enqueue_thread(Thread* t) { rq_push(t); }

void take_arrival(Thread* t) {
  g.lock.lock();
  Thread* prev = nullptr;
  for (Thread* a = g.arrivals_head; a; prev = a, a = a->arr_next) {
    if (a != t) continue;
    if (prev) {
      prev->arr_next = a->arr_next;
    } else {
      g.arrivals_head = a->arr_next;
    }
    if (g.arrivals_tail == a) g.arrivals_tail = prev;
    a->arr_next = nullptr;
    if (!g.arrivals_head) g.arrivals_pending.store(false, std::memory_order_relaxed);
    rq_push(t);
    break;
  }
  g.lock.unlock();
}

void dequeue_thread(Thread* t) {
  Thread* prev = nullptr;
  for (Thread* c = g.rq_head; c; prev = c, c = c->rq_next) {
    if (c != t) continue;
    if (prev) {
      prev->rq_next = c->rq_next;
    } else {
      g.rq_head = c->rq_next;
    }
    if (g.rq_tail == c) g.rq_tail = prev;
    c->rq_next = nullptr;
    --g.rq_len;
    return;
  }
}

void ext_end(Thread* t, Kind kind, uint64_t id, Op op) {
  const int saved_errno = errno;
  g.lock.lock();
  g.external.fetch_sub(1);
  t->state = TState::runnable;
  if (g.idle) {
    g.idle = false;
    g.idle_epoch.fetch_add(1);
    advance_clock_for_idle_locked();
    rq_push(t);
    advance_vclock(t);
    g.lock.unlock();
    futex_wake(&g.idle_epoch, INT_MAX);
    t->go.store(1, std::memory_order_release);
  } else {
    t->arr_next = nullptr;
    if (g.arrivals_tail) {
      g.arrivals_tail->arr_next = t;
    } else {
      g.arrivals_head = t;
    }
    g.arrivals_tail = t;
    g.arrivals_pending.store(true, std::memory_order_release);
    g.lock.unlock();
  }
  begin_op(t);
  record(t, op, kind, id);
  end_op(t);
  errno = saved_errno;
}

void thread_leaves(Thread* t, Op op, bool exiting) {
  begin_op(t);
  record(t, op, Kind::thread, t->index);
  rq_pop();
  if (exiting) {
    t->state = TState::exited;
    t->exited.store(1, std::memory_order_release);
    wake(t, INT_MAX);
  } else {
    t->state = TState::unscheduled;
    t->left_scheduling = true;
    g.unscheduled.fetch_add(1);
  }
  t->depth = 0;
  schedule_next(false);
}

void kick(const void* addr) {
  if (!g.active) return;
  g.lock.lock();
  if (g.idle) {
    wake(addr, INT_MAX);
    if (g.rq_head) {
      g.idle = false;
      g.idle_epoch.fetch_add(1);
      advance_clock_for_idle_locked();
      Thread* h = g.rq_head;
      g.lock.unlock();
      futex_wake(&g.idle_epoch, INT_MAX);
      give_turn(h);
      return;
    }
  } else if (g.nkicks < Global::kKickSlots) {
    g.kicks[g.nkicks++] = reinterpret_cast<uintptr_t>(addr);
    g.kicks_pending.store(true, std::memory_order_release);
  } else {
    g.kick_overflow = true;
    g.kicks_pending.store(true, std::memory_order_release);
  }
  g.lock.unlock();
}

uint64_t now_turns() { return g.clock.load(std::memory_order_relaxed); }

uint64_t deadline_after_ns(int64_t ns) {
  const uint64_t now = now_turns();
  if (ns <= 0) return now;
  const uint64_t turns = (static_cast<uint64_t>(ns) + g.opt.ns_per_turn - 1) / g.opt.ns_per_turn;
  return turns > kNoDeadline - now - 1 ? kNoDeadline - 1 : now + turns;
}

int64_t logical_ns(clockid_t clock) {
  const int64_t elapsed = static_cast<int64_t>(now_turns() * g.opt.ns_per_turn);
  const bool realtime = clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE || clock == CLOCK_TAI;
  return (realtime ? g.base_realtime_ns : g.base_monotonic_ns) + elapsed;
}

uint64_t deadline_at(clockid_t clock, const struct timespec* abstime) {
  const int64_t target = abstime->tv_sec * 1000000000ll + abstime->tv_nsec;
  int64_t now;
  if (g.opt.logical_clock) {
    now = logical_ns(clock);
  } else {
    struct timespec ts;
    real.clock_gettime(clock, &ts);
    now = ts.tv_sec * 1000000000ll + ts.tv_nsec;
  }
  return deadline_after_ns(target - now);
}

void reset_thread(Thread* t) {
  t->go.store(0, std::memory_order_relaxed);
  t->exited.store(0, std::memory_order_relaxed);
  t->index = 0;
  t->state = TState::free;
  t->joined = false;
  t->left_scheduling = false;
  t->timed_out = false;
  t->depth = 0;
  t->held = 0;
  t->kept = 0;
  t->handle = pthread_t{};
  t->start = nullptr;
  t->arg = nullptr;
  t->rq_next = t->wq_next = t->tm_next = t->arr_next = nullptr;
  t->at = 0;
  t->last_key = t->gap_key = 0;
  t->stack_ref = 0;
  t->prev_site = 0;
  t->gap_start_ns = 0;
  t->turn_wait_ns = 0;
  t->wait_addr = 0;
  t->deadline = 0;
  t->timed = false;
  t->bitset = 0;
  t->in_sigwait = false;
}

void reinit_after_fork(Thread* t) {
  // Only the forking thread exists in the child; it becomes thread 0 of a fresh scheduler.
  g.lock.reset();
  Thread* zero = &g.threads[0];
  const int depth = t->depth;
  const pthread_t handle = t->handle;
  const uintptr_t stack_ref = t->stack_ref;
  for (uint32_t i = 0; i < g.nthreads; ++i) reset_thread(&g.threads[i]);
  zero->state = TState::runnable;
  zero->depth = depth;
  zero->handle = handle;
  zero->stack_ref = stack_ref;
  g.nthreads = 1;
  set_self(zero);
  g.rq_head = g.rq_tail = nullptr;
  g.rq_len = 0;
  g.vclock = 0;
  rq_push(zero);
  g.timers = nullptr;
  g.arrivals_head = g.arrivals_tail = nullptr;
  g.arrivals_pending.store(false);
  g.idle = false;
  g.idle_deadline = 0;
  g.external.store(0);
  g.unscheduled.store(0);
  g.nkicks = 0;
  g.kick_overflow = false;
  g.kicks_pending.store(false);
  g.watchdog_started = false;
  g.helper_started = false;  // the helper thread does not exist in the child
  g.helper_seq.store(0);
  spinners.store(0);
}

}  // namespace lockstep::dmt
